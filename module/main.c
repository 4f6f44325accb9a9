// SPDX-License-Identifier: GPL-2.0
/*
 * fpt: 64 KB contiguous anonymous memory for opted-in cgroups.
 *
 * The hooks (hook.c) are armed only while an enabled policy needs them: a
 * loaded fpt with no policy costs the kernel nothing, and no THP setting is
 * ever written.  At load every hook point is looked up and armed once, so
 * that a kernel lacking one, or one taken by another ftrace user (a
 * livepatch), refuses the module with the true errno and one dmesg line
 * naming it.  Unload: interfaces first (no new requests), then the hooks,
 * then the reservations, so that nothing reaches a backend after it is gone.
 */
#include <linux/module.h>
#include <linux/mm.h>
#include <linux/pgtable.h>
#include "internal.h"

/* FPT_VERSION: -D from module/Kbuild, the file VERSION of the tree */

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
	ret = fpt_reserve_init();
	if (ret)
		goto err_policy;
	/* every hook point must be there; a failure names it in dmesg */
	ret = fpt_hook_init();
	if (ret)
		goto err_reserve;
	fpt_backends = BIT(FPT_BACKEND_RESERVE);
#ifdef FPT_HAVE_MTHP
	if (has_transparent_hugepage())
		fpt_backends |= BIT(FPT_BACKEND_FOLIO);
#endif
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
	fpt_policy_exit();
	pr_info("fpt: unloaded\n");
}

module_init(fpt_init);
module_exit(fpt_exit);
MODULE_LICENSE("GPL");
MODULE_AUTHOR("The fpt developers");
MODULE_DESCRIPTION("64 KB contiguous anonymous memory for opted-in cgroups");
MODULE_VERSION(FPT_VERSION);
