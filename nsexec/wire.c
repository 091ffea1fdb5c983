/*
 * wire.c: the preamble's side of the socket to the cmrun parent. It frames
 * and reads messages, reports fatal errors as messages, and decodes the
 * bootstrap that tells stage 0 what to do (nsexec.c has the stages).
 *
 * The wire format is deliberately tiny and mirrored in protocol.go:
 *   message   = u32 type, u32 length, payload[length]       (host byte order)
 *   bootstrap = a list of attributes: u32 type, u32 length, value[length]
 */

#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "nsexec.h"

int nsexec_syncfd = -1;

/* nsexec_send_msg writes one framed message to the parent. */
int nsexec_send_msg(uint32_t type, const void *data, uint32_t len)
{
	uint32_t hdr[2] = { type, len };
	if (write(nsexec_syncfd, hdr, sizeof(hdr)) != sizeof(hdr))
		return -1;
	if (len > 0 && write(nsexec_syncfd, data, len) != (ssize_t)len)
		return -1;
	return 0;
}

/*
 * nsexec_bail reports a fatal error to the parent and exits. The message
 * carries strerror(errno) so the user sees "setns /proc/42/ns/net:
 * Operation not permitted", not just "stage 0 failed".
 */
void nsexec_bail(const char *fmt, ...)
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
	if (nsexec_syncfd >= 0)
		nsexec_send_msg(MSG_ERROR, msg, strlen(msg));
	else
		fprintf(stderr, "nsexec: %s\n", msg);
	_exit(1);
}

/* read_full reads exactly len bytes, or bails: a short read means the parent died. */
static void read_full(void *buf, size_t len, const char *what)
{
	char *p = buf;
	while (len > 0) {
		ssize_t n = read(nsexec_syncfd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n == 0)
				errno = 0;
			nsexec_bail("read %s from parent", what);
		}
		p += n;
		len -= n;
	}
}

/* nsexec_read_msg reads one message of the expected type into a malloc'ed buffer. */
char *nsexec_read_msg(uint32_t want, uint32_t *len)
{
	uint32_t hdr[2];
	read_full(hdr, sizeof(hdr), "message header");
	if (hdr[0] != want) {
		errno = 0;
		nsexec_bail("protocol error: expected message %u, got %u", want, hdr[0]);
	}
	if (hdr[1] > MAX_BOOTSTRAP) {
		errno = 0;
		nsexec_bail("protocol error: message of %u bytes is too large", hdr[1]);
	}
	char *buf = calloc(1, hdr[1] + 1); /* +1: string attributes end in NUL */
	if (buf == NULL)
		nsexec_bail("allocate %u bytes", hdr[1]);
	read_full(buf, hdr[1], "message body");
	*len = hdr[1];
	return buf;
}

/* nsexec_parse_bootstrap fills b from the bootstrap attributes; unknown ones are a protocol error. */
void nsexec_parse_bootstrap(char *buf, uint32_t len, struct bootstrap *b)
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
			nsexec_bail("protocol error: attribute %u overruns the bootstrap message", type);
		}
		char *val = buf + off;
		switch (type) {
		case ATTR_CLONE_FLAGS:
			if (alen != 4) {
				errno = 0;
				nsexec_bail("protocol error: clone flags attribute has %u bytes", alen);
			}
			memcpy(&b->clone_flags, val, 4);
			break;
		case ATTR_NS_PATH:
			if (b->ns_count == MAX_NS_PATHS) {
				errno = 0;
				nsexec_bail("too many namespace paths (max %d)", MAX_NS_PATHS);
			}
			b->ns_paths[b->ns_count++] = val;
			break;
		case ATTR_TIMENS_OFFSETS:
			b->timens_offsets = val;
			break;
		case ATTR_CGROUP_TASKS:
			if (b->cgroup_task_count == MAX_CGROUP_TASKS) {
				errno = 0;
				nsexec_bail("too many cgroup hierarchies (max %d)", MAX_CGROUP_TASKS);
			}
			b->cgroup_tasks[b->cgroup_task_count++] = val;
			break;
		case ATTR_CGROUP_DIR:
			b->cgroup_dir = val;
			break;
		case ATTR_CGROUPNS_PATH:
			b->cgroupns_path = val;
			break;
		case ATTR_CGROUP_PENDING:
			b->cgroup_pending = 1;
			break;
		default:
			errno = 0;
			nsexec_bail("protocol error: unknown bootstrap attribute %u", type);
		}
		/*
		 * Go encodes strings with a trailing NUL counted in alen, so
		 * each string value is already terminated in place.
		 */
		off += alen;
	}
}
