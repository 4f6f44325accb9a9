// SPDX-License-Identifier: GPL-2.0
/* Shared helpers of the fpt in-guest test programs (see common.h). */
#define _GNU_SOURCE
#include "common.h"
#include "frag.h"
#include "pagemap.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stddef.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

const char *prog = "fpt-test";
size_t page_size = 4096;
size_t win_pages = 16;

void common_init(const char *argv0)
{
	const char *s = strrchr(argv0, '/');

	prog = s ? s + 1 : argv0;
	page_size = (size_t)sysconf(_SC_PAGESIZE);
	if (page_size == 0 || WIN_SIZE % page_size)
		die_setup("unsupported page size %zu", page_size);
	win_pages = WIN_SIZE / page_size;
	setvbuf(stdout, NULL, _IOLBF, 0);
}

void warnx_(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

void die_setup(const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fprintf(stderr, "%s: ", prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(EXIT_USAGE);
}

bool parse_u64(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;

	if (!s || !*s || *s == '-')
		return false;
	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || *end)
		return false;
	*out = v;
	return true;
}

uint64_t arg_u64(const char *opt, const char *s)
{
	uint64_t v;

	if (!parse_u64(s, &v))
		die_setup("%s: not a number: '%s' (see --help)", opt,
			  s ? s : "");
	return v;
}

int ptwalk_self(const void *addr, size_t len, struct ptwalk_sum *s)
{
	static const struct { const char *key; size_t off; } keys[] = {
		{ "windows=", offsetof(struct ptwalk_sum, windows) },
		{ "full=", offsetof(struct ptwalk_sum, full) },
		{ "runs=", offsetof(struct ptwalk_sum, runs) },
		{ "cont=", offsetof(struct ptwalk_sum, cont) },
		{ "cont_partial=", offsetof(struct ptwalk_sum, cont_partial) },
		{ "pmd=", offsetof(struct ptwalk_sum, pmd) },
	};
	char q[96], line[256], *tok, *save;
	size_t i, found = 0;
	uint64_t v;
	FILE *f;
	int fd, n;

	fd = open(PTWALK_FILE, O_WRONLY);
	if (fd < 0)
		return -1;
	n = snprintf(q, sizeof(q), "%ld %#lx %#lx\n", (long)getpid(),
		     (unsigned long)addr, (unsigned long)addr + len);
	if (write(fd, q, (size_t)n) != n) {
		close(fd);
		return -1;
	}
	close(fd);
	f = fopen(PTWALK_FILE, "r");
	if (!f)
		return -1;
	if (!fgets(line, sizeof(line), f) || strncmp(line, "total ", 6)) {
		fclose(f);
		errno = EPROTO;
		return -1;
	}
	fclose(f);
	memset(s, 0, sizeof(*s));
	for (tok = strtok_r(line, " \n", &save); tok;
	     tok = strtok_r(NULL, " \n", &save))
		for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
			size_t kl = strlen(keys[i].key);

			if (strncmp(tok, keys[i].key, kl) ||
			    !parse_u64(tok + kl, &v))
				continue;
			*(long *)((char *)s + keys[i].off) = (long)v;
			found++;
		}
	if (found != sizeof(keys) / sizeof(keys[0])) {
		errno = EPROTO;
		return -1;
	}
	return 0;
}

uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

long minflt_now(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_minflt;
}

void *mmap_aligned(size_t len, size_t align)
{
	char *p, *a;
	size_t head, tail;

	p = mmap(NULL, len + align, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		die_setup("mmap %zu bytes: %s", len + align, strerror(errno));
	a = (char *)align_up((uintptr_t)p, align);
	head = (size_t)(a - p);
	tail = align - head;
	if (head)
		munmap(p, head);
	if (tail)
		munmap(a + len, tail);
	return a;
}

/* ---- pagemap / kpageflags ---- */

static int pagemap_fd = -1;
static int kpageflags_fd = -2;	/* -2: not tried yet */

int pagemap_read(const void *addr, size_t npages, uint64_t *out)
{
	int ret;

	if (pagemap_fd < 0) {
		pagemap_fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
		if (pagemap_fd < 0)
			return -1;
	}
	ret = fpt_pread_full(pagemap_fd, out, npages * sizeof(*out),
			     (uintptr_t)addr / page_size * sizeof(*out));
	if (ret) {
		errno = -ret;
		return -1;
	}
	return 0;
}

/* The run rule and the kpageflags counting are lib/pagemap.c's. */
int region_scan(const void *addr, size_t len, uint64_t *pm, bool want_flags,
		struct region_scan *rs)
{
	size_t n = len / page_size;
	struct fpt_pm_counts c = { 0 };
	uint64_t *buf = pm;

	memset(rs, 0, sizeof(*rs));
	rs->pages = n;
	if (!n)
		return 0;
	if (!buf) {
		buf = malloc(n * sizeof(*buf));
		if (!buf)
			return -1;
	}
	if (pagemap_read(addr, n, buf)) {
		int e = errno;

		if (!pm)
			free(buf);
		errno = e;
		return -1;
	}
	fpt_pm_count((uintptr_t)addr / page_size, buf, n, &c);
	if (want_flags) {
		if (kpageflags_fd == -2)
			kpageflags_fd = open("/proc/kpageflags",
					     O_RDONLY | O_CLOEXEC);
		if (kpageflags_fd >= 0)
			fpt_pm_count_flags(kpageflags_fd, buf, n, &c);
	}
	rs->present = (size_t)c.present;
	rs->windows = (size_t)c.windows;
	rs->runs = (size_t)c.runs;
	rs->compound = (size_t)c.compound;
	rs->thp = (size_t)c.thp;
	rs->pfn_visible = c.pfn_visible;
	rs->kpageflags_ok = c.kpageflags_ok;
	if (!pm)
		free(buf);
	return 0;
}

double coverage_pct(const struct region_scan *rs)
{
	if (!rs->pages)
		return 0.0;
	return (double)rs->runs * (double)win_pages * 100.0 / (double)rs->pages;
}

/* ---- patterns ---- */

uint64_t pattern_word(uint64_t off, uint32_t seed)
{
	uint64_t z = (off >> 3) * 0x9E3779B97F4A7C15ULL +
		     ((uint64_t)seed + 1) * 0xD1B54A32D192ED03ULL;

	z ^= z >> 30;
	z *= 0xBF58476D1CE4E5B9ULL;
	z ^= z >> 27;
	z *= 0x94D049BB133111EBULL;
	z ^= z >> 31;
	return z;
}

void pattern_fill(void *p, size_t len, uint64_t off, uint32_t seed)
{
	uint64_t *w = p;
	size_t i;

	for (i = 0; i < len / 8; i++)
		w[i] = pattern_word(off + i * 8, seed);
}

size_t pattern_verify(const void *p, size_t len, uint64_t off, uint32_t seed)
{
	const volatile uint64_t *w = p;
	size_t i, bad = 0;

	for (i = 0; i < len / 8; i++)
		if (w[i] != pattern_word(off + i * 8, seed))
			bad++;
	return bad;
}

size_t count_nonzero_words(const void *p, size_t len)
{
	const volatile uint64_t *w = p;
	size_t i, bad = 0;

	for (i = 0; i < len / 8; i++)
		if (w[i])
			bad++;
	return bad;
}

void touch_write_keep(void *p)
{
	static bool no_populate;
	uint64_t *w = (uint64_t *)((uintptr_t)p & ~(uintptr_t)7);
	void *pg = (void *)((uintptr_t)p & ~(uintptr_t)(page_size - 1));

	if (!no_populate && !madvise(pg, page_size, MADV_POPULATE_WRITE))
		return;
	no_populate = true;	/* an older kernel: EINVAL */
	__atomic_fetch_add(w, 0, __ATOMIC_RELAXED);
}

/* ---- /proc ---- */

long proc_kv_kb(const char *file, const char *key)
{
	FILE *f = fopen(file, "re");
	char line[256];
	size_t kl = strlen(key);
	long v = -1;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (!strncmp(line, key, kl) && line[kl] == ':') {
			v = strtol(line + kl + 1, NULL, 10);
			break;
		}
	}
	fclose(f);
	return v;
}

long smaps_sum_kb(const void *start, const void *end, const char *field)
{
	FILE *f = fopen("/proc/self/smaps", "re");
	char line[512];
	size_t fl = strlen(field);
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
		if (in && !strncmp(line, field, fl) && line[fl] == ':')
			sum += strtol(line + fl + 1, NULL, 10);
	}
	fclose(f);
	return sum;
}

long long read_file_ll(const char *path)
{
	FILE *f = fopen(path, "re");
	long long v;

	if (!f)
		return -1;
	if (fscanf(f, "%lld", &v) != 1)
		v = -1;
	fclose(f);
	return v;
}

/* The buddyinfo parser is lib/frag.c's. */
int buddy_read(struct buddy_summary *bs)
{
	FILE *f = fopen("/proc/buddyinfo", "re");
	uint64_t page_kb = page_size / KB;
	struct fpt_frag *fr;
	char text[16384];
	size_t n;
	int i, o;

	memset(bs, 0, sizeof(*bs));
	if (!f)
		return -1;
	n = fread(text, 1, sizeof(text) - 1, f);
	fclose(f);
	text[n] = 0;
	fr = malloc(sizeof(*fr));
	if (!fr)
		return -1;
	if (fpt_frag_parse_buddyinfo(text, fr)) {
		free(fr);
		errno = EINVAL;
		return -1;
	}
	bs->free_kb = fr->free_pages * page_kb;
	bs->free_ge64k_kb = fr->free_pages_ge64k * page_kb;
	for (i = 0; i < fr->nr_zones; i++) {
		const struct fpt_frag_zone *z = &fr->zones[i];

		if (strcmp(z->zone, "DMA"))
			bs->free_ge64k_nodma_kb +=
				fpt_frag_zone_free_ge64k(z) * page_kb;
		for (o = FPT_FRAG_ORDER_64K; o < z->nr_orders; o++)
			bs->nr_ge64k_blocks += z->free_blocks[o];
	}
	free(fr);
	return 0;
}

/*
 * Find the mount of cgroup2 (v2) or of the v1 hierarchy with the memory
 * controller: its mount point and the root of the hierarchy it shows.
 */
int cgroup_mount(bool v2, char *mnt, size_t mlen, char *root, size_t rlen)
{
	FILE *f = fopen("/proc/self/mountinfo", "re");
	char line[4096];
	int ret = -1;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		char r[1024], m[1024], fstype[64], super[1024];
		char *dash = strstr(line, " - ");

		if (!dash ||
		    sscanf(line, "%*s %*s %*s %1023s %1023s", r, m) != 2 ||
		    sscanf(dash + 3, "%63s %*s %1023s", fstype, super) != 2)
			continue;
		if (v2 ? strcmp(fstype, "cgroup2") :
			 (strcmp(fstype, "cgroup") ||
			  !strstr(super, "memory")))
			continue;
		snprintf(mnt, mlen, "%s", m);
		snprintf(root, rlen, "%s", r);
		ret = 0;
		break;
	}
	fclose(f);
	return ret;
}

long long memcg_headroom_kb(void)
{
	FILE *f = fopen("/proc/self/cgroup", "re");
	char line[1024], mnt[1024], root[1024], dir[4096];
	char v1path[1024] = "", v2path[1024] = "";
	const char *cg, *limf, *usef;
	long long best = -1;
	bool v2;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		/* "hierarchy-id:controller-list:path" */
		char *c1 = strchr(line, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
		char *ctrl;

		if (!c2)
			continue;
		line[strcspn(line, "\n")] = 0;
		*c1 = *c2 = 0;
		ctrl = c1 + 1;
		if (!strcmp(line, "0") && !*ctrl)
			snprintf(v2path, sizeof(v2path), "%s", c2 + 1);
		else if (strstr(ctrl, "memory"))
			snprintf(v1path, sizeof(v1path), "%s", c2 + 1);
	}
	fclose(f);
	v2 = !v1path[0];
	cg = v2 ? v2path : v1path;
	if (!cg[0] || cgroup_mount(v2, mnt, sizeof(mnt), root, sizeof(root)))
		return -1;
	limf = v2 ? "memory.max" : "memory.limit_in_bytes";
	usef = v2 ? "memory.current" : "memory.usage_in_bytes";
	/* the cgroup path relative to the root the mount shows */
	if (strcmp(root, "/") && !strncmp(cg, root, strlen(root)))
		cg += strlen(root);
	snprintf(dir, sizeof(dir), "%s%s", mnt, cg);
	for (;;) {
		char p[4200];
		long long lim, use;
		char *slash;

		snprintf(p, sizeof(p), "%s/%s", dir, limf);
		lim = read_file_ll(p);	/* "max" reads as -1 */
		snprintf(p, sizeof(p), "%s/%s", dir, usef);
		use = read_file_ll(p);
		if (lim > 0 && lim < (1LL << 60) && use >= 0) {
			long long h = (lim - use) / 1024;

			if (h < 0)
				h = 0;
			if (best < 0 || h < best)
				best = h;
		}
		if (strlen(dir) <= strlen(mnt))
			break;
		slash = strrchr(dir, '/');
		if (!slash)
			break;
		*slash = 0;
	}
	return best;
}

/* ---- holding ---- */

static volatile sig_atomic_t hold_sig;
static sigset_t hold_waitmask;

static void hold_handler(int sig)
{
	hold_sig = sig;
}

void hold_prepare(void)
{
	struct sigaction sa;
	sigset_t block;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = hold_handler;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	sigprocmask(SIG_BLOCK, &block, &hold_waitmask);
	sigdelset(&hold_waitmask, SIGTERM);
	sigdelset(&hold_waitmask, SIGINT);
}

int hold_wait(bool use_stdin, int tick_ms, void (*tick)(void *), void *arg)
{
	struct pollfd pfd = { .fd = 0, .events = POLLIN };
	uint64_t next = now_ns() + (uint64_t)tick_ms * 1000000ULL;

	for (;;) {
		struct timespec ts, *tsp = NULL;
		int n;

		if (tick) {
			uint64_t now = now_ns();
			uint64_t left = next > now ? next - now : 0;

			ts.tv_sec = (time_t)(left / 1000000000ULL);
			ts.tv_nsec = (long)(left % 1000000000ULL);
			tsp = &ts;
		}
		n = ppoll(use_stdin ? &pfd : NULL, use_stdin ? 1 : 0, tsp,
			  &hold_waitmask);
		if (hold_sig)
			return hold_sig;
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return 0;	/* should not happen: treat as EOF */
		}
		if (n == 0) {
			if (tick) {
				tick(arg);
				next += (uint64_t)tick_ms * 1000000ULL;
			}
			continue;
		}
		if (pfd.revents & POLLNVAL)
			return 0;
		if (pfd.revents & (POLLIN | POLLHUP | POLLERR)) {
			char buf[256];
			ssize_t r = read(0, buf, sizeof(buf));

			if (r == 0 || (r < 0 && errno != EINTR &&
				       errno != EAGAIN))
				return 0;
		}
	}
}
