/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The child side of starting QEMU: everything between fork() and execve().
 *
 * Order (each step needs the privileges the previous ones still had):
 *   1. fds: stdio from the caller, inherited fds moved to 3, 4, ... in the
 *      order given (the argv builder was told those numbers), every other fd
 *      closed; setsid() so a terminal's Ctrl-C reaches the supervisor only
 *   2. rlimits (RLIMIT_MEMLOCK for VFIO: raising it needs CAP_SYS_RESOURCE)
 *   3. drop the capability bounding set (needs CAP_SETPCAP, so before 4)
 *   4. setgroups / setresgid / setresuid to the run-as user (clears the
 *      permitted and effective sets: PR_SET_KEEPCAPS is never set)
 *   5. PR_SET_PDEATHSIG — AFTER the uid change, which clears it — then a
 *      getppid() check for a parent that died in between
 *   6. clear every capability left (the run-as-root case) incl. ambient
 *   7. PR_SET_NO_NEW_PRIVS
 *   8. the seccomp deny-list — last, so it never has to allow our own setup
 * Then execve(). Failure of any step is reported through the error pipe as a
 * struct sandbox_report, so the parent can print which step failed and why.
 *
 * Runs in the forked child of a single-threaded parent: libseccomp and
 * libcap-ng may allocate, which is safe there. Nothing here prints.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "base/error.h"
#include "host/runas.h"

#define SANDBOX_FDS_MAX 32 /* QEMU_FDS_MAX (qemu/qemu_argv.h) and room to spare */
#define SANDBOX_GROUPS_MAX RUNAS_GROUPS_MAX

struct sandbox_config {
        uid_t uid;
        gid_t gid;
        unsigned n_groups;                 /* supplementary groups (kvm, audio, ...) */
        gid_t groups[SANDBOX_GROUPS_MAX];
        uint64_t memlock_bytes;            /* 0 = leave RLIMIT_MEMLOCK alone */
        int stdin_fd, stdout_fd, stderr_fd;/* -1 = /dev/null */
        unsigned n_fds;                    /* fds[i] becomes fd 3 + i in QEMU */
        int fds[SANDBOX_FDS_MAX];
        pid_t parent;                      /* the supervisor: PDEATHSIG target check */
        bool seccomp;                      /* load the deny-list (tests may turn it off) */
};

/* What the child writes to the error pipe when a step fails. */
struct sandbox_report {
        int err;                           /* positive errno */
        char msg[480];
};

/* Child only: apply every step above. Returns 0 (then exec), or -errno with e
 * filled: the caller sends it through the pipe and _exit()s. */
int sandbox_enter(const struct sandbox_config *c, struct vl_error *e);

/* Child only: write a report for e to fd (the CLOEXEC error pipe). */
void sandbox_report_write(int fd, const struct vl_error *e);

/* Parent: read the pipe after fork. Returns 0 when the pipe closed with no
 * report (the exec happened), 1 with *ret filled when the child failed, or
 * -errno on a read error. */
int sandbox_report_read(int fd, struct sandbox_report *ret);

/* The syscalls the launcher's own filter denies (with EPERM), for tests and
 * documentation. NULL-terminated. */
extern const char *const sandbox_denied_syscalls[];
