// SPDX-License-Identifier: GPL-2.0
/*
 * Policies by cgroup id, and the counters that go with them.
 *
 * Readers (the fault path) look policies up under RCU with no lock; writers
 * (netlink, sysfs) serialise on fpt_policy_mutex.  A process is governed by
 * the policy of its cgroup or of the nearest ancestor that has one.
 *
 * The lookup (lookup.h) costs one hash probe per hierarchy depth that holds
 * a policy, not one per ancestor.
 */
#include <linux/cgroup.h>
#include <linux/hashtable.h>
#include <linux/sched/coredump.h>
#include <linux/slab.h>
#include "internal.h"
#include "lookup.h"

DEFINE_HASHTABLE(fpt_policies, FPT_POLICY_HASH_BITS);
static DEFINE_MUTEX(fpt_policy_mutex);
static unsigned int fpt_nr;		/* policies in the table */
static unsigned int fpt_level_nr[FPT_DEEP_LEVEL + 1];
u64 fpt_level_mask;			/* published: 0 while disabled */
unsigned int fpt_hook_want;		/* published: 0 while disabled */
unsigned int fpt_nr_reserve_policies;	/* enabled reserve-backend ones */
static DEFINE_PER_CPU(struct fpt_stats, fpt_global_stats);

struct fpt_policy *fpt_policy_find(u64 cgid)
{
	return __fpt_policy_find(cgid);
}

struct fpt_policy *fpt_policy_of_mm(struct mm_struct *mm)
{
	return __fpt_policy_of_mm(mm);
}

/*
 * Does policy @p ask for 64 KB runs in @vma (with @flags)?  Never overrides
 * the process's own refusals (MADV_NOHUGEPAGE, PR_SET_THP_DISABLE).
 */
bool fpt_policy_wants_vma(const struct fpt_policy *p,
			  struct vm_area_struct *vma, unsigned long flags)
{
	u8 mode = READ_ONCE(p->mode);

	if (mode == FPT_MODE_OFF)
		return false;
	if (!vma_is_anonymous(vma) || (flags & (VM_SHARED | VM_NOHUGEPAGE)))
		return false;
	if (test_bit(MMF_DISABLE_THP, &vma->vm_mm->flags))
		return false;
	if (mode == FPT_MODE_MADVISE && !(flags & VM_HUGEPAGE))
		return false;
	return true;
}

u8 fpt_backend_resolve(u8 backend)
{
	if (backend != FPT_BACKEND_AUTO)
		return backend;
	return (fpt_backends & BIT(FPT_BACKEND_FOLIO)) ? FPT_BACKEND_FOLIO :
							  FPT_BACKEND_RESERVE;
}

void fpt_policy_count(struct fpt_policy *p, enum fpt_counter c, long n)
{
	this_cpu_add(fpt_global_stats.c[c], n);
	if (p)
		this_cpu_add(p->stats->c[c], n);
}

/* Count an event for the policy of cgroup @cgid (0: global only). */
void fpt_count(u64 cgid, enum fpt_counter c, long n)
{
	rcu_read_lock();
	fpt_policy_count(cgid ? fpt_policy_find(cgid) : NULL, c, n);
	rcu_read_unlock();
}

/* @p NULL: the global counters. */
void fpt_stats_sum(const struct fpt_policy *p, u64 *out)
{
	int cpu, i;

	memset(out, 0, sizeof(u64) * FPT_NR_COUNTERS);
	for_each_possible_cpu(cpu) {
		const struct fpt_stats *s = p ? per_cpu_ptr(p->stats, cpu) :
					  per_cpu_ptr(&fpt_global_stats, cpu);

		for (i = 0; i < FPT_NR_COUNTERS; i++)
			out[i] += READ_ONCE(s->c[i]);
	}
	/* a gauge, kept in a per-CPU counter of its own (reserve.c) */
	out[FPT_C_RESV_UNUSED_PAGES] = fpt_reserve_held((struct fpt_policy *)p);
}

unsigned int fpt_nr_policies(void)
{
	return READ_ONCE(fpt_nr);
}

/*
 * Publish what the fault path looks at: the depths holding policies, and
 * which hooks the enabled policies need.  Both read 0 while fpt is
 * disabled, so a disabled fpt answers "no policy" at once.
 */
/* The hooks (FPT_WANT_*) a policy with these settings needs. */
unsigned int fpt_policy_want(u8 mode, u8 backend_active, u32 flags)
{
	unsigned int want;

	if (mode == FPT_MODE_OFF)
		return 0;
	want = backend_active == FPT_BACKEND_FOLIO ? FPT_WANT_FOLIO :
						     FPT_WANT_RESERVE;
	if (flags & FPT_F_NO_PMD_THP)
		want |= FPT_WANT_PMD_GATE;
	if ((fpt_features & FPT_FEAT_SHMEM) && !(flags & FPT_F_NO_SHMEM))
		want |= FPT_WANT_SHMEM;
	return want;
}

static unsigned int fpt_policy_want_locked(void)
{
	unsigned int want = 0;
	struct fpt_policy *p;
	int bkt;

	lockdep_assert_held(&fpt_policy_mutex);
	hash_for_each(fpt_policies, bkt, p, node)
		want |= fpt_policy_want(p->mode, p->backend_active, p->flags);
	return want;
}

/* What the policies need while enabled (whether enabled or not). */
unsigned int fpt_policy_want_all(void)
{
	unsigned int want;

	mutex_lock(&fpt_policy_mutex);
	want = fpt_policy_want_locked();
	mutex_unlock(&fpt_policy_mutex);
	return want;
}

static void fpt_policy_publish(void)
{
	unsigned int want = fpt_policy_want_locked(), nr_reserve = 0;
	struct fpt_policy *p;
	u64 mask = 0;
	int bkt, l;

	hash_for_each(fpt_policies, bkt, p, node)
		if (fpt_policy_want(p->mode, p->backend_active, 0) &
		    FPT_WANT_RESERVE)
			nr_reserve++;
	WRITE_ONCE(fpt_nr_reserve_policies, nr_reserve);

	for (l = 0; l <= FPT_DEEP_LEVEL; l++)
		if (fpt_level_nr[l])
			mask |= BIT_ULL(l);
	if (!READ_ONCE(fpt_enabled))
		mask = want = 0;
	WRITE_ONCE(fpt_level_mask, mask);
	WRITE_ONCE(fpt_hook_want, want);
}

static void fpt_level_account(unsigned int level, int n)
{
	fpt_level_nr[min_t(unsigned int, level, FPT_DEEP_LEVEL)] += n;
}

/* fpt's global switch; off gives back every reservation. */
void fpt_policy_enable(bool on)
{
	struct fpt_policy *p;
	int bkt;

	mutex_lock(&fpt_policy_mutex);
	WRITE_ONCE(fpt_enabled, on);
	fpt_policy_publish();
	if (!on)
		hash_for_each(fpt_policies, bkt, p, node)
			fpt_reserve_policy_release(p, false);
	mutex_unlock(&fpt_policy_mutex);
}

static void fpt_policy_free_rcu(struct rcu_head *rcu)
{
	struct fpt_policy *p = container_of(rcu, struct fpt_policy, rcu);

	percpu_counter_destroy(&p->resv_held);
	free_percpu(p->stats);
	kfree(p->path);
	kfree(p);
}

/* The table holds a reference, and each reservation one. */
void fpt_policy_put(struct fpt_policy *p)
{
	if (refcount_dec_and_test(&p->ref))
		call_rcu(&p->rcu, fpt_policy_free_rcu);
}

/*
 * Pages held by every policy's reservations: exact, or a cheap estimate
 * (per-CPU counters not summed).
 */
long fpt_policy_held(bool exact)
{
	struct fpt_policy *p;
	long n = 0;
	int bkt;

	rcu_read_lock();
	hash_for_each_rcu(fpt_policies, bkt, p, node)
		n += exact ? percpu_counter_sum_positive(&p->resv_held) :
			     percpu_counter_read_positive(&p->resv_held);
	rcu_read_unlock();
	return n;
}

/*
 * The @n-th policy in the table, with a reference, or NULL (the shrinker
 * and the reaper walk them without the policy mutex).
 */
struct fpt_policy *fpt_policy_get_nth(unsigned long n)
{
	struct fpt_policy *p;
	int bkt;

	rcu_read_lock();
	hash_for_each_rcu(fpt_policies, bkt, p, node) {
		if (n--)
			continue;
		if (!refcount_inc_not_zero(&p->ref))
			continue;
		rcu_read_unlock();
		return p;
	}
	rcu_read_unlock();
	return NULL;
}

int fpt_policy_set(u64 cgid, unsigned int level, const char *path, u8 mode,
		   u8 defrag, u8 backend, u32 flags)
{
	u8 backend_active = fpt_backend_resolve(backend);
	struct fpt_policy *p;
	bool release;

	mutex_lock(&fpt_policy_mutex);
	p = fpt_policy_find(cgid);
	if (!p) {
		p = kzalloc(sizeof(*p), GFP_KERNEL);
		if (!p)
			goto nomem;
		p->stats = alloc_percpu(struct fpt_stats);
		p->path = kstrdup(path ? path : "", GFP_KERNEL);
		if (!p->stats || !p->path ||
		    percpu_counter_init(&p->resv_held, 0, GFP_KERNEL)) {
			free_percpu(p->stats);
			kfree(p->path);
			kfree(p);
			goto nomem;
		}
		p->cgid = cgid;
		p->level = level;
		refcount_set(&p->ref, 1);
		spin_lock_init(&p->resv_lock);
		INIT_LIST_HEAD(&p->resv_list);
	}
	/*
	 * off, or no longer the reserve backend, or no longer shared memory
	 * (whose reservations live only while its hooks are armed, shmem.c):
	 * its reservations go
	 */
	release = p->backend_active == FPT_BACKEND_RESERVE &&
		  (mode == FPT_MODE_OFF || backend_active != FPT_BACKEND_RESERVE ||
		   (flags & ~p->flags & FPT_F_NO_SHMEM));
	WRITE_ONCE(p->mode, mode);
	WRITE_ONCE(p->defrag, defrag);
	WRITE_ONCE(p->backend, backend);
	WRITE_ONCE(p->backend_active, backend_active);
	WRITE_ONCE(p->flags, flags);
	if (hlist_unhashed(&p->node)) {
		hash_add_rcu(fpt_policies, &p->node, cgid);
		WRITE_ONCE(fpt_nr, fpt_nr + 1);
		fpt_level_account(p->level, 1);
	}
	fpt_policy_publish();
	if (release)
		fpt_reserve_policy_release(p, false);
	fpt_netlink_notify(FPT_CMD_POLICY_NEW, p);
	mutex_unlock(&fpt_policy_mutex);
	return 0;
nomem:
	mutex_unlock(&fpt_policy_mutex);
	return -ENOMEM;
}

static void fpt_policy_unlink(struct fpt_policy *p)
{
	lockdep_assert_held(&fpt_policy_mutex);
	hash_del_rcu(&p->node);
	WRITE_ONCE(fpt_nr, fpt_nr - 1);
	fpt_level_account(p->level, -1);
	fpt_policy_publish();
	fpt_reserve_policy_release(p, true);
	fpt_netlink_notify(FPT_CMD_POLICY_DELETED, p);
	fpt_policy_put(p);
}

int fpt_policy_del(u64 cgid)
{
	struct fpt_policy *p;
	int ret = -ENOENT;

	mutex_lock(&fpt_policy_mutex);
	p = fpt_policy_find(cgid);
	if (p) {
		fpt_policy_unlink(p);
		ret = 0;
	}
	mutex_unlock(&fpt_policy_mutex);
	return ret;
}

void fpt_policy_del_all(void)
{
	struct hlist_node *tmp;
	struct fpt_policy *p;
	int bkt;

	mutex_lock(&fpt_policy_mutex);
	hash_for_each_safe(fpt_policies, bkt, tmp, p, node)
		fpt_policy_unlink(p);
	mutex_unlock(&fpt_policy_mutex);
}

void fpt_policy_lock(void)
{
	mutex_lock(&fpt_policy_mutex);
}

void fpt_policy_unlock(void)
{
	mutex_unlock(&fpt_policy_mutex);
}

struct fpt_policy *fpt_policy_nth(unsigned long n)
{
	struct fpt_policy *p;
	int bkt;

	lockdep_assert_held(&fpt_policy_mutex);
	hash_for_each(fpt_policies, bkt, p, node)
		if (!n--)
			return p;
	return NULL;
}

int fpt_policy_init(void)
{
	return 0;
}

void fpt_policy_exit(void)
{
	fpt_policy_del_all();
	rcu_barrier();		/* fpt_policy_free_rcu() is module code */
}
