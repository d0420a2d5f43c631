// The join step of a daemon restart: enter the user and mount namespaces
// of the previous daemon before the Go runtime starts. setns(2) with
// CLONE_NEWUSER refuses a multithreaded process, so this cannot wait for
// Go code. See join.go.
#define _GNU_SOURCE
#include <errno.h>
#include <grp.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define JOIN_ENV "_DOCKERD_LITE_JOIN_NS"
#define JOIN_FAILED 87 /* joinFailedStatus in join.go */

static void join_fail(const char *what)
{
	fprintf(stderr, "dockerd-lite: %s: %s\n", what, strerror(errno));
	_exit(JOIN_FAILED);
}

__attribute__((constructor)) static void dockerd_lite_join(void)
{
	const char *v = getenv(JOIN_ENV);
	int userfd, mntfd, hostroot = geteuid() == 0;

	if (v == NULL || *v == '\0')
		return;
	if (sscanf(v, "%d,%d", &userfd, &mntfd) != 2) {
		errno = EINVAL;
		join_fail("parse " JOIN_ENV);
	}
	if (setns(userfd, CLONE_NEWUSER) < 0)
		join_fail("join the user namespace");
	if (setns(mntfd, CLONE_NEWNS) < 0)
		join_fail("join the mount namespace");
	close(userfd);
	close(mntfd);
	/* Host root's supplementary groups must not follow it in; an ordinary
	 * user keeps theirs, as under rootlesskit. */
	if (hostroot && setgroups(0, NULL) < 0)
		join_fail("drop supplementary groups");
	if (setresgid(0, 0, 0) < 0)
		join_fail("become gid 0");
	if (setresuid(0, 0, 0) < 0)
		join_fail("become uid 0");
}
