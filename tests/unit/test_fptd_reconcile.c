// SPDX-License-Identifier: MIT
#define _GNU_SOURCE
/*
 * fptd's policy bookkeeping against a simulated kernel: daemon/state.c,
 * kernel.c and cgwatch.c run for real (sd-event, inotify on a temp dir
 * standing in for the cgroup2 mount); lib/fptnl's calls are replaced
 * (ld --wrap) by a table of policies keyed by cgroup id, as fpt.ko keeps
 * them.  Checks: policies wait for their cgroup and are set when it
 * appears; a re-created cgroup (new id) gets its policy again and the
 * stale one is removed; after the module is unloaded and loaded again
 * every policy is back at once; refusals are not retried in a loop;
 * changes made outside fptd are left alone until the cgroup is
 * re-created; removing a policy from the configuration removes it from
 * the kernel; clear_policies_on_exit.  The module's comings and goings
 * arrive as nlctrl events (fptd_kernel_family_event(), what kernel.c's
 * nlctrl socket hands on): the NEWFAMILY of the registration fptd is
 * already connected to (its own modprobe) changes nothing; a module
 * missing at start is a state (no_module, the reason in the status
 * line), and its policies are set when its NEWFAMILY comes.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>
#include <linux/genetlink.h>

#include "../../daemon/fptd.h"

/* ---- the simulated kernel ---- */

struct kpol {
	uint64_t id;
	char path[256];
	uint8_t mode, defrag, backend;
	uint32_t flags;
};

static struct {
	char root[64];
	struct kpol t[64];
	int n;
	int sets, dels;
	bool present;
	const char *refuse;		/* path whose folio policy is refused */
	char extack[128];
	int pipe[2];			/* notifications (monitor fd) */
	uint16_t family_id;		/* of the registered family */
	struct fpt_policy_info note;	/* the one queued */
	uint8_t note_cmd;
} K;

struct fptnl { int unused; };
static struct fptnl fake_nl, fake_mon;

static uint64_t ino_of(const char *rel)
{
	char p[512];
	struct stat st;

	snprintf(p, sizeof(p), "%s/%s", K.root, rel);
	if (stat(p, &st))
		return 0;
	return st.st_ino;
}

static struct kpol *kfind(uint64_t id)
{
	int i;

	for (i = 0; i < K.n; i++)
		if (K.t[i].id == id)
			return &K.t[i];
	return NULL;
}

static void kdel(uint64_t id)
{
	struct kpol *p = kfind(id);

	if (p)
		*p = K.t[--K.n];
}

int __wrap_fptnl_open(struct fptnl **nl)
{
	if (!K.present)
		return -ENOENT;
	*nl = &fake_nl;
	return 0;
}

int __wrap_fptnl_monitor_open(struct fptnl **nl)
{
	if (!K.present)
		return -ENOENT;
	*nl = &fake_mon;
	return 0;
}

int __real_fptnl_monitor_fd(const struct fptnl *nl);

/* the fake monitor's; nlctrl's socket (kernel.c opens it) is real */
int __wrap_fptnl_monitor_fd(const struct fptnl *nl)
{
	return nl == &fake_mon ? K.pipe[0] : __real_fptnl_monitor_fd(nl);
}

int __wrap_fptnl_monitor_read(struct fptnl *nl, fptnl_notify_cb cb, void *arg)
{
	char c;

	assert_ptr_equal(nl, &fake_mon);
	while (read(K.pipe[0], &c, 1) == 1)
		cb(K.note_cmd, &K.note, arg);
	return 0;
}

void __real_fptnl_close(struct fptnl *nl);

void __wrap_fptnl_close(struct fptnl *nl)
{
	if (nl != &fake_nl && nl != &fake_mon)
		__real_fptnl_close(nl);		/* nlctrl's */
}

uint16_t __real_fptnl_family_id(const struct fptnl *nl);

uint16_t __wrap_fptnl_family_id(const struct fptnl *nl)
{
	return nl == &fake_nl ? K.family_id : __real_fptnl_family_id(nl);
}

const char *__wrap_fptnl_extack(const struct fptnl *nl)
{
	(void)nl;
	return K.extack;
}

/* As fpt.ko: the path must exist and name the same cgroup as the id. */
int __wrap_fptnl_policy_set(struct fptnl *nl, const struct fpt_cgroup_ref *cg,
			    uint8_t mode, uint8_t defrag, uint8_t backend,
			    uint32_t flags)
{
	const char *rel = cg->path;
	struct kpol *p;
	uint64_t id;

	(void)nl;
	K.extack[0] = 0;
	if (!rel) {
		/* by id alone: not expected here (one cgroup namespace) */
		fail_msg("policy_set without a path for id %llu",
			 (unsigned long long)cg->id);
		return -EINVAL;
	}
	while (*rel == '/')
		rel++;
	id = ino_of(rel);
	if (!id) {
		snprintf(K.extack, sizeof(K.extack), "no such cgroup");
		return -ENOENT;
	}
	if (cg->id && cg->id != id) {
		snprintf(K.extack, sizeof(K.extack), "different cgroups");
		return -EINVAL;
	}
	if (K.refuse && !strcmp(rel, K.refuse) && backend == FPT_BACKEND_FOLIO) {
		snprintf(K.extack, sizeof(K.extack),
			 "backend not available on this kernel");
		return -EOPNOTSUPP;
	}
	K.sets++;
	p = kfind(id);
	if (!p) {
		assert_true(K.n < 64);
		p = &K.t[K.n++];
	}
	p->id = id;
	snprintf(p->path, sizeof(p->path), "/%s", rel);
	p->mode = mode;
	p->defrag = defrag;
	p->backend = backend;
	p->flags = flags;
	return 0;
}

int __wrap_fptnl_policy_del(struct fptnl *nl, const struct fpt_cgroup_ref *cg)
{
	(void)nl;
	K.dels++;
	if (!kfind(cg->id))
		return -ENOENT;
	kdel(cg->id);
	return 0;
}

int __wrap_fptnl_policy_dump(struct fptnl *nl, fptnl_policy_cb cb, void *arg)
{
	struct fpt_policy_info info;
	int i;

	(void)nl;
	for (i = 0; i < K.n; i++) {
		memset(&info, 0, sizeof(info));
		info.cgroup_id = K.t[i].id;
		snprintf(info.path, sizeof(info.path), "%s", K.t[i].path);
		info.mode = K.t[i].mode;
		info.has_stats = true;
		if (cb(&info, arg))
			break;
	}
	return 0;
}

int __wrap_fptnl_global_get(struct fptnl *nl, struct fpt_global_info *out)
{
	(void)nl;
	memset(out, 0, sizeof(*out));
	out->enabled = true;
	out->nr_policies = (uint32_t)K.n;
	return 0;
}

/* ---- helpers ---- */

static struct fptd D;

static void sh(const char *fmt, ...)
{
	char cmd[512], path[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(path, sizeof(path), fmt, ap);
	va_end(ap);
	snprintf(cmd, sizeof(cmd), "cd %s && %s", K.root, path);
	assert_int_equal(system(cmd), 0);
}

/* Run the event loop until nothing happens for 50 ms. */
static void settle(void)
{
	int i;

	for (i = 0; i < 100; i++)
		if (sd_event_run(D.ev, 50000) <= 0)
			break;
}

static struct fptd_entry *ent(const char *path)
{
	size_t i;

	for (i = 0; i < D.nent; i++)
		if (!strcmp(D.ent[i].pol.path, path))
			return &D.ent[i];
	fail_msg("no entry %s", path);
	return NULL;
}

/* nlctrl says: the family "fpt" was registered (NEW) or unregistered */
static void family_event(uint8_t cmd, uint16_t id)
{
	struct fptnl_family_event ev = { .cmd = cmd, .id = id, .name = "fpt" };

	fptd_kernel_family_event(&D, &ev);
}

static void use_policies(const char *text)
{
	struct fptd_errors err;
	struct fptd_policy_set set = { 0 };

	memset(&err, 0, sizeof(err));
	if (fptd_policies_parse(text, strlen(text), "t.conf", K.root, &set,
				&err))
		fail_msg("%s", err.text);
	fptd_policy_set_free(&D.files);
	D.files = set;
	assert_int_equal(fptd_rebuild(&D), 0);
}

static int setup(void **state)
{
	(void)state;
	memset(&K, 0, sizeof(K));
	memset(&D, 0, sizeof(D));
	strcpy(K.root, "/tmp/fptd-rec-XXXXXX");
	assert_non_null(mkdtemp(K.root));
	assert_int_equal(pipe2(K.pipe, O_NONBLOCK | O_CLOEXEC), 0);
	fptd_log_init(false);
	fptd_settings_default(&D.set);
	D.set.load_module = false;
	snprintf(D.cgroup_root, sizeof(D.cgroup_root), "%s", K.root);
	D.ino_fd = D.ctl_fd = D.compact_efd = D.lock_fd = -1;
	D.config_ok = true;
	D.hooks = &fptd_state_hooks;
	K.family_id = 0x20;
	assert_int_equal(sd_event_new(&D.ev), 0);
	return 0;
}

static int teardown(void **state)
{
	size_t i;

	(void)state;
	fptd_cgwatch_stop(&D);
	fptd_kernel_stop(&D);
	sd_event_unref(D.ev);
	for (i = 0; i < D.nent; i++) {
		free(D.ent[i].pol.path);
		free(D.ent[i].pol.file);
	}
	free(D.ent);
	free(D.prev);
	fptd_policy_set_free(&D.files);
	fptd_policy_set_free(&D.runtime);
	close(K.pipe[0]);
	close(K.pipe[1]);
	sh("cd / && rm -rf %s", K.root);
	return 0;
}

/* ---- the story ---- */

static void test_lifecycle(void **state)
{
	uint64_t id_ab, id_c;
	int sets;

	(void)state;
	sh("mkdir -p c r");
	/* in the kernel before fptd starts: a stale policy of "c" (a removed
	 * cgroup's id) and a policy someone else set */
	K.t[0] = (struct kpol){ .id = 987654321, .path = "/c" };
	K.t[1] = (struct kpol){ .id = ino_of("r") + 1000000, .path = "/other" };
	K.n = 2;
	K.refuse = "r";

	use_policies("[a/b]\nmode = on\nthp2m = deny\n"
		     "[c]\nmode = madvise\n"
		     "[r]\nmode = on\nbackend = folio\n");
	assert_int_equal(D.nent, 3);
	assert_int_equal(ent("a/b")->state, FPTD_POL_NO_MODULE);
	assert_int_equal(K.sets, 0);
	assert_int_equal(fptd_cgwatch_start(&D), 0);

	/* the module is there: connect, set what exists */
	K.present = true;
	fptd_kernel_probe(&D);
	assert_true(D.module_up);
	assert_int_equal(D.family_id, 0x20);
	id_c = ino_of("c");
	assert_int_equal(ent("c")->state, FPTD_POL_APPLIED);
	assert_int_equal(ent("c")->applied_id, id_c);
	assert_non_null(kfind(id_c));
	assert_int_equal(kfind(id_c)->mode, FPT_MODE_MADVISE);
	assert_int_equal(ent("a/b")->state, FPTD_POL_WAITING);
	assert_int_equal(ent("r")->state, FPTD_POL_REFUSED);
	assert_string_equal(ent("r")->why, "backend not available on this kernel");
	/* the stale policy of "c" went, the foreign one stays */
	assert_null(kfind(987654321));
	assert_int_equal(K.n, 2);

	/* nothing new: nothing sent (and the refusal is not retried) */
	sets = K.sets;
	fptd_reconcile(&D);
	settle();
	assert_int_equal(K.sets, sets);

	/* a/b appears: set at once */
	sh("mkdir -p a/b");
	settle();
	id_ab = ino_of("a/b");
	assert_int_equal(ent("a/b")->state, FPTD_POL_APPLIED);
	assert_int_equal(ent("a/b")->applied_id, id_ab);
	assert_non_null(kfind(id_ab));
	assert_int_equal(kfind(id_ab)->flags, FPT_F_NO_PMD_THP);

	/* a service restart: removed (stale policy dropped), created again */
	sh("rmdir a/b");
	settle();
	assert_int_equal(ent("a/b")->state, FPTD_POL_WAITING);
	assert_int_equal(ent("a/b")->applied_id, 0);
	assert_null(kfind(id_ab));
	sh("mkdir a/b");
	settle();
	assert_int_equal(ent("a/b")->state, FPTD_POL_APPLIED);
	id_ab = ino_of("a/b");
	assert_non_null(kfind(id_ab));

	/* the whole parent goes and comes back */
	sh("rm -r a && mkdir -p a/b");
	settle();
	id_ab = ino_of("a/b");
	assert_int_equal(ent("a/b")->state, FPTD_POL_APPLIED);
	assert_int_equal(ent("a/b")->applied_id, id_ab);
	assert_non_null(kfind(id_ab));
	assert_int_equal(K.n, 3);	/* a/b, c, other */

	/* rmmod: the kernel forgets everything */
	K.n = 0;
	K.present = false;
	family_event(CTRL_CMD_DELFAMILY, 0x20);
	assert_false(D.module_up);
	assert_int_equal(ent("c")->state, FPTD_POL_NO_MODULE);
	/* insmod: every policy back, right away (no timer involved); the
	 * family has a new id */
	K.present = true;
	K.family_id = 0x21;
	sets = K.sets;
	family_event(CTRL_CMD_NEWFAMILY, 0x21);
	assert_true(D.module_up);
	assert_int_equal(D.family_id, 0x21);
	assert_int_equal(K.sets, sets + 2);	/* a/b and c; r is refused */
	assert_non_null(kfind(id_ab));
	assert_non_null(kfind(id_c));
	assert_int_equal(K.n, 2);
	assert_int_equal(ent("r")->state, FPTD_POL_REFUSED);

	/* someone changes c's policy by hand: left alone */
	memset(&K.note, 0, sizeof(K.note));
	K.note.cgroup_id = id_c;
	K.note.mode = FPT_MODE_OFF;
	K.note_cmd = FPT_CMD_POLICY_NEW;
	kfind(id_c)->mode = FPT_MODE_OFF;
	assert_int_equal(write(K.pipe[1], "x", 1), 1);
	settle();
	assert_int_equal(ent("c")->state, FPTD_POL_OVERRIDDEN);
	fptd_reconcile(&D);
	assert_int_equal(kfind(id_c)->mode, FPT_MODE_OFF);
	/* ... until its cgroup is created again */
	sh("rmdir c && mkdir c");
	settle();
	id_c = ino_of("c");
	assert_int_equal(ent("c")->state, FPTD_POL_APPLIED);
	assert_int_equal(kfind(id_c)->mode, FPT_MODE_MADVISE);
	/* our own notification is recognised as ours */
	K.note.cgroup_id = id_c;
	K.note.mode = FPT_MODE_MADVISE;
	assert_int_equal(write(K.pipe[1], "x", 1), 1);
	settle();
	assert_int_equal(ent("c")->state, FPTD_POL_APPLIED);

	/* c leaves the configuration: its policy leaves the kernel */
	use_policies("[a/b]\nmode = on\nthp2m = deny\n[r]\nmode = on\nbackend = folio\n");
	assert_null(kfind(id_c));
	assert_non_null(kfind(id_ab));
	/* a changed policy is set again */
	use_policies("[a/b]\nmode = madvise\n[r]\nmode = on\n");
	assert_int_equal(kfind(id_ab)->mode, FPT_MODE_MADVISE);
	assert_int_equal(kfind(id_ab)->flags, 0);
	assert_int_equal(ent("r")->state, FPTD_POL_APPLIED);	/* fixed */

	/* stop with clear_policies_on_exit: fptd's policies go, others stay */
	K.t[K.n++] = (struct kpol){ .id = 4242, .path = "/other" };
	fptd_clear_policies(&D);
	fptd_kernel_stop(&D);
	assert_null(kfind(id_ab));
	assert_null(kfind(ino_of("r")));
	assert_non_null(kfind(4242));
	assert_int_equal(K.n, 1);
}

/* Without clear_policies_on_exit, stopping leaves the kernel as it is. */
static void test_stop_keeps_policies(void **state)
{
	(void)state;
	sh("mkdir -p x");
	K.present = true;
	use_policies("[x]\nmode = on\n");
	assert_int_equal(fptd_cgwatch_start(&D), 0);
	fptd_kernel_probe(&D);
	assert_int_equal(K.n, 1);
	fptd_kernel_stop(&D);
	assert_int_equal(K.n, 1);
	assert_false(D.module_up);
}

/*
 * fptd's own modprobe: it connects, then nlctrl's NEWFAMILY of that very
 * registration arrives.  Nothing is reconnected, nothing set again, the
 * counters' generation stays (no history cleared); a DELFAMILY of an
 * older registration is ignored too.  Reverted e2e check 59acd25.
 */
static void test_own_newfamily(void **state)
{
	unsigned int gen;
	int sets, dels;

	(void)state;
	sh("mkdir -p x");
	K.present = true;
	use_policies("[x]\nmode = on\n");
	assert_int_equal(fptd_cgwatch_start(&D), 0);
	assert_int_equal(fptd_kernel_start(&D), 0);	/* connects at once */
	assert_true(D.module_up);
	assert_int_equal(ent("x")->state, FPTD_POL_APPLIED);
	gen = D.module_gen;
	sets = K.sets;
	dels = K.dels;
	family_event(CTRL_CMD_NEWFAMILY, 0x20);		/* the same id */
	settle();
	assert_true(D.module_up);
	assert_int_equal(D.module_gen, gen);
	assert_int_equal(K.sets, sets);
	assert_int_equal(K.dels, dels);
	assert_int_equal(ent("x")->state, FPTD_POL_APPLIED);
	/* an unload of a family id fptd is not connected to: not ours */
	family_event(CTRL_CMD_DELFAMILY, 0x1f);
	assert_true(D.module_up);
	/* another family's events are not fpt's */
	{
		struct fptnl_family_event ev = { .cmd = CTRL_CMD_DELFAMILY,
						 .id = 0x20, .name = "fptx" };

		fptd_kernel_family_event(&D, &ev);
	}
	assert_true(D.module_up);
	/* a NEWFAMILY with another id while connected: a reload whose
	 * DELFAMILY was missed: reconnect and set every policy again */
	K.family_id = 0x22;
	family_event(CTRL_CMD_NEWFAMILY, 0x22);
	assert_true(D.module_up);
	assert_int_equal(D.family_id, 0x22);
	assert_int_equal(D.module_gen, gen + 1);
	assert_int_equal(K.sets, sets + 1);
}

/*
 * No module at start (no fpt-dkms build for this kernel): fptd starts
 * anyway, its policies are no_module, the status line says why; when the
 * module is loaded later (NEWFAMILY), every policy is set at once.
 */
static void test_module_missing(void **state)
{
	char text[1024];

	(void)state;
	sh("mkdir -p x");
	K.present = false;
	use_policies("[x]\nmode = on\n[y]\nmode = madvise\n");
	assert_int_equal(fptd_cgwatch_start(&D), 0);
	assert_int_equal(fptd_kernel_start(&D), 0);
	assert_false(D.module_up);
	assert_int_equal(ent("x")->state, FPTD_POL_NO_MODULE);
	assert_int_equal(ent("y")->state, FPTD_POL_NO_MODULE);
	assert_true(D.module_why[0] != 0);
	fptd_status_text(&D, text, sizeof(text));
	assert_non_null(strstr(text, "No fpt module: "));
	assert_non_null(strstr(text, D.module_why));
	assert_non_null(strstr(text, "2 policies to set when it is loaded"));
	/* the retry timer is armed (a lost event costs a few seconds) */
	assert_non_null(D.retry_src);
	assert_int_equal(K.sets, 0);
	/* modprobe fpt, later */
	K.present = true;
	family_event(CTRL_CMD_NEWFAMILY, 0x20);
	assert_true(D.module_up);
	assert_int_equal(ent("x")->state, FPTD_POL_APPLIED);
	assert_int_equal(ent("y")->state, FPTD_POL_WAITING);
	assert_int_equal(K.n, 1);
	fptd_status_text(&D, text, sizeof(text));
	assert_non_null(strstr(text, "1 of 2 policies set, 1 waiting for their cgroup"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_lifecycle, setup, teardown),
		cmocka_unit_test_setup_teardown(test_own_newfamily, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_module_missing, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_stop_keeps_policies, setup,
						teardown),
	};

	return cmocka_run_group_tests_name("fptd_reconcile", tests, NULL, NULL);
}
