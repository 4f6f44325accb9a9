// SPDX-License-Identifier: MIT
#define _GNU_SOURCE
/*
 * daemon/config.c and daemon/ctlproto.c: fptd's configuration files
 * (settings, policies), their error messages (file:line: problem), the
 * last-good rule of a reload, and the control requests of fptctl.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include <linux/fpt.h>

#include "../../daemon/config.h"
#include "../../daemon/ctlproto.h"

#define MNT "/sys/fs/cgroup"

static struct fptd_errors err;

static int settings(const char *text, struct fptd_settings *s)
{
	fptd_settings_default(s);
	memset(&err, 0, sizeof(err));
	return fptd_settings_parse(text, strlen(text), "f.conf", s, &err);
}

static int policies(const char *text, struct fptd_policy_set *set)
{
	memset(&err, 0, sizeof(err));
	return fptd_policies_parse(text, strlen(text), "p.conf", MNT, set,
				   &err);
}

/* The settings text is refused with exactly @msg. */
static void settings_bad(const char *text, const char *msg)
{
	struct fptd_settings s, before;

	fptd_settings_default(&before);
	if (settings(text, &s) != -EINVAL)
		fail_msg("accepted: %s", text);
	assert_string_equal(err.text, msg);
	/* nothing taken from a refused text */
	assert_memory_equal(&s, &before, sizeof(s));
}

static void policies_bad(const char *text, const char *msg)
{
	struct fptd_policy_set set = { 0 };

	if (policies(text, &set) != -EINVAL)
		fail_msg("accepted: %s", text);
	assert_string_equal(err.text, msg);
	assert_int_equal(set.n, 0);
	fptd_policy_set_free(&set);
}

/* ---- settings ---- */

static void test_settings_defaults(void **state)
{
	struct fptd_settings s;

	(void)state;
	assert_int_equal(settings("", &s), 0);
	assert_string_equal(s.policy_dir, "/etc/fpt/policy.d");
	assert_string_equal(s.state_dir, "/var/lib/fpt");
	assert_string_equal(s.control_socket, "/run/fpt/control");
	assert_string_equal(s.prom_dir, "/var/lib/prometheus/node-exporter");
	assert_string_equal(s.prom_file, "fpt.prom");
	assert_string_equal(s.cgroup_root, "");
	assert_int_equal(s.interval, 10);
	assert_true(s.load_module);
	assert_false(s.clear_on_exit);
	assert_false(s.compact);
	assert_true(s.fb_high > s.fb_low);
	assert_true(s.frag_high > s.frag_low);
}

static void test_settings_all_keys(void **state)
{
	struct fptd_settings s;
	const char *text =
		"\xEF\xBB\xBF; a BOM, comments, CRLF line ends\r\n"
		"# hash comment\r\n"
		"[daemon]\r\n"
		"cgroup_root = /tmp/cg\r\n"
		"policy_dir=/tmp/p\n"
		"state_dir = /tmp/s   ; inline comment\n"
		"control_socket = /tmp/c.sock\n"
		"load_module = no\n"
		"clear_policies_on_exit = YES\n"
		"module_retry_max = 2min\n"
		"\n"
		"[report]\n"
		"interval = 1s\n"
		"prometheus_dir =\n"
		"prometheus_file = x.prom\n"
		"fallback_rate_high = 30%\n"
		"fallback_rate_low = 0.05\n"
		"fallback_min_faults = 10\n"
		"unusable_index_high = 0.9\n"
		"unusable_index_low = 0.8\n"
		"[compaction]\n"
		"enabled = true\n"
		"fallback_rate = 0.5\n"
		"min_interval = 1h\n"
		"per_node = off\n";

	(void)state;
	assert_int_equal(settings(text, &s), 0);
	assert_string_equal(s.cgroup_root, "/tmp/cg");
	assert_string_equal(s.policy_dir, "/tmp/p");
	assert_string_equal(s.state_dir, "/tmp/s");
	assert_string_equal(s.control_socket, "/tmp/c.sock");
	assert_false(s.load_module);
	assert_true(s.clear_on_exit);
	assert_int_equal(s.module_retry_max, 120);
	assert_int_equal(s.interval, 1);
	assert_string_equal(s.prom_dir, "");
	assert_string_equal(s.prom_file, "x.prom");
	assert_true(s.fb_high > 0.2999 && s.fb_high < 0.3001);
	assert_true(s.fb_low > 0.0499 && s.fb_low < 0.0501);
	assert_int_equal(s.fb_min_faults, 10);
	assert_true(s.compact);
	assert_int_equal(s.compact_min_interval, 3600);
	assert_false(s.compact_per_node);
}

static void test_settings_errors(void **state)
{
	(void)state;
	settings_bad("[report]\ninterval = 10\nfoo = 1\n",
		     "f.conf:3: unknown key \"foo\" in [report]");
	settings_bad("[daemon]\n[nonsense]\nx = 1\n",
		     "f.conf:2: unknown section [nonsense] (expected [daemon], [report] or [compaction])");
	settings_bad("interval = 10\n",
		     "f.conf:1: \"interval\" outside a section");
	settings_bad("[report]\ninterval = 0\n",
		     "f.conf:2: interval: \"0\" is not a duration between 1 and 86400 seconds (\"30\", \"30s\", \"5min\", \"1h\")");
	settings_bad("[report]\ninterval = 10\n\ninterval = 20\n",
		     "f.conf:4: \"interval\" set twice in this section (first on line 2)");
	settings_bad("[report]\nfallback_rate_high = 1.5\n",
		     "f.conf:2: fallback_rate_high: \"1.5\" is not a fraction between 0 and 1 (\"0.25\" or \"25%\")");
	settings_bad("[report]\nfallback_rate_high = nan\n",
		     "f.conf:2: fallback_rate_high: \"nan\" is not a fraction between 0 and 1 (\"0.25\" or \"25%\")");
	settings_bad("[report]\nfallback_rate_high = 0.2\nfallback_rate_low = 0.3\n",
		     "f.conf:3: fallback_rate_low (0.3) is above fallback_rate_high (0.2)");
	settings_bad("[daemon]\nload_module = yes # comment\n",
		     "f.conf:2: load_module: \"yes # comment\" is not yes or no (comments after a value start with ';')");
	settings_bad("[daemon]\nstate_dir = var/lib\n",
		     "f.conf:2: state_dir: \"var/lib\" is not an absolute path");
	settings_bad("[report]\nprometheus_file = fpt.txt\n",
		     "f.conf:2: prometheus_file: \"fpt.txt\" must be a file name ending in .prom");
	settings_bad("[report]\nprometheus_file = ../x.prom\n",
		     "f.conf:2: prometheus_file: \"../x.prom\" must be a file name ending in .prom");
	settings_bad("[report]\njust some words\n",
		     "f.conf:2: expected \"key = value\", a [section] or a comment");
	settings_bad("[report\ninterval = 5\n",
		     "f.conf:1: no ']' to close the section name");
	settings_bad("[report]\ninterval = 5\n   6\n",
		     "f.conf:3: indented line: leading white space is not allowed (INI would read it as a continuation of the previous line)");
	/* indented keys are refused too, also the first of a section
	 * (inih would take it as a key), with a tab or spaces */
	settings_bad("[report]\n\tinterval = 5\n",
		     "f.conf:2: indented line: leading white space is not allowed (INI would read it as a continuation of the previous line)");
	settings_bad("[daemon]\n  load_module = no\n",
		     "f.conf:2: indented line: leading white space is not allowed (INI would read it as a continuation of the previous line)");
	settings_bad(" [report]\ninterval = 5\n",
		     "f.conf:1: indented line: leading white space is not allowed (INI would read it as a continuation of the previous line)\n"
		     "f.conf:2: \"interval\" outside a section");
	settings_bad("[report]\ninterval =\n",
		     "f.conf:2: \"interval\" has no value");
	settings_bad("[cgroup \"db\"]\nmode = on\n",
		     "f.conf:1: policies go in the policy directory (policy.d/*.conf), not in the daemon's configuration");
	/* several errors: all of them, in order */
	settings_bad("[report]\ninterval = x\n[daemon]\nload_module = maybe\n",
		     "f.conf:2: interval: \"x\" is not a duration between 1 and 86400 seconds (\"30\", \"30s\", \"5min\", \"1h\")\n"
		     "f.conf:4: load_module: \"maybe\" is not yes or no");
}

static void test_settings_long_and_binary(void **state)
{
	char text[1024];
	struct fptd_settings s;

	(void)state;
	/* a value line longer than inih's 200-character buffer */
	snprintf(text, sizeof(text), "[daemon]\nstate_dir = /%0300d\n", 0);
	assert_int_equal(settings(text, &s), -EINVAL);
	assert_string_equal(err.text, "f.conf:2: line longer than 198 characters");
	/* a NUL byte */
	memcpy(text, "[daemon]\nload_module = y\0s\n", 27);
	fptd_settings_default(&s);
	memset(&err, 0, sizeof(err));
	assert_int_equal(fptd_settings_parse(text, 27, "f.conf", &s, &err),
			 -EINVAL);
	assert_string_equal(err.text, "f.conf:2: NUL byte in the line");
	assert_string_equal(err.first_file, "f.conf");
	assert_int_equal(err.first_line, 2);
	assert_int_equal(err.n, 1);
}

/* ---- policies ---- */

static void test_policies_valid(void **state)
{
	struct fptd_policy_set set = { 0 };
	struct fptd_policy *p;
	char text[2048], longp[400];

	(void)state;
	assert_int_equal(policies(
		"; comment\n"
		"[cgroup \"system.slice/postgresql.service\"]\n"
		"mode = on\n"
		"defrag = yes\n"
		"thp2m = deny\n"
		"\n"
		"[db.slice]  ; trailing comment\n"
		"mode = madvise\n"
		"backend = reserve\n"
		"[cgroup \"/sys/fs/cgroup/a/b/\"]\n"
		"mode = off\n"
		"[cgroup \"/c.slice\"]\n"
		"mode=on\n"
		"[cgroup \"/\"]\n"
		"root = yes\n"
		"mode = madvise\n"
		"  ; an indented comment is a comment\n", &set), 0);
	assert_int_equal(set.n, 5);
	p = fptd_policy_find(&set, "system.slice/postgresql.service");
	assert_non_null(p);
	assert_int_equal(p->mode, FPT_MODE_ON);
	assert_int_equal(p->defrag, 1);
	assert_int_equal(p->backend, FPT_BACKEND_AUTO);
	assert_int_equal(p->flags, FPT_F_NO_PMD_THP);
	assert_string_equal(p->file, "p.conf");
	assert_int_equal(p->line, 2);
	p = fptd_policy_find(&set, "db.slice");
	assert_non_null(p);
	assert_int_equal(p->mode, FPT_MODE_MADVISE);
	assert_int_equal(p->backend, FPT_BACKEND_RESERVE);
	assert_int_equal(p->defrag, 0);
	assert_int_equal(p->flags, 0);
	assert_int_equal(p->line, 7);
	assert_non_null(fptd_policy_find(&set, "a/b"));
	assert_non_null(fptd_policy_find(&set, "c.slice"));
	p = fptd_policy_find(&set, "");
	assert_non_null(p);
	assert_int_equal(p->mode, FPT_MODE_MADVISE);
	fptd_policy_set_free(&set);

	/* a path longer than inih keeps of a section name, and a line
	 * longer than its buffer: section lines are read by fptd */
	memset(longp, 'x', 300);
	longp[300] = 0;
	memcpy(longp + 100, "/", 1);
	snprintf(text, sizeof(text), "[cgroup \"system.slice/%s.service\"]\nmode = on\n",
		 longp);
	assert_int_equal(policies(text, &set), 0);
	assert_int_equal(set.n, 1);
	assert_int_equal(strlen(set.v[0].path), strlen("system.slice/") + 300 +
			 strlen(".service"));
	fptd_policy_set_free(&set);
}

static void test_policies_errors(void **state)
{
	struct fptd_policy_set set = { 0 };

	(void)state;
	policies_bad("[db.slice]\ndefrag = yes\n",
		     "p.conf:1: [cgroup \"db.slice\"] has no mode= (on, madvise or off)");
	policies_bad("[db.slice]\nmode = always\n",
		     "p.conf:2: mode: \"always\" is not one of on, madvise, off\n"
		     "p.conf:1: [cgroup \"db.slice\"] has no mode= (on, madvise or off)");
	policies_bad("[db.slice]\nmode = on\nbackend = fast\n",
		     "p.conf:3: backend: \"fast\" is not one of auto, folio, reserve");
	policies_bad("[db.slice]\nmode = on\nthp2m = no\n",
		     "p.conf:3: thp2m: \"no\" is not allow or deny");
	policies_bad("[db.slice]\nmode = on\nsize = 64k\n",
		     "p.conf:3: unknown key \"size\" (a policy has mode, defrag, backend and thp2m)");
	policies_bad("[db.slice]\nmode = on\nmode = off\n",
		     "p.conf:3: \"mode\" set twice in this section (first on line 2)");
	policies_bad("[db.slice]\nmode = on\n[db.slice/]\nmode = off\n",
		     "p.conf:3: a second policy for cgroup \"db.slice\" (the first is at p.conf:1)");
	policies_bad("[a/../b]\nmode = on\n",
		     "p.conf:1: cgroup \"a/../b\" is not a cgroup path (no \"..\", no empty components)");
	policies_bad("[a//b]\nmode = on\n",
		     "p.conf:1: cgroup \"a//b\" is not a cgroup path (no \"..\", no empty components)");
	policies_bad("[db.slice]\n\tmode = on\n",
		     "p.conf:2: indented line: leading white space is not allowed (INI would read it as a continuation of the previous line)\n"
		     "p.conf:1: [cgroup \"db.slice\"] has no mode= (on, madvise or off)");

	/*
	 * The root cgroup, i.e. every process: never by accident.  A blank
	 * template variable, the mount point, "." are refused; "/" needs
	 * root = yes, which no other policy may carry.
	 */
	policies_bad("[cgroup \"\"]\nmode = on\n",
		     "p.conf:1: cgroup \"\" is empty (a blank variable?); the root cgroup, i.e. every process, is written \"/\"");
	policies_bad("[cgroup \"/sys/fs/cgroup\"]\nmode = on\n",
		     "p.conf:1: cgroup \"/sys/fs/cgroup\" names the root cgroup, i.e. every process, in another way than \"/\"");
	policies_bad("[cgroup \"/sys/fs/cgroup/\"]\nmode = on\n",
		     "p.conf:1: cgroup \"/sys/fs/cgroup/\" names the root cgroup, i.e. every process, in another way than \"/\"");
	policies_bad("[.]\nmode = on\n",
		     "p.conf:1: cgroup \".\" names the root cgroup, i.e. every process, in another way than \"/\"");
	policies_bad("[cgroup \"/\"]\nmode = on\n",
		     "p.conf:1: [cgroup \"/\"] is the root cgroup: its policy covers every process on the host; add \"root = yes\" to the section if that is meant");
	policies_bad("[/]\nmode = off\n",
		     "p.conf:1: [cgroup \"/\"] is the root cgroup: its policy covers every process on the host; add \"root = yes\" to the section if that is meant");
	policies_bad("[cgroup \"/\"]\nroot = 1\nmode = on\n",
		     "p.conf:2: root: \"1\" is not yes (the only value: it confirms a policy for every process)\n"
		     "p.conf:1: [cgroup \"/\"] is the root cgroup: its policy covers every process on the host; add \"root = yes\" to the section if that is meant");
	policies_bad("[db.slice]\nmode = on\nroot = yes\n",
		     "p.conf:3: \"root = yes\" belongs only in the policy of the root cgroup [cgroup \"/\"]");

	/* a hybrid host: /sys/fs/cgroup/db is not on the cgroup2 mount */
	memset(&err, 0, sizeof(err));
	assert_int_equal(fptd_policies_parse("[/sys/fs/cgroup/db]\nmode = on\n", 30,
					     "h.conf", "/sys/fs/cgroup/unified",
					     &set, &err), -EINVAL);
	assert_string_equal(err.text,
			    "h.conf:1: cgroup \"/sys/fs/cgroup/db\" is under /sys/fs/cgroup, but the cgroup2 file system is mounted elsewhere (at /sys/fs/cgroup/unified): name it relative to that mount");
	assert_int_equal(fptd_policies_parse("[/sys/fs/cgroup/unified/db]\nmode = on\n", 38,
					     "h.conf", "/sys/fs/cgroup/unified",
					     &set, &err), 0);
	assert_non_null(fptd_policy_find(&set, "db"));
	fptd_policy_set_free(&set);
	policies_bad("[db slice]\nmode = on\n",
		     "p.conf:1: cgroup path \"db slice\" contains a space, a quote or a control character");
	policies_bad("[cgroup db.slice]\nmode = on\n",
		     "p.conf:1: expected [cgroup \"<path>\"] with the path in double quotes");
	policies_bad("[cgroup \"db.slice]\nmode = on\n",
		     "p.conf:1: no closing '\"' in the section name");
	policies_bad("[cgroup \"db.slice\" x]\nmode = on\n",
		     "p.conf:1: expected ']' after the quoted cgroup path");
	policies_bad("[db.slice] x\nmode = on\n",
		     "p.conf:1: unexpected text after ']'");
	policies_bad("[x \"y\"]\nmode = on\n",
		     "p.conf:1: a quoted section name must be [cgroup \"<path>\"]");
	policies_bad("mode = on\n",
		     "p.conf:1: \"mode\" outside a section");
	policies_bad("[db.slice]\nmode = on ; fine\ndefrag = yes # not a comment\n",
		     "p.conf:3: defrag: \"yes # not a comment\" is not yes or no (comments after a value start with ';', not '#')");

	/* a duplicate across files: the set already holds one */
	assert_int_equal(policies("[db.slice]\nmode = on\n", &set), 0);
	memset(&err, 0, sizeof(err));
	assert_int_equal(fptd_policies_parse("\n\n[cgroup \"/db.slice\"]\nmode = off\n",
					     34, "q.conf", MNT, &set, &err),
			 -EINVAL);
	assert_string_equal(err.text,
			    "q.conf:3: a second policy for cgroup \"db.slice\" (the first is at p.conf:1)");
	/* the refused text added nothing */
	assert_int_equal(set.n, 1);
	assert_int_equal(set.v[0].mode, FPT_MODE_ON);
	fptd_policy_set_free(&set);
}

/* ---- loading files: the last good configuration stays ---- */

static char tmpdir[64];

static void write_file(const char *name, const char *text)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void test_load_last_good(void **state)
{
	struct fptd_settings s, saved;
	struct fptd_policy_set set = { 0 };
	char conf[256], text[512];

	(void)state;
	strcpy(tmpdir, "/tmp/fptd-test-XXXXXX");
	assert_non_null(mkdtemp(tmpdir));
	snprintf(conf, sizeof(conf), "%s/fptd.conf", tmpdir);
	snprintf(text, sizeof(text), "%s/policy.d", tmpdir);
	mkdir(text, 0755);
	snprintf(text, sizeof(text), "[daemon]\npolicy_dir = %s/policy.d\n[report]\ninterval = 5\n",
		 tmpdir);
	write_file("fptd.conf", text);
	write_file("policy.d/10-db.conf", "[db.slice]\nmode = on\n");
	write_file("policy.d/20-web.conf", "[cgroup \"system.slice/nginx.service\"]\nmode = madvise\n");
	write_file("policy.d/README", "not a .conf file: ignored [\n");
	write_file("policy.d/.hidden.conf", "ignored too [\n");

	fptd_settings_default(&s);
	memset(&err, 0, sizeof(err));
	assert_int_equal(fptd_config_load(conf, false, MNT, &s, &set, &err), 0);
	assert_int_equal(s.interval, 5);
	assert_int_equal(set.n, 2);
	assert_non_null(fptd_policy_find(&set, "db.slice"));
	assert_non_null(fptd_policy_find(&set, "system.slice/nginx.service"));

	/* a broken policy file and a broken setting: refused, nothing changes */
	write_file("policy.d/20-web.conf", "[cgroup \"system.slice/nginx.service\"]\nmode = sometimes\n");
	snprintf(text, sizeof(text), "[daemon]\npolicy_dir = %s/policy.d\n[report]\ninterval = 1\n",
		 tmpdir);
	write_file("fptd.conf", text);
	saved = s;
	memset(&err, 0, sizeof(err));
	assert_int_equal(fptd_config_load(conf, false, MNT, &s, &set, &err), -EINVAL);
	assert_memory_equal(&s, &saved, sizeof(s));
	assert_int_equal(set.n, 2);
	assert_int_equal(fptd_policy_find(&set, "system.slice/nginx.service")->mode,
			 FPT_MODE_MADVISE);
	snprintf(text, sizeof(text),
		 "%s/policy.d/20-web.conf:2: mode: \"sometimes\" is not one of on, madvise, off\n"
		 "%s/policy.d/20-web.conf:1: [cgroup \"system.slice/nginx.service\"] has no mode= (on, madvise or off)",
		 tmpdir, tmpdir);
	assert_string_equal(err.text, text);
	snprintf(text, sizeof(text), "%s/policy.d/20-web.conf", tmpdir);
	assert_string_equal(err.first_file, text);
	assert_int_equal(err.first_line, 2);

	/* two files with the same cgroup */
	write_file("policy.d/20-web.conf", "[cgroup \"/db.slice\"]\nmode = off\n");
	memset(&err, 0, sizeof(err));
	assert_int_equal(fptd_config_load(conf, false, MNT, &s, &set, &err), -EINVAL);
	snprintf(text, sizeof(text),
		 "%s/policy.d/20-web.conf:1: a second policy for cgroup \"db.slice\" (the first is at %s/policy.d/10-db.conf:1)",
		 tmpdir, tmpdir);
	assert_string_equal(err.text, text);
	assert_int_equal(set.n, 2);

	/* fixed: taken */
	write_file("policy.d/20-web.conf", "[cgroup \"/web.slice\"]\nmode = off\n");
	memset(&err, 0, sizeof(err));
	assert_int_equal(fptd_config_load(conf, false, MNT, &s, &set, &err), 0);
	assert_int_equal(s.interval, 1);
	assert_int_equal(set.n, 2);
	assert_non_null(fptd_policy_find(&set, "web.slice"));
	assert_null(fptd_policy_find(&set, "system.slice/nginx.service"));

	/* no fptd.conf at all: the defaults, and their policy directory
	 * (/etc/fpt/policy.d) must exist: it does not here */
	snprintf(text, sizeof(text), "%s/none.conf", tmpdir);
	memset(&err, 0, sizeof(err));
	saved = s;
	assert_int_equal(fptd_config_load(text, false, MNT, &s, &set, &err),
			 -ENOENT);
	assert_string_equal(err.text,
			    "/etc/fpt/policy.d: the policy directory (policy_dir's default): No such file or directory");
	assert_memory_equal(&s, &saved, sizeof(s));

	/* fptd -c FILE: FILE must exist (fptd --check -c /nonexistent) */
	memset(&err, 0, sizeof(err));
	assert_int_equal(fptd_config_load(text, true, MNT, &s, &set, &err),
			 -ENOENT);
	assert_non_null(strstr(err.text, "none.conf: cannot open: No such file or directory"));
	assert_int_equal(strncmp(err.text, text, strlen(text)), 0);
	assert_string_equal(err.first_file, text);

	/* a policy_dir that does not exist is an error at its line, not
	 * "no policies" */
	snprintf(conf, sizeof(conf), "%s/fptd.conf", tmpdir);
	snprintf(text, sizeof(text), "[report]\ninterval = 5\n[daemon]\npolicy_dir = %s/policies.d\n",
		 tmpdir);
	write_file("fptd.conf", text);
	memset(&err, 0, sizeof(err));
	assert_int_equal(fptd_config_load(conf, true, MNT, &s, &set, &err),
			 -ENOENT);
	snprintf(text, sizeof(text),
		 "%s:4: policy_dir %s/policies.d: No such file or directory",
		 conf, tmpdir);
	assert_string_equal(err.text, text);
	assert_int_equal(err.first_line, 4);
	assert_memory_equal(&s, &saved, sizeof(s));
	assert_int_equal(set.n, 2);

	fptd_policy_set_free(&set);
	snprintf(text, sizeof(text), "rm -rf %s", tmpdir);
	assert_int_equal(system(text), 0);
}

/* ---- policy sets: merge, format and read back ---- */

static void test_merge_and_format(void **state)
{
	struct fptd_policy_set files = { 0 }, rt = { 0 }, eff = { 0 }, back = { 0 };
	struct fptd_policy p = { 0 };
	char *text;
	size_t i;

	(void)state;
	assert_int_equal(policies("[b]\nmode = on\n[a]\nmode = madvise\n", &files), 0);
	p.path = (char *)"b";
	p.mode = FPT_MODE_OFF;
	p.backend = FPT_BACKEND_FOLIO;
	p.flags = FPT_F_NO_PMD_THP;
	p.defrag = 1;
	p.file = (char *)"fptctl";
	assert_int_equal(fptd_policy_set_put(&rt, &p), 0);
	p.path = (char *)"";
	p.mode = FPT_MODE_ON;
	assert_int_equal(fptd_policy_set_put(&rt, &p), 0);
	assert_int_equal(fptd_policy_merge(&files, &rt, &eff), 0);
	assert_int_equal(eff.n, 3);
	/* sorted by path, runtime over files */
	assert_string_equal(eff.v[0].path, "");
	assert_string_equal(eff.v[1].path, "a");
	assert_string_equal(eff.v[2].path, "b");
	assert_int_equal(eff.v[2].mode, FPT_MODE_OFF);
	assert_string_equal(eff.v[2].file, "fptctl");

	text = fptd_policies_format(&eff);
	assert_non_null(text);
	assert_non_null(strstr(text, "\n[cgroup \"/\"]\nroot = yes\nmode = on\ndefrag = yes\nbackend = folio\nthp2m = deny\n"));
	assert_non_null(strstr(text, "\n[cgroup \"a\"]\nmode = madvise\ndefrag = no\nbackend = auto\nthp2m = allow\n"));
	memset(&err, 0, sizeof(err));
	assert_int_equal(fptd_policies_parse(text, strlen(text), "state", MNT,
					     &back, &err), 0);
	assert_int_equal(back.n, eff.n);
	for (i = 0; i < eff.n; i++) {
		struct fptd_policy *q = fptd_policy_find(&back, eff.v[i].path);

		assert_non_null(q);
		assert_true(fptd_policy_same(q, &eff.v[i]));
	}
	free(text);
	assert_int_equal(fptd_policy_set_del(&back, "a"), 0);
	assert_int_equal(fptd_policy_set_del(&back, "a"), -ENOENT);
	assert_int_equal(back.n, 2);
	fptd_policy_set_free(&files);
	fptd_policy_set_free(&rt);
	fptd_policy_set_free(&eff);
	fptd_policy_set_free(&back);
}

/* ---- control requests ---- */

static void ctl_bad(const char *msg, const char *want)
{
	struct fptd_ctl_req req;
	char e[512];

	if (fptd_ctl_parse(msg, strlen(msg), MNT, &req, e, sizeof(e)) != -EINVAL)
		fail_msg("accepted: %s", msg);
	assert_string_equal(e, want);
}

static void test_ctl(void **state)
{
	struct fptd_ctl_req req;
	char e[512];
	const char *m;

	(void)state;
	m = "set system.slice/pg.service mode=on defrag=yes backend=reserve thp2m=deny\n";
	assert_int_equal(fptd_ctl_parse(m, strlen(m), MNT, &req, e, sizeof(e)), 0);
	assert_int_equal(req.cmd, FPTD_CTL_SET);
	assert_string_equal(req.path, "system.slice/pg.service");
	assert_ptr_equal(req.pol.path, req.path);
	assert_int_equal(req.pol.mode, FPT_MODE_ON);
	assert_int_equal(req.pol.defrag, 1);
	assert_int_equal(req.pol.backend, FPT_BACKEND_RESERVE);
	assert_int_equal(req.pol.flags, FPT_F_NO_PMD_THP);
	m = "set /sys/fs/cgroup/db mode=madvise";
	assert_int_equal(fptd_ctl_parse(m, strlen(m), MNT, &req, e, sizeof(e)), 0);
	assert_string_equal(req.path, "db");
	assert_int_equal(req.pol.backend, FPT_BACKEND_AUTO);
	m = "del /";
	assert_int_equal(fptd_ctl_parse(m, strlen(m), MNT, &req, e, sizeof(e)), 0);
	assert_int_equal(req.cmd, FPTD_CTL_DEL);
	assert_string_equal(req.path, "");
	m = "set / mode=on root=yes";
	assert_int_equal(fptd_ctl_parse(m, strlen(m), MNT, &req, e, sizeof(e)), 0);
	assert_int_equal(req.cmd, FPTD_CTL_SET);
	assert_string_equal(req.path, "");
	m = "list";
	assert_int_equal(fptd_ctl_parse(m, strlen(m), MNT, &req, e, sizeof(e)), 0);
	assert_int_equal(req.cmd, FPTD_CTL_LIST);
	m = "status";
	assert_int_equal(fptd_ctl_parse(m, strlen(m), MNT, &req, e, sizeof(e)), 0);
	assert_int_equal(req.cmd, FPTD_CTL_STATUS);

	ctl_bad("", "empty request (set, del, list or status)");
	ctl_bad("get db", "unknown request \"get\" (set, del, list or status)");
	ctl_bad("list db", "list takes no arguments");
	ctl_bad("status x", "status takes no arguments");
	ctl_bad("set / mode=on", "\"/\" is the root cgroup: its policy covers every process on the host; add root=yes if that is meant (fptctl enable --root)");
	ctl_bad("set db mode=on root=yes", "root=yes is only for the root cgroup \"/\"");
	ctl_bad("set /sys/fs/cgroup mode=on root=yes", "cgroup \"/sys/fs/cgroup\" names the root cgroup, i.e. every process, in another way than \"/\"");
	ctl_bad("set", "set needs a cgroup path");
	ctl_bad("set db", "set needs mode=on, mode=madvise or mode=off");
	ctl_bad("set db defrag=yes", "set needs mode=on, mode=madvise or mode=off");
	ctl_bad("set db mode=on mode=off", "mode given twice");
	ctl_bad("set db mode", "\"mode\" is not key=value");
	ctl_bad("set db mode=maybe", "mode: \"maybe\" is not one of on, madvise, off");
	ctl_bad("set db color=red", "unknown key \"color\" (a policy has mode, defrag, backend and thp2m)");
	ctl_bad("set ../db mode=on", "cgroup \"../db\" is not a cgroup path (no \"..\", no empty components)");
	ctl_bad("del db extra", "del takes only a cgroup path");
	ctl_bad("set db mode=on\nset x mode=on", "one request per message, on one line");
	assert_int_equal(fptd_ctl_parse("list\0x", 6, MNT, &req, e, sizeof(e)), -EINVAL);
	assert_string_equal(e, "NUL byte in the request");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_settings_defaults),
		cmocka_unit_test(test_settings_all_keys),
		cmocka_unit_test(test_settings_errors),
		cmocka_unit_test(test_settings_long_and_binary),
		cmocka_unit_test(test_policies_valid),
		cmocka_unit_test(test_policies_errors),
		cmocka_unit_test(test_load_last_good),
		cmocka_unit_test(test_merge_and_format),
		cmocka_unit_test(test_ctl),
	};

	return cmocka_run_group_tests_name("fptd_config", tests, NULL, NULL);
}
