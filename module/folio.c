// SPDX-License-Identifier: GPL-2.0
/*
 * The folio backend: on kernels with multi-size THP, steer the kernel's own
 * order-4 anonymous folios per cgroup.
 *
 * The kernel decides which anonymous folio orders a fault may use in
 * __thp_vma_allowable_orders(), after an inline pre-check against the
 * per-size sysfs switches.  So that order 4 can reach that function at all,
 * fpt sets hugepages-64kB/enabled to "always" while armed (while some
 * policy exists), and in a return probe puts every process back on the
 * administrator's own setting (recorded when arming, restored when
 * disarming) -- except those an fpt policy opts in, which keep the
 * kernel's verdict for order 4.  Other orders are left alone, but for
 * FPT_F_NO_PMD_THP, which takes 2 MB away.
 *
 * Counting (per cgroup): runs from folio_add_new_anon_rmap() of an order-4
 * folio; no free block, and a memcg without room for 64 KB, from the
 * allocation hook (hook.c); the window checks that precede allocation from
 * do_anonymous_page(); the kernel's own refusal from the return above.
 */
#include <linux/mm.h>
#include <linux/fs.h>
#include <linux/huge_mm.h>
#include <linux/kprobes.h>
#include <linux/userfaultfd_k.h>
#include <linux/workqueue.h>
#include "internal.h"

gfp_t fpt_folio_gfp(gfp_t gfp, bool defrag)
{
	/* defrag: direct compaction once, like THP "defer+madvise" */
	gfp |= __GFP_NOMEMALLOC;
	return defrag ? gfp | __GFP_DIRECT_RECLAIM | __GFP_NORETRY :
			gfp & ~__GFP_RECLAIM;
}

#ifdef FPT_HAVE_MTHP

#define FPT_SYSFS_THP	"/sys/kernel/mm/transparent_hugepage/"
#define FPT_SYSFS_64K	FPT_SYSFS_THP "hugepages-64kB/enabled"

enum fpt_thp_setting { THP_NEVER, THP_ALWAYS, THP_MADVISE, THP_INHERIT };
static const char * const fpt_thp_names[] = {
	[THP_NEVER] = "never", [THP_ALWAYS] = "always",
	[THP_MADVISE] = "madvise", [THP_INHERIT] = "inherit",
};

static int fpt_admin_64k = -1;	/* the administrator's 64 KB setting */
static int fpt_admin_thp;	/* the administrator's global setting */
static DEFINE_MUTEX(fpt_thp_mutex);

/*
 * The THP sysfs files are opened from a kworker, not from the caller:
 * filp_open() resolves paths in the current task's mount namespace, and
 * the caller may be a sandboxed daemon (fptd runs with a read-only /sys).
 * A kworker has the initial namespace and root.
 */
struct fpt_thp_io {
	struct work_struct work;
	const char *path;
	int setting;		/* write: the value; read: the result */
	bool write;
	int ret;
};

static void fpt_thp_io_work(struct work_struct *work)
{
	struct fpt_thp_io *io = container_of(work, struct fpt_thp_io, work);
	const char *s = io->write ? fpt_thp_names[io->setting] : NULL;
	char buf[64], *open, *close;
	struct file *f;
	loff_t pos = 0;
	ssize_t n;
	int i;

	f = filp_open(io->path, io->write ? O_WRONLY : O_RDONLY, 0);
	if (IS_ERR(f)) {
		io->ret = PTR_ERR(f);
		return;
	}
	if (io->write)
		n = kernel_write(f, s, strlen(s), &pos);
	else
		n = kernel_read(f, buf, sizeof(buf) - 1, &pos);
	filp_close(f, NULL);
	if (n < 0 || io->write) {
		io->ret = n < 0 ? n : 0;
		return;
	}
	buf[n] = '\0';
	open = strchr(buf, '[');
	close = open ? strchr(open, ']') : NULL;
	io->ret = -EINVAL;
	if (!close)
		return;
	*close = '\0';
	for (i = 0; i < ARRAY_SIZE(fpt_thp_names); i++)
		if (!strcmp(open + 1, fpt_thp_names[i]))
			io->ret = i;
}

static int fpt_thp_io(const char *path, bool write, int setting)
{
	struct fpt_thp_io io = { .path = path, .write = write,
				 .setting = setting };

	INIT_WORK_ONSTACK(&io.work, fpt_thp_io_work);
	queue_work(system_unbound_wq, &io.work);
	flush_work(&io.work);
	destroy_work_on_stack(&io.work);
	return io.ret;
}

/* The bracketed word of a THP sysfs file, as enum fpt_thp_setting. */
static int fpt_thp_read(const char *path)
{
	return fpt_thp_io(path, false, 0);
}

static int fpt_thp_write(const char *path, int setting)
{
	return fpt_thp_io(path, true, setting);
}

/*
 * Re-read the administrator's settings: the global one may change at any
 * time; if the 64 KB one is no longer "always", the administrator wrote
 * it: record that as their choice and take order 4 back.
 */
void fpt_folio_refresh(void)
{
	int thp, k64;

	mutex_lock(&fpt_thp_mutex);
	thp = fpt_thp_read(FPT_SYSFS_THP "enabled");
	if (thp >= 0)
		WRITE_ONCE(fpt_admin_thp, thp);
	k64 = fpt_thp_read(FPT_SYSFS_64K);
	if (fpt_admin_64k >= 0 && k64 >= 0 && k64 != THP_ALWAYS) {
		WRITE_ONCE(fpt_admin_64k, k64);
		fpt_thp_write(FPT_SYSFS_64K, THP_ALWAYS);
	}
	mutex_unlock(&fpt_thp_mutex);
}

/* What the administrator's settings say about order 4 for these flags. */
static bool fpt_admin_allows_64k(unsigned long vm_flags)
{
	int global = READ_ONCE(fpt_admin_thp);

	switch (READ_ONCE(fpt_admin_64k)) {
	case THP_ALWAYS:
		return true;
	case THP_MADVISE:
		return vm_flags & VM_HUGEPAGE;
	case THP_INHERIT:
		return global == THP_ALWAYS ||
		       (global == THP_MADVISE && (vm_flags & VM_HUGEPAGE));
	default:
		return false;
	}
}

/* The policy that opts this VMA in to the folio backend, if any (RCU). */
static struct fpt_policy *fpt_folio_policy(struct vm_area_struct *vma,
					   unsigned long vm_flags)
{
	struct fpt_policy *p = fpt_policy_of_mm(vma->vm_mm);

	if (p && READ_ONCE(p->backend_active) == FPT_BACKEND_FOLIO &&
	    fpt_policy_wants_vma(p, vma, vm_flags))
		return p;
	return NULL;
}

/*
 * __thp_vma_allowable_orders(vma, vm_flags, tva_flags, orders) may only
 * return a subset of @orders, so the steering is done on the way in: order
 * 4 leaves the mask of everyone fpt does not opt in whom the
 * administrator's setting would refuse it, 2 MB leaves the mask of
 * cgroups whose policy forbids it.  Only for opted-in page faults is the
 * return probed, to count the kernel's own refusal of order 4.
 */
struct fpt_tva_args {
	u64 cgid;		/* the opted-in policy, for the return */
	unsigned long orders;	/* the mask as it went in */
};

static int fpt_tva_entry(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	struct fpt_tva_args *a = (void *)ri->data;
	struct vm_area_struct *vma = (void *)regs_get_kernel_argument(regs, 0);
	unsigned long vm_flags = regs_get_kernel_argument(regs, 1);
	unsigned long tva_flags = regs_get_kernel_argument(regs, 2);
	unsigned long in = regs_get_kernel_argument(regs, 3), orders = in;
	struct fpt_policy *gov;

	/* only the sysfs-governed anonymous decisions are ours to adjust */
	if (!(tva_flags & TVA_ENFORCE_SYSFS) || !vma_is_anonymous(vma))
		return 1;

	a->cgid = 0;
	rcu_read_lock();
	gov = fpt_policy_of_mm(vma->vm_mm);
	if (gov && READ_ONCE(gov->backend_active) == FPT_BACKEND_FOLIO &&
	    fpt_policy_wants_vma(gov, vma, vm_flags)) {
		/* the kernel's own verdict on order 4 stands */
		if ((tva_flags & TVA_IN_PF) && (in & BIT(FPT_ORDER)))
			a->cgid = gov->cgid;
	} else if (!fpt_admin_allows_64k(vm_flags)) {
		orders &= ~BIT(FPT_ORDER);
	}
	if (gov && READ_ONCE(gov->mode) != FPT_MODE_OFF &&
	    (READ_ONCE(gov->flags) & FPT_F_NO_PMD_THP))
		orders &= ~BIT(PMD_ORDER);
	rcu_read_unlock();

	if (orders != in)
		fpt_regs_set_arg3(regs, orders);
	a->orders = orders;
	return a->cgid ? 0 : 1;		/* 1: no return probe */
}

static int fpt_tva_return(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	struct fpt_tva_args *a = (void *)ri->data;

	if (!(regs_return_value(regs) & BIT(FPT_ORDER)))
		fpt_count(a->cgid, FPT_C_FB_KERNEL, 1);
	return 0;
}

static struct kretprobe fpt_tva_probe = {
	.kp.symbol_name	= "__thp_vma_allowable_orders",
	.entry_handler	= fpt_tva_entry,
	.handler	= fpt_tva_return,
	.data_size	= sizeof(struct fpt_tva_args),
};

/* folio_add_new_anon_rmap(folio, vma, address, flags): a run is mapped */
static int fpt_rmap_pre(struct kprobe *kp, struct pt_regs *regs)
{
	struct folio *folio = (void *)regs_get_kernel_argument(regs, 0);
	struct vm_area_struct *vma = (void *)regs_get_kernel_argument(regs, 1);
	struct fpt_policy *p;

	if (folio_order(folio) != FPT_ORDER)
		return 0;
	rcu_read_lock();
	p = fpt_folio_policy(vma, vma->vm_flags);
	if (p) {
		fpt_policy_count(p, FPT_C_RUNS, 1);
		fpt_policy_count(p, FPT_C_FAULTS_64K, 1);
	}
	rcu_read_unlock();
	return 0;
}

static struct kprobe fpt_rmap_probe = {
	.symbol_name	= "folio_add_new_anon_rmap",
	.pre_handler	= fpt_rmap_pre,
};

/* do_anonymous_page(vmf): the window checks the kernel makes silently */
static int fpt_anon_pre(struct kprobe *kp, struct pt_regs *regs)
{
	struct vm_fault *vmf = (void *)regs_get_kernel_argument(regs, 0);
	struct vm_area_struct *vma = vmf->vma;
	unsigned long base = vmf->address & FPT_RUN_MASK;
	enum fpt_counter why = FPT_NR_COUNTERS;
	struct fpt_policy *p;

	if (!(vmf->flags & FAULT_FLAG_WRITE))
		return 0;	/* the zero page */
	rcu_read_lock();
	p = fpt_folio_policy(vma, vma->vm_flags);
	if (!p)
		goto out;
	if (userfaultfd_armed(vma))
		why = FPT_C_FB_UFFD;
	else if (base < vma->vm_start || base + FPT_RUN_SIZE > vma->vm_end)
		why = FPT_C_FB_VMA_RANGE;
	else if (fpt_window_populated(vma->vm_mm, base))
		why = FPT_C_FB_POPULATED;
	if (why != FPT_NR_COUNTERS)
		fpt_policy_count(p, why, 1);
out:
	rcu_read_unlock();
	return 0;
}

static struct kprobe fpt_anon_probe = {
	.symbol_name	= "do_anonymous_page",
	.pre_handler	= fpt_anon_pre,
};

static struct kretprobe *fpt_kretprobes[] = { &fpt_tva_probe };
static struct kprobe *fpt_kprobes[] = { &fpt_rmap_probe, &fpt_anon_probe };

static void fpt_probes_reset(void)
{
	int i;

	/* a probe registered before keeps its resolved address: clear it */
	for (i = 0; i < ARRAY_SIZE(fpt_kretprobes); i++) {
		fpt_kretprobes[i]->kp.addr = NULL;
		fpt_kretprobes[i]->kp.flags = 0;
		fpt_kretprobes[i]->maxactive = 64 + 4 * num_possible_cpus();
	}
	for (i = 0; i < ARRAY_SIZE(fpt_kprobes); i++) {
		fpt_kprobes[i]->addr = NULL;
		fpt_kprobes[i]->flags = 0;
	}
}

/*
 * Arm the folio backend: probes first, then take order 4 for fpt by
 * setting hugepages-64kB to "always" (the probe emulates the recorded
 * administrator's setting for everyone fpt does not opt in).
 */
int fpt_folio_arm(void)
{
	int ret, k64, thp;

	k64 = fpt_thp_read(FPT_SYSFS_64K);
	thp = fpt_thp_read(FPT_SYSFS_THP "enabled");
	if (k64 < 0 || thp < 0) {
		pr_err("fpt: cannot read the THP settings under %s (%d)\n",
		       FPT_SYSFS_THP, k64 < 0 ? k64 : thp);
		return -EOPNOTSUPP;
	}
	fpt_probes_reset();
	ret = register_kretprobes(fpt_kretprobes, ARRAY_SIZE(fpt_kretprobes));
	if (ret) {
		pr_err("fpt: hook point __thp_vma_allowable_orders not probeable (%d)\n",
		       ret);
		return -EOPNOTSUPP;
	}
	ret = register_kprobes(fpt_kprobes, ARRAY_SIZE(fpt_kprobes));
	if (ret) {
		pr_err("fpt: hook points folio_add_new_anon_rmap/do_anonymous_page not probeable (%d)\n",
		       ret);
		unregister_kretprobes(fpt_kretprobes, ARRAY_SIZE(fpt_kretprobes));
		return -EOPNOTSUPP;
	}

	mutex_lock(&fpt_thp_mutex);
	WRITE_ONCE(fpt_admin_thp, thp);
	WRITE_ONCE(fpt_admin_64k, k64);
	ret = fpt_thp_write(FPT_SYSFS_64K, THP_ALWAYS);
	mutex_unlock(&fpt_thp_mutex);
	if (ret) {
		pr_err("fpt: cannot set %s (%d)\n", FPT_SYSFS_64K, ret);
		unregister_kprobes(fpt_kprobes, ARRAY_SIZE(fpt_kprobes));
		unregister_kretprobes(fpt_kretprobes, ARRAY_SIZE(fpt_kretprobes));
		return -EOPNOTSUPP;
	}
	return 0;
}

void fpt_folio_disarm(void)
{
	int ret;

	/* give the administrator's setting back before the probe goes */
	mutex_lock(&fpt_thp_mutex);
	ret = fpt_thp_write(FPT_SYSFS_64K, fpt_admin_64k);
	if (ret)
		pr_err("fpt: could not restore %s to %s (%d)\n", FPT_SYSFS_64K,
		       fpt_thp_names[fpt_admin_64k], ret);
	WRITE_ONCE(fpt_admin_64k, -1);
	mutex_unlock(&fpt_thp_mutex);
	unregister_kprobes(fpt_kprobes, ARRAY_SIZE(fpt_kprobes));
	unregister_kretprobes(fpt_kretprobes, ARRAY_SIZE(fpt_kretprobes));
}

#else /* !FPT_HAVE_MTHP */

/*
 * No multi-size THP: no folio backend.  What is left to steer is 2 MB THP,
 * for FPT_F_NO_PMD_THP: hugepage_vma_check(vma, vm_flags, smaps, in_pf,
 * enforce_sysfs) answers "no" for the cgroups whose policy forbids it.
 */
struct fpt_pmd_args {
	struct vm_area_struct *vma;
	bool enforce_sysfs;
};

static int fpt_pmd_entry(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	struct fpt_pmd_args *a = (void *)ri->data;

	a->vma = (void *)regs_get_kernel_argument(regs, 0);
	a->enforce_sysfs = regs_get_kernel_argument(regs, 4) & 1;
	return a->enforce_sysfs ? 0 : 1;
}

static int fpt_pmd_return(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	struct fpt_pmd_args *a = (void *)ri->data;
	struct fpt_policy *p;

	if (!regs_return_value(regs))
		return 0;
	rcu_read_lock();
	p = fpt_policy_of_mm(a->vma->vm_mm);
	if (p && READ_ONCE(p->mode) != FPT_MODE_OFF &&
	    (READ_ONCE(p->flags) & FPT_F_NO_PMD_THP))
		regs_set_return_value(regs, 0);
	rcu_read_unlock();
	return 0;
}

static struct kretprobe fpt_pmd_probe = {
	.kp.symbol_name	= "hugepage_vma_check",
	.entry_handler	= fpt_pmd_entry,
	.handler	= fpt_pmd_return,
	.data_size	= sizeof(struct fpt_pmd_args),
};

int fpt_folio_arm(void)
{
	int ret;

	fpt_pmd_probe.kp.addr = NULL;
	fpt_pmd_probe.kp.flags = 0;
	fpt_pmd_probe.maxactive = 64 + 4 * num_possible_cpus();
	ret = register_kretprobe(&fpt_pmd_probe);
	if (ret) {
		pr_err("fpt: hook point hugepage_vma_check not probeable (%d)\n",
		       ret);
		return -EOPNOTSUPP;
	}
	return 0;
}

void fpt_folio_disarm(void)
{
	unregister_kretprobe(&fpt_pmd_probe);
}

void fpt_folio_refresh(void)
{
}

#endif
