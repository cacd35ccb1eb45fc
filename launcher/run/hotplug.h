/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * hotplug: live detach and attach of a running VM's hostdevs
 * (`vfio-launch detach|attach NAME DEVICE`), driven by the supervisor's
 * control socket and run inside its loop.
 *
 *   detach  device_del of function 0 of each guest slot involved (one
 *           request per slot: a second attention-button press within 5 s
 *           cancels a PCIe unplug in Linux's pciehp), a bounded wait for
 *           DEVICE_DELETED of every device — QEMU sends it only once the
 *           guest has released the slot —, a bounded wait for QEMU to close
 *           /dev/vfio/GROUP, then the devices go back to their recorded host
 *           drivers (host_undo_groups()). A guest that does not answer
 *           in time keeps the devices: the request stays pending, and the
 *           give-back happens when the guest lets go (on_idle) or when the
 *           VM stops.
 *   attach  vfio-pci again (bind_plan_new_subset() + bind_apply(), the same
 *           checks as at start), then device_add at the profile's address:
 *           the other functions of a slot first, function 0 last (QEMU
 *           announces the slot to the guest when function 0 arrives).
 *
 * The unit is not one device but the closure of the named one under "same
 * IOMMU group" and "same guest slot": the kernel refuses a host driver for
 * a device whose group QEMU still holds, and a guest slot leaves the guest
 * whole. A GPU and its HDMI audio go and come back together.
 *
 * It never prints: every outcome is a line for the control client or for
 * the caller (on_idle) to print.
 */
#pragma once

#include <stdbool.h>
#include <sys/types.h>

#include "base/error.h"
#include "host/undo.h"
#include "profile/profile.h"
#include "qemu/qemu_argv.h"

struct sup;

#define HOTPLUG_DEFAULT_TIMEOUT_MS 10000u
#define HOTPLUG_RELEASE_TIMEOUT_MS 5000u /* DEVICE_DELETED -> QEMU closed the group node */

enum hotplug_state {
        HOTPLUG_ATTACHED = 0,
        HOTPLUG_DETACHING, /* device_del sent; the guest has not released it yet */
        HOTPLUG_DETACHED,  /* back on its host driver */
};

struct hotplug {
        const struct profile *p;
        const struct host_env *host;
        uid_t uid;
        gid_t gid;
        struct qemu_hostdev hd[PROFILE_HOSTDEVS_MAX];
        int group[PROFILE_HOSTDEVS_MAX];          /* IOMMU group of each hostdev */
        enum hotplug_state state[PROFILE_HOSTDEVS_MAX];
        bool deleted[PROFILE_HOSTDEVS_MAX];       /* DEVICE_DELETED seen */
        bool in_request;                          /* a detach/attach is running */
        bool late;                                /* a pending detach completed: on_idle finishes it */
};

/* Set h up for the run of p (its hostdevs are on vfio-pci, all attached).
 * Reads each hostdev's IOMMU group. 0 or -errno with e filled. */
int hotplug_init(struct hotplug *h, const struct profile *p, const struct host_env *host, uid_t uid,
                 gid_t gid, struct vl_error *e);

/* The supervisor's hotplug hook: request is "detach TIMEOUT_MS DEVICE" or
 * "attach DEVICE"; DEVICE is a hostdev id or its host address. */
void hotplug_request(struct hotplug *h, struct sup *s, const char *request, char *reply, size_t size);

/* The supervisor's on_device_deleted hook. */
void hotplug_device_deleted(struct hotplug *h, struct sup *s, const char *id);

/* The supervisor's on_idle hook: finishes a detach whose guest answered
 * after its request timed out. Returns 0 when there was nothing to do, 1
 * when devices went back (msg says which), -errno on failure (msg says
 * what; the devices stay in the journal for the end of the run). */
int hotplug_idle(struct hotplug *h, struct sup *s, char *msg, size_t size);

/* For `vfio-launch status`: "\"hostdevs\":[{\"id\":\"gpu\",\"host\":\"0000:01:00.0\",
 * \"hotplug\":\"attached\"},...]" (attached, detaching, detached). Not
 * "state": that is the VM's, and tools grep for it. */
void hotplug_describe(const struct hotplug *h, char *buf, size_t size);

/* Index of the hostdev that arg names (its id, or its host address in any
 * form pci_addr_parse() takes), or -ENOENT. Pure. */
int hotplug_find(const struct hotplug *h, const char *arg);

/* A control request's reply, printf-style; returns 0, so that a request
 * (PCI here, USB in hotplug_usb.c) can end with `return hotplug_reply_set(...)`. */
int hotplug_reply_set(char *reply, size_t size, const char *fmt, ...) _printf_(3, 4);

/* The hostdevs that must go with hostdev i (same IOMMU group or same guest
 * slot, transitively), i included. Pure. */
void hotplug_closure(const struct hotplug *h, unsigned i, bool ret[static PROFILE_HOSTDEVS_MAX]);
