/* SPDX-License-Identifier: MIT */
/*
 * 64 KB run counting from /proc/PID/pagemap (and /proc/kpageflags), in the
 * spirit of the kernel's tools/mm/thpmaps.  Shared by fptctl scan and the
 * in-guest tests (tests/guest/common.c): the one copy of the run rule.
 *
 * A run is an aligned 64 KB window of virtual memory (16 pages of 4 KB)
 * whose pages are all present, on consecutive PFNs, the first PFN a
 * multiple of 16: physically contiguous and aligned.
 */
#ifndef FPT_PAGEMAP_H
#define FPT_PAGEMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FPT_PM_PRESENT		(1ULL << 63)
#define FPT_PM_SWAPPED		(1ULL << 62)
#define FPT_PM_PFN_MASK		((1ULL << 55) - 1)
#define FPT_WIN_SIZE		(64UL * 1024UL)

/* Counts over a range; every function here adds to them (zero first). */
struct fpt_pm_counts {
	uint64_t pages;		/* pages in the range */
	uint64_t present;	/* present pages */
	uint64_t swapped;	/* swapped-out pages */
	uint64_t windows;	/* aligned 64 KB windows wholly inside */
	uint64_t runs;		/* windows that are runs */
	uint64_t compound;	/* present pages with KPF_COMPOUND_HEAD/TAIL */
	uint64_t thp;		/* present pages with KPF_THP */
	bool pfn_visible;	/* some present page had a nonzero PFN */
	bool kpageflags_ok;	/* compound/thp were read (kpageflags) */
};

size_t fpt_pm_page_size(void);		/* sysconf(_SC_PAGESIZE) */
size_t fpt_pm_win_pages(void);		/* FPT_WIN_SIZE / page size (16) */

/* Pages of the range that are in runs (runs * 16). */
uint64_t fpt_pm_run_pages(const struct fpt_pm_counts *c);

/*
 * Count @n pagemap entries @pm of the pages from virtual page number
 * @first_vpn on: pages, present, swapped, windows, runs, pfn_visible.
 * Pure (unit-tested on synthetic arrays).
 */
void fpt_pm_count(uint64_t first_vpn, const uint64_t *pm, size_t n,
		  struct fpt_pm_counts *c);

/*
 * compound/thp of the present pages of @pm from /proc/kpageflags (@kpf_fd).
 * Sets c->kpageflags_ok; 0 or a negative errno (then kpageflags_ok false).
 */
int fpt_pm_count_flags(int kpf_fd, const uint64_t *pm, size_t n,
		       struct fpt_pm_counts *c);

void fpt_pm_add(struct fpt_pm_counts *to, const struct fpt_pm_counts *from);

/* pread() all of @len bytes at @off; 0 or a negative errno (-EIO at EOF). */
int fpt_pread_full(int fd, void *buf, size_t len, uint64_t off);

/*
 * Count the pages [start, end) (page aligned) of the process whose pagemap
 * is @pm_fd, reading it in pieces through @buf (@buf_entries entries, a
 * multiple of 16); flags from @kpf_fd unless it is < 0.  0 or -errno.
 */
int fpt_pm_scan_range(int pm_fd, int kpf_fd, uint64_t start, uint64_t end,
		      uint64_t *buf, size_t buf_entries,
		      struct fpt_pm_counts *c);

/* ---- processes ---- */

struct fpt_vma {
	uint64_t start, end;
	char perms[5];		/* "rw-p" */
	uint64_t offset;
	char dev[16];
	uint64_t inode;
	char path[4096];	/* "" for anonymous mappings */
	bool anon;		/* private anonymous (heap, stack, mmap) */
	bool shmem;		/* shared anonymous memory: MAP_SHARED|
				 * MAP_ANONYMOUS ("/dev/zero (deleted)"),
				 * SysV shm ("/SYSV........ (deleted)"),
				 * memfd ("/memfd:..."), mapped shared */
};

/* Parse one /proc/PID/maps line (without or with its '\n'). 0 or -EINVAL. */
int fpt_maps_parse_line(const char *line, struct fpt_vma *v);

/* Which VMAs fpt_scan_pid() scans (accessible ones: never PROT_NONE). */
#define FPT_VMA_ANON	1u	/* private anonymous (fpt_vma.anon) */
#define FPT_VMA_SHMEM	2u	/* shared anonymous memory (fpt_vma.shmem) */
#define FPT_VMA_ALL	(~0u)	/* every VMA, PROT_NONE ones too */

/*
 * Scan the VMAs of process @pid that @kinds selects (FPT_VMA_*; never
 * [vsyscall]), calling @cb per VMA (nonzero return stops) and adding all
 * into @total (zeroed here).  @want_flags: read /proc/kpageflags too (a
 * failure there only leaves kpageflags_ok false).  0 or a negative errno:
 * -ESRCH (no such process), -EACCES/-EPERM (not allowed).
 */
typedef int (*fpt_vma_cb)(const struct fpt_vma *v,
			  const struct fpt_pm_counts *c, void *arg);
int fpt_scan_pid(int pid, unsigned int kinds, bool want_flags, fpt_vma_cb cb,
		 void *arg, struct fpt_pm_counts *total);

#endif
