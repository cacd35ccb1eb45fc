/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The VM's own UEFI variable store (NAME_VARS.fd): copied once from the
 * firmware's template, then owned by the VM and NEVER overwritten — it holds
 * the guest's boot entries and Secure Boot keys (libvirt keeps
 * /var/lib/libvirt/qemu/nvram/NAME_VARS.fd the same way).
 * Runs in the launcher (as root), never in the forked child.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "base/error.h"

#define VARS_TEMPLATE_MAX (64u * 1024u * 1024u) /* bytes; OVMF's are 128 KiB .. 4 MiB */
#define VARS_STATE_DIR "/var/lib/vfio-launch"

/* "STATE_DIR/NAME/NAME_VARS.fd" into ret. Returns 0 or -ENAMETOOLONG. */
int vars_default_path(const char *state_dir, const char *name, char *ret, size_t size);

/* Make sure vars_path exists. Root does this for QEMU's user (uid:gid), so
 * every path is opened the way root may trust it (base/fs.h,
 * fs_open_trusted()): no symbolic link anywhere, no FIFO, and folders of
 * root's or of that user that no other account may change.
 *  - It exists: used as is, never changed — if it is a regular file of
 *    uid's (-ELOOP for a symlink, -EEXIST for anything but a regular file,
 *    -EPERM for another account's); *ret_created = false.
 *  - It does not: the template — root's (or the caller's own when it is not
 *    root), in folders no other account may change — is copied to a temp
 *    file created with O_EXCL in the same folder, fsync'ed, chown'ed to
 *    uid:gid (unless (uid_t) -1: then the caller's own) so the unprivileged
 *    QEMU can write it, then renamed into place with RENAME_NOREPLACE
 *    (link() where the file system lacks it) — a file that appeared
 *    meanwhile wins and is used as is. The folder is fsync'ed.
 *    *ret_created = true.
 * With mkdir_parent, missing parent folders (two levels: STATE_DIR/NAME and
 * STATE_DIR) are created 0755. ret_created may be NULL. Returns 0 or -errno; fills e. */
int vars_ensure(const char *template_path, const char *vars_path, uid_t uid, gid_t gid,
                bool mkdir_parent, bool *ret_created, struct vl_error *e);
