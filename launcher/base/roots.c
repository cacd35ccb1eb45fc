/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "base/roots.h"

void host_roots_init(struct host_roots *r)
{
        *r = (struct host_roots) { .sysfs = "/sys", .dev = "/dev", .proc = "/proc", .run = HOST_RUN_DIR,
                              .shm = "/dev/shm" };
}
