// SPDX-License-Identifier: GPL-2.0
/*
 * fpt-frag: fragment physical memory so that no free 64 KB (order-4) block
 * is left, without ever running the machine out of memory.
 *
 * Takes 4 KB pages (MADV_NOHUGEPAGE) until buddyinfo shows no free block of
 * order >= 4 or MemFree would drop under a floor, then gives back every page
 * it holds except the lowest-PFN one of each physically aligned 16-page
 * block, so the freed pages cannot merge into order-4 blocks again.
 */
#define _GNU_SOURCE
#include "common.h"

#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static void usage(FILE *f)
{
	fprintf(f,
"usage: %s [options]\n"
"       %s --report\n"
"Fragment free memory: take 4 KB pages (MADV_NOHUGEPAGE, 4 MB at a time)\n"
"until no free block of order >= 4 is left in buddyinfo (zone DMA not\n"
"counted) or free memory (the smaller of MemFree and the buddyinfo total)\n"
"would drop under the floor, then free all pages held\n"
"except the lowest-PFN one of each physically aligned 16-page block, mlock\n"
"the kept ones, print the result line and READY and hold until EOF on\n"
"stdin or SIGTERM/SIGINT.  Writes nothing to sysfs/procfs.\n"
"\n"
"  --floor-kb KB   stop before MemFree drops under KB\n"
"                  (default 3 x /proc/sys/vm/min_free_kbytes)\n"
"  --max-mb MB     take at most MB (default: no limit)\n"
"  --no-mlock      do not mlock the kept pages\n"
"  --hold-signal   hold until SIGTERM/SIGINT only (ignore stdin)\n"
"  --report        only print the buddyinfo summary and exit\n"
"  --help          this text\n"
"\n"
"Output:\n"
"  held_kb= freed_kb= free_kb= free_ge64k_kb= free_ge64k_nodma_kb=\n"
"  allocated_kb= blocks= locked_kb= memfree_kb= floor_kb= stop=\n"
"  READY\n"
"--report: free_kb= free_ge64k_kb= free_ge64k_nodma_kb= nr_ge64k_blocks=\n"
"  memfree_kb=\n"
"held_kb: kept (one page per block); freed_kb: given back; free_*: from\n"
"/proc/buddyinfo after freeing; stop: floor|no64k|max|memcg|mmap.\n"
"Exit: 0 ok, 2 usage/setup error.\n",
		prog, prog);
}

#define CHUNK (4 * MB)

/* blk_min[block] = 1 + the lowest PFN offset held in that aligned block */
static bool is_kept(uint64_t pm, const uint8_t *blk_min)
{
	uint64_t pfn = pm & PM_PFN_MASK;

	return (pm & PM_PRESENT) && pfn &&
	       blk_min[pfn / win_pages] == pfn % win_pages + 1;
}

static void print_report(void)
{
	struct buddy_summary bs;

	if (buddy_read(&bs))
		die_setup("cannot read /proc/buddyinfo: %s", strerror(errno));
	printf("free_kb=%llu free_ge64k_kb=%llu free_ge64k_nodma_kb=%llu "
	       "nr_ge64k_blocks=%llu memfree_kb=%ld\n",
	       (unsigned long long)bs.free_kb,
	       (unsigned long long)bs.free_ge64k_kb,
	       (unsigned long long)bs.free_ge64k_nodma_kb,
	       (unsigned long long)bs.nr_ge64k_blocks,
	       proc_kv_kb("/proc/meminfo", "MemFree"));
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "floor-kb", required_argument, NULL, 'f' },
		{ "max-mb", required_argument, NULL, 'm' },
		{ "no-mlock", no_argument, NULL, 'n' },
		{ "hold-signal", no_argument, NULL, 's' },
		{ "report", no_argument, NULL, 'r' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	uint64_t floor_kb = 0, max_mb = 0;
	bool do_mlock = true, report = false, use_stdin = true;
	const char *stop = "floor";
	size_t chunk_pages, max_chunks, nchunks = 0, npages, i, ci, cap_pages;
	size_t kept = 0, freed = 0, locked = 0, blocks = 0;
	uint64_t *pm, max_pfn = 0;
	uint8_t *blk_min;
	char **chunks;
	struct buddy_summary bs;
	long memtotal, memfree;
	int c;

	common_init(argv[0]);
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'f': floor_kb = arg_u64("--floor-kb", optarg); break;
		case 'm': max_mb = arg_u64("--max-mb", optarg); break;
		case 'n': do_mlock = false; break;
		case 's': use_stdin = false; break;
		case 'r': report = true; break;
		case 'h':
			usage(stdout);
			return EXIT_OK;
		default:
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (optind != argc)
		die_setup("unexpected argument '%s' (see --help)", argv[optind]);
	if (report) {
		print_report();
		return EXIT_OK;
	}
	if (!floor_kb) {
		long long mfk = read_file_ll("/proc/sys/vm/min_free_kbytes");

		if (mfk <= 0)
			die_setup("cannot read /proc/sys/vm/min_free_kbytes");
		floor_kb = 3 * (uint64_t)mfk;
	}
	memtotal = proc_kv_kb("/proc/meminfo", "MemTotal");
	if (memtotal <= 0)
		die_setup("cannot read MemTotal from /proc/meminfo");

	chunk_pages = CHUNK / page_size;
	max_chunks = (size_t)memtotal * KB / CHUNK + 1;
	if (max_mb && max_mb * MB / CHUNK < max_chunks)
		max_chunks = max_mb * MB / CHUNK;
	cap_pages = max_chunks * chunk_pages;
	/*
	 * Bookkeeping is reserved now and touched as it fills, so its memory
	 * is taken (and counted against the floor) while allocating.
	 */
	chunks = calloc(max_chunks + 1, sizeof(*chunks));
	pm = mmap(NULL, (cap_pages + 1) * sizeof(*pm), PROT_READ | PROT_WRITE,
		  MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (!chunks || pm == MAP_FAILED)
		die_setup("out of memory for bookkeeping");

	for (;;) {
		long long head;
		char *p;

		if (nchunks >= max_chunks) {
			stop = "max";
			break;
		}
		if (buddy_read(&bs))
			die_setup("cannot read /proc/buddyinfo");
		if (!bs.free_ge64k_nodma_kb) {
			stop = "no64k";
			break;
		}
		/* the smaller of MemFree and buddyinfo (no per-cpu lists) */
		memfree = proc_kv_kb("/proc/meminfo", "MemFree");
		if (memfree > (long)bs.free_kb)
			memfree = (long)bs.free_kb;
		if (memfree < 0 ||
		    (uint64_t)memfree < floor_kb + 2 * CHUNK / KB) {
			stop = "floor";
			break;
		}
		head = memcg_headroom_kb();
		if (head >= 0 && head < (long long)(4 * CHUNK / KB)) {
			stop = "memcg";
			break;
		}
		p = mmap(NULL, CHUNK, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p == MAP_FAILED) {
			stop = "mmap";
			break;
		}
		madvise(p, CHUNK, MADV_NOHUGEPAGE);
		for (i = 0; i < CHUNK; i += page_size)
			p[i] = 1;
		if (pagemap_read(p, chunk_pages, pm + nchunks * chunk_pages))
			die_setup("reading pagemap: %s", strerror(errno));
		chunks[nchunks++] = p;
	}
	npages = nchunks * chunk_pages;

	/* lowest PFN held in each aligned block of win_pages PFNs */
	for (i = 0; i < npages; i++)
		if ((pm[i] & PM_PRESENT) && (pm[i] & PM_PFN_MASK) > max_pfn)
			max_pfn = pm[i] & PM_PFN_MASK;
	if (npages && !max_pfn)
		die_setup("pagemap shows no PFNs (need CAP_SYS_ADMIN)");
	blk_min = calloc(max_pfn / win_pages + 1, 1);	/* 0: none, else +1 */
	if (!blk_min)
		die_setup("out of memory");
	for (i = 0; i < npages; i++) {
		uint64_t pfn = pm[i] & PM_PFN_MASK;
		uint8_t *m = &blk_min[pfn / win_pages];
		uint8_t o = (uint8_t)(pfn % win_pages + 1);

		if (!(pm[i] & PM_PRESENT) || !pfn)
			continue;
		if (!*m)
			blocks++;
		if (!*m || o < *m)
			*m = o;
	}

	/* give back all but the kept page of each block */
	for (ci = 0; ci < nchunks; ci++) {
		const uint64_t *e = pm + ci * chunk_pages;
		size_t j, run = 0, k = 0;

		for (j = 0; j <= chunk_pages; j++) {
			if (j < chunk_pages && !is_kept(e[j], blk_min)) {
				run++;
				continue;
			}
			if (run &&
			    madvise(chunks[ci] + (j - run) * page_size,
				    run * page_size, MADV_DONTNEED))
				die_setup("madvise: %s", strerror(errno));
			freed += run;
			run = 0;
			if (j < chunk_pages)
				k++;
		}
		kept += k;
		/* lock what is present; do not fault the rest in */
		if (do_mlock) {
			if (mlock2(chunks[ci], CHUNK, MLOCK_ONFAULT)) {
				warnx_("mlock2: %s (continuing unlocked)",
				       strerror(errno));
				do_mlock = false;
			} else {
				locked += k;
			}
		}
	}
	free(blk_min);

	if (buddy_read(&bs))
		die_setup("cannot read /proc/buddyinfo");
	hold_prepare();
	printf("held_kb=%zu freed_kb=%zu free_kb=%llu free_ge64k_kb=%llu "
	       "free_ge64k_nodma_kb=%llu allocated_kb=%zu blocks=%zu "
	       "locked_kb=%zu memfree_kb=%ld floor_kb=%llu stop=%s\n",
	       kept * page_size / KB, freed * page_size / KB,
	       (unsigned long long)bs.free_kb,
	       (unsigned long long)bs.free_ge64k_kb,
	       (unsigned long long)bs.free_ge64k_nodma_kb,
	       npages * page_size / KB, blocks, locked * page_size / KB,
	       proc_kv_kb("/proc/meminfo", "MemFree"),
	       (unsigned long long)floor_kb, stop);
	printf("READY\n");
	fflush(stdout);
	hold_wait(use_stdin, 0, NULL, NULL);
	for (i = 0; i < nchunks; i++)
		munmap(chunks[i], CHUNK);
	free(chunks);
	munmap(pm, (cap_pages + 1) * sizeof(*pm));
	return EXIT_OK;
}
