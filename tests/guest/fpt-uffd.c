// SPDX-License-Identifier: GPL-2.0
/*
 * fpt-uffd: arm userfaultfd (write-protect mode) on an anonymous region,
 * then write-fault every page of it.  No page is write-protected, so the
 * faults complete normally, but the VMA is "userfaultfd armed": the kernel
 * wants per-page fault fidelity there, and fpt must fall back to 4 KB
 * pages (counted as fallback_uffd).
 *
 * Output: uffd=1 pages= present= runs= coverage_pct=
 */
#define _GNU_SOURCE
#include "common.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/userfaultfd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	size_t size = 4 * MB, i;
	struct uffdio_api api = { .api = UFFD_API,
				  .features = UFFD_FEATURE_PAGEFAULT_FLAG_WP };
	struct uffdio_register reg = { 0 };
	struct region_scan rs;
	char *p;
	int fd;

	common_init(argv[0]);
	if (argc > 1) {
		fprintf(stderr, "usage: %s\n", prog);
		return EXIT_USAGE;
	}
	p = mmap_aligned(size, WIN_SIZE);
	fd = syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		die_setup("userfaultfd: %s", strerror(errno));
	if (ioctl(fd, UFFDIO_API, &api))
		die_setup("UFFDIO_API (WP): %s", strerror(errno));
	reg.range.start = (unsigned long)p;
	reg.range.len = size;
	reg.mode = UFFDIO_REGISTER_MODE_WP;
	if (ioctl(fd, UFFDIO_REGISTER, &reg))
		die_setup("UFFDIO_REGISTER (WP): %s", strerror(errno));

	for (i = 0; i < size; i += page_size)
		p[i] = 1;

	if (region_scan(p, size, NULL, false, &rs))
		die_setup("reading /proc/self/pagemap: %s", strerror(errno));
	printf("uffd=1 pages=%zu present=%zu runs=%zu coverage_pct=%.2f\n",
	       rs.pages, rs.present, rs.runs, coverage_pct(&rs));
	close(fd);
	return rs.present == rs.pages ? EXIT_OK : EXIT_FAILED;
}
