/* SPDX-License-Identifier: MIT */
/*
 * Shared helpers of the fpt benchmark workloads (the bench-* programs).
 *
 * Every workload prints one line of key=value pairs on stdout, e.g.
 *   workload=touch size_mb=256 time_ns=... minflt=... present_kb=...
 *   runs=... coverage_pct=... thp_kb=... vmrss_kb=...
 * which the guest script (bench/guest-bench.sh) and the host script
 * (bench/host.sh) tag with the configuration and collect.
 *
 * Coverage is measured from /proc/self/pagemap with lib/pagemap.c (the
 * project's one copy of the 64 KB run rule): the share of the region's
 * present pages that lie in aligned, physically contiguous 64 KB runs.
 */
#ifndef FPT_BENCH_H
#define FPT_BENCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define KB	1024UL
#define MB	(1024UL * 1024UL)
#define PAGE	4096UL

struct bench_opts {
	uint64_t size;		/* --size MB: the region */
	bool madvise;		/* --madvise: MADV_HUGEPAGE on the region */
	uint64_t ops;		/* --ops N: random updates (gups) */
	uint64_t passes;	/* --passes N: read passes (seqread) */
	uint64_t seed;		/* --seed N */
	uint64_t forks;		/* --forks N: fork rounds (cow) */
	uint64_t block;		/* --block KB: block size (churn), bytes */
	uint64_t live;		/* --live N: blocks alive at once (churn) */
};

extern const char *bench_prog;

/* Parse the common options (all programs accept all of them; each uses
 * what it needs).  Dies with a usage message on errors. */
void bench_init(int argc, char **argv, struct bench_opts *o,
		const char *help);

void bench_die(const char *fmt, ...)
	__attribute__((format(printf, 1, 2), noreturn));

uint64_t bench_now_ns(void);	/* CLOCK_MONOTONIC */
uint64_t bench_cpu_ns(void);	/* CLOCK_PROCESS_CPUTIME_ID */
long bench_minflt(void);	/* getrusage(RUSAGE_SELF).ru_minflt */
long bench_meminfo_kb(const char *key);	/* "MemFree" etc. or -1 */
long bench_status_kb(const char *key);	/* /proc/self/status "VmRSS" */

/*
 * mmap an anonymous private region of len bytes starting 2 MB aligned
 * (so that every configuration, 2 MB THP included, sees the same
 * alignment), MADV_HUGEPAGE on it if madv.  Dies on failure.
 */
char *bench_map(size_t len, bool madv);

/*
 * Write one byte at p + len - step, p + len - 2 * step, ..., p: from the
 * top down.  Touched from the bottom up, plain 4 KB pages can come out of
 * the page allocator physically ascending and form aligned contiguous
 * 64 KB runs by chance (seen: 91 % of a 64 MB region with fpt.ko loaded
 * and no policy, right after compaction), which would make coverage
 * useless as a check that 64 KB backing worked.
 */
void bench_touch(char *p, size_t len, size_t step);

/*
 * Print " present_kb= runs= windows= coverage_pct= thp_kb= vmrss_kb="
 * for [p, p + len), prefixed by prefix ("" or "child_") to each key.
 */
void bench_print_region(const char *prefix, const void *p, size_t len);

static inline uint64_t xorshift64(uint64_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x;
}

#endif
