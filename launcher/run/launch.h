/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The decisions between a loaded profile and the argv builder, shared by
 * `print` (dry run), `run` and the golden tests, so that what `print` shows is
 * what a run executes: machine type → firmware descriptor → VARS path → fd
 * numbers QEMU will see.
 */
#pragma once

#include "base/error.h"
#include "qemu/hostinfo.h"
#include "profile/profile.h"
#include "qemu/qemu_argv.h"

/* fd numbers inside QEMU: the supervisor's QMP listener is 3, the tools' QMP
 * listener 4, then one per tap/macvtap NIC in profile order (the sandbox
 * moves them there in that order). */
#define LAUNCH_QMP_FD 3
#define LAUNCH_QMP_USER_FD 4

/* Fill rt's firmware (code, VARS path under state_dir unless the profile
 * names one), fd numbers and, with hugepages, the VM's mem-path folder. ret_fc (may be NULL) gets the firmware choice,
 * for printing. home/xdg_runtime_dir and spice_port are left to the caller.
 * Returns 0 or -errno with e filled. */
int launch_prepare(const struct profile *p, const struct hostinfo *h,
                   const struct firmware_dirs *dirs, const char *state_dir,
                   struct qemu_runtime *rt, struct firmware_choice *ret_fc, struct vl_error *e,
                   struct vl_warnings *w);

/* The first TCP port from first..first+99 that can be bound on listen_addr
 * now (libvirt's SPICE autoport does the same, from 5900). Returns 0 or
 * -EADDRINUSE / -EINVAL. */
int launch_pick_port(const char *listen_addr, unsigned first, unsigned *ret);
