/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* cpuset parsing and pin_check() against a fake devices/system/cpu tree:
 * offline CPUs refused with the JSON path, isolation and split SMT siblings
 * warned about. (pin_apply() runs against a real QEMU in tests/lifecycle.) */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <cmocka.h>

#include "base/cpuset.h"
#include "run/pin.h"
#include "vl_tmp.h"

static char root[64];

static void put(const char *rel, const char *content)
{
        char path[256], dir[300];
        FILE *f;

        snprintf(path, sizeof(path), "%s/devices/system/cpu/%s", root, rel);
        snprintf(dir, sizeof(dir), "mkdir -p \"$(dirname %s)\"", path);
        assert_int_equal(system(dir), 0);
        f = fopen(path, "we");
        assert_non_null(f);
        fputs(content, f);
        fclose(f);
}

/* A 4-CPU host, 2 cores x 2 threads: siblings 0,2 and 1,3; CPU 3 offline. */
static int setup(void **state)
{
        snprintf(root, sizeof(root), "/tmp/vl-test-pin.XXXXXX");
        if (!mkdtemp(root))
                return -1;
        put("online", "0-2\n");
        put("isolated", "\n");
        put("cpu0/topology/thread_siblings_list", "0,2\n");
        put("cpu2/topology/thread_siblings_list", "0,2\n");
        put("cpu1/topology/thread_siblings_list", "1,3\n");
        return 0;
}

static int teardown(void **state)
{
        return vl_rm_tree(root);
}

static void test_cpuset(void **state)
{
        struct cpuset c;
        char buf[64];

        assert_int_equal(cpuset_parse("0-3,8, 10-11\n", &c), 0);
        assert_int_equal(cpuset_count(&c), 7);
        assert_true(cpuset_has(&c, 8) && !cpuset_has(&c, 9));
        assert_int_equal(cpuset_format(&c, buf, sizeof(buf)), 0);
        assert_string_equal(buf, "0-3,8,10-11");
        assert_int_equal(cpuset_parse("3-1", &c), -EINVAL);
        assert_int_equal(cpuset_parse("", &c), -EINVAL);
        assert_int_equal(cpuset_parse("1,", &c), -EINVAL);
        assert_int_equal(cpuset_parse("1x", &c), -EINVAL);
        assert_int_equal(cpuset_parse("-1", &c), -EINVAL);
        assert_int_equal(cpuset_parse("1024", &c), -ERANGE);
        /* Failures leave c as it was; a buffer too small is an error, not a cut list. */
        assert_int_equal(cpuset_format(&c, buf, 4), -ENAMETOOLONG);
}

static struct profile *pinned(const char *v0, const char *v1)
{
        struct profile *p = calloc(1, sizeof(*p));

        profile_init(p, "pin");
        p->cpu.vcpus = p->cpu.cores = 2;
        p->cpu.pinned = true;
        p->cpu.n_pin = 2;
        assert_int_equal(cpuset_parse(v0, &p->cpu.pin[0]), 0);
        assert_int_equal(cpuset_parse(v1, &p->cpu.pin[1]), 0);
        return p;
}

static void test_offline_refused(void **state)
{
        struct profile *p = pinned("0", "3");
        struct vl_error e = {};
        struct vl_warnings w = {};

        assert_int_equal(pin_check(p, root, &e, &w), -EINVAL);
        assert_string_equal(e.path, "$.cpu.pin[1]");
        assert_non_null(strstr(e.msg, "host CPU 3"));
        assert_non_null(strstr(e.msg, "online: 0-2"));
        p->cpu.pin[1] = p->cpu.pin[0];
        assert_int_equal(cpuset_parse("1-3", &p->cpu.emulator_pin), 0);
        p->cpu.emulator_pinned = true;
        assert_int_equal(pin_check(p, root, &e, &w), -EINVAL);
        assert_string_equal(e.path, "$.cpu.emulator_pin");
        free(p);
}

/* An I/O thread's CPUs, alone (no vCPU pinned): online, or refused at its
 * JSON path. */
static void test_iothread_offline_refused(void **state)
{
        struct profile *p = calloc(1, sizeof(*p));
        struct vl_error e = {};
        struct vl_warnings w = {};

        profile_init(p, "pin");
        p->n_iothreads = 2;
        p->iothreads[1].pinned = true;
        assert_int_equal(cpuset_parse("2-3", &p->iothreads[1].pin), 0);
        assert_int_equal(pin_check(p, root, &e, &w), -EINVAL);
        assert_string_equal(e.path, "$.iothreads[1].pin");
        assert_non_null(strstr(e.msg, "host CPU 3"));
        assert_int_equal(cpuset_parse("1-2", &p->iothreads[1].pin), 0);
        assert_int_equal(pin_check(p, root, &e, &w), 0);
        free(p);
}

static void test_warnings(void **state)
{
        struct profile *p = pinned("0", "2");
        struct vl_error e = {};
        struct vl_warnings w = {};

        /* Both siblings of core 0, not isolated: one warning. */
        assert_int_equal(pin_check(p, root, &e, &w), 0);
        assert_int_equal(w.n, 1);
        assert_non_null(strstr(w.msg[0], "host CPUs 0,2 are not isolated"));

        /* Isolated, but CPU 1's sibling 3 is left to the host. */
        put("isolated", "0-2\n");
        free(p);
        p = pinned("0", "1");
        w = (struct vl_warnings) {};
        assert_int_equal(pin_check(p, root, &e, &w), 0);
        assert_int_equal(w.n, 1);
        assert_non_null(strstr(w.msg[0], "shares a core with CPU 2"));
        free(p);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_cpuset),
                cmocka_unit_test_setup_teardown(test_offline_refused, setup, teardown),
                cmocka_unit_test_setup_teardown(test_iothread_offline_refused, setup, teardown),
                cmocka_unit_test_setup_teardown(test_warnings, setup, teardown),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
