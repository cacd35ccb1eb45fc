/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * sysfs: the bounded attribute writer. See sysfs.h. The forked child only
 * calls async-signal-safe functions (open, write, close, _exit).
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/exec.h"
#include "base/macro.h"
#include "host/sysfs.h"

int sysfs_write_bounded(const char *path, const char *data, unsigned timeout_ms)
{
        _cleanup_close_ int rfd = -EBADF, wfd = -EBADF;
        size_t len = strlen(data);
        int p[2], answer = 0, r;
        ssize_t k;
        pid_t pid;

        exec_reap_abandoned();
        if (pipe2(p, O_CLOEXEC) < 0)
                return -errno;
        rfd = p[0];
        wfd = p[1];

        pid = fork();
        if (pid < 0)
                return -errno;
        if (pid == 0) {
                /* Child: O_TRUNC as a shell's '>' does (sysfs ignores it).
                 * The answer is the errno, 0 for success, -1 for short. */
                int err = 0;
                int fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC | O_NOCTTY);
                if (fd < 0)
                        err = errno;
                else {
                        ssize_t w = write(fd, data, len);
                        if (w < 0)
                                err = errno;
                        else if ((size_t) w != len)
                                err = -1;
                        if (close(fd) < 0 && err == 0 && errno != EINTR)
                                err = errno;
                }
                (void) !write(p[1], &err, sizeof(err));
                _exit(0);
        }
        (void) close(TAKE_FD(wfd));

        r = exec_wait_readable(rfd, clock_ms() + timeout_ms);
        if (r <= 0) {
                exec_abandon(pid);
                return r < 0 ? r : -ETIMEDOUT;
        }
        k = read(rfd, &answer, sizeof(answer));
        (void) exec_wait(pid, NULL);
        if (k != (ssize_t) sizeof(answer))
                return -EIO; /* the child died without answering */
        if (answer < 0)
                return -EIO;
        return -answer;
}
