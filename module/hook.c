// SPDX-License-Identifier: GPL-2.0
/*
 * The hook layer: how fpt gets into the kernel's fault path, and how it
 * stays out of the way of every process it does not opt in.
 *
 * Where.  vma_alloc_folio() is where every anonymous fault gets its memory,
 * with the VMA and address in hand, in a context that may sleep.  fpt puts
 * one ftrace callback on it (FTRACE_OPS_FL_IPMODIFY, the mechanism livepatch
 * uses, reading the arguments from ftrace_regs).  The callback redirects a
 * call to fpt_vma_alloc_folio() -- same prototype, checked at compile time
 * -- only when the call is a first-touch anonymous allocation of a process
 * whose cgroup has an enabled policy; every other call runs the kernel's
 * function untouched.  The callback does no allocation, takes no lock and
 * no reference: it compares the order and gfp arguments, checks that the
 * caller is do_anonymous_page() (its address range is looked up once, at
 * load), and looks the faulting task's cgroup up in the policy table (one
 * hash probe per hierarchy depth that holds a policy, policy.c).
 *
 * No global knob.  The folio backend needs no sysfs setting: on kernels
 * with multi-size THP, do_anonymous_page() maps whatever folio its
 * allocation call returns, all folio_nr_pages() of it.  So when the
 * kernel, following the administrator's settings, asks for an order-0 page
 * (or a small mTHP) for an opted-in process, fpt answers with an aligned
 * order-4 folio for the 64 KB window, after the checks the kernel's own
 * mTHP path makes (window inside the VMA and unpopulated, no userfaultfd,
 * memcg room).  Nobody else's allocation is touched, and every THP knob
 * means, for everybody else, exactly what the administrator wrote.
 *
 * arm64.  There the order-0 zeroed page of do_anonymous_page() comes from
 * vma_alloc_zeroed_movable_folio(), out of line (compat.h), which is also
 * what wp_page_copy() calls for a write to the zero page -- where a 64 KB
 * folio must never be returned.  The allocation callback sees that function
 * as its caller and lets the call go; a second callback, on
 * vma_alloc_zeroed_movable_folio() itself and armed only with the folio
 * backend, redirects the calls that come from do_anonymous_page() of an
 * opted-in process to fpt_vma_alloc_zeroed_movable_folio() (same prototype,
 * same filter order: caller, then policy).
 *
 * 2 MB THP (FPT_F_NO_PMD_THP).  A second callback, on the function the
 * kernel asks whether a VMA may have PMD-sized THPs, is armed only while a
 * policy with that flag exists.
 *
 * Arming.  The callbacks are registered, before the policy change that
 * needs them takes effect, while an enabled policy needs them
 * (fpt_hook_want), and unregistered from a work item when none does:
 * unregistering waits for an RCU-tasks grace period, which under load takes
 * seconds, and no policy change waits for it.  Changing, adding or removing
 * one policy while others exist touches no hook at all.
 *
 * Removal.  After unregister_ftrace_function() (which waits for tasks on
 * the trampoline) no new call enters the wrapper; SRCU covers calls
 * sleeping inside it (allocation may reclaim), and a last RCU-tasks grace
 * period at unload covers a task preempted between srcu_read_unlock() and
 * the wrapper's return.
 *
 * Livepatch.  Two IPMODIFY users of one function exclude each other: while
 * fpt is armed a livepatch of vma_alloc_folio() fails to load, and fpt
 * cannot arm on a livepatched one.  fpt then refuses (the policy request
 * fails with -EBUSY and an extack message; at load, the module refuses
 * with one dmesg line) and never touches anything else first.
 */
#include <linux/ftrace.h>
#include <linux/kallsyms.h>
#include <linux/kprobes.h>
#include <linux/module.h>
#include <linux/srcu.h>
#include <linux/workqueue.h>
#include "internal.h"
#include "lookup.h"

DEFINE_SRCU(fpt_hook_srcu);
unsigned int fpt_features;	/* FPT_FEAT_*: what this kernel allows */

/* The callers whose allocations are anonymous first-touch faults. */
static const char * const fpt_anon_fault_syms[] = FPT_ANON_FAULT_SYMS;
static struct {
	unsigned long start, len;
} fpt_anon_fault[ARRAY_SIZE(fpt_anon_fault_syms)];
static unsigned int fpt_anon_fault_nr;	/* those found (not inlined) */

bool notrace fpt_hook_from_anon_fault(unsigned long ip)
{
	unsigned int i;

	for (i = 0; i < fpt_anon_fault_nr; i++)
		if (ip - fpt_anon_fault[i].start < fpt_anon_fault[i].len)
			return true;
	return false;
}

/*
 * The allocation wrapper.  Serves the backends; whatever they decline goes
 * to the kernel's function with the caller's arguments.  The return address
 * is the kernel caller's (the redirect replaced the function's body).
 */
static struct folio *fpt_alloc(gfp_t gfp, int order, struct vm_area_struct *vma,
			       unsigned long addr, bool hugepage,
			       unsigned long caller)
{
	struct fpt_policy *p;
	bool defrag;

	rcu_read_lock();
	p = fpt_policy_of_mm(vma->vm_mm);
	if (!p)
		goto none;
	if (!fpt_policy_wants_vma(p, vma, vma->vm_flags)) {
		/* MADV_NOHUGEPAGE, PR_SET_THP_DISABLE since: let it go */
		if (READ_ONCE(p->backend_active) == FPT_BACKEND_RESERVE &&
		    order == 0 && (gfp & __GFP_ZERO))
			fpt_reserve_drop(vma->vm_mm, addr);
		goto none;
	}
	defrag = READ_ONCE(p->defrag);
	switch (READ_ONCE(p->backend_active)) {
	case FPT_BACKEND_RESERVE:
		if (order || !(gfp & __GFP_ZERO))
			break;
		return fpt_reserve_fault(vma, addr, p, defrag); /* unlocks */
#ifdef FPT_HAVE_MTHP
	case FPT_BACKEND_FOLIO:
		if (!fpt_hook_from_anon_fault(caller) ||
		    !(order ? hugepage : !!(gfp & __GFP_ZERO)))
			break;
		{
			u64 cgid = p->cgid;

			rcu_read_unlock();
			return fpt_folio_fault(gfp, order, vma, addr, cgid,
					       defrag);
		}
#endif
	}
none:
	rcu_read_unlock();
	return NULL;
}

static noinline struct folio *
fpt_vma_alloc_folio(gfp_t gfp, int order, struct vm_area_struct *vma,
		    unsigned long addr, bool hugepage)
{
	unsigned long caller = (unsigned long)__builtin_return_address(0);
	struct folio *folio;
	int idx;

	idx = srcu_read_lock(&fpt_hook_srcu);
	folio = fpt_alloc(gfp, order, vma, addr, hugepage, caller);
	if (!folio)
		folio = fpt_vma_alloc_folio_orig(gfp, order, vma, addr, hugepage);
	srcu_read_unlock(&fpt_hook_srcu, idx);
	return folio;
}
FPT_CHECK_PROTO(fpt_vma_alloc_folio_orig, fpt_vma_alloc_folio);

/*
 * The callback on vma_alloc_folio(): everything here runs for every
 * process's allocations while fpt is armed, so it is as short as it can
 * be and decides from the arguments before it looks at any policy.
 */
static void notrace fpt_alloc_thunk(unsigned long ip, unsigned long parent_ip,
				    struct ftrace_ops *ops,
				    struct ftrace_regs *fregs)
{
	gfp_t gfp = fpt_fregs_arg(fregs, 0);
	int order = fpt_fregs_arg(fregs, 1);
	unsigned int want = READ_ONCE(fpt_hook_want);
	struct vm_area_struct *vma;
	struct fpt_policy *p;

	/* fresh anonymous memory below 64 KB: order 0 zeroed, or small mTHP */
	if (order >= FPT_ORDER)
		return;
	if (!(order == 0 && (gfp & __GFP_ZERO) && (want & FPT_WANT_RESERVE)) &&
	    !((want & FPT_WANT_FOLIO) && fpt_hook_from_anon_fault(parent_ip)))
		return;

	vma = (struct vm_area_struct *)fpt_fregs_arg(fregs, 2);
	preempt_disable_notrace();	/* an RCU read-side section */
	p = __fpt_policy_of_mm(vma->vm_mm);
	if (p && READ_ONCE(p->mode) != FPT_MODE_OFF &&
	    /* fpt's own calls of the kernel's function must reach it */
	    !within_module_core(parent_ip, THIS_MODULE))
		fpt_fregs_set_ip(fregs,
				(unsigned long)fpt_vma_alloc_folio);
	preempt_enable_notrace();
}

static struct ftrace_ops fpt_alloc_ops = {
	.func	= fpt_alloc_thunk,
	.flags	= FPT_FTRACE_FLAGS,
};

#ifdef FPT_HAVE_ZEROED_FOLIO_HOOK
/*
 * arm64's vma_alloc_zeroed_movable_folio() (arch/arm64/mm/fault.c) is not
 * exported: this is what it does (the gfp: fpt_zeroed_folio_gfp()), with
 * the backends asked first.  The return address is the kernel caller's:
 * do_anonymous_page(), which the callback checked.
 */
static noinline struct folio *
fpt_vma_alloc_zeroed_movable_folio(struct vm_area_struct *vma,
				   unsigned long vaddr)
{
	unsigned long caller = (unsigned long)__builtin_return_address(0);
	gfp_t gfp = fpt_zeroed_folio_gfp(vma);
	struct folio *folio;
	int idx;

	idx = srcu_read_lock(&fpt_hook_srcu);
	folio = fpt_alloc(gfp, 0, vma, vaddr, false, caller);
	if (!folio)	/* not redirected again: fpt's own call */
		folio = fpt_vma_alloc_folio_orig(gfp, 0, vma, vaddr, false);
	srcu_read_unlock(&fpt_hook_srcu, idx);
	return folio;
}
FPT_CHECK_PROTO(vma_alloc_zeroed_movable_folio,
		fpt_vma_alloc_zeroed_movable_folio);

/*
 * The callback on vma_alloc_zeroed_movable_folio(vma, vaddr): every zeroed
 * order-0 user page of every process passes here while a folio policy
 * exists.  Its arguments say nothing; the caller does (do_anonymous_page(),
 * not wp_page_copy() or userfaultfd), then the policy: an enabled one whose
 * backend is the folio backend (a reserve one is served by the allocation
 * callback, to which the kernel's function goes on).
 */
static void notrace fpt_zeroed_thunk(unsigned long ip, unsigned long parent_ip,
				     struct ftrace_ops *ops,
				     struct ftrace_regs *fregs)
{
	struct vm_area_struct *vma;
	struct fpt_policy *p;

	if (!fpt_hook_from_anon_fault(parent_ip))
		return;

	vma = (struct vm_area_struct *)fpt_fregs_arg(fregs, 0);
	preempt_disable_notrace();	/* an RCU read-side section */
	p = __fpt_policy_of_mm(vma->vm_mm);
	if (p && READ_ONCE(p->mode) != FPT_MODE_OFF &&
	    READ_ONCE(p->backend_active) == FPT_BACKEND_FOLIO)
		fpt_fregs_set_ip(fregs,
				(unsigned long)fpt_vma_alloc_zeroed_movable_folio);
	preempt_enable_notrace();
}

static struct ftrace_ops fpt_zeroed_ops = {
	.func	= fpt_zeroed_thunk,
	.flags	= FPT_FTRACE_FLAGS,
};
#endif /* FPT_HAVE_ZEROED_FOLIO_HOOK */

/* ---- the 2 MB THP gate --------------------------------------------------- */

/* Does the policy governing @vma's process forbid 2 MB THP?  (RCU) */
static __always_inline bool fpt_pmd_denied(struct vm_area_struct *vma)
{
	struct fpt_policy *p = __fpt_policy_of_mm(vma->vm_mm);

	return p && READ_ONCE(p->mode) != FPT_MODE_OFF &&
	       (READ_ONCE(p->flags) & FPT_F_NO_PMD_THP);
}

#ifdef FPT_HAVE_MTHP
/*
 * __thp_vma_allowable_orders(vma, vm_flags, tva_flags, orders) answers
 * with a subset of @orders: take PMD order out of what it is asked.
 */
static void notrace fpt_pmd_thunk(unsigned long ip, unsigned long parent_ip,
				  struct ftrace_ops *ops,
				  struct ftrace_regs *fregs)
{
	struct vm_area_struct *vma = (void *)fpt_fregs_arg(fregs, 0);
	unsigned long orders = fpt_fregs_arg(fregs, 3);

	if (!(orders & BIT(PMD_ORDER)) || !vma->vm_mm)
		return;
	preempt_disable_notrace();
	if (fpt_pmd_denied(vma))
		fpt_fregs_set_arg(fregs, 3, orders & ~BIT(PMD_ORDER));
	preempt_enable_notrace();
}
#else
/* hugepage_vma_check() of a VMA whose policy forbids 2 MB THP: no */
static noinline bool fpt_no_hugepage(struct vm_area_struct *vma,
				     unsigned long vm_flags, bool smaps,
				     bool in_pf, bool enforce_sysfs)
{
	return false;
}
FPT_CHECK_PROTO(hugepage_vma_check, fpt_no_hugepage);

static void notrace fpt_pmd_thunk(unsigned long ip, unsigned long parent_ip,
				  struct ftrace_ops *ops,
				  struct ftrace_regs *fregs)
{
	struct vm_area_struct *vma = (void *)fpt_fregs_arg(fregs, 0);
	bool deny;

	if (!vma->vm_mm)
		return;
	preempt_disable_notrace();
	deny = fpt_pmd_denied(vma);
	preempt_enable_notrace();
	if (deny)
		fpt_fregs_set_ip(fregs,
				(unsigned long)fpt_no_hugepage);
}
#endif

static struct ftrace_ops fpt_pmd_ops = {
	.func	= fpt_pmd_thunk,
	.flags	= FPT_FTRACE_FLAGS,
};

/* ---- arming -------------------------------------------------------------- */

struct fpt_hook {
	struct ftrace_ops *ops;
	const char *sym;
	unsigned int want;	/* FPT_WANT_* bits that need it */
	bool armed;
	bool absent;		/* optional, not on this kernel: never armed */
};

static struct fpt_hook fpt_hooks[] = {
	{ &fpt_alloc_ops, FPT_VMA_ALLOC_FOLIO_SYM, FPT_WANT_ALLOC },
	{ &fpt_pmd_ops, FPT_PMD_GATE_SYM, FPT_WANT_PMD_GATE },
#ifdef FPT_HAVE_ZEROED_FOLIO_HOOK
	{ &fpt_zeroed_ops, FPT_ZEROED_FOLIO_SYM, FPT_WANT_FOLIO },
#endif
#ifdef FPT_HAVE_SHMEM	/* optional: without them, no FPT_FEAT_SHMEM */
	{ &fpt_shmem_alloc_ops, FPT_SHMEM_ALLOC_SYM, FPT_WANT_SHMEM },
	{ &fpt_shmem_area_ops, "shmem_get_unmapped_area", FPT_WANT_SHMEM },
#endif
#ifdef FPT_HAVE_SHMEM_RESERVE
	{ &fpt_shmem_evict_ops, FPT_SHMEM_EVICT_SYM, FPT_WANT_SHMEM },
#endif
};

static DEFINE_MUTEX(fpt_arm_mutex);
static unsigned int fpt_arm_pins;	/* changes between prepare and done */
static bool fpt_hook_dying;

static int fpt_hook_register(struct fpt_hook *h)
{
	int ret = register_ftrace_function(h->ops);

	if (ret == -EBUSY)
		pr_err("fpt: %s is already redirected by another ftrace user (a livepatch?): %d\n",
		       h->sym, ret);
	else if (ret)
		pr_err("fpt: cannot hook %s: %d\n", h->sym, ret);
	return ret;
}

/* Arm every hook @need asks for; caller holds fpt_arm_mutex. */
static int fpt_hook_arm(unsigned int need)
{
	int i, ret;

	lockdep_assert_held(&fpt_arm_mutex);
	for (i = 0; i < ARRAY_SIZE(fpt_hooks); i++) {
		struct fpt_hook *h = &fpt_hooks[i];

		if (!(need & h->want) || h->armed || h->absent)
			continue;
		ret = fpt_hook_register(h);
		if (ret)
			return ret;
		h->armed = true;
	}
	return 0;
}

/*
 * Disarm the hooks no enabled policy needs, unless a change is under way.
 * Unregistering waits for an RCU-tasks grace period: a work item does it,
 * so that the policy change that made a hook unneeded returns at once.
 */
static void fpt_disarm_work_fn(struct work_struct *work)
{
	unsigned int want = READ_ONCE(fpt_hook_want);
	int i;

	mutex_lock(&fpt_arm_mutex);
	for (i = 0; i < ARRAY_SIZE(fpt_hooks) && !fpt_arm_pins; i++) {
		struct fpt_hook *h = &fpt_hooks[i];

		if (h->armed && (fpt_hook_dying || !(want & h->want))) {
			unregister_ftrace_function(h->ops);
			h->armed = false;
		}
	}
	mutex_unlock(&fpt_arm_mutex);
}
static DECLARE_WORK(fpt_disarm_work, fpt_disarm_work_fn);

/*
 * A policy change in two steps.  fpt_hook_prepare(need) arms, before
 * anything changes, the hooks the changed policies will need (FPT_WANT_*):
 * if that fails (a livepatch holds the function), the caller refuses the
 * change with the error and nothing has been touched.  fpt_hook_done(),
 * called after every prepare whatever it returned, lets the hooks nobody
 * needs any more go.
 */
int fpt_hook_prepare(unsigned int need)
{
	int ret;

	mutex_lock(&fpt_arm_mutex);
	fpt_arm_pins++;
	ret = fpt_hook_dying ? -ENODEV : fpt_hook_arm(need);
	mutex_unlock(&fpt_arm_mutex);
	return ret;
}

void fpt_hook_done(void)
{
	unsigned int want = READ_ONCE(fpt_hook_want);
	bool idle = false;
	int i;

	mutex_lock(&fpt_arm_mutex);
	fpt_arm_pins--;
	for (i = 0; i < ARRAY_SIZE(fpt_hooks); i++)
		if (fpt_hooks[i].armed && !(want & fpt_hooks[i].want))
			idle = true;
	if (idle && !fpt_hook_dying)
		queue_work(system_unbound_wq, &fpt_disarm_work);
	mutex_unlock(&fpt_arm_mutex);
}

static void notrace fpt_probe_thunk(unsigned long ip, unsigned long parent_ip,
				    struct ftrace_ops *ops,
				    struct ftrace_regs *fregs)
{
}

static struct ftrace_ops fpt_probe_ops = {
	.func	= fpt_probe_thunk,
	.flags	= FPT_FTRACE_FLAGS,
};

/* Arm and disarm one ops on every hook point at once (at load only). */
static int fpt_hook_probe(void)
{
	int i, ret = 0;

	for (i = 0; i < ARRAY_SIZE(fpt_hooks) && !ret; i++)
		if (!fpt_hooks[i].absent)
			ret = ftrace_set_filter(&fpt_probe_ops,
						(unsigned char *)fpt_hooks[i].sym,
						strlen(fpt_hooks[i].sym), !i);
	if (!ret)
		ret = register_ftrace_function(&fpt_probe_ops);
	if (!ret)
		unregister_ftrace_function(&fpt_probe_ops);
	ftrace_free_filter(&fpt_probe_ops);
	return ret;
}

/* The address range of a kernel function, from kallsyms (by way of kprobes). */
int fpt_symbol_range(const char *sym, unsigned long *start,
			    unsigned long *len)
{
	struct kprobe kp = { .symbol_name = sym, .flags = KPROBE_FLAG_DISABLED };
	char buf[KSYM_SYMBOL_LEN], *slash;
	unsigned long size;
	int ret;

	ret = register_kprobe(&kp);	/* disabled: resolves, patches nothing */
	if (ret)
		return ret;
	*start = (unsigned long)kp.addr - kp.offset;
	unregister_kprobe(&kp);
	/* "name+0x0/0x5d0": the size follows the slash */
	sprint_symbol(buf, *start);
	slash = strchr(buf, '/');
	if (!slash || kstrtoul(slash + 1, 16, &size) || !size)
		return -ENOENT;
	*len = size;
	return 0;
}

int fpt_hook_init(void)
{
	unsigned int n = 0;
	int i, ret;

	/* a symbol that is not there was inlined into the other: fine */
	for (i = 0; i < ARRAY_SIZE(fpt_anon_fault_syms); i++)
		if (!fpt_symbol_range(fpt_anon_fault_syms[i],
				      &fpt_anon_fault[n].start,
				      &fpt_anon_fault[n].len))
			n++;
	fpt_anon_fault_nr = n;
#ifdef FPT_HAVE_MTHP
	if (!n) {
		pr_err("fpt: hook point %s not found\n", fpt_anon_fault_syms[0]);
		return -ENOENT;
	}
#endif
#ifdef FPT_HAVE_SHMEM
	/* shared memory is covered where all its hook points are there */
	fpt_features = FPT_FEAT_SHMEM;
	ret = fpt_shmem_init();
	for (i = 0; i < ARRAY_SIZE(fpt_hooks) && !ret; i++)
		if (fpt_hooks[i].want == FPT_WANT_SHMEM &&
		    ftrace_set_filter(fpt_hooks[i].ops,
				      (unsigned char *)fpt_hooks[i].sym,
				      strlen(fpt_hooks[i].sym), 1)) {
			pr_info("fpt: shared memory not covered: %s is not traceable\n",
				fpt_hooks[i].sym);
			ret = -ENOENT;
		}
	if (ret) {
		fpt_features &= ~FPT_FEAT_SHMEM;
		for (i = 0; i < ARRAY_SIZE(fpt_hooks); i++)
			if (fpt_hooks[i].want == FPT_WANT_SHMEM) {
				fpt_hooks[i].absent = true;
				ftrace_free_filter(fpt_hooks[i].ops);
			}
	}
#endif
	for (i = 0; i < ARRAY_SIZE(fpt_hooks); i++) {
		struct fpt_hook *h = &fpt_hooks[i];

		if (h->want == FPT_WANT_SHMEM)
			continue;	/* set above */
		ret = ftrace_set_filter(h->ops, (unsigned char *)h->sym,
					strlen(h->sym), 1);
		if (ret) {
			pr_err("fpt: hook point %s is not traceable on this kernel: %d\n",
			       h->sym, ret);
			goto err;
		}
	}
	/*
	 * Taken (livepatched)?  Find out now, with nothing else touched: one
	 * probe ops on every hook point, so that loading waits for one
	 * RCU-tasks grace period, not one per hook; only when it is refused
	 * are the hooks tried one by one, to name the function.
	 */
	ret = fpt_hook_probe();
	if (ret == -EBUSY) {
		for (i = 0; i < ARRAY_SIZE(fpt_hooks); i++) {
			if (fpt_hooks[i].absent)
				continue;
			ret = fpt_hook_register(&fpt_hooks[i]);
			if (ret)
				break;
			unregister_ftrace_function(fpt_hooks[i].ops);
		}
		ret = ret ?: -EBUSY;
	} else if (ret) {
		pr_err("fpt: cannot hook the kernel's fault path: %d\n", ret);
	}
	if (!ret)
		return 0;
err:
	for (i = 0; i < ARRAY_SIZE(fpt_hooks); i++)
		ftrace_free_filter(fpt_hooks[i].ops);
	return ret;
}

/* At unload, after the interfaces are gone: no new policy can arm them. */
void fpt_hook_exit(void)
{
	int i;

	mutex_lock(&fpt_arm_mutex);
	fpt_hook_dying = true;
	mutex_unlock(&fpt_arm_mutex);
	cancel_work_sync(&fpt_disarm_work);
	fpt_disarm_work_fn(&fpt_disarm_work);
	/* calls sleeping in the wrapper, then its epilogue */
	synchronize_srcu(&fpt_hook_srcu);
	synchronize_rcu_tasks();
	for (i = 0; i < ARRAY_SIZE(fpt_hooks); i++)
		ftrace_free_filter(fpt_hooks[i].ops);
}
