/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Printing helpers for the CLI: every user-facing line starts with the
 * program name, so it reads well in a terminal and in the journal. */
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "profile/profile_json.h"

void cli_print_error(const struct vl_error *e)
{
        char buf[1024];

        vl_error_format(e, buf, sizeof(buf));
        fprintf(stderr, "vfio-launch: %s\n", buf);
}

void cli_print_warnings(const struct vl_warnings *w)
{
        if (!w)
                return;
        for (unsigned i = 0; i < w->n; i++)
                fprintf(stderr, "vfio-launch: warning: %s\n", w->msg[i]);
        if (w->dropped)
                fprintf(stderr, "vfio-launch: warning: %u more warnings not shown\n", w->dropped);
}

_printf_(1, 0) static void vlog(const char *fmt, va_list ap)
{
        fputs("vfio-launch: ", stderr);
        vfprintf(stderr, fmt, ap);
        fputc('\n', stderr);
}

void cli_log(const char *fmt, ...)
{
        va_list ap;

        va_start(ap, fmt);
        vlog(fmt, ap);
        va_end(ap);
}

void cli_print_untrusted(const char *text)
{
        for (const unsigned char *c = (const unsigned char *) text; *c; c++) {
                if (*c == '\n' || *c == '\t' || (*c >= ' ' && *c != 0x7f))
                        fputc(*c, stderr);
                else
                        fprintf(stderr, "\\x%02x", *c);
        }
}

void cli_log_error(const char *fmt, ...)
{
        va_list ap;

        va_start(ap, fmt);
        vlog(fmt, ap);
        va_end(ap);
}

#define CLI_OPTIONS_MAX 15

int cli_parse(const struct cli_command *cmd, int argc, char **argv,
              int (*on_option)(int key, const char *arg, void *userdata), void *userdata, int *ret_first)
{
        struct option longopts[CLI_OPTIONS_MAX + 2] = { { "help", no_argument, NULL, 'h' } };
        char shortopts[2 * CLI_OPTIONS_MAX + 4] = "+h";
        size_t n = 1, s = 2;
        unsigned operands;
        int opt, r;

        for (const struct cli_option *o = cmd->options; o && o->name; o++) {
                if (n > CLI_OPTIONS_MAX)
                        abort(); /* a programming error: the table is static */
                longopts[n++] = (struct option) { o->name, o->has_arg ? required_argument : no_argument, NULL,
                                                  o->key };
                if (o->key > 0 && o->key < 256) {
                        shortopts[s++] = (char) o->key;
                        if (o->has_arg)
                                shortopts[s++] = ':';
                }
        }
        shortopts[s] = '\0';
        optind = 1;
        while ((opt = getopt_long(argc, argv, shortopts, longopts, NULL)) >= 0) {
                if (opt == 'h') {
                        cmd->help();
                        return EXIT_OK;
                }
                if (opt == '?' || opt == ':' || !on_option)
                        return EXIT_INVALID; /* getopt said what was wrong */
                r = on_option(opt, optarg, userdata);
                if (r != 0)
                        return r;
        }
        operands = (unsigned) (argc - optind);
        if (operands < cmd->min_operands || operands > cmd->max_operands) {
                cli_log_error("%s: expected %s (see 'vfio-launch %s --help')", cmd->name, cmd->operands,
                              cmd->name);
                return EXIT_INVALID;
        }
        *ret_first = optind;
        return CLI_PARSED;
}

int cli_set_flag(int key, const char *arg, void *userdata)
{
        *(bool *) userdata = true;
        return 0;
}

int cli_load_profile(const char *path, bool show_warnings, struct profile **ret)
{
        struct vl_warnings warn = {};
        struct vl_error err = {};
        struct profile *p = malloc(sizeof(*p));

        if (!p) {
                cli_log_error("out of memory");
                return EXIT_FAILURE_RUN;
        }
        if (profile_load(path, p, &err, &warn) < 0) {
                cli_print_error(&err);
                free(p);
                return EXIT_INVALID;
        }
        if (show_warnings)
                cli_print_warnings(&warn);
        *ret = p;
        return EXIT_OK;
}
