/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * usb: the profile's host USB devices ("usb": {"devices": [...]}), which
 * QEMU's usb-host device drives through the kernel's usbfs node
 * DEV/bus/usb/BBB/DDD. QEMU runs unprivileged and the node is root's, so for
 * the run root opens it (the fd QEMU gets, through -add-fd or QMP add-fd)
 * and hands it to QEMU's user through host/devnode.h (journal kind
 * JOURNAL_USB), given back on every way out.
 *
 * A device is found in SYS/bus/usb/devices: by its ids (idVendor,
 * idProduct, and serial when the profile gives one: two devices that match
 * are refused, both named), or by its place, "B-P.P" from the profile's bus
 * and port. Its node is the one busnum and devnum name, and must be the
 * character device SYS says it is (dev, major 189): devnum changes each
 * time a device is plugged in, so a node is never trusted by name alone.
 *
 * A device that is not plugged in is refused before any host change, or,
 * with "required": false, left out of the run with a warning. Hubs and root
 * hubs are never matched: they are the host's way to every device behind
 * them. A USB disk the host uses (a file system mounted from it, swap, a
 * device stacked on it: bind_block_holders()) is refused, with no
 * allow_in_use, as a disk given to QEMU is.
 *
 * Every path is built from struct host_roots; nothing here prints.
 */
#pragma once

#include <stdint.h>
#include <sys/types.h>

#include "base/error.h"
#include "base/roots.h"
#include "profile/profile.h"

#define USB_SYSNAME_MAX 32 /* "3-1.2.3.4.5.6.7" */

struct usb_node {
        unsigned device;               /* index in profile.usb.devices */
        char sysname[USB_SYSNAME_MAX]; /* the kernel's name for its place: "3-1.2" */
        unsigned busnum, devnum;
        uint16_t vendor, product;
        char node[PROFILE_PATH_MAX];   /* DEV/bus/usb/003/005 */
        dev_t rdev;
};

struct usb_plan {
        unsigned n; /* the devices plugged in (an absent optional one is not here) */
        struct usb_node nodes[PROFILE_USB_DEVICES_MAX];
};

/* Find device d of the profile (jpath its key, for messages): 0 with *ret
 * filled (device left 0); -ENOENT when it is not plugged in; -ENOTUNIQ when
 * its ids match more than one device (the message lists them); -EBUSY when
 * it is a disk the host uses; -EINVAL /
 * -EPERM when what SYS and DEV say do not agree or the node is not reached
 * through folders root trusts. Read only. */
int usb_find(const struct host_roots *roots, const struct profile_usb_device *d, const char *jpath,
             struct usb_node *ret, struct vl_error *e);

/* READ-ONLY: every device of p found. A required one missing is refused
 * (-ENOENT); an optional one is left out with a warning in w. Two elements
 * that find one device are refused. */
int usb_plan(const struct host_roots *roots, const struct profile *p, struct usb_plan *ret, struct vl_error *e,
             struct vl_warnings *w);

/* Hand n's node to uid:gid for VM vm's run (devnode_hand_over(), kind
 * JOURNAL_USB). 0 or -errno; what was handed over is the journal's to give
 * back. */
int usb_hand_over(const struct host_roots *roots, const char *vm, const struct usb_node *n, uid_t uid, gid_t gid,
                  struct vl_error *e);

/* Open n's node for QEMU (read-write, as QEMU's usb-host opens it; never
 * following a link), checked to be the device planned: the fd, or -errno
 * with e filled (-ESTALE: another device has the number now). */
int usb_open(const struct usb_node *n, struct vl_error *e);
