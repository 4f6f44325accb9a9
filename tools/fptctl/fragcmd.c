// SPDX-License-Identifier: MIT
/* fptctl frag [--json] */
#define _GNU_SOURCE
#include "fptctl.h"
#include "format.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

static const char *const frag_help =
"Usage: %s frag [--json]\n"
"\n"
"Free memory per zone (/proc/buddyinfo): all of it, the part in free\n"
"blocks of 64 KB or more (order >= 4: what a 64 KB run can come from),\n"
"and the kernel's unusable free space index for order 4 (the fraction of\n"
"free memory that cannot serve a 64 KB request).  As root, also the\n"
"movable part of the >= 64 KB blocks (/proc/pagetypeinfo).\n"
"Exit: 0 ok, 1 usage, 7 cannot read /proc/buddyinfo.\n";

int frag_main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct fpt_frag fr;
	bool json = false;
	int c, r;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "hj", opts, NULL)) != -1) {
		switch (c) {
		case 'j': json = true; break;
		case 'h':
			printf(frag_help, prog);
			return EXIT_OK_;
		default:
			return fail(EXIT_USAGE_, "frag: bad option '%s'",
				    argv[optind - 1]);
		}
	}
	if (optind < argc)
		return fail(EXIT_USAGE_, "frag: unexpected argument '%s'",
			    argv[optind]);
	r = fpt_frag_read(&fr);
	if (r)
		return fail(EXIT_OTHER, "cannot read /proc/buddyinfo: %s",
			    strerror(-r));
	if (json)
		json_frag(stdout, &fr, fpt_pm_page_size());
	else
		print_frag(stdout, &fr, fpt_pm_page_size());
	return EXIT_OK_;
}
