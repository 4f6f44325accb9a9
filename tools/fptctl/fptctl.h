/* SPDX-License-Identifier: MIT */
/* fptctl: shared declarations of the subcommands. */
#ifndef FPTCTL_H
#define FPTCTL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fptnl.h"

/* Exit codes (documented in --help and tools/fptctl.md). */
enum {
	EXIT_OK_ = 0,
	EXIT_USAGE_ = 1,	/* bad command line */
	EXIT_NOMODULE = 2,	/* fpt.ko not loaded */
	EXIT_PERM = 3,		/* permission denied */
	EXIT_NOCGROUP = 4,	/* no such cgroup (or unit, or process) */
	EXIT_NODAEMON = 5,	/* fptd required (--persistent) but not running */
	EXIT_REFUSED = 6,	/* the kernel (or fptd) refused the request */
	EXIT_OTHER = 7,		/* any other error */
};

extern const char *prog;

void warnx_(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Print "fptctl: <msg>" to stderr and return @code. */
int fail(int code, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* The cgroup named on a command line (--cgroup PATH or --unit NAME). */
struct cgroup_arg {
	char mnt[4096];		/* the cgroup2 mount */
	char root[4096];	/* the root of the hierarchy it shows */
	char rel[4096];		/* normalised, relative to the mount */
	char kpath[8192];	/* path to send to the kernel */
	char display[4200];	/* "/" + rel, as /proc/fpt shows it */
	uint64_t id;		/* 0 if the directory does not exist */
};

/*
 * Resolve --cgroup @path or --unit @unit (one of them NULL).  Returns 0 or
 * an exit code after printing why; with @must_exist a missing directory
 * is EXIT_NOCGROUP, else it leaves id 0.
 */
int resolve_cgroup(const char *path, const char *unit, bool must_exist,
		   struct cgroup_arg *cg);

/* Open netlink; on failure print why and return the exit code. */
int open_nl(struct fptnl **nl);
/* Exit code and message for a failed fptnl call on @nl (@what: "enable"). */
int nl_fail(struct fptnl *nl, int err, const char *what);

/* Every policy (POLICY_GET dump), sorted by path, into a malloc'ed array;
 * 0 or an exit code (printed). */
int collect_policies(struct fptnl *nl, struct fpt_policy_info **v, int *n);

/* Parse a non-negative integer option; false if it is not one. */
bool parse_uint(const char *s, unsigned long long max, unsigned long long *v);

/* Subcommands: argc/argv start at the subcommand's name. */
int enable_main(int argc, char **argv);
int disable_main(int argc, char **argv);
int status_main(int argc, char **argv);
int stats_main(int argc, char **argv);
int frag_main(int argc, char **argv);
int scan_main(int argc, char **argv);

#endif
