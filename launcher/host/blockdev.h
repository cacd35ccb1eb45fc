/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * blockdev: whole block devices as disks (/dev/disk/by-id/..., /dev/sdb,
 * /dev/nvme0n1). QEMU runs unprivileged, so for the run the launcher hands
 * the device node to QEMU's user (chown), the same way as /dev/vfio/GROUP:
 * the node's owner, group and mode are journaled BEFORE the change (kind
 * JOURNAL_BLOCKDEV) and given back on every way out (host_undo(), also
 * `vfio-launch recover`).
 *
 * A disk is a block device when its path, followed, is one. Its node is
 * the path resolved through trusted links and folders, under DEV, and the
 * hand-over is host/devnode.h's (the one owner of device-node hand-overs):
 * only a block device is handed over, by an fd, never by name. A device the host
 * uses — mounted, swap, or held by a device stacked on it — is refused
 * (bind_block_holders(), the one answer to "in use").
 *
 * Every path is built from struct host_roots; nothing here prints.
 */
#pragma once

#include <stdbool.h>
#include <sys/types.h>

#include "base/error.h"
#include "base/roots.h"
#include "host/journal.h"
#include "profile/profile.h"

struct blockdev_node {
        unsigned disk;                 /* index in profile.disks */
        char node[PROFILE_PATH_MAX];   /* the disk's path resolved: "/dev/sdb" */
        dev_t rdev;
        uid_t uid;                     /* as found */
        gid_t gid;
        mode_t mode;                   /* permission bits */
};

struct blockdev_plan {
        unsigned n;
        struct blockdev_node nodes[PROFILE_DISKS_MAX];
};

/* Whether disk path `path` is a block device: 1 with *ret filled (disk
 * left 0), 0 for anything else (an image file, a path that does not exist:
 * QEMU will say), or -errno with e filled: a block device whose node is
 * not under roots->dev (-EPERM), or that cannot be resolved or opened.
 * Read only. jpath is the disk's JSON path, for the message. */
int blockdev_inspect(const struct host_roots *roots, const char *path, const char *jpath,
                     struct blockdev_node *ret, struct vl_error *e);

/* -EBUSY with e naming what holds it when the host uses the device
 * (bind_block_holders()); 0 when it is free. */
int blockdev_check_unused(const struct host_roots *roots, const struct blockdev_node *n, const char *jpath,
                          struct vl_error *e);

/* READ-ONLY: every disk of p that is a block device, each inspected and
 * checked unused; a refusal leaves the host untouched. */
int blockdev_plan(const struct host_roots *roots, const struct profile *p, struct blockdev_plan *ret,
                  struct vl_error *e);

/* Hand each planned node to uid:gid for VM `vm`'s run: re-opened and
 * re-checked (the same device number), journaled, then fchown()ed.
 * A node the user owns already is left alone (no entry). 0 or -errno;
 * what was handed over before a failure is the journal's to give back. */
int blockdev_hand_over(const struct host_roots *roots, const char *vm, const struct blockdev_plan *plan, uid_t uid,
                       gid_t gid, struct vl_error *e);

/* The undo of a JOURNAL_BLOCKDEV entry is devnode_undo_entry() (host/devnode.h). */
