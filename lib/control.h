/* SPDX-License-Identifier: MIT */
/*
 * fptd's control socket: how fptctl asks the daemon to change policy, so
 * that the change is persisted under /var/lib/fpt and survives a reboot.
 *
 * AF_UNIX SOCK_SEQPACKET at FPT_CONTROL_SOCKET; one request per message,
 * one reply per request; text, one line, no trailing newline needed.
 * Requests (the same words as a policy file line, see daemon/README):
 *   set <cgroup-path> mode=on|madvise|off [defrag=yes|no]
 *       [backend=auto|folio|reserve] [thp2m=allow|deny]
 *   del <cgroup-path>
 *   list                  -> one "policy <cgroup-path> key=value..." line
 *                            per persisted policy, then "ok"
 * Replies: "ok [text]" or "err <ERRNO-NAME> <text for a person>".
 * <cgroup-path> is relative to the cgroup2 mount, without a leading "/".
 * The daemon checks the peer's credentials (SO_PEERCRED): changes need
 * uid 0 or CAP_NET_ADMIN.
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

#endif
