/* SPDX-License-Identifier: MIT */
/*
 * The hardware's contiguity hint for fpt's runs, as the running kernel
 * uses it.  arm64 has one (PTE_CONT: 16 aligned contiguous PTEs cached as
 * one TLB entry); kernels built with CONFIG_ARM64_CONTPTE (6.9+, Debian's
 * 6.12) set it by themselves on every aligned 64 KB folio they map whole,
 * i.e. on the folio backend's runs, never on the reserve backend's (4 KB
 * pages).  Older arm64 kernels (6.1) have no contiguity hint for user
 * memory; x86-64 has no hint bit at all.
 *
 * No kernel interface shows the bit of a user mapping (pagemap, kpageflags
 * and smaps have none; ptdump covers the kernel's own tables only), so
 * fptctl says what the kernel does and never counts hinted runs.
 */
#ifndef FPTCTL_HINT_H
#define FPTCTL_HINT_H

#include <stdio.h>

enum fpt_hint {
	FPT_HINT_UNKNOWN,	/* arm64, its configuration not readable */
	FPT_HINT_NONE,		/* the architecture has no hint bit */
	FPT_HINT_NO_USER,	/* arm64 without CONFIG_ARM64_CONTPTE */
	FPT_HINT_CONTPTE,	/* arm64 with CONFIG_ARM64_CONTPTE */
};

/*
 * From the machine (uname -m) and the kernel configuration as a
 * /boot/config-RELEASE file (NULL: not readable).  Reads @kconfig.
 */
enum fpt_hint fpt_hint_classify(const char *machine, FILE *kconfig);

/* The running kernel's: uname(2) and /boot/config-RELEASE. */
enum fpt_hint fpt_hint_probe(void);

/* "contpte", "none", "none-for-user-memory", "unknown" (JSON, stable) */
const char *fpt_hint_name(enum fpt_hint h);

/* One sentence for the human output. */
const char *fpt_hint_text(enum fpt_hint h);

#endif
