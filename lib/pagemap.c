// SPDX-License-Identifier: MIT
/* 64 KB run counting from pagemap and kpageflags (see pagemap.h). */
#define _GNU_SOURCE
#include "pagemap.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/kernel-page-flags.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

size_t fpt_pm_page_size(void)
{
	static size_t ps;

	if (!ps) {
		long v = sysconf(_SC_PAGESIZE);

		ps = v > 0 ? (size_t)v : 4096;
	}
	return ps;
}

size_t fpt_pm_win_pages(void)
{
	size_t ps = fpt_pm_page_size();

	return ps < FPT_WIN_SIZE ? FPT_WIN_SIZE / ps : 1;
}

uint64_t fpt_pm_run_pages(const struct fpt_pm_counts *c)
{
	return c->runs * fpt_pm_win_pages();
}

void fpt_pm_count(uint64_t first_vpn, const uint64_t *pm, size_t n,
		  struct fpt_pm_counts *c)
{
	uint64_t wp = fpt_pm_win_pages(), vpn;
	size_t i;

	c->pages += n;
	for (i = 0; i < n; i++) {
		if (pm[i] & FPT_PM_PRESENT) {
			c->present++;
			if (pm[i] & FPT_PM_PFN_MASK)
				c->pfn_visible = true;
		} else if (pm[i] & FPT_PM_SWAPPED) {
			c->swapped++;
		}
	}
	for (vpn = (first_vpn + wp - 1) / wp * wp; vpn + wp <= first_vpn + n;
	     vpn += wp) {
		const uint64_t *e = pm + (vpn - first_vpn);
		uint64_t pfn0 = e[0] & FPT_PM_PFN_MASK, k;

		c->windows++;
		if (!(e[0] & FPT_PM_PRESENT) || !pfn0 || pfn0 % wp)
			continue;
		for (k = 1; k < wp; k++)
			if (!(e[k] & FPT_PM_PRESENT) ||
			    (e[k] & FPT_PM_PFN_MASK) != pfn0 + k)
				break;
		if (k == wp)
			c->runs++;
	}
}

void fpt_pm_add(struct fpt_pm_counts *to, const struct fpt_pm_counts *from)
{
	to->pages += from->pages;
	to->present += from->present;
	to->swapped += from->swapped;
	to->windows += from->windows;
	to->runs += from->runs;
	to->compound += from->compound;
	to->thp += from->thp;
	to->pfn_visible |= from->pfn_visible;
	to->kpageflags_ok |= from->kpageflags_ok;
}

int fpt_pread_full(int fd, void *buf, size_t len, uint64_t off)
{
	char *b = buf;

	while (len) {
		ssize_t n = pread(fd, b, len, (off_t)off);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			return -EIO;
		b += n;
		len -= (size_t)n;
		off += (uint64_t)n;
	}
	return 0;
}

#define KPF_BATCH 1024

int fpt_pm_count_flags(int kpf_fd, const uint64_t *pm, size_t n,
		       struct fpt_pm_counts *c)
{
	uint64_t flags[KPF_BATCH];
	size_t i = 0;
	int ret;

	c->kpageflags_ok = true;
	while (i < n) {
		uint64_t pfn0;
		size_t j, len;

		if (!(pm[i] & FPT_PM_PRESENT) || !(pm[i] & FPT_PM_PFN_MASK)) {
			i++;
			continue;
		}
		/* a batch of present pages with consecutive PFNs */
		pfn0 = pm[i] & FPT_PM_PFN_MASK;
		for (len = 1; i + len < n && len < KPF_BATCH; len++) {
			uint64_t e = pm[i + len];

			if (!(e & FPT_PM_PRESENT) ||
			    (e & FPT_PM_PFN_MASK) != pfn0 + len)
				break;
		}
		ret = fpt_pread_full(kpf_fd, flags, len * sizeof(*flags),
				     pfn0 * sizeof(*flags));
		if (ret) {
			c->kpageflags_ok = false;
			return ret;
		}
		for (j = 0; j < len; j++) {
			if (flags[j] & ((1ULL << KPF_COMPOUND_HEAD) |
					(1ULL << KPF_COMPOUND_TAIL)))
				c->compound++;
			if (flags[j] & (1ULL << KPF_THP))
				c->thp++;
		}
		i += len;
	}
	return 0;
}

int fpt_pm_scan_range(int pm_fd, int kpf_fd, uint64_t start, uint64_t end,
		      uint64_t *buf, size_t buf_entries,
		      struct fpt_pm_counts *c)
{
	uint64_t ps = fpt_pm_page_size(), wp = fpt_pm_win_pages();
	uint64_t vpn = start / ps, last = end / ps;
	uint64_t chunk = buf_entries / wp * wp;
	bool flags_failed = false;
	int ret;

	if (!chunk)
		return -EINVAL;
	while (vpn < last) {
		/* pieces aligned to the chunk size keep every window whole */
		uint64_t stop = (vpn / chunk + 1) * chunk;
		size_t n;

		if (stop > last)
			stop = last;
		n = (size_t)(stop - vpn);
		ret = fpt_pread_full(pm_fd, buf, n * sizeof(*buf),
				     vpn * sizeof(*buf));
		if (ret)
			return ret;
		fpt_pm_count(vpn, buf, n, c);
		if (kpf_fd >= 0 && !flags_failed) {
			struct fpt_pm_counts f = { 0 };

			if (fpt_pm_count_flags(kpf_fd, buf, n, &f))
				flags_failed = true;
			c->compound += f.compound;
			c->thp += f.thp;
		}
		vpn = stop;
	}
	c->kpageflags_ok = kpf_fd >= 0 && !flags_failed;
	return 0;
}

/* ---- processes ---- */

int fpt_maps_parse_line(const char *line, struct fpt_vma *v)
{
	unsigned long long start, end, offset, inode;
	char perms[8], dev[16];
	int pos = 0;
	const char *p;
	size_t l;

	memset(v, 0, sizeof(*v));
	if (sscanf(line, "%llx-%llx %7s %llx %15s %llu%n", &start, &end, perms,
		   &offset, dev, &inode, &pos) != 6 || !pos ||
	    strlen(perms) != 4 || end < start)
		return -EINVAL;
	v->start = start;
	v->end = end;
	memcpy(v->perms, perms, 5);
	v->offset = offset;
	snprintf(v->dev, sizeof(v->dev), "%s", dev);
	v->inode = inode;
	p = line + pos;
	while (*p == ' ' || *p == '\t')
		p++;
	l = strcspn(p, "\n");
	if (l >= sizeof(v->path))
		l = sizeof(v->path) - 1;
	memcpy(v->path, p, l);
	v->path[l] = 0;
	v->anon = v->perms[3] == 'p' && !v->inode &&
		  (!v->path[0] || !strcmp(v->path, "[heap]") ||
		   !strncmp(v->path, "[stack", 6) ||
		   !strncmp(v->path, "[anon:", 6));
	/* A SysV segment's inode number is its shmid, and the first
	 * segment of an IPC namespace has shmid 0: only its name tells.
	 */
	v->shmem = v->perms[3] == 's' &&
		   ((v->inode && (!strcmp(v->path, "/dev/zero (deleted)") ||
				  !strncmp(v->path, "/memfd:", 7))) ||
		    (!strncmp(v->path, "/SYSV", 5) &&
		     strlen(v->path) == 5 + 8 + 10 &&
		     !strcmp(v->path + 13, " (deleted)")));
	return 0;
}

static int read_all(int fd, char **out)
{
	size_t cap = 65536, len = 0;
	char *buf = malloc(cap);

	if (!buf)
		return -ENOMEM;
	for (;;) {
		ssize_t n;

		if (cap - len < 4096) {
			char *nb = realloc(buf, cap * 2);

			if (!nb) {
				free(buf);
				return -ENOMEM;
			}
			buf = nb;
			cap *= 2;
		}
		n = read(fd, buf + len, cap - len - 1);
		if (n < 0) {
			int e = errno;

			if (e == EINTR)
				continue;
			free(buf);
			return -e;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	buf[len] = 0;
	*out = buf;
	return 0;
}

#define SCAN_BUF_ENTRIES 16384		/* 128 KB of pagemap at a time */

int fpt_scan_pid(int pid, unsigned int kinds, bool want_flags, fpt_vma_cb cb,
		 void *arg, struct fpt_pm_counts *total)
{
	char path[64], *maps = NULL, *line, *next;
	int maps_fd, pm_fd, kpf_fd = -1, ret;
	struct fpt_vma *v = NULL;
	uint64_t *buf = NULL;
	bool stop = false;

	memset(total, 0, sizeof(*total));
	if (pid <= 0)
		return -EINVAL;
	snprintf(path, sizeof(path), "/proc/%d/maps", pid);
	maps_fd = open(path, O_RDONLY | O_CLOEXEC);
	if (maps_fd < 0)
		return errno == ENOENT ? -ESRCH : -errno;
	ret = read_all(maps_fd, &maps);
	close(maps_fd);
	if (ret)
		return ret == -ENOENT ? -ESRCH : ret;
	snprintf(path, sizeof(path), "/proc/%d/pagemap", pid);
	pm_fd = open(path, O_RDONLY | O_CLOEXEC);
	if (pm_fd < 0) {
		ret = errno == ENOENT ? -ESRCH : -errno;
		free(maps);
		return ret;
	}
	if (want_flags)
		kpf_fd = open("/proc/kpageflags", O_RDONLY | O_CLOEXEC);
	buf = malloc(SCAN_BUF_ENTRIES * sizeof(*buf));
	v = malloc(sizeof(*v));
	if (!buf || !v) {
		ret = -ENOMEM;
		goto out;
	}
	total->kpageflags_ok = kpf_fd >= 0;
	for (line = maps; *line && !stop; line = next) {
		struct fpt_pm_counts c = { 0 };

		next = strchr(line, '\n');
		next = next ? next + 1 : line + strlen(line);
		if (fpt_maps_parse_line(line, v))
			continue;
		if (!strcmp(v->path, "[vsyscall]") ||
		    (kinds != FPT_VMA_ALL &&
		     (!((v->anon && (kinds & FPT_VMA_ANON)) ||
			(v->shmem && (kinds & FPT_VMA_SHMEM))) ||
		      !strncmp(v->perms, "---", 3))))
			continue;	/* PROT_NONE: guards, reservations */
		ret = fpt_pm_scan_range(pm_fd, kpf_fd, v->start, v->end, buf,
					SCAN_BUF_ENTRIES, &c);
		if (ret == -EIO || ret == -ENOENT || ret == -ESRCH) {
			ret = -ESRCH;		/* the process went away */
			goto out;
		}
		if (ret)
			goto out;
		if (kpf_fd >= 0 && !c.kpageflags_ok)
			total->kpageflags_ok = false;
		c.kpageflags_ok = total->kpageflags_ok;
		fpt_pm_add(total, &c);
		total->kpageflags_ok = c.kpageflags_ok;
		if (cb && cb(v, &c, arg))
			stop = true;
	}
	ret = 0;
out:
	free(v);
	free(buf);
	free(maps);
	if (kpf_fd >= 0)
		close(kpf_fd);
	close(pm_fd);
	return ret;
}
