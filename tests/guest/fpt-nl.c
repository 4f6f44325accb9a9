// SPDX-License-Identifier: GPL-2.0
/*
 * fpt-nl: generic netlink client of fpt.ko (family FPT_GENL_NAME, see
 * include/uapi/linux/fpt.h), on libmnl, for the tests.
 */
#define _GNU_SOURCE
#include "common.h"

#include <errno.h>
#include <getopt.h>
#include <libmnl/libmnl.h>
#include <linux/capability.h>
#include <linux/fpt.h>
#include <linux/genetlink.h>
#include <linux/netlink.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

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

static const char *const counter_names[] = {
#define X(e, n, h) #n,
	FPT_COUNTERS(X)
#undef X
};

static const char *const mode_names[] = { "off", "on", "madvise" };
static const char *const backend_names[] = { "auto", "folio", "reserve" };

/* ---- errno names ---- */

static const char *errno_name(int e)
{
	static char buf[16];

	switch (e) {
#define E(x) case x: return #x;
	E(EPERM) E(ENOENT) E(ESRCH) E(EINTR) E(EIO) E(ENXIO) E(E2BIG)
	E(EBADF) E(EAGAIN) E(ENOMEM) E(EACCES) E(EFAULT) E(EBUSY) E(EEXIST)
	E(EXDEV) E(ENODEV) E(ENOTDIR) E(EISDIR) E(EINVAL) E(ENFILE)
	E(EMFILE) E(ENOSPC) E(ESPIPE) E(EROFS) E(EMLINK) E(EPIPE) E(EDOM)
	E(ERANGE) E(EDEADLK) E(ENAMETOOLONG) E(ENOSYS) E(ENOTEMPTY)
	E(ELOOP) E(ENOMSG) E(ENODATA) E(ENOLINK) E(EPROTO) E(EBADMSG)
	E(EOVERFLOW) E(EMSGSIZE) E(EPROTONOSUPPORT) E(EOPNOTSUPP)
	E(EAFNOSUPPORT) E(EADDRINUSE) E(ENOBUFS) E(ENOTCONN) E(ETIMEDOUT)
	E(ECONNREFUSED) E(EALREADY) E(EINPROGRESS) E(ESTALE) E(ECANCELED)
	E(EOWNERDEAD) E(ENOTRECOVERABLE)
#undef E
	case 524: return "ENOTSUPP";	/* kernel internal */
	case 526: return "ENOTSUPP_526";
	}
	snprintf(buf, sizeof(buf), "E%d", e);
	return buf;
}

/* ---- netlink plumbing ---- */

struct ack {
	int error;		/* 0 or a positive errno */
	char msg[512];		/* NLMSGERR_ATTR_MSG */
	bool has_offs, has_miss_type, has_miss_nest;
	uint32_t offs, miss_type, miss_nest;
};

struct nl {
	struct mnl_socket *sk;
	unsigned int portid;
	unsigned int seq;
	uint16_t family;
};

struct talk {
	struct ack ack;
	mnl_cb_t cb;
	void *data;
	bool bad_reply;
};

static char rxbuf[1 << 16];

static int extack_attr_cb(const struct nlattr *a, void *data)
{
	struct ack *ack = data;

	switch (mnl_attr_get_type(a)) {
	case NLMSGERR_ATTR_MSG:
		if (mnl_attr_validate(a, MNL_TYPE_NUL_STRING) >= 0)
			snprintf(ack->msg, sizeof(ack->msg), "%s",
				 mnl_attr_get_str(a));
		break;
	case NLMSGERR_ATTR_OFFS:
		if (mnl_attr_validate(a, MNL_TYPE_U32) >= 0) {
			ack->offs = mnl_attr_get_u32(a);
			ack->has_offs = true;
		}
		break;
	case NLMSGERR_ATTR_MISS_TYPE:
		if (mnl_attr_validate(a, MNL_TYPE_U32) >= 0) {
			ack->miss_type = mnl_attr_get_u32(a);
			ack->has_miss_type = true;
		}
		break;
	case NLMSGERR_ATTR_MISS_NEST:
		if (mnl_attr_validate(a, MNL_TYPE_U32) >= 0) {
			ack->miss_nest = mnl_attr_get_u32(a);
			ack->has_miss_nest = true;
		}
		break;
	}
	return MNL_CB_OK;
}

/* The extack TLVs that follow a header of hdrlen bytes in the payload. */
static void parse_extack(const struct nlmsghdr *nlh, size_t hdrlen,
			 struct ack *ack)
{
	if (!(nlh->nlmsg_flags & NLM_F_ACK_TLVS) ||
	    MNL_ALIGN(hdrlen) > mnl_nlmsg_get_payload_len(nlh))
		return;
	mnl_attr_parse(nlh, (unsigned int)hdrlen, extack_attr_cb, ack);
}

static int error_cb(const struct nlmsghdr *nlh, void *data)
{
	struct talk *t = data;
	const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);
	size_t hdrlen = sizeof(*e);

	if (nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*e))) {
		t->bad_reply = true;
		return MNL_CB_ERROR;
	}
	/* unless capped, the request's payload follows the nlmsgerr */
	if (!(nlh->nlmsg_flags & NLM_F_CAPPED) &&
	    e->msg.nlmsg_len >= sizeof(struct nlmsghdr))
		hdrlen += MNL_ALIGN(e->msg.nlmsg_len - sizeof(struct nlmsghdr));
	parse_extack(nlh, hdrlen, &t->ack);
	if (e->error < 0)
		t->ack.error = -e->error;
	return MNL_CB_STOP;
}

static int done_cb(const struct nlmsghdr *nlh, void *data)
{
	struct talk *t = data;

	if (mnl_nlmsg_get_payload_len(nlh) >= sizeof(int)) {
		int err;

		memcpy(&err, mnl_nlmsg_get_payload(nlh), sizeof(err));
		if (err < 0) {
			t->ack.error = -err;
			parse_extack(nlh, sizeof(int), &t->ack);
		}
	}
	return MNL_CB_STOP;
}

static int data_cb(const struct nlmsghdr *nlh, void *data)
{
	struct talk *t = data;

	if (!t->cb)
		return MNL_CB_OK;
	if (t->cb(nlh, t->data) == MNL_CB_ERROR) {
		t->bad_reply = true;
		return MNL_CB_ERROR;
	}
	return MNL_CB_OK;
}

/*
 * Send nlh and process the replies until the ACK or NLMSG_DONE, passing
 * each data message to cb.  Returns 0, or -1 with *ack describing the
 * kernel's refusal.  Dies on local errors.
 */
static int nl_talk(struct nl *nl, struct nlmsghdr *nlh, mnl_cb_t cb,
		   void *data, struct ack *ack)
{
	struct talk t = { .cb = cb, .data = data };
	mnl_cb_t ctl[NLMSG_MIN_TYPE] = {
		[NLMSG_ERROR] = error_cb,
		[NLMSG_DONE] = done_cb,
	};
	int ret;

	nlh->nlmsg_seq = ++nl->seq;
	if (mnl_socket_sendto(nl->sk, nlh, nlh->nlmsg_len) < 0)
		die_setup("netlink send: %s", strerror(errno));
	do {
		ssize_t n = mnl_socket_recvfrom(nl->sk, rxbuf, sizeof(rxbuf));

		if (n < 0)
			die_setup("netlink receive: %s", strerror(errno));
		ret = mnl_cb_run2(rxbuf, (size_t)n, nlh->nlmsg_seq, nl->portid,
				  data_cb, &t, ctl, NLMSG_MIN_TYPE);
		if (ret == MNL_CB_ERROR && !t.ack.error)
			die_setup("bad netlink reply: %s",
				  t.bad_reply ? "malformed" : strerror(errno));
	} while (ret > MNL_CB_STOP);
	*ack = t.ack;
	return t.ack.error ? -1 : 0;
}

/* buf must have MNL_SOCKET_BUFFER_SIZE bytes */
static struct nlmsghdr *msg_start(char *buf, uint16_t type, uint16_t flags,
				  uint8_t cmd, uint8_t version)
{
	struct nlmsghdr *nlh;
	struct genlmsghdr *g;

	memset(buf, 0, MNL_SOCKET_BUFFER_SIZE);	/* no stray padding bytes */
	nlh = mnl_nlmsg_put_header(buf);

	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | flags;
	g = mnl_nlmsg_put_extra_header(nlh, sizeof(*g));
	g->cmd = cmd;
	g->version = version;
	return nlh;
}

static int family_attr_cb(const struct nlattr *a, void *data)
{
	if (mnl_attr_get_type(a) == CTRL_ATTR_FAMILY_ID &&
	    mnl_attr_validate(a, MNL_TYPE_U16) >= 0)
		*(uint16_t *)data = mnl_attr_get_u16(a);
	return MNL_CB_OK;
}

static int family_cb(const struct nlmsghdr *nlh, void *data)
{
	return mnl_attr_parse(nlh, sizeof(struct genlmsghdr), family_attr_cb,
			      data) < 0 ? MNL_CB_ERROR : MNL_CB_OK;
}

static void nl_open(struct nl *nl)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh;
	const char *family;
	struct ack ack;
	int one = 1;

	nl->sk = mnl_socket_open(NETLINK_GENERIC);
	if (!nl->sk)
		die_setup("netlink socket: %s", strerror(errno));
	if (mnl_socket_bind(nl->sk, 0, MNL_SOCKET_AUTOPID) < 0)
		die_setup("netlink bind: %s", strerror(errno));
	if (mnl_socket_setsockopt(nl->sk, NETLINK_EXT_ACK, &one,
				  sizeof(one)) < 0)
		die_setup("NETLINK_EXT_ACK: %s", strerror(errno));
	nl->portid = mnl_socket_get_portid(nl->sk);
	nl->seq = (unsigned int)getpid() << 8;

	/* FPT_NL_FAMILY: another family name, only to test this program */
	family = getenv("FPT_NL_FAMILY");
	if (!family || !*family)
		family = FPT_GENL_NAME;
	nlh = msg_start(buf, GENL_ID_CTRL, NLM_F_ACK, CTRL_CMD_GETFAMILY, 1);
	mnl_attr_put_strz(nlh, CTRL_ATTR_FAMILY_NAME, family);
	nl->family = 0;
	if (nl_talk(nl, nlh, family_cb, &nl->family, &ack) || !nl->family) {
		fflush(stdout);
		fprintf(stderr, "%s: generic netlink family \"%s\" not found "
			"(%s): fpt.ko not loaded?\n", prog, family,
			ack.error ? errno_name(ack.error) : "no id");
		exit(EXIT_NOFAMILY);
	}
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

static void print_refusal(const struct ack *ack)
{
	printf("errno=%s extack=", errno_name(ack->error));
	print_quoted(ack->msg);
	if (ack->has_offs)
		printf(" offs=%u", ack->offs);
	if (ack->has_miss_type)
		printf(" miss_type=%u", ack->miss_type);
	if (ack->has_miss_nest)
		printf(" miss_nest=%u", ack->miss_nest);
	putchar('\n');
}

struct parsed {
	const struct nlattr *tb[FPT_A_MAX + 1];
	const struct nlattr *pol[FPT_P_MAX + 1];
	bool has_stat[FPT_NR_COUNTERS];
	uint64_t stat[FPT_NR_COUNTERS];
	unsigned int nr_extra;
	uint16_t extra_type[16];
	uint64_t extra_val[16];
};

static int top_attr_cb(const struct nlattr *a, void *data)
{
	static const enum mnl_attr_data_type types[FPT_A_MAX + 1] = {
		[FPT_A_CGROUP_ID] = MNL_TYPE_U64,
		[FPT_A_CGROUP_PATH] = MNL_TYPE_NUL_STRING,
		[FPT_A_POLICY] = MNL_TYPE_NESTED,
		[FPT_A_STATS] = MNL_TYPE_NESTED,
		[FPT_A_GLOBAL] = MNL_TYPE_FLAG,
		[FPT_A_ENABLED] = MNL_TYPE_U8,
		[FPT_A_BACKENDS] = MNL_TYPE_U32,
		[FPT_A_NR_POLICIES] = MNL_TYPE_U32,
		[FPT_A_ALL] = MNL_TYPE_FLAG,
	};
	struct parsed *p = data;
	uint16_t type = mnl_attr_get_type(a);

	if (type > FPT_A_MAX || types[type] == MNL_TYPE_UNSPEC)
		return MNL_CB_OK;	/* newer kernel or padding */
	if (mnl_attr_validate(a, types[type]) < 0) {
		warnx_("reply attribute %u malformed", type);
		return MNL_CB_ERROR;
	}
	p->tb[type] = a;
	return MNL_CB_OK;
}

static int pol_attr_cb(const struct nlattr *a, void *data)
{
	struct parsed *p = data;
	uint16_t type = mnl_attr_get_type(a);

	if (type > FPT_P_MAX || type == FPT_P_UNSPEC)
		return MNL_CB_OK;
	if (mnl_attr_validate(a, type == FPT_P_FLAGS ? MNL_TYPE_U32 :
				 MNL_TYPE_U8) < 0) {
		warnx_("reply policy attribute %u malformed", type);
		return MNL_CB_ERROR;
	}
	p->pol[type] = a;
	return MNL_CB_OK;
}

static int stat_attr_cb(const struct nlattr *a, void *data)
{
	struct parsed *p = data;
	uint16_t type = mnl_attr_get_type(a);
	uint64_t v;

	if (type < FPT_S_FIRST)
		return MNL_CB_OK;	/* padding */
	if (mnl_attr_validate(a, MNL_TYPE_U64) < 0) {
		warnx_("reply counter attribute %u malformed", type);
		return MNL_CB_ERROR;
	}
	v = mnl_attr_get_u64(a);
	if (type <= FPT_S_MAX) {
		p->has_stat[type - FPT_S_FIRST] = true;
		p->stat[type - FPT_S_FIRST] = v;
	} else if (p->nr_extra < 16) {
		p->extra_type[p->nr_extra] = type;
		p->extra_val[p->nr_extra++] = v;
	}
	return MNL_CB_OK;
}

static void field_enum_u8(struct line *l, const char *key,
			  const struct nlattr *a, const char *const *names,
			  unsigned int nr)
{
	unsigned int v;

	if (!a) {
		field(l, "%s=-", key);
		return;
	}
	v = mnl_attr_get_u8(a);
	if (v < nr)
		field(l, "%s=%s", key, names[v]);
	else
		field(l, "%s=%u", key, v);
}

/* Print one FPT reply message as one key=value line. */
static int print_cb(const struct nlmsghdr *nlh, void *data)
{
	struct parsed p;
	struct line l = { false };
	unsigned int i;

	(void)data;
	memset(&p, 0, sizeof(p));
	if (mnl_attr_parse(nlh, sizeof(struct genlmsghdr), top_attr_cb,
			   &p) < 0)
		return MNL_CB_ERROR;
	if (p.tb[FPT_A_POLICY] &&
	    mnl_attr_parse_nested(p.tb[FPT_A_POLICY], pol_attr_cb, &p) < 0)
		return MNL_CB_ERROR;
	if (p.tb[FPT_A_STATS] &&
	    mnl_attr_parse_nested(p.tb[FPT_A_STATS], stat_attr_cb, &p) < 0)
		return MNL_CB_ERROR;

	if (p.tb[FPT_A_ENABLED])
		field(&l, "enabled=%u", mnl_attr_get_u8(p.tb[FPT_A_ENABLED]));
	if (p.tb[FPT_A_BACKENDS])
		field(&l, "backends=0x%x",
		      mnl_attr_get_u32(p.tb[FPT_A_BACKENDS]));
	if (p.tb[FPT_A_NR_POLICIES])
		field(&l, "nr_policies=%u",
		      mnl_attr_get_u32(p.tb[FPT_A_NR_POLICIES]));
	if (p.tb[FPT_A_CGROUP_ID])
		field(&l, "cgroup_id=%llu", (unsigned long long)
		      mnl_attr_get_u64(p.tb[FPT_A_CGROUP_ID]));
	if (p.tb[FPT_A_CGROUP_ID] || p.tb[FPT_A_CGROUP_PATH])
		field(&l, "path=%s", p.tb[FPT_A_CGROUP_PATH] ?
		      mnl_attr_get_str(p.tb[FPT_A_CGROUP_PATH]) : "-");
	if (p.tb[FPT_A_POLICY]) {
		field_enum_u8(&l, "mode", p.pol[FPT_P_MODE], mode_names, 3);
		if (p.pol[FPT_P_DEFRAG])
			field(&l, "defrag=%u",
			      mnl_attr_get_u8(p.pol[FPT_P_DEFRAG]));
		else
			field(&l, "defrag=-");
		field_enum_u8(&l, "backend", p.pol[FPT_P_BACKEND],
			      backend_names, 3);
		field_enum_u8(&l, "backend_active",
			      p.pol[FPT_P_BACKEND_ACTIVE], backend_names, 3);
		if (p.pol[FPT_P_FLAGS])
			field(&l, "flags=%u",
			      mnl_attr_get_u32(p.pol[FPT_P_FLAGS]));
		else
			field(&l, "flags=-");
	}
	if (p.tb[FPT_A_STATS]) {
		for (i = 0; i < FPT_NR_COUNTERS; i++) {
			if (p.has_stat[i])
				field(&l, "%s=%llu", counter_names[i],
				      (unsigned long long)p.stat[i]);
			else
				field(&l, "%s=-", counter_names[i]);
		}
		for (i = 0; i < p.nr_extra; i++)
			field(&l, "stat_%u=%llu", p.extra_type[i],
			      (unsigned long long)p.extra_val[i]);
	}
	if (!l.started)
		field(&l, "empty=1");
	putchar('\n');
	return MNL_CB_OK;
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

	if (cgroup_mount(true, mnt, sizeof(mnt), root, sizeof(root)) == 0) {
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

	if (cgroup_mount(true, mnt, sizeof(mnt), root, sizeof(root)))
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

/*
 * Start a nest with NLA_F_NESTED set: strict validation (the default for
 * new generic netlink families) refuses nests without it, and libmnl's
 * mnl_attr_nest_start() does not set it.
 */
static struct nlattr *nest_start(struct nlmsghdr *nlh, uint16_t type)
{
	struct nlattr *nest = mnl_attr_nest_start(nlh, type);

	nest->nla_type |= NLA_F_NESTED;
	return nest;
}

static void put_cgroup(struct nlmsghdr *nlh, const struct args *a)
{
	if (a->have_id)
		mnl_attr_put_u64(nlh, FPT_A_CGROUP_ID, a->id);
	if (a->have_path)
		mnl_attr_put_strz(nlh, FPT_A_CGROUP_PATH, a->path);
}

static int lookup(const char *s, const char *const *names, unsigned int nr,
		  const char *opt)
{
	unsigned int i;

	for (i = 0; i < nr; i++)
		if (!strcmp(s, names[i]))
			return (int)i;
	die_setup("%s: unknown value '%s' (see --help)", opt, s);
}

/* Send a request and report; returns the exit code. */
static int request(struct nl *nl, struct nlmsghdr *nlh, mnl_cb_t cb,
		   bool print_ok)
{
	struct ack ack;

	if (nl_talk(nl, nlh, cb, NULL, &ack)) {
		print_refusal(&ack);
		return EXIT_REFUSED;
	}
	if (print_ok) {
		printf("ok");
		if (ack.msg[0]) {
			printf(" extack=");
			print_quoted(ack.msg);
		}
		putchar('\n');
	}
	return EXIT_OK;
}

static int cmd_set(struct nl *nl, const struct args *a)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh;
	struct nlattr *nest;

	nlh = msg_start(buf, nl->family, NLM_F_ACK, FPT_CMD_POLICY_SET,
			FPT_GENL_VERSION);
	put_cgroup(nlh, a);
	nest = nest_start(nlh, FPT_A_POLICY);
	mnl_attr_put_u8(nlh, FPT_P_MODE, (uint8_t)a->mode);
	if (a->defrag >= 0)
		mnl_attr_put_u8(nlh, FPT_P_DEFRAG, (uint8_t)a->defrag);
	if (a->backend >= 0)
		mnl_attr_put_u8(nlh, FPT_P_BACKEND, (uint8_t)a->backend);
	if (a->flags >= 0)
		mnl_attr_put_u32(nlh, FPT_P_FLAGS, (uint32_t)a->flags);
	mnl_attr_nest_end(nlh, nest);
	return request(nl, nlh, NULL, true);
}

static int cmd_del(struct nl *nl, const struct args *a)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh;

	nlh = msg_start(buf, nl->family, NLM_F_ACK, FPT_CMD_POLICY_DEL,
			FPT_GENL_VERSION);
	put_cgroup(nlh, a);
	if (a->all)
		mnl_attr_put(nlh, FPT_A_ALL, 0, NULL);
	return request(nl, nlh, NULL, true);
}

static int cmd_get(struct nl *nl, const struct args *a, uint8_t cmd)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	bool one = a->have_id || a->have_path;
	struct nlmsghdr *nlh;

	/* POLICY_GET without a cgroup dumps; STATS_GET without is global */
	nlh = msg_start(buf, nl->family,
			(one || cmd == FPT_CMD_STATS_GET) ? NLM_F_ACK :
							     NLM_F_DUMP,
			cmd, FPT_GENL_VERSION);
	put_cgroup(nlh, a);
	return request(nl, nlh, print_cb, false);
}

static const char *const raw_cases[] = {
	"no-cgroup", "bad-mode", "bad-flags", "bad-backend", "unknown-attr",
	"bad-nest-attr", "wrong-type", "missing-mode", "no-such-cgroup",
	"no-such-path", "id-path-mismatch",
};
#define NR_RAW (sizeof(raw_cases) / sizeof(raw_cases[0]))

static int cmd_raw(struct nl *nl, const char *name)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct tmpcg ta = { .made = false }, tb = { .made = false };
	struct nlmsghdr *nlh;
	struct nlattr *nest;
	struct ack ack;
	int c = lookup(name, raw_cases, NR_RAW, "raw");
	int ret;

	bool need_a = c != 0 && c != 8 && c != 9, need_b = c == 10;

	if ((need_a && !tmpcg_make(&ta, "a")) ||
	    (need_b && !tmpcg_make(&tb, "b"))) {
		int e = errno;

		tmpcg_remove(&ta);
		tmpcg_remove(&tb);
		die_setup("raw: cannot make temporary cgroups under the "
			  "cgroup2 mount: %s", strerror(e));
	}
	nlh = msg_start(buf, nl->family, NLM_F_ACK, FPT_CMD_POLICY_SET,
			FPT_GENL_VERSION);
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
	nest = nest_start(nlh, FPT_A_POLICY);
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

	if (nl_talk(nl, nlh, NULL, NULL, &ack)) {
		print_refusal(&ack);
		ret = EXIT_OK;
	} else {
		struct tmpcg *t[2] = { &ta, &tb };
		int i;

		printf("accepted=1\n");
		ret = EXIT_FAILED;
		/* undo whatever policy got made */
		for (i = 0; i < 2; i++) {
			if (!t[i]->made)
				continue;
			nlh = msg_start(buf, nl->family, NLM_F_ACK,
					FPT_CMD_POLICY_DEL, FPT_GENL_VERSION);
			mnl_attr_put_u64(nlh, FPT_A_CGROUP_ID, t[i]->id);
			nl_talk(nl, nlh, NULL, NULL, &ack);
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
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct args a = { .mode = -1, .defrag = -1, .backend = -1,
			  .flags = -1 };
	bool drop = false;
	const char *cmd, *raw = NULL;
	struct nl nl;
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
	    strcmp(cmd, "stats") && strcmp(cmd, "raw"))
		die_setup("unknown command '%s' (see --help)", cmd);

	if (!strcmp(cmd, "set") && !a.have_id && !a.have_path)
		die_setup("set: --cgroup-id or --cgroup required");
	if (!strcmp(cmd, "set") && a.mode < 0)
		die_setup("set: --mode required");
	if (!strcmp(cmd, "del") && !a.have_id && !a.have_path && !a.all)
		die_setup("del: --cgroup-id, --cgroup or --all required");

	if (drop)
		drop_net_admin();
	nl_open(&nl);
	if (!strcmp(cmd, "set"))
		ret = cmd_set(&nl, &a);
	else if (!strcmp(cmd, "del"))
		ret = cmd_del(&nl, &a);
	else if (!strcmp(cmd, "get"))
		ret = cmd_get(&nl, &a, FPT_CMD_POLICY_GET);
	else if (!strcmp(cmd, "stats"))
		ret = cmd_get(&nl, &a, FPT_CMD_STATS_GET);
	else
		ret = cmd_raw(&nl, raw);
	mnl_socket_close(nl.sk);
	free(a.path);
	return ret;
}
