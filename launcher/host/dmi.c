/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * dmi_read(): the host's SMBIOS strings (see dmi.h). The kernel's
 * drivers/firmware/dmi-id.c makes one attribute per string; the serial
 * numbers and the UUID are readable by root only, which the launcher is.
 */
#include <errno.h>
#include <string.h>

#include "base/fs.h"
#include "host/dmi.h"

int dmi_read(const struct host_roots *roots, struct profile_smbios *ret, struct vl_error *e,
             struct vl_warnings *w)
{
        char dir[256], path[320];
        int r;

        memset(ret, 0, sizeof(*ret));
        r = fs_join(dir, sizeof(dir), roots->sysfs, "class/dmi/id");
        if (r < 0)
                return vl_error_set(e, -r, "the host's sysfs path is too long");
        r = fs_exists(dir);
        if (r <= 0)
                return vl_error_set(e, ENOENT,
                                    "\"smbios\": \"host\": this host shows no SMBIOS tables ('%s' is missing; "
                                    "not an x86 firmware, or a kernel without CONFIG_DMI)",
                                    dir);
        for (unsigned f = 0; f < SMBIOS_FIELDS_N; f++) {
                const struct smbios_field_info *i = &profile_smbios_fields[f];
                /* One byte more than a field holds: a longer value is told
                 * apart from one that fits. */
                char v[PROFILE_SMBIOS_STR_MAX + 1];
                const char *why;
                size_t n;

                if (!i->dmi)
                        continue;
                r = fs_join(path, sizeof(path), dir, "%s", i->dmi);
                if (r >= 0)
                        r = fs_read(path, v, sizeof(v));
                if (r == -ENOENT)
                        continue; /* older kernels lack bios_release, product_sku, ... */
                if (r == -EFBIG)
                        why = "is longer than 64 characters";
                else if (r == -EACCES)
                        why = "is readable by root only"; /* a print by another account */
                else if (r < 0)
                        return vl_error_set(e, -r, "cannot read '%s': %s", path, strerror(-r));
                else {
                        /* Firmware pads its strings with spaces. */
                        for (n = strlen(v); n > 0 && v[n - 1] == ' '; n--)
                                v[n - 1] = '\0';
                        if (!v[0])
                                continue;
                        why = profile_smbios_value_refused(f, v);
                }
                if (why) {
                        vl_warn(w, "smbios: the host's %s %s %s: the guest gets QEMU's default", i->section,
                                i->key, why);
                        continue;
                }
                memcpy(ret->field[f], v, strlen(v) + 1);
        }
        ret->mode = SMBIOS_HOST;
        return 0;
}
