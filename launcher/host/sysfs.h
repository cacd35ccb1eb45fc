/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * sysfs: the few file operations pci, bind and journal need on the kernel's
 * pseudo file systems (sysfs, /dev, /proc), each on a path the caller built
 * from a root it was given (tests pass a temp tree; nothing here knows "/sys").
 *
 * The one writer, sysfs_write_bounded(), runs the write in a short-lived
 * child so that a write the kernel never answers (unbind of a busy GPU can
 * hang in the driver's remove()) costs a bounded time instead of the whole
 * launcher: see the comment on the function. No printing, no exit().
 */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "base/macro.h"

/* Join root and a printf-formatted relative path ("bus/pci/devices/%s") into
 * buf with one '/' between them. 0, or -ENAMETOOLONG when buf is too small. */
int sysfs_join(char *buf, size_t size, const char *root, const char *fmt, ...) _printf_(4, 5);

/* Read a small file (an attribute) into buf, NUL-terminated, with one
 * trailing '\n' removed. 0; -ENOENT when it does not exist; -EFBIG when it
 * holds size-1 bytes or more; other -errno from open/read. */
int sysfs_read(const char *path, char *buf, size_t size);

/* Read a "0x10de"-style hex attribute. 0, -EINVAL when it is not hex, or the
 * errors of sysfs_read(). */
int sysfs_read_hex(const char *path, uint32_t *ret);

/* The last component of a symlink's target, the way sysfs names a device's
 * driver or iommu_group. 0; -ENOENT when the link does not exist; -EINVAL
 * when path is not a symlink; -ENAMETOOLONG when the name does not fit. */
int sysfs_read_link_name(const char *path, char *buf, size_t size);

/* Whether something (any type, links not followed) exists at path. */
int sysfs_exists(const char *path);

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

/* Run `MODPROBE MODULE` (argv[0] = modprobe, stdin/stdout /dev/null, a fixed
 * PATH, no other environment) and wait at most timeout_ms. 0 on exit status
 * 0; -ENOENT when the program cannot be executed; -EIO on a non-zero exit
 * (msg gets the first line modprobe wrote on stderr, or "exit status N");
 * -ETIMEDOUT (the child is killed); -errno for pipe/fork failures. msg may be
 * NULL. */
int sysfs_modprobe(const char *modprobe, const char *module, unsigned timeout_ms, char *msg,
                   size_t msgsize);

/* CLOCK_MONOTONIC in milliseconds, and a sleep that resumes after signals. */
uint64_t sysfs_now_ms(void);
void sysfs_sleep_ms(unsigned ms);

/* "EBUSY (Device or resource busy)" for a positive or negative errno; a
 * static string, for messages. */
const char *sysfs_errno_str(int err, char *buf, size_t size);
