// SPDX-License-Identifier: MIT
/*
 * bench-sparse: sparse first touch, one 4 KB page per aligned 64 KB window
 * (the RSS cost of 64 KB backing).  Reports the region's present memory
 * (present_kb, from pagemap), what was touched (touched_kb) and how much
 * free memory the system lost meanwhile (memused_kb = MemFree before -
 * after, which also sees pages that a backend holds without mapping them,
 * e.g. fpt's unfinished reservations, but misses pages that came from the
 * per-CPU free lists) and, when fpt.ko is loaded, the pages its
 * reservations hold unmapped right after the touch (resv_unused_kb, from
 * /sys/kernel/fpt/stats/resv_unused_pages; -1 without the module).
 * time_ns/minflt: the touch loop.
 */
#include "bench.h"

#include <stdio.h>

int main(int argc, char **argv)
{
	struct bench_opts o = { .size = 512 * MB };
	uint64_t t0, t1, c0, c1;
	long f0, f1, m0, m1, ru = -1;
	FILE *fs;
	char *p;

	bench_init(argc, argv, &o,
		   "Sparse touch: one page per 64 KB window of a fresh region.\n");
	p = bench_map(o.size, o.madvise);
	m0 = bench_meminfo_kb("MemFree");
	f0 = bench_minflt();
	c0 = bench_cpu_ns();
	t0 = bench_now_ns();
	bench_touch(p, o.size, 64 * KB);
	t1 = bench_now_ns();
	c1 = bench_cpu_ns();
	f1 = bench_minflt();
	m1 = bench_meminfo_kb("MemFree");
	fs = fopen("/sys/kernel/fpt/stats/resv_unused_pages", "re");
	if (fs) {
		if (fscanf(fs, "%ld", &ru) == 1)
			ru *= (long)(PAGE / KB);
		else
			ru = -1;
		fclose(fs);
	}
	printf("workload=sparse size_mb=%llu time_ns=%llu cpu_ns=%llu minflt=%ld "
	       "touched_kb=%llu memused_kb=%ld resv_unused_kb=%ld",
	       (unsigned long long)(o.size / MB),
	       (unsigned long long)(t1 - t0), (unsigned long long)(c1 - c0), f1 - f0,
	       (unsigned long long)(o.size / (64 * KB) * PAGE / KB), m0 - m1, ru);
	bench_print_region("", p, o.size);
	printf("\n");
	return 0;
}
