/* SPDX-License-Identifier: GPL-2.0 */
/*
 * fpt-sim: a closed-form model of address translation.
 *
 * Everything in this header is pure computation (model.c): no I/O, so the
 * unit tests (tests/unit/test_fpt_sim.c) can check the numbers exactly.
 * /proc reading lives in proc.c, the command line and output in main.c.
 *
 * Units: addresses and sizes in bytes, "vpn" = virtual address >> 12,
 * "pfn" = physical address >> 12.  The base page is 4 KiB and the page
 * table is x86-64 / arm64 4-level (48-bit VA, 9 bits per level).
 */
#ifndef FPTSIM_H
#define FPTSIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FPT_PAGE_SHIFT	12
#define FPT_PAGE_SIZE	((uint64_t)1 << FPT_PAGE_SHIFT)
#define FPT_VA_BITS	47			/* user half of a 48-bit VA */
#define FPT_VA_LIMIT	((uint64_t)1 << FPT_VA_BITS)
#define FPT_TABLE_4K	((uint64_t)4096)			/* one radix node: 512 x 8 B */
#define FPT_NODE_2M	((uint64_t)2 << 20)		/* one folded node: 2^18 x 8 B */

#define FPT_DEFAULT_L1	64
#define FPT_DEFAULT_L2	1536

/* ---- CPU presets (--cpu) ---------------------------------------------- */

/*
 * TLB sizes of a CPU and which coalescing it has.  arm64 with the 4 KiB
 * granule has one contiguity hint: PTE_CONT on 16 aligned, contiguous PTEs
 * (64 KiB, "contpte") lets the TLB cache them as one entry; there is no
 * 4 x 4 KiB (16 KiB) coalescing, so its presets drop the 16k rows.
 * Sources: tools/fpt-sim/README.md ("CPU presets").
 */
struct fpt_cpu {
	const char *name;	/* --cpu NAME */
	const char *label;
	uint64_t l1, l2;	/* L1 data TLB, unified L2 TLB entries */
	bool coalesce16k;	/* 16 KiB (4 x 4 KiB) coalescing exists */
	const char *source;	/* document and section of l1/l2 */
};

#define FPT_NCPUS 3
extern const struct fpt_cpu fpt_cpus[FPT_NCPUS];

/* The preset called name, or NULL. */
const struct fpt_cpu *fpt_cpu_find(const char *name);

/* ---- page sizes (one TLB entry each) ---------------------------------- */

enum fpt_ps {
	FPT_PS_4K,	/* one 4 KiB PTE */
	FPT_PS_16K,	/* 4 x 4 KiB coalesced run (AMD PTE coalescing) */
	FPT_PS_64K,	/* 16 x 4 KiB coalesced run (arm64 contpte, AMD) */
	FPT_PS_2M,	/* one 2 MiB leaf (PMD) */
	FPT_NPS
};

struct fpt_pagesize {
	const char *name;	/* stable id: "4k", "16k", "64k", "2m" */
	const char *label;	/* for the table */
	unsigned shift;		/* log2(bytes) */
	bool leaf_2m;		/* needs a 2 MiB leaf in the page table */
};

extern const struct fpt_pagesize fpt_pagesizes[FPT_NPS];

/* TLB reach: entries x bytes per entry. */
uint64_t fpt_reach(uint64_t entries, uint64_t bytes_per_entry);

/*
 * Merging n base pages into one entry divides the entries needed by n: of
 * the largest possible saving (all pages in one entry) it achieves
 * (n - 1) / n, i.e. 1 - 1/n.  Returned as an exact fraction; n = 0
 * (entries of mixed sizes) gives 0/0, "undefined".
 */
struct fpt_frac {
	uint64_t num, den;
};
struct fpt_frac fpt_benefit(uint64_t pages_per_entry);

/* ---- page-table layouts --------------------------------------------- */

enum fpt_layout {
	FPT_L_RADIX,		/* 4-level radix, 4 KiB leaves */
	FPT_L_RADIX_2M,		/* 4-level radix, all leaves 2 MiB (PMD) */
	FPT_L_L4L3,		/* FPT: L4+L3 folded, 4 KiB leaves */
	FPT_L_L3L2,		/* FPT: L3+L2 folded, 4 KiB leaves */
	FPT_L_L4L3_L2L1,	/* FPT: L4+L3 and L2+L1 folded */
	FPT_NLAYOUT
};

struct fpt_layout_desc {
	const char *name;	/* stable id, see README */
	const char *label;
	unsigned refs;		/* memory references per page walk */
	bool leaf_2m;
};

extern const struct fpt_layout_desc fpt_layouts[FPT_NLAYOUT];

unsigned fpt_walk_refs(enum fpt_layout l);

/*
 * The set of distinct aligned regions touched by a set of pages.  Add
 * ranges in increasing address order, not overlapping (adjacent is fine).
 */
struct fpt_regions {
	uint64_t pages;		/* 4 KiB pages */
	uint64_t r16k, r64k;	/* 16 KiB / 64 KiB aligned regions touched */
	uint64_t r2m;		/* 2 MiB regions: one L1 table each */
	uint64_t r1g;		/* 1 GiB regions: one L2 table each */
	uint64_t r512g;		/* 512 GiB regions: one L3 table each */
	uint64_t next_vpn;	/* internal: end of the last range added */
	bool any;
};

void fpt_regions_init(struct fpt_regions *r);
/* Returns 0, or -1 if the range is out of order, empty or beyond 2^47. */
int fpt_regions_add(struct fpt_regions *r, uint64_t vpn, uint64_t npages);

/* Page-table memory of a layout for a set of regions (root included). */
struct fpt_ptmem {
	uint64_t tables_4k;	/* 4 KiB radix nodes */
	uint64_t nodes_2m;	/* 2 MiB folded nodes */
	uint64_t bytes;
};
struct fpt_ptmem fpt_pt_memory(enum fpt_layout l, const struct fpt_regions *r);

/* ---- miss-rate model ------------------------------------------------- */

enum fpt_pattern { FPT_UNIFORM, FPT_SEQUENTIAL, FPT_ZIPF };

/* Uniform random over ws bytes, reach R: max(0, 1 - R / ws). */
double fpt_miss_uniform(double reach, double ws);
/*
 * Sequential sweeps over ws bytes, one access every stride bytes, the ws
 * needing `entries` translations: with LRU a cyclic sweep larger than the
 * TLB misses on every entry it touches, one that fits never misses
 * (steady state): entries > tlb ? min(1, entries * stride / ws) : 0.
 */
double fpt_miss_sequential(uint64_t entries, uint64_t tlb, double ws,
			   double stride);
/* Generalised harmonic number H(n, s) = sum_{k=1..n} k^-s. */
double fpt_zipf_h(uint64_t n, double s);
/*
 * Zipf(s) over n base pages, the hottest `hot` of them in the TLB:
 * 1 - H(min(hot, n), s) / H(n, s).
 */
double fpt_miss_zipf(uint64_t n, uint64_t hot, double s);

/* ---- synthetic working set ------------------------------------------ */

struct fpt_synth {
	uint64_t ws;		/* working-set bytes (> 0) */
	uint64_t base;		/* virtual base address (4 KiB aligned) */
	enum fpt_pattern pattern;
	double zipf_s;
	uint64_t stride;	/* sequential: bytes between accesses */
	uint64_t l1, l2;	/* TLB entries */
	bool no16k;		/* no 16 KiB coalescing: omit the 16k row */
};

/* One row of the TLB table: one page size / coalescing assumption. */
struct fpt_tlbrow {
	const char *name;	/* stable id */
	const char *label;
	bool leaf_2m;		/* compatible with the radix-2m layout only */
	bool mixed;		/* mixed leaves: no layout walk cost given */
	double pages_per_entry;	/* 4 KiB pages per entry (average if mixed) */
	struct fpt_frac benefit;/* 1 - 1/n for the nominal n */
	uint64_t entries;	/* entries needed for the whole working set */
	double bytes_per_entry;	/* ws / entries (synthetic: page size) */
	double l1_reach, l2_reach;
	double l1_miss;		/* accesses missing the L1 TLB */
	double walk_rate;	/* accesses missing both TLBs: one walk each */
};

#define FPT_MAXROWS 8

struct fpt_layoutrow {
	enum fpt_layout layout;
	struct fpt_ptmem pt;		/* for the populated pages */
	struct fpt_ptmem pt_mapped;	/* process: if every VMA page were */
	/* walk_rate x refs for each TLB row with matching leaves, else < 0 */
	double refs_per_access[FPT_MAXROWS];
};

struct fpt_report {
	bool process;
	uint64_t ws;			/* bytes the accesses range over */
	uint64_t l1, l2;
	enum fpt_pattern pattern;
	double zipf_s;
	uint64_t stride;
	size_t nrows;
	struct fpt_tlbrow rows[FPT_MAXROWS];
	struct fpt_layoutrow layouts[FPT_NLAYOUT];
};

/* Returns 0, or -1 (with *err set) for invalid input. */
int fpt_synth_report(const struct fpt_synth *in, struct fpt_report *out,
		     const char **err);

/* ---- process (pagemap) analysis ------------------------------------- */

/* /proc/PID/pagemap entry bits (Documentation/admin-guide/mm/pagemap.rst) */
#define FPT_PM_PRESENT	(1ULL << 63)
#define FPT_PM_SWAP	(1ULL << 62)
#define FPT_PM_FILE	(1ULL << 61)
#define FPT_PM_PFN_MASK	((1ULL << 55) - 1)

struct fpt_runtrk {
	uint64_t next_vpn, next_pfn, count;
	bool active;
};

/*
 * Streaming analysis of a page-table layout: feed VMAs and pagemap
 * entries in increasing address order.
 */
struct fpt_pm {
	uint64_t vmas, mapped_pages;
	uint64_t present, swapped;
	uint64_t pfn_known;	/* present pages with a non-zero PFN */
	/* aligned runs: vpn and pfn both multiples of n, n pages contiguous */
	uint64_t runs16k, runs64k, runs2m;
	struct fpt_regions present_r;	/* present pages */
	struct fpt_regions populated_r;	/* present or swapped: have a PTE */
	struct fpt_regions mapped_r;	/* whole VMAs */
	struct fpt_runtrk trk[3];	/* 16k, 64k, 2m */
	uint64_t last_vpn;
	bool any_page;
};

void fpt_pm_init(struct fpt_pm *pm);
int fpt_pm_add_vma(struct fpt_pm *pm, uint64_t start, uint64_t end);
int fpt_pm_add_entry(struct fpt_pm *pm, uint64_t vpn, uint64_t entry);
bool fpt_pm_pfns_known(const struct fpt_pm *pm);

struct fpt_procin {
	enum fpt_pattern pattern;	/* uniform or sequential */
	uint64_t stride;
	uint64_t l1, l2;
	bool no16k;			/* omit the 16k and 16k-ideal rows */
};

int fpt_process_report(const struct fpt_pm *pm, const struct fpt_procin *in,
		       struct fpt_report *out, const char **err);

/* ---- /proc I/O (proc.c) ------------------------------------------------ */

struct fpt_procinfo {
	char comm[64];
	int64_t vmpte_bytes;	/* /proc/PID/status VmPTE, -1 if unknown */
	uint64_t skipped_vmas;	/* not anonymous (--anon) or above 2^47 */
};

/*
 * Reads /proc/PID/maps and /proc/PID/pagemap into pm ("self" works as
 * pid).  Returns 0, or -1 with a message in err.
 */
int fpt_proc_scan(const char *pid, bool anon_only, struct fpt_pm *pm,
		  struct fpt_procinfo *info, char *err, size_t errlen);

/* ---- helpers ---------------------------------------------------------- */

/* "4096", "64K", "1.5G", "256MiB", "3GB" (binary units).  0 or -1. */
int fpt_parse_size(const char *s, uint64_t *out);
/* "7f0123456000-7f0123457000 rw-p ... [path]": 0 or -1. */
int fpt_parse_maps_line(const char *line, uint64_t *start, uint64_t *end,
			char *perms5, const char **path);
/* Anonymous mapping by its maps path: none, [heap], [stack], [anon:...]. */
bool fpt_maps_is_anon(const char *path);
/* Human units: "6 MiB", "1.50 GiB", "512 B". */
char *fpt_fmt_bytes(char *buf, size_t len, double bytes);
const char *fpt_pattern_name(enum fpt_pattern p);

#endif
