// SPDX-License-Identifier: MIT
#define _GNU_SOURCE
/*
 * fptd's control socket for real: daemon/control.c, state.c, peer.c on a
 * socket in a temporary directory, with real peers (child processes)
 * that are who they say they are — other uids, root without capabilities,
 * a non-root process with CAP_NET_ADMIN, a process in its own user
 * namespace, one that is gone before fptd looks at it.  No module: set
 * requests are kept as no_module policies (that is all the module part of
 * this test needs).  Also the single-instance lock and the parser of
 * /proc/PID/status.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "../../daemon/fptd.h"
#include "control.h"

static struct fptd D;
static char dir[64], sock[96];
static int hold_w = -1;		/* closed: the holding peers exit */

/* ---- the peers ---- */

/* Send @req, read the reply (or the refusal fptd sent at accept) the
 * way fptctl does (lib/control.c). */
static int ask(int fd, const char *req, char *reply, size_t len)
{
	return fpt_control_request(fd, req, reply, len, 5000);
}

static int dial(void)
{
	int fd = -1;

	return fpt_control_connect(sock, &fd) ? -1 : fd;
}

/* Set the effective set to @eff; the permitted set to @perm (0: keep). */
static int set_caps(uint64_t eff, uint64_t perm)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct c[2];

	memset(c, 0, sizeof(c));
	if (syscall(SYS_capget, &h, c))
		return -1;
	c[0].effective = (uint32_t)eff;
	c[1].effective = (uint32_t)(eff >> 32);
	if (perm) {
		c[0].permitted = (uint32_t)perm;
		c[1].permitted = (uint32_t)(perm >> 32);
	}
	return (int)syscall(SYS_capset, &h, c);
}

enum who {
	W_ROOT,			/* uid 0, all capabilities */
	W_ROOT_NOCAPS,		/* uid 0, empty effective set */
	W_USER,			/* uid 65534 */
	W_USER_NETADMIN,	/* uid 65533 with CAP_NET_ADMIN */
	W_USERNS,		/* all capabilities, in its own user namespace */
};

static int become(enum who w, uid_t uid)
{
	switch (w) {
	case W_ROOT:
		return 0;
	case W_ROOT_NOCAPS:
		return set_caps(0, 0);		/* permitted kept */
	case W_USER:
		return setresgid(uid, uid, uid) || setresuid(uid, uid, uid);
	case W_USER_NETADMIN:
		if (prctl(PR_SET_KEEPCAPS, 1) || setresgid(uid, uid, uid) ||
		    setresuid(uid, uid, uid))
			return -1;
		return set_caps(1ULL << CAP_NET_ADMIN, 1ULL << CAP_NET_ADMIN);
	case W_USERNS:
		return unshare(CLONE_NEWUSER);
	}
	return -1;
}

/*
 * A child that becomes @w, opens @nconn connections (@req on the last
 * one), writes "<reply of the last>\n" to @out (its lines joined by
 * '|'), and holds them until @hold is readable (or closed).  It dies with
 * the test.
 */
static pid_t peer(enum who w, uid_t uid, int nconn, const char *req,
		  int out, int hold)
{
	pid_t pid = fork();
	char reply[FPT_CONTROL_MAX + 1], line[FPT_CONTROL_MAX + 2];
	int fds[32], i;

	assert_true(pid >= 0);
	if (pid)
		return pid;
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (hold_w >= 0)
		close(hold_w);
	if (become(w, uid))
		_exit(90);
	for (i = 0; i < nconn; i++) {
		fds[i] = dial();
		if (fds[i] < 0)
			_exit(91);
	}
	for (i = 0; i < nconn - 1; i++)		/* the held ones are served */
		if (ask(fds[i], "status", reply, sizeof(reply)) ||
		    strncmp(reply, "ok", 2))
			_exit(92);
	if (ask(fds[nconn - 1], req, reply, sizeof(reply)))
		snprintf(reply, sizeof(reply), "(no reply)");
	for (i = 0; reply[i]; i++)
		if (reply[i] == '\n')
			reply[i] = '|';
	snprintf(line, sizeof(line), "%s\n", reply);
	if (write(out, line, strlen(line)) < 0)
		_exit(93);
	if (hold >= 0) {
		char c;

		if (read(hold, &c, 1) < 0)
			_exit(94);
	}
	_exit(0);
}

/* Run fptd's event loop until a line comes from @fd. */
static void wait_line(int fd, char *buf, size_t len)
{
	size_t got = 0;
	int i;

	for (i = 0; i < 1000; i++) {
		ssize_t n = read(fd, buf + got, len - 1 - got);

		if (n > 0) {
			got += (size_t)n;
			buf[got] = 0;
			if (memchr(buf, '\n', got)) {
				buf[strcspn(buf, "\n")] = 0;
				return;
			}
		}
		sd_event_run(D.ev, 10000);
	}
	fail_msg("no answer from a peer");
}

static void reap(pid_t pid)
{
	int st, i;

	for (i = 0; i < 1000; i++) {
		if (waitpid(pid, &st, WNOHANG) == pid) {
			if (!WIFEXITED(st) || WEXITSTATUS(st))
				fail_msg("peer %d: status %d", (int)pid, st);
			return;
		}
		sd_event_run(D.ev, 10000);
	}
	fail_msg("peer %d did not exit", (int)pid);
}

/* One peer, one request, its reply. */
static void one(enum who w, uid_t uid, const char *req, char *reply,
		size_t len)
{
	int p[2];
	pid_t pid;

	assert_int_equal(pipe2(p, O_NONBLOCK | O_CLOEXEC), 0);
	pid = peer(w, uid, 1, req, p[1], -1);
	wait_line(p[0], reply, len);
	reap(pid);
	close(p[0]);
	close(p[1]);
}

/* ---- the daemon side ---- */

static int setup(void **state)
{
	char cg[96];

	(void)state;
	memset(&D, 0, sizeof(D));
	strcpy(dir, "/tmp/fptd-ctl-XXXXXX");
	assert_non_null(mkdtemp(dir));
	chmod(dir, 0755);	/* the peers of other uids reach the socket */
	snprintf(cg, sizeof(cg), "%s/cg", dir);
	mkdir(cg, 0755);
	snprintf(sock, sizeof(sock), "%s/control", dir);
	fptd_log_init(false);
	fptd_settings_default(&D.set);
	snprintf(D.set.state_dir, sizeof(D.set.state_dir), "%s/state", dir);
	snprintf(D.set.control_socket, sizeof(D.set.control_socket), "%s", sock);
	snprintf(D.cgroup_root, sizeof(D.cgroup_root), "%s", cg);
	snprintf(D.module_why, sizeof(D.module_why), "not loaded (test)");
	D.ino_fd = D.ctl_fd = D.compact_efd = D.lock_fd = -1;
	D.config_ok = true;
	D.hooks = &fptd_state_hooks;
	assert_int_equal(sd_event_new(&D.ev), 0);
	assert_int_equal(fptd_control_start(&D), 0);
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];
	size_t i;

	(void)state;
	fptd_control_stop(&D);
	fptd_cgwatch_stop(&D);
	sd_event_unref(D.ev);
	for (i = 0; i < D.nent; i++) {
		free(D.ent[i].pol.path);
		free(D.ent[i].pol.file);
	}
	free(D.ent);
	fptd_policy_set_free(&D.files);
	fptd_policy_set_free(&D.runtime);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
	return 0;
}

/* ---- the cases ---- */

static void test_socket_mode(void **state)
{
	struct stat st;

	(void)state;
	assert_int_equal(lstat(sock, &st), 0);
	assert_true(S_ISSOCK(st.st_mode));
	assert_int_equal(st.st_mode & 0777, 0666);
}

/* Changes need CAP_NET_ADMIN in fptd's user namespace; reading does not. */
static void test_authorisation(void **state)
{
	char r[FPT_CONTROL_MAX + 1];

	(void)state;
	one(W_USER, 65534, "list", r, sizeof(r));
	assert_string_equal(r, "ok");
	one(W_USER, 65534, "status", r, sizeof(r));
	assert_string_equal(r, "ok No fpt module: not loaded (test); 0 policies to set when it is loaded");
	one(W_USER, 65534, "set db mode=on", r, sizeof(r));
	assert_non_null(strstr(r, "err EPERM changing policy needs CAP_NET_ADMIN (uid 65534, pid "));
	/* uid 0 alone is not enough: setpriv --reuid=0 --bounding-set=-all */
	one(W_ROOT_NOCAPS, 0, "set db mode=on", r, sizeof(r));
	assert_non_null(strstr(r, "err EPERM changing policy needs CAP_NET_ADMIN (uid 0, pid "));
	/* "root" of its own user namespace: not root here */
	one(W_USERNS, 0, "set db mode=on", r, sizeof(r));
	assert_non_null(strstr(r, "err EPERM"));
	assert_non_null(strstr(r, "another user namespace"));
	assert_int_equal(D.runtime.n, 0);
	/* CAP_NET_ADMIN without being root: allowed */
	one(W_USER_NETADMIN, 65533, "set db mode=on", r, sizeof(r));
	assert_string_equal(r, "ok saved; the fpt module is not loaded: the policy is set when it is");
	assert_int_equal(D.runtime.n, 1);
	/* and root */
	one(W_ROOT, 0, "set other mode=madvise", r, sizeof(r));
	assert_string_equal(r, "ok saved; the fpt module is not loaded: the policy is set when it is");
	one(W_USER, 65534, "list", r, sizeof(r));
	assert_string_equal(r,
		"policy db mode=on defrag=no backend=auto thp2m=allow source=fptctl state=no_module|"
		"policy other mode=madvise defrag=no backend=auto thp2m=allow source=fptctl state=no_module|"
		"ok");
	/* the root cgroup needs root=yes, even from root */
	one(W_ROOT, 0, "set / mode=on", r, sizeof(r));
	assert_non_null(strstr(r, "err EINVAL \"/\" is the root cgroup"));
}

/* A peer that is gone when fptd looks: its pid may be someone else's. */
static void test_gone_peer(void **state)
{
	pid_t pid;
	int fd;

	(void)state;
	pid = fork();
	assert_true(pid >= 0);
	if (!pid) {
		/* root with every capability: connects, asks, leaves */
		fd = dial();
		if (fd < 0)
			_exit(91);
		send(fd, "set db mode=on", 14, MSG_NOSIGNAL);
		_exit(0);
	}
	assert_int_equal(waitpid(pid, NULL, 0), pid);	/* reaped first */
	sd_event_run(D.ev, 100000);			/* accept */
	sd_event_run(D.ev, 100000);			/* the request */
	sd_event_run(D.ev, 100000);
	assert_int_equal(D.runtime.n, 0);
}

/*
 * Connection slots: unprivileged users cannot take the slots of peers
 * with CAP_NET_ADMIN (root, a unit's ExecStartPre=+fptctl).
 */
static void test_slots(void **state)
{
	char r[FPT_CONTROL_MAX + 1];
	int out[2], hold[2], i;
	pid_t pids[8];

	(void)state;
	assert_int_equal(pipe2(out, O_NONBLOCK | O_CLOEXEC), 0);
	assert_int_equal(pipe2(hold, O_CLOEXEC), 0);
	hold_w = hold[1];
	/* one user: 4 connections, the 5th refused */
	pids[0] = peer(W_USER, 60000, 5, "status", out[1], hold[0]);
	wait_line(out[0], r, sizeof(r));
	assert_string_equal(r, "err EBUSY too many fptctl connections of this user; try again");
	/* four users with 4 each (the first keeps its 4): 16 together */
	for (i = 1; i < 4; i++) {
		pids[i] = peer(W_USER, 60000 + (uid_t)i, 4, "status", out[1],
			       hold[0]);
		wait_line(out[0], r, sizeof(r));
		assert_int_equal(strncmp(r, "ok ", 3), 0);
	}
	assert_int_equal(D.nclients, 16);
	/* a fifth user: no unprivileged slot left */
	pids[4] = peer(W_USER, 60010, 1, "list", out[1], hold[0]);
	wait_line(out[0], r, sizeof(r));
	assert_string_equal(r, "err EBUSY too many unprivileged fptctl connections; try again");
	/* root still gets in, and so does a non-root CAP_NET_ADMIN peer */
	pids[5] = peer(W_ROOT, 0, 3, "set db mode=on", out[1], hold[0]);
	wait_line(out[0], r, sizeof(r));
	assert_string_equal(r, "ok saved; the fpt module is not loaded: the policy is set when it is");
	pids[6] = peer(W_USER_NETADMIN, 60020, 1, "del db", out[1], hold[0]);
	wait_line(out[0], r, sizeof(r));
	assert_string_equal(r, "ok removed");
	assert_int_equal(D.nclients, 20);
	/* let them all go: the slots are free again */
	close(hold[1]);
	hold_w = -1;
	for (i = 0; i < 7; i++)
		reap(pids[i]);
	for (i = 0; i < 20 && D.nclients; i++)
		sd_event_run(D.ev, 10000);
	assert_int_equal(D.nclients, 0);
	one(W_USER, 60010, "list", r, sizeof(r));
	assert_string_equal(r, "ok");
	close(out[0]);
	close(out[1]);
	close(hold[0]);
}

/* A second fptd: refused by the lock, names the first one's pid. */
static void test_lock(void **state)
{
	char path[160], buf[32];
	pid_t owner = -1;
	int fd, fd2, n;

	(void)state;
	snprintf(path, sizeof(path), "%s/control.lock", dir);
	fd = fptd_lock(path, &owner);
	assert_true(fd >= 0);
	n = (int)pread(fd, buf, sizeof(buf) - 1, 0);
	assert_true(n > 0);
	buf[n] = 0;
	assert_int_equal(atoi(buf), getpid());
	/* flock locks belong to the open file: a second open is refused
	 * also inside one process, as a second fptd would be */
	fd2 = fptd_lock(path, &owner);
	assert_int_equal(fd2, -EWOULDBLOCK);
	assert_int_equal(owner, getpid());
	close(fd);
	/* released (fptd exited): the next one takes it; the file stays */
	fd2 = fptd_lock(path, &owner);
	assert_true(fd2 >= 0);
	close(fd2);
	assert_int_equal(access(path, F_OK), 0);
}

static void test_status_creds(void **state)
{
	uid_t euid = 1;
	uint64_t caps = 1;

	(void)state;
	assert_int_equal(fptd_status_creds(
		"Name:\tbash\nUid:\t1000\t0\t0\t0\nGid:\t100\t100\t100\t100\n"
		"CapInh:\t0000000000000000\nCapPrm:\t000001ffffffffff\n"
		"CapEff:\t0000000000001000\n", &euid, &caps), 0);
	assert_int_equal(euid, 0);
	assert_int_equal(caps, 1ULL << CAP_NET_ADMIN);
	/* missing or damaged lines: no answer (refused, never guessed) */
	assert_int_equal(fptd_status_creds("Uid:\t0\t0\t0\t0\n", &euid, &caps),
			 -EINVAL);
	assert_int_equal(fptd_status_creds("Uid:\t0 0\nCapEff:\t0\n", &euid,
					   &caps), -EINVAL);
	assert_int_equal(fptd_status_creds("Uid:\t0\t0\t0\t0\nCapEff:\tzz\n",
					   &euid, &caps), -EINVAL);
	/* this process (root in the tests): what fptd_have_cap() sees */
	assert_true(fptd_have_cap(CAP_NET_ADMIN) == (geteuid() == 0));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_socket_mode, setup, teardown),
		cmocka_unit_test_setup_teardown(test_authorisation, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_gone_peer, setup, teardown),
		cmocka_unit_test_setup_teardown(test_slots, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lock, setup, teardown),
		cmocka_unit_test(test_status_creds),
	};

	if (geteuid() != 0) {
		/* the peers must be able to become other users */
		fprintf(stderr, "test_fptd_control: needs root\n");
		return 1;
	}
	return cmocka_run_group_tests_name("fptd_control", tests, NULL, NULL);
}
