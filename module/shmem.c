// SPDX-License-Identifier: GPL-2.0
/*
 * Shared memory: MAP_SHARED|MAP_ANONYMOUS, SysV shm and memfd are all shmem.
 * On kernels whose shmem allocates large folios of any order (6.12), fpt
 * asks the kernel for an order-4 folio when a fault of an opted-in process
 * allocates shmem, without any THP setting changing.  On kernels whose
 * shmem allocates order-0 pages only (6.1), fpt hands out the pages of
 * reservations of shmem objects (reserve.c), FreeBSD's per-object
 * reservations: see "6.1" below.
 *
 * Whose policy: the faulting task's, as memcg charges the faulting mm.  A
 * page that is already in the object stays as it is, whoever maps it.
 *
 * 6.12.  shmem_alloc_and_add_folio(vmf, gfp, inode, index, fault_mm,
 * orders) allocates the folio for a fault: it tries the orders in @orders,
 * highest first, each at the index aligned to its size, and adds the folio
 * it got to the page cache.  fpt's ftrace callback adds order 4 to
 * @orders (and order 0 when the kernel asked for none, so that a failed
 * 64 KB allocation still falls back to a page in the same call), after the
 * checks the kernel's own mTHP path makes and a few more: the aligned
 * window lies inside the VMA and the object (i_size), the mapping's offset
 * is 64 KB-aligned, nothing of the window is in the page cache, no
 * userfaultfd, and the memcg has room for the folio.  __GFP_NOWARN keeps a
 * failed 64 KB attempt quiet.  Nothing else about the call changes; the
 * kernel counts the result (hugepages-64kB/stats/shmem_alloc,
 * shmem_fallback) and fpt the requests and the reasons for not making one.
 *
 * Alignment.  The kernel places shared mappings PMD-aligned only when shmem
 * THP is on; so that their windows can be runs, a shared mapping of 64 KB
 * or more that an opted-in process creates without an address is placed
 * with its start congruent to its object offset modulo 64 KB (modulo 2 MB
 * for mappings of 2 MB or more, so PMD THP stays possible).  A second
 * callback, on shmem_get_unmapped_area(), redirects those calls to
 * fpt_shmem_get_unmapped_area().
 *
 * 6.1.  shmem_alloc_and_acct_folio(), which allocates every page that
 * shmem_get_folio_gfp() adds to an object (a fault, write(2), fallocate),
 * calls shmem_alloc_folio(gfp, info, index): the object and the offset.
 * A callback on the second redirects those calls (caller checked against
 * the first's address range, looked up at load; shmem's usual movable
 * gfp) of a task whose policy is on and covers shared memory to
 * fpt_shmem_alloc_folio() (same prototype), which hands out page index %
 * 16 of the reservation for the window (object, index / 16): an aligned
 * order-4 block split into 16 pages, made by the first page the window
 * needs, claimed page by page with reserve.c's atomic bits, under its cap,
 * shrinker, reaper and policy life cycle.  It is made only where the whole
 * window lies inside the object (i_size), nothing of it is in the page
 * cache yet, the object has no NUMA policy of its own and the memcg has
 * room; otherwise, and whenever the reservation cannot give the page, the
 * kernel's shmem_alloc_folio() allocates (fpt calls it; the callback lets
 * fpt's calls through), and the reason is counted (shmem_fallback_*).
 * The page is not zeroed here: shmem zeroes a page it adds to an object.
 * Not seen from there: the VMA.  So a policy in madvise mode covers no
 * shared memory on 6.1, and a mapping at an offset not 64 KB-aligned to
 * its address is not counted (its windows' pages are contiguous in the
 * object, not in the address space).
 *
 * A dead object's reservations: a third callback, on shmem_evict_inode(),
 * releases them when the object's inode is evicted (its last reference,
 * mapping and page gone), so that nothing is held for an object that no
 * longer exists and no key of a dead object is met by a new one.  The
 * reaper alone would hold them for up to 90 s.  Released as well: by the
 * shrinker, the reaper, the policy's removal or change (off, another
 * backend, FPT_F_NO_SHMEM: so no shmem reservation outlives the hooks)
 * and module removal (reserve.c).
 */
#include <linux/kallsyms.h>
#include <linux/mm.h>
#include <linux/mman.h>
#include <linux/sched/mm.h>
#include <linux/shmem_fs.h>
#include <linux/srcu.h>
#include <linux/userfaultfd_k.h>
#include "internal.h"
#include "lookup.h"

#ifdef FPT_HAVE_SHMEM

/* The policy of the current task, if it wants 64 KB shared memory here. */
static __always_inline struct fpt_policy *
fpt_shmem_policy(struct vm_area_struct *vma)
{
	struct fpt_policy *p = __fpt_policy_of_mm(current->mm);
	u8 mode;

	if (!p)
		return NULL;
	mode = READ_ONCE(p->mode);
	if (mode == FPT_MODE_OFF ||
	    (READ_ONCE(p->flags) & FPT_F_NO_SHMEM) ||
	    test_bit(MMF_DISABLE_THP, &current->mm->flags))
		return NULL;
	if (vma && ((vma->vm_flags & VM_NOHUGEPAGE) ||
		    (mode == FPT_MODE_MADVISE && !(vma->vm_flags & VM_HUGEPAGE))))
		return NULL;
	return p;
}

#ifdef FPT_HAVE_SHMEM_ORDERS
/*
 * Why the 64 KB window of @index cannot be one folio for this fault, or
 * FPT_NR_COUNTERS if it can.  Called from the ftrace callback: nothing
 * here may sleep.
 */
static enum fpt_counter fpt_shmem_window(struct vm_fault *vmf,
					 struct inode *inode, pgoff_t index)
{
	struct vm_area_struct *vma = vmf->vma;
	pgoff_t first = round_down(index, FPT_NR_PAGES), last;
	unsigned long start;
	void *entry;

	if (userfaultfd_armed(vma))
		return FPT_C_SHMEM_FB_UFFD;
	/* the object offset and the address agree modulo 64 KB */
	if (((vma->vm_start >> PAGE_SHIFT) - vma->vm_pgoff) % FPT_NR_PAGES)
		return FPT_C_SHMEM_FB_ALIGN;
	start = vma->vm_start + ((first - vma->vm_pgoff) << PAGE_SHIFT);
	if (first < vma->vm_pgoff || start + FPT_RUN_SIZE > vma->vm_end)
		return FPT_C_SHMEM_FB_RANGE;
	/* within the object: no folio sticking out past its end */
	if ((loff_t)(first + FPT_NR_PAGES) << PAGE_SHIFT > i_size_read(inode))
		return FPT_C_SHMEM_FB_RANGE;
	last = first + FPT_NR_PAGES - 1;
	rcu_read_lock();
	entry = xa_find(&inode->i_mapping->i_pages, &first, last, XA_PRESENT);
	rcu_read_unlock();
	if (entry)
		return FPT_C_SHMEM_FB_POPULATED;
	if (!fpt_memcg_has_room(vma->vm_mm, 2 * FPT_NR_PAGES))
		return FPT_C_SHMEM_FB_CHARGE;
	return FPT_NR_COUNTERS;
}

static void notrace fpt_shmem_alloc_thunk(unsigned long ip,
					  unsigned long parent_ip,
					  struct ftrace_ops *ops,
					  struct ftrace_regs *fregs)
{
	struct vm_fault *vmf = (void *)fpt_fregs_arg(fregs, 0);
	unsigned long orders = fpt_fregs_arg(fregs, FPT_SHMEM_ARG_ORDERS);
	enum fpt_counter why;
	struct fpt_policy *p;

	/* faults only (a write(2) has no vmf: its -ENOMEM would reach the user) */
	if (!vmf || (orders & BIT(FPT_ORDER)) || !current->mm)
		return;
	preempt_disable_notrace();	/* an RCU read-side section */
	p = fpt_shmem_policy(vmf->vma);
	if (!p)
		goto out;
	why = fpt_shmem_window(vmf,
			       (void *)fpt_fregs_arg(fregs, FPT_SHMEM_ARG_INODE),
			       fpt_fregs_arg(fregs, FPT_SHMEM_ARG_INDEX));
	if (why == FPT_NR_COUNTERS) {
		fpt_fregs_set_arg(fregs, FPT_SHMEM_ARG_ORDERS,
				  orders | BIT(FPT_ORDER) | (orders ? 0 : BIT(0)));
		fpt_fregs_set_arg(fregs, FPT_SHMEM_ARG_GFP,
				  fpt_fregs_arg(fregs, FPT_SHMEM_ARG_GFP) |
				  __GFP_NOWARN);
		why = FPT_C_SHMEM_REQUESTED;
	}
	fpt_policy_count(p, why, 1);
out:
	preempt_enable_notrace();
}

struct ftrace_ops fpt_shmem_alloc_ops = {
	.func	= fpt_shmem_alloc_thunk,
	.flags	= FPT_FTRACE_FLAGS,
};

int fpt_shmem_init(void)
{
	return 0;
}
#endif /* FPT_HAVE_SHMEM_ORDERS */

#ifdef FPT_HAVE_SHMEM_RESERVE
static fpt_shmem_alloc_folio_t fpt_shmem_alloc_folio_orig;
static unsigned long fpt_shmem_caller, fpt_shmem_caller_len;

/* The key of @info's window at @first (reserve.c): (inode number, window) */
static unsigned long fpt_shmem_key(struct shmem_inode_info *info,
				   pgoff_t first)
{
	return (info->vfs_inode.i_ino << 32) | (first >> FPT_ORDER);
}

/*
 * The page for @index of @info from the window's reservation, or NULL:
 * the kernel allocates it, and the reason is counted.
 */
static struct page *fpt_shmem_resv_page(struct shmem_inode_info *info,
					pgoff_t index)
{
	pgoff_t first = round_down(index, FPT_NR_PAGES), at = first;
	struct inode *inode = &info->vfs_inode;
	unsigned int i = index - first;
	enum fpt_counter why;
	struct fpt_policy *p;
	struct page *page;
	unsigned long key;

	rcu_read_lock();
	p = fpt_shmem_policy(NULL);
	if (!p || READ_ONCE(p->mode) != FPT_MODE_ON)	/* changed since */
		goto none;
	why = FPT_C_SHMEM_FB_RANGE;
	if ((first >> FPT_ORDER) > U32_MAX)
		goto fallback;
	key = fpt_shmem_key(info, first);
	switch (fpt_reserve_obj_take(info, key, i, p, &page, &why)) {
	case FPT_TAKEN:
		rcu_read_unlock();
		return page;
	case FPT_GONE:
		goto fallback;
	case FPT_NONE:
		break;
	}
	/* no reservation for the window: make one, if it can fill */
	if (fpt_shmem_has_mempolicy(info)) {
		why = FPT_C_SHMEM_FB_MEMPOLICY;
		goto fallback;
	}
	if ((loff_t)(first + FPT_NR_PAGES) << PAGE_SHIFT > i_size_read(inode)) {
		why = FPT_C_SHMEM_FB_RANGE;
		goto fallback;
	}
	if (xa_find(&inode->i_mapping->i_pages, &at, first + FPT_NR_PAGES - 1,
		    XA_PRESENT)) {
		/*
		 * The page found may be one another task took from the
		 * reservation it made since: take from that one too.
		 */
		why = FPT_C_SHMEM_FB_POPULATED;
		/* its reservation was inserted before its page was added */
		smp_rmb();
		if (fpt_reserve_obj_take(info, key, i, p, &page, &why) ==
		    FPT_TAKEN) {
			rcu_read_unlock();
			return page;
		}
		goto fallback;
	}
	if (!fpt_memcg_has_room(current->mm, FPT_NR_PAGES)) {
		why = FPT_C_SHMEM_FB_CHARGE;
		goto fallback;
	}
	return fpt_reserve_obj_create(info, key, i, p, READ_ONCE(p->defrag));

fallback:
	fpt_policy_count(p, fpt_reserve_obj_why(why), 1);
none:
	rcu_read_unlock();
	return NULL;
}

/*
 * shmem_alloc_folio(gfp, info, index), redirected: a page of the window's
 * reservation, else the kernel's (whose callback lets fpt's call go).
 */
static noinline struct folio *
fpt_shmem_alloc_folio(gfp_t gfp, struct shmem_inode_info *info, pgoff_t index)
{
	struct folio *folio;
	struct page *page;
	int idx;

	idx = srcu_read_lock(&fpt_hook_srcu);
	page = fpt_shmem_resv_page(info, index);
	if (page)
		folio = page_folio(page);
	else
		folio = fpt_shmem_alloc_folio_orig(gfp, info, index);
	srcu_read_unlock(&fpt_hook_srcu, idx);
	return folio;
}

/*
 * The callback on shmem_alloc_folio(): every shmem page allocation passes
 * here while a policy covers shared memory.  The caller and the gfp first
 * (shmem_alloc_and_acct_folio(), shmem's movable user pages: not a
 * driver's object with a gfp of its own, not fpt's own call), then the
 * policy (on, not FPT_F_NO_SHMEM, THP not disabled for the process).
 */
static void notrace fpt_shmem_alloc_thunk(unsigned long ip,
					  unsigned long parent_ip,
					  struct ftrace_ops *ops,
					  struct ftrace_regs *fregs)
{
	gfp_t gfp = fpt_fregs_arg(fregs, FPT_SHMEM_ARG_GFP);
	struct fpt_policy *p;

	if (parent_ip - fpt_shmem_caller >= fpt_shmem_caller_len ||
	    (gfp & GFP_ZONEMASK) != (__GFP_HIGHMEM | __GFP_MOVABLE) ||
	    !current->mm)
		return;
	preempt_disable_notrace();	/* an RCU read-side section */
	p = fpt_shmem_policy(NULL);
	if (p && READ_ONCE(p->mode) == FPT_MODE_ON)
		fpt_fregs_set_ip(fregs, (unsigned long)fpt_shmem_alloc_folio);
	preempt_enable_notrace();
}

struct ftrace_ops fpt_shmem_alloc_ops = {
	.func	= fpt_shmem_alloc_thunk,
	.flags	= FPT_FTRACE_FLAGS,
};

/* shmem_evict_inode(inode): the object is gone, so are its reservations */
static void notrace fpt_shmem_evict_thunk(unsigned long ip,
					  unsigned long parent_ip,
					  struct ftrace_ops *ops,
					  struct ftrace_regs *fregs)
{
	struct shmem_inode_info *info =
		SHMEM_I((struct inode *)fpt_fregs_arg(fregs, 0));
	unsigned long first = fpt_shmem_key(info, 0);

	fpt_reserve_obj_release(info, first, first | U32_MAX);
}

struct ftrace_ops fpt_shmem_evict_ops = {
	.func	= fpt_shmem_evict_thunk,
	.flags	= FPT_FTRACE_FLAGS,
};

/*
 * The kernel's shmem_alloc_folio() and its caller whose calls fpt takes:
 * both static, looked up by name; the first is called, so it must be
 * exactly the function's start.
 */
int fpt_shmem_init(void)
{
	char buf[KSYM_SYMBOL_LEN];
	unsigned long start, len;
	int ret;

	ret = fpt_symbol_range(FPT_SHMEM_ALLOC_SYM, &start, &len);
	if (!ret) {
		sprint_symbol(buf, start);
		if (strncmp(buf, FPT_SHMEM_ALLOC_SYM "+0x0/",
			    strlen(FPT_SHMEM_ALLOC_SYM "+0x0/")))
			ret = -ENOENT;
	}
	if (ret) {
		pr_info("fpt: shared memory not covered: %s not found: %d\n",
			FPT_SHMEM_ALLOC_SYM, ret);
		return ret;
	}
	fpt_shmem_alloc_folio_orig = (fpt_shmem_alloc_folio_t)start;
	ret = fpt_symbol_range(FPT_SHMEM_CALLER_SYM, &fpt_shmem_caller,
			       &fpt_shmem_caller_len);
	if (ret)
		pr_info("fpt: shared memory not covered: %s not found (inlined?): %d\n",
			FPT_SHMEM_CALLER_SYM, ret);
	return ret;
}
#endif /* FPT_HAVE_SHMEM_RESERVE */

/* ---- placement ------------------------------------------------------------ */

static noinline unsigned long
fpt_shmem_get_unmapped_area(struct file *file, unsigned long uaddr,
			    unsigned long len, unsigned long pgoff,
			    unsigned long flags)
{
	unsigned long align = len >= PMD_SIZE ? PMD_SIZE : FPT_RUN_SIZE;
	unsigned long off = (pgoff << PAGE_SHIFT) & (align - 1);
	unsigned long addr, ret;

	addr = fpt_get_unmapped_area(file, 0, len + align - PAGE_SIZE, pgoff,
				     flags);
	if (IS_ERR_VALUE(addr))		/* no room for the slack: as asked */
		return fpt_get_unmapped_area(file, uaddr, len, pgoff, flags);
	ret = round_up(addr - off, align) + off;
	if (ret < addr)
		ret += align;
	rcu_read_lock();
	fpt_policy_count(fpt_policy_of_mm(current->mm), FPT_C_SHMEM_ALIGNED, 1);
	rcu_read_unlock();
	return ret;
}
FPT_CHECK_PROTO(shmem_get_unmapped_area, fpt_shmem_get_unmapped_area);

/* shmem_get_unmapped_area(file, uaddr, len, pgoff, flags) */
static void notrace fpt_shmem_area_thunk(unsigned long ip,
					 unsigned long parent_ip,
					 struct ftrace_ops *ops,
					 struct ftrace_regs *fregs)
{
	unsigned long uaddr = fpt_fregs_arg(fregs, 1);
	unsigned long len = fpt_fregs_arg(fregs, 2);
	unsigned long flags = fpt_fregs_arg(fregs, 4);
	bool hit;

	if (uaddr || len < FPT_RUN_SIZE || (flags & MAP_FIXED) || !current->mm)
		return;
	preempt_disable_notrace();
	hit = fpt_shmem_policy(NULL);
	preempt_enable_notrace();
	if (hit)
		fpt_fregs_set_ip(fregs, (unsigned long)fpt_shmem_get_unmapped_area);
}

struct ftrace_ops fpt_shmem_area_ops = {
	.func	= fpt_shmem_area_thunk,
	.flags	= FPT_FTRACE_FLAGS,
};

#endif /* FPT_HAVE_SHMEM */
