/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The host's own SMBIOS strings, for "smbios": "host": what the kernel
 * shows in SYS/class/dmi/id (its copy of the firmware's tables, read once
 * at boot). Read only.
 */
#pragma once

#include "base/error.h"
#include "base/roots.h"
#include "profile/profile.h"

/* Fill ret (mode SMBIOS_HOST) with every field profile_smbios_fields[]
 * names a host file for. A field the host does not have, or leaves empty,
 * stays "" (QEMU's default); one a guest could not be given as it is (too
 * long, not printable ASCII, not in the specification's format) stays ""
 * with a warning naming it. 0, or -ENOENT when the host shows no DMI tables
 * at all (e with the reason), or another -errno. */
int dmi_read(const struct host_roots *roots, struct profile_smbios *ret, struct vl_error *e,
             struct vl_warnings *w);
