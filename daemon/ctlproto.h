/* SPDX-License-Identifier: MIT */
/*
 * The requests of fptd's control socket (lib/control.h), parsed without
 * side effects: "set <cgroup> mode=... [defrag=...] [backend=...]
 * [thp2m=...] [root=yes]" (root=yes: required for, and only for, the
 * root cgroup "/"), "del <cgroup>", "list", "status".
 */
#ifndef FPTD_CTLPROTO_H
#define FPTD_CTLPROTO_H

#include <stddef.h>

#include "config.h"

enum fptd_ctl_cmd { FPTD_CTL_SET, FPTD_CTL_DEL, FPTD_CTL_LIST, FPTD_CTL_STATUS };

struct fptd_ctl_req {
	enum fptd_ctl_cmd cmd;
	char path[FPTD_PATH_MAX];	/* normalised ("" root) */
	struct fptd_policy pol;		/* SET: pol.path == path */
};

/* 0, or -EINVAL with a sentence for the client in @err. */
int fptd_ctl_parse(const char *msg, size_t len, const char *cgroup_root,
		   struct fptd_ctl_req *req, char *err, size_t errlen);

#endif
