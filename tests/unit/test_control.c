// SPDX-License-Identifier: GPL-2.0
/* lib/control.c (fptd's control protocol, client side) and errname.c. */
#define _GNU_SOURCE
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>

#include "control.h"
#include "errname.h"

static void status_lines(void **state)
{
	char r1[] = "ok", r2[] = "ok applied db", r3[] = "err ENOENT no such cgroup db";
	char r4[] = "policy db mode=on\npolicy x mode=off\nok";
	char r5[] = "err EWHATEVER text", r6[] = "nonsense", r7[] = "err EPERM";
	char r8[] = "okay";
	const char *t;

	(void)state;
	assert_int_equal(fpt_control_status(r1, &t), 0);
	assert_string_equal(t, "");
	assert_int_equal(fpt_control_status(r2, &t), 0);
	assert_string_equal(t, "applied db");
	assert_int_equal(fpt_control_status(r3, &t), ENOENT);
	assert_string_equal(t, "no such cgroup db");
	assert_int_equal(fpt_control_status(r4, &t), 0);
	assert_int_equal(strncmp(r4, "policy db", 9), 0);	/* body kept */
	assert_int_equal(fpt_control_status(r5, &t), EIO);	/* unknown name */
	assert_string_equal(t, "text");
	assert_int_equal(fpt_control_status(r6, &t), -1);
	assert_int_equal(fpt_control_status(r7, &t), EPERM);
	assert_string_equal(t, "");
	assert_int_equal(fpt_control_status(r8, NULL), -1);
}

static void words(void **state)
{
	(void)state;
	assert_true(fpt_control_word_ok("system.slice/x.service"));
	assert_false(fpt_control_word_ok("a b"));
	assert_false(fpt_control_word_ok("a\nb"));
	assert_false(fpt_control_word_ok(""));
	assert_false(fpt_control_word_ok(NULL));
}

static void errnames(void **state)
{
	(void)state;
	assert_string_equal(fpt_errno_name(ENOENT), "ENOENT");
	assert_string_equal(fpt_errno_name(EOPNOTSUPP), "EOPNOTSUPP");
	assert_string_equal(fpt_errno_name(524), "ENOTSUPP");
	assert_string_equal(fpt_errno_name(4000), "E4000");
	assert_int_equal(fpt_errno_parse("EPERM"), EPERM);
	assert_int_equal(fpt_errno_parse("EWOULDBLOCK"), EAGAIN);
	assert_int_equal(fpt_errno_parse("E22"), 22);
	assert_int_equal(fpt_errno_parse("E0"), 0);
	assert_int_equal(fpt_errno_parse("nope"), 0);
	assert_int_equal(fpt_errno_parse(NULL), 0);
}

/* A fake fptd on the other end of a SOCK_SEQPACKET pair. */
static void roundtrip(void **state)
{
	char buf[256];
	int sv[2];
	ssize_t n;

	(void)state;
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv), 0);
	/* one message with the whole reply */
	assert_int_equal(send(sv[1], "ok done", 7, 0), 7);
	assert_int_equal(fpt_control_request(sv[0], "set db mode=on", buf,
					     sizeof(buf), 1000), 0);
	assert_string_equal(buf, "ok done");
	n = recv(sv[1], buf, sizeof(buf), 0);
	assert_int_equal(n, 14);
	assert_memory_equal(buf, "set db mode=on", 14);
	/* a reply in several messages, lines without newlines */
	assert_true(send(sv[1], "policy a mode=on", 16, 0) == 16);
	assert_true(send(sv[1], "policy b mode=off\n", 18, 0) == 18);
	assert_true(send(sv[1], "ok\n", 3, 0) == 3);
	assert_int_equal(fpt_control_request(sv[0], "list", buf, sizeof(buf),
					     1000), 0);
	assert_string_equal(buf, "policy a mode=on\npolicy b mode=off\nok");
	recv(sv[1], buf, sizeof(buf), 0);
	/* no reply: a timeout, not a hang */
	assert_int_equal(fpt_control_request(sv[0], "list", buf, sizeof(buf),
					     50), -ETIMEDOUT);
	recv(sv[1], buf, sizeof(buf), 0);
	/* the daemon hangs up */
	close(sv[1]);
	assert_int_equal(fpt_control_request(sv[0], "list", buf, sizeof(buf),
					     1000) < 0, 1);
	close(sv[0]);
}

static void not_running(void **state)
{
	int fd = -1;

	(void)state;
	assert_int_equal(fpt_control_connect("/nonexistent/fpt/control", &fd),
			 -ENOENT);
	assert_int_equal(fd, -1);
}

/* fptd's list lines, as fptctl status reads them */
static void policy_lines(void **state)
{
	struct fpt_control_policy p;

	(void)state;
	assert_int_equal(fpt_control_parse_policy(
		"policy system.slice/pg.service mode=on defrag=no backend=auto thp2m=deny source=/etc/fpt/policy.d/db.conf:2 state=applied",
		&p), 0);
	assert_string_equal(p.path, "system.slice/pg.service");
	assert_string_equal(p.mode, "on");
	assert_string_equal(p.defrag, "no");
	assert_string_equal(p.backend, "auto");
	assert_string_equal(p.thp2m, "deny");
	assert_string_equal(p.source, "/etc/fpt/policy.d/db.conf:2");
	assert_string_equal(p.state, "applied");
	/* a file name with spaces; a key a newer fptd added */
	assert_int_equal(fpt_control_parse_policy(
		"policy / mode=madvise defrag=yes backend=folio thp2m=allow size=64k source=/etc/fpt/policy.d/my db.conf:7 state=no_module",
		&p), 0);
	assert_string_equal(p.path, "/");
	assert_string_equal(p.source, "/etc/fpt/policy.d/my db.conf:7");
	assert_string_equal(p.state, "no_module");
	assert_string_equal(p.backend, "folio");
	/* not policy lines */
	assert_int_equal(fpt_control_parse_policy("ok", &p), -EINVAL);
	assert_int_equal(fpt_control_parse_policy("policy db mode=on", &p), -EINVAL);
	assert_int_equal(fpt_control_parse_policy("policy db source=x state=applied", &p), -EINVAL);
	assert_int_equal(fpt_control_parse_policy("policy  mode=on source=x state=y", &p), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(status_lines),
		cmocka_unit_test(words),
		cmocka_unit_test(errnames),
		cmocka_unit_test(roundtrip),
		cmocka_unit_test(not_running),
		cmocka_unit_test(policy_lines),
	};

	return cmocka_run_group_tests_name("control", tests, NULL, NULL);
}
