// baseline: the floor every container runtime stands on.
//
// usage: baseline PROGRAM [ARG...]
//
// It does only what no runtime can skip: one clone() into the same new
// namespaces as the benchmark's config.json (pid, network, ipc, uts,
// mount, cgroup), an exec of PROGRAM in the child, and a waitpid() in the
// parent. No root filesystem, no mounts, no cgroup, no seccomp, no
// capabilities: whatever a runtime spends above this is its own setup.
// It exits with the child's exit code (128+N if the child died of signal N).
#define _GNU_SOURCE
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

// The child runs on this stack until it execs; exec gives it a fresh one,
// so a small static buffer is enough and avoids a malloc.
static char child_stack[64 * 1024] __attribute__((aligned(16)));

static int child(void *arg)
{
	char **argv = arg;
	execv(argv[0], argv);
	perror("baseline: execv");
	return 127;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: baseline PROGRAM [ARG...]\n");
		return 2;
	}
	// The same namespaces as linux.namespaces in the benchmark's config.json.
	// SIGCHLD makes the child an ordinary child that waitpid() can reap.
	int flags = CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS |
		    CLONE_NEWNS | CLONE_NEWCGROUP | SIGCHLD;
	// The stack grows down on x86-64, so clone gets its top end.
	pid_t pid = clone(child, child_stack + sizeof(child_stack), flags, argv + 1);
	if (pid < 0) {
		perror("baseline: clone");
		return 1;
	}
	int status;
	if (waitpid(pid, &status, 0) < 0) {
		perror("baseline: waitpid");
		return 1;
	}
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return WEXITSTATUS(status);
}
