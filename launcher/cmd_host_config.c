/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* placeholder: being written */
#include "cli.h"
int cmd_host_config(int argc, char **argv)
{
        cli_log_error("%s: not available yet", argv[0]);
        return EXIT_FAILURE_RUN;
}
