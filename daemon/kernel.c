// SPDX-License-Identifier: MIT
/*
 * fptd and the module: loading it (libkmod), talking to it (lib/fptnl),
 * noticing it come and go (nlctrl's "notify" multicast group, libmnl),
 * and putting the configured policies into it.
 */
#define _GNU_SOURCE
#include "fptd.h"

#include <errno.h>
#include <fcntl.h>
#include <libkmod.h>
#include <libmnl/libmnl.h>
#include <linux/genetlink.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <sys/socket.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include "../lib/cgpath.h"

static void module_lost(struct fptd *d, const char *why);
static int module_connect(struct fptd *d);

/* ---- loading the module ---- */

static void kmod_log(void *data, int prio, const char *file, int line,
		     const char *fn, const char *fmt, va_list args)
{
	char msg[512];

	(void)data; (void)file; (void)line; (void)fn;
	vsnprintf(msg, sizeof(msg), fmt, args);
	msg[strcspn(msg, "\n")] = 0;
	/* fptd says what failed in its own words; libkmod's only with -v */
	fptd_log(LOG_DEBUG, "libkmod (%d): %s", prio, msg);
}

static int load_module(struct fptd *d)
{
	struct kmod_module *mod = NULL;
	struct kmod_ctx *ctx;
	int ret;

	ctx = kmod_new(NULL, NULL);
	if (!ctx) {
		snprintf(d->module_why, sizeof(d->module_why),
			 "libkmod could not start (no /lib/modules for this kernel?)");
		return -ENOENT;
	}
	kmod_set_log_fn(ctx, kmod_log, d);
	ret = kmod_module_new_from_name(ctx, "fpt", &mod);
	if (!ret)
		ret = kmod_module_probe_insert_module(mod, 0, NULL, NULL, NULL,
						      NULL);
	if (ret < 0) {
		switch (-ret) {
		case ENOENT:
			snprintf(d->module_why, sizeof(d->module_why),
				 "modprobe fpt: module not found for this kernel (is fpt-dkms built for it?)");
			break;
		case EPERM:
			snprintf(d->module_why, sizeof(d->module_why),
				 "modprobe fpt: not permitted (CAP_SYS_MODULE, or module loading disabled)");
			break;
		case ENOSYS:
			snprintf(d->module_why, sizeof(d->module_why),
				 "modprobe fpt: this kernel has no loadable-module support");
			break;
		default:
			snprintf(d->module_why, sizeof(d->module_why),
				 "modprobe fpt: %s (see dmesg)", strerror(-ret));
		}
	} else if (ret > 0) {
		snprintf(d->module_why, sizeof(d->module_why),
			 "modprobe fpt: the module is blacklisted");
		ret = -EPERM;
	}
	kmod_module_unref(mod);
	kmod_unref(ctx);
	return ret;
}

/* ---- applying policy ---- */

static const char *label(const char *path)
{
	return path[0] ? path : "/";
}

static void ref_of(const char *path, uint64_t id, char *buf, size_t len,
		   struct fpt_cgroup_ref *ref)
{
	snprintf(buf, len, "/%s", path);
	ref->id = id;
	ref->path = buf;
}

static void del_id(struct fptd *d, const char *path, uint64_t id)
{
	struct fpt_cgroup_ref ref = { .id = id };
	int ret;

	if (!d->nl || !id)
		return;
	ret = fptnl_policy_del(d->nl, &ref);
	if (ret && ret != -ENOENT)
		fptd_log(LOG_WARNING, "cannot remove the policy of %s (cgroup id %llu): %s%s%s",
			 label(path), (unsigned long long)id, strerror(-ret),
			 *fptnl_extack(d->nl) ? ": " : "", fptnl_extack(d->nl));
	else if (!ret)
		fptd_log(LOG_DEBUG, "removed the policy of %s (cgroup id %llu)",
			 label(path), (unsigned long long)id);
}

void fptd_entry_drop(struct fptd *d, struct fptd_entry *e)
{
	if (d->module_up && e->applied_id && !e->foreign) {
		del_id(d, e->pol.path, e->applied_id);
		fptd_log(LOG_INFO, "policy of %s removed", label(e->pol.path));
	}
	e->applied_id = 0;
}

static void apply(struct fptd *d, struct fptd_entry *e)
{
	char pbuf[FPTD_PATH_MAX + 2], words[128];
	struct fpt_cgroup_ref ref;
	uint64_t id = 0;
	int ret, tries;

	if (!d->module_up) {
		e->state = FPTD_POL_NO_MODULE;
		return;
	}
	for (tries = 0; tries < 3; tries++) {
		ret = fpt_cgroup_id(d->cgroup_root, e->pol.path, &id);
		if (ret) {
			if (e->applied_id) {
				/* the cgroup is gone: drop its stale policy */
				if (!e->foreign)
					del_id(d, e->pol.path, e->applied_id);
				e->applied_id = 0;
				fptd_log(LOG_INFO, "cgroup %s is gone; its policy is set again when it reappears",
					 label(e->pol.path));
			}
			e->foreign = false;
			e->state = FPTD_POL_WAITING;
			e->dirty = false;
			return;
		}
		if (id != e->applied_id)
			e->foreign = false;	/* a new cgroup: ours again */
		if (!e->dirty && id == e->applied_id &&
		    (e->state == FPTD_POL_APPLIED || e->foreign))
			return;
		if (!e->dirty && e->state == FPTD_POL_REFUSED &&
		    id == e->refused_id)
			return;
		ref_of(e->pol.path, id, pbuf, sizeof(pbuf), &ref);
		ret = fptnl_policy_set(d->nl, &ref, e->pol.mode, e->pol.defrag,
				       e->pol.backend, e->pol.flags);
		if (!ret)
			break;
		/*
		 * ENOENT or EINVAL: the cgroup went away, or was re-created
		 * between stat and set (path and id no longer match): look
		 * again.  If it is still there with the same id, the kernel
		 * could not resolve the path (it is resolved from the
		 * initial cgroup namespace's root; fptd may run in another
		 * one): the id alone, as fptctl does.  The path only names
		 * the policy once the cgroup is removed.
		 */
		if (ret != -ENOENT && ret != -EINVAL)
			break;
		{
			uint64_t again = 0;

			if (!fpt_cgroup_id(d->cgroup_root, e->pol.path, &again) &&
			    again == id) {
				ref.path = NULL;
				ret = fptnl_policy_set(d->nl, &ref, e->pol.mode,
						       e->pol.defrag,
						       e->pol.backend,
						       e->pol.flags);
				break;
			}
		}
	}
	fptd_policy_words(&e->pol, words, sizeof(words));
	if (ret) {
		const char *ext = fptnl_extack(d->nl);

		if (ret == -ENOENT) {
			e->state = FPTD_POL_WAITING;
			e->dirty = false;
			return;
		}
		e->state = FPTD_POL_REFUSED;
		e->refused_id = id;
		e->refused_errno = -ret;
		snprintf(e->why, sizeof(e->why), "%s%s%s",
			 *ext ? ext : strerror(-ret),
			 ret == -EPERM ? " (fptd needs CAP_NET_ADMIN)" : "",
			 "");
		fptd_log(LOG_ERR, "the fpt module refused the policy of %s (%s, from %s:%d): %s",
			 label(e->pol.path), words, e->pol.file, e->pol.line,
			 e->why);
		e->dirty = false;
		return;
	}
	if (e->applied_id && e->applied_id != id && !e->foreign)
		del_id(d, e->pol.path, e->applied_id);
	fptd_log(LOG_INFO, "policy of %s set: %s (cgroup id %llu)",
		 label(e->pol.path), words, (unsigned long long)id);
	e->applied_id = id;
	e->state = FPTD_POL_APPLIED;
	e->why[0] = 0;
	e->dirty = false;
	e->foreign = false;
}

void fptd_reconcile(struct fptd *d)
{
	size_t i;

	for (i = 0; i < d->nent; i++)
		apply(d, &d->ent[i]);
	fptd_status(d);
}

/* ---- policy notifications of the module ---- */

static void on_notify(uint8_t cmd, const struct fpt_policy_info *p, void *arg)
{
	struct fptd *d = arg;
	struct fptd_entry *e = NULL;
	size_t i;

	for (i = 0; i < d->nent; i++)
		if (d->ent[i].applied_id && d->ent[i].applied_id == p->cgroup_id) {
			e = &d->ent[i];
			break;
		}
	if (!e) {
		fptd_log(LOG_DEBUG, "policy %s for %s (cgroup id %llu), not one of fptd's",
			 cmd == FPT_CMD_POLICY_NEW ? "set" : "removed",
			 p->path[0] ? p->path : "?",
			 (unsigned long long)p->cgroup_id);
		return;
	}
	if (cmd == FPT_CMD_POLICY_NEW) {
		if (p->mode == e->pol.mode && p->defrag == e->pol.defrag &&
		    p->backend == e->pol.backend && p->flags == e->pol.flags)
			return;		/* ours */
		e->foreign = true;
		e->state = FPTD_POL_OVERRIDDEN;
		fptd_log(LOG_NOTICE, "the policy of %s was changed outside fptd (mode=%s); fptd leaves it until a reload (SIGHUP), fptctl set, or the cgroup is re-created",
			 label(e->pol.path),
			 fpt_mode_name(p->mode) ? fpt_mode_name(p->mode) : "?");
	} else if (cmd == FPT_CMD_POLICY_DELETED) {
		e->foreign = true;
		e->state = FPTD_POL_OVERRIDDEN;
		fptd_log(LOG_NOTICE, "the policy of %s was removed outside fptd; fptd leaves it until a reload (SIGHUP), fptctl set, or the cgroup is re-created",
			 label(e->pol.path));
	}
	fptd_status(d);
}

static int on_monitor(sd_event_source *s, int fd, uint32_t revents, void *arg)
{
	struct fptd *d = arg;
	int ret;

	(void)s; (void)fd; (void)revents;
	if (!d->mon)
		return 0;
	ret = fptnl_monitor_read(d->mon, on_notify, d);
	if (ret == -ENOBUFS) {
		fptd_log(LOG_WARNING, "policy notifications were lost; checking every policy again");
		fptd_reconcile(d);
	} else if (ret) {
		fptd_log(LOG_DEBUG, "reading policy notifications: %s",
			 strerror(-ret));
	}
	return 0;
}

/* ---- connecting ---- */

/* Remove stale policies of fptd's cgroups (ids of removed cgroups). */
static int stale_cb(const struct fpt_policy_info *p, void *arg)
{
	struct fptd *d = arg;
	const char *rel = p->path;
	uint64_t id;
	size_t i;

	while (*rel == '/')
		rel++;
	for (i = 0; i < d->nent; i++) {
		if (strcmp(d->ent[i].pol.path, rel))
			continue;
		if (d->ent[i].applied_id == p->cgroup_id)
			return 0;
		if (fpt_cgroup_id(d->cgroup_root, rel, &id) ||
		    id != p->cgroup_id) {
			fptd_log(LOG_INFO, "removing the stale policy of %s (cgroup id %llu no longer exists)",
				 label(rel), (unsigned long long)p->cgroup_id);
			/* the dump is done by the time this runs: safe */
			del_id(d, rel, p->cgroup_id);
		}
		return 0;
	}
	return 0;
}

struct stale_list {
	size_t n;
	struct fpt_policy_info *v;
};

static int collect_cb(const struct fpt_policy_info *p, void *arg)
{
	struct stale_list *l = arg;
	struct fpt_policy_info *v = realloc(l->v, (l->n + 1) * sizeof(*v));

	if (!v)
		return 1;
	l->v = v;
	l->v[l->n++] = *p;
	return 0;
}

static void remove_stale(struct fptd *d)
{
	struct stale_list l = { 0 };
	size_t i;

	if (fptnl_policy_dump(d->nl, collect_cb, &l) == 0)
		for (i = 0; i < l.n; i++)
			stale_cb(&l.v[i], d);
	free(l.v);
}

static void read_version(char *buf, size_t len)
{
	FILE *f = fopen("/sys/kernel/fpt/version", "re");

	buf[0] = 0;
	if (f) {
		if (!fgets(buf, (int)len, f))
			buf[0] = 0;
		fclose(f);
	}
	buf[strcspn(buf, "\n")] = 0;
}

static int module_connect(struct fptd *d)
{
	char version[64];
	size_t i;
	int ret;

	if (d->module_up)
		return 0;
	ret = fptnl_open(&d->nl);
	if (ret) {
		if (ret != -ENOENT)
			snprintf(d->module_why, sizeof(d->module_why),
				 "cannot talk to the fpt module: %s", strerror(-ret));
		return ret;
	}
	ret = fptnl_monitor_open(&d->mon);
	if (!ret)
		ret = sd_event_add_io(d->ev, &d->mon_src, fptnl_monitor_fd(d->mon),
				      EPOLLIN, on_monitor, d);
	if (ret) {
		fptd_log(LOG_WARNING, "no policy notifications from the module: %s",
			 strerror(-ret));
		fptnl_close(d->mon);
		d->mon = NULL;
	}
	d->module_up = true;
	d->module_why[0] = 0;
	memset(&d->ginfo, 0, sizeof(d->ginfo));
	fptnl_global_get(d->nl, &d->ginfo);
	read_version(version, sizeof(version));
	fptd_log(LOG_INFO, "connected to the fpt module%s%s (%u policies in the kernel)",
		 version[0] ? " " : "", version, d->ginfo.nr_policies);
	if (d->retry_src)
		sd_event_source_set_enabled(d->retry_src, SD_EVENT_OFF);
	for (i = 0; i < d->nent; i++) {
		d->ent[i].dirty = true;
		d->ent[i].foreign = false;
	}
	fptd_reconcile(d);
	remove_stale(d);
	if (!d->ready) {
		d->ready = true;
		sd_notify(0, "READY=1");
		fptd_status(d);
	}
	return 0;
}

static void module_lost(struct fptd *d, const char *why)
{
	size_t i;

	if (!d->module_up)
		return;
	d->module_up = false;
	snprintf(d->module_why, sizeof(d->module_why), "%s", why);
	d->mon_src = sd_event_source_disable_unref(d->mon_src);
	fptnl_close(d->mon);
	fptnl_close(d->nl);
	d->mon = d->nl = NULL;
	for (i = 0; i < d->nent; i++) {
		d->ent[i].applied_id = 0;
		d->ent[i].state = FPTD_POL_NO_MODULE;
		d->ent[i].foreign = false;
		d->ent[i].dirty = true;
	}
	/* counters start again at 0 with the next module */
	free(d->prev);
	d->prev = NULL;
	d->nprev = 0;
	d->have_prev_global = false;
	fptd_log(LOG_WARNING, "%s; every policy is set again when it is back",
		 why);
	fptd_status(d);
}

void fptd_kernel_probe(struct fptd *d)
{
	if (!d->module_up)
		module_connect(d);
}

/* Start-up: load the module, retrying with a growing delay. */
static int on_retry(sd_event_source *s, uint64_t usec, void *arg)
{
	struct fptd *d = arg;
	int ret;

	(void)s; (void)usec;
	if (d->module_up)
		return 0;
	ret = module_connect(d);
	if (ret == -ENOENT && d->set.load_module) {
		if (!load_module(d))
			ret = module_connect(d);
	} else if (ret == -ENOENT) {
		snprintf(d->module_why, sizeof(d->module_why),
			 "the fpt module is not loaded (load_module = no)");
	}
	if (!ret)
		return 0;
	if (d->retry_delay == 0)
		fptd_log(LOG_WARNING, "waiting for the fpt module: %s",
			 d->module_why);
	d->retry_delay = d->retry_delay ? d->retry_delay * 2 : 1;
	if (d->retry_delay > d->set.module_retry_max)
		d->retry_delay = d->set.module_retry_max;
	fptd_log(LOG_DEBUG, "module: %s; retrying in %u s", d->module_why,
		 d->retry_delay);
	fptd_status(d);
	sd_event_source_set_time_relative(d->retry_src,
					  (uint64_t)d->retry_delay * 1000000);
	sd_event_source_set_enabled(d->retry_src, SD_EVENT_ONESHOT);
	return 0;
}

/* ---- nlctrl: families registered and unregistered ---- */

struct ctrl_attrs {
	const char *name;
	uint32_t notify_grp;
};

static int grp_attr_cb(const struct nlattr *a, void *data)
{
	const struct nlattr **tb = data;
	uint16_t type = mnl_attr_get_type(a);

	if (type == CTRL_ATTR_MCAST_GRP_NAME &&
	    mnl_attr_validate(a, MNL_TYPE_NUL_STRING) >= 0)
		tb[type] = a;
	else if (type == CTRL_ATTR_MCAST_GRP_ID &&
		 mnl_attr_validate(a, MNL_TYPE_U32) >= 0)
		tb[type] = a;
	return MNL_CB_OK;
}

static int ctrl_attr_cb(const struct nlattr *a, void *data)
{
	struct ctrl_attrs *c = data;
	uint16_t type = mnl_attr_get_type(a);

	if (type == CTRL_ATTR_FAMILY_NAME &&
	    mnl_attr_validate(a, MNL_TYPE_NUL_STRING) >= 0) {
		c->name = mnl_attr_get_str(a);
	} else if (type == CTRL_ATTR_MCAST_GROUPS &&
		   mnl_attr_validate(a, MNL_TYPE_NESTED) >= 0) {
		const struct nlattr *g;

		mnl_attr_for_each_nested(g, a) {
			const struct nlattr *tb[CTRL_ATTR_MCAST_GRP_MAX + 1] = { 0 };

			if (mnl_attr_parse_nested(g, grp_attr_cb, tb) < 0)
				continue;
			if (tb[CTRL_ATTR_MCAST_GRP_NAME] &&
			    tb[CTRL_ATTR_MCAST_GRP_ID] &&
			    !strcmp(mnl_attr_get_str(tb[CTRL_ATTR_MCAST_GRP_NAME]),
				    "notify"))
				c->notify_grp =
					mnl_attr_get_u32(tb[CTRL_ATTR_MCAST_GRP_ID]);
		}
	}
	return MNL_CB_OK;
}

static int getfamily_cb(const struct nlmsghdr *nlh, void *data)
{
	if (mnl_attr_parse(nlh, sizeof(struct genlmsghdr), ctrl_attr_cb,
			   data) < 0)
		return MNL_CB_ERROR;
	return MNL_CB_OK;
}

static int ctrl_event_cb(const struct nlmsghdr *nlh, void *data)
{
	struct fptd *d = data;
	const struct genlmsghdr *g;
	struct ctrl_attrs c = { 0 };

	if (nlh->nlmsg_type != GENL_ID_CTRL ||
	    !mnl_nlmsg_ok(nlh, (int)nlh->nlmsg_len) ||
	    mnl_nlmsg_get_payload_len(nlh) < sizeof(*g))
		return MNL_CB_OK;
	g = mnl_nlmsg_get_payload(nlh);
	if (g->cmd != CTRL_CMD_NEWFAMILY && g->cmd != CTRL_CMD_DELFAMILY)
		return MNL_CB_OK;
	if (mnl_attr_parse(nlh, sizeof(*g), ctrl_attr_cb, &c) < 0 || !c.name ||
	    strcmp(c.name, FPT_GENL_NAME))
		return MNL_CB_OK;
	if (g->cmd == CTRL_CMD_DELFAMILY)
		fptd_module_gone(d);
	else
		fptd_module_appeared(d);
	return MNL_CB_OK;
}

void fptd_module_gone(struct fptd *d)
{
	module_lost(d, "the fpt module was unloaded");
}

void fptd_module_appeared(struct fptd *d)
{
	fptd_log(LOG_INFO, "the fpt module was loaded");
	/* a DELFAMILY we missed: start afresh */
	if (d->module_up)
		module_lost(d, "the fpt module was reloaded");
	module_connect(d);
}

static int on_nlctrl(sd_event_source *s, int fd, uint32_t revents, void *arg)
{
	struct fptd *d = arg;
	char buf[MNL_SOCKET_BUFFER_SIZE];

	(void)s; (void)revents;
	for (;;) {
		ssize_t n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == ENOBUFS) {
				/* lost events: ask the kernel directly */
				fptd_log(LOG_WARNING, "nlctrl events were lost; checking the module");
				if (d->module_up) {
					struct fpt_global_info g;

					if (fptnl_global_get(d->nl, &g) == -ENOENT)
						module_lost(d, "the fpt module is gone");
				}
				if (!d->module_up)
					module_connect(d);
				continue;
			}
			break;
		}
		if (n == 0)
			break;
		mnl_cb_run(buf, (size_t)n, 0, 0, ctrl_event_cb, d);
	}
	return 0;
}

static int nlctrl_open(struct fptd *d)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct ctrl_attrs c = { .notify_grp = 0 };
	struct mnl_socket *nl;
	struct nlmsghdr *nlh;
	struct genlmsghdr *g;
	unsigned int seq = 1, portid;
	ssize_t n;
	int ret, fd;

	nl = mnl_socket_open2(NETLINK_GENERIC, SOCK_CLOEXEC);
	if (!nl)
		return -errno;
	if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0)
		goto fail;
	portid = mnl_socket_get_portid(nl);
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = GENL_ID_CTRL;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	nlh->nlmsg_seq = seq;
	g = mnl_nlmsg_put_extra_header(nlh, sizeof(*g));
	g->cmd = CTRL_CMD_GETFAMILY;
	g->version = 1;
	mnl_attr_put_strz(nlh, CTRL_ATTR_FAMILY_NAME, "nlctrl");
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0)
		goto fail;
	do {
		n = mnl_socket_recvfrom(nl, buf, sizeof(buf));
		if (n < 0)
			goto fail;
		ret = mnl_cb_run(buf, (size_t)n, seq, portid, getfamily_cb, &c);
	} while (ret > MNL_CB_STOP);
	if (ret < 0)
		goto fail;
	if (!c.notify_grp)
		c.notify_grp = GENL_ID_CTRL;	/* what every kernel uses */
	if (mnl_socket_setsockopt(nl, NETLINK_ADD_MEMBERSHIP, &c.notify_grp,
				  sizeof(c.notify_grp)) < 0)
		goto fail;
	fd = mnl_socket_get_fd(nl);
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	ret = sd_event_add_io(d->ev, &d->nlctrl_src, fd, EPOLLIN, on_nlctrl, d);
	if (ret < 0) {
		mnl_socket_close(nl);
		return ret;
	}
	d->nlctrl = nl;
	return 0;
fail:
	ret = -errno;
	mnl_socket_close(nl);
	return ret ? ret : -EIO;
}

int fptd_kernel_start(struct fptd *d)
{
	int ret;

	ret = nlctrl_open(d);
	if (ret) {
		fptd_log(LOG_ERR, "cannot watch generic netlink families (nlctrl): %s",
			 strerror(-ret));
		return ret;
	}
	ret = sd_event_add_time_relative(d->ev, &d->retry_src, CLOCK_MONOTONIC,
					 0, 100000, on_retry, d);
	if (ret < 0)
		return ret;
	/* the first attempt now, before the event loop runs */
	on_retry(d->retry_src, 0, d);
	return 0;
}

void fptd_kernel_stop(struct fptd *d)
{
	size_t i;
	int ret;

	if (d->module_up && d->set.clear_on_exit) {
		unsigned int n = 0;

		for (i = 0; i < d->nent; i++)
			if (d->ent[i].applied_id && !d->ent[i].foreign) {
				struct fpt_cgroup_ref ref = { .id = d->ent[i].applied_id };

				ret = fptnl_policy_del(d->nl, &ref);
				if (!ret)
					n++;
			}
		fptd_log(LOG_INFO, "clear_policies_on_exit: removed %u policies", n);
	}
	d->retry_src = sd_event_source_disable_unref(d->retry_src);
	d->mon_src = sd_event_source_disable_unref(d->mon_src);
	d->nlctrl_src = sd_event_source_disable_unref(d->nlctrl_src);
	if (d->nlctrl)
		mnl_socket_close(d->nlctrl);
	d->nlctrl = NULL;
	fptnl_close(d->mon);
	fptnl_close(d->nl);
	d->mon = d->nl = NULL;
	d->module_up = false;
}
