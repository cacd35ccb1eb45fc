/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Who QEMU runs as. The profile's "user" if set; else the user behind sudo
 * (SUDO_UID) or pkexec (PKEXEC_UID); else the caller. Root only when the
 * profile says allow_root (with a warning): a VM with a GPU needs no
 * privilege once the launcher has prepared the host.
 * The caller passes the environment values in, so this stays testable and
 * the environment is read in one place (the CLI).
 */
#pragma once

#include <stdbool.h>
#include <sys/types.h>

#include "base/error.h"
#include "profile/profile.h"

#define RUNAS_GROUPS_MAX 64 /* supplementary groups kept; the sandbox takes as many */

struct runas {
        char name[PROFILE_STR_MAX];
        uid_t uid;
        gid_t gid;
        char home[PROFILE_PATH_MAX];
        char xdg_runtime_dir[PROFILE_PATH_MAX]; /* /run/user/UID, "" for root */
        unsigned n_groups;
        gid_t groups[RUNAS_GROUPS_MAX];       /* supplementary groups incl. the primary */
};

/* Returns 0, or -ESRCH (unknown user), -EPERM (would be root without
 * allow_root), -EINVAL (a malformed SUDO_UID/PKEXEC_UID); fills e. */
int runas_resolve(const struct profile *p, uid_t caller, const char *sudo_uid,
                  const char *pkexec_uid, struct runas *ret, struct vl_error *e,
                  struct vl_warnings *w);
