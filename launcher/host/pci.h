/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * pci: what the host says about its PCI devices. Read-only.
 *
 * Two sources: plain sysfs reads (ids, class, driver, driver_override, IOMMU
 * group, boot_vga, BARs) and libpci (enumeration, names from pci.ids).
 * Every path is joined to a root the caller passes: sysfs_root ("/sys"),
 * dev_root ("/dev"), proc_root ("/proc"). Nothing reads the environment.
 *
 * libpci's default error handler calls exit(1); pci_ctx installs one that
 * longjmps back into the wrapper that called libpci and turns the message
 * into a struct vl_error. libpci is always used with its sysfs method (never
 * the port-I/O or /proc methods), pointed at SYSFS_ROOT/bus/pci.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "base/error.h"
#include "base/pci_addr.h"

#define PCI_NAME_MAX 128   /* incl. NUL: vendor / device names */
#define PCI_DRIVER_MAX 64  /* incl. NUL: driver and module names, driver_override */
#define PCI_BARS_MAX 7     /* 6 BARs + the expansion ROM, in sysfs `resource` order */
#define PCI_SCAN_MAX 1024  /* devices pci_scan() accepts */
#define PCI_BRIDGE_CLASS 0x0604u /* class >> 8 of a PCI-to-PCI bridge */

struct pci_device {
        struct pci_addr addr;
        uint16_t vendor_id, device_id;
        uint32_t class_code;                   /* 24 bits: base << 16 | sub << 8 | prog-if */
        int iommu_group;                       /* -1: no iommu_group link */
        bool boot_vga;                         /* boot_vga reads "1" */
        bool bridge;                           /* class 0x0604xx */
        char driver[PCI_DRIVER_MAX];           /* basename of the `driver` link; "" = none */
        char driver_module[PCI_DRIVER_MAX];    /* basename of driver/module; "" = built in or none */
        char driver_override[PCI_DRIVER_MAX];  /* "" = none (the kernel shows "(null)") */
        char vendor_name[PCI_NAME_MAX];        /* "" = unknown, or not looked up */
        char device_name[PCI_NAME_MAX];
};

/* Read one device from SYSFS_ROOT/bus/pci/devices/ADDR. Names are left "".
 * Returns 0; -ENOENT when the device does not exist; -EIO (e filled) when
 * vendor/device/class cannot be read or parsed. */
int pci_device_read(const char *sysfs_root, const struct pci_addr *a, struct pci_device *ret,
                    struct vl_error *e);

/* A libpci handle: enumeration and names. Owned by the caller; free with
 * pci_ctx_free() (NULL accepted). */
struct pci_ctx;

/* sysfs_root as above; ids_file = the pci.ids to read names from, NULL =
 * libpci's default. A missing ids file is not an error (names stay "").
 * Returns 0, -ENOMEM, or -EIO with libpci's message in e (e.g. no
 * SYSFS_ROOT/bus/pci/devices). */
int pci_ctx_new(const char *sysfs_root, const char *ids_file, struct pci_ctx **ret,
                struct vl_error *e);
void pci_ctx_free(struct pci_ctx *c);
static inline void pci_ctx_freep(struct pci_ctx **c)
{
        pci_ctx_free(*c);
}
#define _cleanup_pci_ctx_ _cleanup_(pci_ctx_freep)

/* Fill d->vendor_name / d->device_name from pci.ids (local database only: no
 * hwdb, no network). Unknown ids, or no ids file, leave them "". c may be
 * NULL (then nothing is filled). */
void pci_ctx_fill_names(struct pci_ctx *c, struct pci_device *d);

/* Every PCI device the host has: libpci enumerates, pci_device_read() fills
 * each, names are looked up. *ret is sorted by address and owned by the
 * caller (free()). Returns 0; -E2BIG over PCI_SCAN_MAX; -ENOMEM; -EIO with
 * libpci's message. */
int pci_scan(struct pci_ctx *c, struct pci_device **ret, size_t *ret_n, struct vl_error *e);

/* Whether an IOMMU is on: SYSFS_ROOT/class/iommu or SYSFS_ROOT/kernel/
 * iommu_groups has at least one entry. */
bool pci_iommu_enabled(const char *sysfs_root);

/* Whether the kernel remaps interrupts, as /proc/interrupts shows it: with
 * remapping on, the interrupt chips are named "IR-IO-APIC", "IR-PCI-MSI...".
 * VFIO (vfio_iommu_type1) refuses a device without it unless the module's
 * allow_unsafe_interrupts is set, and QEMU then only says "Failed to set
 * iommu for container: Operation not permitted". Returns 1 (on), 0 (off:
 * IO-APIC or MSI chips, none remapped), -ENODATA (cannot tell), -errno. */
int pci_irq_remapping(const char *proc_root);

/* Whether vfio_iommu_type1 was loaded with allow_unsafe_interrupts=1
 * (SYSFS_ROOT/module/vfio_iommu_type1/parameters/allow_unsafe_interrupts). */
bool pci_vfio_unsafe_interrupts(const char *sysfs_root);

/* The members of IOMMU group `group` (SYSFS_ROOT/kernel/iommu_groups/N/
 * devices/ entries), sorted by address, into ret[max]. Returns 0; -ENOENT when the
 * group does not exist; -E2BIG when it has more than max members; -EIO (e
 * filled) on an entry that is not a PCI address. */
int pci_group_members(const char *sysfs_root, int group, struct pci_addr *ret, size_t max,
                      size_t *ret_n, struct vl_error *e);

struct pci_bar {
        uint64_t start, end; /* inclusive, as the kernel prints them */
        uint64_t flags;
};

/* The device's assigned memory/IO ranges from its `resource` file (unused
 * lines, start = end = 0, are left out). Returns 0, -ENOENT, -EIO. */
int pci_device_bars(const char *sysfs_root, const struct pci_addr *a, struct pci_bar *ret,
                    size_t max, size_t *ret_n);

/* Whether the host's firmware framebuffer / boot console lives on the device:
 *  - a PROC_ROOT/iomem range named efifb, vesafb, simple-framebuffer,
 *    simpledrm or BOOTFB overlaps one of the device's BARs, or
 *  - a SYSFS_ROOT/class/graphics/fb* whose `device` link is this device.
 * Returns 1 (what[] says which, e.g. "efifb at e0000000-e07fffff"), 0, or
 * -errno. An iomem that shows only zero addresses (read without root) cannot
 * answer: *ret_unknown is set then (may be NULL). */
int pci_device_has_framebuffer(const char *sysfs_root, const char *proc_root,
                               const struct pci_device *d, char *what, size_t whatsize,
                               bool *ret_unknown);

/* A process holding one of the device's nodes open. */
struct pci_opener {
        pid_t pid;
        char comm[17];     /* PROC/PID/comm, "" if unreadable */
        char node[64];     /* the node, relative to dev_root: "dri/card0" */
};

/* Processes with the device's nodes open, found through PROC_ROOT/<pid>/fd/N
 * links. The device's nodes: DEV_ROOT/dri/<name> for every entry of
 * SYSFS/.../ADDR/drm/ (card*, renderD*) and every DEV_ROOT/dri/by-path/
 * pci-ADDR-* link; and, when the device is on the nvidia driver,
 * DEV_ROOT/nvidia<minor> (minor from PROC_ROOT/driver/nvidia/gpus/ADDR/
 * information, else every nvidia<N>), nvidiactl and nvidia-modeset.
 * Processes whose fd directory cannot be read are skipped. At most max are
 * stored; *ret_n counts them all. Returns 0 or -errno (proc_root unreadable). */
int pci_device_openers(const char *sysfs_root, const char *dev_root, const char *proc_root,
                       const struct pci_device *d, struct pci_opener *ret, size_t max,
                       size_t *ret_n);
