// SPDX-License-Identifier: MIT
/*
 * fptd's policies as entries: the effective set (policy files overlaid
 * with fptctl's runtime policies) with what fptd knows of each in the
 * kernel, rebuilt on every change; putting them into the kernel
 * (reconcile); the status line systemd shows; and the handlers of the
 * lower layers' news (fptd_state_hooks: the module came or went, a policy
 * was changed outside fptd, a cgroup was removed or created).
 */
#define _GNU_SOURCE
#include "fptd.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <systemd/sd-daemon.h>

#include "../lib/cgpath.h"

const char *fptd_state_name(enum fptd_pol_state s)
{
	switch (s) {
	case FPTD_POL_APPLIED: return "applied";
	case FPTD_POL_WAITING: return "waiting";
	case FPTD_POL_REFUSED: return "refused";
	case FPTD_POL_NO_MODULE: return "no_module";
	case FPTD_POL_OVERRIDDEN: return "overridden";
	default: return "?";
	}
}

static const char *label(const char *path)
{
	return path[0] ? path : "/";
}

/* ---- the status line ---- */

void fptd_status_text(struct fptd *d, char *s, size_t len)
{
	char rate[32];
	unsigned int st[FPTD_POL_NR] = { 0 };
	size_t i, used;

	for (i = 0; i < d->nent; i++)
		st[d->ent[i].state]++;
	if (!d->module_up) {
		used = (size_t)snprintf(s, len,
					"No fpt module: %s; %zu polic%s to set when it is loaded",
					d->module_why[0] ? d->module_why : "not loaded",
					d->nent, d->nent == 1 ? "y" : "ies");
	} else {
		if (d->last_global_rate.valid)
			snprintf(rate, sizeof(rate), "%.1f%%",
				 d->last_global_rate.rate * 100);
		else
			snprintf(rate, sizeof(rate), "n/a");
		used = (size_t)snprintf(s, len, "%u of %zu policies set",
					st[FPTD_POL_APPLIED], d->nent);
		if (st[FPTD_POL_WAITING] && used < len)
			used += (size_t)snprintf(s + used, len - used,
						 ", %u waiting for their cgroup",
						 st[FPTD_POL_WAITING]);
		if (st[FPTD_POL_REFUSED] && used < len)
			used += (size_t)snprintf(s + used, len - used,
						 ", %u refused by the module",
						 st[FPTD_POL_REFUSED]);
		if (st[FPTD_POL_OVERRIDDEN] && used < len)
			used += (size_t)snprintf(s + used, len - used,
						 ", %u changed outside fptd",
						 st[FPTD_POL_OVERRIDDEN]);
		if (used < len)
			used += (size_t)snprintf(s + used, len - used,
						 "; fallback %s, order-4 unusable index %.2f",
						 rate, d->last_index);
	}
	if (!d->config_ok && used < len)
		snprintf(s + used, len - used,
			 "; configuration error (see the journal): running the last good one");
}

void fptd_status(struct fptd *d)
{
	static char last[1024];
	char s[1024];

	fptd_status_text(d, s, sizeof(s));
	if (!strcmp(s, last))
		return;
	snprintf(last, sizeof(last), "%s", s);
	sd_notifyf(0, "STATUS=%s", s);
}

/* ---- putting policies into the kernel ---- */

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

/* Forget the kernel state of an entry that goes away. */
static void entry_drop(struct fptd *d, struct fptd_entry *e)
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
		snprintf(e->why, sizeof(e->why), "%s%s",
			 *ext ? ext : strerror(-ret),
			 ret == -EPERM ? " (fptd needs CAP_NET_ADMIN)" : "");
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

void fptd_clear_policies(struct fptd *d)
{
	unsigned int n = 0;
	size_t i;

	if (!d->module_up)
		return;
	for (i = 0; i < d->nent; i++)
		if (d->ent[i].applied_id && !d->ent[i].foreign) {
			struct fpt_cgroup_ref ref = { .id = d->ent[i].applied_id };

			if (!fptnl_policy_del(d->nl, &ref))
				n++;
			d->ent[i].applied_id = 0;
		}
	fptd_log(LOG_INFO, "clear_policies_on_exit: removed %u policies", n);
}

/* ---- rebuilding the entries ---- */

static void watch_paths(struct fptd *d)
{
	const char **p = calloc(d->nent ? d->nent : 1, sizeof(*p));
	size_t i;

	if (!p)
		return;
	for (i = 0; i < d->nent; i++)
		p[i] = d->ent[i].pol.path;
	fptd_cgwatch_set(d, p, d->nent);
	free(p);
}

/* The entries from files + runtime, keeping what is known of each. */
int fptd_rebuild(struct fptd *d)
{
	struct fptd_policy_set eff = { 0 };
	struct fptd_entry *ne;
	size_t i, k;

	if (fptd_policy_merge(&d->files, &d->runtime, &eff))
		return -ENOMEM;
	ne = calloc(eff.n ? eff.n : 1, sizeof(*ne));
	if (!ne) {
		fptd_policy_set_free(&eff);
		return -ENOMEM;
	}
	for (i = 0; i < eff.n; i++) {
		struct fptd_entry *e = &ne[i], *old = NULL;

		e->pol = eff.v[i];	/* takes the strings */
		for (k = 0; k < d->nent; k++)
			if (!strcmp(d->ent[k].pol.path, e->pol.path)) {
				old = &d->ent[k];
				break;
			}
		if (old) {
			e->state = old->state;
			e->applied_id = old->applied_id;
			e->refused_id = old->refused_id;
			e->refused_errno = old->refused_errno;
			e->foreign = old->foreign;
			e->dirty = old->dirty;
			memcpy(e->why, old->why, sizeof(e->why));
			if (!fptd_policy_same(&e->pol, &old->pol))
				e->dirty = true;
			old->pol.mode = 0xff;	/* mark: carried over */
		} else {
			e->state = d->module_up ? FPTD_POL_WAITING :
						  FPTD_POL_NO_MODULE;
			e->dirty = true;
		}
	}
	for (k = 0; k < d->nent; k++) {
		if (d->ent[k].pol.mode != 0xff)
			entry_drop(d, &d->ent[k]);
		free(d->ent[k].pol.path);
		free(d->ent[k].pol.file);
	}
	free(d->ent);
	free(eff.v);
	d->ent = ne;
	d->nent = eff.n;
	watch_paths(d);
	fptd_reconcile(d);
	return 0;
}

/* ---- the lower layers' news ---- */

/* Remove stale policies of fptd's cgroups (ids of removed cgroups). */
static void stale_one(struct fptd *d, const struct fpt_policy_info *p)
{
	const char *rel = p->path;
	uint64_t id;
	size_t i;

	while (*rel == '/')
		rel++;
	for (i = 0; i < d->nent; i++) {
		if (strcmp(d->ent[i].pol.path, rel))
			continue;
		if (d->ent[i].applied_id == p->cgroup_id)
			return;
		if (fpt_cgroup_id(d->cgroup_root, rel, &id) ||
		    id != p->cgroup_id) {
			fptd_log(LOG_INFO, "removing the stale policy of %s (cgroup id %llu no longer exists)",
				 label(rel), (unsigned long long)p->cgroup_id);
			del_id(d, rel, p->cgroup_id);
		}
		return;
	}
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

	/* removing while the dump runs would confuse it: collect first */
	if (fptnl_policy_dump(d->nl, collect_cb, &l) == 0)
		for (i = 0; i < l.n; i++)
			stale_one(d, &l.v[i]);
	free(l.v);
}

static void on_module(struct fptd *d, enum fptd_module_event ev)
{
	size_t i;

	switch (ev) {
	case FPTD_MODULE_UP:
		for (i = 0; i < d->nent; i++) {
			d->ent[i].dirty = true;
			d->ent[i].foreign = false;
		}
		fptd_reconcile(d);
		remove_stale(d);
		break;
	case FPTD_MODULE_DOWN:
		for (i = 0; i < d->nent; i++) {
			d->ent[i].applied_id = 0;
			d->ent[i].state = FPTD_POL_NO_MODULE;
			d->ent[i].foreign = false;
			d->ent[i].dirty = true;
		}
		break;
	case FPTD_MODULE_WAITING:
		for (i = 0; i < d->nent; i++)
			d->ent[i].state = FPTD_POL_NO_MODULE;
		break;
	}
	fptd_status(d);
}

static void on_policy_note(struct fptd *d, uint8_t cmd,
			   const struct fpt_policy_info *p)
{
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

/*
 * A configured cgroup was removed: whatever it becomes (created again,
 * maybe before this batch of events is handled), its policy is fptd's to
 * set again, even if someone had changed it by hand.
 */
static void on_cgroup_gone(struct fptd *d, const char *rel)
{
	size_t i;

	for (i = 0; i < d->nent; i++)
		if (!strcmp(d->ent[i].pol.path, rel)) {
			d->ent[i].dirty = true;
			d->ent[i].foreign = false;
		}
}

static void on_cgroups_changed(struct fptd *d)
{
	fptd_cgwatch_sync(d);
	fptd_reconcile(d);
}

const struct fptd_hooks fptd_state_hooks = {
	.module = on_module,
	.policy_note = on_policy_note,
	.notes_lost = fptd_reconcile,
	.cgroup_gone = on_cgroup_gone,
	.cgroups_changed = on_cgroups_changed,
};
