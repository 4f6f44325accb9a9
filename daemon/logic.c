// SPDX-License-Identifier: MIT
/* fptd's arithmetic (see logic.h). */
#include "logic.h"

#include <string.h>

static uint64_t delta(const uint64_t *prev, const uint64_t *cur, int i,
		      bool *reset)
{
	if (!prev)
		return cur[i];
	if (cur[i] < prev[i]) {
		*reset = true;
		return cur[i];
	}
	return cur[i] - prev[i];
}

void fptd_rate_compute(const uint64_t *prev, const uint64_t *cur,
		       uint64_t min_events, struct fptd_rate *out)
{
	uint64_t fb = 0, events;
	bool reset = false;
	int i;

	memset(out, 0, sizeof(*out));
	/* one reset anywhere means the whole snapshot restarted */
	for (i = 0; prev && i < FPT_NR_COUNTERS; i++)
		if (i != FPT_C_RESV_UNUSED_PAGES && cur[i] < prev[i])
			reset = true;
	if (reset)
		prev = NULL;
	out->reset = reset;
	for (i = FPT_C_FB_NO_BLOCK; i <= FPT_C_FB_NOMEM; i++)
		fb += delta(prev, cur, i, &out->reset);
	out->fallbacks = fb;
	out->no_block = delta(prev, cur, FPT_C_FB_NO_BLOCK, &out->reset);
	out->faults_64k = delta(prev, cur, FPT_C_FAULTS_64K, &out->reset);
	events = out->fallbacks + out->faults_64k;
	if (events == 0 || events < min_events)
		return;
	out->valid = true;
	out->rate = (double)out->fallbacks / (double)events;
	out->no_block_rate = (double)out->no_block / (double)events;
}

enum fptd_edge fptd_hysteresis(bool *state, bool valid, double value,
			       double high, double low)
{
	if (!valid)
		return FPTD_EDGE_NONE;
	if (!*state && value >= high) {
		*state = true;
		return FPTD_EDGE_RAISED;
	}
	if (*state && value <= low) {
		*state = false;
		return FPTD_EDGE_CLEARED;
	}
	return FPTD_EDGE_NONE;
}

bool fptd_compact_due(const struct fptd_settings *s, bool frag_high,
		      const struct fptd_rate *global, double now, double last)
{
	if (!s->compact || !frag_high || !global->valid)
		return false;
	if (global->rate < s->compact_fb_rate || global->no_block == 0)
		return false;
	if (last >= 0 && now - last < (double)s->compact_min_interval)
		return false;
	return true;
}

void fptd_node_frag(const struct fpt_frag *f, struct fptd_node_frag *out)
{
	int z, o, n;

	memset(out, 0, sizeof(*out));
	for (z = 0; z < f->nr_zones && z < FPT_FRAG_MAX_ZONES; z++) {
		const struct fpt_frag_zone *zone = &f->zones[z];
		uint64_t all = 0, ge = 0;

		for (o = 0; o < zone->nr_orders && o < FPT_FRAG_MAX_ORDER; o++) {
			uint64_t pages = zone->free_blocks[o] << o;

			all += pages;
			if (o >= 4)
				ge += pages;
		}
		for (n = 0; n < out->nr; n++)
			if (out->node[n] == zone->node)
				break;
		if (n == out->nr) {
			if (out->nr == FPTD_MAX_NODES)
				continue;
			out->node[out->nr++] = zone->node;
		}
		out->free_pages[n] += all;
		out->free_pages_ge64k[n] += ge;
	}
	for (n = 0; n < out->nr; n++)
		out->index[n] = out->free_pages[n] ?
			(double)(out->free_pages[n] - out->free_pages_ge64k[n]) /
			(double)out->free_pages[n] : 0.0;
}

uint64_t fptd_reserve_limit(uint64_t max_unused_kb, uint64_t mem_total_bytes)
{
	uint64_t auto_limit = mem_total_bytes / 128;

	if (max_unused_kb)
		return max_unused_kb * 1024;
	return auto_limit < (256ULL << 20) ? auto_limit : (256ULL << 20);
}
