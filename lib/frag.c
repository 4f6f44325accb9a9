// SPDX-License-Identifier: MIT
/*
 * Order-4 fragmentation from /proc/buddyinfo and /proc/pagetypeinfo (see
 * frag.h).  Lines look like
 *   buddyinfo:    "Node 0, zone   Normal   1105    522 ...   (one per order)"
 *   pagetypeinfo: "Node    0, zone   Normal, type    Movable    12     3 ..."
 * where pagetypeinfo caps a count it stops counting at as ">100000".
 */
#define _GNU_SOURCE
#include "frag.h"

#include <ctype.h>
#include <stdbool.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *skip_ws(const char *p)
{
	while (*p == ' ' || *p == '\t')
		p++;
	return p;
}

/* "Node <n>, zone <name>" at p; returns the text after the zone name. */
static const char *parse_node_zone(const char *p, int *node, char *zone,
				   size_t zlen)
{
	char *end;
	long n;
	size_t l;

	p = skip_ws(p);
	if (strncmp(p, "Node", 4))
		return NULL;
	p = skip_ws(p + 4);
	n = strtol(p, &end, 10);
	if (end == p || n < 0 || n > 1 << 20)
		return NULL;
	p = skip_ws(end);
	if (*p != ',')
		return NULL;
	p = skip_ws(p + 1);
	if (strncmp(p, "zone", 4))
		return NULL;
	p = skip_ws(p + 4);
	l = strcspn(p, " \t,\n");
	if (!l || l >= zlen)
		return NULL;
	memcpy(zone, p, l);
	zone[l] = 0;
	*node = (int)n;
	return p + l;
}

/* The counts of one line: up to 64 orders.  Returns how many, -1 if bad. */
static int parse_counts(const char *p, uint64_t *v, int max)
{
	int n = 0;

	for (;;) {
		unsigned long long x;
		char *end;

		p = skip_ws(p);
		if (*p == '\n' || !*p)
			break;
		if (*p == '>')		/* pagetypeinfo's ">100000" */
			p++;
		if (!isdigit((unsigned char)*p))
			return -1;
		errno = 0;
		x = strtoull(p, &end, 10);
		if (errno)
			return -1;
		if (n >= max)
			return -1;
		v[n++] = x;
		p = end;
	}
	return n;
}

static struct fpt_frag_zone *find_zone(struct fpt_frag *f, int node,
				       const char *zone)
{
	int i;

	for (i = 0; i < f->nr_zones; i++)
		if (f->zones[i].node == node && !strcmp(f->zones[i].zone, zone))
			return &f->zones[i];
	return NULL;
}

#define MAX_COLS 64

uint64_t fpt_frag_zone_free(const struct fpt_frag_zone *z)
{
	return z->free_pages;
}

uint64_t fpt_frag_zone_free_ge64k(const struct fpt_frag_zone *z)
{
	return z->free_pages_ge64k;
}

double fpt_frag_zone_unusable(const struct fpt_frag_zone *z)
{
	if (!z->free_pages)
		return 0.0;
	return (double)(z->free_pages - z->free_pages_ge64k) /
	       (double)z->free_pages;
}

int fpt_frag_parse_buddyinfo(const char *text, struct fpt_frag *out)
{
	const char *line = text;

	memset(out, 0, sizeof(*out));
	if (!text)
		return -EINVAL;
	while (*line) {
		const char *nl = strchr(line, '\n'), *p;
		uint64_t v[MAX_COLS];
		struct fpt_frag_zone *z;
		char zone[16];
		int node, n, o;

		p = skip_ws(line);
		if (*p && *p != '\n') {
			p = parse_node_zone(line, &node, zone, sizeof(zone));
			if (!p)
				return -EINVAL;
			n = parse_counts(p, v, MAX_COLS);
			if (n <= 0 || out->nr_zones >= FPT_FRAG_MAX_ZONES ||
			    find_zone(out, node, zone))
				return -EINVAL;
			z = &out->zones[out->nr_zones++];
			z->node = node;
			snprintf(z->zone, sizeof(z->zone), "%s", zone);
			z->nr_orders = n < FPT_FRAG_MAX_ORDER ? n :
							       FPT_FRAG_MAX_ORDER;
			for (o = 0; o < n; o++) {
				uint64_t pages = v[o] << o;

				if (o < FPT_FRAG_MAX_ORDER)
					z->free_blocks[o] = v[o];
				z->free_pages += pages;
				if (o >= FPT_FRAG_ORDER_64K)
					z->free_pages_ge64k += pages;
			}
			out->free_pages += z->free_pages;
			out->free_pages_ge64k += z->free_pages_ge64k;
		}
		if (!nl)
			break;
		line = nl + 1;
	}
	if (!out->nr_zones)
		return -EINVAL;
	out->unusable_index_o4 = out->free_pages ?
		(double)(out->free_pages - out->free_pages_ge64k) /
		(double)out->free_pages : 0.0;
	return 0;
}

int fpt_frag_parse_pagetypeinfo(const char *text, struct fpt_frag *out)
{
	const char *line = text;
	bool in_free = false, any = false;
	int i;

	if (!text)
		return -EINVAL;
	for (i = 0; i < out->nr_zones; i++) {
		out->zones[i].movable_free_pages_ge64k = 0;
		out->zones[i].have_pagetypeinfo = 0;
	}
	out->movable_free_pages_ge64k = 0;
	while (*line) {
		const char *nl = strchr(line, '\n'), *p;

		if (!strncmp(line, "Free pages count per migrate type", 33)) {
			in_free = true;
		} else if (!strncmp(line, "Number of blocks type", 21)) {
			in_free = false;
		} else if (in_free && (p = skip_ws(line), *p == 'N')) {
			uint64_t v[MAX_COLS];
			struct fpt_frag_zone *z;
			char zone[16], type[32];
			int node, n, o;
			size_t l;

			p = parse_node_zone(line, &node, zone, sizeof(zone));
			if (!p)
				return -EINVAL;
			p = skip_ws(p);
			if (*p != ',')
				return -EINVAL;
			p = skip_ws(p + 1);
			if (strncmp(p, "type", 4))
				return -EINVAL;
			p = skip_ws(p + 4);
			l = strcspn(p, " \t\n");
			if (!l || l >= sizeof(type))
				return -EINVAL;
			memcpy(type, p, l);
			type[l] = 0;
			n = parse_counts(p + l, v, MAX_COLS);
			if (n <= 0)
				return -EINVAL;
			z = find_zone(out, node, zone);
			if (z)
				z->have_pagetypeinfo = 1;
			any = true;
			if (strcmp(type, "Movable"))
				goto next;
			for (o = FPT_FRAG_ORDER_64K; o < n; o++) {
				if (z)
					z->movable_free_pages_ge64k +=
						v[o] << o;
				out->movable_free_pages_ge64k += v[o] << o;
			}
		}
next:
		if (!nl)
			break;
		line = nl + 1;
	}
	if (!any)
		return -EINVAL;
	out->have_pagetypeinfo = 1;
	return 0;
}

/* A whole /proc file (they are small and not seekable by size). */
static int slurp(const char *path, char **text)
{
	size_t cap = 16384, len = 0;
	char *buf = malloc(cap);
	int fd, ret = 0;

	if (!buf)
		return -ENOMEM;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		ret = -errno;
		free(buf);
		return ret;
	}
	for (;;) {
		ssize_t n;

		if (cap - len < 4096) {
			char *nb = realloc(buf, cap * 2);

			if (!nb) {
				ret = -ENOMEM;
				break;
			}
			buf = nb;
			cap *= 2;
		}
		n = read(fd, buf + len, cap - len - 1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			ret = -errno;
			break;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	if (ret) {
		free(buf);
		return ret;
	}
	buf[len] = 0;
	*text = buf;
	return 0;
}

int fpt_frag_read(struct fpt_frag *out)
{
	char *text;
	int ret;

	ret = slurp("/proc/buddyinfo", &text);
	if (ret)
		return ret;
	ret = fpt_frag_parse_buddyinfo(text, out);
	free(text);
	if (ret)
		return ret;
	/* root only (0400): optional */
	if (slurp("/proc/pagetypeinfo", &text) == 0) {
		if (fpt_frag_parse_pagetypeinfo(text, out))
			out->have_pagetypeinfo = 0;
		free(text);
	}
	return 0;
}
