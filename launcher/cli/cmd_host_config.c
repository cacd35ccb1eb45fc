/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * `vfio-launch host-config [--write [--root DIR] [--yes]] PROFILE...`: print
 * the boot-time host set-up the profiles need (hostcfg.h), or write its two
 * modprobe/modules-load files after a confirmation. GRUB is never written:
 * a wrong kernel command line can leave a machine unbootable, so that step
 * stays the user's.
 */
#include <getopt.h>
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

static int usage(void)
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
        return EXIT_OK;
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

int cmd_host_config(int argc, char **argv)
{
        static const struct option options[] = {
                { "help", no_argument, NULL, 'h' },
                { "write", no_argument, NULL, 'w' },
                { "root", required_argument, NULL, 'r' },
                { "yes", no_argument, NULL, 'y' },
                /* For the tests: a fake host. */
                { "sysfs-root", required_argument, NULL, OPT_SYSFS_ROOT },
                { "proc-root", required_argument, NULL, OPT_PROC_ROOT },
                {},
        };
        _cleanup_free_ struct profile *p = NULL;
        _cleanup_free_ char *text = NULL;
        const char *root = NULL, *sysfs_root = "/sys", *proc_root = "/proc";
        bool write = false, yes = false;
        struct vl_error err = {};
        struct hostcfg h;
        const size_t text_size = 16384;
        int opt, r;

        while ((opt = getopt_long(argc, argv, "+hwr:y", options, NULL)) >= 0) {
                switch (opt) {
                case 'h':
                        return usage();
                case 'w':
                        write = true;
                        break;
                case 'r':
                        root = optarg;
                        break;
                case 'y':
                        yes = true;
                        break;
                case OPT_SYSFS_ROOT:
                        sysfs_root = optarg;
                        break;
                case OPT_PROC_ROOT:
                        proc_root = optarg;
                        break;
                default:
                        return EXIT_INVALID;
                }
        }
        if (argc - optind < 1) {
                cli_log_error("host-config: expected a PROFILE argument (see 'vfio-launch host-config --help')");
                return EXIT_INVALID;
        }
        if (argc - optind > HOSTCFG_PROFILES_MAX) {
                cli_log_error("host-config: at most %d profiles", HOSTCFG_PROFILES_MAX);
                return EXIT_INVALID;
        }
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
        for (int i = optind; i < argc; i++) {
                struct hostcfg one;
                /* No warnings: they are about the run (`check` shows them), not the host. */
                if (profile_load(argv[i], p, &err, NULL) < 0) {
                        cli_print_error(&err);
                        return EXIT_INVALID;
                }
                r = hostcfg_collect(p, sysfs_root, proc_root, i == optind ? &h : &one, &err);
                if (r >= 0 && i > optind)
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
