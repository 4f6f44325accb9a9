// SPDX-License-Identifier: GPL-2.0
/*
 * fpt: 64 KB contiguous anonymous memory for opted-in cgroups.
 *
 * Load order: policies, backends (hook points checked here: a kernel that
 * lacks one refuses the module with one line in dmesg), the allocation
 * hook, then the interfaces.  Unload runs the other way round, so that
 * nothing reaches a backend after it is gone.
 */
#include <linux/module.h>
#include <linux/mm.h>
#include "fpt.h"

#define FPT_VERSION "0.1.0"

bool fpt_enabled = true;
unsigned int fpt_backends;

static unsigned long max_unused_kb;
module_param(max_unused_kb, ulong, 0644);
MODULE_PARM_DESC(max_unused_kb,
		 "cap on memory held in reservations not yet handed out, KB (0: 1/128 of RAM, at most 256 MB)");

unsigned long fpt_max_unused_pages(void)
{
	unsigned long kb = READ_ONCE(max_unused_kb);

	if (kb)
		return kb >> (PAGE_SHIFT - 10);
	return min(totalram_pages() / 128, (256UL << 20) >> PAGE_SHIFT);
}

static int __init fpt_init(void)
{
	int ret;

	ret = fpt_policy_init();
	if (ret)
		return ret;
	/* folio backend (mTHP kernels) or the 2 MB THP gate (older ones) */
	ret = fpt_folio_init();
	if (ret)
		goto err_policy;
#ifdef FPT_HAVE_MTHP
	fpt_backends |= BIT(FPT_BACKEND_FOLIO);
#endif
	ret = fpt_reserve_init();
	if (ret)
		goto err_folio;
	fpt_backends |= BIT(FPT_BACKEND_RESERVE);
	ret = fpt_hook_init();
	if (ret)
		goto err_reserve;
	ret = fpt_netlink_init();
	if (ret)
		goto err_hook;
	ret = fpt_sysfs_init();
	if (ret)
		goto err_netlink;
	pr_info("fpt: loaded, default backend %s\n",
		fpt_backend_resolve(FPT_BACKEND_AUTO) == FPT_BACKEND_FOLIO ?
		"folio" : "reserve");
	return 0;

err_netlink:
	fpt_netlink_exit();
err_hook:
	fpt_hook_exit();
err_reserve:
	fpt_reserve_exit();
err_folio:
	fpt_folio_exit();
err_policy:
	fpt_policy_exit();
	return ret;
}

static void __exit fpt_exit(void)
{
	fpt_sysfs_exit();
	fpt_netlink_exit();
	fpt_hook_exit();
	fpt_reserve_exit();
	fpt_folio_exit();
	fpt_policy_exit();
	pr_info("fpt: unloaded\n");
}

module_init(fpt_init);
module_exit(fpt_exit);
MODULE_LICENSE("GPL");
MODULE_AUTHOR("The fpt developers");
MODULE_DESCRIPTION("64 KB contiguous anonymous memory for opted-in cgroups");
MODULE_VERSION(FPT_VERSION);
