// SPDX-License-Identifier: GPL-2.0
/*
 * fpt-sim: reading a process's layout from /proc/PID/{maps,pagemap,status}.
 * All the arithmetic is in model.c (fpt_pm_*); this file only does I/O.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "fptsim.h"

#define CHUNK 4096	/* pagemap entries per read: 16 MiB of VA */

/*
 * PAGEMAP_SCAN (Linux 6.7+, include/uapi/linux/fs.h) finds the populated
 * ranges of a VMA without reading one pagemap entry per page: reserved
 * terabytes (sanitizers, JVMs, Go) cost nothing.  Older kernels answer
 * ENOTTY/EINVAL and every page of every VMA is read instead.  Defined here
 * because older userspace headers lack it; the ABI is fixed.
 */
#ifndef PAGEMAP_SCAN
struct page_region {
	uint64_t start, end, categories;
};

struct pm_scan_arg {
	uint64_t size, flags, start, end, walk_end, vec, vec_len, max_pages;
	uint64_t category_inverted, category_mask, category_anyof_mask;
	uint64_t return_mask;
};

#define PAGEMAP_SCAN	_IOWR('f', 16, struct pm_scan_arg)
#define PAGE_IS_PRESENT	(1 << 3)
#define PAGE_IS_SWAPPED	(1 << 4)
#endif

#define NREGIONS 256

static void read_status(const char *pid, struct fpt_procinfo *info)
{
	char path[64], line[256];
	FILE *f;

	info->vmpte_bytes = -1;
	snprintf(path, sizeof(path), "/proc/%s/status", pid);
	f = fopen(path, "re");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		unsigned long long kb;

		if (!strncmp(line, "Name:", 5)) {
			char *p = line + 5;

			p += strspn(p, " \t");
			p[strcspn(p, "\n")] = 0;
			snprintf(info->comm, sizeof(info->comm), "%s", p);
		} else if (sscanf(line, "VmPTE: %llu kB", &kb) == 1) {
			info->vmpte_bytes = (int64_t)(kb * 1024);
		}
	}
	fclose(f);
}

/* reads the pagemap entries of [start, end) into pm */
static int read_range(int fd, uint64_t start, uint64_t end, struct fpt_pm *pm,
		      uint64_t *buf, char *err, size_t errlen)
{
	uint64_t vpn = start >> FPT_PAGE_SHIFT, last = end >> FPT_PAGE_SHIFT;

	while (vpn < last) {
		size_t want = last - vpn < CHUNK ? (size_t)(last - vpn) : CHUNK;
		ssize_t got = pread(fd, buf, want * 8, (off_t)(vpn * 8));
		size_t i, n;

		if (got < 0) {
			snprintf(err, errlen, "pagemap read at 0x%" PRIx64
				 ": %s", vpn << FPT_PAGE_SHIFT, strerror(errno));
			return -1;
		}
		n = (size_t)got / 8;
		if (!n)
			break;	/* VMA gone or beyond what pagemap reports */
		for (i = 0; i < n; i++)
			if (buf[i])	/* none: not populated, nothing to count */
				fpt_pm_add_entry(pm, vpn + i, buf[i]);
		vpn += n;
	}
	return 0;
}

static int scan_vma(int fd, uint64_t start, uint64_t end, struct fpt_pm *pm,
		    uint64_t *buf, bool *no_scan, char *err, size_t errlen)
{
	struct page_region reg[NREGIONS];
	struct pm_scan_arg arg;
	uint64_t at = start;

	while (!*no_scan && at < end) {
		long n, i;

		memset(&arg, 0, sizeof(arg));
		arg.size = sizeof(arg);
		arg.start = at;
		arg.end = end;
		arg.vec = (uint64_t)(uintptr_t)reg;
		arg.vec_len = NREGIONS;
		arg.category_anyof_mask = PAGE_IS_PRESENT | PAGE_IS_SWAPPED;
		arg.return_mask = PAGE_IS_PRESENT | PAGE_IS_SWAPPED;
		n = ioctl(fd, PAGEMAP_SCAN, &arg);
		if (n < 0) {
			if (at != start) {
				snprintf(err, errlen, "PAGEMAP_SCAN at 0x%"
					 PRIx64 ": %s", at, strerror(errno));
				return -1;
			}
			*no_scan = true;	/* old kernel: read it all */
			break;
		}
		for (i = 0; i < n; i++)
			if (read_range(fd, reg[i].start, reg[i].end, pm, buf,
				       err, errlen))
				return -1;
		if (arg.walk_end <= at)
			break;		/* no progress: should not happen */
		at = arg.walk_end;
	}
	if (*no_scan && at < end)
		return read_range(fd, at, end, pm, buf, err, errlen);
	return 0;
}

int fpt_proc_scan(const char *pid, bool anon_only, struct fpt_pm *pm,
		  struct fpt_procinfo *info, char *err, size_t errlen)
{
	char path[64], *line = NULL;
	size_t cap = 0;
	uint64_t *buf;
	FILE *maps;
	bool no_scan = getenv("FPT_SIM_NO_PAGEMAP_SCAN") != NULL;
	int fd, rc = 0;

	memset(info, 0, sizeof(*info));
	fpt_pm_init(pm);
	snprintf(path, sizeof(path), "/proc/%s/maps", pid);
	maps = fopen(path, "re");
	if (!maps) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	snprintf(path, sizeof(path), "/proc/%s/pagemap", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		fclose(maps);
		return -1;
	}
	buf = malloc(CHUNK * sizeof(*buf));
	if (!buf) {
		snprintf(err, errlen, "out of memory");
		rc = -1;
		goto out;
	}
	read_status(pid, info);

	while (getline(&line, &cap, maps) > 0) {
		uint64_t start, end;
		const char *vpath;
		char perms[5];

		line[strcspn(line, "\n")] = 0;
		if (fpt_parse_maps_line(line, &start, &end, perms, &vpath))
			continue;
		if (start >= FPT_VA_LIMIT || (anon_only && !fpt_maps_is_anon(vpath))) {
			info->skipped_vmas++;	/* e.g. [vsyscall] */
			continue;
		}
		if (end > FPT_VA_LIMIT)
			end = FPT_VA_LIMIT;
		/* maps is sorted; a racing mmap could still reorder it */
		if (fpt_pm_add_vma(pm, start, end)) {
			info->skipped_vmas++;
			continue;
		}
		if (scan_vma(fd, start, end, pm, buf, &no_scan, err, errlen)) {
			rc = -1;
			break;
		}
	}
out:
	free(line);
	free(buf);
	close(fd);
	fclose(maps);
	return rc;
}
