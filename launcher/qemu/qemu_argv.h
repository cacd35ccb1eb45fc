/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The QEMU command line and environment for a profile. PURE: a function of
 * (profile, host facts, run-time decisions) — no I/O, no globals, no getenv —
 * so `vfio-launch print` shows exactly what a run executes and the golden
 * tests (tests/argv/CASE) pin it down.
 *
 * Layout follows libvirt's for q35 (docs/facts.md#F-q35-root-ports): PCIe root ports pci.N with
 * chassis N, port 0x10+N-1, at pcie.0 slot 2+(N-1)/8 function (N-1)%8;
 * hostdevs behind the root port the profile names; other PCIe devices on
 * the lowest free ports. Every user-controlled option value has its commas
 * doubled (QEMU's QemuOpts/keyval escaping), so any path works.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "base/error.h"
#include "qemu/hostinfo.h"
#include "profile/profile.h"

#define QEMU_FD_FIRST 3 /* the first fd QEMU inherits: after stdin, stdout and stderr */
#define QEMU_FDS_MAX (2 + 2 * PROFILE_NICS_MAX + 1 + PROFILE_USB_DEVICES_MAX)

/* The fd set (-add-fd set=, QMP add-fd fdset-id) of usb.devices[i]'s
 * /dev/bus/usb node: one per device, so a live detach removes exactly its
 * own and an attach adds it again under the same number. */
#define QEMU_USB_FDSET(i) ((i) + 1u)

/* The fds QEMU inherits, each with the number it has in QEMU's process.
 * Built once per run (qemu_fd_layout_init()), then used both by the
 * builder, which writes the numbers into the command line, and by the
 * launcher, which puts every fd in its place (qemu_fd_layout_place()) for
 * the sandbox to move there — so the two can never disagree. */
struct qemu_fd_layout {
        int qmp;                   /* the supervisor's QMP listener: its private monitor */
        int qmp_user;              /* a second QMP listener for tools and people (QEMU
                                      serves one client per monitor); -1 = none */
        int nic[PROFILE_NICS_MAX]; /* each tap/macvtap NIC's fd by NIC index; -1 for "user" */
        int vhost[PROFILE_NICS_MAX]; /* its /dev/vhost-net fd (host/vhost.h); -1 = QEMU's
                                        userspace virtio-net */
        int tpm;                   /* the TPM's chardev: QEMU's end of the socket pair to
                                      swtpm (run/swtpm.h); -1 = no TPM */
        int usb[PROFILE_USB_DEVICES_MAX]; /* each usb.devices node (host/usb.h) by index; -1 =
                                             none, or an optional device not plugged in */
        unsigned n;                /* QEMU_FD_FIRST .. QEMU_FD_FIRST + n - 1 are used */
};

/* The layout for p: the QMP listener(s) first, then per tap/macvtap NIC in
 * profile order its tap and, where vhost[i] (NULL = none), its
 * /dev/vhost-net, then the TPM's socket, then each USB device's node where
 * usb[i] (NULL = none). Pure. */
void qemu_fd_layout_init(struct qemu_fd_layout *l, const struct profile *p, bool qmp_user,
                         const bool vhost[PROFILE_NICS_MAX], const bool usb[PROFILE_USB_DEVICES_MAX]);

/* Put the run's open fds in layout order: out[i] is the fd QEMU sees as
 * QEMU_FD_FIRST + i. nic_fds and vhost_fds are by NIC index (-1 where the
 * layout has none; vhost_fds may be NULL when it has none at all); tpm is
 * QEMU's end of the socket pair to swtpm (-1 without a TPM); usb_fds by
 * usb.devices index (NULL when the layout has none). Pure.
 * Returns l->n, or -EBADF when an fd the layout needs is missing (< 0). */
int qemu_fd_layout_place(const struct qemu_fd_layout *l, int qmp, int qmp_user,
                         const int nic_fds[PROFILE_NICS_MAX], const int vhost_fds[PROFILE_NICS_MAX], int tpm,
                         const int usb_fds[PROFILE_USB_DEVICES_MAX], int out[QEMU_FDS_MAX]);

/* What the launcher decides at run time, handed to the builder. */
struct qemu_runtime {
        char machine[PROFILE_STR_MAX]; /* the machine type to run, as resolved for this
                                          QEMU (hostinfo_machine_resolve()) */
        struct qemu_fd_layout fds;
        unsigned spice_port; /* the port chosen when display.port is 0 (autoport) */
        int nic_fds[PROFILE_NICS_MAX]; /* tap / macvtap fd per NIC index; -1 for "user" NICs */
        /* Per NIC without vhost-net (fds.vhost[i] < 0): why, for print. */
        char vhost_off[PROFILE_NICS_MAX][128];
        struct {
                char code[PROFILE_PATH_MAX];   /* "" = BIOS (SeaBIOS, no pflash) */
                char code_format[8];           /* "raw" (default) | "qcow2" */
                char vars[PROFILE_PATH_MAX];   /* the VM's own VARS copy */
                char vars_format[8];
                bool requires_smm;             /* descriptor feature "requires-smm" */
        } firmware;
        /* With "hugepages": the VM's own folder in the hugetlbfs mount
         * (hugepages_vm_dir()), QEMU's mem-path. "" = no hugepages. */
        char mem_path[PROFILE_PATH_MAX];
        /* The run-as user's, so QEMU reaches its PulseAudio/PipeWire socket
         * in /run/user/UID (0700). "" = left out. */
        char home[PROFILE_PATH_MAX];
        char xdg_runtime_dir[PROFILE_PATH_MAX];
        /* With "smbios": "host": the host's strings, read at start
         * (dmi_read()); mode SMBIOS_HOST, fields "" where the host has none. */
        struct profile_smbios smbios_host;
        /* Per disk: the block device node its path resolved to, handed to
         * QEMU's user for the run (host/blockdev.h); "" = an image file.
         * A block device is QEMU's host_device driver (its "file" driver
         * refuses one) and is opened by this name, not through the link
         * the profile gave. */
        char disk_node[PROFILE_DISKS_MAX][PROFILE_PATH_MAX];
        /* Each "shmem"'s file, by index: /dev/shm/NAME or /dev/kvmfrN
         * (shmem_path(), host/shmem.h). */
        char shmem_path[PROFILE_SHMEM_MAX][PROFILE_PATH_MAX];
        /* Per evdev input: the node its path resolved to, handed to QEMU's
         * user for the run (host/input.h); QEMU opens this name, not the
         * link the profile gave, so it gets the node that was handed over.
         * "" = not found now (a run refuses it before any change; print
         * shows the profile's path). */
        char input_node[PROFILE_INPUTS_MAX][PROFILE_PATH_MAX];
        /* Per usb.devices element: the node found for it when the command
         * line was built (host/usb.h), for print; "" = not found now (a
         * required one is refused by the run; an optional one has no fd
         * slot and is left out). QEMU gets the node as an fd. */
        char usb_node[PROFILE_USB_DEVICES_MAX][PROFILE_PATH_MAX];
        char usb_sysname[PROFILE_USB_DEVICES_MAX][32];
};

/* Everything -1 / "" / 0. */
void qemu_runtime_init(struct qemu_runtime *rt);

/* The result: NULL-terminated arrays, all strings owned by the struct. */
struct qemu_cmd {
        char **argv; /* argv[0] = hostinfo's qemu_path */
        size_t n_argv;
        char **env;  /* "KEY=VALUE" */
        size_t n_env;
};

/* Build the command line. *ret is written only on success; free it with
 * qemu_cmd_free(). Returns 0, -EINVAL (the profile asks for something the
 * layout cannot express, e.g. two devices at one address; e has the JSON
 * path), -ENOTSUP (this QEMU version cannot do it: pipewire before 8.1,
 * QEMU older than 7.0), -ENOMEM. Warnings (machine type mapped, audio
 * settings that never applied) go to w (may be NULL). */
int qemu_argv_build(const struct profile *p, const struct hostinfo *h,
                    const struct qemu_runtime *rt, struct qemu_cmd **ret, struct vl_error *e,
                    struct vl_warnings *w);

/* Frees everything; NULL is fine. */
void qemu_cmd_free(struct qemu_cmd *c);

static inline void qemu_cmd_freep(struct qemu_cmd **c)
{
        qemu_cmd_free(*c);
}
#define _cleanup_qemu_cmd_ _cleanup_(qemu_cmd_freep)

/* Append s to buf (of size) with every ',' doubled, as QEMU's option
 * parsers expect inside a value. Returns 0 or -ENAMETOOLONG (buf is then
 * left NUL-terminated at its old end). */
int qemu_argv_escape(char *buf, size_t size, const char *s);

/* usb.devices[i]'s usb-host device as the command line has it, for a live
 * attach (QMP add-fd + device_add) to put it back the same way. */
struct qemu_usb_host {
        unsigned fdset;     /* QEMU_USB_FDSET(i) */
        char hostdevice[32]; /* "/dev/fdset/N" */
        char id[32];        /* "usbhostI" */
        char bus[16];       /* the controller's: "usb0.0" */
};

/* Pure. */
void qemu_usb_host_layout(unsigned i, struct qemu_usb_host *ret);

/* One hostdev's vfio-pci device as the command line has it, for a live
 * attach (QMP device_add) to put it back exactly there. */
struct qemu_hostdev {
        char id[PROFILE_STR_MAX];          /* QEMU device id */
        char host[PCI_ADDR_STRLEN];
        unsigned bus;                      /* behind root port "pci.N" */
        unsigned function;                 /* addr=0x0.F */
        bool multifunction;
        int rombar;                        /* -1 = QEMU's default, else 0 or 1 */
        char romfile[PROFILE_PATH_MAX];    /* "" = none */
        bool x_vga;
        unsigned bootindex;                /* 0 = none */
};

/* The hostdevs of p as qemu_argv_build() places them (the same layout, so a
 * device added later lands where the guest saw it). Pure. 0, or -EINVAL /
 * -ENOSPC with e as qemu_argv_build() fills it. */
int qemu_hostdev_layout(const struct profile *p, struct qemu_hostdev ret[static PROFILE_HOSTDEVS_MAX],
                        struct vl_error *e);
