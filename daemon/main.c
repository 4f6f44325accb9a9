// SPDX-License-Identifier: MIT
/*
 * fptd: keeps fpt's policies in the kernel, reports on them.
 *
 *   fptd [-c FILE] [-v]      run (in the foreground; systemd Type=notify)
 *   fptd --check [-c FILE]   read the configuration and policies, say
 *                            what is wrong (file:line), exit 0 or 1
 *   fptd --prepare [-c FILE] create the Prometheus directory if missing
 *                            (the unit's ExecStartPre=+, outside the
 *                            sandbox that makes /var read-only)
 *
 * READY=1 goes to systemd as soon as the configuration is read and the
 * control socket listens: with the module there, after every policy was
 * tried; without it (no fpt-dkms build for this kernel), at once, with
 * the reason in STATUS= and fptctl status.  fptd then waits for the
 * module (kernel.c) and sets the policies when it appears.
 *
 * SIGHUP reloads the configuration (a broken one is refused and the last
 * good one kept); SIGTERM stops fptd, leaving the module loaded and its
 * policies in place (clear_policies_on_exit = yes removes fptd's).
 */
#define _GNU_SOURCE
#include "fptd.h"

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <systemd/sd-daemon.h>
#include <systemd/sd-journal.h>
#include <unistd.h>

#include "../lib/cgpath.h"
#include "../lib/control.h"

#define MID_CONFIG_ERROR	"51e2341b28fa4612b4b84fe2dbbd5b67"

static void log_config_errors(const struct fptd_errors *err, bool fatal)
{
	char *copy = strdup(err->text), *line, *save = NULL;

	sd_journal_send("MESSAGE=%s configuration: %s",
			fatal ? "cannot start with this" : "refused the new",
			err->text,
			"MESSAGE_ID=%s", MID_CONFIG_ERROR,
			"PRIORITY=%d", LOG_ERR,
			"FPT_EVENT=config_error",
			"FPT_CONFIG_FILE=%s", err->first_file,
			"FPT_CONFIG_LINE=%d", err->first_line,
			"FPT_CONFIG_ERRORS=%d", err->n,
			NULL);
	if (fptd_log_to_journal() || !copy) {
		free(copy);
		return;		/* the entry above says it all */
	}
	for (line = strtok_r(copy, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save))
		fptd_log(LOG_ERR, "%s", line);
	free(copy);
}

static void reload(struct fptd *d)
{
	struct fptd_settings *ns = malloc(sizeof(*ns));
	struct fptd_policy_set nfiles = { 0 };
	struct fptd_errors *err = calloc(1, sizeof(*err));
	unsigned int old_interval = d->set.interval;
	size_t i;
	int ret;

	if (!ns || !err) {
		free(ns);
		free(err);
		return;
	}
	sd_notify(0, "RELOADING=1\nSTATUS=Reloading the configuration");
	*ns = d->set;
	ret = fptd_config_load(d->conf_path, d->conf_given, d->cgroup_root, ns,
			       &nfiles, err);
	if (ret) {
		d->config_ok = false;
		fptd_log(LOG_ERR, "reload refused: fptd keeps running with the last good configuration (%zu policies)",
			 d->files.n);
		log_config_errors(err, false);
		goto out;
	}
	/* these are used once, at start */
	if (strcmp(ns->control_socket, d->set.control_socket) ||
	    strcmp(ns->state_dir, d->set.state_dir) ||
	    strcmp(ns->cgroup_root, d->set.cgroup_root))
		fptd_log(LOG_WARNING, "control_socket, state_dir and cgroup_root take effect at the next start of fptd");
	memcpy(ns->control_socket, d->set.control_socket,
	       sizeof(ns->control_socket));
	memcpy(ns->state_dir, d->set.state_dir, sizeof(ns->state_dir));
	memcpy(ns->cgroup_root, d->set.cgroup_root, sizeof(ns->cgroup_root));
	d->set = *ns;
	fptd_policy_set_free(&d->files);
	d->files = nfiles;
	d->config_ok = true;
	d->prom_warned = false;
	/* a reload asserts every policy again, also ones changed by hand */
	for (i = 0; i < d->nent; i++) {
		d->ent[i].dirty = true;
		d->ent[i].foreign = false;
	}
	fptd_rebuild(d);
	if (d->set.interval != old_interval)
		fptd_report_reschedule(d);
	fptd_log(LOG_INFO, "configuration reloaded: %zu policies (%zu from files, %zu from fptctl)",
		 d->nent, d->files.n, d->runtime.n);
	/* not loaded yet: look again now */
	fptd_kernel_retry_now(d);
out:
	sd_notify(0, "READY=1");
	fptd_status(d);
	free(ns);
	free(err);
}

static int on_signal(sd_event_source *s, const struct signalfd_siginfo *si,
		     void *arg)
{
	struct fptd *d = arg;

	(void)s;
	if (si->ssi_signo == SIGHUP) {
		fptd_log(LOG_INFO, "SIGHUP: reloading %s", d->conf_path);
		reload(d);
		return 0;
	}
	fptd_log(LOG_INFO, "%s: stopping", strsignal((int)si->ssi_signo));
	sd_notify(0, "STOPPING=1\nSTATUS=Stopping");
	sd_event_exit(d->ev, 0);
	return 0;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: fptd [-c FILE] [-v]      run (foreground; for systemd)\n"
		"       fptd --check [-c FILE]   check the configuration and policies\n"
		"       fptd --prepare [-c FILE] create the Prometheus directory if missing\n"
		"  -c, --config=FILE   daemon configuration (default " FPTD_CONF_DEFAULT ")\n"
		"  -v, --verbose       debug messages\n"
		"      --version       print the version\n");
}

static void free_all(struct fptd *d)
{
	size_t i;

	for (i = 0; i < d->nent; i++) {
		free(d->ent[i].pol.path);
		free(d->ent[i].pol.file);
	}
	free(d->ent);
	free(d->prev);
	fptd_policy_set_free(&d->files);
	fptd_policy_set_free(&d->runtime);
}

/* stdout of --check, --prepare, --version: a write error is a failure */
static int close_stdout(int ret)
{
	if (fflush(stdout) || ferror(stdout)) {
		fprintf(stderr, "fptd: writing to stdout: %s\n",
			strerror(errno ? errno : EIO));
		return ret ? ret : 1;
	}
	return ret;
}

/* --prepare: what the sandbox cannot do (ProtectSystem=strict). */
static int prepare(struct fptd *d)
{
	const char *dir = d->set.prom_dir;
	char *p, *slash;
	struct stat st;

	if (!dir[0] || !stat(dir, &st)) {
		printf("%s: nothing to prepare\n", d->conf_path);
		return 0;
	}
	p = strdup(dir);
	if (!p)
		return 1;
	/* mkdir -p */
	for (slash = strchr(p + 1, '/');; slash = strchr(slash + 1, '/')) {
		if (slash)
			*slash = 0;
		if (mkdir(p, 0755) && errno != EEXIST) {
			/* fptd still runs, without the file: not fatal */
			fprintf(stderr, "fptd: cannot create %s: %m (metrics are not written)\n",
				p);
			free(p);
			return 0;
		}
		if (!slash)
			break;
		*slash = '/';
	}
	free(p);
	printf("created %s (prometheus_dir)\n", dir);
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "check", no_argument, NULL, 'C' },
		{ "prepare", no_argument, NULL, 'P' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	static struct fptd dd;
	struct fptd *d = &dd;
	struct fptd_errors *err;
	char root[FPTD_PATH_MAX], lock[sizeof(d->set.control_socket) + 8];
	bool have_root, prep = false;
	struct stat st;
	sigset_t ss;
	pid_t owner;
	int c, ret;

	d->conf_path = FPTD_CONF_DEFAULT;
	d->ino_fd = d->ctl_fd = d->compact_efd = d->lock_fd = -1;
	d->hooks = &fptd_state_hooks;
	while ((c = getopt_long(argc, argv, "c:vh", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			d->conf_path = optarg;
			d->conf_given = true;
			break;
		case 'C':
			d->check_only = true;
			break;
		case 'P':
			prep = true;
			break;
		case 'v':
			d->verbose = true;
			break;
		case 'V':
			printf("fptd %s (fpt genl version %d)\n", FPTD_VERSION,
			       FPT_GENL_VERSION);
			return close_stdout(0);
		case 'h':
			usage(stdout);
			return close_stdout(0);
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}
	fptd_log_init(d->verbose);

	/* where cgroup2 is mounted: /proc/self/mountinfo, not a guess */
	have_root = !fpt_cgroup2_mount(root, sizeof(root));
	if (!have_root)
		snprintf(root, sizeof(root), "/sys/fs/cgroup");	/* --check */
	err = calloc(1, sizeof(*err));
	if (!err)
		return 1;
	fptd_settings_default(&d->set);
	ret = fptd_config_load(d->conf_path, d->conf_given, root, &d->set,
			       &d->files, err);
	if (ret) {
		if ((d->check_only || prep) && fptd_log_to_journal()) {
			/* ExecStartPre=/ExecReload=: journal entries at err */
			char *line, *save = NULL;

			for (line = strtok_r(err->text, "\n", &save); line;
			     line = strtok_r(NULL, "\n", &save))
				fprintf(stderr, "<3>%s\n", line);
		} else if (d->check_only || prep) {
			fprintf(stderr, "%s\n", err->text);
		} else {
			log_config_errors(err, true);
			sd_notifyf(0, "STATUS=Configuration error: %s:%d",
				   err->first_file, err->first_line);
		}
		free(err);
		free_all(d);
		return 1;
	}
	free(err);
	d->config_ok = true;
	if (d->check_only || prep) {
		ret = 0;
		if (d->check_only)
			printf("%s: OK; %zu policies in %s\n", d->conf_path,
			       d->files.n, d->set.policy_dir);
		if (prep)
			ret = prepare(d);
		free_all(d);
		return close_stdout(ret);
	}
	if (d->set.cgroup_root[0]) {
		memcpy(d->cgroup_root, d->set.cgroup_root, sizeof(d->cgroup_root));
	} else if (have_root) {
		memcpy(d->cgroup_root, root, sizeof(d->cgroup_root));
	} else {
		fptd_log(LOG_ERR, "no cgroup2 file system is mounted (/proc/self/mountinfo): fpt works on the cgroup v2 hierarchy (or set [daemon] cgroup_root)");
		sd_notify(0, "STATUS=No cgroup2 file system mounted");
		free_all(d);
		return 1;
	}
	if (stat(d->cgroup_root, &st) || !S_ISDIR(st.st_mode)) {
		fptd_log(LOG_ERR, "cgroup root %s: %s (is cgroup2 mounted? set [daemon] cgroup_root)",
			 d->cgroup_root, strerror(errno ? errno : ENOTDIR));
		free_all(d);
		return 1;
	}

	/* one fptd per control socket: a second one must not touch it */
	{
		/* systemd makes /run/fpt (RuntimeDirectory=); by hand, we do */
		char dir[sizeof(d->set.control_socket)], *slash;

		memcpy(dir, d->set.control_socket, sizeof(dir));
		dir[sizeof(dir) - 1] = 0;
		slash = strrchr(dir, '/');
		if (slash && slash != dir) {
			*slash = 0;
			mkdir(dir, 0755);
		}
	}
	if (snprintf(lock, sizeof(lock), "%.*s.lock",
		     (int)sizeof(d->set.control_socket) - 1,
		     d->set.control_socket) >= (int)sizeof(lock))
		return 1;	/* cannot happen: control_socket < 108 */
	d->lock_fd = fptd_lock(lock, &owner);
	if (d->lock_fd == -EWOULDBLOCK) {
		if (owner > 0)
			fptd_log(LOG_ERR, "another fptd is running (pid %d, lock %s): stop it first (systemctl stop fptd), or give this one its own control_socket",
				 (int)owner, lock);
		else
			fptd_log(LOG_ERR, "another fptd is running (lock %s): stop it first (systemctl stop fptd), or give this one its own control_socket",
				 lock);
		free_all(d);
		return 1;
	}
	if (d->lock_fd < 0) {
		fptd_log(LOG_ERR, "cannot take the lock %s: %s", lock,
			 strerror(-d->lock_fd));
		free_all(d);
		return 1;
	}

	fptd_state_load(d);
	fptd_log(LOG_INFO, "fptd %s starting: %zu policies from %s, %zu from fptctl; cgroups under %s",
		 FPTD_VERSION, d->files.n, d->set.policy_dir, d->runtime.n,
		 d->cgroup_root);

	sigemptyset(&ss);
	sigaddset(&ss, SIGTERM);
	sigaddset(&ss, SIGINT);
	sigaddset(&ss, SIGHUP);
	sigprocmask(SIG_BLOCK, &ss, NULL);
	signal(SIGPIPE, SIG_IGN);

	ret = sd_event_default(&d->ev);
	if (ret < 0) {
		fptd_log(LOG_ERR, "sd-event: %s", strerror(-ret));
		return 1;
	}
	sd_event_add_signal(d->ev, NULL, SIGTERM, on_signal, d);
	sd_event_add_signal(d->ev, NULL, SIGINT, on_signal, d);
	sd_event_add_signal(d->ev, NULL, SIGHUP, on_signal, d);
	ret = sd_event_set_watchdog(d->ev, true);
	if (ret > 0)
		fptd_log(LOG_DEBUG, "systemd watchdog enabled");

	ret = fptd_cgwatch_start(d);
	if (!ret)
		ret = fptd_rebuild(d);
	if (!ret) {
		ret = fptd_control_start(d);
		if (ret)
			fptd_log(LOG_ERR, "cannot open the control socket %s: %s",
				 d->set.control_socket, strerror(-ret));
	}
	if (!ret)
		ret = fptd_kernel_start(d);
	if (!ret)
		ret = fptd_report_start(d);
	if (ret) {
		fptd_log(LOG_ERR, "cannot start: %s", strerror(-ret));
		sd_notifyf(0, "STATUS=Failed to start: %s", strerror(-ret));
	} else {
		/*
		 * Configuration read, control socket listening, the module
		 * connected and every policy tried, or the module missing (a
		 * state, in STATUS=): ready.  Units ordered After=fptd start
		 * now instead of waiting for a module that may never come.
		 */
		sd_notify(0, "READY=1");
		fptd_status(d);
		ret = sd_event_loop(d->ev);
		if (ret < 0)
			fptd_log(LOG_ERR, "event loop: %s", strerror(-ret));
	}
	if (d->set.clear_on_exit)
		fptd_clear_policies(d);
	fptd_report_stop(d);
	fptd_control_stop(d);
	fptd_kernel_stop(d);
	fptd_cgwatch_stop(d);
	sd_event_unref(d->ev);
	free_all(d);
	fptd_log(LOG_INFO, "stopped%s", d->set.clear_on_exit ? "" :
		 " (the module and its policies stay in place)");
	close(d->lock_fd);
	return ret < 0 ? 1 : 0;
}
