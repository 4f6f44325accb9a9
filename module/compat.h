/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The one place that knows kernel versions.  Everything else uses the
 * feature macros and helpers defined here.
 */
#ifndef _FPT_COMPAT_H
#define _FPT_COMPAT_H

#include <linux/version.h>
#include <linux/ftrace.h>
#include <linux/gfp.h>
#include <linux/shrinker.h>

/* Multi-size THP: anonymous folios of any order up to PMD (6.8). */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 8, 0) && \
	defined(CONFIG_TRANSPARENT_HUGEPAGE)
#define FPT_HAVE_MTHP 1
#endif

/* Memory allocation profiling renamed the allocators to *_noprof (6.10). */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 10, 0)
#define fpt_vma_alloc_folio_orig	vma_alloc_folio_noprof
#define FPT_VMA_ALLOC_FOLIO_SYM		"vma_alloc_folio_noprof"
#else
#define fpt_vma_alloc_folio_orig	vma_alloc_folio
#define FPT_VMA_ALLOC_FOLIO_SYM		"vma_alloc_folio"
#endif

/* ftrace_instruction_pointer_set() became ..._regs_set_... in 6.6 */
#ifndef ftrace_regs_set_instruction_pointer
#define ftrace_regs_set_instruction_pointer(fregs, ip) \
	ftrace_instruction_pointer_set(fregs, ip)
#endif

/* Set a probed function's 4th argument (before it runs). */
#if defined(CONFIG_X86_64)
#define fpt_regs_set_arg3(regs, v)	((regs)->cx = (v))
#elif defined(CONFIG_ARM64)
#define fpt_regs_set_arg3(regs, v)	((regs)->regs[3] = (v))
#else
#error "fpt: fpt_regs_set_arg3() not defined for this architecture"
#endif

/* Dynamically allocated shrinkers (6.7); named ones (6.0) before that. */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 7, 0)
static inline struct shrinker *
fpt_shrinker_create(unsigned long (*count)(struct shrinker *,
					   struct shrink_control *),
		    unsigned long (*scan)(struct shrinker *,
					  struct shrink_control *),
		    const char *name)
{
	struct shrinker *s = shrinker_alloc(0, "%s", name);

	if (!s)
		return NULL;
	s->count_objects = count;
	s->scan_objects = scan;
	s->seeks = DEFAULT_SEEKS;
	shrinker_register(s);
	return s;
}

static inline void fpt_shrinker_destroy(struct shrinker *s)
{
	shrinker_free(s);
}
#else
#include <linux/slab.h>
static inline struct shrinker *
fpt_shrinker_create(unsigned long (*count)(struct shrinker *,
					   struct shrink_control *),
		    unsigned long (*scan)(struct shrinker *,
					  struct shrink_control *),
		    const char *name)
{
	struct shrinker *s = kzalloc(sizeof(*s), GFP_KERNEL);

	if (!s)
		return NULL;
	s->count_objects = count;
	s->scan_objects = scan;
	s->seeks = DEFAULT_SEEKS;
	if (register_shrinker(s, "%s", name)) {
		kfree(s);
		return NULL;
	}
	return s;
}

static inline void fpt_shrinker_destroy(struct shrinker *s)
{
	unregister_shrinker(s);
	kfree(s);
}
#endif

/* Parsed request attributes of a dumpit callback (genl_info_dump: 6.6). */
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 6, 0)
#define fpt_dump_attrs(cb) (genl_dumpit_info(cb)->attrs)
#else
#define fpt_dump_attrs(cb) (genl_info_dump(cb)->attrs)
#endif

#endif /* _FPT_COMPAT_H */
