// SPDX-License-Identifier: MIT
/*
 * libFuzzer target: fptd's configuration parsers (daemon/config.c) and
 * control requests (daemon/ctlproto.c) on arbitrary bytes.  Besides
 * crashes and sanitizer reports it checks what the parsers promise:
 * a refused text leaves the caller's settings and policy set unchanged
 * and says why with file:line; an accepted policy text reads back the
 * same after fptd_policies_format().
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../daemon/config.h"
#include "../../daemon/ctlproto.h"

static void check(int cond, const char *what)
{
	if (!cond) {
		fprintf(stderr, "fuzz_config: broken promise: %s\n", what);
		abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct fptd_errors err;
	struct fptd_settings s, before;
	struct fptd_policy_set set = { 0 }, back = { 0 };
	struct fptd_ctl_req req;
	char e[512];
	int ret;

	if (size > FPTD_FILE_MAX)
		return 0;

	/* daemon settings */
	fptd_settings_default(&s);
	before = s;
	memset(&err, 0, sizeof(err));
	ret = fptd_settings_parse((const char *)data, size, "fuzz.conf", &s,
				  &err);
	if (ret) {
		check(!memcmp(&s, &before, sizeof(s)), "settings changed on error");
		check(err.n > 0 && !strncmp(err.text, "fuzz.conf:", 10),
		      "no file:line in the error");
	} else {
		check(s.interval >= 1 && s.fb_low <= s.fb_high &&
		      s.frag_low <= s.frag_high, "accepted settings out of range");
	}

	/* policies */
	memset(&err, 0, sizeof(err));
	ret = fptd_policies_parse((const char *)data, size, "fuzz.conf",
				  "/sys/fs/cgroup", &set, &err);
	if (ret) {
		check(set.n == 0, "policies added on error");
		check(err.n > 0 && !strncmp(err.text, "fuzz.conf:", 10),
		      "no file:line in the error");
	} else {
		char *text = fptd_policies_format(&set);
		size_t i;

		check(text != NULL, "format failed");
		memset(&err, 0, sizeof(err));
		check(!fptd_policies_parse(text, strlen(text), "back",
					   "/sys/fs/cgroup", &back, &err),
		      "formatted policies do not parse back");
		/* a blank name never means every process */
		for (i = 0; i < set.n; i++)
			check(set.v[i].path[0] || memmem(data, size, "root", 4),
			      "the root cgroup without root = yes");
		check(back.n == set.n, "a different number of policies back");
		for (i = 0; i < set.n; i++) {
			struct fptd_policy *q = fptd_policy_find(&back, set.v[i].path);

			check(q && fptd_policy_same(q, &set.v[i]),
			      "a policy read back differs");
		}
		free(text);
	}
	fptd_policy_set_free(&set);
	fptd_policy_set_free(&back);

	/* a control request */
	ret = fptd_ctl_parse((const char *)data, size, "/sys/fs/cgroup", &req, e,
			     sizeof(e));
	check(ret == 0 || e[0], "a refused request without a reason");
	return 0;
}
