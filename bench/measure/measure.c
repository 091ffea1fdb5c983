// measure: run one program as the child of a small process, and report
// how long it lived and its peak resident memory.
//
// usage: measure PROGRAM [ARG...]
//
// It writes "WALL_NS MAXRSS_KIB\n" to file descriptor 3 and exits with
// PROGRAM's exit code (128+N if PROGRAM died of signal N).
//
// Why the benchmark does not just fork the runtimes from Go: when a
// process execs, the kernel carries the peak RSS of the address space it
// leaves into the new program's ru_maxrss. A child forked (or vforked)
// from the Go benchmark leaves the Go process's address space, so every
// contender would report at least the benchmark's own ~6 MiB. Started
// from this small static program, the floor is a few hundred KiB.
// Timing here also keeps the Go runtime's fork out of the measurement.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>

extern char **environ;

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: measure PROGRAM [ARG...] (report on fd 3)\n");
		return 2;
	}
	// The report descriptor is ours alone: the runtime must not inherit it.
	if (fcntl(3, F_SETFD, FD_CLOEXEC) < 0) {
		perror("measure: fd 3");
		return 2;
	}

	struct timespec start, end;
	clock_gettime(CLOCK_MONOTONIC, &start);
	// posix_spawn is vfork+exec: the cheapest way to start a program.
	pid_t pid;
	int err = posix_spawn(&pid, argv[1], NULL, NULL, argv + 1, environ);
	if (err != 0) {
		fprintf(stderr, "measure: start %s: %s\n", argv[1], strerror(err));
		return 127;
	}
	int status;
	struct rusage usage;
	while (wait4(pid, &status, 0, &usage) < 0) {
		if (errno != EINTR) {
			perror("measure: wait4");
			return 1;
		}
	}
	clock_gettime(CLOCK_MONOTONIC, &end);

	long long ns = (long long)(end.tv_sec - start.tv_sec) * 1000000000LL + (end.tv_nsec - start.tv_nsec);
	// On Linux ru_maxrss is in KiB.
	if (dprintf(3, "%lld %ld\n", ns, usage.ru_maxrss) < 0) {
		perror("measure: write report");
		return 1;
	}
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return WEXITSTATUS(status);
}
