/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * `vfio-launch groups [--json]`: every IOMMU group and its devices (address,
 * class, ids, names, driver) — the listing every passthrough guide asks for.
 * Read-only. Exit 1 when the IOMMU is off.
 */
#include <stdio.h>
#include <stdlib.h>

#include "cli/cli.h"
#include "report/doctor.h"

static void help(void)
{
        printf("Usage: vfio-launch groups [--json]\n"
               "\n"
               "List every IOMMU group with its devices: address, class, vendor:device ids,\n"
               "names from pci.ids and the driver in use. Changes nothing.\n"
               "\n"
               "  --json  as a JSON object\n");
}

int cmd_groups(int argc, char **argv)
{
        static const struct cli_option options[] = { { "json", 'j', false }, {} };
        static const struct cli_command cmd = {
                .name = "groups", .help = help, .options = options, .operands = "no arguments",
        };
        _cleanup_free_ char *text = NULL;
        struct host_roots roots;
        struct vl_error err = {};
        bool as_json = false;
        int first, r;

        r = cli_parse(&cmd, argc, argv, cli_set_flag, &as_json, &first);
        if (r != CLI_PARSED)
                return r;
        host_roots_init(&roots);
        if (doctor_groups(roots.sysfs, NULL, as_json, &text, &err) < 0) {
                cli_print_error(&err);
                return EXIT_FAILURE_RUN;
        }
        fputs(text, stdout);
        if (as_json)
                putchar('\n');
        return EXIT_OK;
}
