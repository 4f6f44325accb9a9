// SPDX-License-Identifier: MIT
/*
 * fptd configuration parsing (see config.h and daemon/README.md).
 *
 * libinih does the INI work (comments, key = value, inline ';' comments,
 * continuation lines, the UTF-8 BOM).  Around it:
 *  - a reader feeds inih one line at a time from memory, so that every
 *    handler call knows its line number (Debian's inih is built without
 *    INI_HANDLER_LINENO) and over-long lines are refused, not split;
 *  - section lines are read here, because inih keeps at most 49
 *    characters of a section name and cgroup paths are longer than that:
 *    the reader hands inih a placeholder "[s]" and keeps the full name.
 */
#define _GNU_SOURCE
#include "config.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ini.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../lib/cgpath.h"
#include "../lib/fptnl.h"

/* ---- errors ---- */

static void err_reset(struct fptd_errors *e)
{
	if (!e)
		return;
	e->n = 0;
	e->first_file[0] = 0;
	e->first_line = 0;
	e->text[0] = 0;
}

static void __attribute__((format(printf, 4, 5)))
err_add(struct fptd_errors *e, const char *file, int line, const char *fmt,
	...)
{
	size_t used;
	va_list ap;
	int n;

	if (!e)
		return;
	if (e->n == 0) {
		snprintf(e->first_file, sizeof(e->first_file), "%s", file);
		e->first_line = line;
	}
	e->n++;
	if (e->n > FPTD_ERRORS_MAX)
		return;
	used = strlen(e->text);
	if (e->n == FPTD_ERRORS_MAX) {
		snprintf(e->text + used, sizeof(e->text) - used,
			 "%s(further errors not shown)", used ? "\n" : "");
		return;
	}
	if (line > 0)
		n = snprintf(e->text + used, sizeof(e->text) - used, "%s%s:%d: ",
			     used ? "\n" : "", file, line);
	else
		n = snprintf(e->text + used, sizeof(e->text) - used, "%s%s: ",
			     used ? "\n" : "", file);
	if (n < 0 || (size_t)n >= sizeof(e->text) - used)
		return;
	used += (size_t)n;
	va_start(ap, fmt);
	vsnprintf(e->text + used, sizeof(e->text) - used, fmt, ap);
	va_end(ap);
}

/* ---- values ---- */

static int parse_bool(const char *v, bool *out)
{
	static const char *const yes[] = { "yes", "true", "on", "1" };
	static const char *const no[] = { "no", "false", "off", "0" };
	size_t i;

	for (i = 0; i < 4; i++) {
		if (!strcasecmp(v, yes[i])) {
			*out = true;
			return 0;
		}
		if (!strcasecmp(v, no[i])) {
			*out = false;
			return 0;
		}
	}
	return -EINVAL;
}

/* "0.25" or "25%", within [0, 1]. */
static int parse_ratio(const char *v, double *out)
{
	char *end;
	double d;

	if (!*v || isspace((unsigned char)*v))
		return -EINVAL;
	errno = 0;
	d = strtod(v, &end);
	if (errno || end == v)
		return -EINVAL;
	if (*end == '%') {
		d /= 100.0;
		end++;
	}
	if (*end || !(d >= 0.0 && d <= 1.0))	/* also refuses NaN */
		return -EINVAL;
	*out = d;
	return 0;
}

static int parse_u64(const char *v, uint64_t max, uint64_t *out)
{
	unsigned long long x;
	char *end;

	if (!isdigit((unsigned char)*v))
		return -EINVAL;
	errno = 0;
	x = strtoull(v, &end, 10);
	if (errno || *end || x > max)
		return -EINVAL;
	*out = x;
	return 0;
}

/* Seconds: "10", "10s", "5min", "1h". */
static int parse_seconds(const char *v, uint64_t min, uint64_t max,
			 unsigned int *out)
{
	unsigned long long x;
	uint64_t mult = 1;
	char *end;

	if (!isdigit((unsigned char)*v))
		return -EINVAL;
	errno = 0;
	x = strtoull(v, &end, 10);
	if (errno)
		return -EINVAL;
	while (*end == ' ')
		end++;
	if (!*end || !strcmp(end, "s"))
		mult = 1;
	else if (!strcmp(end, "min") || !strcmp(end, "m"))
		mult = 60;
	else if (!strcmp(end, "h"))
		mult = 3600;
	else
		return -EINVAL;
	if (x > max / mult || x * mult < min || x * mult > max)
		return -EINVAL;
	*out = (unsigned int)(x * mult);
	return 0;
}

static bool has_ctl(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return true;
	return false;
}

int fptd_cgroup_path(const char *cgroup_root, const char *name, char *out,
		     size_t len, char *err, size_t errlen)
{
	const char *root = cgroup_root && *cgroup_root ? cgroup_root :
							 "/sys/fs/cgroup";
	const char *why = NULL;
	int ret;

	if (has_ctl(name) || strchr(name, '"') || strpbrk(name, " \t")) {
		snprintf(err, errlen,
			 "cgroup path \"%.200s\" contains a space, a quote or a control character",
			 name);
		return -EINVAL;
	}
	ret = fpt_cgroup_name(root, name, out, len, &why);
	if (ret == -ENAMETOOLONG) {
		snprintf(err, errlen, "cgroup path \"%.64s...\" is too long",
			 name);
		return ret;
	}
	if (ret && why && !strcmp(why, FPT_CGROUP_WHY_HYBRID))
		snprintf(err, errlen,
			 "cgroup \"%.200s\" %s (at %s): name it relative to that mount",
			 name, why, root);
	else if (ret)
		snprintf(err, errlen, "cgroup \"%.200s\" %s", name,
			 why ? why : FPT_CGROUP_WHY_PATH);
	return ret ? -EINVAL : 0;
}

/* ---- policies ---- */

static const char *mode_name(uint8_t m)
{
	const char *n = fpt_mode_name(m);

	return n ? n : "?";
}

static const char *backend_name(uint8_t b)
{
	const char *n = fpt_backend_name(b);

	return n ? n : "?";
}

static void hint_comment(const char *value, char *err, size_t errlen)
{
	size_t l = strlen(err);

	if (strstr(value, "#") && l < errlen)
		snprintf(err + l, errlen - l,
			 " (comments after a value start with ';', not '#')");
}

int fptd_policy_key(struct fptd_policy *p, const char *key, const char *value,
		    char *err, size_t errlen)
{
	bool b;
	int v;

	if (!strcmp(key, "mode")) {
		v = fpt_mode_parse(value);
		if (v < 0) {
			snprintf(err, errlen,
				 "mode: \"%.100s\" is not one of on, madvise, off",
				 value);
			hint_comment(value, err, errlen);
			return -EINVAL;
		}
		p->mode = (uint8_t)v;
	} else if (!strcmp(key, "defrag")) {
		if (parse_bool(value, &b)) {
			snprintf(err, errlen,
				 "defrag: \"%.100s\" is not yes or no", value);
			hint_comment(value, err, errlen);
			return -EINVAL;
		}
		p->defrag = b;
	} else if (!strcmp(key, "backend")) {
		v = fpt_backend_parse(value);
		if (v < 0) {
			snprintf(err, errlen,
				 "backend: \"%.100s\" is not one of auto, folio, reserve",
				 value);
			hint_comment(value, err, errlen);
			return -EINVAL;
		}
		p->backend = (uint8_t)v;
	} else if (!strcmp(key, "thp2m")) {
		if (!strcmp(value, "allow")) {
			p->flags &= ~FPT_F_NO_PMD_THP;
		} else if (!strcmp(value, "deny")) {
			p->flags |= FPT_F_NO_PMD_THP;
		} else {
			snprintf(err, errlen,
				 "thp2m: \"%.100s\" is not allow or deny", value);
			hint_comment(value, err, errlen);
			return -EINVAL;
		}
	} else {
		snprintf(err, errlen,
			 "unknown key \"%.60s\" (a policy has mode, defrag, backend and thp2m)",
			 key);
		return -EINVAL;
	}
	return 0;
}

int fptd_policy_words(const struct fptd_policy *p, char *buf, size_t len)
{
	int n = snprintf(buf, len, "mode=%s defrag=%s backend=%s thp2m=%s",
			 mode_name(p->mode), p->defrag ? "yes" : "no",
			 backend_name(p->backend),
			 (p->flags & FPT_F_NO_PMD_THP) ? "deny" : "allow");

	return n < 0 || (size_t)n >= len ? -ENOSPC : 0;
}

bool fptd_policy_same(const struct fptd_policy *a, const struct fptd_policy *b)
{
	return a->mode == b->mode && a->defrag == b->defrag &&
	       a->backend == b->backend && a->flags == b->flags;
}

static void policy_clear(struct fptd_policy *p)
{
	free(p->path);
	free(p->file);
	p->path = p->file = NULL;
}

void fptd_policy_set_free(struct fptd_policy_set *set)
{
	size_t i;

	for (i = 0; i < set->n; i++)
		policy_clear(&set->v[i]);
	free(set->v);
	set->v = NULL;
	set->n = set->cap = 0;
}

struct fptd_policy *fptd_policy_find(const struct fptd_policy_set *set,
				     const char *path)
{
	size_t i;

	for (i = 0; i < set->n; i++)
		if (!strcmp(set->v[i].path, path))
			return &set->v[i];
	return NULL;
}

static int policy_dup(struct fptd_policy *dst, const struct fptd_policy *src)
{
	*dst = *src;
	dst->path = strdup(src->path);
	dst->file = strdup(src->file ? src->file : "");
	if (!dst->path || !dst->file) {
		policy_clear(dst);
		return -ENOMEM;
	}
	return 0;
}

int fptd_policy_set_put(struct fptd_policy_set *set,
			const struct fptd_policy *p)
{
	struct fptd_policy *old = fptd_policy_find(set, p->path), copy;

	if (policy_dup(&copy, p))
		return -ENOMEM;
	if (old) {
		policy_clear(old);
		*old = copy;
		return 0;
	}
	if (set->n == set->cap) {
		size_t cap = set->cap ? set->cap * 2 : 16;
		struct fptd_policy *v = realloc(set->v, cap * sizeof(*v));

		if (!v) {
			policy_clear(&copy);
			return -ENOMEM;
		}
		set->v = v;
		set->cap = cap;
	}
	set->v[set->n++] = copy;
	return 0;
}

int fptd_policy_set_del(struct fptd_policy_set *set, const char *path)
{
	struct fptd_policy *p = fptd_policy_find(set, path);

	if (!p)
		return -ENOENT;
	policy_clear(p);
	*p = set->v[--set->n];
	return 0;
}

int fptd_policy_set_copy(struct fptd_policy_set *dst,
			 const struct fptd_policy_set *src)
{
	struct fptd_policy_set tmp = { 0 };
	size_t i;

	for (i = 0; i < src->n; i++)
		if (fptd_policy_set_put(&tmp, &src->v[i])) {
			fptd_policy_set_free(&tmp);
			return -ENOMEM;
		}
	fptd_policy_set_free(dst);
	*dst = tmp;
	return 0;
}

static int cmp_path(const void *a, const void *b)
{
	return strcmp(((const struct fptd_policy *)a)->path,
		      ((const struct fptd_policy *)b)->path);
}

int fptd_policy_merge(const struct fptd_policy_set *files,
		      const struct fptd_policy_set *runtime,
		      struct fptd_policy_set *out)
{
	struct fptd_policy_set tmp = { 0 };
	size_t i;

	if (fptd_policy_set_copy(&tmp, files))
		return -ENOMEM;
	for (i = 0; i < runtime->n; i++)
		if (fptd_policy_set_put(&tmp, &runtime->v[i])) {
			fptd_policy_set_free(&tmp);
			return -ENOMEM;
		}
	if (tmp.n)
		qsort(tmp.v, tmp.n, sizeof(*tmp.v), cmp_path);
	fptd_policy_set_free(out);
	*out = tmp;
	return 0;
}

/* ---- the INI reader and handlers ---- */

enum kind { K_SETTINGS, K_POLICIES };

enum sect { S_NONE, S_DAEMON, S_REPORT, S_COMPACTION, S_CGROUP, S_BAD };

#define MAX_KEYS_SEEN	32

struct pstate {
	enum kind kind;
	const char *file;
	const char *text;
	size_t len, pos;
	int lineno;
	struct fptd_errors *err;
	int nerr;
	/* the current section */
	enum sect sect;
	int sect_line;
	int nseen;
	const char *seen_key[MAX_KEYS_SEEN];
	int seen_line[MAX_KEYS_SEEN];
	/* settings */
	struct fptd_settings *s;
	int line_fb_low, line_frag_low;
	/* policies */
	const char *cgroup_root;
	struct fptd_policy_set *set;	/* the caller's, for duplicates */
	struct fptd_policy_set add;	/* what this text adds */
	struct fptd_policy cur;
	bool cur_mode;			/* mode= seen in the section */
	int cur_root;			/* line of root = yes, 0 if none */
};

static void __attribute__((format(printf, 3, 4)))
perr(struct pstate *st, int line, const char *fmt, ...)
{
	char msg[384];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	err_add(st->err, st->file, line, "%s", msg);
	st->nerr++;
}

static void policy_section_end(struct pstate *st)
{
	struct fptd_policy *old;

	if (st->sect != S_CGROUP) {
		free(st->cur.path);
		st->cur.path = NULL;
		return;
	}
	st->sect = S_NONE;
	if (!st->cur_mode) {
		perr(st, st->sect_line,
		     "[cgroup \"%.200s\"] has no mode= (on, madvise or off)",
		     st->cur.path[0] ? st->cur.path : "/");
		goto out;
	}
	if (!st->cur.path[0] && !st->cur_root) {
		perr(st, st->sect_line,
		     "[cgroup \"/\"] is the root cgroup: its policy covers every process on the host; add \"root = yes\" to the section if that is meant");
		goto out;
	}
	if (st->cur.path[0] && st->cur_root) {
		perr(st, st->cur_root,
		     "\"root = yes\" belongs only in the policy of the root cgroup [cgroup \"/\"]");
		goto out;
	}
	old = fptd_policy_find(st->set, st->cur.path);
	if (!old)
		old = fptd_policy_find(&st->add, st->cur.path);
	if (old) {
		perr(st, st->sect_line,
		     "a second policy for cgroup \"%.200s\" (the first is at %.200s:%d)",
		     st->cur.path[0] ? st->cur.path : "/", old->file,
		     old->line);
		goto out;
	}
	if (st->set->n + st->add.n >= FPTD_POLICIES_MAX) {
		perr(st, st->sect_line, "more than %d policies",
		     FPTD_POLICIES_MAX);
		goto out;
	}
	st->cur.file = (char *)st->file;
	st->cur.line = st->sect_line;
	if (fptd_policy_set_put(&st->add, &st->cur))
		perr(st, st->sect_line, "out of memory");
out:
	st->cur.file = NULL;
	free(st->cur.path);
	st->cur.path = NULL;
}

/* Skip white space, then an optional comment; true if nothing else. */
static bool only_comment(const char *s, const char *end)
{
	while (s < end && isspace((unsigned char)*s))
		s++;
	return s == end || *s == ';' || *s == '#';
}

/* A section line, @s at its '[', @n bytes (no newline). */
static void section_line(struct pstate *st, const char *s, size_t n)
{
	const char *end = s + n, *p, *close;
	char name[FPTD_PATH_MAX + 64], perrbuf[300];
	size_t nl;

	if (st->kind == K_POLICIES)
		policy_section_end(st);
	st->sect = S_BAD;
	st->sect_line = st->lineno;
	st->nseen = 0;

	p = s + 1;
	if (st->kind == K_POLICIES && end - p > 7 && !strncmp(p, "cgroup", 6) &&
	    (p[6] == ' ' || p[6] == '\t')) {
		/* [cgroup "path"] */
		p += 6;
		while (p < end && (*p == ' ' || *p == '\t'))
			p++;
		if (p == end || *p != '"') {
			perr(st, st->lineno,
			     "expected [cgroup \"<path>\"] with the path in double quotes");
			return;
		}
		p++;
		close = memchr(p, '"', (size_t)(end - p));
		if (!close) {
			perr(st, st->lineno, "no closing '\"' in the section name");
			return;
		}
		nl = (size_t)(close - p);
		if (nl >= sizeof(name)) {
			perr(st, st->lineno, "cgroup path too long");
			return;
		}
		memcpy(name, p, nl);
		name[nl] = 0;
		p = close + 1;
		while (p < end && (*p == ' ' || *p == '\t'))
			p++;
		if (p == end || *p != ']') {
			perr(st, st->lineno, "expected ']' after the quoted cgroup path");
			return;
		}
		close = p;
	} else {
		close = memchr(p, ']', (size_t)(end - p));
		if (!close) {
			perr(st, st->lineno, "no ']' to close the section name");
			return;
		}
		nl = (size_t)(close - p);
		if (nl >= sizeof(name)) {
			perr(st, st->lineno, "section name too long");
			return;
		}
		memcpy(name, p, nl);
		name[nl] = 0;
		if (st->kind == K_SETTINGS && !strncmp(name, "cgroup", 6)) {
			perr(st, st->lineno,
			     "policies go in the policy directory (policy.d/*.conf), not in the daemon's configuration");
			return;
		}
		if (memchr(name, '"', nl)) {
			perr(st, st->lineno,
			     st->kind == K_POLICIES ?
			     "a quoted section name must be [cgroup \"<path>\"]" :
			     "unexpected '\"' in the section name");
			return;
		}
	}
	if (!only_comment(close + 1, end)) {
		perr(st, st->lineno, "unexpected text after ']'");
		return;
	}

	if (st->kind == K_SETTINGS) {
		if (!strcmp(name, "daemon"))
			st->sect = S_DAEMON;
		else if (!strcmp(name, "report"))
			st->sect = S_REPORT;
		else if (!strcmp(name, "compaction"))
			st->sect = S_COMPACTION;
		else
			perr(st, st->lineno,
			     "unknown section [%.100s] (expected [daemon], [report] or [compaction])",
			     name);
		return;
	}
	/* a policy section */
	{
		char path[FPTD_PATH_MAX];

		if (fptd_cgroup_path(st->cgroup_root, name, path, sizeof(path),
				     perrbuf, sizeof(perrbuf))) {
			perr(st, st->lineno, "%s", perrbuf);
			return;
		}
		memset(&st->cur, 0, sizeof(st->cur));
		st->cur.backend = FPT_BACKEND_AUTO;
		st->cur.path = strdup(path);
		if (!st->cur.path) {
			perr(st, st->lineno, "out of memory");
			return;
		}
		st->cur_mode = false;
		st->cur_root = 0;
		st->sect = S_CGROUP;
	}
}

static char *reader(char *str, int num, void *stream)
{
	struct pstate *st = stream;
	const char *l, *nlp, *s;
	size_t n, lead;

	if (st->pos >= st->len)
		return NULL;
	l = st->text + st->pos;
	nlp = memchr(l, '\n', st->len - st->pos);
	n = nlp ? (size_t)(nlp - l) : st->len - st->pos;
	st->pos += n + (nlp ? 1 : 0);
	st->lineno++;
	s = l;
	if (st->lineno == 1 && n >= 3 && !memcmp(s, "\xEF\xBB\xBF", 3)) {
		s += 3;
		n -= 3;
	}
	while (n && (s[n - 1] == '\r' || isspace((unsigned char)s[n - 1])))
		n--;
	str[0] = 0;
	if (memchr(s, 0, n)) {
		perr(st, st->lineno, "NUL byte in the line");
		return str;
	}
	for (lead = 0; lead < n && isspace((unsigned char)s[lead]); lead++)
		;
	if (lead == n)
		return str;			/* blank */
	if (s[lead] == ';' || s[lead] == '#')
		return str;			/* comment */
	if (lead) {
		/*
		 * INI reads an indented line as the continuation of the
		 * previous value, or (after a section line) as a key: fptd
		 * refuses both rather than guess.
		 */
		perr(st, st->lineno,
		     "indented line: leading white space is not allowed (INI would read it as a continuation of the previous line)");
		return str;
	}
	if (s[lead] == '[') {
		section_line(st, s + lead, n - lead);
		snprintf(str, (size_t)num, "[s]");
		return str;
	}
	if (n + 2 > (size_t)num) {
		perr(st, st->lineno, "line longer than %d characters", num - 2);
		return str;
	}
	memcpy(str, s, n);
	str[n] = 0;
	return str;
}

/* Remember @key for duplicate detection; false if seen in this section. */
static bool key_once(struct pstate *st, const char *key)
{
	int i;

	for (i = 0; i < st->nseen; i++)
		if (!strcmp(st->seen_key[i], key)) {
			perr(st, st->lineno,
			     "\"%s\" set twice in this section (first on line %d)",
			     key, st->seen_line[i]);
			return false;
		}
	if (st->nseen < MAX_KEYS_SEEN) {
		st->seen_key[st->nseen] = key;
		st->seen_line[st->nseen++] = st->lineno;
	}
	return true;
}

enum vtype { V_PATH, V_PATH_OR_EMPTY, V_SOCK, V_FILENAME, V_BOOL, V_SECS,
	     V_RATIO, V_U64 };

struct skey {
	enum sect sect;
	const char *name;
	enum vtype type;
	size_t off, size;
	uint64_t min, max;
};

#define SOFF(f) offsetof(struct fptd_settings, f), sizeof(((struct fptd_settings *)0)->f)
static const struct skey skeys[] = {
	{ S_DAEMON, "cgroup_root", V_PATH_OR_EMPTY, SOFF(cgroup_root), 0, 0 },
	{ S_DAEMON, "policy_dir", V_PATH, SOFF(policy_dir), 0, 0 },
	{ S_DAEMON, "state_dir", V_PATH, SOFF(state_dir), 0, 0 },
	{ S_DAEMON, "control_socket", V_SOCK, SOFF(control_socket), 0, 0 },
	{ S_DAEMON, "load_module", V_BOOL, SOFF(load_module), 0, 0 },
	{ S_DAEMON, "clear_policies_on_exit", V_BOOL, SOFF(clear_on_exit), 0, 0 },
	{ S_DAEMON, "module_retry_max", V_SECS, SOFF(module_retry_max), 1, 3600 },
	{ S_REPORT, "interval", V_SECS, SOFF(interval), 1, 86400 },
	{ S_REPORT, "prometheus_dir", V_PATH_OR_EMPTY, SOFF(prom_dir), 0, 0 },
	{ S_REPORT, "prometheus_file", V_FILENAME, SOFF(prom_file), 0, 0 },
	{ S_REPORT, "fallback_rate_high", V_RATIO, SOFF(fb_high), 0, 0 },
	{ S_REPORT, "fallback_rate_low", V_RATIO, SOFF(fb_low), 0, 0 },
	{ S_REPORT, "fallback_min_faults", V_U64, SOFF(fb_min_faults), 0, UINT32_MAX },
	{ S_REPORT, "unusable_index_high", V_RATIO, SOFF(frag_high), 0, 0 },
	{ S_REPORT, "unusable_index_low", V_RATIO, SOFF(frag_low), 0, 0 },
	{ S_COMPACTION, "enabled", V_BOOL, SOFF(compact), 0, 0 },
	{ S_COMPACTION, "fallback_rate", V_RATIO, SOFF(compact_fb_rate), 0, 0 },
	{ S_COMPACTION, "min_interval", V_SECS, SOFF(compact_min_interval), 1, 7 * 86400 },
	{ S_COMPACTION, "per_node", V_BOOL, SOFF(compact_per_node), 0, 0 },
};

static const char *sect_name(enum sect s)
{
	switch (s) {
	case S_DAEMON: return "daemon";
	case S_REPORT: return "report";
	case S_COMPACTION: return "compaction";
	default: return "?";
	}
}

static void settings_key(struct pstate *st, const char *key, const char *value)
{
	const struct skey *k = NULL;
	char *dst;
	size_t i;

	for (i = 0; i < sizeof(skeys) / sizeof(skeys[0]); i++)
		if (skeys[i].sect == st->sect && !strcmp(skeys[i].name, key)) {
			k = &skeys[i];
			break;
		}
	if (!k) {
		perr(st, st->lineno, "unknown key \"%.60s\" in [%s]", key,
		     sect_name(st->sect));
		return;
	}
	if (!key_once(st, k->name))
		return;
	if (!*value && k->type != V_PATH_OR_EMPTY) {
		perr(st, st->lineno, "\"%s\" has no value", k->name);
		return;
	}
	dst = (char *)st->s + k->off;
	switch (k->type) {
	case V_PATH:
	case V_PATH_OR_EMPTY:
	case V_SOCK:
		if (!*value && k->type == V_PATH_OR_EMPTY) {
			dst[0] = 0;
			break;
		}
		if (value[0] != '/' || has_ctl(value)) {
			perr(st, st->lineno, "%s: \"%.200s\" is not an absolute path",
			     key, value);
			return;
		}
		if (strlen(value) >= k->size) {
			perr(st, st->lineno, "%s: longer than %zu characters", key,
			     k->size - 1);
			return;
		}
		strcpy(dst, value);
		if (!strcmp(k->name, "policy_dir"))
			st->s->policy_dir_line = st->lineno;
		break;
	case V_FILENAME:
		if (!*value || strchr(value, '/') || value[0] == '.' ||
		    has_ctl(value) || strlen(value) < 6 ||
		    strcmp(value + strlen(value) - 5, ".prom")) {
			perr(st, st->lineno,
			     "%s: \"%.100s\" must be a file name ending in .prom",
			     key, value);
			return;
		}
		if (strlen(value) >= k->size) {
			perr(st, st->lineno, "%s: too long", key);
			return;
		}
		strcpy(dst, value);
		break;
	case V_BOOL:
		if (parse_bool(value, (bool *)dst)) {
			perr(st, st->lineno, "%s: \"%.100s\" is not yes or no%s",
			     key, value,
			     strchr(value, '#') ? " (comments after a value start with ';')" : "");
			return;
		}
		break;
	case V_SECS:
		if (parse_seconds(value, k->min, k->max, (unsigned int *)dst)) {
			perr(st, st->lineno,
			     "%s: \"%.100s\" is not a duration between %llu and %llu seconds (\"30\", \"30s\", \"5min\", \"1h\")",
			     key, value, (unsigned long long)k->min,
			     (unsigned long long)k->max);
			return;
		}
		break;
	case V_RATIO:
		if (parse_ratio(value, (double *)dst)) {
			perr(st, st->lineno,
			     "%s: \"%.100s\" is not a fraction between 0 and 1 (\"0.25\" or \"25%%\")",
			     key, value);
			return;
		}
		if (!strcmp(key, "fallback_rate_low"))
			st->line_fb_low = st->lineno;
		if (!strcmp(key, "unusable_index_low"))
			st->line_frag_low = st->lineno;
		break;
	case V_U64:
		if (parse_u64(value, k->max, (uint64_t *)dst)) {
			perr(st, st->lineno, "%s: \"%.100s\" is not a number up to %llu",
			     key, value, (unsigned long long)k->max);
			return;
		}
		break;
	}
}

static int handler(void *user, const char *section, const char *name,
		   const char *value)
{
	struct pstate *st = user;
	char msg[300];

	(void)section;
	if (!*value && st->sect != S_DAEMON && st->sect != S_REPORT &&
	    st->sect != S_COMPACTION && st->sect != S_BAD) {
		perr(st, st->lineno, "\"%.60s\" has no value", name);
		return 1;
	}
	switch (st->sect) {
	case S_NONE:
		perr(st, st->lineno, "\"%.60s\" outside a section", name);
		return 1;
	case S_BAD:
		return 1;	/* the section line was reported */
	case S_CGROUP:
		if (!strcmp(name, "root")) {
			if (!key_once(st, "root"))
				return 1;
			if (strcmp(value, "yes"))
				perr(st, st->lineno,
				     "root: \"%.100s\" is not yes (the only value: it confirms a policy for every process)",
				     value);
			else
				st->cur_root = st->lineno;
			return 1;
		}
		if (strcmp(name, "mode") && strcmp(name, "defrag") &&
		    strcmp(name, "backend") && strcmp(name, "thp2m")) {
			fptd_policy_key(&st->cur, name, value, msg, sizeof(msg));
			perr(st, st->lineno, "%s", msg);
			return 1;
		}
		if (!key_once(st, !strcmp(name, "mode") ? "mode" :
				  !strcmp(name, "defrag") ? "defrag" :
				  !strcmp(name, "backend") ? "backend" : "thp2m"))
			return 1;
		if (fptd_policy_key(&st->cur, name, value, msg, sizeof(msg)))
			perr(st, st->lineno, "%s", msg);
		else if (!strcmp(name, "mode"))
			st->cur_mode = true;
		return 1;
	default:
		settings_key(st, name, value);
		return 1;
	}
}

static int run_parse(struct pstate *st)
{
	int ret;

	ret = ini_parse_stream(reader, st, handler, st);
	if (st->kind == K_POLICIES)
		policy_section_end(st);
	if (ret > 0 && st->nerr == 0) {
		/* a line inih refused that neither reader nor handler saw */
		perr(st, ret,
		     "expected \"key = value\", a [section] or a comment");
	} else if (ret < 0 && st->nerr == 0) {
		perr(st, 0, "cannot parse (inih error %d)", ret);
	}
	return st->nerr ? -EINVAL : 0;
}

void fptd_settings_default(struct fptd_settings *s)
{
	memset(s, 0, sizeof(*s));
	strcpy(s->policy_dir, "/etc/fpt/policy.d");
	strcpy(s->state_dir, "/var/lib/fpt");
	strcpy(s->control_socket, "/run/fpt/control");
	s->load_module = true;
	s->clear_on_exit = false;
	s->module_retry_max = 30;
	s->interval = 10;
	strcpy(s->prom_dir, "/var/lib/prometheus/node-exporter");
	strcpy(s->prom_file, "fpt.prom");
	s->fb_high = 0.25;
	s->fb_low = 0.10;
	s->fb_min_faults = 256;
	s->frag_high = 0.75;
	s->frag_low = 0.60;
	s->compact = false;
	s->compact_fb_rate = 0.25;
	s->compact_min_interval = 300;
	s->compact_per_node = true;
}

int fptd_settings_parse(const char *text, size_t len, const char *file,
			struct fptd_settings *s, struct fptd_errors *err)
{
	struct pstate *st = calloc(1, sizeof(*st));
	struct fptd_settings *tmp = malloc(sizeof(*tmp));
	int ret;

	err_reset(err);
	if (!st || !tmp) {
		free(st);
		free(tmp);
		err_add(err, file, 0, "out of memory");
		return -ENOMEM;
	}
	*tmp = *s;
	st->kind = K_SETTINGS;
	st->file = file;
	st->text = text;
	st->len = len;
	st->err = err;
	st->s = tmp;
	ret = run_parse(st);
	if (!ret && tmp->fb_low > tmp->fb_high) {
		perr(st, st->line_fb_low,
		     "fallback_rate_low (%g) is above fallback_rate_high (%g)",
		     tmp->fb_low, tmp->fb_high);
		ret = -EINVAL;
	}
	if (!ret && tmp->frag_low > tmp->frag_high) {
		perr(st, st->line_frag_low,
		     "unusable_index_low (%g) is above unusable_index_high (%g)",
		     tmp->frag_low, tmp->frag_high);
		ret = -EINVAL;
	}
	if (!ret)
		*s = *tmp;
	free(tmp);
	free(st);
	return ret;
}

int fptd_policies_parse(const char *text, size_t len, const char *file,
			const char *cgroup_root, struct fptd_policy_set *set,
			struct fptd_errors *err)
{
	struct pstate *st = calloc(1, sizeof(*st));
	size_t i;
	int ret;

	if (!st) {
		err_add(err, file, 0, "out of memory");
		return -ENOMEM;
	}
	st->kind = K_POLICIES;
	st->file = file;
	st->text = text;
	st->len = len;
	st->err = err;
	st->cgroup_root = cgroup_root;
	st->set = set;
	ret = run_parse(st);
	for (i = 0; !ret && i < st->add.n; i++)
		if (fptd_policy_set_put(set, &st->add.v[i])) {
			err_add(err, file, 0, "out of memory");
			ret = -ENOMEM;
		}
	fptd_policy_set_free(&st->add);
	free(st->cur.path);
	free(st);
	return ret;
}

/* ---- files ---- */

static int read_file(const char *path, char **out, size_t *len,
		     struct fptd_errors *err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	struct stat sb;
	size_t got = 0;
	char *buf;

	if (fd < 0) {
		int e = errno;

		err_add(err, path, 0, "cannot open: %s", strerror(e));
		return -e;
	}
	if (fstat(fd, &sb) || !S_ISREG(sb.st_mode)) {
		err_add(err, path, 0, "not a regular file");
		close(fd);
		return -EINVAL;
	}
	if (sb.st_size > FPTD_FILE_MAX) {
		err_add(err, path, 0, "larger than %d bytes", FPTD_FILE_MAX);
		close(fd);
		return -EFBIG;
	}
	buf = malloc((size_t)sb.st_size + 1);
	if (!buf) {
		close(fd);
		err_add(err, path, 0, "out of memory");
		return -ENOMEM;
	}
	for (;;) {
		ssize_t n = read(fd, buf + got, (size_t)sb.st_size + 1 - got);

		if (n < 0) {
			int e = errno;

			if (e == EINTR)
				continue;
			err_add(err, path, 0, "read error: %s", strerror(e));
			free(buf);
			close(fd);
			return -e;
		}
		if (n == 0)
			break;
		got += (size_t)n;
		if (got > (size_t)sb.st_size) {
			err_add(err, path, 0, "file changed while being read");
			free(buf);
			close(fd);
			return -EAGAIN;
		}
	}
	close(fd);
	buf[got] = 0;
	*out = buf;
	*len = got;
	return 0;
}

static int conf_filter(const struct dirent *d)
{
	size_t l = strlen(d->d_name);

	return d->d_name[0] != '.' && l > 5 &&
	       !strcmp(d->d_name + l - 5, ".conf");
}

int fptd_config_load(const char *conf_path, bool conf_required,
		     const char *cgroup_root_fallback,
		     struct fptd_settings *s, struct fptd_policy_set *set,
		     struct fptd_errors *err)
{
	struct fptd_settings *ns = malloc(sizeof(*ns));
	struct fptd_policy_set nset = { 0 };
	struct dirent **names = NULL;
	const char *root;
	char *text = NULL;
	size_t len = 0;
	int ret, n = 0, i;

	err_reset(err);
	if (!ns)
		return -ENOMEM;
	fptd_settings_default(ns);
	ret = read_file(conf_path, &text, &len, err);
	if (ret == -ENOENT && !conf_required) {
		err_reset(err);		/* no file: the defaults */
		ret = 0;
	} else if (!ret) {
		ret = fptd_settings_parse(text, len, conf_path, ns, err);
		free(text);
		text = NULL;
	}
	if (ret)
		goto out;
	root = ns->cgroup_root[0] ? ns->cgroup_root : cgroup_root_fallback;

	n = scandir(ns->policy_dir, &names, conf_filter, alphasort);
	if (n < 0) {
		/* a typo in policy_dir must not mean "no policies" */
		int e = errno;

		if (ns->policy_dir_line)
			err_add(err, conf_path, ns->policy_dir_line,
				"policy_dir %s: %s", ns->policy_dir,
				strerror(e));
		else
			err_add(err, ns->policy_dir, 0,
				"the policy directory (policy_dir's default): %s",
				strerror(e));
		ret = -e;
		n = 0;
		goto out;
	}
	for (i = 0; i < n; i++) {
		char path[FPTD_PATH_MAX + 256];
		struct fptd_errors *one = malloc(sizeof(*one));
		int r;

		if (!one) {
			ret = -ENOMEM;
			break;
		}
		err_reset(one);
		snprintf(path, sizeof(path), "%s/%s", ns->policy_dir,
			 names[i]->d_name);
		r = read_file(path, &text, &len, one);
		if (!r) {
			r = fptd_policies_parse(text, len, path, root, &nset, one);
			free(text);
			text = NULL;
		}
		if (r) {
			/* gather the errors of every file */
			char *line, *save = NULL;

			if (!ret && err) {
				snprintf(err->first_file, sizeof(err->first_file),
					 "%s", one->first_file);
				err->first_line = one->first_line;
			}
			for (line = strtok_r(one->text, "\n", &save); line && err;
			     line = strtok_r(NULL, "\n", &save)) {
				size_t used = strlen(err->text);

				if (err->n >= FPTD_ERRORS_MAX)
					break;
				snprintf(err->text + used, sizeof(err->text) - used,
					 "%s%s", used ? "\n" : "", line);
				err->n++;
			}
			ret = r;
		}
		free(one);
	}
out:
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
	if (!ret) {
		*s = *ns;
		fptd_policy_set_free(set);
		*set = nset;
	} else {
		fptd_policy_set_free(&nset);
	}
	free(ns);
	return ret;
}

/* ---- writing policies back ---- */

char *fptd_policies_format(const struct fptd_policy_set *set)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	size_t i;

	if (!f)
		return NULL;
	fprintf(f, "# fptd's runtime policies, changed with fptctl (fptd writes this\n"
		   "# file; policies of your own go in /etc/fpt/policy.d/).\n");
	for (i = 0; i < set->n; i++) {
		const struct fptd_policy *p = &set->v[i];

		fprintf(f, "\n[cgroup \"%s\"]\n%smode = %s\ndefrag = %s\nbackend = %s\nthp2m = %s\n",
			p->path[0] ? p->path : "/",
			p->path[0] ? "" : "root = yes\n", mode_name(p->mode),
			p->defrag ? "yes" : "no", backend_name(p->backend),
			(p->flags & FPT_F_NO_PMD_THP) ? "deny" : "allow");
	}
	if (fclose(f)) {
		free(buf);
		return NULL;
	}
	return buf;
}
