// SPDX-License-Identifier: MIT
/* Control requests (see ctlproto.h). */
#define _GNU_SOURCE
#include "ctlproto.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "../lib/control.h"
#include "../lib/fptnl.h"

#define MAX_WORDS	8

int fptd_ctl_parse(const char *msg, size_t len, const char *cgroup_root,
		   struct fptd_ctl_req *req, char *err, size_t errlen)
{
	char buf[FPT_CONTROL_MAX + 1], *w[MAX_WORDS + 1], *save = NULL, *t;
	int nw = 0, i;
	unsigned int seen = 0;
	bool root = false;

	memset(req, 0, sizeof(*req));
	if (len > FPT_CONTROL_MAX) {
		snprintf(err, errlen, "request longer than %d bytes",
			 FPT_CONTROL_MAX);
		return -EINVAL;
	}
	if (memchr(msg, 0, len)) {
		snprintf(err, errlen, "NUL byte in the request");
		return -EINVAL;
	}
	memcpy(buf, msg, len);
	buf[len] = 0;
	while (len && (buf[len - 1] == '\n' || buf[len - 1] == '\r'))
		buf[--len] = 0;
	if (strpbrk(buf, "\n\r")) {
		snprintf(err, errlen, "one request per message, on one line");
		return -EINVAL;
	}
	for (t = strtok_r(buf, " \t", &save); t; t = strtok_r(NULL, " \t", &save)) {
		if (nw == MAX_WORDS) {
			snprintf(err, errlen, "too many words in the request");
			return -EINVAL;
		}
		w[nw++] = t;
	}
	if (!nw) {
		snprintf(err, errlen, "empty request (set, del, list or status)");
		return -EINVAL;
	}
	if (!strcmp(w[0], "list") || !strcmp(w[0], "status")) {
		if (nw != 1) {
			snprintf(err, errlen, "%s takes no arguments", w[0]);
			return -EINVAL;
		}
		req->cmd = w[0][0] == 'l' ? FPTD_CTL_LIST : FPTD_CTL_STATUS;
		return 0;
	}
	if (!strcmp(w[0], "set"))
		req->cmd = FPTD_CTL_SET;
	else if (!strcmp(w[0], "del"))
		req->cmd = FPTD_CTL_DEL;
	else {
		snprintf(err, errlen, "unknown request \"%.40s\" (set, del, list or status)",
			 w[0]);
		return -EINVAL;
	}
	if (nw < 2) {
		snprintf(err, errlen, "%s needs a cgroup path", w[0]);
		return -EINVAL;
	}
	if (fptd_cgroup_path(cgroup_root, w[1], req->path, sizeof(req->path),
			     err, errlen))
		return -EINVAL;
	if (req->cmd == FPTD_CTL_DEL) {
		if (nw != 2) {
			snprintf(err, errlen, "del takes only a cgroup path");
			return -EINVAL;
		}
		return 0;
	}
	req->pol.path = req->path;
	req->pol.backend = FPT_BACKEND_AUTO;
	for (i = 2; i < nw; i++) {
		static const char *const keys[] = { "mode", "defrag", "backend",
						    "thp2m" };

		if (!strcmp(w[i], "root=yes")) {
			root = true;
			continue;
		}
		char *eq = strchr(w[i], '=');
		unsigned int k;

		if (!eq) {
			snprintf(err, errlen, "\"%.60s\" is not key=value", w[i]);
			return -EINVAL;
		}
		*eq = 0;
		for (k = 0; k < 4; k++)
			if (!strcmp(w[i], keys[k]))
				break;
		if (k < 4 && (seen & (1u << k))) {
			snprintf(err, errlen, "%s given twice", keys[k]);
			return -EINVAL;
		}
		if (fptd_policy_key(&req->pol, w[i], eq + 1, err, errlen))
			return -EINVAL;
		seen |= 1u << k;
	}
	if (!(seen & 1u)) {
		snprintf(err, errlen, "set needs mode=on, mode=madvise or mode=off");
		return -EINVAL;
	}
	if (!req->path[0] && !root) {
		snprintf(err, errlen,
			 "\"/\" is the root cgroup: its policy covers every process on the host; add root=yes if that is meant (fptctl enable --root)");
		return -EINVAL;
	}
	if (req->path[0] && root) {
		snprintf(err, errlen, "root=yes is only for the root cgroup \"/\"");
		return -EINVAL;
	}
	return 0;
}
