// SPDX-License-Identifier: MIT
/* fptd's control socket, the client side (see control.h). */
#define _GNU_SOURCE
#include "control.h"
#include "errname.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

int fpt_control_connect(const char *path, int *fd)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int s, ret;

	if (!path) {
		path = getenv("FPT_CONTROL_SOCKET");
		if (!path || !*path)
			path = FPT_CONTROL_SOCKET;
	}
	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, path);
	s = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (s < 0)
		return -errno;
	if (connect(s, (struct sockaddr *)&sa, sizeof(sa))) {
		ret = -errno;
		close(s);
		return ret;
	}
	*fd = s;
	return 0;
}

/* The last line of @buf[0..len) starts with "ok" or "err"? */
static int complete(const char *buf, size_t len)
{
	const char *last;

	while (len && buf[len - 1] == '\n')
		len--;
	last = memrchr(buf, '\n', len);
	last = last ? last + 1 : buf;
	return (!strncmp(last, "ok", 2) &&
		(last[2] == ' ' || last[2] == '\n' || !last[2])) ||
	       (!strncmp(last, "err", 3) &&
		(last[3] == ' ' || last[3] == '\n' || !last[3]));
}

/*
 * A message waiting on a socket whose other end is closed.  When fptd
 * refuses a connection (err EBUSY) it sends why and closes; if our
 * request had reached it by then, the kernel reports ECONNRESET first
 * (once) and keeps the message queued behind it.
 */
static ssize_t left_behind(int fd, char *buf, size_t len)
{
	ssize_t n = recv(fd, buf, len, MSG_DONTWAIT);

	if (n < 0 && errno == ECONNRESET)
		n = recv(fd, buf, len, MSG_DONTWAIT);
	return n;
}

int fpt_control_request(int fd, const char *req, char *reply, size_t len,
			int timeout_ms)
{
	size_t rl = strlen(req), got = 0;
	ssize_t n;

	if (len < 2)
		return -EINVAL;
	if (rl > FPT_CONTROL_MAX)
		return -EMSGSIZE;
	if (timeout_ms <= 0)
		timeout_ms = 5000;
	do
		n = send(fd, req, rl, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	if (n < 0) {
		int e = errno;

		if (e != EPIPE && e != ECONNRESET)
			return -e;
		n = left_behind(fd, reply, len - 1);
		if (n <= 0)
			return -e;
		reply[n] = 0;
		while (n && reply[n - 1] == '\n')
			reply[--n] = 0;
		return 0;
	}
	for (;;) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		int r = poll(&pfd, 1, timeout_ms);

		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (r == 0)
			return -ETIMEDOUT;
		if (got + 1 >= len)
			return -EMSGSIZE;
		n = recv(fd, reply + got, len - got - 1, 0);
		if (n < 0 && errno == ECONNRESET)
			n = left_behind(fd, reply + got, len - got - 1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			return got ? -EPROTO : -ECONNRESET;
		/* messages are lines: separate them if the sender did not */
		got += (size_t)n;
		reply[got] = 0;
		if (complete(reply, got))
			break;
		if (reply[got - 1] != '\n' && got + 1 < len - 1) {
			reply[got++] = '\n';
			reply[got] = 0;
		}
	}
	while (got && reply[got - 1] == '\n')
		reply[--got] = 0;
	return 0;
}

int fpt_control_status(char *reply, const char **text)
{
	char *last = strrchr(reply, '\n'), *end;
	int e;

	last = last ? last + 1 : reply;
	end = last + strcspn(last, "\n");
	*end = 0;
	if (text)
		*text = "";
	if (!strncmp(last, "ok", 2) && (!last[2] || last[2] == ' ')) {
		if (text && last[2])
			*text = last + 3;
		return 0;
	}
	if (!strncmp(last, "err", 3) && (!last[3] || last[3] == ' ')) {
		char *name = last + 3, *t;

		while (*name == ' ')
			name++;
		t = name + strcspn(name, " ");
		if (*t) {
			*t++ = 0;
			while (*t == ' ')
				t++;
		}
		e = fpt_errno_parse(name);
		if (text)
			*text = t;
		return e > 0 ? e : EIO;
	}
	return -1;
}

int fpt_control_word_ok(const char *s)
{
	if (!s || !*s)
		return 0;
	for (; *s; s++)
		if ((unsigned char)*s <= ' ' || *s == 0x7f)
			return 0;
	return 1;
}

/* Copy @n bytes of @s to @dst (size @len); false if they do not fit. */
static int put(char *dst, size_t len, const char *s, size_t n)
{
	if (n >= len)
		return 0;
	memcpy(dst, s, n);
	dst[n] = 0;
	return 1;
}

int fpt_control_parse_policy(const char *line, struct fpt_control_policy *p)
{
	const char *w, *src, *st, *end = line + strlen(line);
	size_t n;

	memset(p, 0, sizeof(*p));
	if (strncmp(line, "policy ", 7))
		return -EINVAL;
	w = line + 7;
	n = strcspn(w, " ");
	if (!n || !put(p->path, sizeof(p->path), w, n))
		return -EINVAL;
	w += n;
	/* the source (a file name) may hold spaces: state= is the last word */
	st = NULL;
	for (src = end; src > w; src--)
		if (!strncmp(src, " state=", 7)) {
			st = src;
			break;
		}
	src = st ? memmem(w, (size_t)(st - w), " source=", 8) : NULL;
	if (!st || !src ||
	    !put(p->state, sizeof(p->state), st + 7, (size_t)(end - st - 7)) ||
	    !put(p->source, sizeof(p->source), src + 8,
		 (size_t)(st - src - 8)) || !p->state[0] || strchr(p->state, ' '))
		return -EINVAL;
	/* key=value words before the source */
	while (w < src) {
		const char *eq;
		char *dst = NULL;
		size_t dl = 0;

		while (w < src && *w == ' ')
			w++;
		n = strcspn(w, " ");
		if (w + n > src)
			n = (size_t)(src - w);
		eq = memchr(w, '=', n);
		if (!n || !eq)
			break;
#define KEY(k) ((size_t)(eq - w) == strlen(#k) && !strncmp(w, #k, strlen(#k)))
		if (KEY(mode))
			dst = p->mode, dl = sizeof(p->mode);
		else if (KEY(defrag))
			dst = p->defrag, dl = sizeof(p->defrag);
		else if (KEY(backend))
			dst = p->backend, dl = sizeof(p->backend);
		else if (KEY(thp2m))
			dst = p->thp2m, dl = sizeof(p->thp2m);
#undef KEY
		if (dst && !put(dst, dl, eq + 1, (size_t)(w + n - eq - 1)))
			return -EINVAL;
		w += n;
	}
	return p->mode[0] ? 0 : -EINVAL;	/* newer keys are skipped */
}
