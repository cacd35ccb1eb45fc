/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The disks on the QEMU command line: the I/O threads, the virtio-scsi
 * controller, and per disk a storage node, a format node and the device.
 * PURE, part of the builder (qemu_argv.c): whether a disk is a block device
 * is a fact of the run (qemu_runtime.disk_node), the rules between the
 * options are profile_validate()'s.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "qemu/qemu_builder.h"

#define SATA_UNITS 6             /* q35's built-in ICH9 AHCI: ide.0 .. ide.5 */

/* libvirt's cache mapping (qemuBuildDriveSourceStr /
 * qemuDomainDiskGetBackendAlias): none = O_DIRECT, unsafe = ignore
 * flushes; NULL direct = QEMU's default. */
static void cache_mode(enum disk_cache c, const char **direct, const char **noflush)
{
        *direct = *noflush = NULL;
        switch (c) {
        case DISK_CACHE_DEFAULT:
                break;
        case DISK_CACHE_NONE:
                *direct = "on", *noflush = "off";
                break;
        case DISK_CACHE_WRITEBACK:
                *direct = "off", *noflush = "off";
                break;
        case DISK_CACHE_UNSAFE:
                *direct = "off", *noflush = "on";
                break;
        }
}

/* What both nodes of a disk (storage and format) carry, then the option:
 * the cache mode and discard are per node in QEMU's block layer (a
 * discard the format node passes on must be allowed below it too, as
 * libvirt writes them). */
static void blockdev_end(struct builder *b, struct opt *o, const struct profile_disk *d, bool ro)
{
        const char *direct, *noflush;

        cache_mode(d->cache, &direct, &noflush);
        if (direct) {
                qa_opt_kv(b, o, "cache.direct", "%s", direct);
                qa_opt_kv(b, o, "cache.no-flush", "%s", noflush);
        }
        if (d->discard != DISK_DISCARD_DEFAULT)
                qa_opt_kv(b, o, "discard", "%s", profile_disk_discard_name(d->discard));
        if (ro)
                qa_opt_kv(b, o, "read-only", "on");
        qa_arg_opt(b, "-blockdev", o);
}

/* The I/O thread of the scsi controller: the one its disks name (they
 * agree: profile_validate()), or -1. */
static int scsi_iothread(const struct profile *p)
{
        for (unsigned i = 0; i < p->n_disks; i++)
                if (p->disks[i].bus == DISK_BUS_SCSI && p->disks[i].has_iothread)
                        return (int) p->disks[i].iothread;
        return -1;
}

static void emit_controllers(struct builder *b, const struct profile *p, const struct layout *l)
{
        struct opt o;
        int t;

        /* Named by index: pinning finds each thread by this id (QMP
         * query-iothreads), and -name debug-threads=on shows it as "IO iothreadN". */
        for (unsigned i = 0; i < p->n_iothreads; i++) {
                qa_opt_begin(b, &o, "iothread");
                qa_opt_kv(b, &o, "id", "iothread%u", i);
                qa_arg_opt(b, "-object", &o);
        }
        if (!l->scsi_bus)
                return;
        qa_opt_begin(b, &o, "virtio-scsi-pci");
        qa_opt_kv(b, &o, "id", PROFILE_ID_SCSI);
        if ((t = scsi_iothread(p)) >= 0)
                qa_opt_kv(b, &o, "iothread", "iothread%d", t);
        qa_opt_port_addr(b, &o, l->scsi_bus, 0);
        qa_arg_opt(b, "-device", &o);
}

int qemu_argv_emit_disks(struct builder *b, const struct profile *p, const struct qemu_runtime *rt,
                         const struct layout *l, struct vl_error *e)
{
        bool ordered = profile_boot_order(p);
        unsigned sata = 0, scsi = 0;
        char path[64];

        emit_controllers(b, p, l);
        for (unsigned i = 0; i < p->n_disks; i++) {
                const struct profile_disk *d = &p->disks[i];
                const char *node = rt->disk_node[i];
                char id[PROFILE_STR_MAX], stor[32], fmt[32];
                bool ro = d->readonly || d->cdrom;
                struct opt o;

                (void) snprintf(path, sizeof(path), "$.disks[%u]", i);
                profile_device_id(p, PROFILE_DEVICE_DISK, i, id);
                /* Node names are ours (index based): QEMU limits them to 31
                 * characters, which user ids may exceed. */
                (void) snprintf(stor, sizeof(stor), "disk%u-storage", i);
                (void) snprintf(fmt, sizeof(fmt), "disk%u-format", i);

                /* QEMU's "file" driver refuses a block device (file-posix.c:
                 * "'file' driver requires '...' to be a regular file"). */
                qa_opt_begin(b, &o, NULL);
                qa_opt_kv(b, &o, "driver", "%s", node[0] ? "host_device" : "file");
                qa_opt_kv_esc(b, &o, "filename", node[0] ? node : d->path);
                qa_opt_kv(b, &o, "node-name", "%s", stor);
                if (d->aio != DISK_AIO_DEFAULT)
                        qa_opt_kv(b, &o, "aio", "%s", profile_disk_aio_name(d->aio));
                blockdev_end(b, &o, d, ro);

                qa_opt_begin(b, &o, NULL);
                qa_opt_kv(b, &o, "driver", "%s", d->format == DISK_RAW ? "raw" : "qcow2");
                qa_opt_kv(b, &o, "file", "%s", stor);
                qa_opt_kv(b, &o, "node-name", "%s", fmt);
                /* On the node the guest writes to: a zero write becomes an
                 * unmap there, which the format passes down. */
                if (d->detect_zeroes != DISK_DZ_DEFAULT)
                        qa_opt_kv(b, &o, "detect-zeroes", "%s", profile_disk_detect_zeroes_name(d->detect_zeroes));
                blockdev_end(b, &o, d, ro);

                switch (d->bus) {
                case DISK_BUS_SATA:
                        if (sata >= SATA_UNITS)
                                return vl_error_set_at(e, EINVAL, NULL, 0, 0, path,
                                                       "more than %u SATA disks (q35's AHCI has "
                                                       "%u ports)",
                                                       SATA_UNITS, SATA_UNITS);
                        qa_opt_begin(b, &o, d->cdrom ? "ide-cd" : "ide-hd");
                        qa_opt_kv(b, &o, "bus", "ide.%u", sata++);
                        break;
                case DISK_BUS_VIRTIO:
                        qa_opt_begin(b, &o, "virtio-blk-pci");
                        if (d->has_iothread)
                                qa_opt_kv(b, &o, "iothread", "iothread%u", d->iothread);
                        qa_opt_port_addr(b, &o, l->disk_bus[i], 0);
                        break;
                case DISK_BUS_SCSI:
                        /* One target per disk, as libvirt's virtio-scsi
                         * disks are (scsi-id = unit, lun 0). */
                        qa_opt_begin(b, &o, "scsi-hd");
                        qa_opt_kv(b, &o, "bus", "%s.0", PROFILE_ID_SCSI);
                        qa_opt_kv(b, &o, "channel", "0");
                        qa_opt_kv(b, &o, "scsi-id", "%u", scsi++);
                        qa_opt_kv(b, &o, "lun", "0");
                        break;
                case DISK_BUS_NVME:
                        /* nvme refuses to start without a serial (max 20 chars);
                         * the id keeps it stable when disks are reordered. */
                        if (strlen(id) > 20)
                                return vl_error_set_at(e, EINVAL, NULL, 0, 0, path,
                                                       "id \"%s\" is longer than the 20 characters "
                                                       "an NVMe serial number may have",
                                                       id);
                        qa_opt_begin(b, &o, "nvme");
                        qa_opt_kv_esc(b, &o, "serial", id);
                        qa_opt_port_addr(b, &o, l->disk_bus[i], 0);
                        break;
                default:
                        return vl_error_set_at(e, EINVAL, NULL, 0, 0, path, "unknown disk bus");
                }
                qa_opt_kv(b, &o, "drive", "%s", fmt);
                qa_opt_kv_esc(b, &o, "id", id);
                if (!ordered)
                        qa_opt_kv(b, &o, "bootindex", "%u", i + 1);
                else if (d->boot)
                        qa_opt_kv(b, &o, "bootindex", "%u", d->boot);
                qa_arg_opt(b, "-device", &o);
        }
        return 0;
}
