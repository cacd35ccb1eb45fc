/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * units: systemd units stopped and started through systemd's D-Bus API
 * (org.freedesktop.systemd1.Manager on the system bus, sd-bus), for the
 * host's hand-over of its only GPU (host/handover.h). libsystemd is opened
 * on the first call (base/dl.h): -ELIBACC / -ELIBBAD with e filled when it
 * cannot be. No printing.
 *
 * bus: the D-Bus address to talk to ("unix:path=…"); NULL = the system
 * bus. Only tests pass one (a stand-in for systemd on a private bus).
 */
#pragma once

#include <stdbool.h>

#include "base/error.h"

/* Whether unit is running: 1 when its ActiveState is anything but
 * "inactive" or "failed"; 0 then, and when systemd has no such unit loaded
 * (GetUnit: NoSuchUnit); -errno with e filled when systemd cannot be asked. */
int units_active(const char *bus, const char *unit, struct vl_error *e);

/* StopUnit (start = false) or StartUnit (unit, "replace"), then wait at
 * most timeout_ms for the job's JobRemoved signal. 0 when the job's result
 * is "done"; -EIO when it is another ("failed", "canceled", "timeout", …:
 * e says which); -ETIMEDOUT; other -errno when systemd cannot be asked. */
int units_change(const char *bus, const char *unit, bool start, unsigned timeout_ms, struct vl_error *e);
