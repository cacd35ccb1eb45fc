/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Paths under a root, and the small files of the kernel's pseudo file
 * systems (sysfs attributes, /proc/PID/stat) and of vfio-launch's run
 * folder. Every path is built from a root the caller was given (tests pass
 * a temp tree); nothing here knows "/sys". No printing; safe in a child.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "base/macro.h"

/* Join root and a printf-formatted relative path ("bus/pci/devices/%s") into
 * buf with one '/' between them. 0, or -ENAMETOOLONG when buf is too small. */
int fs_join(char *buf, size_t size, const char *root, const char *fmt, ...) _printf_(4, 5);

/* Read a small file into buf, NUL-terminated, with one trailing '\n'
 * removed. Opened O_NONBLOCK: a FIFO planted where a file was expected
 * does not hang the reader. 0; -ENOENT when it does not exist; -EFBIG when
 * it holds more than size-1 bytes; other -errno from open/read. */
int fs_read(const char *path, char *buf, size_t size);

/* Read a "0x10de"-style hex attribute. 0, -EINVAL when it is not hex, or the
 * errors of fs_read(). */
int fs_read_hex(const char *path, uint32_t *ret);

/* The last component of a symlink's target, the way sysfs names a device's
 * driver or iommu_group. 0; -ENOENT when the link does not exist; -EINVAL
 * when path is not a symlink; -ENAMETOOLONG when the name does not fit. */
int fs_read_link_name(const char *path, char *buf, size_t size);

/* read() until size bytes or end of file, resuming after signals. The bytes
 * read (< size only at end of file), or -errno. */
ssize_t fs_read_full(int fd, void *buf, size_t size);

/* write() all of buf, resuming after signals and short writes. 0 or -errno. */
int fs_write_full(int fd, const void *buf, size_t len);

/* Whether something (any type, links not followed) exists at path. */
int fs_exists(const char *path);
