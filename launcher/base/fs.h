/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Paths under a root, and the small files of the kernel's pseudo file
 * systems (sysfs attributes, /proc/PID/stat) and of vfio-launch's run
 * folder. Every path is built from a root the caller was given (tests pass
 * a temp tree); nothing here knows "/sys". No printing; safe in a child.
 * And the one way root opens a file that another account might control
 * (fs_open_trusted(), below).
 */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "base/error.h"
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

/* ---- files root trusts ------------------------------------------------------
 * A file that root reads on someone's behalf (a firmware descriptor, a VARS
 * template, a profile) or creates for someone (the VM's VARS) is believed
 * only when no other account could have put it there or changed it: every
 * folder from "/" down to it, and the file itself, belong to root or to ONE
 * given account (uid, gid: the reader's own when it is not root, the user a
 * file is made for), and no other account may write to them. A folder
 * writable by everyone or by a group other than root's and gid is refused —
 * unless it is sticky (/tmp), where only an entry's owner may replace it and
 * the entry is checked next. Nothing on the way is followed: a symbolic link
 * is refused, "." and ".." are resolved lexically (without links, that is
 * what the kernel would do). Errors fill e with one line naming the path and
 * what is wrong with which part of it — "WHAT 'PATH' is a symbolic link",
 * "WHAT 'PATH': 'FOLDER' is writable by every account (mode 0777)",
 * "WHAT 'PATH' belongs to uid 65534" — and the caller adds what that means
 * and the fix (vl_error_append()). */
/* The folder at absolute path, opened from "/" one component at a time
 * (O_PATH | O_DIRECTORY | O_NOFOLLOW, each checked as above). Returns the fd
 * (O_PATH, O_CLOEXEC: for the *at() calls; open "." for reading it), or
 * -ELOOP (a symlink), -ENOTDIR, -EPERM (another account's, or writable by
 * one), -ENOENT, other -errno. */
int fs_open_dir_trusted(const char *path, uid_t uid, gid_t gid, const char *what,
                        struct vl_error *e);

/* The file name in the folder dfd (from fs_open_dir_trusted(); path is its
 * whole name, for messages): looked at without following a link first, so
 * that nothing but a regular file is ever opened, then opened O_RDONLY |
 * O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC (a FIFO swapped in meanwhile
 * does not block) and checked again with fstat(): a regular file of root's or
 * uid's that no other account may write. Returns the fd with *ret_st filled
 * (may be NULL), or -ELOOP, -EINVAL (not a regular file), -EPERM, -ENOENT,
 * other -errno. */
int fs_open_file_trusted(int dfd, const char *name, const char *path, uid_t uid, gid_t gid,
                         const char *what, struct stat *ret_st, struct vl_error *e);

/* Both, for the absolute path of a file. */
int fs_open_trusted(const char *path, uid_t uid, gid_t gid, const char *what,
                    struct stat *ret_st, struct vl_error *e);
