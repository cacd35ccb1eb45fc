/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Which VMs `top` and `metrics` show, found the way `list` finds them
 * (cli_vm_status() on each RUN/NAME), and their samples (report/top.h).
 */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>

#include "cli/cli.h"
#include "cli/top_vms.h"
#include "profile/profile.h"

static int add(const struct host_roots *roots, const char *name, bool report_missing, struct top_vm **vms,
               size_t *n)
{
        char buf[CLI_STATUS_MAX];
        struct top_vm *grown;
        struct vl_error e;
        int r;

        r = cli_vm_status(roots, name, buf, sizeof(buf));
        if (r == -EACCES) {
                /* said even for the VMs nobody named: "no VMs" would be a lie */
                cli_log_error("VM \"%s\": permission denied (its control socket is root's)", name);
                return 0;
        }
        if (r < 0) {
                if (report_missing)
                        cli_log_error("VM \"%s\" is not running%s%s", name, r == -ENOENT || r == -ECONNREFUSED ? "" : ": ",
                                      r == -ENOENT || r == -ECONNREFUSED ? "" : strerror(-r));
                return 0;
        }
        if (*n >= TOP_VMS_MAX) {
                cli_log_error("more than %u running VMs: \"%s\" and the rest are left out", TOP_VMS_MAX, name);
                return -E2BIG;
        }
        grown = realloc(*vms, (*n + 1) * sizeof(**vms));
        if (!grown)
                return -ENOMEM;
        *vms = grown;
        r = top_collect(roots, name, buf, strlen(buf), &grown[*n], &e);
        if (r < 0) {
                cli_log_error("%s: %s, ignoring", name, e.msg);
                return 0;
        }
        (*n)++;
        return 0;
}

int top_vms_sample(const struct host_roots *roots, char *const *names, size_t n, bool report_missing,
                   struct top_vm **ret)
{
        struct top_vm *vms = NULL;
        size_t count = 0;
        int r = 0;

        if (n > 0) {
                for (size_t i = 0; i < n && r >= 0; i++)
                        r = add(roots, names[i], report_missing, &vms, &count);
        } else {
                struct dirent **list = NULL;
                int m = scandir(roots->run, &list, NULL, alphasort);
                for (int i = 0; i < m; i++) {
                        if (r >= 0 && profile_name_valid(list[i]->d_name))
                                r = add(roots, list[i]->d_name, false, &vms, &count);
                        free(list[i]);
                }
                free(list);
        }
        if (r < 0 && r != -E2BIG) {
                free(vms);
                return r;
        }
        *ret = vms;
        return (int) count;
}

void top_vms_rates(struct top_vm *cur, size_t n, const struct top_vm *prev, size_t n_prev)
{
        for (size_t i = 0; i < n; i++)
                for (size_t k = 0; k < n_prev; k++)
                        if (strcmp(cur[i].name, prev[k].name) == 0)
                                top_vm_rates(&cur[i], &prev[k]);
}

int top_vms_signalfd(void)
{
        sigset_t set;
        int fd;

        sigemptyset(&set);
        sigaddset(&set, SIGINT);
        sigaddset(&set, SIGTERM);
        if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
                return -errno;
        fd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
        return fd < 0 ? -errno : fd;
}
