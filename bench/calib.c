// SPDX-License-Identifier: MIT
/*
 * bench-calib: what the guest's clock counts under `-icount shift=0`.
 * Times with CLOCK_MONOTONIC (bench_now_ns) three loops over a buffer of
 * --size MB (default 1) that was touched first:
 *   loop_ns     a 2-instruction loop (dec; jnz) run n times, n = the
 *               buffer's size in bytes: 2n under icount if one
 *               instruction is one nanosecond
 *   stosb_ns    `rep stosb` over the buffer (n bytes)
 *   stosq_ns    `rep stosq` over the buffer (n / 8 quadwords)
 * and prints them with n.  Under QEMU TCG with -icount shift=0 each
 * iteration of a rep-prefixed string instruction is counted as one
 * executed instruction, so stosb_ns ~ n and stosq_ns ~ n / 8; on hardware
 * both take far less time than a loop of n instructions (fast string
 * microcode writes whole cache lines).  The kernel zeroes pages with
 * `rep stosb` (clear_page_erms) on CPUs with ERMS, so zeroing weighs
 * ~4096 instructions per 4 KB page in the instruction counts.
 * x86-64 only.
 */
#include "bench.h"

#include <stdio.h>
#include <string.h>

int main(int argc, char **argv)
{
	struct bench_opts o = { .size = 1 * MB };
	uint64_t t0, t1, t2, t3, n;
	char *p;

	bench_init(argc, argv, &o,
		   "Calibration: a plain loop, rep stosb and rep stosq of --size MB.\n");
#if defined(__x86_64__)
	p = bench_map(o.size, false);
	memset(p, 1, o.size);
	n = o.size;
	t0 = bench_now_ns();
	{
		uint64_t c = n;

		__asm__ volatile("1: dec %0\n\tjnz 1b" : "+r"(c) : : "cc");
	}
	t1 = bench_now_ns();
	{
		void *d = p;
		uint64_t c = n;

		__asm__ volatile("rep stosb" : "+D"(d), "+c"(c) : "a"(0) : "memory");
	}
	t2 = bench_now_ns();
	{
		void *d = p;
		uint64_t c = n / 8;

		__asm__ volatile("rep stosq" : "+D"(d), "+c"(c) : "a"(0) : "memory");
	}
	t3 = bench_now_ns();
	printf("workload=calib n=%llu loop_ns=%llu stosb_ns=%llu stosq_ns=%llu\n",
	       (unsigned long long)n, (unsigned long long)(t1 - t0),
	       (unsigned long long)(t2 - t1), (unsigned long long)(t3 - t2));
	return 0;
#else
	(void)p; (void)t0; (void)t1; (void)t2; (void)t3; (void)n;
	bench_die("x86-64 only");
#endif
}
