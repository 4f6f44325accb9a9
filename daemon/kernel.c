// SPDX-License-Identifier: MIT
/*
 * fptd and the module: connecting to it (lib/fptnl), noticing it come and
 * go (nlctrl's notify group, also through lib/fptnl), and loading it with
 * libkmod where fptd may.  What happens is told upwards through
 * d->hooks; this file knows nothing of policies.
 *
 * The module may be missing for a long time (no fpt-dkms build for the
 * running kernel): that is a state, not an error.  fptd follows nlctrl
 * for the family "fpt" being registered, and also looks again at a
 * growing interval (1, 2, 4 ... module_retry_max seconds) in case an
 * event was lost.
 *
 * Under the shipped unit fptd has no CAP_SYS_MODULE: ExecStartPre=
 * modprobe fpt loads the module before fptd starts.  Run by hand as root,
 * fptd loads it itself (load_module = yes), once, at start: never after
 * someone unloaded it.
 */
#define _GNU_SOURCE
#include "fptd.h"

#include <errno.h>
#include <libkmod.h>
#include <linux/capability.h>
#include <linux/genetlink.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <syslog.h>

static void tell(struct fptd *d, enum fptd_module_event ev)
{
	if (d->hooks && d->hooks->module)
		d->hooks->module(d, ev);
}

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

static void why(struct fptd *d, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void why(struct fptd *d, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(d->module_why, sizeof(d->module_why), fmt, ap);
	va_end(ap);
}

/*
 * Load fpt.ko if fptd may (@load), else only find out whether this kernel
 * has one, for the message.  0 if it was loaded, else a negative errno
 * with d->module_why set.
 */
static int load_module(struct fptd *d, bool load)
{
	struct kmod_module *mod = NULL;
	struct kmod_list *list = NULL;
	struct kmod_ctx *ctx;
	struct utsname u;
	const char *path = NULL;
	int ret;

	uname(&u);
	ctx = kmod_new(NULL, NULL);
	if (!ctx) {
		why(d, "the fpt module is not loaded (libkmod cannot read /lib/modules/%s)",
		    u.release);
		return -ENOENT;
	}
	kmod_set_log_fn(ctx, kmod_log, d);
	ret = kmod_module_new_from_lookup(ctx, "fpt", &list);
	if (!ret && list) {
		mod = kmod_module_get_module(list);
		path = kmod_module_get_path(mod);
	}
	if (!path) {
		why(d, "no fpt module for this kernel (%s): is fpt-dkms built for it? (dkms status fpt)",
		    u.release);
		ret = -ENOENT;
		goto out;
	}
	if (!load) {
		why(d, "%s is not loaded (fptd does not load it: %s)", path,
		    !d->set.load_module ? "load_module = no" :
		    !fptd_have_cap(CAP_SYS_MODULE) ?
		    "no CAP_SYS_MODULE; under systemd the unit's ExecStartPre=modprobe fpt does, see journalctl -u fptd" :
		    "it was unloaded while fptd ran");
		ret = -ENOENT;
		goto out;
	}
	ret = kmod_module_probe_insert_module(mod, 0, NULL, NULL, NULL, NULL);
	if (ret > 0) {
		why(d, "modprobe fpt: the module is blacklisted");
		ret = -EPERM;
	} else if (ret == -EPERM) {
		why(d, "modprobe fpt: not permitted (CAP_SYS_MODULE, or module loading disabled)");
	} else if (ret == -ENOSYS) {
		why(d, "modprobe fpt: this kernel has no loadable-module support");
	} else if (ret < 0) {
		why(d, "modprobe fpt (%s): %s (see dmesg)", path, strerror(-ret));
	} else {
		fptd_log(LOG_INFO, "loaded %s", path);
	}
out:
	kmod_module_unref(mod);
	kmod_module_unref_list(list);
	kmod_unref(ctx);
	return ret;
}

/* ---- the connection ---- */

static void note_cb(uint8_t cmd, const struct fpt_policy_info *p, void *arg)
{
	struct fptd *d = arg;

	if (d->hooks->policy_note)
		d->hooks->policy_note(d, cmd, p);
}

static int on_monitor(sd_event_source *s, int fd, uint32_t revents, void *arg)
{
	struct fptd *d = arg;
	int ret;

	(void)s; (void)fd; (void)revents;
	if (!d->mon)
		return 0;
	ret = fptnl_monitor_read(d->mon, note_cb, d);
	if (ret == -ENOBUFS) {
		fptd_log(LOG_WARNING, "policy notifications were lost; checking every policy again");
		if (d->hooks->notes_lost)
			d->hooks->notes_lost(d);
	} else if (ret) {
		fptd_log(LOG_DEBUG, "reading policy notifications: %s",
			 strerror(-ret));
	}
	return 0;
}

/* "X.Y.Z genl=1" -> "X.Y.Z" ("" if unreadable) */
static void read_version(char *buf, size_t len)
{
	FILE *f = fopen("/sys/kernel/fpt/version", "re");

	buf[0] = 0;
	if (f) {
		if (!fgets(buf, (int)len, f))
			buf[0] = 0;
		fclose(f);
	}
	buf[strcspn(buf, " \n")] = 0;
}

static void disconnect(struct fptd *d)
{
	d->mon_src = sd_event_source_disable_unref(d->mon_src);
	fptnl_close(d->mon);
	fptnl_close(d->nl);
	d->mon = d->nl = NULL;
	d->module_up = false;
	d->family_id = 0;
	d->module_version[0] = 0;
}

/* Retry at a growing interval while the module is not there. */
static void schedule_retry(struct fptd *d)
{
	if (!d->retry_src)
		return;
	d->retry_delay = d->retry_delay ? d->retry_delay * 2 : 1;
	if (d->retry_delay > d->set.module_retry_max)
		d->retry_delay = d->set.module_retry_max;
	sd_event_source_set_time_relative(d->retry_src,
					  (uint64_t)d->retry_delay * 1000000);
	sd_event_source_set_enabled(d->retry_src, SD_EVENT_ONESHOT);
}

/* 0 connected (or already), -ENOENT the family is not registered. */
static int module_connect(struct fptd *d)
{
	int ret;

	if (d->module_up)
		return 0;
	ret = fptnl_open(&d->nl);
	if (ret) {
		if (ret != -ENOENT)
			why(d, "cannot talk to the fpt module: %s",
			    strerror(-ret));
		return ret;
	}
	ret = fptnl_monitor_open(&d->mon);
	if (!ret)
		ret = sd_event_add_io(d->ev, &d->mon_src,
				      fptnl_monitor_fd(d->mon), EPOLLIN,
				      on_monitor, d);
	if (ret) {
		fptd_log(LOG_WARNING, "no policy notifications from the module: %s",
			 strerror(-ret));
		fptnl_close(d->mon);
		d->mon = NULL;
	}
	d->module_up = true;
	d->may_load = false;
	d->family_id = fptnl_family_id(d->nl);
	d->module_gen++;
	d->module_why[0] = 0;
	d->retry_delay = 0;
	memset(&d->ginfo, 0, sizeof(d->ginfo));
	fptnl_global_get(d->nl, &d->ginfo);
	read_version(d->module_version, sizeof(d->module_version));
	fptd_log(LOG_INFO, "connected to the fpt module%s%s (family id %u, %u policies in the kernel)",
		 d->module_version[0] ? " " : "", d->module_version,
		 d->family_id, d->ginfo.nr_policies);
	if (d->retry_src)
		sd_event_source_set_enabled(d->retry_src, SD_EVENT_OFF);
	tell(d, FPTD_MODULE_UP);
	return 0;
}

static void module_lost(struct fptd *d, const char *text)
{
	if (!d->module_up)
		return;
	disconnect(d);
	/* whoever unloaded it meant it: fptd does not load it again */
	d->may_load = false;
	why(d, "%s", text);
	fptd_log(LOG_WARNING, "%s; every policy is set again when it is back",
		 text);
	tell(d, FPTD_MODULE_DOWN);
	/* the events say when it is back; the timer covers lost ones */
	d->retry_delay = 0;
	schedule_retry(d);
}

static void attempt(struct fptd *d)
{
	int ret;

	if (d->module_up)
		return;
	ret = module_connect(d);
	if (ret == -ENOENT) {
		bool load = d->may_load && d->set.load_module &&
			    fptd_have_cap(CAP_SYS_MODULE);

		if (!load_module(d, load))
			ret = module_connect(d);
	}
	if (!ret)
		return;
	if (d->retry_delay == 0)
		fptd_log(LOG_WARNING, "the fpt module is not there: %s; fptd waits for it",
			 d->module_why);
	else
		fptd_log(LOG_DEBUG, "module: %s; looking again in %u s",
			 d->module_why, d->retry_delay);
	tell(d, FPTD_MODULE_WAITING);
	schedule_retry(d);
}

static int on_retry(sd_event_source *s, uint64_t usec, void *arg)
{
	(void)s; (void)usec;
	attempt(arg);
	return 0;
}

void fptd_kernel_retry_now(struct fptd *d)
{
	if (d->module_up || !d->retry_src)
		return;
	d->retry_delay = 0;
	sd_event_source_set_time_relative(d->retry_src, 0);
	sd_event_source_set_enabled(d->retry_src, SD_EVENT_ONESHOT);
}

/*
 * A report tick.  With nlctrl followed, its events and the retry timer say
 * when the module comes: no look here.  (Asking nlctrl for a family that
 * is not registered makes the kernel run modprobe for its alias, a
 * process each time.)
 */
void fptd_kernel_probe(struct fptd *d)
{
	if (!d->module_up && !d->ctrl)
		module_connect(d);
}

/* ---- nlctrl: families registered and unregistered ---- */

void fptd_kernel_family_event(struct fptd *d,
			      const struct fptnl_family_event *ev)
{
	if (strcmp(ev->name, FPT_GENL_NAME))
		return;
	if (ev->cmd == CTRL_CMD_DELFAMILY) {
		/* the family of an earlier connection, already replaced */
		if (!d->module_up || ev->id != d->family_id) {
			fptd_log(LOG_DEBUG, "nlctrl: family fpt (id %u) unregistered; not the one fptd uses",
				 ev->id);
			return;
		}
		module_lost(d, "the fpt module was unloaded");
		return;
	}
	if (ev->cmd != CTRL_CMD_NEWFAMILY)
		return;
	if (d->module_up && ev->id == d->family_id) {
		/*
		 * The registration fptd is already connected to: the event
		 * of the load fptd made itself (or of one it noticed by
		 * asking first), arriving after the connection.
		 */
		fptd_log(LOG_DEBUG, "nlctrl: family fpt (id %u) registered; already connected",
			 ev->id);
		return;
	}
	fptd_log(LOG_INFO, "the fpt module was loaded (family id %u)", ev->id);
	if (d->module_up)	/* a DELFAMILY we missed: start afresh */
		module_lost(d, "the fpt module was reloaded");
	module_connect(d);
}

static void family_cb(const struct fptnl_family_event *ev, void *arg)
{
	fptd_kernel_family_event(arg, ev);
}

static int on_nlctrl(sd_event_source *s, int fd, uint32_t revents, void *arg)
{
	struct fptd *d = arg;
	uint16_t id = 0;
	int ret;

	(void)s; (void)fd; (void)revents;
	ret = fptnl_ctrl_read(d->ctrl, family_cb, d);
	if (ret == -ENOBUFS) {
		/* lost events: ask the kernel which family is there now */
		fptd_log(LOG_WARNING, "nlctrl events were lost; checking the module");
		ret = fptnl_resolve(FPT_GENL_NAME, &id);
		if (d->module_up && (ret == -ENOENT || (!ret && id != d->family_id)))
			module_lost(d, ret ? "the fpt module is gone" :
				    "the fpt module was reloaded");
		if (!d->module_up && !ret)
			module_connect(d);
	} else if (ret) {
		fptd_log(LOG_DEBUG, "reading nlctrl events: %s", strerror(-ret));
	}
	return 0;
}

int fptd_kernel_start(struct fptd *d)
{
	int ret;

	snprintf(d->module_why, sizeof(d->module_why), "not checked yet");
	d->may_load = true;
	ret = fptnl_ctrl_open(&d->ctrl);
	if (!ret)
		ret = sd_event_add_io(d->ev, &d->ctrl_src,
				      fptnl_monitor_fd(d->ctrl), EPOLLIN,
				      on_nlctrl, d);
	if (ret) {
		/* not fatal: the retry timer still finds the module */
		fptd_log(LOG_WARNING, "cannot follow generic netlink families (nlctrl): %s; the module is noticed within %u s instead",
			 strerror(-ret), d->set.module_retry_max);
		d->ctrl_src = sd_event_source_disable_unref(d->ctrl_src);
		fptnl_close(d->ctrl);
		d->ctrl = NULL;
	}
	ret = sd_event_add_time_relative(d->ev, &d->retry_src, CLOCK_MONOTONIC,
					 0, 100000, on_retry, d);
	if (ret < 0)
		return ret;
	sd_event_source_set_enabled(d->retry_src, SD_EVENT_OFF);
	/* the first attempt now, before the event loop runs */
	attempt(d);
	return 0;
}

void fptd_kernel_stop(struct fptd *d)
{
	d->retry_src = sd_event_source_disable_unref(d->retry_src);
	d->ctrl_src = sd_event_source_disable_unref(d->ctrl_src);
	fptnl_close(d->ctrl);
	d->ctrl = NULL;
	disconnect(d);
}
