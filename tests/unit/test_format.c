// SPDX-License-Identifier: GPL-2.0
/* fptctl's output formatting (tools/fptctl/format.c). */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "format.h"

struct mem {
	char *buf;
	size_t len;
	FILE *f;
};

static FILE *mem_open(struct mem *m)
{
	m->buf = NULL;
	m->len = 0;
	m->f = open_memstream(&m->buf, &m->len);
	assert_non_null(m->f);
	return m->f;
}

static char *mem_close(struct mem *m)
{
	fclose(m->f);
	return m->buf;
}

static void has(const char *out, const char *needle)
{
	if (!strstr(out, needle))
		fail_msg("missing %s in:\n%s", needle, out);
}

/* Balanced {} [] outside strings, and no raw control characters. */
static void json_sane(const char *s)
{
	int depth = 0;
	bool str = false;

	for (; *s; s++) {
		if (str) {
			assert_true((unsigned char)*s >= 0x20);
			if (*s == '\\')
				s++;
			else if (*s == '"')
				str = false;
			continue;
		}
		if (*s == '"')
			str = true;
		else if (*s == '{' || *s == '[')
			depth++;
		else if (*s == '}' || *s == ']')
			depth--;
		assert_true(depth >= 0);
	}
	assert_false(str);
	assert_int_equal(depth, 0);
}

static void sizes(void **state)
{
	char b[32];

	(void)state;
	assert_string_equal(fmt_size(b, sizeof(b), 0), "0 B");
	assert_string_equal(fmt_size(b, sizeof(b), 1023), "1023 B");
	assert_string_equal(fmt_size(b, sizeof(b), 1024), "1.0 KiB");
	assert_string_equal(fmt_size(b, sizeof(b), 65536), "64.0 KiB");
	assert_string_equal(fmt_size(b, sizeof(b), 1536 * 1024), "1.5 MiB");
	assert_string_equal(fmt_size(b, sizeof(b), 1048575), "1.0 MiB");
	assert_string_equal(fmt_size(b, sizeof(b), 12ULL << 30), "12.0 GiB");
	assert_string_equal(fmt_size(b, sizeof(b), 3ULL << 40), "3.0 TiB");
	assert_string_equal(fmt_size(b, sizeof(b), UINT64_MAX), "16.0 EiB");
}

static void table(void **state)
{
	static const char *const head[] = { "NAME", "N", "NOTE" };
	static const bool right[] = { false, true, false };
	struct table t;
	struct mem m;
	char *out;

	(void)state;
	table_init(&t, 3, head, right);
	table_cell(&t, "a");
	table_cell(&t, "%d", 12345);
	table_cell(&t, "x");
	table_cell(&t, "longer");
	table_cell(&t, "%d", 7);
	table_cell(&t, "last column not padded");
	table_print(&t, mem_open(&m), 1);
	table_free(&t);
	out = mem_close(&m);
	assert_string_equal(out,
		" NAME        N  NOTE\n"
		" a       12345  x\n"
		" longer      7  last column not padded\n");
	free(out);
}

static void policy_words(void **state)
{
	char b[128];

	(void)state;
	fmt_policy_words(b, sizeof(b), FPT_MODE_ON, 0, FPT_BACKEND_AUTO, 0);
	assert_string_equal(b, "mode=on defrag=no backend=auto thp2m=allow");
	fmt_policy_words(b, sizeof(b), FPT_MODE_MADVISE, 1,
			 FPT_BACKEND_RESERVE, FPT_F_NO_PMD_THP);
	assert_string_equal(b,
		"mode=madvise defrag=yes backend=reserve thp2m=deny");
}

static struct fpt_policy_info pol(uint64_t id, const char *path)
{
	struct fpt_policy_info p;
	unsigned int i;

	memset(&p, 0, sizeof(p));
	p.cgroup_id = id;
	snprintf(p.path, sizeof(p.path), "%s", path);
	p.mode = FPT_MODE_ON;
	p.defrag = 1;
	p.backend = FPT_BACKEND_AUTO;
	p.backend_active = FPT_BACKEND_FOLIO;
	p.flags = FPT_F_NO_PMD_THP;
	p.has_stats = true;
	for (i = 0; i < FPT_NR_COUNTERS; i++)
		p.stats[i] = 100 + i;
	return p;
}

static void status_json(void **state)
{
	struct fpt_policy_info v[2] = { pol(28, "/db"), pol(29, "/we\"ird\n") };
	int persistent[2] = { 1, -1 };
	struct status_info s = {
		.module_loaded = true, .version = "0.1.0", .genl_version = 1,
		.have_global = true, .default_backend = FPT_BACKEND_FOLIO,
		.fptd_running = true, .nr_policies = 2, .policies = v,
		.persistent = persistent, .nr_fptd = -1, .hint = FPT_HINT_CONTPTE,
	};
	struct mem m;
	char *out;

	(void)state;
	s.global.enabled = true;
	s.global.backends = (1U << FPT_BACKEND_FOLIO) |
			    (1U << FPT_BACKEND_RESERVE);
	s.global.has_features = true;
	s.global.features = FPT_FEAT_SHMEM;
	json_status(mem_open(&m), &s);
	out = mem_close(&m);
	json_sane(out);
	has(out, "\"module_loaded\": true");
	has(out, "\"version\": \"0.1.0\"");
	has(out, "\"genl_version\": 1");
	has(out, "\"enabled\": true");
	has(out, "\"backends\": [\n    \"folio\",\n    \"reserve\"\n  ]");
	has(out, "\"default_backend\": \"folio\"");
	has(out, "\"fptd_running\": true");
	has(out, "\"contiguity_hint\": \"contpte\"");
	has(out, "\"shared_memory\": true");
	has(out, "\"cgroup_id\": 28");
	has(out, "\"path\": \"/db\"");
	has(out, "\"path\": \"/we\\\"ird\\n\"");
	has(out, "\"mode\": \"on\"");
	has(out, "\"defrag\": true");
	has(out, "\"backend\": \"auto\"");
	has(out, "\"backend_active\": \"folio\"");
	has(out, "\"thp2m\": \"deny\"");
	has(out, "\"flags\": 1");
	has(out, "\"persistent\": true");
	has(out, "\"persistent\": null");
	has(out, "\"fptd_status\": null");
	has(out, "\"fptd_policies\": null");
	assert_null(strstr(out, "counters"));	/* status has none */
	free(out);

	/* a kernel whose shmem fpt cannot steer says so */
	s.global.features = 0;
	print_status(mem_open(&m), &s);
	out = mem_close(&m);
	has(out, "shared memory: not covered on this kernel");
	free(out);
	s.global.features = FPT_FEAT_SHMEM;
	print_status(mem_open(&m), &s);
	out = mem_close(&m);
	has(out, "shared memory: covered");
	free(out);

	/* not loaded: nulls, no policies in the kernel; fptd's own list */
	{
		struct fpt_control_policy fp[2];

		assert_int_equal(fpt_control_parse_policy(
			"policy db.slice mode=on defrag=yes backend=auto thp2m=deny source=/etc/fpt/policy.d/db.conf:2 state=no_module",
			&fp[0]), 0);
		assert_int_equal(fpt_control_parse_policy(
			"policy / mode=off defrag=no backend=auto thp2m=allow source=fptctl state=no_module",
			&fp[1]), 0);
		memset(&s, 0, sizeof(s));
		s.genl_version = -1;
		s.default_backend = -1;
		s.fptd_running = true;
		s.fptd_status = "No fpt module: no fpt module for this kernel";
		s.nr_fptd = 2;
		s.fptd = fp;
		json_status(mem_open(&m), &s);
		out = mem_close(&m);
		json_sane(out);
		has(out, "\"module_loaded\": false");
		has(out, "\"version\": null");
		has(out, "\"backends\": null");
		has(out, "\"policies\": []");
		has(out, "\"contiguity_hint\": \"unknown\"");
		has(out, "\"fptd_status\": \"No fpt module: no fpt module for this kernel\"");
		has(out, "\"fptd_policies\": [\n    {\n      \"path\": \"/db.slice\",\n"
			 "      \"mode\": \"on\",\n      \"defrag\": true,\n"
			 "      \"backend\": \"auto\",\n      \"thp2m\": \"deny\",\n"
			 "      \"source\": \"/etc/fpt/policy.d/db.conf:2\",\n"
			 "      \"state\": \"no_module\"\n    },");
		has(out, "\"path\": \"/\",");
		free(out);

		print_status(mem_open(&m), &s);
		out = mem_close(&m);
		has(out, "fpt.ko:    not loaded\n");
		has(out, "fptd:      running (policy changes are persistent)\n"
			 "           No fpt module: no fpt module for this kernel\n");
		has(out, "fptd's policies: 2\n"
			 "  STATE      MODE  DEFRAG  BACKEND  THP2M  SOURCE                       CGROUP\n"
			 "  no_module  on    yes     auto     deny   /etc/fpt/policy.d/db.conf:2  /db.slice\n"
			 "  no_module  off   no      auto     allow  fptctl                       /\n");
		assert_null(strstr(out, "policies in the kernel"));
		free(out);
	}

	/* the human output says what the kernel does with the hint */
	memset(&s, 0, sizeof(s));
	s.genl_version = -1;
	s.default_backend = -1;
	s.hint = FPT_HINT_NO_USER;
	print_status(mem_open(&m), &s);
	out = mem_close(&m);
	has(out, "hint:      none: this arm64 kernel sets no contiguity hint");
	free(out);
}

static void stats_json_and_table(void **state)
{
	struct fpt_policy_info v[3] = { pol(28, "/db"),
		pol(29, "/system.slice/postgresql@15-main.service"),
		pol(30, "/user.slice/user-1000.slice/session-4.scope") };
	struct stats_info s = { .have_global = true, .nr_policies = 3,
				.policies = v, .page_size = 4096 };
	struct mem m;
	char *out, *line;
	unsigned int i;

	(void)state;
	s.global.enabled = true;
	s.global.nr_policies = 3;
	s.global.backends = 1U << FPT_BACKEND_RESERVE;
	for (i = 0; i < FPT_NR_COUNTERS; i++)
		s.global.stats[i] = 1000 + i;
	v[2].has_stats = false;
	/* 300 faults served 64 KB, 100 fell back: 25 % */
	memset(v[1].stats, 0, sizeof(v[1].stats));
	v[1].stats[FPT_C_FAULTS_64K] = 300;
	v[1].stats[FPT_C_FB_NO_BLOCK] = 60;
	v[1].stats[FPT_C_FB_CHARGE] = 40;
	json_stats(mem_open(&m), &s);
	out = mem_close(&m);
	json_sane(out);
	has(out, "\"global\": {");
	has(out, "\"nr_policies\": 3");
	has(out, "\"runs\": 1000");
	/* the gauge of pages is in bytes, as every JSON size */
	has(out, "\"resv_unused_bytes\": 4161536");
	assert_null(strstr(out, "resv_unused_pages"));
	has(out, "\"fallback_no_block\": 102");
	has(out, "\"counters\": {");
	has(out, "\"fallback_ratio\": 0.2500");
	has(out, "\"counters\": null,\n      \"fallback_ratio\": null");
	/* every counter name appears, global and per policy */
	for (i = 0; i < FPT_NR_COUNTERS; i++) {
		char k[64];
		const char *p;

		snprintf(k, sizeof(k), "\"%s\": ", json_counter_name(i));
		p = strstr(out, k);
		assert_non_null(p);
		assert_non_null(strstr(p + 1, k));
	}
	free(out);

	/* readable on an 80-column terminal with several policies */
	print_stats(mem_open(&m), &s);
	out = mem_close(&m);
	has(out, "fpt enabled, 3 policies; counters since the module was loaded\n");
	has(out, "RUNS  64K FAULTS  FALLBACKS  FALLBACK  RESV UNUSED  SCOPE\n");
	has(out, "1000        1001      10065    90.95%      4.0 MiB  all processes\n");
	has(out, "   0         300        100    25.00%          0 B  /system.slice/postgresql@15-main.service\n");
	has(out, "   -           -          -         -            -  /user.slice/user-1000.slice/session-4.scope\n");
	has(out, "fallbacks by reason:\n");
	has(out, "  all processes: no_block 1002, charge 1003, vma_range 1004, populated 1005,\n"
		 "    uffd 1006, cap 1007, mempolicy 1008, race 1009, kernel 1010, nomem 1011\n");
	has(out, "  /system.slice/postgresql@15-main.service: no_block 60, charge 40\n");
	has(out, "reservations (reserve backend):\n");
	has(out, "runs mapped in all: 62.5 MiB");
	/* within 100 columns with these three policies, and within 80
	 * where no cgroup path is on the line (paths only come last) */
	for (line = out; *line; line += strcspn(line, "\n") + 1) {
		size_t len = strcspn(line, "\n");
		const char *slash = memchr(line, '/', len);

		if (len > 100 || (!slash && len > 80))
			fail_msg("line of %zu columns: %.*s", len, (int)len,
				 line);
		if (!line[len])
			break;
	}
	free(out);
}

/* Names from the system reach a terminal escaped. */
static void terminal(void **state)
{
	static const char *const head[] = { "COMMAND", "N" };
	char b[64];
	struct table t;
	struct mem m;
	char *out;

	(void)state;
	assert_string_equal(fmt_term(b, sizeof(b), "plain/ü-ok"), "plain/ü-ok");
	assert_string_equal(fmt_term(b, sizeof(b), "a\x1b[2Jb"), "a\\x1b[2Jb");
	assert_string_equal(fmt_term(b, sizeof(b), "tab\there\n"),
			    "tab\\x09here\\x0a");
	assert_string_equal(fmt_term(b, sizeof(b), "del\x7f"), "del\\x7f");
	/* C1 CSI as UTF-8 (U+009B) and as a raw byte; broken UTF-8 */
	assert_string_equal(fmt_term(b, sizeof(b), "c1\xc2\x9b" "x"),
			    "c1\\xc2\\x9bx");
	assert_string_equal(fmt_term(b, sizeof(b), "raw\x9b"), "raw\\x9b");
	assert_string_equal(fmt_term(b, sizeof(b), "bad\xc3"), "bad\\xc3");
	assert_string_equal(fmt_term(b, sizeof(b), "\xed\xa0\x80"),
			    "\\xed\\xa0\\x80");		/* a surrogate */
	/* never overruns, never half an escape */
	assert_string_equal(fmt_term(b, 6, "\x01\x02"), "\\x01");
	/* in a table: escaped and aligned by what the terminal shows */
	table_init(&t, 2, head, NULL);
	table_cell(&t, "evil\x1b]0;owned\x07");
	table_cell(&t, "1");
	table_cell(&t, "grüße");
	table_cell(&t, "2");
	table_print(&t, mem_open(&m), 0);
	table_free(&t);
	out = mem_close(&m);
	assert_string_equal(out,
		"COMMAND               N\n"
		"evil\\x1b]0;owned\\x07  1\n"
		"grüße                 2\n");
	free(out);
}

static void watch_json(void **state)
{
	uint64_t a[FPT_NR_COUNTERS] = { 10 }, b[FPT_NR_COUNTERS] = { 30 };
	struct watch_sample w = { .scope = "global", .time = 1.5,
				  .interval = 2.0, .now = b, .prev = a,
				  .page_size = 4096 };
	struct mem m;
	char *out;

	(void)state;
	json_watch(mem_open(&m), &w);
	out = mem_close(&m);
	json_sane(out);
	/* one line */
	assert_non_null(strchr(out, '\n'));
	assert_true(strchr(out, '\n')[1] == 0);
	has(out, "\"time\":1.500");
	has(out, "\"scope\":\"global\"");
	has(out, "\"interval_s\":2.000");
	has(out, "\"counters\":{\"runs\":30,");
	has(out, "\"delta\":{\"runs\":20,");
	has(out, "\"rate_per_s\":{\"runs\":10.00,");
	has(out, "\"resv_unused_bytes\":0");
	assert_null(strstr(out, "resv_unused_pages"));
	free(out);
	w.prev = NULL;
	json_watch(mem_open(&m), &w);
	out = mem_close(&m);
	has(out, "\"interval_s\":null");
	has(out, "\"delta\":null");
	free(out);
	/* a counter that went down (module reloaded): delta 0, not 2^64 */
	w.prev = b;
	w.now = a;
	json_watch(mem_open(&m), &w);
	out = mem_close(&m);
	has(out, "\"delta\":{\"runs\":0,");
	free(out);
}

static void frag_json(void **state)
{
	struct fpt_frag fr;
	struct mem m;
	char *out;

	(void)state;
	assert_int_equal(fpt_frag_parse_buddyinfo(
		"Node 0, zone DMA32 2 0 0 0 1\nNode 1, zone Normal 16 0 0 0 0 1\n",
		&fr), 0);
	json_frag(mem_open(&m), &fr, 4096);
	out = mem_close(&m);
	json_sane(out);
	has(out, "\"page_size\": 4096");
	/* (2 + 16) + (16 + 32) pages */
	has(out, "\"free_bytes\": 270336");
	has(out, "\"free_ge64k_bytes\": 196608");
	has(out, "\"unusable_index_o4\": 0.2727");
	has(out, "\"movable_free_ge64k_bytes\": null");
	has(out, "\"node\": 1");
	has(out, "\"zone\": \"Normal\"");
	has(out, "\"free_blocks\": [");
	free(out);

	print_frag(mem_open(&m), &fr, 4096);
	out = mem_close(&m);
	has(out, "NODE  ZONE");
	has(out, "total");
	has(out, "0.273");
	free(out);
}

static void scan_json(void **state)
{
	struct scan_vma vm = { .v = { .start = 0x7f0000000000ULL,
				      .end = 0x7f0000100000ULL,
				      .perms = "rw-p", .path = "[heap]",
				      .anon = true },
			       .c = { .pages = 256, .present = 200,
				      .windows = 16, .runs = 10, .thp = 0,
				      .kpageflags_ok = true,
				      .pfn_visible = true } };
	struct scan_proc p = { .pid = 42, .comm = "post\"gres",
			       .cgroup = "/db", .nr_vmas = 1, .vmas = &vm };
	struct scan_info s = { .cgroup = "/db", .page_size = 4096,
			       .nr_procs = 1, .procs = &p,
			       .hint = FPT_HINT_NONE };
	struct mem m;
	char *out;

	(void)state;
	p.total = vm.c;
	s.total = vm.c;
	json_scan(mem_open(&m), &s);
	out = mem_close(&m);
	json_sane(out);
	has(out, "\"cgroup\": \"/db\"");
	has(out, "\"contiguity_hint\": \"none\"");
	has(out, "\"pid\": 42");
	has(out, "\"comm\": \"post\\\"gres\"");
	has(out, "\"error\": null");
	has(out, "\"start\": \"0x7f0000000000\"");
	has(out, "\"end\": \"0x7f0000100000\"");
	has(out, "\"perms\": \"rw-p\"");
	has(out, "\"anon\": true");
	has(out, "\"size_bytes\": 1048576");
	has(out, "\"rss_bytes\": 819200");
	has(out, "\"runs\": 10");
	has(out, "\"in_runs_bytes\": 655360");
	has(out, "\"not_in_runs_bytes\": 163840");
	has(out, "\"coverage_pct\": 80.00");
	has(out, "\"thp_bytes\": 0");
	has(out, "\"shmem\": false");
	free(out);

	/* kpageflags unread: compound/thp are null */
	vm.c.kpageflags_ok = false;
	p.error = 13;			/* EACCES: no counts, an error */
	json_scan(mem_open(&m), &s);
	out = mem_close(&m);
	json_sane(out);
	has(out, "\"error\": \"Permission denied\"");
	free(out);

	p.error = 0;
	s.show_vmas = true;
	print_scan(mem_open(&m), &s);
	out = mem_close(&m);
	has(out, "pid 42 (post\"gres) in cgroup /db:");
	free(out);
	/* a process name with escape codes does not reach the terminal */
	snprintf(p.comm, sizeof(p.comm), "x\x1b[31mred");
	print_scan(mem_open(&m), &s);
	out = mem_close(&m);
	has(out, "pid 42 (x\\x1b[31mred) in cgroup /db:");
	has(out, "x\\x1b[31mred\n");
	assert_null(strchr(out, '\x1b'));
	has(out, "7f0000000000-7f0000100000");
	has(out, "80.0%");
	has(out, "1 process in /db");
	free(out);
	/* shared anonymous memory (PostgreSQL's shared buffers) is marked */
	snprintf(vm.v.path, sizeof(vm.v.path), "/dev/zero (deleted)");
	snprintf(vm.v.perms, sizeof(vm.v.perms), "rw-s");
	vm.v.anon = false;
	vm.v.shmem = true;
	print_scan(mem_open(&m), &s);
	out = mem_close(&m);
	has(out, "/dev/zero (deleted) (shmem)");
	free(out);
	json_scan(mem_open(&m), &s);
	out = mem_close(&m);
	json_sane(out);
	has(out, "\"anon\": false");
	has(out, "\"shmem\": true");
	has(out, "\"perms\": \"rw-s\"");
	free(out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(sizes),
		cmocka_unit_test(table),
		cmocka_unit_test(policy_words),
		cmocka_unit_test(status_json),
		cmocka_unit_test(stats_json_and_table),
		cmocka_unit_test(terminal),
		cmocka_unit_test(watch_json),
		cmocka_unit_test(frag_json),
		cmocka_unit_test(scan_json),
	};

	return cmocka_run_group_tests_name("format", tests, NULL, NULL);
}
