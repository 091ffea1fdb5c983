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
 * lacks that variable and returns from nsexec() at once.
 *
 * The stages, as a student should picture them:
 *
 *   cmrun parent (Go)          stage 0 (this code)            stage 1 (this code, then Go)
 *   -----------------          -------------------            ----------------------------
 *   start "cmrun init"   --->  read the bootstrap message
 *   move it into the cgroup    join namespaces by path (setns)
 *   send bootstrap             unshare(CLONE_NEWUSER)?
 *                        <---  "please write my uid/gid maps"
 *   write uid_map, gid_map
 *                        --->  "maps written"; become root in the userns
 *                              unshare(the other namespaces)
 *                              clone(CLONE_PARENT) ----------> born in the new namespaces:
 *                        <---  "the init is PID n"             PID 1 of a new PID namespace,
 *                              exit(0)                          a sibling of stage 0, so the
 *   reap stage 0                                                cmrun parent is its parent.
 *   send the init config (Go)                                   setsid(), return: the Go
 *                                                               runtime starts, "cmrun init"
 *                                                               sets up the root filesystem.
 *
 * Every failure is sent to the parent as a readable message (MSG_ERROR)
 * before exiting, so the parent never waits forever and the user sees why.
 *
 * The wire format is deliberately tiny and mirrored in protocol.go:
 *   message   = u32 type, u32 length, payload[length]       (host byte order)
 *   bootstrap = a list of attributes: u32 type, u32 length, value[length]
 */

#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <unistd.h>

#include "protocol.h"

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

/* The socket to the parent; set once the environment has been read. */
static int syncfd = -1;

/* send_msg writes one framed message to the parent. */
static int send_msg(uint32_t type, const void *data, uint32_t len)
{
	uint32_t hdr[2] = { type, len };
	if (write(syncfd, hdr, sizeof(hdr)) != sizeof(hdr))
		return -1;
	if (len > 0 && write(syncfd, data, len) != (ssize_t)len)
		return -1;
	return 0;
}

/*
 * bail reports a fatal error to the parent and exits. The message carries
 * strerror(errno) so the user sees "setns /proc/42/ns/net: Operation not
 * permitted", not just "stage 0 failed".
 */
static void bail(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));
static void bail(const char *fmt, ...)
{
	char msg[1024];
	int saved = errno;
	va_list ap;

	va_start(ap, fmt);
	int n = vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (n < 0)
		n = 0;
	if (saved != 0 && (size_t)n < sizeof(msg))
		snprintf(msg + n, sizeof(msg) - n, ": %s", strerror(saved));
	if (syncfd >= 0)
		send_msg(MSG_ERROR, msg, strlen(msg));
	else
		fprintf(stderr, "nsexec: %s\n", msg);
	_exit(1);
}

/* read_full reads exactly len bytes, or bails: a short read means the parent died. */
static void read_full(void *buf, size_t len, const char *what)
{
	char *p = buf;
	while (len > 0) {
		ssize_t n = read(syncfd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n == 0)
				errno = 0;
			bail("read %s from parent", what);
		}
		p += n;
		len -= n;
	}
}

/* read_msg reads one message of the expected type into a malloc'ed buffer. */
static char *read_msg(uint32_t want, uint32_t *len)
{
	uint32_t hdr[2];
	read_full(hdr, sizeof(hdr), "message header");
	if (hdr[0] != want) {
		errno = 0;
		bail("protocol error: expected message %u, got %u", want, hdr[0]);
	}
	if (hdr[1] > MAX_BOOTSTRAP) {
		errno = 0;
		bail("protocol error: message of %u bytes is too large", hdr[1]);
	}
	char *buf = calloc(1, hdr[1] + 1); /* +1: string attributes end in NUL */
	if (buf == NULL)
		bail("allocate %u bytes", hdr[1]);
	read_full(buf, hdr[1], "message body");
	*len = hdr[1];
	return buf;
}

/* What the parent asked for, decoded from the bootstrap attributes. */
struct bootstrap {
	uint32_t clone_flags;                /* CLONE_NEW* namespaces to create */
	const char *ns_paths[MAX_NS_PATHS];  /* namespaces to join, in order */
	int ns_count;
	const char *timens_offsets;          /* text for /proc/self/timens_offsets */
};

static void parse_bootstrap(char *buf, uint32_t len, struct bootstrap *b)
{
	uint32_t off = 0;
	memset(b, 0, sizeof(*b));
	while (off + 8 <= len) {
		uint32_t type, alen;
		memcpy(&type, buf + off, 4);
		memcpy(&alen, buf + off + 4, 4);
		off += 8;
		if (alen > len - off) {
			errno = 0;
			bail("protocol error: attribute %u overruns the bootstrap message", type);
		}
		char *val = buf + off;
		switch (type) {
		case ATTR_CLONE_FLAGS:
			if (alen != 4) {
				errno = 0;
				bail("protocol error: clone flags attribute has %u bytes", alen);
			}
			memcpy(&b->clone_flags, val, 4);
			break;
		case ATTR_NS_PATH:
			if (b->ns_count == MAX_NS_PATHS) {
				errno = 0;
				bail("too many namespace paths (max %d)", MAX_NS_PATHS);
			}
			b->ns_paths[b->ns_count++] = val;
			break;
		case ATTR_TIMENS_OFFSETS:
			b->timens_offsets = val;
			break;
		default:
			errno = 0;
			bail("protocol error: unknown bootstrap attribute %u", type);
		}
		/*
		 * Go encodes strings with a trailing NUL counted in alen, so
		 * each string value is already terminated in place.
		 */
		off += alen;
	}
}

/*
 * join_namespaces enters existing namespaces (linux.namespaces[].path).
 * All paths are opened first: once we are in another mount namespace the
 * same path names could point somewhere else. The parent orders them so
 * that a user namespace comes first (it grants the privilege to join the
 * namespaces it owns) and a mount namespace last.
 */
static void join_namespaces(struct bootstrap *b)
{
	int fds[MAX_NS_PATHS];
	for (int i = 0; i < b->ns_count; i++) {
		fds[i] = open(b->ns_paths[i], O_RDONLY | O_CLOEXEC);
		if (fds[i] < 0)
			bail("open namespace %s", b->ns_paths[i]);
	}
	for (int i = 0; i < b->ns_count; i++) {
		if (setns(fds[i], 0) < 0)
			bail("setns %s", b->ns_paths[i]);
		close(fds[i]);
	}
}

/*
 * new_user_namespace creates the user namespace and waits while the parent
 * writes our uid_map and gid_map. We cannot write them ourselves: mapping
 * host ids other than our own needs privilege in the *parent* namespace,
 * which the parent has and we just gave up.
 */
static void new_user_namespace(void)
{
	uint32_t len;

	if (unshare(CLONE_NEWUSER) < 0)
		bail("unshare user namespace");
	if (send_msg(MSG_USERMAP_REQUEST, NULL, 0) < 0)
		bail("ask parent for id maps");
	free(read_msg(MSG_USERMAP_ACK, &len));

	/*
	 * Become root of the new namespace. Until now our ids were unmapped
	 * ("nobody"); the maps give uid/gid 0 a meaning here.
	 */
	if (setresgid(0, 0, 0) < 0)
		bail("setresgid to 0 in the user namespace");
	if (setresuid(0, 0, 0) < 0)
		bail("setresuid to 0 in the user namespace");
}

/* write_timens_offsets must run after unshare(CLONE_NEWTIME) and before any child exists. */
static void write_timens_offsets(const char *offsets)
{
	int fd = open("/proc/self/timens_offsets", O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		bail("open /proc/self/timens_offsets");
	size_t n = strlen(offsets);
	if (write(fd, offsets, n) != (ssize_t)n)
		bail("write /proc/self/timens_offsets");
	close(fd);
}

/*
 * clone_parent creates the container init. CLONE_PARENT makes it our
 * sibling: its parent is the cmrun process, which can then wait for it
 * like any child and read its exit status, even though stage 0 exits now.
 * A raw clone with no new stack behaves like fork.
 */
static pid_t clone_parent(void)
{
	return (pid_t)syscall(SYS_clone, CLONE_PARENT | SIGCHLD, 0, 0, 0, 0);
}

/* stage0 runs in the process the parent started; it never returns. */
static void stage0(void)
{
	struct bootstrap b;
	uint32_t len;
	char *buf = read_msg(MSG_BOOTSTRAP, &len);

	parse_bootstrap(buf, len, &b);
	join_namespaces(&b);
	if (b.clone_flags & CLONE_NEWUSER)
		new_user_namespace();

	/*
	 * The remaining namespaces. CLONE_NEWCGROUP is safe here because the
	 * parent put us in the container's cgroup before sending the bootstrap,
	 * so that cgroup becomes the root of the container's view.
	 */
	uint32_t rest = b.clone_flags & ~(uint32_t)CLONE_NEWUSER;
	if (rest != 0 && unshare(rest) < 0)
		bail("unshare namespaces (flags 0x%x)", rest);
	if ((rest & CLONE_NEWTIME) && b.timens_offsets != NULL && b.timens_offsets[0] != '\0')
		write_timens_offsets(b.timens_offsets);

	pid_t child = clone_parent();
	if (child < 0)
		bail("clone container init");
	if (child == 0) {
		free(buf);
		return; /* we are stage 1 */
	}

	/* The pid as seen from the parent's PID namespace: the one it can signal. */
	int32_t pid = child;
	if (send_msg(MSG_PID, &pid, sizeof(pid)) < 0)
		bail("report init pid to parent");
	_exit(0);
}

/* stage1 is the container init before the Go runtime exists. */
static void stage1(void)
{
	/*
	 * A session of its own: signals sent to the terminal's foreground
	 * process group reach cmrun, which forwards them deliberately.
	 */
	if (setsid() < 0)
		bail("setsid");
}

__attribute__((constructor)) static void nsexec(void)
{
	const char *env = getenv(INIT_PIPE_ENV);
	if (env == NULL || *env == '\0')
		return; /* an ordinary cmrun command: nothing to do */

	char *end;
	long fd = strtol(env, &end, 10);
	if (*end != '\0' || fd < 0 || fd > 1024) {
		fprintf(stderr, "nsexec: invalid %s=%s\n", INIT_PIPE_ENV, env);
		_exit(1);
	}
	syncfd = (int)fd;

	stage0();
	stage1();
	/* Return: the Go runtime starts now, inside every namespace, as the container init. */
}
