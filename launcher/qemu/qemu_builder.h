/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Internal to the QEMU command-line builder: shared by qemu_argv.c (the
 * builder's entry point, machine, CPU, memory, firmware, monitors),
 * qemu_layout.c (the PCIe layout: root ports and hostdevs) and
 * qemu_disks.c (I/O threads, disks, virtio-scsi), qemu_devices.c (NICs,
 * video, sound, SPICE), and by nothing else;
 * the public interface is qemu_argv.h. PURE like the rest of the builder:
 * no I/O, no globals, no getenv; only malloc.
 *
 * The option strings and the argv/env vectors are appended to with the qa_*
 * helpers of qemu_argv_opt.c: extern symbols of vlcore, hence the prefix.
 *
 * The builder's growth never fails on the spot: an allocation failure sets
 * builder.oom, every later append does nothing, and qemu_argv_build() turns
 * it into -ENOMEM once at the end.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "base/macro.h"
#include "qemu/qemu_argv.h"

/* ---- growable strings and the argv/env vectors ---------------------------------------- */

struct opt {
        char *buf;
        size_t len, cap;
        bool first; /* no leading comma before the next key */
};

struct builder {
        struct qemu_cmd *cmd;
        size_t cap_argv, cap_env;
        bool oom;
};

/* Append len bytes of s as they are. */
void qa_opt_raw(struct builder *b, struct opt *o, const char *s, size_t len);

void qa_opt_appendf(struct builder *b, struct opt *o, const char *fmt, ...) _printf_(3, 4);

/* Start an option string with its implied first value ("pcie-root-port"). */
void qa_opt_begin(struct builder *b, struct opt *o, const char *head);

/* Start with a user-controlled implied value (a machine type, a CPU model). */
void qa_opt_begin_esc(struct builder *b, struct opt *o, const char *head);

/* ",key=value" with a value the builder made up (a number, one of its own
 * ids): written as it is. */
void qa_opt_kv(struct builder *b, struct opt *o, const char *key, const char *fmt, ...)
        _printf_(4, 5);

/* ",key=value" with a user-controlled value: commas doubled. */
void qa_opt_kv_esc(struct builder *b, struct opt *o, const char *key, const char *value);

/* "addr=0x0" / "addr=0x0.0x1": the endpoint behind a root port. */
void qa_opt_port_addr(struct builder *b, struct opt *o, unsigned bus, unsigned fn);

/* Push a copy of s to argv. */
void qa_arg(struct builder *b, const char *s);

/* Push "-name" and the option string; the string's buffer moves to argv. */
void qa_arg_opt(struct builder *b, const char *name, struct opt *o);

/* Push "key=value" to the environment. */
void qa_env(struct builder *b, const char *key, const char *value);

/* ---- PCIe layout (qemu_layout.c) ------------------------------------------------------ */

enum port_user { PORT_FREE = 0, PORT_HOSTDEV, PORT_DEVICE };

struct layout {
        enum port_user user[PROFILE_GUEST_BUS_MAX + 1];
        bool fn_used[PROFILE_GUEST_BUS_MAX + 1][8];
        unsigned n_ports;                              /* highest pci.N in use */
        unsigned hd_bus[PROFILE_HOSTDEVS_MAX], hd_fn[PROFILE_HOSTDEVS_MAX];
        bool hd_multifunction[PROFILE_HOSTDEVS_MAX];
        unsigned nic_bus[PROFILE_NICS_MAX];
        unsigned disk_bus[PROFILE_DISKS_MAX];          /* 0 = SATA or SCSI (no port of its own) */
        unsigned scsi_bus;                             /* the virtio-scsi controller's; 0 = none */
        unsigned balloon_bus;
        unsigned serial_bus;                           /* the SPICE agent's virtio-serial; 0 = none */
        unsigned usb_bus;                              /* the USB controller; 0 = none */
        unsigned input_bus[PROFILE_INPUTS_MAX];        /* a virtio input's; 0 = an evdev (no port) */
};

/* Where every PCIe device goes (see qemu_argv.h for the rules): 0, or
 * -EINVAL / -ENOSPC with e filled. */
int qemu_argv_plan_layout(const struct profile *p, struct layout *l, struct vl_error *e);

/* A pcie-root-port for each of pci.1 .. pci.n_ports. */
void qemu_argv_emit_root_ports(struct builder *b, const struct layout *l);

/* A vfio-pci device per hostdev, behind its port. */
int qemu_argv_emit_hostdevs(struct builder *b, const struct profile *p, const struct layout *l,
                            struct vl_error *e);

/* ---- devices (qemu_devices.c, qemu_disks.c) -------------------------------------------- */

/* The I/O threads, the virtio-scsi controller, then each disk's two
 * -blockdev nodes and its device (qemu_disks.c). */
int qemu_argv_emit_disks(struct builder *b, const struct profile *p, const struct qemu_runtime *rt,
                         const struct layout *l, struct vl_error *e);
int qemu_argv_emit_nics(struct builder *b, const struct profile *p, const struct qemu_runtime *rt,
                        const struct layout *l, struct vl_error *e);
int qemu_argv_emit_video(struct builder *b, const struct profile *p, bool x_vga,
                         struct vl_error *e);
int qemu_argv_emit_sound(struct builder *b, const struct profile *p, const struct hostinfo *h,
                         const struct qemu_runtime *rt, struct vl_error *e, struct vl_warnings *w);
int qemu_argv_emit_spice(struct builder *b, const struct profile *p, const struct qemu_runtime *rt,
                         struct vl_error *e);

/* ---- the SPICE agent (qemu_spice.c) -------------------------------------------------- */

/* The -spice properties of the agent (clipboard, file transfer), into the
 * caller's option. */
void qemu_argv_spice_agent_opts(struct builder *b, struct opt *o, const struct profile *p);
/* The agent's virtio-serial controller, spicevmc chardev and port. */
int qemu_argv_emit_spice_agent(struct builder *b, const struct profile *p, const struct layout *l,
                               struct vl_error *e);

/* ---- USB (qemu_usb.c) ---------------------------------------------------------------- */

/* The USB controller, the host's USB devices (each with its fd set) and
 * the SPICE client's redirection channels. */
int qemu_argv_emit_usb(struct builder *b, const struct profile *p, const struct qemu_runtime *rt,
                       const struct layout *l, struct vl_error *e);


/* ---- the TPM (qemu_tpm.c) ------------------------------------------------------------- */

int qemu_argv_emit_tpm(struct builder *b, const struct profile *p, const struct qemu_runtime *rt,
                       struct vl_error *e);
/* ---- shared memory (qemu_shmem.c) ----------------------------------------------------- */

/* An ivshmem-plain on a shared memory-backend-file per "shmem". */
int qemu_argv_emit_shmem(struct builder *b, const struct profile *p, const struct qemu_runtime *rt,
                         struct vl_error *e);
/* ---- inputs (qemu_input.c) ---------------------------------------------------------- */

/* An input-linux object per evdev input, a virtio-*-pci per virtio one. */
int qemu_argv_emit_inputs(struct builder *b, const struct profile *p, const struct qemu_runtime *rt,
                          const struct layout *l, struct vl_error *e);
/* ---- platform (qemu_platform.c) ------------------------------------------------------- */

/* The -machine properties of the platform (hpet=), into the caller's option. */
void qemu_argv_machine_platform(struct builder *b, struct opt *o, const struct profile *p);
/* -rtc, the PIT's policy, SMBIOS, the watchdog. */
int qemu_argv_emit_platform(struct builder *b, const struct profile *p, const struct qemu_runtime *rt,
                            struct vl_error *e);
/* "qemu_args", last. */
void qemu_argv_emit_extra(struct builder *b, const struct profile *p);
