/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * hotplug_usb: live detach and attach of a running VM's host USB devices
 * (`vfio-launch usb detach|attach NAME DEVICE`), driven by the supervisor's
 * control socket ("usb detach DEVICE", "usb attach DEVICE") and run inside
 * its loop.
 *
 *   detach  device_del of the usb-host device (QEMU unplugs a USB device at
 *           once and sends DEVICE_DELETED), a bounded wait for that event,
 *           remove-fd of its fd set so QEMU holds the node no more, then the
 *           node goes back to its owner (its journal entry through
 *           host_undo_entry(), then out of the journal).
 *   attach  the device found again as at start (usb_find(): it may have
 *           another node now, after a replug), handed over (journaled) and
 *           opened, QMP add-fd with that fd under the device's fd set, then
 *           device_add of the same usb-host the command line has
 *           (qemu_usb_host_layout()). A failure takes back what was done.
 *
 * DEVICE is the QEMU id (usbhost0) or the index in usb.devices. It never
 * prints: every outcome is a line for the control client.
 */
#pragma once

#include <stdbool.h>
#include <sys/types.h>

#include "host/undo.h"
#include "host/usb.h"
#include "profile/profile.h"

struct sup;

#define HOTPLUG_USB_TIMEOUT_MS 5000u

struct hotplug_usb {
        const struct profile *p;
        const struct host_env *host;
        uid_t uid;
        gid_t gid;
        bool attached[PROFILE_USB_DEVICES_MAX];
        bool deleted[PROFILE_USB_DEVICES_MAX];   /* DEVICE_DELETED seen */
        struct usb_node node[PROFILE_USB_DEVICES_MAX]; /* the device of each attached one */
};

/* Set h up for the run: plan's devices are attached (on the command line). */
void hotplug_usb_init(struct hotplug_usb *h, const struct profile *p, const struct host_env *host, uid_t uid,
                      gid_t gid, const struct usb_plan *plan);

/* The supervisor's hotplug hook for "usb detach DEVICE" / "usb attach
 * DEVICE". */
void hotplug_usb_request(struct hotplug_usb *h, struct sup *s, const char *request, char *reply, size_t size);

/* The supervisor's on_device_deleted hook (ids of other devices ignored). */
void hotplug_usb_device_deleted(struct hotplug_usb *h, const char *id);

/* For `vfio-launch status`: "\"usb\":[{\"id\":\"usbhost0\",\"device\":\"046d:c52b\",
 * \"host\":\"3-1.2\",\"node\":\"/dev/bus/usb/003/005\",\"hotplug\":\"attached\"},...]"
 * (attached, detached; not "state": that is the VM's, and tools grep for
 * it); appended to buf after a comma when buf is not empty.
 * Nothing when the profile has no USB devices. */
void hotplug_usb_describe(const struct hotplug_usb *h, char *buf, size_t size);
