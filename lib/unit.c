// SPDX-License-Identifier: MIT
/* The cgroup of a systemd unit, over sd-bus (see cgpath.h). */
#define _GNU_SOURCE
#include "cgpath.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-bus.h>

/* D-Bus interface that has ControlGroup, by unit suffix. */
static const char *unit_interface(const char *unit)
{
	static const struct {
		const char *suffix, *iface;
	} t[] = {
		{ ".service", "org.freedesktop.systemd1.Service" },
		{ ".scope", "org.freedesktop.systemd1.Scope" },
		{ ".slice", "org.freedesktop.systemd1.Slice" },
		{ ".socket", "org.freedesktop.systemd1.Socket" },
		{ ".mount", "org.freedesktop.systemd1.Mount" },
		{ ".swap", "org.freedesktop.systemd1.Swap" },
	};
	size_t ul = strlen(unit), i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		size_t sl = strlen(t[i].suffix);

		if (ul > sl && !strcmp(unit + ul - sl, t[i].suffix))
			return t[i].iface;
	}
	return NULL;
}

int fpt_unit_cgroup(const char *unit, char *out, size_t len)
{
	sd_bus_error err = SD_BUS_ERROR_NULL;
	sd_bus_message *reply = NULL;
	sd_bus *bus = NULL;
	const char *iface, *obj, *cg;
	char *name = NULL, *prop = NULL;
	int ret;

	if (!unit || !*unit || strchr(unit, '/'))
		return -EINVAL;
	iface = unit_interface(unit);
	if (!iface && strchr(unit, '.'))
		return -EINVAL;		/* a unit type without a cgroup */
	if (asprintf(&name, "%s%s", unit, iface ? "" : ".service") < 0)
		return -ENOMEM;
	if (!iface)
		iface = "org.freedesktop.systemd1.Service";

	ret = sd_bus_open_system(&bus);
	if (ret < 0) {
		ret = -ECONNREFUSED;	/* no system bus: systemd not running */
		goto out;
	}
	ret = sd_bus_call_method(bus, "org.freedesktop.systemd1",
				 "/org/freedesktop/systemd1",
				 "org.freedesktop.systemd1.Manager", "GetUnit",
				 &err, &reply, "s", name);
	if (ret < 0) {
		/* org.freedesktop.systemd1.NoSuchUnit maps to ENOENT */
		if (sd_bus_error_has_name(&err,
					  "org.freedesktop.systemd1.NoSuchUnit"))
			ret = -ENOENT;
		else if (ret == -ENOENT || ret == -ENOTCONN ||
			 ret == -ECONNRESET)
			ret = -ECONNREFUSED;
		goto out;
	}
	ret = sd_bus_message_read(reply, "o", &obj);
	if (ret < 0)
		goto out;
	ret = sd_bus_get_property_string(bus, "org.freedesktop.systemd1", obj,
					 iface, "ControlGroup", &err, &prop);
	if (ret < 0)
		goto out;
	cg = prop;
	while (*cg == '/')
		cg++;
	if (!prop[0]) {
		ret = -ENOENT;		/* loaded but not running */
		goto out;
	}
	if (strlen(cg) >= len) {
		ret = -ENAMETOOLONG;
		goto out;
	}
	memcpy(out, cg, strlen(cg) + 1);
	ret = 0;
out:
	sd_bus_error_free(&err);
	sd_bus_message_unref(reply);
	sd_bus_unref(bus);
	free(prop);
	free(name);
	return ret;
}
