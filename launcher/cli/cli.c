/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Printing helpers for the CLI: every user-facing line starts with the
 * program name, so it reads well in a terminal and in the journal. */
#include <stdarg.h>
#include <stdio.h>

#include "cli/cli.h"

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

void cli_log_error(const char *fmt, ...)
{
        va_list ap;

        va_start(ap, fmt);
        vlog(fmt, ap);
        va_end(ap);
}
