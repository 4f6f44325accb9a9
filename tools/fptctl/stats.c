// SPDX-License-Identifier: MIT
/* fptctl stats [--cgroup PATH] [--json] [--watch SECONDS [--count N]] */
#define _GNU_SOURCE
#include "fptctl.h"
#include "format.h"

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char *const stats_help =
"Usage: %s stats [--cgroup PATH | --unit NAME] [--json]\n"
"           [--watch SECONDS [--count N]]\n"
"\n"
"fpt's counters since the module was loaded, for all processes and per\n"
"policy (one row each): 64 KB runs, faults served from a 64 KB block,\n"
"fallbacks to 4 KB pages and their share, memory held in reservations;\n"
"then the fallbacks by reason and the reservations' life cycle.\n"
"  --cgroup PATH  only the policy that governs PATH (its own or its nearest\n"
"                 ancestor's)\n"
"  --json         one JSON document (with --watch: one JSON object per line)\n"
"  --watch S      every S seconds (1..3600), print the counters of the\n"
"                 global scope (or of --cgroup's policy) with the change\n"
"                 since the previous sample and the rate per second; stops\n"
"                 at SIGINT/SIGTERM or after --count samples\n"
"Exit: 0 ok, 1 usage, 2 module not loaded, 4 no such cgroup, 6 no policy\n"
"governs the cgroup, 7 other error.\n";

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static double now_s(int clock)
{
	struct timespec ts;

	clock_gettime(clock, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Read the counters of the scope: global (cg NULL) or cg's policy. */
static int sample(struct fptnl *nl, const struct fpt_cgroup_ref *ref,
		  struct fpt_policy_info *p, struct fpt_global_info *g,
		  uint64_t *out)
{
	int r;

	if (ref) {
		r = fptnl_stats_get(nl, ref, p);
		if (!r)
			memcpy(out, p->stats, sizeof(p->stats));
	} else {
		r = fptnl_global_get(nl, g);
		if (!r)
			memcpy(out, g->stats, sizeof(g->stats));
	}
	return r;
}

static int governed_fail(struct fptnl *nl, int r, const char *display)
{
	if (fptnl_kernel_error(nl) == ENOENT)
		return fail(EXIT_REFUSED, "no policy governs cgroup %s (the "
			    "kernel says: %s)", display, fptnl_extack(nl));
	return nl_fail(nl, r, "reading counters");
}

static int watch(struct fptnl *nl, const struct fpt_cgroup_ref *ref,
		 const char *display, bool json, unsigned long long secs,
		 unsigned long long count)
{
	struct fpt_policy_info *p = malloc(sizeof(*p));
	uint64_t a[FPT_NR_COUNTERS], b[FPT_NR_COUNTERS];
	uint64_t *now = a, *prev = NULL;
	struct fpt_global_info g;
	struct sigaction sa;
	double t_prev = 0;
	unsigned long long n;
	char scope[4200];
	int r, ret = EXIT_OK_;

	if (!p)
		return fail(EXIT_OTHER, "out of memory");
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	setvbuf(stdout, NULL, _IOLBF, 0);
	for (n = 0; !stop && (!count || n < count); n++) {
		struct watch_sample w;
		double t;

		if (n) {
			struct timespec ts = { .tv_sec = (time_t)secs };

			/* a signal cuts the sleep short: then stop */
			if (nanosleep(&ts, NULL) && stop)
				break;
		}
		r = sample(nl, ref, p, &g, now);
		if (r) {
			ret = ref ? governed_fail(nl, r, display) :
				    nl_fail(nl, r, "reading counters");
			break;
		}
		t = now_s(CLOCK_MONOTONIC);
		if (ref)
			snprintf(scope, sizeof(scope), "policy %s",
				 p->path[0] ? p->path : "?");
		else
			snprintf(scope, sizeof(scope), "global");
		w.scope = scope;
		w.time = now_s(CLOCK_REALTIME);
		w.interval = prev ? t - t_prev : 0;
		w.now = now;
		w.prev = prev;
		w.page_size = fpt_pm_page_size();
		if (json)
			json_watch(stdout, &w);
		else
			print_watch(stdout, &w);
		if (fflush(stdout) || ferror(stdout)) {
			ret = fail(EXIT_OTHER, "writing the output: %s",
				   strerror(errno ? errno : EIO));
			break;
		}
		t_prev = t;
		prev = now;
		now = now == a ? b : a;
	}
	free(p);
	return ret;
}

int stats_main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "cgroup", required_argument, NULL, 'c' },
		{ "unit", required_argument, NULL, 'u' },
		{ "json", no_argument, NULL, 'j' },
		{ "watch", required_argument, NULL, 'w' },
		{ "count", required_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const char *path = NULL, *unit = NULL;
	unsigned long long secs = 0, count = 0;
	struct stats_info s = { .have_global = false };
	struct fpt_policy_info *v = NULL;
	struct cgroup_arg *cg = NULL;
	struct fpt_cgroup_ref ref;
	struct fptnl *nl = NULL;
	bool json = false;
	int c, r, ret;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "hj", opts, NULL)) != -1) {
		switch (c) {
		case 'c': path = optarg; break;
		case 'u': unit = optarg; break;
		case 'j': json = true; break;
		case 'w':
			if (!parse_uint(optarg, 3600, &secs) || !secs)
				return fail(EXIT_USAGE_, "--watch: seconds, "
					    "1 to 3600, not '%s'", optarg);
			break;
		case 'n':
			if (!parse_uint(optarg, 1000000000ULL, &count) ||
			    !count)
				return fail(EXIT_USAGE_, "--count: a positive "
					    "number, not '%s'", optarg);
			break;
		case 'h':
			printf(stats_help, prog);
			return EXIT_OK_;
		default:
			return fail(EXIT_USAGE_, "stats: bad option '%s' (see "
				    "%s stats --help)", argv[optind - 1], prog);
		}
	}
	if (optind < argc)
		return fail(EXIT_USAGE_, "stats: unexpected argument '%s'",
			    argv[optind]);
	if (path && unit)
		return fail(EXIT_USAGE_, "stats: --cgroup and --unit exclude "
			    "each other");
	if (count && !secs)
		return fail(EXIT_USAGE_, "stats: --count needs --watch");

	if (path || unit) {
		cg = calloc(1, sizeof(*cg));
		if (!cg)
			return fail(EXIT_OTHER, "out of memory");
		ret = resolve_cgroup(path, unit, true, cg);
		if (ret)
			goto out;
		ref.id = cg->id;
		ref.path = NULL;
	}
	ret = open_nl(&nl);
	if (ret)
		goto out;
	if (secs) {
		ret = watch(nl, cg ? &ref : NULL, cg ? cg->display : NULL,
			    json, secs, count);
		goto out;
	}

	r = fptnl_global_get(nl, &s.global);
	if (r) {
		ret = nl_fail(nl, r, "reading the global counters");
		goto out;
	}
	s.have_global = true;
	if (cg) {
		v = malloc(sizeof(*v));
		if (!v) {
			ret = fail(EXIT_OTHER, "out of memory");
			goto out;
		}
		r = fptnl_stats_get(nl, &ref, v);
		if (r) {
			ret = governed_fail(nl, r, cg->display);
			goto out;
		}
		s.nr_policies = 1;
		s.cgroup = cg->display;
	} else {
		ret = collect_policies(nl, &v, &s.nr_policies);
		if (ret)
			goto out;
	}
	s.policies = v;
	s.page_size = fpt_pm_page_size();
	if (json)
		json_stats(stdout, &s);
	else
		print_stats(stdout, &s);
	ret = EXIT_OK_;
out:
	fptnl_close(nl);
	free(v);
	free(cg);
	return ret;
}
