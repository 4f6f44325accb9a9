// SPDX-License-Identifier: MIT
/*
 * Watching the cgroup2 tree for the cgroups fptd has policies for.
 *
 * A cgroup's policy is keyed by its id, and a cgroup that is removed and
 * created again (a service restart) gets a new id.  fptd watches, with
 * inotify, every directory on the way to a configured cgroup (for
 * "a/b/c": the root, "a" and "a/b"), for subdirectories created, removed
 * or renamed.  When one of those is on the way to (or is) a configured
 * cgroup, the watches are brought up to date and the layer above is told
 * (d->hooks: cgroup_gone, cgroups_changed), which checks its policies
 * again: a new cgroup gets its policy, a removed one loses the stale
 * policy of its old id.  The paths come from fptd_cgwatch_set().  The report timer checks every policy too, so a
 * lost event (queue overflow) costs at most one interval.
 */
#define _GNU_SOURCE
#include "fptd.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <syslog.h>
#include <unistd.h>

#include "../lib/cgpath.h"

#define WATCH_MASK (IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO | \
		    IN_ONLYDIR | IN_DELETE_SELF)

struct fptd_watch {
	int wd;
	char *rel;	/* directory relative to the cgroup root, "" root */
	bool keep;
};

static struct fptd_watch *find_wd(struct fptd *d, int wd)
{
	size_t i;

	for (i = 0; i < d->nw; i++)
		if (d->w[i].wd == wd)
			return &d->w[i];
	return NULL;
}

static struct fptd_watch *find_rel(struct fptd *d, const char *rel)
{
	size_t i;

	for (i = 0; i < d->nw; i++)
		if (!strcmp(d->w[i].rel, rel))
			return &d->w[i];
	return NULL;
}

static void forget(struct fptd *d, size_t i)
{
	free(d->w[i].rel);
	d->w[i] = d->w[--d->nw];
}

/* Watch @rel (keeping an existing watch); true if it is watched. */
static bool want(struct fptd *d, const char *rel)
{
	char dir[FPTD_PATH_MAX + 16];
	struct fptd_watch *w = find_rel(d, rel), *nw;
	int wd;

	if (w) {
		w->keep = true;
		return true;
	}
	if (fpt_cgroup_dir(d->cgroup_root, rel, dir, sizeof(dir)))
		return false;
	wd = inotify_add_watch(d->ino_fd, dir, WATCH_MASK);
	if (wd < 0) {
		if (errno != ENOENT && errno != ENOTDIR)
			fptd_log(LOG_WARNING, "cannot watch %s: %m", dir);
		return false;
	}
	/* the same directory under another name (cannot happen in cgroupfs) */
	w = find_wd(d, wd);
	if (w) {
		w->keep = true;
		return true;
	}
	nw = realloc(d->w, (d->nw + 1) * sizeof(*nw));
	if (!nw)
		return false;
	d->w = nw;
	d->w[d->nw].wd = wd;
	d->w[d->nw].rel = strdup(rel);
	d->w[d->nw].keep = true;
	if (!d->w[d->nw].rel) {
		inotify_rm_watch(d->ino_fd, wd);
		return false;
	}
	d->nw++;
	fptd_log(LOG_DEBUG, "watching %s", dir);
	return true;
}

void fptd_cgwatch_sync(struct fptd *d)
{
	char rel[FPTD_PATH_MAX];
	size_t i, k;

	if (d->ino_fd < 0)
		return;
	for (i = 0; i < d->nw; i++)
		d->w[i].keep = false;
	for (i = 0; i < d->nwant; i++) {
		const char *p = d->want[i];

		/* the root, then each ancestor of p while it exists */
		if (!p[0] || !want(d, ""))
			continue;
		for (k = 0; p[k]; k++) {
			if (p[k] != '/')
				continue;
			memcpy(rel, p, k);
			rel[k] = 0;
			if (!want(d, rel))
				break;
		}
	}
	for (i = d->nw; i-- > 0;)
		if (!d->w[i].keep) {
			inotify_rm_watch(d->ino_fd, d->w[i].wd);
			forget(d, i);
		}
}

static void free_want(struct fptd *d)
{
	size_t i;

	for (i = 0; i < d->nwant; i++)
		free(d->want[i]);
	free(d->want);
	d->want = NULL;
	d->nwant = 0;
}

int fptd_cgwatch_set(struct fptd *d, const char *const *paths, size_t n)
{
	char **v = calloc(n ? n : 1, sizeof(*v));
	size_t i;

	if (!v)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		v[i] = strdup(paths[i]);
		if (!v[i]) {
			while (i--)
				free(v[i]);
			free(v);
			return -ENOMEM;
		}
	}
	free_want(d);
	d->want = v;
	d->nwant = n;
	fptd_cgwatch_sync(d);
	return 0;
}

/* Is @rel a configured cgroup or on the way to one? */
static bool relevant(struct fptd *d, const char *rel)
{
	size_t i, l = strlen(rel);

	for (i = 0; i < d->nwant; i++) {
		const char *p = d->want[i];

		if (!strncmp(p, rel, l) && (p[l] == 0 || p[l] == '/'))
			return true;
	}
	return false;
}

static int on_inotify(sd_event_source *s, int fd, uint32_t revents, void *arg)
{
	struct fptd *d = arg;
	char buf[16384] __attribute__((aligned(__alignof__(struct inotify_event))));
	char rel[FPTD_PATH_MAX + NAME_MAX + 2];
	bool changed = false;

	(void)s; (void)revents;
	for (;;) {
		ssize_t n = read(fd, buf, sizeof(buf));
		char *p;

		if (n < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (n == 0)
			break;
		for (p = buf; p < buf + n;) {
			const struct inotify_event *ev = (const void *)p;
			struct fptd_watch *w;

			p += sizeof(*ev) + ev->len;
			if (ev->mask & IN_Q_OVERFLOW) {
				fptd_log(LOG_WARNING, "cgroup events were lost; checking every policy");
				changed = true;
				continue;
			}
			w = find_wd(d, ev->wd);
			if (!w)
				continue;
			if (ev->mask & IN_IGNORED) {
				/* the directory is gone: its watch too */
				forget(d, (size_t)(w - d->w));
				changed = true;
				continue;
			}
			if (!(ev->mask & IN_ISDIR) || !ev->len)
				continue;
			snprintf(rel, sizeof(rel), "%s%s%s", w->rel,
				 w->rel[0] ? "/" : "", ev->name);
			if (relevant(d, rel)) {
				fptd_log(LOG_DEBUG, "cgroup %s %s", rel,
					 ev->mask & (IN_CREATE | IN_MOVED_TO) ?
					 "created" : "removed");
				if (ev->mask & (IN_DELETE | IN_MOVED_FROM) &&
				    d->hooks->cgroup_gone)
					d->hooks->cgroup_gone(d, rel);
				changed = true;
			}
		}
	}
	if (changed) {
		fptd_cgwatch_sync(d);
		if (d->hooks->cgroups_changed)
			d->hooks->cgroups_changed(d);
	}
	return 0;
}

int fptd_cgwatch_start(struct fptd *d)
{
	int ret;

	d->ino_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (d->ino_fd < 0) {
		ret = -errno;
		fptd_log(LOG_ERR, "inotify: %s", strerror(-ret));
		return ret;
	}
	ret = sd_event_add_io(d->ev, &d->ino_src, d->ino_fd, EPOLLIN,
			      on_inotify, d);
	if (ret < 0)
		return ret;
	fptd_cgwatch_sync(d);
	return 0;
}

void fptd_cgwatch_stop(struct fptd *d)
{
	d->ino_src = sd_event_source_disable_unref(d->ino_src);
	while (d->nw)
		forget(d, d->nw - 1);
	free(d->w);
	d->w = NULL;
	free_want(d);
	if (d->ino_fd >= 0)
		close(d->ino_fd);
	d->ino_fd = -1;
}
