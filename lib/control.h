/* SPDX-License-Identifier: MIT */
/*
 * fptd's control socket: how fptctl asks the daemon to change policy, so
 * that the change is persisted under /var/lib/fpt and survives a reboot.
 *
 * AF_UNIX SOCK_SEQPACKET at FPT_CONTROL_SOCKET; one request per message,
 * one reply per request; text, one line, no trailing newline needed.
 * Requests (the same words as a policy file line, see daemon/README):
 *   set <cgroup-path> mode=on|madvise|off [defrag=yes|no]
 *       [backend=auto|folio|reserve] [thp2m=allow|deny] [root=yes]
 *   del <cgroup-path>
 *   list                  -> one "policy <cgroup-path> mode=.. defrag=..
 *                            backend=.. thp2m=.. source=<file:line|fptctl>
 *                            state=<state>" line per policy fptd manages,
 *                            then "ok"
 *   status                -> "ok <fptd's status line>"
 * Replies: "ok [text]" or "err <ERRNO-NAME> <text for a person>".
 * <cgroup-path> is relative to the cgroup2 mount, without a leading "/";
 * "/" is the root cgroup, and setting its policy needs root=yes.
 * Anyone may list and ask for the status; set and del need CAP_NET_ADMIN
 * in the daemon's user namespace (checked on the peer's process:
 * SO_PEERCRED, its /proc/PID/status; uid 0 alone is not enough).
 */
#ifndef FPT_CONTROL_H
#define FPT_CONTROL_H

#define FPT_CONTROL_SOCKET	"/run/fpt/control"
#define FPT_CONTROL_MAX		8192	/* largest message */

/*
 * The client side (control.c; used by fptctl).  Every call returns 0 or a
 * negative errno.
 */
#include <stddef.h>

/*
 * Connect to fptd at @path (NULL: FPT_CONTROL_SOCKET, or $FPT_CONTROL_SOCKET
 * if set, for tests).  -ENOENT or -ECONNREFUSED: fptd is not running;
 * -EACCES: not allowed to talk to it.  @fd receives the socket.
 */
int fpt_control_connect(const char *path, int *fd);

/*
 * Send @req and read the whole reply into @reply (NUL-terminated, lines
 * separated by '\n'): one message, or several up to the one whose last
 * line starts with "ok" or "err".  @timeout_ms bounds each wait (<= 0: 5 s).
 */
int fpt_control_request(int fd, const char *req, char *reply, size_t len,
			int timeout_ms);

/*
 * The status line of a reply: the last line.  Returns 0 for "ok [text]",
 * the positive errno of "err NAME text" (EIO if NAME is unknown), or -1 if
 * the reply is malformed.  @text (may be NULL) receives a pointer to the
 * text after "ok " / "err NAME " inside @reply ("" if none); the line is
 * cut at its end in place.
 */
int fpt_control_status(char *reply, const char **text);

/* Does @s need no quoting in a request (no whitespace, no control chars)? */
int fpt_control_word_ok(const char *s);

/* One "policy ..." line of a list reply, taken apart. */
struct fpt_control_policy {
	char path[4096];	/* as in the request: relative, "/" the root */
	char mode[16], defrag[8], backend[16], thp2m[8];
	char source[4200];	/* "file:line" or "fptctl" */
	char state[16];		/* applied, waiting, refused, no_module, ... */
};
/* 0, or -EINVAL if @line is not a policy line. */
int fpt_control_parse_policy(const char *line, struct fpt_control_policy *p);

#endif
