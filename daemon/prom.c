// SPDX-License-Identifier: MIT
/* fptd's Prometheus text file (see prom.h; names in daemon/README.md). */
#include "prom.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define NAME(e, n, h) #n,
static const char *const cname[FPT_NR_COUNTERS] = { FPT_COUNTERS(NAME) };
#undef NAME

const char *fptd_prom_escape(const char *in, char *buf, size_t len)
{
	size_t o = 0;

	if (!len)
		return buf;
	for (; *in && o + 3 < len; in++) {
		if (*in == '\\' || *in == '"') {
			buf[o++] = '\\';
			buf[o++] = *in;
		} else if (*in == '\n') {
			buf[o++] = '\\';
			buf[o++] = 'n';
		} else {
			buf[o++] = *in;
		}
	}
	buf[o] = 0;
	return buf;
}

static void family(FILE *f, const char *name, const char *type,
		   const char *help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void sample_u(FILE *f, const char *name, uint64_t v)
{
	fprintf(f, "%s %llu\n", name, (unsigned long long)v);
}

static void sample_d(FILE *f, const char *name, double v)
{
	fprintf(f, "%s %.6g\n", name, v);
}

/* "fallback_no_block" -> "no_block" */
static const char *suffix(unsigned int idx, const char *prefix)
{
	size_t l = strlen(prefix);

	return strncmp(cname[idx], prefix, l) ? cname[idx] : cname[idx] + l;
}

static int cmp_cg(const void *a, const void *b)
{
	const struct fptd_cg_report *x = *(const struct fptd_cg_report *const *)a;
	const struct fptd_cg_report *y = *(const struct fptd_cg_report *const *)b;

	return strcmp(x->cgroup, y->cgroup);
}

struct cgl {
	const struct fptd_cg_report *r;
	char *label;
};

static void global_metrics(const struct fptd_report *r, FILE *f)
{
	const uint64_t *c = r->global.stats;
	unsigned int i;

	family(f, "fpt_enabled", "gauge",
	       "Whether fpt is enabled (/sys/kernel/fpt/enabled).");
	sample_u(f, "fpt_enabled", r->global.enabled);
	family(f, "fpt_backend_available", "gauge",
	       "Backends this kernel supports (1) or not (0).");
	fprintf(f, "fpt_backend_available{backend=\"folio\"} %d\n",
		!!(r->global.backends & (1u << FPT_BACKEND_FOLIO)));
	fprintf(f, "fpt_backend_available{backend=\"reserve\"} %d\n",
		!!(r->global.backends & (1u << FPT_BACKEND_RESERVE)));
	family(f, "fpt_policies", "gauge", "Policies in the kernel.");
	sample_u(f, "fpt_policies", r->global.nr_policies);
	family(f, "fpt_runs_total", "counter",
	       "64 KB runs mapped, all processes.");
	sample_u(f, "fpt_runs_total", c[FPT_C_RUNS]);
	family(f, "fpt_faults_64k_total", "counter",
	       "Faults served from a 64 KB block, all processes.");
	sample_u(f, "fpt_faults_64k_total", c[FPT_C_FAULTS_64K]);
	family(f, "fpt_fallbacks_total", "counter",
	       "Faults of opted-in processes that got a 4 KB page, by reason.");
	for (i = FPT_C_FB_NO_BLOCK; i <= FPT_C_FB_NOMEM; i++)
		fprintf(f, "fpt_fallbacks_total{reason=\"%s\"} %llu\n",
			suffix(i, "fallback_"), (unsigned long long)c[i]);
	family(f, "fpt_reservations_total", "counter",
	       "64 KB reservations (reserve backend), by event.");
	for (i = FPT_C_RESV_CREATED; i <= FPT_C_RESV_RECLAIMED; i++)
		fprintf(f, "fpt_reservations_total{event=\"%s\"} %llu\n",
			suffix(i, "resv_"), (unsigned long long)c[i]);
	family(f, "fpt_reserve_unused_bytes", "gauge",
	       "Memory held in reservations, not yet handed out.");
	sample_u(f, "fpt_reserve_unused_bytes",
		 c[FPT_C_RESV_UNUSED_PAGES] * r->page_size);
	if (r->have_reserve_limit) {
		family(f, "fpt_reserve_limit_bytes", "gauge",
		       "Cap on memory held in reservations (module parameter max_unused_kb).");
		sample_u(f, "fpt_reserve_limit_bytes", r->reserve_limit_bytes);
	}
	if (r->global_rate.valid) {
		family(f, "fpt_fallback_ratio", "gauge",
		       "Fallbacks / (fallbacks + 64 KB faults) over the last interval, all processes.");
		sample_d(f, "fpt_fallback_ratio", r->global_rate.rate);
	}
}

static int cgroup_metrics(const struct fptd_report *r, FILE *f)
{
	struct cgl *l;
	const struct fptd_cg_report **order;
	size_t n = r->nr_cg, k;
	unsigned int i;
	int ret = 0;
	bool any;

	if (!n)
		return 0;
	order = calloc(n, sizeof(*order));
	l = calloc(n, sizeof(*l));
	if (!order || !l) {
		free(order);
		free(l);
		return -ENOMEM;
	}
	for (k = 0; k < n; k++)
		order[k] = &r->cg[k];
	qsort(order, n, sizeof(*order), cmp_cg);
	for (k = 0; k < n; k++) {
		size_t len = 2 * strlen(order[k]->cgroup) + 4;

		l[k].r = order[k];
		l[k].label = malloc(len);
		if (!l[k].label) {
			ret = -ENOMEM;
			goto out;
		}
		fptd_prom_escape(order[k]->cgroup, l[k].label, len);
	}

	family(f, "fpt_cgroup_policy_info", "gauge",
	       "The policy of a cgroup (always 1; the policy is in the labels).");
	for (k = 0; k < n; k++) {
		const struct fpt_policy_info *p = l[k].r->info;
		const char *m = fpt_mode_name(p->mode);
		const char *b = fpt_backend_name(p->backend);
		const char *ba = fpt_backend_name(p->backend_active);

		fprintf(f, "fpt_cgroup_policy_info{cgroup=\"%s\",mode=\"%s\",defrag=\"%s\",backend=\"%s\",backend_active=\"%s\",thp2m=\"%s\"} 1\n",
			l[k].label, m ? m : "unknown",
			p->defrag ? "yes" : "no", b ? b : "unknown",
			ba ? ba : "unknown",
			(p->flags & FPT_F_NO_PMD_THP) ? "deny" : "allow");
	}

#define EACH_STATS for (k = 0; k < n; k++) if (l[k].r->info->has_stats)
	any = false;
	EACH_STATS any = true;
	if (any) {
		family(f, "fpt_cgroup_runs_total", "counter",
		       "64 KB runs mapped in the cgroup (and its descendants).");
		EACH_STATS fprintf(f, "fpt_cgroup_runs_total{cgroup=\"%s\"} %llu\n",
				   l[k].label, (unsigned long long)
				   l[k].r->info->stats[FPT_C_RUNS]);
		family(f, "fpt_cgroup_faults_64k_total", "counter",
		       "Faults served from a 64 KB block in the cgroup.");
		EACH_STATS fprintf(f, "fpt_cgroup_faults_64k_total{cgroup=\"%s\"} %llu\n",
				   l[k].label, (unsigned long long)
				   l[k].r->info->stats[FPT_C_FAULTS_64K]);
		family(f, "fpt_cgroup_fallbacks_total", "counter",
		       "Faults in the cgroup that got a 4 KB page, by reason.");
		EACH_STATS for (i = FPT_C_FB_NO_BLOCK; i <= FPT_C_FB_NOMEM; i++)
			fprintf(f, "fpt_cgroup_fallbacks_total{cgroup=\"%s\",reason=\"%s\"} %llu\n",
				l[k].label, suffix(i, "fallback_"),
				(unsigned long long)l[k].r->info->stats[i]);
		family(f, "fpt_cgroup_reservations_total", "counter",
		       "64 KB reservations in the cgroup, by event.");
		EACH_STATS for (i = FPT_C_RESV_CREATED; i <= FPT_C_RESV_RECLAIMED; i++)
			fprintf(f, "fpt_cgroup_reservations_total{cgroup=\"%s\",event=\"%s\"} %llu\n",
				l[k].label, suffix(i, "resv_"),
				(unsigned long long)l[k].r->info->stats[i]);
		family(f, "fpt_cgroup_reserve_unused_bytes", "gauge",
		       "Memory held in the cgroup's reservations, not yet handed out.");
		EACH_STATS fprintf(f, "fpt_cgroup_reserve_unused_bytes{cgroup=\"%s\"} %llu\n",
				   l[k].label, (unsigned long long)
				   (l[k].r->info->stats[FPT_C_RESV_UNUSED_PAGES] *
				    r->page_size));
	}
#undef EACH_STATS
	any = false;
	for (k = 0; k < n; k++)
		any |= l[k].r->rate.valid;
	if (any) {
		family(f, "fpt_cgroup_fallback_ratio", "gauge",
		       "Fallbacks / (fallbacks + 64 KB faults) in the cgroup over the last interval.");
		for (k = 0; k < n; k++)
			if (l[k].r->rate.valid)
				fprintf(f, "fpt_cgroup_fallback_ratio{cgroup=\"%s\"} %.6g\n",
					l[k].label, l[k].r->rate.rate);
	}
	family(f, "fptd_cgroup_fallback_high", "gauge",
	       "1 while the cgroup's fallback ratio alarm is raised (see fallback_rate_high/low).");
	for (k = 0; k < n; k++)
		fprintf(f, "fptd_cgroup_fallback_high{cgroup=\"%s\"} %d\n",
			l[k].label, l[k].r->fb_high);
out:
	for (k = 0; k < n; k++)
		free(l[k].label);
	free(order);
	free(l);
	return ret;
}

static void frag_metrics(const struct fptd_report *r, FILE *f)
{
	const struct fpt_frag *fr = r->frag;
	int n;

	family(f, "fpt_free_bytes", "gauge", "Free memory (/proc/buddyinfo).");
	sample_u(f, "fpt_free_bytes", fr->free_pages * r->page_size);
	family(f, "fpt_free_64k_bytes", "gauge",
	       "Free memory in blocks of 64 KB or more (order >= 4).");
	sample_u(f, "fpt_free_64k_bytes", fr->free_pages_ge64k * r->page_size);
	if (fr->have_pagetypeinfo) {
		family(f, "fpt_movable_free_64k_bytes", "gauge",
		       "Free movable memory in blocks of 64 KB or more (/proc/pagetypeinfo).");
		sample_u(f, "fpt_movable_free_64k_bytes",
			 fr->movable_free_pages_ge64k * r->page_size);
	}
	family(f, "fpt_unusable_order4_ratio", "gauge",
	       "Fraction of free memory that cannot serve a 64 KB block (unusable free space index, order 4).");
	sample_d(f, "fpt_unusable_order4_ratio", fr->unusable_index_o4);
	if (r->nodes && r->nodes->nr) {
		family(f, "fpt_node_unusable_order4_ratio", "gauge",
		       "Unusable free space index for order 4, per NUMA node.");
		for (n = 0; n < r->nodes->nr; n++)
			fprintf(f, "fpt_node_unusable_order4_ratio{node=\"%d\"} %.6g\n",
				r->nodes->node[n], r->nodes->index[n]);
	}
	family(f, "fptd_fragmentation_high", "gauge",
	       "1 while the fragmentation alarm is raised (see unusable_index_high/low).");
	sample_u(f, "fptd_fragmentation_high", r->frag_high);
}

int fptd_prom_format(const struct fptd_report *r, FILE *f)
{
	static const char *const state[FPTD_POL_NR] = {
		[FPTD_POL_APPLIED] = "applied",
		[FPTD_POL_WAITING] = "waiting",
		[FPTD_POL_REFUSED] = "refused",
		[FPTD_POL_NO_MODULE] = "no_module",
		[FPTD_POL_OVERRIDDEN] = "overridden",
	};
	char a[128], b[128];
	int i, ret = 0;

	family(f, "fpt_build_info", "gauge",
	       "Versions of fptd and of the loaded fpt module (always 1).");
	fprintf(f, "fpt_build_info{version=\"%s\",module_version=\"%s\"} 1\n",
		fptd_prom_escape(r->version ? r->version : "", a, sizeof(a)),
		fptd_prom_escape(r->module_version ? r->module_version : "",
				 b, sizeof(b)));
	family(f, "fptd_up", "gauge",
	       "1 while fptd runs and writes this file; 0 once it stopped.");
	sample_u(f, "fptd_up", 1);
	family(f, "fpt_up", "gauge",
	       "1 if the fpt module is loaded and answers fptd.");
	sample_u(f, "fpt_up", r->module_up);
	if (r->module_up && r->have_global)
		global_metrics(r, f);
	if (r->module_up)
		ret = cgroup_metrics(r, f);
	if (r->have_frag && r->frag)
		frag_metrics(r, f);
	family(f, "fptd_report_interval_seconds", "gauge",
	       "Seconds between fptd's reports.");
	sample_u(f, "fptd_report_interval_seconds", r->interval);
	family(f, "fptd_policies", "gauge",
	       "fptd's configured policies, by state.");
	for (i = 0; i < FPTD_POL_NR; i++)
		fprintf(f, "fptd_policies{state=\"%s\"} %u\n", state[i],
			r->policies[i]);
	family(f, "fptd_config_last_reload_successful", "gauge",
	       "Whether the last configuration (re)load succeeded.");
	sample_u(f, "fptd_config_last_reload_successful", r->config_ok);
	family(f, "fptd_compactions_total", "counter",
	       "Memory compactions fptd triggered.");
	sample_u(f, "fptd_compactions_total", r->compactions);
	if (ferror(f))
		return -EIO;
	return ret;
}

int fptd_prom_format_stopped(const char *version, FILE *f)
{
	char a[128];

	family(f, "fpt_build_info", "gauge",
	       "Versions of fptd and of the loaded fpt module (always 1).");
	fprintf(f, "fpt_build_info{version=\"%s\",module_version=\"\"} 1\n",
		fptd_prom_escape(version, a, sizeof(a)));
	family(f, "fptd_up", "gauge",
	       "1 while fptd runs and writes this file; 0 once it stopped.");
	sample_u(f, "fptd_up", 0);
	return ferror(f) ? -EIO : 0;
}
