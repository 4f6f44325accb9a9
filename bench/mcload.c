// SPDX-License-Identifier: MIT
/*
 * bench-mcload: a small memcached load generator (text protocol) for the
 * benchmark.  Talks to 127.0.0.1 only; every loop is bounded.
 *
 *   bench-mcload --port P --keys N --value-size V --gets M [--depth D]
 *
 * Phase 1 stores keys 0..N-1 with V-byte values ("set"), phase 2 does M
 * "get"s of random keys; both pipelined D requests deep on one
 * connection.  Prints sets_per_s, set_ns, gets_per_s, get_ns, misses and
 * errors.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static void die(const char *what)
{
	fprintf(stderr, "bench-mcload: %s: %s\n", what, strerror(errno));
	exit(2);
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static void send_all(int fd, const char *p, size_t len)
{
	while (len) {
		ssize_t n = send(fd, p, len, 0);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			die("send");
		}
		p += n;
		len -= (size_t)n;
	}
}

/* A receive buffer with line and byte readers. */
static char rbuf[1 << 20];
static size_t rlen, rpos;

static void fill(int fd)
{
	ssize_t n;

	if (rpos > 0) {
		memmove(rbuf, rbuf + rpos, rlen - rpos);
		rlen -= rpos;
		rpos = 0;
	}
	if (rlen == sizeof(rbuf)) {
		errno = ENOBUFS;
		die("recv buffer full");
	}
	do
		n = recv(fd, rbuf + rlen, sizeof(rbuf) - rlen, 0);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		die("recv");
	if (n == 0) {
		errno = ECONNRESET;
		die("server closed the connection");
	}
	rlen += (size_t)n;
}

/* The next line without "\r\n" (valid until the next read). */
static char *read_line(int fd)
{
	for (;;) {
		char *e = memmem(rbuf + rpos, rlen - rpos, "\r\n", 2);

		if (e) {
			char *l = rbuf + rpos;

			*e = '\0';
			rpos = (size_t)(e - rbuf) + 2;
			return l;
		}
		fill(fd);
	}
}

static void skip_bytes(int fd, size_t n)
{
	while (rlen - rpos < n)
		fill(fd);
	rpos += n;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "port", required_argument, NULL, 'p' },
		{ "keys", required_argument, NULL, 'k' },
		{ "value-size", required_argument, NULL, 'v' },
		{ "gets", required_argument, NULL, 'g' },
		{ "depth", required_argument, NULL, 'd' },
		{ NULL, 0, NULL, 0 }
	};
	unsigned long port = 11211, keys = 100000, vsize = 1024, gets = 100000;
	unsigned long depth = 32, i, j, misses = 0, errors = 0;
	struct sockaddr_in sa = { .sin_family = AF_INET };
	uint64_t t0, t1, t2, x = 0x9E3779B97F4A7C15ULL;
	char *req, *value, *q;
	int c, fd, one = 1;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		unsigned long v = 0;

		if (optarg)
			v = strtoul(optarg, NULL, 0);
		switch (c) {
		case 'p': port = v; break;
		case 'k': keys = v; break;
		case 'v': vsize = v; break;
		case 'g': gets = v; break;
		case 'd': depth = v; break;
		default:
			fprintf(stderr, "usage: bench-mcload --port P --keys N "
				"--value-size V --gets M [--depth D]\n");
			return 2;
		}
	}
	if (!port || port > 65535 || !keys || !vsize || vsize > 256 * 1024 ||
	    !depth || depth > 1024) {
		fprintf(stderr, "bench-mcload: bad arguments\n");
		return 2;
	}
	sa.sin_port = htons((uint16_t)port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);	/* 127.0.0.1 only */
	fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0)
		die("socket");
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)))
		die("connect 127.0.0.1");

	value = malloc(vsize);
	req = malloc(depth * (vsize + 64));
	if (!value || !req)
		die("malloc");
	for (i = 0; i < vsize; i++)
		value[i] = (char)('a' + i % 26);

	t0 = now_ns();
	for (i = 0; i < keys; i += depth) {
		unsigned long n = keys - i < depth ? keys - i : depth;

		q = req;
		for (j = 0; j < n; j++) {
			q += sprintf(q, "set k%lu 0 0 %lu\r\n", i + j, vsize);
			memcpy(q, value, vsize);
			q += vsize;
			*q++ = '\r';
			*q++ = '\n';
		}
		send_all(fd, req, (size_t)(q - req));
		for (j = 0; j < n; j++)
			if (strcmp(read_line(fd), "STORED"))
				errors++;
	}
	t1 = now_ns();
	for (i = 0; i < gets; i += depth) {
		unsigned long n = gets - i < depth ? gets - i : depth;

		q = req;
		for (j = 0; j < n; j++) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			q += sprintf(q, "get k%lu\r\n", (unsigned long)(x % keys));
		}
		send_all(fd, req, (size_t)(q - req));
		for (j = 0; j < n; j++) {
			char *l = read_line(fd);
			unsigned long len;

			if (!strncmp(l, "VALUE ", 6)) {
				l = strrchr(l, ' ');
				len = strtoul(l + 1, NULL, 10);
				skip_bytes(fd, len + 2);
				l = read_line(fd);
			} else {
				misses++;
			}
			if (strcmp(l, "END"))
				errors++;
		}
	}
	t2 = now_ns();
	close(fd);
	printf("sets=%lu set_ns=%llu sets_per_s=%.0f gets=%lu get_ns=%llu "
	       "gets_per_s=%.0f misses=%lu errors=%lu value_size=%lu\n",
	       keys, (unsigned long long)(t1 - t0),
	       (double)keys * 1e9 / (double)(t1 - t0), gets,
	       (unsigned long long)(t2 - t1),
	       gets ? (double)gets * 1e9 / (double)(t2 - t1) : 0.0,
	       misses, errors, vsize);
	free(req);
	free(value);
	return errors ? 1 : 0;
}
