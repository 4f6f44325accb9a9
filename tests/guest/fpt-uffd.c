// SPDX-License-Identifier: GPL-2.0
/*
 * fpt-uffd: arm userfaultfd (write-protect mode) on an anonymous region,
 * then write-fault every page of it, in a fixed shuffled order.  No page is write-protected, so the
 * faults complete normally, but the VMA is "userfaultfd armed": the kernel
 * wants per-page fault fidelity there, and fpt must fall back to 4 KB
 * pages (counted as fallback_uffd).
 *
 * Output: uffd=1 pages= present= runs= coverage_pct=
 * A kernel without userfaultfd write-protect for anonymous memory (arm64
 * before 6.10: no CONFIG_HAVE_ARCH_USERFAULTFD_WP) cannot run the test:
 * "uffd=unsupported reason=..." and exit 77 (EXIT_UNSUPPORTED).
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
	size_t size = 4 * MB, i, npg, *order;
	unsigned long long seed = 42;
	struct uffdio_api api = { .api = UFFD_API,
				  .features = UFFD_FEATURE_PAGEFAULT_FLAG_WP };
	struct uffdio_api probe = { .api = UFFD_API };
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
	/* what this kernel offers: a first descriptor asks (API once per fd) */
	fd = syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		die_setup("userfaultfd: %s", strerror(errno));
	if (ioctl(fd, UFFDIO_API, &probe))
		die_setup("UFFDIO_API: %s", strerror(errno));
	close(fd);
	if (!(probe.features & UFFD_FEATURE_PAGEFAULT_FLAG_WP)) {
		printf("uffd=unsupported reason=no_write_protect features=%#llx\n",
		       (unsigned long long)probe.features);
		return EXIT_UNSUPPORTED;
	}
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

	/*
	 * In a fixed shuffled order: no order of the 4 KB allocator lines up
	 * with it by chance.  (High to low was not enough: the pages of a
	 * broken reservation, freed in ascending order onto the per-CPU
	 * list, come back last-in first-out, i.e. descending, and made
	 * chance runs of a high-to-low touch.)
	 */
	npg = size / page_size;
	order = malloc(npg * sizeof(*order));
	if (!order)
		die_setup("out of memory");
	for (i = 0; i < npg; i++)
		order[i] = i;
	for (i = npg - 1; i > 0; i--) {
		size_t j, t;

		seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
		j = (size_t)(seed >> 33) % (i + 1);
		t = order[i];
		order[i] = order[j];
		order[j] = t;
	}
	for (i = 0; i < npg; i++)
		p[order[i] * page_size] = 1;
	free(order);

	if (region_scan(p, size, NULL, false, &rs))
		die_setup("reading /proc/self/pagemap: %s", strerror(errno));
	printf("uffd=1 pages=%zu present=%zu runs=%zu coverage_pct=%.2f\n",
	       rs.pages, rs.present, rs.runs, coverage_pct(&rs));
	close(fd);
	return rs.present == rs.pages ? EXIT_OK : EXIT_FAILED;
}
