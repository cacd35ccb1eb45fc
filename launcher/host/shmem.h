/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * shmem: the host side of the profile's "shmem" (IVSHMEM: Looking Glass,
 * Scream), the memory QEMU maps with memory-backend-file,share=on.
 *
 *   shmem_path()      where element i lives: SHM/NAME for "file",
 *                     DEV/kvmfrK for the K-th "kvmfr" (the module makes one
 *                     node per static_size_mb entry, in order). Pure.
 *   shmem_plan()      READ-ONLY: the owner and group resolved, QEMU's user
 *                     able to read and write the file with them (QEMU opens
 *                     it unprivileged); "file": SHM/NAME absent, or a file
 *                     this launcher made for this VM and kept ("keep") —
 *                     anything else there is somebody's and refused;
 *                     "kvmfr": the node a character device, its size the
 *                     module's static_size_mb entry.
 *   shmem_setup()     "file": the journal entry (JOURNAL_SHMEM) FIRST, then
 *                     the file made with O_CREAT|O_EXCL|O_NOFOLLOW in an fd
 *                     of SHM opened O_DIRECTORY|O_NOFOLLOW, marked as ours
 *                     (the xattr below), its dev+ino recorded, sized,
 *                     chowned, chmodded — all through the fd. With "keep"
 *                     nothing is journaled: the file is the VM's, like its
 *                     VARS. "kvmfr": JOURNAL_SHMEM_OWNER with the node's
 *                     owner and mode, then chown/chmod.
 *   shmem_undo_entry() host_undo()'s handler (the end of a run, `recover`
 *                     after the launcher died): the file removed only while
 *                     it has the recorded nonce (and inode, once known);
 *                     the node's owner given back.
 *
 * The mark: a file this launcher made carries the extended attribute
 * SHMEM_XATTR = "VM:NONCE" (the VM's name, 16 hex digits of a random
 * number the journal entry records too). Only root can set a trusted.*
 * attribute (CAP_SYS_ADMIN), so a user cannot forge it: a kept file is known
 * again by the VM's name, the undo removes only the file with the journal's
 * nonce (an inode number can be reused at once), and a user's file of that
 * name is never opened for writing, truncated, chowned or removed
 * (docs/facts.md#F-ivshmem-size).
 *
 * Runs in the launcher; prints nothing; no exit().
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "base/error.h"
#include "base/roots.h"
#include "host/journal.h"
#include "host/runas.h"
#include "profile/profile.h"

#define SHMEM_XATTR "trusted.vfio-launch.shmem"
#define SHMEM_KVMFR_SIZES "module/kvmfr/parameters/static_size_mb" /* under SYSFS */

/* Element i's host file into buf (see the top). 0 or -ENAMETOOLONG. */
int shmem_path(const struct host_roots *roots, const struct profile *p, unsigned i, char *buf, size_t size);

enum shmem_action {
        SHMEM_CREATE = 0, /* file: made for the run */
        SHMEM_REUSE,      /* file: kept from an earlier run of this VM (our mark) */
        SHMEM_KVMFR,      /* the module's node, handed to the owner */
};

struct shmem_item {
        enum shmem_action action;
        char path[PROFILE_PATH_MAX];
        uint64_t bytes;
        uid_t uid;                  /* the owner, group and mode it gets */
        gid_t gid;
        mode_t mode;
        char owner[PROFILE_STR_MAX], group[PROFILE_STR_MAX]; /* their names, for print */
};

struct shmem_plan {
        unsigned n;
        struct shmem_item item[PROFILE_SHMEM_MAX]; /* by profile index */
};

/* Plan p's "shmem" for QEMU's user (see the top). Reads only. 0 with *ret
 * filled, or -errno with e saying why, at $.shmem[i] when it is a profile
 * value's fault:
 *   -ESRCH   no such owner or group
 *   -EACCES  QEMU's user could not open the file with that owner/group/mode
 *   -EEXIST  SHM/NAME exists and is not this VM's kept file (or not a file)
 *   -ENODEV  no kvmfr node (the module not loaded), or not a char device
 *   -EINVAL  kvmfr's size is not the profile's
 *   other -errno reading the host. */
int shmem_plan(const struct host_roots *roots, const struct profile *p, const struct runas *user,
               struct shmem_plan *ret, struct vl_error *e);

/* Carry out plan for VM p->name (see the top). On failure what this call
 * did is given back before returning (the entries leave the journal), and
 * e says what failed. 0 or -errno. */
int shmem_setup(const struct host_roots *roots, const struct profile *p, const struct shmem_plan *plan,
                struct vl_error *e);

/* Undo one JOURNAL_SHMEM or JOURNAL_SHMEM_OWNER entry (see the top);
 * idempotent: a file already gone, or replaced by another inode, is left
 * as it is (0). -EPERM when the entry's folder is not roots->shm /
 * roots->dev. 0 or -errno. */
int shmem_undo_entry(const struct host_roots *roots, const struct journal_entry *x, struct vl_error *e);
