/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The SPICE agent on the command line: the channel spice-vdagent in the
 * guest talks to the client through (clipboard, file transfer, the client's
 * monitor layout, the mouse in client mode), and the -spice switches that
 * limit what it may do. As virt-manager does for every SPICE guest, and with
 * libvirt's wiring (the spicevmc cases of tests/qemuxmlconfdata): one
 * virtio-serial controller, a spicevmc chardev named "vdagent", a
 * virtserialport named "com.redhat.spice.0" (the name the guest agent looks
 * for; docs/facts.md#F-spice-agent). PURE, part of the builder.
 */
#include <errno.h>

#include "qemu/qemu_builder.h"

#define AGENT_CHARDEV_ID "vdagent0"
#define AGENT_PORT_NAME "com.redhat.spice.0"

void qemu_argv_spice_agent_opts(struct builder *b, struct opt *o, const struct profile *p)
{
        const struct profile_display *d = &p->display;

        if (!profile_spice_agent(p))
                return;
        /* QEMU's defaults allow both: said only when the profile turns
         * one off. */
        if (d->clipboard == SWITCH_OFF)
                qa_opt_kv(b, o, "disable-copy-paste", "on");
        if (d->file_transfer == SWITCH_OFF)
                qa_opt_kv(b, o, "disable-agent-file-xfer", "on");
}

int qemu_argv_emit_spice_agent(struct builder *b, const struct profile *p, const struct layout *l,
                               struct vl_error *e)
{
        struct opt o;

        if (!profile_spice_agent(p))
                return 0;
        if (l->serial_bus == 0)
                return vl_error_set_at(e, EINVAL, NULL, 0, 0, "$.display.agent",
                                       "no root port for the agent's virtio-serial controller");
        qa_opt_begin(b, &o, "virtio-serial-pci");
        qa_opt_kv(b, &o, "id", PROFILE_ID_VIRTIO_SERIAL);
        qa_opt_port_addr(b, &o, l->serial_bus, 0);
        qa_arg_opt(b, "-device", &o);
        qa_opt_begin(b, &o, "spicevmc");
        qa_opt_kv(b, &o, "id", AGENT_CHARDEV_ID);
        qa_opt_kv(b, &o, "name", "vdagent");
        qa_arg_opt(b, "-chardev", &o);
        /* nr=1: port 0 is reserved for a virtconsole. */
        qa_opt_begin(b, &o, "virtserialport");
        qa_opt_kv(b, &o, "bus", PROFILE_ID_VIRTIO_SERIAL ".0");
        qa_opt_kv(b, &o, "nr", "1");
        qa_opt_kv(b, &o, "chardev", AGENT_CHARDEV_ID);
        qa_opt_kv(b, &o, "id", PROFILE_ID_AGENT_PORT);
        qa_opt_kv(b, &o, "name", AGENT_PORT_NAME);
        qa_arg_opt(b, "-device", &o);
        return 0;
}
