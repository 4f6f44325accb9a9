// SPDX-License-Identifier: MIT
/*
 * Who is on the other end of the control socket, and whether it may
 * change policy: "CAP_NET_ADMIN in the initial user namespace", the same
 * capability the kernel asks of a process that changes a policy through
 * the fpt netlink family itself, so that fptd never lends its own.
 *
 * SO_PEERCRED gives the pid and effective uid of the process that called
 * connect(), as they were then.  The capabilities are read from
 * /proc/PID/status (CapEff), which is only good while PID is still that
 * process:
 *  - the process is pinned by a pidfd: SO_PEERPIDFD (Linux 6.5+) names
 *    the connecting process itself; on older kernels pidfd_open(pid) right
 *    after accept();
 *  - /proc/PID/status is read, and afterwards the pidfd must show the
 *    process still alive (a pidfd polls readable once it exited): then
 *    the pid was not reused in between;
 *  - the effective uid there must still be SO_PEERCRED's: a process that
 *    connected as a user and then exec'd a set-uid program (with the
 *    socket on its stdout, say) is not taken for that program;
 *  - the peer must be in fptd's own user namespace: capabilities of a
 *    container's root are not capabilities on the host.
 * (So fptd must see other users' /proc/PID: no ProtectProc=invisible.)
 * Without SO_PEERPIDFD the window between connect() and pidfd_open()
 * remains (the connecting process would have to exit and its pid be
 * reused by a privileged process in it); the decision is taken once, at
 * accept(), and kept for the connection.
 */
#define _GNU_SOURCE
#include "fptd.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef SO_PEERPIDFD
#define SO_PEERPIDFD	77
#endif

int fptd_status_creds(const char *text, uid_t *euid, uint64_t *cap_eff)
{
	const char *l;
	bool have_uid = false, have_cap = false;

	for (l = text; l && *l; l = strchr(l, '\n'), l = l ? l + 1 : NULL) {
		unsigned long r, e, s, f;
		unsigned long long c;
		char *end;

		if (!strncmp(l, "Uid:", 4)) {
			if (sscanf(l + 4, "%lu %lu %lu %lu", &r, &e, &s, &f) != 4)
				return -EINVAL;
			*euid = (uid_t)e;
			have_uid = true;
		} else if (!strncmp(l, "CapEff:", 7)) {
			const char *v = l + 7;

			while (*v == ' ' || *v == '\t')
				v++;
			errno = 0;
			c = strtoull(v, &end, 16);
			if (errno || end == v || (*end && *end != '\n'))
				return -EINVAL;
			*cap_eff = c;
			have_cap = true;
		}
	}
	return have_uid && have_cap ? 0 : -EINVAL;
}

/* A small /proc file (any length: "Groups:" can be long) into a malloc'ed
 * string. */
static int read_text(int dirfd, const char *name, char **out)
{
	int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC);
	size_t cap = 4096, len = 0;
	char *buf = NULL;
	ssize_t n;

	if (fd < 0)
		return -errno;
	for (;;) {
		if (!buf || len + 1 >= cap) {
			char *nb = cap <= (1u << 20) ? realloc(buf, cap *= 2) : NULL;

			if (!nb) {
				free(buf);
				close(fd);
				return -ENOMEM;
			}
			buf = nb;
		}
		n = read(fd, buf + len, cap - 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	if (n < 0) {
		free(buf);
		return -EIO;
	}
	buf[len] = 0;
	*out = buf;
	return 0;
}

/*
 * The peer's user namespace is fptd's.  The ns/user link needs ptrace
 * access (a peer of another uid: no, fptd has no CAP_SYS_PTRACE); then
 * uid_map (world-readable, shown relative to the reader's namespace)
 * must read the same as fptd's own: a namespace a user made for itself
 * maps one uid ("0 1000 1"), never all of them.
 */
static bool same_userns(int piddir)
{
	struct stat a, b;
	char *m1 = NULL, *m2 = NULL;
	int self;
	bool same;

	if (!fstatat(piddir, "ns/user", &a, 0) &&
	    !stat("/proc/self/ns/user", &b))
		return a.st_dev == b.st_dev && a.st_ino == b.st_ino;
	self = open("/proc/self", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	same = self >= 0 && !read_text(piddir, "uid_map", &m1) &&
	       !read_text(self, "uid_map", &m2) && !strcmp(m1, m2);
	if (self >= 0)
		close(self);
	free(m1);
	free(m2);
	return same;
}

static bool alive(int pidfd)
{
	struct pollfd p = { .fd = pidfd, .events = POLLIN };

	return poll(&p, 1, 0) == 0;	/* readable: it has exited */
}

int fptd_peer_get(int fd, struct fptd_peer *p)
{
	struct ucred cred;
	socklen_t cl = sizeof(cred), pl = sizeof(int);
	char path[64], *text = NULL;
	uint64_t caps = 0;
	uid_t euid = (uid_t)-1;
	int pidfd = -1, dir = -1, ret;

	memset(p, 0, sizeof(*p));
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &cl))
		return -errno;
	p->pid = cred.pid;
	p->uid = cred.uid;
	p->gid = cred.gid;
	snprintf(p->why, sizeof(p->why), "no CAP_NET_ADMIN");
	if (getsockopt(fd, SOL_SOCKET, SO_PEERPIDFD, &pidfd, &pl))
		pidfd = (int)syscall(SYS_pidfd_open, cred.pid, 0);
	if (pidfd < 0 || cred.pid <= 0) {
		snprintf(p->why, sizeof(p->why),
			 "its process (pid %d) could not be pinned", cred.pid);
		goto out;
	}
	snprintf(path, sizeof(path), "/proc/%d", (int)cred.pid);
	dir = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	ret = dir < 0 ? -errno : read_text(dir, "status", &text);
	if (!ret)
		ret = fptd_status_creds(text, &euid, &caps);
	free(text);
	if (ret || !alive(pidfd)) {
		snprintf(p->why, sizeof(p->why),
			 "its process (pid %d) is gone", cred.pid);
		goto out;
	}
	if (euid != cred.uid) {
		snprintf(p->why, sizeof(p->why),
			 "its process (pid %d) changed its uid since it connected",
			 cred.pid);
		goto out;
	}
	if (!same_userns(dir)) {
		snprintf(p->why, sizeof(p->why),
			 "it is in another user namespace");
		goto out;
	}
	if (caps & (1ULL << CAP_NET_ADMIN)) {
		p->net_admin = true;
		p->why[0] = 0;
	}
out:
	if (dir >= 0)
		close(dir);
	if (pidfd >= 0)
		close(pidfd);
	return 0;
}

bool fptd_have_cap(int cap)
{
	char *text = NULL;
	uint64_t caps = 0;
	uid_t euid;
	int dir = open("/proc/self", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int ret = dir < 0 ? -errno : read_text(dir, "status", &text);

	if (dir >= 0)
		close(dir);
	if (!ret)
		ret = fptd_status_creds(text, &euid, &caps);
	free(text);
	return !ret && (caps & (1ULL << cap));
}
