// SPDX-License-Identifier: GPL-2.0
/*
 * The reserve backend: 64 KB reservations, in the manner of FreeBSD's
 * vm_reserv.c, for kernels without multi-size THP (and for policies that
 * ask for it on kernels with).
 *
 * Life cycle of a reservation (struct fpt_resv), each transition counted:
 *
 *   create    The first write fault in an aligned 64 KB window of an
 *             opted-in private anonymous VMA, when the window lies inside the
 *             VMA and has no page mapped yet, allocates an aligned order-4
 *             block and splits it into 16 ordinary order-0 pages
 *             (split_page()).  The faulting address gets its page of the
 *             block; the other 15 are held by the reservation, uncharged.
 *   populate  Each later fault in the window gets the matching page of the
 *             block, zeroed as it is handed out.  Handed-out pages are
 *             ordinary pages: rmap, LRU, memcg, swap and migration treat
 *             them like any other.
 *   complete  When all 16 pages are handed out the window is one aligned,
 *             physically contiguous run; the reservation is dropped.
 *   break     munmap, mremap, MADV_DONTNEED of more than a page, and exit
 *             (mmu notifier) free the pages not yet handed out.
 *   reclaim   Under memory pressure the shrinker breaks reservations,
 *             least recently used first.
 *
 * The pages held unused are bounded by max_unused_kb (module parameter);
 * past it, new windows fall back to 4 KB pages (counted).
 *
 * Locking: a reservation lives in its mm's xarray and in the global LRU.
 * fmm->windows' xa_lock guards the mm's reservations; fpt_lru_lock (taken
 * inside it) guards the LRU.  The shrinker, which walks the LRU first, only
 * trylocks an xa_lock.  fpt_mm_lock guards the table of mms.
 */
#include <linux/hashtable.h>
#include <linux/highmem.h>
#include <linux/memcontrol.h>
#include <linux/mempolicy.h>
#include <linux/mmu_notifier.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>
#include <linux/userfaultfd_k.h>
#include <linux/workqueue.h>
#include <linux/xarray.h>
#include "internal.h"

#define FPT_RUN_SHIFT		(PAGE_SHIFT + FPT_ORDER)
#define FPT_REGISTER_TRIES	8

/* Per-mm state: the mm's reservations and its mmu notifier. */
struct fpt_mm {
	struct mmu_notifier mn;
	struct mm_struct *mm;		/* mmgrab()bed until registered */
	struct xarray windows;		/* window index -> struct fpt_resv */
	struct hlist_node node;		/* fpt_mm_table */
	struct delayed_work reg_work;	/* registers mn, may sleep */
	unsigned int reg_tries;
	bool registered;
	bool failed;			/* gave up registering: no reservations */
	struct rcu_head rcu;
};

struct fpt_resv {
	struct list_head lru;		/* fpt_resv_lru, least recently used first */
	struct fpt_mm *fmm;
	unsigned long base;		/* virtual address of the window */
	struct page *page;		/* first page of the aligned block */
	u64 cgid;			/* policy cgroup, for the counters */
	u16 given;			/* pages handed out, bit per page */
};

static DEFINE_SPINLOCK(fpt_mm_lock);
static DEFINE_HASHTABLE(fpt_mm_table, 8);
static DEFINE_SPINLOCK(fpt_lru_lock);
static LIST_HEAD(fpt_resv_lru);
static atomic_long_t fpt_unused = ATOMIC_LONG_INIT(0);
static struct workqueue_struct *fpt_wq;
static struct shrinker *fpt_shrinker;
static bool fpt_dying;

static const struct mmu_notifier_ops fpt_mn_ops;

/* Give back the pages of @rv never handed out; @rv is off every list. */
static void fpt_resv_free(struct fpt_resv *rv, enum fpt_counter why)
{
	long n = 0;
	int i;

	for (i = 0; i < FPT_NR_PAGES; i++) {
		if (!(rv->given & BIT(i))) {
			__free_page(rv->page + i);
			n++;
		}
	}
	atomic_long_sub(n, &fpt_unused);
	rcu_read_lock();
	{
		struct fpt_policy *p = fpt_policy_find(rv->cgid);

		fpt_policy_count(p, FPT_C_RESV_UNUSED_PAGES, -n);
		fpt_policy_count(p, why, 1);
	}
	rcu_read_unlock();
	kfree(rv);
}

static void fpt_resv_free_list(struct list_head *list, enum fpt_counter why)
{
	struct fpt_resv *rv, *tmp;

	list_for_each_entry_safe(rv, tmp, list, lru)
		fpt_resv_free(rv, why);
}

/* Break every reservation of @fmm whose window meets [start, end). */
static void fpt_resv_break_range(struct fpt_mm *fmm, unsigned long start,
				 unsigned long end, enum fpt_counter why)
{
	struct fpt_resv *rv;
	unsigned long idx;
	LIST_HEAD(dead);

	if (end <= start)
		return;
	xa_lock(&fmm->windows);
	xa_for_each_range(&fmm->windows, idx, rv, start >> FPT_RUN_SHIFT,
			  (end - 1) >> FPT_RUN_SHIFT) {
		__xa_erase(&fmm->windows, idx);
		spin_lock(&fpt_lru_lock);
		list_move(&rv->lru, &dead);
		spin_unlock(&fpt_lru_lock);
	}
	xa_unlock(&fmm->windows);
	fpt_resv_free_list(&dead, why);
}

/*
 * Take @fmm out of the table; the caller that gets true owns its end of
 * life (exit, failed registration or module removal, whichever is first).
 */
static bool fpt_mm_unhash(struct fpt_mm *fmm)
{
	bool owner;

	spin_lock(&fpt_mm_lock);
	owner = !hlist_unhashed(&fmm->node);
	if (owner)
		hash_del_rcu(&fmm->node);
	spin_unlock(&fpt_mm_lock);
	return owner;
}

static struct fpt_mm *fpt_mm_lookup(struct mm_struct *mm)
{
	struct fpt_mm *fmm;

	hash_for_each_possible_rcu(fpt_mm_table, fmm, node, (unsigned long)mm,
				   lockdep_is_held(&fpt_mm_lock))
		if (fmm->mm == mm)
			return fmm;
	return NULL;
}

/* Free an fmm that never got (or gave up on) its notifier. */
static void fpt_mm_free_unregistered(struct fpt_mm *fmm)
{
	mmdrop(fmm->mm);
	kfree_rcu(fmm, rcu);
}

/*
 * Register the mmu notifier.  It needs mmap_lock for writing, which the
 * fault that created the fmm holds for reading, hence the work item.
 * Reservations made before it runs are correct, only not yet broken early
 * by munmap; if the mm dies first, they go here.
 */
static void fpt_mm_register_work(struct work_struct *work)
{
	struct fpt_mm *fmm = container_of(to_delayed_work(work),
					  struct fpt_mm, reg_work);
	struct mm_struct *mm = fmm->mm;
	int ret;

	if (!mmget_not_zero(mm)) {
		if (fpt_mm_unhash(fmm)) {
			fpt_resv_break_range(fmm, 0, ULONG_MAX, FPT_C_RESV_BROKEN);
			fpt_mm_free_unregistered(fmm);
		}
		return;
	}
	mmap_write_lock(mm);
	ret = __mmu_notifier_register(&fmm->mn, mm);
	mmap_write_unlock(mm);
	if (!ret) {
		WRITE_ONCE(fmm->registered, true);
		mmput(mm);	/* may run exit_mmap() and our ->release() */
		mmdrop(mm);	/* the notifier holds the mm now */
		return;
	}
	if (++fmm->reg_tries < FPT_REGISTER_TRIES && !READ_ONCE(fpt_dying)) {
		queue_delayed_work(fpt_wq, &fmm->reg_work, HZ);
	} else {
		/* no reservations for this mm; freed at module exit */
		WRITE_ONCE(fmm->failed, true);
		fpt_resv_break_range(fmm, 0, ULONG_MAX, FPT_C_RESV_BROKEN);
	}
	mmput(mm);
}

/* The fmm of @mm, created if needed; NULL if none can be had. */
static struct fpt_mm *fpt_mm_get(struct mm_struct *mm)
{
	struct fpt_mm *fmm, *new;

	rcu_read_lock();
	fmm = fpt_mm_lookup(mm);
	rcu_read_unlock();
	if (fmm)
		goto out;

	new = kzalloc(sizeof(*new), GFP_KERNEL);
	if (!new)
		return NULL;
	new->mn.ops = &fpt_mn_ops;
	new->mm = mm;
	xa_init(&new->windows);
	INIT_DELAYED_WORK(&new->reg_work, fpt_mm_register_work);
	mmgrab(mm);

	spin_lock(&fpt_mm_lock);
	fmm = fpt_mm_lookup(mm);
	if (!fmm && !fpt_dying) {
		hash_add_rcu(fpt_mm_table, &new->node, (unsigned long)mm);
		queue_delayed_work(fpt_wq, &new->reg_work, 0);
		fmm = new;
		new = NULL;
	}
	spin_unlock(&fpt_mm_lock);
	if (new) {
		mmdrop(mm);
		kfree(new);
	}
out:
	return fmm && !READ_ONCE(fmm->failed) ? fmm : NULL;
}

/*
 * Hand out page @i of the reservation at @key, if there is one.
 * Returns the page, or NULL with *why set when the page was already handed
 * out, or NULL with *why == FPT_NR_COUNTERS when there is no reservation.
 */
static struct page *fpt_resv_take(struct fpt_mm *fmm, unsigned long key,
				  unsigned int i, u64 *cgid,
				  enum fpt_counter *why)
{
	struct fpt_resv *rv;
	struct page *page = NULL;
	bool complete = false;

	*why = FPT_NR_COUNTERS;
	xa_lock(&fmm->windows);
	rv = xa_load(&fmm->windows, key);
	if (rv) {
		if (rv->given & BIT(i)) {
			*why = FPT_C_FB_RACE;
		} else {
			rv->given |= BIT(i);
			page = rv->page + i;
			*cgid = rv->cgid;
			complete = rv->given == (u16)GENMASK(FPT_NR_PAGES - 1, 0);
			if (complete)
				__xa_erase(&fmm->windows, key);
			spin_lock(&fpt_lru_lock);
			if (complete)
				list_del(&rv->lru);
			else
				list_move_tail(&rv->lru, &fpt_resv_lru);
			spin_unlock(&fpt_lru_lock);
			atomic_long_dec(&fpt_unused);
		}
	}
	xa_unlock(&fmm->windows);

	if (page) {
		rcu_read_lock();
		{
			struct fpt_policy *p = fpt_policy_find(*cgid);

			fpt_policy_count(p, FPT_C_FAULTS_64K, 1);
			fpt_policy_count(p, FPT_C_RESV_UNUSED_PAGES, -1);
			if (complete) {
				fpt_policy_count(p, FPT_C_RESV_COMPLETED, 1);
				fpt_policy_count(p, FPT_C_RUNS, 1);
			}
		}
		rcu_read_unlock();
		if (complete)
			kfree(rv);
	}
	return page;
}

/*
 * Is any page mapped in the 64 KB window at @base?  The zero page (a read
 * fault before the write) does not count.  A racy read, like the kernel's
 * own pte_range_none() check before it allocates a large folio: the caller
 * holds mmap_lock or the VMA lock, so the page table stays.
 */
bool fpt_window_populated(struct mm_struct *mm, unsigned long base)
{
	pgd_t *pgd;
	p4d_t *p4d;
	pud_t *pud;
	pmd_t pmdval;
	pte_t *pte;
	bool ret = false;
	int i;

	pgd = pgd_offset(mm, base);
	if (pgd_none(READ_ONCE(*pgd)))
		return false;
	p4d = p4d_offset(pgd, base);
	if (p4d_none(READ_ONCE(*p4d)))
		return false;
	pud = pud_offset(p4d, base);
	if (pud_none(READ_ONCE(*pud)))
		return false;
	if (pud_bad(READ_ONCE(*pud)))
		return true;
	pmdval = READ_ONCE(*pmd_offset(pud, base));
	if (pmd_none(pmdval))
		return false;
	if (!pmd_present(pmdval) || pmd_trans_huge(pmdval) || pmd_bad(pmdval))
		return true;

	rcu_read_lock();
	pte = pte_offset_kernel(&pmdval, base);
	for (i = 0; i < FPT_NR_PAGES; i++) {
		pte_t e = ptep_get(pte + i);

		if (pte_none(e) || (pte_present(e) && pte_special(e)))
			continue;
		ret = true;
		break;
	}
	rcu_read_unlock();
	return ret;
}

/* Would the memcg (and its ancestors) take a whole 64 KB block? */
bool fpt_memcg_has_room(struct mm_struct *mm)
{
#ifdef CONFIG_MEMCG
	struct mem_cgroup *memcg = get_mem_cgroup_from_mm(mm);
	struct page_counter *c;
	bool ok = true;

	if (!memcg)
		return true;
	for (c = &memcg->memory; c; c = c->parent) {
		if (page_counter_read(c) + FPT_NR_PAGES > READ_ONCE(c->max)) {
			ok = false;
			break;
		}
	}
	css_put(&memcg->css);
	return ok;
#else
	return true;
#endif
}

/*
 * The block is speculative, like a THP: it never dips into the reserves
 * (__GFP_NOMEMALLOC; without it, an allocation that may not reclaim is
 * treated as atomic, takes ALLOC_NON_BLOCK and eats the min watermark).
 * defrag: one round of direct compaction/reclaim; else no reclaim at all.
 */
static gfp_t fpt_block_gfp(bool defrag)
{
	gfp_t gfp = GFP_HIGHUSER_MOVABLE | __GFP_NOMEMALLOC | __GFP_NOWARN;

	return defrag ? gfp | __GFP_NORETRY : gfp & ~__GFP_RECLAIM;
}

/* Make a reservation for the window at @base and take page @i of it. */
static struct page *fpt_resv_create(struct fpt_mm *fmm, unsigned long base,
				    unsigned int i, u64 cgid, bool defrag,
				    enum fpt_counter *why)
{
	unsigned long key = base >> FPT_RUN_SHIFT;
	struct fpt_resv *rv;
	struct page *block;
	int err;

	if (atomic_long_read(&fpt_unused) + FPT_NR_PAGES - 1 >
	    fpt_max_unused_pages()) {
		*why = FPT_C_FB_CAP;
		return NULL;
	}
	rv = kmalloc(sizeof(*rv), GFP_KERNEL);
	if (!rv) {
		*why = FPT_C_FB_NOMEM;
		return NULL;
	}
	block = alloc_pages(fpt_block_gfp(defrag), FPT_ORDER);
	if (!block) {
		kfree(rv);
		*why = FPT_C_FB_NO_BLOCK;
		return NULL;
	}
	split_page(block, FPT_ORDER);
	rv->fmm = fmm;
	rv->base = base;
	rv->page = block;
	rv->cgid = cgid;
	rv->given = BIT(i);

	xa_lock(&fmm->windows);
	err = xa_err(__xa_cmpxchg(&fmm->windows, key, NULL, rv, GFP_NOWAIT));
	if (!err && xa_load(&fmm->windows, key) != rv)
		err = -EEXIST;	/* another thread made one first */
	if (!err) {
		spin_lock(&fpt_lru_lock);
		list_add_tail(&rv->lru, &fpt_resv_lru);
		spin_unlock(&fpt_lru_lock);
		atomic_long_add(FPT_NR_PAGES - 1, &fpt_unused);
	}
	xa_unlock(&fmm->windows);
	if (err) {
		for (i = 0; i < FPT_NR_PAGES; i++)
			__free_page(block + i);
		kfree(rv);
		*why = err == -EEXIST ? FPT_C_FB_RACE : FPT_C_FB_NOMEM;
		return NULL;
	}
	rcu_read_lock();
	{
		struct fpt_policy *p = fpt_policy_find(cgid);

		fpt_policy_count(p, FPT_C_RESV_CREATED, 1);
		fpt_policy_count(p, FPT_C_RESV_UNUSED_PAGES, FPT_NR_PAGES - 1);
		fpt_policy_count(p, FPT_C_FAULTS_64K, 1);
	}
	rcu_read_unlock();
	return block + i;
}

/*
 * An order-0 zeroed allocation for a fault at @addr of an opted-in VMA.
 * Returns the page from the window's reservation, or NULL: the caller then
 * allocates an ordinary page, and the reason is counted here.
 */
struct folio *fpt_reserve_fault(struct vm_area_struct *vma, unsigned long addr,
				u64 cgid, bool defrag)
{
	unsigned long base = addr & FPT_RUN_MASK;
	unsigned int i = (addr - base) >> PAGE_SHIFT;
	struct mm_struct *mm = vma->vm_mm;
	enum fpt_counter why;
	struct fpt_mm *fmm;
	struct page *page;

	if (userfaultfd_armed(vma)) {
		why = FPT_C_FB_UFFD;
		goto fallback;
	}
	if (vma_policy(vma)) {
		why = FPT_C_FB_MEMPOLICY;
		goto fallback;
	}
	fmm = fpt_mm_get(mm);
	if (!fmm) {
		why = FPT_C_FB_NOMEM;
		goto fallback;
	}
	page = fpt_resv_take(fmm, base >> FPT_RUN_SHIFT, i, &cgid, &why);
	if (page)
		goto out;
	if (why != FPT_NR_COUNTERS)
		goto fallback;

	if (base < vma->vm_start || base + FPT_RUN_SIZE > vma->vm_end) {
		why = FPT_C_FB_VMA_RANGE;
		goto fallback;
	}
	if (fpt_window_populated(mm, base)) {
		why = FPT_C_FB_POPULATED;
		goto fallback;
	}
	if (!fpt_memcg_has_room(mm)) {
		why = FPT_C_FB_CHARGE;
		goto fallback;
	}
	page = fpt_resv_create(fmm, base, i, cgid, defrag, &why);
	if (!page)
		goto fallback;
out:
	/* the caller asked for __GFP_ZERO; the block was not zeroed */
	clear_user_highpage(page, addr);
	return page_folio(page);
fallback:
	fpt_count(cgid, why, 1);
	return NULL;
}

/* mmu notifier: break reservations whose window goes away. */
static int fpt_mn_invalidate_range_start(struct mmu_notifier *mn,
					 const struct mmu_notifier_range *range)
{
	struct fpt_mm *fmm = container_of(mn, struct fpt_mm, mn);

	/*
	 * munmap and mremap unmap; MADV_DONTNEED and zapping clear.  A
	 * single-page CLEAR is a page being replaced (CoW of the zero page,
	 * KSM): the window stays, so does its reservation.
	 */
	if (range->event == MMU_NOTIFY_UNMAP ||
	    (range->event == MMU_NOTIFY_CLEAR &&
	     range->end - range->start > PAGE_SIZE))
		fpt_resv_break_range(fmm, range->start, range->end,
				     FPT_C_RESV_BROKEN);
	return 0;
}

static void fpt_mn_release(struct mmu_notifier *mn, struct mm_struct *mm)
{
	struct fpt_mm *fmm = container_of(mn, struct fpt_mm, mn);

	if (fpt_mm_unhash(fmm)) {
		fpt_resv_break_range(fmm, 0, ULONG_MAX, FPT_C_RESV_BROKEN);
		mmu_notifier_put(mn);
	}
}

static void fpt_mn_free_notifier(struct mmu_notifier *mn)
{
	struct fpt_mm *fmm = container_of(mn, struct fpt_mm, mn);

	kfree_rcu(fmm, rcu);
}

static const struct mmu_notifier_ops fpt_mn_ops = {
	.release		= fpt_mn_release,
	.invalidate_range_start	= fpt_mn_invalidate_range_start,
	.free_notifier		= fpt_mn_free_notifier,
};

/* Shrinker: give back held pages, least recently used reservation first. */
static unsigned long fpt_shrink_count(struct shrinker *s,
				      struct shrink_control *sc)
{
	long n = atomic_long_read(&fpt_unused);

	return n > 0 ? n : SHRINK_EMPTY;
}

static unsigned long fpt_shrink_scan(struct shrinker *s,
				     struct shrink_control *sc)
{
	struct fpt_resv *rv, *tmp;
	unsigned long freed = 0;
	LIST_HEAD(dead);

	spin_lock(&fpt_lru_lock);
	list_for_each_entry_safe(rv, tmp, &fpt_resv_lru, lru) {
		if (freed >= sc->nr_to_scan)
			break;
		/* lock order is xa_lock -> fpt_lru_lock: only try */
		if (!xa_trylock(&rv->fmm->windows))
			continue;
		__xa_erase(&rv->fmm->windows, rv->base >> FPT_RUN_SHIFT);
		xa_unlock(&rv->fmm->windows);
		list_move(&rv->lru, &dead);
		freed += FPT_NR_PAGES - hweight16(rv->given);
	}
	spin_unlock(&fpt_lru_lock);
	fpt_resv_free_list(&dead, FPT_C_RESV_RECLAIMED);
	return freed ? freed : SHRINK_STOP;
}

int fpt_reserve_init(void)
{
	fpt_wq = alloc_workqueue("fpt", WQ_UNBOUND | WQ_MEM_RECLAIM, 0);
	if (!fpt_wq)
		return -ENOMEM;
	fpt_shrinker = fpt_shrinker_create(fpt_shrink_count, fpt_shrink_scan,
					   "fpt-reserve");
	if (!fpt_shrinker) {
		destroy_workqueue(fpt_wq);
		return -ENOMEM;
	}
	return 0;
}

/* Called after the allocation hook is gone: nothing creates reservations. */
void fpt_reserve_exit(void)
{
	struct fpt_mm *fmm;
	int bkt;

	WRITE_ONCE(fpt_dying, true);	/* no retries, no new fmm */
	for (;;) {
		spin_lock(&fpt_mm_lock);
		fmm = NULL;
		hash_for_each(fpt_mm_table, bkt, fmm, node)
			break;
		if (fmm)
			hash_del_rcu(&fmm->node);
		spin_unlock(&fpt_mm_lock);
		if (!fmm)
			break;
		/* a registration under way finishes first */
		cancel_delayed_work_sync(&fmm->reg_work);
		fpt_resv_break_range(fmm, 0, ULONG_MAX, FPT_C_RESV_BROKEN);
		if (READ_ONCE(fmm->registered))
			mmu_notifier_put(&fmm->mn);
		else
			fpt_mm_free_unregistered(fmm);
	}
	destroy_workqueue(fpt_wq);
	/* ->free_notifier() is module code */
	mmu_notifier_synchronize();
	fpt_shrinker_destroy(fpt_shrinker);
	if (atomic_long_read(&fpt_unused))
		pr_err("fpt: %ld reserved pages not given back\n",
		       atomic_long_read(&fpt_unused));
}
