// SPDX-License-Identifier: MIT
/*
 * libfptnl: fpt's generic netlink family on libmnl (see fptnl.h).  The
 * only code in the project that builds or parses fpt netlink messages.
 * Never prints: every failure is a negative errno, and the kernel's
 * refusals are kept in the connection (fptnl_ack()).
 */
#define _GNU_SOURCE
#include "fptnl.h"
#include "fptnl-raw.h"

#include <errno.h>
#include <linux/genetlink.h>
#include <linux/netlink.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define RXBUF_SIZE	(1 << 16)	/* dumps come in up to 32 KB skbs */

_Static_assert(FPTNL_FAMILY_NAMSIZ == GENL_NAMSIZ, "family name size");

struct fptnl {
	struct mnl_socket *sk;
	unsigned int portid;
	unsigned int seq;
	uint16_t family;
	uint32_t mcgrp;			/* monitor: the policy group's id */
	struct fptnl_ack ack;		/* of the last request */
	int kernel_error;		/* positive errno of a refusal, or 0 */
	char rxbuf[RXBUF_SIZE];
};

/* ---- names ---- */

static const char *const mode_names[__FPT_MODE_MAX] = {
	[FPT_MODE_OFF] = "off", [FPT_MODE_ON] = "on",
	[FPT_MODE_MADVISE] = "madvise",
};
static const char *const backend_names[__FPT_BACKEND_MAX] = {
	[FPT_BACKEND_AUTO] = "auto", [FPT_BACKEND_FOLIO] = "folio",
	[FPT_BACKEND_RESERVE] = "reserve",
};
static const char *const counter_names[FPT_NR_COUNTERS] = {
#define X(e, n, h) [FPT_C_##e] = #n,
	FPT_COUNTERS(X)
#undef X
};
static const char *const counter_helps[FPT_NR_COUNTERS] = {
#define X(e, n, h) [FPT_C_##e] = h,
	FPT_COUNTERS(X)
#undef X
};

const char *fpt_mode_name(uint8_t mode)
{
	return mode < __FPT_MODE_MAX ? mode_names[mode] : NULL;
}

const char *fpt_backend_name(uint8_t backend)
{
	return backend < __FPT_BACKEND_MAX ? backend_names[backend] : NULL;
}

const char *fpt_counter_name(unsigned int idx)
{
	return idx < FPT_NR_COUNTERS ? counter_names[idx] : NULL;
}

const char *fpt_counter_help(unsigned int idx)
{
	return idx < FPT_NR_COUNTERS ? counter_helps[idx] : NULL;
}

uint64_t fpt_fallbacks(const uint64_t *c)
{
	uint64_t sum = 0;
	int i;

	for (i = FPT_C_FB_NO_BLOCK; i <= FPT_C_FB_NOMEM; i++)
		sum += c[i];
	return sum;
}

bool fpt_fallback_ratio(const uint64_t *c, double *ratio)
{
	uint64_t fb = fpt_fallbacks(c), all = fb + c[FPT_C_FAULTS_64K];

	if (!all)
		return false;
	*ratio = (double)fb / (double)all;
	return true;
}

static int lookup(const char *s, const char *const *names, int nr)
{
	int i;

	if (!s)
		return -1;
	for (i = 0; i < nr; i++)
		if (!strcmp(s, names[i]))
			return i;
	return -1;
}

int fpt_mode_parse(const char *s)
{
	return lookup(s, mode_names, __FPT_MODE_MAX);
}

int fpt_backend_parse(const char *s)
{
	return lookup(s, backend_names, __FPT_BACKEND_MAX);
}

/* ---- ACKs and the request/reply loop ---- */

struct talk {
	struct fptnl_ack ack;
	mnl_cb_t cb;
	void *data;
	bool bad_reply;
};

static int extack_attr_cb(const struct nlattr *a, void *data)
{
	struct fptnl_ack *ack = data;

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
			 struct fptnl_ack *ack)
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

int fptnl_talk(struct fptnl *nl, struct nlmsghdr *nlh, mnl_cb_t cb,
	       void *data)
{
	struct talk t = { .cb = cb, .data = data };
	mnl_cb_t ctl[NLMSG_MIN_TYPE] = {
		[NLMSG_ERROR] = error_cb,
		[NLMSG_DONE] = done_cb,
	};
	int ret;

	memset(&nl->ack, 0, sizeof(nl->ack));
	nl->kernel_error = 0;
	nlh->nlmsg_seq = ++nl->seq;
	if (mnl_socket_sendto(nl->sk, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	do {
		ssize_t n = mnl_socket_recvfrom(nl->sk, nl->rxbuf,
						sizeof(nl->rxbuf));

		if (n < 0)
			return -errno;
		errno = 0;
		ret = mnl_cb_run2(nl->rxbuf, (size_t)n, nlh->nlmsg_seq,
				  nl->portid, data_cb, &t, ctl,
				  NLMSG_MIN_TYPE);
		if (ret == MNL_CB_ERROR && !t.ack.error) {
			int e = errno;

			nl->ack = t.ack;
			return t.bad_reply || !e ? -EBADMSG : -e;
		}
	} while (ret > MNL_CB_STOP);
	nl->ack = t.ack;
	nl->kernel_error = t.ack.error;
	return t.ack.error ? -t.ack.error : 0;
}

int fptnl_kernel_error(const struct fptnl *nl)
{
	return nl->kernel_error;
}

const struct fptnl_ack *fptnl_ack(const struct fptnl *nl)
{
	return &nl->ack;
}

const char *fptnl_extack(const struct fptnl *nl)
{
	return nl->ack.msg;
}

uint16_t fptnl_family_id(const struct fptnl *nl)
{
	return nl->family;
}

static struct nlmsghdr *msg_start(char *buf, uint16_t type, uint16_t flags,
				  uint8_t cmd, uint8_t version)
{
	struct nlmsghdr *nlh;
	struct genlmsghdr *g;

	memset(buf, 0, FPTNL_MSG_BUF);	/* no stray padding bytes */
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | flags;
	g = mnl_nlmsg_put_extra_header(nlh, sizeof(*g));
	g->cmd = cmd;
	g->version = version;
	return nlh;
}

struct nlmsghdr *fptnl_msg_start(const struct fptnl *nl, char *buf,
				 uint8_t cmd, uint16_t flags)
{
	return msg_start(buf, nl->family, flags, cmd, FPT_GENL_VERSION);
}

struct nlattr *fptnl_nest_start(struct nlmsghdr *nlh, uint16_t type)
{
	struct nlattr *nest = mnl_attr_nest_start(nlh, type);

	nest->nla_type |= NLA_F_NESTED;
	return nest;
}

/* ---- opening: the family and its multicast group ---- */

/*
 * What nlctrl says of a family: in the reply to CTRL_CMD_GETFAMILY and in
 * its NEWFAMILY/DELFAMILY events alike (one parser for both).
 */
struct family_ids {
	const char *mcgrp_name;		/* the group to look for, or NULL */
	uint16_t id;
	uint32_t mcgrp;
	char name[GENL_NAMSIZ];
};

static int mcgrp_attr_cb(const struct nlattr *a, void *data)
{
	const struct nlattr **tb = data;
	uint16_t type = mnl_attr_get_type(a);

	if (type <= CTRL_ATTR_MCAST_GRP_ID)
		tb[type] = a;
	return MNL_CB_OK;
}

static int family_attr_cb(const struct nlattr *a, void *data)
{
	struct family_ids *f = data;
	const struct nlattr *grp;

	switch (mnl_attr_get_type(a)) {
	case CTRL_ATTR_FAMILY_ID:
		if (mnl_attr_validate(a, MNL_TYPE_U16) >= 0)
			f->id = mnl_attr_get_u16(a);
		break;
	case CTRL_ATTR_FAMILY_NAME:
		if (mnl_attr_validate(a, MNL_TYPE_NUL_STRING) >= 0)
			snprintf(f->name, sizeof(f->name), "%s",
				 mnl_attr_get_str(a));
		break;
	case CTRL_ATTR_MCAST_GROUPS:
		if (!f->mcgrp_name || mnl_attr_validate(a, MNL_TYPE_NESTED) < 0)
			break;
		mnl_attr_for_each_nested(grp, a) {
			const struct nlattr *tb[CTRL_ATTR_MCAST_GRP_ID + 1] = {
				NULL };

			if (mnl_attr_parse_nested(grp, mcgrp_attr_cb, tb) < 0 ||
			    !tb[CTRL_ATTR_MCAST_GRP_NAME] ||
			    !tb[CTRL_ATTR_MCAST_GRP_ID] ||
			    mnl_attr_validate(tb[CTRL_ATTR_MCAST_GRP_NAME],
					      MNL_TYPE_NUL_STRING) < 0 ||
			    mnl_attr_validate(tb[CTRL_ATTR_MCAST_GRP_ID],
					      MNL_TYPE_U32) < 0)
				continue;
			if (!strcmp(mnl_attr_get_str(tb[CTRL_ATTR_MCAST_GRP_NAME]),
				    f->mcgrp_name))
				f->mcgrp = mnl_attr_get_u32(
					tb[CTRL_ATTR_MCAST_GRP_ID]);
		}
		break;
	}
	return MNL_CB_OK;
}

static int family_cb(const struct nlmsghdr *nlh, void *data)
{
	return mnl_attr_parse(nlh, sizeof(struct genlmsghdr), family_attr_cb,
			      data) < 0 ? MNL_CB_ERROR : MNL_CB_OK;
}

static int open_common(struct fptnl **nlp, const char *family,
		       const char *mcgrp)
{
	char buf[FPTNL_MSG_BUF];
	struct family_ids f = { .mcgrp_name = mcgrp };
	struct nlmsghdr *nlh;
	struct fptnl *nl;
	int one = 1, ret;

	*nlp = NULL;
	nl = calloc(1, sizeof(*nl));
	if (!nl)
		return -ENOMEM;
	nl->sk = mnl_socket_open(NETLINK_GENERIC);
	if (!nl->sk) {
		ret = -errno;
		free(nl);
		return ret;
	}
	if (mnl_socket_bind(nl->sk, 0, MNL_SOCKET_AUTOPID) < 0 ||
	    mnl_socket_setsockopt(nl->sk, NETLINK_EXT_ACK, &one,
				  sizeof(one)) < 0) {
		ret = -errno;
		goto fail;
	}
	/* strict dump checking where the kernel has it (5.2+); optional */
	mnl_socket_setsockopt(nl->sk, NETLINK_GET_STRICT_CHK, &one,
			      sizeof(one));
	nl->portid = mnl_socket_get_portid(nl->sk);
	nl->seq = (unsigned int)getpid() << 8;

	nlh = msg_start(buf, GENL_ID_CTRL, NLM_F_ACK, CTRL_CMD_GETFAMILY, 1);
	mnl_attr_put_strz(nlh, CTRL_ATTR_FAMILY_NAME, family);
	ret = fptnl_talk(nl, nlh, family_cb, &f);
	if (ret == -ENOENT || (!ret && !f.id)) {
		ret = -ENOENT;		/* no such family: module not loaded */
		goto fail;
	}
	if (ret)
		goto fail;
	nl->family = f.id;
	if (mcgrp) {
		if (!f.mcgrp) {
			ret = -ENOENT;
			goto fail;
		}
		nl->mcgrp = f.mcgrp;
		if (mnl_socket_setsockopt(nl->sk, NETLINK_ADD_MEMBERSHIP,
					  &nl->mcgrp, sizeof(nl->mcgrp)) < 0) {
			ret = -errno;
			goto fail;
		}
	}
	*nlp = nl;
	return 0;
fail:
	mnl_socket_close(nl->sk);
	free(nl);
	return ret;
}

int fptnl_open_family(struct fptnl **nlp, const char *family)
{
	return open_common(nlp, family, NULL);
}

int fptnl_resolve(const char *family, uint16_t *id)
{
	struct fptnl *nl;
	int ret = open_common(&nl, family, NULL);

	if (ret)
		return ret;
	*id = nl->family;
	fptnl_close(nl);
	return 0;
}

int fptnl_open(struct fptnl **nlp)
{
	return open_common(nlp, FPT_GENL_NAME, NULL);
}

void fptnl_close(struct fptnl *nl)
{
	if (!nl)
		return;
	mnl_socket_close(nl->sk);
	free(nl);
}

/* ---- parsing replies ---- */

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
		[FPT_A_FEATURES] = MNL_TYPE_U32,
	};
	const struct nlattr **tb = data;
	uint16_t type = mnl_attr_get_type(a);

	if (type > FPT_A_MAX || types[type] == MNL_TYPE_UNSPEC)
		return MNL_CB_OK;	/* newer kernel or padding */
	if (mnl_attr_validate(a, types[type]) < 0)
		return MNL_CB_ERROR;
	tb[type] = a;
	return MNL_CB_OK;
}

static int pol_attr_cb(const struct nlattr *a, void *data)
{
	const struct nlattr **tb = data;
	uint16_t type = mnl_attr_get_type(a);

	if (type > FPT_P_MAX || type == FPT_P_UNSPEC)
		return MNL_CB_OK;
	if (mnl_attr_validate(a, type == FPT_P_FLAGS ? MNL_TYPE_U32 :
				 MNL_TYPE_U8) < 0)
		return MNL_CB_ERROR;
	tb[type] = a;
	return MNL_CB_OK;
}

static int stat_attr_cb(const struct nlattr *a, void *data)
{
	struct fptnl_reply *r = data;
	uint16_t type = mnl_attr_get_type(a);
	uint64_t v;

	if (type < FPT_S_FIRST)
		return MNL_CB_OK;	/* padding */
	if (mnl_attr_validate(a, MNL_TYPE_U64) < 0)
		return MNL_CB_ERROR;
	v = mnl_attr_get_u64(a);
	if (type <= FPT_S_MAX) {
		r->has_stat[type - FPT_S_FIRST] = true;
		r->p.stats[type - FPT_S_FIRST] = v;
	} else if (r->nr_extra < FPTNL_MAX_EXTRA_STATS) {
		r->extra_type[r->nr_extra] = type;
		r->extra_val[r->nr_extra++] = v;
	}
	return MNL_CB_OK;
}

int fptnl_parse_reply(const struct nlmsghdr *nlh, struct fptnl_reply *r)
{
	const struct nlattr *tb[FPT_A_MAX + 1] = { NULL };
	const struct nlattr *pol[FPT_P_MAX + 1] = { NULL };
	const struct genlmsghdr *g;

	memset(r, 0, sizeof(*r));
	if (mnl_nlmsg_get_payload_len(nlh) < sizeof(*g))
		return -EBADMSG;
	g = mnl_nlmsg_get_payload(nlh);
	r->cmd = g->cmd;
	if (mnl_attr_parse(nlh, sizeof(*g), top_attr_cb, tb) < 0)
		return -EBADMSG;
	if (tb[FPT_A_POLICY] &&
	    mnl_attr_parse_nested(tb[FPT_A_POLICY], pol_attr_cb, pol) < 0)
		return -EBADMSG;
	if (tb[FPT_A_STATS] &&
	    mnl_attr_parse_nested(tb[FPT_A_STATS], stat_attr_cb, r) < 0)
		return -EBADMSG;

	r->global = tb[FPT_A_GLOBAL] != NULL;
	if ((r->has_enabled = tb[FPT_A_ENABLED] != NULL))
		r->enabled = mnl_attr_get_u8(tb[FPT_A_ENABLED]);
	if ((r->has_backends = tb[FPT_A_BACKENDS] != NULL))
		r->backends = mnl_attr_get_u32(tb[FPT_A_BACKENDS]);
	if ((r->has_features = tb[FPT_A_FEATURES] != NULL))
		r->features = mnl_attr_get_u32(tb[FPT_A_FEATURES]);
	if ((r->has_nr_policies = tb[FPT_A_NR_POLICIES] != NULL))
		r->nr_policies = mnl_attr_get_u32(tb[FPT_A_NR_POLICIES]);
	if ((r->has_cgroup_id = tb[FPT_A_CGROUP_ID] != NULL))
		r->p.cgroup_id = mnl_attr_get_u64(tb[FPT_A_CGROUP_ID]);
	if ((r->has_path = tb[FPT_A_CGROUP_PATH] != NULL))
		snprintf(r->p.path, sizeof(r->p.path), "%s",
			 mnl_attr_get_str(tb[FPT_A_CGROUP_PATH]));
	r->has_policy = tb[FPT_A_POLICY] != NULL;
	if ((r->has_mode = pol[FPT_P_MODE] != NULL))
		r->p.mode = mnl_attr_get_u8(pol[FPT_P_MODE]);
	if ((r->has_defrag = pol[FPT_P_DEFRAG] != NULL))
		r->p.defrag = mnl_attr_get_u8(pol[FPT_P_DEFRAG]);
	if ((r->has_backend = pol[FPT_P_BACKEND] != NULL))
		r->p.backend = mnl_attr_get_u8(pol[FPT_P_BACKEND]);
	if ((r->has_backend_active = pol[FPT_P_BACKEND_ACTIVE] != NULL))
		r->p.backend_active = mnl_attr_get_u8(pol[FPT_P_BACKEND_ACTIVE]);
	if ((r->has_flags = pol[FPT_P_FLAGS] != NULL))
		r->p.flags = mnl_attr_get_u32(pol[FPT_P_FLAGS]);
	r->has_stats = r->p.has_stats = tb[FPT_A_STATS] != NULL;
	return 0;
}

/* ---- requests ---- */

static void put_cgroup(struct nlmsghdr *nlh, const struct fpt_cgroup_ref *cg)
{
	if (!cg)
		return;
	if (cg->id)
		mnl_attr_put_u64(nlh, FPT_A_CGROUP_ID, cg->id);
	if (cg->path)
		mnl_attr_put_strz(nlh, FPT_A_CGROUP_PATH, cg->path);
}

static int check_cgroup(const struct fpt_cgroup_ref *cg)
{
	if (!cg || (!cg->id && !cg->path))
		return -EINVAL;
	if (cg->path && strlen(cg->path) >= 4096)
		return -ENAMETOOLONG;
	return 0;
}

int fptnl_policy_set(struct fptnl *nl, const struct fpt_cgroup_ref *cg,
		     uint8_t mode, uint8_t defrag, uint8_t backend,
		     uint32_t flags)
{
	char buf[FPTNL_MSG_BUF];
	struct nlmsghdr *nlh;
	struct nlattr *nest;
	int ret = check_cgroup(cg);

	if (ret)
		return ret;
	nlh = fptnl_msg_start(nl, buf, FPT_CMD_POLICY_SET, NLM_F_ACK);
	put_cgroup(nlh, cg);
	nest = fptnl_nest_start(nlh, FPT_A_POLICY);
	mnl_attr_put_u8(nlh, FPT_P_MODE, mode);
	mnl_attr_put_u8(nlh, FPT_P_DEFRAG, defrag);
	mnl_attr_put_u8(nlh, FPT_P_BACKEND, backend);
	mnl_attr_put_u32(nlh, FPT_P_FLAGS, flags);
	mnl_attr_nest_end(nlh, nest);
	return fptnl_talk(nl, nlh, NULL, NULL);
}

int fptnl_policy_del(struct fptnl *nl, const struct fpt_cgroup_ref *cg)
{
	char buf[FPTNL_MSG_BUF];
	struct nlmsghdr *nlh;
	int ret = check_cgroup(cg);

	if (ret)
		return ret;
	nlh = fptnl_msg_start(nl, buf, FPT_CMD_POLICY_DEL, NLM_F_ACK);
	put_cgroup(nlh, cg);
	return fptnl_talk(nl, nlh, NULL, NULL);
}

int fptnl_policy_del_all(struct fptnl *nl)
{
	char buf[FPTNL_MSG_BUF];
	struct nlmsghdr *nlh;

	nlh = fptnl_msg_start(nl, buf, FPT_CMD_POLICY_DEL, NLM_F_ACK);
	mnl_attr_put(nlh, FPT_A_ALL, 0, NULL);
	return fptnl_talk(nl, nlh, NULL, NULL);
}

struct query {
	fptnl_reply_cb cb;
	void *arg;
	bool stopped;
	struct fptnl_reply r;
};

static int query_cb(const struct nlmsghdr *nlh, void *data)
{
	struct query *q = data;

	if (fptnl_parse_reply(nlh, &q->r))
		return MNL_CB_ERROR;
	if (!q->stopped && q->cb && q->cb(&q->r, q->arg))
		q->stopped = true;	/* keep draining the replies */
	return MNL_CB_OK;
}

int fptnl_query(struct fptnl *nl, uint8_t cmd, const struct fpt_cgroup_ref *cg,
		bool dump, fptnl_reply_cb cb, void *arg)
{
	char buf[FPTNL_MSG_BUF];
	struct nlmsghdr *nlh;
	struct query *q;
	int ret;

	if (cg && cg->path && strlen(cg->path) >= 4096)
		return -ENAMETOOLONG;
	q = calloc(1, sizeof(*q));	/* struct fptnl_reply is large */
	if (!q)
		return -ENOMEM;
	q->cb = cb;
	q->arg = arg;
	nlh = fptnl_msg_start(nl, buf, cmd, dump ? NLM_F_DUMP : NLM_F_ACK);
	put_cgroup(nlh, cg);
	ret = fptnl_talk(nl, nlh, query_cb, q);
	free(q);
	return ret;
}

struct one {
	struct fpt_policy_info *out;
	struct fpt_global_info *g;
	bool got;
};

static int one_cb(const struct fptnl_reply *r, void *arg)
{
	struct one *o = arg;

	if (o->out)
		*o->out = r->p;
	if (o->g) {
		o->g->enabled = r->enabled;
		o->g->backends = r->backends;
		o->g->nr_policies = r->nr_policies;
		o->g->has_features = r->has_features;
		o->g->features = r->features;
		memcpy(o->g->stats, r->p.stats, sizeof(o->g->stats));
	}
	o->got = true;
	return 1;
}

static int get_one(struct fptnl *nl, uint8_t cmd,
		   const struct fpt_cgroup_ref *cg, struct fpt_policy_info *out)
{
	struct one o = { .out = out };
	int ret = check_cgroup(cg);

	if (ret)
		return ret;
	ret = fptnl_query(nl, cmd, cg, false, one_cb, &o);
	if (!ret && !o.got)
		ret = -EBADMSG;		/* an ACK without the reply */
	return ret;
}

int fptnl_policy_get(struct fptnl *nl, const struct fpt_cgroup_ref *cg,
		     struct fpt_policy_info *out)
{
	return get_one(nl, FPT_CMD_POLICY_GET, cg, out);
}

int fptnl_stats_get(struct fptnl *nl, const struct fpt_cgroup_ref *cg,
		    struct fpt_policy_info *out)
{
	return get_one(nl, FPT_CMD_STATS_GET, cg, out);
}

int fptnl_global_get(struct fptnl *nl, struct fpt_global_info *out)
{
	struct one o = { .g = out };
	int ret;

	memset(out, 0, sizeof(*out));
	ret = fptnl_query(nl, FPT_CMD_STATS_GET, NULL, false, one_cb, &o);
	if (!ret && !o.got)
		ret = -EBADMSG;
	return ret;
}

struct dump {
	fptnl_policy_cb cb;
	void *arg;
};

static int dump_cb(const struct fptnl_reply *r, void *arg)
{
	struct dump *d = arg;

	return d->cb(&r->p, d->arg);
}

int fptnl_policy_dump(struct fptnl *nl, fptnl_policy_cb cb, void *arg)
{
	struct dump d = { cb, arg };

	return fptnl_query(nl, FPT_CMD_POLICY_GET, NULL, true, dump_cb, &d);
}

/* ---- notifications ---- */

int fptnl_monitor_open(struct fptnl **nlp)
{
	return open_common(nlp, FPT_GENL_NAME, FPT_GENL_MCGRP_POLICY);
}

int fptnl_monitor_fd(const struct fptnl *nl)
{
	return mnl_socket_get_fd(nl->sk);
}

struct notify {
	fptnl_notify_cb cb;
	void *arg;
	struct fptnl_reply r;
};

static int notify_cb(const struct nlmsghdr *nlh, void *data)
{
	struct notify *n = data;

	if (fptnl_parse_reply(nlh, &n->r))
		return MNL_CB_OK;	/* skip what we cannot read */
	if (n->r.cmd == FPT_CMD_POLICY_NEW ||
	    n->r.cmd == FPT_CMD_POLICY_DELETED)
		n->cb(n->r.cmd, &n->r.p, n->arg);
	return MNL_CB_OK;
}

/*
 * Every message waiting on @nl's socket, without blocking, handed to
 * @parse (a negative return stops).  0, -ENOBUFS when the socket overran
 * and messages were lost, or another negative errno.
 */
static int drain(struct fptnl *nl,
		 int (*parse)(const char *buf, size_t len, void *ctx),
		 void *ctx)
{
	int fd = mnl_socket_get_fd(nl->sk), ret;

	for (;;) {
		ssize_t len = recv(fd, nl->rxbuf, sizeof(nl->rxbuf),
				   MSG_DONTWAIT);

		if (len < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return 0;
			return -errno;
		}
		if (len == 0)
			return 0;
		ret = parse(nl->rxbuf, (size_t)len, ctx);
		if (ret < 0)
			return ret;
	}
}

static int notify_parse(const char *buf, size_t len, void *ctx)
{
	return mnl_cb_run(buf, len, 0, 0, notify_cb, ctx) == MNL_CB_ERROR ?
	       -EBADMSG : 0;
}

/*
 * Everything waiting on the socket, without blocking.  -ENOBUFS: the
 * socket overran and notifications were lost (resynchronise with a dump).
 */
int fptnl_monitor_read(struct fptnl *nl, fptnl_notify_cb cb, void *arg)
{
	struct notify *n = calloc(1, sizeof(*n));
	int ret;

	if (!n)
		return -ENOMEM;
	n->cb = cb;
	n->arg = arg;
	ret = drain(nl, notify_parse, n);
	free(n);
	return ret;
}

/* ---- nlctrl: families registered and unregistered ---- */

int fptnl_ctrl_open(struct fptnl **nlp)
{
	/* nlctrl is a family like any other: resolved the same way */
	return open_common(nlp, "nlctrl", "notify");
}

struct ctrl_parse {
	fptnl_family_cb cb;
	void *arg;
};

static int ctrl_event_cb(const struct nlmsghdr *nlh, void *data)
{
	struct ctrl_parse *c = data;
	struct family_ids f = { .mcgrp_name = NULL };
	struct fptnl_family_event ev;
	const struct genlmsghdr *g;

	if (nlh->nlmsg_type != GENL_ID_CTRL ||
	    mnl_nlmsg_get_payload_len(nlh) < sizeof(*g))
		return MNL_CB_OK;
	g = mnl_nlmsg_get_payload(nlh);
	if (g->cmd != CTRL_CMD_NEWFAMILY && g->cmd != CTRL_CMD_DELFAMILY)
		return MNL_CB_OK;	/* e.g. NEWMCAST_GRP */
	if (family_cb(nlh, &f) != MNL_CB_OK || !f.id || !f.name[0])
		return MNL_CB_OK;	/* skip what we cannot read */
	memset(&ev, 0, sizeof(ev));
	ev.cmd = g->cmd;
	ev.id = f.id;
	memcpy(ev.name, f.name, sizeof(ev.name));
	c->cb(&ev, c->arg);
	return MNL_CB_OK;
}

int fptnl_ctrl_parse(const void *buf, size_t len, fptnl_family_cb cb,
		     void *arg)
{
	struct ctrl_parse c = { cb, arg };

	return mnl_cb_run(buf, len, 0, 0, ctrl_event_cb, &c) == MNL_CB_ERROR ?
	       -EBADMSG : 0;
}

static int ctrl_parse(const char *buf, size_t len, void *ctx)
{
	const struct ctrl_parse *c = ctx;

	return fptnl_ctrl_parse(buf, len, c->cb, c->arg);
}

int fptnl_ctrl_read(struct fptnl *nl, fptnl_family_cb cb, void *arg)
{
	struct ctrl_parse c = { cb, arg };

	return drain(nl, ctrl_parse, &c);	/* -ENOBUFS: events lost */
}
