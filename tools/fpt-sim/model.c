// SPDX-License-Identifier: GPL-2.0
/*
 * fpt-sim: the model.  Pure computation only; see fptsim.h and README.md.
 */
#include <ctype.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fptsim.h"

const struct fpt_pagesize fpt_pagesizes[FPT_NPS] = {
	[FPT_PS_4K]  = { "4k",  "4 KiB",            12, false },
	[FPT_PS_16K] = { "16k", "16 KiB (4x4K)",    14, false },
	[FPT_PS_64K] = { "64k", "64 KiB (16x4K)",   16, false },
	[FPT_PS_2M]  = { "2m",  "2 MiB",            21, true  },
};

const struct fpt_layout_desc fpt_layouts[FPT_NLAYOUT] = {
	[FPT_L_RADIX]      = { "radix",         "radix 4-level",   4, false },
	[FPT_L_RADIX_2M]   = { "radix-2m",      "radix 2M leaves", 3, true  },
	[FPT_L_L4L3]       = { "fpt-l4l3",      "FPT L4L3",        3, false },
	[FPT_L_L3L2]       = { "fpt-l3l2",      "FPT L3L2",        3, false },
	[FPT_L_L4L3_L2L1]  = { "fpt-l4l3-l2l1", "FPT L4L3+L2L1",   2, false },
};

uint64_t fpt_reach(uint64_t entries, uint64_t bytes_per_entry)
{
	return entries * bytes_per_entry;
}

struct fpt_frac fpt_benefit(uint64_t n)
{
	struct fpt_frac f = { 0, 1 };

	if (n == 0) {		/* not one nominal size: undefined */
		f.den = 0;
	} else if (n > 1) {
		f.num = n - 1;
		f.den = n;
	}
	return f;
}

unsigned fpt_walk_refs(enum fpt_layout l)
{
	return (unsigned)l < FPT_NLAYOUT ? fpt_layouts[l].refs : 0;
}

/* ---- regions and page-table memory -------------------------------------- */

void fpt_regions_init(struct fpt_regions *r)
{
	memset(r, 0, sizeof(*r));
}

int fpt_regions_add(struct fpt_regions *r, uint64_t vpn, uint64_t npages)
{
	/* region sizes in 4 KiB pages, as shifts: 16K 64K 2M 1G 512G */
	static const unsigned shift[5] = { 2, 4, 9, 18, 27 };
	const uint64_t limit = FPT_VA_LIMIT >> FPT_PAGE_SHIFT;
	uint64_t *cnt[5] = { &r->r16k, &r->r64k, &r->r2m, &r->r1g, &r->r512g };
	uint64_t last;
	int i;

	if (!npages || vpn >= limit || npages > limit - vpn)
		return -1;
	if (r->any && vpn < r->next_vpn)
		return -1;
	last = vpn + npages - 1;
	for (i = 0; i < 5; i++) {
		uint64_t first = vpn >> shift[i];
		uint64_t c = (last >> shift[i]) - first + 1;

		/* the first region may be the one the last range ended in */
		if (r->any && ((r->next_vpn - 1) >> shift[i]) == first)
			c--;
		*cnt[i] += c;
	}
	r->pages += npages;
	r->next_vpn = vpn + npages;
	r->any = true;
	return 0;
}

/*
 * The memory model (also in --help and README.md):
 *   radix          root + one 4 KiB table per touched 512G (L3), 1G (L2)
 *                  and 2M (L1) region
 *   radix-2m       root + L3 + L2 tables; every leaf is a 2 MiB entry
 *   fpt-l4l3       one 2 MiB L4L3 root + L2 tables + L1 tables
 *   fpt-l3l2       4 KiB L4 root + one 2 MiB L3L2 node per 512G region
 *                  + L1 tables
 *   fpt-l4l3-l2l1  one 2 MiB L4L3 root + one 2 MiB L2L1 node per 1G region
 * The root always exists, even for an empty set.
 */
struct fpt_ptmem fpt_pt_memory(enum fpt_layout l, const struct fpt_regions *r)
{
	struct fpt_ptmem m = { 0, 0, 0 };

	switch (l) {
	case FPT_L_RADIX:
		m.tables_4k = 1 + r->r512g + r->r1g + r->r2m;
		break;
	case FPT_L_RADIX_2M:
		m.tables_4k = 1 + r->r512g + r->r1g;
		break;
	case FPT_L_L4L3:
		m.nodes_2m = 1;
		m.tables_4k = r->r1g + r->r2m;
		break;
	case FPT_L_L3L2:
		m.tables_4k = 1 + r->r2m;
		m.nodes_2m = r->r512g;
		break;
	case FPT_L_L4L3_L2L1:
		m.nodes_2m = 1 + r->r1g;
		break;
	default:
		break;
	}
	m.bytes = m.tables_4k * FPT_TABLE_4K + m.nodes_2m * FPT_NODE_2M;
	return m;
}

/* ---- miss-rate model ---------------------------------------------------- */

double fpt_miss_uniform(double reach, double ws)
{
	double m;

	if (!(ws > 0))
		return 0;
	m = 1.0 - reach / ws;
	return m > 0 ? m : 0;
}

double fpt_miss_sequential(uint64_t entries, uint64_t tlb, double ws,
			   double stride)
{
	double m;

	if (entries <= tlb || !(ws > 0))
		return 0;
	m = (double)entries * stride / ws;
	return m < 1 ? m : 1;
}

static double zterm(uint64_t k, double s)
{
	if (s == 1.0)
		return 1.0 / (double)k;
	if (s == 0.0)
		return 1.0;
	return pow((double)k, -s);
}

/*
 * sum_{k=a+1..b} k^-s for large a by Euler-Maclaurin:
 *   integral_a^b x^-s dx + (f(b) - f(a))/2 + (f'(b) - f'(a))/12
 * The next term is O(a^(-s-3)), below 1e-18 for a >= 2^20.
 */
static double zsum_em(double a, double b, double s)
{
	double integral, fa = pow(a, -s), fb = pow(b, -s);
	double da = -s * pow(a, -s - 1), db = -s * pow(b, -s - 1);

	if (s == 1.0)
		integral = log(b / a);
	else
		integral = (pow(b, 1 - s) - pow(a, 1 - s)) / (1 - s);
	return integral + (fb - fa) / 2 + (db - da) / 12;
}

/* sum_{k=a..b} k^-s, a >= 1: exact for the first 2^20 terms */
static double zsum(uint64_t a, uint64_t b, double s)
{
	const uint64_t exact = 1ULL << 20;
	uint64_t mid, k;
	double sum = 0;

	if (a > b)
		return 0;
	mid = b - a < exact ? b : a + exact - 1;
	for (k = mid + 1; k-- > a;)	/* small terms first */
		sum += zterm(k, s);
	if (mid < b)
		sum += zsum_em((double)mid, (double)b, s);
	return sum;
}

double fpt_zipf_h(uint64_t n, double s)
{
	return zsum(1, n, s);
}

double fpt_miss_zipf(uint64_t n, uint64_t hot, double s)
{
	if (!n || hot >= n)
		return 0;
	/* the tail is summed directly: no cancellation for tiny rates */
	return zsum(hot + 1, n, s) / zsum(1, n, s);
}

/* ---- CPU presets ---------------------------------------------------------- */

const struct fpt_cpu fpt_cpus[FPT_NCPUS] = {
	{ "generic", "generic (fpt-sim's default)", FPT_DEFAULT_L1,
	  FPT_DEFAULT_L2, true, "fpt-sim default, no particular CPU" },
	{ "neoverse-n1", "Arm Neoverse N1 (Cortex-A76 class), contpte", 48, 1280,
	  false, "Arm Cortex-A76 Core TRM (100798), A5.2 TLB organization" },
	{ "neoverse-v1", "Arm Neoverse V1, contpte", 48, 2048, false,
	  "Arm Neoverse V1 Core TRM (101427), A5.2 TLB organization" },
};

const struct fpt_cpu *fpt_cpu_find(const char *name)
{
	size_t i;

	for (i = 0; i < FPT_NCPUS; i++)
		if (!strcmp(fpt_cpus[i].name, name))
			return &fpt_cpus[i];
	return NULL;
}

/* ---- reports ------------------------------------------------------------ */

static uint64_t sat_mul(uint64_t a, uint64_t b)
{
	if (a && b > UINT64_MAX / a)
		return UINT64_MAX;
	return a * b;
}

static void layouts_fill(struct fpt_report *out)
{
	int l;
	size_t i;

	for (l = 0; l < FPT_NLAYOUT; l++) {
		struct fpt_layoutrow *lr = &out->layouts[l];

		lr->layout = (enum fpt_layout)l;
		for (i = 0; i < FPT_MAXROWS; i++) {
			const struct fpt_tlbrow *row = &out->rows[i];

			lr->refs_per_access[i] = -1;
			if (i < out->nrows && !row->mixed &&
			    row->leaf_2m == fpt_layouts[l].leaf_2m)
				lr->refs_per_access[i] =
					row->walk_rate * fpt_layouts[l].refs;
		}
	}
}

int fpt_synth_report(const struct fpt_synth *in, struct fpt_report *out,
		     const char **err)
{
	struct fpt_regions reg;
	uint64_t npages;
	int p, l;

	memset(out, 0, sizeof(*out));
	if (!in->ws) {
		*err = "working set must be > 0";
		return -1;
	}
	if (in->base & (FPT_PAGE_SIZE - 1)) {
		*err = "base address must be 4 KiB aligned";
		return -1;
	}
	if (in->base >= FPT_VA_LIMIT || in->ws > FPT_VA_LIMIT - in->base) {
		*err = "working set must end below 2^47 (128 TiB)";
		return -1;
	}
	if (!in->l1 || !in->l2) {
		*err = "TLB entry counts must be > 0";
		return -1;
	}
	if (in->l1 > in->l2) {
		*err = "L1 entries must not exceed L2 (the L2 is modelled as covering the L1)";
		return -1;
	}
	if (in->pattern == FPT_SEQUENTIAL && !in->stride) {
		*err = "stride must be > 0";
		return -1;
	}
	if (in->pattern == FPT_ZIPF && !(in->zipf_s >= 0 && isfinite(in->zipf_s))) {
		*err = "zipf exponent must be >= 0";
		return -1;
	}
	out->process = false;
	out->ws = in->ws;
	out->l1 = in->l1;
	out->l2 = in->l2;
	out->pattern = in->pattern;
	out->zipf_s = in->zipf_s;
	out->stride = in->stride;
	npages = (in->ws + FPT_PAGE_SIZE - 1) >> FPT_PAGE_SHIFT;

	for (p = 0; p < FPT_NPS; p++) {
		struct fpt_tlbrow *row;
		uint64_t size = 1ULL << fpt_pagesizes[p].shift;
		uint64_t n = size >> FPT_PAGE_SHIFT;
		double ws = (double)in->ws;

		if (p == FPT_PS_16K && in->no16k)
			continue;
		row = &out->rows[out->nrows++];
		row->name = fpt_pagesizes[p].name;
		row->label = fpt_pagesizes[p].label;
		row->leaf_2m = fpt_pagesizes[p].leaf_2m;
		row->pages_per_entry = (double)n;
		row->benefit = fpt_benefit(n);
		row->entries = (in->ws + size - 1) / size;
		row->bytes_per_entry = (double)size;
		row->l1_reach = (double)fpt_reach(in->l1, size);
		row->l2_reach = (double)fpt_reach(in->l2, size);
		switch (in->pattern) {
		case FPT_UNIFORM:
			row->l1_miss = fpt_miss_uniform(row->l1_reach, ws);
			row->walk_rate = fpt_miss_uniform(row->l2_reach, ws);
			break;
		case FPT_SEQUENTIAL:
			row->l1_miss = fpt_miss_sequential(row->entries, in->l1,
							   ws, (double)in->stride);
			row->walk_rate = fpt_miss_sequential(row->entries, in->l2,
							     ws, (double)in->stride);
			break;
		case FPT_ZIPF:
			row->l1_miss = fpt_miss_zipf(npages, sat_mul(in->l1, n),
						     in->zipf_s);
			row->walk_rate = fpt_miss_zipf(npages, sat_mul(in->l2, n),
						       in->zipf_s);
			break;
		}
	}

	fpt_regions_init(&reg);
	fpt_regions_add(&reg, in->base >> FPT_PAGE_SHIFT, npages);
	for (l = 0; l < FPT_NLAYOUT; l++) {
		out->layouts[l].pt = fpt_pt_memory((enum fpt_layout)l, &reg);
		out->layouts[l].pt_mapped = out->layouts[l].pt;
	}
	layouts_fill(out);
	return 0;
}

/* ---- process analysis --------------------------------------------------- */

static const uint64_t run_pages[3] = { 4, 16, 512 };

void fpt_pm_init(struct fpt_pm *pm)
{
	memset(pm, 0, sizeof(*pm));
	fpt_regions_init(&pm->present_r);
	fpt_regions_init(&pm->populated_r);
	fpt_regions_init(&pm->mapped_r);
}

int fpt_pm_add_vma(struct fpt_pm *pm, uint64_t start, uint64_t end)
{
	if ((start | end) & (FPT_PAGE_SIZE - 1) || start >= end)
		return -1;
	if (fpt_regions_add(&pm->mapped_r, start >> FPT_PAGE_SHIFT,
			    (end - start) >> FPT_PAGE_SHIFT))
		return -1;
	pm->vmas++;
	pm->mapped_pages += (end - start) >> FPT_PAGE_SHIFT;
	return 0;
}

static void track_runs(struct fpt_pm *pm, uint64_t vpn, uint64_t pfn)
{
	uint64_t *runs[3] = { &pm->runs16k, &pm->runs64k, &pm->runs2m };
	int i;

	for (i = 0; i < 3; i++) {
		struct fpt_runtrk *t = &pm->trk[i];
		uint64_t n = run_pages[i];

		if (t->active && pfn && vpn == t->next_vpn &&
		    pfn == t->next_pfn) {
			if (++t->count == n) {
				(*runs[i])++;
				t->active = false;
			} else {
				t->next_vpn++;
				t->next_pfn++;
			}
			continue;
		}
		t->active = false;
		if (pfn && vpn % n == 0 && pfn % n == 0) {
			t->active = true;
			t->count = 1;
			t->next_vpn = vpn + 1;
			t->next_pfn = pfn + 1;
		}
	}
}

int fpt_pm_add_entry(struct fpt_pm *pm, uint64_t vpn, uint64_t entry)
{
	if (vpn >= (FPT_VA_LIMIT >> FPT_PAGE_SHIFT))
		return -1;
	if (pm->any_page && vpn <= pm->last_vpn)
		return -1;
	pm->any_page = true;
	pm->last_vpn = vpn;
	if (entry & FPT_PM_PRESENT) {
		uint64_t pfn = entry & FPT_PM_PFN_MASK;

		pm->present++;
		if (pfn)
			pm->pfn_known++;
		fpt_regions_add(&pm->present_r, vpn, 1);
		fpt_regions_add(&pm->populated_r, vpn, 1);
		track_runs(pm, vpn, pfn);
	} else if (entry & FPT_PM_SWAP) {
		pm->swapped++;
		fpt_regions_add(&pm->populated_r, vpn, 1);
	}
	return 0;
}

bool fpt_pm_pfns_known(const struct fpt_pm *pm)
{
	return pm->pfn_known > 0;
}

static struct fpt_tlbrow *prow(struct fpt_report *out, const char *name,
			       const char *label, uint64_t nominal,
			       uint64_t entries, bool leaf_2m, bool mixed)
{
	struct fpt_tlbrow *row = &out->rows[out->nrows++];

	row->name = name;
	row->label = label;
	row->leaf_2m = leaf_2m;
	row->mixed = mixed;
	row->benefit = fpt_benefit(nominal);
	row->entries = entries;
	return row;
}

int fpt_process_report(const struct fpt_pm *pm, const struct fpt_procin *in,
		       struct fpt_report *out, const char **err)
{
	uint64_t P = pm->present;
	double W = (double)P * FPT_PAGE_SIZE;
	size_t i;
	int l;

	memset(out, 0, sizeof(*out));
	if (!in->l1 || !in->l2) {
		*err = "TLB entry counts must be > 0";
		return -1;
	}
	if (in->l1 > in->l2) {
		*err = "L1 entries must not exceed L2 (the L2 is modelled as covering the L1)";
		return -1;
	}
	if (in->pattern == FPT_ZIPF) {
		*err = "zipf needs page popularity: synthetic input only";
		return -1;
	}
	if (in->pattern == FPT_SEQUENTIAL && !in->stride) {
		*err = "stride must be > 0";
		return -1;
	}
	out->process = true;
	out->ws = P * FPT_PAGE_SIZE;
	out->l1 = in->l1;
	out->l2 = in->l2;
	out->pattern = in->pattern;
	out->stride = in->stride;

	prow(out, "4k", "4 KiB", 1, P, false, false);
	if (fpt_pm_pfns_known(pm)) {
		if (!in->no16k)
			prow(out, "16k", "16 KiB runs (actual)", 4,
			     P - 3 * pm->runs16k, false, false);
		prow(out, "64k", "64 KiB runs (actual)", 16,
		     P - 15 * pm->runs64k, false, false);
		prow(out, "2m", "2 MiB runs (actual)", 512,
		     P - 511 * pm->runs2m, false, true);
		/* a 2M run is 32 64K runs: count those once, as the 2M entry */
		prow(out, "64k+2m", "64K + 2M runs (actual)", 0,
		     pm->runs2m + (pm->runs64k - 32 * pm->runs2m) +
		     (P - 16 * pm->runs64k), false, true);
	}
	if (!in->no16k)
		prow(out, "16k-ideal", "16 KiB (ideal)", 4, pm->present_r.r16k,
		     false, false);
	prow(out, "64k-ideal", "64 KiB (ideal)", 16, pm->present_r.r64k,
	     false, false);
	prow(out, "2m-ideal", "2 MiB (ideal)", 512, pm->present_r.r2m,
	     true, false);

	for (i = 0; i < out->nrows; i++) {
		struct fpt_tlbrow *row = &out->rows[i];
		double E = (double)row->entries;

		row->pages_per_entry = row->entries ? (double)P / E : 0;
		row->bytes_per_entry = row->entries ? W / E : 0;
		row->l1_reach = (double)in->l1 * row->bytes_per_entry;
		row->l2_reach = (double)in->l2 * row->bytes_per_entry;
		if (in->pattern == FPT_UNIFORM) {
			row->l1_miss = fpt_miss_uniform(row->l1_reach, W);
			row->walk_rate = fpt_miss_uniform(row->l2_reach, W);
		} else {
			row->l1_miss = fpt_miss_sequential(row->entries, in->l1,
							   W, (double)in->stride);
			row->walk_rate = fpt_miss_sequential(row->entries, in->l2,
							     W, (double)in->stride);
		}
	}
	for (l = 0; l < FPT_NLAYOUT; l++) {
		out->layouts[l].pt = fpt_pt_memory((enum fpt_layout)l,
						   &pm->populated_r);
		out->layouts[l].pt_mapped = fpt_pt_memory((enum fpt_layout)l,
							  &pm->mapped_r);
	}
	layouts_fill(out);
	return 0;
}

/* ---- helpers ------------------------------------------------------------ */

int fpt_parse_size(const char *s, uint64_t *out)
{
	char *end;
	double v, mult = 1;

	if (!s || !*s || *s == '-' || isspace((unsigned char)*s))
		return -1;
	v = strtod(s, &end);
	if (end == s || !isfinite(v) || v < 0)
		return -1;
	switch (toupper((unsigned char)*end)) {
	case 'K': mult = 0x1p10; end++; break;
	case 'M': mult = 0x1p20; end++; break;
	case 'G': mult = 0x1p30; end++; break;
	case 'T': mult = 0x1p40; end++; break;
	case 'P': mult = 0x1p50; end++; break;
	default: break;
	}
	if (mult > 1 && (*end == 'i' || *end == 'I'))
		end++;
	if (*end == 'B' || *end == 'b')
		end++;
	if (*end)
		return -1;
	v *= mult;
	if (v >= 0x1p63)
		return -1;
	v = floor(v + 0.5);
	*out = (uint64_t)v;
	return 0;
}

int fpt_parse_maps_line(const char *line, uint64_t *start, uint64_t *end,
			char *perms5, const char **path)
{
	int n = -1;

	if (sscanf(line, "%" SCNx64 "-%" SCNx64 " %4s %*s %*s %*s%n",
		   start, end, perms5, &n) != 3 || n < 0)
		return -1;
	line += n;
	while (*line == ' ' || *line == '\t')
		line++;
	*path = line;
	return *start < *end ? 0 : -1;
}

bool fpt_maps_is_anon(const char *path)
{
	return !*path || *path == '\n' || !strncmp(path, "[heap]", 6) ||
	       !strncmp(path, "[stack", 6) || !strncmp(path, "[anon", 5);
}

char *fpt_fmt_bytes(char *buf, size_t len, double bytes)
{
	static const char *unit[] = { "B", "KiB", "MiB", "GiB", "TiB", "PiB" };
	double v = bytes;
	int u = 0;

	while (v >= 1024 && u < 5) {
		v /= 1024;
		u++;
	}
	if (u == 0 || fabs(v - floor(v + 0.5)) < 1e-9 * v)
		snprintf(buf, len, "%.0f %s", v, unit[u]);
	else if (v < 10)
		snprintf(buf, len, "%.2f %s", v, unit[u]);
	else if (v < 100)
		snprintf(buf, len, "%.1f %s", v, unit[u]);
	else
		snprintf(buf, len, "%.0f %s", v, unit[u]);
	return buf;
}

const char *fpt_pattern_name(enum fpt_pattern p)
{
	switch (p) {
	case FPT_UNIFORM: return "uniform";
	case FPT_SEQUENTIAL: return "sequential";
	case FPT_ZIPF: return "zipf";
	}
	return "?";
}
