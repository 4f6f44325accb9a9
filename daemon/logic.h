/* SPDX-License-Identifier: MIT */
/*
 * fptd's arithmetic: fallback rates over an interval, thresholds with
 * hysteresis, when to compact, per-node fragmentation.  Pure functions
 * (no I/O, no clock) so that the unit tests run them on made-up numbers.
 */
#ifndef FPTD_LOGIC_H
#define FPTD_LOGIC_H

#include <stdbool.h>
#include <stdint.h>
#include <linux/fpt.h>

#include "../lib/frag.h"
#include "config.h"

struct fptd_rate {
	bool valid;		/* enough events in the interval */
	double rate;		/* fallbacks / (fallbacks + faults_64k) */
	double no_block_rate;	/* fallback_no_block / the same */
	uint64_t faults_64k;	/* in the interval */
	uint64_t fallbacks;
	uint64_t no_block;
	bool reset;		/* a counter went backwards (module reloaded) */
};

/*
 * The interval from @prev to @cur (@prev NULL: the counters start at 0,
 * e.g. a policy set since the last report).  A counter that went
 * backwards counts from 0 (reset).  The rate is valid when the interval
 * saw at least @min_events faults (64 KB + fallbacks), and at least one.
 */
void fptd_rate_compute(const uint64_t *prev, const uint64_t *cur,
		       uint64_t min_events, struct fptd_rate *out);

/* The result of a hysteresis step. */
enum fptd_edge {
	FPTD_EDGE_NONE,
	FPTD_EDGE_RAISED,	/* crossed @high going up */
	FPTD_EDGE_CLEARED,	/* back at or below @low */
};

/*
 * One step of a two-threshold alarm: raised when @value >= @high, cleared
 * when @value <= @low (low <= high), unchanged in between and when
 * !@valid.  Updates *@state.
 */
enum fptd_edge fptd_hysteresis(bool *state, bool valid, double value,
			       double high, double low);

/*
 * Whether to compact now: compaction enabled, fragmentation alarm on,
 * the global fallback rate valid and >= compact_fb_rate with at least one
 * "no free 64 KB block" fallback (the only reason compaction can fix),
 * and min_interval seconds since the last compaction (@last < 0: never).
 */
bool fptd_compact_due(const struct fptd_settings *s, bool frag_high,
		      const struct fptd_rate *global, double now, double last);

/* Order-4 unusable free space index per NUMA node, from buddyinfo. */
#define FPTD_MAX_NODES	64
struct fptd_node_frag {
	int nr;
	int node[FPTD_MAX_NODES];
	uint64_t free_pages[FPTD_MAX_NODES];
	uint64_t free_pages_ge64k[FPTD_MAX_NODES];
	double index[FPTD_MAX_NODES];
};
void fptd_node_frag(const struct fpt_frag *f, struct fptd_node_frag *out);

/*
 * The reservation cap in bytes as the module computes it: max_unused_kb
 * if set, else 1/128 of RAM, at most 256 MB.
 */
uint64_t fptd_reserve_limit(uint64_t max_unused_kb, uint64_t mem_total_bytes);

#endif
