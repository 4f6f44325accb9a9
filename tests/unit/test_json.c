// SPDX-License-Identifier: GPL-2.0
/* lib/json.c: escaping and structure of the JSON writer. */
#define _GNU_SOURCE
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "json.h"

struct mem {
	char *buf;
	size_t len;
	FILE *f;
};

static void mem_open(struct mem *m)
{
	m->buf = NULL;
	m->len = 0;
	m->f = open_memstream(&m->buf, &m->len);
	assert_non_null(m->f);
}

static char *mem_close(struct mem *m)
{
	fclose(m->f);
	return m->buf;
}

static void esc(const char *in, const char *want)
{
	struct mem m;
	char *out;

	mem_open(&m);
	fpt_json_write_string(m.f, in);
	out = mem_close(&m);
	assert_string_equal(out, want);
	free(out);
}

static void escaping(void **state)
{
	(void)state;
	esc("", "\"\"");
	esc("plain /path", "\"plain /path\"");
	esc("a\"b", "\"a\\\"b\"");
	esc("back\\slash", "\"back\\\\slash\"");
	esc("\n\r\t\b\f", "\"\\n\\r\\t\\b\\f\"");
	esc("\x01\x1f", "\"\\u0001\\u001f\"");
	esc("del\x7f", "\"del\\u007f\"");
	esc("</script>", "\"</script>\"");	/* '/' needs no escape */
}

static void utf8(void **state)
{
	(void)state;
	/* valid UTF-8 passes through: é, €, U+1F600 */
	esc("caf\xc3\xa9", "\"caf\xc3\xa9\"");
	esc("\xe2\x82\xac", "\"\xe2\x82\xac\"");
	esc("\xf0\x9f\x98\x80", "\"\xf0\x9f\x98\x80\"");
	/* invalid: lone continuation, truncated, overlong, surrogate, >10FFFF */
	esc("a\x80z", "\"a\\ufffdz\"");
	esc("\xc3", "\"\\ufffd\"");
	esc("\xe2\x82", "\"\\ufffd\\ufffd\"");
	esc("\xc0\xaf", "\"\\ufffd\\ufffd\"");
	esc("\xe0\x80\xaf", "\"\\ufffd\\ufffd\\ufffd\"");
	esc("\xed\xa0\x80", "\"\\ufffd\\ufffd\\ufffd\"");
	esc("\xf4\x90\x80\x80", "\"\\ufffd\\ufffd\\ufffd\\ufffd\"");
	esc("\xff", "\"\\ufffd\"");
}

static void structure_compact(void **state)
{
	struct fpt_json j;
	struct mem m;
	char *out;

	(void)state;
	mem_open(&m);
	fpt_json_init(&j, m.f, false);
	fpt_json_obj_begin(&j, NULL);
	fpt_json_str(&j, "s", "x");
	fpt_json_u64(&j, "u", UINT64_MAX);
	fpt_json_i64(&j, "i", -5);
	fpt_json_bool(&j, "t", true);
	fpt_json_null(&j, "n");
	fpt_json_double(&j, "d", 0.125, 3);
	fpt_json_double(&j, "nan", NAN, 2);
	fpt_json_double(&j, "inf", INFINITY, 2);
	fpt_json_double(&j, "negzero", -0.0, 1);
	fpt_json_arr_begin(&j, "a");
	fpt_json_u64(&j, NULL, 1);
	fpt_json_str(&j, NULL, NULL);
	fpt_json_obj_begin(&j, NULL);
	fpt_json_obj_end(&j);
	fpt_json_arr_begin(&j, NULL);
	fpt_json_arr_end(&j);
	fpt_json_arr_end(&j);
	fpt_json_str(&j, "key\"q", "v");
	fpt_json_obj_end(&j);
	fpt_json_end(&j);
	out = mem_close(&m);
	assert_false(j.error);
	assert_string_equal(out,
		"{\"s\":\"x\",\"u\":18446744073709551615,\"i\":-5,\"t\":true,"
		"\"n\":null,\"d\":0.125,\"nan\":null,\"inf\":null,"
		"\"negzero\":0.0,\"a\":[1,null,{},[]],\"key\\\"q\":\"v\"}\n");
	free(out);
}

static void structure_pretty(void **state)
{
	struct fpt_json j;
	struct mem m;
	char *out;

	(void)state;
	mem_open(&m);
	fpt_json_init(&j, m.f, true);
	fpt_json_obj_begin(&j, NULL);
	fpt_json_u64(&j, "a", 1);
	fpt_json_arr_begin(&j, "b");
	fpt_json_u64(&j, NULL, 2);
	fpt_json_u64(&j, NULL, 3);
	fpt_json_arr_end(&j);
	fpt_json_obj_begin(&j, "c");
	fpt_json_obj_end(&j);
	fpt_json_obj_end(&j);
	fpt_json_end(&j);
	out = mem_close(&m);
	assert_string_equal(out,
		"{\n  \"a\": 1,\n  \"b\": [\n    2,\n    3\n  ],\n  \"c\": {}\n}\n");
	free(out);
}

static void misuse_flagged(void **state)
{
	struct fpt_json j;
	struct mem m;
	char *out;

	(void)state;
	mem_open(&m);
	fpt_json_init(&j, m.f, false);
	fpt_json_obj_end(&j);			/* nothing open */
	assert_true(j.error);
	fpt_json_init(&j, m.f, false);
	fpt_json_obj_begin(&j, NULL);
	fpt_json_end(&j);			/* still open */
	assert_true(j.error);
	out = mem_close(&m);
	free(out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(escaping),
		cmocka_unit_test(utf8),
		cmocka_unit_test(structure_compact),
		cmocka_unit_test(structure_pretty),
		cmocka_unit_test(misuse_flagged),
	};

	return cmocka_run_group_tests_name("json", tests, NULL, NULL);
}
