// SPDX-License-Identifier: MIT
/*
 * bench-touch: first touch of a large anonymous region (fault throughput).
 * Maps --size MB (2 MB aligned), writes one byte per 4 KB page in address
 * order and times that loop.  time_ns and minflt cover the loop only.
 */
#include "bench.h"

#include <stdio.h>

int main(int argc, char **argv)
{
	struct bench_opts o = { .size = 256 * MB };
	uint64_t t0, t1, c0, c1;
	long f0, f1;
	char *p;

	bench_init(argc, argv, &o,
		   "First touch: write one byte per 4 KB page of a fresh region.\n");
	p = bench_map(o.size, o.madvise);
	f0 = bench_minflt();
	c0 = bench_cpu_ns();
	t0 = bench_now_ns();
	bench_touch(p, o.size, PAGE);
	t1 = bench_now_ns();
	c1 = bench_cpu_ns();
	f1 = bench_minflt();
	printf("workload=touch size_mb=%llu time_ns=%llu cpu_ns=%llu minflt=%ld",
	       (unsigned long long)(o.size / MB),
	       (unsigned long long)(t1 - t0), (unsigned long long)(c1 - c0), f1 - f0);
	bench_print_region("", p, o.size);
	printf("\n");
	return 0;
}
