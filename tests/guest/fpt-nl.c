// SPDX-License-Identifier: GPL-2.0
/*
 * fpt-nl: generic netlink client of fpt.ko (family FPT_GENL_NAME, see
 * include/uapi/linux/fpt.h), for the tests.  A thin client of lib/fptnl:
 * the library resolves the family, sends the requests and parses the
 * replies; this program only prints them.  The raw malformed-request
 * cases build their messages here with libmnl (fptnl-raw.h).
 */
#define _GNU_SOURCE
#include "common.h"

#include <errno.h>
#include <getopt.h>
#include <libmnl/libmnl.h>
#include <poll.h>
#include <linux/capability.h>
#include <linux/fpt.h>
#include <linux/netlink.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "cgpath.h"
#include "errname.h"
#include "fptnl.h"
#include "fptnl-raw.h"

#define EXIT_REFUSED	3	/* the kernel refused the request */
#define EXIT_NOFAMILY	4	/* no such generic netlink family */

static void usage(FILE *f)
{
	fprintf(f,
"usage: %s [--drop-cap] COMMAND [options]\n"
"Generic netlink client of fpt.ko (family \"" FPT_GENL_NAME "\").\n"
"\n"
"  set (--cgroup-id N | --cgroup PATH) --mode on|madvise|off\n"
"      [--defrag 0|1] [--backend auto|folio|reserve] [--flags N]\n"
"  del (--cgroup-id N | --cgroup PATH | --all)\n"
"  get [--cgroup-id N | --cgroup PATH]      (no cgroup: dump all policies)\n"
"  stats [--cgroup-id N | --cgroup PATH]    (no cgroup: global counters)\n"
"  raw CASE                                 malformed request, see below\n"
"  monitor [--count N]                      print READY, then one line per\n"
"                                           policy notification until N came\n"
"                                           (default 1; exit 1 after 30 s idle)\n"
"\n"
"  --drop-cap   drop CAP_NET_ADMIN (effective, permitted, inheritable,\n"
"               ambient, bounding) before talking to the kernel\n"
"  --cgroup PATH is sent as FPT_A_CGROUP_PATH, relative to the cgroup2\n"
"               root; a leading cgroup2 mount point (/sys/fs/cgroup/x) is\n"
"               stripped first.  N may be decimal or 0x hex.\n"
"\n"
"Output:\n"
"  set/del:   ok [extack=\"warning\"]\n"
"  get:       one line per policy:\n"
"             cgroup_id=N path=P mode= defrag= backend= backend_active=\n"
"             flags= <counter>=N ... (path=- if the cgroup is gone, - for\n"
"             any value the kernel did not send)\n"
"  stats:     enabled= backends=0xN nr_policies= <counter>=N ...\n"
"             with a cgroup: the line of the policy governing it\n"
"  counters:",
		prog);
#define X(e, n, h) fprintf(f, " " #n);
	FPT_COUNTERS(X)
#undef X
	fprintf(f,
"\n"
"  refused:   errno=NAME extack=\"TEXT\" [offs=N] [miss_type=N]"
" [miss_nest=N]\n"
"\n"
"raw CASEs (each a request with exactly one defect, on temporary cgroups\n"
"made under the cgroup2 mount): no-cgroup bad-mode bad-flags bad-backend\n"
"unknown-attr bad-nest-attr wrong-type missing-mode no-such-cgroup\n"
"no-such-path id-path-mismatch.  Prints the refusal line and exits 0 if\n"
"the kernel refused; prints 'accepted=1' and exits 1 if it accepted.\n"
"\n"
"Exit: 0 ok, 1 raw request accepted, 2 usage/setup error, 3 refused by\n"
"the kernel, 4 family not found (module not loaded).\n");
}

static const char *const mode_names[] = { "off", "on", "madvise" };
static const char *const backend_names[] = { "auto", "folio", "reserve" };

/* ---- the connection ---- */

static struct fptnl *nl_open(void)
{
	struct fptnl *nl;
	const char *family;
	int ret;

	/* FPT_NL_FAMILY: another family name, only to test this program */
	family = getenv("FPT_NL_FAMILY");
	if (!family || !*family)
		family = FPT_GENL_NAME;
	ret = fptnl_open_family(&nl, family);
	if (ret == -ENOENT) {
		fflush(stdout);
		fprintf(stderr, "%s: generic netlink family \"%s\" not found "
			"(%s): fpt.ko not loaded?\n", prog, family,
			fpt_errno_name(ENOENT));
		exit(EXIT_NOFAMILY);
	}
	if (ret)
		die_setup("netlink: %s", strerror(-ret));
	return nl;
}

/* ---- printing replies ---- */

struct line {
	bool started;
};

static void field(struct line *l, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void field(struct line *l, const char *fmt, ...)
{
	va_list ap;

	if (l->started)
		putchar(' ');
	l->started = true;
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
}

static void print_quoted(const char *s)
{
	putchar('"');
	for (; *s; s++)
		putchar(*s == '"' ? '\'' : (*s == '\n' ? ' ' : *s));
	putchar('"');
}

static void print_refusal(const struct fptnl_ack *ack)
{
	printf("errno=%s extack=", fpt_errno_name(ack->error));
	print_quoted(ack->msg);
	if (ack->has_offs)
		printf(" offs=%u", ack->offs);
	if (ack->has_miss_type)
		printf(" miss_type=%u", ack->miss_type);
	if (ack->has_miss_nest)
		printf(" miss_nest=%u", ack->miss_nest);
	putchar('\n');
}

static void field_enum_u8(struct line *l, const char *key, bool present,
			  unsigned int v, const char *const *names,
			  unsigned int nr)
{
	if (!present)
		field(l, "%s=-", key);
	else if (v < nr)
		field(l, "%s=%s", key, names[v]);
	else
		field(l, "%s=%u", key, v);
}

/* Print one FPT reply message as one key=value line. */
static int print_reply(const struct fptnl_reply *r, void *arg)
{
	struct line l = { false };
	unsigned int i;

	(void)arg;
	if (r->has_enabled)
		field(&l, "enabled=%u", r->enabled);
	if (r->has_backends)
		field(&l, "backends=0x%x", r->backends);
	if (r->has_nr_policies)
		field(&l, "nr_policies=%u", r->nr_policies);
	if (r->has_cgroup_id)
		field(&l, "cgroup_id=%llu",
		      (unsigned long long)r->p.cgroup_id);
	if (r->has_cgroup_id || r->has_path)
		field(&l, "path=%s", r->has_path ? r->p.path : "-");
	if (r->has_policy) {
		field_enum_u8(&l, "mode", r->has_mode, r->p.mode, mode_names,
			      3);
		if (r->has_defrag)
			field(&l, "defrag=%u", r->p.defrag);
		else
			field(&l, "defrag=-");
		field_enum_u8(&l, "backend", r->has_backend, r->p.backend,
			      backend_names, 3);
		field_enum_u8(&l, "backend_active", r->has_backend_active,
			      r->p.backend_active, backend_names, 3);
		if (r->has_flags)
			field(&l, "flags=%u", r->p.flags);
		else
			field(&l, "flags=-");
	}
	if (r->has_stats) {
		for (i = 0; i < FPT_NR_COUNTERS; i++) {
			if (r->has_stat[i])
				field(&l, "%s=%llu", fpt_counter_name(i),
				      (unsigned long long)r->p.stats[i]);
			else
				field(&l, "%s=-", fpt_counter_name(i));
		}
		for (i = 0; i < r->nr_extra; i++)
			field(&l, "stat_%u=%llu", r->extra_type[i],
			      (unsigned long long)r->extra_val[i]);
	}
	if (!l.started)
		field(&l, "empty=1");
	putchar('\n');
	return 0;
}

/* ---- monitor: the policy multicast group ---- */

static unsigned long monitor_seen;

static void monitor_cb(uint8_t cmd, const struct fpt_policy_info *p, void *arg)
{
	(void)arg;
	printf("notify=%s cgroup_id=%llu path=%s mode=%s\n",
	       cmd == FPT_CMD_POLICY_NEW ? "new" :
	       cmd == FPT_CMD_POLICY_DELETED ? "deleted" : "other",
	       (unsigned long long)p->cgroup_id, p->path[0] ? p->path : "-",
	       fpt_mode_name(p->mode));
	fflush(stdout);
	monitor_seen++;
}

/*
 * Print "READY", then one line per notification until @count arrived or
 * 30 s passed without one (exit 1 then).
 */
static int cmd_monitor(unsigned long count)
{
	struct fptnl *mon;
	struct pollfd pfd;
	int ret = fptnl_monitor_open(&mon);

	if (ret == -ENOENT)
		exit(EXIT_NOFAMILY);
	if (ret)
		die_setup("monitor: %s", strerror(-ret));
	pfd.fd = fptnl_monitor_fd(mon);
	pfd.events = POLLIN;
	printf("READY\n");
	fflush(stdout);
	while (monitor_seen < count) {
		ret = poll(&pfd, 1, 30000);
		if (ret <= 0)
			break;
		ret = fptnl_monitor_read(mon, monitor_cb, NULL);
		if (ret)
			die_setup("monitor: %s", strerror(-ret));
	}
	fptnl_close(mon);
	return monitor_seen >= count ? EXIT_OK : EXIT_FAILED;
}

/* ---- capabilities ---- */

static void drop_net_admin(void)
{
	struct __user_cap_header_struct h = {
		.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0 };
	struct __user_cap_data_struct d[_LINUX_CAPABILITY_U32S_3];
	unsigned int idx = CAP_TO_INDEX(CAP_NET_ADMIN);
	uint32_t m = CAP_TO_MASK(CAP_NET_ADMIN);

	/* bounding and ambient first (needs CAP_SETPCAP; best effort) */
	prctl(PR_CAPBSET_DROP, CAP_NET_ADMIN, 0, 0, 0);
	prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_LOWER, CAP_NET_ADMIN, 0, 0);
	if (syscall(SYS_capget, &h, d))
		die_setup("capget: %s", strerror(errno));
	d[idx].effective &= ~m;
	d[idx].permitted &= ~m;
	d[idx].inheritable &= ~m;
	if (syscall(SYS_capset, &h, d))
		die_setup("capset: %s", strerror(errno));
	if (syscall(SYS_capget, &h, d) ||
	    ((d[idx].effective | d[idx].permitted) & m))
		die_setup("could not drop CAP_NET_ADMIN");
}

/* ---- cgroups ---- */

/*
 * The path to send for --cgroup PATH: a leading cgroup2 mount point is
 * replaced by the root of the hierarchy it shows.
 */
static char *cgroup_arg_path(const char *path)
{
	char mnt[1024], root[1024], *out;
	size_t ml;

	if (fpt_cgroup2_mount_root(mnt, sizeof(mnt), root, sizeof(root)) == 0) {
		ml = strlen(mnt);
		if (!strncmp(path, mnt, ml) &&
		    (path[ml] == '/' || path[ml] == 0)) {
			if (asprintf(&out, "%s%s",
				     strcmp(root, "/") ? root : "",
				     path[ml] ? path + ml : "/") < 0)
				die_setup("out of memory");
			return out;
		}
	}
	out = strdup(path);
	if (!out)
		die_setup("out of memory");
	return out;
}

/* Temporary cgroups for the raw cases. */
struct tmpcg {
	char dir[2048];		/* directory under the mount */
	char path[2048];	/* path to send */
	uint64_t id;
	bool made;
};

static bool tmpcg_make(struct tmpcg *t, const char *tag)
{
	char mnt[1024], root[1024];
	struct stat st;

	if (fpt_cgroup2_mount_root(mnt, sizeof(mnt), root, sizeof(root)))
		return false;
	snprintf(t->dir, sizeof(t->dir), "%s/fpt-nl-raw.%d.%s", mnt,
		 (int)getpid(), tag);
	snprintf(t->path, sizeof(t->path), "%s/fpt-nl-raw.%d.%s",
		 strcmp(root, "/") ? root : "", (int)getpid(), tag);
	if (mkdir(t->dir, 0755) && errno != EEXIST)
		return false;
	t->made = true;
	if (stat(t->dir, &st))
		return false;
	t->id = st.st_ino;
	return true;
}

static void tmpcg_remove(struct tmpcg *t)
{
	if (t->made && rmdir(t->dir))
		warnx_("rmdir %s: %s", t->dir, strerror(errno));
	t->made = false;
}

/* ---- commands ---- */

struct args {
	bool have_id, have_path, all;
	uint64_t id;
	char *path;
	int mode, defrag, backend;
	int64_t flags;
};

static int lookup(const char *s, const char *const *names, unsigned int nr,
		  const char *opt)
{
	unsigned int i;

	for (i = 0; i < nr; i++)
		if (!strcmp(s, names[i]))
			return (int)i;
	die_setup("%s: unknown value '%s' (see --help)", opt, s);
}

/*
 * Report the outcome of a request; returns the exit code.  A local
 * failure (not the kernel's refusal) is a setup error.
 */
static int outcome(struct fptnl *nl, int ret, bool print_ok)
{
	const struct fptnl_ack *ack = fptnl_ack(nl);

	if (ret && fptnl_kernel_error(nl)) {
		print_refusal(ack);
		return EXIT_REFUSED;
	}
	if (ret)
		die_setup("netlink: %s", ret == -EBADMSG ?
			  "bad netlink reply: malformed" : strerror(-ret));
	if (print_ok) {
		printf("ok");
		if (ack->msg[0]) {
			printf(" extack=");
			print_quoted(ack->msg);
		}
		putchar('\n');
	}
	return EXIT_OK;
}

/* The cgroup reference of the arguments; NULL if none was given. */
static const struct fpt_cgroup_ref *cgroup_ref(const struct args *a,
					       struct fpt_cgroup_ref *ref)
{
	ref->id = a->have_id ? a->id : 0;
	ref->path = a->have_path ? a->path : NULL;
	return a->have_id || a->have_path ? ref : NULL;
}

/*
 * --cgroup-id 0 names no cgroup in libfptnl's terms (ids start at 1), but
 * the kernel must still see the attribute and refuse it: send those
 * requests as built here.
 */
static int cmd_id0(struct fptnl *nl, const struct args *a, uint8_t cmd,
		   uint16_t flags, bool print_ok)
{
	char buf[FPTNL_MSG_BUF];
	struct nlmsghdr *nlh = fptnl_msg_start(nl, buf, cmd, flags);

	mnl_attr_put_u64(nlh, FPT_A_CGROUP_ID, 0);
	if (a->have_path)
		mnl_attr_put_strz(nlh, FPT_A_CGROUP_PATH, a->path);
	if (cmd == FPT_CMD_POLICY_SET) {
		struct nlattr *nest = fptnl_nest_start(nlh, FPT_A_POLICY);

		mnl_attr_put_u8(nlh, FPT_P_MODE, (uint8_t)a->mode);
		mnl_attr_nest_end(nlh, nest);
	}
	return outcome(nl, fptnl_talk(nl, nlh, NULL, NULL), print_ok);
}

static int cmd_set(struct fptnl *nl, const struct args *a)
{
	struct fpt_cgroup_ref ref;

	if (a->have_id && !a->id)
		return cmd_id0(nl, a, FPT_CMD_POLICY_SET, NLM_F_ACK, true);
	/* unset options are the kernel's defaults: 0, auto, 0 */
	return outcome(nl, fptnl_policy_set(nl, cgroup_ref(a, &ref),
					    (uint8_t)a->mode,
					    a->defrag >= 0 ? (uint8_t)a->defrag : 0,
					    a->backend >= 0 ? (uint8_t)a->backend :
							      FPT_BACKEND_AUTO,
					    a->flags >= 0 ? (uint32_t)a->flags : 0),
		       true);
}

static int cmd_del(struct fptnl *nl, const struct args *a)
{
	struct fpt_cgroup_ref ref;

	if (a->all)
		return outcome(nl, fptnl_policy_del_all(nl), true);
	if (a->have_id && !a->id)
		return cmd_id0(nl, a, FPT_CMD_POLICY_DEL, NLM_F_ACK, true);
	return outcome(nl, fptnl_policy_del(nl, cgroup_ref(a, &ref)), true);
}

static int cmd_get(struct fptnl *nl, const struct args *a, uint8_t cmd)
{
	bool one = a->have_id || a->have_path;
	struct fpt_cgroup_ref ref;

	if (a->have_id && !a->id)
		return cmd_id0(nl, a, cmd, NLM_F_ACK, false);
	/* POLICY_GET without a cgroup dumps; STATS_GET without is global */
	return outcome(nl, fptnl_query(nl, cmd, cgroup_ref(a, &ref),
				       !one && cmd == FPT_CMD_POLICY_GET,
				       print_reply, NULL),
		       false);
}

static const char *const raw_cases[] = {
	"no-cgroup", "bad-mode", "bad-flags", "bad-backend", "unknown-attr",
	"bad-nest-attr", "wrong-type", "missing-mode", "no-such-cgroup",
	"no-such-path", "id-path-mismatch",
};
#define NR_RAW (sizeof(raw_cases) / sizeof(raw_cases[0]))

static int cmd_raw(struct fptnl *nl, const char *name)
{
	char buf[FPTNL_MSG_BUF];
	struct tmpcg ta = { .made = false }, tb = { .made = false };
	struct nlmsghdr *nlh;
	struct nlattr *nest;
	int c = lookup(name, raw_cases, NR_RAW, "raw");
	int ret, r;

	bool need_a = c != 0 && c != 8 && c != 9, need_b = c == 10;

	if ((need_a && !tmpcg_make(&ta, "a")) ||
	    (need_b && !tmpcg_make(&tb, "b"))) {
		int e = errno;

		tmpcg_remove(&ta);
		tmpcg_remove(&tb);
		die_setup("raw: cannot make temporary cgroups under the "
			  "cgroup2 mount: %s", strerror(e));
	}
	nlh = fptnl_msg_start(nl, buf, FPT_CMD_POLICY_SET, NLM_F_ACK);
	/* the cgroup */
	switch (c) {
	case 0:			/* no-cgroup */
		break;
	case 6:			/* wrong-type */
		mnl_attr_put_u32(nlh, FPT_A_CGROUP_ID, (uint32_t)ta.id);
		break;
	case 8:			/* no-such-cgroup */
		mnl_attr_put_u64(nlh, FPT_A_CGROUP_ID, 0x7fffffffffffULL);
		break;
	case 9:			/* no-such-path */
		mnl_attr_put_strz(nlh, FPT_A_CGROUP_PATH, "does/not/exist");
		break;
	case 10:		/* id-path-mismatch */
		mnl_attr_put_u64(nlh, FPT_A_CGROUP_ID, ta.id);
		mnl_attr_put_strz(nlh, FPT_A_CGROUP_PATH, tb.path);
		break;
	default:
		mnl_attr_put_u64(nlh, FPT_A_CGROUP_ID, ta.id);
		break;
	}
	if (c == 4)		/* unknown-attr */
		mnl_attr_put_u32(nlh, FPT_A_MAX + 1, 0);
	/* the policy */
	nest = fptnl_nest_start(nlh, FPT_A_POLICY);
	if (c != 7)		/* missing-mode */
		mnl_attr_put_u8(nlh, FPT_P_MODE, c == 1 ? 99 : FPT_MODE_ON);
	else
		mnl_attr_put_u8(nlh, FPT_P_DEFRAG, 0);
	if (c == 2)		/* bad-flags */
		mnl_attr_put_u32(nlh, FPT_P_FLAGS, 0x80000000U);
	if (c == 3)		/* bad-backend */
		mnl_attr_put_u8(nlh, FPT_P_BACKEND, 99);
	if (c == 5)		/* bad-nest-attr */
		mnl_attr_put_u32(nlh, FPT_P_MAX + 1, 0);
	mnl_attr_nest_end(nlh, nest);

	r = fptnl_talk(nl, nlh, NULL, NULL);
	if (r && fptnl_kernel_error(nl)) {
		print_refusal(fptnl_ack(nl));
		ret = EXIT_OK;
	} else if (r) {
		tmpcg_remove(&ta);
		tmpcg_remove(&tb);
		die_setup("netlink: %s", strerror(-r));
	} else {
		struct tmpcg *t[2] = { &ta, &tb };
		int i;

		printf("accepted=1\n");
		ret = EXIT_FAILED;
		/* undo whatever policy got made */
		for (i = 0; i < 2; i++) {
			struct fpt_cgroup_ref ref = { .id = t[i]->id };

			if (t[i]->made)
				fptnl_policy_del(nl, &ref);
		}
	}
	tmpcg_remove(&ta);
	tmpcg_remove(&tb);
	return ret;
}

int main(int argc, char **argv)
{
	static const struct option gopts[] = {
		{ "drop-cap", no_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	static const struct option copts[] = {
		{ "cgroup-id", required_argument, NULL, 'i' },
		{ "cgroup", required_argument, NULL, 'p' },
		{ "all", no_argument, NULL, 'a' },
		{ "mode", required_argument, NULL, 'm' },
		{ "defrag", required_argument, NULL, 'D' },
		{ "backend", required_argument, NULL, 'b' },
		{ "flags", required_argument, NULL, 'f' },
		{ "count", required_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	unsigned long count = 1;
	struct args a = { .mode = -1, .defrag = -1, .backend = -1,
			  .flags = -1 };
	bool drop = false;
	const char *cmd, *raw = NULL;
	struct fptnl *nl;
	uint64_t v;
	int c, cargc, ret;
	char **cargv;

	common_init(argv[0]);
	while ((c = getopt_long(argc, argv, "+h", gopts, NULL)) != -1) {
		switch (c) {
		case 'd': drop = true; break;
		case 'h':
			usage(stdout);
			return EXIT_OK;
		default:
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return EXIT_USAGE;
	}
	cmd = argv[optind];
	cargc = argc - optind;
	cargv = argv + optind;
	optind = 0;		/* restart getopt on the command's options */
	while ((c = getopt_long(cargc, cargv, "h", copts, NULL)) != -1) {
		switch (c) {
		case 'i':
			a.id = arg_u64("--cgroup-id", optarg);
			a.have_id = true;
			break;
		case 'p':
			a.path = cgroup_arg_path(optarg);
			a.have_path = true;
			break;
		case 'a': a.all = true; break;
		case 'n': count = arg_u64("--count", optarg); break;
		case 'm':
			a.mode = lookup(optarg, mode_names, 3, "--mode");
			break;
		case 'D':
			v = arg_u64("--defrag", optarg);
			if (v > 1)
				die_setup("--defrag must be 0 or 1");
			a.defrag = (int)v;
			break;
		case 'b':
			a.backend = lookup(optarg, backend_names, 3,
					   "--backend");
			break;
		case 'f':
			v = arg_u64("--flags", optarg);
			if (v > UINT32_MAX)
				die_setup("--flags must fit in 32 bits");
			a.flags = (int64_t)v;
			break;
		case 'h':
			usage(stdout);
			return EXIT_OK;
		default:
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (!strcmp(cmd, "raw")) {
		if (optind + 1 != cargc)
			die_setup("raw: exactly one CASE expected");
		raw = cargv[optind];
		lookup(raw, raw_cases, NR_RAW, "raw");
	} else if (optind != cargc) {
		die_setup("unexpected argument '%s'", cargv[optind]);
	}
	if (a.all && (a.have_id || a.have_path))
		die_setup("--all excludes --cgroup-id/--cgroup");
	if (strcmp(cmd, "set") && (a.mode >= 0 || a.defrag >= 0 ||
				   a.backend >= 0 || a.flags >= 0))
		die_setup("--mode/--defrag/--backend/--flags only for set");
	if (strcmp(cmd, "del") && a.all)
		die_setup("--all only for del");
	if (strcmp(cmd, "set") && strcmp(cmd, "del") && strcmp(cmd, "get") &&
	    strcmp(cmd, "stats") && strcmp(cmd, "raw") &&
	    strcmp(cmd, "monitor"))
		die_setup("unknown command '%s' (see --help)", cmd);
	if (!strcmp(cmd, "monitor"))
		return cmd_monitor(count);

	if (!strcmp(cmd, "set") && !a.have_id && !a.have_path)
		die_setup("set: --cgroup-id or --cgroup required");
	if (!strcmp(cmd, "set") && a.mode < 0)
		die_setup("set: --mode required");
	if (!strcmp(cmd, "del") && !a.have_id && !a.have_path && !a.all)
		die_setup("del: --cgroup-id, --cgroup or --all required");

	if (drop)
		drop_net_admin();
	nl = nl_open();
	if (!strcmp(cmd, "set"))
		ret = cmd_set(nl, &a);
	else if (!strcmp(cmd, "del"))
		ret = cmd_del(nl, &a);
	else if (!strcmp(cmd, "get"))
		ret = cmd_get(nl, &a, FPT_CMD_POLICY_GET);
	else if (!strcmp(cmd, "stats"))
		ret = cmd_get(nl, &a, FPT_CMD_STATS_GET);
	else
		ret = cmd_raw(nl, raw);
	fptnl_close(nl);
	free(a.path);
	return ret;
}
