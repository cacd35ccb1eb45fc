/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * `vfio-launch import DOMAIN.xml [-o NAME.json]`: a libvirt domain XML to a
 * profile (import/import.h). Prints the profile, then on stderr what was
 * not mapped (exit 1) and what was mapped loosely (notes, exit 0).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "base/fs.h"
#include "base/pci_addr.h"
#include "base/roots.h"
#include "cli/cli.h"
#include "host/pci.h"
#include "import/import.h"

enum {
        EXIT_OMITTED = 1, /* a profile, with omissions listed */
        OPT_SYSFS_ROOT = 0x100,
};

static void help(void)
{
        printf("Usage: vfio-launch import [-o PROFILE.json] DOMAIN.xml\n"
               "\n"
               "Turn a libvirt domain XML (virsh dumpxml NAME > DOMAIN.xml) into a profile,\n"
               "on standard output or in a new file. DOMAIN.xml '-' reads standard input:\n"
               "virsh dumpxml NAME | vfio-launch import -\n"
               "Every part of the domain the profile cannot hold is listed on standard\n"
               "error with its XPath and why; notes say what was mapped loosely (a libvirt network becomes user-mode NAT). A hostdev's\n"
               "vendor:device is read from this host, so that the launcher refuses anything\n"
               "else at that address. Check the result with 'vfio-launch check'.\n"
               "\n"
               "  -o, --output FILE  write the profile to FILE, which must not exist\n"
               "\n"
               "Exit status: 0 everything mapped, 1 mapped with omissions listed, 2 not a\n"
               "domain, malformed XML (FILE:LINE:COL: what) or invalid usage.\n");
}

struct opts {
        const char *output;
        const char *sysfs_root;
};

static int on_option(int key, const char *arg, void *userdata)
{
        struct opts *o = userdata;

        if (key == 'o')
                o->output = arg;
        else if (key == OPT_SYSFS_ROOT)
                o->sysfs_root = arg;
        return 0;
}

static int pci_ids(const char *addr, char ret[10], void *userdata)
{
        struct pci_device d;
        struct pci_addr a;
        int r;

        if (pci_addr_parse(addr, &a) < 0)
                return -EINVAL;
        r = pci_device_read(userdata, &a, &d, NULL);
        if (r < 0)
                return r;
        snprintf(ret, 10, "%04x:%04x", d.vendor_id, d.device_id);
        return 0;
}

static void print_lines(const char *what, const struct import_lines *l)
{
        for (size_t i = 0; i < l->n; i++)
                cli_log("%s: %s", what, l->v[i]);
}

int cmd_import(int argc, char **argv)
{
        static const struct cli_option options[] = {
                { "output", 'o', true },
                /* For the tests: a fake host's /sys (read only). */
                { "sysfs-root", OPT_SYSFS_ROOT, true },
                {},
        };
        static const struct cli_command cmd = {
                .name = "import", .help = help, .options = options, .min_operands = 1, .max_operands = 1,
                .operands = "one DOMAIN.xml argument",
        };
        struct host_roots roots;
        struct opts o = {};
        struct vl_error err = {};
        struct import_result res = {};
        _cleanup_free_ char *text = NULL;
        struct import_host host = { .pci_ids = pci_ids };
        int first, r, status;

        r = cli_parse(&cmd, argc, argv, on_option, &o, &first);
        if (r != CLI_PARSED)
                return r;
        host_roots_init(&roots);
        host.userdata = (void *) (o.sysfs_root ?: roots.sysfs);
        if (strcmp(argv[first], "-") == 0)
                r = import_domain_fd("stdin", STDIN_FILENO, &host, &res, &err);
        else
                r = import_domain_file(argv[first], &host, &res, &err);
        if (r < 0) {
                cli_print_error(&err);
                /* Not the file's fault: memory, or libxml2 missing (base/dl.h). */
                return r == -ENOMEM || r == -ELIBACC || r == -ELIBBAD ? EXIT_FAILURE_RUN : EXIT_INVALID;
        }
        print_lines("not imported", &res.omitted);
        print_lines("note", &res.notes);
        status = res.omitted.n ? EXIT_OMITTED : EXIT_OK;
        text = json_dumps(res.profile, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        import_result_done(&res);
        if (!text) {
                cli_log_error("out of memory");
                return EXIT_FAILURE_RUN;
        }
        if (o.output) {
                /* A new file only: never over a profile someone wrote. */
                _cleanup_close_ int fd = open(o.output, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0644);

                if (fd < 0) {
                        if (errno == EEXIST)
                                cli_log_error("'%s' exists: refused, it is not overwritten", o.output);
                        else
                                cli_log_error("cannot create '%s': %m", o.output);
                        return EXIT_INVALID;
                }
                r = fs_write_full(fd, text, strlen(text));
                if (r >= 0)
                        r = fs_write_full(fd, "\n", 1);
                if (r < 0) {
                        errno = -r;
                        cli_log_error("cannot write '%s': %m", o.output);
                        (void) unlink(o.output); /* ours: made by the O_EXCL above */
                        return EXIT_FAILURE_RUN;
                }
        } else if (printf("%s\n", text) < 0 || fflush(stdout) != 0) {
                cli_log_error("cannot write the profile to standard output: %m");
                return EXIT_FAILURE_RUN;
        }
        return status;
}
