/* SPDX-License-Identifier: MIT */
/*
 * fptd's report in the Prometheus text exposition format (the node
 * exporter's textfile collector reads it).  The metric names are stable;
 * daemon/README.md lists them.  fptd_prom_format() is pure: it writes what
 * the report holds and nothing else, so the unit tests compare its output
 * byte for byte.
 */
#ifndef FPTD_PROM_H
#define FPTD_PROM_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "../lib/fptnl.h"
#include "../lib/frag.h"
#include "logic.h"

struct fptd_cg_report {
	const char *cgroup;		/* label: relative path, "/" for the root */
	const struct fpt_policy_info *info;	/* policy and counters */
	struct fptd_rate rate;		/* over the last interval */
	bool fb_high;			/* fallback alarm state */
};

enum fptd_pol_state {
	FPTD_POL_APPLIED,	/* set in the kernel */
	FPTD_POL_WAITING,	/* its cgroup does not exist (yet) */
	FPTD_POL_REFUSED,	/* the kernel refused it */
	FPTD_POL_NO_MODULE,	/* the module is not loaded */
	FPTD_POL_OVERRIDDEN,	/* changed or removed outside fptd */
	FPTD_POL_NR
};

struct fptd_report {
	unsigned int page_size;
	const char *version;		/* fptd's */
	const char *module_version;	/* "" if unknown or not loaded */
	/* the module */
	bool module_up;
	bool have_global;
	struct fpt_global_info global;
	struct fptd_rate global_rate;
	bool have_reserve_limit;
	uint64_t reserve_limit_bytes;
	size_t nr_cg;
	const struct fptd_cg_report *cg;	/* any order; printed by path */
	/* fragmentation */
	bool have_frag;
	const struct fpt_frag *frag;
	const struct fptd_node_frag *nodes;	/* may be NULL */
	/* the daemon */
	unsigned int interval;
	unsigned int policies[FPTD_POL_NR];
	bool config_ok;
	uint64_t compactions;
	bool frag_high;
};

/* Escape a label value (\\, \", \n).  Returns @buf. */
const char *fptd_prom_escape(const char *in, char *buf, size_t len);

/* Write the report to @out.  0 or -EIO. */
int fptd_prom_format(const struct fptd_report *r, FILE *out);

/*
 * What replaces the file when fptd stops: fptd_up 0 and the build info,
 * nothing else (the module's counters and fptd's policy states would be
 * stale the moment fptd is gone).  0 or -EIO.
 */
int fptd_prom_format_stopped(const char *version, FILE *out);

#endif
