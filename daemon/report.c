// SPDX-License-Identifier: MIT
/*
 * Reports, every [report] interval seconds: order-4 fragmentation
 * (lib/frag), the fallback rate of each policy's cgroup over the
 * interval, reservation usage.  Written as a Prometheus text file
 * (prom.c); thresholds crossed (with hysteresis, logic.c) go to the
 * journal as structured entries; optionally memory is compacted when
 * fallbacks are high under fragmentation.
 */
#define _GNU_SOURCE
#include "fptd.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <syslog.h>
#include <systemd/sd-journal.h>
#include <unistd.h>

#include "../lib/cgpath.h"
#include "../lib/frag.h"

/* MESSAGE_IDs of fptd's journal entries (daemon/README.md) */
#define MID_FALLBACK_HIGH	"a028d2b84b4a491a991dd4582a74dc03"
#define MID_FALLBACK_NORMAL	"25971196fea04699964318bbca5c962c"
#define MID_FRAG_HIGH		"bbb356256bb24312974cee573c37d426"
#define MID_FRAG_NORMAL		"46d19093f44746d482f9bf3e2fa6e432"
#define MID_COMPACT_START	"b28e2f52599b48b49d7581b861b60e57"
#define MID_COMPACT_RESULT	"a5ab7abe7e4847a4a81f88d46477c07c"

#define COMPACT_ALL	"/proc/sys/vm/compact_memory"

/* Not under journald (a terminal, tests): say it on stderr too. */
static void echo(int prio, const char *msg)
{
	if (!fptd_log_to_journal())
		fptd_log(prio, "%s", msg);
}

static void rate_text(const struct fptd_rate *r, char *buf, size_t len)
{
	if (r->valid)
		snprintf(buf, len, "%.1f%%", r->rate * 100);
	else
		snprintf(buf, len, "n/a");
}

static void event_fallback(struct fptd *d, const char *cg,
			   const struct fptd_rate *r, bool high)
{
	char msg[FPTD_PATH_MAX + 256];
	int prio = high ? LOG_WARNING : LOG_NOTICE;

	if (high)
		snprintf(msg, sizeof(msg),
			 "cgroup %s: %.1f%% of faults fell back to 4 KB pages in the last %u s (threshold %.1f%%; %llu of them found no free 64 KB block)",
			 cg, r->rate * 100, d->set.interval, d->set.fb_high * 100,
			 (unsigned long long)r->no_block);
	else
		snprintf(msg, sizeof(msg),
			 "cgroup %s: fallback rate back to %.1f%% (at or below %.1f%%)",
			 cg, r->rate * 100, d->set.fb_low * 100);
	sd_journal_send("MESSAGE=%s", msg,
			"MESSAGE_ID=%s", high ? MID_FALLBACK_HIGH : MID_FALLBACK_NORMAL,
			"PRIORITY=%d", prio,
			"FPT_EVENT=%s", high ? "fallback_high" : "fallback_normal",
			"FPT_CGROUP=%s", cg,
			"FPT_FALLBACK_RATE=%.4f", r->rate,
			"FPT_THRESHOLD=%.4f", high ? d->set.fb_high : d->set.fb_low,
			"FPT_FAULTS_64K=%llu", (unsigned long long)r->faults_64k,
			"FPT_FALLBACKS=%llu", (unsigned long long)r->fallbacks,
			"FPT_FALLBACK_NO_BLOCK=%llu", (unsigned long long)r->no_block,
			"FPT_UNUSABLE_INDEX=%.4f", d->last_index,
			"FPT_INTERVAL_SEC=%u", d->set.interval,
			NULL);
	echo(prio, msg);
}

static void event_frag(struct fptd *d, const struct fpt_frag *f, bool high)
{
	char msg[256];
	int prio = high ? LOG_WARNING : LOG_NOTICE;

	if (high)
		snprintf(msg, sizeof(msg),
			 "memory is fragmented for 64 KB blocks: %.0f%% of free memory is in blocks under 64 KB (unusable index %.2f >= %.2f; %llu MB free, %llu MB in 64 KB+ blocks)",
			 f->unusable_index_o4 * 100, f->unusable_index_o4,
			 d->set.frag_high,
			 (unsigned long long)(f->free_pages * 4 / 1024),
			 (unsigned long long)(f->free_pages_ge64k * 4 / 1024));
	else
		snprintf(msg, sizeof(msg),
			 "fragmentation for 64 KB blocks back to normal (unusable index %.2f <= %.2f)",
			 f->unusable_index_o4, d->set.frag_low);
	sd_journal_send("MESSAGE=%s", msg,
			"MESSAGE_ID=%s", high ? MID_FRAG_HIGH : MID_FRAG_NORMAL,
			"PRIORITY=%d", prio,
			"FPT_EVENT=%s", high ? "fragmentation_high" : "fragmentation_normal",
			"FPT_UNUSABLE_INDEX=%.4f", f->unusable_index_o4,
			"FPT_THRESHOLD=%.4f", high ? d->set.frag_high : d->set.frag_low,
			"FPT_FREE_PAGES=%llu", (unsigned long long)f->free_pages,
			"FPT_FREE_PAGES_64K=%llu", (unsigned long long)f->free_pages_ge64k,
			NULL);
	echo(prio, msg);
}

/* ---- compaction, in a thread (a write to compact_memory blocks) ---- */

struct compact_job {
	struct fptd *d;
	int nr;
	char path[FPTD_MAX_NODES][64];
	int result;
	double secs;
};

static void *compact_thread(void *arg)
{
	struct compact_job *j = arg;
	double t0 = fptd_now();
	uint64_t one = 1;
	int i;

	j->result = 0;
	for (i = 0; i < j->nr; i++) {
		int fd = open(j->path[i], O_WRONLY | O_CLOEXEC);

		if (fd < 0 || write(fd, "1\n", 2) < 0) {
			if (!j->result)
				j->result = -errno;
		}
		if (fd >= 0)
			close(fd);
	}
	j->secs = fptd_now() - t0;
	if (write(j->d->compact_efd, &one, sizeof(one)) < 0)
		j->result = j->result ? j->result : -errno;
	return NULL;
}

static struct compact_job *compact_job;
static pthread_t compact_tid;

static int on_compact_done(sd_event_source *s, int fd, uint32_t revents,
			   void *arg)
{
	struct fptd *d = arg;
	uint64_t v;
	char msg[256];

	(void)s; (void)revents;
	if (read(fd, &v, sizeof(v)) < 0 || !compact_job)
		return 0;
	pthread_join(compact_tid, NULL);
	d->compacting = false;
	d->compact_result = compact_job->result;
	d->compact_secs = compact_job->secs;
	free(compact_job);
	compact_job = NULL;
	if (d->compact_result) {
		snprintf(msg, sizeof(msg), "compaction of %s failed after %.1f s: %s",
			 d->compact_target, d->compact_secs,
			 strerror(-d->compact_result));
		fptd_log(LOG_ERR, "%s", msg);
		return 0;
	}
	d->compact_followup = true;
	fptd_log(LOG_INFO, "compaction of %s done in %.1f s", d->compact_target,
		 d->compact_secs);
	return 0;
}

static void compact_start(struct fptd *d, const struct fptd_node_frag *nf)
{
	struct compact_job *j = calloc(1, sizeof(*j));
	char msg[512];
	int n;

	if (!j)
		return;
	j->d = d;
	if (d->set.compact_per_node && nf && nf->nr > 1) {
		for (n = 0; n < nf->nr && j->nr < FPTD_MAX_NODES; n++) {
			char p[64];

			if (nf->index[n] < d->set.frag_high)
				continue;
			snprintf(p, sizeof(p), "/sys/devices/system/node/node%d/compact",
				 nf->node[n]);
			if (access(p, W_OK))
				continue;
			snprintf(j->path[j->nr++], sizeof(j->path[0]), "%s", p);
		}
	}
	if (j->nr) {
		size_t used = 0;

		d->compact_target[0] = 0;
		for (n = 0; n < j->nr; n++) {
			int node = -1;

			sscanf(j->path[n], "/sys/devices/system/node/node%d", &node);
			used += (size_t)snprintf(d->compact_target + used,
						 sizeof(d->compact_target) - used,
						 "%snode %d", n ? ", " : "", node);
			if (used >= sizeof(d->compact_target))
				break;
		}
	} else {
		j->nr = 1;
		snprintf(j->path[0], sizeof(j->path[0]), "%s", COMPACT_ALL);
		snprintf(d->compact_target, sizeof(d->compact_target),
			 "all memory");
	}
	if (pthread_create(&compact_tid, NULL, compact_thread, j)) {
		fptd_log(LOG_ERR, "cannot start compaction: %m");
		free(j);
		return;
	}
	compact_job = j;
	d->compacting = true;
	d->compactions++;
	d->compact_last = fptd_now();
	d->compact_rate_before = d->last_global_rate.rate;
	d->compact_index_before = d->last_index;
	snprintf(msg, sizeof(msg),
		 "compacting %s: fallback rate %.1f%% (%.1f%% found no free 64 KB block) with unusable index %.2f",
		 d->compact_target, d->last_global_rate.rate * 100,
		 d->last_global_rate.no_block_rate * 100, d->last_index);
	sd_journal_send("MESSAGE=%s", msg,
			"MESSAGE_ID=%s", MID_COMPACT_START,
			"PRIORITY=%d", LOG_NOTICE,
			"FPT_EVENT=compaction",
			"FPT_COMPACT_TARGET=%s", d->compact_target,
			"FPT_FALLBACK_RATE=%.4f", d->last_global_rate.rate,
			"FPT_FALLBACK_NO_BLOCK=%llu",
			(unsigned long long)d->last_global_rate.no_block,
			"FPT_UNUSABLE_INDEX=%.4f", d->last_index,
			NULL);
	echo(LOG_NOTICE, msg);
}

static void compact_followup(struct fptd *d, const struct fptd_rate *r,
			     bool have_index)
{
	char msg[512], after[32];

	d->compact_followup = false;
	rate_text(r, after, sizeof(after));
	snprintf(msg, sizeof(msg),
		 "after compacting %s (%.1f s): fallback rate %.1f%% -> %s, unusable index %.2f -> %s%.2f",
		 d->compact_target, d->compact_secs, d->compact_rate_before * 100,
		 after, d->compact_index_before, have_index ? "" : "? ",
		 d->last_index);
	sd_journal_send("MESSAGE=%s", msg,
			"MESSAGE_ID=%s", MID_COMPACT_RESULT,
			"PRIORITY=%d", LOG_NOTICE,
			"FPT_EVENT=compaction_result",
			"FPT_COMPACT_TARGET=%s", d->compact_target,
			"FPT_COMPACT_SEC=%.3f", d->compact_secs,
			"FPT_FALLBACK_RATE_BEFORE=%.4f", d->compact_rate_before,
			"FPT_FALLBACK_RATE_AFTER=%s", r->valid ? after : "",
			"FPT_UNUSABLE_INDEX_BEFORE=%.4f", d->compact_index_before,
			"FPT_UNUSABLE_INDEX_AFTER=%.4f", d->last_index,
			NULL);
	echo(LOG_NOTICE, msg);
}

/* ---- collecting ---- */

struct dump {
	size_t n, cap;
	struct fpt_policy_info *v;
};

static int dump_cb(const struct fpt_policy_info *p, void *arg)
{
	struct dump *dp = arg;

	if (dp->n == dp->cap) {
		size_t cap = dp->cap ? dp->cap * 2 : 8;
		struct fpt_policy_info *v = realloc(dp->v, cap * sizeof(*v));

		if (!v)
			return 1;
		dp->v = v;
		dp->cap = cap;
	}
	dp->v[dp->n++] = *p;
	return 0;
}

static struct fptd_prev *prev_of(struct fptd *d, uint64_t id)
{
	size_t i;

	for (i = 0; i < d->nprev; i++)
		if (d->prev[i].id == id)
			return &d->prev[i];
	return NULL;
}

static uint64_t reserve_param(bool *ok)
{
	FILE *f = fopen("/sys/module/fpt/parameters/max_unused_kb", "re");
	unsigned long long v = 0;

	*ok = f && fscanf(f, "%llu", &v) == 1;
	if (f)
		fclose(f);
	return v;
}

static uint64_t mem_total(void)
{
	FILE *f = fopen("/proc/meminfo", "re");
	unsigned long long kb = 0;
	char line[256];

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "MemTotal: %llu kB", &kb) == 1)
			break;
	fclose(f);
	return kb * 1024;
}

/* A whole /proc file (their size is not known in advance). */
static char *slurp(const char *path)
{
	size_t cap = 8192, len = 0;
	char *buf = malloc(cap);
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0 || !buf) {
		if (fd >= 0)
			close(fd);
		free(buf);
		return NULL;
	}
	for (;;) {
		ssize_t n;

		if (len + 1 == cap) {
			char *nb = cap < (8u << 20) ? realloc(buf, cap * 2) : NULL;

			if (!nb) {
				free(buf);
				buf = NULL;
				break;
			}
			buf = nb;
			cap *= 2;
		}
		n = read(fd, buf + len, cap - 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n < 0) {
				free(buf);
				buf = NULL;
			}
			break;
		}
		len += (size_t)n;
	}
	close(fd);
	if (buf)
		buf[len] = 0;
	return buf;
}

/*
 * /proc/buddyinfo every report; /proc/pagetypeinfo (only for the movable
 * figure) at most once a minute: the kernel walks every free list of
 * every zone under the zone lock to produce it, a few milliseconds of
 * system time on a 24 GB machine, which at a 1 s interval would be most
 * of what fptd costs.
 */
#define PAGETYPEINFO_EVERY	60.0

static int read_frag(struct fptd *d, struct fpt_frag *f)
{
	static double last = -1e9;
	static uint64_t movable;
	static int have_movable;
	double now = fptd_now();
	char *text = slurp("/proc/buddyinfo");
	int ret;

	if (!text)
		return -errno;
	ret = fpt_frag_parse_buddyinfo(text, f);
	free(text);
	if (ret)
		return ret;
	(void)d;
	if (now - last >= PAGETYPEINFO_EVERY) {
		last = now;
		have_movable = 0;
		text = slurp("/proc/pagetypeinfo");	/* 0400: root only */
		if (text && !fpt_frag_parse_pagetypeinfo(text, f) &&
		    f->have_pagetypeinfo) {
			movable = f->movable_free_pages_ge64k;
			have_movable = 1;
		}
		free(text);
	}
	f->movable_free_pages_ge64k = have_movable ? movable : 0;
	f->have_pagetypeinfo = have_movable;
	return 0;
}

/* @r NULL: the file of a stopped fptd. */
static void write_prom(struct fptd *d, const struct fptd_report *r)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f;
	int ret;

	if (!d->set.prom_dir[0])
		return;
	f = open_memstream(&buf, &len);
	if (!f)
		return;
	ret = r ? fptd_prom_format(r, f) :
		  fptd_prom_format_stopped(FPTD_VERSION, f);
	if (fclose(f) || ret) {
		free(buf);
		return;
	}
	ret = fptd_write_atomic(d->set.prom_dir, d->set.prom_file, buf, len,
				0644, false);
	free(buf);
	if (ret && !d->prom_warned) {
		fptd_log(LOG_WARNING, "cannot write %s/%s: %s (metrics are not exported until it works)",
			 d->set.prom_dir, d->set.prom_file, strerror(-ret));
		d->prom_warned = true;
	} else if (!ret && d->prom_warned) {
		fptd_log(LOG_INFO, "writing %s/%s again", d->set.prom_dir,
			 d->set.prom_file);
		d->prom_warned = false;
	}
	if (!ret)
		d->prom_written = true;
}


static void report(struct fptd *d)
{
	struct fptd_report r = { 0 };
	struct fptd_node_frag nf;
	struct fpt_frag frag;
	struct dump dp = { 0 };
	struct fptd_cg_report *cg = NULL;
	struct fptd_prev *nprev = NULL;
	size_t i, k, ncg = 0;
	bool have_frag;
	long ps = sysconf(_SC_PAGESIZE);

	r.page_size = ps > 0 ? (unsigned int)ps : 4096;
	r.version = FPTD_VERSION;
	r.module_version = d->module_up ? d->module_version : "";
	/* a new connection (the module loaded again): counters from 0 */
	if (d->prev_gen != d->module_gen) {
		free(d->prev);
		d->prev = NULL;
		d->nprev = 0;
		d->have_prev_global = false;
		d->prev_gen = d->module_gen;
	}
	r.interval = d->set.interval;
	r.config_ok = d->config_ok;
	for (i = 0; i < d->nent; i++)
		r.policies[d->ent[i].state]++;

	/* fragmentation */
	have_frag = read_frag(d, &frag) == 0;
	if (have_frag) {
		fptd_node_frag(&frag, &nf);
		d->last_index = frag.unusable_index_o4;
		r.have_frag = true;
		r.frag = &frag;
		r.nodes = &nf;
		switch (fptd_hysteresis(&d->frag_high, true, frag.unusable_index_o4,
					d->set.frag_high, d->set.frag_low)) {
		case FPTD_EDGE_RAISED:
			event_frag(d, &frag, true);
			break;
		case FPTD_EDGE_CLEARED:
			event_frag(d, &frag, false);
			break;
		default:
			break;
		}
	}
	r.frag_high = d->frag_high;

	/* the module */
	r.module_up = d->module_up;
	if (d->module_up && fptnl_global_get(d->nl, &r.global) == 0) {
		bool had_prev = d->have_prev_global, ok;
		uint64_t kb;

		r.have_global = true;
		d->ginfo = r.global;
		fptd_rate_compute(had_prev ? d->prev_global : NULL,
				  r.global.stats, d->set.fb_min_faults,
				  &r.global_rate);
		if (!had_prev)
			r.global_rate.valid = false;
		memcpy(d->prev_global, r.global.stats, sizeof(d->prev_global));
		d->have_prev_global = true;
		d->last_global_rate = r.global_rate;
		kb = reserve_param(&ok);
		if (ok) {
			r.have_reserve_limit = true;
			r.reserve_limit_bytes = fptd_reserve_limit(kb, mem_total());
		}
	}
	if (d->module_up && fptnl_policy_dump(d->nl, dump_cb, &dp) == 0 && dp.n) {
		cg = calloc(dp.n, sizeof(*cg));
		nprev = calloc(dp.n, sizeof(*nprev));
	}
	for (i = 0; cg && nprev && i < dp.n; i++) {
		struct fpt_policy_info *p = &dp.v[i];
		const char *rel = p->path;
		struct fptd_prev *pv;
		bool live = false;
		uint64_t id;

		while (*rel == '/')
			rel++;
		for (k = 0; k < d->nent; k++)
			if (d->ent[k].applied_id == p->cgroup_id)
				live = true;
		if (!live)
			live = !fpt_cgroup_id(d->cgroup_root, rel, &id) &&
			       id == p->cgroup_id;
		if (!live || !p->has_stats)
			continue;	/* a removed cgroup's policy */
		/* the label: relative path, "/" for the root */
		if (!rel[0])
			rel = "/";
		pv = prev_of(d, p->cgroup_id);
		cg[ncg].cgroup = rel;
		cg[ncg].info = p;
		fptd_rate_compute(pv ? pv->c : NULL, p->stats,
				  d->set.fb_min_faults, &cg[ncg].rate);
		nprev[ncg].id = p->cgroup_id;
		memcpy(nprev[ncg].c, p->stats, sizeof(nprev[ncg].c));
		nprev[ncg].fb_high = pv ? pv->fb_high : false;
		/* no previous sample: the interval is unknown, no rate */
		if (!pv)
			cg[ncg].rate.valid = false;
		switch (fptd_hysteresis(&nprev[ncg].fb_high, cg[ncg].rate.valid,
					cg[ncg].rate.rate, d->set.fb_high,
					d->set.fb_low)) {
		case FPTD_EDGE_RAISED:
			event_fallback(d, rel, &cg[ncg].rate, true);
			break;
		case FPTD_EDGE_CLEARED:
			event_fallback(d, rel, &cg[ncg].rate, false);
			break;
		default:
			break;
		}
		cg[ncg].fb_high = nprev[ncg].fb_high;
		ncg++;
	}
	if (d->module_up) {
		free(d->prev);
		d->prev = nprev;
		d->nprev = ncg;
		nprev = NULL;
	}
	r.cg = cg;
	r.nr_cg = ncg;
	r.compactions = d->compactions;

	/* compaction: the result of the last one, then maybe a new one */
	if (d->compact_followup && !d->compacting)
		compact_followup(d, &r.global_rate, have_frag);
	if (!d->compacting && have_frag &&
	    fptd_compact_due(&d->set, d->frag_high, &r.global_rate, fptd_now(),
			     d->compact_last)) {
		compact_start(d, &nf);
		r.compactions = d->compactions;
	}

	write_prom(d, &r);
	free(nprev);
	free(cg);
	free(dp.v);
	fptd_status(d);
}

static int on_report(sd_event_source *s, uint64_t usec, void *arg)
{
	struct fptd *d = arg;

	/* from now, not from when it was due: no bursts after a suspend */
	(void)usec;
	fptd_report_reschedule(d);
	sd_event_source_set_enabled(s, SD_EVENT_ON);
	/* belt and braces: a missed module or cgroup event costs one interval */
	fptd_kernel_probe(d);
	fptd_cgwatch_sync(d);
	fptd_reconcile(d);
	report(d);
	return 0;
}

void fptd_report_reschedule(struct fptd *d)
{
	uint64_t now;

	if (!d->report_src)
		return;
	sd_event_now(d->ev, CLOCK_MONOTONIC, &now);
	sd_event_source_set_time(d->report_src,
				 now + (uint64_t)d->set.interval * 1000000);
}

int fptd_report_start(struct fptd *d)
{
	int ret;

	d->compact_last = -1;
	d->compact_efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (d->compact_efd < 0)
		return -errno;
	ret = sd_event_add_io(d->ev, &d->compact_src, d->compact_efd, EPOLLIN,
			      on_compact_done, d);
	if (ret < 0)
		return ret;
	/* the first report at once: it also creates the Prometheus file */
	ret = sd_event_add_time_relative(d->ev, &d->report_src, CLOCK_MONOTONIC,
					 0, 100000, on_report, d);
	if (ret < 0)
		return ret;
	return sd_event_source_set_enabled(d->report_src, SD_EVENT_ON);
}

void fptd_report_stop(struct fptd *d)
{
	/* node-exporter would go on exporting the last values: mark them */
	if (d->prom_written)
		write_prom(d, NULL);
	if (compact_job) {
		/* compaction cannot be interrupted; wait for it */
		fptd_log(LOG_INFO, "waiting for the running compaction to finish");
		pthread_join(compact_tid, NULL);
		free(compact_job);
		compact_job = NULL;
	}
	d->report_src = sd_event_source_disable_unref(d->report_src);
	d->compact_src = sd_event_source_disable_unref(d->compact_src);
	if (d->compact_efd >= 0)
		close(d->compact_efd);
	d->compact_efd = -1;
}
