/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The per-VM run directory RUN_DIR/NAME (0700, root's) and the lock that
 * makes one instance per VM name: an flock on RUN_DIR/NAME/lock holding the
 * owner's PID, released by the kernel when the owner dies (no stale locks).
 * The journal (journal.h) and the QMP and control sockets live beside it.
 */
#pragma once

#include <sys/types.h>

#include "base/error.h"

#define RUNDIR_LOCK_FILE "lock"
#define RUNDIR_QMP_SOCKET "qmp.sock"         /* for tools: named by `status` */
#define RUNDIR_MONITOR_SOCKET "monitor.sock" /* the supervisor's own, unlinked once connected */
#define RUNDIR_CONTROL_SOCKET "control.sock"

/* "RUN_DIR/NAME/FILE" into buf. Returns 0 or -ENAMETOOLONG. */
int rundir_path(char *buf, size_t size, const char *run_dir, const char *name, const char *file);

/* Create RUN_DIR (0755) and RUN_DIR/NAME (0700) if needed and take the lock.
 * Returns the lock fd (>= 0, O_CLOEXEC), -EBUSY with *ret_holder set (0 if
 * unknown) when another process holds it, or -errno; fills e. */
int rundir_lock(const char *run_dir, const char *name, pid_t *ret_holder, struct vl_error *e);

/* Remove the lock file and the directory if empty, then close the fd. */
void rundir_unlock(const char *run_dir, const char *name, int fd);
