// SPDX-License-Identifier: MIT
/*
 * bench-cow: fork + CoW storm.  The parent populates --size MB, forks, and
 * the child writes one byte into every page (one copy-on-write fault per
 * page at 4 KB), scans its own pagemap and exits.  time_ns = fork_ns (the
 * fork() call, in the parent) + write_ns (the child's write loop; minflt
 * counts its faults); child_*: the child's region after its
 * writes (what the CoW copies are backed by); the parent's region before
 * the fork is reported without prefix.
 */
#include "bench.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

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
		   "CoW storm: populate, fork, the child writes every page.\n");
	p = bench_map(o.size, o.madvise);
	bench_touch(p, o.size, PAGE);
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
