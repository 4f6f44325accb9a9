/* SPDX-License-Identifier: MIT */
/*
 * Naming cgroups the way people do: "db", "system.slice/postgresql.service",
 * "/sys/fs/cgroup/db", or a systemd unit.
 */
#ifndef FPT_CGPATH_H
#define FPT_CGPATH_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* The cgroup2 mount point ("/sys/fs/cgroup" usually), from /proc/self/mountinfo. */
int fpt_cgroup2_mount(char *buf, size_t len);

/*
 * Normalise @name to a path relative to the cgroup2 mount @mnt, without a
 * leading or trailing "/" ("" is the root): accepts relative paths and
 * absolute paths under @mnt; rejects "..", empty components, paths outside
 * the mount.  0 or -EINVAL.  Pure: no file system access (unit-tested).
 */
int fpt_cgroup_normalise(const char *mnt, const char *name, char *out,
			 size_t len);

/*
 * A cgroup as a person or a configuration names it, to the path relative
 * to the cgroup2 mount @mnt ("" for the root cgroup):
 *   "db", "system.slice/x.service"   relative to the mount
 *   "/sys/fs/cgroup/db"              absolute, under the mount
 *   "/db"                            as /proc/PID/cgroup and /proc/fpt show it
 *   "/"                              the root cgroup: this spelling only
 * Refused with -EINVAL and *@why (one of the FPT_CGROUP_WHY_* predicates,
 * to follow the name in a message; @why may be NULL) set: "" (a blank template variable must not mean every
 * process), other spellings of the root (".", the mount point itself),
 * a path under /sys/fs/cgroup when cgroup2 is mounted elsewhere (a hybrid
 * host: there "/sys/fs/cgroup/db" is no cgroup2 path), "..", empty
 * components.  -ENAMETOOLONG if @out is too small.  Pure (unit-tested);
 * fptd's configuration, its control requests and fptctl all name cgroups
 * through it.
 */
#define FPT_CGROUP_WHY_EMPTY	"is empty (a blank variable?); the root cgroup, i.e. every process, is written \"/\""
#define FPT_CGROUP_WHY_ROOT	"names the root cgroup, i.e. every process, in another way than \"/\""
#define FPT_CGROUP_WHY_HYBRID	"is under /sys/fs/cgroup, but the cgroup2 file system is mounted elsewhere"
#define FPT_CGROUP_WHY_PATH	"is not a cgroup path (no \"..\", no empty components)"
int fpt_cgroup_name(const char *mnt, const char *name, char *out, size_t len,
		    const char **why);

/* The cgroup id (inode number of its directory) of a relative path.
 * 0, -ENOENT (no such cgroup), -ENOTDIR, or another negative errno. */
int fpt_cgroup_id(const char *mnt, const char *rel, uint64_t *id);

/*
 * The cgroup of a systemd unit via sd-bus (ControlGroup property), in the
 * form fpt_cgroup_normalise() gives ("system.slice/foo.service").  A name
 * without a unit suffix gets ".service".  -ENOENT: no such unit, or it has
 * no cgroup (not running); -ECONNREFUSED: no system bus to ask (systemd
 * not running); -EINVAL: not a unit name with a cgroup; other negative
 * errnos from sd-bus.  (In unit.c,
 * so that programs not calling it do not link libsystemd.)
 */
int fpt_unit_cgroup(const char *unit, char *out, size_t len);

/*
 * Extensions.
 * fpt_cgroup2_mount_root(): also the root of the hierarchy that mount shows
 * (mountinfo's 4th field, "/" unless inside a cgroup namespace).
 * fpt_cgroup_normalise() also returns -ENAMETOOLONG when @out is too small.
 * fpt_cgroup_dir(): "<mnt>/<rel>" (or <mnt> for the root) into @out.
 */
int fpt_cgroup2_mount_root(char *mnt, size_t mlen, char *root, size_t rlen);
/* The same from a mountinfo text (the first cgroup2 mount; -ENOENT if
 * none).  @root may be NULL. */
int fpt_cgroup2_mount_parse(FILE *f, char *mnt, size_t mlen, char *root,
			    size_t rlen);
int fpt_cgroup_dir(const char *mnt, const char *rel, char *out, size_t len);

#endif
