/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * `vfio-launch status NAME`, `stop [--force] NAME`, `list`: talk to a running
 * supervisor through its control socket RUN_DIR/NAME/control.sock (0600,
 * root's: the supervisor runs as root).
 */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "journal.h"
#include "profile.h"
#include "rundir.h"
#include "supervisor.h"

static int request(const char *name, const char *command, char *buf, size_t size)
{
        char path[512];
        int r;

        if (!journal_name_valid(name)) {
                cli_log_error("\"%s\" is not a VM name", name);
                return -EINVAL;
        }
        if (rundir_path(path, sizeof(path), JOURNAL_DEFAULT_RUN_DIR, name, RUNDIR_CONTROL_SOCKET) < 0)
                return -ENAMETOOLONG;
        r = sup_control_request(path, command, buf, size, 5000);
        if (r == -ENOENT || r == -ECONNREFUSED)
                cli_log_error("VM \"%s\" is not running", name);
        else if (r == -EACCES)
                cli_log_error("%s: permission denied (the control socket is root's)", path);
        else if (r < 0)
                cli_log_error("%s: %s", path, strerror(-r));
        return r;
}

int cmd_status(int argc, char **argv)
{
        char buf[1024];

        if (argc == 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
                printf("Usage: vfio-launch status NAME\n\nShow the state of a running VM as JSON.\n");
                return EXIT_OK;
        }
        if (argc != 2) {
                cli_log_error("status: expected one VM NAME");
                return EXIT_INVALID;
        }
        if (request(argv[1], "status", buf, sizeof(buf)) < 0)
                return EXIT_FAILURE_RUN;
        printf("%s\n", buf);
        return EXIT_OK;
}

int cmd_stop(int argc, char **argv)
{
        static const struct option options[] = {
                { "help", no_argument, NULL, 'h' },
                { "force", no_argument, NULL, 'f' },
                {},
        };
        bool force = false;
        char buf[256];
        int opt;

        while ((opt = getopt_long(argc, argv, "+hf", options, NULL)) >= 0) {
                switch (opt) {
                case 'h':
                        printf("Usage: vfio-launch stop [--force] NAME\n"
                               "\n"
                               "Ask a running VM to power off (ACPI power button; QEMU is stopped\n"
                               "after the profile's shutdown_timeout). --force stops QEMU at once.\n"
                               "Returns when the request is delivered; the VM's own vfio-launch\n"
                               "gives the devices back.\n");
                        return EXIT_OK;
                case 'f':
                        force = true;
                        break;
                default:
                        return EXIT_INVALID;
                }
        }
        if (argc - optind != 1) {
                cli_log_error("stop: expected one VM NAME");
                return EXIT_INVALID;
        }
        if (request(argv[optind], force ? "stop-force" : "stop", buf, sizeof(buf)) < 0)
                return EXIT_FAILURE_RUN;
        if (strcmp(buf, "ok") != 0) {
                cli_log_error("%s", buf);
                return EXIT_FAILURE_RUN;
        }
        return EXIT_OK;
}

int cmd_list(int argc, char **argv)
{
        DIR *d;
        struct dirent *de;
        unsigned n = 0;

        if (argc > 1) {
                if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
                        printf("Usage: vfio-launch list\n\nList the running VMs, one JSON object per line.\n");
                        return EXIT_OK;
                }
                cli_log_error("list: takes no arguments");
                return EXIT_INVALID;
        }
        d = opendir(JOURNAL_DEFAULT_RUN_DIR);
        if (!d)
                return EXIT_OK; /* nothing ever ran */
        while ((de = readdir(d))) {
                char buf[1024], path[512];
                if (!journal_name_valid(de->d_name))
                        continue;
                if (rundir_path(path, sizeof(path), JOURNAL_DEFAULT_RUN_DIR, de->d_name,
                                RUNDIR_CONTROL_SOCKET) < 0 ||
                    sup_control_request(path, "status", buf, sizeof(buf), 2000) < 0)
                        continue;
                printf("%s\n", buf);
                n++;
        }
        closedir(d);
        return EXIT_OK;
}
