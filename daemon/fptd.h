/* SPDX-License-Identifier: MIT */
/*
 * fptd: the state shared by its parts.
 *   main.c     start, signals, reload, shutdown
 *   state.c    the policy entries (files + runtime) and the status line
 *   kernel.c   the module: loading (libkmod), fptnl, nlctrl, applying policy
 *   cgwatch.c  the cgroup2 tree (inotify)
 *   control.c  the control socket (fptctl)
 *   report.c   reports: Prometheus file, journal, compaction
 *   util.c     logging, atomic file writes
 */
#ifndef FPTD_H
#define FPTD_H

#include <stdbool.h>
#include <stdint.h>
#include <systemd/sd-event.h>

#include "../lib/fptnl.h"
#include "config.h"
#include "logic.h"
#include "prom.h"

#define FPTD_VERSION	"0.1.0"

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

struct fptd_client;

struct fptd {
	sd_event *ev;
	const char *conf_path;
	bool check_only, verbose;
	char cgroup_root[FPTD_PATH_MAX];

	/* configuration */
	struct fptd_settings set;
	struct fptd_policy_set files;	/* from policy.d */
	struct fptd_policy_set runtime;	/* from fptctl, in state_dir */
	bool config_ok;			/* the last (re)load */
	struct fptd_entry *ent;
	size_t nent;

	/* the module */
	struct fptnl *nl, *mon;
	sd_event_source *mon_src;
	void *nlctrl;			/* struct mnl_socket * */
	sd_event_source *nlctrl_src;
	bool module_up;
	bool ready;			/* READY=1 sent */
	sd_event_source *retry_src;
	unsigned int retry_delay;
	char module_why[256];		/* why it is not up */
	struct fpt_global_info ginfo;

	/* cgroups */
	int ino_fd;
	sd_event_source *ino_src;
	struct fptd_watch *w;
	size_t nw;

	/* control socket */
	int ctl_fd;
	sd_event_source *ctl_src;
	struct fptd_client *clients;
	unsigned int nclients;

	/* reports */
	sd_event_source *report_src;
	struct fptd_prev *prev;
	size_t nprev;
	bool have_prev_global;
	uint64_t prev_global[FPT_NR_COUNTERS];
	bool frag_high;
	struct fptd_rate last_global_rate;
	double last_index;
	bool prom_warned;
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

/* state.c */
void fptd_status(struct fptd *d);
int fptd_rebuild(struct fptd *d);	/* entries from files + runtime */

/* kernel.c */
int fptd_kernel_start(struct fptd *d);
void fptd_kernel_stop(struct fptd *d);
void fptd_reconcile(struct fptd *d);
/* Forget the kernel state of an entry that goes away. */
void fptd_entry_drop(struct fptd *d, struct fptd_entry *e);
void fptd_kernel_probe(struct fptd *d);	/* reconnect if the module is back */
/* nlctrl events: the family "fpt" unregistered / registered */
void fptd_module_gone(struct fptd *d);
void fptd_module_appeared(struct fptd *d);

/* cgwatch.c */
int fptd_cgwatch_start(struct fptd *d);
void fptd_cgwatch_sync(struct fptd *d);
void fptd_cgwatch_stop(struct fptd *d);

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
