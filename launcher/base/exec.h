/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Children with a bound on their time: a program run to read what it says
 * (`qemu -version`, modprobe), and the short-lived children the sysfs writer
 * forks. A child that does not answer in time is killed and left to be
 * reaped later, without blocking: a task stuck in the kernel (an unbind in a
 * driver's remove()) cannot die before the kernel lets it.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

enum {
        EXEC_CAPTURE_STDOUT = 1 << 0,
        EXEC_CAPTURE_STDERR = 1 << 1,
};

/* Run path with argv and envp, stdin from /dev/null; the streams named in
 * capture go into out (NUL-terminated; what does not fit is read and
 * dropped), the others to /dev/null. Waits at most timeout_ms for the child
 * to close its end and exit. Returns 0 with *ret_status as waitpid() gives
 * it (a program that cannot be executed exits 127); -ETIMEDOUT (the child
 * was killed: exec_abandon()); -errno for pipe/fork. */
int exec_bounded(const char *path, char *const argv[], char *const envp[], unsigned capture,
                 unsigned timeout_ms, char *out, size_t size, int *ret_status);

/* Wait until fd is readable or hung up, until deadline_ms (clock_ms()).
 * 1 ready, 0 timed out, -errno. */
int exec_wait_readable(int fd, uint64_t deadline_ms);

/* A child that did not answer in time: SIGKILL, and reaped by a later call
 * of exec_reap_abandoned() (every exec_bounded() makes one). */
void exec_abandon(pid_t pid);
void exec_reap_abandoned(void);

/* waitpid() that resumes after signals. 0 or -errno. */
int exec_wait(pid_t pid, int *ret_status);
