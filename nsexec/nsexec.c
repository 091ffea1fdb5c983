/*
 * nsexec: the part of a container's birth that must happen before the Go
 * runtime starts.
 *
 * Why C, and why before main()? The Go runtime starts several OS threads
 * before any Go code runs, and the kernel refuses some namespace operations
 * in a multi-threaded process:
 *   - unshare(CLONE_NEWUSER) and setns() into a user namespace fail with
 *     EINVAL when the caller has more than one thread;
 *   - setns() into a mount namespace fails the same way, because threads
 *     share one filesystem context (root and cwd);
 *   - a new PID namespace only applies to the *children* of the caller, so
 *     the container's PID 1 must be created with fork/clone, and forking a
 *     running Go program is not safe.
 * A cgo constructor (attribute "constructor") runs when the binary is loaded,
 * before the Go runtime, while the process still has exactly one thread.
 *
 * The process that runs this is "cmrun init", started by the cmrun parent
 * with one end of a socketpair as an inherited file descriptor whose number
 * is in the environment variable _CM_INITPIPE. Every other cmrun invocation
 * lacks that variable and returns from nsexec() at once, once it has raised
 * its timer slack ("Timer slack" below) and, in cmrun, kept its thread on
 * one CPU (one_cpu.c).
 *
 * The stages, as a student should picture them:
 *
 *   cmrun parent (Go)          stage 0 (this code)            stage 1 (this code, then Go)
 *   -----------------          -------------------            ----------------------------
 *   start "cmrun init"   --->  read the bootstrap message
 *   send bootstrap             (no user namespace: unshare the new namespaces now, and
 *   cgroup made          --->   wait until the parent has made the cgroup)
 *                              move into the container's cgroup
 *                              join namespaces by path (setns)
 *                              unshare(CLONE_NEWUSER)?
 *                        <---  "please write my uid/gid maps"
 *   write uid_map, gid_map
 *                        --->  "maps written"; become root in the userns
 *                              unshare(the other namespaces)
 *                              clone(CLONE_PARENT) ----------> born in the new namespaces and
 *                        <---  "the init is PID n"             the cgroup: PID 1 of a new PID
 *                              exit(0)                          namespace, a sibling of stage 0,
 *   reap stage 0                                                so cmrun is its parent.
 *   send the init config (Go)                                   setsid(), enter the cgroup
 *                                                               namespace, return: the Go
 *                                                               runtime starts, "cmrun init"
 *                                                               sets up the root filesystem.
 *
 * Every failure is sent to the parent as a readable message (MSG_ERROR)
 * before exiting, so the parent never waits forever and the user sees why.
 *
 * The preamble is four files, read in this order:
 *   nsexec.c      this file: the constructor, the two stages, the move into
 *                 the cgroup and the clone of the init;
 *   wire.c        the messages to and from the parent, fatal errors, and the
 *                 bootstrap's decoding (its wire format is mirrored in
 *                 protocol.go);
 *   namespaces.c  joining namespaces by path, the new user namespace and its
 *                 id maps, a new time namespace's clocks;
 *   one_cpu.c     why cmrun keeps its threads on one CPU, and how.
 * nsexec.h declares what they share (every such name starts with nsexec_);
 * protocol.h holds the numbers that C and Go share.
 */

#define _GNU_SOURCE
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "nsexec.h"

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif
#ifndef CLONE_INTO_CGROUP
#define CLONE_INTO_CGROUP 0x200000000ULL
#endif
#ifndef SYS_clone3
#define SYS_clone3 435
#endif

/* clone3's argument, up to the cgroup field (the kernel's CLONE_ARGS_SIZE_VER2). */
struct clone_args_v2 {
	uint64_t flags;
	uint64_t pidfd;
	uint64_t child_tid;
	uint64_t parent_tid;
	uint64_t exit_signal;
	uint64_t stack;
	uint64_t stack_size;
	uint64_t tls;
	uint64_t set_tid;
	uint64_t set_tid_size;
	uint64_t cgroup;
};

/*
 * Moving into the container's cgroup. Writing a pid to cgroup.procs takes
 * a lock shared by the whole system, and the first writer after a quiet
 * spell waits for an RCU grace period, which was the largest single cost
 * of starting a container (README has the numbers). Two ways in skip that
 * lock:
 *   - cgroup v1: a thread that writes "0" to a hierarchy's "tasks" file
 *     moves only itself. We have one thread, so the whole process moves,
 *     and the init we clone later is born inside.
 *   - cgroup v2 has no such file for processes, but clone3 with
 *     CLONE_INTO_CGROUP creates the init inside the group (clone_init).
 * Both files are opened before we join any namespace, so their paths mean
 * what they meant to the parent.
 */
static void join_cgroup_v1(struct bootstrap *b)
{
	for (int i = 0; i < b->cgroup_task_count; i++) {
		int fd = open(b->cgroup_tasks[i], O_WRONLY | O_CLOEXEC);
		if (fd < 0)
			nsexec_bail("open %s", b->cgroup_tasks[i]);
		if (write(fd, "0", 1) != 1)
			nsexec_bail("join cgroup: write 0 to %s", b->cgroup_tasks[i]);
		close(fd);
	}
}

/* The cgroup v2 group: its directory for clone3, cgroup.procs for the slow way. */
struct cgroup_v2 {
	const char *path;
	int dir;
	int procs;
};

static struct cgroup_v2 open_cgroup_v2(const char *path)
{
	struct cgroup_v2 g = { path, -1, -1 };
	if (path == NULL)
		return g;
	g.dir = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (g.dir < 0)
		nsexec_bail("open cgroup %s", path);
	g.procs = openat(g.dir, "cgroup.procs", O_WRONLY | O_CLOEXEC);
	if (g.procs < 0)
		nsexec_bail("open %s/cgroup.procs", path);
	return g;
}

/*
 * clone_init creates the container init. CLONE_PARENT makes it our
 * sibling: its parent is the cmrun process, which can then wait for it
 * like any child and read its exit status, even though stage 0 exits now.
 * A raw clone with no new stack behaves like fork; the child's exit
 * signal is ours (SIGCHLD), which is why clone3 must be given none.
 *
 * A new PID namespace is asked for here rather than by unshare: the
 * kernel retires a PID namespace whose first fork failed, so only a
 * namespace born with the child survives a failed clone3 below.
 *
 * With a cgroup v2 group the init is cloned straight into it. A kernel
 * older than 5.7, a seccomp filter around cmrun that refuses clone3, or a
 * user namespace whose root may not write the group's files makes that
 * fail; then we join through cgroup.procs, opened before we changed
 * credentials, the slow way, and clone as before. *how says which way was
 * taken, for the trace.
 */
static pid_t clone_init(struct cgroup_v2 *g, uint64_t newpid, int32_t *how)
{
	*how = JOINED_V1_ONLY;
	if (g->dir >= 0) {
		struct clone_args_v2 args = {
			.flags = CLONE_PARENT | CLONE_INTO_CGROUP | newpid,
			.cgroup = (uint64_t)g->dir,
		};
		pid_t pid = (pid_t)syscall(SYS_clone3, &args, sizeof(args));
		if (pid >= 0) {
			*how = JOINED_V2_BY_CLONE3;
			return pid;
		}
		if (write(g->procs, "0", 1) != 1)
			nsexec_bail("join cgroup: write 0 to %s/cgroup.procs", g->path);
		*how = JOINED_V2_BY_PROCS;
	}
	return (pid_t)syscall(SYS_clone, CLONE_PARENT | newpid | SIGCHLD, 0, 0, 0, 0);
}

/*
 * unshare_new creates the namespaces of rest, and sets a new time
 * namespace's clocks while it has no process yet.
 */
static void unshare_new(struct bootstrap *b, uint32_t rest)
{
	if (rest != 0 && unshare(rest) < 0)
		nsexec_bail("unshare namespaces (flags 0x%x)", rest);
	if ((rest & CLONE_NEWTIME) && b->timens_offsets != NULL && b->timens_offsets[0] != '\0')
		nsexec_write_timens_offsets(b->timens_offsets);
}

/*
 * stage0 runs in the process the parent started. It returns only in the
 * child it clones, with the cgroup namespace still to enter: its fd to
 * join, or -1 and whether to create one.
 */
static void stage0(int *cgroupns_fd, int *new_cgroupns)
{
	struct bootstrap b;
	uint32_t len;
	char *buf = nsexec_read_msg(MSG_BOOTSTRAP, &len);

	nsexec_parse_bootstrap(buf, len, &b);

	/*
	 * The new namespaces, except two. The PID namespace is made with the
	 * init (clone_init). The cgroup namespace's root is the cgroup its
	 * creator is in, and on cgroup v2 only the init is born inside the
	 * container's group, so the init creates it (stage1).
	 */
	uint32_t rest = b.clone_flags & ~(uint32_t)(CLONE_NEWUSER | CLONE_NEWCGROUP | CLONE_NEWPID);
	if (b.cgroup_pending) {
		/*
		 * The parent is still making the cgroup, in ten v1 hierarchies,
		 * which takes longer than our own start: create the namespaces
		 * meanwhile (a network namespace alone takes most of a
		 * millisecond), then wait for it. The parent asks for this only
		 * when no user namespace is made or joined: that one must come
		 * first, and own the others. Nothing has been joined yet, so the
		 * cgroup's paths below still mean what they meant to the parent
		 * (a new mount namespace is a copy of ours).
		 */
		unshare_new(&b, rest);
		uint32_t ready_len;
		free(nsexec_read_msg(MSG_CGROUP_READY, &ready_len));
	}
	join_cgroup_v1(&b);
	struct cgroup_v2 g = open_cgroup_v2(b.cgroup_dir);
	*cgroupns_fd = -1;
	if (b.cgroupns_path != NULL) {
		*cgroupns_fd = open(b.cgroupns_path, O_RDONLY | O_CLOEXEC);
		if (*cgroupns_fd < 0)
			nsexec_bail("open namespace %s", b.cgroupns_path);
	}
	nsexec_join_namespaces(&b);
	if (b.clone_flags & CLONE_NEWUSER)
		nsexec_new_user_namespace();

	*new_cgroupns = (b.clone_flags & CLONE_NEWCGROUP) != 0;
	if (!b.cgroup_pending)
		unshare_new(&b, rest);

	int32_t how;
	pid_t child = clone_init(&g, b.clone_flags & CLONE_NEWPID, &how);
	if (child < 0)
		nsexec_bail("clone container init");
	if (child == 0) {
		if (g.dir >= 0) {
			close(g.dir);
			close(g.procs);
		}
		free(buf);
		return; /* we are stage 1 */
	}

	/* The pid as seen from the parent's PID namespace: the one it can signal. */
	int32_t msg[2] = { child, how };
	if (nsexec_send_msg(MSG_PID, msg, sizeof(msg)) < 0)
		nsexec_bail("report init pid to parent");
	_exit(0);
}

/* stage1 is the container init before the Go runtime exists. */
static void stage1(int cgroupns_fd, int new_cgroupns)
{
	/*
	 * A session of its own: signals sent to the terminal's foreground
	 * process group reach cmrun, which forwards them deliberately.
	 */
	if (setsid() < 0)
		nsexec_bail("setsid");
	/* We are inside the container's cgroup now, so it becomes the namespace's root. */
	if (cgroupns_fd >= 0) {
		if (setns(cgroupns_fd, CLONE_NEWCGROUP) < 0)
			nsexec_bail("setns cgroup namespace");
		close(cgroupns_fd);
	} else if (new_cgroupns && unshare(CLONE_NEWCGROUP) < 0) {
		nsexec_bail("unshare cgroup namespace");
	}
}

/*
 * Timer slack. While a Go program is busy, the runtime's monitor thread
 * (sysmon) sleeps 20 us at a time, and the kernel wakes it within the
 * thread's timer slack, 50 us by default: in a program that lives 20 ms,
 * like cmrun run, that is a couple of hundred wakeups, each one taking a
 * CPU from the work for a moment. A slack of 2 ms lets the kernel batch
 * them with the timer ticks it handles anyway; it halved the context
 * switches of cmrun run and cut its CPU time by a fifth (README,
 * "Performance"). Go timers may then fire up to 2 ms late, which nothing
 * in cmrun or cmshim notices.
 *
 * A thread gets its slack from the thread that created it, and sysmon
 * exists before any Go code runs, so the slack is raised here, on the
 * only thread. Every process cm starts must not inherit it: the value we
 * were given is kept in nsexec_host_timer_slack, and Go starts processes
 * with it (timer_slack.go); the init restores it before execve.
 */
#define CM_TIMER_SLACK_NS 2000000L

long nsexec_host_timer_slack = -1;

static void raise_timer_slack(void)
{
	if (nsexec_host_timer_slack >= 0 && nsexec_host_timer_slack < CM_TIMER_SLACK_NS)
		prctl(PR_SET_TIMERSLACK, CM_TIMER_SLACK_NS, 0, 0, 0);
}

__attribute__((constructor)) static void nsexec(void)
{
	nsexec_host_timer_slack = prctl(PR_GET_TIMERSLACK, 0, 0, 0, 0);
	const char *env = getenv(INIT_PIPE_ENV);
	if (env == NULL || *env == '\0') {
		raise_timer_slack();
		nsexec_pin_to_one_cpu();
		return; /* an ordinary cmrun command: nothing else to do */
	}

	char *end;
	long fd = strtol(env, &end, 10);
	if (*end != '\0' || fd < 0 || fd > 1024) {
		fprintf(stderr, "nsexec: invalid %s=%s\n", INIT_PIPE_ENV, env);
		_exit(1);
	}
	nsexec_syncfd = (int)fd;

	/*
	 * Non-dumpable from here until the user's program is exec'd. The init
	 * we clone soon shows up in the container's /proc while it still holds
	 * what the host gave it (fds, memory with the config); as long as it
	 * is dumpable, any process in the container with the same uid and no
	 * fewer capabilities may open /proc/PID/fd/N and /proc/PID/mem of it
	 * (CVE-2016-9962). The flag is inherited by the clone, and execve of
	 * the user's program sets dumpability afresh. The parent, root, can
	 * still write our /proc files (uid_map, oom_score_adj).
	 */
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
		nsexec_bail("make the init non-dumpable");

	int cgroupns_fd, new_cgroupns;
	stage0(&cgroupns_fd, &new_cgroupns);
	stage1(cgroupns_fd, new_cgroupns);
	/* Stage 0 was started with the host's slack, so the init has it; the Go runtime gets ours. */
	raise_timer_slack();
	/* Return: the Go runtime starts now, inside every namespace, as the container init. */
}
