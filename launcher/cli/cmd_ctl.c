/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * `vfio-launch status NAME`, `stop [--force] NAME`, `list`, `detach NAME
 * DEVICE`, `attach NAME DEVICE`: talk to a running supervisor through its
 * control socket RUN_DIR/NAME/control.sock (0600, root's: the supervisor
 * runs as root).
 */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "run/hotplug.h"
#include "host/journal.h"
#include "profile/profile.h"
#include "host/rundir.h"
#include "run/supervisor.h"

static int request_timeout(const char *name, const char *command, char *buf, size_t size, int timeout_ms)
{
        char path[512];
        int r;

        if (!journal_name_valid(name)) {
                cli_log_error("\"%s\" is not a VM name", name);
                return -EINVAL;
        }
        if (rundir_path(path, sizeof(path), JOURNAL_DEFAULT_RUN_DIR, name, RUNDIR_CONTROL_SOCKET) < 0)
                return -ENAMETOOLONG;
        r = sup_control_request(path, command, buf, size, timeout_ms);
        if (r == -ENOENT || r == -ECONNREFUSED)
                cli_log_error("VM \"%s\" is not running", name);
        else if (r == -EACCES)
                cli_log_error("%s: permission denied (the control socket is root's)", path);
        else if (r == -ETIMEDOUT)
                cli_log_error("VM \"%s\" did not answer within %d s; see its output (journalctl, or its terminal)",
                              name, timeout_ms / 1000);
        else if (r < 0)
                cli_log_error("%s: %s", path, strerror(-r));
        return r;
}

static int request(const char *name, const char *command, char *buf, size_t size)
{
        return request_timeout(name, command, buf, size, 5000);
}

int cmd_status(int argc, char **argv)
{
        char buf[2048];

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
                char buf[2048], path[512];
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

/* The supervisor answers a hotplug request when it is done: allow the guest
 * its time, QEMU its release, and the host drivers their probes. */
#define HOTPLUG_REPLY_MARGIN_MS 60000

/* DEVICE travels as one word of the control request: the supervisor
 * resolves it (an id or an address), this only keeps the request parseable. */
static bool device_arg_ok(const char *verb, const char *arg)
{
        if (arg[0] && strlen(arg) < PROFILE_STR_MAX && !strpbrk(arg, " \t\n"))
                return true;
        cli_log_error("%s: \"%s\" is not a device id or address", verb, arg);
        return false;
}

static int hotplug_reply(const char *buf)
{
        if (strncmp(buf, "ok: ", 4) == 0) {
                cli_log("%s", buf + 4);
                return EXIT_OK;
        }
        cli_log_error("%s", strncmp(buf, "error: ", 7) == 0 ? buf + 7 : buf);
        return EXIT_FAILURE_RUN;
}

int cmd_detach(int argc, char **argv)
{
        static const struct option options[] = {
                { "help", no_argument, NULL, 'h' },
                { "timeout", required_argument, NULL, 't' },
                {},
        };
        unsigned timeout_s = HOTPLUG_DEFAULT_TIMEOUT_MS / 1000;
        char buf[1024], cmd[SUP_CONTROL_MSG_MAX], *end;
        unsigned long v;
        int opt;

        while ((opt = getopt_long(argc, argv, "+ht:", options, NULL)) >= 0) {
                switch (opt) {
                case 'h':
                        printf("Usage: vfio-launch detach [--timeout SECS] NAME DEVICE\n"
                               "\n"
                               "Take DEVICE (a hostdev id of the profile, or its host address) out of\n"
                               "the running VM NAME and give it back to its host driver, without\n"
                               "stopping the VM. The devices of its IOMMU group and of its guest slot\n"
                               "(a GPU and its HDMI audio) go with it. The guest must release the\n"
                               "slot (PCI hot-unplug); if it does not within SECS (default %u), the\n"
                               "devices stay with the VM and go back when the guest lets go or the VM\n"
                               "stops. 'vfio-launch attach NAME DEVICE' gives them back to the VM.\n"
                               "\n"
                               "Exit status: 0 the devices are back on the host; 1 they are not (the\n"
                               "message says where they are); 2 invalid usage.\n",
                               HOTPLUG_DEFAULT_TIMEOUT_MS / 1000);
                        return EXIT_OK;
                case 't':
                        errno = 0;
                        v = strtoul(optarg, &end, 10);
                        if (errno || end == optarg || *end || v < 1 || v > 3600) {
                                cli_log_error("detach: --timeout takes 1..3600 seconds, not \"%s\"", optarg);
                                return EXIT_INVALID;
                        }
                        timeout_s = (unsigned) v;
                        break;
                default:
                        return EXIT_INVALID;
                }
        }
        if (argc - optind != 2) {
                cli_log_error("detach: expected NAME and DEVICE (see 'vfio-launch detach --help')");
                return EXIT_INVALID;
        }
        if (!device_arg_ok("detach", argv[optind + 1]))
                return EXIT_INVALID;
        (void) snprintf(cmd, sizeof(cmd), "detach %u %s", timeout_s * 1000u, argv[optind + 1]);
        cli_log("%s: asking the guest to release %s (up to %u s)", argv[optind], argv[optind + 1], timeout_s);
        if (request_timeout(argv[optind], cmd, buf, sizeof(buf), (int) (timeout_s * 1000u) + HOTPLUG_REPLY_MARGIN_MS) < 0)
                return EXIT_FAILURE_RUN;
        return hotplug_reply(buf);
}

int cmd_attach(int argc, char **argv)
{
        char buf[1024], cmd[SUP_CONTROL_MSG_MAX];

        if (argc == 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
                printf("Usage: vfio-launch attach NAME DEVICE\n"
                       "\n"
                       "Give DEVICE (a hostdev id of the profile, or its host address), taken\n"
                       "out earlier with 'vfio-launch detach', back to the running VM NAME:\n"
                       "the same checks as at start, vfio-pci, then the device appears at its\n"
                       "profile address in the guest, with the devices of its IOMMU group and\n"
                       "guest slot.\n"
                       "\n"
                       "Exit status: 0 attached; 1 not (the devices stay on the host); 2 invalid\n"
                       "usage.\n");
                return EXIT_OK;
        }
        if (argc != 3) {
                cli_log_error("attach: expected NAME and DEVICE (see 'vfio-launch attach --help')");
                return EXIT_INVALID;
        }
        if (!device_arg_ok("attach", argv[2]))
                return EXIT_INVALID;
        (void) snprintf(cmd, sizeof(cmd), "attach %s", argv[2]);
        if (request_timeout(argv[1], cmd, buf, sizeof(buf), HOTPLUG_REPLY_MARGIN_MS) < 0)
                return EXIT_FAILURE_RUN;
        return hotplug_reply(buf);
}
