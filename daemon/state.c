// SPDX-License-Identifier: MIT
/*
 * fptd's policies as entries: the effective set (policy files overlaid
 * with fptctl's runtime policies) with what fptd knows of each in the
 * kernel, rebuilt on every change; and the status line systemd shows.
 */
#define _GNU_SOURCE
#include "fptd.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-daemon.h>

void fptd_status(struct fptd *d)
{
	static char last[1024];
	char s[1024], rate[32];
	unsigned int st[FPTD_POL_NR] = { 0 };
	size_t i, used;

	for (i = 0; i < d->nent; i++)
		st[d->ent[i].state]++;
	if (!d->module_up) {
		used = (size_t)snprintf(s, sizeof(s),
					"Waiting for the fpt module: %s; %zu policies to set when it is loaded",
					d->module_why[0] ? d->module_why : "not loaded",
					d->nent);
	} else {
		if (d->last_global_rate.valid)
			snprintf(rate, sizeof(rate), "%.1f%%",
				 d->last_global_rate.rate * 100);
		else
			snprintf(rate, sizeof(rate), "n/a");
		used = (size_t)snprintf(s, sizeof(s), "%u of %zu policies set",
					st[FPTD_POL_APPLIED], d->nent);
		if (st[FPTD_POL_WAITING] && used < sizeof(s))
			used += (size_t)snprintf(s + used, sizeof(s) - used,
						 ", %u waiting for their cgroup",
						 st[FPTD_POL_WAITING]);
		if (st[FPTD_POL_REFUSED] && used < sizeof(s))
			used += (size_t)snprintf(s + used, sizeof(s) - used,
						 ", %u refused by the module",
						 st[FPTD_POL_REFUSED]);
		if (st[FPTD_POL_OVERRIDDEN] && used < sizeof(s))
			used += (size_t)snprintf(s + used, sizeof(s) - used,
						 ", %u changed outside fptd",
						 st[FPTD_POL_OVERRIDDEN]);
		if (used < sizeof(s))
			used += (size_t)snprintf(s + used, sizeof(s) - used,
						 "; fallback %s, order-4 unusable index %.2f",
						 rate, d->last_index);
	}
	if (!d->config_ok && used < sizeof(s))
		snprintf(s + used, sizeof(s) - used,
			 "; configuration error (see the journal): running the last good one");
	if (!strcmp(s, last))
		return;
	snprintf(last, sizeof(last), "%s", s);
	sd_notifyf(0, "STATUS=%s", s);
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
			fptd_entry_drop(d, &d->ent[k]);
		free(d->ent[k].pol.path);
		free(d->ent[k].pol.file);
	}
	free(d->ent);
	free(eff.v);
	d->ent = ne;
	d->nent = eff.n;
	fptd_cgwatch_sync(d);
	fptd_reconcile(d);
	return 0;
}
