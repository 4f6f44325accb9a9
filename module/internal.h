/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _FPT_INTERNAL_H
#define _FPT_INTERNAL_H

#include <linux/types.h>
#include <linux/rcupdate.h>
#include <linux/percpu.h>
#include <linux/mm.h>
#include <linux/percpu_counter.h>
#include <linux/refcount.h>
#include <uapi/linux/fpt.h>
#include "compat.h"

#define FPT_ORDER	4			/* 16 x 4 KB */
#define FPT_NR_PAGES	(1U << FPT_ORDER)
#define FPT_RUN_SIZE	(PAGE_SIZE << FPT_ORDER)
#define FPT_RUN_MASK	(~(FPT_RUN_SIZE - 1))
#define FPT_POLICY_HASH_BITS	6

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
	unsigned int level;	/* depth of the cgroup in the hierarchy */
	u8 mode;		/* enum fpt_mode */
	u8 defrag;
	u8 backend;		/* as requested, enum fpt_backend */
	u8 backend_active;	/* resolved: FOLIO or RESERVE */
	u32 flags;		/* FPT_F_* */
	char *path;		/* as seen when the policy was set */
	struct fpt_stats __percpu *stats;
	refcount_t ref;		/* the table's, and one per reservation */
	/* reserve backend: this policy's reservations (reserve.c) */
	spinlock_t resv_lock;
	struct list_head resv_list;	/* oldest first */
	bool resv_dead;		/* removed: takes no new reservation */
	struct percpu_counter resv_held; /* pages held unused */
	struct rcu_head rcu;
};

/* What the enabled policies need hooked (fpt_hook_want). */
#define FPT_WANT_FOLIO		BIT(0)	/* a policy uses the folio backend */
#define FPT_WANT_RESERVE	BIT(1)	/* a policy uses the reserve backend */
#define FPT_WANT_PMD_GATE	BIT(2)	/* a policy has FPT_F_NO_PMD_THP */
#define FPT_WANT_SHMEM		BIT(3)	/* a policy covers shared memory */
#define FPT_WANT_ALLOC		(FPT_WANT_FOLIO | FPT_WANT_RESERVE)

/* main.c */
extern bool fpt_enabled;
extern unsigned int fpt_backends;	/* 1 << enum fpt_backend, supported */
unsigned long fpt_max_unused_pages(void);

/* policy.c */
extern unsigned int fpt_hook_want;	/* FPT_WANT_*, 0 while disabled */
int fpt_policy_init(void);
void fpt_policy_exit(void);
struct fpt_policy *fpt_policy_find(u64 cgid);
struct fpt_policy *fpt_policy_of_mm(struct mm_struct *mm);
bool fpt_policy_wants_vma(const struct fpt_policy *p,
			  struct vm_area_struct *vma, unsigned long vm_flags);
int fpt_policy_set(u64 cgid, unsigned int level, const char *path, u8 mode,
		   u8 defrag, u8 backend, u32 flags);
int fpt_policy_del(u64 cgid);
void fpt_policy_del_all(void);
void fpt_policy_enable(bool on);
void fpt_policy_put(struct fpt_policy *p);
struct fpt_policy *fpt_policy_get_nth(unsigned long n);
long fpt_policy_held(bool exact);
extern unsigned int fpt_nr_reserve_policies;
unsigned int fpt_policy_want(u8 mode, u8 backend_active, u32 flags);
unsigned int fpt_policy_want_all(void);
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

/* hook.c: the hook layer, armed only while an enabled policy needs it */
int fpt_hook_init(void);
void fpt_hook_exit(void);
int fpt_hook_prepare(unsigned int need);
void fpt_hook_done(void);
bool fpt_hook_from_anon_fault(unsigned long ip);

/* reserve.c */
int fpt_reserve_init(void);
void fpt_reserve_exit(void);
struct folio *fpt_reserve_fault(struct vm_area_struct *vma, unsigned long addr,
				struct fpt_policy *p, bool defrag);
void fpt_reserve_policy_release(struct fpt_policy *p, bool dead);
void fpt_reserve_drop(struct mm_struct *mm, unsigned long addr);
long fpt_reserve_held(struct fpt_policy *p);
bool fpt_window_populated(struct mm_struct *mm, unsigned long base,
			  bool zero_ok);
bool fpt_memcg_has_room(struct mm_struct *mm, unsigned int nr_pages);

/*
 * Reservations of shared memory (shmem.c, where shmem allocates order-0
 * pages only): windows of shmem objects, keyed by (object, window).
 */
enum fpt_take { FPT_TAKEN, FPT_NONE, FPT_GONE };
enum fpt_take fpt_reserve_obj_take(const void *owner, unsigned long key,
				   unsigned int i, struct fpt_policy *p,
				   struct page **pagep, enum fpt_counter *why);
struct page *fpt_reserve_obj_create(const void *owner, unsigned long key,
				    unsigned int i, struct fpt_policy *p,
				    bool defrag);
enum fpt_counter fpt_reserve_obj_why(enum fpt_counter why);
void fpt_reserve_obj_release(const void *owner, unsigned long first,
			     unsigned long last);

/* hook.c, for shmem.c */
struct srcu_struct;
extern struct srcu_struct fpt_hook_srcu;
int fpt_symbol_range(const char *sym, unsigned long *start,
		     unsigned long *len);

/*
 * shmem.c: shared memory.  What this kernel allows (FPT_FEAT_*) is known
 * at load: fpt_features, set by fpt_hook_init().
 */
extern unsigned int fpt_features;
#ifdef FPT_HAVE_SHMEM
extern struct ftrace_ops fpt_shmem_alloc_ops, fpt_shmem_area_ops;
int fpt_shmem_init(void);
#endif
#ifdef FPT_HAVE_SHMEM_RESERVE
extern struct ftrace_ops fpt_shmem_evict_ops;
#endif

/* folio.c: the folio backend (mTHP kernels) */
struct folio *fpt_folio_fault(gfp_t gfp, int order, struct vm_area_struct *vma,
			      unsigned long addr, u64 cgid, bool defrag);

#endif /* _FPT_INTERNAL_H */
