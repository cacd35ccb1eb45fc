/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The rules of "usb.devices" across elements, for profile_validate(): what
 * the loader cannot see element by element. Pure: which host device an
 * element names, and whether it is plugged in, is host/usb.c's at run time.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "profile/profile.h"

#define FAIL(path, ...) vl_error_set_at(e, EINVAL, NULL, 0, 0, (path), __VA_ARGS__)

/* "1", "1.2", ...: what the kernel names a device's place below its root
 * hub (the part of "3-1.2" after the dash): at most 7 tiers, each port
 * 1..255. */
static bool port_valid(const char *port)
{
        unsigned tiers = 0;
        const char *s = port;

        for (;;) {
                unsigned v = 0, digits = 0;

                while (*s >= '0' && *s <= '9' && digits < 4) {
                        v = v * 10 + (unsigned) (*s - '0');
                        s++;
                        digits++;
                }
                if (digits == 0 || v == 0 || v > 255 || digits == 4 || ++tiers > 7)
                        return false;
                if (*s == '\0')
                        return true;
                if (*s++ != '.')
                        return false;
        }
}

void profile_usb_device_describe(const struct profile_usb_device *d, char *buf, size_t size)
{
        if (d->by_port)
                (void) snprintf(buf, size, "bus %u port %s", d->bus, d->port);
        else if (d->serial[0])
                (void) snprintf(buf, size, "%04x:%04x serial \"%s\"", d->vendor, d->product, d->serial);
        else
                (void) snprintf(buf, size, "%04x:%04x", d->vendor, d->product);
}

static bool same_device(const struct profile_usb_device *a, const struct profile_usb_device *b)
{
        if (a->by_port != b->by_port)
                return false;
        if (a->by_port)
                return a->bus == b->bus && strcmp(a->port, b->port) == 0;
        /* Without a serial, one element already takes any device of those
         * ids: a second would be the same one, or the ambiguity the host
         * check refuses. */
        return a->vendor == b->vendor && a->product == b->product &&
               (!a->serial[0] || !b->serial[0] || strcmp(a->serial, b->serial) == 0);
}

int profile_validate_usb_devices(const struct profile *p, struct vl_error *e)
{
        char path[64], what[PROFILE_USB_SERIAL_MAX + 64];

        if (p->usb.n_devices > PROFILE_USB_DEVICES_MAX)
                return FAIL("$.usb.devices", "%u USB devices are too many (at most %d)", p->usb.n_devices,
                            PROFILE_USB_DEVICES_MAX);
        if (p->usb.n_devices > 0 && profile_usb_controller(p) == USB_CONTROLLER_NONE)
                return FAIL("$.usb.devices", "host USB devices need the guest's USB controller: not with "
                                             "\"controller\": \"none\"");
        for (unsigned i = 0; i < p->usb.n_devices; i++) {
                const struct profile_usb_device *d = &p->usb.devices[i];

                (void) snprintf(path, sizeof(path), "$.usb.devices[%u]", i);
                if (d->by_port) {
                        (void) snprintf(path, sizeof(path), "$.usb.devices[%u].bus", i);
                        if (d->bus < 1 || d->bus > 255)
                                return FAIL(path, "bus %u is out of range (expected 1..255)", d->bus);
                        (void) snprintf(path, sizeof(path), "$.usb.devices[%u].port", i);
                        if (!port_valid(d->port))
                                return FAIL(path, "\"%s\" is not a USB port path (expected \"1\", \"1.2\", ...: "
                                                  "at most 7 ports 1..255 joined by dots)",
                                            d->port);
                } else if (d->vendor == 0) {
                        (void) snprintf(path, sizeof(path), "$.usb.devices[%u].vendor", i);
                        return FAIL(path, "vendor 0000 is not a USB vendor id");
                }
                (void) snprintf(path, sizeof(path), "$.usb.devices[%u]", i);
                for (unsigned k = 0; k < i; k++)
                        if (same_device(d, &p->usb.devices[k])) {
                                profile_usb_device_describe(d, what, sizeof(what));
                                return FAIL(path, "%s may be the device of $.usb.devices[%u] too", what, k);
                        }
        }
        return 0;
}
