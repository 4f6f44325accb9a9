/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The policy lookup of the fault path, inline: the hook callback runs it for
 * every first-touch fault of every process while fpt is armed.
 *
 * It costs one hash probe per hierarchy depth that holds a policy, not one
 * per ancestor: fpt_level_mask has bit L set while some policy sits at depth
 * L, and a cgroup's ancestor at depth L is cgrp->ancestors[L].  A process
 * outside every policy, with all policies at one depth (the usual case:
 * services or slices opted in), pays a single probe that misses.
 *
 * Callers hold rcu_read_lock() or have preemption disabled (an RCU
 * read-side section since the flavours were consolidated); policies are
 * freed with call_rcu().
 */
#ifndef _FPT_LOOKUP_H
#define _FPT_LOOKUP_H

#include <linux/cgroup.h>
#include <linux/hashtable.h>
#include "internal.h"

#define FPT_DEEP_LEVEL	63	/* bit 63 of the mask: every depth >= 63 */

extern struct hlist_head fpt_policies[1 << FPT_POLICY_HASH_BITS];
extern u64 fpt_level_mask;	/* 0 while disabled or without policies */

static __always_inline struct fpt_policy *__fpt_policy_find(u64 cgid)
{
	struct fpt_policy *p;

	hlist_for_each_entry_rcu_notrace(p, &fpt_policies[hash_min(cgid, FPT_POLICY_HASH_BITS)],
					 node)
		if (p->cgid == cgid)
			return p;
	return NULL;
}

static __always_inline struct fpt_policy *
__fpt_policy_of_cgroup(struct cgroup *cgrp, u64 mask)
{
	int level = cgrp->level;
	struct fpt_policy *p;
	int l;

	if (unlikely(level >= FPT_DEEP_LEVEL)) {
		if (mask & BIT_ULL(FPT_DEEP_LEVEL))
			for (l = level; l >= FPT_DEEP_LEVEL; l--) {
				p = __fpt_policy_find(cgroup_id(cgrp->ancestors[l]));
				if (p)
					return p;
			}
		mask &= ~BIT_ULL(FPT_DEEP_LEVEL);
	} else {
		mask &= GENMASK_ULL(level, 0);
	}
	while (mask) {
		l = __fls(mask);
		p = __fpt_policy_find(cgroup_id(cgrp->ancestors[l]));
		if (p)
			return p;
		mask &= ~BIT_ULL(l);
	}
	return NULL;
}

/*
 * The policy governing @mm: that of the faulting task's cgroup when @mm is
 * the current task's, else that of the mm's owner (khugepaged, GUP from
 * another process), whose memcg is charged.
 */
static __always_inline struct fpt_policy *__fpt_policy_of_mm(struct mm_struct *mm)
{
	u64 mask = READ_ONCE(fpt_level_mask);
	struct task_struct *task = current;

	if (!mask)
		return NULL;
	if (unlikely(mm != task->mm)) {
#ifdef CONFIG_MEMCG
		task = mm ? rcu_dereference_raw(mm->owner) : NULL;
		if (!task)
			return NULL;
#else
		return NULL;
#endif
	}
	return __fpt_policy_of_cgroup(rcu_dereference_raw(task->cgroups)->dfl_cgrp,
				      mask);
}

#endif /* _FPT_LOOKUP_H */
