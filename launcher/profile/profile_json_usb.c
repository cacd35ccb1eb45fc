/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The profile's "usb":
 *
 *   { "controller": "qemu-xhci" | "nec-xhci" | "none",
 *     "devices": [ {"vendor": "046d", "product": "c52b", "serial": "...", "required": bool},
 *                  {"bus": 3, "port": "1.2", "required": bool} ] }
 *
 * The controller is the guest's, which the SPICE client's redirected
 * devices (display.usb_redirect) and the host's devices plug into. A device
 * is named by its ids or by where it is plugged in, told apart by the keys
 * as "inputs" are: mixing the two shapes would leave one of them unused.
 * The ids are strings of four hex digits, as lsusb and sysfs spell them.
 * Part of the strict loader: profile_json.c calls it for the top-level key;
 * the rules across elements are profile_usb.c's, the host's host/usb.c's.
 */
#include <errno.h>
#include <string.h>

#include "profile/profile_json_read.h"

static int opt_usb_id(struct ctx *c, json_t *o, const char *key, uint16_t *ret)
{
        char buf[8], q[QUOTE_MAX + 8];
        unsigned v = 0;
        size_t m;
        int r;

        if (!json_object_get(o, key))
                return pj_fail(c, "missing required key \"%s\" (four hex digits, as lsusb shows them: "
                                  "\"046d\")",
                               key);
        m = pj_enter_key(c, key);
        if (!json_is_string(json_object_get(o, key)))
                return pj_type_error(c, json_object_get(o, key), "a string of four hex digits (\"046d\")");
        pj_quote_value(json_object_get(o, key), q, sizeof(q));
        r = pj_check_string(c, json_object_get(o, key), buf, sizeof(buf));
        if (r < 0 || strlen(buf) != 4)
                return pj_fail(c, "%s is not a USB %s id (expected four hex digits: \"046d\")", q, key);
        for (size_t i = 0; i < 4; i++) {
                char ch = buf[i];
                unsigned d = ch >= '0' && ch <= '9'   ? (unsigned) (ch - '0')
                             : ch >= 'a' && ch <= 'f' ? (unsigned) (ch - 'a' + 10)
                             : ch >= 'A' && ch <= 'F' ? (unsigned) (ch - 'A' + 10)
                                                      : 16u;

                if (d == 16)
                        return pj_fail(c, "%s is not a USB %s id (expected four hex digits: \"046d\")", q, key);
                v = v * 16 + d;
        }
        *ret = (uint16_t) v;
        pj_leave(c, m);
        return 0;
}

static int device_element(struct ctx *c, json_t *o, unsigned i, void *ud)
{
        static const char *const keys[] = { "vendor", "product", "serial", "bus", "port", "required", NULL };
        struct profile_usb_device *d = &((struct profile_usb *) ud)->devices[i];
        bool required = true;
        int r;

        if (!json_is_object(o))
                return pj_type_error(c, o, "an object");
        if ((r = pj_check_keys(c, o, keys)) < 0 || (r = pj_opt_bool(c, o, "required", &required)) < 0)
                return r;
        d->optional = !required;
        if (json_object_get(o, "bus") || json_object_get(o, "port")) {
                static const char *const id_keys[] = { "vendor", "product", "serial" };

                for (size_t k = 0; k < sizeof(id_keys) / sizeof(id_keys[0]); k++)
                        if (json_object_get(o, id_keys[k])) {
                                (void) pj_enter_key(c, id_keys[k]);
                                return pj_fail(c, "a USB device is either {\"vendor\", \"product\"} (its ids) or "
                                                  "{\"bus\", \"port\"} (where it is plugged in), not both");
                        }
                if ((r = pj_require(c, o, "bus")) < 0 || (r = pj_require(c, o, "port")) < 0 ||
                    (r = pj_opt_unsigned(c, o, "bus", 1, 255, &d->bus)) < 0 ||
                    (r = pj_opt_string(c, o, "port", d->port, sizeof(d->port))) < 0)
                        return r;
                d->by_port = true;
                return 0;
        }
        if (!json_object_get(o, "vendor") && !json_object_get(o, "product"))
                return pj_fail(c, "missing required keys \"vendor\" and \"product\" (the device's ids: "
                                  "\"046d\", \"c52b\") or \"bus\" and \"port\" (where it is plugged in: 3, "
                                  "\"1.2\")");
        if ((r = opt_usb_id(c, o, "vendor", &d->vendor)) < 0 || (r = opt_usb_id(c, o, "product", &d->product)) < 0 ||
            (r = pj_opt_string(c, o, "serial", d->serial, sizeof(d->serial))) < 0)
                return r;
        return 0;
}

int profile_json_parse_usb(struct ctx *c, json_t *root, struct profile_usb *u)
{
        static const char *const keys[] = { "controller", "devices", NULL };
        int r, controller = USB_CONTROLLER_DEFAULT;
        size_t m, am, k, i;
        json_t *o = pj_enter_typed(c, root, "usb", JSON_OBJECT, &m, &r), *a, *v;

        if (!o)
                return r;
        if ((r = pj_check_keys(c, o, keys)) < 0 ||
            (r = pj_opt_enum(c, o, "controller", profile_usb_controller_name, &controller)) < 0)
                return r;
        u->controller = (enum usb_controller) controller;
        a = pj_enter_typed(c, o, "devices", JSON_ARRAY, &am, &r);
        if (!a && r < 0)
                return r;
        if (a) {
                json_array_foreach (a, i, v) {
                        k = pj_enter_index(c, i);
                        if (i >= PROFILE_USB_DEVICES_MAX)
                                return pj_fail(c, "too many USB devices (at most %d)", PROFILE_USB_DEVICES_MAX);
                        if ((r = device_element(c, v, (unsigned) i, u)) < 0)
                                return r;
                        pj_leave(c, k);
                }
                u->n_devices = (unsigned) json_array_size(a);
                pj_leave(c, am);
        }
        pj_leave(c, m);
        return 0;
}
