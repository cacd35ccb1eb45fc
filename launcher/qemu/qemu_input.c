/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * "inputs" on the command line. PURE, part of the builder.
 *
 * An evdev input is QEMU's input-linux object (ui/input-linux.c; its
 * properties are qapi/qom.json's InputLinuxProperties: evdev, grab_all,
 * repeat, grab-toggle — the underscores and the dash are QEMU's spelling).
 * QEMU grabs the device (EVIOCGRAB) and sends its events to the guest's
 * keyboard and mouse: the PS/2 ones of q35's i8042, or a virtio keyboard
 * or mouse the profile adds; the grab-toggle keys give it back to the host.
 * QEMU opens the node launch_prepare() resolved (rt->input_node), the one
 * the launcher handed to QEMU's user.
 *
 * A virtio input is a PCI device: behind its own root port like every
 * other PCIe endpoint here (qemu_layout.c places it after the others).
 * docs/facts.md#F-input-linux.
 */
#include <errno.h>
#include <stdio.h>

#include "qemu/qemu_builder.h"

static const char *const virtio_driver[] = {
        [INPUT_VIRTIO_KEYBOARD] = "virtio-keyboard-pci",
        [INPUT_VIRTIO_MOUSE] = "virtio-mouse-pci",
        [INPUT_VIRTIO_TABLET] = "virtio-tablet-pci",
};

int qemu_argv_emit_inputs(struct builder *b, const struct profile *p, const struct qemu_runtime *rt,
                          const struct layout *l, struct vl_error *e)
{
        struct opt o = {};

        for (unsigned i = 0; i < p->n_inputs; i++) {
                const struct profile_input *in = &p->inputs[i];
                char id[32];

                (void) snprintf(id, sizeof(id), PROFILE_ID_INPUT_PREFIX "%u", i);
                if (in->type == INPUT_EVDEV) {
                        qa_opt_begin(b, &o, "input-linux");
                        qa_opt_kv(b, &o, "id", "%s", id);
                        qa_opt_kv_esc(b, &o, "evdev", rt->input_node[i][0] ? rt->input_node[i] : in->evdev);
                        if (in->grab_all)
                                qa_opt_kv(b, &o, "grab_all", "on");
                        if (in->repeat)
                                qa_opt_kv(b, &o, "repeat", "on");
                        if (in->grab_toggle != GRAB_TOGGLE_DEFAULT)
                                qa_opt_kv(b, &o, "grab-toggle", "%s", profile_grab_toggle_name(in->grab_toggle));
                        qa_arg_opt(b, "-object", &o);
                        continue;
                }
                if ((unsigned) in->type >= ELEMENTSOF(virtio_driver) || !virtio_driver[in->type])
                        return vl_error_set_at(e, EINVAL, NULL, 0, 0, "$.inputs", "$.inputs[%u]: unknown type %d",
                                               i, (int) in->type);
                if (l->input_bus[i] == 0)
                        return vl_error_set_at(e, EINVAL, NULL, 0, 0, "$.inputs", "no root port for $.inputs[%u]",
                                               i);
                qa_opt_begin(b, &o, virtio_driver[in->type]);
                qa_opt_kv(b, &o, "id", "%s", id);
                qa_opt_port_addr(b, &o, l->input_bus[i], 0);
                qa_arg_opt(b, "-device", &o);
        }
        return 0;
}
