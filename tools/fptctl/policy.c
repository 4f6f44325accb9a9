// SPDX-License-Identifier: MIT
/* fptctl enable, disable, status. */
#define _GNU_SOURCE
#include "fptctl.h"
#include "format.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cgpath.h"
#include "control.h"
#include "errname.h"

/* ---- fptd ---- */

/* Is fptd running? 1 yes (fd set), 0 no, or -errno (e.g. -EACCES). */
static int daemon_connect(int *fd)
{
	int ret = fpt_control_connect(NULL, fd);

	if (!ret)
		return 1;
	if (ret == -ENOENT || ret == -ECONNREFUSED || ret == -ENOTDIR)
		return 0;
	return ret;
}

static const char *daemon_socket(void)
{
	const char *s = getenv("FPT_CONTROL_SOCKET");

	return s && *s ? s : FPT_CONTROL_SOCKET;
}

/*
 * Send @req to fptd; returns an exit code, printing why on failure.  On
 * success *@okt (if not NULL) points at fptd's text after "ok ".
 */
static int daemon_request(int fd, const char *req, const char *what,
			  char *reply, size_t len, const char **okt)
{
	const char *text;
	int ret, e;

	ret = fpt_control_request(fd, req, reply, len, 10000);
	if (ret)
		return fail(EXIT_OTHER, "%s: talking to fptd (%s): %s", what,
			    daemon_socket(), strerror(-ret));
	e = fpt_control_status(reply, &text);
	if (e < 0)
		return fail(EXIT_OTHER, "%s: fptd sent a reply that is not "
			    "\"ok\" or \"err\": %.200s", what, reply);
	if (e == 0) {
		if (okt)
			*okt = text;
		return EXIT_OK_;
	}
	switch (e) {
	case EPERM:
	case EACCES:
		return fail(EXIT_PERM, "%s: fptd: permission denied%s%s", what,
			    text[0] ? ": " : "", text);
	case EBUSY:
		return fail(EXIT_REFUSED, "%s: fptd refused (EBUSY): %s", what,
			    text[0] ? text : "busy");
	case ENOENT:
		return fail(EXIT_NOCGROUP, "%s: fptd: %s", what,
			    text[0] ? text : "no such cgroup or policy");
	case ENODEV:
		return fail(EXIT_NOMODULE, "%s: fptd: %s", what,
			    text[0] ? text : "fpt.ko is not loaded");
	default:
		return fail(EXIT_REFUSED, "%s: fptd refused (%s): %s", what,
			    fpt_errno_name(e), text[0] ? text : strerror(e));
	}
}

/* The cgroup as fptd's protocol names it. */
static const char *daemon_path(const struct cgroup_arg *cg)
{
	return cg->rel[0] ? cg->rel : "/";
}

/* ---- enable / disable ---- */

static const char *skip_slashes(const char *s)
{
	while (*s == '/')
		s++;
	return s;
}

/* The id of the policy recorded with path @kpath ("/db"); 0 if none. */
static int find_policy_by_path(struct fptnl *nl, const char *kpath,
			       uint64_t *id)
{
	struct fpt_policy_info *v;
	int n, i, ret;

	*id = 0;
	ret = collect_policies(nl, &v, &n);
	if (ret)
		return ret;
	for (i = 0; i < n; i++)
		if (!strcmp(skip_slashes(v[i].path), skip_slashes(kpath)))
			*id = v[i].cgroup_id;
	free(v);
	return 0;
}

struct change_opts {
	const char *path, *unit;
	bool persistent, direct, root;
};

static const char *const enable_help =
"Usage: %s enable (--cgroup PATH | --unit NAME) [--mode on|madvise|off]\n"
"           [--defrag yes|no] [--backend auto|folio|reserve]\n"
"           [--thp2m allow|deny] [--persistent | --direct] [--root]\n"
"\n"
"Give a cgroup (and its descendants) a policy; replaces one it had.\n"
"  --cgroup PATH   relative to the cgroup2 mount (db, system.slice/x.service)\n"
"                  or absolute under it (/sys/fs/cgroup/db); / is the root\n"
"                  cgroup, i.e. every process, and needs --root\n"
"  --unit NAME     the cgroup of a running systemd unit (.service by default)\n"
"  --mode MODE     on: every private anonymous mapping (default); madvise:\n"
"                  only MADV_HUGEPAGE ones; off: exclude this subtree even\n"
"                  inside an opted-in parent\n"
"  --defrag yes|no may compact/reclaim to find a free 64 KB block (no)\n"
"  --backend B     auto (folio where the kernel has mTHP, else reserve),\n"
"                  folio, reserve (auto)\n"
"  --thp2m allow|deny  deny: no 2 MB THP in this cgroup (allow)\n"
"  --persistent    fail (exit 5) unless fptd runs to persist the change\n"
"  --direct        go straight to the kernel even if fptd runs (not\n"
"                  persistent)\n"
"  --root          confirm a policy for the root cgroup (--cgroup /)\n"
"\n"
"Through fptd when it runs (persistent); otherwise to the kernel directly,\n"
"with a warning: such a change is lost at reboot or module reload.\n"
"Exit: 0 ok, 1 usage, 2 module not loaded, 3 permission denied, 4 no such\n"
"cgroup or unit, 5 fptd not running (--persistent), 6 refused (the\n"
"kernel's or fptd's reason is printed), 7 other error.\n";

static const char *const disable_help =
"Usage: %s disable (--cgroup PATH | --unit NAME) [--persistent | --direct]\n"
"\n"
"Remove a cgroup's policy (its descendants then follow the nearest\n"
"ancestor with a policy, if any).  A policy whose cgroup was removed can\n"
"still be named by its old path.  Options as for enable.\n"
"Exit: 0 ok, 1 usage, 2 module not loaded, 3 permission denied, 4 no such\n"
"cgroup, 5 fptd not running (--persistent), 6 refused (e.g. the cgroup has\n"
"no policy), 7 other error.\n";

/* One line: what was done where; @fptd: fptd's reply ("applied to ...",
 * "saved; the cgroup does not exist yet ..."), NULL when not via fptd. */
static void report_applied(const char *what, const struct cgroup_arg *cg,
			   const char *words, const char *fptd, bool direct)
{
	char d[4200 * 4], t[1024];

	fmt_term(d, sizeof(d), cg->display);
	if (fptd)
		printf("%s %s%s%s: via fptd (persistent)%s%s\n", what, d,
		       words ? ": " : "", words ? words : "",
		       fptd[0] ? ": " : "", fmt_term(t, sizeof(t), fptd));
	else
		printf("%s %s%s%s: applied %s\n", what, d, words ? ": " : "",
		       words ? words : "",
		       direct ? "to the kernel directly (not persistent: --direct)" :
		       "to the kernel directly (not persistent: fptd is not running)");
}

/*
 * Decide the route; returns 1 to use fptd (fd set), 0 for the kernel, or
 * an exit code + 100 on failure (printed).
 */
static int route(const struct change_opts *o, int *fd)
{
	int r;

	if (o->direct)
		return 0;
	r = daemon_connect(fd);
	if (r == 1)
		return 1;
	if (r < 0)
		return 100 + fail(r == -EACCES || r == -EPERM ? EXIT_PERM :
				  EXIT_OTHER, "cannot talk to fptd at %s: %s",
				  daemon_socket(), strerror(-r));
	if (o->persistent)
		return 100 + fail(EXIT_NODAEMON, "fptd is not running (no %s): "
				  "--persistent needs it", daemon_socket());
	return 0;
}

static void warn_not_persistent(void)
{
	warnx_("warning: fptd is not running: this change goes to the kernel "
	       "only and will not survive a reboot or a module reload");
}

static int parse_yes_no(const char *s, const char *yes, const char *no)
{
	if (!strcmp(s, yes))
		return 1;
	if (!strcmp(s, no))
		return 0;
	return -1;
}

static int change_main(int argc, char **argv, bool enable)
{
	static const struct option opts[] = {
		{ "cgroup", required_argument, NULL, 'c' },
		{ "unit", required_argument, NULL, 'u' },
		{ "mode", required_argument, NULL, 'm' },
		{ "defrag", required_argument, NULL, 'd' },
		{ "backend", required_argument, NULL, 'b' },
		{ "thp2m", required_argument, NULL, 't' },
		{ "persistent", no_argument, NULL, 'p' },
		{ "direct", no_argument, NULL, 'D' },
		{ "root", no_argument, NULL, 'R' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct change_opts o = { NULL };
	const char *okt = "";
	int mode = FPT_MODE_ON, defrag = 0, backend = FPT_BACKEND_AUTO;
	uint32_t flags = 0;
	const char *what = enable ? "enable" : "disable";
	char words[256], req[FPT_CONTROL_MAX], reply[FPT_CONTROL_MAX];
	struct cgroup_arg *cg;
	struct fptnl *nl;
	int c, r, fd = -1, ret;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (!enable && c && strchr("mdbtR", c))
			return fail(EXIT_USAGE_, "disable takes no --mode, "
				    "--defrag, --backend, --thp2m or --root");
		switch (c) {
		case 'c': o.path = optarg; break;
		case 'u': o.unit = optarg; break;
		case 'm':
			mode = fpt_mode_parse(optarg);
			if (mode < 0)
				return fail(EXIT_USAGE_, "--mode: on, madvise "
					    "or off, not '%s'", optarg);
			break;
		case 'd':
			defrag = parse_yes_no(optarg, "yes", "no");
			if (defrag < 0)
				return fail(EXIT_USAGE_, "--defrag: yes or no, "
					    "not '%s'", optarg);
			break;
		case 'b':
			backend = fpt_backend_parse(optarg);
			if (backend < 0)
				return fail(EXIT_USAGE_, "--backend: auto, "
					    "folio or reserve, not '%s'",
					    optarg);
			break;
		case 't':
			r = parse_yes_no(optarg, "deny", "allow");
			if (r < 0)
				return fail(EXIT_USAGE_, "--thp2m: allow or "
					    "deny, not '%s'", optarg);
			flags = r ? FPT_F_NO_PMD_THP : 0;
			break;
		case 'p': o.persistent = true; break;
		case 'D': o.direct = true; break;
		case 'R': o.root = true; break;
		case 'h':
			printf(enable ? enable_help : disable_help, prog);
			return EXIT_OK_;
		default:
			return fail(EXIT_USAGE_, "%s: bad option '%s' (see %s "
				    "%s --help)", what, argv[optind - 1], prog,
				    what);
		}
	}
	if (optind < argc)
		return fail(EXIT_USAGE_, "%s: unexpected argument '%s'", what,
			    argv[optind]);
	if (!o.path == !o.unit)
		return fail(EXIT_USAGE_, "%s: give exactly one of --cgroup and "
			    "--unit", what);
	if (o.persistent && o.direct)
		return fail(EXIT_USAGE_, "%s: --persistent and --direct "
			    "exclude each other", what);

	cg = calloc(1, sizeof(*cg));
	if (!cg)
		return fail(EXIT_OTHER, "out of memory");
	/*
	 * The cgroup need not exist: fptd holds a policy for a cgroup that
	 * does not exist yet (a slice systemd creates on demand) and applies
	 * it when it appears, and a removed cgroup's policy can still be
	 * disabled by its path.  Only the kernel needs an existing cgroup.
	 */
	ret = resolve_cgroup(o.path, o.unit, false, cg);
	if (ret)
		goto out;
	/* every process on the host: never by accident (a blank variable) */
	if (enable && !cg->rel[0] && !o.root) {
		ret = fail(EXIT_USAGE_, "enable: %s is the root cgroup: its "
			   "policy covers every process on the host; add "
			   "--root if that is meant", cg->display);
		goto out;
	}
	if (enable && cg->rel[0] && o.root) {
		ret = fail(EXIT_USAGE_, "enable: --root is only for the root "
			   "cgroup (--cgroup /)");
		goto out;
	}
	fmt_policy_words(words, sizeof(words), (uint8_t)mode, (uint8_t)defrag,
			 (uint8_t)backend, flags);

	r = route(&o, &fd);
	if (r >= 100) {
		ret = r - 100;
		goto out;
	}
	if (r == 1) {
		if (enable)
			snprintf(req, sizeof(req), "set %s %s%s",
				 daemon_path(cg), words,
				 o.root ? " root=yes" : "");
		else
			snprintf(req, sizeof(req), "del %s", daemon_path(cg));
		if (!fpt_control_word_ok(daemon_path(cg))) {
			ret = fail(EXIT_USAGE_, "%s: fptd's protocol cannot "
				   "carry a cgroup name with spaces or control "
				   "characters; use --direct", what);
			goto out;
		}
		ret = daemon_request(fd, req, what, reply, sizeof(reply),
				     &okt);
		/* with fptd's word on it: applied, waiting, no module */
		if (!ret)
			report_applied(enable ? "enabled" : "disabled", cg,
				       enable ? words : NULL, okt, false);
		goto out;
	}
	if (enable && !cg->id) {
		ret = fail(EXIT_NOCGROUP, "no such cgroup: %s%s%s (only fptd "
			   "can hold a policy for a cgroup that does not "
			   "exist yet)", cg->mnt, cg->rel[0] ? "/" : "",
			   cg->rel);
		goto out;
	}

	/* straight to the kernel */
	ret = open_nl(&nl);
	if (ret)
		goto out;
	if (!o.direct)
		warn_not_persistent();
	if (enable) {
		struct fpt_cgroup_ref ref = { .id = cg->id, .path = cg->kpath };

		r = fptnl_policy_set(nl, &ref, (uint8_t)mode, (uint8_t)defrag,
				     (uint8_t)backend, flags);
		/*
		 * The path (kept by the kernel to name the policy once the
		 * cgroup is gone) is resolved from the initial cgroup
		 * namespace's root, which a process inside another cgroup
		 * namespace cannot always name: then the id alone.
		 */
		if (r && (fptnl_kernel_error(nl) == EINVAL ||
			  fptnl_kernel_error(nl) == ENOENT)) {
			ref.path = NULL;
			r = fptnl_policy_set(nl, &ref, (uint8_t)mode,
					     (uint8_t)defrag, (uint8_t)backend,
					     flags);
		}
		if (r && fptnl_kernel_error(nl) == ENOENT)
			ret = fail(EXIT_NOCGROUP, "enable: the kernel knows no "
				   "cgroup %s: %s", cg->display,
				   fptnl_extack(nl));
		else if (r)
			ret = nl_fail(nl, r, what);
	} else {
		struct fpt_cgroup_ref ref = { .id = cg->id };

		ret = 0;
		if (!cg->id)	/* gone: find its policy by its recorded path */
			ret = find_policy_by_path(nl, cg->kpath, &ref.id);
		if (!ret && !ref.id)
			ret = fail(EXIT_NOCGROUP, "no such cgroup: %s/%s (and "
				   "no policy recorded with that path)",
				   cg->mnt, cg->rel);
		if (!ret) {
			r = fptnl_policy_del(nl, &ref);
			if (r)
				ret = nl_fail(nl, r, what);
		}
	}
	if (!ret) {
		const char *w = fptnl_extack(nl);

		if (w[0])
			warnx_("the kernel says: %s", w);
		report_applied(enable ? "enabled" : "disabled", cg,
			       enable ? words : NULL, NULL, o.direct);
	}
	fptnl_close(nl);
out:
	if (fd >= 0)
		close(fd);
	free(cg);
	return ret;
}

int enable_main(int argc, char **argv)
{
	return change_main(argc, argv, true);
}

int disable_main(int argc, char **argv)
{
	return change_main(argc, argv, false);
}

/* ---- status ---- */

static const char *const status_help =
"Usage: %s status [--json]\n"
"\n"
"Whether fpt.ko is loaded, its version, the backends this kernel has,\n"
"whether fpt is enabled, whether fptd runs and what it says, fptd's\n"
"policies with their state (applied, waiting, refused, no_module,\n"
"overridden), and every policy in the kernel (with whether fptd\n"
"persists it).\n"
"Exit: 0 ok, 1 usage, 2 module not loaded (the rest is still shown),\n"
"7 other error.\n";

/* A whole small file, trailing newline cut; "" on error. */
static void read_line_file(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "re");

	buf[0] = 0;
	if (!f)
		return;
	if (!fgets(buf, (int)len, f))
		buf[0] = 0;
	buf[strcspn(buf, "\n")] = 0;
	fclose(f);
}

/* "folio [reserve]"-style list: the bracketed one is what auto means. */
static int default_backend(void)
{
	char buf[128], *a, *b;

	read_line_file("/sys/kernel/fpt/backend", buf, sizeof(buf));
	a = strchr(buf, '[');
	b = a ? strchr(a, ']') : NULL;
	if (!b)
		return -1;
	*b = 0;
	return fpt_backend_parse(a + 1);
}

/*
 * fptd's view: its status line and its policies with their states (the
 * "status" and "list" replies), and which kernel policies it persists.
 * Nothing is filled in if fptd does not answer.
 */
struct daemon_view {
	char *status;				/* NULL if unknown */
	struct fpt_control_policy *v;
	int n;					/* -1 if unknown */
};

static void daemon_view(int fd, struct daemon_view *dv)
{
	char *reply = malloc(1 << 20), *line, *save = NULL;
	const char *text;
	int r, e;
	void *nv;

	dv->status = NULL;
	dv->v = NULL;
	dv->n = -1;
	if (!reply)
		return;
	/* an older fptd has no "status" (EINVAL): then the list only */
	r = fpt_control_request(fd, "status", reply, 1 << 20, 10000);
	e = r ? -1 : fpt_control_status(reply, &text);
	if (e == 0)
		dv->status = strdup(text);
	else if (e > 0 && e != EINVAL) {
		/* e.g. EBUSY: every slot taken */
		warnx_("fptd refused (%s): %s", fpt_errno_name(e), text);
		free(reply);
		return;
	}
	if (fpt_control_request(fd, "list", reply, 1 << 20, 10000) ||
	    fpt_control_status(reply, NULL) != 0) {
		free(reply);
		return;
	}
	dv->n = 0;
	for (line = strtok_r(reply, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		nv = realloc(dv->v, ((size_t)dv->n + 1) * sizeof(*dv->v));
		if (!nv)
			break;
		dv->v = nv;
		if (!fpt_control_parse_policy(line, &dv->v[dv->n]))
			dv->n++;
	}
	free(reply);
}

/* Mark the kernel's policies that fptd has on record. */
static void mark_persistent(const struct daemon_view *dv,
			    const struct fpt_policy_info *v, int n,
			    int *persistent)
{
	int i, k;

	for (i = 0; i < n; i++) {
		persistent[i] = dv->n < 0 ? -1 : 0;
		for (k = 0; k < dv->n; k++)
			if (!strcmp(skip_slashes(v[i].path),
				    skip_slashes(dv->v[k].path)))
				persistent[i] = 1;
	}
}

int status_main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct status_info s = { .genl_version = -1, .default_backend = -1,
				 .nr_fptd = -1 };
	struct daemon_view dv = { NULL, NULL, -1 };
	struct fpt_policy_info *v = NULL;
	int *persistent = NULL;
	bool json = false;
	struct fptnl *nl = NULL;
	char ver[128], *g;
	int c, r, fd = -1, ret = EXIT_OK_;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "hj", opts, NULL)) != -1) {
		switch (c) {
		case 'j': json = true; break;
		case 'h':
			printf(status_help, prog);
			return EXIT_OK_;
		default:
			return fail(EXIT_USAGE_, "status: bad option '%s'",
				    argv[optind - 1]);
		}
	}
	if (optind < argc)
		return fail(EXIT_USAGE_, "status: unexpected argument '%s'",
			    argv[optind]);

	r = daemon_connect(&fd);
	s.fptd_running = r == 1;
	if (fd >= 0)
		daemon_view(fd, &dv);
	s.fptd_status = dv.status;
	s.nr_fptd = dv.n;
	s.fptd = dv.v;
	r = fptnl_open(&nl);
	if (r == -ENOENT) {
		s.module_loaded = false;
		ret = EXIT_NOMODULE;
	} else if (r) {
		ret = fail(EXIT_OTHER, "netlink: %s", strerror(-r));
		goto out;
	} else {
		s.module_loaded = true;
	}
	read_line_file("/sys/kernel/fpt/version", ver, sizeof(ver));
	g = strstr(ver, " genl=");
	if (g) {
		s.genl_version = atoi(g + 6);
		*g = 0;
	}
	snprintf(s.version, sizeof(s.version), "%s", ver);
	s.default_backend = default_backend();
	s.hint = fpt_hint_probe();
	if (nl) {
		r = fptnl_global_get(nl, &s.global);
		if (r) {
			ret = nl_fail(nl, r, "reading the global state");
			goto out;
		}
		s.have_global = true;
		ret = collect_policies(nl, &v, &s.nr_policies);
		if (ret)
			goto out;
		persistent = malloc(((size_t)s.nr_policies + 1) *
				    sizeof(*persistent));
		if (!persistent) {
			ret = fail(EXIT_OTHER, "out of memory");
			goto out;
		}
		mark_persistent(&dv, v, s.nr_policies, persistent);
		s.policies = v;
		s.persistent = persistent;
	}
	if (json)
		json_status(stdout, &s);
	else
		print_status(stdout, &s);
out:
	fptnl_close(nl);
	if (fd >= 0)
		close(fd);
	free(v);
	free(persistent);
	free(dv.status);
	free(dv.v);
	return ret;
}
