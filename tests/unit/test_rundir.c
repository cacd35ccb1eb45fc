/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The VM name's lock: one instance per name, also when an instance lets go
 * at the worst moment. The interleaving is made deterministic with the
 * lock's test hook, not with timing.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "host/rundir.h"

static char run[64];
static int first_fd = -1;

static int setup(void **state)
{
        snprintf(run, sizeof(run), "/tmp/vl-rundir-XXXXXX");
        return mkdtemp(run) ? 0 : -1;
}

static int teardown(void **state)
{
        char cmd[128];

        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", run);
        return system(cmd) == 0 ? 0 : -1;
}

static void test_one_holder(void **state)
{
        struct vl_error e = {};
        pid_t holder = 0;
        int a, b;

        a = rundir_lock(run, "vm", &holder, &e);
        assert_true(a >= 0);
        assert_int_equal(rundir_lock(run, "vm", &holder, &e), -EBUSY);
        assert_int_equal(holder, getpid());
        assert_non_null(strstr(e.msg, "already running"));
        rundir_unlock(run, "vm", a);
        b = rundir_lock(run, "vm", &holder, &e);
        assert_true(b >= 0);
        rundir_unlock(run, "vm", b);
}

/* The holder lets go right after the second instance opened the lock file
 * and before it locks it: the file the second one locks has just been
 * unlinked. It must notice and lock the file at the path, so that a third
 * instance is refused — before, the second held a lock on nothing and the
 * third took the name too (two launchers, two QEMUs, one VARS file). */
static void unlock_first(void)
{
        rundir_lock_test_hook = NULL;
        rundir_unlock(run, "vm", first_fd);
}

static void test_holder_leaves_between_open_and_lock(void **state)
{
        struct vl_error e = {};
        pid_t holder = 0;
        int second, third;

        first_fd = rundir_lock(run, "vm", &holder, &e);
        assert_true(first_fd >= 0);
        rundir_lock_test_hook = unlock_first;
        second = rundir_lock(run, "vm", &holder, &e);
        assert_null(rundir_lock_test_hook); /* the interleaving happened */
        assert_true(second >= 0);
        third = rundir_lock(run, "vm", &holder, &e);
        assert_int_equal(third, -EBUSY);
        rundir_unlock(run, "vm", second);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_one_holder, setup, teardown),
                cmocka_unit_test_setup_teardown(test_holder_leaves_between_open_and_lock, setup, teardown),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
