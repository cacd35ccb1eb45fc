/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * `vfio-launch groups [--json]`: every IOMMU group and its devices (address,
 * class, ids, names, driver) — the listing every passthrough guide asks for.
 * Read-only. Exit 1 when the IOMMU is off.
 */
#include <getopt.h>
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
        static const struct option options[] = {
                { "help", no_argument, NULL, 'h' },
                { "json", no_argument, NULL, 'j' },
                {},
        };
        _cleanup_free_ char *text = NULL;
        struct vl_error err = {};
        bool as_json = false;
        int opt;

        while ((opt = getopt_long(argc, argv, "+hj", options, NULL)) >= 0) {
                switch (opt) {
                case 'h':
                        help();
                        return EXIT_OK;
                case 'j':
                        as_json = true;
                        break;
                default:
                        return EXIT_INVALID;
                }
        }
        if (optind != argc) {
                cli_log_error("groups: takes no arguments (see 'vfio-launch groups --help')");
                return EXIT_INVALID;
        }
        if (doctor_groups("/sys", NULL, as_json, &text, &err) < 0) {
                cli_print_error(&err);
                return EXIT_FAILURE_RUN;
        }
        fputs(text, stdout);
        if (as_json)
                putchar('\n');
        return EXIT_OK;
}
