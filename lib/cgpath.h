/* SPDX-License-Identifier: MIT */
/*
 * Naming cgroups the way people do: "db", "system.slice/postgresql.service",
 * "/sys/fs/cgroup/db", or a systemd unit.
 */
#ifndef FPT_CGPATH_H
#define FPT_CGPATH_H

#include <stddef.h>
#include <stdint.h>

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
int fpt_cgroup_dir(const char *mnt, const char *rel, char *out, size_t len);

#endif
