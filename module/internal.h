/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _FPT_INTERNAL_H
#define _FPT_INTERNAL_H

#include <linux/types.h>
#include <linux/rcupdate.h>
#include <linux/percpu.h>
#include <linux/mm.h>
#include <uapi/linux/fpt.h>
#include "compat.h"

#define FPT_ORDER	4			/* 16 x 4 KB */
#define FPT_NR_PAGES	(1U << FPT_ORDER)
#define FPT_RUN_SIZE	(PAGE_SIZE << FPT_ORDER)
#define FPT_RUN_MASK	(~(FPT_RUN_SIZE - 1))

struct fpt_stats {
	u64 c[FPT_NR_COUNTERS];
};

/*
 * A policy, one per cgroup that has one.  Looked up under RCU in the fault
 * path; the mutable fields are single bytes read with READ_ONCE, so a
 * POLICY_SET on an existing policy updates it in place (its counters go on).
 */
struct fpt_policy {
	struct hlist_node node;
	u64 cgid;
	u8 mode;		/* enum fpt_mode */
	u8 defrag;
	u8 backend;		/* as requested, enum fpt_backend */
	u8 backend_active;	/* resolved: FOLIO or RESERVE */
	u32 flags;		/* FPT_F_* */
	char *path;		/* as seen when the policy was set */
	struct fpt_stats __percpu *stats;
	struct rcu_head rcu;
};

/* main.c */
extern bool fpt_enabled;
extern unsigned int fpt_backends;	/* 1 << enum fpt_backend, supported */
unsigned long fpt_max_unused_pages(void);

/* policy.c */
int fpt_policy_init(void);
void fpt_policy_exit(void);
struct fpt_policy *fpt_policy_find(u64 cgid);
struct fpt_policy *fpt_policy_of_mm(struct mm_struct *mm);
bool fpt_policy_wants_vma(const struct fpt_policy *p,
			  struct vm_area_struct *vma, unsigned long vm_flags);
int fpt_policy_set(u64 cgid, const char *path, u8 mode, u8 defrag,
		   u8 backend, u32 flags);
int fpt_policy_del(u64 cgid);
void fpt_policy_del_all(void);
unsigned int fpt_nr_policies(void);
void fpt_count(u64 cgid, enum fpt_counter c, long n);
void fpt_policy_count(struct fpt_policy *p, enum fpt_counter c, long n);
void fpt_stats_sum(const struct fpt_policy *p, u64 *out);
u8 fpt_backend_resolve(u8 backend);

/*
 * Iterate policies under the policy mutex (netlink dumps, /proc/fpt).
 * fpt_policy_nth() returns the n-th policy in hash order, or NULL.
 */
void fpt_policy_lock(void);
void fpt_policy_unlock(void);
struct fpt_policy *fpt_policy_nth(unsigned long n);

/* netlink.c */
int fpt_netlink_init(void);
void fpt_netlink_exit(void);
void fpt_netlink_notify(u8 cmd, const struct fpt_policy *p);

/* sysfs.c: /sys/kernel/fpt and /proc/fpt */
int fpt_sysfs_init(void);
void fpt_sysfs_exit(void);
int fpt_cgroup_path(u64 cgid, char *buf, size_t len);

/* main.c: hooks are armed only while an enabled policy exists */
int fpt_arm_update(void);

/* hook.c: the allocation hook shared by both backends */
int fpt_hook_arm(void);
void fpt_hook_disarm(void);
void fpt_hook_exit(void);

/* reserve.c */
int fpt_reserve_init(void);
void fpt_reserve_exit(void);
struct folio *fpt_reserve_fault(struct vm_area_struct *vma,
				unsigned long addr, u64 cgid, bool defrag);
bool fpt_window_populated(struct mm_struct *mm, unsigned long base);
bool fpt_memcg_has_room(struct mm_struct *mm);

/* folio.c: the folio backend's probes (mTHP kernels), the 2 MB gate (older) */
int fpt_folio_arm(void);
void fpt_folio_disarm(void);
gfp_t fpt_folio_gfp(gfp_t gfp, bool defrag);
void fpt_folio_refresh(void);

#endif /* _FPT_INTERNAL_H */
