/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * sysfs: the one writer of kernel attributes (driver_override, unbind,
 * drivers_probe, bind, nr_hugepages). Paths are built by the caller from a
 * root it was given (base/fs.h); reading goes through base/fs.h too.
 *
 * The write runs in a short-lived child so that a write the kernel never
 * answers (unbind of a busy GPU can hang in the driver's remove()) costs a
 * bounded time instead of the whole launcher. No printing, no exit().
 */
#pragma once

/* Write data (not NUL-terminated on the wire; no '\n' is added) to the
 * attribute at path, the way `echo data > path` would, but bounded:
 * the open+write runs in a forked child, the parent waits at most timeout_ms
 * for its answer.
 *
 * Returns 0 when the whole write was accepted; the negative errno the kernel
 * answered (open or write), -EIO on a short write; -ETIMEDOUT when the child
 * did not answer in time. In that case the child is sent SIGKILL (it dies
 * when the kernel lets the write return; a task in uninterruptible sleep
 * cannot be killed earlier) and is reaped by a later call or by the caller's
 * own SIGCHLD handling; the write may still complete later, so the caller
 * must treat the device's state as unknown and re-read it.
 * -errno for pipe/fork failures. Safe to call with signals blocked. */
int sysfs_write_bounded(const char *path, const char *data, unsigned timeout_ms);
