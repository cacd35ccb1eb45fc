/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The read-only part of every launch, shared by `print` and `run`: load the
 * profile, probe QEMU, resolve the run-as user and the firmware, choose the
 * SPICE port, build the command line. Prints its own errors (CLI layer).
 */
#pragma once

#include <stdbool.h>

#include "base/roots.h"
#include "host/undo.h"
#include "qemu/hostinfo.h"
#include "profile/profile.h"
#include "qemu/qemu_argv.h"
#include "host/runas.h"
#include "run/swtpm.h"

/* Not to be copied: hostenv points at roots. */
struct cli_prepared {
        struct host_roots roots;       /* the installed binary's (host_roots_init()), or the caller's */
        struct host_env hostenv;       /* on roots */
        struct profile *p;
        bool profile_trusted;          /* root's, no other account may change it; or not root */
        struct hostinfo host;
        struct runas user;
        struct firmware_dirs dirs;
        struct firmware_choice fc;
        struct qemu_runtime rt;
        struct qemu_cmd *cmd;
        struct swtpm_plan tpm;         /* with "tpm": swtpm's programs, state and command line */
        struct vl_warnings warn;
};

/* Returns EXIT_OK, or the exit status to end with (the error printed).
 * With dry_run, problems that only matter when running (the run-as user)
 * become warnings. As root, a profile that is not root's (or that another
 * account may change) is warned about, and refused before it is read when
 * not dry_run and started through pkexec (PKEXEC_UID set): EXIT_INVALID. */
int cli_prepare(const char *profile_path, bool dry_run, struct cli_prepared *ret);

/* The same on another host's roots (print's test option --host-root: a
 * fake sysfs, /proc and /dev); roots' strings must outlive ret. */
int cli_prepare_at(const char *profile_path, bool dry_run, const struct host_roots *roots,
                   struct cli_prepared *ret);

void cli_prepared_done(struct cli_prepared *c);

/* The roots of the hidden --host-root TOP of `init` and `print` (tests: a
 * fake host made by tests/fakesys): TOP/sys, TOP/proc, TOP/dev and its
 * pci.ids, TOP/pci.ids. Not to be copied: roots points at the buffers. */
struct cli_host_root {
        struct host_roots roots;
        const char *pci_ids;           /* NULL: libpci's own */
        char sys[PROFILE_PATH_MAX], proc[PROFILE_PATH_MAX], dev[PROFILE_PATH_MAX], ids[PROFILE_PATH_MAX];
};

/* Fill h for top, or with the installed binary's roots when top is NULL.
 * EXIT_OK, or EXIT_INVALID with the error printed (a path too long). */
int cli_host_root_init(struct cli_host_root *h, const char *top);

/* Is the profile at profile_path (relative to the current folder, or
 * absolute) root's, and no other account's to change (fs_open_trusted() for
 * root: the file and every folder on its way, no symlink)? Whoever can
 * change it chooses what root does: which devices go to the VM, which file
 * becomes its VARS and where, which account QEMU runs as (docs/design.md,
 * "Who may do what"). 0; -EPERM with e saying what is not root's; other
 * -errno (e filled) when it cannot tell (no such file). */
int cli_profile_is_roots(const char *profile_path, struct vl_error *e);

/* The rule on the profile's owner, for every command that acts on a
 * profile as root: one that is not root's (or that another account may
 * change) is warned about in w, and when changes_host and started through
 * pkexec (PKEXEC_UID set) refused before it is read: EXIT_INVALID, said on
 * stderr. *ret_trusted (may be NULL): the profile is root's. EXIT_OK. */
int cli_check_profile_owner(const char *profile_path, bool changes_host, bool *ret_trusted,
                            struct vl_warnings *w);

/* Append s to stdout, single-quoted for a POSIX shell when it needs it. */
void cli_print_shell_word(const char *s);
