// SPDX-License-Identifier: GPL-2.0
/*
 * fpt-nlfuzz: random and mutated generic netlink requests against the fpt
 * family, for a bounded time, from several processes at once.
 *
 *   fpt-nlfuzz [--seconds S] [--senders N] [--seed X] [--unpriv N]
 *              [--cgroups DIR...]
 *
 * N privileged senders (and --unpriv more that run as uid 65534, without
 * any capability) each send requests built from random pieces: a command
 * (valid, notification-only or unknown), flags (doit/dump mixes, EXCL,
 * CREATE, stray bits), a genl version, and an attribute tree of random
 * types, lengths and payloads: cgroup ids of the given cgroups (their
 * inode numbers), of the root or random, paths (good, ../, unterminated,
 * too long), policy nests with or without NLA_F_NESTED, nests inside nests
 * and mis-sized integers; then, sometimes, random bytes of the payload
 * are flipped.  Messages are built with libmnl through fptnl-raw.h and
 * answers read by libfptnl (fptnl_talk, fptnl_parse_reply): no second
 * parser.
 *
 * Every answer must be one of:
 *   - success, each data message parsing as an fpt reply;
 *   - a refusal with an errno from the expected set (EINVAL, ERANGE,
 *     ENOENT, EPERM, EOPNOTSUPP, EEXIST, EMSGSIZE, E2BIG, ENOTDIR,
 *     ENAMETOOLONG) that carries an extack message or offset, except
 *     EPERM (genl's permission check) and EOPNOTSUPP (no such operation),
 *     which the netlink core sends bare.
 * Anything else (another errno, a bare EINVAL, a reply that does not
 * parse, no answer within 10 s) is counted as a failure and printed.
 * At the end the policies the fuzzer may have made are deleted.
 * Prints one line per sender and a total; exit 0 if no failure, 1 if any,
 * 2 on a setup error.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <libmnl/libmnl.h>
#include <linux/genetlink.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <grp.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "common.h"
#include "fptnl-raw.h"

#define MAX_CG 16

static uint64_t cg_ids[MAX_CG];
static const char *cg_paths[MAX_CG];
static unsigned int nr_cg;
static uint64_t rng;

static uint64_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static unsigned int pick(unsigned int n)
{
	return n ? (unsigned int)(rnd() % n) : 0;
}

/* Room left in the request buffer after nlh. */
static size_t room(const struct nlmsghdr *nlh)
{
	return FPTNL_MSG_BUF - nlh->nlmsg_len;
}

/*
 * A raw attribute: nla_len may lie (shorter or longer than what follows),
 * the payload is @len bytes of @data (random if NULL).
 */
static void put_raw(struct nlmsghdr *nlh, uint16_t type, const void *data,
		    size_t len, int len_skew)
{
	struct nlattr *a;
	size_t total = MNL_ALIGN(MNL_ATTR_HDRLEN + len);
	long l;
	size_t i;

	if (total + 64 > room(nlh))
		return;
	a = mnl_nlmsg_get_payload_tail(nlh);
	l = (long)(MNL_ATTR_HDRLEN + len) + len_skew;
	if (l < 0)
		l = 0;
	if (l > 0xffff)
		l = 0xffff;
	a->nla_type = type;
	a->nla_len = (uint16_t)l;
	for (i = 0; i < len; i++)
		((unsigned char *)a + MNL_ATTR_HDRLEN)[i] =
			data ? ((const unsigned char *)data)[i] : (unsigned char)rnd();
	memset((char *)a + MNL_ATTR_HDRLEN + len, 0,
	       total - MNL_ATTR_HDRLEN - len);
	nlh->nlmsg_len += (uint32_t)total;
}

static uint64_t some_cgroup_id(void)
{
	switch (pick(6)) {
	case 0: return 0;
	case 1: return 1;
	case 2: return rnd();
	default: return nr_cg ? cg_ids[pick(nr_cg)] : rnd();
	}
}

static void put_path(struct nlmsghdr *nlh, uint16_t type)
{
	static char big[5000];
	const char *s;

	switch (pick(7)) {
	case 0: s = "/"; break;
	case 1: s = "../../.."; break;
	case 2: s = "no-such-cgroup/x"; break;
	case 3:
		memset(big, 'a', sizeof(big) - 1);
		put_raw(nlh, type, big, 1 + pick(sizeof(big) - 1), 0);
		return;
	case 4:	/* not NUL-terminated */
		put_raw(nlh, type, "fpt", 3, 0);
		return;
	default: s = nr_cg ? cg_paths[pick(nr_cg)] : "x"; break;
	}
	put_raw(nlh, type, s, strlen(s) + 1, 0);
}

/* A scalar of a random size (the right one most of the time). */
static void put_int(struct nlmsghdr *nlh, uint16_t type, size_t want,
		    uint64_t v)
{
	static const size_t sizes[] = { 0, 1, 2, 4, 8, 12 };
	size_t len = pick(4) ? want : sizes[pick(6)];

	put_raw(nlh, type, &v, len > 8 ? 8 : len, len > 8 ? 4 : 0);
	if (len > 8)	/* 12: a longer attribute than the type allows */
		put_raw(nlh, (uint16_t)pick(4), NULL, 4, 0);
}

static void put_policy_nest(struct nlmsghdr *nlh, int depth)
{
	struct nlattr *nest;
	unsigned int i, n = pick(6);

	if (room(nlh) < 512)
		return;
	nest = pick(5) ? fptnl_nest_start(nlh, FPT_A_POLICY)
		       : mnl_attr_nest_start(nlh, FPT_A_POLICY); /* no NLA_F_NESTED */
	for (i = 0; i < n; i++) {
		uint16_t t = (uint16_t)pick(FPT_P_MAX + 3);

		switch (t) {
		case FPT_P_MODE: case FPT_P_DEFRAG: case FPT_P_BACKEND:
		case FPT_P_BACKEND_ACTIVE:
			put_int(nlh, t, 1, pick(3) ? pick(4) : rnd());
			break;
		case FPT_P_FLAGS:
			put_int(nlh, t, 4, pick(2) ? pick(2) : rnd());
			break;
		default:
			if (depth < 3 && !pick(3))
				put_policy_nest(nlh, depth + 1);
			else
				put_raw(nlh, t, NULL, pick(12), 0);
		}
	}
	mnl_attr_nest_end(nlh, nest);
}

static void put_attrs(struct nlmsghdr *nlh)
{
	unsigned int i, n = pick(5);

	for (i = 0; i < n; i++) {
		uint16_t t = (uint16_t)pick(FPT_A_MAX + 3);

		if (!pick(10))
			t |= (uint16_t)(pick(2) ? NLA_F_NESTED : NLA_F_NET_BYTEORDER);
		switch (t & NLA_TYPE_MASK) {
		case FPT_A_CGROUP_ID:
			put_int(nlh, t, 8, some_cgroup_id());
			break;
		case FPT_A_CGROUP_PATH:
			put_path(nlh, t);
			break;
		case FPT_A_POLICY:
			put_policy_nest(nlh, 0);
			break;
		case FPT_A_GLOBAL: case FPT_A_ALL:
			put_raw(nlh, t, NULL, pick(3) ? 0 : pick(8), 0);
			break;
		case FPT_A_ENABLED:
			put_int(nlh, t, 1, pick(2));
			break;
		case FPT_A_BACKENDS: case FPT_A_NR_POLICIES:
			put_int(nlh, t, 4, rnd());
			break;
		default:
			put_raw(nlh, t, NULL, pick(24),
				pick(8) ? 0 : (int)pick(40) - 20);
		}
	}
}

struct tally {
	unsigned long sent, ok, replies, refused, fail;
	unsigned long by_errno[160];
};

static int reply_cb(const struct nlmsghdr *nlh, void *data)
{
	struct fptnl_reply r;
	struct tally *t = data;

	t->replies++;
	return fptnl_parse_reply(nlh, &r) ? MNL_CB_ERROR : MNL_CB_OK;
}

static bool expected_errno(int e)
{
	switch (e) {
	case EINVAL: case ERANGE: case ENOENT: case EPERM: case EOPNOTSUPP:
	case EEXIST: case EMSGSIZE: case E2BIG: case ENOTDIR: case ENAMETOOLONG:
		return true;
	}
	return false;
}

static void one_request(struct fptnl *nl, struct tally *t, int id)
{
	static const uint8_t cmds[] = {
		FPT_CMD_POLICY_SET, FPT_CMD_POLICY_DEL, FPT_CMD_POLICY_GET,
		FPT_CMD_STATS_GET, FPT_CMD_POLICY_GET, FPT_CMD_STATS_GET,
		FPT_CMD_UNSPEC, FPT_CMD_POLICY_NEW, FPT_CMD_POLICY_DELETED,
		FPT_CMD_MAX + 1, 0xff };
	char buf[FPTNL_MSG_BUF];
	uint16_t flags = NLM_F_ACK;
	struct nlmsghdr *nlh;
	struct genlmsghdr *g;
	const struct fptnl_ack *ack;
	int ret, e;

	if (!pick(3))
		flags |= NLM_F_DUMP;
	if (!pick(8))
		flags |= (uint16_t)(pick(2) ? NLM_F_EXCL | NLM_F_CREATE : NLM_F_REPLACE);
	if (!pick(16))
		flags |= (uint16_t)(1u << (8 + pick(8)));
	nlh = fptnl_msg_start(nl, buf, cmds[pick(sizeof(cmds))], flags);
	g = mnl_nlmsg_get_payload(nlh);
	if (!pick(16))
		g->version = (uint8_t)rnd();
	if (!pick(16))
		g->reserved = (uint16_t)rnd();
	put_attrs(nlh);
	/* mutation: flip bytes after the genl header; nlmsg_len stays true */
	if (!pick(4) && nlh->nlmsg_len > NLMSG_HDRLEN + GENL_HDRLEN) {
		unsigned int i, n = 1 + pick(4);
		size_t span = nlh->nlmsg_len - NLMSG_HDRLEN - GENL_HDRLEN;

		for (i = 0; i < n; i++)
			((unsigned char *)g + GENL_HDRLEN)[pick((unsigned int)span)] ^=
				(unsigned char)(1u << pick(8));
	}
	t->sent++;
	alarm(10);	/* no answer at all: SIGALRM ends this sender */
	ret = fptnl_talk(nl, nlh, reply_cb, t);
	alarm(0);
	if (!ret) {
		t->ok++;
		return;
	}
	e = fptnl_kernel_error(nl);
	ack = fptnl_ack(nl);
	if (e > 0) {
		bool has_ext = ack->msg[0] || ack->has_offs || ack->has_miss_type;

		t->refused++;
		if (e < (int)(sizeof(t->by_errno) / sizeof(t->by_errno[0])))
			t->by_errno[e]++;
		if (expected_errno(e) && (has_ext || e == EPERM || e == EOPNOTSUPP))
			return;
		printf("sender %d: FAIL cmd=%u flags=0x%x len=%u: errno %d (%s) extack=\"%s\"%s\n",
		       id, g->cmd, flags, nlh->nlmsg_len, e, strerror(e), ack->msg,
		       ack->has_offs ? " (offset)" : "");
	} else {
		printf("sender %d: FAIL cmd=%u flags=0x%x len=%u: local error %s (bad or missing answer)\n",
		       id, g->cmd, flags, nlh->nlmsg_len, strerror(-ret));
	}
	t->fail++;
}

static int sender(int id, bool unpriv, double seconds, uint64_t seed)
{
	struct tally t;
	struct fptnl *nl;
	uint64_t end = now_ns() + (uint64_t)(seconds * 1e9);
	char errs[1024] = "";
	size_t off = 0;
	unsigned int e;
	int ret;

	memset(&t, 0, sizeof(t));
	rng = seed * 0x9e3779b97f4a7c15ULL + (uint64_t)id + 1;
	if (unpriv && (setgroups(0, NULL) || setresgid(65534, 65534, 65534) ||
		       setresuid(65534, 65534, 65534)))
		die_setup("sender %d: cannot drop to uid 65534: %s", id,
			  strerror(errno));
	ret = fptnl_open(&nl);
	if (ret)
		die_setup("sender %d: fptnl_open: %s", id, strerror(-ret));
	while (now_ns() < end)
		one_request(nl, &t, id);
	fptnl_close(nl);
	for (e = 1; e < sizeof(t.by_errno) / sizeof(t.by_errno[0]); e++)
		if (t.by_errno[e] && off < sizeof(errs) - 64)
			off += (size_t)snprintf(errs + off, sizeof(errs) - off,
						"%s%s:%lu", off ? "," : "",
						strerrorname_np((int)e) ?: "?",
						t.by_errno[e]);
	printf("sender %d %s: sent=%lu ok=%lu replies=%lu refused=%lu fail=%lu errnos=%s\n",
	       id, unpriv ? "unpriv" : "priv", t.sent, t.ok, t.replies,
	       t.refused, t.fail, errs[0] ? errs : "-");
	return t.fail ? 1 : 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "seconds", required_argument, NULL, 's' },
		{ "senders", required_argument, NULL, 'n' },
		{ "unpriv", required_argument, NULL, 'u' },
		{ "seed", required_argument, NULL, 'S' },
		{ NULL, 0, NULL, 0 }
	};
	unsigned int senders = 2, unpriv = 1, i, bad = 0;
	double seconds = 10;
	uint64_t seed = (uint64_t)time(NULL);
	struct fptnl *nl;
	int c, status;

	common_init(argv[0]);
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 's': seconds = (double)arg_u64("--seconds", optarg); break;
		case 'n': senders = (unsigned int)arg_u64("--senders", optarg); break;
		case 'u': unpriv = (unsigned int)arg_u64("--unpriv", optarg); break;
		case 'S': seed = arg_u64("--seed", optarg); break;
		default:
			fprintf(stderr, "usage: %s [--seconds S] [--senders N] [--unpriv N] [--seed X] [CGROUP-DIR...]\n", prog);
			return 2;
		}
	}
	/* CGROUP-DIR: absolute directories under the cgroup2 mount */
	for (; optind < argc && nr_cg < MAX_CG; optind++) {
		struct stat st;
		const char *p = argv[optind], *rel = strstr(p, "/cgroup/");

		if (stat(p, &st))
			die_setup("%s: %s", p, strerror(errno));
		cg_ids[nr_cg] = st.st_ino;
		cg_paths[nr_cg++] = rel ? rel + strlen("/cgroup") : p;
	}
	printf("seed=%llu seconds=%.0f senders=%u unpriv=%u cgroups=%u\n",
	       (unsigned long long)seed, seconds, senders, unpriv, nr_cg);
	for (i = 0; i < senders + unpriv; i++) {
		pid_t pid = fork();

		if (pid < 0)
			die_setup("fork: %s", strerror(errno));
		if (!pid)
			_exit(sender((int)i, i >= senders, seconds, seed));
	}
	while (wait(&status) > 0) {
		if (WIFSIGNALED(status)) {
			printf("a sender died of signal %d (%s)\n", WTERMSIG(status),
			       WTERMSIG(status) == SIGALRM ? "no answer within 10 s" : "crash");
			bad++;
		} else if (!WIFEXITED(status) || WEXITSTATUS(status)) {
			bad++;
		}
	}
	/* whatever policies the fuzz made go */
	if (!fptnl_open(&nl)) {
		int r = fptnl_policy_del_all(nl);

		if (r && r != -ENOENT)
			printf("cleanup: delete all policies: %s\n", strerror(-r));
		fptnl_close(nl);
	}
	printf("total: %u of %u senders failed\n", bad, senders + unpriv);
	return bad ? 1 : 0;
}
