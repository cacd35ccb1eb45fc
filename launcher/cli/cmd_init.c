/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * `vfio-launch init [OPTIONS] NAME > NAME.json`: a first profile for this
 * host. report/init_probe.c reads the hardware (read-only), init/ builds
 * the profile from that snapshot; this file parses the options, prints the
 * profile on stdout and every choice, one line each, on stderr.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/cli_prepare.h"
#include "init/init.h"
#include "report/init_probe.h"

enum {
        OPT_GPU = 0x100,
        OPT_OS,
        OPT_MEMORY,
        OPT_CPUS,
        OPT_HUGEPAGES,
        OPT_DISK,
        OPT_ISO,
        OPT_VIRTIO_WIN,
        OPT_SINGLE_GPU,
        OPT_BRIDGE,
        OPT_MACVTAP,
        OPT_HOST_ROOT,
};

static void help(void)
{
        printf("Usage: vfio-launch init [OPTIONS] NAME > NAME.json\n"
               "\n"
               "Write a first profile for this host on standard output: the GPU to pass through\n"
               "with the other functions of its card, CPUs pinned as whole cores, memory, disks\n"
               "and a NIC. Every choice is printed on standard error, one line each, with the\n"
               "option that changes it. Reads the hardware only: nothing on the host changes.\n"
               "Then: vfio-launch check NAME.json; vfio-launch doctor NAME.json.\n"
               "\n"
               "  --gpu ADDR          the GPU (default: the one display controller that is not\n"
               "                      the host's own: the boot VGA, or the one its console is on);\n"
               "                      its IOMMU group's functions of the same card (HDMI audio,\n"
               "                      USB-C) go with it, in the same guest slot\n"
               "  --single-gpu        allow the host's own display: the host hands it over while\n"
               "                      the VM runs (host_handover: what holds it on this host)\n"
               "  --os OS             windows11, windows10 or linux: that guest's preset\n"
               "  --memory SIZE       guest RAM (8G, 8192M; default: half the host's, whole GiB)\n"
               "  --cpus N            vCPUs, whole cores with their SMT siblings (default: every\n"
               "                      core but the first, which stays the host's)\n"
               "  --hugepages         guest RAM on hugetlbfs pages (a mount and a pool that serve it)\n"
               "  --disk PATH         the system disk: an image or /dev/disk/by-id/...\n"
               "  --iso PATH          install media, as a cdrom\n"
               "  --virtio-win PATH   the virtio-win drivers disc, a second cdrom\n"
               "  --bridge BR         the NIC on a tap in bridge BR (default: user-mode NAT)\n"
               "  --macvtap DEV       the NIC on macvtap over DEV\n"
               "\n"
               "Exit status: 0 a profile was written, 1 the host could not be read, 2 invalid\n"
               "usage or a choice this host cannot make (the message says which option helps).\n");
}

struct opts {
        struct init_options o;
        const char *host_root;
};

/* An absolute path: relative ones against the current folder, as the user
 * meant them (the profile may be saved anywhere). */
static int absolute(const char *opt, const char *arg, char *buf, size_t size)
{
        char cwd[PROFILE_PATH_MAX];

        while (strncmp(arg, "./", 2) == 0)
                arg += 2;
        if (!arg[0]) {
                cli_log_error("--%s: an empty path", opt);
                return EXIT_INVALID;
        }
        if (arg[0] == '/') {
                if (xsnprintf(buf, size, "%s", arg) == 0)
                        return 0;
        } else if (!getcwd(cwd, sizeof(cwd))) {
                cli_log_error("--%s %s: cannot tell the current folder: %m", opt, arg);
                return EXIT_FAILURE_RUN;
        } else if (xsnprintf(buf, size, "%s%s%s", cwd, strcmp(cwd, "/") == 0 ? "" : "/", arg) == 0)
                return 0;
        cli_log_error("--%s %s: path too long", opt, arg);
        return EXIT_INVALID;
}

static int ifname(const char *opt, const char *arg, char *buf, size_t size)
{
        if (!profile_ifname_valid(arg)) {
                cli_log_error("--%s \"%s\": not a network interface name (1-15 bytes, no '/', ':', ',' or spaces)",
                              opt, arg);
                return EXIT_INVALID;
        }
        snprintf(buf, size, "%s", arg);
        return 0;
}

static int on_option(int key, const char *arg, void *userdata)
{
        struct opts *x = userdata;
        struct init_options *o = &x->o;
        unsigned long n;
        char *end;
        int r;

        switch (key) {
        case OPT_GPU:
                if (pci_addr_parse(arg, &o->gpu) < 0) {
                        cli_log_error("--gpu \"%s\": not a PCI address (expected DDDD:BB:SS.F or BB:SS.F)", arg);
                        return EXIT_INVALID;
                }
                o->gpu_set = true;
                return 0;
        case OPT_OS:
                for (unsigned v = OS_NONE + 1; profile_os_name(v); v++)
                        if (strcmp(arg, profile_os_name(v)) == 0) {
                                o->os = (enum os_preset) v;
                                return 0;
                        }
                cli_log_error("--os \"%s\": expected windows11, windows10, linux or other", arg);
                return EXIT_INVALID;
        case OPT_MEMORY:
                r = profile_parse_memory_mib(arg, &o->memory_mib);
                if (r < 0 || o->memory_mib < PROFILE_MEMORY_MIN_MIB || o->memory_mib > PROFILE_MEMORY_MAX_MIB) {
                        cli_log_error("--memory \"%s\": not a guest memory size (16M to 16T, e.g. 8G or 8192M)", arg);
                        return EXIT_INVALID;
                }
                return 0;
        case OPT_CPUS:
                errno = 0;
                n = strtoul(arg, &end, 10);
                if (errno || end == arg || *end || arg[0] == '-' || n == 0 || n > PROFILE_VCPUS_MAX) {
                        cli_log_error("--cpus \"%s\": not a number of vCPUs (1-%d)", arg, PROFILE_VCPUS_MAX);
                        return EXIT_INVALID;
                }
                o->cpus = (unsigned) n;
                return 0;
        case OPT_HUGEPAGES:
                o->hugepages = true;
                return 0;
        case OPT_SINGLE_GPU:
                o->single_gpu = true;
                return 0;
        case OPT_DISK:
                return absolute("disk", arg, o->disk, sizeof(o->disk));
        case OPT_ISO:
                return absolute("iso", arg, o->iso, sizeof(o->iso));
        case OPT_VIRTIO_WIN:
                return absolute("virtio-win", arg, o->virtio_win, sizeof(o->virtio_win));
        case OPT_BRIDGE:
                return ifname("bridge", arg, o->bridge, sizeof(o->bridge));
        case OPT_MACVTAP:
                return ifname("macvtap", arg, o->macvtap, sizeof(o->macvtap));
        case OPT_HOST_ROOT:
                x->host_root = arg;
                return 0;
        }
        return EXIT_INVALID;
}

int cmd_init(int argc, char **argv)
{
        static const struct cli_option options[] = {
                { "gpu", OPT_GPU, true },
                { "os", OPT_OS, true },
                { "memory", OPT_MEMORY, true },
                { "cpus", OPT_CPUS, true },
                { "hugepages", OPT_HUGEPAGES, false },
                { "disk", OPT_DISK, true },
                { "iso", OPT_ISO, true },
                { "virtio-win", OPT_VIRTIO_WIN, true },
                { "single-gpu", OPT_SINGLE_GPU, false },
                { "bridge", OPT_BRIDGE, true },
                { "macvtap", OPT_MACVTAP, true },
                /* For the tests: a fake host, ROOT/{sys,proc,dev} and the
                 * names of ROOT/pci.ids (tests/fakesys's layout). Read only. */
                { "host-root", OPT_HOST_ROOT, true },
                {},
        };
        static const struct cli_command cmd = {
                .name = "init", .help = help, .options = options, .min_operands = 1, .max_operands = 1,
                .operands = "one NAME argument",
        };
        _cleanup_free_ struct init_host *host = calloc(1, sizeof(*host));
        _cleanup_free_ char *text = NULL;
        struct opts x = {};
        struct cli_host_root hr;
        struct init_result res = {};
        struct vl_error err = {};
        int first, r;

        if (!host) {
                cli_log_error("out of memory");
                return EXIT_FAILURE_RUN;
        }
        r = cli_parse(&cmd, argc, argv, on_option, &x, &first);
        if (r != CLI_PARSED)
                return r;
        if (xsnprintf(x.o.name, sizeof(x.o.name), "%s", argv[first]) < 0 || !profile_name_valid(x.o.name)) {
                cli_log_error("\"%s\" is not a profile name (1-63 of A-Z a-z 0-9 _ . -, not starting with '.' or "
                              "'-')",
                              argv[first]);
                return EXIT_INVALID;
        }

        r = cli_host_root_init(&hr, x.host_root);
        if (r != EXIT_OK)
                return r;
        r = init_probe(&hr.roots, hr.pci_ids, &x.o, host, &err);
        if (r < 0) {
                cli_print_error(&err);
                return EXIT_FAILURE_RUN;
        }
        r = init_build(host, &x.o, &res, &err);
        if (r < 0) {
                cli_print_error(&err);
                return r == -ENOMEM ? EXIT_FAILURE_RUN : EXIT_INVALID;
        }
        for (unsigned i = 0; i < res.n_lines; i++)
                cli_log("%s", res.lines[i]);
        text = json_dumps(res.profile, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        init_result_done(&res);
        if (!text) {
                cli_log_error("out of memory");
                return EXIT_FAILURE_RUN;
        }
        if (printf("%s\n", text) < 0 || fflush(stdout) != 0) {
                cli_log_error("cannot write the profile to standard output: %m");
                return EXIT_FAILURE_RUN;
        }
        return EXIT_OK;
}
