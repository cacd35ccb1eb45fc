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
        struct host_roots roots;       /* the installed binary's (host_roots_init()) */
        struct host_env hostenv;       /* on roots */
        struct profile *p;
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
 * become warnings. */
int cli_prepare(const char *profile_path, bool dry_run, struct cli_prepared *ret);

void cli_prepared_done(struct cli_prepared *c);

/* Append s to stdout, single-quoted for a POSIX shell when it needs it. */
void cli_print_shell_word(const char *s);
