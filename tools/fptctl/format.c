// SPDX-License-Identifier: MIT
/* fptctl's output formatting (see format.h). */
#define _GNU_SOURCE
#include "format.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

char *fmt_size(char *buf, size_t len, uint64_t bytes)
{
	static const char *const units[] = { "KiB", "MiB", "GiB", "TiB",
					     "PiB", "EiB" };
	double v = (double)bytes;
	int u = -1;

	if (bytes < 1024) {
		snprintf(buf, len, "%" PRIu64 " B", bytes);
		return buf;
	}
	while (v >= 1024.0 && u < 5) {
		v /= 1024.0;
		u++;
	}
	/* 1023.96 KiB would print as "1024.0 KiB": carry into the next unit */
	if (v >= 1023.95 && u < 5) {
		v /= 1024.0;
		u++;
	}
	snprintf(buf, len, "%.1f %s", v, units[u]);
	return buf;
}

/* ---- tables ---- */

void table_init(struct table *t, int ncols, const char *const *head,
		const bool *right)
{
	int i;

	memset(t, 0, sizeof(*t));
	t->ncols = ncols > TABLE_MAX_COLS ? TABLE_MAX_COLS : ncols;
	for (i = 0; i < t->ncols; i++) {
		t->head[i] = head[i];
		t->right[i] = right ? right[i] : false;
	}
}

int table_cell(struct table *t, const char *fmt, ...)
{
	size_t n = (size_t)t->nrows * (size_t)t->ncols, filled;
	va_list ap;
	char *s;
	int r;

	/* cells fill rows left to right; nrows counts started rows */
	filled = 0;
	if (t->cells)
		while (filled < n && t->cells[filled])
			filled++;
	if (filled == n) {
		if (t->nrows == t->cap) {
			int cap = t->cap ? t->cap * 2 : 16;
			char **c = realloc(t->cells, (size_t)cap *
					   (size_t)t->ncols * sizeof(*c));

			if (!c)
				return -1;
			t->cells = c;
			t->cap = cap;
		}
		memset(t->cells + n, 0, (size_t)t->ncols * sizeof(char *));
		t->nrows++;
	}
	va_start(ap, fmt);
	r = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (r < 0)
		return -1;
	t->cells[filled] = s;
	return 0;
}

void table_print(const struct table *t, FILE *f, int indent)
{
	int w[TABLE_MAX_COLS] = { 0 }, r, c;

	for (c = 0; c < t->ncols; c++)
		w[c] = (int)strlen(t->head[c]);
	for (r = 0; r < t->nrows; r++)
		for (c = 0; c < t->ncols; c++) {
			const char *s = t->cells[r * t->ncols + c];
			int l = s ? (int)strlen(s) : 0;

			if (l > w[c])
				w[c] = l;
		}
	for (r = -1; r < t->nrows; r++) {
		fprintf(f, "%*s", indent, "");
		for (c = 0; c < t->ncols; c++) {
			const char *s = r < 0 ? t->head[c] :
					t->cells[r * t->ncols + c];
			bool last = c == t->ncols - 1;

			if (!s)
				s = "";
			if (c)
				fputs("  ", f);
			if (t->right[c])
				fprintf(f, "%*s", w[c], s);
			else if (last)
				fputs(s, f);
			else
				fprintf(f, "%-*s", w[c], s);
		}
		fputc('\n', f);
	}
}

void table_free(struct table *t)
{
	int i;

	if (t->cells)
		for (i = 0; i < t->nrows * t->ncols; i++)
			free(t->cells[i]);
	free(t->cells);
	t->cells = NULL;
	t->nrows = t->cap = 0;
}

/* ---- policies ---- */

const char *fmt_thp2m(uint32_t flags)
{
	return flags & FPT_F_NO_PMD_THP ? "deny" : "allow";
}

static const char *name_or(const char *s, const char *dflt)
{
	return s ? s : dflt;
}

void fmt_policy_words(char *buf, size_t len, uint8_t mode, uint8_t defrag,
		      uint8_t backend, uint32_t flags)
{
	snprintf(buf, len, "mode=%s defrag=%s backend=%s thp2m=%s",
		 name_or(fpt_mode_name(mode), "?"), defrag ? "yes" : "no",
		 name_or(fpt_backend_name(backend), "?"), fmt_thp2m(flags));
}

void json_counters(struct fpt_json *j, const char *key, const uint64_t *v)
{
	unsigned int i;

	fpt_json_obj_begin(j, key);
	for (i = 0; i < FPT_NR_COUNTERS; i++)
		fpt_json_u64(j, fpt_counter_name(i), v[i]);
	fpt_json_obj_end(j);
}

void json_policy(struct fpt_json *j, const char *key,
		 const struct fpt_policy_info *p, int persistent,
		 bool counters)
{
	fpt_json_obj_begin(j, key);
	fpt_json_u64(j, "cgroup_id", p->cgroup_id);
	if (p->path[0])
		fpt_json_str(j, "path", p->path);
	else
		fpt_json_null(j, "path");
	fpt_json_str(j, "mode", fpt_mode_name(p->mode));
	fpt_json_bool(j, "defrag", p->defrag != 0);
	fpt_json_str(j, "backend", fpt_backend_name(p->backend));
	fpt_json_str(j, "backend_active", fpt_backend_name(p->backend_active));
	fpt_json_str(j, "thp2m", fmt_thp2m(p->flags));
	fpt_json_u64(j, "flags", p->flags);
	if (persistent < 0)
		fpt_json_null(j, "persistent");
	else
		fpt_json_bool(j, "persistent", persistent > 0);
	if (counters) {
		if (p->has_stats)
			json_counters(j, "counters", p->stats);
		else
			fpt_json_null(j, "counters");
	}
	fpt_json_obj_end(j);
}

static void json_backends(struct fpt_json *j, const char *key, uint32_t mask)
{
	int b;

	fpt_json_arr_begin(j, key);
	for (b = FPT_BACKEND_FOLIO; b < __FPT_BACKEND_MAX; b++)
		if (mask & (1U << b))
			fpt_json_str(j, NULL, fpt_backend_name((uint8_t)b));
	fpt_json_arr_end(j);
}

void json_status(FILE *f, const struct status_info *s)
{
	struct fpt_json j;
	int i;

	fpt_json_init(&j, f, true);
	fpt_json_obj_begin(&j, NULL);
	fpt_json_bool(&j, "module_loaded", s->module_loaded);
	if (s->version[0])
		fpt_json_str(&j, "version", s->version);
	else
		fpt_json_null(&j, "version");
	if (s->genl_version >= 0)
		fpt_json_i64(&j, "genl_version", s->genl_version);
	else
		fpt_json_null(&j, "genl_version");
	if (s->have_global) {
		fpt_json_bool(&j, "enabled", s->global.enabled);
		json_backends(&j, "backends", s->global.backends);
	} else {
		fpt_json_null(&j, "enabled");
		fpt_json_null(&j, "backends");
	}
	if (s->default_backend >= 0)
		fpt_json_str(&j, "default_backend",
			     fpt_backend_name((uint8_t)s->default_backend));
	else
		fpt_json_null(&j, "default_backend");
	fpt_json_bool(&j, "fptd_running", s->fptd_running);
	fpt_json_arr_begin(&j, "policies");
	for (i = 0; i < s->nr_policies; i++)
		json_policy(&j, NULL, &s->policies[i],
			    s->persistent ? s->persistent[i] : -1, false);
	fpt_json_arr_end(&j);
	fpt_json_obj_end(&j);
	fpt_json_end(&j);
}

static const char *yes_no_unknown(int v)
{
	return v > 0 ? "yes" : v == 0 ? "no" : "-";
}

static void policy_table(FILE *f, int n, const struct fpt_policy_info *p,
			 const int *persistent)
{
	static const char *const head[] = { "CGROUP", "ID", "MODE", "DEFRAG",
		"BACKEND", "ACTIVE", "THP2M", "PERSISTENT" };
	static const bool right[8] = { false, true };
	struct table t;
	int i;

	table_init(&t, 8, head, right);
	for (i = 0; i < n; i++) {
		table_cell(&t, "%s", p[i].path[0] ? p[i].path : "?");
		table_cell(&t, "%" PRIu64, p[i].cgroup_id);
		table_cell(&t, "%s", name_or(fpt_mode_name(p[i].mode), "?"));
		table_cell(&t, "%s", p[i].defrag ? "yes" : "no");
		table_cell(&t, "%s", name_or(fpt_backend_name(p[i].backend),
					     "?"));
		table_cell(&t, "%s",
			   name_or(fpt_backend_name(p[i].backend_active), "?"));
		table_cell(&t, "%s", fmt_thp2m(p[i].flags));
		table_cell(&t, "%s",
			   yes_no_unknown(persistent ? persistent[i] : -1));
	}
	table_print(&t, f, 2);
	table_free(&t);
}

void print_status(FILE *f, const struct status_info *s)
{
	int b;

	if (!s->module_loaded) {
		fprintf(f, "fpt.ko:    not loaded\n");
	} else {
		fprintf(f, "fpt.ko:    loaded, version %s",
			s->version[0] ? s->version : "?");
		if (s->genl_version >= 0)
			fprintf(f, " (netlink family version %d)",
				s->genl_version);
		fputc('\n', f);
	}
	if (s->have_global) {
		fprintf(f, "enabled:   %s\n", s->global.enabled ? "yes" :
			"no (globally off: /sys/kernel/fpt/enabled)");
		fprintf(f, "backends: ");
		for (b = FPT_BACKEND_FOLIO; b < __FPT_BACKEND_MAX; b++)
			if (s->global.backends & (1U << b))
				fprintf(f, " %s", fpt_backend_name((uint8_t)b));
		if (s->default_backend >= 0)
			fprintf(f, " (auto = %s)",
				fpt_backend_name((uint8_t)s->default_backend));
		fputc('\n', f);
	}
	fprintf(f, "fptd:      %s\n", s->fptd_running ?
		"running (policy changes are persistent)" :
		"not running (policy changes go to the kernel only and are "
		"lost at reboot or module reload)");
	if (!s->module_loaded)
		return;
	fprintf(f, "policies:  %d\n", s->nr_policies);
	if (s->nr_policies) {
		fputc('\n', f);
		policy_table(f, s->nr_policies, s->policies, s->persistent);
	}
}

/* ---- stats ---- */

void json_stats(FILE *f, const struct stats_info *s)
{
	struct fpt_json j;
	int i;

	fpt_json_init(&j, f, true);
	fpt_json_obj_begin(&j, NULL);
	if (s->have_global) {
		fpt_json_obj_begin(&j, "global");
		fpt_json_bool(&j, "enabled", s->global.enabled);
		fpt_json_u64(&j, "nr_policies", s->global.nr_policies);
		json_backends(&j, "backends", s->global.backends);
		json_counters(&j, "counters", s->global.stats);
		fpt_json_obj_end(&j);
	} else {
		fpt_json_null(&j, "global");
	}
	if (s->cgroup)
		fpt_json_str(&j, "cgroup", s->cgroup);
	fpt_json_arr_begin(&j, "policies");
	for (i = 0; i < s->nr_policies; i++)
		json_policy(&j, NULL, &s->policies[i], -1, true);
	fpt_json_arr_end(&j);
	fpt_json_obj_end(&j);
	fpt_json_end(&j);
}

void print_stats(FILE *f, const struct stats_info *s)
{
	const char *head[TABLE_MAX_COLS];
	bool right[TABLE_MAX_COLS];
	int ncols = 0, npol, i;
	unsigned int c;
	struct table t;

	npol = s->nr_policies;
	if (npol > TABLE_MAX_COLS - 3)
		npol = TABLE_MAX_COLS - 3;
	head[ncols] = "COUNTER";
	right[ncols++] = false;
	if (s->have_global) {
		head[ncols] = "GLOBAL";
		right[ncols++] = true;
	}
	for (i = 0; i < npol; i++) {
		head[ncols] = s->policies[i].path[0] ? s->policies[i].path :
						       "?";
		right[ncols++] = true;
	}
	head[ncols] = "DESCRIPTION";
	right[ncols++] = false;

	if (s->have_global)
		fprintf(f, "fpt %s, %" PRIu32 " polic%s\n",
			s->global.enabled ? "enabled" : "disabled",
			s->global.nr_policies,
			s->global.nr_policies == 1 ? "y" : "ies");
	if (s->cgroup && npol)
		fprintf(f, "cgroup %s is governed by the policy of %s\n",
			s->cgroup, head[ncols - 2]);
	table_init(&t, ncols, head, right);
	for (c = 0; c < FPT_NR_COUNTERS; c++) {
		table_cell(&t, "%s", fpt_counter_name(c));
		if (s->have_global)
			table_cell(&t, "%" PRIu64, s->global.stats[c]);
		for (i = 0; i < npol; i++) {
			if (s->policies[i].has_stats)
				table_cell(&t, "%" PRIu64,
					   s->policies[i].stats[c]);
			else
				table_cell(&t, "-");
		}
		table_cell(&t, "%s", fpt_counter_help(c));
	}
	table_print(&t, f, 0);
	table_free(&t);
	if (npol < s->nr_policies)
		fprintf(f, "(%d more policies: see --json or --cgroup)\n",
			s->nr_policies - npol);
	if (s->have_global && s->global.stats[FPT_C_RUNS]) {
		char b[32];

		fprintf(f, "runs mapped in all: %s of 64 KB runs\n",
			fmt_size(b, sizeof(b),
				 s->global.stats[FPT_C_RUNS] * FPT_WIN_SIZE));
	}
}

static uint64_t delta(const struct watch_sample *w, unsigned int i)
{
	if (!w->prev || w->now[i] < w->prev[i])
		return 0;
	return w->now[i] - w->prev[i];
}

void json_watch(FILE *f, const struct watch_sample *w)
{
	struct fpt_json j;
	unsigned int i;

	fpt_json_init(&j, f, false);	/* one line per sample */
	fpt_json_obj_begin(&j, NULL);
	fpt_json_double(&j, "time", w->time, 3);
	fpt_json_str(&j, "scope", w->scope);
	if (w->prev)
		fpt_json_double(&j, "interval_s", w->interval, 3);
	else
		fpt_json_null(&j, "interval_s");
	json_counters(&j, "counters", w->now);
	if (w->prev) {
		fpt_json_obj_begin(&j, "delta");
		for (i = 0; i < FPT_NR_COUNTERS; i++)
			fpt_json_u64(&j, fpt_counter_name(i), delta(w, i));
		fpt_json_obj_end(&j);
		fpt_json_obj_begin(&j, "rate_per_s");
		for (i = 0; i < FPT_NR_COUNTERS; i++)
			fpt_json_double(&j, fpt_counter_name(i),
					w->interval > 0 ?
					(double)delta(w, i) / w->interval : 0.0,
					2);
		fpt_json_obj_end(&j);
	} else {
		fpt_json_null(&j, "delta");
		fpt_json_null(&j, "rate_per_s");
	}
	fpt_json_obj_end(&j);
	fpt_json_end(&j);
}

void print_watch(FILE *f, const struct watch_sample *w)
{
	static const char *const head[] = { "COUNTER", "VALUE", "DELTA",
					    "PER SECOND" };
	static const bool right[] = { false, true, true, true };
	struct table t;
	unsigned int i;

	if (w->prev)
		fprintf(f, "%s, last %.1f s:\n", w->scope, w->interval);
	else
		fprintf(f, "%s:\n", w->scope);
	table_init(&t, 4, head, right);
	for (i = 0; i < FPT_NR_COUNTERS; i++) {
		table_cell(&t, "%s", fpt_counter_name(i));
		table_cell(&t, "%" PRIu64, w->now[i]);
		if (w->prev) {
			table_cell(&t, "%" PRIu64, delta(w, i));
			table_cell(&t, "%.1f", w->interval > 0 ?
				   (double)delta(w, i) / w->interval : 0.0);
		} else {
			table_cell(&t, "-");
			table_cell(&t, "-");
		}
	}
	table_print(&t, f, 2);
	table_free(&t);
	fputc('\n', f);
}

/* ---- frag ---- */

void json_frag(FILE *f, const struct fpt_frag *fr, uint64_t ps)
{
	struct fpt_json j;
	int i, o;

	fpt_json_init(&j, f, true);
	fpt_json_obj_begin(&j, NULL);
	fpt_json_u64(&j, "page_size", ps);
	fpt_json_u64(&j, "free_bytes", fr->free_pages * ps);
	fpt_json_u64(&j, "free_ge64k_bytes", fr->free_pages_ge64k * ps);
	fpt_json_double(&j, "unusable_index_o4", fr->unusable_index_o4, 4);
	if (fr->have_pagetypeinfo)
		fpt_json_u64(&j, "movable_free_ge64k_bytes",
			     fr->movable_free_pages_ge64k * ps);
	else
		fpt_json_null(&j, "movable_free_ge64k_bytes");
	fpt_json_arr_begin(&j, "zones");
	for (i = 0; i < fr->nr_zones; i++) {
		const struct fpt_frag_zone *z = &fr->zones[i];

		fpt_json_obj_begin(&j, NULL);
		fpt_json_i64(&j, "node", z->node);
		fpt_json_str(&j, "zone", z->zone);
		fpt_json_u64(&j, "free_bytes", fpt_frag_zone_free(z) * ps);
		fpt_json_u64(&j, "free_ge64k_bytes",
			     fpt_frag_zone_free_ge64k(z) * ps);
		fpt_json_double(&j, "unusable_index_o4",
				fpt_frag_zone_unusable(z), 4);
		if (fr->have_pagetypeinfo && z->have_pagetypeinfo)
			fpt_json_u64(&j, "movable_free_ge64k_bytes",
				     z->movable_free_pages_ge64k * ps);
		else
			fpt_json_null(&j, "movable_free_ge64k_bytes");
		fpt_json_arr_begin(&j, "free_blocks");
		for (o = 0; o < z->nr_orders; o++)
			fpt_json_u64(&j, NULL, z->free_blocks[o]);
		fpt_json_arr_end(&j);
		fpt_json_obj_end(&j);
	}
	fpt_json_arr_end(&j);
	fpt_json_obj_end(&j);
	fpt_json_end(&j);
}

void print_frag(FILE *f, const struct fpt_frag *fr, uint64_t ps)
{
	static const char *const head[] = { "NODE", "ZONE", "FREE",
		"FREE >=64K", "UNUSABLE(o4)", "MOVABLE >=64K" };
	static const bool right[] = { true, false, true, true, true, true };
	struct table t;
	char a[32], b[32];
	int i, ncols = fr->have_pagetypeinfo ? 6 : 5;

	table_init(&t, ncols, head, right);
	for (i = 0; i < fr->nr_zones; i++) {
		const struct fpt_frag_zone *z = &fr->zones[i];

		table_cell(&t, "%d", z->node);
		table_cell(&t, "%s", z->zone);
		table_cell(&t, "%s", fmt_size(a, sizeof(a),
					      fpt_frag_zone_free(z) * ps));
		table_cell(&t, "%s", fmt_size(b, sizeof(b),
					      fpt_frag_zone_free_ge64k(z) * ps));
		table_cell(&t, "%.3f", fpt_frag_zone_unusable(z));
		if (ncols == 6) {
			if (z->have_pagetypeinfo)
				table_cell(&t, "%s", fmt_size(a, sizeof(a),
					z->movable_free_pages_ge64k * ps));
			else
				table_cell(&t, "-");
		}
	}
	table_cell(&t, "%s", "");
	table_cell(&t, "total");
	table_cell(&t, "%s", fmt_size(a, sizeof(a), fr->free_pages * ps));
	table_cell(&t, "%s", fmt_size(b, sizeof(b),
				      fr->free_pages_ge64k * ps));
	table_cell(&t, "%.3f", fr->unusable_index_o4);
	if (ncols == 6)
		table_cell(&t, "%s", fmt_size(a, sizeof(a),
				fr->movable_free_pages_ge64k * ps));
	table_print(&t, f, 0);
	table_free(&t);
	fprintf(f, "unusable(o4): the fraction of free memory that cannot "
		"serve a 64 KB (order-4) request\n");
	if (!fr->have_pagetypeinfo)
		fprintf(f, "(no /proc/pagetypeinfo: needs root; movable "
			"column left out)\n");
}

/* ---- scan ---- */

static double coverage(const struct fpt_pm_counts *c)
{
	if (!c->present)
		return 0.0;
	return (double)fpt_pm_run_pages(c) * 100.0 / (double)c->present;
}

void json_pm_counts(struct fpt_json *j, const char *key,
		    const struct fpt_pm_counts *c, uint64_t ps)
{
	uint64_t in_runs = fpt_pm_run_pages(c);

	fpt_json_obj_begin(j, key);
	fpt_json_u64(j, "size_bytes", c->pages * ps);
	fpt_json_u64(j, "rss_bytes", c->present * ps);
	fpt_json_u64(j, "swap_bytes", c->swapped * ps);
	fpt_json_u64(j, "windows", c->windows);
	fpt_json_u64(j, "runs", c->runs);
	fpt_json_u64(j, "in_runs_bytes", in_runs * ps);
	fpt_json_u64(j, "not_in_runs_bytes",
		     (c->present > in_runs ? c->present - in_runs : 0) * ps);
	fpt_json_double(j, "coverage_pct", coverage(c), 2);
	if (c->kpageflags_ok) {
		fpt_json_u64(j, "compound_bytes", c->compound * ps);
		fpt_json_u64(j, "thp_bytes", c->thp * ps);
	} else {
		fpt_json_null(j, "compound_bytes");
		fpt_json_null(j, "thp_bytes");
	}
	fpt_json_obj_end(j);
}

static void json_hex(struct fpt_json *j, const char *key, uint64_t v)
{
	char b[24];

	snprintf(b, sizeof(b), "0x%" PRIx64, v);
	fpt_json_str(j, key, b);
}

void json_scan(FILE *f, const struct scan_info *s)
{
	struct fpt_json j;
	int i, k;

	fpt_json_init(&j, f, true);
	fpt_json_obj_begin(&j, NULL);
	if (s->cgroup)
		fpt_json_str(&j, "cgroup", s->cgroup);
	else
		fpt_json_null(&j, "cgroup");
	fpt_json_u64(&j, "page_size", s->page_size);
	json_pm_counts(&j, "total", &s->total, s->page_size);
	fpt_json_arr_begin(&j, "processes");
	for (i = 0; i < s->nr_procs; i++) {
		const struct scan_proc *p = &s->procs[i];

		fpt_json_obj_begin(&j, NULL);
		fpt_json_i64(&j, "pid", p->pid);
		fpt_json_str(&j, "comm", p->comm);
		if (p->cgroup[0])
			fpt_json_str(&j, "cgroup", p->cgroup);
		else
			fpt_json_null(&j, "cgroup");
		if (p->error) {
			fpt_json_str(&j, "error", strerror(p->error));
			fpt_json_obj_end(&j);
			continue;
		}
		fpt_json_null(&j, "error");
		json_pm_counts(&j, "total", &p->total, s->page_size);
		if (p->vmas) {
			fpt_json_arr_begin(&j, "vmas");
			for (k = 0; k < p->nr_vmas; k++) {
				const struct scan_vma *v = &p->vmas[k];

				fpt_json_obj_begin(&j, NULL);
				json_hex(&j, "start", v->v.start);
				json_hex(&j, "end", v->v.end);
				fpt_json_str(&j, "perms", v->v.perms);
				fpt_json_str(&j, "path", v->v.path);
				fpt_json_bool(&j, "anon", v->v.anon);
				json_pm_counts(&j, "counts", &v->c,
					       s->page_size);
				fpt_json_obj_end(&j);
			}
			fpt_json_arr_end(&j);
		}
		fpt_json_obj_end(&j);
	}
	fpt_json_arr_end(&j);
	fpt_json_obj_end(&j);
	fpt_json_end(&j);
}

/* The counts columns of a scan table row. */
static void count_cells(struct table *t, const struct fpt_pm_counts *c,
			uint64_t ps)
{
	uint64_t in_runs = fpt_pm_run_pages(c);
	char b[32];

	table_cell(t, "%s", fmt_size(b, sizeof(b), c->pages * ps));
	table_cell(t, "%s", fmt_size(b, sizeof(b), c->present * ps));
	table_cell(t, "%" PRIu64, c->runs);
	table_cell(t, "%s", fmt_size(b, sizeof(b), in_runs * ps));
	table_cell(t, "%s", fmt_size(b, sizeof(b), (c->present > in_runs ?
					c->present - in_runs : 0) * ps));
	table_cell(t, "%.1f%%", coverage(c));
	if (c->kpageflags_ok)
		table_cell(t, "%s", fmt_size(b, sizeof(b), c->thp * ps));
	else
		table_cell(t, "-");
}

static void print_vmas(FILE *f, const struct scan_proc *p, uint64_t ps)
{
	static const char *const head[] = { "ADDRESS", "SIZE", "RSS", "RUNS",
		"IN RUNS", "NOT IN RUNS", "COVER", "THP", "MAPPING" };
	static const bool right[] = { false, true, true, true, true, true,
				      true, true, false };
	struct table t;
	int k;

	table_init(&t, 9, head, right);
	for (k = 0; k < p->nr_vmas; k++) {
		const struct scan_vma *v = &p->vmas[k];

		table_cell(&t, "%012" PRIx64 "-%012" PRIx64, v->v.start,
			   v->v.end);
		count_cells(&t, &v->c, ps);
		table_cell(&t, "%s%s", v->v.path[0] ? v->v.path : "[anon]",
			   v->v.anon ? "" : " (not anon)");
	}
	table_print(&t, f, 2);
	table_free(&t);
}

void print_scan(FILE *f, const struct scan_info *s)
{
	static const char *const head[] = { "PID", "SIZE", "RSS", "RUNS",
		"IN RUNS", "NOT IN RUNS", "COVER", "THP", "COMMAND" };
	static const bool right[] = { true, true, true, true, true, true,
				      true, true, false };
	struct table t;
	int i;

	for (i = 0; s->show_vmas && i < s->nr_procs; i++) {
		const struct scan_proc *p = &s->procs[i];

		if (p->error || !p->vmas)
			continue;
		fprintf(f, "pid %d (%s)%s%s:\n", p->pid, p->comm,
			p->cgroup[0] ? " in cgroup " : "", p->cgroup);
		print_vmas(f, p, s->page_size);
		fputc('\n', f);
	}
	table_init(&t, 9, head, right);
	for (i = 0; i < s->nr_procs; i++) {
		const struct scan_proc *p = &s->procs[i];

		table_cell(&t, "%d", p->pid);
		if (p->error) {
			int k;

			for (k = 0; k < 7; k++)
				table_cell(&t, "-");
			table_cell(&t, "%s (not scanned: %s)", p->comm,
				   strerror(p->error));
			continue;
		}
		count_cells(&t, &p->total, s->page_size);
		table_cell(&t, "%s", p->comm);
	}
	if (s->nr_procs != 1 || s->cgroup) {
		table_cell(&t, "all");
		count_cells(&t, &s->total, s->page_size);
		table_cell(&t, "%d process%s%s%s", s->nr_procs,
			   s->nr_procs == 1 ? "" : "es",
			   s->cgroup ? " in " : "", s->cgroup ? s->cgroup : "");
	}
	table_print(&t, f, 0);
	table_free(&t);
	fprintf(f, "runs: aligned 64 KB windows on 16 consecutive PFNs "
		"starting at a multiple of 16; COVER = IN RUNS / RSS\n");
}
