/*
 * namespaces.c: stage 0's namespace work (nsexec.c has the stages). It
 * joins existing namespaces by path, creates a user namespace and has the
 * parent write its id maps, and sets a new time namespace's clocks. The
 * other new namespaces are one unshare() call, made by stage 0 itself.
 */

#define _GNU_SOURCE
#include <fcntl.h>
#include <sched.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "nsexec.h"

/*
 * nsexec_join_namespaces enters existing namespaces
 * (linux.namespaces[].path). All paths are opened first: once we are in
 * another mount namespace the same path names could point somewhere else.
 * The parent orders them so that a user namespace comes first (it grants
 * the privilege to join the namespaces it owns) and a mount namespace last.
 */
void nsexec_join_namespaces(struct bootstrap *b)
{
	int fds[MAX_NS_PATHS];
	for (int i = 0; i < b->ns_count; i++) {
		fds[i] = open(b->ns_paths[i], O_RDONLY | O_CLOEXEC);
		if (fds[i] < 0)
			nsexec_bail("open namespace %s", b->ns_paths[i]);
	}
	for (int i = 0; i < b->ns_count; i++) {
		if (setns(fds[i], 0) < 0)
			nsexec_bail("setns %s", b->ns_paths[i]);
		close(fds[i]);
	}
}

/*
 * nsexec_new_user_namespace creates the user namespace and waits while the
 * parent writes our uid_map and gid_map. We cannot write them ourselves:
 * mapping host ids other than our own needs privilege in the *parent*
 * namespace, which the parent has and we just gave up.
 */
void nsexec_new_user_namespace(void)
{
	uint32_t len;

	if (unshare(CLONE_NEWUSER) < 0)
		nsexec_bail("unshare user namespace");
	if (nsexec_send_msg(MSG_USERMAP_REQUEST, NULL, 0) < 0)
		nsexec_bail("ask parent for id maps");
	free(nsexec_read_msg(MSG_USERMAP_ACK, &len));

	/*
	 * Become root of the new namespace. Until now our ids were unmapped
	 * ("nobody"); the maps give uid/gid 0 a meaning here.
	 */
	if (setresgid(0, 0, 0) < 0)
		nsexec_bail("setresgid to 0 in the user namespace");
	if (setresuid(0, 0, 0) < 0)
		nsexec_bail("setresuid to 0 in the user namespace");
}

/* nsexec_write_timens_offsets must run after unshare(CLONE_NEWTIME) and before any child exists. */
void nsexec_write_timens_offsets(const char *offsets)
{
	int fd = open("/proc/self/timens_offsets", O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		nsexec_bail("open /proc/self/timens_offsets");
	size_t n = strlen(offsets);
	if (write(fd, offsets, n) != (ssize_t)n)
		nsexec_bail("write /proc/self/timens_offsets");
	close(fd);
}
