// SPDX-License-Identifier: GPL-2.0
/*
 * fpt_ptwalk: a TEST-ONLY page-table reader for fpt's guest tests.  It is
 * never installed and is no part of fpt.ko: it lets the tests check, from
 * outside fpt's own bookkeeping, how a process's memory is really mapped.
 *
 * For a pid and an address range it walks the process's page tables (under
 * the mmap read lock, only inside the VMAs, each PTE table under its lock)
 * and reports every 64 KB window that has at least one present PTE:
 * how many of its 16 PTEs are present, whether they map 16 physically
 * contiguous pages starting at a 64 KB-aligned pfn, how many carry the arm64
 * contiguity hint PTE_CONT, and whether a PMD (2 MB) maps it instead.
 *
 * Interface: debugfs file /sys/kernel/debug/fpt_ptwalk (root only)
 *   echo "PID [START [END]]" > /sys/kernel/debug/fpt_ptwalk
 *   cat /sys/kernel/debug/fpt_ptwalk
 * START/END take 0x for hex; without them the whole address space is
 * walked.  The read gives the last query's result:
 *   total pid=P windows=W full=F runs=R cont=C cont_partial=X pmd=M
 *   VA pte=N contig=0|1 aligned=0|1 cont=N|- pmd=0|1 pfn=PFN
 *   ...
 * windows: 64 KB windows with >= 1 present PTE; full: all 16 present;
 * runs: full, contiguous and aligned (PTE-mapped); cont: runs whose 16 PTEs
 * all have PTE_CONT; cont_partial: windows with 1..15 PTE_CONT entries (an
 * inconsistent hint; never expected); pmd: windows inside a PMD mapping.
 * "cont=-" where the architecture has no hint bit (x86).  pfn is the pfn
 * the window's first page would have if it were contiguous (hex).
 *
 * Kernel interfaces used, all exported on Debian's 6.1 and 6.12 (amd64 and
 * arm64) or inline: find_get_pid, get_pid_task, get_task_mm, mmput,
 * find_vma, mmap_read_lock (down_read), pgd/p4d/pud/pmd_offset,
 * pte_offset_kernel, pte_lockptr, debugfs_create_file.  walk_page_range()
 * and __pte_offset_map_lock() are not exported, hence the walk by hand.
 */
#include <linux/module.h>
#include <linux/debugfs.h>
#include <linux/mm.h>
#include <linux/mmap_lock.h>
#include <linux/pgtable.h>
#include <linux/pid.h>
#include <linux/sched/mm.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/vmalloc.h>

#define WIN_PAGES	16
#define WIN_SIZE	(WIN_PAGES * PAGE_SIZE)
#define MAX_RECS	(1UL << 22)	/* 256 GB of mapped 64 KB windows */

#ifdef CONFIG_ARM64
#define pw_pte_cont(pte)	pte_cont(pte)
#define PW_HAVE_CONT		1
#else
#define pw_pte_cont(pte)	((void)(pte), false)
#define PW_HAVE_CONT		0
#endif

struct pw_rec {
	unsigned long va;
	unsigned long base;	/* pfn of the window's first page, if contiguous */
	u8 pte;			/* present PTEs (or pages under a PMD) */
	u8 cont;		/* of them with PTE_CONT */
	u8 pmd;			/* pages mapped by a PMD */
	u8 contig;		/* all present ones agree on base */
};

struct pw_result {
	pid_t pid;
	unsigned long nrec, cap;
	struct pw_rec *rec;
	struct pw_rec cur;
	bool have_cur;
	unsigned long full, runs, cont, cont_partial, pmd;
};

static DEFINE_MUTEX(pw_lock);
static struct pw_result pw_res;
static struct dentry *pw_file;

/*
 * Room for @n more records.  May sleep: called before the page-table lock
 * and the RCU read section that pw_add() runs under (the debug kernel's
 * DEBUG_ATOMIC_SLEEP caught this allocation inside them).
 */
static int pw_reserve(struct pw_result *r, unsigned long n)
{
	unsigned long cap = r->cap ? r->cap : 1024;
	struct pw_rec *p;

	while (cap < r->nrec + n)
		cap *= 2;
	cap = min(cap, MAX_RECS);
	if (cap <= r->cap)
		return 0;	/* enough, or at the limit: pw_flush() says so */
	p = kvmalloc_array(cap, sizeof(*p), GFP_KERNEL);
	if (!p)
		return -ENOMEM;
	if (r->nrec)
		memcpy(p, r->rec, r->nrec * sizeof(*p));
	kvfree(r->rec);
	r->rec = p;
	r->cap = cap;
	return 0;
}

/* Never sleeps: pw_reserve() made the room. */
static int pw_flush(struct pw_result *r)
{
	struct pw_rec *c = &r->cur;

	if (!r->have_cur)
		return 0;
	r->have_cur = false;
	if (r->nrec == r->cap)
		return -E2BIG;
	r->rec[r->nrec++] = *c;
	if (c->pte == WIN_PAGES) {
		r->full++;
		if (c->pmd)
			r->pmd++;
		else if (c->contig && !(c->base % WIN_PAGES))
			r->runs++;
		if (c->cont == WIN_PAGES && c->contig && !(c->base % WIN_PAGES))
			r->cont++;
	}
	if (c->cont && c->cont < WIN_PAGES)
		r->cont_partial++;
	return 0;
}

/* One mapped page at @addr: pfn, PTE_CONT, mapped by a PMD. */
static int pw_add(struct pw_result *r, unsigned long addr, unsigned long pfn,
		  bool cont, bool pmd)
{
	unsigned long w = addr & ~(WIN_SIZE - 1);
	unsigned long idx = (addr - w) >> PAGE_SHIFT;
	struct pw_rec *c = &r->cur;
	int ret;

	if (!r->have_cur || c->va != w) {
		ret = pw_flush(r);
		if (ret)
			return ret;
		memset(c, 0, sizeof(*c));
		c->va = w;
		c->base = pfn - idx;
		c->contig = 1;
		r->have_cur = true;
	} else if (c->base != pfn - idx) {
		c->contig = 0;
	}
	c->pte++;
	c->cont += cont;
	c->pmd += pmd;
	return 0;
}

static int pw_walk_pmd(struct pw_result *r, struct mm_struct *mm, pmd_t *pmdp,
		       unsigned long addr, unsigned long end)
{
	pmd_t pmd;
	spinlock_t *ptl;
	pte_t *ptep;
	int ret;

	/* the windows of this range, the one before it and a spare */
	ret = pw_reserve(r, (end - addr) / WIN_SIZE + 2);
	if (ret)
		return ret;
	rcu_read_lock();	/* page tables freed by RCU stay readable */
	pmd = READ_ONCE(*pmdp);
	if (pmd_none(pmd) || !pmd_present(pmd))
		goto out;
	if (pmd_trans_huge(pmd)) {
		unsigned long pfn = pmd_pfn(pmd) +
				    ((addr & ~PMD_MASK) >> PAGE_SHIFT);

		for (; addr < end && !ret; addr += PAGE_SIZE, pfn++)
			ret = pw_add(r, addr, pfn, false, true);
		goto out;
	}
	if (pmd_bad(pmd))
		goto out;
	ptl = pte_lockptr(mm, &pmd);
	spin_lock(ptl);
	/* the table may have been replaced since the lockless read */
	if (!pmd_same(pmd, READ_ONCE(*pmdp))) {
		spin_unlock(ptl);
		goto out;
	}
	ptep = pte_offset_kernel(&pmd, addr);
	for (; addr < end && !ret; addr += PAGE_SIZE, ptep++) {
		pte_t pte = READ_ONCE(*ptep);

		if (pte_present(pte))
			ret = pw_add(r, addr, pte_pfn(pte), pw_pte_cont(pte),
				     false);
	}
	spin_unlock(ptl);
out:
	rcu_read_unlock();
	return ret;
}

static int pw_walk_range(struct pw_result *r, struct mm_struct *mm,
			 unsigned long addr, unsigned long end)
{
	unsigned long n4, nu, nm;
	pgd_t *pgd;
	p4d_t *p4d;
	pud_t *pud;
	pmd_t *pmd;
	int ret;

	while (addr < end) {
		pgd = pgd_offset(mm, addr);
		n4 = pgd_addr_end(addr, end);
		if (pgd_none(*pgd) || pgd_bad(*pgd)) {
			addr = n4;
			continue;
		}
		for (; addr < n4; addr = nu) {
			p4d = p4d_offset(pgd, addr);
			nu = p4d_addr_end(addr, n4);
			if (p4d_none(*p4d) || p4d_bad(*p4d))
				continue;
			for (; addr < nu; addr = nm) {
				pud = pud_offset(p4d, addr);
				nm = pud_addr_end(addr, nu);
				if (pud_none(*pud) || pud_bad(*pud))
					continue;
				for (; addr < nm; ) {
					unsigned long np = pmd_addr_end(addr, nm);

					pmd = pmd_offset(pud, addr);
					ret = pw_walk_pmd(r, mm, pmd, addr, np);
					if (ret)
						return ret;
					addr = np;
					cond_resched();
				}
			}
		}
	}
	return 0;
}

static int pw_query(struct pw_result *r, pid_t nr, unsigned long start,
		    unsigned long end)
{
	struct task_struct *task;
	struct vm_area_struct *vma;
	struct mm_struct *mm;
	struct pid *pid;
	unsigned long addr;
	int ret = 0;

	pid = find_get_pid(nr);
	if (!pid)
		return -ESRCH;
	task = get_pid_task(pid, PIDTYPE_PID);
	put_pid(pid);
	if (!task)
		return -ESRCH;
	mm = get_task_mm(task);
	put_task_struct(task);
	if (!mm)
		return -EINVAL;
	if (mmap_read_lock_killable(mm)) {
		mmput(mm);
		return -EINTR;
	}
	/* only inside VMAs: their page tables cannot be freed under us */
	for (addr = start; addr < end && !ret; ) {
		unsigned long vend;

		vma = find_vma(mm, addr);
		if (!vma || vma->vm_start >= end)
			break;
		addr = max(addr, vma->vm_start);
		vend = min(end, vma->vm_end);
		ret = pw_walk_range(r, mm, addr, vend);
		addr = vend;
	}
	if (!ret)
		ret = pw_flush(r);
	mmap_read_unlock(mm);
	mmput(mm);
	return ret;
}

static void pw_reset(struct pw_result *r)
{
	kvfree(r->rec);
	memset(r, 0, sizeof(*r));
}

static ssize_t pw_write(struct file *file, const char __user *ubuf,
			size_t len, loff_t *ppos)
{
	char buf[96], *p = buf, *tok;
	unsigned long v[3] = { 0, 0, TASK_SIZE };
	int n = 0, ret;

	if (len >= sizeof(buf))
		return -EINVAL;
	if (copy_from_user(buf, ubuf, len))
		return -EFAULT;
	buf[len] = '\0';
	while ((tok = strsep(&p, " \t\n")) != NULL) {
		if (!*tok)
			continue;
		if (n == 3)
			return -EINVAL;
		ret = kstrtoul(tok, 0, &v[n++]);
		if (ret)
			return ret;
	}
	if (n < 1 || !v[0] || v[0] > INT_MAX || v[1] >= v[2])
		return -EINVAL;

	mutex_lock(&pw_lock);
	pw_reset(&pw_res);
	pw_res.pid = v[0];
	ret = pw_query(&pw_res, v[0], v[1] & PAGE_MASK, min(v[2], TASK_SIZE));
	if (ret)
		pw_reset(&pw_res);
	mutex_unlock(&pw_lock);
	return ret ? ret : len;
}

static void *pw_start(struct seq_file *m, loff_t *pos)
{
	mutex_lock(&pw_lock);
	if (!pw_res.pid || *pos > pw_res.nrec)
		return NULL;
	return pos;
}

static void *pw_next(struct seq_file *m, void *v, loff_t *pos)
{
	++*pos;
	return *pos > pw_res.nrec ? NULL : pos;
}

static void pw_stop(struct seq_file *m, void *v)
{
	mutex_unlock(&pw_lock);
}

static int pw_show(struct seq_file *m, void *v)
{
	loff_t i = *(loff_t *)v;
	struct pw_rec *c;

	if (i == 0) {
		seq_printf(m, "total pid=%d windows=%lu full=%lu runs=%lu cont=%lu cont_partial=%lu pmd=%lu\n",
			   pw_res.pid, pw_res.nrec, pw_res.full, pw_res.runs,
			   pw_res.cont, pw_res.cont_partial, pw_res.pmd);
		return 0;
	}
	c = &pw_res.rec[i - 1];
	seq_printf(m, "%lx pte=%u contig=%u aligned=%u ", c->va, c->pte,
		   c->pte == WIN_PAGES && c->contig,
		   !(c->base % WIN_PAGES));
	if (PW_HAVE_CONT)
		seq_printf(m, "cont=%u", c->cont);
	else
		seq_puts(m, "cont=-");
	seq_printf(m, " pmd=%u pfn=%lx\n", !!c->pmd, c->base);
	return 0;
}

static const struct seq_operations pw_seq_ops = {
	.start	= pw_start,
	.next	= pw_next,
	.stop	= pw_stop,
	.show	= pw_show,
};

static int pw_open(struct inode *inode, struct file *file)
{
	return seq_open(file, &pw_seq_ops);
}

static const struct file_operations pw_fops = {
	.owner		= THIS_MODULE,
	.open		= pw_open,
	.read		= seq_read,
	.write		= pw_write,
	.llseek		= seq_lseek,
	.release	= seq_release,
};

static int __init pw_init(void)
{
	pw_file = debugfs_create_file("fpt_ptwalk", 0600, NULL, NULL, &pw_fops);
	return IS_ERR(pw_file) ? PTR_ERR(pw_file) : 0;
}

static void __exit pw_exit(void)
{
	debugfs_remove(pw_file);
	pw_reset(&pw_res);
}

module_init(pw_init);
module_exit(pw_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("fpt tests: per-64KB-window page-table report (test only)");
