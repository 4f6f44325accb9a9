/* SPDX-License-Identifier: MIT */
/*
 * fptd's configuration: /etc/fpt/fptd.conf (daemon settings) and
 * /etc/fpt/policy.d/NAME.conf (one section per cgroup), INI files read with
 * libinih.  The format is documented in daemon/README.md.
 *
 * The parsers take text and never touch the running daemon: a load that
 * fails leaves what the caller had (last-good semantics), and the unit
 * tests and the fuzzer run them without a kernel.
 */
#ifndef FPTD_CONFIG_H
#define FPTD_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FPTD_PATH_MAX		4096
#define FPTD_CONF_DEFAULT	"/etc/fpt/fptd.conf"
#define FPTD_FILE_MAX		(1 << 20)	/* largest config file read */
#define FPTD_POLICIES_MAX	10000		/* policies, all files together */
#define FPTD_ERRORS_MAX		16		/* error lines kept per load */

struct fptd_settings {
	/* [daemon] */
	char cgroup_root[FPTD_PATH_MAX];	/* "" = the cgroup2 mount */
	char policy_dir[FPTD_PATH_MAX];
	int policy_dir_line;			/* where set (0: the default) */
	char state_dir[FPTD_PATH_MAX];
	char control_socket[108];		/* sun_path */
	bool load_module;
	bool clear_on_exit;
	unsigned int module_retry_max;		/* seconds, backoff cap */
	/* [report] */
	unsigned int interval;			/* seconds */
	char prom_dir[FPTD_PATH_MAX];		/* "" = no Prometheus file */
	char prom_file[256];
	double fb_high, fb_low;			/* fallback-rate thresholds */
	uint64_t fb_min_faults;			/* events needed for a rate */
	double frag_high, frag_low;		/* unusable index thresholds */
	/* [compaction] */
	bool compact;
	double compact_fb_rate;
	unsigned int compact_min_interval;	/* seconds */
	bool compact_per_node;
};

/* One policy: a section of a policy file or a runtime change (fptctl). */
struct fptd_policy {
	char *path;		/* normalised, relative to the cgroup root, "" root */
	uint8_t mode;		/* enum fpt_mode */
	uint8_t defrag;		/* 0/1 */
	uint8_t backend;	/* enum fpt_backend */
	uint32_t flags;		/* FPT_F_* (thp2m=deny: FPT_F_NO_PMD_THP) */
	char *file;		/* where it was defined */
	int line;		/* line of its section header */
};

struct fptd_policy_set {
	struct fptd_policy *v;
	size_t n, cap;
};

/* Errors of one load: "file:line: problem" lines, first error first. */
struct fptd_errors {
	int n;
	char first_file[FPTD_PATH_MAX];
	int first_line;
	char text[FPTD_ERRORS_MAX * 384];
};

void fptd_settings_default(struct fptd_settings *s);

/*
 * Parse daemon settings from @text (@len bytes; need not be
 * NUL-terminated) named @file in messages, on top of what @s holds.
 * 0, or -EINVAL with @err filled; @s is then unchanged.
 */
int fptd_settings_parse(const char *text, size_t len, const char *file,
			struct fptd_settings *s, struct fptd_errors *err);

/*
 * Parse policies from @text into @set (appended; a cgroup already in @set
 * is an error).  @cgroup_root: the cgroup2 mount, for absolute paths in
 * section names.  0, or -EINVAL with @err filled; @set is then unchanged.
 */
int fptd_policies_parse(const char *text, size_t len, const char *file,
			const char *cgroup_root, struct fptd_policy_set *set,
			struct fptd_errors *err);

/*
 * Everything a reload reads: @conf_path and the *.conf files of the
 * policy directory it names (in name order), which must exist.  A missing
 * @conf_path means the defaults, unless @conf_required (fptd -c FILE).
 * On success @s and @set are replaced (the old policies freed); on
 * failure they are unchanged and @err tells why.  @cgroup_root_fallback:
 * used for path normalisation when the settings leave cgroup_root empty.
 */
int fptd_config_load(const char *conf_path, bool conf_required,
		     const char *cgroup_root_fallback,
		     struct fptd_settings *s, struct fptd_policy_set *set,
		     struct fptd_errors *err);

/* Policy sets. */
void fptd_policy_set_free(struct fptd_policy_set *set);
struct fptd_policy *fptd_policy_find(const struct fptd_policy_set *set,
				     const char *path);
/* Add or replace (by path) a copy of @p.  0 or -ENOMEM. */
int fptd_policy_set_put(struct fptd_policy_set *set,
			const struct fptd_policy *p);
/* Remove by path: 0 or -ENOENT. */
int fptd_policy_set_del(struct fptd_policy_set *set, const char *path);
int fptd_policy_set_copy(struct fptd_policy_set *dst,
			 const struct fptd_policy_set *src);
/* @files overlaid with @runtime (runtime wins), sorted by path. */
int fptd_policy_merge(const struct fptd_policy_set *files,
		      const struct fptd_policy_set *runtime,
		      struct fptd_policy_set *out);
bool fptd_policy_same(const struct fptd_policy *a, const struct fptd_policy *b);

/*
 * One policy key: mode, defrag, backend, thp2m (the words of a policy
 * file line and of a control "set" request).  0, or -EINVAL with a
 * sentence in @err.
 */
int fptd_policy_key(struct fptd_policy *p, const char *key, const char *value,
		    char *err, size_t errlen);
/* "mode=on defrag=no backend=auto thp2m=allow" */
int fptd_policy_words(const struct fptd_policy *p, char *buf, size_t len);

/*
 * A cgroup name from a config file or a request ("db.slice", "/db.slice",
 * "/sys/fs/cgroup/db.slice", "/" for the root) to the normalised relative
 * path ("" for the root), by lib's fpt_cgroup_name(): "" and other
 * spellings of the root are refused.  0, or -EINVAL with a sentence in
 * @err.  (A policy for the root also needs "root = yes"; the callers
 * check that.)
 */
int fptd_cgroup_path(const char *cgroup_root, const char *name, char *out,
		     size_t len, char *err, size_t errlen);

/*
 * The policies of @set as a policy file (the runtime state under
 * /var/lib/fpt), that fptd_policies_parse() reads back.  A malloc'ed
 * string, or NULL.
 */
char *fptd_policies_format(const struct fptd_policy_set *set);

#endif
