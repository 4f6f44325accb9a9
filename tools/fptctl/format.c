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

/* ---- text for a terminal ---- */

/* Length of the valid UTF-8 sequence at @s (1-4), or 0 if it is not one. */
static int utf8_len(const unsigned char *s)
{
	int n, i;
	uint32_t c;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		n = 2, c = s[0] & 0x1f;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		n = 3, c = s[0] & 0x0f;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		n = 4, c = s[0] & 0x07;
	else
		return 0;
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		c = (c << 6) | (s[i] & 0x3f);
	}
	if ((n == 3 && (c < 0x800 || (c >= 0xd800 && c <= 0xdfff))) ||
	    (n == 4 && (c < 0x10000 || c > 0x10ffff)))
		return 0;		/* overlong, surrogate, too large */
	if (n == 2 && c < 0xa0)
		return 0;		/* C1 controls (U+0080..U+009F) */
	return n;
}

char *fmt_term(char *buf, size_t len, const char *in)
{
	const unsigned char *s = (const unsigned char *)in;
	size_t o = 0;

	if (!len)
		return buf;
	while (*s) {
		int n = utf8_len(s);

		if (n == 1 && (*s < 0x20 || *s == 0x7f))
			n = 0;
		if (n) {
			if (o + (size_t)n >= len)
				break;
			memcpy(buf + o, s, (size_t)n);
			o += (size_t)n;
			s += n;
		} else {
			if (o + 4 >= len)
				break;
			snprintf(buf + o, len - o, "\\x%02x", *s);
			o += 4;
			s++;
		}
	}
	buf[o] = 0;
	return buf;
}

/* fmt_term() into a malloc'ed string (NULL: out of memory). */
static char *term_dup(const char *s)
{
	size_t len = 4 * strlen(s) + 1;
	char *b = malloc(len);

	return b ? fmt_term(b, len, s) : NULL;
}

/* Columns @s takes on a terminal (valid UTF-8: one per character). */
static int term_width(const char *s)
{
	int w = 0;

	for (; *s; s++)
		if (((unsigned char)*s & 0xc0) != 0x80)
			w++;
	return w;
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
	int w[TABLE_MAX_COLS] = { 0 }, r, c, n = t->nrows * t->ncols;
	char **e = calloc((size_t)n + 1, sizeof(*e));

	if (!e)
		return;
	/* cells may hold names from the system (paths, commands): escaped */
	for (r = 0; r < n; r++)
		e[r] = term_dup(t->cells[r] ? t->cells[r] : "");
	for (c = 0; c < t->ncols; c++)
		w[c] = term_width(t->head[c]);
	for (r = 0; r < n; r++) {
		int l = e[r] ? term_width(e[r]) : 0;

		if (l > w[r % t->ncols])
			w[r % t->ncols] = l;
	}
	for (r = -1; r < t->nrows; r++) {
		fprintf(f, "%*s", indent, "");
		for (c = 0; c < t->ncols; c++) {
			const char *s = r < 0 ? t->head[c] :
					e[r * t->ncols + c];
			bool last = c == t->ncols - 1;
			int pad;

			if (!s)
				s = "";
			pad = w[c] - term_width(s);
			if (c)
				fputs("  ", f);
			if (t->right[c])
				fprintf(f, "%*s%s", pad, "", s);
			else if (last)
				fputs(s, f);
			else
				fprintf(f, "%s%*s", s, pad, "");
		}
		fputc('\n', f);
	}
	for (r = 0; r < n; r++)
		free(e[r]);
	free(e);
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

const char *json_counter_name(unsigned int i)
{
	return i == FPT_C_RESV_UNUSED_PAGES ? "resv_unused_bytes" :
					      fpt_counter_name(i);
}

/* Counter @i as JSON has it (the pages gauge in bytes). */
static uint64_t json_value(unsigned int i, uint64_t v, uint64_t ps)
{
	return i == FPT_C_RESV_UNUSED_PAGES ? v * ps : v;
}

void json_counters(struct fpt_json *j, const char *key, const uint64_t *v,
		   uint64_t ps)
{
	unsigned int i;

	fpt_json_obj_begin(j, key);
	for (i = 0; i < FPT_NR_COUNTERS; i++)
		fpt_json_u64(j, json_counter_name(i), json_value(i, v[i], ps));
	fpt_json_obj_end(j);
}

static void json_ratio(struct fpt_json *j, const uint64_t *c)
{
	double r;

	if (fpt_fallback_ratio(c, &r))
		fpt_json_double(j, "fallback_ratio", r, 4);
	else
		fpt_json_null(j, "fallback_ratio");
}

void json_policy(struct fpt_json *j, const char *key,
		 const struct fpt_policy_info *p, int persistent,
		 uint64_t ps)
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
	if (ps) {
		if (p->has_stats) {
			json_counters(j, "counters", p->stats, ps);
			json_ratio(j, p->stats);
		} else {
			fpt_json_null(j, "counters");
			fpt_json_null(j, "fallback_ratio");
		}
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

/* fptd names the root "/" and others relatively; the kernel "/x". */
static void daemon_path(char *buf, size_t len, const char *path)
{
	snprintf(buf, len, "%s%s", path[0] == '/' ? "" : "/", path);
}

void json_status(FILE *f, const struct status_info *s)
{
	struct fpt_json j;
	char path[4200];
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
		if (s->global.has_features)
			fpt_json_bool(&j, "shared_memory",
				      s->global.features & FPT_FEAT_SHMEM);
		else
			fpt_json_null(&j, "shared_memory");
	} else {
		fpt_json_null(&j, "enabled");
		fpt_json_null(&j, "backends");
		fpt_json_null(&j, "shared_memory");
	}
	if (s->default_backend >= 0)
		fpt_json_str(&j, "default_backend",
			     fpt_backend_name((uint8_t)s->default_backend));
	else
		fpt_json_null(&j, "default_backend");
	fpt_json_bool(&j, "fptd_running", s->fptd_running);
	if (s->fptd_status)
		fpt_json_str(&j, "fptd_status", s->fptd_status);
	else
		fpt_json_null(&j, "fptd_status");
	fpt_json_str(&j, "contiguity_hint", fpt_hint_name(s->hint));
	fpt_json_arr_begin(&j, "policies");
	for (i = 0; i < s->nr_policies; i++)
		json_policy(&j, NULL, &s->policies[i],
			    s->persistent ? s->persistent[i] : -1, 0);
	fpt_json_arr_end(&j);
	if (s->nr_fptd < 0) {
		fpt_json_null(&j, "fptd_policies");
	} else {
		fpt_json_arr_begin(&j, "fptd_policies");
		for (i = 0; i < s->nr_fptd; i++) {
			const struct fpt_control_policy *p = &s->fptd[i];

			fpt_json_obj_begin(&j, NULL);
			daemon_path(path, sizeof(path), p->path);
			fpt_json_str(&j, "path", path);
			fpt_json_str(&j, "mode", p->mode);
			fpt_json_bool(&j, "defrag", !strcmp(p->defrag, "yes"));
			fpt_json_str(&j, "backend", p->backend);
			fpt_json_str(&j, "thp2m", p->thp2m);
			fpt_json_str(&j, "source", p->source);
			fpt_json_str(&j, "state", p->state);
			fpt_json_obj_end(&j);
		}
		fpt_json_arr_end(&j);
	}
	fpt_json_obj_end(&j);
	fpt_json_end(&j);
}

static const char *yes_no_unknown(int v)
{
	return v > 0 ? "yes" : v == 0 ? "no" : "-";
}

/* The kernel's policies; the cgroup last, so that long paths fit. */
static void policy_table(FILE *f, int n, const struct fpt_policy_info *p,
			 const int *persistent)
{
	static const char *const head[] = { "ID", "MODE", "DEFRAG", "BACKEND",
		"ACTIVE", "THP2M", "FPTD", "CGROUP" };
	static const bool right[8] = { true };
	struct table t;
	int i;

	table_init(&t, 8, head, right);
	for (i = 0; i < n; i++) {
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
		table_cell(&t, "%s", p[i].path[0] ? p[i].path : "?");
	}
	table_print(&t, f, 2);
	table_free(&t);
}

/* fptd's policies, with their state. */
static void fptd_table(FILE *f, int n, const struct fpt_control_policy *p)
{
	static const char *const head[] = { "STATE", "MODE", "DEFRAG",
		"BACKEND", "THP2M", "SOURCE", "CGROUP" };
	char path[4200];
	struct table t;
	int i;

	table_init(&t, 7, head, NULL);
	for (i = 0; i < n; i++) {
		table_cell(&t, "%s", p[i].state);
		table_cell(&t, "%s", p[i].mode);
		table_cell(&t, "%s", p[i].defrag);
		table_cell(&t, "%s", p[i].backend);
		table_cell(&t, "%s", p[i].thp2m);
		table_cell(&t, "%s", p[i].source);
		daemon_path(path, sizeof(path), p[i].path);
		table_cell(&t, "%s", path);
	}
	table_print(&t, f, 2);
	table_free(&t);
}

void print_status(FILE *f, const struct status_info *s)
{
	char *st;
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
		if (s->global.has_features)
			fprintf(f, "shared memory: %s\n",
				(s->global.features & FPT_FEAT_SHMEM) ?
				"covered (MAP_SHARED anonymous, SysV shm, memfd)" :
				"not covered on this kernel (private anonymous memory only)");
	}
	fprintf(f, "hint:      %s\n", fpt_hint_text(s->hint));
	fprintf(f, "fptd:      %s\n", s->fptd_running ?
		"running (policy changes are persistent)" :
		"not running (policy changes go to the kernel only and are "
		"lost at reboot or module reload)");
	if (s->fptd_status) {
		st = term_dup(s->fptd_status);
		fprintf(f, "           %s\n", st ? st : "");
		free(st);
	}
	if (s->nr_fptd >= 0) {
		fprintf(f, "\nfptd's policies: %d\n", s->nr_fptd);
		if (s->nr_fptd)
			fptd_table(f, s->nr_fptd, s->fptd);
	}
	if (!s->module_loaded)
		return;
	fprintf(f, "\npolicies in the kernel: %d\n", s->nr_policies);
	if (s->nr_policies)
		policy_table(f, s->nr_policies, s->policies, s->persistent);
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
		json_counters(&j, "counters", s->global.stats, s->page_size);
		json_ratio(&j, s->global.stats);
		fpt_json_obj_end(&j);
	} else {
		fpt_json_null(&j, "global");
	}
	if (s->cgroup)
		fpt_json_str(&j, "cgroup", s->cgroup);
	fpt_json_arr_begin(&j, "policies");
	for (i = 0; i < s->nr_policies; i++)
		json_policy(&j, NULL, &s->policies[i], -1, s->page_size);
	fpt_json_arr_end(&j);
	fpt_json_obj_end(&j);
	fpt_json_end(&j);
}

/* The scopes of a stats table: global, then each policy. */
struct scope {
	const char *name;
	const uint64_t *c;		/* NULL: no counters */
};

static void ratio_cell(struct table *t, const uint64_t *c)
{
	double r;

	if (c && fpt_fallback_ratio(c, &r))
		table_cell(t, "%.2f%%", r * 100);
	else
		table_cell(t, "-");
}

void print_stats(FILE *f, const struct stats_info *s)
{
	static const char *const head[] = { "RUNS", "64K FAULTS", "FALLBACKS",
		"FALLBACK", "RESV UNUSED", "SCOPE" };
	static const bool right[] = { true, true, true, true, true, false };
	static const char *const rhead[] = { "CREATED", "COMPLETED", "BROKEN",
		"RECLAIMED", "SCOPE" };
	static const bool rright[] = { true, true, true, true, false };
	struct scope *sc = calloc((size_t)s->nr_policies + 1, sizeof(*sc));
	int n = 0, i, k;
	bool any_fb = false, any_resv = false;
	unsigned int c;
	struct table t;
	char b[32], *esc;

	if (!sc)
		return;
	if (s->have_global)
		sc[n++] = (struct scope){ "all processes", s->global.stats };
	for (i = 0; i < s->nr_policies; i++)
		sc[n++] = (struct scope){
			s->policies[i].path[0] ? s->policies[i].path : "?",
			s->policies[i].has_stats ? s->policies[i].stats : NULL };

	if (s->have_global)
		fprintf(f, "fpt %s, %" PRIu32 " polic%s; counters since the module was loaded\n",
			s->global.enabled ? "enabled" : "disabled",
			s->global.nr_policies,
			s->global.nr_policies == 1 ? "y" : "ies");
	if (s->cgroup && s->nr_policies) {
		esc = term_dup(s->cgroup);
		fprintf(f, "cgroup %s is governed by the policy of ",
			esc ? esc : "?");
		free(esc);
		esc = term_dup(sc[n - 1].name);
		fprintf(f, "%s\n", esc ? esc : "?");
		free(esc);
	}
	fputc('\n', f);
	table_init(&t, 6, head, right);
	for (k = 0; k < n; k++) {
		const uint64_t *v = sc[k].c;

		if (!v) {
			for (i = 0; i < 5; i++)
				table_cell(&t, "-");
			table_cell(&t, "%s", sc[k].name);
			continue;
		}
		table_cell(&t, "%" PRIu64, v[FPT_C_RUNS]);
		table_cell(&t, "%" PRIu64, v[FPT_C_FAULTS_64K]);
		table_cell(&t, "%" PRIu64, fpt_fallbacks(v));
		ratio_cell(&t, v);
		table_cell(&t, "%s", fmt_size(b, sizeof(b),
			   v[FPT_C_RESV_UNUSED_PAGES] * s->page_size));
		table_cell(&t, "%s", sc[k].name);
		any_fb |= fpt_fallbacks(v) != 0;
		for (c = FPT_C_RESV_CREATED; c <= FPT_C_RESV_RECLAIMED; c++)
			any_resv |= v[c] != 0;
	}
	table_print(&t, f, 0);
	table_free(&t);
	fprintf(f, "FALLBACK: fallbacks / (fallbacks + 64K faults), a 4 KB page instead of a 64 KB run\n");

	/* why they fell back: one line per scope with any */
	fprintf(f, "\nfallbacks by reason:%s\n", any_fb ? "" : " none");
	for (k = 0; any_fb && k < n; k++) {
		bool first = true;

		if (!sc[k].c || !fpt_fallbacks(sc[k].c))
			continue;
		int col;

		esc = term_dup(sc[k].name);
		fprintf(f, "  %s:", esc ? esc : "?");
		col = 3 + (esc ? term_width(esc) : 1);
		free(esc);
		for (c = FPT_C_FB_NO_BLOCK; c <= FPT_C_FB_NOMEM; c++) {
			char item[64];
			int l;

			if (!sc[k].c[c])
				continue;
			l = snprintf(item, sizeof(item), "%s %" PRIu64,
				     fpt_counter_name(c) + strlen("fallback_"),
				     sc[k].c[c]);
			/* wrapped to stay within 80 columns */
			if (!first && col + 2 + l > 79) {
				fprintf(f, ",\n   ");
				col = 3;
			} else if (!first) {
				fputc(',', f);
				col++;
			}
			fprintf(f, " %s", item);
			col += 1 + l;
			first = false;
		}
		fputc('\n', f);
	}
	if (any_resv) {
		fprintf(f, "\nreservations (reserve backend):\n");
		table_init(&t, 5, rhead, rright);
		for (k = 0; k < n; k++) {
			if (!sc[k].c)
				continue;
			for (c = FPT_C_RESV_CREATED; c <= FPT_C_RESV_RECLAIMED; c++)
				table_cell(&t, "%" PRIu64, sc[k].c[c]);
			table_cell(&t, "%s", sc[k].name);
		}
		table_print(&t, f, 2);
		table_free(&t);
	}
	if (s->have_global && s->global.stats[FPT_C_RUNS])
		fprintf(f, "\nruns mapped in all: %s of 64 KB runs\n",
			fmt_size(b, sizeof(b),
				 s->global.stats[FPT_C_RUNS] * FPT_WIN_SIZE));
	free(sc);
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
	json_counters(&j, "counters", w->now, w->page_size);
	if (w->prev) {
		fpt_json_obj_begin(&j, "delta");
		for (i = 0; i < FPT_NR_COUNTERS; i++)
			fpt_json_u64(&j, json_counter_name(i),
				     json_value(i, delta(w, i), w->page_size));
		fpt_json_obj_end(&j);
		fpt_json_obj_begin(&j, "rate_per_s");
		for (i = 0; i < FPT_NR_COUNTERS; i++)
			fpt_json_double(&j, json_counter_name(i),
					w->interval > 0 ?
					(double)json_value(i, delta(w, i),
							   w->page_size) /
					w->interval : 0.0,
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
	char b[32], *esc = term_dup(w->scope);

	if (w->prev)
		fprintf(f, "%s, last %.1f s:\n", esc ? esc : "?", w->interval);
	else
		fprintf(f, "%s:\n", esc ? esc : "?");
	free(esc);
	table_init(&t, 4, head, right);
	for (i = 0; i < FPT_NR_COUNTERS; i++) {
		if (i == FPT_C_RESV_UNUSED_PAGES) {
			/* a gauge of memory, not a count of events */
			table_cell(&t, "resv_unused");
			table_cell(&t, "%s", fmt_size(b, sizeof(b),
						      w->now[i] * w->page_size));
			table_cell(&t, "-");
			table_cell(&t, "-");
			continue;
		}
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
	fpt_json_str(&j, "contiguity_hint", fpt_hint_name(s->hint));
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
				fpt_json_bool(&j, "shmem", v->v.shmem);
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
			   v->v.anon ? "" : v->v.shmem ? " (shmem)" :
			   " (not anon)");
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
		char comm[sizeof(p->comm) * 4], cg[sizeof(p->cgroup) * 4];

		fprintf(f, "pid %d (%s)%s%s:\n", p->pid,
			fmt_term(comm, sizeof(comm), p->comm),
			p->cgroup[0] ? " in cgroup " : "",
			fmt_term(cg, sizeof(cg), p->cgroup));
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
	fprintf(f, "contiguity hint: %s%s\n", fpt_hint_text(s->hint),
		s->hint == FPT_HINT_NONE ? "" :
		" (the hint bit of a mapping is not visible from user space: "
		"not counted here)");
}
