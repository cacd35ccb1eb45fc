/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The command-line layer: one cmd_*.c per subcommand, and the only code
 * (with the supervisor) that prints. Exit statuses are part of the interface
 * (documented in vfio-launch(1)).
 */
#pragma once

#include "base/error.h"

enum {
        EXIT_OK = 0,
        EXIT_FAILURE_RUN = 1, /* the host or QEMU failed; the host was restored */
        EXIT_INVALID = 2,     /* bad usage or a bad profile; nothing was changed */
};

/* "vfio-launch: " + formatted error, one line on stderr. */
void cli_print_error(const struct vl_error *e);
/* "vfio-launch: warning: MSG" for each collected warning. */
void cli_print_warnings(const struct vl_warnings *w);
void cli_log(const char *fmt, ...) _printf_(1, 2);
void cli_log_error(const char *fmt, ...) _printf_(1, 2);

int cmd_check(int argc, char **argv);
int cmd_print(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_bind(int argc, char **argv); /* bind and unbind */
int cmd_recover(int argc, char **argv);
int cmd_status(int argc, char **argv);
int cmd_stop(int argc, char **argv);
int cmd_detach(int argc, char **argv);
int cmd_attach(int argc, char **argv);
int cmd_list(int argc, char **argv);
int cmd_doctor(int argc, char **argv);
int cmd_groups(int argc, char **argv);
int cmd_host_config(int argc, char **argv);
int cmd_desktop(int argc, char **argv);
