/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The VM's TPM emulator: swtpm, run as QEMU's user in the same sandbox as
 * QEMU (run/sandbox.h: no capabilities, NO_NEW_PRIVS, the launcher's
 * seccomp list, PDEATHSIG) plus its own `--seccomp action=kill`, and its
 * state manufactured once with swtpm_setup the way libvirt does
 * (docs/facts.md#F-swtpm).
 *
 * swtpm and QEMU talk over a socket pair the launcher makes: swtpm has its
 * end as the control channel (`--ctrl type=unixio,clientfd=3`), QEMU as a
 * connected chardev (its number from struct qemu_fd_layout, qemu/qemu_tpm.c);
 * QEMU hands swtpm the data channel over it. Nothing else can reach the
 * TPM, and there is no socket file to race for. `--terminate` ends swtpm
 * when QEMU closes the data channel; the supervisor watches it with a
 * pidfd (run/supervisor.h, struct sup_helper).
 *
 * The command lines are built by pure functions (tests compare them); the
 * manufacturing runs swtpm_setup and waits for it, bounded.
 */
#pragma once

#include <stdbool.h>

#include "base/error.h"
#include "host/tpm.h"
#include "profile/profile.h"
#include "run/sandbox.h"

#define SWTPM_CTRL_FD 3              /* the control socket in swtpm: its sandbox's first fd */
#define SWTPM_ARGS_MAX 24
#define SWTPM_SETUP_TIMEOUT_MS 120000 /* measured 1.7 s on a 2-core machine; RSA keys vary */
#define SWTPM_ENV_PATH "PATH=/usr/local/bin:/usr/bin:/bin"

/* A command line: argv[] points into buf. */
struct swtpm_cmd {
        unsigned argc;
        char *argv[SWTPM_ARGS_MAX + 1];
        char buf[4 * PROFILE_PATH_MAX];
};

/* What `print` shows and a run uses. */
struct swtpm_plan {
        struct tpm_tools tools;
        char state_dir[PROFILE_PATH_MAX]; /* STATE_DIR (/var/lib/vfio-launch) */
        char state[PROFILE_PATH_MAX];     /* STATE_DIR/NAME/tpm */
        struct swtpm_cmd cmd;             /* swtpm's command line */
};

/* The programs from path_env (tpm_find_tools()), the state folder and
 * swtpm's command line for p, which has a TPM. Reads nothing but the
 * search path. 0 or -errno with e. */
int swtpm_plan(const struct profile *p, const char *state_dir, const char *path_env, struct swtpm_plan *ret,
               struct vl_error *e);

/* PURE: `swtpm socket --tpm2 --tpmstate dir=STATE,mode=0600 --ctrl
 * type=unixio,clientfd=3 --terminate --seccomp action=kill`. -EINVAL for a
 * state path swtpm's option syntax cannot carry (a ','), -ENAMETOOLONG. */
int swtpm_argv(const char *swtpm, const char *state, struct swtpm_cmd *ret, struct vl_error *e);

/* PURE: `swtpm_setup --tpm2 --tpm-state STATE --config CONFIG --createek
 * --create-ek-cert --create-platform-cert --lock-nvram --not-overwrite
 * --vmid NAME`, libvirt's manufacturing (qemuTPMEmulatorRunSetup()) with
 * the configuration of a staging folder (host/tpm.h). */
int swtpm_setup_argv(const char *swtpm_setup, const char *state, const char *config, const char *vm_name,
                     struct swtpm_cmd *ret, struct vl_error *e);

/* Make the VM's TPM state if it does not exist: stage it (host/tpm.h),
 * run swtpm_setup in a sandbox like sandbox (its uid, gid, groups, output
 * and parent; no fds are passed), wait at most timeout_ms (then it and
 * what it started are killed), commit, remove the staging folder. Returns
 * 1 when it made the state, 0 when it existed (checked, nothing run), or
 * -errno with e (nothing is left but, at worst, a staging folder). */
int swtpm_manufacture(const struct swtpm_plan *t, const char *vm_name, const struct sandbox_config *sandbox,
                      unsigned timeout_ms, struct vl_error *e);
