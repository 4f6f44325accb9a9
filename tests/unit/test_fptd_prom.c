// SPDX-License-Identifier: MIT
#define _GNU_SOURCE
/*
 * daemon/prom.c: fptd's Prometheus text file, byte for byte.  The metric
 * names are an interface (dashboards, alerts): a change here must be a
 * deliberate one, with daemon/README.md changed alongside.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "../../daemon/prom.h"

static char *format(const struct fptd_report *r)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	assert_int_equal(fptd_prom_format(r, f), 0);
	assert_int_equal(fclose(f), 0);
	return buf;
}

/* Compare line by line, to say where they differ. */
static void same(const char *got, const char *want)
{
	int line = 1;
	const char *g = got, *w = want;

	while (*g && *w) {
		size_t gl = strcspn(g, "\n"), wl = strcspn(w, "\n");

		if (gl != wl || memcmp(g, w, gl))
			fail_msg("line %d:\n got: %.*s\nwant: %.*s", line, (int)gl,
				 g, (int)wl, w);
		g += gl + (g[gl] ? 1 : 0);
		w += wl + (w[wl] ? 1 : 0);
		line++;
	}
	if (*g || *w)
		fail_msg("line %d: got %s, want %s", line, *g ? g : "(end)",
			 *w ? w : "(end)");
	assert_string_equal(got, want);
}

static const char daemon_tail[] =
	"# HELP fptd_report_interval_seconds Seconds between fptd's reports.\n"
	"# TYPE fptd_report_interval_seconds gauge\n"
	"fptd_report_interval_seconds 10\n"
	"# HELP fptd_policies fptd's configured policies, by state.\n"
	"# TYPE fptd_policies gauge\n"
	"fptd_policies{state=\"applied\"} %u\n"
	"fptd_policies{state=\"waiting\"} %u\n"
	"fptd_policies{state=\"refused\"} 0\n"
	"fptd_policies{state=\"no_module\"} %u\n"
	"fptd_policies{state=\"overridden\"} 0\n"
	"# HELP fptd_config_last_reload_successful Whether the last configuration (re)load succeeded.\n"
	"# TYPE fptd_config_last_reload_successful gauge\n"
	"fptd_config_last_reload_successful %d\n"
	"# HELP fptd_compactions_total Memory compactions fptd triggered.\n"
	"# TYPE fptd_compactions_total counter\n"
	"fptd_compactions_total %d\n";

static void test_module_down(void **state)
{
	struct fptd_report r = { 0 };
	char want[4096];
	char *got;

	(void)state;
	r.page_size = 4096;
	r.interval = 10;
	r.policies[FPTD_POL_NO_MODULE] = 3;
	r.config_ok = false;
	r.version = "0.1.0";
	got = format(&r);
	snprintf(want, sizeof(want),
		 "# HELP fpt_build_info Versions of fptd and of the loaded fpt module (always 1).\n"
		 "# TYPE fpt_build_info gauge\n"
		 "fpt_build_info{version=\"0.1.0\",module_version=\"\"} 1\n"
		 "# HELP fptd_up 1 while fptd runs and writes this file; 0 once it stopped.\n"
		 "# TYPE fptd_up gauge\n"
		 "fptd_up 1\n"
		 "# HELP fpt_up 1 if the fpt module is loaded and answers fptd.\n"
		 "# TYPE fpt_up gauge\n"
		 "fpt_up 0\n"
		 "%s", "");
	/* the tail */
	{
		char tail[2048];

		snprintf(tail, sizeof(tail), daemon_tail, 0u, 0u, 3u, 0, 0);
		strcat(want, tail);
	}
	same(got, want);
	free(got);
}

static void test_full(void **state)
{
	struct fptd_report r = { 0 };
	struct fpt_policy_info p[2];
	struct fptd_cg_report cg[2];
	struct fpt_frag frag;
	struct fptd_node_frag nodes;
	char want[16384], tail[2048];
	char *got;
	int i;

	(void)state;
	memset(p, 0, sizeof(p));
	memset(cg, 0, sizeof(cg));
	memset(&frag, 0, sizeof(frag));
	memset(&nodes, 0, sizeof(nodes));

	r.page_size = 4096;
	r.interval = 10;
	r.module_up = true;
	r.have_global = true;
	r.global.enabled = true;
	r.global.backends = 1u << FPT_BACKEND_RESERVE;
	r.global.nr_policies = 2;
	for (i = 0; i < FPT_NR_COUNTERS; i++)
		r.global.stats[i] = 1000 + i;
	r.global.stats[FPT_C_RESV_UNUSED_PAGES] = 16;
	r.global_rate.valid = true;
	r.global_rate.rate = 0.125;
	r.have_reserve_limit = true;
	r.reserve_limit_bytes = 268435456;

	/* the root and a systemd-escaped name (a backslash to escape) */
	p[0].cgroup_id = 2;
	p[0].mode = FPT_MODE_ON;
	p[0].backend = FPT_BACKEND_RESERVE;
	p[0].backend_active = FPT_BACKEND_RESERVE;
	p[0].defrag = 1;
	p[0].flags = FPT_F_NO_PMD_THP;
	p[0].has_stats = true;
	p[0].stats[FPT_C_RUNS] = 5;
	p[0].stats[FPT_C_FAULTS_64K] = 80;
	p[0].stats[FPT_C_FB_NO_BLOCK] = 20;
	p[0].stats[FPT_C_RESV_CREATED] = 6;
	p[0].stats[FPT_C_RESV_UNUSED_PAGES] = 3;
	cg[0].cgroup = "system.slice/a\\x2db.service";
	cg[0].info = &p[0];
	cg[0].rate.valid = true;
	cg[0].rate.rate = 0.2;
	cg[0].fb_high = false;

	p[1].cgroup_id = 1;
	p[1].mode = FPT_MODE_MADVISE;
	p[1].backend = FPT_BACKEND_AUTO;
	p[1].backend_active = FPT_BACKEND_RESERVE;
	p[1].has_stats = true;
	cg[1].cgroup = "/";
	cg[1].info = &p[1];
	cg[1].rate.valid = false;
	cg[1].fb_high = true;
	r.cg = cg;
	r.nr_cg = 2;

	frag.free_pages = 1000;
	frag.free_pages_ge64k = 250;
	frag.unusable_index_o4 = 0.75;
	frag.have_pagetypeinfo = 1;
	frag.movable_free_pages_ge64k = 100;
	nodes.nr = 2;
	nodes.node[0] = 0;
	nodes.index[0] = 0.5;
	nodes.node[1] = 1;
	nodes.index[1] = 1;
	r.have_frag = true;
	r.frag = &frag;
	r.nodes = &nodes;
	r.frag_high = true;

	r.policies[FPTD_POL_APPLIED] = 2;
	r.policies[FPTD_POL_WAITING] = 1;
	r.config_ok = true;
	r.compactions = 4;

	r.version = "0.2.0~rc1";
	r.module_version = "0.2.0\"x";	/* escaped like any label */
	got = format(&r);
	snprintf(tail, sizeof(tail), daemon_tail, 2u, 1u, 0u, 1, 4);
	snprintf(want, sizeof(want), "%s%s",
"# HELP fpt_build_info Versions of fptd and of the loaded fpt module (always 1).\n"
"# TYPE fpt_build_info gauge\n"
"fpt_build_info{version=\"0.2.0~rc1\",module_version=\"0.2.0\\\"x\"} 1\n"
"# HELP fptd_up 1 while fptd runs and writes this file; 0 once it stopped.\n"
"# TYPE fptd_up gauge\n"
"fptd_up 1\n"
"# HELP fpt_up 1 if the fpt module is loaded and answers fptd.\n"
"# TYPE fpt_up gauge\n"
"fpt_up 1\n"
"# HELP fpt_enabled Whether fpt is enabled (/sys/kernel/fpt/enabled).\n"
"# TYPE fpt_enabled gauge\n"
"fpt_enabled 1\n"
"# HELP fpt_backend_available Backends this kernel supports (1) or not (0).\n"
"# TYPE fpt_backend_available gauge\n"
"fpt_backend_available{backend=\"folio\"} 0\n"
"fpt_backend_available{backend=\"reserve\"} 1\n"
"# HELP fpt_policies Policies in the kernel.\n"
"# TYPE fpt_policies gauge\n"
"fpt_policies 2\n"
"# HELP fpt_runs_total 64 KB runs mapped, all processes.\n"
"# TYPE fpt_runs_total counter\n"
"fpt_runs_total 1000\n"
"# HELP fpt_faults_64k_total Faults served from a 64 KB block, all processes.\n"
"# TYPE fpt_faults_64k_total counter\n"
"fpt_faults_64k_total 1001\n"
"# HELP fpt_fallbacks_total Faults of opted-in processes that got a 4 KB page, by reason.\n"
"# TYPE fpt_fallbacks_total counter\n"
"fpt_fallbacks_total{reason=\"no_block\"} 1002\n"
"fpt_fallbacks_total{reason=\"charge\"} 1003\n"
"fpt_fallbacks_total{reason=\"vma_range\"} 1004\n"
"fpt_fallbacks_total{reason=\"populated\"} 1005\n"
"fpt_fallbacks_total{reason=\"uffd\"} 1006\n"
"fpt_fallbacks_total{reason=\"cap\"} 1007\n"
"fpt_fallbacks_total{reason=\"mempolicy\"} 1008\n"
"fpt_fallbacks_total{reason=\"race\"} 1009\n"
"fpt_fallbacks_total{reason=\"kernel\"} 1010\n"
"fpt_fallbacks_total{reason=\"nomem\"} 1011\n"
"# HELP fpt_reservations_total 64 KB reservations (reserve backend), by event.\n"
"# TYPE fpt_reservations_total counter\n"
"fpt_reservations_total{event=\"created\"} 1012\n"
"fpt_reservations_total{event=\"completed\"} 1013\n"
"fpt_reservations_total{event=\"broken\"} 1014\n"
"fpt_reservations_total{event=\"reclaimed\"} 1015\n"
"# HELP fpt_reserve_unused_bytes Memory held in reservations, not yet handed out.\n"
"# TYPE fpt_reserve_unused_bytes gauge\n"
"fpt_reserve_unused_bytes 65536\n"
"# HELP fpt_reserve_limit_bytes Cap on memory held in reservations (module parameter max_unused_kb).\n"
"# TYPE fpt_reserve_limit_bytes gauge\n"
"fpt_reserve_limit_bytes 268435456\n"
"# HELP fpt_fallback_ratio Fallbacks / (fallbacks + 64 KB faults) over the last interval, all processes.\n"
"# TYPE fpt_fallback_ratio gauge\n"
"fpt_fallback_ratio 0.125\n"
"# HELP fpt_cgroup_policy_info The policy of a cgroup (always 1; the policy is in the labels).\n"
"# TYPE fpt_cgroup_policy_info gauge\n"
"fpt_cgroup_policy_info{cgroup=\"/\",mode=\"madvise\",defrag=\"no\",backend=\"auto\",backend_active=\"reserve\",thp2m=\"allow\"} 1\n"
"fpt_cgroup_policy_info{cgroup=\"system.slice/a\\\\x2db.service\",mode=\"on\",defrag=\"yes\",backend=\"reserve\",backend_active=\"reserve\",thp2m=\"deny\"} 1\n"
"# HELP fpt_cgroup_runs_total 64 KB runs mapped in the cgroup (and its descendants).\n"
"# TYPE fpt_cgroup_runs_total counter\n"
"fpt_cgroup_runs_total{cgroup=\"/\"} 0\n"
"fpt_cgroup_runs_total{cgroup=\"system.slice/a\\\\x2db.service\"} 5\n"
"# HELP fpt_cgroup_faults_64k_total Faults served from a 64 KB block in the cgroup.\n"
"# TYPE fpt_cgroup_faults_64k_total counter\n"
"fpt_cgroup_faults_64k_total{cgroup=\"/\"} 0\n"
"fpt_cgroup_faults_64k_total{cgroup=\"system.slice/a\\\\x2db.service\"} 80\n"
"# HELP fpt_cgroup_fallbacks_total Faults in the cgroup that got a 4 KB page, by reason.\n"
"# TYPE fpt_cgroup_fallbacks_total counter\n"
"fpt_cgroup_fallbacks_total{cgroup=\"/\",reason=\"no_block\"} 0\n"
"fpt_cgroup_fallbacks_total{cgroup=\"/\",reason=\"charge\"} 0\n"
"fpt_cgroup_fallbacks_total{cgroup=\"/\",reason=\"vma_range\"} 0\n"
"fpt_cgroup_fallbacks_total{cgroup=\"/\",reason=\"populated\"} 0\n"
"fpt_cgroup_fallbacks_total{cgroup=\"/\",reason=\"uffd\"} 0\n"
"fpt_cgroup_fallbacks_total{cgroup=\"/\",reason=\"cap\"} 0\n"
"fpt_cgroup_fallbacks_total{cgroup=\"/\",reason=\"mempolicy\"} 0\n"
"fpt_cgroup_fallbacks_total{cgroup=\"/\",reason=\"race\"} 0\n"
"fpt_cgroup_fallbacks_total{cgroup=\"/\",reason=\"kernel\"} 0\n"
"fpt_cgroup_fallbacks_total{cgroup=\"/\",reason=\"nomem\"} 0\n"
"fpt_cgroup_fallbacks_total{cgroup=\"system.slice/a\\\\x2db.service\",reason=\"no_block\"} 20\n"
"fpt_cgroup_fallbacks_total{cgroup=\"system.slice/a\\\\x2db.service\",reason=\"charge\"} 0\n"
"fpt_cgroup_fallbacks_total{cgroup=\"system.slice/a\\\\x2db.service\",reason=\"vma_range\"} 0\n"
"fpt_cgroup_fallbacks_total{cgroup=\"system.slice/a\\\\x2db.service\",reason=\"populated\"} 0\n"
"fpt_cgroup_fallbacks_total{cgroup=\"system.slice/a\\\\x2db.service\",reason=\"uffd\"} 0\n"
"fpt_cgroup_fallbacks_total{cgroup=\"system.slice/a\\\\x2db.service\",reason=\"cap\"} 0\n"
"fpt_cgroup_fallbacks_total{cgroup=\"system.slice/a\\\\x2db.service\",reason=\"mempolicy\"} 0\n"
"fpt_cgroup_fallbacks_total{cgroup=\"system.slice/a\\\\x2db.service\",reason=\"race\"} 0\n"
"fpt_cgroup_fallbacks_total{cgroup=\"system.slice/a\\\\x2db.service\",reason=\"kernel\"} 0\n"
"fpt_cgroup_fallbacks_total{cgroup=\"system.slice/a\\\\x2db.service\",reason=\"nomem\"} 0\n"
"# HELP fpt_cgroup_reservations_total 64 KB reservations in the cgroup, by event.\n"
"# TYPE fpt_cgroup_reservations_total counter\n"
"fpt_cgroup_reservations_total{cgroup=\"/\",event=\"created\"} 0\n"
"fpt_cgroup_reservations_total{cgroup=\"/\",event=\"completed\"} 0\n"
"fpt_cgroup_reservations_total{cgroup=\"/\",event=\"broken\"} 0\n"
"fpt_cgroup_reservations_total{cgroup=\"/\",event=\"reclaimed\"} 0\n"
"fpt_cgroup_reservations_total{cgroup=\"system.slice/a\\\\x2db.service\",event=\"created\"} 6\n"
"fpt_cgroup_reservations_total{cgroup=\"system.slice/a\\\\x2db.service\",event=\"completed\"} 0\n"
"fpt_cgroup_reservations_total{cgroup=\"system.slice/a\\\\x2db.service\",event=\"broken\"} 0\n"
"fpt_cgroup_reservations_total{cgroup=\"system.slice/a\\\\x2db.service\",event=\"reclaimed\"} 0\n"
"# HELP fpt_cgroup_reserve_unused_bytes Memory held in the cgroup's reservations, not yet handed out.\n"
"# TYPE fpt_cgroup_reserve_unused_bytes gauge\n"
"fpt_cgroup_reserve_unused_bytes{cgroup=\"/\"} 0\n"
"fpt_cgroup_reserve_unused_bytes{cgroup=\"system.slice/a\\\\x2db.service\"} 12288\n"
"# HELP fpt_cgroup_fallback_ratio Fallbacks / (fallbacks + 64 KB faults) in the cgroup over the last interval.\n"
"# TYPE fpt_cgroup_fallback_ratio gauge\n"
"fpt_cgroup_fallback_ratio{cgroup=\"system.slice/a\\\\x2db.service\"} 0.2\n"
"# HELP fptd_cgroup_fallback_high 1 while the cgroup's fallback ratio alarm is raised (see fallback_rate_high/low).\n"
"# TYPE fptd_cgroup_fallback_high gauge\n"
"fptd_cgroup_fallback_high{cgroup=\"/\"} 1\n"
"fptd_cgroup_fallback_high{cgroup=\"system.slice/a\\\\x2db.service\"} 0\n"
"# HELP fpt_free_bytes Free memory (/proc/buddyinfo).\n"
"# TYPE fpt_free_bytes gauge\n"
"fpt_free_bytes 4096000\n"
"# HELP fpt_free_64k_bytes Free memory in blocks of 64 KB or more (order >= 4).\n"
"# TYPE fpt_free_64k_bytes gauge\n"
"fpt_free_64k_bytes 1024000\n"
"# HELP fpt_movable_free_64k_bytes Free movable memory in blocks of 64 KB or more (/proc/pagetypeinfo).\n"
"# TYPE fpt_movable_free_64k_bytes gauge\n"
"fpt_movable_free_64k_bytes 409600\n"
"# HELP fpt_unusable_order4_ratio Fraction of free memory that cannot serve a 64 KB block (unusable free space index, order 4).\n"
"# TYPE fpt_unusable_order4_ratio gauge\n"
"fpt_unusable_order4_ratio 0.75\n"
"# HELP fpt_node_unusable_order4_ratio Unusable free space index for order 4, per NUMA node.\n"
"# TYPE fpt_node_unusable_order4_ratio gauge\n"
"fpt_node_unusable_order4_ratio{node=\"0\"} 0.5\n"
"fpt_node_unusable_order4_ratio{node=\"1\"} 1\n"
"# HELP fptd_fragmentation_high 1 while the fragmentation alarm is raised (see unusable_index_high/low).\n"
"# TYPE fptd_fragmentation_high gauge\n"
"fptd_fragmentation_high 1\n",
		 tail);
	same(got, want);
	free(got);

	/* without stats and rates: only what is known */
	p[0].has_stats = p[1].has_stats = false;
	cg[0].rate.valid = false;
	r.global_rate.valid = false;
	r.have_frag = false;
	got = format(&r);
	assert_null(strstr(got, "fpt_cgroup_runs_total"));
	assert_null(strstr(got, "fpt_cgroup_fallback_ratio"));
	assert_null(strstr(got, "fpt_fallback_ratio"));
	assert_null(strstr(got, "fpt_free_bytes"));
	assert_non_null(strstr(got, "fpt_cgroup_policy_info{cgroup=\"/\""));
	assert_non_null(strstr(got, "fptd_cgroup_fallback_high{cgroup=\"/\"} 1\n"));
	free(got);
}

/* The file fptd leaves behind when it stops: no stale values. */
static void test_stopped(void **state)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	(void)state;
	assert_non_null(f);
	assert_int_equal(fptd_prom_format_stopped("0.1.0", f), 0);
	assert_int_equal(fclose(f), 0);
	same(buf,
	     "# HELP fpt_build_info Versions of fptd and of the loaded fpt module (always 1).\n"
	     "# TYPE fpt_build_info gauge\n"
	     "fpt_build_info{version=\"0.1.0\",module_version=\"\"} 1\n"
	     "# HELP fptd_up 1 while fptd runs and writes this file; 0 once it stopped.\n"
	     "# TYPE fptd_up gauge\n"
	     "fptd_up 0\n");
	free(buf);
}

static void test_escape(void **state)
{
	char buf[64];

	(void)state;
	assert_string_equal(fptd_prom_escape("a\"b\\c\nd", buf, sizeof(buf)),
			    "a\\\"b\\\\c\\nd");
	assert_string_equal(fptd_prom_escape("plain", buf, sizeof(buf)), "plain");
	/* truncated, never overrun, never half an escape */
	assert_string_equal(fptd_prom_escape("\\\\\\\\", buf, 6), "\\\\\\\\");
	assert_int_equal(strlen(buf), 4);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_module_down),
		cmocka_unit_test(test_full),
		cmocka_unit_test(test_stopped),
		cmocka_unit_test(test_escape),
	};

	return cmocka_run_group_tests_name("fptd_prom", tests, NULL, NULL);
}
