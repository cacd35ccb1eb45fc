/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * CPU placement of a running QEMU: each vCPU thread on the host CPUs the
 * profile's cpu.pin names, each pinned I/O thread on its iothreads[N].pin,
 * every other QEMU thread on cpu.emulator_pin, and optionally SCHED_FIFO
 * for the vCPU threads. Applied from the supervisor
 * (root, CAP_SYS_NICE) between `query-status` = prelaunch and `cont`, so the
 * guest never runs unplaced; QEMU itself is sandboxed with
 * resourcecontrol=deny and could not do it.
 */
#pragma once

#include <sys/types.h>

#include "base/error.h"
#include "profile/profile.h"

struct qmp;

/* Against the host (SYSFS_ROOT/devices/system/cpu): every pinned CPU must
 * be online (-EINVAL, e names the JSON path and the CPU). Warnings: pinned
 * CPUs that are not isolated (isolcpus / nohz_full), and cores whose SMT
 * siblings are split between the VM's vCPUs and the rest of the host. */
int pin_check(const struct profile *p, const char *sysfs_root, struct vl_error *e,
              struct vl_warnings *w);

/* The vCPU thread ids from `query-cpus-fast` and the pinned I/O threads'
 * from `query-iothreads` (by their ids "iothreadN"), then
 * sched_setaffinity() of each vCPU thread, each pinned I/O thread and
 * every other thread in PROC_ROOT/PID/task, then SCHED_FIFO. Does nothing when the profile pins nothing. Returns 0 or
 * -errno with e filled (which thread, which step). */
int pin_apply(const struct profile *p, struct qmp *q, pid_t qemu_pid, const char *proc_root,
              struct vl_error *e);
