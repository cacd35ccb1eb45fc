/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * hugepages: the host side of a guest whose RAM lives on hugetlbfs pages
 * (profile "hugepages"; QEMU gets `-object memory-backend-file,mem-path=DIR`).
 *
 *   hugepages_plan()   READ-ONLY: the profile's path is on a hugetlbfs mount
 *                      of the profile's page size — checked with statfs,
 *                      because QEMU takes any folder as mem-path and on
 *                      another file system the "hugepages" silently become an
 *                      ordinary file, docs/facts.md#F-hugepages-mem-path — and the pool of that
 *                      size (SYSFS/kernel/mm/hugepages/hugepages-NkB) has the
 *                      pages the guest needs free: free_hugepages minus
 *                      resv_hugepages (free pages already promised to
 *                      mappings). Not enough: refused, unless the profile says
 *                      "reserve"; then the plan names the pages to add.
 *   hugepages_setup()  the journal entry FIRST (JOURNAL_HUGEPAGES), then raise
 *                      nr_hugepages by the missing pages and read it back (the
 *                      kernel gives what it finds contiguous, maybe less: then
 *                      the pages go back and the run is refused), then create
 *                      the VM's folder PATH/vfio-launch-NAME, 0700, owned by
 *                      QEMU's user (QEMU, unprivileged, creates and at once
 *                      unlinks its backing file there; libvirt does the same
 *                      with /dev/hugepages/libvirt/qemu/ID-NAME).
 *   hugepages_undo_entry()  for one such entry: remove the folder, give
 *                      back the pages the run added. host_undo()'s handler
 *                      (the end of every run, `recover` after the launcher
 *                      died) and the rollback of a failed setup.
 *
 * Giving back = nr_hugepages minus the pages this run added, not a write of
 * the value found before: two VMs that reserve in turn and stop in the other
 * order would otherwise free the pages of the one still running (the kernel
 * turns pages in use into surplus pages) or keep the other's for good.
 *
 * Every sysfs path is built from env->sysfs_root; the mount path is the
 * profile's own. Runs in the launcher, never in the forked child; prints
 * nothing; no exit().
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "base/roots.h"
#include "host/journal.h"
#include "base/error.h"
#include "profile/profile.h"

#define HUGEPAGES_DIR_PREFIX "vfio-launch-" /* PATH/vfio-launch-NAME */

struct hugepages_env {
        const struct host_roots *roots; /* sysfs for the pool; run and proc for the journal */
        unsigned write_timeout_ms; /* bound on one nr_hugepages write: 30000 (the
                                      kernel compacts memory to find pages) */
        /* How nr_hugepages is written: NULL = sysfs_write_bounded(). Tests
         * put a model of the kernel's pool here. 0 or -errno. */
        int (*write)(void *userdata, const char *path, const char *data, unsigned timeout_ms);
        void *userdata;
};

/* The installed binary's settings (the values in the comments above) on
 * roots, which must outlive env. */
void hugepages_env_init(struct hugepages_env *env, const struct host_roots *roots);

/* One pool (one page size), as SYSFS/kernel/mm/hugepages/hugepages-NkB says. */
struct hugepages_pool {
        uint64_t nr;   /* nr_hugepages: the persistent pool */
        uint64_t free; /* free_hugepages */
        uint64_t resv; /* resv_hugepages: free, but promised to mappings already */
};

/* Pages a new mapping can really get: free minus reserved, never below 0. */
uint64_t hugepages_available(const struct hugepages_pool *pool);

/* What a run will do. Plain data. */
struct hugepages_plan {
        uint64_t page_kib;           /* 2048 or 1048576 */
        uint64_t needed;             /* pages for the guest's RAM */
        struct hugepages_pool pool;  /* as read when planning */
        uint64_t available;          /* hugepages_available(&pool) */
        uint64_t missing;            /* pages setup adds ("reserve"); 0 = enough free */
        char dir[PROFILE_PATH_MAX];  /* the VM's folder, PATH/vfio-launch-NAME */
};

/* PATH/vfio-launch-NAME into buf. Pure. 0 or -ENAMETOOLONG. */
int hugepages_vm_dir(const char *path, const char *name, char *buf, size_t size);

/* Read the pool of page size page_kib under SYSFS. 0; -EOPNOTSUPP when the
 * kernel has no such pool (no folder: 1G pages need the CPU's pdpe1gb);
 * -EBADMSG when a file is not a number; other -errno. e says which file. */
int hugepages_read_pool(const char *sysfs_root, uint64_t page_kib, struct hugepages_pool *ret,
                        struct vl_error *e);

/* Whether path is a folder on a hugetlbfs mount whose page size is page_kib
 * (statfs f_type and f_bsize); with needed > 0 also that a size= limit of
 * the mount leaves that many pages. 0, or, with e saying what path really is
 * and the fix (source = the profile file, for the message; may be NULL):
 *   -ENOENT / other -errno   statfs failed
 *   -EMEDIUMTYPE             not hugetlbfs (tmpfs, ext4, ...)
 *   -EINVAL                  hugetlbfs of another page size
 *   -ENOSPC                  the mount's size= limit is too small */
int hugepages_check_mount(const char *path, uint64_t page_kib, uint64_t needed, const char *source,
                          struct vl_error *e);

/* Plan the run of p (p->hugepages.enabled). Reads only: the mount, the pool
 * and the VM's journal. Returns 0 with *ret filled, or -errno with e naming
 * the reason and the fix; the host is untouched:
 *   the errors of hugepages_check_mount() and hugepages_read_pool()
 *   -ENOMEM  fewer pages available than needed and "reserve" is off
 *   -EEXIST  the VM's folder exists already, or a journal of this VM left by
 *            another process (running, or dead: `recover` first) */
int hugepages_plan(const struct hugepages_env *env, const struct profile *p,
                   struct hugepages_plan *ret, struct vl_error *e);

/* Carry out plan (see the top): journal entry, pages, folder owned by
 * uid:gid (-1: left as created). The pool is read again first: the pages
 * added are those missing now (the journal entry records page_kib, the
 * pool's size before — for people — added, and the folder). On failure
 * everything done is undone before returning (e says so when that failed
 * too, and the entry stays for `recover`). Returns the number of pages
 * added (>= 0), or -errno:
 *   -ENOMEM     the kernel gave fewer pages than asked (given back)
 *   -ETIMEDOUT  the nr_hugepages write did not return in time
 *   -EEXIST     the folder appeared since the plan
 *   other -errno of the writes, mkdir, chown, the journal. */
int hugepages_setup(const struct hugepages_env *env, const struct profile *p,
                    const struct hugepages_plan *plan, uid_t uid, gid_t gid, struct vl_error *e);

/* Undo one JOURNAL_HUGEPAGES entry (see the top): remove the VM's folder
 * (already gone is fine), then take the pages the run added out of the pool
 * again. host_undo()'s handler, and the rollback of a failed setup. 0 or
 * -errno with e filled. Pages the kernel cannot free yet because something
 * still maps them (it frees them when released) are a warning in w (may be
 * NULL). */
int hugepages_undo_entry(const struct hugepages_env *env, const struct journal_entry *x, struct vl_error *e,
                         struct vl_warnings *w);
