// SPDX-License-Identifier: MIT
/* A small streaming JSON writer (see json.h). */
#include "json.h"

#include <inttypes.h>
#include <math.h>

void fpt_json_init(struct fpt_json *j, FILE *f, bool pretty)
{
	j->f = f;
	j->pretty = pretty;
	j->depth = 0;
	j->first[0] = true;
	j->error = false;
}

static void indent(struct fpt_json *j)
{
	int i;

	if (!j->pretty)
		return;
	fputc('\n', j->f);
	for (i = 0; i < j->depth; i++)
		fputs("  ", j->f);
}

/* The separator, indentation and key before a value. */
static void member(struct fpt_json *j, const char *key)
{
	if (!j->first[j->depth])
		fputc(',', j->f);
	if (j->depth)
		indent(j);
	j->first[j->depth] = false;
	if (key && j->depth) {
		fpt_json_write_string(j->f, key);
		fputs(j->pretty ? ": " : ":", j->f);
	}
}

static void open_(struct fpt_json *j, const char *key, char c)
{
	member(j, key);
	fputc(c, j->f);
	if (j->depth + 1 >= FPT_JSON_MAX_DEPTH) {
		j->error = true;
		return;
	}
	j->first[++j->depth] = true;
}

static void close_(struct fpt_json *j, char c)
{
	bool empty;

	if (j->depth <= 0) {
		j->error = true;
		return;
	}
	empty = j->first[j->depth];
	j->depth--;
	if (!empty)
		indent(j);
	fputc(c, j->f);
}

void fpt_json_obj_begin(struct fpt_json *j, const char *key)
{
	open_(j, key, '{');
}

void fpt_json_obj_end(struct fpt_json *j)
{
	close_(j, '}');
}

void fpt_json_arr_begin(struct fpt_json *j, const char *key)
{
	open_(j, key, '[');
}

void fpt_json_arr_end(struct fpt_json *j)
{
	close_(j, ']');
}

void fpt_json_str(struct fpt_json *j, const char *key, const char *s)
{
	member(j, key);
	if (s)
		fpt_json_write_string(j->f, s);
	else
		fputs("null", j->f);
}

void fpt_json_u64(struct fpt_json *j, const char *key, uint64_t v)
{
	member(j, key);
	fprintf(j->f, "%" PRIu64, v);
}

void fpt_json_i64(struct fpt_json *j, const char *key, int64_t v)
{
	member(j, key);
	fprintf(j->f, "%" PRId64, v);
}

void fpt_json_double(struct fpt_json *j, const char *key, double v, int prec)
{
	member(j, key);
	if (!isfinite(v))
		fputs("null", j->f);
	else
		fprintf(j->f, "%.*f", prec < 0 ? 0 : prec > 17 ? 17 : prec,
			v == 0.0 ? 0.0 : v);	/* no "-0.0" */
}

void fpt_json_bool(struct fpt_json *j, const char *key, bool v)
{
	member(j, key);
	fputs(v ? "true" : "false", j->f);
}

void fpt_json_null(struct fpt_json *j, const char *key)
{
	member(j, key);
	fputs("null", j->f);
}

void fpt_json_end(struct fpt_json *j)
{
	if (j->depth)
		j->error = true;
	fputc('\n', j->f);
}

/* Length of the valid UTF-8 sequence at s (1..4), or 0 if invalid. */
static int utf8_len(const unsigned char *s)
{
	unsigned char c = s[0];

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		return (s[1] & 0xc0) == 0x80 ? 2 : 0;
	if (c >= 0xe0 && c <= 0xef) {
		/* no overlongs (e0 a0..), no surrogates (ed 80..9f) */
		if ((c == 0xe0 && s[1] < 0xa0) || (c == 0xed && s[1] > 0x9f))
			return 0;
		return (s[1] & 0xc0) == 0x80 && (s[2] & 0xc0) == 0x80 ? 3 : 0;
	}
	if (c >= 0xf0 && c <= 0xf4) {
		/* no overlongs (f0 90..), nothing above U+10FFFF (f4 80..8f) */
		if ((c == 0xf0 && s[1] < 0x90) || (c == 0xf4 && s[1] > 0x8f))
			return 0;
		return (s[1] & 0xc0) == 0x80 && (s[2] & 0xc0) == 0x80 &&
		       (s[3] & 0xc0) == 0x80 ? 4 : 0;
	}
	return 0;
}

void fpt_json_write_string(FILE *f, const char *str)
{
	const unsigned char *s = (const unsigned char *)str;

	fputc('"', f);
	while (*s) {
		int n;

		switch (*s) {
		case '"': fputs("\\\"", f); s++; continue;
		case '\\': fputs("\\\\", f); s++; continue;
		case '\b': fputs("\\b", f); s++; continue;
		case '\f': fputs("\\f", f); s++; continue;
		case '\n': fputs("\\n", f); s++; continue;
		case '\r': fputs("\\r", f); s++; continue;
		case '\t': fputs("\\t", f); s++; continue;
		}
		if (*s < 0x20 || *s == 0x7f) {
			fprintf(f, "\\u%04x", *s);
			s++;
			continue;
		}
		n = utf8_len(s);
		if (!n) {
			fputs("\\ufffd", f);	/* one invalid byte */
			s++;
			continue;
		}
		fwrite(s, 1, (size_t)n, f);
		s += n;
	}
	fputc('"', f);
}
