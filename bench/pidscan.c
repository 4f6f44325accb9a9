// SPDX-License-Identifier: MIT
/*
 * bench-pidscan PID: page backing of a running process (a server), from
 * /proc/PID/pagemap over its private anonymous VMAs (lib/pagemap.c's
 * fpt_scan_pid): present memory, 64 KB runs and their share of it, PMD
 * THP (AnonHugePages from smaps_rollup), VmRSS, and the process's minor
 * faults since it started (/proc/PID/stat).
 */
#define _GNU_SOURCE
#include "bench.h"
#include "pagemap.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static long file_kv_kb(const char *path, const char *key)
{
	FILE *f = fopen(path, "re");
	char line[256];
	size_t kl = strlen(key);
	long v = -1;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, key, kl) && line[kl] == ':') {
			v = strtol(line + kl + 1, NULL, 10);
			break;
		}
	fclose(f);
	return v;
}

/* Field 10 (minflt) of /proc/PID/stat; the comm may hold spaces. */
static long stat_minflt(int pid)
{
	char path[64], buf[1024], *p;
	long v = -1;
	FILE *f;
	int i;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	f = fopen(path, "re");
	if (!f)
		return -1;
	if (fgets(buf, sizeof(buf), f) && (p = strrchr(buf, ')'))) {
		/* after ") ": state(3) ppid pgrp session tty tpgid flags minflt(10) */
		for (i = 0; i < 8 && p; i++)
			p = strchr(p + 1, ' ');
		if (p)
			v = strtol(p + 1, NULL, 10);
	}
	fclose(f);
	return v;
}

int main(int argc, char **argv)
{
	struct fpt_pm_counts c;
	char path[64];
	uint64_t run_pages;
	int pid, ret;

	if (argc != 2 || (pid = atoi(argv[1])) <= 0) {
		fprintf(stderr, "usage: bench-pidscan PID\n");
		return 2;
	}
	ret = fpt_scan_pid(pid, false, false, NULL, NULL, &c);
	if (ret) {
		fprintf(stderr, "bench-pidscan: pid %d: %s\n", pid, strerror(-ret));
		return 1;
	}
	run_pages = fpt_pm_run_pages(&c);
	snprintf(path, sizeof(path), "/proc/%d/smaps_rollup", pid);
	printf("present_kb=%llu runs=%llu windows=%llu coverage_pct=%.2f "
	       "anon_huge_kb=%ld",
	       (unsigned long long)(c.present * PAGE / KB),
	       (unsigned long long)c.runs, (unsigned long long)c.windows,
	       c.present ? 100.0 * (double)run_pages / (double)c.present : 0.0,
	       file_kv_kb(path, "AnonHugePages"));
	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	printf(" vmrss_kb=%ld minflt=%ld\n", file_kv_kb(path, "VmRSS"),
	       stat_minflt(pid));
	return 0;
}
