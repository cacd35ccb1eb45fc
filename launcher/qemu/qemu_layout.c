/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The PCIe layout of the QEMU command line: which root port pci.N each
 * PCIe device sits behind, the root ports themselves, and the hostdevs'
 * vfio-pci devices. PURE, part of the builder (qemu_argv.c); the rules are
 * in qemu_argv.h. qemu_hostdev_layout() gives a live attach the same
 * placement as the command line.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "qemu/qemu_builder.h"

#define ROOT_PORTS_PER_SLOT 8
#define ROOT_PORT_FIRST_SLOT 2   /* libvirt: slot 1 is the video device */
#define ROOT_PORT_FIRST_PORT 0x10

static int free_port(struct layout *l, const char *what, struct vl_error *e)
{
        for (unsigned n = 1; n <= PROFILE_GUEST_BUS_MAX; n++)
                if (l->user[n] == PORT_FREE)
                        return (int) n;
        return vl_error_set(e, ENOSPC, "no free PCIe root port left for %s (at most %u)", what,
                            PROFILE_GUEST_BUS_MAX);
}

static int place_hostdev(struct layout *l, unsigned i, unsigned bus, unsigned fn, const char *path,
                         struct vl_error *e)
{
        if (bus < 1 || bus > PROFILE_GUEST_BUS_MAX || fn > 7)
                return vl_error_set_at(e, EINVAL, NULL, 0, 0, path,
                                       "guest bus %u function %u is out of range (bus 1..%u, "
                                       "function 0..7)",
                                       bus, fn, PROFILE_GUEST_BUS_MAX);
        if (l->fn_used[bus][fn])
                return vl_error_set_at(e, EINVAL, NULL, 0, 0, path,
                                       "guest bus %u function %u is already taken by another "
                                       "hostdev",
                                       bus, fn);
        l->user[bus] = PORT_HOSTDEV;
        l->fn_used[bus][fn] = true;
        l->hd_bus[i] = bus;
        l->hd_fn[i] = fn;
        return 0;
}

int qemu_argv_plan_layout(const struct profile *p, struct layout *l, struct vl_error *e)
{
        char path[64];
        int r;

        memset(l, 0, sizeof(*l));

        /* 1. Hostdevs at the guest bus the profile names (the reference
         *    machine's GPU at guest bus 6 and its audio at 7: what the guest
         *    driver saw). */
        for (unsigned i = 0; i < p->n_hostdevs; i++) {
                const struct profile_guest_addr *g = &p->hostdevs[i].guest;

                if (g->automatic || g->same_slot)
                        continue;
                (void) snprintf(path, sizeof(path), "$.hostdevs[%u].guest", i);
                if (g->slot != 0)
                        return vl_error_set_at(e, EINVAL, NULL, 0, 0, path,
                                               "slot %u: behind a PCIe root port the only slot is 0",
                                               g->slot);
                r = place_hostdev(l, i, g->bus, g->function, path, e);
                if (r < 0)
                        return r;
        }
        /* 2. Automatic ones: function 0 of a port of their own. */
        for (unsigned i = 0; i < p->n_hostdevs; i++) {
                const struct profile_guest_addr *g = &p->hostdevs[i].guest;

                if (!g->automatic || g->same_slot)
                        continue;
                (void) snprintf(path, sizeof(path), "$.hostdevs[%u].guest", i);
                r = free_port(l, "a hostdev", e);
                if (r < 0)
                        return r;
                r = place_hostdev(l, i, (unsigned) r, 0, path, e);
                if (r < 0)
                        return r;
        }
        /* 3. "same-slot": behind the port of the host slot's function 0, at
         *    the device's own host function — one multifunction endpoint,
         *    as on the real card. */
        for (unsigned i = 0; i < p->n_hostdevs; i++) {
                const struct profile_hostdev *h = &p->hostdevs[i];
                unsigned j;

                if (!h->guest.same_slot)
                        continue;
                (void) snprintf(path, sizeof(path), "$.hostdevs[%u].guest", i);
                for (j = 0; j < p->n_hostdevs; j++) {
                        const struct profile_hostdev *f0 = &p->hostdevs[j];
                        if (j != i && f0->host.domain == h->host.domain &&
                            f0->host.bus == h->host.bus && f0->host.slot == h->host.slot &&
                            f0->host.function == 0 && !f0->guest.same_slot)
                                break;
                }
                if (j == p->n_hostdevs)
                        return vl_error_set_at(e, EINVAL, NULL, 0, 0, path,
                                               "\"same-slot\" needs function 0 of the same host "
                                               "slot among the hostdevs, with a guest address of "
                                               "its own");
                r = place_hostdev(l, i, l->hd_bus[j], h->host.function, path, e);
                if (r < 0)
                        return r;
        }
        /* 4. A port with more than one function: function 0 must exist and
         *    carry multifunction=on, or the guest never scans the others. */
        for (unsigned i = 0; i < p->n_hostdevs; i++) {
                unsigned bus = l->hd_bus[i], n = 0;

                for (unsigned f = 0; f < 8; f++)
                        n += l->fn_used[bus][f];
                if (!l->fn_used[bus][0]) {
                        (void) snprintf(path, sizeof(path), "$.hostdevs[%u].guest", i);
                        return vl_error_set_at(e, EINVAL, NULL, 0, 0, path,
                                               "guest bus %u has function %u but no function 0",
                                               bus, l->hd_fn[i]);
                }
                l->hd_multifunction[i] = p->hostdevs[i].multifunction ||
                                         (l->hd_fn[i] == 0 && n > 1);
        }

        /* 5. Everything else PCIe, on the lowest ports the hostdevs left. */
        for (unsigned i = 0; i < p->n_nics; i++) {
                r = free_port(l, "a NIC", e);
                if (r < 0)
                        return r;
                l->user[r] = PORT_DEVICE;
                l->nic_bus[i] = (unsigned) r;
        }
        for (unsigned i = 0; i < p->n_disks; i++) {
                if (p->disks[i].bus == DISK_BUS_SATA)
                        continue;
                /* The scsi disks sit on one controller, placed once. */
                if (p->disks[i].bus == DISK_BUS_SCSI) {
                        if (l->scsi_bus)
                                continue;
                        r = free_port(l, "the virtio-scsi controller", e);
                        if (r < 0)
                                return r;
                        l->user[r] = PORT_DEVICE;
                        l->scsi_bus = (unsigned) r;
                        continue;
                }
                r = free_port(l, "a disk", e);
                if (r < 0)
                        return r;
                l->user[r] = PORT_DEVICE;
                l->disk_bus[i] = (unsigned) r;
        }
        if (p->balloon) {
                r = free_port(l, "the balloon", e);
                if (r < 0)
                        return r;
                l->user[r] = PORT_DEVICE;
                l->balloon_bus = (unsigned) r;
        }
        /* Last, so that adding the agent moves no other device. */
        if (profile_spice_agent(p)) {
                r = free_port(l, "the SPICE agent's virtio-serial", e);
                if (r < 0)
                        return r;
                l->user[r] = PORT_DEVICE;
                l->serial_bus = (unsigned) r;
        }
        /* After the agent, for the same reason. */
        if (profile_usb_controller(p) != USB_CONTROLLER_NONE) {
                r = free_port(l, "the USB controller", e);
                if (r < 0)
                        return r;
                l->user[r] = PORT_DEVICE;
                l->usb_bus = (unsigned) r;
        }
        /* The virtio inputs after the USB controller, for the same reason:
         * adding a keyboard moves no device the guest knows already. */
        for (unsigned i = 0; i < p->n_inputs; i++) {
                if (p->inputs[i].type == INPUT_EVDEV)
                        continue;
                r = free_port(l, "a virtio input", e);
                if (r < 0)
                        return r;
                l->user[r] = PORT_DEVICE;
                l->input_bus[i] = (unsigned) r;
        }
        for (unsigned n = 1; n <= PROFILE_GUEST_BUS_MAX; n++)
                if (l->user[n] != PORT_FREE)
                        l->n_ports = n;
        return 0;
}

/* libvirt's numbering: pci.N at pcie.0 slot 2+(N-1)/8 function (N-1)%8,
 * chassis N, port 0x10+(N-1); function 0 of a slot with more ports gets
 * multifunction=on (qemuDomainAssignPCIeRootPorts / the *.args in
 * libvirt's tests/qemuxmlconfdata). */
void qemu_argv_emit_root_ports(struct builder *b, const struct layout *l)
{
        for (unsigned n = 1; n <= l->n_ports; n++) {
                unsigned slot = ROOT_PORT_FIRST_SLOT + (n - 1) / ROOT_PORTS_PER_SLOT;
                unsigned fn = (n - 1) % ROOT_PORTS_PER_SLOT;
                struct opt o;

                qa_opt_begin(b, &o, "pcie-root-port");
                qa_opt_kv(b, &o, "id", "pci.%u", n);
                qa_opt_kv(b, &o, "chassis", "%u", n);
                qa_opt_kv(b, &o, "port", "0x%x", ROOT_PORT_FIRST_PORT + n - 1);
                qa_opt_kv(b, &o, "bus", "pcie.0");
                if (fn)
                        qa_opt_kv(b, &o, "addr", "0x%x.0x%x", slot, fn);
                else
                        qa_opt_kv(b, &o, "addr", "0x%x", slot);
                if (fn == 0 && n < l->n_ports)
                        qa_opt_kv(b, &o, "multifunction", "on");
                qa_arg_opt(b, "-device", &o);
        }
}

static void hostdev_props(const struct profile *p, const struct layout *l, unsigned i,
                          struct qemu_hostdev *ret)
{
        const struct profile_hostdev *h = &p->hostdevs[i];

        *ret = (struct qemu_hostdev) {
                .bus = l->hd_bus[i],
                .function = l->hd_fn[i],
                .multifunction = l->hd_multifunction[i],
                .rombar = h->rombar == ROMBAR_ON ? 1 : h->rombar == ROMBAR_OFF ? 0 : -1,
                .x_vga = h->x_vga,
                .bootindex = h->boot,
        };
        profile_device_id(p, PROFILE_DEVICE_HOSTDEV, i, ret->id);
        pci_addr_format(&h->host, ret->host);
        (void) snprintf(ret->romfile, sizeof(ret->romfile), "%s", h->romfile);
}

int qemu_hostdev_layout(const struct profile *p, struct qemu_hostdev ret[static PROFILE_HOSTDEVS_MAX],
                        struct vl_error *e)
{
        struct layout l;
        int r;

        r = qemu_argv_plan_layout(p, &l, e);
        if (r < 0)
                return r;
        for (unsigned i = 0; i < p->n_hostdevs; i++)
                hostdev_props(p, &l, i, &ret[i]);
        return 0;
}

int qemu_argv_emit_hostdevs(struct builder *b, const struct profile *p, const struct layout *l,
                            struct vl_error *e)
{
        for (unsigned i = 0; i < p->n_hostdevs; i++) {
                struct qemu_hostdev hd;
                struct opt o;

                hostdev_props(p, l, i, &hd);
                qa_opt_begin(b, &o, "vfio-pci");
                qa_opt_kv(b, &o, "host", "%s", hd.host);
                qa_opt_kv_esc(b, &o, "id", hd.id);
                qa_opt_port_addr(b, &o, hd.bus, hd.function);
                if (hd.multifunction)
                        qa_opt_kv(b, &o, "multifunction", "on");
                if (hd.rombar >= 0)
                        qa_opt_kv(b, &o, "rombar", "%d", hd.rombar);
                if (hd.romfile[0])
                        qa_opt_kv_esc(b, &o, "romfile", hd.romfile);
                if (hd.x_vga)
                        qa_opt_kv(b, &o, "x-vga", "on");
                /* Boot from a passed-through NVMe or NIC: the firmware
                 * runs the device's option ROM in this order. */
                if (hd.bootindex)
                        qa_opt_kv(b, &o, "bootindex", "%u", hd.bootindex);
                qa_arg_opt(b, "-device", &o);
        }
        return 0;
}
