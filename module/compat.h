/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The one place that knows kernel versions and architectures.  Everything
 * else uses the feature macros and helpers defined here.  What differs
 * between kernels is probed in the headers built against (Kbuild: the
 * FPT_HAVE_* -D flags), not guessed from version numbers.
 *
 * Hooked functions: fpt redirects kernel functions with ftrace (IPMODIFY, as
 * livepatch does) to wrappers of the same prototype.  The prototypes are
 * checked against the kernel's declarations at compile time
 * (FPT_CHECK_PROTO), so a kernel that changed one fails to build instead of
 * passing arguments in the wrong registers.
 */
#ifndef _FPT_COMPAT_H
#define _FPT_COMPAT_H

#include <linux/build_bug.h>
#include <linux/compiler.h>
#include <linux/ftrace.h>
#include <linux/gfp.h>
#include <linux/huge_mm.h>
#include <linux/mm.h>
#include <linux/shrinker.h>

/*
 * Multi-size THP (6.8): do_anonymous_page() maps a folio of any order the
 * allocator hands it (nr_pages = folio_nr_pages()), so an order-4 folio
 * returned to its allocation call becomes one 64 KB run.
 */
#if defined(FPT_HAVE_ANON_ORDERS) && defined(CONFIG_TRANSPARENT_HUGEPAGE)
#define FPT_HAVE_MTHP 1
#endif

/*
 * The allocation hook: vma_alloc_folio(gfp, order, vma, addr, hugepage),
 * renamed *_noprof when memory allocation profiling arrived (6.10).
 */
#ifdef FPT_HAVE_ALLOC_NOPROF
#define fpt_vma_alloc_folio_orig	vma_alloc_folio_noprof
#define FPT_VMA_ALLOC_FOLIO_SYM		"vma_alloc_folio_noprof"
#define fpt_alloc_pages			alloc_pages_noprof
#else
#define fpt_vma_alloc_folio_orig	vma_alloc_folio
#define FPT_VMA_ALLOC_FOLIO_SYM		"vma_alloc_folio"
#define fpt_alloc_pages			alloc_pages
#endif

/*
 * The functions whose calls of the allocation hook are anonymous first-touch
 * faults (the folio backend answers only those).  alloc_anon_folio() is
 * inlined into do_anonymous_page() in Debian's builds; either may be the
 * caller, so both are looked up and either range counts.
 */
#define FPT_ANON_FAULT_SYMS		{ "do_anonymous_page", "alloc_anon_folio" }

/*
 * do_anonymous_page()'s order-0 zeroed page is vma_alloc_zeroed_movable_folio()
 * (6.12: by way of folio_prealloc(), inlined).  x86 defines it as a macro
 * calling vma_alloc_folio(), so the allocation hook sees do_anonymous_page()
 * as the caller.  arm64 defines it out of line (arch/arm64/mm/fault.c, to
 * zero the MTE tags with the page): vma_alloc_folio() then sees it as the
 * caller, for do_anonymous_page() and for wp_page_copy() (CoW of the zero
 * page) alike.  There the folio backend hooks vma_alloc_zeroed_movable_folio()
 * as well (FPT_HAVE_ZEROED_FOLIO_HOOK), whose callback tells the callers
 * apart, and fpt_zeroed_folio_gfp() is the gfp the arch's function allocates
 * with (not exported: these are its lines).
 */
#if defined(FPT_HAVE_MTHP) && defined(FPT_HAVE_ARCH_ZEROED_FOLIO)
#ifndef CONFIG_ARM64
#error "fpt: this architecture's out-of-line vma_alloc_zeroed_movable_folio() is not known"
#endif
#define FPT_HAVE_ZEROED_FOLIO_HOOK	1
#define FPT_ZEROED_FOLIO_SYM		"vma_alloc_zeroed_movable_folio"
static inline gfp_t fpt_zeroed_folio_gfp(struct vm_area_struct *vma)
{
	gfp_t gfp = GFP_HIGHUSER_MOVABLE | __GFP_ZERO;

	/* PROT_MTE: the tags are zeroed with the page (arm64's comment) */
	if (vma->vm_flags & VM_MTE)
		gfp |= __GFP_ZEROTAGS;
	return gfp;
}
#endif

/*
 * The 2 MB THP gate (FPT_F_NO_PMD_THP): the function the kernel asks whether
 * a VMA may have PMD-sized THPs, with the reply type fpt's wrapper returns.
 */
#ifdef FPT_HAVE_MTHP
#define FPT_PMD_GATE_SYM		"__thp_vma_allowable_orders"
#else
#define FPT_PMD_GATE_SYM		"hugepage_vma_check"
#endif

/*
 * The arguments and instruction pointer of a traced function, from the
 * ftrace_regs its callback gets.  With DYNAMIC_FTRACE_WITH_ARGS (x86-64;
 * arm64 since 6.6) they are there without a full pt_regs; without it
 * (arm64 6.1) the callback asks for SAVE_REGS and works on the pt_regs,
 * since the generic ftrace_instruction_pointer_set() does nothing there.
 * The trampolines restore the argument registers from what the callback
 * leaves (x86-64 restore_mcount_regs, arm64 ftrace_caller), so an argument
 * can be changed before the function runs.
 */
#ifdef arch_ftrace_regs		/* 6.12: the arch part of ftrace_regs */
#define fpt_arch_fregs(fregs)	arch_ftrace_regs(fregs)
#else
#define fpt_arch_fregs(fregs)	(fregs)
#endif

#ifdef CONFIG_HAVE_DYNAMIC_FTRACE_WITH_ARGS
#define FPT_FTRACE_FLAGS	FTRACE_OPS_FL_IPMODIFY
#ifdef FPT_HAVE_FREGS_ARGUMENT
#define fpt_fregs_arg(fregs, n)	ftrace_regs_get_argument(fregs, n)
#else
#define fpt_fregs_arg(fregs, n)	regs_get_kernel_argument(&(fregs)->regs, n)
#endif
#ifdef FPT_HAVE_FREGS_SET_IP
#define fpt_fregs_set_ip(fregs, ip)	ftrace_regs_set_instruction_pointer(fregs, ip)
#else
#define fpt_fregs_set_ip(fregs, ip)	ftrace_instruction_pointer_set(fregs, ip)
#endif
#if defined(CONFIG_X86_64)
#define fpt_fregs_argp(fregs)	(&fpt_arch_fregs(fregs)->regs)
#elif defined(CONFIG_ARM64)
#define fpt_fregs_argp(fregs)	(fpt_arch_fregs(fregs)->regs)
#endif
#else /* only WITH_REGS */
#define FPT_FTRACE_FLAGS	(FTRACE_OPS_FL_IPMODIFY | FTRACE_OPS_FL_SAVE_REGS)
#define fpt_fregs_arg(fregs, n)	regs_get_kernel_argument(ftrace_get_regs(fregs), n)
#define fpt_fregs_set_ip(fregs, ip) \
	instruction_pointer_set(ftrace_get_regs(fregs), ip)
#if defined(CONFIG_X86_64)
#define fpt_fregs_argp(fregs)	ftrace_get_regs(fregs)
#elif defined(CONFIG_ARM64)
#define fpt_fregs_argp(fregs)	(ftrace_get_regs(fregs)->regs)
#endif
#endif

/* Change argument @n before the traced function runs. */
#if defined(CONFIG_X86_64)
static __always_inline void fpt_fregs_set_arg(struct ftrace_regs *fregs,
					      unsigned int n, unsigned long v)
{
	struct pt_regs *regs = fpt_fregs_argp(fregs);
	unsigned long *arg[] = { &regs->di, &regs->si, &regs->dx,
				 &regs->cx, &regs->r8, &regs->r9 };

	if (n < ARRAY_SIZE(arg))
		*arg[n] = v;
}
#elif defined(CONFIG_ARM64)
#define fpt_fregs_set_arg(fregs, n, v)	(fpt_fregs_argp(fregs)[n] = (v))
#else
#error "fpt: ftrace argument access is not defined for this architecture"
#endif

/*
 * Shared memory (shmem.c): shmem_alloc_and_add_folio(vmf, gfp, inode,
 * index, fault_mm, orders) tries the orders it is given, each at the index
 * aligned to it, falling back order by order (6.11).  It is static, so its
 * prototype cannot be checked here: the argument positions fpt's callback
 * reads and changes are these.
 */
#ifdef FPT_HAVE_SHMEM_ORDERS
#define FPT_SHMEM_ALLOC_SYM	"shmem_alloc_and_add_folio"
#define FPT_SHMEM_ARG_GFP	1
#define FPT_SHMEM_ARG_INODE	2
#define FPT_SHMEM_ARG_INDEX	3
#define FPT_SHMEM_ARG_ORDERS	5
#endif

/*
 * Shared memory where shmem allocates order-0 pages only (6.1): the
 * reservations of shmem.c.  Until folio_alloc_mpol() came (6.7),
 * shmem_alloc_and_acct_folio(gfp, inode, index, huge) allocated a page for
 * shmem_get_folio_gfp() -- faults, write(2), fallocate -- by calling
 * shmem_alloc_folio(gfp, info, index), which wraps the shared mempolicy in
 * a pseudo-VMA for vma_alloc_folio().  fpt redirects the calls of the
 * second made by the first, and calls the kernel's function for what it
 * does not serve.  Both are static: their prototypes cannot be checked
 * here, and these are the argument positions fpt reads.  Calling a static
 * function through a pointer needs a landing pad (x86 ENDBR, which objtool
 * seals where nothing takes the address; arm64 BTI, which the compiler
 * leaves out there): not with kernel branch-target checks.
 */
#if !defined(FPT_HAVE_SHMEM_ORDERS) && !defined(FPT_HAVE_FOLIO_ALLOC_MPOL) && \
	defined(CONFIG_SHMEM) && defined(CONFIG_64BIT) && \
	!defined(CONFIG_X86_KERNEL_IBT) && !defined(CONFIG_ARM64_BTI_KERNEL)
#define FPT_HAVE_SHMEM_RESERVE		1
#define FPT_SHMEM_ALLOC_SYM		"shmem_alloc_folio"
#define FPT_SHMEM_CALLER_SYM		"shmem_alloc_and_acct_folio"
#define FPT_SHMEM_EVICT_SYM		"shmem_evict_inode"
#define FPT_SHMEM_ARG_GFP		0
#define FPT_SHMEM_ARG_INFO		1
#define FPT_SHMEM_ARG_INDEX		2
struct shmem_inode_info;
typedef struct folio *(*fpt_shmem_alloc_folio_t)(gfp_t gfp,
						  struct shmem_inode_info *info,
						  pgoff_t index);
/* the object has a NUMA policy of its own (mbind on a mapping of it) */
#ifdef CONFIG_NUMA
#define fpt_shmem_has_mempolicy(info) \
	(!RB_EMPTY_ROOT(&(info)->policy.root))
#else
#define fpt_shmem_has_mempolicy(info)	((void)(info), false)
#endif
#endif

#if defined(FPT_HAVE_SHMEM_ORDERS) || defined(FPT_HAVE_SHMEM_RESERVE)
#define FPT_HAVE_SHMEM		1
#endif

/* The generic unmapped-area search of the current mm. */
#ifdef FPT_HAVE_MM_GET_UNMAPPED_AREA
#define fpt_get_unmapped_area(f, a, l, p, fl) \
	mm_get_unmapped_area(current->mm, f, a, l, p, fl)
#else
#define fpt_get_unmapped_area(f, a, l, p, fl) \
	current->mm->get_unmapped_area(f, a, l, p, fl)
#endif

/* The kernel's prototype of a hooked function must be the wrapper's. */
#define FPT_CHECK_PROTO(kernel_fn, wrapper) \
	static_assert(__same_type(&(kernel_fn), &(wrapper)), \
		      #wrapper " does not match the kernel's " #kernel_fn)

/* Dynamically allocated shrinkers (6.7); named ones (6.0) before that. */
#ifdef FPT_HAVE_SHRINKER_ALLOC
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

#endif /* _FPT_COMPAT_H */
