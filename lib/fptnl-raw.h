/* SPDX-License-Identifier: MIT */
/*
 * Low-level access to an fptnl connection, for clients that must build a
 * message libfptnl has no call for (fpt-nl's malformed-request cases).
 * Needs libmnl's headers; fptnl.h alone does not.
 */
#ifndef FPTNL_RAW_H
#define FPTNL_RAW_H

#include <libmnl/libmnl.h>
#include "fptnl.h"

/* Size of the request buffer fptnl_msg_start() expects. */
#define FPTNL_MSG_BUF	8192

/*
 * Start a request of @cmd (version FPT_GENL_VERSION) in @buf (FPTNL_MSG_BUF
 * bytes, zeroed first) with NLM_F_REQUEST | @flags.
 */
struct nlmsghdr *fptnl_msg_start(const struct fptnl *nl, char *buf,
				 uint8_t cmd, uint16_t flags);

/*
 * Start a nest with NLA_F_NESTED set: strict validation (the default for
 * new generic netlink families) refuses nests without it, and libmnl's
 * mnl_attr_nest_start() does not set it.  End it with mnl_attr_nest_end().
 */
struct nlattr *fptnl_nest_start(struct nlmsghdr *nlh, uint16_t type);

/*
 * Send @nlh (its sequence number is set here) and process the replies up
 * to the ACK or NLMSG_DONE, passing each data message to @cb (may be
 * NULL).  0, or a negative errno: the kernel's refusal (see
 * fptnl_kernel_error(), fptnl_ack()) or a local error.
 */
int fptnl_talk(struct fptnl *nl, struct nlmsghdr *nlh, mnl_cb_t cb,
	       void *data);

/* Parse one fpt reply message.  0 or -EBADMSG. */
int fptnl_parse_reply(const struct nlmsghdr *nlh, struct fptnl_reply *r);

#endif
