/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Skips that cannot hide. cmocka's skip() marks a case skipped, but the
 * program still exits 0 and ctest prints "Passed": a test that could not
 * run looks like one that passed. Here a skip needs a reason, and the group
 * runner turns "nothing failed, something skipped" into exit status 77,
 * which ctest shows as skipped (every test has SKIP_RETURN_CODE 77, see
 * tests/CMakeLists.txt) and tests/run-all.sh checks against
 * tests/skips.allow.
 *
 *      if (access(QEMU, X_OK) < 0)
 *              vl_skip("%s not installed", QEMU);      // does not return
 *      ...
 *      return vl_run_tests(tests, NULL, NULL);         // 0, 1 or 77
 *
 * Each distinct reason is printed once at the end as "SKIP: REASON (N
 * cases)". A plain skip() does not compile where this header is included;
 * elsewhere ctest fails a test whose output has cmocka's "[  SKIPPED ]".
 */
#ifndef VL_TEST_H
#define VL_TEST_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

/* Record the reason, then cmocka's skip of the running case. */
_Noreturn void vl_skip_at(const char *file, int line, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));
#define vl_skip(...) vl_skip_at(__FILE__, __LINE__, __VA_ARGS__)

/* cmocka_run_group_tests(), with an exit status for ctest: 1 if a case
 * failed, else 77 if one was skipped, else 0. */
int vl_run_group(const char *name, const struct CMUnitTest *tests, size_t n,
                 CMFixtureFunction setup, CMFixtureFunction teardown);
#define vl_run_tests(tests, setup, teardown) \
        vl_run_group(#tests, tests, sizeof(tests) / sizeof((tests)[0]), setup, teardown)

#undef skip
#define skip() use_vl_skip_with_a_reason_instead_of_skip()

#endif
