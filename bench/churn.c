// SPDX-License-Identifier: MIT
/*
 * bench-churn: small-mmap churn, malloc/free of --block KB blocks (default
 * 256) until --size MB have been allocated, --live blocks (default 16)
 * alive at once (a ring: allocate one, write one byte per 4 KB page of it,
 * free the oldest).  glibc's mmap threshold is pinned at 128 KB
 * (mallopt(M_MMAP_THRESHOLD), which also stops its dynamic raise), so that
 * every block is its own mmap() and every free() a munmap(): each block
 * costs a VMA set-up, first-touch faults on a region that is not 64 KB
 * aligned as a whole, and a tear-down.  Without the pin, glibc would serve
 * all blocks after the first from its heap and nothing would fault.  (Under
 * ASan, whose allocator does not take mallopt(), it refuses to run.)
 *
 * time_ns/cpu_ns/minflt: the loop (all blocks freed at its end).  Then one
 * more block is allocated and written, and its pages are scanned
 * (present_kb, runs, coverage_pct: the share in aligned contiguous 64 KB
 * runs; at most the windows wholly inside the block, ~3 of 4 for 260 KB).
 */
#define _GNU_SOURCE
#include "bench.h"

#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv)
{
	struct bench_opts o = { .size = 64 * MB, .block = 256 * KB, .live = 16 };
	uint64_t t0, t1, c0, c1, i, n;
	uintptr_t s, e;
	char **ring, *p;
	long f0, f1;

	bench_init(argc, argv, &o,
		   "Small-mmap churn: malloc, write and free --block KB blocks.\n");
	if (o.block < 2 * PAGE || !o.live)
		bench_die("--block must be >= 8 KB and --live >= 1");
	if (!mallopt(M_MMAP_THRESHOLD, 128 * KB))
		bench_die("mallopt(M_MMAP_THRESHOLD) failed");
	ring = calloc(o.live, sizeof(*ring));
	if (!ring)
		bench_die("out of memory");
	n = o.size / o.block;
	f0 = bench_minflt();
	c0 = bench_cpu_ns();
	t0 = bench_now_ns();
	for (i = 0; i < n; i++) {
		char **slot = &ring[i % o.live];

		free(*slot);
		*slot = malloc(o.block);
		if (!*slot)
			bench_die("malloc(%llu) failed", (unsigned long long)o.block);
		bench_touch(*slot, o.block, PAGE);
	}
	for (i = 0; i < o.live; i++) {
		free(ring[i]);
		ring[i] = NULL;
	}
	t1 = bench_now_ns();
	c1 = bench_cpu_ns();
	f1 = bench_minflt();
	printf("workload=churn size_mb=%llu block_kb=%llu live=%llu blocks=%llu "
	       "time_ns=%llu cpu_ns=%llu minflt=%ld",
	       (unsigned long long)(o.size / MB), (unsigned long long)(o.block / KB),
	       (unsigned long long)o.live, (unsigned long long)n,
	       (unsigned long long)(t1 - t0), (unsigned long long)(c1 - c0),
	       f1 - f0);
	/* the backing of one block, as the loop got them */
	p = malloc(o.block);
	if (!p)
		bench_die("malloc failed");
	bench_touch(p, o.block, PAGE);
	s = (uintptr_t)p & ~(uintptr_t)(PAGE - 1);
	e = ((uintptr_t)p + o.block + PAGE - 1) & ~(uintptr_t)(PAGE - 1);
	bench_print_region("", (void *)s, e - s);
	printf("\n");
	free(p);
	free(ring);
	return 0;
}
