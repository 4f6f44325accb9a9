// SPDX-License-Identifier: GPL-2.0
/*
 * The allocation hook.  vma_alloc_folio() is where every anonymous fault
 * gets its memory, with the VMA and address in hand and in a context that
 * may sleep.  fpt redirects it (ftrace, IPMODIFY, the mechanism livepatch
 * uses) to fpt_vma_alloc_folio(), which
 *   - serves order-0 zeroed anonymous faults of reserve-backend processes
 *     from their 64 KB reservations (reserve.c), and
 *   - applies the per-cgroup defrag choice to the order-4 folio allocations
 *     of folio-backend processes, counting failures (folio.c);
 * every other call goes straight to the original function.
 *
 * Removal: after unregister_ftrace_function() no new call enters the
 * wrapper; synchronize_rcu_tasks() covers a task preempted between the
 * redirect and srcu_read_lock(); synchronize_srcu() waits for calls
 * sleeping inside the wrapper.
 */
#include <linux/ftrace.h>
#include <linux/module.h>
#include <linux/srcu.h>
#include "internal.h"

DEFINE_STATIC_SRCU(fpt_hook_srcu);

static struct folio *fpt_alloc(gfp_t gfp, int order, struct vm_area_struct *vma,
			       unsigned long addr, bool hugepage)
{
	struct folio *folio;
	struct fpt_policy *p;
	u8 backend = 0;
	bool defrag = false;
	u64 cgid = 0;

	/* Only fresh anonymous memory: order-0 zeroed, or an order-4 mTHP */
	if (!vma || !(order == 0 ? !!(gfp & __GFP_ZERO) : order == FPT_ORDER && hugepage))
		goto orig;

	rcu_read_lock();
	p = fpt_policy_of_mm(vma->vm_mm);
	if (p && fpt_policy_wants_vma(p, vma, vma->vm_flags)) {
		cgid = p->cgid;
		defrag = READ_ONCE(p->defrag);
		backend = READ_ONCE(p->backend_active);
	}
	rcu_read_unlock();
	if (!cgid)
		goto orig;

	if (order == 0 && backend == FPT_BACKEND_RESERVE) {
		folio = fpt_reserve_fault(vma, addr, cgid, defrag);
		if (folio)
			return folio;
	} else if (order == FPT_ORDER && backend == FPT_BACKEND_FOLIO) {
		/* as the reserve backend: no 64 KB where the memcg has no room */
		if (!fpt_memcg_has_room(vma->vm_mm)) {
			fpt_count(cgid, FPT_C_FB_CHARGE, 1);
			return NULL;
		}
		folio = fpt_vma_alloc_folio_orig(fpt_folio_gfp(gfp, defrag), order,
						 vma, addr, hugepage);
		if (!folio)
			fpt_count(cgid, FPT_C_FB_NO_BLOCK, 1);
		return folio;
	}
orig:
	return fpt_vma_alloc_folio_orig(gfp, order, vma, addr, hugepage);
}

static struct folio *fpt_vma_alloc_folio(gfp_t gfp, int order,
					 struct vm_area_struct *vma,
					 unsigned long addr, bool hugepage)
{
	struct folio *folio;
	int idx;

	idx = srcu_read_lock(&fpt_hook_srcu);
	folio = fpt_alloc(gfp, order, vma, addr, hugepage);
	srcu_read_unlock(&fpt_hook_srcu, idx);
	return folio;
}

static void notrace fpt_ftrace_thunk(unsigned long ip, unsigned long parent_ip,
				     struct ftrace_ops *ops,
				     struct ftrace_regs *fregs)
{
	/* our own calls of the original must reach it */
	if (!within_module(parent_ip, THIS_MODULE))
		ftrace_regs_set_instruction_pointer(fregs,
				(unsigned long)fpt_vma_alloc_folio);
}

static struct ftrace_ops fpt_ftrace_ops = {
	.func	= fpt_ftrace_thunk,
	.flags	= FTRACE_OPS_FL_SAVE_REGS | FTRACE_OPS_FL_RECURSION |
		  FTRACE_OPS_FL_IPMODIFY,
};

int fpt_hook_arm(void)
{
	char sym[] = FPT_VMA_ALLOC_FOLIO_SYM;
	int ret;

	ret = ftrace_set_filter(&fpt_ftrace_ops, sym, strlen(sym), 1);
	if (ret) {
		pr_err("fpt: hook point %s is not traceable on this kernel (%d)\n",
		       sym, ret);
		return -EOPNOTSUPP;
	}
	ret = register_ftrace_function(&fpt_ftrace_ops);
	if (ret) {
		pr_err("fpt: cannot hook %s (%d; livepatched?)\n", sym, ret);
		return -EOPNOTSUPP;
	}
	return 0;
}

/* The filter stays for the next arming; fpt_hook_exit() frees it. */
void fpt_hook_disarm(void)
{
	unregister_ftrace_function(&fpt_ftrace_ops);
	synchronize_rcu_tasks();
	synchronize_srcu(&fpt_hook_srcu);
}

/*
 * At unload only: ftrace_free_filter() frees the filter hash without
 * resetting it, so the ops must never be armed again after this.
 */
void fpt_hook_exit(void)
{
	ftrace_free_filter(&fpt_ftrace_ops);
}
