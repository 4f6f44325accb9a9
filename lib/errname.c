// SPDX-License-Identifier: MIT
/* errno values <-> names (see errname.h). */
#include "errname.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ENOTSUPP_KERNEL	524	/* kernel internal, may leak through */

static const struct {
	int e;
	const char *name;
} errnames[] = {
#define E(x) { x, #x },
	E(EPERM) E(ENOENT) E(ESRCH) E(EINTR) E(EIO) E(ENXIO) E(E2BIG)
	E(EBADF) E(EAGAIN) E(ENOMEM) E(EACCES) E(EFAULT) E(EBUSY) E(EEXIST)
	E(EXDEV) E(ENODEV) E(ENOTDIR) E(EISDIR) E(EINVAL) E(ENFILE)
	E(EMFILE) E(ENOSPC) E(ESPIPE) E(EROFS) E(EMLINK) E(EPIPE) E(EDOM)
	E(ERANGE) E(EDEADLK) E(ENAMETOOLONG) E(ENOSYS) E(ENOTEMPTY)
	E(ELOOP) E(ENOMSG) E(ENODATA) E(ENOLINK) E(EPROTO) E(EBADMSG)
	E(EOVERFLOW) E(EMSGSIZE) E(EPROTONOSUPPORT) E(EOPNOTSUPP)
	E(EAFNOSUPPORT) E(EADDRINUSE) E(ENOBUFS) E(ENOTCONN) E(ETIMEDOUT)
	E(ECONNREFUSED) E(EALREADY) E(EINPROGRESS) E(ESTALE) E(ECANCELED)
	E(EOWNERDEAD) E(ENOTRECOVERABLE)
#undef E
	{ ENOTSUPP_KERNEL, "ENOTSUPP" },
	{ 526, "ENOTSUPP_526" },
};

const char *fpt_errno_name(int e)
{
	static __thread char buf[16];
	size_t i;

	for (i = 0; i < sizeof(errnames) / sizeof(errnames[0]); i++)
		if (errnames[i].e == e)
			return errnames[i].name;
	snprintf(buf, sizeof(buf), "E%d", e);
	return buf;
}

int fpt_errno_parse(const char *name)
{
	size_t i;
	char *end;
	long v;

	if (!name || name[0] != 'E')
		return 0;
	for (i = 0; i < sizeof(errnames) / sizeof(errnames[0]); i++)
		if (!strcmp(errnames[i].name, name))
			return errnames[i].e;
	/* aliases that share a value with a name above */
	if (!strcmp(name, "EWOULDBLOCK"))
		return EWOULDBLOCK;
	if (!strcmp(name, "ENOTSUP"))
		return ENOTSUP;
	if (name[1] >= '1' && name[1] <= '9') {
		v = strtol(name + 1, &end, 10);
		if (!*end && v > 0 && v < 4096)
			return (int)v;
	}
	return 0;
}
