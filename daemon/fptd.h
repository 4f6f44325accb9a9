/* SPDX-License-Identifier: MIT */
/*
 * fptd: the state shared by its parts.  The files are layers: each one
 * calls only the ones listed after it (and lib/); news travels upwards
 * only through the callbacks of struct fptd_hooks, which main.c points at
 * state.c's handlers.
 *
 *   main.c     start, signals, reload, shutdown; wires the layers
 *   control.c  the control socket (fptctl), runtime policies on disk
 *   report.c   reports: Prometheus file, journal, compaction
 *   state.c    the policy entries (files + runtime), putting them into
 *              the kernel, the status line; the hooks' handlers
 *   kernel.c   the module: connecting, loading, nlctrl events
 *   cgwatch.c  the cgroup2 tree (inotify)
 *   peer.c     who is on the other end of a socket (credentials, caps)
 *   util.c     logging, atomic file writes, the single-instance lock
 * config.c, ctlproto.c, logic.c and prom.c are pure (no daemon state).
 */
#ifndef FPTD_H
#define FPTD_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <systemd/sd-event.h>

#include "../lib/fptnl.h"
#include "config.h"
#include "logic.h"
#include "prom.h"

/* FPTD_VERSION: -D from daemon/Makefile, the file VERSION of the tree */

/* An effective policy and what fptd knows of it in the kernel. */
struct fptd_entry {
	struct fptd_policy pol;
	enum fptd_pol_state state;
	uint64_t applied_id;	/* cgroup id it is set on (0: none) */
	uint64_t refused_id;	/* cgroup id the kernel refused it for */
	int refused_errno;
	bool dirty;		/* set it again even if the id is unchanged */
	bool foreign;		/* changed or removed outside fptd: leave it */
	char why[256];		/* the kernel's refusal */
};

struct fptd_prev {		/* counters at the last report, by cgroup id */
	uint64_t id;
	uint64_t c[FPT_NR_COUNTERS];
	bool fb_high;
};

struct fptd;
struct fptd_client;
struct fptd_watch;

/* What the lower layers (kernel.c, cgwatch.c) tell the one above. */
enum fptd_module_event {
	FPTD_MODULE_UP,		/* connected: first time, or loaded again */
	FPTD_MODULE_DOWN,	/* unloaded (or the connection is gone) */
	FPTD_MODULE_WAITING,	/* still not there; module_why says why */
};

struct fptd_hooks {
	void (*module)(struct fptd *d, enum fptd_module_event ev);
	/* the module's policy multicast group: a policy set or removed */
	void (*policy_note)(struct fptd *d, uint8_t cmd,
			    const struct fpt_policy_info *p);
	void (*notes_lost)(struct fptd *d);	/* the group overran */
	/* cgwatch: a watched cgroup was removed (called before changed) */
	void (*cgroup_gone)(struct fptd *d, const char *rel);
	void (*cgroups_changed)(struct fptd *d);
};

struct fptd {
	sd_event *ev;
	const char *conf_path;
	bool conf_given;		/* -c: the file must exist */
	bool check_only, verbose;
	char cgroup_root[FPTD_PATH_MAX];
	const struct fptd_hooks *hooks;

	/* configuration */
	struct fptd_settings set;
	struct fptd_policy_set files;	/* from policy.d */
	struct fptd_policy_set runtime;	/* from fptctl, in state_dir */
	bool config_ok;			/* the last (re)load */
	struct fptd_entry *ent;
	size_t nent;

	/* kernel.c: the module */
	struct fptnl *nl, *mon;		/* requests; policy notifications */
	struct fptnl *ctrl;		/* nlctrl's notify group */
	sd_event_source *mon_src, *ctrl_src, *retry_src;
	bool module_up;
	uint16_t family_id;		/* of the connection, 0 if none */
	unsigned int module_gen;	/* connections so far */
	bool may_load;			/* until connected or seen unloaded */
	unsigned int retry_delay;
	char module_why[256];		/* why it is not up */
	char module_version[64];	/* /sys/kernel/fpt/version's, "" */
	struct fpt_global_info ginfo;

	/* cgwatch.c: the cgroups */
	int ino_fd;
	sd_event_source *ino_src;
	struct fptd_watch *w;
	size_t nw;
	char **want;			/* the configured cgroups' paths */
	size_t nwant;

	/* control.c: the control socket */
	int lock_fd;
	int ctl_fd;
	sd_event_source *ctl_src;
	struct fptd_client *clients;
	unsigned int nclients;

	/* report.c */
	sd_event_source *report_src;
	struct fptd_prev *prev;
	size_t nprev;
	unsigned int prev_gen;		/* module_gen the counters are of */
	bool have_prev_global;
	uint64_t prev_global[FPT_NR_COUNTERS];
	bool frag_high;
	struct fptd_rate last_global_rate;
	double last_index;
	bool prom_warned;
	bool prom_written;		/* fptd wrote the file: mark it at exit */
	/* compaction */
	int compact_efd;
	sd_event_source *compact_src;
	bool compacting;
	bool compact_followup;		/* log the result at the next report */
	double compact_last;		/* monotonic seconds, -1 never */
	double compact_rate_before, compact_index_before;
	uint64_t compactions;
	int compact_result;
	double compact_secs;
	char compact_target[128];
};

/* util.c */
void fptd_log_init(bool verbose);
void fptd_log(int prio, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
bool fptd_log_to_journal(void);
/* Write @len bytes to @dir/@name via a temporary file and rename(2). */
int fptd_write_atomic(const char *dir, const char *name, const char *data,
		      size_t len, unsigned int mode, bool durable);
double fptd_now(void);		/* CLOCK_MONOTONIC seconds */
/*
 * The single-instance lock: @path (created 0644, never removed) locked
 * with flock(LOCK_EX | LOCK_NB) and holding the owner's pid.  Returns the
 * open fd (keep it open while running), -EWOULDBLOCK with *@owner set to
 * the pid that holds it (0 if unknown), or another negative errno.
 */
int fptd_lock(const char *path, pid_t *owner);

/* peer.c: who is on the other end of a unix socket */
struct fptd_peer {
	pid_t pid;
	uid_t uid;		/* SO_PEERCRED: effective uid at connect() */
	gid_t gid;
	bool net_admin;		/* CAP_NET_ADMIN, checked as described there */
	char why[128];		/* why not, for the refusal */
};
int fptd_peer_get(int fd, struct fptd_peer *p);
/*
 * From the text of /proc/PID/status: the effective uid and CapEff.
 * 0 or -EINVAL (pure; unit-tested).
 */
int fptd_status_creds(const char *text, uid_t *euid, uint64_t *cap_eff);
/* Does fptd itself have capability @cap in its effective set? */
bool fptd_have_cap(int cap);

/* cgwatch.c */
int fptd_cgwatch_start(struct fptd *d);
/* The cgroups to follow (copied); watches are brought up to date. */
int fptd_cgwatch_set(struct fptd *d, const char *const *paths, size_t n);
void fptd_cgwatch_sync(struct fptd *d);
void fptd_cgwatch_stop(struct fptd *d);

/* kernel.c */
int fptd_kernel_start(struct fptd *d);
void fptd_kernel_stop(struct fptd *d);
/* A report tick: connect if the module is there and nlctrl is not
 * followed (no loading). */
void fptd_kernel_probe(struct fptd *d);
/* An nlctrl event (from the notify group; callable from tests). */
void fptd_kernel_family_event(struct fptd *d,
			      const struct fptnl_family_event *ev);
/* The start-up attempt again, now (after a reload). */
void fptd_kernel_retry_now(struct fptd *d);

/* state.c */
extern const struct fptd_hooks fptd_state_hooks;
void fptd_status(struct fptd *d);
/* The status line fptd shows (STATUS=, fptctl status). */
void fptd_status_text(struct fptd *d, char *buf, size_t len);
int fptd_rebuild(struct fptd *d);	/* entries from files + runtime */
void fptd_reconcile(struct fptd *d);	/* every entry against the kernel */
/* Remove the policies fptd set (clear_policies_on_exit). */
void fptd_clear_policies(struct fptd *d);
const char *fptd_state_name(enum fptd_pol_state s);

/* control.c */
int fptd_control_start(struct fptd *d);
void fptd_control_stop(struct fptd *d);
int fptd_state_load(struct fptd *d);
int fptd_state_save(struct fptd *d, const struct fptd_policy_set *rt);

/* report.c */
int fptd_report_start(struct fptd *d);
void fptd_report_stop(struct fptd *d);
void fptd_report_reschedule(struct fptd *d);

#endif
