// SPDX-License-Identifier: GPL-2.0
/*
 * fpt-robust: in-guest helper of the robustness series (tests/robust).
 * Everything it reports comes from outside fpt: PFNs from pagemap, nodes
 * from move_pages(2), flags from /proc/kpageflags, data from patterns.
 *
 *   fpt-robust hold --windows N [--bind NODE] [--held FILE]
 *	Map N aligned 64 KB windows and write pages 1 then 0 of each
 *	(windows high to low).  A window whose page 0 sits on a 16-aligned
 *	PFN with page 1 on the next PFN came from a reservation: its other
 *	14 pages (PFN+2..PFN+15) are held by fpt, unmapped; they go to FILE,
 *	one decimal PFN a line.  Prints "READY ..." and then reads commands
 *	on stdin, one a line:
 *	  rest        write pages 15..2 of every window; print runs/coverage
 *	  dump FILE   write the PFN of every present page to FILE
 *	  verify      check every written page's pattern; print errors=N
 *	  nohuge      madvise(MADV_NOHUGEPAGE) the whole region
 *	  quit        (or EOF) verify and exit: 0 if the data was intact
 *   fpt-robust threads [--threads T] [--windows N] [--rounds R]
 *	T threads (default 16) fault the pages of the same windows at once:
 *	per window a barrier, then thread t writes page t % 16.  Prints the
 *	windows that are complete runs, and data errors.  Exit 1 on a data
 *	error.
 *   fpt-robust place --windows N --first-cpu A --rest-cpu B
 *		      [--rest-policy default|bind:NODE|preferred:NODE|local]
 *	A thread on CPU A writes pages 0 and 1 of every window (two: a
 *	thread whose reservations keep one page each is taken for a sparse
 *	toucher and gets none), then a thread on CPU B (with the given task
 *	policy) writes pages 15..2.  Prints the node of the first pages and
 *	of the rest (move_pages).
 *   fpt-robust interleave --windows N
 *	MPOL_INTERLEAVE over nodes 0 and 1, write every page high to low;
 *	print pages per node and how often the node changes page to page.
 *   fpt-robust kpf PFN...
 *	print "pfn=P flags=0x.. hwpoison=0|1" per PFN from /proc/kpageflags.
 * Exit: 0 ok, 1 data error/check failed, 2 usage or setup error.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <linux/mempolicy.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "common.h"
#include "pagemap.h"

#define KPF_HWPOISON	19
#define SEED		0x5eedU

static size_t nwin = 64;

static void usage(void)
{
	fprintf(stderr,
		"usage: %s hold --windows N [--bind NODE] [--held FILE]\n"
		"       %s threads [--threads T] [--windows N] [--rounds R]\n"
		"       %s place --windows N --first-cpu A --rest-cpu B [--rest-policy P]\n"
		"       %s interleave --windows N\n"
		"       %s kpf PFN...\n", prog, prog, prog, prog, prog);
	exit(2);
}

static long sys_set_mempolicy(int mode, const unsigned long *mask,
			      unsigned long maxnode)
{
	return syscall(SYS_set_mempolicy, mode, mask, maxnode);
}

/* Node of each of n pages from addr (move_pages query); -errno entries. */
static int nodes_of(char *addr, size_t n, int *status)
{
	void **pages = calloc(n, sizeof(*pages));
	size_t i;
	long r;

	if (!pages)
		return -1;
	for (i = 0; i < n; i++)
		pages[i] = addr + i * page_size;
	r = syscall(SYS_move_pages, 0, n, pages, NULL, status, 0);
	free(pages);
	return r < 0 ? -1 : 0;
}

static void pin_cpu(int cpu)
{
	cpu_set_t s;

	CPU_ZERO(&s);
	CPU_SET(cpu, &s);
	if (sched_setaffinity(0, sizeof(s), &s))
		die_setup("sched_setaffinity(cpu %d): %s", cpu, strerror(errno));
}

/* Write page i of the region at base: its pattern word, first 8 bytes. */
static void put(char *base, size_t i)
{
	*(volatile uint64_t *)(base + i * page_size) =
		pattern_word(i * page_size, SEED);
}

static size_t verify_pages(char *base, const unsigned char *written, size_t n)
{
	size_t i, bad = 0;

	for (i = 0; i < n; i++)
		if (written[i] && *(volatile uint64_t *)(base + i * page_size) !=
		    pattern_word(i * page_size, SEED))
			bad++;
	return bad;
}

static void print_scan(const char *tag, char *base, size_t len)
{
	struct region_scan rs;

	if (region_scan(base, len, NULL, false, &rs))
		die_setup("region_scan: %s", strerror(errno));
	printf("%s windows=%zu runs=%zu present=%zu coverage_pct=%.2f\n", tag,
	       rs.windows, rs.runs, rs.present, coverage_pct(&rs));
}

/* ---- hold ---- */

static int cmd_hold(int bind_node, const char *held_file)
{
	size_t len = nwin * WIN_SIZE, npages = len / page_size, w, i;
	unsigned char *written = calloc(npages, 1);
	uint64_t *pm = calloc(npages, sizeof(*pm));
	size_t resv = 0, bad;
	char line[4200], *base;
	FILE *hf = NULL;

	if (!written || !pm)
		die_setup("out of memory");
	if (bind_node >= 0) {
		unsigned long mask = 1UL << bind_node;

		if (sys_set_mempolicy(MPOL_BIND, &mask, sizeof(mask) * 8))
			die_setup("set_mempolicy(BIND %d): %s", bind_node,
				  strerror(errno));
	}
	base = mmap_aligned(len, WIN_SIZE);
	for (w = nwin; w-- > 0;) {
		i = w * win_pages;
		put(base, i + 1);
		written[i + 1] = 1;
		put(base, i);
		written[i] = 1;
	}
	if (pagemap_read(base, npages, pm))
		die_setup("pagemap: %s", strerror(errno));
	if (held_file && !(hf = fopen(held_file, "w")))
		die_setup("%s: %s", held_file, strerror(errno));
	for (w = 0; w < nwin; w++) {
		uint64_t p0 = pm[w * win_pages], p1 = pm[w * win_pages + 1];
		uint64_t f0 = p0 & PM_PFN_MASK, f1 = p1 & PM_PFN_MASK;

		if (!(p0 & PM_PRESENT) || !(p1 & PM_PRESENT) || !f0 ||
		    f0 % win_pages || f1 != f0 + 1)
			continue;
		resv++;
		for (i = 2; hf && i < win_pages; i++)
			fprintf(hf, "%llu\n", (unsigned long long)(f0 + i));
	}
	if (hf && fclose(hf))
		die_setup("%s: %s", held_file, strerror(errno));
	printf("READY windows=%zu reserved=%zu held_pages=%zu\n", nwin, resv,
	       resv * (win_pages - 2));

	while (fgets(line, sizeof(line), stdin)) {
		line[strcspn(line, "\n")] = 0;
		if (!strcmp(line, "rest")) {
			for (w = nwin; w-- > 0;)
				for (i = win_pages; i-- > 2;) {
					put(base, w * win_pages + i);
					written[w * win_pages + i] = 1;
				}
			print_scan("rest", base, len);
		} else if (!strncmp(line, "dump ", 5)) {
			FILE *f = fopen(line + 5, "w");

			if (!f || pagemap_read(base, npages, pm))
				die_setup("dump %s: %s", line + 5, strerror(errno));
			for (i = 0; i < npages; i++)
				if (pm[i] & PM_PRESENT)
					fprintf(f, "%llu\n", (unsigned long long)
						(pm[i] & PM_PFN_MASK));
			if (fclose(f))
				die_setup("dump: %s", strerror(errno));
			printf("dumped\n");
		} else if (!strcmp(line, "nohuge")) {
			printf("nohuge rc=%d\n", madvise(base, len, MADV_NOHUGEPAGE));
		} else if (!strcmp(line, "verify")) {
			printf("verify errors=%zu\n", verify_pages(base, written, npages));
		} else if (!strcmp(line, "quit")) {
			break;
		} else if (line[0]) {
			printf("unknown command '%s'\n", line);
		}
	}
	bad = verify_pages(base, written, npages);
	printf("exit errors=%zu\n", bad);
	free(written);
	free(pm);
	return bad ? 1 : 0;
}

/* ---- threads ---- */

struct tctx {
	pthread_barrier_t *bar;
	char *base;
	size_t t, nthreads;
};

static void *thr_main(void *arg)
{
	struct tctx *c = arg;
	size_t w, i;

	for (w = 0; w < nwin; w++) {
		pthread_barrier_wait(c->bar);
		for (i = c->t; i < win_pages; i += c->nthreads)
			put(c->base, w * win_pages + (win_pages - 1 - i));
	}
	return NULL;
}

static int cmd_threads(size_t nthreads, size_t rounds)
{
	size_t len = nwin * WIN_SIZE, npages = len / page_size, r, t;
	size_t runs = 0, windows = 0, errors = 0;
	unsigned char *written = malloc(npages);
	pthread_t *th = calloc(nthreads, sizeof(*th));
	struct tctx *ctx = calloc(nthreads, sizeof(*ctx));
	pthread_barrier_t bar;

	if (!written || !th || !ctx || nthreads < 1)
		die_setup("out of memory");
	memset(written, 1, npages);
	for (r = 0; r < rounds; r++) {
		char *base = mmap_aligned(len, WIN_SIZE);
		struct region_scan rs;

		pthread_barrier_init(&bar, NULL, (unsigned int)nthreads);
		for (t = 0; t < nthreads; t++) {
			ctx[t] = (struct tctx){ &bar, base, t, nthreads };
			if (pthread_create(&th[t], NULL, thr_main, &ctx[t]))
				die_setup("pthread_create");
		}
		for (t = 0; t < nthreads; t++)
			pthread_join(th[t], NULL);
		pthread_barrier_destroy(&bar);
		if (region_scan(base, len, NULL, false, &rs))
			die_setup("region_scan: %s", strerror(errno));
		runs += rs.runs;
		windows += rs.windows;
		errors += verify_pages(base, written, npages);
		munmap(base, len);
	}
	printf("threads=%zu rounds=%zu windows=%zu runs=%zu incomplete=%zu errors=%zu\n",
	       nthreads, rounds, windows, runs, windows - runs, errors);
	free(written);
	free(th);
	free(ctx);
	return errors ? 1 : 0;
}

/* ---- place ---- */

struct pctx {
	char *base;
	int cpu;
	int mode;		/* -1: keep the default policy */
	int node;
	bool first;
};

static void *place_main(void *arg)
{
	struct pctx *c = arg;
	size_t w, i;

	pin_cpu(c->cpu);
	if (c->mode >= 0) {
		unsigned long mask = c->node >= 0 ? 1UL << c->node : 0;

		if (sys_set_mempolicy(c->mode, c->node >= 0 ? &mask : NULL,
				      c->node >= 0 ? sizeof(mask) * 8 : 0))
			die_setup("set_mempolicy: %s", strerror(errno));
	}
	for (w = nwin; w-- > 0;) {
		if (c->first) {
			put(c->base, w * win_pages + 1);
			put(c->base, w * win_pages);
			continue;
		}
		for (i = win_pages; i-- > 2;)
			put(c->base, w * win_pages + i);
	}
	return NULL;
}

static void run_thread(struct pctx *c)
{
	pthread_t th;

	if (pthread_create(&th, NULL, place_main, c))
		die_setup("pthread_create");
	pthread_join(th, NULL);
}

static int cmd_place(int first_cpu, int rest_cpu, const char *policy)
{
	size_t len = nwin * WIN_SIZE, npages = len / page_size, i;
	int *st = calloc(npages, sizeof(int));
	size_t first[2] = { 0, 0 }, rest[2] = { 0, 0 }, other = 0;
	struct pctx a = { 0 }, b = { 0 };

	if (!st)
		die_setup("out of memory");
	a.cpu = first_cpu;
	a.mode = -1;
	a.node = -1;
	a.first = true;
	b.cpu = rest_cpu;
	b.mode = -1;
	b.node = -1;
	if (!strncmp(policy, "bind:", 5)) {
		b.mode = MPOL_BIND;
		b.node = atoi(policy + 5);
	} else if (!strncmp(policy, "preferred:", 10)) {
		b.mode = MPOL_PREFERRED;
		b.node = atoi(policy + 10);
	} else if (!strcmp(policy, "local")) {
		b.mode = MPOL_LOCAL;
	} else if (strcmp(policy, "default")) {
		usage();
	}
	a.base = b.base = mmap_aligned(len, WIN_SIZE);
	run_thread(&a);
	run_thread(&b);
	if (nodes_of(a.base, npages, st))
		die_setup("move_pages: %s", strerror(errno));
	for (i = 0; i < npages; i++) {
		size_t *c = i % win_pages > 1 ? rest : first;

		if (st[i] == 0 || st[i] == 1)
			c[st[i]]++;
		else
			other++;
	}
	printf("place first_cpu=%d rest_cpu=%d rest_policy=%s first_node0=%zu first_node1=%zu rest_node0=%zu rest_node1=%zu unknown=%zu ",
	       first_cpu, rest_cpu, policy, first[0], first[1], rest[0], rest[1],
	       other);
	print_scan("", a.base, len);
	free(st);
	return 0;
}

static int cmd_interleave(void)
{
	size_t len = nwin * WIN_SIZE, npages = len / page_size, i;
	int *st = calloc(npages, sizeof(int));
	unsigned long mask = 3;
	size_t n[2] = { 0, 0 }, changes = 0, other = 0;
	char *base;

	if (!st)
		die_setup("out of memory");
	base = mmap_aligned(len, WIN_SIZE);
	if (sys_set_mempolicy(MPOL_INTERLEAVE, &mask, sizeof(mask) * 8))
		die_setup("set_mempolicy(INTERLEAVE): %s", strerror(errno));
	for (i = npages; i-- > 0;)
		put(base, i);
	if (nodes_of(base, npages, st))
		die_setup("move_pages: %s", strerror(errno));
	for (i = 0; i < npages; i++) {
		if (st[i] == 0 || st[i] == 1)
			n[st[i]]++;
		else
			other++;
		if (i && st[i] != st[i - 1])
			changes++;
	}
	printf("interleave pages=%zu node0=%zu node1=%zu unknown=%zu node_changes=%zu ",
	       npages, n[0], n[1], other, changes);
	print_scan("", base, len);
	free(st);
	return 0;
}

static int cmd_kpf(int argc, char **argv)
{
	int fd = open("/proc/kpageflags", O_RDONLY), i;

	if (fd < 0)
		die_setup("/proc/kpageflags: %s", strerror(errno));
	for (i = 0; i < argc; i++) {
		uint64_t pfn = arg_u64("PFN", argv[i]), fl;
		int r = fpt_pread_full(fd, &fl, sizeof(fl), pfn * sizeof(fl));

		if (r)
			die_setup("kpageflags pfn %llu: %s",
				  (unsigned long long)pfn, strerror(-r));
		printf("pfn=%llu flags=0x%llx hwpoison=%d\n",
		       (unsigned long long)pfn, (unsigned long long)fl,
		       (int)((fl >> KPF_HWPOISON) & 1));
	}
	close(fd);
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "windows", required_argument, NULL, 'w' },
		{ "bind", required_argument, NULL, 'b' },
		{ "held", required_argument, NULL, 'H' },
		{ "threads", required_argument, NULL, 't' },
		{ "rounds", required_argument, NULL, 'r' },
		{ "first-cpu", required_argument, NULL, 'a' },
		{ "rest-cpu", required_argument, NULL, 'c' },
		{ "rest-policy", required_argument, NULL, 'p' },
		{ NULL, 0, NULL, 0 }
	};
	const char *cmd, *held = NULL, *policy = "default";
	int bind_node = -1, first_cpu = 0, rest_cpu = 1, c;
	size_t nthreads = 16, rounds = 1;

	common_init(argv[0]);
	if (argc < 2)
		usage();
	cmd = argv[1];
	if (!strcmp(cmd, "kpf"))
		return cmd_kpf(argc - 2, argv + 2);
	optind = 2;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'w': nwin = arg_u64("--windows", optarg); break;
		case 'b': bind_node = (int)arg_u64("--bind", optarg); break;
		case 'H': held = optarg; break;
		case 't': nthreads = arg_u64("--threads", optarg); break;
		case 'r': rounds = arg_u64("--rounds", optarg); break;
		case 'a': first_cpu = (int)arg_u64("--first-cpu", optarg); break;
		case 'c': rest_cpu = (int)arg_u64("--rest-cpu", optarg); break;
		case 'p': policy = optarg; break;
		default: usage();
		}
	}
	if (optind != argc || !nwin || bind_node > 63)
		usage();
	if (!strcmp(cmd, "hold"))
		return cmd_hold(bind_node, held);
	if (!strcmp(cmd, "threads"))
		return cmd_threads(nthreads, rounds);
	if (!strcmp(cmd, "place"))
		return cmd_place(first_cpu, rest_cpu, policy);
	if (!strcmp(cmd, "interleave"))
		return cmd_interleave();
	usage();
}
