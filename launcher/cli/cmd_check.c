/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* `vfio-launch check PROFILE`: load and validate a profile, touch nothing. */
#include <stdio.h>
#include <stdlib.h>

#include "cli/cli.h"

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
        static const struct cli_command cmd = {
                .name = "check", .help = help, .min_operands = 1, .max_operands = 1,
                .operands = "one PROFILE argument",
        };
        _cleanup_free_ struct profile *p = NULL;
        int first, r;

        r = cli_parse(&cmd, argc, argv, NULL, NULL, &first);
        if (r != CLI_PARSED)
                return r;
        r = cli_load_profile(argv[first], true, &p);
        if (r != EXIT_OK)
                return r;
        printf("%s: profile \"%s\" is valid\n", argv[first], p->name);
        return EXIT_OK;
}
