/* SPDX-License-Identifier: ((GPL-2.0 WITH Linux-syscall-note) OR MIT) */
/*
 * fpt: 64 KB contiguous anonymous memory for opted-in cgroups.
 *
 * This header is shared by the kernel module (fpt.ko) and user space
 * (fptd, fptctl, tests).
 *
 * Generic netlink family FPT_GENL_NAME, version FPT_GENL_VERSION.
 * Every attribute is validated strictly: unknown attributes, unknown flag
 * bits and out-of-range values are refused with an extack message.
 * Commands that change state need CAP_NET_ADMIN.
 *
 * A cgroup (cgroup v2, the default hierarchy) is named by one of
 *   FPT_A_CGROUP_ID    u64     the cgroup id (the inode number of its
 *                              directory under the cgroup2 mount)
 *   FPT_A_CGROUP_PATH  string  its path relative to the cgroup2 root of the
 *                              initial cgroup namespace ("db", "/db/x");
 *                              resolved to an id by the kernel.
 * If both are given they must name the same cgroup.
 *
 * FPT_CMD_POLICY_SET (CAP_NET_ADMIN)
 *   request: cgroup, FPT_A_POLICY nest with
 *     FPT_P_MODE     u8   enum fpt_mode (required)
 *     FPT_P_DEFRAG   u8   0: fall back at once if no free 64 KB block,
 *                         1: may compact/reclaim to find one (default 0)
 *     FPT_P_BACKEND  u8   enum fpt_backend (default FPT_BACKEND_AUTO)
 *     FPT_P_FLAGS    u32  FPT_F_* bits (default 0)
 *   Creates or replaces the policy of that cgroup.  A policy applies to the
 *   cgroup and all its descendants; the nearest ancestor with a policy wins.
 *   Announced to the FPT_GENL_MCGRP_POLICY group as FPT_CMD_POLICY_NEW.
 *
 * FPT_CMD_POLICY_DEL (CAP_NET_ADMIN)
 *   request: cgroup.  Removes that cgroup's policy (ENOENT if none).
 *   Announced as FPT_CMD_POLICY_DELETED.  FPT_A_ALL instead of a cgroup
 *   removes every policy.
 *
 * FPT_CMD_POLICY_GET
 *   doit request: cgroup; reply: FPT_A_CGROUP_ID, FPT_A_CGROUP_PATH (if the
 *   cgroup still exists), FPT_A_POLICY (with FPT_P_BACKEND_ACTIVE: the
 *   backend actually used), FPT_A_STATS.
 *   dumpit: one such message per policy.
 *
 * FPT_CMD_STATS_GET
 *   doit without cgroup: global counters: FPT_A_GLOBAL, FPT_A_STATS,
 *   FPT_A_ENABLED (u8), FPT_A_BACKENDS (u32 mask of 1 << enum fpt_backend
 *   this kernel supports), FPT_A_NR_POLICIES (u32), FPT_A_FEATURES (u32,
 *   FPT_FEAT_*).
 *   doit with cgroup: the counters of the policy that governs the cgroup
 *   (its own or its nearest ancestor's), tagged with that policy's cgroup.
 *   dumpit: like POLICY_GET's dump.
 *
 * FPT_A_STATS nest: one u64 per counter, attribute type FPT_S_FIRST + the
 * counter's index in FPT_COUNTERS below (padding attribute FPT_S_PAD).
 */
#ifndef _UAPI_LINUX_FPT_H
#define _UAPI_LINUX_FPT_H

#define FPT_GENL_NAME		"fpt"
#define FPT_GENL_VERSION	1
#define FPT_GENL_MCGRP_POLICY	"policy"

enum fpt_cmd {
	FPT_CMD_UNSPEC,
	FPT_CMD_POLICY_SET,
	FPT_CMD_POLICY_DEL,
	FPT_CMD_POLICY_GET,
	FPT_CMD_STATS_GET,
	FPT_CMD_POLICY_NEW,	/* notification */
	FPT_CMD_POLICY_DELETED,	/* notification */
	__FPT_CMD_MAX
};
#define FPT_CMD_MAX (__FPT_CMD_MAX - 1)

enum fpt_attr {
	FPT_A_UNSPEC,
	FPT_A_PAD,
	FPT_A_CGROUP_ID,	/* u64 */
	FPT_A_CGROUP_PATH,	/* NUL-terminated string */
	FPT_A_POLICY,		/* nest, enum fpt_policy_attr */
	FPT_A_STATS,		/* nest, enum fpt_stat_attr */
	FPT_A_GLOBAL,		/* flag */
	FPT_A_ENABLED,		/* u8 */
	FPT_A_BACKENDS,		/* u32 */
	FPT_A_NR_POLICIES,	/* u32 */
	FPT_A_ALL,		/* flag: POLICY_DEL of every policy */
	FPT_A_FEATURES,		/* u32, FPT_FEAT_*: what this kernel allows */
	__FPT_A_MAX
};
#define FPT_A_MAX (__FPT_A_MAX - 1)

enum fpt_policy_attr {
	FPT_P_UNSPEC,
	FPT_P_MODE,		/* u8, enum fpt_mode */
	FPT_P_DEFRAG,		/* u8, 0 or 1 */
	FPT_P_BACKEND,		/* u8, enum fpt_backend */
	FPT_P_FLAGS,		/* u32, FPT_F_* */
	FPT_P_BACKEND_ACTIVE,	/* u8, enum fpt_backend; replies only */
	__FPT_P_MAX
};
#define FPT_P_MAX (__FPT_P_MAX - 1)

enum fpt_mode {
	FPT_MODE_OFF,		/* excluded, even inside an opted-in parent */
	FPT_MODE_ON,		/* every private anonymous VMA */
	FPT_MODE_MADVISE,	/* only VMAs marked MADV_HUGEPAGE */
	__FPT_MODE_MAX
};

enum fpt_backend {
	FPT_BACKEND_AUTO,	/* folio where the kernel has mTHP, else reserve */
	FPT_BACKEND_FOLIO,	/* the kernel's own order-4 folios (6.8+) */
	FPT_BACKEND_RESERVE,	/* 64 KB reservations split into 4 KB pages */
	__FPT_BACKEND_MAX
};

/* FPT_A_FEATURES (STATS_GET global reply) */
#define FPT_FEAT_SHMEM		(1U << 0)	/* shared memory in 64 KB runs */

/* FPT_P_FLAGS */
#define FPT_F_NO_PMD_THP	(1U << 0)	/* no 2 MB THP in this cgroup */
#define FPT_F_NO_SHMEM		(1U << 1)	/* private memory only, no shared */
#define FPT_F_ALL		(FPT_F_NO_PMD_THP | FPT_F_NO_SHMEM)

/*
 * Counters, in the order of their FPT_S_* attributes.  X(ENUM, name, help)
 * where name is also the file name under /sys/kernel/fpt/stats/ and the
 * column name in /proc/fpt.
 *
 * runs        64 KB runs mapped: folio backend, order-4 folios mapped by a
 *             fault; reserve backend, reservations whose 16 pages were all
 *             handed out (a complete aligned contiguous run).
 * faults_64k  faults served from a 64 KB block (folio: = runs; reserve: each
 *             4 KB page handed out of a reservation).
 * fallback_*  faults of an opted-in process that got an ordinary 4 KB page,
 *             by reason.  New counters are only ever appended.
 * resv_*      reservation life cycle (reserve backend).
 * shmem_*     shared memory (MAP_SHARED anonymous, SysV shm, memfd) of
 *             opted-in processes, where fpt covers it (FPT_FEAT_SHMEM).
 *             Where shmem allocates large folios (6.12), shmem_requested
 *             counts the 64 KB folios fpt asked the kernel for; whether
 *             the allocation succeeded the kernel counts
 *             (hugepages-64kB/stats/shmem_*).
 *             Where shmem allocates 4 KB pages only (6.1), fpt serves
 *             them from reservations keyed by (object, window):
 *             shmem_faults_64k, shmem_runs and the shmem_fallback_*
 *             reasons count them; their life cycle is in resv_*.
 */
#define FPT_COUNTERS(X)							\
	X(RUNS, runs, "64 KB runs mapped")				\
	X(FAULTS_64K, faults_64k, "faults served from a 64 KB block")	\
	X(FB_NO_BLOCK, fallback_no_block, "no free order-4 block")	\
	X(FB_CHARGE, fallback_charge, "memcg charge refused")		\
	X(FB_VMA_RANGE, fallback_vma_range, "window not inside the VMA")	\
	X(FB_POPULATED, fallback_populated, "window already partly populated") \
	X(FB_UFFD, fallback_uffd, "userfaultfd armed")			\
	X(FB_CAP, fallback_cap, "reservation cap reached")		\
	X(FB_MEMPOLICY, fallback_mempolicy, "VMA has its own NUMA policy") \
	X(FB_RACE, fallback_race, "page of the window taken concurrently")	\
	X(FB_KERNEL, fallback_kernel, "kernel refused order 4 for the VMA") \
	X(FB_NOMEM, fallback_nomem, "no memory for fpt's bookkeeping")	\
	X(RESV_CREATED, resv_created, "reservations created")		\
	X(RESV_COMPLETED, resv_completed, "reservations fully handed out") \
	X(RESV_BROKEN, resv_broken, "reservations released by unmap or exit") \
	X(RESV_RECLAIMED, resv_reclaimed, "reservations released under memory pressure") \
	X(RESV_UNUSED_PAGES, resv_unused_pages, "pages held in reservations, not yet handed out") \
	X(FB_MOVED, fallback_moved, "window reserved under another policy (task moved)") \
	X(FB_HWPOISON, fallback_hwpoison, "reserved page poisoned (memory failure)") \
	X(FB_NODE, fallback_node, "reserved page on a node the thread may not use") \
	X(FB_SPARSE, fallback_sparse, "no reservation: this process's reservations do not fill") \
	X(SHMEM_REQUESTED, shmem_requested, "shared memory: 64 KB folios asked of the kernel for a fault") \
	X(SHMEM_ALIGNED, shmem_aligned, "shared memory: mappings placed 64 KB-aligned") \
	X(SHMEM_FB_RANGE, shmem_fallback_range, "shared memory: window not inside the mapping or the object") \
	X(SHMEM_FB_ALIGN, shmem_fallback_align, "shared memory: mapping offset not 64 KB-aligned to its address") \
	X(SHMEM_FB_POPULATED, shmem_fallback_populated, "shared memory: window already partly in the object") \
	X(SHMEM_FB_UFFD, shmem_fallback_uffd, "shared memory: userfaultfd armed") \
	X(SHMEM_FB_CHARGE, shmem_fallback_charge, "shared memory: memcg has no room for 64 KB") \
	X(SHMEM_FAULTS_64K, shmem_faults_64k, "shared memory: pages handed out of a 64 KB reservation") \
	X(SHMEM_RUNS, shmem_runs, "shared memory: reservations whose 16 pages were all handed out") \
	X(SHMEM_FB_NO_BLOCK, shmem_fallback_no_block, "shared memory: no free order-4 block (or no memory for fpt's bookkeeping)") \
	X(SHMEM_FB_CAP, shmem_fallback_cap, "shared memory: reservation cap reached") \
	X(SHMEM_FB_MEMPOLICY, shmem_fallback_mempolicy, "shared memory: the object has its own NUMA policy") \
	X(SHMEM_FB_RESV, shmem_fallback_resv, "shared memory: the window's reservation cannot give this page (taken, other policy or object, node)") \
	X(SHMEM_FB_SPARSE, shmem_fallback_sparse, "shared memory: no reservation, this task's reservations do not fill")

#define FPT_COUNTER_ENUM(e, n, h) FPT_C_##e,
enum fpt_counter {
	FPT_COUNTERS(FPT_COUNTER_ENUM)
	FPT_NR_COUNTERS
};
#undef FPT_COUNTER_ENUM

enum fpt_stat_attr {
	FPT_S_UNSPEC,
	FPT_S_PAD,
	FPT_S_FIRST,	/* FPT_S_FIRST + enum fpt_counter, u64 each */
	FPT_S_MAX = FPT_S_FIRST + FPT_NR_COUNTERS - 1
};

#endif /* _UAPI_LINUX_FPT_H */
