// SPDX-License-Identifier: GPL-2.0
/*
 * fpt: 64 KB contiguous anonymous memory for opted-in cgroups.
 *
 * The hooks (hook.c, folio.c) are armed only while an enabled policy
 * exists: a loaded fpt with no policy costs the kernel nothing, and the
 * administrator's 64 KB mTHP setting stays untouched.  At load they are
 * armed and disarmed once, so that a kernel lacking a hook point refuses
 * the module (-EOPNOTSUPP, one line in dmesg naming the hook point).
 * Unload: interfaces first (no new requests), then the hooks, then the
 * reservations, so that nothing reaches a backend after it is gone.
 */
#include <linux/module.h>
#include <linux/mm.h>
#include "internal.h"

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

static DEFINE_MUTEX(fpt_arm_mutex);
static bool fpt_armed;

static int fpt_hooks_arm(void)
{
	int ret = fpt_folio_arm();

	if (ret)
		return ret;
	ret = fpt_hook_arm();
	if (ret)
		fpt_folio_disarm();
	return ret;
}

static void fpt_hooks_disarm(void)
{
	fpt_hook_disarm();
	fpt_folio_disarm();
}

/* Arm or disarm the hooks for the current policies and switch. */
int fpt_arm_update(void)
{
	bool want = READ_ONCE(fpt_enabled) && fpt_nr_policies();
	int ret = 0;

	mutex_lock(&fpt_arm_mutex);
	if (want && !fpt_armed) {
		ret = fpt_hooks_arm();
		fpt_armed = !ret;
	} else if (!want && fpt_armed) {
		fpt_hooks_disarm();
		fpt_armed = false;
	}
	mutex_unlock(&fpt_arm_mutex);
	return ret;
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
	ret = fpt_hooks_arm();
	if (ret)
		goto err_hook;
	fpt_hooks_disarm();
	fpt_backends = BIT(FPT_BACKEND_RESERVE);
#ifdef FPT_HAVE_MTHP
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
	fpt_reserve_exit();
err_policy:
	fpt_policy_exit();
	return ret;
}

static void __exit fpt_exit(void)
{
	fpt_sysfs_exit();
	fpt_netlink_exit();
	mutex_lock(&fpt_arm_mutex);
	if (fpt_armed)
		fpt_hooks_disarm();
	fpt_armed = false;
	mutex_unlock(&fpt_arm_mutex);
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
