// SPDX-License-Identifier: MIT
/*
 * bench-cow: fork + CoW storm.  The parent populates --size MB, forks, and
 * the child writes one byte into every page (one copy-on-write fault per
 * page at 4 KB), scans its own pagemap and exits.  time_ns = fork_ns (the
 * fork() call, in the parent) + write_ns (the child's write loop; minflt
 * counts its faults); child_*: the child's region after its
 * writes (what the CoW copies are backed by); the parent's region before
 * the fork is reported without prefix.
 *
 * --forks N (N > 1): the fork workload of `make bench-icount` instead,
 * "workload=fork": the parent populates --size MB, then N times forks a
 * child that writes every page and exits, and waits for it.  time_ns is the
 * whole loop (fork, the child's CoW faults, its exit and the parent's
 * wait), cpu_ns the CPU time of parent and children in it, minflt the
 * children's faults (RUSAGE_CHILDREN); the parent's region is reported
 * without prefix.
 */
#include "bench.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

static void children(long *minflt, uint64_t *cpu_ns)
{
	struct rusage ru;

	getrusage(RUSAGE_CHILDREN, &ru);
	*minflt = ru.ru_minflt;
	*cpu_ns = ((uint64_t)ru.ru_utime.tv_sec + (uint64_t)ru.ru_stime.tv_sec) *
		1000000000ULL +
		((uint64_t)ru.ru_utime.tv_usec + (uint64_t)ru.ru_stime.tv_usec) * 1000ULL;
}

/* --forks N: N x (fork, the child writes every page, exits; wait) */
static int fork_loop(const struct bench_opts *o, char *p)
{
	uint64_t t0, t1, c0, c1, k0, k1, i;
	long f0, f1;
	int st;

	children(&f0, &k0);
	c0 = bench_cpu_ns();
	t0 = bench_now_ns();
	for (i = 0; i < o->forks; i++) {
		pid_t pid = fork();

		if (pid < 0)
			bench_die("fork: %s", strerror(errno));
		if (pid == 0) {
			bench_touch(p, o->size, PAGE);
			_exit(0);
		}
		if (waitpid(pid, &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st))
			bench_die("child failed");
	}
	t1 = bench_now_ns();
	c1 = bench_cpu_ns();
	children(&f1, &k1);
	printf("workload=fork size_mb=%llu forks=%llu time_ns=%llu cpu_ns=%llu "
	       "minflt=%ld",
	       (unsigned long long)(o->size / MB), (unsigned long long)o->forks,
	       (unsigned long long)(t1 - t0),
	       (unsigned long long)((c1 - c0) + (k1 - k0)), f1 - f0);
	bench_print_region("", p, o->size);
	printf("\n");
	return 0;
}

int main(int argc, char **argv)
{
	struct bench_opts o = { .size = 256 * MB };
	unsigned long long wns = 0;
	uint64_t t0, t1;
	const char *s;
	char line[1024];
	int fds[2], st;
	pid_t pid;
	ssize_t n;
	char *p;

	bench_init(argc, argv, &o,
		   "CoW storm: populate, fork, the child writes every page\n"
		   "(--forks N: N times, timed as a whole).\n");
	p = bench_map(o.size, o.madvise);
	bench_touch(p, o.size, PAGE);
	fflush(stdout);
	if (o.forks > 1)
		return fork_loop(&o, p);
	if (pipe(fds))
		bench_die("pipe: %s", strerror(errno));
	fflush(stdout);
	t0 = bench_now_ns();
	pid = fork();
	if (pid < 0)
		bench_die("fork: %s", strerror(errno));
	if (pid == 0) {
		uint64_t c0, c1;
		long f0, f1;

		close(fds[0]);
		f0 = bench_minflt();
		c0 = bench_now_ns();
		bench_touch(p, o.size, PAGE);
		c1 = bench_now_ns();
		f1 = bench_minflt();
		/* the child's report goes through the pipe to the parent */
		if (dup2(fds[1], 1) < 0)
			_exit(2);
		printf(" write_ns=%llu minflt=%ld",
		       (unsigned long long)(c1 - c0), f1 - f0);
		bench_print_region("child_", p, o.size);
		fflush(stdout);
		_exit(0);
	}
	t1 = bench_now_ns();
	close(fds[1]);
	n = 0;
	for (;;) {
		ssize_t r = read(fds[0], line + n, sizeof(line) - 1 - (size_t)n);

		if (r <= 0)
			break;
		n += r;
	}
	line[n > 0 ? n : 0] = '\0';
	if (waitpid(pid, &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st))
		bench_die("child failed");
	s = strstr(line, "write_ns=");
	if (!s || sscanf(s, "write_ns=%llu", &wns) != 1)
		bench_die("no report from the child");
	printf("workload=cow size_mb=%llu time_ns=%llu fork_ns=%llu%s",
	       (unsigned long long)(o.size / MB),
	       (unsigned long long)(t1 - t0) + wns,
	       (unsigned long long)(t1 - t0),
	       line);
	bench_print_region("", p, o.size);
	printf("\n");
	return 0;
}
