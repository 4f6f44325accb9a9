/* SPDX-License-Identifier: MIT */
/*
 * fptctl's output formatting: human units, aligned tables and the JSON
 * documents of each subcommand.  Pure functions of their arguments that
 * write to a FILE* (the unit tests use open_memstream()); no I/O else.
 * The JSON field names are documented in tools/fptctl.md and are stable.
 */
#ifndef FPTCTL_FORMAT_H
#define FPTCTL_FORMAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "control.h"
#include "fptnl.h"
#include "frag.h"
#include "hint.h"
#include "json.h"
#include "pagemap.h"

/* "0 B", "512 B", "4.0 KiB", "1.5 MiB", "12.0 GiB", "3.2 TiB" */
char *fmt_size(char *buf, size_t len, uint64_t bytes);

/*
 * @in for a terminal: control characters (C0, DEL, C1) and bytes that
 * are not valid UTF-8 become \xNN, so that a process or file name can
 * neither move the cursor nor change the terminal's state.  Truncated to
 * fit @len.  Returns @buf.  Tables (table_print) escape every cell.
 */
char *fmt_term(char *buf, size_t len, const char *in);

/* ---- tables ---- */

#define TABLE_MAX_COLS	16

struct table {
	int ncols;
	const char *head[TABLE_MAX_COLS];
	bool right[TABLE_MAX_COLS];	/* right-aligned (numbers) */
	int nrows, cap;
	char **cells;			/* nrows * ncols strings */
};

void table_init(struct table *t, int ncols, const char *const *head,
		const bool *right);
/* Add a row of ncols printf'd cells: table_row(t, "%s", a, "%d", b, ...) is
 * not C; instead add cells one by one: */
int table_cell(struct table *t, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Print with two spaces between columns; @indent spaces before each line.
 * The last column is not padded. */
void table_print(const struct table *t, FILE *f, int indent);
void table_free(struct table *t);

/* ---- policy and status ---- */

const char *fmt_thp2m(uint32_t flags);	/* "deny" if FPT_F_NO_PMD_THP */

/* The words of a policy as fptd's control protocol and the output use:
 * "mode=on defrag=no backend=auto thp2m=allow". */
void fmt_policy_words(char *buf, size_t len, uint8_t mode, uint8_t defrag,
		      uint8_t backend, uint32_t flags);

/*
 * One policy as a JSON object (key: member name or NULL in an array).
 * @persistent: 1 yes, 0 no, -1 unknown (null).  @page_size non-zero:
 * with "counters" and "fallback_ratio".
 */
void json_policy(struct fpt_json *j, const char *key,
		 const struct fpt_policy_info *p, int persistent,
		 uint64_t page_size);
/*
 * Every counter of fpt.h by name, but resv_unused_pages, a gauge of
 * pages, as resv_unused_bytes (JSON sizes are bytes).
 */
void json_counters(struct fpt_json *j, const char *key, const uint64_t *v,
		   uint64_t page_size);
/* The name json_counters() gives counter @i. */
const char *json_counter_name(unsigned int i);

struct status_info {
	bool module_loaded;
	char version[128];		/* "" if unknown */
	int genl_version;		/* -1 if unknown */
	bool have_global;
	struct fpt_global_info global;
	int default_backend;		/* enum fpt_backend, -1 if unknown */
	bool fptd_running;
	int nr_policies;
	const struct fpt_policy_info *policies;
	const int *persistent;		/* per policy: 1, 0, -1 */
	/* fptd's own view (its "status" and "list" replies) */
	const char *fptd_status;	/* NULL if unknown */
	int nr_fptd;			/* -1 if unknown */
	const struct fpt_control_policy *fptd;
	enum fpt_hint hint;		/* the kernel's contiguity hint */
};
void json_status(FILE *f, const struct status_info *s);
void print_status(FILE *f, const struct status_info *s);

/* ---- stats ---- */

struct stats_info {
	bool have_global;
	struct fpt_global_info global;
	const char *cgroup;		/* --cgroup as given, or NULL */
	int nr_policies;
	const struct fpt_policy_info *policies;
	uint64_t page_size;
};
void json_stats(FILE *f, const struct stats_info *s);
void print_stats(FILE *f, const struct stats_info *s);

/* One --watch sample: values now, and the previous ones (NULL at first). */
struct watch_sample {
	const char *scope;		/* "global" or the policy's path */
	double time;			/* seconds since the epoch */
	double interval;		/* seconds since the previous sample */
	const uint64_t *now, *prev;
	uint64_t page_size;
};
void json_watch(FILE *f, const struct watch_sample *w);
void print_watch(FILE *f, const struct watch_sample *w);

/* ---- frag ---- */

void json_frag(FILE *f, const struct fpt_frag *fr, uint64_t page_size);
void print_frag(FILE *f, const struct fpt_frag *fr, uint64_t page_size);

/* ---- scan ---- */

struct scan_vma {
	struct fpt_vma v;
	struct fpt_pm_counts c;
};

struct scan_proc {
	int pid;
	char comm[64];
	char cgroup[1024];		/* as in /proc/PID/cgroup ("/db") */
	int error;			/* 0, or a positive errno: not scanned */
	struct fpt_pm_counts total;
	int nr_vmas;
	struct scan_vma *vmas;		/* NULL if not kept */
};

struct scan_info {
	const char *cgroup;		/* --cgroup as normalised, or NULL */
	uint64_t page_size;
	int nr_procs;
	const struct scan_proc *procs;
	struct fpt_pm_counts total;
	bool show_vmas;			/* human output: the VMA tables */
	enum fpt_hint hint;		/* the kernel's contiguity hint */
};
void json_pm_counts(struct fpt_json *j, const char *key,
		    const struct fpt_pm_counts *c, uint64_t page_size);
void json_scan(FILE *f, const struct scan_info *s);
void print_scan(FILE *f, const struct scan_info *s);

#endif
