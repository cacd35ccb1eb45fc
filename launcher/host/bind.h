/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * bind: moving a VM's PCI devices from their host drivers to vfio-pci and
 * back. The only code that changes host driver bindings.
 *
 *   bind_plan_new()      READ-ONLY: every endpoint of every IOMMU group the
 *                        profile's hostdevs touch, its current driver and what
 *                        will happen to it; refuses (host untouched) with the
 *                        reason and the fix when the run cannot be safe.
 *   bind_plan_format()   the plan as text, for `vfio-launch print`.
 *   bind_apply()         journal first, then per device: driver_override =
 *                        vfio-pci -> unbind -> drivers_probe -> bounded wait
 *                        for the vfio-pci link; then /dev/vfio/GROUP is
 *                        chowned to the run-as user. Any failure rolls back
 *                        everything done so far before returning.
 *   bind_undo()          gives the devices of a loaded journal back, in
 *                        reverse: /dev/vfio/GROUP owner, driver_override,
 *                        unbind from vfio-pci, bind to the RECORDED original
 *                        driver (loading its module if needed), bounded
 *                        verify. Called by host_undo() (host/undo.h) — at the
 *                        end of a run, by `recover` after a crash, by
 *                        `unbind` and for a live detach — and by
 *                        bind_apply() to roll back. Idempotent.
 *
 * Every path is built from struct bind_env's roots; the installed binary
 * uses bind_env_init()'s defaults and nothing reads the environment.
 *
 * Writes that block: sysfs writes go through bind_ops.write, whose real
 * implementation (sysfs_write_bounded) does the open+write in a short-lived
 * child and gives up after write_timeout_ms with -ETIMEDOUT (an unbind can
 * sleep forever in a driver's remove() while a process holds the device).
 * The step is then reported as failed and rolled back; the stuck child is
 * SIGKILLed and reaped later. A rollback write to the same device will
 * usually time out too: the journal is then kept, naming the device, for
 * `vfio-launch recover` once the holder is gone.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "base/error.h"
#include "base/roots.h"
#include "host/journal.h"
#include "host/net.h"
#include "host/pci.h"
#include "profile/profile.h"

/* How bind touches the host. Tests replace these with a model of the
 * kernel; the installed binary always uses the real ones (ops = NULL). */
struct bind_ops {
        /* Write data to the sysfs attribute at the absolute path. 0; the
         * negative errno the kernel answered; -ETIMEDOUT after timeout_ms. */
        int (*write)(void *userdata, const char *path, const char *data, unsigned timeout_ms);
        /* Load a kernel module. 0, or -errno with msg filled (may be "") */
        int (*modprobe)(void *userdata, const char *modprobe, const char *module,
                        unsigned timeout_ms, char *msg, size_t msgsize);
        /* Read only: the addresses and routes of network link ifindex
         * (net_link_usage()). NULL in a test double: none. */
        int (*link_usage)(void *userdata, int ifindex, struct net_link_usage *ret);
        void *userdata;
};

struct bind_env {
        const struct host_roots *roots; /* sysfs, dev and proc to read and write; run for journals */
        const char *modprobe;         /* "/sbin/modprobe" */
        const char *pci_ids;          /* NULL = libpci's default pci.ids */
        unsigned wait_timeout_ms;     /* bound on each wait for a link / node: 5000 */
        unsigned write_timeout_ms;    /* bound on each sysfs write: 10000 */
        unsigned modprobe_timeout_ms; /* 30000 */
        unsigned poll_interval_ms;    /* 10 */
        const struct bind_ops *ops;   /* NULL = the real writes and modprobe */
        bool plan_names;              /* a plan's devices get their pci.ids names (for a
                                         listing: print); false = only messages name them */
};

/* The installed binary's settings (the values in the comments above) on
 * roots, which must outlive env. */
void bind_env_init(struct bind_env *env, const struct host_roots *roots);

enum bind_action {
        BIND_ACTION_MOVE = 0,    /* host driver (or none) -> vfio-pci, back after the run */
        BIND_ACTION_KEEP,        /* already on vfio-pci: left alone, not given back */
        BIND_ACTION_SKIP_BRIDGE, /* a PCI bridge (class 0x0604): stays on its driver */
};

struct bind_plan_device {
        struct pci_device dev;   /* as found when planning (names filled when known) */
        enum bind_action action;
        bool hostdev;            /* listed in the profile's hostdevs */
        bool allow_detach;       /* listed in allow_detach */
};

/* What a run will do to the host. Plain data; owned by whoever got it from
 * bind_plan_new(); free with bind_plan_free(). */
struct bind_plan {
        char name[PROFILE_NAME_MAX];
        unsigned n_groups;
        int groups[JOURNAL_GROUPS_MAX];      /* in the order the hostdevs name them */
        unsigned n_devices;
        struct bind_plan_device devices[JOURNAL_DEVICES_MAX]; /* by group, then address */
        struct vl_warnings warnings;         /* e.g. "allow_in_use: ... open by ..." */
        bool handover;                       /* the profile's host_handover comes before the move:
                                                in-use findings were warnings, to be checked
                                                again (bind_plan_recheck_usage()), and a
                                                device may have lost its driver meanwhile */
        bool extend;                         /* a subset for a live attach: bind_apply()
                                                adds it to this process's own journal */
};

/* Plan the run of profile p. Reads only. Returns 0 with *ret set, or a
 * negative errno with a one-line reason + fix in e and *ret untouched:
 *   -ENODEV   the IOMMU is off; a hostdev does not exist; it has no IOMMU group
 *   -EINVAL   a hostdev is a PCI bridge
 *   -EBUSY    a group member is on a host driver and not in hostdevs /
 *             allow_detach; the boot VGA / firmware framebuffer device (unless
 *             allow_boot_vga); a device open by a process, or one the host
 *             uses (bind_device_holders(): "ADDR holds the mounted filesystem
 *             / (/dev/vda1): refused (allow_in_use overrides)") unless
 *             allow_in_use, which turns each into a warning; a device in
 *             another VM's journal, or a journal of this VM exists (running,
 *             or crashed: recover first)
 *   -EBADMSG  a journal under run_dir cannot be read (its devices are unknown)
 *   -E2BIG    more devices or groups than the journal can hold
 *   -ENOMEM, -EIO and other -errno from reading the host. */
int bind_plan_new(const struct bind_env *env, const struct profile *p, struct bind_plan **ret,
                  struct vl_error *e);

/* The same for the hostdevs i with only[i] set (a live attach to a
 * running VM): their IOMMU groups only, and the VM's journal may exist when
 * it belongs to this process (the running launcher), as long as none of the
 * planned devices is in it (-EBUSY: still assigned). allow_detach members of
 * those groups are moved as in a full plan. */
int bind_plan_new_subset(const struct bind_env *env, const struct profile *p, const bool *only,
                         struct bind_plan **ret, struct vl_error *e);

/* For a plan made with host_handover, once the hand-over is done: the
 * in-use checks bind_plan_new() postponed (a process with the devices'
 * nodes open, the console or a framebuffer on them, the boot VGA without
 * allow_boot_vga), with its refusals (-EBUSY, e) and allow_in_use's
 * warnings (plan->warnings). */
int bind_plan_recheck_usage(const struct bind_env *env, const struct profile *p, struct bind_plan *plan,
                            struct vl_error *e);

/* What on the host holds device d, so that taking it would pull it from
 * under the host (besides processes with its nodes open, which
 * pci_device_openers() lists): each as a phrase for "ADDR holds ...":
 *   "the mounted filesystem / (/dev/vda1)"   a file system on one of its block
 *                devices, their partitions or the dm/md devices stacked on
 *                them (PROC/self/mountinfo), or a 9p / virtiofs mount of its tag
 *   "the active swap /dev/vda2"              the same, in PROC/swaps
 *   "the network interface eth0 (up, address 192.0.2.1/24, 1 route)"  one of
 *                its interfaces that is up, has addresses or routes, or is a
 *                bridge / bond port or under another link
 *   "the console ttyS4", "the console (fbcon on fb0)"  an active kernel
 *                console on its tty, the virtual terminals on its framebuffer
 * The plan refuses such a device unless allow_in_use; doctor lists them.
 * Read only: paths from env->roots, links through env->ops->link_usage.
 * Returns the number found (0: nothing), the first BIND_HOLDERS_MAX in
 * ret->what; or -errno with e filled. */
#define BIND_HOLDERS_MAX 8
struct bind_holders {
        unsigned n;
        char what[BIND_HOLDERS_MAX][200];
};
int bind_device_holders(const struct bind_env *env, const struct pci_device *d, struct bind_holders *ret,
                        struct vl_error *e);

/* The same for block device dev (a whole disk or a partition) that a
 * profile gives QEMU as a disk: what the host has on it — a file system
 * mounted from it or from one of its partitions, active swap there, or a
 * device stacked on it (its or its partitions' holders/: LVM, dm-crypt, md),
 * "the block device /dev/mapper/vg-root stacked on it". Read only, from
 * roots->sysfs and roots->proc. Returns how many (ret->n), or -errno with e
 * filled (-ENOENT: no such block device in SYS/class/block). */
int bind_block_holders(const struct host_roots *roots, dev_t dev, struct bind_holders *ret, struct vl_error *e);

/* Whether the host's console is on the PCI device at a: a kernel console on
 * one of its ttys, or the virtual terminals fbcon draws on one of its
 * framebuffers — the console part of bind_device_holders(), for a caller
 * that must know which display is the host's (init). Read only, from
 * roots->sysfs. Returns 1 or 0, or -errno with e filled (-ENOENT: no such
 * device). */
int bind_device_console(const struct host_roots *roots, const struct pci_addr *a, struct vl_error *e);

/* ret->what joined as "A", "A and B", "A, B and C" (" and N more" past
 * BIND_HOLDERS_MAX), cut to size. Returns buf. */
char *bind_holders_join(const struct bind_holders *h, char *buf, size_t size);

void bind_plan_free(struct bind_plan *p);
static inline void bind_plan_freep(struct bind_plan **p)
{
        bind_plan_free(*p);
}
#define _cleanup_bind_plan_ _cleanup_(bind_plan_freep)

/* The plan as text, one line per device under a line per group, ending in
 * '\n'. Returns a string the caller frees, or NULL on ENOMEM. */
char *bind_plan_format(const struct bind_plan *p);

/* Carry out the plan: re-check that nothing changed since it was made,
 * write the journal RUN_DIR/NAME/state.json, load vfio-pci if its driver
 * directory is missing, move every MOVE device (each step journalled before
 * it is done), wait for /dev/vfio/GROUP of every group, then chown it to
 * uid:gid (both -1: left as is). A plan with no device does nothing.
 * Returns 0 (the journal stays until host_undo()), or a negative
 * errno with e saying which device, which step and what the kernel answered,
 * after everything done was rolled back (the message says whether the
 * rollback was complete; if not, the journal is kept for `recover`):
 *   -ESTALE   the host changed since the plan
 *   -EEXIST   a journal for this VM exists already (for an extending plan:
 *             one of another process, or a planned device is in it)
 *   -ETIMEDOUT a write or a wait ran out of time
 *   the kernel's errno for a refused write; -EIO when modprobe failed. */
int bind_apply(const struct bind_env *env, const struct bind_plan *plan, uid_t uid, gid_t gid,
               struct vl_error *e);

/* Give back the devices j records — all of them (groups NULL), or those of
 * the listed IOMMU groups only (a live detach: QEMU runs on with the
 * others) — see the top of this file. Each device that is back is dropped
 * from j and j is saved, so that a later `recover` retries only what remains;
 * deleting the file once journal_empty(j) is the caller's. A device that no
 * longer exists (hot-unplugged) counts as given back. Returns 0, or the first
 * device's error with e naming every device left behind (they stay in j). */
int bind_undo(const struct bind_env *env, struct journal *j, const int *groups, unsigned n_groups,
              struct vl_error *e);

const char *bind_action_to_string(enum bind_action a);
