// SPDX-License-Identifier: GPL-2.0
/*
 * Generic netlink family "fpt": see include/uapi/linux/fpt.h for the
 * commands and attributes.  Strict validation throughout; every refusal
 * carries an extack message.
 */
#include <linux/cgroup.h>
#include <linux/slab.h>
#include <net/genetlink.h>
#include "internal.h"

static struct genl_family fpt_genl_family;
static bool fpt_genl_registered;

static const struct nla_policy fpt_policy_nest_policy[FPT_P_MAX + 1] = {
	/*
	 * Ranges, not validation functions: the kernel describes a refused
	 * attribute's policy in its reply (extack "integer out of range" with
	 * the bounds), and a validation function has no bounds to describe
	 * (nla_get_range_unsigned() warns on it).
	 */
	[FPT_P_MODE]	= NLA_POLICY_MAX(NLA_U8, __FPT_MODE_MAX - 1),
	[FPT_P_DEFRAG]	= NLA_POLICY_MAX(NLA_U8, 1),
	[FPT_P_BACKEND]	= NLA_POLICY_MAX(NLA_U8, __FPT_BACKEND_MAX - 1),
	[FPT_P_FLAGS]	= NLA_POLICY_MASK(NLA_U32, FPT_F_ALL),
	[FPT_P_BACKEND_ACTIVE] = { .type = NLA_REJECT },	/* replies only */
};

static const struct nla_policy fpt_genl_policy[FPT_A_MAX + 1] = {
	[FPT_A_CGROUP_ID]	= { .type = NLA_U64 },
	[FPT_A_CGROUP_PATH]	= { .type = NLA_NUL_STRING, .len = PATH_MAX - 1 },
	[FPT_A_POLICY]		= NLA_POLICY_NESTED(fpt_policy_nest_policy),
	[FPT_A_ALL]		= { .type = NLA_FLAG },
};

/*
 * The cgroup a request names.  @must_exist: the cgroup must exist now
 * (POLICY_SET); otherwise an id alone is taken as is, so the policy of a
 * cgroup that was removed can still be read or deleted.
 */
static int fpt_nl_cgroup(struct genl_info *info, bool must_exist, u64 *cgid,
			 unsigned int *level)
{
	struct nlattr *id_attr = info->attrs[FPT_A_CGROUP_ID];
	struct nlattr *path_attr = info->attrs[FPT_A_CGROUP_PATH];
	struct cgroup *cgrp;
	u64 id;

	if (!id_attr && !path_attr) {
		NL_SET_ERR_MSG(info->extack,
			       "a cgroup is required: FPT_A_CGROUP_ID or FPT_A_CGROUP_PATH");
		return -EINVAL;
	}
	if (path_attr) {
		cgrp = cgroup_get_from_path(nla_data(path_attr));
		if (IS_ERR(cgrp)) {
			NL_SET_ERR_MSG_ATTR(info->extack, path_attr,
					    "no such cgroup (path is relative to the cgroup2 root)");
			return -ENOENT;
		}
		id = cgroup_id(cgrp);
		if (level)
			*level = cgrp->level;
		cgroup_put(cgrp);
		if (id_attr && nla_get_u64(id_attr) != id) {
			NL_SET_ERR_MSG_ATTR(info->extack, id_attr,
					    "FPT_A_CGROUP_ID and FPT_A_CGROUP_PATH name different cgroups");
			return -EINVAL;
		}
		*cgid = id;
		return 0;
	}
	id = nla_get_u64(id_attr);
	if (must_exist) {
		cgrp = cgroup_get_from_id(id);
		if (IS_ERR(cgrp)) {
			NL_SET_ERR_MSG_ATTR(info->extack, id_attr,
					    "no cgroup with this id in the cgroup2 hierarchy");
			return -ENOENT;
		}
		if (level)
			*level = cgrp->level;
		cgroup_put(cgrp);
	}
	*cgid = id;
	return 0;
}

static int fpt_nl_put_stats(struct sk_buff *skb, const struct fpt_policy *p)
{
	u64 v[FPT_NR_COUNTERS];
	struct nlattr *nest;
	int i;

	fpt_stats_sum(p, v);
	nest = nla_nest_start(skb, FPT_A_STATS);
	if (!nest)
		return -EMSGSIZE;
	for (i = 0; i < FPT_NR_COUNTERS; i++)
		if (nla_put_u64_64bit(skb, FPT_S_FIRST + i, v[i], FPT_S_PAD))
			return -EMSGSIZE;
	nla_nest_end(skb, nest);
	return 0;
}

static int fpt_nl_fill_policy(struct sk_buff *skb, u32 portid, u32 seq,
			      int flags, u8 cmd, const struct fpt_policy *p)
{
	struct nlattr *nest;
	char *path;
	void *hdr;

	hdr = genlmsg_put(skb, portid, seq, &fpt_genl_family, flags, cmd);
	if (!hdr)
		return -EMSGSIZE;
	if (nla_put_u64_64bit(skb, FPT_A_CGROUP_ID, p->cgid, FPT_A_PAD))
		goto cancel;
	path = kmalloc(PATH_MAX, GFP_KERNEL);
	if (path) {
		int ret = fpt_cgroup_path(p->cgid, path, PATH_MAX);

		/* a removed cgroup keeps the path it had when the policy was set */
		ret = nla_put_string(skb, FPT_A_CGROUP_PATH,
				     ret < 0 ? p->path : path);
		kfree(path);
		if (ret)
			goto cancel;
	}
	nest = nla_nest_start(skb, FPT_A_POLICY);
	if (!nest ||
	    nla_put_u8(skb, FPT_P_MODE, READ_ONCE(p->mode)) ||
	    nla_put_u8(skb, FPT_P_DEFRAG, READ_ONCE(p->defrag)) ||
	    nla_put_u8(skb, FPT_P_BACKEND, READ_ONCE(p->backend)) ||
	    nla_put_u32(skb, FPT_P_FLAGS, READ_ONCE(p->flags)) ||
	    nla_put_u8(skb, FPT_P_BACKEND_ACTIVE, READ_ONCE(p->backend_active)))
		goto cancel;
	nla_nest_end(skb, nest);
	if (cmd != FPT_CMD_POLICY_DELETED && fpt_nl_put_stats(skb, p))
		goto cancel;
	genlmsg_end(skb, hdr);
	return 0;
cancel:
	genlmsg_cancel(skb, hdr);
	return -EMSGSIZE;
}

static int fpt_nl_policy_set(struct sk_buff *skb, struct genl_info *info)
{
	struct nlattr *tb[FPT_P_MAX + 1];
	struct nlattr *pattr = info->attrs[FPT_A_POLICY];
	u8 mode, defrag = 0, backend = FPT_BACKEND_AUTO;
	const char *path = NULL;
	unsigned int level = 0, need;
	u32 flags = 0;
	u64 cgid;
	int ret;

	ret = fpt_nl_cgroup(info, true, &cgid, &level);
	if (ret)
		return ret;
	if (GENL_REQ_ATTR_CHECK(info, FPT_A_POLICY))
		return -EINVAL;
	ret = nla_parse_nested(tb, FPT_P_MAX, pattr, fpt_policy_nest_policy,
			       info->extack);
	if (ret)
		return ret;
	if (!tb[FPT_P_MODE]) {
		NL_SET_ERR_MSG_ATTR(info->extack, pattr,
				    "FPT_P_MODE is required in FPT_A_POLICY");
		return -EINVAL;
	}
	mode = nla_get_u8(tb[FPT_P_MODE]);
	if (tb[FPT_P_DEFRAG])
		defrag = nla_get_u8(tb[FPT_P_DEFRAG]);
	if (tb[FPT_P_BACKEND])
		backend = nla_get_u8(tb[FPT_P_BACKEND]);
	if (tb[FPT_P_FLAGS])
		flags = nla_get_u32(tb[FPT_P_FLAGS]);
	if (!(fpt_backends & BIT(fpt_backend_resolve(backend)))) {
		NL_SET_ERR_MSG_ATTR(info->extack, tb[FPT_P_BACKEND],
				    "backend not available on this kernel (folio needs multi-size THP, Linux 6.8+)");
		return -EOPNOTSUPP;
	}
	if (info->attrs[FPT_A_CGROUP_PATH])
		path = nla_data(info->attrs[FPT_A_CGROUP_PATH]);

	/* the hooks this policy needs first: if they cannot be had, no change */
	need = fpt_policy_want(mode, fpt_backend_resolve(backend), flags);
	ret = fpt_hook_prepare(READ_ONCE(fpt_enabled) ? need : 0);
	if (ret) {
		fpt_hook_done();
		if (ret == -EBUSY)
			NL_SET_ERR_MSG(info->extack,
				       "a kernel function fpt hooks is redirected by another ftrace user (a livepatch?); see dmesg");
		else
			NL_SET_ERR_MSG(info->extack,
				       "cannot hook the kernel's fault path; see dmesg");
		return ret;
	}
	ret = fpt_policy_set(cgid, level, path, mode, defrag, backend, flags);
	fpt_hook_done();
	if (ret)
		NL_SET_ERR_MSG(info->extack, "out of memory for the policy");
	return ret;
}

static int fpt_nl_policy_del(struct sk_buff *skb, struct genl_info *info)
{
	u64 cgid;
	int ret;

	if (info->attrs[FPT_A_ALL]) {
		if (info->attrs[FPT_A_CGROUP_ID] || info->attrs[FPT_A_CGROUP_PATH]) {
			NL_SET_ERR_MSG_ATTR(info->extack, info->attrs[FPT_A_ALL],
					    "FPT_A_ALL excludes naming a cgroup");
			return -EINVAL;
		}
		fpt_hook_prepare(0);
		fpt_policy_del_all();
		fpt_hook_done();
		return 0;
	}
	ret = fpt_nl_cgroup(info, false, &cgid, NULL);
	if (ret)
		return ret;
	fpt_hook_prepare(0);
	ret = fpt_policy_del(cgid);
	fpt_hook_done();
	if (ret)
		NL_SET_ERR_MSG(info->extack, "this cgroup has no policy");
	return ret;
}

/*
 * Reply with the policy of exactly this cgroup (@exact) or the one that
 * governs it (the nearest ancestor's).
 */
static int fpt_nl_get_one(struct genl_info *info, bool exact)
{
	struct fpt_policy *p = NULL;
	struct sk_buff *msg;
	struct cgroup *cgrp;
	u64 cgid;
	int ret;

	ret = fpt_nl_cgroup(info, false, &cgid, NULL);
	if (ret)
		return ret;
	fpt_policy_lock();
	p = fpt_policy_find(cgid);
	if (!p && !exact) {
		cgrp = cgroup_get_from_id(cgid);
		if (!IS_ERR(cgrp)) {
			struct cgroup *c;

			for (c = cgroup_parent(cgrp); c && !p; c = cgroup_parent(c))
				p = fpt_policy_find(cgroup_id(c));
			cgroup_put(cgrp);
		}
	}
	if (!p) {
		fpt_policy_unlock();
		if (exact)
			NL_SET_ERR_MSG(info->extack, "this cgroup has no policy");
		else
			NL_SET_ERR_MSG(info->extack, "no policy governs this cgroup");
		return -ENOENT;
	}
	msg = genlmsg_new(NLMSG_GOODSIZE, GFP_KERNEL);
	if (!msg) {
		fpt_policy_unlock();
		return -ENOMEM;
	}
	ret = fpt_nl_fill_policy(msg, info->snd_portid, info->snd_seq, 0,
				 info->genlhdr->cmd, p);
	fpt_policy_unlock();
	if (ret) {
		nlmsg_free(msg);
		return ret;
	}
	return genlmsg_reply(msg, info);
}

static int fpt_nl_policy_get(struct sk_buff *skb, struct genl_info *info)
{
	return fpt_nl_get_one(info, true);
}

static int fpt_nl_stats_get(struct sk_buff *skb, struct genl_info *info)
{
	struct sk_buff *msg;
	void *hdr;

	if (info->attrs[FPT_A_CGROUP_ID] || info->attrs[FPT_A_CGROUP_PATH])
		return fpt_nl_get_one(info, false);

	msg = genlmsg_new(NLMSG_GOODSIZE, GFP_KERNEL);
	if (!msg)
		return -ENOMEM;
	hdr = genlmsg_put_reply(msg, info, &fpt_genl_family, 0,
				FPT_CMD_STATS_GET);
	if (!hdr ||
	    nla_put_flag(msg, FPT_A_GLOBAL) ||
	    nla_put_u8(msg, FPT_A_ENABLED, READ_ONCE(fpt_enabled)) ||
	    nla_put_u32(msg, FPT_A_BACKENDS, fpt_backends) ||
	    nla_put_u32(msg, FPT_A_NR_POLICIES, fpt_nr_policies()) ||
	    nla_put_u32(msg, FPT_A_FEATURES, fpt_features) ||
	    fpt_nl_put_stats(msg, NULL)) {
		nlmsg_free(msg);
		return -EMSGSIZE;
	}
	genlmsg_end(msg, hdr);
	return genlmsg_reply(msg, info);
}

static int fpt_nl_dump(struct sk_buff *skb, struct netlink_callback *cb)
{
	u8 cmd = ((struct genlmsghdr *)nlmsg_data(cb->nlh))->cmd;
	unsigned long n = cb->args[0];
	struct fpt_policy *p;

	fpt_policy_lock();
	for (; (p = fpt_policy_nth(n)); n++)
		if (fpt_nl_fill_policy(skb, NETLINK_CB(cb->skb).portid,
				       cb->nlh->nlmsg_seq, NLM_F_MULTI, cmd, p))
			break;
	fpt_policy_unlock();
	cb->args[0] = n;
	return skb->len;
}

static const struct genl_ops fpt_genl_ops[] = {
	{
		.cmd	= FPT_CMD_POLICY_SET,
		.doit	= fpt_nl_policy_set,
		.flags	= GENL_ADMIN_PERM,
	}, {
		.cmd	= FPT_CMD_POLICY_DEL,
		.doit	= fpt_nl_policy_del,
		.flags	= GENL_ADMIN_PERM,
	}, {
		.cmd	= FPT_CMD_POLICY_GET,
		.doit	= fpt_nl_policy_get,
		.dumpit	= fpt_nl_dump,
	}, {
		.cmd	= FPT_CMD_STATS_GET,
		.doit	= fpt_nl_stats_get,
		.dumpit	= fpt_nl_dump,
	},
};

static const struct genl_multicast_group fpt_genl_mcgrps[] = {
	{ .name = FPT_GENL_MCGRP_POLICY },
};

static struct genl_family fpt_genl_family __ro_after_init = {
	.name		= FPT_GENL_NAME,
	.version	= FPT_GENL_VERSION,
	.maxattr	= FPT_A_MAX,
	.policy		= fpt_genl_policy,
	.module		= THIS_MODULE,
	.ops		= fpt_genl_ops,
	.n_ops		= ARRAY_SIZE(fpt_genl_ops),
	.resv_start_op	= FPT_CMD_STATS_GET + 1,
	/* no genl_mutex: fpt serialises its own requests, never the host's */
	.parallel_ops	= true,
	.mcgrps		= fpt_genl_mcgrps,
	.n_mcgrps	= ARRAY_SIZE(fpt_genl_mcgrps),
};

/* Announce a policy change; called with the policy mutex held. */
void fpt_netlink_notify(u8 cmd, const struct fpt_policy *p)
{
	struct sk_buff *msg;

	if (!READ_ONCE(fpt_genl_registered))
		return;
	msg = genlmsg_new(NLMSG_GOODSIZE, GFP_KERNEL);
	if (!msg)
		return;
	if (fpt_nl_fill_policy(msg, 0, 0, 0, cmd, p)) {
		nlmsg_free(msg);
		return;
	}
	genlmsg_multicast(&fpt_genl_family, msg, 0, 0, GFP_KERNEL);
}

int fpt_netlink_init(void)
{
	int ret = genl_register_family(&fpt_genl_family);

	if (!ret)
		WRITE_ONCE(fpt_genl_registered, true);
	return ret;
}

void fpt_netlink_exit(void)
{
	WRITE_ONCE(fpt_genl_registered, false);
	genl_unregister_family(&fpt_genl_family);
}
