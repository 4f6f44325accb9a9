// SPDX-License-Identifier: MIT
/*
 * bench-seqread: sequential read bandwidth.  The region is populated with
 * a pattern (not timed), then read --passes times, 8 bytes at a time, in
 * address order.  time_ns covers the reads; minflt the whole run.
 */
#include "bench.h"

#include <stdio.h>

int main(int argc, char **argv)
{
	struct bench_opts o = { .size = 256 * MB, .passes = 4 };
	uint64_t t0, t1, i, n, pass, sum = 0;
	const volatile uint64_t *w;
	long f0, f1;
	char *p;

	bench_init(argc, argv, &o,
		   "Sequential read: --passes reads of a populated region.\n");
	p = bench_map(o.size, o.madvise);
	f0 = bench_minflt();
	n = o.size / sizeof(uint64_t);
	for (i = 0; i < n; i += 512)
		((uint64_t *)p)[i] = i * 0x9E3779B97F4A7C15ULL;
	w = (const volatile uint64_t *)p;
	t0 = bench_now_ns();
	for (pass = 0; pass < o.passes; pass++)
		for (i = 0; i < n; i += 4)
			sum += w[i] + w[i + 1] + w[i + 2] + w[i + 3];
	t1 = bench_now_ns();
	f1 = bench_minflt();
	printf("workload=seqread size_mb=%llu passes=%llu time_ns=%llu "
	       "gb_per_s=%.3f minflt=%ld",
	       (unsigned long long)(o.size / MB), (unsigned long long)o.passes,
	       (unsigned long long)(t1 - t0),
	       (double)(o.size * o.passes) / (double)(t1 - t0),
	       f1 - f0);
	bench_print_region("", p, o.size);
	printf(" checksum=%llu\n", (unsigned long long)(sum & 0xffff));
	return 0;
}
