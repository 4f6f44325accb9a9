/* SPDX-License-Identifier: MIT */
/*
 * errno values <-> their names ("ENOENT"), as fpt-nl prints them and as
 * fptd's control protocol (control.h) carries them.
 */
#ifndef FPT_ERRNAME_H
#define FPT_ERRNAME_H

/* "ENOENT" for ENOENT; "E<number>" for a value without a name here.
 * The returned string is static (thread-local buffer for unknown ones). */
const char *fpt_errno_name(int e);
/* The errno value of a name ("ENOENT", "E2"), or 0 if unknown. */
int fpt_errno_parse(const char *name);

#endif
