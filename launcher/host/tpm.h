/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The VM's TPM on the host: its state folder STATE_DIR/NAME/tpm and the
 * swtpm programs. The folder holds the TPM's endorsement key and NV
 * contents (BitLocker keys, Windows Hello): it belongs to the run-as user
 * (swtpm runs as that user), is manufactured once and is then used as it
 * is — never replaced, never deleted (libvirt keeps
 * /var/lib/libvirt/swtpm/UUID the same way, docs/facts.md#F-swtpm).
 *
 * Root never follows a path a less privileged account controls: the two
 * folders above the state (STATE_DIR, STATE_DIR/NAME) must be root's (or
 * the launcher's own user's) and writable by nobody else, so nobody can
 * swap what a path names; every component is opened O_NOFOLLOW from the one
 * above it; the state folder itself is only ever opened, renamed into
 * place, or checked — its contents are the user's and swtpm's business.
 *
 * Manufacturing happens in a staging folder next to it,
 * STATE_DIR/NAME/.tpm-setup.XXXXXX (root's, 0755): `state/` and `ca/`
 * (the user's, 0700) and the configuration swtpm_setup and swtpm_localca
 * read (root's, 0644) — swtpm_setup, run as the user by run/swtpm.c, fills
 * state/ and lets a CA of this TPM's own in ca/ sign its certificates; then
 * state/ is renamed to `tpm` (never over an existing one) and the rest,
 * the CA's key with it, is removed. A set-up that fails or is interrupted
 * leaves no half-made `tpm`.
 *
 * Runs in the launcher (as root), never in a forked child. Nothing prints.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "base/error.h"
#include "profile/profile.h"

#define TPM_STATE_SUBDIR "tpm"
#define TPM_STAGE_PREFIX ".tpm-setup."
#define TPM_STAGE_ENTRIES_MAX 256 /* files removed from a staging folder, at most */

/* The programs, found on a search path. */
struct tpm_tools {
        char swtpm[PROFILE_PATH_MAX];
        char swtpm_setup[PROFILE_PATH_MAX];
        char swtpm_localca[PROFILE_PATH_MAX];
};

/* Each program in the first absolute folder of path_env (":"-separated;
 * NULL or "" = /usr/local/bin:/usr/bin:/bin) that has it as an executable
 * regular file; relative entries are skipped. 0, or -ENOENT with e naming
 * the missing program and the packages (swtpm, swtpm-tools). */
int tpm_find_tools(const char *path_env, struct tpm_tools *ret, struct vl_error *e);

/* "STATE_DIR/NAME/tpm" into ret. 0 or -ENAMETOOLONG. */
int tpm_state_path(const char *state_dir, const char *name, char *ret, size_t size);

/* The state folder as a run would find it, changing nothing:
 *   0  it does not exist (yet): a run manufactures it;
 *   1  a folder owned by uid that only uid may access: used as it is;
 *   -errno with e saying what is wrong and the fix: a link or not a folder
 *   (-ENOTDIR), another owner or access for group/others (-EPERM), a folder
 *   above it that is not root's or that others may write (-EPERM), cannot
 *   be read (the open's errno). */
int tpm_state_check(const char *state_dir, const char *name, uid_t uid, struct vl_error *e);

/* A staging folder, open. */
struct tpm_stage {
        int vm_fd;                    /* STATE_DIR/NAME (O_DIRECTORY), -1 when closed */
        int fd;                       /* the staging folder, -1 */
        char name[32];                /* ".tpm-setup.XXXXXX" */
        char path[PROFILE_PATH_MAX];  /* its absolute path */
        char state[PROFILE_PATH_MAX]; /* PATH/state: swtpm_setup --tpm-state */
        char config[PROFILE_PATH_MAX];/* PATH/swtpm_setup.conf: swtpm_setup --config */
        char target[PROFILE_PATH_MAX];/* STATE_DIR/NAME/tpm */
        bool committed;               /* state/ is now the VM's tpm */
};

/* Create STATE_DIR/NAME (0755) if needed — STATE_DIR must exist — and a
 * staging folder in it as described above, for uid:gid, with the CA run by
 * localca. Fails with -EEXIST when the state exists already (nothing to
 * make), or the errors of tpm_state_check(). On failure nothing is left. */
int tpm_stage_create(const char *state_dir, const char *name, uid_t uid, gid_t gid, const char *localca,
                     struct tpm_stage *ret, struct vl_error *e);

/* Rename the staging state/ to STATE_DIR/NAME/tpm unless that exists
 * (RENAME_NOREPLACE, atomic), and fsync the folder. 0; -EEXIST when a tpm
 * appeared meanwhile (it is kept: the staged one is removed); -errno. */
int tpm_stage_commit(struct tpm_stage *s, struct vl_error *e);

/* Remove the staging folder: the CA (key included), the configuration,
 * and state/ unless committed. Entries are unlinked in the folder opened
 * without following links; at most TPM_STAGE_ENTRIES_MAX of them per
 * folder. Closes s. 0, or -errno with e naming what is left (harmless:
 * nothing reads a staging folder). Idempotent. */
int tpm_stage_remove(struct tpm_stage *s, struct vl_error *e);
