/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* `vfio-launch check PROFILE`: load and validate a profile, touch nothing. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli/cli.h"
#include "profile/profile_json.h"

static void help(void)
{
        printf("Usage: vfio-launch check PROFILE\n"
               "\n"
               "Load and validate PROFILE without touching the host. Prints warnings;\n"
               "exits 0 when the profile is valid, 2 with one line naming the file, line,\n"
               "column and JSON path when it is not.\n");
}

int cmd_check(int argc, char **argv)
{
        static const struct option options[] = {
                { "help", no_argument, NULL, 'h' },
                {},
        };
        struct vl_error err = {};
        struct vl_warnings warn = {};
        _cleanup_free_ struct profile *p = NULL;
        int c;

        while ((c = getopt_long(argc, argv, "+h", options, NULL)) >= 0) {
                switch (c) {
                case 'h':
                        help();
                        return EXIT_OK;
                default:
                        return EXIT_INVALID;
                }
        }
        if (argc - optind != 1) {
                cli_log_error("check: expected one PROFILE argument (see 'vfio-launch check --help')");
                return EXIT_INVALID;
        }
        p = malloc(sizeof(*p));
        if (!p) {
                cli_log_error("out of memory");
                return EXIT_FAILURE_RUN;
        }
        if (profile_load(argv[optind], p, &err, &warn) < 0) {
                cli_print_error(&err);
                return EXIT_INVALID;
        }
        cli_print_warnings(&warn);
        printf("%s: profile \"%s\" is valid\n", argv[optind], p->name);
        return EXIT_OK;
}
