/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The command-line layer: one cmd_*.c per subcommand, and the only code
 * (with the supervisor) that prints. Exit statuses are part of the interface
 * (documented in vfio-launch(1)).
 */
#pragma once

#include <stdbool.h>

#include "base/error.h"
#include "profile/profile.h"

enum {
        EXIT_OK = 0,
        EXIT_FAILURE_RUN = 1, /* the host or QEMU failed; the host was restored */
        EXIT_INVALID = 2,     /* bad usage or a bad profile; nothing was changed */
};

/* One option of a subcommand, beyond --help (which every one has). */
struct cli_option {
        const char *name; /* the long name, "force"; NULL ends a list */
        int key;          /* its short letter ('f'), or a value above 255 when it has none */
        bool has_arg;
};

/* A subcommand's command line. */
struct cli_command {
        const char *name;                  /* "stop" */
        void (*help)(void);                /* prints the --help text */
        const struct cli_option *options;  /* NULL = --help only */
        unsigned min_operands, max_operands;
        const char *operands;              /* for the error: "one PROFILE argument" */
};

#define CLI_PARSED (-1)

/* Parse a subcommand's argv (argv[0] is the command's own name) the way cmd
 * says: --help prints the help and ends with EXIT_OK; an unknown option or a
 * wrong number of operands is reported and ends with EXIT_INVALID. Every
 * other option goes to on_option(key, optarg, userdata), which returns 0 or
 * the exit status to end with (it printed why); on_option may be NULL when
 * cmd has no options. Returns CLI_PARSED with *ret_first the index of the
 * first operand, or the exit status to end with. */
int cli_parse(const struct cli_command *cmd, int argc, char **argv,
              int (*on_option)(int key, const char *arg, void *userdata), void *userdata, int *ret_first);

/* A cli_parse() on_option for commands whose options are all flags: sets
 * *(bool *) userdata. */
int cli_set_flag(int key, const char *arg, void *userdata);

/* Load the profile at path into a new struct *ret (the caller frees it),
 * printing its warnings when show_warnings. EXIT_OK, or the exit status to
 * end with (the error printed): EXIT_INVALID for a bad profile. */
int cli_load_profile(const char *path, bool show_warnings, struct profile **ret);

/* "vfio-launch: " + formatted error, one line on stderr. */
void cli_print_error(const struct vl_error *e);
/* "vfio-launch: warning: MSG" for each collected warning. */
void cli_print_warnings(const struct vl_warnings *w);
void cli_log(const char *fmt, ...) _printf_(1, 2);
/* Text that came from elsewhere (QEMU's log, a guest), to stderr with every
 * control character but newline and tab escaped as \xNN: a terminal must not
 * take it for commands (a title, a clear screen). */
void cli_print_untrusted(const char *text);
void cli_log_error(const char *fmt, ...) _printf_(1, 2);

struct host_roots;
#define CLI_STATUS_MAX 2048 /* bytes of a supervisor's status reply */

/* The status reply (JSON) of the running VM `name`, through its control
 * socket (cmd_ctl.c). 0, -EINVAL (not a VM name), or the errors of
 * sup_control_request(): -ENOENT / -ECONNREFUSED when it is not running. */
int cli_vm_status(const struct host_roots *roots, const char *name, char *buf, size_t size);

int cmd_check(int argc, char **argv);
int cmd_print(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_bind(int argc, char **argv); /* bind and unbind */
int cmd_recover(int argc, char **argv);
int cmd_status(int argc, char **argv);
int cmd_stop(int argc, char **argv);
int cmd_detach(int argc, char **argv);
int cmd_attach(int argc, char **argv);
int cmd_usb(int argc, char **argv);
int cmd_list(int argc, char **argv);
int cmd_doctor(int argc, char **argv);
int cmd_groups(int argc, char **argv);
int cmd_host_config(int argc, char **argv);
int cmd_desktop(int argc, char **argv);
int cmd_top(int argc, char **argv);
int cmd_metrics(int argc, char **argv);
int cmd_import(int argc, char **argv);
int cmd_init(int argc, char **argv);
