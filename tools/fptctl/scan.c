// SPDX-License-Identifier: MIT
/* fptctl scan (--pid PID | --cgroup PATH | --unit NAME) [--json] [--all] */
#define _GNU_SOURCE
#include "fptctl.h"
#include "format.h"

#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cgpath.h"

static const char *const scan_help =
"Usage: %s scan (--pid PID | --cgroup PATH | --unit NAME) [--json]\n"
"           [--all] [--vmas]\n"
"\n"
"64 KB coverage of processes from /proc/PID/pagemap and /proc/kpageflags\n"
"(in the spirit of the kernel's tools/mm/thpmaps).  A run is an aligned\n"
"64 KB window of virtual memory whose 16 pages are present on consecutive\n"
"physical pages starting at a multiple of 16.  Per mapping: address range,\n"
"size, resident memory, runs, memory in runs and not, coverage (in runs /\n"
"resident) and THP memory; rolled up per process and for the cgroup.\n"
"Scanned: private anonymous mappings, and shared anonymous memory (shared\n"
"mappings of MAP_SHARED|MAP_ANONYMOUS, SysV shm and memfd: \"(shmem)\"),\n"
"which fpt covers on kernels whose shmem has large folios (6.12).\n"
"  --pid PID      one process: its mappings, then its total\n"
"  --cgroup PATH  every process of the cgroup and its descendants\n"
"  --all          every mapping, not only anonymous ones\n"
"  --vmas         with --cgroup: the mapping tables of every process too\n"
"  --json         one JSON document (mappings always included)\n"
"Needs root (CAP_SYS_ADMIN) to see physical page numbers.\n"
"Exit: 0 ok, 1 usage, 3 permission denied, 4 no such process or cgroup,\n"
"7 other error.\n";

struct vma_list {
	struct scan_vma *v;
	int n, cap;
	bool nomem;
};

static int vma_cb(const struct fpt_vma *v, const struct fpt_pm_counts *c,
		  void *arg)
{
	struct vma_list *l = arg;

	if (l->n == l->cap) {
		int cap = l->cap ? l->cap * 2 : 32;
		struct scan_vma *nv = realloc(l->v, (size_t)cap * sizeof(*nv));

		if (!nv) {
			l->nomem = true;
			return 1;
		}
		l->v = nv;
		l->cap = cap;
	}
	l->v[l->n].v = *v;
	l->v[l->n].c = *c;
	l->n++;
	return 0;
}

static void read_small(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "re");

	buf[0] = 0;
	if (!f)
		return;
	if (!fgets(buf, (int)len, f))
		buf[0] = 0;
	buf[strcspn(buf, "\n")] = 0;
	fclose(f);
}

/* The process's cgroup v2 path ("0::/db" -> "/db"). */
static void proc_cgroup(int pid, char *buf, size_t len)
{
	char path[64], line[1024];
	FILE *f;

	buf[0] = 0;
	snprintf(path, sizeof(path), "/proc/%d/cgroup", pid);
	f = fopen(path, "re");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, "0::", 3)) {
			line[strcspn(line, "\n")] = 0;
			snprintf(buf, len, "%s", line + 3);
			break;
		}
	fclose(f);
}

static void scan_one(struct scan_proc *p, bool all, bool keep_vmas)
{
	struct vma_list l = { NULL, 0, 0, false };
	char path[64];
	int r;

	snprintf(path, sizeof(path), "/proc/%d/comm", p->pid);
	read_small(path, p->comm, sizeof(p->comm));
	proc_cgroup(p->pid, p->cgroup, sizeof(p->cgroup));
	r = fpt_scan_pid(p->pid, all ? FPT_VMA_ALL :
			 FPT_VMA_ANON | FPT_VMA_SHMEM, true, keep_vmas ? vma_cb : NULL, &l,
			 &p->total);
	if (!r && l.nomem)
		r = -ENOMEM;
	if (r) {
		p->error = -r;
		free(l.v);
		return;
	}
	p->vmas = keep_vmas ? l.v : NULL;
	p->nr_vmas = keep_vmas ? l.n : 0;
	if (!keep_vmas)
		free(l.v);
	if (keep_vmas && !p->vmas)
		p->vmas = calloc(1, sizeof(*p->vmas));	/* none: empty list */
}

struct pid_list {
	int *v;
	int n, cap;
};

static int pid_add(struct pid_list *l, int pid)
{
	int i;

	for (i = 0; i < l->n; i++)
		if (l->v[i] == pid)
			return 0;
	if (l->n == l->cap) {
		int cap = l->cap ? l->cap * 2 : 64;
		int *v = realloc(l->v, (size_t)cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		l->v = v;
		l->cap = cap;
	}
	l->v[l->n++] = pid;
	return 0;
}

/* The processes of the cgroup at @dir and its descendants. */
static int cgroup_pids(const char *dir, struct pid_list *l, int depth)
{
	char path[8192], line[64];
	struct dirent *de;
	FILE *f;
	DIR *d;
	int ret = 0;

	if (depth > 64)
		return 0;
	snprintf(path, sizeof(path), "%s/cgroup.procs", dir);
	f = fopen(path, "re");
	if (!f)
		return depth ? 0 : -errno;	/* a child may vanish */
	while (fgets(line, sizeof(line), f)) {
		int pid = atoi(line);

		if (pid > 0 && pid != getpid() && (ret = pid_add(l, pid)))
			break;
	}
	fclose(f);
	if (ret)
		return ret;
	d = opendir(dir);
	if (!d)
		return 0;
	while ((de = readdir(d))) {
		if (de->d_type != DT_DIR || de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		ret = cgroup_pids(path, l, depth + 1);
		if (ret)
			break;
	}
	closedir(d);
	return ret;
}

static int cmp_int(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;

	return (x > y) - (x < y);
}

int scan_main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "pid", required_argument, NULL, 'p' },
		{ "cgroup", required_argument, NULL, 'c' },
		{ "unit", required_argument, NULL, 'u' },
		{ "json", no_argument, NULL, 'j' },
		{ "all", no_argument, NULL, 'a' },
		{ "vmas", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const char *path = NULL, *unit = NULL;
	bool json = false, all = false, vmas = false;
	struct scan_info s = { .cgroup = NULL };
	struct pid_list pids = { NULL, 0, 0 };
	struct scan_proc *procs = NULL;
	struct cgroup_arg *cg = NULL;
	unsigned long long pid = 0;
	int c, i, ret = EXIT_OK_, denied = 0, gone = 0;
	char dir[8192];

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "hj", opts, NULL)) != -1) {
		switch (c) {
		case 'p':
			if (!parse_uint(optarg, 0x7fffffff, &pid) || !pid)
				return fail(EXIT_USAGE_, "--pid: a process id, "
					    "not '%s'", optarg);
			break;
		case 'c': path = optarg; break;
		case 'u': unit = optarg; break;
		case 'j': json = true; break;
		case 'a': all = true; break;
		case 'v': vmas = true; break;
		case 'h':
			printf(scan_help, prog);
			return EXIT_OK_;
		default:
			return fail(EXIT_USAGE_, "scan: bad option '%s' (see "
				    "%s scan --help)", argv[optind - 1], prog);
		}
	}
	if (optind < argc)
		return fail(EXIT_USAGE_, "scan: unexpected argument '%s'",
			    argv[optind]);
	if ((pid != 0) + (path != NULL) + (unit != NULL) != 1)
		return fail(EXIT_USAGE_, "scan: give exactly one of --pid, "
			    "--cgroup and --unit");

	s.page_size = fpt_pm_page_size();
	s.hint = fpt_hint_probe();
	if (pid) {
		if (pid_add(&pids, (int)pid))
			return fail(EXIT_OTHER, "out of memory");
		vmas = true;
	} else {
		cg = calloc(1, sizeof(*cg));
		if (!cg)
			return fail(EXIT_OTHER, "out of memory");
		ret = resolve_cgroup(path, unit, true, cg);
		if (ret)
			goto out;
		fpt_cgroup_dir(cg->mnt, cg->rel, dir, sizeof(dir));
		ret = cgroup_pids(dir, &pids, 0);
		if (ret) {
			ret = fail(ret == -EACCES ? EXIT_PERM : EXIT_OTHER,
				   "cannot list the processes of %s: %s",
				   cg->display, strerror(-ret));
			goto out;
		}
		qsort(pids.v, (size_t)pids.n, sizeof(int), cmp_int);
		s.cgroup = cg->display;
	}
	procs = calloc((size_t)pids.n + 1, sizeof(*procs));
	if (!procs) {
		ret = fail(EXIT_OTHER, "out of memory");
		goto out;
	}
	s.procs = procs;
	s.show_vmas = vmas;
	for (i = 0; i < pids.n; i++) {
		struct scan_proc *p = &procs[s.nr_procs];

		p->pid = pids.v[i];
		scan_one(p, all, vmas || json);
		if (p->error == ESRCH && !pid) {
			free(p->vmas);
			memset(p, 0, sizeof(*p));
			gone++;		/* exited meanwhile: not listed */
			continue;
		}
		if (p->error == EACCES || p->error == EPERM)
			denied++;
		if (!p->error)
			fpt_pm_add(&s.total, &p->total);
		s.nr_procs++;
	}
	(void)gone;
	if (pid && procs[0].error) {
		int e = procs[0].error;

		ret = fail(e == ESRCH ? EXIT_NOCGROUP :
			   e == EACCES || e == EPERM ? EXIT_PERM : EXIT_OTHER,
			   "pid %llu: %s", pid, e == ESRCH ? "no such process" :
			   strerror(e));
		goto out;
	}
	if (s.nr_procs && denied == s.nr_procs) {
		ret = fail(EXIT_PERM, "not allowed to read the pagemap of any "
			   "process of %s (run as root)", cg->display);
		goto out;
	}
	if (s.total.present && !s.total.pfn_visible) {
		ret = fail(EXIT_PERM, "physical page numbers are hidden from "
			   "this user (/proc/PID/pagemap shows them only with "
			   "CAP_SYS_ADMIN): cannot count runs; run as root");
		goto out;
	}
	if (json)
		json_scan(stdout, &s);
	else
		print_scan(stdout, &s);
	if (denied)
		warnx_("%d process%s not scanned (permission denied)", denied,
		       denied == 1 ? "" : "es");
out:
	for (i = 0; procs && i < s.nr_procs; i++)
		free(procs[i].vmas);
	free(procs);
	free(pids.v);
	free(cg);
	return ret;
}
