/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Start a program (QEMU) in a sandboxed child and learn for sure whether the
 * exec happened: the child reports any failure before or at execve() through
 * a CLOEXEC pipe (closed by a successful exec), so "QEMU could not start" is
 * an error with a reason, never a silent exit status.
 */
#pragma once

#include <sys/types.h>

#include "base/error.h"
#include "run/sandbox.h"

/* Fork, enter the sandbox described by c, execve(path, argv, envp). On
 * success *ret_pid is the child and *ret_pidfd a pidfd for it (O_CLOEXEC;
 * the caller owns it and reaps the child). On failure the child has been
 * reaped and e says which step failed with which errno. */
int spawn_sandboxed(const char *path, char *const argv[], char *const envp[],
                    const struct sandbox_config *c, pid_t *ret_pid, int *ret_pidfd,
                    struct vl_error *e);
