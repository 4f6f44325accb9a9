// SPDX-License-Identifier: MIT
#define _GNU_SOURCE
/*
 * daemon/logic.c: fallback rate over an interval, thresholds with
 * hysteresis, when to compact, per-node fragmentation, reservation cap.
 */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "../../daemon/logic.h"
#include "fptnl.h"

#define NEAR(a, b) assert_true(fabs((a) - (b)) < 1e-9)

static void counts(uint64_t *c, uint64_t faults, uint64_t no_block,
		   uint64_t other_fb)
{
	memset(c, 0, sizeof(uint64_t) * FPT_NR_COUNTERS);
	c[FPT_C_FAULTS_64K] = faults;
	c[FPT_C_RUNS] = faults / 16;
	c[FPT_C_FB_NO_BLOCK] = no_block;
	c[FPT_C_FB_VMA_RANGE] = other_fb / 2;
	c[FPT_C_FB_NOMEM] = other_fb - other_fb / 2;
	c[FPT_C_RESV_UNUSED_PAGES] = 12345;	/* a gauge, never a reset */
}

static void test_fallbacks(void **state)
{
	uint64_t c[FPT_NR_COUNTERS];
	int i;

	(void)state;
	memset(c, 0, sizeof(c));
	for (i = 0; i < FPT_NR_COUNTERS; i++)
		c[i] = 1;
	/* every fallback_* counter, nothing else */
	assert_int_equal(fpt_fallbacks(c), FPT_C_FB_NOMEM - FPT_C_FB_NO_BLOCK + 1);
	assert_int_equal(FPT_C_FB_NOMEM - FPT_C_FB_NO_BLOCK + 1, 10);
}

/* The cumulative ratio fptctl stats shows per policy. */
static void test_fallback_ratio(void **state)
{
	uint64_t c[FPT_NR_COUNTERS];
	double r = -1;

	(void)state;
	memset(c, 0, sizeof(c));
	assert_false(fpt_fallback_ratio(c, &r));	/* nothing happened */
	assert_true(r == -1);
	c[FPT_C_RESV_UNUSED_PAGES] = 1000;		/* not a fault */
	c[FPT_C_RUNS] = 1000;
	assert_false(fpt_fallback_ratio(c, &r));
	c[FPT_C_FAULTS_64K] = 300;
	c[FPT_C_FB_NO_BLOCK] = 60;
	c[FPT_C_FB_NOMEM] = 40;
	assert_true(fpt_fallback_ratio(c, &r));
	assert_true(fabs(r - 0.25) < 1e-12);
	c[FPT_C_FAULTS_64K] = 0;
	assert_true(fpt_fallback_ratio(c, &r));
	assert_true(r == 1.0);
}

static void test_rate(void **state)
{
	uint64_t a[FPT_NR_COUNTERS], b[FPT_NR_COUNTERS];
	struct fptd_rate r;

	(void)state;
	counts(a, 1000, 10, 10);
	counts(b, 1600, 210, 210);	/* +600 faults, +200 no_block, +200 other */
	fptd_rate_compute(a, b, 100, &r);
	assert_true(r.valid);
	assert_false(r.reset);
	assert_int_equal(r.faults_64k, 600);
	assert_int_equal(r.fallbacks, 400);
	assert_int_equal(r.no_block, 200);
	NEAR(r.rate, 0.4);
	NEAR(r.no_block_rate, 0.2);

	/* too few events: no rate */
	fptd_rate_compute(a, b, 1001, &r);
	assert_false(r.valid);
	assert_int_equal(r.fallbacks, 400);
	fptd_rate_compute(a, b, 1000, &r);
	assert_true(r.valid);

	/* nothing happened: no rate, even with min 0 */
	fptd_rate_compute(b, b, 0, &r);
	assert_false(r.valid);
	assert_int_equal(r.fallbacks + r.faults_64k, 0);

	/* no previous sample: from zero */
	fptd_rate_compute(NULL, b, 0, &r);
	assert_true(r.valid);
	assert_int_equal(r.faults_64k, 1600);
	NEAR(r.rate, 420.0 / 2020.0);

	/* counters went backwards (module reloaded): from zero again */
	counts(a, 5000, 300, 300);
	counts(b, 50, 50, 0);
	fptd_rate_compute(a, b, 0, &r);
	assert_true(r.reset);
	assert_true(r.valid);
	assert_int_equal(r.faults_64k, 50);
	assert_int_equal(r.fallbacks, 50);
	NEAR(r.rate, 0.5);

	/* only fallbacks */
	counts(a, 0, 0, 0);
	counts(b, 0, 7, 0);
	fptd_rate_compute(a, b, 1, &r);
	assert_true(r.valid);
	NEAR(r.rate, 1.0);

	/* the unused-pages gauge going down is not a reset */
	counts(a, 100, 0, 0);
	counts(b, 200, 0, 0);
	b[FPT_C_RESV_UNUSED_PAGES] = 0;
	fptd_rate_compute(a, b, 1, &r);
	assert_false(r.reset);
	assert_int_equal(r.faults_64k, 100);
	NEAR(r.rate, 0.0);
}

static void test_hysteresis(void **state)
{
	static const struct {
		bool valid;
		double v;
		enum fptd_edge edge;
		bool state;
	} steps[] = {
		{ true, 0.10, FPTD_EDGE_NONE, false },
		{ true, 0.24, FPTD_EDGE_NONE, false },
		{ true, 0.25, FPTD_EDGE_RAISED, true },	/* at high: raised */
		{ true, 0.40, FPTD_EDGE_NONE, true },	/* no repeat */
		{ true, 0.15, FPTD_EDGE_NONE, true },	/* between: stays */
		{ false, 0.00, FPTD_EDGE_NONE, true },	/* no data: stays */
		{ true, 0.24, FPTD_EDGE_NONE, true },
		{ true, 0.10, FPTD_EDGE_CLEARED, false },	/* at low: cleared */
		{ true, 0.05, FPTD_EDGE_NONE, false },
		{ true, 0.20, FPTD_EDGE_NONE, false },	/* between: stays off */
		{ false, 0.99, FPTD_EDGE_NONE, false },
		{ true, 0.99, FPTD_EDGE_RAISED, true },
		{ true, 0.00, FPTD_EDGE_CLEARED, false },
	};
	bool st = false;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		enum fptd_edge e = fptd_hysteresis(&st, steps[i].valid, steps[i].v,
						   0.25, 0.10);

		if (e != steps[i].edge || st != steps[i].state)
			fail_msg("step %zu (%.2f): edge %d state %d, want %d %d", i,
				 steps[i].v, e, st, steps[i].edge, steps[i].state);
	}
	/* high == low: a plain threshold, still no repeats */
	st = false;
	assert_int_equal(fptd_hysteresis(&st, true, 0.5, 0.5, 0.5), FPTD_EDGE_RAISED);
	assert_int_equal(fptd_hysteresis(&st, true, 0.6, 0.5, 0.5), FPTD_EDGE_NONE);
	assert_int_equal(fptd_hysteresis(&st, true, 0.5, 0.5, 0.5), FPTD_EDGE_CLEARED);
}

static void test_compact_due(void **state)
{
	struct fptd_settings s;
	struct fptd_rate r = { .valid = true, .rate = 0.30, .no_block = 5 };

	(void)state;
	memset(&s, 0, sizeof(s));
	s.compact_fb_rate = 0.25;
	s.compact_min_interval = 300;
	assert_false(fptd_compact_due(&s, true, &r, 1000, -1));	/* disabled */
	s.compact = true;
	assert_true(fptd_compact_due(&s, true, &r, 1000, -1));
	assert_false(fptd_compact_due(&s, false, &r, 1000, -1));	/* not fragmented */
	assert_false(fptd_compact_due(&s, true, &r, 1000, 800));	/* 200 s ago */
	assert_true(fptd_compact_due(&s, true, &r, 1100, 800));	/* 300 s ago */
	r.no_block = 0;		/* fallbacks compaction cannot help */
	assert_false(fptd_compact_due(&s, true, &r, 1000, -1));
	r.no_block = 5;
	r.rate = 0.2;
	assert_false(fptd_compact_due(&s, true, &r, 1000, -1));
	r.rate = 0.25;
	assert_true(fptd_compact_due(&s, true, &r, 1000, -1));
	r.valid = false;
	assert_false(fptd_compact_due(&s, true, &r, 1000, -1));
}

static void test_node_frag(void **state)
{
	struct fpt_frag f;
	struct fptd_node_frag nf;

	(void)state;
	memset(&f, 0, sizeof(f));
	f.nr_zones = 3;
	/* node 0 DMA32: 10 order-0, 1 order-4: 10 + 16 pages, 16 usable */
	f.zones[0].node = 0;
	f.zones[0].nr_orders = 11;
	f.zones[0].free_blocks[0] = 10;
	f.zones[0].free_blocks[4] = 1;
	/* node 0 Normal: 2 order-3 (16 pages), 1 order-10 (1024) */
	f.zones[1].node = 0;
	f.zones[1].nr_orders = 11;
	f.zones[1].free_blocks[3] = 2;
	f.zones[1].free_blocks[10] = 1;
	/* node 1 Normal: 64 order-0 only */
	f.zones[2].node = 1;
	f.zones[2].nr_orders = 11;
	f.zones[2].free_blocks[0] = 64;
	fptd_node_frag(&f, &nf);
	assert_int_equal(nf.nr, 2);
	assert_int_equal(nf.node[0], 0);
	assert_int_equal(nf.free_pages[0], 10 + 16 + 16 + 1024);
	assert_int_equal(nf.free_pages_ge64k[0], 16 + 1024);
	NEAR(nf.index[0], 26.0 / 1066.0);
	assert_int_equal(nf.node[1], 1);
	NEAR(nf.index[1], 1.0);

	/* nothing free: 0, as the kernel says */
	memset(&f, 0, sizeof(f));
	f.nr_zones = 1;
	f.zones[0].nr_orders = 11;
	fptd_node_frag(&f, &nf);
	assert_int_equal(nf.nr, 1);
	NEAR(nf.index[0], 0.0);
}

static void test_reserve_limit(void **state)
{
	(void)state;
	assert_int_equal(fptd_reserve_limit(1024, 1ULL << 34), 1024 * 1024);
	/* 1/128 of RAM */
	assert_int_equal(fptd_reserve_limit(0, 8ULL << 30), (8ULL << 30) / 128);
	/* at most 256 MB */
	assert_int_equal(fptd_reserve_limit(0, 1ULL << 40), 256ULL << 20);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fallbacks),
		cmocka_unit_test(test_fallback_ratio),
		cmocka_unit_test(test_rate),
		cmocka_unit_test(test_hysteresis),
		cmocka_unit_test(test_compact_due),
		cmocka_unit_test(test_node_frag),
		cmocka_unit_test(test_reserve_limit),
	};

	return cmocka_run_group_tests_name("fptd_logic", tests, NULL, NULL);
}
