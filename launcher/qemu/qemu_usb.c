/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * USB on the command line: the guest's controller, the host's USB devices
 * (usb.devices) and the SPICE client's redirection channels plugged into it
 * — libvirt's <redirdev bus='usb' type='spicevmc'/>: a spicevmc chardev
 * named "usbredir" and a usb-redir device per device the client may hand
 * over at once (the client picks which; the guest sees it hot-plugged).
 * docs/facts.md#F-usb-redirect.
 *
 * A host device is QEMU's usb-host on the node the launcher opened: QEMU
 * runs unprivileged and opens nothing of the host's /dev itself. Its fd
 * goes in an fd set (-add-fd) and usb-host's hostdevice= names the set,
 * which QEMU 7.2 opens through qemu_open() (docs/facts.md#F-usb-host-fd).
 * The host devices come before the redirection channels: both take the
 * controller's first free port, and a host device keeps its place whatever
 * the client redirects.
 * PURE, part of the builder.
 */
#include <errno.h>
#include <stdio.h>

#include "qemu/qemu_builder.h"

#define REDIR_CHARDEV_PREFIX "usbredir"

void qemu_usb_host_layout(unsigned i, struct qemu_usb_host *ret)
{
        *ret = (struct qemu_usb_host) { .fdset = QEMU_USB_FDSET(i) };
        (void) snprintf(ret->hostdevice, sizeof(ret->hostdevice), "/dev/fdset/%u", ret->fdset);
        (void) snprintf(ret->id, sizeof(ret->id), PROFILE_ID_USB_HOST_PREFIX "%u", i);
        /* The controller's bus by name: the SPICE client's devices are
         * on it too. */
        (void) snprintf(ret->bus, sizeof(ret->bus), PROFILE_ID_USB ".0");
}

int qemu_argv_emit_usb(struct builder *b, const struct profile *p, const struct qemu_runtime *rt,
                       const struct layout *l, struct vl_error *e)
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
        /* The controller has max(p2, p3) ports, 4 by default, each for USB 2
         * and 3 devices alike; when one is left QEMU plugs its USB 1.1 hub
         * in there, and a high-speed device behind it would fail. With host
         * devices: libvirt's 15, the most, room for all
         * (docs/facts.md#F-usb-host-fd). */
        if (p->usb.n_devices > 0) {
                qa_opt_kv(b, &o, "p2", "15");
                qa_opt_kv(b, &o, "p3", "15");
        }
        qa_opt_port_addr(b, &o, l->usb_bus, 0);
        qa_arg_opt(b, "-device", &o);
        for (unsigned i = 0; i < p->usb.n_devices; i++) {
                if (rt->fds.usb[i] < 0)
                        continue;
                struct qemu_usb_host u;

                qemu_usb_host_layout(i, &u);
                qa_opt_begin(b, &o, NULL);
                qa_opt_kv(b, &o, "fd", "%d", rt->fds.usb[i]);
                qa_opt_kv(b, &o, "set", "%u", u.fdset);
                /* query-fdsets shows whose it is. */
                qa_opt_kv(b, &o, "opaque", "%s", u.id);
                qa_arg_opt(b, "-add-fd", &o);
                qa_opt_begin(b, &o, "usb-host");
                qa_opt_kv(b, &o, "hostdevice", "%s", u.hostdevice);
                qa_opt_kv(b, &o, "id", "%s", u.id);
                qa_opt_kv(b, &o, "bus", "%s", u.bus);
                qa_arg_opt(b, "-device", &o);
        }
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
