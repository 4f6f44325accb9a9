// SPDX-License-Identifier: GPL-2.0
/*
 * /sys/kernel/fpt/: enabled (rw), backend (ro), version (ro), features (ro),
 *                   stats/<counter> (ro, global counters)
 * /proc/fpt:        one row per policy cgroup with its counters
 */
#include <linux/cgroup.h>
#include <linux/kobject.h>
#include <linux/proc_fs.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/sysfs.h>
#include "internal.h"

static const char * const fpt_mode_names[] = {
	[FPT_MODE_OFF] = "off", [FPT_MODE_ON] = "on",
	[FPT_MODE_MADVISE] = "madvise",
};
static const char * const fpt_backend_names[] = {
	[FPT_BACKEND_AUTO] = "auto", [FPT_BACKEND_FOLIO] = "folio",
	[FPT_BACKEND_RESERVE] = "reserve",
};

int fpt_cgroup_path(u64 cgid, char *buf, size_t len)
{
	struct cgroup *cgrp = cgroup_get_from_id(cgid);
	int ret;

	if (IS_ERR(cgrp))
		return PTR_ERR(cgrp);
	ret = cgroup_path_ns(cgrp, buf, len, current->nsproxy->cgroup_ns);
	cgroup_put(cgrp);
	return ret;
}

static struct kobject *fpt_kobj;

static ssize_t enabled_show(struct kobject *kobj, struct kobj_attribute *attr,
			    char *buf)
{
	return sysfs_emit(buf, "%d\n", READ_ONCE(fpt_enabled));
}

static ssize_t enabled_store(struct kobject *kobj, struct kobj_attribute *attr,
			     const char *buf, size_t count)
{
	bool on;
	int ret = kstrtobool(buf, &on);

	if (ret)
		return ret;
	/* arm what the policies need first: if that fails, nothing changes */
	ret = fpt_hook_prepare(on ? fpt_policy_want_all() : 0);
	if (!ret)
		fpt_policy_enable(on);
	fpt_hook_done();
	return ret ? ret : count;
}

/* "folio reserve" with the default (what "auto" means) in brackets */
static ssize_t backend_show(struct kobject *kobj, struct kobj_attribute *attr,
			    char *buf)
{
	u8 def = fpt_backend_resolve(FPT_BACKEND_AUTO);
	int b, len = 0;

	for (b = FPT_BACKEND_FOLIO; b < __FPT_BACKEND_MAX; b++) {
		if (!(fpt_backends & BIT(b)))
			continue;
		len += sysfs_emit_at(buf, len, b == def ? "%s[%s]" : "%s%s",
				     len ? " " : "", fpt_backend_names[b]);
	}
	return len + sysfs_emit_at(buf, len, "\n");
}

static ssize_t version_show(struct kobject *kobj, struct kobj_attribute *attr,
			    char *buf)
{
	return sysfs_emit(buf, "%s genl=%d\n", THIS_MODULE->version ?: "?",
			  FPT_GENL_VERSION);
}

/* what this kernel lets fpt do beyond private memory: "shmem" or nothing */
static ssize_t features_show(struct kobject *kobj, struct kobj_attribute *attr,
			     char *buf)
{
	return sysfs_emit(buf, "%s\n",
			  (fpt_features & FPT_FEAT_SHMEM) ? "shmem" : "");
}

static struct kobj_attribute fpt_enabled_attr = __ATTR_RW(enabled);
static struct kobj_attribute fpt_features_attr = __ATTR_RO(features);
static struct kobj_attribute fpt_backend_attr = __ATTR_RO(backend);
static struct kobj_attribute fpt_version_attr = __ATTR_RO(version);

static struct attribute *fpt_attrs[] = {
	&fpt_enabled_attr.attr,
	&fpt_backend_attr.attr,
	&fpt_version_attr.attr,
	&fpt_features_attr.attr,
	NULL,
};

static const struct attribute_group fpt_attr_group = {
	.attrs = fpt_attrs,
};

struct fpt_stat_attribute {
	struct kobj_attribute attr;
	enum fpt_counter idx;
	const char *help;	/* the legend of /proc/fpt */
};

static ssize_t fpt_stat_show(struct kobject *kobj, struct kobj_attribute *attr,
			     char *buf)
{
	struct fpt_stat_attribute *sa =
		container_of(attr, struct fpt_stat_attribute, attr);
	u64 v[FPT_NR_COUNTERS];

	fpt_stats_sum(NULL, v);
	return sysfs_emit(buf, "%llu\n", v[sa->idx]);
}

#define FPT_STAT_ATTR(e, n, h) \
	{ .attr = __ATTR(n, 0444, fpt_stat_show, NULL), .idx = FPT_C_##e, \
	  .help = h },
static struct fpt_stat_attribute fpt_stat_attrs[] = {
	FPT_COUNTERS(FPT_STAT_ATTR)
};
#undef FPT_STAT_ATTR

static struct attribute *fpt_stat_attr_ptrs[FPT_NR_COUNTERS + 1];

static const struct attribute_group fpt_stat_group = {
	.name = "stats",
	.attrs = fpt_stat_attr_ptrs,
};

static int fpt_proc_show(struct seq_file *m, void *v)
{
	u64 c[FPT_NR_COUNTERS];
	struct fpt_policy *p;
	unsigned long n;
	char *path;
	int i;

	path = kmalloc(PATH_MAX, GFP_KERNEL);
	if (!path)
		return -ENOMEM;
	seq_printf(m, "# fpt enabled=%d policies=%u\n", READ_ONCE(fpt_enabled),
		   fpt_nr_policies());
	for (i = 0; i < FPT_NR_COUNTERS; i++)
		seq_printf(m, "# %s: %s\n", fpt_stat_attrs[i].attr.attr.name,
			   fpt_stat_attrs[i].help);
	seq_puts(m, "cgroup_id path mode defrag backend flags");
	for (i = 0; i < FPT_NR_COUNTERS; i++)
		seq_printf(m, " %s", fpt_stat_attrs[i].attr.attr.name);
	seq_putc(m, '\n');

	fpt_policy_lock();
	for (n = 0; (p = fpt_policy_nth(n)); n++) {
		bool alive = fpt_cgroup_path(p->cgid, path, PATH_MAX) >= 0;

		seq_printf(m, "%llu %s%s %s %u %s 0x%x", p->cgid,
			   alive ? path : p->path, alive ? "" : "(deleted)",
			   fpt_mode_names[READ_ONCE(p->mode)],
			   READ_ONCE(p->defrag),
			   fpt_backend_names[READ_ONCE(p->backend_active)],
			   READ_ONCE(p->flags));
		fpt_stats_sum(p, c);
		for (i = 0; i < FPT_NR_COUNTERS; i++)
			seq_printf(m, " %llu", c[i]);
		seq_putc(m, '\n');
	}
	fpt_policy_unlock();
	kfree(path);
	return 0;
}

int fpt_sysfs_init(void)
{
	int i, ret;

	for (i = 0; i < FPT_NR_COUNTERS; i++)
		fpt_stat_attr_ptrs[i] = &fpt_stat_attrs[i].attr.attr;

	fpt_kobj = kobject_create_and_add("fpt", kernel_kobj);
	if (!fpt_kobj)
		return -ENOMEM;
	ret = sysfs_create_group(fpt_kobj, &fpt_attr_group);
	if (!ret)
		ret = sysfs_create_group(fpt_kobj, &fpt_stat_group);
	if (!ret && !proc_create_single("fpt", 0444, NULL, fpt_proc_show))
		ret = -ENOMEM;
	if (ret)
		kobject_put(fpt_kobj);
	return ret;
}

void fpt_sysfs_exit(void)
{
	remove_proc_entry("fpt", NULL);
	kobject_put(fpt_kobj);
}
