// SPDX-License-Identifier: MIT
/*
 * bench-pidscan PID [CMD ARG...]: page backing of a running process (a
 * server), from /proc/PID/pagemap over its private anonymous VMAs
 * (lib/pagemap.c's fpt_scan_pid): present memory, 64 KB runs and their
 * share of it, PMD THP (AnonHugePages from smaps_rollup), VmRSS, and the
 * process's minor faults since it started (/proc/PID/stat).
 *
 * With CMD (a load client), CMD runs first, its output passed through, and
 * the line starts with what the server did meanwhile:
 *   phase_ns       CLOCK_MONOTONIC from just before CMD starts to its exit
 *   phase_cpu_ns   CPU time of PID's threads meanwhile (sum of the first
 *                  field of /proc/PID/task/<TID>/schedstat, nanoseconds)
 *   phase_minflt   PID's minor faults meanwhile
 *   cmd_rc         CMD's exit status
 */
#define _GNU_SOURCE
#include "bench.h"
#include "pagemap.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

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

/* CPU time of all threads of pid: sum of /proc/PID/task/TID/schedstat's
 * first field (time on the CPU, ns); -1 if unreadable */
static long long threads_cpu_ns(int pid)
{
	char path[96];
	struct dirent *d;
	long long sum = 0;
	DIR *dir;

	snprintf(path, sizeof(path), "/proc/%d/task", pid);
	dir = opendir(path);
	if (!dir)
		return -1;
	while ((d = readdir(dir))) {
		unsigned long long ns;
		FILE *f;

		if (d->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/%d/task/%.20s/schedstat", pid, d->d_name);
		f = fopen(path, "re");
		if (!f)
			continue;	/* the thread is gone */
		if (fscanf(f, "%llu", &ns) == 1)
			sum += (long long)ns;
		fclose(f);
	}
	closedir(dir);
	return sum;
}

/* run argv[0..] with stdout/stderr inherited; its exit status or -1 */
static int run_cmd(char **argv)
{
	pid_t pid;
	int st;

	fflush(stdout);
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		execvp(argv[0], argv);
		fprintf(stderr, "bench-pidscan: %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	if (waitpid(pid, &st, 0) < 0)
		return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

int main(int argc, char **argv)
{
	struct fpt_pm_counts c;
	char path[64];
	uint64_t run_pages;
	int pid, ret;

	if (argc < 2 || (pid = atoi(argv[1])) <= 0) {
		fprintf(stderr, "usage: bench-pidscan PID [CMD ARG...]\n");
		return 2;
	}
	if (argc > 2) {
		long long c0, c1;
		long f0, f1;
		uint64_t t0, t1;
		int rc;

		c0 = threads_cpu_ns(pid);
		f0 = stat_minflt(pid);
		t0 = bench_now_ns();
		rc = run_cmd(argv + 2);
		t1 = bench_now_ns();
		c1 = threads_cpu_ns(pid);
		f1 = stat_minflt(pid);
		if (c0 < 0 || c1 < 0 || f0 < 0 || f1 < 0) {
			fprintf(stderr, "bench-pidscan: pid %d is gone\n", pid);
			return 1;
		}
		printf("phase_ns=%llu phase_cpu_ns=%lld phase_minflt=%ld cmd_rc=%d ",
		       (unsigned long long)(t1 - t0), c1 - c0, f1 - f0, rc);
	}
	ret = fpt_scan_pid(pid, FPT_VMA_ANON, false, NULL, NULL, &c);
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
