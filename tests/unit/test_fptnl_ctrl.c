// SPDX-License-Identifier: MIT
#define _GNU_SOURCE
/*
 * lib/fptnl's nlctrl side: the NEWFAMILY / DELFAMILY events fptd follows
 * to see fpt.ko come and go, parsed by the same code that reads the reply
 * to CTRL_CMD_GETFAMILY.  The messages are built here as the kernel's
 * genl_ctrl_event() builds them (family id, name, version, ..., the
 * multicast groups nested); other nlctrl commands and other message
 * types are skipped, damaged attributes do not produce an event.  Then the
 * real nlctrl of this machine's kernel: resolving it and joining its
 * "notify" group go through the same open path as the "fpt" family.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <libmnl/libmnl.h>
#include <linux/genetlink.h>

#include "fptnl-raw.h"

static struct fptnl_family_event got[8];
static int ngot;

static void cb(const struct fptnl_family_event *ev, void *arg)
{
	(void)arg;
	assert_true(ngot < 8);
	got[ngot++] = *ev;
}

/* One nlctrl event like genl_ctrl_event(): at @buf, returns its length. */
static size_t event(char *buf, uint8_t cmd, uint16_t id, const char *name,
		    const char *grp, uint32_t grp_id)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct genlmsghdr *g;

	nlh->nlmsg_type = GENL_ID_CTRL;
	g = mnl_nlmsg_put_extra_header(nlh, sizeof(*g));
	g->cmd = cmd;
	g->version = 2;
	mnl_attr_put_strz(nlh, CTRL_ATTR_FAMILY_NAME, name);
	mnl_attr_put_u16(nlh, CTRL_ATTR_FAMILY_ID, id);
	mnl_attr_put_u32(nlh, CTRL_ATTR_VERSION, 1);
	mnl_attr_put_u32(nlh, CTRL_ATTR_HDRSIZE, 0);
	mnl_attr_put_u32(nlh, CTRL_ATTR_MAXATTR, 10);
	if (grp) {
		struct nlattr *all = mnl_attr_nest_start(nlh, CTRL_ATTR_MCAST_GROUPS);
		struct nlattr *one = mnl_attr_nest_start(nlh, 1);

		mnl_attr_put_u32(nlh, CTRL_ATTR_MCAST_GRP_ID, grp_id);
		mnl_attr_put_strz(nlh, CTRL_ATTR_MCAST_GRP_NAME, grp);
		mnl_attr_nest_end(nlh, one);
		mnl_attr_nest_end(nlh, all);
	}
	return nlh->nlmsg_len;
}

static void test_events(void **state)
{
	char buf[8192];
	size_t len = 0;

	(void)state;
	memset(buf, 0, sizeof(buf));
	ngot = 0;
	/* several messages in one read, as the kernel batches them */
	len += event(buf + len, CTRL_CMD_NEWFAMILY, 0x24, "fpt", "policy", 9);
	len += event(buf + len, CTRL_CMD_NEWMCAST_GRP, 0x24, "fpt", "policy", 9);
	len += event(buf + len, CTRL_CMD_DELFAMILY, 0x24, "fpt", NULL, 0);
	len += event(buf + len, CTRL_CMD_NEWFAMILY, 0x25, "wireguard", NULL, 0);
	assert_int_equal(fptnl_ctrl_parse(buf, len, cb, NULL), 0);
	assert_int_equal(ngot, 3);
	assert_int_equal(got[0].cmd, CTRL_CMD_NEWFAMILY);
	assert_int_equal(got[0].id, 0x24);
	assert_string_equal(got[0].name, "fpt");
	assert_int_equal(got[1].cmd, CTRL_CMD_DELFAMILY);
	assert_int_equal(got[1].id, 0x24);
	assert_string_equal(got[1].name, "fpt");
	assert_int_equal(got[2].id, 0x25);
	assert_string_equal(got[2].name, "wireguard");
}

static void test_skipped(void **state)
{
	char buf[4096];
	struct nlmsghdr *nlh;
	struct genlmsghdr *g;
	size_t len;

	(void)state;
	memset(buf, 0, sizeof(buf));
	ngot = 0;
	/* not nlctrl's message type */
	len = event(buf, CTRL_CMD_NEWFAMILY, 0x24, "fpt", NULL, 0);
	((struct nlmsghdr *)buf)->nlmsg_type = 0x24;
	assert_int_equal(fptnl_ctrl_parse(buf, len, cb, NULL), 0);
	assert_int_equal(ngot, 0);
	/* no id, or a name that is not a string: no event */
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = GENL_ID_CTRL;
	g = mnl_nlmsg_put_extra_header(nlh, sizeof(*g));
	g->cmd = CTRL_CMD_NEWFAMILY;
	mnl_attr_put_strz(nlh, CTRL_ATTR_FAMILY_NAME, "fpt");
	assert_int_equal(fptnl_ctrl_parse(buf, nlh->nlmsg_len, cb, NULL), 0);
	assert_int_equal(ngot, 0);
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = GENL_ID_CTRL;
	g = mnl_nlmsg_put_extra_header(nlh, sizeof(*g));
	g->cmd = CTRL_CMD_NEWFAMILY;
	mnl_attr_put_u16(nlh, CTRL_ATTR_FAMILY_ID, 0x30);
	mnl_attr_put(nlh, CTRL_ATTR_FAMILY_NAME, 3, "fpt");	/* no NUL */
	assert_int_equal(fptnl_ctrl_parse(buf, nlh->nlmsg_len, cb, NULL), 0);
	assert_int_equal(ngot, 0);
	/* a header shorter than genlmsghdr */
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = GENL_ID_CTRL;
	assert_int_equal(fptnl_ctrl_parse(buf, nlh->nlmsg_len, cb, NULL), 0);
	assert_int_equal(ngot, 0);
}

/* This machine's kernel: nlctrl resolves to GENL_ID_CTRL through the
 * same GETFAMILY path "fpt" takes, and its notify group can be joined. */
static void test_real_nlctrl(void **state)
{
	struct fptnl *nl = NULL;
	uint16_t id = 0;

	(void)state;
	assert_int_equal(fptnl_resolve("nlctrl", &id), 0);
	assert_int_equal(id, GENL_ID_CTRL);
	assert_int_equal(fptnl_resolve("nosuchfam", &id), -ENOENT);
	assert_int_equal(fptnl_ctrl_open(&nl), 0);
	assert_non_null(nl);
	assert_int_equal(fptnl_family_id(nl), GENL_ID_CTRL);
	assert_true(fptnl_monitor_fd(nl) >= 0);
	/* nothing waiting: returns at once */
	ngot = 0;
	assert_int_equal(fptnl_ctrl_read(nl, cb, NULL), 0);
	fptnl_close(nl);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_events),
		cmocka_unit_test(test_skipped),
		cmocka_unit_test(test_real_nlctrl),
	};

	return cmocka_run_group_tests_name("fptnl_ctrl", tests, NULL, NULL);
}
