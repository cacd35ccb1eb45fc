/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * launch: one run of a VM, in the order the CLI drives it —
 *
 *   launch_prepare()   the decisions between a loaded profile and the argv
 *                      builder (machine type, firmware, VARS path, the fd
 *                      layout), shared with `print` and the golden tests so
 *                      that what `print` shows is what a run executes;
 *   launch_lock()      the VM name's lock (one instance per name);
 *   launch_plan()      READ-ONLY: devices, networks, hugepages; a refusal
 *                      here leaves the host as it was;
 *   launch_apply_*()   the host changes, each journaled before it is made
 *                      (the TPM's state, like the VARS file, is the VM's
 *                      own: made once, never undone);
 *   launch_open()      QEMU's log and sockets;
 *   launch_supervise() QEMU in its sandbox, to its end (run/supervisor.h),
 *                      with the run's hooks: its PID into the journal, vCPU
 *                      pinning before `cont`, live detach/attach;
 *   launch_undo()      everything back (host_undo());
 *   launch_done()      fds closed, lock released — and, should a path have
 *                      skipped launch_undo(), the host given back anyway.
 *
 * struct launch is the applied run: whatever step failed, launch_done()
 * (or its _cleanup_) leaves the host as it found it. Nothing here prints
 * but through the supervisor's hooks; the CLI reports each step.
 */
#pragma once

#include <stdbool.h>
#include <sys/types.h>

#include "base/error.h"
#include "host/bind.h"
#include "host/blockdev.h"
#include "host/handover.h"
#include "host/hugepages.h"
#include "host/runas.h"
#include "host/input.h"
#include "host/usb.h"
#include "run/hotplug_usb.h"
#include "host/shmem.h"
#include "host/undo.h"
#include "profile/profile.h"
#include "qemu/hostinfo.h"
#include "qemu/qemu_argv.h"
#include "run/hotplug.h"
#include "run/supervisor.h"
#include "run/swtpm.h"

#define LAUNCH_LOG_DIR "/var/log/vfio-launch" /* QEMU's output: NAME.log */

/* Fill rt's machine type (resolved for this QEMU, with its warnings), the
 * firmware (code, VARS path under state_dir unless the profile names one),
 * vhost-net per NIC (vhost_net_decide(): ROOTS->dev/vhost-net opened once;
 * rt->vhost_off says why not), the fd layout (with a tools' QMP socket) and, with hugepages, the VM's
 * mem-path folder; with "smbios": "host", the host's strings (read from
 * roots->sysfs); the node of each disk that is a block device
 * (blockdev_inspect(), read only). ret_fc (may be NULL) gets the firmware choice, for
 * printing. home/xdg_runtime_dir and spice_port are left to the caller.
 * profile_trusted: the profile is root's and no other account may change it
 * (or the launcher does not run as root). Only such a profile may put the
 * VARS outside state_dir/NAME/: root creates that file for QEMU's user, so
 * whoever writes the profile would choose where (docs/design.md, "Who may
 * do what"); -EPERM otherwise. Returns 0 or -errno with e filled. */
int launch_prepare(const struct profile *p, const struct hostinfo *h, const struct host_roots *roots,
                   const struct firmware_dirs *dirs, const char *state_dir, bool profile_trusted,
                   struct qemu_runtime *rt, struct firmware_choice *ret_fc, struct vl_error *e,
                   struct vl_warnings *w);

/* The first TCP port from first..first+99 that can be bound on listen_addr
 * now (libvirt's SPICE autoport does the same, from 5900). Returns 0 or
 * -EADDRINUSE / -EINVAL. */
int launch_pick_port(const char *listen_addr, unsigned first, unsigned *ret);

struct launch {
        const struct profile *p;
        const struct host_env *host;
        const struct runas *user;            /* QEMU's */
        const struct qemu_runtime *rt;       /* its fd layout */
        int lock;                            /* the VM name's lock, -1 */
        struct bind_plan *plan;              /* launch_plan() */
        struct hugepages_plan hugepages;     /* launch_plan(), with p->hugepages */
        struct blockdev_plan blockdevs;      /* launch_plan(): the disks that are block devices */
        struct shmem_plan shmem;             /* launch_plan(), with p->shmem */
        struct input_plan inputs;            /* launch_plan(): the evdev inputs */
        struct usb_plan usb;                 /* launch_plan(): the host USB devices plugged in */
        int usb_fds[PROFILE_USB_DEVICES_MAX]; /* their nodes, opened for QEMU, by usb.devices index; -1 */
        struct handover_plan *handover;      /* launch_plan(), with host_handover; NULL otherwise */
        bool changed;                        /* host changes may exist: undo them */
        int nic_fds[PROFILE_NICS_MAX];       /* by NIC index; -1 */
        int vhost_fds[PROFILE_NICS_MAX];     /* /dev/vhost-net per NIC as rt->fds.vhost says; -1 */
        int log_fd;                          /* QEMU's stdout and stderr; -1 = this terminal */
        int qmp_listener, qmp_client, qmp_user_listener;
        char qmp_user_path[256], control_path[256];
        struct hotplug hotplug;              /* valid when hotplug_ready */
        struct hotplug_usb usb_hotplug;      /* launch_apply_usb(): the USB devices' live detach/attach */
        bool hotplug_ready;
        /* With a TPM: swtpm's plan (cli_prepare()), set by the caller after
         * launch_init(); NULL = no TPM. Must outlive l. */
        const struct swtpm_plan *tpm;
        int tpm_fds[2];                      /* the socket pair: [0] QEMU's end, [1] swtpm's; -1 */
};

/* A run of p by user on host, with rt from launch_prepare(); nothing open
 * yet. p, host, user and rt must outlive l. */
void launch_init(struct launch *l, const struct profile *p, const struct host_env *host,
                 const struct runas *user, const struct qemu_runtime *rt);

/* Take the VM name's lock. 0; -EBUSY with *ret_holder the PID that holds
 * it; other -errno. e filled. */
int launch_lock(struct launch *l, pid_t *ret_holder, struct vl_error *e);

/* READ-ONLY: the device plan (l->plan, with its warnings), the host network
 * devices, the hugetlbfs mount and pages, the block devices given as disks
 * (none may be in use on the host, each must be the node rt names), the
 * "shmem" files, the evdev inputs (each must exist, be an evdev node and
 * be the node rt names), the host USB devices (each required one plugged
 * in, each the node rt names, none found twice), the host's hand-over
 * (l->handover). -errno with e saying why a run
 * must not start; the host is untouched. */
int launch_plan(struct launch *l, struct vl_error *e);

/* The host changes, in this order, each journaled before it is made; on
 * failure what the step did is rolled back, and whatever earlier steps did
 * is launch_undo()'s (or launch_done()'s). */
/* Hugepages the profile reserves: the number of pages added (>= 0). */
int launch_apply_hugepages(struct launch *l, struct vl_error *e);
/* The disks' block devices to QEMU's user (blockdev_hand_over()). */
int launch_apply_blockdevs(struct launch *l, struct vl_error *e);
/* The "shmem" files made (or kept ones reused) and handed to their owner,
 * the kvmfr nodes handed over. */
int launch_apply_shmem(struct launch *l, struct vl_error *e);
/* The evdev inputs' nodes to QEMU's user (input_hand_over()). */
int launch_apply_inputs(struct launch *l, struct vl_error *e);
/* The host USB devices' nodes to QEMU's user (usb_hand_over()), each
 * opened for QEMU's fd set; and their live detach/attach set up (also when
 * none is plugged in). */
int launch_apply_usb(struct launch *l, struct vl_error *e);
/* With host_handover: the host lets go of its GPU (handover_apply()), then
 * the devices' use is checked again (bind_plan_recheck_usage(); its
 * warnings in w). A refusal leaves what was taken to launch_undo(). */
int launch_apply_handover(struct launch *l, struct vl_error *e, struct vl_warnings *w);
/* The devices to vfio-pci, /dev/vfio/GROUP to QEMU's user; then live
 * detach/attach is made ready (that failing is a warning in w). */
int launch_apply_devices(struct launch *l, struct vl_error *e, struct vl_warnings *w);
/* The VM's VARS from template to vars_path if it does not exist (never
 * overwritten): 1 when it was created, 0 when it existed. */
int launch_apply_vars(struct launch *l, const char *template_path, const char *vars_path, struct vl_error *e);
/* The /dev/vhost-net fds the layout has slots for (not a host change:
 * nothing journaled), then the macvtap/tap links, their fds kept for QEMU. */
int launch_apply_net(struct launch *l, struct vl_error *e);
/* With a TPM: its state, manufactured as QEMU's user if it does not exist
 * (swtpm_manufacture(); its output goes to the VM's log, opened here).
 * 1 when it was made, 0 when it existed or there is no TPM. */
int launch_apply_tpm(struct launch *l, struct vl_error *e, struct vl_warnings *w);

/* QEMU's log (LAUNCH_LOG_DIR/NAME.log; failing that, a warning and this
 * terminal) and the VM's sockets under RUN/NAME: the supervisor's QMP
 * socket, the tools' one, the control socket's path; with a TPM, the
 * socket pair between QEMU and swtpm. */
int launch_open(struct launch *l, struct vl_error *e, struct vl_warnings *w);

/* Run QEMU (cmd from the builder) to its end; see sup_run() for ret and
 * the return value. ready_detail goes on the "running" line. */
int launch_supervise(struct launch *l, const struct qemu_cmd *cmd, const char *ready_detail,
                     struct sup_result *ret, struct vl_error *e);

/* Give back everything the run changed (host_undo()). 0, or the first
 * failure with e saying what is left for `recover`. */
int launch_undo(struct launch *l, struct vl_error *e, struct vl_warnings *w);

/* Close everything, give the host back if launch_undo() was not called
 * (errors stay in the journal, for `recover`), release the lock. */
void launch_done(struct launch *l);
