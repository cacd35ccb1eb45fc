/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * <disk> and <interface>: images and block devices with their driver
 * options, and the three kinds of network the profile has.
 */
#include <errno.h>
#include <string.h>

#include "import/import_internal.h"
#include "profile/profile.h"

/* An enum attribute into key, spelt by the profile's own table: value v of
 * table fn from 1 up (0 = the default, "" ). */
static void enum_attr(struct ix *x, xmlNode *n, const char *attr, const char *(*fn)(unsigned), json_t *o,
                      const char *key)
{
        const char *s = ix_attr(n, attr);

        if (!s || !strcmp(s, "default"))
                return;
        for (unsigned v = 1; fn(v); v++)
                if (!strcmp(s, fn(v))) {
                        ix_set(x, o, key, json_string(s));
                        return;
                }
        ix_omit(x, ix_attr_node(n, attr), "%s \"%s\" has no profile value", attr, s);
}

static void map_disk(struct ix *x, xmlNode *d)
{
        static const unsigned buses[] = { DISK_BUS_SATA, DISK_BUS_VIRTIO, DISK_BUS_NVME, DISK_BUS_SCSI };
        const char *type = ix_attr(d, "type"), *dev = ix_attr(d, "device"), *path = NULL, *s;
        xmlNode *src = ix_child(d, "source"), *drv = ix_child(d, "driver"), *tgt = ix_child(d, "target"), *n;
        bool cdrom = dev && !strcmp(dev, "cdrom");
        json_t *o;

        if (dev && strcmp(dev, "disk") && !cdrom) {
                ix_omit(x, d, "device \"%s\": disks and cdroms only", dev);
                return;
        }
        if (type && !strcmp(type, "file"))
                path = ix_attr(src, "file");
        else if (type && !strcmp(type, "block"))
                path = ix_attr(src, "dev");
        if (!path) {
                if (cdrom && !src) {
                        ix_omit(x, d, "an empty cdrom drive has no profile key");
                        return;
                }
                ix_omit(x, d, "disk type \"%s\": a file or a block device with a source path only (a pool "
                              "volume or a network disk: give its path)", type ? type : "");
                return;
        }
        ix_take(d);
        ix_take(src);
        /* A running domain's: the image's index in its chain, and an empty
         * <backingStore/> that says the image has no backing file. */
        ix_attr(src, "index");
        if ((n = ix_child(d, "backingStore")) && !n->children && !n->properties)
                ix_take(n);
        o = json_object();
        ix_set(x, o, "path", json_string(path));
        if (drv) {
                const char *name = ix_attr(drv, "name"), *fmt = ix_attr(drv, "type");

                ix_take(drv);
                if (name && strcmp(name, "qemu"))
                        ix_omit(x, ix_attr_node(drv, "name"), "driver \"%s\": QEMU's only", name);
                if (fmt) {
                        if (!strcmp(fmt, profile_disk_format_name(DISK_QCOW2)) || !strcmp(fmt, profile_disk_format_name(DISK_RAW)))
                                ix_set(x, o, "format", json_string(fmt));
                        else
                                ix_omit(x, ix_attr_node(drv, "type"), "format \"%s\": qcow2 or raw", fmt);
                }
                enum_attr(x, drv, "cache", profile_disk_cache_name, o, "cache");
                enum_attr(x, drv, "discard", profile_disk_discard_name, o, "discard");
                enum_attr(x, drv, "detect_zeroes", profile_disk_detect_zeroes_name, o, "detect_zeroes");
                enum_attr(x, drv, "io", profile_disk_aio_name, o, "aio");
                if ((s = ix_attr(drv, "iothread"))) {
                        unsigned long long id;

                        /* libvirt counts from 1, the profile from 0 */
                        if (ix_uint(s, 16, &id) == 0 && id >= 1)
                                ix_set(x, o, "iothread", json_integer((json_int_t) id - 1));
                        else
                                ix_omit(x, ix_attr_node(drv, "iothread"), "no such iothread");
                }
        }
        if (tgt) {
                const char *bus = ix_attr(tgt, "bus");

                ix_take(tgt);
                ix_attr(tgt, "dev"); /* the guest's name is the guest's business */
                if (bus) {
                        size_t i;

                        for (i = 0; i < ELEMENTSOF(buses); i++)
                                if (!strcmp(bus, profile_disk_bus_name(buses[i])))
                                        break;
                        if (i == ELEMENTSOF(buses))
                                ix_omit(x, ix_attr_node(tgt, "bus"), "bus \"%s\": sata, virtio, nvme or scsi", bus);
                        else if (buses[i] != DISK_BUS_SATA) /* sata: the profile's default */
                                ix_set(x, o, "bus", json_string(bus));
                }
        }
        if (cdrom)
                ix_set(x, o, "cdrom", json_true());
        if ((n = ix_child(d, "readonly"))) {
                ix_take(n);
                if (!cdrom)
                        ix_set(x, o, "readonly", json_true());
        }
        ix_boot(x, d, o);
        /* Guest placement (the launcher's) and a running domain's names. */
        if ((n = ix_child(d, "address")))
                ix_take_all(n);
        if ((n = ix_child(d, "alias")))
                ix_take_all(n);
        if (json_array_append_new(ix_arr(x, x->p, "disks"), o) < 0)
                x->err = -ENOMEM;
}

static void map_nic(struct ix *x, xmlNode *i)
{
        static const char *const models[] = { "e1000e", "virtio-net-pci", "rtl8139", "e1000" };
        const char *type = ix_attr(i, "type"), *s;
        xmlNode *src = ix_child(i, "source"), *n;
        json_t *o;

        if (!type || (strcmp(type, "network") && strcmp(type, "direct") && strcmp(type, "bridge") &&
                      strcmp(type, "user"))) {
                ix_omit(x, i, "interface type \"%s\": network, user, direct or bridge", type ? type : "");
                return;
        }
        ix_take(i);
        o = json_object();
        if ((n = ix_child(i, "model"))) {
                size_t k;

                s = ix_attr(n, "type");
                ix_take(n);
                /* libvirt's "virtio" is QEMU's virtio-net-pci */
                if (s && !strcmp(s, "virtio"))
                        s = "virtio-net-pci";
                for (k = 0; s && k < ELEMENTSOF(models); k++)
                        if (!strcmp(s, models[k]))
                                break;
                if (s && k < ELEMENTSOF(models))
                        ix_set(x, o, "model", json_string(s));
                else
                        ix_omit(x, n, "NIC model \"%s\": e1000e, virtio, rtl8139 or e1000", s ? s : "");
        }
        if ((n = ix_child(i, "mac"))) {
                ix_take(n);
                ix_set(x, o, "mac", json_string(ix_attr(n, "address") ?: ""));
        }
        ix_take(src);
        if (!strcmp(type, "network") || !strcmp(type, "user")) {
                ix_set(x, o, "backend", json_string(profile_nic_backend_name(NIC_USER)));
                if (!strcmp(type, "network"))
                        ix_note(x, src ? (void *) src : (void *) i,
                                "libvirt network \"%s\" becomes QEMU's user-mode NAT: the guest reaches out, "
                                "nothing reaches the guest (use \"tap\" on a bridge for that)",
                                ix_attr(src, "network") ?: "");
        } else if (!strcmp(type, "direct")) {
                ix_set(x, o, "backend", json_string(profile_nic_backend_name(NIC_MACVTAP)));
                ix_set(x, o, "dev", json_string(ix_attr(src, "dev") ?: ""));
                if ((s = ix_attr(src, "mode")) && strcmp(s, "bridge")) {
                        unsigned v;

                        /* libvirt spells the kernel's passthru mode "passthrough" */
                        if (!strcmp(s, "passthrough"))
                                s = profile_macvtap_mode_name(MACVTAP_PASSTHRU);
                        for (v = 0; profile_macvtap_mode_name(v); v++)
                                if (!strcmp(s, profile_macvtap_mode_name(v)))
                                        break;
                        if (profile_macvtap_mode_name(v))
                                ix_set(x, o, "mode", json_string(s));
                        else
                                ix_omit(x, ix_attr_node(src, "mode"), "macvtap mode \"%s\" has no profile value", s);
                } else
                        ix_set(x, o, "mode", json_string(profile_macvtap_mode_name(MACVTAP_BRIDGE)));
        } else {
                ix_set(x, o, "backend", json_string(profile_nic_backend_name(NIC_TAP)));
                ix_set(x, o, "bridge", json_string(ix_attr(src, "bridge") ?: ""));
        }
        if ((n = ix_child(i, "driver"))) {
                s = ix_attr(n, "name");
                if (s && !strcmp(s, "vhost") && !n->properties->next) {
                        ix_take(n);
                        ix_set(x, o, "vhost", json_true());
                } else if (s && !strcmp(s, "qemu") && !n->properties->next) {
                        ix_take(n);
                        ix_set(x, o, "vhost", json_false());
                }
        }
        ix_boot(x, i, o);
        if ((n = ix_child(i, "address")))
                ix_take_all(n);
        if ((n = ix_child(i, "alias")))
                ix_take_all(n);
        if ((n = ix_child(i, "target")))
                ix_take_all(n); /* a running domain's tap name */
        if (json_array_append_new(ix_arr(x, x->p, "nics"), o) < 0)
                x->err = -ENOMEM;
}

void ix_map_storage(struct ix *x, xmlNode *devs)
{
        ix_for_each(d, devs, "disk")
                map_disk(x, d);
        ix_for_each(i, devs, "interface")
                map_nic(x, i);
}
