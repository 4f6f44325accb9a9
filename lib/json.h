/* SPDX-License-Identifier: MIT */
/*
 * A small streaming JSON writer: objects, arrays, strings (escaped per
 * RFC 8259; invalid UTF-8 becomes U+FFFD so the output is always valid
 * JSON), integers, doubles, booleans, null.  Writes to a FILE*; no
 * allocation.  Members take a key, array elements pass key NULL.
 */
#ifndef FPT_JSON_H
#define FPT_JSON_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define FPT_JSON_MAX_DEPTH 32

struct fpt_json {
	FILE *f;
	bool pretty;			/* newlines and two-space indents */
	int depth;
	bool first[FPT_JSON_MAX_DEPTH];	/* nothing written yet at that depth */
	bool error;			/* nesting misuse (a bug of the caller) */
};

void fpt_json_init(struct fpt_json *j, FILE *f, bool pretty);
void fpt_json_obj_begin(struct fpt_json *j, const char *key);
void fpt_json_obj_end(struct fpt_json *j);
void fpt_json_arr_begin(struct fpt_json *j, const char *key);
void fpt_json_arr_end(struct fpt_json *j);
void fpt_json_str(struct fpt_json *j, const char *key, const char *s);
void fpt_json_u64(struct fpt_json *j, const char *key, uint64_t v);
void fpt_json_i64(struct fpt_json *j, const char *key, int64_t v);
/* Non-finite values are written as null; @prec digits after the point. */
void fpt_json_double(struct fpt_json *j, const char *key, double v, int prec);
void fpt_json_bool(struct fpt_json *j, const char *key, bool v);
void fpt_json_null(struct fpt_json *j, const char *key);
/* Ends the document: a newline after the top-level value. */
void fpt_json_end(struct fpt_json *j);

/* Write @s as a JSON string literal (with quotes) to @f. */
void fpt_json_write_string(FILE *f, const char *s);

#endif
