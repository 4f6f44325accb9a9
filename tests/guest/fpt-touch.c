// SPDX-License-Identifier: GPL-2.0
/*
 * fpt-touch: map an anonymous private region, touch it, and report from
 * /proc/self/pagemap and /proc/kpageflags how much of it is backed by
 * aligned, physically contiguous 64 KB runs.
 */
#define _GNU_SOURCE
#include "common.h"

#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static void usage(FILE *f)
{
	fprintf(f,
"usage: %s [options]\n"
"Map an anonymous private region, touch it and report how much of it is\n"
"backed by aligned 64 KB runs (16 present pages, consecutive PFNs, first\n"
"PFN %% 16 == 0, virtual start 64 KB aligned).\n"
"\n"
"  --size MB          region size in MB (default 256)\n"
"  --size-kb KB       region size in KB instead (multiple of the page size)\n"
"  --align64k         start the region 64 KB aligned (mmap more and trim)\n"
"  --align2m          start the region 2 MB aligned (mmap more and trim)\n"
"  --madvise          MADV_HUGEPAGE on the region\n"
"  --nohuge           MADV_NOHUGEPAGE on the region\n"
"  --sparse           touch one page per 64 KB instead of every page\n"
"  --order ORDER      seq (default): ascending addresses; reverse:\n"
"                     descending; random: a random permutation (--seed).\n"
"                     With 4 KB pages a sequential (or reverse) toucher\n"
"                     often gets consecutive PFNs from the buddy allocator,\n"
"                     i.e. runs by chance (seen: up to 14%% seq, 4%%\n"
"                     reverse); random makes chance runs ~0, while 64 KB\n"
"                     backing gives runs in any order\n"
"  --shuffle          the same as --order random\n"
"  --verify-zero      write-fault each touched page without changing it,\n"
"                     then check all of it reads zero (nonzero_pages=);\n"
"                     also checks present pages that were not touched\n"
"  --read-first       read every page of the region before the touch: the\n"
"                     touch then writes to the shared zero page, whose\n"
"                     copy-on-write (wp_page_copy()) allocates the pages\n"
"  --fill             write a per-page pattern over each touched page and\n"
"                     verify it after the touch (pattern_errors=)\n"
"  --seed N           seed of --fill and --order random (default 1)\n"
"  --repeat-verify N  verify the --fill pattern N times (default 1); with\n"
"                     --hold also re-verify once a second while holding\n"
"  --dirty MB         first map MB, fill it with 0xA5 and unmap it\n"
"  --hold             after printing the result line print READY and wait\n"
"                     for EOF on stdin or SIGTERM/SIGINT; then re-verify\n"
"                     --fill and print 'after_hold pattern_errors=N'\n"
"  --hold-signal      like --hold but ignore stdin (wait for a signal only;\n"
"                     for shells that give background jobs /dev/null)\n"
"  --counter FILE     read a number from FILE (e.g. /sys/kernel/fpt/stats/runs)\n"
"                     just before and just after the touch loop and report\n"
"                     the difference (counter_delta=; -1 without)\n"
"  --help             this text\n"
"\n"
"Output (one line):\n"
"  size_kb= pages= present= runs= coverage_pct= compound= touch_ns= minflt=\n"
"  rss_kb= vmrss_kb= nonzero_pages= pattern_errors= windows= thp=\n"
"  anon_huge_kb= touched= verify_passes= order= addr= counter_delta=\n"
"  pt_windows= pt_runs= pt_cont= pt_cont_partial= pt_pmd=\n"
"runs: aligned 64 KB windows wholly inside the region that are runs;\n"
"coverage_pct = runs*16*100/pages; windows: such windows possible;\n"
"compound/thp: present pages with KPF_COMPOUND_HEAD|TAIL / KPF_THP;\n"
"rss_kb: present pages of the region; vmrss_kb: VmRSS of the process;\n"
"anon_huge_kb: AnonHugePages (PMD THP) of the region's VMAs in smaps.\n"
"pt_*: the page tables as the test-only walker fpt_ptwalk.ko reads them\n"
"(struct ptwalk_sum in common.h; -1 when it is not loaded).\n"
"Exit: 0 ok, 1 nonzero_pages or pattern_errors, 2 usage/setup error.\n",
		prog);
}

struct touch {
	char *base;
	size_t size;
	size_t step;		/* page_size, or WIN_SIZE with --sparse */
	uint32_t seed;
};

/* Number of touched pages whose pattern is wrong. */
static size_t verify_fill(const struct touch *t)
{
	size_t off, bad = 0;

	for (off = 0; off < t->size; off += t->step)
		if (pattern_verify(t->base + off, page_size, off, t->seed))
			bad++;
	return bad;
}

struct hold_ctx {
	const struct touch *t;
	size_t errors;
};

static void hold_tick(void *arg)
{
	struct hold_ctx *h = arg;

	h->errors += verify_fill(h->t);
}

int main(int argc, char **argv)
{
	enum { O_SIZE = 256, O_SIZE_KB, O_ALIGN, O_MADV, O_NOHUGE, O_SPARSE,
	       O_VZERO, O_FILL, O_SEED, O_REPEAT, O_DIRTY, O_HOLD, O_HOLDSIG,
	       O_ORDER, O_SHUFFLE, O_ALIGN2M, O_COUNTER, O_READ1ST, O_HELP };
	static const struct option opts[] = {
		{ "size", required_argument, NULL, O_SIZE },
		{ "size-kb", required_argument, NULL, O_SIZE_KB },
		{ "align64k", no_argument, NULL, O_ALIGN },
		{ "madvise", no_argument, NULL, O_MADV },
		{ "nohuge", no_argument, NULL, O_NOHUGE },
		{ "sparse", no_argument, NULL, O_SPARSE },
		{ "order", required_argument, NULL, O_ORDER },
		{ "shuffle", no_argument, NULL, O_SHUFFLE },
		{ "align2m", no_argument, NULL, O_ALIGN2M },
		{ "verify-zero", no_argument, NULL, O_VZERO },
		{ "fill", no_argument, NULL, O_FILL },
		{ "seed", required_argument, NULL, O_SEED },
		{ "repeat-verify", required_argument, NULL, O_REPEAT },
		{ "dirty", required_argument, NULL, O_DIRTY },
		{ "hold", no_argument, NULL, O_HOLD },
		{ "hold-signal", no_argument, NULL, O_HOLDSIG },
		{ "counter", required_argument, NULL, O_COUNTER },
		{ "read-first", no_argument, NULL, O_READ1ST },
		{ "help", no_argument, NULL, O_HELP },
		{ NULL, 0, NULL, 0 }
	};
	uint64_t size = 256 * MB, dirty = 0, repeat = 1, seed = 1;
	size_t align = 0;
	bool madv = false, nohuge = false, sparse = false;
	bool vzero = false, fill = false, hold = false, hold_stdin = true;
	bool read_first = false;
	enum { ORDER_SEQ, ORDER_REVERSE, ORDER_RANDOM } order = ORDER_SEQ;
	size_t ntouch, k, *perm = NULL;
	const char *counter = NULL;
	long long cnt0 = 0, cnt1 = 0;
	struct touch t;
	struct region_scan rs;
	struct ptwalk_sum pw;
	uint64_t *pm, t0, t1;
	long flt0, flt1, vmrss, ahuge;
	size_t off, nonzero = 0, perr = 0, touched = 0, i;
	int c, ret;

	common_init(argv[0]);
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case O_SIZE:
			size = arg_u64("--size", optarg) * MB;
			break;
		case O_SIZE_KB:
			size = arg_u64("--size-kb", optarg) * KB;
			break;
		case O_ALIGN: align = WIN_SIZE; break;
		case O_ALIGN2M: align = 2 * MB; break;
		case O_COUNTER: counter = optarg; break;
		case O_READ1ST: read_first = true; break;
		case O_SHUFFLE: order = ORDER_RANDOM; break;
		case O_MADV: madv = true; break;
		case O_NOHUGE: nohuge = true; break;
		case O_SPARSE: sparse = true; break;
		case O_ORDER:
			if (!strcmp(optarg, "seq"))
				order = ORDER_SEQ;
			else if (!strcmp(optarg, "reverse"))
				order = ORDER_REVERSE;
			else if (!strcmp(optarg, "random"))
				order = ORDER_RANDOM;
			else
				die_setup("--order: seq, reverse or random");
			break;
		case O_VZERO: vzero = true; break;
		case O_FILL: fill = true; break;
		case O_SEED:
			seed = arg_u64("--seed", optarg);
			break;
		case O_REPEAT:
			repeat = arg_u64("--repeat-verify", optarg);
			break;
		case O_DIRTY:
			dirty = arg_u64("--dirty", optarg) * MB;
			break;
		case O_HOLD: hold = true; break;
		case O_HOLDSIG: hold = true; hold_stdin = false; break;
		case 'h':
		case O_HELP:
			usage(stdout);
			return EXIT_OK;
		default:
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (optind != argc)
		die_setup("unexpected argument '%s' (see --help)", argv[optind]);
	if (!size || size % page_size)
		die_setup("size must be a nonzero multiple of %zu bytes",
			  page_size);
	if (madv && nohuge)
		die_setup("--madvise and --nohuge exclude each other");
	if (repeat < 1 || seed > UINT32_MAX)
		die_setup("bad --repeat-verify or --seed");

	if (dirty) {
		void *d = mmap(NULL, dirty, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		if (d == MAP_FAILED)
			die_setup("mmap --dirty: %s", strerror(errno));
		memset(d, 0xA5, dirty);
		munmap(d, dirty);
	}

	t.size = size;
	t.step = sparse ? WIN_SIZE : page_size;
	t.seed = (uint32_t)seed;
	if (align) {
		t.base = mmap_aligned(size, align);
	} else {
		t.base = mmap(NULL, size, PROT_READ | PROT_WRITE,
			      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (t.base == MAP_FAILED)
			die_setup("mmap %zu bytes: %s", (size_t)size,
				  strerror(errno));
	}
	if ((madv && madvise(t.base, size, MADV_HUGEPAGE)) ||
	    (nohuge && madvise(t.base, size, MADV_NOHUGEPAGE)))
		die_setup("madvise: %s", strerror(errno));
	pm = malloc(size / page_size * sizeof(*pm));
	if (!pm)
		die_setup("out of memory");

	/* the order of the touch */
	ntouch = (size + t.step - 1) / t.step;
	if (order == ORDER_RANDOM) {
		uint64_t x = seed * 0x9E3779B97F4A7C15ULL + 1;

		perm = malloc(ntouch * sizeof(*perm));
		if (!perm)
			die_setup("out of memory");
		for (k = 0; k < ntouch; k++)
			perm[k] = k;
		for (k = ntouch - 1; k > 0; k--) {	/* Fisher-Yates */
			size_t j, tmp;

			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			j = (size_t)(x % (k + 1));
			tmp = perm[k];
			perm[k] = perm[j];
			perm[j] = tmp;
		}
	}

	if (read_first)		/* the zero page, mapped read-only */
		for (off = 0; off < size; off += page_size)
			(void)*(volatile char *)(t.base + off);

	/* the touch */
	if (counter)
		cnt0 = read_file_ll(counter);
	flt0 = minflt_now();
	t0 = now_ns();
	for (k = 0; k < ntouch; k++) {
		size_t idx = order == ORDER_SEQ ? k :
			     order == ORDER_REVERSE ? ntouch - 1 - k : perm[k];
		char *p;

		off = idx * t.step;
		p = t.base + off;

		if (vzero) {
			touch_write_keep(p);
			if (count_nonzero_words(p, page_size))
				nonzero++;
		}
		if (fill)
			pattern_fill(p, page_size, off, t.seed);
		else
			*(volatile char *)p = 1;
		touched++;
	}
	t1 = now_ns();
	flt1 = minflt_now();
	if (counter)
		cnt1 = read_file_ll(counter);

	if (fill)
		for (i = 0; i < repeat; i++)
			perr += verify_fill(&t);

	if (region_scan(t.base, size, pm, true, &rs))
		die_setup("reading /proc/self/pagemap: %s", strerror(errno));
	if (rs.present && !rs.pfn_visible)
		die_setup("pagemap shows no PFNs (need CAP_SYS_ADMIN)");
	if (!rs.kpageflags_ok)
		warnx_("cannot read /proc/kpageflags: compound= is -1");

	/* present pages we did not touch (--sparse) must read zero too */
	if (vzero && sparse) {
		for (i = 0; i < size / page_size; i++) {
			if (!(pm[i] & PM_PRESENT) ||
			    (i * page_size) % WIN_SIZE == 0)
				continue;
			if (count_nonzero_words(t.base + i * page_size,
						page_size))
				nonzero++;
		}
	}

	if (ptwalk_self(t.base, size, &pw))
		pw.windows = pw.runs = pw.cont = pw.cont_partial = pw.pmd = -1;
	vmrss = proc_kv_kb("/proc/self/status", "VmRSS");
	ahuge = smaps_sum_kb(t.base, t.base + size, "AnonHugePages");
	printf("size_kb=%zu pages=%zu present=%zu runs=%zu coverage_pct=%.2f "
	       "compound=%ld touch_ns=%llu minflt=%ld rss_kb=%zu vmrss_kb=%ld "
	       "nonzero_pages=%zu pattern_errors=%zu windows=%zu thp=%ld "
	       "anon_huge_kb=%ld touched=%zu verify_passes=%llu order=%s "
	       "addr=%p counter_delta=%lld pt_windows=%ld pt_runs=%ld "
	       "pt_cont=%ld pt_cont_partial=%ld pt_pmd=%ld\n",
	       (size_t)(size / KB), rs.pages, rs.present, rs.runs,
	       coverage_pct(&rs),
	       rs.kpageflags_ok ? (long)rs.compound : -1L,
	       (unsigned long long)(t1 - t0), flt1 - flt0,
	       rs.present * page_size / KB, vmrss, nonzero, perr, rs.windows,
	       rs.kpageflags_ok ? (long)rs.thp : -1L, ahuge, touched,
	       fill ? (unsigned long long)repeat : 0ULL,
	       order == ORDER_SEQ ? "seq" :
	       order == ORDER_REVERSE ? "reverse" : "random", (void *)t.base,
	       counter ? cnt1 - cnt0 : -1LL, pw.windows, pw.runs, pw.cont,
	       pw.cont_partial, pw.pmd);
	ret = (nonzero || perr) ? EXIT_FAILED : EXIT_OK;

	if (hold) {
		struct hold_ctx h = { .t = &t, .errors = 0 };
		bool tick = fill && repeat > 1;

		hold_prepare();
		printf("READY\n");
		fflush(stdout);
		hold_wait(hold_stdin, 1000, tick ? hold_tick : NULL, &h);
		if (fill) {
			h.errors += verify_fill(&t);
			printf("after_hold pattern_errors=%zu\n", h.errors);
			if (h.errors)
				ret = EXIT_FAILED;
		}
	}
	free(perm);
	free(pm);
	munmap(t.base, size);
	return ret;
}
