// SPDX-License-Identifier: GPL-2.0
/*
 * fpt-integrity: data integrity of anonymous memory across fork/CoW,
 * mprotect, munmap, mremap and MADV_DONTNEED, with every still-mapped byte
 * checked against the pattern (or zero) it must hold.
 */
#define _GNU_SOURCE
#include "common.h"

#include <errno.h>
#include <getopt.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

static void usage(FILE *f)
{
	fprintf(f,
"usage: %s SUBTEST [--size MB]\n"
"Fill a 64 KB aligned anonymous region (--size MB, default 16, plus an\n"
"untouched tail of 4 x 64 KB) with a pattern depending on offset and seed,\n"
"do an operation on it, and check every byte still mapped.\n"
"\n"
"SUBTEST: fork-cow mprotect munmap mremap-move mremap-grow dontneed all\n"
"         (all: each of the six in turn; selfcheck: corrupts two pages on\n"
"         purpose to show the checker catches it)\n"
"\n"
"Output: per subtest\n"
"  subtest=NAME coverage_pct=X runs=N present=N pages=N pt_runs=N pt_cont=N\n"
"                                                          (before the op)\n"
"  ok NAME key=value...    or    FAIL NAME key=value...\n"
"pt_*: from the test-only page-table walker fpt_ptwalk.ko (-1 when it is\n"
"not loaded); with it loaded every subtest also checks that no 64 KB block\n"
"is left with PTE_CONT on part of its PTEs (pt_cont_partial=0), and\n"
"mprotect that the half read-only window carries no hint (ro_window_cont=0).\n"
"and at the end\n"
"  summary passed=N failed=N\n"
"Exit: 0 all ok, 1 a subtest failed, 2 usage/setup error.\n",
		prog);
}

#define TAIL_WINDOWS	4
#define ST_UNMAPPED	(-2)	/* must not be accessed (must fault) */
#define ST_UNTOUCHED	(-1)	/* never touched: not read, to keep it so */
#define ST_ZERO		0	/* must read zero */
				/* > 0: pattern with that seed */

struct region {
	char *base;
	size_t npages;		/* pages spanned now (holes included) */
	size_t fill_pages;	/* the part filled at the start */
	size_t nwin;		/* windows in the filled part */
	int32_t *st;		/* per page state, room for 2 x npages */
};

struct result {
	bool ok;
	char detail[1024];
};

static void note(struct result *res, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void note(struct result *res, const char *fmt, ...)
{
	size_t l = strlen(res->detail);
	va_list ap;

	if (l + 2 >= sizeof(res->detail))
		return;
	if (l)
		res->detail[l++] = ' ';
	va_start(ap, fmt);
	vsnprintf(res->detail + l, sizeof(res->detail) - l, fmt, ap);
	va_end(ap);
}

/* note a value that must be zero */
static void must0(struct result *res, const char *key, size_t v)
{
	note(res, "%s=%zu", key, v);
	if (v)
		res->ok = false;
}

static char *pg(const struct region *r, size_t i)
{
	return r->base + i * page_size;
}

static void region_new(struct region *r, size_t size)
{
	size_t i, stride;

	r->fill_pages = size / page_size;
	r->nwin = size / WIN_SIZE;
	r->npages = r->fill_pages + TAIL_WINDOWS * win_pages;
	r->base = mmap_aligned(r->npages * page_size, WIN_SIZE);
	r->st = malloc(2 * r->npages * sizeof(*r->st));
	if (!r->st)
		die_setup("out of memory");
	for (i = 0; i < 2 * r->npages; i++)
		r->st[i] = ST_UNTOUCHED;
	/*
	 * Fault the pages in a strided order: with 4 KB pages a sequential
	 * toucher often gets consecutive PFNs by chance, which would make the
	 * coverage line look like 64 KB backing.
	 */
	stride = r->fill_pages % 7919 ? 7919 : 1;
	for (i = 0; i < r->fill_pages; i++) {
		size_t k = (size_t)((uint64_t)i * stride % r->fill_pages);

		pattern_fill(pg(r, k), page_size, k * page_size, 1);
		r->st[k] = 1;
	}
}

static void region_free(struct region *r)
{
	size_t i, j;

	/* unmap the mapped stretches */
	for (i = 0; i < r->npages; i = j) {
		for (j = i; j < r->npages && (r->st[j] == ST_UNMAPPED) ==
						 (r->st[i] == ST_UNMAPPED); j++)
			;
		if (r->st[i] != ST_UNMAPPED)
			munmap(pg(r, i), (j - i) * page_size);
	}
	free(r->st);
}

/* Write pattern seed into pages [first, first + n). */
static void set_pattern(struct region *r, size_t first, size_t n,
			uint32_t seed)
{
	size_t i;

	for (i = first; i < first + n; i++) {
		pattern_fill(pg(r, i), page_size, i * page_size, seed);
		r->st[i] = (int32_t)seed;
	}
}

static void set_state(struct region *r, size_t first, size_t n, int32_t st)
{
	size_t i;

	for (i = first; i < first + n; i++)
		r->st[i] = st;
}

/* Pages whose contents differ from their expected state. */
static size_t verify(const struct region *r, const char *what)
{
	size_t i, bad = 0;

	for (i = 0; i < r->npages; i++) {
		int32_t s = r->st[i];
		size_t b;

		if (s == ST_UNMAPPED || s == ST_UNTOUCHED)
			continue;
		if (s == ST_ZERO)
			b = count_nonzero_words(pg(r, i), page_size);
		else
			b = pattern_verify(pg(r, i), page_size, i * page_size,
					   (uint32_t)s);
		if (b) {
			if (bad < 5)
				warnx_("%s: page %zu (state %d): %zu bad words"
				       ", first word %#llx", what, i, s, b,
				       (unsigned long long)
				       *(volatile uint64_t *)pg(r, i));
			bad++;
		}
	}
	return bad;
}

/* Write-fault pages [first, first + n) and count those not reading zero;
 * they are then expected to be zero. */
static size_t zero_check_wfault(struct region *r, size_t first, size_t n)
{
	size_t i, bad = 0;

	for (i = first; i < first + n; i++) {
		touch_write_keep(pg(r, i));
		if (count_nonzero_words(pg(r, i), page_size))
			bad++;
		r->st[i] = ST_ZERO;
	}
	return bad;
}

/* present pages among [first, first + n) */
static size_t present_pages(const struct region *r, size_t first, size_t n)
{
	uint64_t *pm = malloc(n * sizeof(*pm));
	size_t i, cnt = 0;

	if (!pm || pagemap_read(pg(r, first), n, pm))
		die_setup("reading pagemap: %s", strerror(errno));
	for (i = 0; i < n; i++)
		if (pm[i] & PM_PRESENT)
			cnt++;
	free(pm);
	return cnt;
}

static struct region_scan scan_filled(const struct region *r)
{
	struct region_scan rs;

	if (region_scan(r->base, r->fill_pages * page_size, NULL, true, &rs))
		die_setup("reading pagemap: %s", strerror(errno));
	if (rs.present && !rs.pfn_visible)
		die_setup("pagemap shows no PFNs (need CAP_SYS_ADMIN)");
	return rs;
}

/* ---- fault probing ---- */

static sigjmp_buf probe_jb;

static void probe_handler(int sig)
{
	(void)sig;
	siglongjmp(probe_jb, 1);
}

static bool probe_faults(void *p, bool write)
{
	struct sigaction sa, old_segv, old_bus;
	volatile bool faulted = false;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = probe_handler;
	sa.sa_flags = SA_NODEFER;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGSEGV, &sa, &old_segv);
	sigaction(SIGBUS, &sa, &old_bus);
	if (sigsetjmp(probe_jb, 1) == 0) {
		if (write)
			*(volatile char *)p = 0x5a;
		else
			(void)*(volatile char *)p;
	} else {
		faulted = true;
	}
	sigaction(SIGSEGV, &old_segv, NULL);
	sigaction(SIGBUS, &old_bus, NULL);
	return faulted;
}

/* unmapped pages that did not fault on read */
static size_t check_unmapped(const struct region *r)
{
	size_t i, bad = 0;

	for (i = 0; i < r->npages; i++)
		if (r->st[i] == ST_UNMAPPED && !probe_faults(pg(r, i), false))
			bad++;
	return bad;
}

static void xmprotect(void *p, size_t len, int prot)
{
	if (mprotect(p, len, prot))
		die_setup("mprotect: %s", strerror(errno));
}

/* ---- subtests ---- */

static void t_fork_cow(struct region *r, struct result *res)
{
	size_t half = r->fill_pages / 2;
	int go[2], done[2], status;
	char c = 0;
	pid_t pid;

	if (pipe(go) || pipe(done))
		die_setup("pipe: %s", strerror(errno));
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid < 0)
		die_setup("fork: %s", strerror(errno));
	if (pid == 0) {
		size_t bad;

		close(go[1]);
		close(done[1]);
		if (read(go[0], &c, 1) != 1)
			_exit(2);
		set_pattern(r, 0, half, 2);		/* concurrently */
		if (read(done[0], &c, 1) != 1)		/* parent wrote */
			_exit(2);
		bad = verify(r, "fork-cow child");
		_exit(bad ? 1 : 0);
	}
	close(go[0]);
	close(done[0]);
	if (write(go[1], &c, 1) != 1)
		die_setup("pipe write: %s", strerror(errno));
	set_pattern(r, half, r->fill_pages - half, 3);
	if (write(done[1], &c, 1) != 1)
		die_setup("pipe write: %s", strerror(errno));
	must0(res, "parent_bad_pages", verify(r, "fork-cow parent"));
	if (waitpid(pid, &status, 0) != pid)
		die_setup("waitpid: %s", strerror(errno));
	close(go[1]);
	close(done[1]);
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
		note(res, "child=ok");
	} else {
		note(res, "child=%s%d", WIFEXITED(status) ? "exit" : "signal",
		     WIFEXITED(status) ? WEXITSTATUS(status) :
					 WTERMSIG(status));
		res->ok = false;
	}
	must0(res, "parent_bad_after_exit", verify(r, "fork-cow parent after"));
}

static void t_mprotect(struct region *r, struct result *res)
{
	size_t hw = win_pages / 2;
	size_t m = r->nwin / 2, t0 = r->nwin, t1 = r->nwin + 1;
	char *a = pg(r, m * win_pages + hw);
	char *b = pg(r, t0 * win_pages);
	char *c = pg(r, t1 * win_pages);
	size_t nf = 0, i;
	struct ptwalk_sum pw;

	/* read-only second half of a filled window: split VMA */
	xmprotect(a, WIN_SIZE / 2, PROT_READ);
	/* a contiguity hint cannot span two protections: the block unfolds */
	if (!ptwalk_self(pg(r, m * win_pages), WIN_SIZE, &pw))
		must0(res, "ro_window_cont", (size_t)pw.cont);
	must0(res, "ro_bad_pages", verify(r, "mprotect ro"));
	for (i = 0; i < hw; i++)
		if (!probe_faults(a + i * page_size, true))
			nf++;
	must0(res, "ro_writes_not_faulting", nf);
	xmprotect(a, WIN_SIZE / 2, PROT_READ | PROT_WRITE);
	set_pattern(r, m * win_pages + hw, hw, 4);
	must0(res, "rw_bad_pages", verify(r, "mprotect rw"));

	/* fresh faults in a never-touched window whose 2nd half is RO */
	xmprotect(b + WIN_SIZE / 2, WIN_SIZE / 2, PROT_READ);
	set_pattern(r, t0 * win_pages, hw, 5);
	set_state(r, t0 * win_pages + hw, hw, ST_ZERO);
	must0(res, "fresh_ro_bad_pages", verify(r, "mprotect fresh ro"));
	xmprotect(b + WIN_SIZE / 2, WIN_SIZE / 2, PROT_READ | PROT_WRITE);
	set_pattern(r, t0 * win_pages + hw, hw, 6);
	must0(res, "fresh_rw_bad_pages", verify(r, "mprotect fresh rw"));

	/* fresh faults next to a PROT_NONE first half */
	xmprotect(c, WIN_SIZE / 2, PROT_NONE);
	set_pattern(r, t1 * win_pages + hw, hw, 7);
	nf = 0;
	for (i = 0; i < hw; i++)
		if (!probe_faults(c + i * page_size, false))
			nf++;
	must0(res, "none_reads_not_faulting", nf);
	xmprotect(c, WIN_SIZE / 2, PROT_READ | PROT_WRITE);
	set_state(r, t1 * win_pages, hw, ST_ZERO);
	must0(res, "none_bad_pages", verify(r, "mprotect none"));
}

static void remap_holes(struct region *r, struct result *res)
{
	size_t i, j;

	for (i = 0; i < r->npages; i = j) {
		if (r->st[i] != ST_UNMAPPED) {
			j = i + 1;
			continue;
		}
		for (j = i; j < r->npages && r->st[j] == ST_UNMAPPED; j++)
			;
		if (mmap(pg(r, i), (j - i) * page_size,
			 PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) ==
		    MAP_FAILED)
			die_setup("mmap MAP_FIXED: %s", strerror(errno));
		set_state(r, i, j - i, ST_ZERO);
	}
	must0(res, "refilled_nonzero_pages", verify(r, "munmap refill"));
}

static void t_munmap(struct region *r, struct result *res)
{
	size_t q = win_pages / 4;		/* 16 KB */
	size_t h1 = r->nwin / 3 * win_pages + q;
	size_t h2 = 2 * r->nwin / 3 * win_pages + q;
	size_t n2 = 96 * KB / page_size;
	size_t t0 = r->nwin * win_pages;
	size_t i;

	if (munmap(pg(r, h1), q * page_size) ||
	    munmap(pg(r, h2), n2 * page_size) ||
	    munmap(pg(r, t0 + q), q * page_size))
		die_setup("munmap: %s", strerror(errno));
	set_state(r, h1, q, ST_UNMAPPED);
	set_state(r, h2, n2, ST_UNMAPPED);
	set_state(r, t0 + q, q, ST_UNMAPPED);
	must0(res, "bad_pages", verify(r, "munmap"));
	must0(res, "unmapped_not_faulting", check_unmapped(r));

	/* fresh faults in a never-touched window with a hole */
	for (i = t0; i < t0 + win_pages; i++)
		if (r->st[i] != ST_UNMAPPED)
			set_pattern(r, i, 1, 13);
	must0(res, "holed_window_bad_pages", verify(r, "munmap holed window"));

	/* map the holes again: they must read zero, then take data */
	remap_holes(r, res);
	set_pattern(r, h1, q, 8);
	set_pattern(r, h2, n2, 8);
	set_pattern(r, t0 + q, q, 8);
	must0(res, "rewritten_bad_pages", verify(r, "munmap rewritten"));
}

/* Move the whole region to a 64 KB aligned address plus misalign bytes. */
static void move_region(struct region *r, size_t misalign)
{
	size_t len = r->npages * page_size, rlen = len + 2 * WIN_SIZE;
	char *res, *dst, *got;

	res = mmap(NULL, rlen, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (res == MAP_FAILED)
		die_setup("mmap: %s", strerror(errno));
	dst = (char *)align_up((uintptr_t)res, WIN_SIZE) + misalign;
	got = mremap(r->base, len, len, MREMAP_MAYMOVE | MREMAP_FIXED, dst);
	if (got == MAP_FAILED)
		die_setup("mremap: %s", strerror(errno));
	if (got != dst)
		die_setup("mremap moved to %p, not %p", (void *)got,
			  (void *)dst);
	if (dst > res)
		munmap(res, (size_t)(dst - res));
	if (dst + len < res + rlen)
		munmap(dst + len, (size_t)(res + rlen - dst - len));
	r->base = dst;
}

static void t_mremap_move(struct region *r, struct result *res)
{
	size_t t0 = r->nwin * win_pages, t1 = t0 + win_pages;
	struct region_scan rs;

	move_region(r, 0);
	rs = scan_filled(r);
	note(res, "aligned_runs=%zu", rs.runs);
	must0(res, "aligned_bad_pages", verify(r, "mremap aligned"));
	set_pattern(r, t0, win_pages, 9);
	must0(res, "aligned_touch_bad_pages", verify(r, "mremap aligned touch"));

	move_region(r, page_size);
	rs = scan_filled(r);
	note(res, "misaligned_runs=%zu", rs.runs);
	must0(res, "misaligned_bad_pages", verify(r, "mremap misaligned"));
	set_pattern(r, t1, win_pages, 10);
	must0(res, "misaligned_touch_bad_pages",
	      verify(r, "mremap misaligned touch"));

	move_region(r, 0);
	rs = scan_filled(r);
	note(res, "realigned_runs=%zu", rs.runs);
	must0(res, "realigned_bad_pages", verify(r, "mremap realigned"));
}

static void t_mremap_grow(struct region *r, struct result *res)
{
	size_t n = r->npages, half = n / 2;
	char *got;

	got = mremap(r->base, n * page_size, 2 * n * page_size,
		     MREMAP_MAYMOVE);
	if (got == MAP_FAILED)
		die_setup("mremap grow: %s", strerror(errno));
	note(res, "moved=%d", got != r->base);
	r->base = got;
	r->npages = 2 * n;
	must0(res, "old_bad_pages", verify(r, "mremap grow old"));
	/* new tail: first half checked by reading, second by write faults */
	must0(res, "new_wfault_nonzero_pages",
	      zero_check_wfault(r, n + half, n - half));
	set_state(r, n, half, ST_ZERO);
	must0(res, "new_bad_pages", verify(r, "mremap grow new"));
	set_pattern(r, n, n, 11);
	must0(res, "filled_bad_pages", verify(r, "mremap grow filled"));
}

static void t_dontneed(struct region *r, struct result *res)
{
	size_t hw = win_pages / 2;
	size_t a = r->nwin / 4 * win_pages;			/* window */
	size_t b = r->nwin / 2 * win_pages + hw;		/* half */
	size_t c = 3 * r->nwin / 4 * win_pages + win_pages / 4;	/* multi */
	size_t nc = 200 * KB / page_size;
	struct region_scan rs;

	if (madvise(pg(r, a), WIN_SIZE, MADV_DONTNEED) ||
	    madvise(pg(r, b), hw * page_size, MADV_DONTNEED) ||
	    madvise(pg(r, c), nc * page_size, MADV_DONTNEED))
		die_setup("madvise: %s", strerror(errno));
	must0(res, "present_after",
	      present_pages(r, a, win_pages) + present_pages(r, b, hw) +
	      present_pages(r, c, nc));
	/* window a read (zero page), b and c write-faulted, all zero */
	set_state(r, a, win_pages, ST_ZERO);
	must0(res, "wfault_nonzero_pages",
	      zero_check_wfault(r, b, hw) + zero_check_wfault(r, c, nc));
	must0(res, "bad_pages", verify(r, "dontneed"));
	set_pattern(r, a, win_pages, 12);
	set_pattern(r, b, hw, 12);
	set_pattern(r, c, nc, 12);
	must0(res, "retouched_bad_pages", verify(r, "dontneed retouched"));
	rs = scan_filled(r);
	note(res, "runs_after=%zu", rs.runs);
}

/* Not in "all": proves that verify() and the fault probe catch errors. */
static void t_selfcheck(struct region *r, struct result *res)
{
	size_t t0 = r->nwin * win_pages;
	size_t found;
	char *none;

	set_state(r, t0, 1, ST_ZERO);		/* reads zero */
	pg(r, 3)[100] ^= 1;			/* corrupt a pattern page */
	pg(r, t0)[7] = 1;			/* corrupt a zero page */
	found = verify(r, "selfcheck (2 errors expected)");
	note(res, "detected=%zu", found);
	if (found != 2)
		res->ok = false;
	pg(r, 3)[100] ^= 1;
	pg(r, t0)[7] = 0;
	must0(res, "bad_after_repair", verify(r, "selfcheck repaired"));
	none = mmap(NULL, page_size, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS,
		    -1, 0);
	if (none == MAP_FAILED)
		die_setup("mmap: %s", strerror(errno));
	if (probe_faults(pg(r, 0), false) || !probe_faults(none, false)) {
		note(res, "probe=broken");
		res->ok = false;
	}
	munmap(none, page_size);
}

static const struct subtest {
	const char *name;
	void (*fn)(struct region *r, struct result *res);
} subtests[] = {
	{ "fork-cow", t_fork_cow },
	{ "mprotect", t_mprotect },
	{ "munmap", t_munmap },
	{ "mremap-move", t_mremap_move },
	{ "mremap-grow", t_mremap_grow },
	{ "dontneed", t_dontneed },
	{ "selfcheck", t_selfcheck },	/* last: not part of "all" */
};
#define NR_SUBTESTS (sizeof(subtests) / sizeof(subtests[0]))

static bool run(const struct subtest *t, size_t size)
{
	struct region r;
	struct region_scan rs;
	struct ptwalk_sum pw;
	struct result res = { .ok = true };

	region_new(&r, size);
	rs = scan_filled(&r);
	if (ptwalk_self(r.base, r.npages * page_size, &pw))
		pw.runs = pw.cont = -1;
	printf("subtest=%s coverage_pct=%.2f runs=%zu present=%zu pages=%zu "
	       "pt_runs=%ld pt_cont=%ld\n", t->name, coverage_pct(&rs), rs.runs,
	       rs.present, rs.pages, pw.runs, pw.cont);
	t->fn(&r, &res);
	/* never a hint on part of a 64 KB block (walker loaded only) */
	if (!ptwalk_self(r.base, r.npages * page_size, &pw)) {
		note(&res, "pt_cont_after=%ld", pw.cont);
		must0(&res, "pt_cont_partial", (size_t)pw.cont_partial);
	}
	printf("%s %s %s\n", res.ok ? "ok" : "FAIL", t->name, res.detail);
	region_free(&r);
	return res.ok;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "size", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	uint64_t size_mb = 16;
	const char *name;
	unsigned int passed = 0, failed = 0;
	size_t i;
	int c;

	common_init(argv[0]);
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			size_mb = arg_u64("--size", optarg);
			break;
		case 'h':
			usage(stdout);
			return EXIT_OK;
		default:
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (optind + 1 != argc) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (size_mb < 1 || size_mb > 1 << 20)
		die_setup("--size must be 1..1048576 MB");
	name = argv[optind];
	for (i = 0; i < NR_SUBTESTS; i++) {
		if (strcmp(name, subtests[i].name) &&
		    (strcmp(name, "all") || i == NR_SUBTESTS - 1))
			continue;
		if (run(&subtests[i], size_mb * MB))
			passed++;
		else
			failed++;
	}
	if (!passed && !failed)
		die_setup("unknown subtest '%s' (see --help)", name);
	printf("summary passed=%u failed=%u\n", passed, failed);
	return failed ? EXIT_FAILED : EXIT_OK;
}
