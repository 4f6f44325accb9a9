// SPDX-License-Identifier: MIT
/* The contiguity hint of the running kernel (see hint.h). */
#define _GNU_SOURCE
#include "hint.h"

#include <stdbool.h>
#include <string.h>
#include <sys/utsname.h>

enum fpt_hint fpt_hint_classify(const char *machine, FILE *kconfig)
{
	char line[256];
	bool contpte = false;

	if (strcmp(machine, "aarch64") && strcmp(machine, "arm64"))
		return FPT_HINT_NONE;
	if (!kconfig)
		return FPT_HINT_UNKNOWN;
	while (fgets(line, sizeof(line), kconfig))
		if (!strcmp(line, "CONFIG_ARM64_CONTPTE=y\n") ||
		    !strcmp(line, "CONFIG_ARM64_CONTPTE=y"))
			contpte = true;
	if (ferror(kconfig))
		return FPT_HINT_UNKNOWN;
	return contpte ? FPT_HINT_CONTPTE : FPT_HINT_NO_USER;
}

enum fpt_hint fpt_hint_probe(void)
{
	struct utsname u;
	char path[sizeof(u.release) + 16];
	enum fpt_hint h;
	FILE *f;

	if (uname(&u))
		return FPT_HINT_UNKNOWN;
	snprintf(path, sizeof(path), "/boot/config-%s", u.release);
	f = fopen(path, "re");
	h = fpt_hint_classify(u.machine, f);
	if (f)
		fclose(f);
	return h;
}

const char *fpt_hint_name(enum fpt_hint h)
{
	switch (h) {
	case FPT_HINT_CONTPTE: return "contpte";
	case FPT_HINT_NONE: return "none";
	case FPT_HINT_NO_USER: return "none-for-user-memory";
	case FPT_HINT_UNKNOWN: break;
	}
	return "unknown";
}

const char *fpt_hint_text(enum fpt_hint h)
{
	switch (h) {
	case FPT_HINT_CONTPTE:
		return "arm64 PTE_CONT: this kernel maps every 64 KB folio of "
		       "the folio backend as one contiguous block "
		       "(CONFIG_ARM64_CONTPTE); the reserve backend's runs are "
		       "4 KB pages and carry no hint";
	case FPT_HINT_NONE:
		return "none: this architecture has no contiguity hint bit; "
		       "runs are physically contiguous 64 KB blocks";
	case FPT_HINT_NO_USER:
		return "none: this arm64 kernel sets no contiguity hint on "
		       "user memory (no CONFIG_ARM64_CONTPTE); runs are "
		       "physically contiguous without it";
	case FPT_HINT_UNKNOWN:
		break;
	}
	return "unknown: arm64, but the kernel configuration "
	       "(/boot/config-RELEASE) is not readable";
}
