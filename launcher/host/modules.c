/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>

#include "base/exec.h"
#include "host/modules.h"

int modules_load(const char *modprobe, const char *module, unsigned timeout_ms, char *msg, size_t msgsize)
{
        static const char *const envp[] = { "PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL=C", NULL };
        const char *argv[] = { "modprobe", module, NULL };
        char out[512];
        int status = 0, r;

        if (msg && msgsize > 0)
                msg[0] = '\0';
        r = exec_bounded(modprobe, (char *const *) argv, (char *const *) envp, EXEC_CAPTURE_STDERR, timeout_ms,
                         out, sizeof(out), &status);
        if (r == -ETIMEDOUT && msg)
                (void) snprintf(msg, msgsize, "no answer after %u ms", timeout_ms);
        if (r < 0)
                return r;
        if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
                return 0;
        if (msg && msgsize > 0) {
                size_t n = strcspn(out, "\n");
                if (n > 0)
                        (void) snprintf(msg, msgsize, "%.*s", (int) n, out);
                else if (WIFEXITED(status))
                        (void) snprintf(msg, msgsize, "exit status %d", WEXITSTATUS(status));
                else
                        (void) snprintf(msg, msgsize, "killed by signal %d", WTERMSIG(status));
        }
        if (WIFEXITED(status) && WEXITSTATUS(status) == 127)
                return -ENOENT;
        return -EIO;
}
