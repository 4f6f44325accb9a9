// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests of fpt-sim's model (tools/fpt-sim/model.c): the closed-form
 * numbers exactly, the miss-rate model on small cases and the pagemap
 * analysis on synthetic PFN arrays.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "../../tools/fpt-sim/fptsim.h"

#define KiB (1ULL << 10)
#define MiB (1ULL << 20)
#define GiB (1ULL << 30)
#define BASE 0x7f0000000000ULL		/* 512 GiB aligned */
#define VPN(a) ((uint64_t)(a) >> 12)

#define assert_close(a, b, tol) do {					\
	double a_ = (a), b_ = (b);					\
	if (!(fabs(a_ - b_) <= (tol))) {				\
		print_error("%.17g != %.17g (tol %g)\n", a_, b_,	\
			    (double)(tol));				\
		fail();							\
	}								\
} while (0)

/* ---- closed-form numbers -------------------------------------------------- */

static void test_reach(void **state)
{
	(void)state;
	assert_int_equal(fpt_reach(1536, 4 * KiB), 6 * MiB);
	assert_int_equal(fpt_reach(1536, 2 * MiB), 3 * GiB);
	assert_int_equal(fpt_reach(1536, 2 * MiB) / fpt_reach(1536, 4 * KiB),
			 512);
	assert_int_equal(fpt_reach(64, 4 * KiB), 256 * KiB);
	assert_int_equal(fpt_reach(1536, 64 * KiB), 96 * MiB);
	assert_int_equal(FPT_DEFAULT_L1, 64);
	assert_int_equal(FPT_DEFAULT_L2, 1536);
}

static void test_benefit(void **state)
{
	struct fpt_frac f;

	(void)state;
	f = fpt_benefit(16);
	assert_int_equal(f.num, 15);
	assert_int_equal(f.den, 16);
	f = fpt_benefit(4);
	assert_int_equal(f.num, 3);
	assert_int_equal(f.den, 4);
	f = fpt_benefit(512);
	assert_int_equal(f.num, 511);
	assert_int_equal(f.den, 512);
	f = fpt_benefit(1);
	assert_int_equal(f.num, 0);
	assert_int_equal(f.den, 1);
	f = fpt_benefit(0);
	assert_int_equal(f.num, 0);
	assert_int_equal(f.den, 0);
}

/* the saving of 64K runs is exactly 15/16 of the entries of 4K pages */
static void test_benefit_in_report(void **state)
{
	struct fpt_synth in = { .ws = 1 * GiB, .base = BASE,
				.pattern = FPT_UNIFORM, .l1 = 64, .l2 = 1536 };
	struct fpt_report r;
	const char *err;
	uint64_t e4, e64;

	(void)state;
	assert_int_equal(fpt_synth_report(&in, &r, &err), 0);
	assert_int_equal(r.nrows, 4);
	assert_string_equal(r.rows[FPT_PS_4K].name, "4k");
	assert_string_equal(r.rows[FPT_PS_64K].name, "64k");
	e4 = r.rows[FPT_PS_4K].entries;
	e64 = r.rows[FPT_PS_64K].entries;
	assert_int_equal(e4, 262144);
	assert_int_equal(e64, 16384);
	assert_int_equal((e4 - e64) * 16, e4 * 15);
	assert_int_equal(r.rows[FPT_PS_2M].entries, 512);
	assert_true(r.rows[FPT_PS_4K].l2_reach == (double)(6 * MiB));
	assert_true(r.rows[FPT_PS_2M].l2_reach == (double)(3 * GiB));
	assert_true(r.rows[FPT_PS_64K].bytes_per_entry == 65536.0);
}

static void test_walk_refs(void **state)
{
	(void)state;
	assert_int_equal(fpt_walk_refs(FPT_L_RADIX), 4);
	assert_int_equal(fpt_walk_refs(FPT_L_RADIX_2M), 3);
	assert_int_equal(fpt_walk_refs(FPT_L_L4L3), 3);
	assert_int_equal(fpt_walk_refs(FPT_L_L3L2), 3);
	assert_int_equal(fpt_walk_refs(FPT_L_L4L3_L2L1), 2);
	assert_string_equal(fpt_layouts[FPT_L_L4L3_L2L1].name, "fpt-l4l3-l2l1");
}

/* ---- page-table memory ------------------------------------------------------ */

static uint64_t ptbytes(enum fpt_layout l, const struct fpt_regions *r)
{
	return fpt_pt_memory(l, r).bytes;
}

static void test_ptmem_one_page(void **state)
{
	struct fpt_regions r;
	struct fpt_ptmem m;

	(void)state;
	fpt_regions_init(&r);
	assert_int_equal(fpt_regions_add(&r, VPN(BASE + 5 * MiB), 1), 0);
	m = fpt_pt_memory(FPT_L_RADIX, &r);
	assert_int_equal(m.tables_4k, 4);
	assert_int_equal(m.nodes_2m, 0);
	assert_int_equal(m.bytes, 16 * KiB);
	assert_int_equal(ptbytes(FPT_L_RADIX_2M, &r), 12 * KiB);
	assert_int_equal(ptbytes(FPT_L_L4L3, &r), 2 * MiB + 8 * KiB);
	assert_int_equal(ptbytes(FPT_L_L3L2, &r), 2 * MiB + 8 * KiB);
	m = fpt_pt_memory(FPT_L_L4L3_L2L1, &r);
	assert_int_equal(m.nodes_2m, 2);
	assert_int_equal(m.tables_4k, 0);
	assert_int_equal(m.bytes, 4 * MiB);
}

static void test_ptmem_empty(void **state)
{
	struct fpt_regions r;

	(void)state;
	fpt_regions_init(&r);
	assert_int_equal(ptbytes(FPT_L_RADIX, &r), 4 * KiB);
	assert_int_equal(ptbytes(FPT_L_RADIX_2M, &r), 4 * KiB);
	assert_int_equal(ptbytes(FPT_L_L4L3, &r), 2 * MiB);
	assert_int_equal(ptbytes(FPT_L_L3L2, &r), 4 * KiB);
	assert_int_equal(ptbytes(FPT_L_L4L3_L2L1, &r), 2 * MiB);
}

static void test_ptmem_sets(void **state)
{
	struct fpt_regions r;

	(void)state;
	/* two pages in different 2M regions of one 1G region */
	fpt_regions_init(&r);
	assert_int_equal(fpt_regions_add(&r, VPN(BASE), 1), 0);
	assert_int_equal(fpt_regions_add(&r, VPN(BASE + 2 * MiB), 1), 0);
	assert_int_equal(r.r2m, 2);
	assert_int_equal(r.r1g, 1);
	assert_int_equal(ptbytes(FPT_L_RADIX, &r), 5 * 4 * KiB);
	assert_int_equal(ptbytes(FPT_L_L4L3_L2L1, &r), 4 * MiB);

	/* 2 pages straddling a 1G boundary: 2 L1, 2 L2, 1 L3 */
	fpt_regions_init(&r);
	assert_int_equal(fpt_regions_add(&r, VPN(BASE + GiB - 4 * KiB), 2), 0);
	assert_int_equal(r.r2m, 2);
	assert_int_equal(r.r1g, 2);
	assert_int_equal(r.r512g, 1);
	assert_int_equal(ptbytes(FPT_L_RADIX, &r), 6 * 4 * KiB);
	assert_int_equal(ptbytes(FPT_L_RADIX_2M, &r), 4 * 4 * KiB);
	assert_int_equal(ptbytes(FPT_L_L4L3, &r), 2 * MiB + 4 * 4 * KiB);
	assert_int_equal(ptbytes(FPT_L_L3L2, &r), 2 * MiB + 3 * 4 * KiB);
	assert_int_equal(ptbytes(FPT_L_L4L3_L2L1, &r), 6 * MiB);

	/* pages in two 512G regions: L3L2 needs two 2M nodes */
	fpt_regions_init(&r);
	assert_int_equal(fpt_regions_add(&r, VPN(0x1000), 1), 0);
	assert_int_equal(fpt_regions_add(&r, VPN(BASE), 1), 0);
	assert_int_equal(r.r512g, 2);
	assert_int_equal(ptbytes(FPT_L_RADIX, &r), 7 * 4 * KiB);
	assert_int_equal(ptbytes(FPT_L_L3L2, &r), 4 * MiB + 3 * 4 * KiB);

	/* a whole aligned 1 GiB */
	fpt_regions_init(&r);
	assert_int_equal(fpt_regions_add(&r, VPN(BASE), VPN(GiB)), 0);
	assert_int_equal(fpt_pt_memory(FPT_L_RADIX, &r).tables_4k, 515);
	assert_int_equal(fpt_pt_memory(FPT_L_RADIX_2M, &r).tables_4k, 3);
	assert_int_equal(ptbytes(FPT_L_L4L3, &r), 2 * MiB + 513 * 4 * KiB);
	assert_int_equal(ptbytes(FPT_L_L3L2, &r), 2 * MiB + 513 * 4 * KiB);
	assert_int_equal(ptbytes(FPT_L_L4L3_L2L1, &r), 4 * MiB);
	assert_int_equal(r.r64k, 16384);
	assert_int_equal(r.r16k, 65536);
}

static void test_regions_add(void **state)
{
	struct fpt_regions r;

	(void)state;
	fpt_regions_init(&r);
	/* adjacent ranges share their regions */
	assert_int_equal(fpt_regions_add(&r, VPN(BASE), 3), 0);
	assert_int_equal(fpt_regions_add(&r, VPN(BASE) + 3, 3), 0);
	assert_int_equal(r.pages, 6);
	assert_int_equal(r.r16k, 2);
	assert_int_equal(r.r64k, 1);
	assert_int_equal(r.r2m, 1);
	/* out of order, overlapping, empty, beyond 2^47: rejected */
	assert_int_equal(fpt_regions_add(&r, VPN(BASE) + 5, 1), -1);
	assert_int_equal(fpt_regions_add(&r, VPN(BASE) + 10, 0), -1);
	assert_int_equal(fpt_regions_add(&r, VPN(FPT_VA_LIMIT), 1), -1);
	assert_int_equal(fpt_regions_add(&r, VPN(FPT_VA_LIMIT) - 1, 2), -1);
	assert_int_equal(fpt_regions_add(&r, VPN(FPT_VA_LIMIT) - 1, 1), 0);
	assert_int_equal(r.r512g, 2);
}

/* ---- miss-rate model ---------------------------------------------------------- */

static void test_miss_uniform(void **state)
{
	struct fpt_synth in = { .ws = 12 * MiB, .base = BASE,
				.pattern = FPT_UNIFORM, .l1 = 64, .l2 = 1536 };
	struct fpt_report r;
	const char *err;

	(void)state;
	assert_true(fpt_miss_uniform(6.0 * MiB, 12.0 * MiB) == 0.5);
	assert_true(fpt_miss_uniform(6.0 * MiB, 6.0 * MiB) == 0);
	assert_true(fpt_miss_uniform(3.0 * GiB, 1.0 * GiB) == 0);
	assert_true(fpt_miss_uniform(1, 0) == 0);

	assert_int_equal(fpt_synth_report(&in, &r, &err), 0);
	assert_true(r.rows[FPT_PS_4K].walk_rate == 0.5);
	assert_close(r.rows[FPT_PS_4K].l1_miss, 1.0 - 1.0 / 48, 1e-15);
	assert_true(r.rows[FPT_PS_64K].walk_rate == 0);
	assert_true(r.rows[FPT_PS_2M].walk_rate == 0);
	/* walk cost = walk rate x refs, only for matching leaves */
	assert_true(r.layouts[FPT_L_RADIX].refs_per_access[FPT_PS_4K] == 2.0);
	assert_true(r.layouts[FPT_L_L4L3].refs_per_access[FPT_PS_4K] == 1.5);
	assert_true(r.layouts[FPT_L_L4L3_L2L1].refs_per_access[FPT_PS_4K] == 1.0);
	assert_true(r.layouts[FPT_L_RADIX].refs_per_access[FPT_PS_64K] == 0);
	assert_true(r.layouts[FPT_L_RADIX].refs_per_access[FPT_PS_2M] < 0);
	assert_true(r.layouts[FPT_L_RADIX_2M].refs_per_access[FPT_PS_4K] < 0);
	assert_true(r.layouts[FPT_L_RADIX_2M].refs_per_access[FPT_PS_2M] == 0);

	/* 6 GiB with 2M pages: half of it beyond the 3 GiB reach */
	in.ws = 6 * GiB;
	assert_int_equal(fpt_synth_report(&in, &r, &err), 0);
	assert_true(r.rows[FPT_PS_2M].walk_rate == 0.5);
	assert_true(r.layouts[FPT_L_RADIX_2M].refs_per_access[FPT_PS_2M] == 1.5);
}

static void test_miss_sequential(void **state)
{
	struct fpt_synth in = { .ws = 12 * MiB, .base = BASE,
				.pattern = FPT_SEQUENTIAL, .stride = 64,
				.l1 = 64, .l2 = 1536 };
	struct fpt_report r;
	const char *err;

	(void)state;
	assert_int_equal(fpt_synth_report(&in, &r, &err), 0);
	/* 3072 4K pages > 1536: one miss per page = 64/4096 per access */
	assert_true(r.rows[FPT_PS_4K].walk_rate == 1.0 / 64);
	assert_true(r.rows[FPT_PS_4K].l1_miss == 1.0 / 64);
	/* 192 64K runs fit the L2 but not the L1 (64) */
	assert_true(r.rows[FPT_PS_64K].walk_rate == 0);
	assert_true(r.rows[FPT_PS_64K].l1_miss == 1.0 / 1024);
	assert_true(r.rows[FPT_PS_2M].l1_miss == 0);
	/* a stride beyond the page: every access misses */
	assert_true(fpt_miss_sequential(3072, 1536, 12.0 * MiB, 8192) == 1);
	assert_true(fpt_miss_sequential(1536, 1536, 6.0 * MiB, 64) == 0);
	in.stride = 0;
	assert_int_equal(fpt_synth_report(&in, &r, &err), -1);
}

static void test_miss_zipf(void **state)
{
	struct fpt_synth in = { .ws = 16 * KiB, .base = BASE,
				.pattern = FPT_ZIPF, .zipf_s = 1.0,
				.l1 = 1, .l2 = 1 };
	struct fpt_report r;
	const char *err;
	double direct = 0;
	uint64_t k, n = 1ULL << 21;

	(void)state;
	/* H(4) = 25/12; the hottest page gets 12/25 of the accesses */
	assert_close(fpt_zipf_h(4, 1.0), 25.0 / 12, 1e-15);
	assert_close(fpt_miss_zipf(4, 1, 1.0), 13.0 / 25, 1e-15);
	assert_close(fpt_miss_zipf(4, 2, 2.0), 1.0 - 1.25 / (1.25 + 1.0 / 9 + 1.0 / 16),
		     1e-15);
	assert_true(fpt_miss_zipf(4, 4, 1.0) == 0);
	assert_true(fpt_miss_zipf(4, 100, 1.0) == 0);
	assert_close(fpt_miss_zipf(1000, 250, 0.0), 0.75, 1e-15);

	/* 4 pages, 1 entry: a 4K entry holds rank 1, a 16K one all four */
	assert_int_equal(fpt_synth_report(&in, &r, &err), 0);
	assert_close(r.rows[FPT_PS_4K].walk_rate, 0.52, 1e-15);
	assert_true(r.rows[FPT_PS_16K].walk_rate == 0);

	/* beyond 2^20 terms the sum switches to Euler-Maclaurin */
	for (k = n; k >= 1; k--)
		direct += 1.0 / (double)k;
	assert_close(fpt_zipf_h(n, 1.0), direct, 1e-12);
	direct = 0;
	for (k = n; k >= 1; k--)
		direct += pow((double)k, -0.8);
	assert_close(fpt_zipf_h(n, 0.8) / direct, 1.0, 1e-13);
	assert_close(fpt_miss_zipf(n, n / 2, 1.0),
		     1.0 - fpt_zipf_h(n / 2, 1.0) / fpt_zipf_h(n, 1.0), 1e-13);
}

static void test_synth_invalid(void **state)
{
	struct fpt_synth in = { .ws = 0, .base = BASE, .pattern = FPT_UNIFORM,
				.l1 = 64, .l2 = 1536 };
	struct fpt_report r;
	const char *err = NULL;

	(void)state;
	assert_int_equal(fpt_synth_report(&in, &r, &err), -1);
	assert_non_null(err);
	in.ws = 2 * 1024 * GiB;		/* 127 TiB + 2 TiB > 2^47 */
	assert_int_equal(fpt_synth_report(&in, &r, &err), -1);
	in.ws = GiB;
	in.base = BASE + 1;
	assert_int_equal(fpt_synth_report(&in, &r, &err), -1);
	in.base = BASE;
	in.l2 = 0;
	assert_int_equal(fpt_synth_report(&in, &r, &err), -1);
}

/* ---- pagemap analysis on synthetic PFN arrays ------------------------------------ */

static uint64_t pe(uint64_t pfn)
{
	/* present, with soft-dirty (55) and exclusive (56) set: not PFN bits */
	return FPT_PM_PRESENT | (1ULL << 55) | (1ULL << 56) | pfn;
}

/* n pages from vpn, pfns from pfn (contiguous) */
static void feed(struct fpt_pm *pm, uint64_t vpn, uint64_t pfn, uint64_t n)
{
	uint64_t i;

	for (i = 0; i < n; i++)
		assert_int_equal(fpt_pm_add_entry(pm, vpn + i, pe(pfn + i)), 0);
}

static const struct fpt_tlbrow *row(const struct fpt_report *r,
				    const char *name)
{
	size_t i;

	for (i = 0; i < r->nrows; i++)
		if (!strcmp(r->rows[i].name, name))
			return &r->rows[i];
	fail_msg("no row %s", name);
	return NULL;
}

static void test_pm_runs64(void **state)
{
	struct fpt_pm pm;

	(void)state;
	/* one aligned, contiguous 64K run */
	fpt_pm_init(&pm);
	feed(&pm, VPN(BASE), 0x12340, 16);
	assert_int_equal(pm.present, 16);
	assert_int_equal(pm.runs64k, 1);
	assert_int_equal(pm.runs16k, 4);
	assert_int_equal(pm.runs2m, 0);

	/* physically contiguous but PFN only 16K aligned */
	fpt_pm_init(&pm);
	feed(&pm, VPN(BASE), 0x12344, 16);
	assert_int_equal(pm.runs64k, 0);
	assert_int_equal(pm.runs16k, 4);

	/* virtually misaligned by one page */
	fpt_pm_init(&pm);
	feed(&pm, VPN(BASE) + 1, 0x12341, 16);
	assert_int_equal(pm.runs64k, 0);
	assert_int_equal(pm.runs16k, 3);

	/* a hole (page 5 not present) */
	fpt_pm_init(&pm);
	feed(&pm, VPN(BASE), 0x12340, 5);
	assert_int_equal(fpt_pm_add_entry(&pm, VPN(BASE) + 5, 0), 0);
	feed(&pm, VPN(BASE) + 6, 0x12346, 10);
	assert_int_equal(pm.present, 15);
	assert_int_equal(pm.runs64k, 0);
	assert_int_equal(pm.runs16k, 3);

	/* a physical discontinuity in the middle */
	fpt_pm_init(&pm);
	feed(&pm, VPN(BASE), 0x12340, 8);
	feed(&pm, VPN(BASE) + 8, 0x99948, 8);
	assert_int_equal(pm.runs64k, 0);
	assert_int_equal(pm.runs16k, 4);

	/* entries must come in increasing order */
	assert_int_equal(fpt_pm_add_entry(&pm, VPN(BASE), pe(1)), -1);
}

static void test_pm_report(void **state)
{
	struct fpt_procin in = { .pattern = FPT_UNIFORM, .l1 = 64, .l2 = 1536 };
	static struct fpt_pm pm;
	struct fpt_report r;
	const char *err;

	(void)state;
	/* a 2M run, then a 64K run, then 3 scattered pages */
	fpt_pm_init(&pm);
	assert_int_equal(fpt_pm_add_vma(&pm, BASE, BASE + 4 * MiB), 0);
	feed(&pm, VPN(BASE), 0x40000, 512);
	feed(&pm, VPN(BASE + 2 * MiB), 0x50010, 16);
	feed(&pm, VPN(BASE + 3 * MiB), 0x7, 1);
	feed(&pm, VPN(BASE + 3 * MiB) + 2, 0x70, 1);
	feed(&pm, VPN(BASE + 3 * MiB) + 17, 0x81, 1);
	assert_int_equal(pm.present, 531);
	assert_int_equal(pm.runs2m, 1);
	assert_int_equal(pm.runs64k, 33);
	assert_int_equal(pm.runs16k, 132);
	assert_true(fpt_pm_pfns_known(&pm));

	assert_int_equal(fpt_process_report(&pm, &in, &r, &err), 0);
	assert_int_equal(r.nrows, 8);
	assert_int_equal(r.ws, 531 * 4 * KiB);
	assert_int_equal(row(&r, "4k")->entries, 531);
	assert_int_equal(row(&r, "16k")->entries, 531 - 3 * 132);
	assert_int_equal(row(&r, "64k")->entries, 531 - 15 * 33);
	assert_int_equal(row(&r, "2m")->entries, 531 - 511);
	assert_int_equal(row(&r, "64k+2m")->entries, 1 + 1 + 3);
	/* ideal: every 16K / 64K / 2M region with a present page */
	assert_int_equal(row(&r, "16k-ideal")->entries, 128 + 4 + 2);
	assert_int_equal(row(&r, "64k-ideal")->entries, 32 + 1 + 2);
	assert_int_equal(row(&r, "2m-ideal")->entries, 2);
	assert_true(row(&r, "2m-ideal")->leaf_2m);
	assert_true(row(&r, "64k+2m")->mixed);
	assert_int_equal(row(&r, "64k+2m")->benefit.den, 0);	/* undefined */
	assert_int_equal(row(&r, "64k")->benefit.num, 15);
	/* all fit: no walks */
	assert_true(row(&r, "4k")->walk_rate == 0);
	/* 531 entries vs 64 L1 entries: miss = 1 - 64/531 */
	assert_close(row(&r, "4k")->l1_miss, 1.0 - 64.0 / 531, 1e-15);
	assert_close(row(&r, "64k")->l1_miss, 0, 1e-15);

	/* page tables: 2 L1 tables for the pages, 2 for the whole VMA */
	assert_int_equal(r.layouts[FPT_L_RADIX].pt.bytes, 5 * 4 * KiB);
	assert_int_equal(r.layouts[FPT_L_RADIX].pt_mapped.bytes, 5 * 4 * KiB);
	assert_int_equal(r.layouts[FPT_L_L4L3_L2L1].pt.bytes, 4 * MiB);
}

static void test_pm_walks(void **state)
{
	struct fpt_procin in = { .pattern = FPT_UNIFORM, .l1 = 64, .l2 = 1536 };
	static struct fpt_pm pm;
	struct fpt_report r;
	const char *err;
	uint64_t i;

	(void)state;
	/* 3072 pages, physically scattered (odd PFNs, reversed) */
	fpt_pm_init(&pm);
	assert_int_equal(fpt_pm_add_vma(&pm, BASE, BASE + 12 * MiB), 0);
	for (i = 0; i < 3072; i++)
		assert_int_equal(fpt_pm_add_entry(&pm, VPN(BASE) + i,
						  pe(2 * (5000 - i) + 1)), 0);
	assert_int_equal(pm.runs16k, 0);
	assert_int_equal(fpt_process_report(&pm, &in, &r, &err), 0);
	assert_true(row(&r, "4k")->walk_rate == 0.5);
	assert_true(row(&r, "64k")->walk_rate == 0.5);
	assert_true(row(&r, "64k-ideal")->walk_rate == 0);
	assert_true(row(&r, "4k")->l2_reach == (double)(6 * MiB));
	assert_true(r.layouts[FPT_L_RADIX].refs_per_access[0] == 2.0);

	in.pattern = FPT_SEQUENTIAL;
	in.stride = 64;
	assert_int_equal(fpt_process_report(&pm, &in, &r, &err), 0);
	assert_true(row(&r, "4k")->walk_rate == 1.0 / 64);
	in.pattern = FPT_ZIPF;
	assert_int_equal(fpt_process_report(&pm, &in, &r, &err), -1);
}

static void test_pm_no_pfns(void **state)
{
	struct fpt_procin in = { .pattern = FPT_UNIFORM, .l1 = 64, .l2 = 1536 };
	static struct fpt_pm pm;
	struct fpt_report r;
	const char *err;
	uint64_t i;

	(void)state;
	/* unprivileged: present bit set, PFN zero; plus swapped pages */
	fpt_pm_init(&pm);
	assert_int_equal(fpt_pm_add_vma(&pm, BASE, BASE + GiB), 0);
	for (i = 0; i < 32; i++)
		assert_int_equal(fpt_pm_add_entry(&pm, VPN(BASE) + i,
						  FPT_PM_PRESENT), 0);
	assert_int_equal(fpt_pm_add_entry(&pm, VPN(BASE + 4 * MiB),
					  FPT_PM_SWAP | 0x1234), 0);
	assert_int_equal(pm.present, 32);
	assert_int_equal(pm.swapped, 1);
	assert_false(fpt_pm_pfns_known(&pm));
	assert_int_equal(pm.runs16k + pm.runs64k + pm.runs2m, 0);
	assert_int_equal(fpt_process_report(&pm, &in, &r, &err), 0);
	assert_int_equal(r.nrows, 4);
	assert_string_equal(r.rows[0].name, "4k");
	assert_int_equal(row(&r, "64k-ideal")->entries, 2);
	assert_int_equal(row(&r, "2m-ideal")->entries, 1);
	/* the swapped page keeps its PTE table: 2 L1 tables */
	assert_int_equal(r.layouts[FPT_L_RADIX].pt.tables_4k, 1 + 1 + 1 + 2);
	/* the whole 1 GiB VMA, if populated, needs 512 L1 tables */
	assert_int_equal(r.layouts[FPT_L_RADIX].pt_mapped.tables_4k, 515);
	assert_int_equal(r.layouts[FPT_L_L4L3_L2L1].pt_mapped.bytes, 4 * MiB);
}

static void test_pm_2m_run(void **state)
{
	static struct fpt_pm pm;

	(void)state;
	fpt_pm_init(&pm);
	feed(&pm, VPN(BASE), 0x80000, 512);
	assert_int_equal(pm.runs2m, 1);
	assert_int_equal(pm.runs64k, 32);
	/* the same, PFNs only 64K aligned: no 2M run, 32 64K runs */
	fpt_pm_init(&pm);
	feed(&pm, VPN(BASE), 0x80010, 512);
	assert_int_equal(pm.runs2m, 0);
	assert_int_equal(pm.runs64k, 32);
}

/* ---- helpers ----------------------------------------------------------------------- */

/* ---- CPU presets ---------------------------------------------------------- */

static bool has_row(const struct fpt_report *r, const char *name)
{
	size_t i;

	for (i = 0; i < r->nrows; i++)
		if (!strcmp(r->rows[i].name, name))
			return true;
	return false;
}

static void test_cpu_presets(void **state)
{
	const struct fpt_cpu *c;
	size_t i, j;

	(void)state;
	c = fpt_cpu_find("generic");
	assert_non_null(c);
	assert_int_equal(c->l1, FPT_DEFAULT_L1);
	assert_int_equal(c->l2, FPT_DEFAULT_L2);
	assert_true(c->coalesce16k);
	/* Cortex-A76 TRM A5.2: 48-entry L1 data TLB, 1280-entry L2 TLB */
	c = fpt_cpu_find("neoverse-n1");
	assert_non_null(c);
	assert_int_equal(c->l1, 48);
	assert_int_equal(c->l2, 1280);
	assert_false(c->coalesce16k);
	c = fpt_cpu_find("neoverse-v1");
	assert_non_null(c);
	assert_int_equal(c->l1, 48);
	assert_int_equal(c->l2, 2048);
	assert_false(c->coalesce16k);
	assert_null(fpt_cpu_find("neoverse"));
	assert_null(fpt_cpu_find(""));
	for (i = 0; i < FPT_NCPUS; i++) {
		assert_true(fpt_cpus[i].l1 <= fpt_cpus[i].l2);
		assert_non_null(fpt_cpus[i].source);
		for (j = i + 1; j < FPT_NCPUS; j++)
			assert_string_not_equal(fpt_cpus[i].name,
						fpt_cpus[j].name);
	}
}

/* arm64 contpte on a Neoverse N1: 64 KiB = one entry, no 16 KiB rows */
static void test_synth_contpte(void **state)
{
	const struct fpt_cpu *n1 = fpt_cpu_find("neoverse-n1");
	struct fpt_synth in = {
		.ws = 256 * MiB, .base = BASE, .pattern = FPT_UNIFORM,
		.l1 = n1->l1, .l2 = n1->l2, .no16k = !n1->coalesce16k,
	};
	struct fpt_report r;
	const char *err;

	(void)state;
	assert_int_equal(fpt_synth_report(&in, &r, &err), 0);
	assert_int_equal(r.nrows, 3);
	assert_string_equal(r.rows[0].name, "4k");
	assert_string_equal(r.rows[1].name, "64k");
	assert_string_equal(r.rows[2].name, "2m");
	assert_false(has_row(&r, "16k"));
	/* 1280 x 64 KiB = 80 MiB reach of 256 MiB: walk rate 1 - 80/256 */
	assert_int_equal((uint64_t)r.rows[1].l2_reach, 80 * MiB);
	assert_int_equal((uint64_t)r.rows[1].l1_reach, 3 * MiB);
	assert_true(r.rows[1].walk_rate == 1.0 - 80.0 / 256);
	/* 4 KiB: 5 MiB of 256 MiB */
	assert_true(r.rows[0].walk_rate == 1.0 - 5.0 / 256);
	assert_true(r.rows[2].walk_rate == 0);	/* 2.5 GiB reach */
	/* walk refs pair the radix layout with the 64k row (index 1) */
	assert_true(r.layouts[FPT_L_RADIX].refs_per_access[1] ==
		    4 * (1.0 - 80.0 / 256));
	assert_true(r.layouts[FPT_L_RADIX].refs_per_access[2] < 0);
	assert_true(r.layouts[FPT_L_RADIX_2M].refs_per_access[2] == 0);

	in.no16k = false;		/* generic rows for comparison */
	assert_int_equal(fpt_synth_report(&in, &r, &err), 0);
	assert_int_equal(r.nrows, 4);
	assert_true(has_row(&r, "16k"));
}

static void test_pm_report_contpte(void **state)
{
	struct fpt_procin in = { .pattern = FPT_UNIFORM, .l1 = 48, .l2 = 1280,
				 .no16k = true };
	static struct fpt_pm pm;
	struct fpt_report r;
	const char *err;

	(void)state;
	/* 64 x 64K runs and 16 scattered pages */
	fpt_pm_init(&pm);
	assert_int_equal(fpt_pm_add_vma(&pm, BASE, BASE + 8 * MiB), 0);
	feed(&pm, VPN(BASE), 0x40000, 64 * 16);
	for (int k = 0; k < 16; k++)
		feed(&pm, VPN(BASE + 4 * MiB) + 2 * k, 0x9001 + 7 * k, 1);
	assert_int_equal(pm.runs64k, 64);
	assert_int_equal(fpt_process_report(&pm, &in, &r, &err), 0);
	assert_int_equal(r.nrows, 6);
	assert_false(has_row(&r, "16k"));
	assert_false(has_row(&r, "16k-ideal"));
	assert_int_equal(row(&r, "4k")->entries, 64 * 16 + 16);
	assert_int_equal(row(&r, "64k")->entries, 64 + 16);
	assert_int_equal(row(&r, "64k-ideal")->entries, 64 + 2);
	/* 80 entries vs 48 L1 entries: 1 - 48/80 */
	assert_close(row(&r, "64k")->l1_miss, 1.0 - 48.0 / 80, 1e-15);
	assert_true(row(&r, "64k")->walk_rate == 0);
}

static void test_parse_size(void **state)
{
	uint64_t v;

	(void)state;
	assert_int_equal(fpt_parse_size("4096", &v), 0);
	assert_int_equal(v, 4096);
	assert_int_equal(fpt_parse_size("64K", &v), 0);
	assert_int_equal(v, 64 * KiB);
	assert_int_equal(fpt_parse_size("6M", &v), 0);
	assert_int_equal(v, 6 * MiB);
	assert_int_equal(fpt_parse_size("256MiB", &v), 0);
	assert_int_equal(v, 256 * MiB);
	assert_int_equal(fpt_parse_size("3GB", &v), 0);
	assert_int_equal(v, 3 * GiB);
	assert_int_equal(fpt_parse_size("1.5g", &v), 0);
	assert_int_equal(v, 3 * GiB / 2);
	assert_int_equal(fpt_parse_size("", &v), -1);
	assert_int_equal(fpt_parse_size("-1", &v), -1);
	assert_int_equal(fpt_parse_size("12Q", &v), -1);
	assert_int_equal(fpt_parse_size("M", &v), -1);
	assert_int_equal(fpt_parse_size("9000P", &v), -1);
}

static void test_parse_maps(void **state)
{
	uint64_t s, e;
	const char *path;
	char perms[5];

	(void)state;
	assert_int_equal(fpt_parse_maps_line(
		"7f0123456000-7f0123458000 rw-p 00000000 00:00 0 ",
		&s, &e, perms, &path), 0);
	assert_int_equal(s, 0x7f0123456000ULL);
	assert_int_equal(e, 0x7f0123458000ULL);
	assert_string_equal(perms, "rw-p");
	assert_string_equal(path, "");
	assert_true(fpt_maps_is_anon(path));
	assert_int_equal(fpt_parse_maps_line(
		"55d0c0a00000-55d0c0a21000 rw-p 00000000 00:00 0          [heap]",
		&s, &e, perms, &path), 0);
	assert_string_equal(path, "[heap]");
	assert_true(fpt_maps_is_anon(path));
	assert_int_equal(fpt_parse_maps_line(
		"7f00aa000000-7f00aa028000 r--p 00000000 fe:01 1234   /usr/lib/libc.so.6",
		&s, &e, perms, &path), 0);
	assert_string_equal(path, "/usr/lib/libc.so.6");
	assert_false(fpt_maps_is_anon(path));
	assert_int_equal(fpt_parse_maps_line("garbage", &s, &e, perms, &path), -1);
}

static void test_fmt_bytes(void **state)
{
	char b[32];

	(void)state;
	assert_string_equal(fpt_fmt_bytes(b, sizeof(b), 6.0 * MiB), "6 MiB");
	assert_string_equal(fpt_fmt_bytes(b, sizeof(b), 3.0 * GiB), "3 GiB");
	assert_string_equal(fpt_fmt_bytes(b, sizeof(b), 1.5 * GiB), "1.50 GiB");
	assert_string_equal(fpt_fmt_bytes(b, sizeof(b), 512), "512 B");
	assert_string_equal(fpt_fmt_bytes(b, sizeof(b), 16.0 * KiB), "16 KiB");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reach),
		cmocka_unit_test(test_benefit),
		cmocka_unit_test(test_benefit_in_report),
		cmocka_unit_test(test_walk_refs),
		cmocka_unit_test(test_ptmem_one_page),
		cmocka_unit_test(test_ptmem_empty),
		cmocka_unit_test(test_ptmem_sets),
		cmocka_unit_test(test_regions_add),
		cmocka_unit_test(test_miss_uniform),
		cmocka_unit_test(test_miss_sequential),
		cmocka_unit_test(test_miss_zipf),
		cmocka_unit_test(test_synth_invalid),
		cmocka_unit_test(test_pm_runs64),
		cmocka_unit_test(test_pm_report),
		cmocka_unit_test(test_pm_walks),
		cmocka_unit_test(test_pm_no_pfns),
		cmocka_unit_test(test_pm_2m_run),
		cmocka_unit_test(test_cpu_presets),
		cmocka_unit_test(test_synth_contpte),
		cmocka_unit_test(test_pm_report_contpte),
		cmocka_unit_test(test_parse_size),
		cmocka_unit_test(test_parse_maps),
		cmocka_unit_test(test_fmt_bytes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
