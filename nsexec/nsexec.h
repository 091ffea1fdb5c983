/*
 * nsexec.h: what the preamble's C files share among themselves; Go never
 * sees it (what Go and C share is protocol.h). Every name here starts with
 * nsexec_ so that a reader knows it is internal to the preamble, defined
 * in one file of this directory and called from another.
 */
#ifndef CM_NSEXEC_NSEXEC_H
#define CM_NSEXEC_NSEXEC_H

#include <stdint.h>

#include "protocol.h"

/* wire.c: the socket to the parent, its messages, and the bootstrap. */

/* The socket to the parent; set by the constructor once the environment has been read. */
extern int nsexec_syncfd;

/* nsexec_send_msg writes one framed message to the parent; -1 if it could not. */
int nsexec_send_msg(uint32_t type, const void *data, uint32_t len);

/* nsexec_bail reports a fatal error (with strerror(errno) unless errno is 0) to the parent and exits. */
void nsexec_bail(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));

/* nsexec_read_msg reads one message of the expected type into a malloc'ed, NUL-terminated buffer. */
char *nsexec_read_msg(uint32_t want, uint32_t *len);

/* What the parent asked for, decoded from the bootstrap attributes. */
struct bootstrap {
	uint32_t clone_flags;                /* CLONE_NEW* namespaces to create */
	const char *ns_paths[MAX_NS_PATHS];  /* namespaces to join, in order */
	int ns_count;
	const char *timens_offsets;          /* text for /proc/self/timens_offsets */
	const char *cgroup_tasks[MAX_CGROUP_TASKS]; /* cgroup v1: a "tasks" file per hierarchy */
	int cgroup_task_count;
	const char *cgroup_dir;              /* cgroup v2: the group's directory */
	const char *cgroupns_path;           /* a cgroup namespace to join (stage 1 does) */
	int cgroup_pending;                  /* the parent is still making the cgroup (MSG_CGROUP_READY follows) */
};

/* nsexec_parse_bootstrap decodes the bootstrap message; its strings point into buf. */
void nsexec_parse_bootstrap(char *buf, uint32_t len, struct bootstrap *b);

/* namespaces.c: joining and creating namespaces, and the id maps. */

/* nsexec_join_namespaces enters the namespaces the bootstrap names by path, in its order. */
void nsexec_join_namespaces(struct bootstrap *b);

/* nsexec_new_user_namespace creates a user namespace, has the parent map it, and becomes its root. */
void nsexec_new_user_namespace(void);

/* nsexec_write_timens_offsets sets the clocks of a time namespace that has no process yet. */
void nsexec_write_timens_offsets(const char *offsets);

/* one_cpu.c: cmrun keeps its threads on one CPU. */

/* The CPU this process's threads are kept on; -1 if they are not (set once, by the constructor). */
extern int nsexec_pinned_cpu;

/* nsexec_pin_to_one_cpu pins the only thread to its CPU, if this binary asks for it and may. */
void nsexec_pin_to_one_cpu(void);

#endif
