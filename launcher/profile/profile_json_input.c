/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The profile's "inputs": keyboards and mice for the guest. Each element is
 * one of two shapes, told apart by its keys:
 *
 *   {"evdev": "/dev/input/by-id/...-event-kbd", "grab_all": bool,
 *    "repeat": bool, "grab_toggle": "ctrl-ctrl"|...}   QEMU's input-linux
 *   {"type": "virtio-keyboard"|"virtio-mouse"|"virtio-tablet"}
 *
 * "evdev" names the host device, so it is the key that makes an element an
 * evdev input: a "type": "evdev" beside it would only be a second way to
 * say the same thing. The grab keys mean nothing to a virtio device and are
 * refused there rather than ignored. Part of the strict loader: profile_json.c
 * reads the array and calls profile_json_input_element() per element; the
 * rules across elements are profile_input.c's, the host's host/input.c's.
 */
#include <errno.h>
#include <string.h>

#include "profile/profile_json_read.h"

static int parse_evdev(struct ctx *c, json_t *o, struct profile_input *in)
{
        char q[QUOTE_MAX + 8];
        int r, toggle = GRAB_TOGGLE_DEFAULT;

        if ((r = pj_opt_string(c, o, "evdev", in->evdev, sizeof(in->evdev))) < 0)
                return r;
        /* Absolute: root resolves it on the host, never against the
         * profile's folder as a disk image would be. */
        if (in->evdev[0] != '/') {
                (void) pj_enter_key(c, "evdev");
                pj_quote_value(json_object_get(o, "evdev"), q, sizeof(q));
                return pj_fail(c, "%s is not an absolute path (expected an evdev node such as "
                                  "\"/dev/input/by-id/usb-...-event-kbd\")",
                               q);
        }
        if ((r = pj_opt_bool(c, o, "grab_all", &in->grab_all)) < 0 ||
            (r = pj_opt_bool(c, o, "repeat", &in->repeat)) < 0 ||
            (r = pj_opt_enum(c, o, "grab_toggle", profile_grab_toggle_name, &toggle)) < 0)
                return r;
        in->type = INPUT_EVDEV;
        in->grab_toggle = (enum grab_toggle) toggle;
        return 0;
}

int profile_json_input_element(struct ctx *c, json_t *o, unsigned i, void *ud)
{
        static const char *const keys[] = { "evdev", "type", "grab_all", "repeat", "grab_toggle", NULL };
        static const char *const evdev_only[] = { "grab_all", "repeat", "grab_toggle" };
        struct profile_input *in = &((struct profile *) ud)->inputs[i];
        int r, type = INPUT_EVDEV;

        if (!json_is_object(o))
                return pj_type_error(c, o, "an object");
        if ((r = pj_check_keys(c, o, keys)) < 0)
                return r;
        if (json_object_get(o, "evdev")) {
                if (json_object_get(o, "type")) {
                        (void) pj_enter_key(c, "type");
                        return pj_fail(c, "an input is either {\"evdev\": PATH} (a host device) or {\"type\": "
                                          "\"virtio-keyboard\"|\"virtio-mouse\"|\"virtio-tablet\"}, not both");
                }
                return parse_evdev(c, o, in);
        }
        if (!json_object_get(o, "type"))
                return pj_fail(c, "missing required key \"evdev\" (a host device: "
                                  "\"/dev/input/by-id/...-event-kbd\") or \"type\" (\"virtio-keyboard\", "
                                  "\"virtio-mouse\", \"virtio-tablet\")");
        for (size_t k = 0; k < sizeof(evdev_only) / sizeof(evdev_only[0]); k++)
                if (json_object_get(o, evdev_only[k])) {
                        (void) pj_enter_key(c, evdev_only[k]);
                        return pj_fail(c, "only for an \"evdev\" input (QEMU's input-linux), not a virtio "
                                          "device");
                }
        if ((r = pj_opt_enum(c, o, "type", profile_input_type_name, &type)) < 0)
                return r;
        in->type = (enum input_type) type;
        return 0;
}
