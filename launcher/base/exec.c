/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Bounded children: see exec.h. The forked children here call only
 * async-signal-safe functions (open, dup2, execve, _exit). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/exec.h"
#include "base/macro.h"

/* Children abandoned after a timeout, reaped without blocking the next time
 * a child is started: a hung write leaves at most a few zombies for the
 * life of the process (the supervisor may reap them first; then waitpid
 * answers ECHILD, which is fine). */
static pid_t abandoned[16];

void exec_reap_abandoned(void)
{
        for (size_t i = 0; i < ELEMENTSOF(abandoned); i++)
                if (abandoned[i] > 0) {
                        pid_t r = waitpid(abandoned[i], NULL, WNOHANG);
                        if (r == abandoned[i] || (r < 0 && errno == ECHILD))
                                abandoned[i] = 0;
                }
}

void exec_abandon(pid_t pid)
{
        (void) kill(pid, SIGKILL);
        if (waitpid(pid, NULL, WNOHANG) == pid)
                return;
        for (size_t i = 0; i < ELEMENTSOF(abandoned); i++)
                if (abandoned[i] <= 0) {
                        abandoned[i] = pid;
                        return;
                }
        /* Table full: the zombie stays until the process exits. */
}

int exec_wait_readable(int fd, uint64_t deadline_ms)
{
        for (;;) {
                struct pollfd p = { .fd = fd, .events = POLLIN };
                uint64_t now = clock_ms();
                int left = now >= deadline_ms ? 0 : (int) (deadline_ms - now);
                int r = poll(&p, 1, left);
                if (r < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                return r > 0;
        }
}

int exec_wait(pid_t pid, int *ret_status)
{
        for (;;) {
                if (waitpid(pid, ret_status, 0) == pid)
                        return 0;
                if (errno != EINTR)
                        return -errno;
        }
}

int exec_bounded(const char *path, char *const argv[], char *const envp[], unsigned capture,
                 unsigned timeout_ms, char *out, size_t size, int *ret_status)
{
        _cleanup_close_ int rfd = -EBADF;
        uint64_t deadline;
        size_t len = 0;
        int p[2], r;
        pid_t pid;

        if (size == 0)
                return -EINVAL;
        out[0] = '\0';
        exec_reap_abandoned();
        if (pipe2(p, O_CLOEXEC) < 0)
                return -errno;
        rfd = p[0];
        pid = fork();
        if (pid < 0) {
                r = -errno;
                (void) close(p[1]);
                return r;
        }
        if (pid == 0) {
                int null = open("/dev/null", O_RDWR | O_CLOEXEC);
                if (null < 0 || dup2(null, STDIN_FILENO) < 0 ||
                    dup2(capture & EXEC_CAPTURE_STDOUT ? p[1] : null, STDOUT_FILENO) < 0 ||
                    dup2(capture & EXEC_CAPTURE_STDERR ? p[1] : null, STDERR_FILENO) < 0)
                        _exit(127);
                execve(path, argv, envp);
                _exit(127); /* as a shell says "cannot execute" */
        }
        (void) close(p[1]);

        /* Until EOF (the child closed its end, usually by exiting) or the
         * deadline. */
        deadline = clock_ms() + timeout_ms;
        for (;;) {
                char sink[256];
                ssize_t k;

                r = exec_wait_readable(rfd, deadline);
                if (r <= 0) {
                        exec_abandon(pid);
                        return r < 0 ? r : -ETIMEDOUT;
                }
                if (len < size - 1)
                        k = read(rfd, out + len, size - 1 - len);
                else
                        k = read(rfd, sink, sizeof(sink));
                if (k < 0 && (errno == EINTR || errno == EAGAIN))
                        continue;
                if (k <= 0)
                        break;
                if (len < size - 1)
                        len += (size_t) k;
        }
        out[len] = '\0';
        return exec_wait(pid, ret_status);
}
