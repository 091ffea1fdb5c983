/*
 * one_cpu.c: cmrun keeps its own threads on the CPU it started on.
 *
 * Why? cmrun lives for a few milliseconds, and the Go runtime spends part
 * of them handing work from one of its threads to another: it starts
 * sysmon and a template thread, waits for the garbage collector's
 * goroutines, enables signals one at a time through a thread of its own.
 * The kernel puts a new or woken thread on an idle CPU if there is one,
 * and on a virtual machine waking an idle CPU costs more than the work
 * handed to it: from exec to the first package init, cmrun took 0.2-0.4
 * ms on one CPU and 0.3-2.6 ms where the kernel liked, and a whole
 * "cmrun run" was 10% faster (README, "Performance").
 *
 * Only cmrun asks for it, by defining nsexec_want_one_cpu
 * (cmd/cmrun/one_cpu.go): cmshim lives as long as its container and must
 * go wherever the scheduler finds room.
 *
 * What cmrun starts must not inherit the pin. Go gives every process it
 * starts a thread with all CPUs allowed again (one_cpu.go). Setting an
 * affinity also records it as the task's own choice, which the kernel
 * keeps and intersects with every later cpuset change; "all CPUs" leaves
 * those changes whole, so the container's program ends up as if cmrun had
 * never pinned anything. That holds only if cmrun was started with every
 * online CPU: when someone chose fewer (taskset, a cpuset), cmrun leaves
 * its affinity alone, and everything it starts inherits that choice.
 */

#define _GNU_SOURCE
#include <fcntl.h>
#include <sched.h>
#include <stdlib.h>
#include <unistd.h>

#include "nsexec.h"

/* cmrun defines it (to 1); in other binaries the weak reference is NULL. */
extern const int nsexec_want_one_cpu __attribute__((weak));

int nsexec_pinned_cpu = -1;

/*
 * online_cpus reads the kernel's list of online CPUs ("0-3,8,10-11").
 * It returns -1 if the list cannot be read or parsed.
 */
static int online_cpus(cpu_set_t *set)
{
	char buf[512];
	int fd = open("/sys/devices/system/cpu/online", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';

	CPU_ZERO(set);
	char *p = buf;
	while (*p != '\0' && *p != '\n') {
		char *end;
		long first = strtol(p, &end, 10), last = first;
		if (end == p)
			return -1;
		if (*end == '-') {
			p = end + 1;
			last = strtol(p, &end, 10);
			if (end == p)
				return -1;
		}
		if (first < 0 || last < first || last >= CPU_SETSIZE)
			return -1;
		for (long cpu = first; cpu <= last; cpu++)
			CPU_SET(cpu, set);
		p = end;
		if (*p == ',')
			p++;
	}
	return 0;
}

void nsexec_pin_to_one_cpu(void)
{
	if (&nsexec_want_one_cpu == NULL || !nsexec_want_one_cpu)
		return;
	cpu_set_t allowed, online;
	if (sched_getaffinity(0, sizeof(allowed), &allowed) < 0 || online_cpus(&online) < 0)
		return;
	if (CPU_COUNT(&online) < 2 || !CPU_EQUAL(&allowed, &online))
		return; /* nothing to gain, or someone chose our CPUs: keep their choice */
	int cpu = sched_getcpu();
	if (cpu < 0)
		return;
	cpu_set_t one;
	CPU_ZERO(&one);
	CPU_SET(cpu, &one);
	if (sched_setaffinity(0, sizeof(one), &one) == 0)
		nsexec_pinned_cpu = cpu;
}
