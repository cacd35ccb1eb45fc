/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdarg.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include "base/trace.h"

bool trace_on = false;

void trace_enable(void)
{
        trace_on = true;
}

void trace_step(const char *fmt, ...)
{
        char buf[512];
        struct timespec ts;
        va_list ap;
        int n;

        (void) clock_gettime(CLOCK_MONOTONIC, &ts);
        n = snprintf(buf, sizeof(buf), "vfio-launch: trace %lld.%03ld ",
                     (long long) ts.tv_sec * 1000 + ts.tv_nsec / 1000000, ts.tv_nsec % 1000000 / 1000);
        va_start(ap, fmt);
        if (n > 0 && (size_t) n < sizeof(buf))
                n += vsnprintf(buf + n, sizeof(buf) - (size_t) n, fmt, ap);
        va_end(ap);
        if (n <= 0)
                return;
        if ((size_t) n >= sizeof(buf) - 1)
                n = (int) sizeof(buf) - 2;
        buf[n++] = '\n';
        /* One write: lines of the launcher and its children stay whole. */
        (void) !write(STDERR_FILENO, buf, (size_t) n);
}
