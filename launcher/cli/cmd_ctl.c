/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * `vfio-launch status NAME`, `stop [--force] NAME`, `list`, `detach NAME
 * DEVICE`, `attach NAME DEVICE`, `usb detach|attach NAME DEVICE`: talk to
 * a running supervisor through its control socket
 * RUN_DIR/NAME/control.sock (0600, root's: the supervisor runs as root). cli_vm_status() is the one way the CLI finds a running VM
 * (list, top, metrics).
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "run/hotplug.h"
#include "profile/profile.h"
#include "base/roots.h"
#include "host/rundir.h"
#include "run/supervisor.h"

static int request_timeout(const char *name, const char *command, char *buf, size_t size, int timeout_ms)
{
        struct host_roots roots;
        char path[512];
        int r;

        if (!profile_name_valid(name)) {
                cli_log_error("\"%s\" is not a VM name", name);
                return -EINVAL;
        }
        host_roots_init(&roots);
        if (rundir_path(path, sizeof(path), roots.run, name, RUNDIR_CONTROL_SOCKET) < 0)
                return -ENAMETOOLONG;
        r = sup_control_request(path, command, buf, size, timeout_ms);
        if (r == -ENOENT || r == -ECONNREFUSED)
                cli_log_error("VM \"%s\" is not running", name);
        else if (r == -EACCES)
                cli_log_error("'%s': permission denied (the control socket is root's)", path);
        else if (r == -ETIMEDOUT)
                cli_log_error("VM \"%s\" did not answer within %d s; see its output (journalctl, or its terminal)",
                              name, timeout_ms / 1000);
        else if (r < 0)
                cli_log_error("'%s': %s", path, strerror(-r));
        return r;
}

static int request(const char *name, const char *command, char *buf, size_t size)
{
        return request_timeout(name, command, buf, size, 5000);
}

static void status_help(void)
{
        printf("Usage: vfio-launch status NAME\n\nShow the state of a running VM as JSON.\n");
}

int cmd_status(int argc, char **argv)
{
        static const struct cli_command cmd = {
                .name = "status", .help = status_help, .min_operands = 1, .max_operands = 1,
                .operands = "one VM NAME",
        };
        char buf[2048];
        int first, r;

        r = cli_parse(&cmd, argc, argv, NULL, NULL, &first);
        if (r != CLI_PARSED)
                return r;
        if (request(argv[first], "status", buf, sizeof(buf)) < 0)
                return EXIT_FAILURE_RUN;
        printf("%s\n", buf);
        return EXIT_OK;
}

static void stop_help(void)
{
        printf("Usage: vfio-launch stop [--force] NAME\n"
               "\n"
               "Ask a running VM to power off (ACPI power button; QEMU is stopped\n"
               "after the profile's shutdown_timeout). --force stops QEMU at once.\n"
               "Returns when the request is delivered; the VM's own vfio-launch\n"
               "gives the devices back.\n");
}

int cmd_stop(int argc, char **argv)
{
        static const struct cli_option options[] = { { "force", 'f', false }, {} };
        static const struct cli_command cmd = {
                .name = "stop", .help = stop_help, .options = options, .min_operands = 1, .max_operands = 1,
                .operands = "one VM NAME",
        };
        bool force = false;
        char buf[256];
        int first, r;

        r = cli_parse(&cmd, argc, argv, cli_set_flag, &force, &first);
        if (r != CLI_PARSED)
                return r;
        if (request(argv[first], force ? "stop-force" : "stop", buf, sizeof(buf)) < 0)
                return EXIT_FAILURE_RUN;
        if (strcmp(buf, "ok") != 0) {
                cli_log_error("%s", buf);
                return EXIT_FAILURE_RUN;
        }
        return EXIT_OK;
}

int cli_vm_status(const struct host_roots *roots, const char *name, char *buf, size_t size)
{
        char path[512];

        if (!profile_name_valid(name))
                return -EINVAL;
        if (rundir_path(path, sizeof(path), roots->run, name, RUNDIR_CONTROL_SOCKET) < 0)
                return -ENAMETOOLONG;
        return sup_control_request(path, "status", buf, size, 2000);
}

static void list_help(void)
{
        printf("Usage: vfio-launch list\n\nList the running VMs, one JSON object per line.\n");
}

int cmd_list(int argc, char **argv)
{
        static const struct cli_command cmd = { .name = "list", .help = list_help, .operands = "no arguments" };
        struct host_roots roots;
        DIR *d;
        struct dirent *de;
        int first, r;

        r = cli_parse(&cmd, argc, argv, NULL, NULL, &first);
        if (r != CLI_PARSED)
                return r;
        host_roots_init(&roots);
        d = opendir(roots.run);
        if (!d)
                return EXIT_OK; /* nothing ever ran */
        while ((de = readdir(d))) {
                char buf[CLI_STATUS_MAX];
                if (cli_vm_status(&roots, de->d_name, buf, sizeof(buf)) < 0)
                        continue;
                printf("%s\n", buf);
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

static void detach_help(void)
{
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
}

static int detach_option(int key, const char *arg, void *userdata)
{
        unsigned long v;
        char *end;

        errno = 0;
        v = strtoul(arg, &end, 10); /* --timeout */
        if (errno || end == arg || *end || v < 1 || v > 3600) {
                cli_log_error("detach: --timeout takes 1..3600 seconds, not \"%s\"", arg);
                return EXIT_INVALID;
        }
        *(unsigned *) userdata = (unsigned) v;
        return 0;
}

int cmd_detach(int argc, char **argv)
{
        static const struct cli_option options[] = { { "timeout", 't', true }, {} };
        static const struct cli_command cmd = {
                .name = "detach", .help = detach_help, .options = options, .min_operands = 2,
                .max_operands = 2, .operands = "NAME and DEVICE",
        };
        unsigned timeout_s = HOTPLUG_DEFAULT_TIMEOUT_MS / 1000;
        char buf[1024], req[SUP_CONTROL_MSG_MAX];
        const char *name, *device;
        int first, r;

        r = cli_parse(&cmd, argc, argv, detach_option, &timeout_s, &first);
        if (r != CLI_PARSED)
                return r;
        name = argv[first];
        device = argv[first + 1];
        if (!device_arg_ok("detach", device))
                return EXIT_INVALID;
        (void) snprintf(req, sizeof(req), "detach %u %s", timeout_s * 1000u, device);
        cli_log("%s: asking the guest to release %s (up to %u s)", name, device, timeout_s);
        if (request_timeout(name, req, buf, sizeof(buf), (int) (timeout_s * 1000u) + HOTPLUG_REPLY_MARGIN_MS) < 0)
                return EXIT_FAILURE_RUN;
        return hotplug_reply(buf);
}

static void attach_help(void)
{
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
}

int cmd_attach(int argc, char **argv)
{
        static const struct cli_command cmd = {
                .name = "attach", .help = attach_help, .min_operands = 2, .max_operands = 2,
                .operands = "NAME and DEVICE",
        };
        char buf[1024], req[SUP_CONTROL_MSG_MAX];
        int first, r;

        r = cli_parse(&cmd, argc, argv, NULL, NULL, &first);
        if (r != CLI_PARSED)
                return r;
        if (!device_arg_ok("attach", argv[first + 1]))
                return EXIT_INVALID;
        (void) snprintf(req, sizeof(req), "attach %s", argv[first + 1]);
        if (request_timeout(argv[first], req, buf, sizeof(buf), HOTPLUG_REPLY_MARGIN_MS) < 0)
                return EXIT_FAILURE_RUN;
        return hotplug_reply(buf);
}

static void usb_help(void)
{
        printf("Usage: vfio-launch usb detach|attach NAME DEVICE\n"
               "\n"
               "Take a host USB device of the profile's \"usb\": {\"devices\"} out of the\n"
               "running VM NAME and give its /dev/bus/usb node back (detach), or give\n"
               "it to the VM again (attach: found again as at start, so a device\n"
               "plugged in again since is found on its new node). DEVICE is its QEMU\n"
               "id (usbhost0, usbhost1, ... in the profile's order, as 'vfio-launch\n"
               "status' lists them) or its index.\n"
               "\n"
               "Exit status: 0 done; 1 not (the message says where the device is); 2\n"
               "invalid usage.\n");
}

int cmd_usb(int argc, char **argv)
{
        static const struct cli_command cmd = {
                .name = "usb", .help = usb_help, .min_operands = 3, .max_operands = 3,
                .operands = "detach|attach, NAME and DEVICE",
        };
        char buf[1024], req[SUP_CONTROL_MSG_MAX];
        const char *verb;
        int first, r;

        r = cli_parse(&cmd, argc, argv, NULL, NULL, &first);
        if (r != CLI_PARSED)
                return r;
        verb = argv[first];
        if (strcmp(verb, "detach") != 0 && strcmp(verb, "attach") != 0) {
                cli_log_error("usb: \"%s\" is neither detach nor attach", verb);
                return EXIT_INVALID;
        }
        if (!device_arg_ok("usb", argv[first + 2]))
                return EXIT_INVALID;
        (void) snprintf(req, sizeof(req), "usb %s %s", verb, argv[first + 2]);
        if (request_timeout(argv[first + 1], req, buf, sizeof(buf), HOTPLUG_REPLY_MARGIN_MS) < 0)
                return EXIT_FAILURE_RUN;
        return hotplug_reply(buf);
}
