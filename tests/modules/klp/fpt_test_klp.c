// SPDX-License-Identifier: GPL-2.0
/*
 * fpt_test_klp: a minimal livepatch of the function fpt.ko hooks
 * (vma_alloc_folio / vma_alloc_folio_noprof), for the guest test of
 * livepatch coexistence.  Test only: never installed.
 *
 * The replacement allocates like the original does without a NUMA policy
 * (the test guests have one node).  Two IPMODIFY ftrace users of one
 * function exclude each other, so while fpt's hook is armed this patch
 * cannot be enabled, and while it is enabled fpt cannot arm: the test
 * checks that each side refuses cleanly with -EBUSY.
 */
#include <linux/module.h>
#include <linux/livepatch.h>
#include <linux/gfp.h>
#include <linux/version.h>

#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 10, 0)
#define FPT_KLP_SYM	"vma_alloc_folio_noprof"
#define fpt_klp_alloc	folio_alloc_noprof
#else
#define FPT_KLP_SYM	"vma_alloc_folio"
#define fpt_klp_alloc	folio_alloc
#endif

static struct folio *fpt_klp_vma_alloc_folio(gfp_t gfp, int order,
					     struct vm_area_struct *vma,
					     unsigned long addr, bool hugepage)
{
	return fpt_klp_alloc(gfp, order);
}

static struct klp_func fpt_klp_funcs[] = {
	{
		.old_name = FPT_KLP_SYM,
		.new_func = fpt_klp_vma_alloc_folio,
	}, { }
};

static struct klp_object fpt_klp_objs[] = {
	{
		/* name being NULL means vmlinux */
		.funcs = fpt_klp_funcs,
	}, { }
};

static struct klp_patch fpt_klp_patch = {
	.mod = THIS_MODULE,
	.objs = fpt_klp_objs,
};

static int fpt_klp_init(void)
{
	return klp_enable_patch(&fpt_klp_patch);
}

static void fpt_klp_exit(void)
{
}

module_init(fpt_klp_init);
module_exit(fpt_klp_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("fpt test: livepatch of vma_alloc_folio");
MODULE_INFO(livepatch, "Y");
