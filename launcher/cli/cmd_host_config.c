/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * `vfio-launch host-config [--write [--root DIR] [--yes]] PROFILE...`: print
 * the boot-time host set-up the profiles need (hostcfg.h), or write its two
 * modprobe/modules-load files after a confirmation. GRUB is never written:
 * a wrong kernel command line can leave a machine unbootable, so that step
 * stays the user's.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "report/hostcfg.h"
#include "profile/profile_json.h"

enum {
        OPT_SYSFS_ROOT = 0x100,
        OPT_PROC_ROOT,
};

static void usage(void)
{
        printf("Usage: vfio-launch host-config [--write [--root DIR] [--yes]] PROFILE...\n"
               "\n"
               "Print the host set-up that makes vfio-pci claim the profiles' devices at\n"
               "boot: the kernel command line for GRUB, /etc/modules-load.d and\n"
               "/etc/modprobe.d files, and the initramfs step. The ids come from each\n"
               "hostdev's \"vendor_device\", else from the device in sysfs. Give every\n"
               "profile whose devices vfio-pci should claim at boot: the files hold them all.\n"
               "\n"
               "  --write     write the modules-load.d and modprobe.d files (asks first;\n"
               "              never touches GRUB; refuses to replace a file it did not write,\n"
               "              or one written for a profile not given now)\n"
               "  --root DIR  write under DIR instead of /\n"
               "  --yes       do not ask (needed without a terminal)\n");
}

static bool confirm(const char *root)
{
        char answer[16];

        fprintf(stderr, "Write %s%s" HOSTCFG_MODPROBE_FILE " and %s%s" HOSTCFG_MODULES_FILE "? [y/N] ",
                root, "/", root, "/");
        if (!fgets(answer, sizeof(answer), stdin))
                return false;
        return answer[0] == 'y' || answer[0] == 'Y';
}

struct options {
        const char *root, *sysfs_root, *proc_root;
        bool write, yes;
};

static int on_option(int key, const char *arg, void *userdata)
{
        struct options *o = userdata;

        switch (key) {
        case 'w':
                o->write = true;
                break;
        case 'r':
                o->root = arg;
                break;
        case 'y':
                o->yes = true;
                break;
        case OPT_SYSFS_ROOT:
                o->sysfs_root = arg;
                break;
        case OPT_PROC_ROOT:
                o->proc_root = arg;
                break;
        }
        return 0;
}

int cmd_host_config(int argc, char **argv)
{
        static const struct cli_option options[] = {
                { "write", 'w', false },
                { "root", 'r', true },
                { "yes", 'y', false },
                /* For the tests: a fake host (read only). */
                { "sysfs-root", OPT_SYSFS_ROOT, true },
                { "proc-root", OPT_PROC_ROOT, true },
                {},
        };
        static const struct cli_command cmd = {
                .name = "host-config", .help = usage, .options = options, .min_operands = 1,
                .max_operands = HOSTCFG_PROFILES_MAX, .operands = "one to " STRINGIFY(HOSTCFG_PROFILES_MAX) " PROFILE arguments",
        };
        _cleanup_free_ struct profile *p = NULL;
        _cleanup_free_ char *text = NULL;
        struct options o = { .sysfs_root = "/sys", .proc_root = "/proc" }; /* the real host unless a test says */
        const char *root;
        bool write, yes;
        struct vl_error err = {};
        struct hostcfg h;
        const size_t text_size = 16384;
        int first, r;

        r = cli_parse(&cmd, argc, argv, on_option, &o, &first);
        if (r != CLI_PARSED)
                return r;
        root = o.root;
        write = o.write;
        yes = o.yes;
        if ((root || yes) && !write) {
                cli_log_error("host-config: --root and --yes only go with --write");
                return EXIT_INVALID;
        }
        p = malloc(sizeof(*p));
        text = malloc(text_size);
        if (!p || !text) {
                cli_log_error("out of memory");
                return EXIT_FAILURE_RUN;
        }
        /* One host, several VMs: the boot-time files hold them all. */
        for (int i = first; i < argc; i++) {
                struct hostcfg one;
                /* No warnings: they are about the run (`check` shows them), not the host. */
                if (profile_load(argv[i], p, &err, NULL) < 0) {
                        cli_print_error(&err);
                        return EXIT_INVALID;
                }
                r = hostcfg_collect(p, o.sysfs_root, o.proc_root, i == first ? &h : &one, &err);
                if (r >= 0 && i > first)
                        r = hostcfg_merge(&h, &one, &err);
                if (r < 0) {
                        cli_print_error(&err);
                        return r == -EINVAL || r == -EEXIST ? EXIT_INVALID : EXIT_FAILURE_RUN;
                }
        }

        if (!write) {
                r = hostcfg_report(&h, text, text_size);
                if (r < 0) {
                        cli_log_error("host-config: the report does not fit its buffer");
                        return EXIT_FAILURE_RUN;
                }
                fputs(text, stdout);
                return EXIT_OK;
        }

        if (!root)
                root = "/";
        /* Refuse before asking: a question whose answer cannot be carried out
         * wastes the user's time. */
        if (hostcfg_check_writable(root, &h, &err) < 0) {
                cli_print_error(&err);
                return EXIT_FAILURE_RUN;
        }
        if (!yes) {
                if (!isatty(STDIN_FILENO)) {
                        cli_log_error("host-config: no terminal to confirm on: pass --yes to write anyway");
                        return EXIT_INVALID;
                }
                if (hostcfg_modprobe_text(&h, text, text_size) >= 0)
                        printf("%s\n", text);
                if (hostcfg_modules_text(&h, text, text_size) >= 0)
                        printf("%s\n", text);
                fflush(stdout);
                if (!confirm(strcmp(root, "/") == 0 ? "" : root)) {
                        cli_log("host-config: nothing written");
                        return EXIT_FAILURE_RUN;
                }
        }
        if (hostcfg_write(&h, root, &err) < 0) {
                cli_print_error(&err);
                return EXIT_FAILURE_RUN;
        }
        if (hostcfg_cmdline(&h, text, text_size) < 0)
                return EXIT_FAILURE_RUN;
        printf("Wrote %s%s" HOSTCFG_MODPROBE_FILE " and %s%s" HOSTCFG_MODULES_FILE ".\n"
               "Still to do by hand:\n"
               "  1. add to GRUB_CMDLINE_LINUX_DEFAULT in /etc/default/grub:\n"
               "       %s\n"
               "  2. update-grub   (or: grub-mkconfig -o /boot/grub/grub.cfg)\n"
               "  3. update-initramfs -u\n"
               "  4. reboot\n",
               strcmp(root, "/") == 0 ? "" : root, "/", strcmp(root, "/") == 0 ? "" : root, "/", text);
        return EXIT_OK;
}
