/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The profile's "usb": { "controller": "qemu-xhci" | "nec-xhci" | "none" }:
 * the guest's USB controller, which the SPICE client's redirected devices
 * (display.usb_redirect) plug into. Part of the strict loader: profile_json.c
 * calls it for the top-level key; the readers are profile_json_read.c's.
 */
#include "profile/profile_json_read.h"

int profile_json_parse_usb(struct ctx *c, json_t *root, struct profile_usb *u)
{
        static const char *const keys[] = { "controller", NULL };
        int r, controller = USB_CONTROLLER_DEFAULT;
        size_t m;
        json_t *o = pj_enter_typed(c, root, "usb", JSON_OBJECT, &m, &r);

        if (!o)
                return r;
        if ((r = pj_check_keys(c, o, keys)) < 0 ||
            (r = pj_opt_enum(c, o, "controller", profile_usb_controller_name, &controller)) < 0)
                return r;
        u->controller = (enum usb_controller) controller;
        pj_leave(c, m);
        return 0;
}
