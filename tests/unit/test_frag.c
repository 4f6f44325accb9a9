// SPDX-License-Identifier: GPL-2.0
#define _GNU_SOURCE
/* lib/frag.c on /proc/buddyinfo and /proc/pagetypeinfo fixtures. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "frag.h"

static char *fixture(const char *name)
{
	char path[512];
	FILE *f;
	char *buf = calloc(1, 1 << 16);
	size_t n;

	snprintf(path, sizeof(path), "%s/%s", FIXTURES, name);
	f = fopen(path, "r");
	assert_non_null(f);
	assert_non_null(buf);
	n = fread(buf, 1, (1 << 16) - 1, f);
	buf[n] = 0;
	fclose(f);
	return buf;
}

static void one_node(void **state)
{
	char *t = fixture("buddyinfo-1node");
	struct fpt_frag fr;

	(void)state;
	assert_int_equal(fpt_frag_parse_buddyinfo(t, &fr), 0);
	assert_int_equal(fr.nr_zones, 3);
	assert_string_equal(fr.zones[0].zone, "DMA");
	assert_string_equal(fr.zones[2].zone, "Normal");
	assert_int_equal(fr.zones[2].node, 0);
	assert_int_equal(fr.zones[2].nr_orders, 11);
	assert_int_equal(fr.zones[2].free_blocks[0], 18398);
	assert_int_equal(fr.zones[2].free_blocks[10], 1264);
	assert_int_equal(fpt_frag_zone_free(&fr.zones[0]), 3840);
	assert_int_equal(fpt_frag_zone_free_ge64k(&fr.zones[1]), 772880);
	assert_int_equal(fpt_frag_zone_free(&fr.zones[2]), 2130302);
	assert_int_equal(fpt_frag_zone_free_ge64k(&fr.zones[2]), 2017856);
	assert_int_equal(fr.free_pages, 2907059);
	assert_int_equal(fr.free_pages_ge64k, 2794576);
	assert_float_equal(fr.unusable_index_o4, 0.0386930571, 1e-9);
	assert_float_equal(fpt_frag_zone_unusable(&fr.zones[0]), 0.0, 0.0);
	assert_int_equal(fr.have_pagetypeinfo, 0);
	free(t);
}

static void two_nodes(void **state)
{
	char *t = fixture("buddyinfo-2node");
	struct fpt_frag fr;

	(void)state;
	assert_int_equal(fpt_frag_parse_buddyinfo(t, &fr), 0);
	assert_int_equal(fr.nr_zones, 4);
	assert_int_equal(fr.zones[3].node, 1);
	assert_string_equal(fr.zones[3].zone, "Normal");
	assert_int_equal(fpt_frag_zone_free(&fr.zones[2]), 466463);
	assert_int_equal(fpt_frag_zone_free_ge64k(&fr.zones[2]), 72288);
	assert_float_equal(fpt_frag_zone_unusable(&fr.zones[2]),
			   0.8450295093, 1e-9);
	assert_int_equal(fpt_frag_zone_free(&fr.zones[3]), 2427517);
	assert_int_equal(fpt_frag_zone_free_ge64k(&fr.zones[3]), 2165456);
	assert_int_equal(fr.free_pages, 3403285);
	assert_int_equal(fr.free_pages_ge64k, 2717392);
	assert_float_equal(fr.unusable_index_o4, 0.2015385135, 1e-9);
	free(t);
}

static void pagetypeinfo(void **state)
{
	char *b = fixture("buddyinfo-2node"), *p = fixture("pagetypeinfo-2node");
	struct fpt_frag fr;

	(void)state;
	assert_int_equal(fpt_frag_parse_buddyinfo(b, &fr), 0);
	assert_int_equal(fpt_frag_parse_pagetypeinfo(p, &fr), 0);
	assert_int_equal(fr.have_pagetypeinfo, 1);
	assert_int_equal(fr.zones[0].movable_free_pages_ge64k, 3584);
	assert_int_equal(fr.zones[1].movable_free_pages_ge64k, 475680);
	/* ">100000" at order 0 is read, and order 0 does not count here */
	assert_int_equal(fr.zones[2].movable_free_pages_ge64k, 70128);
	assert_int_equal(fr.zones[3].movable_free_pages_ge64k, 2164288);
	assert_int_equal(fr.zones[3].have_pagetypeinfo, 1);
	assert_int_equal(fr.movable_free_pages_ge64k, 2713680);
	/* the buddyinfo figures are untouched */
	assert_int_equal(fr.free_pages, 3403285);
	free(b);
	free(p);
}

static void malformed(void **state)
{
	char *t = fixture("buddyinfo-bad");
	struct fpt_frag fr;

	(void)state;
	assert_int_equal(fpt_frag_parse_buddyinfo(t, &fr), -EINVAL);
	assert_int_equal(fpt_frag_parse_buddyinfo("", &fr), -EINVAL);
	assert_int_equal(fpt_frag_parse_buddyinfo("garbage\n", &fr), -EINVAL);
	assert_int_equal(fpt_frag_parse_buddyinfo(NULL, &fr), -EINVAL);
	/* the same zone twice */
	assert_int_equal(fpt_frag_parse_buddyinfo(
		"Node 0, zone Normal 1 2\nNode 0, zone Normal 1 2\n", &fr),
		-EINVAL);
	/* a zone without counts */
	assert_int_equal(fpt_frag_parse_buddyinfo("Node 0, zone Normal\n",
						  &fr), -EINVAL);
	/* pagetypeinfo without its free-pages section */
	assert_int_equal(fpt_frag_parse_buddyinfo("Node 0, zone DMA 1\n", &fr),
			 0);
	assert_int_equal(fpt_frag_parse_pagetypeinfo("Page block order: 9\n",
						     &fr), -EINVAL);
	free(t);
}

static void edge_cases(void **state)
{
	struct fpt_frag fr;

	(void)state;
	/* no trailing newline, tabs, nothing free */
	assert_int_equal(fpt_frag_parse_buddyinfo(
		"Node 0, zone\tNormal\t0 0 0 0 0", &fr), 0);
	assert_int_equal(fr.nr_zones, 1);
	assert_int_equal(fr.free_pages, 0);
	assert_float_equal(fr.unusable_index_o4, 0.0, 0.0);
	/* more orders than FPT_FRAG_MAX_ORDER: totals still count them */
	assert_int_equal(fpt_frag_parse_buddyinfo(
		"Node 0, zone Normal 0 0 0 0 0 0 0 0 0 0 0 0 1\n", &fr), 0);
	assert_int_equal(fr.zones[0].nr_orders, FPT_FRAG_MAX_ORDER);
	assert_int_equal(fr.free_pages, 4096);
	assert_int_equal(fr.free_pages_ge64k, 4096);
	/* only orders below 4: everything is unusable for 64 KB */
	assert_int_equal(fpt_frag_parse_buddyinfo(
		"Node 0, zone Normal 4 2 1 1\n", &fr), 0);
	assert_int_equal(fr.free_pages, 4 + 4 + 4 + 8);
	assert_float_equal(fr.unusable_index_o4, 1.0, 0.0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(one_node),
		cmocka_unit_test(two_nodes),
		cmocka_unit_test(pagetypeinfo),
		cmocka_unit_test(malformed),
		cmocka_unit_test(edge_cases),
	};

	return cmocka_run_group_tests_name("frag", tests, NULL, NULL);
}
