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
	if (n < 0)
		return -errno;
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
