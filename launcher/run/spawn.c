/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* fork + sandbox + execve with the exec result reported through a pipe. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "run/spawn.h"

static int pidfd_open_compat(pid_t pid)
{
        return (int) syscall(SYS_pidfd_open, pid, 0);
}

int spawn_sandboxed(const char *path, char *const argv[], char *const envp[],
                    const struct sandbox_config *c, pid_t *ret_pid, int *ret_pidfd,
                    struct vl_error *e)
{
        struct sandbox_report rep;
        int pipefd[2], pidfd, r;
        pid_t pid;

        if (pipe2(pipefd, O_CLOEXEC) < 0)
                return vl_error_set(e, errno, "pipe2: %s", strerror(errno));

        pid = fork();
        if (pid < 0) {
                r = errno;
                close(pipefd[0]);
                close(pipefd[1]);
                return vl_error_set(e, r, "fork: %s", strerror(r));
        }
        if (pid == 0) {
                struct vl_error ce = {};
                /* Keep the report pipe above the fd numbers QEMU will get
                 * (3 .. 2+n), or moving the inherited fds would clobber it. */
                int errfd = fcntl(pipefd[1], F_DUPFD_CLOEXEC, 3 + SANDBOX_FDS_MAX);

                close(pipefd[0]);
                if (errfd < 0)
                        _exit(127);
                close(pipefd[1]);
                /* Default signal dispositions and an empty mask: the parent
                 * blocks signals for its signalfd, and a blocked SIGTERM
                 * would survive the exec and make QEMU unkillable by it. */
                sigset_t none;
                sigemptyset(&none);
                (void) sigprocmask(SIG_SETMASK, &none, NULL);
                for (int s = 1; s < NSIG; s++)
                        (void) signal(s, SIG_DFL);

                if (sandbox_enter(c, &ce) == 0) {
                        execve(path, argv, envp);
                        vl_error_set(&ce, errno, "cannot execute '%s': %s", path, strerror(errno));
                }
                sandbox_report_write(errfd, &ce);
                _exit(127);
        }

        close(pipefd[1]);
        r = sandbox_report_read(pipefd[0], &rep);
        close(pipefd[0]);
        if (r != 0) {
                (void) waitpid(pid, NULL, 0);
                if (r < 0)
                        return vl_error_set(e, -r, "reading the start-up report: %s",
                                            strerror(-r));
                return vl_error_set(e, rep.err, "%s", rep.msg);
        }

        pidfd = pidfd_open_compat(pid);
        if (pidfd < 0) {
                r = errno;
                (void) kill(pid, SIGKILL);
                (void) waitpid(pid, NULL, 0);
                return vl_error_set(e, r, "pidfd_open: %s", strerror(r));
        }
        *ret_pid = pid;
        *ret_pidfd = pidfd;
        return 0;
}
