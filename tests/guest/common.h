/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Shared helpers of the fpt in-guest test programs: pagemap/kpageflags
 * scanning, 64 KB run counting, byte patterns, /proc parsing, holding.
 *
 * Exit codes used by every program.
 */
#ifndef FPT_TEST_COMMON_H
#define FPT_TEST_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdbool.h>

#define EXIT_OK		0	/* success */
#define EXIT_FAILED	1	/* a verification failed */
#define EXIT_USAGE	2	/* usage or setup error */
#define EXIT_UNSUPPORTED 77	/* the kernel lacks what the test needs */

#define KB		1024UL
#define MB		(1024UL * 1024UL)
#define WIN_SIZE	(64UL * 1024UL)	/* the 64 KB run */

extern const char *prog;	/* program name for messages */
extern size_t page_size;	/* sysconf(_SC_PAGESIZE) */
extern size_t win_pages;	/* WIN_SIZE / page_size (16) */

/* Call first: sets prog, page_size, win_pages; stdout line buffered. */
void common_init(const char *argv0);

/* Messages to stderr; die_setup() exits EXIT_USAGE. */
void warnx_(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void die_setup(const char *fmt, ...)
	__attribute__((format(printf, 1, 2), noreturn));

/* Parse an unsigned number (0x.. hex ok); false if not a number/overflow. */
bool parse_u64(const char *s, uint64_t *out);
/* Like parse_u64 but dies with a usage error naming the option. */
uint64_t arg_u64(const char *opt, const char *s);

static inline uintptr_t align_up(uintptr_t x, uintptr_t a)
{
	return (x + a - 1) & ~(a - 1);
}

uint64_t now_ns(void);		/* CLOCK_MONOTONIC */
long minflt_now(void);		/* getrusage(RUSAGE_SELF).ru_minflt */

/*
 * mmap an anonymous private RW region of len bytes whose start is aligned
 * to align (mmap len + align, trim both ends).  Dies on failure.
 */
void *mmap_aligned(size_t len, size_t align);

/* ---- pagemap / kpageflags ---- */

#define PM_PRESENT	(1ULL << 63)
#define PM_SWAPPED	(1ULL << 62)
#define PM_PFN_MASK	((1ULL << 55) - 1)

/* Read the pagemap entries of npages pages from addr into out. */
int pagemap_read(const void *addr, size_t npages, uint64_t *out);

/* Summary of a region, from its pagemap entries (and kpageflags). */
struct region_scan {
	size_t pages;		/* pages in the region */
	size_t present;		/* pages present */
	size_t windows;		/* aligned 64 KB windows wholly inside */
	size_t runs;		/* windows: all present, consecutive PFNs,
				   first PFN % 16 == 0 */
	size_t compound;	/* present pages with KPF_COMPOUND_HEAD/TAIL */
	size_t thp;		/* present pages with KPF_THP */
	bool pfn_visible;	/* some present page had a nonzero PFN */
	bool kpageflags_ok;	/* /proc/kpageflags could be read */
};

/*
 * Scan [addr, addr + len) (page aligned).  If pm is not NULL it must hold
 * len / page_size entries and receives the pagemap entries.  want_flags:
 * also read /proc/kpageflags for compound/thp.  Returns 0 or -1 (errno).
 */
int region_scan(const void *addr, size_t len, uint64_t *pm, bool want_flags,
		struct region_scan *rs);

/* runs * win_pages * 100 / pages */
double coverage_pct(const struct region_scan *rs);

/* ---- byte patterns ---- */

/*
 * The pattern: the 8-byte word at logical byte offset off (a multiple of
 * 8) for seed seed.  Every byte depends on the offset and the seed.
 */
uint64_t pattern_word(uint64_t off, uint32_t seed);

/* Fill / verify len bytes at p (8-byte aligned, len % 8 == 0), whose first
 * byte has logical offset off. verify returns the number of bad words. */
void pattern_fill(void *p, size_t len, uint64_t off, uint32_t seed);
size_t pattern_verify(const void *p, size_t len, uint64_t off, uint32_t seed);

/* Number of nonzero 8-byte words in p[0..len). */
size_t count_nonzero_words(const void *p, size_t len);

/*
 * Write-fault the page holding p without changing its contents, so that
 * reading it afterwards sees what the kernel put there and not the shared
 * zero page: MADV_POPULATE_WRITE (5.14+), else an atomic add of 0 to its
 * first word.  (The atomic alone is not enough everywhere: on arm64 an
 * atomic's fault can reach the kernel as a read, which maps the zero page
 * and copies it on the write that follows -- a 4 KB page, never a fresh
 * 64 KB folio.)
 */
void touch_write_keep(void *p);

/* ---- /proc ---- */

/* "Key:   123 kB" from a /proc file such as /proc/self/status or
 * /proc/meminfo; returns the number or -1. */
long proc_kv_kb(const char *file, const char *key);

/* Sum of field ("AnonHugePages") in kB over the VMAs of /proc/self/smaps
 * that overlap [start, end).  -1 if unreadable. */
long smaps_sum_kb(const void *start, const void *end, const char *field);

/* Read a whole small file as a number; -1 on error. */
long long read_file_ll(const char *path);

struct buddy_summary {
	uint64_t free_kb;		/* all free memory in buddyinfo */
	uint64_t free_ge64k_kb;		/* in blocks of order >= 4 */
	uint64_t free_ge64k_nodma_kb;	/* same, zones other than DMA */
	uint64_t nr_ge64k_blocks;	/* number of blocks of order >= 4 */
};
int buddy_read(struct buddy_summary *bs);

/*
 * Find the mount point of cgroup2 (v2) or of the v1 hierarchy with the
 * memory controller, and the root of the hierarchy that mount shows
 * ("/" normally).  0 or -1.
 */
int cgroup_mount(bool v2, char *mnt, size_t mlen, char *root, size_t rlen);

/*
 * Memory-cgroup headroom of this process in kB (the smallest
 * limit - usage over the cgroup and its ancestors, v2 memory.max or v1
 * memory.limit_in_bytes); -1 if unlimited or unknown.
 */
long long memcg_headroom_kb(void);

/* ---- the test-only page-table walker (tests/modules/ptwalk, fpt_ptwalk.ko) ---- */

#define PTWALK_FILE	"/sys/kernel/debug/fpt_ptwalk"

/* Its "total" line: 64 KB windows with a present page, all 16 present,
 * runs (16 contiguous pages from an aligned pfn, PTE-mapped), runs whose
 * 16 PTEs carry PTE_CONT (arm64; 0 elsewhere), windows with 1..15
 * PTE_CONT entries, windows under a PMD mapping. */
struct ptwalk_sum {
	long windows, full, runs, cont, cont_partial, pmd;
};

/*
 * The page tables of this process over [addr, addr + len), as the walker
 * reads them.  0, or -1 with errno (ENOENT: the walker is not loaded).
 */
int ptwalk_self(const void *addr, size_t len, struct ptwalk_sum *s);

/* ---- holding a process alive for a test script ---- */

/*
 * Block SIGTERM/SIGINT (handled) so that none is lost; call before
 * printing READY.
 */
void hold_prepare(void);

/*
 * Wait until stdin reaches EOF (if use_stdin) or SIGTERM/SIGINT arrives.
 * If tick is not NULL it is called every tick_ms milliseconds.  Returns the
 * signal number, or 0 on EOF.
 */
int hold_wait(bool use_stdin, int tick_ms, void (*tick)(void *), void *arg);

#endif
