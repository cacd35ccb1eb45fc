/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * vfio-launch: entry point and subcommand dispatch. `vfio-launch PROFILE`
 * (a path to a .json file) is the run command; everything else is a verb.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "base/macro.h"
#include "base/trace.h"

struct verb {
        const char *name;
        int (*run)(int argc, char **argv);
        const char *summary;
};

static const struct verb verbs[] = {
        { "run", cmd_run, "run the VM (the same as 'vfio-launch PROFILE')" },
        { "check", cmd_check, "validate a profile without touching the host" },
        { "print", cmd_print, "dry run: show the plan, the QEMU command line and its environment" },
        { "bind", cmd_bind, "move a profile's devices to vfio-pci and leave them there" },
        { "unbind", cmd_bind, "give back what 'bind' took" },
        { "recover", cmd_recover, "give back the devices of runs that did not finish" },
        { "status", cmd_status, "show a running VM's state" },
        { "stop", cmd_stop, "power a running VM off (--force: at once)" },
        { "detach", cmd_detach, "take a device out of a running VM, back to the host" },
        { "attach", cmd_attach, "give a detached device back to a running VM" },
        { "usb", cmd_usb, "detach or attach a host USB device of a running VM" },
        { "list", cmd_list, "list the running VMs" },
        { "top", cmd_top, "watch the running VMs: vCPUs, memory, NICs, disks, devices" },
        { "metrics", cmd_metrics, "the same figures for Prometheus (--listen: serve /metrics)" },
        { "doctor", cmd_doctor, "check the host (and a profile) for passthrough, with fixes" },
        { "groups", cmd_groups, "list every IOMMU group and its devices" },
        { "host-config", cmd_host_config, "print the host set-up (GRUB, modules, modprobe.d) for a profile" },
        { "desktop", cmd_desktop, "write a desktop entry that starts a profile" },
        { "import", cmd_import, "turn a libvirt domain XML into a profile" },
        { "init", cmd_init, "write a first profile for this host's GPU, CPUs and memory" },
};

static void help(void)
{
        printf("Usage: vfio-launch PROFILE.json           run the VM the profile describes\n"
               "       vfio-launch COMMAND [ARGS...]\n"
               "\n"
               "Commands:\n");
        for (size_t i = 0; i < ELEMENTSOF(verbs); i++)
                printf("  %-10s %s\n", verbs[i].name, verbs[i].summary);
        printf("\n"
               "  --help     this text; COMMAND --help for a command's own\n"
               "  --version  print the version\n"
               "\n"
               "Exit status: 0 success, 1 failure (host restored), 2 invalid usage or profile.\n");
}

int main(int argc, char **argv)
{
        const char *verb;
        int r;

        if (argc < 2) {
                help();
                return EXIT_INVALID;
        }
        verb = argv[1];
        /* A timing trace on stderr for benchmarks (base/trace.h). */
        if (getenv("VL_TRACE") && strcmp(getenv("VL_TRACE"), "1") == 0) {
                trace_enable();
                TRACE("start %s", verb);
        }
        if (strcmp(verb, "--help") == 0 || strcmp(verb, "-h") == 0 || strcmp(verb, "help") == 0) {
                help();
                return EXIT_OK;
        }
        if (strcmp(verb, "--version") == 0) {
                printf("vfio-launch %s\n", VL_VERSION);
                return EXIT_OK;
        }
        for (size_t i = 0; i < ELEMENTSOF(verbs); i++)
                if (strcmp(verb, verbs[i].name) == 0) {
                        r = verbs[i].run(argc - 1, argv + 1);
                        TRACE("exit %d", r);
                        return r;
                }

        /* `vfio-launch win10.json`: a path, not a verb. */
        if (strchr(verb, '/') || strchr(verb, '.')) {
                r = cmd_run(argc, argv);
                TRACE("exit %d", r);
                return r;
        }
        cli_log_error("unknown command \"%s\" (see 'vfio-launch --help')", verb);
        return EXIT_INVALID;
}
