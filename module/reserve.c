// SPDX-License-Identifier: GPL-2.0
/*
 * The reserve backend: 64 KB reservations, in the manner of FreeBSD's
 * vm_reserv.c, for kernels without multi-size THP (and for policies that
 * ask for it on kernels with).
 *
 * Shared memory where shmem allocates 4 KB pages only (6.1) is served from
 * the same reservations, keyed by (shmem object, window) instead of (mm,
 * address): see "shared memory" below and shmem.c.
 *
 * Life cycle of a reservation (struct fpt_resv), each transition counted:
 *
 *   create    The first write fault in an aligned 64 KB window of an
 *             opted-in private anonymous VMA, when the window lies inside the
 *             VMA and has no page mapped yet, allocates an aligned order-4
 *             block and splits it into 16 ordinary order-0 pages
 *             (split_page()).  The faulting address gets its page of the
 *             block; the other 15 are held by the reservation.
 *   populate  Each later fault in the window gets the matching page of the
 *             block.  Handed-out pages are ordinary pages: rmap, LRU, memcg,
 *             swap and migration treat them like any other.
 *   complete  When all 16 pages are handed out the window is one aligned,
 *             physically contiguous run; the reservation is dropped.
 *   break     munmap, mremap, MADV_DONTNEED of more than a page and exit
 *             (mmu notifier) free the pages not yet handed out; so do
 *             deleting the policy, turning it off or to another backend,
 *             fpt's global switch, and a fault in the window that the policy
 *             no longer covers (another cgroup, MADV_NOHUGEPAGE, mbind).
 *   reclaim   The shrinker breaks reservations under memory pressure, least
 *             recently used first (second chance); a reaper breaks those no
 *             fault has used for FPT_RESV_IDLE.
 *
 * Bounds.  The pages held unused are capped by max_unused_kb, and each
 * policy gets an equal share of the cap, so one cgroup cannot starve the
 * others.  They are accounted as reclaimable kernel memory
 * (NR_KERNEL_MISC_RECLAIMABLE: "KReclaimable" in /proc/meminfo).  Blocks are
 * of the movable migrate type but never from ZONE_MOVABLE: offlining a
 * movable memory block never meets a held page.
 *
 * Pages handed out are zeroed exactly once: the allocator zeroes the whole
 * block when init_on_alloc is on (Debian's default), else fpt zeroes each
 * page as it hands it out.  A held page that memory_failure() marked
 * poisoned pages).  Placement is the kernel's own mTHP's: a window's block
 * comes from where its first fault's 64 KB folio would (that thread's
 * policy and node), and later faults in the window take its pages as
 * they would map a folio already there; but a page is never handed out to
 * a thread that may not use its node (cpuset.mems, MPOL_BIND).
 *
 * Concurrency, without a global lock or atomic on the fault path:
 *   - a reservation is found by (mm, window) under RCU: the mm's fpt_mm in
 *     a hash table, the window in the fpt_mm's xarray;
 *   - rv->given is a bitmask changed atomically: a fault owns page i if it
 *     set bit i; whoever sets the last bit (a fault: complete; a break:
 *     xchg with all bits) owns the reservation's end of life: it unlinks
 *     it from the xarray and its policy's list and frees it (kfree_rcu);
 *   - each policy keeps its reservations on a list under its resv_lock and
 *     is kept alive by a reference per reservation;
 *   - counts of held pages are per-CPU counters.
 */
#include <linux/cpuset.h>
#include <linux/hashtable.h>
#include <linux/highmem.h>
#include <linux/memcontrol.h>
#include <linux/mempolicy.h>
#include <linux/mmu_notifier.h>
#include <linux/percpu_counter.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>
#include <linux/userfaultfd_k.h>
#include <linux/vmstat.h>
#include <linux/workqueue.h>
#include <linux/xarray.h>
#include "internal.h"

#define FPT_RUN_SHIFT		(PAGE_SHIFT + FPT_ORDER)
#define FPT_ALL_GIVEN		((unsigned long)GENMASK(FPT_NR_PAGES - 1, 0))
#define FPT_RESV_IDLE		(60 * HZ)	/* the reaper's idea of unused */
#define FPT_REAP_EVERY		(30 * HZ)

#define FPT_RECENT		8	/* reservations remembered per mm */
#define FPT_SPARSE_AFTER	4	/* empty ones in a row: brake */

/* Per-mm state: the mm's reservations and its mmu notifier. */
struct fpt_mm {
	struct mmu_notifier mn;
	struct mm_struct *mm;		/* mmgrab()bed until registered */
	struct xarray windows;		/* window index -> struct fpt_resv */
	struct hlist_node node;		/* fpt_mm_table */
	struct delayed_work reg_work;	/* registers mn, may sleep */
	unsigned int reg_tries;
	bool registered;
	/* the sparse toucher's brake (fpt_mm_sparse()) */
	struct fpt_resv __rcu *recent[FPT_RECENT]; /* the last made, by slot */
	unsigned int nr_made;		/* reservations made; next slot */
	struct rcu_head rcu;
};

struct fpt_resv {
	unsigned long given;		/* pages handed out, bit per page */
	struct page *page;		/* first page of the aligned block */
	struct fpt_policy *policy;	/* holds a reference */
	struct fpt_mm *fmm;
	unsigned long key;		/* window index in fmm->windows */
	const void *owner;		/* shmem object; NULL: private memory */
	unsigned long used;		/* jiffies of the last hand-out */
	struct list_head node;		/* policy->resv_list */
	struct list_head dead;		/* a breaker's private list */
	unsigned long unused;		/* a breaker's claim: pages to free */
	unsigned int slot;		/* in fmm->recent[] */
	struct task_struct *creator;	/* compared, never dereferenced */
	unsigned int streak;		/* creator's empty ones before it */
	unsigned int skips;		/* windows its creator left unreserved */
	bool zeroed;			/* the allocator zeroed the block */
	bool referenced;		/* used since the shrinker last looked */
	struct rcu_head rcu;
};

static DEFINE_SPINLOCK(fpt_mm_lock);
static DEFINE_HASHTABLE(fpt_mm_table, 8);
static struct kmem_cache *fpt_resv_cache;
static struct workqueue_struct *fpt_wq;
static struct shrinker *fpt_shrinker;
static bool fpt_dying;

static const struct mmu_notifier_ops fpt_mn_ops;
static void fpt_reap_fn(struct work_struct *work);
static DECLARE_DELAYED_WORK(fpt_reap_work, fpt_reap_fn);

/* ---- held-page accounting ------------------------------------------------ */

static void fpt_held_add(struct fpt_policy *p, struct page *page, long n)
{
	percpu_counter_add(&p->resv_held, n);
	mod_node_page_state(page_pgdat(page), NR_KERNEL_MISC_RECLAIMABLE, n);
}

/* Counter @c of a reservation of private memory, or of shared (@owner). */
static enum fpt_counter fpt_resv_c(const void *owner, enum fpt_counter c)
{
	if (!owner)
		return c;
	return c == FPT_C_FAULTS_64K ? FPT_C_SHMEM_FAULTS_64K :
	       c == FPT_C_RUNS ? FPT_C_SHMEM_RUNS : c;
}

/* Pages held unused by @p's reservations, or by all (@p NULL). */
long fpt_reserve_held(struct fpt_policy *p)
{
	return p ? percpu_counter_sum_positive(&p->resv_held) :
		   fpt_policy_held(true);
}

/* ---- end of life --------------------------------------------------------- */

/*
 * Take @rv's end of life: mark every page as given; the caller owns it
 * (and the pages in the returned mask) unless a fault or another breaker
 * got there first (returns 0: nothing to do).
 */
static unsigned long fpt_resv_claim(struct fpt_resv *rv)
{
	unsigned long old = xchg(&rv->given, FPT_ALL_GIVEN);

	return old == FPT_ALL_GIVEN ? 0 : ~old & FPT_ALL_GIVEN;
}

static void fpt_resv_free_rcu(struct rcu_head *rcu)
{
	kmem_cache_free(fpt_resv_cache, container_of(rcu, struct fpt_resv, rcu));
}

/*
 * Free the pages in @unused (held, never handed out) of a claimed
 * reservation already unlinked from its xarray and policy list.
 */
static void fpt_resv_free(struct fpt_resv *rv, unsigned long unused,
			  enum fpt_counter why)
{
	struct fpt_policy *p = rv->policy;
	long n = hweight_long(unused);
	int i;

	if (n)
		fpt_held_add(p, rv->page, -n);
	cmpxchg(&rv->fmm->recent[rv->slot], rv, NULL);
	for_each_set_bit(i, &unused, FPT_NR_PAGES)
		__free_page(rv->page + i);	/* keeps a poisoned page out */
	fpt_policy_count(p, why, 1);
	call_rcu(&rv->rcu, fpt_resv_free_rcu);
	fpt_policy_put(p);
}

static void fpt_resv_unlink_policy(struct fpt_resv *rv)
{
	struct fpt_policy *p = rv->policy;

	spin_lock(&p->resv_lock);
	list_del(&rv->node);
	spin_unlock(&p->resv_lock);
}

/* A claimed reservation, still linked: unlink it and free it. */
static void fpt_resv_end(struct fpt_resv *rv, unsigned long unused,
			 enum fpt_counter why)
{
	xa_cmpxchg(&rv->fmm->windows, rv->key, rv, NULL, 0);
	fpt_resv_unlink_policy(rv);
	fpt_resv_free(rv, unused, why);
}

/*
 * Break every reservation of @fmm with a key in [first, last] (of @owner
 * only, unless NULL).
 */
static void fpt_resv_break_keys(struct fpt_mm *fmm, unsigned long first,
				unsigned long last, const void *owner,
				enum fpt_counter why)
{
	struct fpt_resv *rv, *tmp;
	unsigned long idx, unused;
	LIST_HEAD(dead);

	xa_lock(&fmm->windows);
	xa_for_each_range(&fmm->windows, idx, rv, first, last) {
		if (owner && rv->owner != owner)
			continue;
		unused = fpt_resv_claim(rv);

		if (!unused)
			continue;	/* its end's owner unlinks it */
		rv->unused = unused;
		__xa_erase(&fmm->windows, idx);
		list_add(&rv->dead, &dead);
	}
	xa_unlock(&fmm->windows);
	list_for_each_entry_safe(rv, tmp, &dead, dead) {
		fpt_resv_unlink_policy(rv);
		fpt_resv_free(rv, rv->unused, why);
	}
}

/* Break every reservation of @fmm whose window meets [start, end). */
static void fpt_resv_break_range(struct fpt_mm *fmm, unsigned long start,
				 unsigned long end, enum fpt_counter why)
{
	if (end > start)
		fpt_resv_break_keys(fmm, start >> FPT_RUN_SHIFT,
				    (end - 1) >> FPT_RUN_SHIFT, NULL, why);
}

/*
 * Break @p's reservations: all of them (@idle 0), or those not used for
 * @idle jiffies; with @second_chance, those used since the last look move
 * to the tail instead; at most @nr pages.  With @dead, @p takes no new
 * ones.  Returns the pages freed.  Under RCU throughout: a reservation
 * claimed here may belong to an mm exiting meanwhile, whose fpt_mm is
 * freed after a grace period.
 */
static unsigned long fpt_resv_break_policy(struct fpt_policy *p, bool dead,
					   unsigned long idle, unsigned long nr,
					   bool second_chance,
					   enum fpt_counter why)
{
	struct fpt_resv *rv, *tmp;
	unsigned long freed = 0;
	LIST_HEAD(list);

	rcu_read_lock();
	spin_lock(&p->resv_lock);
	if (dead)
		p->resv_dead = true;
	list_for_each_entry_safe(rv, tmp, &p->resv_list, node) {
		unsigned long unused;

		if (freed >= nr)
			break;
		if (idle && time_before(jiffies, READ_ONCE(rv->used) + idle))
			continue;
		if (second_chance && READ_ONCE(rv->referenced)) {
			WRITE_ONCE(rv->referenced, false);
			list_move_tail(&rv->node, &p->resv_list);
			continue;
		}
		unused = fpt_resv_claim(rv);
		if (!unused)
			continue;	/* its owner unlinks it */
		rv->unused = unused;
		list_del(&rv->node);
		list_add(&rv->dead, &list);
		freed += hweight_long(rv->unused);
	}
	spin_unlock(&p->resv_lock);
	list_for_each_entry_safe(rv, tmp, &list, dead) {
		xa_cmpxchg(&rv->fmm->windows, rv->key, rv, NULL, 0);
		fpt_resv_free(rv, rv->unused, why);
	}
	rcu_read_unlock();
	return freed;
}

/* The policy is going, or no longer uses this backend: let go of it all. */
void fpt_reserve_policy_release(struct fpt_policy *p, bool dead)
{
	fpt_resv_break_policy(p, dead, 0, ULONG_MAX, false, FPT_C_RESV_BROKEN);
}

/* ---- per-mm state -------------------------------------------------------- */

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

/*
 * A fault in a window whose reservation its policy no longer covers (the
 * VMA was marked MADV_NOHUGEPAGE or given a NUMA policy since): the
 * reservation goes.  Under RCU.
 */
void fpt_reserve_drop(struct mm_struct *mm, unsigned long addr)
{
	struct fpt_mm *fmm = fpt_mm_lookup(mm);
	struct fpt_resv *rv;
	unsigned long unused;

	if (!fmm)
		return;
	rv = xa_load(&fmm->windows, addr >> FPT_RUN_SHIFT);
	unused = rv ? fpt_resv_claim(rv) : 0;
	if (unused)
		fpt_resv_end(rv, unused, FPT_C_RESV_BROKEN);
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
 * by munmap.  If registration fails (no memory), it is tried again later,
 * for as long as the mm lives; when the mm is gone, its reservations and
 * the fmm go here (no fault can use an fmm whose mm is dead).
 */
static void fpt_mm_register_work(struct work_struct *work)
{
	struct fpt_mm *fmm = container_of(to_delayed_work(work),
					  struct fpt_mm, reg_work);
	struct mm_struct *mm = fmm->mm;
	int ret;

	if (mmget_not_zero(mm)) {
		mmap_write_lock(mm);
		ret = __mmu_notifier_register(&fmm->mn, mm);
		mmap_write_unlock(mm);
		if (!ret) {
			WRITE_ONCE(fmm->registered, true);
			mmput(mm);	/* may run exit_mmap() and our ->release() */
			mmdrop(mm);	/* the notifier holds the mm now */
			return;
		}
		mmput(mm);
		if (!READ_ONCE(fpt_dying)) {
			fmm->reg_tries = min(fmm->reg_tries + 1, 6U);
			queue_delayed_work(fpt_wq, &fmm->reg_work,
					   HZ << fmm->reg_tries);
			return;
		}
	}
	if (fpt_mm_unhash(fmm)) {
		fpt_resv_break_range(fmm, 0, ULONG_MAX, FPT_C_RESV_BROKEN);
		fpt_mm_free_unregistered(fmm);
	}
}

/* The fmm of @mm, created if needed; NULL if none can be had. */
static struct fpt_mm *fpt_mm_get(struct mm_struct *mm)
{
	struct fpt_mm *fmm, *new;

	rcu_read_lock();
	fmm = fpt_mm_lookup(mm);
	rcu_read_unlock();
	if (fmm)
		return fmm;

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
	return fmm;
}

/* ---- the fault path ------------------------------------------------------ */

/*
 * May this thread use @page's node?  Its cpuset's nodes and, under
 * MPOL_BIND, its policy's.  The local node and MPOL_PREFERRED are
 * preferences the window's first fault applied, as for a 64 KB folio of
 * the kernel's own mTHP that other threads' accesses then share;
 * interleaving goes by 64 KB, as there.
 */
static bool fpt_node_ok(struct page *page)
{
	int nid = page_to_nid(page);
	struct mempolicy *pol;

	if (!node_isset(nid, cpuset_current_mems_allowed))
		return false;
	pol = current->mempolicy;
	return !pol || pol->mode != MPOL_BIND || node_isset(nid, pol->nodes);
}

/*
 * Hand out page @i of the reservation at @key, if there is one (RCU).
 * FPT_GONE: the window's reservation cannot serve this fault (page taken
 * by a racing fault, poisoned, wrong node, another policy, another shmem
 * object whose key is the same): *why says which, and the reservation is
 * broken where it is of no more use.
 */
static enum fpt_take fpt_resv_take(struct fpt_mm *fmm, const void *owner,
				   unsigned long key, unsigned int i,
				   struct fpt_policy *p, struct page **pagep,
				   bool *zero, enum fpt_counter *why)
{
	unsigned int last = (READ_ONCE(fmm->nr_made) - 1) % FPT_RECENT;
	struct fpt_resv *rv = rcu_dereference(fmm->recent[last]);
	struct page *page;
	unsigned long old;

	/* a dense toucher faults in the window it reserved last */
	if (!rv || rv->key != key)
		rv = xa_load(&fmm->windows, key);
	if (!rv)
		return FPT_NONE;
	if (unlikely(rv->owner != owner)) {
		*why = FPT_C_FB_RACE;
		return FPT_GONE;
	}
	page = rv->page + i;
	if (unlikely(rv->policy != p || PageHWPoison(page) ||
		     !fpt_node_ok(page))) {
		*why = rv->policy != p ? FPT_C_FB_MOVED :
		       PageHWPoison(page) ? FPT_C_FB_HWPOISON : FPT_C_FB_NODE;
		old = fpt_resv_claim(rv);
		if (old)
			fpt_resv_end(rv, old, FPT_C_RESV_BROKEN);
		return FPT_GONE;
	}
	old = atomic_long_fetch_or(BIT(i), (atomic_long_t *)&rv->given);
	if (old & BIT(i)) {
		*why = FPT_C_FB_RACE;
		return FPT_GONE;
	}
	WRITE_ONCE(rv->used, jiffies);
	if (!READ_ONCE(rv->referenced))
		WRITE_ONCE(rv->referenced, true);
	fpt_held_add(p, page, -1);
	fpt_policy_count(p, fpt_resv_c(owner, FPT_C_FAULTS_64K), 1);
	*pagep = page;
	*zero = !rv->zeroed;
	if ((old | BIT(i)) == FPT_ALL_GIVEN) {	/* complete: ours to end */
		fpt_policy_count(p, fpt_resv_c(owner, FPT_C_RUNS), 1);
		fpt_resv_end(rv, 0, FPT_C_RESV_COMPLETED);
	}
	return FPT_TAKEN;
}

/*
 * Is any page mapped in the 64 KB window at @base?  With @zero_ok, the zero
 * page (a read fault before the write) does not count: the reserve backend
 * serves each page on its own, the zero page's too (its CoW is a zeroed
 * order-0 allocation).  Without, any entry counts, as in the kernel's own
 * pte_range_none() check before it maps a large folio (which would find
 * the window taken and retry the fault).  A racy read: the caller holds
 * mmap_lock or the VMA lock, so the page table stays.
 */
bool fpt_window_populated(struct mm_struct *mm, unsigned long base,
			  bool zero_ok)
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

		if (pte_none(e) ||
		    (zero_ok && pte_present(e) && pte_special(e)))
			continue;
		ret = true;
		break;
	}
	rcu_read_unlock();
	return ret;
}

/* Would the memcg (and its ancestors) take @nr_pages more? */
bool fpt_memcg_has_room(struct mm_struct *mm, unsigned int nr_pages)
{
#ifdef CONFIG_MEMCG
	struct mem_cgroup *memcg = get_mem_cgroup_from_mm(mm);
	struct page_counter *c;
	bool ok = true;

	if (!memcg)
		return true;
	for (c = &memcg->memory; c; c = c->parent) {
		if (page_counter_read(c) + nr_pages > READ_ONCE(c->max)) {
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
 * Movable migrate type, but no __GFP_HIGHMEM: never ZONE_MOVABLE.
 */
static gfp_t fpt_block_gfp(bool defrag)
{
	gfp_t gfp = GFP_USER | __GFP_MOVABLE | __GFP_NOMEMALLOC | __GFP_NOWARN;

	return defrag ? gfp | __GFP_NORETRY : gfp & ~__GFP_RECLAIM;
}

/*
 * The sparse toucher's brake.  A reservation whose window gets no second
 * fault wastes 15 pages, zeroed by the allocator under init_on_alloc, for
 * the one it hands out.  So before a thread makes a reservation, it looks
 * at the last one it made in this mm (among the FPT_RECENT last made): if
 * that one still has only its first page, the thread touches sparsely.
 * After FPT_SPARSE_AFTER such in a row, its new windows get no reservation
 * (fallback_sparse) but for probes at exponentially growing intervals; a
 * probe whose window fills lifts the brake.  A dense toucher has filled its
 * last window before it makes the next reservation, however many threads
 * touch at once.  Under RCU.
 */
static bool fpt_mm_sparse(struct fpt_mm *fmm, unsigned int *streak,
			  unsigned int *skips)
{
	unsigned int n = READ_ONCE(fmm->nr_made), k;
	struct fpt_resv *prev = NULL, *rv;

	*streak = *skips = 0;
	for (k = 1; k <= FPT_RECENT && !prev; k++) {
		rv = rcu_dereference(fmm->recent[(n - k) % FPT_RECENT]);
		if (rv && rv->creator == current)
			prev = rv;
	}
	if (!prev || hweight_long(READ_ONCE(prev->given)) != 1)
		return false;
	*streak = prev->streak + 1;
	if (*streak < FPT_SPARSE_AFTER)
		return false;
	*skips = READ_ONCE(prev->skips) + 1;
	WRITE_ONCE(prev->skips, *skips);
	return *skips < 16 || !is_power_of_2(*skips);
}

/* Is there room under the cap, and this policy's share of it? */
static bool fpt_resv_room(struct fpt_policy *p)
{
	unsigned long cap = fpt_max_unused_pages();
	unsigned int n = max(1U, READ_ONCE(fpt_nr_reserve_policies));

	return fpt_policy_held(false) + FPT_NR_PAGES - 1 <= cap &&
	       percpu_counter_read_positive(&p->resv_held) + FPT_NR_PAGES - 1 <=
	       cap / n;
}

/*
 * Make a reservation for the window @key of @fmm (of @owner) for policy
 * @p (a reference the caller holds passes to the reservation) and take
 * page @i of it.  NULL with *why set, or with *why FPT_NR_COUNTERS when
 * another fault made one first (the caller takes from that one).
 */
static struct page *fpt_resv_create(struct fpt_mm *fmm, const void *owner,
				    unsigned long key,
				    unsigned int i, struct fpt_policy *p,
				    bool defrag, unsigned int streak,
				    unsigned int skips, bool *zero,
				    enum fpt_counter *why)
{
	gfp_t gfp = fpt_block_gfp(defrag);
	struct fpt_resv *rv;
	struct page *block;
	int err;

	if (!fpt_resv_room(p)) {
		*why = FPT_C_FB_CAP;
		return NULL;
	}
	rv = kmem_cache_alloc(fpt_resv_cache, GFP_KERNEL);
	if (!rv) {
		*why = FPT_C_FB_NOMEM;
		return NULL;
	}
	block = fpt_alloc_pages(gfp, FPT_ORDER);
	if (!block) {
		kmem_cache_free(fpt_resv_cache, rv);
		*why = FPT_C_FB_NO_BLOCK;
		return NULL;
	}
	split_page(block, FPT_ORDER);
	rv->given = BIT(i);
	rv->page = block;
	rv->policy = p;
	rv->fmm = fmm;
	rv->key = key;
	rv->owner = owner;
	rv->used = jiffies;
	rv->zeroed = want_init_on_alloc(gfp);
	rv->referenced = true;		/* its first page: a second chance */
	rv->slot = READ_ONCE(fmm->nr_made) % FPT_RECENT;
	rv->creator = current;
	rv->streak = streak;
	rv->skips = skips;
	INIT_LIST_HEAD(&rv->dead);

	/* a policy being removed or changed takes no new reservation */
	spin_lock(&p->resv_lock);
	err = -ESTALE;
	if (!p->resv_dead && READ_ONCE(p->mode) != FPT_MODE_OFF &&
	    READ_ONCE(p->backend_active) == FPT_BACKEND_RESERVE &&
	    !(owner && (READ_ONCE(p->flags) & FPT_F_NO_SHMEM)) &&
	    READ_ONCE(fpt_enabled))
		err = xa_insert(&fmm->windows, rv->key, rv,
				GFP_NOWAIT | __GFP_NOWARN);
	if (!err) {
		list_add_tail(&rv->node, &p->resv_list);
		fpt_held_add(p, block, FPT_NR_PAGES - 1);
		rcu_assign_pointer(fmm->recent[rv->slot], rv);
		WRITE_ONCE(fmm->nr_made, fmm->nr_made + 1);
	}
	spin_unlock(&p->resv_lock);
	if (err) {
		for (i = 0; i < FPT_NR_PAGES; i++)
			__free_page(block + i);
		kmem_cache_free(fpt_resv_cache, rv);
		*why = err == -EBUSY ? FPT_NR_COUNTERS :
		       err == -ESTALE ? FPT_C_FB_RACE : FPT_C_FB_NOMEM;
		return NULL;
	}
	fpt_policy_count(p, FPT_C_RESV_CREATED, 1);
	fpt_policy_count(p, fpt_resv_c(owner, FPT_C_FAULTS_64K), 1);
	*zero = !rv->zeroed;
	return block + i;
}

/*
 * No reservation was made, for @why: FPT_NR_COUNTERS when another fault
 * made one first, FPT_C_FB_POPULATED when the window looked populated
 * (that other fault may have mapped its page already); then page @i is
 * taken from that one.  Otherwise (or if that fails) the reason is
 * counted, as a reason of shared memory for @owner's.  The caller's
 * reference to @p is dropped.
 */
static struct page *fpt_resv_lost(struct fpt_mm *fmm, const void *owner,
				  unsigned long key, unsigned int i,
				  struct fpt_policy *p, bool *zero,
				  enum fpt_counter why)
{
	struct page *page = NULL;

	if (why == FPT_NR_COUNTERS || why == FPT_C_FB_POPULATED) {
		why = why == FPT_NR_COUNTERS ? FPT_C_FB_RACE : why;
		/* its reservation was inserted before its PTE was set */
		smp_rmb();
		rcu_read_lock();
		if (fpt_resv_take(fmm, owner, key, i, p, &page, zero, &why) !=
		    FPT_TAKEN)
			page = NULL;
		rcu_read_unlock();
	}
	if (!page)
		fpt_policy_count(p, owner ? fpt_reserve_obj_why(why) : why, 1);
	fpt_policy_put(p);
	return page;
}

/*
 * An order-0 zeroed allocation for a fault at @addr of a VMA that policy
 * @p covers.  Entered under rcu_read_lock() (which found @p), returns
 * without it.  Returns the page from the window's reservation, or NULL:
 * the caller then allocates an ordinary page, and the reason is counted
 * here.
 */
struct folio *fpt_reserve_fault(struct vm_area_struct *vma, unsigned long addr,
				struct fpt_policy *p, bool defrag)
	__releases(RCU)
{
	unsigned long base = addr & FPT_RUN_MASK, key = base >> FPT_RUN_SHIFT;
	unsigned int i = (addr - base) >> PAGE_SHIFT;
	struct mm_struct *mm = vma->vm_mm;
	enum fpt_counter why = FPT_C_FB_RACE;
	unsigned int streak = 0, skips = 0;
	struct page *page = NULL;
	struct fpt_mm *fmm;
	bool zero = false;

	if (userfaultfd_armed(vma)) {
		why = FPT_C_FB_UFFD;
		goto fallback;
	}
	if (vma_policy(vma)) {
		why = FPT_C_FB_MEMPOLICY;
		fpt_reserve_drop(mm, addr);	/* an mbind since */
		goto fallback;
	}
	fmm = fpt_mm_lookup(mm);
	if (fmm) {
		switch (fpt_resv_take(fmm, NULL, key, i, p, &page, &zero, &why)) {
		case FPT_TAKEN:
			rcu_read_unlock();
			goto out;
		case FPT_GONE:
			goto fallback;
		case FPT_NONE:
			break;
		}
	}

	/* no reservation in this window: make one */
	if (base < vma->vm_start || base + FPT_RUN_SIZE > vma->vm_end) {
		why = FPT_C_FB_VMA_RANGE;
		goto fallback;
	}
	if (fmm && fpt_mm_sparse(fmm, &streak, &skips)) {
		why = FPT_C_FB_SPARSE;
		goto fallback;
	}
	if (!refcount_inc_not_zero(&p->ref))
		goto fallback;		/* the policy is going */
	rcu_read_unlock();
	if (!fmm)
		fmm = fpt_mm_get(mm);
	if (!fmm)
		why = FPT_C_FB_NOMEM;
	else if (fpt_window_populated(mm, base, true))
		why = FPT_C_FB_POPULATED;
	else if (!fpt_memcg_has_room(mm, FPT_NR_PAGES))
		why = FPT_C_FB_CHARGE;
	else
		page = fpt_resv_create(fmm, NULL, key, i, p, defrag, streak,
				       skips, &zero, &why);
	if (page)
		goto out;		/* the reference went to the reservation */
	page = fpt_resv_lost(fmm, NULL, key, i, p, &zero, why);
	if (page)
		goto out;
	return NULL;

fallback:
	fpt_policy_count(p, why, 1);
	rcu_read_unlock();
	return NULL;
out:
	if (zero)
		clear_user_highpage(page, addr);
	return page_folio(page);
}

/* ---- shared memory: windows of shmem objects ---------------------------- */

/*
 * The reservations of shmem objects (shmem.c) are those above with another
 * key: one fpt_mm for all objects, its xarray keyed by (object, window) as
 * shmem.c makes the key, the object kept in rv->owner (compared, never
 * dereferenced: a reservation of another object under the same key is a
 * fallback, not a page).  Each belongs to the policy of the task that made
 * it, on that policy's list: cap, shrinker, reaper, policy removal and
 * module removal treat them like the others.  No mmu notifier: an object
 * outlives its mappings; shmem.c releases an object's reservations when
 * the object dies.
 */
static struct fpt_mm fpt_shmem_fmm = {
	.windows = XARRAY_INIT(fpt_shmem_fmm.windows, 0),
};

/* The shared memory counter of a reason for a 4 KB page. */
enum fpt_counter fpt_reserve_obj_why(enum fpt_counter why)
{
	switch (why) {
	case FPT_C_FB_NO_BLOCK:
	case FPT_C_FB_NOMEM:
		return FPT_C_SHMEM_FB_NO_BLOCK;
	case FPT_C_FB_CAP:
		return FPT_C_SHMEM_FB_CAP;
	case FPT_C_FB_SPARSE:
		return FPT_C_SHMEM_FB_SPARSE;
	case FPT_C_FB_RACE:
	case FPT_C_FB_MOVED:
	case FPT_C_FB_HWPOISON:
	case FPT_C_FB_NODE:
		return FPT_C_SHMEM_FB_RESV;
	default:
		return why;
	}
}

/* Take page @i of @owner's reservation @key for @p (RCU). */
enum fpt_take fpt_reserve_obj_take(const void *owner, unsigned long key,
				   unsigned int i, struct fpt_policy *p,
				   struct page **pagep, enum fpt_counter *why)
{
	bool zero;

	return fpt_resv_take(&fpt_shmem_fmm, owner, key, i, p, pagep, &zero,
			     why);
}

/*
 * Make a reservation for @owner's window @key for @p and take its page
 * @i.  Entered under rcu_read_lock() (which found @p), returns without;
 * may sleep.  NULL: the reason is counted.  The page is not zeroed: shmem
 * zeroes what it adds to an object (not uptodate) itself.
 */
struct page *fpt_reserve_obj_create(const void *owner, unsigned long key,
				    unsigned int i, struct fpt_policy *p,
				    bool defrag)
	__releases(RCU)
{
	struct fpt_mm *fmm = &fpt_shmem_fmm;
	enum fpt_counter why = FPT_C_FB_RACE;
	unsigned int streak, skips;
	struct page *page;
	bool zero;

	if (fpt_mm_sparse(fmm, &streak, &skips)) {
		why = FPT_C_FB_SPARSE;
		goto fallback;
	}
	if (!refcount_inc_not_zero(&p->ref))
		goto fallback;		/* the policy is going */
	rcu_read_unlock();
	page = fpt_resv_create(fmm, owner, key, i, p, defrag, streak, skips,
			       &zero, &why);
	if (page)
		return page;	/* the reference went to the reservation */
	return fpt_resv_lost(fmm, owner, key, i, p, &zero, why);

fallback:
	fpt_policy_count(p, fpt_reserve_obj_why(why), 1);
	rcu_read_unlock();
	return NULL;
}

/* @owner is gone: its reservations with keys in [first, last] go. */
void fpt_reserve_obj_release(const void *owner, unsigned long first,
			     unsigned long last)
{
	rcu_read_lock();
	fpt_resv_break_keys(&fpt_shmem_fmm, first, last, owner,
			    FPT_C_RESV_BROKEN);
	rcu_read_unlock();
}

/* ---- mmu notifier: windows that go away ---------------------------------- */

static int fpt_mn_invalidate_range_start(struct mmu_notifier *mn,
					 const struct mmu_notifier_range *range)
{
	struct fpt_mm *fmm = container_of(mn, struct fpt_mm, mn);

	/*
	 * munmap and mremap unmap; MADV_DONTNEED and zapping clear.  A
	 * single-page CLEAR is a page being replaced (CoW of the zero page,
	 * KSM): the window stays, so does its reservation.  Spinlocks only:
	 * this may be called where blocking is not allowed.
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

/* ---- reclaim ------------------------------------------------------------- */

/*
 * Break reservations policy by policy, least recently created first,
 * skipping (once) those used since the last pass: until @nr pages are
 * freed.  @idle: only those not used for that long.
 */
static unsigned long fpt_resv_reclaim(unsigned long nr, unsigned long idle,
				      enum fpt_counter why)
{
	unsigned long freed = 0;
	struct fpt_policy *p;
	int pass;

	for (pass = 0; pass < 2 && freed < nr; pass++) {
		unsigned long n = 0;

		while (freed < nr && (p = fpt_policy_get_nth(n++))) {
			/* exact: the batched read says 0 for a last few pages */
			if (percpu_counter_sum_positive(&p->resv_held))
				freed += fpt_resv_break_policy(p, false, idle,
							       nr - freed,
							       !idle, why);
			fpt_policy_put(p);
		}
	}
	return freed;
}

static unsigned long fpt_shrink_count(struct shrinker *s,
				      struct shrink_control *sc)
{
	long n = fpt_policy_held(true);	/* exact: a few held pages count */

	return n > 0 ? n : SHRINK_EMPTY;
}

static unsigned long fpt_shrink_scan(struct shrinker *s,
				     struct shrink_control *sc)
{
	unsigned long freed = fpt_resv_reclaim(sc->nr_to_scan, 0,
					       FPT_C_RESV_RECLAIMED);

	return freed ? freed : SHRINK_STOP;
}

/* Reservations no fault has used for a minute are given back. */
static void fpt_reap_fn(struct work_struct *work)
{
	/*
	 * The exact sum: the batched read misses pages held in per-CPU
	 * parts (up to a batch per CPU and policy), and would leave idle
	 * reservations held until memory pressure.  Every FPT_REAP_EVERY.
	 */
	if (fpt_policy_held(true))
		fpt_resv_reclaim(ULONG_MAX, FPT_RESV_IDLE, FPT_C_RESV_RECLAIMED);
	if (!READ_ONCE(fpt_dying))
		queue_delayed_work(fpt_wq, &fpt_reap_work, FPT_REAP_EVERY);
}

int fpt_reserve_init(void)
{
	fpt_resv_cache = KMEM_CACHE(fpt_resv, 0);
	if (!fpt_resv_cache)
		return -ENOMEM;
	fpt_wq = alloc_workqueue("fpt", WQ_UNBOUND | WQ_MEM_RECLAIM, 0);
	if (!fpt_wq)
		goto err_cache;
	fpt_shrinker = fpt_shrinker_create(fpt_shrink_count, fpt_shrink_scan,
					   "fpt-reserve");
	if (!fpt_shrinker)
		goto err_wq;
	queue_delayed_work(fpt_wq, &fpt_reap_work, FPT_REAP_EVERY);
	return 0;

err_wq:
	destroy_workqueue(fpt_wq);
err_cache:
	kmem_cache_destroy(fpt_resv_cache);
	return -ENOMEM;
}

/*
 * Called after the allocation hook is gone and before the policies go:
 * nothing creates reservations any more.
 */
void fpt_reserve_exit(void)
{
	struct fpt_mm *fmm;
	int bkt;

	WRITE_ONCE(fpt_dying, true);	/* no retries, no new fmm */
	cancel_delayed_work_sync(&fpt_reap_work);
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
	rcu_read_lock();
	fpt_resv_break_keys(&fpt_shmem_fmm, 0, ULONG_MAX, NULL,
			    FPT_C_RESV_BROKEN);
	rcu_read_unlock();
	destroy_workqueue(fpt_wq);
	/* ->free_notifier() is module code */
	mmu_notifier_synchronize();
	fpt_shrinker_destroy(fpt_shrinker);
	rcu_barrier();		/* fpt_resv_free_rcu(), kfree_rcu() */
	kmem_cache_destroy(fpt_resv_cache);
	if (fpt_policy_held(true))
		pr_err("fpt: %ld reserved pages not given back\n",
		       fpt_policy_held(true));
}
