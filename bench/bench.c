// SPDX-License-Identifier: MIT
/* Shared helpers of the fpt benchmark workloads (see bench.h). */
#define _GNU_SOURCE
#include "bench.h"
#include "pagemap.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

const char *bench_prog = "bench";

void bench_die(const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fprintf(stderr, "%s: ", bench_prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(2);
}

static uint64_t arg_u64(const char *opt, const char *s)
{
	unsigned long long v;
	char *end;

	errno = 0;
	v = strtoull(s, &end, 0);
	if (!*s || *s == '-' || errno || *end)
		bench_die("%s: not a number: '%s'", opt, s);
	return v;
}

void bench_init(int argc, char **argv, struct bench_opts *o, const char *help)
{
	enum { O_SIZE = 256, O_MADV, O_OPS, O_PASSES, O_SEED, O_FORKS,
	       O_BLOCK, O_LIVE, O_HELP };
	static const struct option opts[] = {
		{ "size", required_argument, NULL, O_SIZE },
		{ "madvise", no_argument, NULL, O_MADV },
		{ "ops", required_argument, NULL, O_OPS },
		{ "passes", required_argument, NULL, O_PASSES },
		{ "seed", required_argument, NULL, O_SEED },
		{ "forks", required_argument, NULL, O_FORKS },
		{ "block", required_argument, NULL, O_BLOCK },
		{ "live", required_argument, NULL, O_LIVE },
		{ "help", no_argument, NULL, O_HELP },
		{ NULL, 0, NULL, 0 }
	};
	const char *s = strrchr(argv[0], '/');
	int c;

	bench_prog = s ? s + 1 : argv[0];
	setvbuf(stdout, NULL, _IOLBF, 0);
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case O_SIZE: o->size = arg_u64("--size", optarg) * MB; break;
		case O_MADV: o->madvise = true; break;
		case O_OPS: o->ops = arg_u64("--ops", optarg); break;
		case O_PASSES: o->passes = arg_u64("--passes", optarg); break;
		case O_SEED: o->seed = arg_u64("--seed", optarg); break;
		case O_FORKS: o->forks = arg_u64("--forks", optarg); break;
		case O_BLOCK: o->block = arg_u64("--block", optarg) * KB; break;
		case O_LIVE: o->live = arg_u64("--live", optarg); break;
		case 'h':
		case O_HELP:
			printf("usage: %s [--size MB] [--madvise] [--ops N] "
			       "[--passes N] [--seed N] [--forks N] [--block KB] "
			       "[--live N]\n%s", bench_prog, help);
			exit(0);
		default:
			bench_die("unknown option (see --help)");
		}
	}
	if (optind != argc)
		bench_die("unexpected argument '%s'", argv[optind]);
	if (!o->size || o->size % (64 * KB))
		bench_die("--size must be a nonzero number of MB");
	if (!o->seed)
		o->seed = 1;
}

static uint64_t clock_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

uint64_t bench_now_ns(void)
{
	return clock_ns(CLOCK_MONOTONIC);
}

uint64_t bench_cpu_ns(void)
{
	return clock_ns(CLOCK_PROCESS_CPUTIME_ID);
}

long bench_minflt(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_minflt;
}

static long kv_kb(const char *file, const char *key)
{
	FILE *f = fopen(file, "re");
	char line[256];
	size_t kl = strlen(key);
	long v = -1;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, key, kl) && line[kl] == ':') {
			v = strtol(line + kl + 1, NULL, 10);
			break;
		}
	fclose(f);
	return v;
}

long bench_meminfo_kb(const char *key)
{
	return kv_kb("/proc/meminfo", key);
}

long bench_status_kb(const char *key)
{
	return kv_kb("/proc/self/status", key);
}

char *bench_map(size_t len, bool madv)
{
	size_t align = 2 * MB, full = len + align;
	char *p, *a;

	p = mmap(NULL, full, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		bench_die("mmap %zu bytes: %s", full, strerror(errno));
	a = (char *)(((uintptr_t)p + align - 1) & ~(uintptr_t)(align - 1));
	if (a > p)
		munmap(p, (size_t)(a - p));
	if (p + full > a + len)
		munmap(a + len, (size_t)(p + full - (a + len)));
	if (madv && madvise(a, len, MADV_HUGEPAGE))
		bench_die("madvise(MADV_HUGEPAGE): %s", strerror(errno));
	return a;
}

void bench_touch(char *p, size_t len, size_t step)
{
	size_t off;

	for (off = len; off >= step; off -= step)
		*(volatile char *)(p + off - step) = 1;
}

/* AnonHugePages (PMD-mapped THP) of the VMAs overlapping [start, end). */
static long smaps_anon_huge_kb(const void *start, const void *end)
{
	FILE *f = fopen("/proc/self/smaps", "re");
	char line[512];
	bool in = false;
	long sum = 0;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		unsigned long a, b;
		char c;

		if (sscanf(line, "%lx-%lx%c", &a, &b, &c) == 3 && c == ' ') {
			in = a < (uintptr_t)end && b > (uintptr_t)start;
			continue;
		}
		if (in && !strncmp(line, "AnonHugePages:", 14))
			sum += strtol(line + 14, NULL, 10);
	}
	fclose(f);
	return sum;
}

void bench_print_region(const char *pre, const void *p, size_t len)
{
	static uint64_t buf[4096];
	struct fpt_pm_counts c = { 0 };
	uint64_t run_pages;
	int fd, ret;

	fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		bench_die("open /proc/self/pagemap: %s", strerror(errno));
	ret = fpt_pm_scan_range(fd, -1, (uintptr_t)p, (uintptr_t)p + len, buf,
				sizeof(buf) / sizeof(buf[0]), &c);
	close(fd);
	if (ret)
		bench_die("reading pagemap: %s", strerror(-ret));
	if (c.present && !c.pfn_visible)
		bench_die("pagemap shows no PFNs (need CAP_SYS_ADMIN)");
	run_pages = fpt_pm_run_pages(&c);
	printf(" %spresent_kb=%llu %sruns=%llu %swindows=%llu "
	       "%scoverage_pct=%.2f %sanon_huge_kb=%ld %svmrss_kb=%ld",
	       pre, (unsigned long long)(c.present * PAGE / KB),
	       pre, (unsigned long long)c.runs,
	       pre, (unsigned long long)c.windows,
	       pre, c.present ? 100.0 * (double)run_pages / (double)c.present : 0.0,
	       pre, smaps_anon_huge_kb(p, (const char *)p + len),
	       pre, bench_status_kb("VmRSS"));
}
