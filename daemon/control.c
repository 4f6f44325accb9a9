// SPDX-License-Identifier: MIT
/*
 * The control socket (lib/control.h): fptctl's runtime policy changes,
 * kept in <state_dir>/policies.conf (the policy file format, written
 * atomically) and replayed at start.
 *
 * The socket is mode 0666: anyone may "list" and "status" (what fptctl
 * status shows a user); "set" and "del" need CAP_NET_ADMIN (peer.c).
 * Connections are slots: unprivileged peers share MAX_UNPRIV of them, at
 * most MAX_PER_UID each, and are dropped after UNPRIV_IDLE; peers with
 * CAP_NET_ADMIN have MAX_PRIV slots of their own, so that no user can
 * hold every connection and lock root (or a unit's ExecStartPre=fptctl)
 * out.
 */
#define _GNU_SOURCE
#include "fptd.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <syslog.h>
#include <unistd.h>

#include "../lib/control.h"
#include "../lib/errname.h"
#include "ctlproto.h"

#define STATE_FILE	"policies.conf"
#define MAX_UNPRIV	16		/* unprivileged peers together */
#define MAX_PER_UID	4		/* one unprivileged uid */
#define MAX_PRIV	16		/* peers with CAP_NET_ADMIN */
#define PRIV_IDLE_USEC		(60ULL * 1000000)
#define UNPRIV_IDLE_USEC	(10ULL * 1000000)
#define RUNTIME_SOURCE	"fptctl"

struct fptd_client {
	struct fptd_client *next;
	struct fptd *d;
	int fd;
	struct fptd_peer peer;
	sd_event_source *io, *idle;
};

/* ---- state ---- */

int fptd_state_load(struct fptd *d)
{
	char path[FPTD_PATH_MAX + 32], bad[FPTD_PATH_MAX + 64];
	struct fptd_policy_set set = { 0 };
	struct fptd_errors *err;
	struct stat st;
	char *text;
	FILE *f;
	long len;
	int ret;
	size_t i;

	snprintf(path, sizeof(path), "%s/%s", d->set.state_dir, STATE_FILE);
	f = fopen(path, "re");
	if (!f) {
		if (errno == ENOENT)
			return 0;
		fptd_log(LOG_ERR, "cannot read %s: %m", path);
		return -errno;
	}
	if (fstat(fileno(f), &st) || st.st_size > FPTD_FILE_MAX) {
		fclose(f);
		fptd_log(LOG_ERR, "%s: too large; ignored", path);
		return -EFBIG;
	}
	len = st.st_size;
	text = malloc((size_t)len + 1);
	err = malloc(sizeof(*err));
	if (!text || !err || fread(text, 1, (size_t)len, f) != (size_t)len) {
		fclose(f);
		free(text);
		free(err);
		return -EIO;
	}
	fclose(f);
	memset(err, 0, sizeof(*err));
	ret = fptd_policies_parse(text, (size_t)len, path, d->cgroup_root, &set,
				  err);
	free(text);
	if (ret) {
		snprintf(bad, sizeof(bad), "%s.bad", path);
		fptd_log(LOG_ERR, "runtime policies not restored:\n%s", err->text);
		if (!rename(path, bad))
			fptd_log(LOG_ERR, "%s moved to %s", path, bad);
		free(err);
		fptd_policy_set_free(&set);
		return ret;
	}
	free(err);
	for (i = 0; i < set.n; i++) {
		free(set.v[i].file);
		set.v[i].file = strdup(RUNTIME_SOURCE);
		set.v[i].line = 0;
	}
	fptd_policy_set_free(&d->runtime);
	d->runtime = set;
	if (set.n)
		fptd_log(LOG_INFO, "%zu runtime policies restored from %s", set.n,
			 path);
	return 0;
}

int fptd_state_save(struct fptd *d, const struct fptd_policy_set *rt)
{
	char *text = fptd_policies_format(rt);
	int ret;

	if (!text)
		return -ENOMEM;
	mkdir(d->set.state_dir, 0755);
	ret = fptd_write_atomic(d->set.state_dir, STATE_FILE, text,
				strlen(text), 0644, true);
	free(text);
	return ret;
}

/* ---- requests ---- */

static void reply(struct fptd_client *c, const char *text)
{
	size_t len = strlen(text);

	if (len > FPT_CONTROL_MAX)
		len = FPT_CONTROL_MAX;
	if (send(c->fd, text, len, MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
		fptd_log(LOG_DEBUG, "control reply: %m");
}

static void __attribute__((format(printf, 3, 4)))
reply_err(struct fptd_client *c, int e, const char *fmt, ...)
{
	char msg[FPT_CONTROL_MAX], text[FPT_CONTROL_MAX / 2];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	snprintf(msg, sizeof(msg), "err %s %s", fpt_errno_name(e), text);
	reply(c, msg);
}

static struct fptd_entry *entry_of(struct fptd *d, const char *path)
{
	size_t i;

	for (i = 0; i < d->nent; i++)
		if (!strcmp(d->ent[i].pol.path, path))
			return &d->ent[i];
	return NULL;
}

static void do_list(struct fptd_client *c)
{
	struct fptd *d = c->d;
	char msg[FPT_CONTROL_MAX + 1], line[FPTD_PATH_MAX + 512], words[128];
	size_t used = 0, i;

	msg[0] = 0;
	for (i = 0; i < d->nent; i++) {
		const struct fptd_entry *e = &d->ent[i];
		char src[FPTD_PATH_MAX + 32];
		int n;

		fptd_policy_words(&e->pol, words, sizeof(words));
		if (e->pol.line)
			snprintf(src, sizeof(src), "%s:%d", e->pol.file,
				 e->pol.line);
		else
			snprintf(src, sizeof(src), "%s", e->pol.file);
		n = snprintf(line, sizeof(line), "policy %s %s source=%s state=%s",
			     e->pol.path[0] ? e->pol.path : "/", words, src,
			     fptd_state_name(e->state));
		if (n < 0 || (size_t)n >= sizeof(line))
			continue;
		if (used + (size_t)n + 1 > FPT_CONTROL_MAX) {
			/* full: send it, go on in a new message */
			reply(c, msg);
			used = 0;
			msg[0] = 0;
		}
		used += (size_t)snprintf(msg + used, sizeof(msg) - used, "%s\n",
					 line);
	}
	if (used + 3 > FPT_CONTROL_MAX) {
		reply(c, msg);
		used = 0;
		msg[0] = 0;
	}
	snprintf(msg + used, sizeof(msg) - used, "ok");
	reply(c, msg);
}

/* Save @rt as the runtime layer and apply it; the old one on failure. */
static int commit_runtime(struct fptd *d, struct fptd_policy_set *rt)
{
	struct fptd_policy_set old = { 0 };
	int ret;

	ret = fptd_state_save(d, rt);
	if (ret)
		return ret;
	old = d->runtime;
	d->runtime = *rt;
	memset(rt, 0, sizeof(*rt));
	ret = fptd_rebuild(d);
	if (ret) {
		*rt = d->runtime;
		d->runtime = old;
		fptd_state_save(d, &d->runtime);
		return ret;
	}
	fptd_policy_set_free(&old);
	return 0;
}

static void do_set(struct fptd_client *c, struct fptd_ctl_req *req)
{
	struct fptd *d = c->d;
	struct fptd_policy_set rt = { 0 }, prev = { 0 };
	struct fptd_entry *e;
	char words[128];
	int ret;

	req->pol.file = (char *)RUNTIME_SOURCE;
	req->pol.line = 0;
	if (fptd_policy_set_copy(&rt, &d->runtime) ||
	    fptd_policy_set_copy(&prev, &d->runtime) ||
	    fptd_policy_set_put(&rt, &req->pol)) {
		fptd_policy_set_free(&rt);
		fptd_policy_set_free(&prev);
		reply_err(c, ENOMEM, "out of memory");
		return;
	}
	/* a set always asks for the policy again, even if unchanged */
	e = entry_of(d, req->path);
	if (e)
		e->dirty = true;
	ret = commit_runtime(d, &rt);
	fptd_policy_set_free(&rt);
	if (ret) {
		fptd_policy_set_free(&prev);
		reply_err(c, -ret, "cannot save %s/%s: %s", d->set.state_dir,
			  STATE_FILE, strerror(-ret));
		return;
	}
	e = entry_of(d, req->path);
	fptd_policy_words(&req->pol, words, sizeof(words));
	if (e && e->state == FPTD_POL_REFUSED) {
		/* the kernel said no: undo, so that it is not replayed */
		int err = e->refused_errno ? e->refused_errno : EINVAL;
		char why[256];

		snprintf(why, sizeof(why), "%s", e->why);
		commit_runtime(d, &prev);
		fptd_policy_set_free(&prev);
		reply_err(c, err, "the fpt module refused %s %s: %s",
			  req->path[0] ? req->path : "/", words, why);
		return;
	}
	fptd_policy_set_free(&prev);
	fptd_log(LOG_INFO, "fptctl (pid %d, uid %u): policy of %s: %s",
		 (int)c->peer.pid, (unsigned int)c->peer.uid,
		 req->path[0] ? req->path : "/", words);
	if (!e)
		reply(c, "ok saved");
	else if (e->state == FPTD_POL_APPLIED) {
		char msg[FPTD_PATH_MAX + 64];

		snprintf(msg, sizeof(msg), "ok applied to %s (cgroup id %llu)",
			 req->path[0] ? req->path : "/",
			 (unsigned long long)e->applied_id);
		reply(c, msg);
	} else if (e->state == FPTD_POL_WAITING) {
		reply(c, "ok saved; the cgroup does not exist yet: the policy is set when it appears");
	} else if (e->state == FPTD_POL_NO_MODULE) {
		reply(c, "ok saved; the fpt module is not loaded: the policy is set when it is");
	} else {
		reply(c, "ok saved");
	}
}

static void do_del(struct fptd_client *c, struct fptd_ctl_req *req)
{
	struct fptd *d = c->d;
	struct fptd_policy_set rt = { 0 };
	const struct fptd_policy *filep;
	const char *shown = req->path[0] ? req->path : "/";
	int ret;

	filep = fptd_policy_find(&d->files, req->path);
	if (!fptd_policy_find(&d->runtime, req->path)) {
		if (filep)
			reply_err(c, EBUSY,
				  "the policy of %s comes from %s:%d; remove it there and reload fptd (or set mode=off with fptctl)",
				  shown, filep->file, filep->line);
		else
			reply_err(c, ENOENT, "fptd has no policy for %s", shown);
		return;
	}
	if (fptd_policy_set_copy(&rt, &d->runtime)) {
		reply_err(c, ENOMEM, "out of memory");
		return;
	}
	fptd_policy_set_del(&rt, req->path);
	ret = commit_runtime(d, &rt);
	fptd_policy_set_free(&rt);
	if (ret) {
		reply_err(c, -ret, "cannot save %s/%s: %s", d->set.state_dir,
			  STATE_FILE, strerror(-ret));
		return;
	}
	fptd_log(LOG_INFO, "fptctl (pid %d, uid %u): policy of %s removed",
		 (int)c->peer.pid, (unsigned int)c->peer.uid, shown);
	if (filep) {
		char msg[FPTD_PATH_MAX * 2];

		snprintf(msg, sizeof(msg),
			 "ok removed; the policy of %s from %s:%d applies again",
			 shown, filep->file, filep->line);
		reply(c, msg);
	} else {
		reply(c, "ok removed");
	}
}

static void client_free(struct fptd_client *c)
{
	struct fptd *d = c->d;
	struct fptd_client **pp;

	for (pp = &d->clients; *pp; pp = &(*pp)->next)
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	d->nclients--;
	sd_event_source_disable_unref(c->io);
	sd_event_source_disable_unref(c->idle);
	close(c->fd);
	free(c);
}

static int on_idle(sd_event_source *s, uint64_t usec, void *arg)
{
	(void)s; (void)usec;
	client_free(arg);
	return 0;
}

static int on_client(sd_event_source *s, int fd, uint32_t revents, void *arg)
{
	struct fptd_client *c = arg;
	struct fptd *d = c->d;
	char buf[FPT_CONTROL_MAX + 1], err[512];
	struct fptd_ctl_req *req;
	ssize_t n;

	(void)s;
	n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT | MSG_TRUNC);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return 0;
	if (n <= 0 || (revents & (EPOLLHUP | EPOLLERR) && n <= 0)) {
		client_free(c);
		return 0;
	}
	sd_event_source_set_time_relative(c->idle, c->peer.net_admin ?
					  PRIV_IDLE_USEC : UNPRIV_IDLE_USEC);
	if ((size_t)n > FPT_CONTROL_MAX) {
		reply_err(c, EMSGSIZE, "request longer than %d bytes",
			  FPT_CONTROL_MAX);
		return 0;
	}
	req = malloc(sizeof(*req));
	if (!req) {
		reply_err(c, ENOMEM, "out of memory");
		return 0;
	}
	if (fptd_ctl_parse(buf, (size_t)n, d->cgroup_root, req, err,
			   sizeof(err))) {
		reply_err(c, EINVAL, "%s", err);
		free(req);
		return 0;
	}
	if ((req->cmd == FPTD_CTL_SET || req->cmd == FPTD_CTL_DEL) &&
	    !c->peer.net_admin) {
		reply_err(c, EPERM, "changing policy needs CAP_NET_ADMIN (uid %u, pid %d: %s)",
			  (unsigned int)c->peer.uid, (int)c->peer.pid,
			  c->peer.why);
		free(req);
		return 0;
	}
	switch (req->cmd) {
	case FPTD_CTL_LIST:
		do_list(c);
		break;
	case FPTD_CTL_STATUS: {
		char msg[1100];

		memcpy(msg, "ok ", 3);
		fptd_status_text(d, msg + 3, sizeof(msg) - 3);
		reply(c, msg);
		break;
	}
	case FPTD_CTL_SET:
		do_set(c, req);
		break;
	case FPTD_CTL_DEL:
		do_del(c, req);
		break;
	}
	free(req);
	return 0;
}

/* May another connection of @p be accepted?  NULL or why not. */
static const char *slot_refused(struct fptd *d, const struct fptd_peer *p)
{
	const struct fptd_client *c;
	unsigned int priv = 0, unpriv = 0, uid = 0;

	for (c = d->clients; c; c = c->next) {
		if (c->peer.net_admin) {
			priv++;
			continue;
		}
		unpriv++;
		if (c->peer.uid == p->uid)
			uid++;
	}
	if (p->net_admin)
		return priv >= MAX_PRIV ?
		       "err EBUSY too many privileged fptctl connections; try again" :
		       NULL;
	if (uid >= MAX_PER_UID)
		return "err EBUSY too many fptctl connections of this user; try again";
	if (unpriv >= MAX_UNPRIV)
		return "err EBUSY too many unprivileged fptctl connections; try again";
	return NULL;
}

static int on_accept(sd_event_source *s, int fd, uint32_t revents, void *arg)
{
	struct fptd *d = arg;
	struct fptd_client *c;
	const char *busy;
	int cfd, ret;

	(void)s; (void)revents;
	cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (cfd < 0)
		return 0;
	c = calloc(1, sizeof(*c));
	if (!c) {
		close(cfd);
		return 0;
	}
	c->d = d;
	c->fd = cfd;
	if (fptd_peer_get(cfd, &c->peer)) {
		close(cfd);
		free(c);
		return 0;
	}
	busy = slot_refused(d, &c->peer);
	if (busy) {
		fptd_log(LOG_DEBUG, "control: refused a connection of pid %d, uid %u: %s",
			 (int)c->peer.pid, (unsigned int)c->peer.uid, busy);
		send(cfd, busy, strlen(busy), MSG_NOSIGNAL | MSG_DONTWAIT);
		close(cfd);
		free(c);
		return 0;
	}
	ret = sd_event_add_io(d->ev, &c->io, cfd, EPOLLIN, on_client, c);
	if (ret >= 0)
		ret = sd_event_add_time_relative(d->ev, &c->idle, CLOCK_MONOTONIC,
						 c->peer.net_admin ?
						 PRIV_IDLE_USEC : UNPRIV_IDLE_USEC,
						 1000000, on_idle, c);
	if (ret < 0) {
		sd_event_source_disable_unref(c->io);
		close(cfd);
		free(c);
		return 0;
	}
	c->next = d->clients;
	d->clients = c;
	d->nclients++;
	return 0;
}

int fptd_control_start(struct fptd *d)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	const char *path = d->set.control_socket;
	struct stat st;
	int fd, ret;
	mode_t old;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	/*
	 * A socket left by an earlier fptd that died: safe to remove, the
	 * caller holds the single-instance lock (main.c), so no fptd is
	 * listening on it.
	 */
	if (!lstat(path, &st) && S_ISSOCK(st.st_mode))
		unlink(path);
	/* srw-rw-rw-: anyone may list; changes need CAP_NET_ADMIN */
	old = umask(0111);
	ret = bind(fd, (struct sockaddr *)&sa, sizeof(sa));
	umask(old);
	if (ret || listen(fd, 64)) {
		ret = -errno;
		fptd_log(LOG_ERR, "control socket %s: %s", path, strerror(-ret));
		close(fd);
		return ret;
	}
	ret = sd_event_add_io(d->ev, &d->ctl_src, fd, EPOLLIN, on_accept, d);
	if (ret < 0) {
		close(fd);
		return ret;
	}
	d->ctl_fd = fd;
	return 0;
}

void fptd_control_stop(struct fptd *d)
{
	while (d->clients)
		client_free(d->clients);
	d->ctl_src = sd_event_source_disable_unref(d->ctl_src);
	if (d->ctl_fd >= 0) {
		close(d->ctl_fd);
		unlink(d->set.control_socket);
	}
	d->ctl_fd = -1;
}
