/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The platform around the CPU: the SMBIOS fields (which type, key, QEMU
 * option and host file each one is, and what a value may hold) and the rule
 * of what "qemu_args" may not hold. Pure: the loader, profile_validate(),
 * the host's DMI reader and the builder all ask here.
 */
#include <ctype.h>
#include <stddef.h>
#include <string.h>

#include "profile/profile.h"

const struct smbios_field_info profile_smbios_fields[SMBIOS_FIELDS_N] = {
#define F(field, type, section, key, qemu_key, dmi) [field] = { type, section, key, qemu_key, dmi }
        F(SMBIOS_BIOS_VENDOR, 0, "bios", "vendor", "vendor", "bios_vendor"),
        F(SMBIOS_BIOS_VERSION, 0, "bios", "version", "version", "bios_version"),
        F(SMBIOS_BIOS_DATE, 0, "bios", "date", "date", "bios_date"),
        F(SMBIOS_BIOS_RELEASE, 0, "bios", "release", "release", "bios_release"),
        F(SMBIOS_SYSTEM_MANUFACTURER, 1, "system", "manufacturer", "manufacturer", "sys_vendor"),
        F(SMBIOS_SYSTEM_PRODUCT, 1, "system", "product", "product", "product_name"),
        F(SMBIOS_SYSTEM_VERSION, 1, "system", "version", "version", "product_version"),
        F(SMBIOS_SYSTEM_SERIAL, 1, "system", "serial", "serial", "product_serial"),
        /* Not copied from the host, as libvirt's mode='host' does not: two
         * machines with one UUID confuse licensing and management tools. */
        F(SMBIOS_SYSTEM_UUID, 1, "system", "uuid", "uuid", NULL),
        F(SMBIOS_SYSTEM_SKU, 1, "system", "sku", "sku", "product_sku"),
        F(SMBIOS_SYSTEM_FAMILY, 1, "system", "family", "family", "product_family"),
        F(SMBIOS_BOARD_MANUFACTURER, 2, "baseboard", "manufacturer", "manufacturer", "board_vendor"),
        F(SMBIOS_BOARD_PRODUCT, 2, "baseboard", "product", "product", "board_name"),
        F(SMBIOS_BOARD_VERSION, 2, "baseboard", "version", "version", "board_version"),
        F(SMBIOS_BOARD_SERIAL, 2, "baseboard", "serial", "serial", "board_serial"),
        F(SMBIOS_BOARD_ASSET, 2, "baseboard", "asset", "asset", "board_asset_tag"),
        F(SMBIOS_BOARD_LOCATION, 2, "baseboard", "location", "location", NULL),
        F(SMBIOS_CHASSIS_MANUFACTURER, 3, "chassis", "manufacturer", "manufacturer", "chassis_vendor"),
        F(SMBIOS_CHASSIS_VERSION, 3, "chassis", "version", "version", "chassis_version"),
        F(SMBIOS_CHASSIS_SERIAL, 3, "chassis", "serial", "serial", "chassis_serial"),
        F(SMBIOS_CHASSIS_ASSET, 3, "chassis", "asset", "asset", "chassis_asset_tag"),
        F(SMBIOS_CHASSIS_SKU, 3, "chassis", "sku", "sku", NULL),
#undef F
};

/* n decimal digits at s, as a number. */
static bool digits(const char *s, size_t n, unsigned *ret)
{
        unsigned v = 0;

        for (size_t i = 0; i < n; i++) {
                if (!isdigit((unsigned char) s[i]))
                        return false;
                v = v * 10 + (unsigned) (s[i] - '0');
        }
        *ret = v;
        return true;
}

const char *profile_smbios_value_refused(enum smbios_field f, const char *v)
{
        size_t n = strlen(v);
        unsigned a, b, c;

        if (n == 0)
                return "is empty";
        if (n >= PROFILE_SMBIOS_STR_MAX)
                return "is longer than 64 characters";
        /* SMBIOS strings are bytes the guest shows as text: printable ASCII
         * is what every firmware writes and every guest reads the same way. */
        for (const char *p = v; *p; p++)
                if (*p < 0x20 || *p > 0x7e)
                        return "holds a character that is not printable ASCII";
        switch (f) {
        case SMBIOS_BIOS_DATE:
                /* The SMBIOS specification's format (3.0, 7.1 BIOS Release Date). */
                if (n != 10 || v[2] != '/' || v[5] != '/' || !digits(v, 2, &a) || !digits(v + 3, 2, &b) ||
                    !digits(v + 6, 4, &c) || a < 1 || a > 12 || b < 1 || b > 31)
                        return "is not a date MM/DD/YYYY";
                break;
        case SMBIOS_BIOS_RELEASE: {
                /* QEMU's "%d.%d": two bytes of the table, major and minor. */
                const char *dot = strchr(v, '.');

                if (!dot || dot == v || dot - v > 3 || strlen(dot + 1) < 1 || strlen(dot + 1) > 3 ||
                    !digits(v, (size_t) (dot - v), &a) || !digits(dot + 1, strlen(dot + 1), &b) || a > 255 ||
                    b > 255)
                        return "is not a release MAJOR.MINOR (each 0..255)";
                break;
        }
        case SMBIOS_SYSTEM_UUID:
                for (size_t i = 0; i < n; i++) {
                        bool dash = i == 8 || i == 13 || i == 18 || i == 23;
                        if (n != 36 || (dash ? v[i] != '-' : !isxdigit((unsigned char) v[i])))
                                return "is not a UUID (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx)";
                }
                break;
        default:
                break;
        }
        return NULL;
}

/* The options the launcher owns, and why a profile may not pass them. */
static const struct {
        const char *option;
        const char *why;
} owned_options[] = {
        { "-sandbox", "the launcher sets QEMU's seccomp sandbox itself" },
        { "-runas", "QEMU already runs as the profile's user, its privileges dropped before exec" },
        { "-chroot", "QEMU already runs as the profile's user, its privileges dropped before exec" },
        { "-run-with", "QEMU already runs as the profile's user, its privileges dropped before exec" },
        { "-daemonize", "the launcher supervises QEMU as its child and gives the devices back when it exits" },
        { "-pidfile", "the launcher knows QEMU's pid and keeps its own run state" },
        { "-qmp", "the launcher owns QEMU's monitors (the run's own QMP socket is in `vfio-launch status`)" },
        { "-qmp-pretty", "the launcher owns QEMU's monitors (the run's own QMP socket is in `vfio-launch status`)" },
        { "-monitor", "the launcher owns QEMU's monitors (the run's own QMP socket is in `vfio-launch status`)" },
        { "-mon", "the launcher owns QEMU's monitors (the run's own QMP socket is in `vfio-launch status`)" },
        { "-nographic", "it puts a monitor on QEMU's standard input, and the launcher owns QEMU's monitors" },
        { "-incoming", "the launcher starts every VM from its disks; incoming migration is not supported" },
        { "-S", "the launcher starts QEMU stopped itself and resumes it once the vCPUs are pinned" },
        { "-preconfig", "the launcher's start-up sequence expects QEMU to be ready once its monitor answers" },
        { "-machine", "the machine comes from \"machine\"; a second -machine replaces the launcher's options" },
        { "-M", "the machine comes from \"machine\"; a second -machine replaces the launcher's options" },
        { "-accel", "the accelerator comes from \"accel\"" },
        { "-enable-kvm", "the accelerator comes from \"accel\"" },
        { "-name", "vCPU pinning finds QEMU's threads by the names the launcher's -name gives them" },
        { "-no-shutdown", "the launcher needs QEMU to exit when the guest powers off, to give the devices back" },
        { "-action", "the launcher needs QEMU to exit when the guest powers off; the watchdog's action is "
                     "\"watchdog\": {\"action\"}" },
        { "-readconfig", "a configuration file can hold any option the launcher owns" },
        { "-set", "it can rewrite the launcher's own options (its monitors, its devices)" },
};

const char *profile_qemu_arg_refused(const char *arg)
{
        /* QEMU takes "--opt" for "-opt". */
        if (arg[0] == '-' && arg[1] == '-' && arg[2] && arg[2] != '-')
                arg++;
        if (strncmp(arg, "mon:", 4) == 0)
                return "a chardev with \"mon:\" multiplexes a monitor into it, and the launcher owns QEMU's "
                       "monitors";
        for (size_t i = 0; i < ELEMENTSOF(owned_options); i++)
                if (strcmp(arg, owned_options[i].option) == 0)
                        return owned_options[i].why;
        return NULL;
}
