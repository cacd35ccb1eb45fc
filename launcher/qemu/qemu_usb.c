/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * USB on the command line: the guest's controller, and the SPICE client's
 * redirection channels plugged into it — libvirt's <redirdev bus='usb'
 * type='spicevmc'/>: a spicevmc chardev named "usbredir" and a usb-redir
 * device per device the client may hand over at once (the client picks
 * which; the guest sees it hot-plugged). docs/facts.md#F-usb-redirect.
 * PURE, part of the builder.
 */
#include <errno.h>
#include <stdio.h>

#include "qemu/qemu_builder.h"

#define REDIR_CHARDEV_PREFIX "usbredir"

int qemu_argv_emit_usb(struct builder *b, const struct profile *p, const struct layout *l,
                       struct vl_error *e)
{
        enum usb_controller c = profile_usb_controller(p);
        unsigned n = p->display.type == DISPLAY_SPICE ? p->display.usb_redirect : 0;
        struct opt o;

        if (c == USB_CONTROLLER_NONE)
                return 0;
        if (l->usb_bus == 0)
                return vl_error_set_at(e, EINVAL, NULL, 0, 0, "$.usb", "no root port for the USB controller");
        qa_opt_begin(b, &o, c == USB_CONTROLLER_NEC_XHCI ? "nec-usb-xhci" : "qemu-xhci");
        qa_opt_kv(b, &o, "id", PROFILE_ID_USB);
        qa_opt_port_addr(b, &o, l->usb_bus, 0);
        qa_arg_opt(b, "-device", &o);
        for (unsigned i = 0; i < n; i++) {
                char chardev[32], id[32];

                (void) snprintf(chardev, sizeof(chardev), REDIR_CHARDEV_PREFIX "%u", i);
                (void) snprintf(id, sizeof(id), PROFILE_ID_USB_REDIR_PREFIX "%u", i);
                qa_opt_begin(b, &o, "spicevmc");
                qa_opt_kv(b, &o, "id", "%s", chardev);
                qa_opt_kv(b, &o, "name", "usbredir");
                qa_arg_opt(b, "-chardev", &o);
                qa_opt_begin(b, &o, "usb-redir");
                qa_opt_kv(b, &o, "chardev", "%s", chardev);
                qa_opt_kv(b, &o, "id", "%s", id);
                /* The controller's bus by name: with a second controller
                 * (the host devices' own, one day) QEMU would pick either. */
                qa_opt_kv(b, &o, "bus", PROFILE_ID_USB ".0");
                qa_arg_opt(b, "-device", &o);
        }
        return 0;
}
