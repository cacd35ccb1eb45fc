/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* placeholder until the argv builder lands */
#include "cli.h"
int cmd_print(int argc, char **argv)
{
        cli_log_error("print: not yet available");
        return EXIT_FAILURE_RUN;
}
