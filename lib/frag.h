/* SPDX-License-Identifier: MIT */
/*
 * Order-4 fragmentation from /proc/buddyinfo and /proc/pagetypeinfo, for
 * fptctl frag and fptd's reports.  The parsers take the files' text, so
 * unit tests run them on fixtures.
 */
#ifndef FPT_FRAG_H
#define FPT_FRAG_H

#include <stddef.h>
#include <stdint.h>

#define FPT_FRAG_MAX_ORDER	11	/* orders 0..10 as in buddyinfo */
#define FPT_FRAG_MAX_ZONES	16

struct fpt_frag_zone {
	int node;
	char zone[16];			/* "DMA32", "Normal", ... */
	uint64_t free_blocks[FPT_FRAG_MAX_ORDER];	/* blocks per order */
	int nr_orders;
	/* extensions */
	uint64_t free_pages, free_pages_ge64k;	/* all orders of the line */
	uint64_t movable_free_pages_ge64k;	/* from pagetypeinfo */
	int have_pagetypeinfo;
};

struct fpt_frag {
	int nr_zones;
	struct fpt_frag_zone zones[FPT_FRAG_MAX_ZONES];
	/* totals over all zones, in 4 KB pages */
	uint64_t free_pages;		/* all free memory */
	uint64_t free_pages_ge64k;	/* free memory in blocks of order >= 4 */
	/*
	 * The kernel's unusable free space index for order 4 (as in
	 * Documentation/admin-guide/sysctl/vm.rst, extfrag): the fraction
	 * of free memory that cannot satisfy an order-4 request,
	 * (free_pages - free_pages_ge64k) / free_pages; 0 when nothing free.
	 */
	double unusable_index_o4;
	/* from pagetypeinfo, if read: free order>=4 pages of MIGRATE_MOVABLE */
	uint64_t movable_free_pages_ge64k;
	int have_pagetypeinfo;
};

/*
 * Extensions.  Per zone, in 4 KB pages: all free memory, free memory in
 * blocks of order >= 4, and the zone's unusable index for order 4.
 * Orders above FPT_FRAG_MAX_ORDER - 1 in the input count into the totals
 * (not into free_blocks[]).  movable_free_ge64k / have_pagetypeinfo per
 * zone are filled by fpt_frag_parse_pagetypeinfo().
 */
#define FPT_FRAG_ORDER_64K	4
uint64_t fpt_frag_zone_free(const struct fpt_frag_zone *z);
uint64_t fpt_frag_zone_free_ge64k(const struct fpt_frag_zone *z);
double fpt_frag_zone_unusable(const struct fpt_frag_zone *z);

/* Parse /proc/buddyinfo text into @out (zeroed first). 0 or -EINVAL. */
int fpt_frag_parse_buddyinfo(const char *text, struct fpt_frag *out);
/* Add /proc/pagetypeinfo's movable free counts. 0 or -EINVAL. */
int fpt_frag_parse_pagetypeinfo(const char *text, struct fpt_frag *out);
/* Read both files of this machine. 0 or -errno. */
int fpt_frag_read(struct fpt_frag *out);

#endif
