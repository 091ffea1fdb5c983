/*
 * protocol.h: message and attribute numbers shared by the preamble's C
 * (nsexec.c, wire.c, namespaces.c) and protocol.go. Change both together.
 * What only the C files share is in nsexec.h.
 */
#ifndef CM_NSEXEC_PROTOCOL_H
#define CM_NSEXEC_PROTOCOL_H

/* The environment variable naming the inherited socket; its presence marks a container init. */
#define INIT_PIPE_ENV "_CM_INITPIPE"

/* The preamble's messages on the socket between the cmrun parent and the init. */
#define MSG_BOOTSTRAP       1 /* parent -> stage 0: attributes below */
#define MSG_USERMAP_REQUEST 2 /* stage 0 -> parent: write my uid/gid maps */
#define MSG_USERMAP_ACK     3 /* parent -> stage 0: maps written */
#define MSG_PID             4 /* stage 0 -> parent: s32 pid of the init, s32 JOINED_* */
#define MSG_ERROR           5 /* any stage, the Go init's too -> parent: text, then the sender exits */
#define MSG_CGROUP_READY    6 /* parent -> stage 0: the cgroup a pending bootstrap names exists now */
/* Numbers from here up belong to the Go init's own messages (runtime/initproto.go), which the preamble never reads. */
#define MSG_FIRST_INIT      7

/* Bootstrap attributes. */
#define ATTR_CLONE_FLAGS    1 /* u32 CLONE_NEW* flags */
#define ATTR_NS_PATH        2 /* NUL-terminated path of a namespace to join */
#define ATTR_TIMENS_OFFSETS 3 /* NUL-terminated /proc/self/timens_offsets text */
#define ATTR_CGROUP_TASKS   4 /* NUL-terminated path of a cgroup v1 "tasks" file to write "0" to */
#define ATTR_CGROUP_DIR     5 /* NUL-terminated path of the cgroup v2 directory to clone the init into */
#define ATTR_CGROUPNS_PATH  6 /* NUL-terminated path of a cgroup namespace for the init to join */
#define ATTR_CGROUP_PENDING 7 /* no value: the cgroup is still being made; create the namespaces, then wait for MSG_CGROUP_READY */

/* How the init got into a cgroup v2 group (second half of MSG_PID). */
#define JOINED_V1_ONLY       0 /* no cgroup v2 group: the v1 "tasks" files were enough */
#define JOINED_V2_BY_CLONE3  1 /* clone3(CLONE_INTO_CGROUP) */
#define JOINED_V2_BY_PROCS   2 /* clone3 failed: stage 0 wrote cgroup.procs, and waited */

#define MAX_NS_PATHS  16
#define MAX_CGROUP_TASKS 32
#define MAX_BOOTSTRAP (1 << 20)

#endif
