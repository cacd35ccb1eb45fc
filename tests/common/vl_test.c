/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Skip reasons and the 77 exit status for cmocka tests: see vl_test.h. */
#include <errno.h> /* program_invocation_short_name */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vl_test.h"

#define MAX_REASONS 32
#define REASON_MAX 256

static struct {
        char text[REASON_MAX];
        unsigned cases;
} reasons[MAX_REASONS];
static unsigned n_reasons, n_skipped, n_unkept; /* unkept: past MAX_REASONS */

void vl_skip_at(const char *file, int line, const char *fmt, ...)
{
        char text[REASON_MAX];
        va_list ap;
        unsigned i;

        va_start(ap, fmt);
        vsnprintf(text, sizeof(text), fmt, ap);
        va_end(ap);
        n_skipped++;
        for (i = 0; i < n_reasons && strcmp(reasons[i].text, text) != 0; i++)
                ;
        if (i == n_reasons && n_reasons < MAX_REASONS)
                snprintf(reasons[n_reasons++].text, REASON_MAX, "%s", text);
        if (i < n_reasons)
                reasons[i].cases++;
        else
                n_unkept++;
        print_message("skipping: %s\n", text);
        _skip(file, line); /* jumps back into cmocka's runner */
        abort();           /* not reached: outside a test _skip() exits */
}

int vl_run_group(const char *name, const struct CMUnitTest *tests, size_t n,
                 CMFixtureFunction setup, CMFixtureFunction teardown)
{
        int failed = _cmocka_run_group_tests(name, tests, n, setup, teardown);

        for (unsigned i = 0; i < n_reasons; i++)
                printf("SKIP: %s (%u case%s)\n", reasons[i].text, reasons[i].cases,
                       reasons[i].cases == 1 ? "" : "s");
        if (n_unkept > 0)
                printf("SKIP: %u more cases, for reasons past the %d vl_test.c keeps\n", n_unkept,
                       MAX_REASONS);
        if (n_skipped > 0)
                printf("%s: %u of %zu cases skipped%s\n", program_invocation_short_name, n_skipped, n,
                       failed ? "" : ": exit status 77 (skipped)");
        fflush(stdout);
        if (failed)
                return 1;
        return n_skipped > 0 ? 77 : 0;
}
