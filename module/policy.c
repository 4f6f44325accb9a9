// SPDX-License-Identifier: GPL-2.0
/*
 * Policies by cgroup id, and the counters that go with them.
 *
 * Readers (the fault path) look policies up under RCU with no lock; writers
 * (netlink) serialise on fpt_policy_mutex.  A process is governed by the
 * policy of its cgroup or of the nearest ancestor that has one.
 */
#include <linux/cgroup.h>
#include <linux/hashtable.h>
#include <linux/sched/coredump.h>
#include <linux/slab.h>
#include "internal.h"

static DEFINE_HASHTABLE(fpt_policies, 6);
static DEFINE_MUTEX(fpt_policy_mutex);
static unsigned int fpt_nr;		/* policies in the table */
static DEFINE_PER_CPU(struct fpt_stats, fpt_global_stats);

struct fpt_policy *fpt_policy_find(u64 cgid)
{
	struct fpt_policy *p;

	hash_for_each_possible_rcu(fpt_policies, p, node, cgid,
				   lockdep_is_held(&fpt_policy_mutex))
		if (p->cgid == cgid)
			return p;
	return NULL;
}

/* Caller holds rcu_read_lock(). */
struct fpt_policy *fpt_policy_of_mm(struct mm_struct *mm)
{
	struct task_struct *task = current;
	struct fpt_policy *p;
	struct cgroup *cgrp;

	if (!READ_ONCE(fpt_nr) || !READ_ONCE(fpt_enabled) || !mm)
		return NULL;
	/* khugepaged, GUP from another process: judge the mm's owner */
	if (mm != current->mm) {
#ifdef CONFIG_MEMCG
		task = rcu_dereference(mm->owner);
		if (!task)
			return NULL;
#else
		return NULL;
#endif
	}
	for (cgrp = task_dfl_cgroup(task); cgrp; cgrp = cgroup_parent(cgrp)) {
		p = fpt_policy_find(cgroup_id(cgrp));
		if (p)
			return p;
	}
	return NULL;
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
}

unsigned int fpt_nr_policies(void)
{
	return READ_ONCE(fpt_nr);
}

static void fpt_policy_free_rcu(struct rcu_head *rcu)
{
	struct fpt_policy *p = container_of(rcu, struct fpt_policy, rcu);

	free_percpu(p->stats);
	kfree(p->path);
	kfree(p);
}

int fpt_policy_set(u64 cgid, const char *path, u8 mode, u8 defrag,
		   u8 backend, u32 flags)
{
	struct fpt_policy *p;

	mutex_lock(&fpt_policy_mutex);
	p = fpt_policy_find(cgid);
	if (!p) {
		p = kzalloc(sizeof(*p), GFP_KERNEL);
		if (!p)
			goto nomem;
		p->stats = alloc_percpu(struct fpt_stats);
		p->path = kstrdup(path ? path : "", GFP_KERNEL);
		if (!p->stats || !p->path) {
			free_percpu(p->stats);
			kfree(p->path);
			kfree(p);
			goto nomem;
		}
		p->cgid = cgid;
	}
	WRITE_ONCE(p->mode, mode);
	WRITE_ONCE(p->defrag, defrag);
	WRITE_ONCE(p->backend, backend);
	WRITE_ONCE(p->backend_active, fpt_backend_resolve(backend));
	WRITE_ONCE(p->flags, flags);
	if (hlist_unhashed(&p->node)) {
		hash_add_rcu(fpt_policies, &p->node, cgid);
		WRITE_ONCE(fpt_nr, fpt_nr + 1);
	}
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
	fpt_netlink_notify(FPT_CMD_POLICY_DELETED, p);
	call_rcu(&p->rcu, fpt_policy_free_rcu);
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
