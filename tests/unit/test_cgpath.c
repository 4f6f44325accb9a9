// SPDX-License-Identifier: GPL-2.0
#define _GNU_SOURCE
/* lib/cgpath.c: cgroup name normalisation (pure) and the id of a dir. */
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

#include "cgpath.h"

#define MNT "/sys/fs/cgroup"

static void ok(const char *mnt, const char *name, const char *want)
{
	char out[256];
	int r = fpt_cgroup_normalise(mnt, name, out, sizeof(out));

	if (r)
		fail_msg("normalise(%s, %s) = %d, want \"%s\"", mnt, name, r,
			 want);
	assert_string_equal(out, want);
}

static void bad(const char *mnt, const char *name, int want)
{
	char out[256];

	assert_int_equal(fpt_cgroup_normalise(mnt, name, out, sizeof(out)),
			 want);
}

static void relative(void **state)
{
	(void)state;
	ok(MNT, "db", "db");
	ok(MNT, "system.slice/postgresql.service",
	   "system.slice/postgresql.service");
	ok(MNT, "db/", "db");
	ok(MNT, "./db/./x", "db/x");
	ok(MNT, "a b/c", "a b/c");		/* spaces are legal names */
	ok(MNT, "...", "...");			/* not a dot-dot */
	ok(MNT, "..x/y..", "..x/y..");
}

static void absolute(void **state)
{
	(void)state;
	ok(MNT, "/sys/fs/cgroup/db", "db");
	ok(MNT, "/sys/fs/cgroup/system.slice/x.service/", "system.slice/x.service");
	ok(MNT, "/sys/fs/cgroup", "");
	ok(MNT, "/sys/fs/cgroup/", "");
	ok(MNT "/", "/sys/fs/cgroup/db", "db");	/* mount with a slash */
	ok("/", "/db/x", "db/x");		/* cgroup2 mounted at / */
	ok("/", "/", "");
	ok("/sys/fs/cgroup/unified", "/sys/fs/cgroup/unified/a", "a");
}

static void rejected(void **state)
{
	(void)state;
	bad(MNT, "", -EINVAL);
	bad(MNT, NULL, -EINVAL);
	bad(MNT, "..", -EINVAL);
	bad(MNT, "db/../etc", -EINVAL);
	bad(MNT, "db//x", -EINVAL);
	bad(MNT, "/sys/fs/cgroup/../x", -EINVAL);
	bad(MNT, "/sys/fs/cgroupx/db", -EINVAL);	/* not under the mount */
	bad(MNT, "/sys/fs", -EINVAL);
	bad(MNT, "/db", -EINVAL);
	bad(MNT, "/sys/fs/cgroup//db", -EINVAL);
	bad(NULL, "/sys/fs/cgroup/db", -EINVAL);
	bad("relative", "/x", -EINVAL);
}

static void too_long(void **state)
{
	char out[8];

	(void)state;
	assert_int_equal(fpt_cgroup_normalise(MNT, "abcdefg", out, 8), 0);
	assert_string_equal(out, "abcdefg");
	assert_int_equal(fpt_cgroup_normalise(MNT, "abcdefgh", out, 8),
			 -ENAMETOOLONG);
	assert_int_equal(fpt_cgroup_normalise(MNT, "abc/defg", out, 8),
			 -ENAMETOOLONG);
}

static void dir_and_id(void **state)
{
	char buf[64], tmp[] = "/tmp/fpt-cgpath.XXXXXX";
	struct stat st;
	uint64_t id = 0;

	(void)state;
	assert_int_equal(fpt_cgroup_dir(MNT, "", buf, sizeof(buf)), 0);
	assert_string_equal(buf, MNT);
	assert_int_equal(fpt_cgroup_dir(MNT, "db", buf, sizeof(buf)), 0);
	assert_string_equal(buf, MNT "/db");
	assert_int_equal(fpt_cgroup_dir("/", "db", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "/db");
	assert_int_equal(fpt_cgroup_dir(MNT, "db", buf, 8), -ENAMETOOLONG);
	/* any directory stands in for a cgroup: its inode is the id */
	assert_non_null(mkdtemp(tmp));
	assert_int_equal(stat(tmp, &st), 0);
	assert_int_equal(fpt_cgroup_id("/tmp", tmp + 5, &id), 0);
	assert_int_equal(id, st.st_ino);
	assert_int_equal(fpt_cgroup_id("/tmp", "fpt-cgpath-none", &id),
			 -ENOENT);
	rmdir(tmp);
}

static void mount_found(void **state)
{
	char mnt[256], root[256];
	int r;

	(void)state;
	/* the machine may have no cgroup2: only the contract is checked */
	r = fpt_cgroup2_mount_root(mnt, sizeof(mnt), root, sizeof(root));
	if (r == 0) {
		assert_true(mnt[0] == '/');
		assert_true(root[0] == '/');
	} else {
		assert_int_equal(r, -ENOENT);
	}
}

/* mountinfo: unified, hybrid (cgroup2 under /sys/fs/cgroup/unified),
 * none, escaped names */
static void mount_parse(void **state)
{
	static const char unified[] =
		"22 27 0:21 / /sys rw,nosuid shared:7 - sysfs sysfs rw\n"
		"26 22 0:23 / /sys/fs/cgroup rw,nosuid shared:9 - cgroup2 cgroup2 rw,nsdelegate\n";
	static const char hybrid[] =
		"25 22 0:22 / /sys/fs/cgroup ro,nosuid shared:8 - tmpfs tmpfs ro,mode=755\n"
		"26 25 0:23 / /sys/fs/cgroup/unified rw,nosuid shared:9 - cgroup2 cgroup2 rw,nsdelegate\n"
		"27 25 0:24 / /sys/fs/cgroup/systemd rw,nosuid shared:10 - cgroup cgroup rw,xattr,name=systemd\n"
		"30 25 0:27 / /sys/fs/cgroup/memory rw,nosuid shared:13 - cgroup cgroup rw,memory\n";
	static const char v1only[] =
		"25 22 0:22 / /sys/fs/cgroup ro,nosuid shared:8 - tmpfs tmpfs ro,mode=755\n"
		"30 25 0:27 / /sys/fs/cgroup/memory rw,nosuid shared:13 - cgroup cgroup rw,memory\n";
	static const char container[] =
		"1034 1030 0:23 /system.slice/x.service /sys/fs/cgroup ro - cgroup2 cgroup2 rw\n";
	static const char escaped[] =
		"40 22 0:23 / /mnt/cg\\040two rw - cgroup2 none rw\n";
	char mnt[256], root[256];
	FILE *f;

	(void)state;
#define PARSE(text) (f = fmemopen((void *)(text), sizeof(text) - 1, "r"), \
	assert_non_null(f), \
	fpt_cgroup2_mount_parse(f, mnt, sizeof(mnt), root, sizeof(root)))
	assert_int_equal(PARSE(unified), 0);
	fclose(f);
	assert_string_equal(mnt, "/sys/fs/cgroup");
	assert_string_equal(root, "/");
	assert_int_equal(PARSE(hybrid), 0);
	fclose(f);
	assert_string_equal(mnt, "/sys/fs/cgroup/unified");
	assert_int_equal(PARSE(v1only), -ENOENT);
	fclose(f);
	assert_int_equal(PARSE(container), 0);
	fclose(f);
	assert_string_equal(root, "/system.slice/x.service");
	assert_int_equal(PARSE(escaped), 0);
	fclose(f);
	assert_string_equal(mnt, "/mnt/cg two");
#undef PARSE
}

/* fpt_cgroup_name: the one way fptd's files, its requests and fptctl
 * read a cgroup name. */
static void name_ok(const char *mnt, const char *name, const char *want)
{
	char out[256];
	const char *why = "unset";
	int r = fpt_cgroup_name(mnt, name, out, sizeof(out), &why);

	if (r)
		fail_msg("name(%s, %s) = %d (%s), want \"%s\"", mnt, name, r,
			 why ? why : "-", want);
	assert_null(why);
	assert_string_equal(out, want);
}

static void name_bad(const char *mnt, const char *name, const char *want)
{
	char out[256];
	const char *why = NULL;

	assert_int_equal(fpt_cgroup_name(mnt, name, out, sizeof(out), &why),
			 -EINVAL);
	assert_non_null(why);
	assert_string_equal(why, want);
}

static void names(void **state)
{
	(void)state;
	name_ok(MNT, "db", "db");
	name_ok(MNT, "system.slice/x.service/", "system.slice/x.service");
	name_ok(MNT, "/sys/fs/cgroup/db", "db");
	name_ok(MNT, "/db", "db");			/* as /proc/PID/cgroup */
	name_ok(MNT, "/", "");				/* the root: only so */
	name_ok("/sys/fs/cgroup/unified", "/sys/fs/cgroup/unified/db", "db");
	name_ok("/sys/fs/cgroup/unified", "/db", "db");
	name_ok("/", "/db", "db");
	/* blank template variables and other spellings of the root */
	name_bad(MNT, "", FPT_CGROUP_WHY_EMPTY);
	name_bad(MNT, NULL, FPT_CGROUP_WHY_EMPTY);
	name_bad(MNT, ".", FPT_CGROUP_WHY_ROOT);
	name_bad(MNT, "./", FPT_CGROUP_WHY_ROOT);
	name_bad(MNT, "/.", FPT_CGROUP_WHY_ROOT);
	name_bad(MNT, "/sys/fs/cgroup", FPT_CGROUP_WHY_ROOT);
	name_bad(MNT, "/sys/fs/cgroup/", FPT_CGROUP_WHY_ROOT);
	name_bad(MNT, "/sys/fs/cgroup//", FPT_CGROUP_WHY_ROOT);
	/* a hybrid host: /sys/fs/cgroup/db is not a cgroup2 path */
	name_bad("/sys/fs/cgroup/unified", "/sys/fs/cgroup/db",
		 FPT_CGROUP_WHY_HYBRID);
	name_bad("/sys/fs/cgroup/unified", "/sys/fs/cgroup",
		 FPT_CGROUP_WHY_HYBRID);
	name_ok("/sys/fs/cgroup/unified", "/sys/fs/cgroupx/db",
		"sys/fs/cgroupx/db");		/* a cgroup of that name */
	name_bad(MNT, "a/../b", FPT_CGROUP_WHY_PATH);
	name_bad(MNT, "a//b", FPT_CGROUP_WHY_PATH);
	name_bad(MNT, "//db", FPT_CGROUP_WHY_PATH);
	name_bad(MNT, "/sys/fs/cgroup/../x", FPT_CGROUP_WHY_PATH);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(relative),
		cmocka_unit_test(absolute),
		cmocka_unit_test(rejected),
		cmocka_unit_test(too_long),
		cmocka_unit_test(dir_and_id),
		cmocka_unit_test(mount_found),
		cmocka_unit_test(mount_parse),
		cmocka_unit_test(names),
	};

	return cmocka_run_group_tests_name("cgpath", tests, NULL, NULL);
}
