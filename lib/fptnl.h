/* SPDX-License-Identifier: MIT */
/*
 * libfptnl: the user-space side of fpt's generic netlink family (see
 * include/uapi/linux/fpt.h), on libmnl.  Shared by fptctl, fptd and the
 * in-guest tests; no other code builds or parses fpt netlink messages.
 *
 * Every call returns 0 or a negative errno.  When the kernel refused a
 * request, fptnl_extack() gives its extack message ("" if none).
 */
#ifndef FPTNL_H
#define FPTNL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/fpt.h>

struct fptnl;			/* a connection: socket, family id, last extack */

struct fpt_policy_info {
	uint64_t cgroup_id;
	char path[4096];	/* "" if the kernel sent none */
	uint8_t mode;		/* enum fpt_mode */
	uint8_t defrag;
	uint8_t backend;	/* enum fpt_backend, as set */
	uint8_t backend_active;	/* enum fpt_backend, resolved */
	uint32_t flags;		/* FPT_F_* */
	bool has_stats;
	uint64_t stats[FPT_NR_COUNTERS];
};

struct fpt_global_info {
	bool enabled;
	uint32_t backends;	/* 1 << enum fpt_backend */
	uint32_t nr_policies;
	bool has_features;	/* the module says (FPT_A_FEATURES) */
	uint32_t features;	/* FPT_FEAT_* */
	uint64_t stats[FPT_NR_COUNTERS];
};

/* The request's cgroup: by id (path NULL) or by path (id 0), or both. */
struct fpt_cgroup_ref {
	uint64_t id;
	const char *path;	/* relative to the cgroup2 root */
};

/* -ENOENT from fptnl_open(): the family is not registered (no module). */
int fptnl_open(struct fptnl **nlp);
void fptnl_close(struct fptnl *nl);
const char *fptnl_extack(const struct fptnl *nl);

int fptnl_policy_set(struct fptnl *nl, const struct fpt_cgroup_ref *cg,
		     uint8_t mode, uint8_t defrag, uint8_t backend,
		     uint32_t flags);
int fptnl_policy_del(struct fptnl *nl, const struct fpt_cgroup_ref *cg);
int fptnl_policy_del_all(struct fptnl *nl);
int fptnl_policy_get(struct fptnl *nl, const struct fpt_cgroup_ref *cg,
		     struct fpt_policy_info *out);
/* The policy governing @cg (its own or its nearest ancestor's). */
int fptnl_stats_get(struct fptnl *nl, const struct fpt_cgroup_ref *cg,
		    struct fpt_policy_info *out);
int fptnl_global_get(struct fptnl *nl, struct fpt_global_info *out);

/* Dump every policy; @cb returns nonzero to stop. */
typedef int (*fptnl_policy_cb)(const struct fpt_policy_info *p, void *arg);
int fptnl_policy_dump(struct fptnl *nl, fptnl_policy_cb cb, void *arg);

/*
 * Policy change notifications (FPT_GENL_MCGRP_POLICY) on a second socket:
 * fptnl_monitor_fd() is pollable; fptnl_monitor_read() calls @cb once per
 * message waiting (cmd FPT_CMD_POLICY_NEW or FPT_CMD_POLICY_DELETED).
 */
typedef void (*fptnl_notify_cb)(uint8_t cmd, const struct fpt_policy_info *p,
				void *arg);
int fptnl_monitor_open(struct fptnl **nlp);
int fptnl_monitor_fd(const struct fptnl *nl);
int fptnl_monitor_read(struct fptnl *nl, fptnl_notify_cb cb, void *arg);

/*
 * Extensions (beyond the calls above; used by fptctl and fpt-nl).
 */

/* Like fptnl_open() for another family name (testing the client only). */
int fptnl_open_family(struct fptnl **nlp, const char *family);

/* The generic netlink id of the family a connection resolved at open. */
uint16_t fptnl_family_id(const struct fptnl *nl);

/* The id @family has now (-ENOENT: not registered), without keeping a
 * connection. */
int fptnl_resolve(const char *family, uint16_t *id);

/*
 * Generic netlink families coming and going: nlctrl's "notify" multicast
 * group, CTRL_CMD_NEWFAMILY and CTRL_CMD_DELFAMILY with the family's name
 * and id (fptd follows "fpt" with it).  fptnl_ctrl_open() resolves nlctrl
 * and joins the group like any family (fptnl_monitor_fd() gives the
 * pollable socket); fptnl_ctrl_read() calls @cb once per family event
 * waiting, without blocking, and returns 0, or -ENOBUFS when the socket
 * overran and events were lost (ask with fptnl_resolve()).
 * fptnl_ctrl_parse() is its parsing step on a buffer of netlink messages
 * (other nlctrl commands, e.g. NEWMCAST_GRP, are skipped).
 */
#define FPTNL_FAMILY_NAMSIZ	16	/* GENL_NAMSIZ */
struct fptnl_family_event {
	uint8_t cmd;			/* CTRL_CMD_NEWFAMILY or _DELFAMILY */
	uint16_t id;
	char name[FPTNL_FAMILY_NAMSIZ];
};
typedef void (*fptnl_family_cb)(const struct fptnl_family_event *ev,
				void *arg);
int fptnl_ctrl_open(struct fptnl **nlp);
int fptnl_ctrl_read(struct fptnl *nl, fptnl_family_cb cb, void *arg);
int fptnl_ctrl_parse(const void *buf, size_t len, fptnl_family_cb cb,
		     void *arg);

/*
 * After a call that failed: the positive errno the kernel answered with
 * (a refusal, with fptnl_extack() and fptnl_ack() telling why), or 0 if
 * the failure was local (socket error, malformed reply, ...).
 */
int fptnl_kernel_error(const struct fptnl *nl);

/* The kernel's ACK of the last request, in full (NLMSGERR_ATTR_*). */
struct fptnl_ack {
	int error;		/* 0 or a positive errno */
	char msg[512];		/* NLMSGERR_ATTR_MSG, also on success */
	bool has_offs, has_miss_type, has_miss_nest;
	uint32_t offs, miss_type, miss_nest;
};
const struct fptnl_ack *fptnl_ack(const struct fptnl *nl);

/*
 * Everything one reply message carried, with what was present: for
 * clients that show the kernel's answer as it is (fpt-nl).
 */
#define FPTNL_MAX_EXTRA_STATS	16
struct fptnl_reply {
	uint8_t cmd;
	bool global;			/* FPT_A_GLOBAL */
	bool has_enabled, has_backends, has_nr_policies, has_features;
	bool has_cgroup_id, has_path, has_policy, has_stats;
	bool has_mode, has_defrag, has_backend, has_backend_active, has_flags;
	bool has_stat[FPT_NR_COUNTERS];
	uint8_t enabled;
	uint32_t backends, nr_policies, features;
	struct fpt_policy_info p;	/* p.has_stats == has_stats */
	/* counters of a newer kernel (attribute type > FPT_S_MAX) */
	unsigned int nr_extra;
	uint16_t extra_type[FPTNL_MAX_EXTRA_STATS];
	uint64_t extra_val[FPTNL_MAX_EXTRA_STATS];
};

/*
 * Send @cmd (FPT_CMD_POLICY_GET or FPT_CMD_STATS_GET) naming @cg (NULL:
 * none) as a dump (@dump) or a doit request, and call @cb once per reply
 * message (a nonzero return stops the calls; the replies are still
 * drained).  0 or a negative errno.
 */
typedef int (*fptnl_reply_cb)(const struct fptnl_reply *r, void *arg);
int fptnl_query(struct fptnl *nl, uint8_t cmd, const struct fpt_cgroup_ref *cg,
		bool dump, fptnl_reply_cb cb, void *arg);

/* Names: enum values <-> strings ("on", "folio", "fallback_no_block"). */
const char *fpt_mode_name(uint8_t mode);
const char *fpt_backend_name(uint8_t backend);
const char *fpt_counter_name(unsigned int idx);
const char *fpt_counter_help(unsigned int idx);
int fpt_mode_parse(const char *s);		/* -1 if unknown */
/* Sum of the fallback_* counters of @c (FPT_NR_COUNTERS values). */
uint64_t fpt_fallbacks(const uint64_t *c);
/* fallbacks / (fallbacks + faults_64k); false if both are 0. */
bool fpt_fallback_ratio(const uint64_t *c, double *ratio);
int fpt_backend_parse(const char *s);		/* -1 if unknown */

#endif /* FPTNL_H */
