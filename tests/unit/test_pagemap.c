// SPDX-License-Identifier: GPL-2.0
/* lib/pagemap.c: the 64 KB run rule on synthetic pagemap arrays. */
#define _GNU_SOURCE
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/shm.h>
#include <unistd.h>
#include <cmocka.h>

#include "pagemap.h"

#define P(pfn)	(FPT_PM_PRESENT | (uint64_t)(pfn))
#define NPAGES	256

static uint64_t pm[NPAGES];

/* @n present pages on consecutive PFNs from @pfn0. */
static void fill(uint64_t *e, size_t n, uint64_t pfn0)
{
	size_t i;

	for (i = 0; i < n; i++)
		e[i] = P(pfn0 + i);
}

static struct fpt_pm_counts count(uint64_t vpn, const uint64_t *e, size_t n)
{
	struct fpt_pm_counts c;

	memset(&c, 0, sizeof(c));
	fpt_pm_count(vpn, e, n, &c);
	return c;
}

static int setup(void **state)
{
	(void)state;
	if (fpt_pm_win_pages() != 16)
		return -1;		/* the fixtures assume 4 KB pages */
	memset(pm, 0, sizeof(pm));
	return 0;
}

static void all_runs(void **state)
{
	struct fpt_pm_counts c;

	(void)state;
	fill(pm, NPAGES, 0x10000);		/* aligned, contiguous */
	c = count(0x1000, pm, NPAGES);
	assert_int_equal(c.pages, NPAGES);
	assert_int_equal(c.present, NPAGES);
	assert_int_equal(c.windows, NPAGES / 16);
	assert_int_equal(c.runs, NPAGES / 16);
	assert_int_equal(fpt_pm_run_pages(&c), NPAGES);
	assert_true(c.pfn_visible);
}

static void misaligned_pfns(void **state)
{
	struct fpt_pm_counts c;

	(void)state;
	fill(pm, NPAGES, 0x10001);		/* contiguous, PFN % 16 == 1 */
	c = count(0x1000, pm, NPAGES);
	assert_int_equal(c.windows, 16);
	assert_int_equal(c.runs, 0);
}

static void one_break(void **state)
{
	struct fpt_pm_counts c;

	(void)state;
	fill(pm, NPAGES, 0x20000);
	pm[16 + 7] = P(0x99999);		/* window 1: a foreign page */
	pm[32 + 15] = 0;			/* window 2: a hole at its end */
	pm[48] = FPT_PM_SWAPPED;		/* window 3: swapped first page */
	c = count(0, pm, NPAGES);
	assert_int_equal(c.runs, 16 - 3);
	assert_int_equal(c.present, NPAGES - 2);
	assert_int_equal(c.swapped, 1);
}

static void reversed_pfns(void **state)
{
	struct fpt_pm_counts c;
	size_t i;

	(void)state;
	/* descending PFNs (a 4 KB allocator touched in reverse): no run */
	for (i = 0; i < NPAGES; i++)
		pm[i] = P(0x40000 + NPAGES - 1 - i);
	c = count(0, pm, NPAGES);
	assert_int_equal(c.runs, 0);
	assert_int_equal(c.present, NPAGES);
}

static void unaligned_start(void **state)
{
	struct fpt_pm_counts c;

	(void)state;
	/*
	 * The range starts 3 pages into a 64 KB window: only the aligned
	 * windows wholly inside count.  VPNs 0x1003.. map PFNs so that the
	 * aligned VPN 0x1010 lands on PFN 0x5010 (aligned).
	 */
	fill(pm, NPAGES, 0x5003);
	c = count(0x1003, pm, NPAGES);
	/* windows at VPN 0x1010, 0x1020, ... up to <= 0x1003 + 256 - 16 */
	assert_int_equal(c.windows, (0x1003 + NPAGES) / 16 - 0x1010 / 16);
	assert_int_equal(c.runs, c.windows);
	/* the same pages seen from an aligned VPN whose PFNs are not */
	c = count(0x1000, pm, NPAGES);
	assert_int_equal(c.windows, 16);
	assert_int_equal(c.runs, 0);
}

static void short_ranges(void **state)
{
	struct fpt_pm_counts c;

	(void)state;
	fill(pm, 16, 0x100);
	c = count(0, pm, 15);			/* one page short */
	assert_int_equal(c.windows, 0);
	assert_int_equal(c.runs, 0);
	c = count(0, pm, 16);
	assert_int_equal(c.windows, 1);
	assert_int_equal(c.runs, 1);
	c = count(0, pm, 0);
	assert_int_equal(c.pages, 0);
	assert_int_equal(c.windows, 0);
}

static void hidden_pfns(void **state)
{
	struct fpt_pm_counts c;
	size_t i;

	(void)state;
	/* present but PFN 0: what an unprivileged reader sees */
	for (i = 0; i < 64; i++)
		pm[i] = FPT_PM_PRESENT;
	c = count(0, pm, 64);
	assert_int_equal(c.present, 64);
	assert_false(c.pfn_visible);
	assert_int_equal(c.runs, 0);
}

static void accumulate(void **state)
{
	struct fpt_pm_counts a, b;

	(void)state;
	fill(pm, 32, 0x200);
	a = count(0, pm, 32);
	b = count(0, pm, 16);
	fpt_pm_add(&a, &b);
	assert_int_equal(a.pages, 48);
	assert_int_equal(a.runs, 3);
	assert_int_equal(a.windows, 3);
}

static void maps_lines(void **state)
{
	struct fpt_vma v;

	(void)state;
	assert_int_equal(fpt_maps_parse_line(
		"7f2a1c000000-7f2a1c021000 rw-p 00000000 00:00 0 \n", &v), 0);
	assert_true(v.start == 0x7f2a1c000000ULL);
	assert_true(v.end == 0x7f2a1c021000ULL);
	assert_string_equal(v.perms, "rw-p");
	assert_string_equal(v.path, "");
	assert_true(v.anon);
	assert_int_equal(fpt_maps_parse_line(
		"55d0c0e2a000-55d0c0e4b000 rw-p 00000000 00:00 0          "
		"[heap]", &v), 0);
	assert_string_equal(v.path, "[heap]");
	assert_true(v.anon);
	assert_int_equal(fpt_maps_parse_line(
		"7ffd6a3c1000-7ffd6a3e2000 rw-p 00000000 00:00 0    [stack]\n",
		&v), 0);
	assert_true(v.anon);
	assert_int_equal(fpt_maps_parse_line(
		"7f00-8f00 rw-p 00000000 00:00 0 [anon:jemalloc]\n", &v), 0);
	assert_true(v.anon);
	/* file-backed, shared, vdso: not private anonymous */
	assert_int_equal(fpt_maps_parse_line(
		"7f2a1c400000-7f2a1c428000 r--p 00000000 fe:01 1835 "
		"/usr/lib/x86_64-linux-gnu/libc.so.6\n", &v), 0);
	assert_false(v.anon);
	assert_int_equal(v.inode, 1835);
	assert_string_equal(v.path, "/usr/lib/x86_64-linux-gnu/libc.so.6");
	assert_int_equal(fpt_maps_parse_line(
		"7f00-8f00 rw-s 00000000 00:01 42 /dev/zero (deleted)\n", &v),
		0);
	assert_false(v.anon);
	assert_true(v.shmem);		/* MAP_SHARED|MAP_ANONYMOUS */
	assert_string_equal(v.path, "/dev/zero (deleted)");
	/* SysV shm, memfd: shared anonymous memory too */
	assert_int_equal(fpt_maps_parse_line(
		"7f00-8f00 rw-s 00000000 00:01 7 /SYSV0052e2c1 (deleted)\n",
		&v), 0);
	assert_true(v.shmem);
	assert_false(v.anon);
	/* the first segment of an IPC namespace: shmid, so inode, 0 */
	assert_int_equal(fpt_maps_parse_line(
		"7f00-8f00 rw-s 00000000 00:01 0 /SYSV00000000 (deleted)\n",
		&v), 0);
	assert_true(v.shmem);
	assert_false(v.anon);
	assert_int_equal(fpt_maps_parse_line(
		"7f00-8f00 r--s 00000000 00:01 9 /memfd:wayland (deleted)\n",
		&v), 0);
	assert_true(v.shmem);
	/* the same objects mapped private, a shared file, a bad SysV name */
	assert_int_equal(fpt_maps_parse_line(
		"7f00-8f00 rw-p 00000000 00:01 9 /memfd:x (deleted)\n", &v), 0);
	assert_false(v.shmem);
	assert_false(v.anon);
	assert_int_equal(fpt_maps_parse_line(
		"7f00-8f00 rw-p 00000000 00:05 4 /dev/zero\n", &v), 0);
	assert_false(v.shmem);
	assert_int_equal(fpt_maps_parse_line(
		"7f00-8f00 rw-s 00000000 fe:01 1835 /var/lib/db/file\n", &v), 0);
	assert_false(v.shmem);
	assert_false(v.anon);
	assert_int_equal(fpt_maps_parse_line(
		"7f00-8f00 rw-s 00000000 00:01 7 /SYSVxyz (deleted)\n", &v), 0);
	assert_false(v.shmem);
	assert_int_equal(fpt_maps_parse_line(
		"7f2a1c000000-7f2a1c021000 rw-p 00000000 00:00 0 \n", &v), 0);
	assert_false(v.shmem);
	assert_int_equal(fpt_maps_parse_line(
		"7ffd6a3f0000-7ffd6a3f2000 r-xp 00000000 00:00 0 [vdso]\n", &v),
		0);
	assert_false(v.anon);
	/* malformed */
	assert_int_equal(fpt_maps_parse_line("", &v), -EINVAL);
	assert_int_equal(fpt_maps_parse_line("7f00-7e00 rw-p 0 00:00 0\n",
					     &v), -EINVAL);
	assert_int_equal(fpt_maps_parse_line("xyz\n", &v), -EINVAL);
}

/* The real thing: this process's own memory through fpt_scan_pid(). */
static int self_cb(const struct fpt_vma *v, const struct fpt_pm_counts *c,
		   void *arg)
{
	int *n = arg;

	(void)c;
	assert_true(v->anon);
	(*n)++;
	return 0;
}

/* Shared anonymous memory of this process, found by kind. */
struct kinds_seen {
	uintptr_t addr[3];		/* MAP_SHARED anon, memfd, SysV */
	uint64_t present[3];
	int anon, shmem, other;
};

static int kinds_cb(const struct fpt_vma *v, const struct fpt_pm_counts *c,
		    void *arg)
{
	struct kinds_seen *k = arg;
	int i;

	if (v->anon)
		k->anon++;
	else if (v->shmem)
		k->shmem++;
	else
		k->other++;
	for (i = 0; i < 3; i++)
		if (v->start <= k->addr[i] && k->addr[i] < v->end) {
			assert_true(v->shmem);
			assert_false(v->anon);
			k->present[i] += c->present;
		}
	return 0;
}

static void scan_kinds(void **state)
{
	const size_t len = 256 * 1024;
	struct fpt_pm_counts total;
	struct kinds_seen k;
	char *m[3];
	int fd, id, i;

	(void)state;
	m[0] = mmap(NULL, len, PROT_READ | PROT_WRITE,
		    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	assert_true(m[0] != MAP_FAILED);
	fd = memfd_create("fpt-unit", MFD_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, (off_t)len), 0);
	m[1] = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	assert_true(m[1] != MAP_FAILED);
	id = shmget(IPC_PRIVATE, len, IPC_CREAT | 0600);
	assert_true(id >= 0);
	m[2] = shmat(id, NULL, 0);
	assert_true(m[2] != (void *)-1);
	shmctl(id, IPC_RMID, NULL);
	for (i = 0; i < 3; i++)
		memset(m[i], 0x5a, len);

	/* shared anonymous memory only (scanning the private anonymous
	 * memory of an ASan process, with its shadow, takes long: scan_self
	 * does that once) */
	memset(&k, 0, sizeof(k));
	for (i = 0; i < 3; i++)
		k.addr[i] = (uintptr_t)m[i];
	assert_int_equal(fpt_scan_pid(getpid(), FPT_VMA_SHMEM, false, kinds_cb,
				      &k, &total), 0);
	assert_int_equal(k.anon, 0);
	assert_int_equal(k.other, 0);
	assert_true(k.shmem >= 3);
	for (i = 0; i < 3; i++)
		assert_int_equal(k.present[i], len / fpt_pm_page_size());
	assert_true(total.present >= 3 * len / fpt_pm_page_size());
	munmap(m[0], len);
	munmap(m[1], len);
	close(fd);
	shmdt(m[2]);
}

static void scan_self(void **state)
{
	struct fpt_pm_counts total;
	int n = 0, r;

	(void)state;
	r = fpt_scan_pid(getpid(), FPT_VMA_ANON, false, self_cb, &n, &total);
	assert_int_equal(r, 0);
	assert_true(n > 0);			/* heap or stack at least */
	assert_true(total.present > 0);
	assert_true(total.pages >= total.present);
	assert_int_equal(fpt_scan_pid(0, FPT_VMA_ANON, false, NULL, NULL,
				      &total),
			 -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(all_runs, setup),
		cmocka_unit_test_setup(misaligned_pfns, setup),
		cmocka_unit_test_setup(one_break, setup),
		cmocka_unit_test_setup(reversed_pfns, setup),
		cmocka_unit_test_setup(unaligned_start, setup),
		cmocka_unit_test_setup(short_ranges, setup),
		cmocka_unit_test_setup(hidden_pfns, setup),
		cmocka_unit_test_setup(accumulate, setup),
		cmocka_unit_test(maps_lines),
		cmocka_unit_test(scan_self),
		cmocka_unit_test(scan_kinds),
	};

	return cmocka_run_group_tests_name("pagemap", tests, NULL, NULL);
}
