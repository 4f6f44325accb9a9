// SPDX-License-Identifier: MIT
/*
 * bench-gups: random 8-byte read-modify-write updates over a region
 * (TLB reach).  The region is first populated (one write per page, not
 * timed); then --ops updates at xorshift-random 8-byte words are timed.
 * minflt counts the whole run (populate + updates); time_ns the updates.
 */
#include "bench.h"

#include <stdio.h>

int main(int argc, char **argv)
{
	struct bench_opts o = { .size = 256 * MB, .ops = 10000000 };
	uint64_t t0, t1, x, nwords, i, sum = 0;
	volatile uint64_t *w;
	long f0, f1;
	char *p;

	bench_init(argc, argv, &o,
		   "GUPS: --ops random 8-byte updates over a populated region.\n");
	p = bench_map(o.size, o.madvise);
	f0 = bench_minflt();
	bench_touch(p, o.size, PAGE);
	w = (volatile uint64_t *)p;
	nwords = o.size / sizeof(uint64_t);
	x = o.seed * 0x9E3779B97F4A7C15ULL + 1;
	t0 = bench_now_ns();
	for (i = 0; i < o.ops; i++) {
		uint64_t r = xorshift64(&x);

		w[r % nwords] ^= r;
	}
	t1 = bench_now_ns();
	f1 = bench_minflt();
	for (i = 0; i < nwords; i += 4096)
		sum += w[i];
	printf("workload=gups size_mb=%llu ops=%llu time_ns=%llu ns_per_op=%.2f "
	       "minflt=%ld",
	       (unsigned long long)(o.size / MB), (unsigned long long)o.ops,
	       (unsigned long long)(t1 - t0),
	       (double)(t1 - t0) / (double)o.ops, f1 - f0);
	bench_print_region("", p, o.size);
	printf(" checksum=%llu\n", (unsigned long long)(sum & 0xffff));
	return 0;
}
