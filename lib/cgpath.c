// SPDX-License-Identifier: MIT
/* Naming cgroups (see cgpath.h). */
#define _GNU_SOURCE
#include "cgpath.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* mountinfo escapes space, tab, newline and backslash as \ooo. */
static void unescape(char *s)
{
	char *d = s;

	while (*s) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' &&
		    s[2] >= '0' && s[2] <= '7' && s[3] >= '0' && s[3] <= '7') {
			*d++ = (char)((s[1] - '0') * 64 + (s[2] - '0') * 8 +
				      (s[3] - '0'));
			s += 4;
		} else {
			*d++ = *s++;
		}
	}
	*d = 0;
}

static int copy_out(const char *s, char *out, size_t len)
{
	size_t n = strlen(s);

	if (n >= len)
		return -ENAMETOOLONG;
	memcpy(out, s, n + 1);
	return 0;
}

int fpt_cgroup2_mount_parse(FILE *f, char *mnt, size_t mlen, char *root,
			    size_t rlen)
{
	char *line = NULL;
	size_t cap = 0;
	int ret = -ENOENT;

	while (getline(&line, &cap, f) > 0) {
		char *fields[5], *dash, *save = NULL, *fstype;
		int i;

		dash = strstr(line, " - ");
		if (!dash)
			continue;
		*dash = 0;
		fstype = strtok_r(dash + 3, " \n", &save);
		if (!fstype || strcmp(fstype, "cgroup2"))
			continue;
		save = NULL;
		for (i = 0; i < 5; i++) {
			fields[i] = strtok_r(i ? NULL : line, " ", &save);
			if (!fields[i])
				break;
		}
		if (i < 5)
			continue;
		unescape(fields[3]);
		unescape(fields[4]);
		ret = copy_out(fields[4], mnt, mlen);
		if (!ret && root)
			ret = copy_out(fields[3], root, rlen);
		break;
	}
	free(line);
	return ret;
}

int fpt_cgroup2_mount_root(char *mnt, size_t mlen, char *root, size_t rlen)
{
	FILE *f = fopen("/proc/self/mountinfo", "re");
	int ret;

	if (!f)
		return -errno;
	ret = fpt_cgroup2_mount_parse(f, mnt, mlen, root, rlen);
	fclose(f);
	return ret;
}

int fpt_cgroup2_mount(char *buf, size_t len)
{
	return fpt_cgroup2_mount_root(buf, len, NULL, 0);
}

int fpt_cgroup_normalise(const char *mnt, const char *name, char *out,
			 size_t len)
{
	const char *p, *comp;
	size_t ml, o = 0;

	if (!name || !*name || !out || !len)
		return -EINVAL;
	if (name[0] == '/') {
		/* absolute: must be the mount or under it */
		if (!mnt || mnt[0] != '/')
			return -EINVAL;
		ml = strlen(mnt);
		while (ml > 1 && mnt[ml - 1] == '/')
			ml--;
		if (ml == 1)			/* cgroup2 mounted at "/" */
			ml = 0;
		if (strncmp(name, mnt, ml) || (name[ml] && name[ml] != '/'))
			return -EINVAL;
		p = name + ml;
		if (*p == '/')
			p++;
	} else {
		p = name;
	}
	/* components separated by single slashes; one trailing slash ok */
	while (*p) {
		size_t cl;

		comp = p;
		cl = strcspn(p, "/");
		p += cl;
		if (*p == '/')
			p++;
		if (cl == 0)
			return -EINVAL;		/* "a//b", "/a" after mount/ */
		if (cl == 1 && comp[0] == '.')
			continue;		/* "." adds nothing */
		if (cl == 2 && comp[0] == '.' && comp[1] == '.')
			return -EINVAL;
		if (o + (o ? 1 : 0) + cl + 1 > len)
			return -ENAMETOOLONG;
		if (o)
			out[o++] = '/';
		memcpy(out + o, comp, cl);
		o += cl;
	}
	out[o] = 0;
	return 0;
}

/* Is @name @prefix itself or under it ("/a" is under "/a", not "/ab")? */
static const char *under(const char *name, const char *prefix, size_t pl)
{
	while (pl > 1 && prefix[pl - 1] == '/')
		pl--;
	if (pl == 1 && prefix[0] == '/')
		pl = 0;
	if (strncmp(name, prefix, pl) || (name[pl] && name[pl] != '/'))
		return NULL;
	return name + pl;
}

int fpt_cgroup_name(const char *mnt, const char *name, char *out, size_t len,
		    const char **why)
{
	static const char conventional[] = "/sys/fs/cgroup";
	const char *rest, *dummy;
	int ret;

	if (!why)
		why = &dummy;
	*why = NULL;
	if (!out || !len)
		return -EINVAL;
	if (!name || !*name) {
		*why = FPT_CGROUP_WHY_EMPTY;
		return -EINVAL;
	}
	if (!strcmp(name, "/")) {
		out[0] = 0;
		return 0;
	}
	if (name[0] == '/') {
		rest = mnt && mnt[0] == '/' ? under(name, mnt, strlen(mnt)) :
					      NULL;
		if (rest) {
			/* a file system path under the mount */
			while (*rest == '/')
				rest++;
			if (!*rest) {
				*why = FPT_CGROUP_WHY_ROOT;
				return -EINVAL;
			}
		} else if (under(name, conventional, sizeof(conventional) - 1)) {
			/* cgroup2 is mounted elsewhere (a hybrid host) */
			*why = FPT_CGROUP_WHY_HYBRID;
			return -EINVAL;
		} else {
			/* "/db" as /proc/PID/cgroup and /proc/fpt show it */
			rest = name + 1;
		}
	} else {
		rest = name;
	}
	ret = fpt_cgroup_normalise(mnt, rest, out, len);
	if (ret == -ENAMETOOLONG)
		return ret;
	if (ret) {
		*why = FPT_CGROUP_WHY_PATH;
		return -EINVAL;
	}
	if (!out[0]) {
		*why = FPT_CGROUP_WHY_ROOT;	/* ".", "./", "/./" */
		return -EINVAL;
	}
	return 0;
}

int fpt_cgroup_dir(const char *mnt, const char *rel, char *out, size_t len)
{
	int n;

	if (!rel || !*rel)
		n = snprintf(out, len, "%s", mnt);
	else
		n = snprintf(out, len, "%s%s%s", mnt,
			     mnt[0] && mnt[strlen(mnt) - 1] == '/' ? "" : "/",
			     rel);
	if (n < 0)
		return -EINVAL;
	return (size_t)n >= len ? -ENAMETOOLONG : 0;
}

int fpt_cgroup_id(const char *mnt, const char *rel, uint64_t *id)
{
	char dir[4096 + 256];
	struct stat st;
	int ret = fpt_cgroup_dir(mnt, rel, dir, sizeof(dir));

	if (ret)
		return ret;
	if (stat(dir, &st))
		return -errno;
	if (!S_ISDIR(st.st_mode))
		return -ENOTDIR;
	*id = (uint64_t)st.st_ino;
	return 0;
}
