// SPDX-License-Identifier: MIT
/*
 * fptctl: control and inspect fpt (64 KB contiguous anonymous memory for
 * opted-in cgroups).  Subcommands in a table, in the style of
 * wireguard-tools' wg.
 */
#define _GNU_SOURCE
#include "fptctl.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cgpath.h"
#include "errname.h"

/* FPTCTL_VERSION: -D from tools/Makefile, the file VERSION of the tree */

const char *prog = "fptctl";

static const struct {
	const char *name;
	int (*main)(int argc, char **argv);
	const char *description;
} subcommands[] = {
	{ "status", status_main, "Show the module, its backends, fptd and every policy" },
	{ "enable", enable_main, "Give a cgroup a policy (64 KB runs on, madvise or off)" },
	{ "disable", disable_main, "Remove a cgroup's policy" },
	{ "stats", stats_main, "Show fpt's counters, global and per policy (--watch)" },
	{ "frag", frag_main, "Show free memory in 64 KB blocks, per zone" },
	{ "scan", scan_main, "Show a process's or a cgroup's 64 KB coverage from pagemap" },
};
#define NR_SUBCOMMANDS (sizeof(subcommands) / sizeof(subcommands[0]))

void warnx_(const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fprintf(stderr, "%s: ", prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

int fail(int code, const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fprintf(stderr, "%s: ", prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return code;
}

bool parse_uint(const char *s, unsigned long long max, unsigned long long *v)
{
	unsigned long long x;
	char *end;

	if (!s || !*s || *s == '-' || *s == '+')
		return false;
	errno = 0;
	x = strtoull(s, &end, 10);
	if (errno || *end || x > max)
		return false;
	*v = x;
	return true;
}

int resolve_cgroup(const char *path, const char *unit, bool must_exist,
		   struct cgroup_arg *cg)
{
	const char *why = NULL;
	char unitcg[4096];
	int ret;

	memset(cg, 0, sizeof(*cg));
	ret = fpt_cgroup2_mount_root(cg->mnt, sizeof(cg->mnt), cg->root,
				     sizeof(cg->root));
	if (ret == -ENOENT)
		return fail(EXIT_NOCGROUP, "no cgroup2 file system is mounted "
			    "(fpt works on the cgroup v2 hierarchy)");
	if (ret)
		return fail(EXIT_OTHER, "cannot read /proc/self/mountinfo: %s",
			    strerror(-ret));
	if (unit) {
		ret = fpt_unit_cgroup(unit, unitcg, sizeof(unitcg));
		if (ret == -ENOENT)
			return fail(EXIT_NOCGROUP, "unit %s: no such unit, or "
				    "it has no cgroup (not running?)", unit);
		if (ret == -EINVAL)
			return fail(EXIT_USAGE_, "--unit %s: not a unit name "
				    "with a cgroup (service, scope, slice, "
				    "socket, mount, swap)", unit);
		if (ret == -ECONNREFUSED)
			return fail(EXIT_OTHER, "unit %s: cannot reach systemd "
				    "on the system bus (use --cgroup)", unit);
		if (ret == -EACCES || ret == -EPERM)
			return fail(EXIT_PERM, "unit %s: asking systemd: %s",
				    unit, strerror(-ret));
		if (ret)
			return fail(EXIT_OTHER, "unit %s: asking systemd over "
				    "D-Bus: %s", unit, strerror(-ret));
		path = unitcg;
	}
	ret = fpt_cgroup_name(cg->mnt, path, cg->rel, sizeof(cg->rel), &why);
	if (ret == -ENAMETOOLONG)
		return fail(EXIT_USAGE_, "cgroup path too long");
	if (ret && why && !strcmp(why, FPT_CGROUP_WHY_HYBRID))
		return fail(EXIT_USAGE_, "cgroup '%s' %s (at %s): name it "
			    "relative to that mount", path, why, cg->mnt);
	if (ret)
		return fail(EXIT_USAGE_, "bad cgroup name '%s': it %s; give a "
			    "path relative to the cgroup2 mount (db, "
			    "system.slice/x.service), an absolute path under "
			    "%s, or a cgroup path (/db; / for the root)",
			    path, why ? why : FPT_CGROUP_WHY_PATH, cg->mnt);
	snprintf(cg->display, sizeof(cg->display), "/%s", cg->rel);
	/* the kernel resolves paths from the root of the initial namespace */
	snprintf(cg->kpath, sizeof(cg->kpath), "%s/%s",
		 strcmp(cg->root, "/") ? cg->root : "", cg->rel);
	ret = fpt_cgroup_id(cg->mnt, cg->rel, &cg->id);
	if (ret == -ENOENT || ret == -ENOTDIR) {
		cg->id = 0;
		if (must_exist)
			return fail(EXIT_NOCGROUP, "no such cgroup: %s%s%s",
				    cg->mnt, cg->rel[0] ? "/" : "", cg->rel);
	} else if (ret == -EACCES) {
		return fail(EXIT_PERM, "cgroup %s: %s", cg->display,
			    strerror(-ret));
	} else if (ret) {
		return fail(EXIT_OTHER, "cgroup %s: %s", cg->display,
			    strerror(-ret));
	}
	return 0;
}

int open_nl(struct fptnl **nl)
{
	int ret = fptnl_open(nl);

	if (ret == -ENOENT)
		return fail(EXIT_NOMODULE, "fpt.ko is not loaded (no generic "
			    "netlink family \"" FPT_GENL_NAME "\"; try "
			    "modprobe fpt)");
	if (ret == -EPERM || ret == -EACCES)
		return fail(EXIT_PERM, "netlink: %s", strerror(-ret));
	if (ret)
		return fail(EXIT_OTHER, "netlink: %s", strerror(-ret));
	return 0;
}

int nl_fail(struct fptnl *nl, int err, const char *what)
{
	int kerr = fptnl_kernel_error(nl);
	const char *ext = fptnl_extack(nl);

	if (!kerr)
		return fail(EXIT_OTHER, "%s: netlink: %s", what,
			    strerror(-err));
	if (kerr == EPERM || kerr == EACCES)
		return fail(EXIT_PERM, "%s: permission denied by the kernel%s%s"
			    " (changing policies needs CAP_NET_ADMIN)", what,
			    ext[0] ? ": " : "", ext);
	return fail(EXIT_REFUSED, "%s: the kernel refused (%s): %s", what,
		    fpt_errno_name(kerr), ext[0] ? ext : strerror(kerr));
}

struct collect {
	struct fpt_policy_info *v;
	int n, cap;
	bool nomem;
};

static int collect_cb(const struct fpt_policy_info *p, void *arg)
{
	struct collect *c = arg;

	if (c->n == c->cap) {
		int cap = c->cap ? c->cap * 2 : 8;
		struct fpt_policy_info *v = realloc(c->v, (size_t)cap *
						    sizeof(*v));

		if (!v) {
			c->nomem = true;
			return 1;
		}
		c->v = v;
		c->cap = cap;
	}
	c->v[c->n++] = *p;
	return 0;
}

static int cmp_path(const void *a, const void *b)
{
	const struct fpt_policy_info *x = a, *y = b;

	return strcmp(x->path, y->path);
}

int collect_policies(struct fptnl *nl, struct fpt_policy_info **v, int *n)
{
	struct collect c = { NULL, 0, 0, false };
	int ret = fptnl_policy_dump(nl, collect_cb, &c);

	if (!ret && c.nomem)
		ret = -ENOMEM;
	if (ret) {
		free(c.v);
		return nl_fail(nl, ret, "listing policies");
	}
	if (c.n > 1)
		qsort(c.v, (size_t)c.n, sizeof(*c.v), cmp_path);
	*v = c.v;
	*n = c.n;
	return 0;
}

static void usage(FILE *f)
{
	size_t i;

	fprintf(f,
"Usage: %s <command> [<options>]\n"
"       %s <command> --help\n"
"\n"
"Control and inspect fpt: 64 KB physically contiguous, aligned runs of\n"
"anonymous memory for the processes of opted-in cgroup v2 subtrees.\n"
"\n"
"Commands:\n", prog, prog);
	for (i = 0; i < NR_SUBCOMMANDS; i++)
		fprintf(f, "  %-8s  %s\n", subcommands[i].name,
			subcommands[i].description);
	fprintf(f,
"  help      Show this help\n"
"\n"
"Options: --version, --help.\n"
"\n"
"Cgroups are named relative to the cgroup2 mount (db,\n"
"system.slice/postgresql.service), by an absolute path under the mount\n"
"(/sys/fs/cgroup/db), or by a systemd unit (--unit postgresql).\n"
"\n"
"Policy changes go through fptd when it runs (they persist); otherwise\n"
"straight to the kernel, with a warning that they are not persistent.\n"
"\n"
"Exit status:\n"
"  0  success                       4  no such cgroup, unit or process\n"
"  1  usage error                   5  fptd not running (--persistent)\n"
"  2  fpt.ko not loaded             6  refused by the kernel or fptd\n"
"  3  permission denied             7  any other error\n"
"\n"
"See tools/fptctl.md (fptctl(8)) for the output and JSON fields.\n");
}

/*
 * Everything fptctl printed must have reached stdout: a full disk or a
 * closed pipe is a failure (fptctl frag > /dev/full exits 7), not a
 * silent success.
 */
static int close_stdout(int ret)
{
	bool bad;
	int e;

	errno = 0;
	bad = fflush(stdout) || ferror(stdout);
	e = errno;
	if (fclose(stdout) && !bad) {
		bad = true;
		e = errno;
	}
	if (!bad)
		return ret;
	/* not fail(): it flushes stdout, which is closed now */
	fprintf(stderr, "%s: writing the output: %s\n", prog,
		strerror(e ? e : EIO));
	return ret ? ret : EXIT_OTHER;
}

static int run(int argc, char **argv);

int main(int argc, char **argv)
{
	return close_stdout(run(argc, argv));
}

static int run(int argc, char **argv)
{
	const char *cmd;
	size_t i;

	if (argc > 0 && argv[0] && strrchr(argv[0], '/'))
		prog = strrchr(argv[0], '/') + 1;
	else if (argc > 0 && argv[0] && argv[0][0])
		prog = argv[0];
	if (argc < 2) {
		usage(stderr);
		return EXIT_USAGE_;
	}
	cmd = argv[1];
	if (!strcmp(cmd, "--version") || !strcmp(cmd, "-V") ||
	    !strcmp(cmd, "version")) {
		printf("fptctl %s (netlink family \"%s\" version %d)\n",
		       FPTCTL_VERSION, FPT_GENL_NAME, FPT_GENL_VERSION);
		return EXIT_OK_;
	}
	if (!strcmp(cmd, "help") || !strcmp(cmd, "--help") ||
	    !strcmp(cmd, "-h")) {
		if (argc > 2) {
			for (i = 0; i < NR_SUBCOMMANDS; i++)
				if (!strcmp(argv[2], subcommands[i].name)) {
					char *a[] = { argv[2], "--help", NULL };

					return subcommands[i].main(2, a);
				}
			return fail(EXIT_USAGE_, "no command '%s' (see %s "
				    "help)", argv[2], prog);
		}
		usage(stdout);
		return EXIT_OK_;
	}
	for (i = 0; i < NR_SUBCOMMANDS; i++)
		if (!strcmp(cmd, subcommands[i].name))
			return subcommands[i].main(argc - 1, argv + 1);
	fail(EXIT_USAGE_, "invalid command '%s'", cmd);
	usage(stderr);
	return EXIT_USAGE_;
}
