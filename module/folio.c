// SPDX-License-Identifier: GPL-2.0
/*
 * The folio backend: on kernels with multi-size THP, opted-in processes get
 * the kernel's own order-4 anonymous folios, without any THP setting being
 * changed for anybody.
 *
 * do_anonymous_page() maps the folio its allocation returns whole: it takes
 * nr_pages from folio_nr_pages() and aligns the address down to the folio's
 * size.  Its allocation calls reach fpt_folio_fault() (hook.c redirects them
 * for opted-in processes only) in two ways:
 *   - order 0, zeroed: the administrator's settings give this VMA no mTHP
 *     (or none fitted); fpt answers with a zeroed, aligned order-4 folio
 *     for the 64 KB window.  The kernel charges it to the memcg like any
 *     page it allocated there (folio_prealloc()).
 *   - a small mTHP order (1-3) the administrator enabled: fpt answers with
 *     the 64 KB folio instead; the caller charges and zeroes it.
 * The checks are the ones the kernel's mTHP path makes before allocating
 * (alloc_anon_folio(), __thp_vma_allowable_orders()): the window lies
 * inside the VMA and has no page mapped, no userfaultfd, not a temporary
 * exec stack, and, since a charge of 64 KB that fails would turn into an
 * OOM retry of the fault, the memcg has room for the whole folio.
 * Whatever fails a check gets what the kernel asked for, and the reason is
 * counted per cgroup.
 */
#include <linux/mm.h>
#include <linux/huge_mm.h>
#include <linux/userfaultfd_k.h>
#include "internal.h"

#ifdef FPT_HAVE_MTHP

/*
 * The 64 KB allocation: speculative, like a THP.  Never the emergency
 * reserves; with defrag one round of direct compaction/reclaim, without it
 * none at all; no failure warning.
 */
static gfp_t fpt_folio_gfp(gfp_t gfp, bool defrag)
{
	gfp |= __GFP_NOMEMALLOC | __GFP_NOWARN;
	return defrag ? gfp | __GFP_DIRECT_RECLAIM | __GFP_NORETRY :
			gfp & ~__GFP_RECLAIM;
}

struct folio *fpt_folio_fault(gfp_t gfp, int order, struct vm_area_struct *vma,
			      unsigned long addr, u64 cgid, bool defrag)
{
	unsigned long base = addr & FPT_RUN_MASK;
	enum fpt_counter why;
	struct folio *folio;

	if (userfaultfd_armed(vma))
		why = FPT_C_FB_UFFD;
	else if (base < vma->vm_start || base + FPT_RUN_SIZE > vma->vm_end)
		why = FPT_C_FB_VMA_RANGE;
	else if (vma_is_temporary_stack(vma))
		why = FPT_C_FB_KERNEL;
	else if (fpt_window_populated(vma->vm_mm, base, false))
		why = FPT_C_FB_POPULATED;
	else if (!fpt_memcg_has_room(vma->vm_mm, 2 * FPT_NR_PAGES))
		why = FPT_C_FB_CHARGE;
	else {
		folio = fpt_vma_alloc_folio_orig(fpt_folio_gfp(gfp, defrag),
						 FPT_ORDER, vma, base, true);
		if (folio) {
			rcu_read_lock();
			{
				struct fpt_policy *p = fpt_policy_find(cgid);

				fpt_policy_count(p, FPT_C_RUNS, 1);
				fpt_policy_count(p, FPT_C_FAULTS_64K, 1);
			}
			rcu_read_unlock();
			return folio;
		}
		why = FPT_C_FB_NO_BLOCK;
	}
	fpt_count(cgid, why, 1);
	return NULL;
}

#endif /* FPT_HAVE_MTHP */
