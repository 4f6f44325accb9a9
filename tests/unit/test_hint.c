// SPDX-License-Identifier: GPL-2.0
#define _GNU_SOURCE
/* tools/fptctl/hint.c: the contiguity hint from uname -m and the config. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "hint.h"

static enum fpt_hint classify(const char *machine, const char *config)
{
	enum fpt_hint h;
	FILE *f;

	if (!config)
		return fpt_hint_classify(machine, NULL);
	f = fmemopen((void *)config, strlen(config), "r");
	assert_non_null(f);
	h = fpt_hint_classify(machine, f);
	fclose(f);
	return h;
}

/* excerpts of Debian's /boot/config-6.12.95+deb12-arm64 and -6.1.0-50-arm64 */
static const char cfg_612[] =
	"CONFIG_ARM64_4K_PAGES=y\n"
	"CONFIG_ARM64_CONTPTE=y\n"
	"CONFIG_TRANSPARENT_HUGEPAGE=y\n";
static const char cfg_61[] =
	"CONFIG_ARM64_4K_PAGES=y\n"
	"CONFIG_TRANSPARENT_HUGEPAGE=y\n";

static void arm64(void **state)
{
	(void)state;
	assert_int_equal(classify("aarch64", cfg_612), FPT_HINT_CONTPTE);
	assert_int_equal(classify("aarch64", cfg_61), FPT_HINT_NO_USER);
	assert_int_equal(classify("aarch64", "# CONFIG_ARM64_CONTPTE is not set\n"),
			 FPT_HINT_NO_USER);
	/* a prefix of another option is not the option */
	assert_int_equal(classify("aarch64", "CONFIG_ARM64_CONTPTE_X=y\n"),
			 FPT_HINT_NO_USER);
	/* last line without a newline */
	assert_int_equal(classify("aarch64", "CONFIG_ARM64_CONTPTE=y"),
			 FPT_HINT_CONTPTE);
	assert_int_equal(classify("aarch64", NULL), FPT_HINT_UNKNOWN);
}

static void other_arches(void **state)
{
	(void)state;
	/* no hint bit, whatever the configuration says */
	assert_int_equal(classify("x86_64", NULL), FPT_HINT_NONE);
	assert_int_equal(classify("x86_64", cfg_612), FPT_HINT_NONE);
}

static void names(void **state)
{
	(void)state;
	assert_string_equal(fpt_hint_name(FPT_HINT_CONTPTE), "contpte");
	assert_string_equal(fpt_hint_name(FPT_HINT_NONE), "none");
	assert_string_equal(fpt_hint_name(FPT_HINT_NO_USER), "none-for-user-memory");
	assert_string_equal(fpt_hint_name(FPT_HINT_UNKNOWN), "unknown");
	assert_non_null(strstr(fpt_hint_text(FPT_HINT_CONTPTE), "PTE_CONT"));
	assert_non_null(strstr(fpt_hint_text(FPT_HINT_NO_USER), "no CONFIG_ARM64_CONTPTE"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(arm64),
		cmocka_unit_test(other_arches),
		cmocka_unit_test(names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
