// SPDX-License-Identifier: GPL-2.0
/*
 * fpt-shm: map shared memory of one kind, touch it high to low, and report
 * from /proc/self/pagemap and /proc/kpageflags how much of it is backed by
 * aligned, physically contiguous 64 KB runs; optionally check the data
 * across fork, truncate and hole punching.
 *
 *   fpt-shm KIND [options]      KIND: anon (MAP_SHARED|MAP_ANONYMOUS),
 *                               sysv (shmget/shmat), memfd (memfd_create)
 *   --size MB        region size (default 32)
 *   --fill           write a pattern over every page and verify it
 *   --fork           a child writes the pattern, the parent verifies it
 *                    (and the other way round): shared, not copied
 *   --truncate       memfd: ftruncate to half and back; the first half
 *                    keeps its pattern, the second reads zero
 *   --punch          memfd/anon: punch a hole of 24 KB in the middle of
 *                    each 64 KB window (MADV_REMOVE); it reads zero, the
 *                    rest keeps its pattern
 *   --key KEY        sysv: use segment KEY (create if missing); with
 *                    --attach-only, attach and touch without creating
 *   --attach-only    sysv: attach an existing segment (touch as --half) at
 *                    a 64 KB-aligned address, so that the scan sees the
 *                    object's runs wherever the kernel would have placed
 *                    the mapping of a process fpt does not place
 *   --half first|second  touch only that half of the region (high to
 *                    low), report the whole region
 *   --keep           sysv: do not remove the segment at exit
 *   --partial N      touch only the first N pages of each 64 KB window
 *                    (high to low): on the reserve backend each window's
 *                    reservation keeps holding the other 16 - N
 *   --rmid-attached  sysv: IPC_RMID while attached, then verify
 *   --remove         sysv: remove segment --key (IPC_RMID) and exit; the
 *                    guest's busybox has no ipcrm
 *
 * Output (one line): kind= size_kb= addr_mod64k= pages= present= runs=
 *   coverage_pct= compound= pattern_errors= zero_errors=
 * Exit: 0 ok, 1 a data check failed, 2 usage/setup error.
 */
#define _GNU_SOURCE
#include "common.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/shm.h>
#include <sys/wait.h>
#include <unistd.h>

enum kind { K_ANON, K_SYSV, K_MEMFD };

static size_t partial;	/* --partial: pages touched per window, 0: all */

static void touch_down(char *p, size_t len, size_t from)
{
	size_t i;

	for (i = len; i > from; i -= page_size)
		if (!partial ||
		    ((i - page_size) % WIN_SIZE) / page_size < partial)
			p[i - page_size] = 1;
}

/* verify the pattern everywhere but in [hole_off, hole_off+hole) of each window */
static size_t verify_except(const char *p, size_t len, uint32_t seed,
			    size_t hole_off, size_t hole, size_t *zero_bad)
{
	size_t w, bad = 0;

	for (w = 0; w < len; w += WIN_SIZE) {
		size_t n = len - w < WIN_SIZE ? len - w : WIN_SIZE;

		if (!hole) {
			bad += pattern_verify(p + w, n, w, seed);
			continue;
		}
		bad += pattern_verify(p + w, hole_off, w, seed);
		bad += pattern_verify(p + w + hole_off + hole,
				      n - hole_off - hole,
				      w + hole_off + hole, seed);
		*zero_bad += count_nonzero_words(p + w + hole_off, hole);
	}
	return bad;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "size", required_argument, NULL, 's' },
		{ "fill", no_argument, NULL, 'f' },
		{ "fork", no_argument, NULL, 'F' },
		{ "truncate", no_argument, NULL, 't' },
		{ "punch", no_argument, NULL, 'p' },
		{ "key", required_argument, NULL, 'k' },
		{ "attach-only", no_argument, NULL, 'a' },
		{ "keep", no_argument, NULL, 'K' },
		{ "rmid-attached", no_argument, NULL, 'r' },
		{ "half", required_argument, NULL, 'h' },
		{ "partial", required_argument, NULL, 'P' },
		{ "remove", no_argument, NULL, 'R' },
		{ NULL, 0, NULL, 0 },
	};
	bool fill = false, do_fork = false, trunc = false, punch = false;
	bool attach_only = false, keep = false, rmid = false, remove = false;
	int half = 0;		/* 1: first half only, 2: second half only */
	size_t size = 32 * MB, bad = 0, zero_bad = 0;
	const uint32_t seed = 7;
	struct region_scan rs;
	key_t key = IPC_PRIVATE;
	enum kind kind;
	int c, fd = -1, shmid = -1;
	char *p;

	common_init(argv[0]);
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 's': size = arg_u64("--size", optarg) * MB; break;
		case 'f': fill = true; break;
		case 'F': do_fork = true; fill = true; break;
		case 't': trunc = true; fill = true; break;
		case 'p': punch = true; fill = true; break;
		case 'k': key = (key_t)arg_u64("--key", optarg); break;
		case 'a': attach_only = true; break;
		case 'K': keep = true; break;
		case 'r': rmid = true; fill = true; break;
		case 'R': remove = true; break;
		case 'P':
			partial = arg_u64("--partial", optarg);
			if (!partial || partial > WIN_SIZE / page_size)
				die_setup("--partial 1..%zu", WIN_SIZE / page_size);
			break;
		case 'h':
			half = !strcmp(optarg, "first") ? 1 :
			       !strcmp(optarg, "second") ? 2 : -1;
			if (half < 0)
				die_setup("--half first|second");
			break;
		default: die_setup("see the comment at the top of fpt-shm.c");
		}
	}
	if (optind != argc - 1 || !size)
		die_setup("usage: %s anon|sysv|memfd [options]", prog);
	if (!strcmp(argv[optind], "anon"))
		kind = K_ANON;
	else if (!strcmp(argv[optind], "sysv"))
		kind = K_SYSV;
	else if (!strcmp(argv[optind], "memfd"))
		kind = K_MEMFD;
	else
		die_setup("unknown kind '%s'", argv[optind]);
	if ((trunc && kind != K_MEMFD) || (punch && kind == K_SYSV) ||
	    ((attach_only || keep || rmid || remove) && kind != K_SYSV) ||
	    (remove && key == IPC_PRIVATE) ||
	    ((half || partial) && (fill || do_fork)))
		die_setup("option does not go with %s", argv[optind]);

	if (remove) {
		shmid = shmget(key, 0, 0);
		if (shmid < 0 || shmctl(shmid, IPC_RMID, NULL))
			die_setup("remove segment %d: %s", (int)key,
				  strerror(errno));
		return EXIT_OK;
	}

	switch (kind) {
	case K_ANON:
		p = mmap(NULL, size, PROT_READ | PROT_WRITE,
			 MAP_SHARED | MAP_ANONYMOUS, -1, 0);
		if (p == MAP_FAILED)
			die_setup("mmap: %s", strerror(errno));
		break;
	case K_SYSV:
		shmid = shmget(key, size, attach_only ? 0 : IPC_CREAT | 0600);
		if (shmid < 0)
			die_setup("shmget: %s", strerror(errno));
		p = NULL;
		if (attach_only) {
			/*
			 * The observer is not opted in, so nothing places its
			 * mapping: attach at a 64 KB-aligned address of its
			 * own choosing, so that pagemap can show the runs the
			 * owner's faults made (their virtual alignment is the
			 * observer's, their physical one the owner's).
			 */
			char *r = mmap(NULL, size + WIN_SIZE, PROT_NONE,
				       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

			if (r == MAP_FAILED)
				die_setup("mmap: %s", strerror(errno));
			p = (void *)(((uintptr_t)r + WIN_SIZE - 1) &
				     ~(uintptr_t)(WIN_SIZE - 1));
			munmap(r, size + WIN_SIZE);
		}
		p = shmat(shmid, p, 0);
		if (p == (void *)-1)
			die_setup("shmat: %s", strerror(errno));
		break;
	case K_MEMFD:
		fd = memfd_create("fpt-shm", 0);
		if (fd < 0 || ftruncate(fd, size))
			die_setup("memfd: %s", strerror(errno));
		p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		if (p == MAP_FAILED)
			die_setup("mmap memfd: %s", strerror(errno));
		break;
	}

	if (half == 1) {
		touch_down(p, size / 2, 0);
	} else if (half == 2) {
		touch_down(p, size, size / 2);
	} else if (do_fork) {
		pid_t pid = fork();
		int st;

		if (pid < 0)
			die_setup("fork: %s", strerror(errno));
		if (!pid) {	/* the child touches (high to low) and writes */
			touch_down(p, size, 0);
			pattern_fill(p, size, 0, seed);
			_exit(0);
		}
		if (waitpid(pid, &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st))
			die_setup("child failed");
		bad = pattern_verify(p, size, 0, seed);
		/* and back: the parent writes, a second child checks */
		pattern_fill(p, size, 0, seed + 1);
		pid = fork();
		if (!pid)
			_exit(pattern_verify(p, size, 0, seed + 1) ? 1 : 0);
		if (pid < 0 || waitpid(pid, &st, 0) < 0 || !WIFEXITED(st))
			die_setup("second child failed");
		bad += WEXITSTATUS(st) ? 1 : 0;
		pattern_fill(p, size, 0, seed);
	} else {
		touch_down(p, size, 0);
		if (fill)
			pattern_fill(p, size, 0, seed);
	}

	if (region_scan(p, size, NULL, true, &rs))
		die_setup("reading /proc/self/pagemap: %s", strerror(errno));

	if (fill && !do_fork && !trunc && !punch && !rmid)
		bad += pattern_verify(p, size, 0, seed);
	if (trunc) {		/* half off and back: the second half reads 0 */
		if (ftruncate(fd, size / 2) || ftruncate(fd, size))
			die_setup("ftruncate: %s", strerror(errno));
		bad += pattern_verify(p, size / 2, 0, seed);
		zero_bad += count_nonzero_words(p + size / 2, size / 2);
	}
	if (punch) {		/* 24 KB hole at 20 KB into each window */
		size_t w;

		for (w = 0; w + WIN_SIZE <= size; w += WIN_SIZE)
			if (madvise(p + w + 20 * KB, 24 * KB, MADV_REMOVE))
				die_setup("MADV_REMOVE: %s", strerror(errno));
		bad += verify_except(p, size, seed, 20 * KB, 24 * KB,
				     &zero_bad);
	}
	if (rmid) {		/* removed while attached: still usable */
		if (shmctl(shmid, IPC_RMID, NULL))
			die_setup("IPC_RMID: %s", strerror(errno));
		bad += pattern_verify(p, size, 0, seed);
		pattern_fill(p, size, 0, seed + 2);
		bad += pattern_verify(p, size, 0, seed + 2);
	}

	printf("kind=%s size_kb=%zu addr_mod64k=%lu pages=%zu present=%zu runs=%zu coverage_pct=%.2f compound=%zu pattern_errors=%zu zero_errors=%zu\n",
	       argv[optind], size / KB, (unsigned long)((uintptr_t)p % WIN_SIZE),
	       rs.pages, rs.present, rs.runs, coverage_pct(&rs), rs.compound,
	       bad, zero_bad);

	if (kind == K_SYSV) {
		shmdt(p);
		if (!keep && !rmid && !attach_only)
			shmctl(shmid, IPC_RMID, NULL);
	}
	return bad || zero_bad ? EXIT_FAILED : EXIT_OK;
}
