/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Who QEMU runs as: the profile's user, root only when allowed, and with
 * devices never an account unrelated services share unless allowed —
 * every process of that account could trace QEMU and take its /dev/vfio
 * fds. Uses this host's user database (root and nobody exist on Debian).
 */
#include <errno.h>
#include <pwd.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "host/runas.h"
#include "vl_test.h"

static void profile_with(struct profile *p, const char *user, bool hostdev)
{
        profile_init(p, "vm1");
        strcpy(p->user, user);
        if (hostdev)
                p->n_hostdevs = 1;
}

static void test_shared_account_with_devices(void **state)
{
        struct profile p;
        struct runas r;
        struct vl_error e = {};
        struct vl_warnings w = {};

        if (!getpwnam("nobody"))
                vl_skip("no user nobody on this host");
        profile_with(&p, "nobody", true);
        assert_int_equal(runas_resolve(&p, 0, NULL, NULL, &r, &e, &w), -EPERM);
        assert_non_null(strstr(e.msg, "an account other services share"));
        assert_non_null(strstr(e.msg, "useradd --system --no-create-home --shell /usr/sbin/nologin --groups kvm vfio-vm1"));
        assert_non_null(strstr(e.msg, "\"allow_shared_user\": true"));

        p.allow_shared_user = true;
        assert_int_equal(runas_resolve(&p, 0, NULL, NULL, &r, &e, &w), 0);
        assert_int_equal(r.uid, 65534);
        assert_int_equal(w.n, 1);
        assert_non_null(strstr(w.msg[0], "every process of that account can reach them"));
}

static void test_shared_account_without_devices(void **state)
{
        struct profile p;
        struct runas r;
        struct vl_error e = {};
        struct vl_warnings w = {};

        if (!getpwnam("nobody"))
                vl_skip("no user nobody on this host");
        profile_with(&p, "nobody", false);
        assert_int_equal(runas_resolve(&p, 0, NULL, NULL, &r, &e, &w), 0);
        assert_int_equal(w.n, 0);
}

static void test_root(void **state)
{
        struct profile p;
        struct runas r;
        struct vl_error e = {};
        struct vl_warnings w = {};

        profile_with(&p, "root", true);
        assert_int_equal(runas_resolve(&p, 0, NULL, NULL, &r, &e, &w), -EPERM);
        assert_non_null(strstr(e.msg, "QEMU would run as root"));
        p.allow_root = true;
        assert_int_equal(runas_resolve(&p, 0, NULL, NULL, &r, &e, &w), 0);
        assert_int_equal(r.uid, 0);
}

static void test_shared_names(void **state)
{
        assert_true(runas_shared_account(65534, "whoever"));
        assert_true(runas_shared_account(99, "nobody"));
        assert_true(runas_shared_account(65534, "nfsnobody"));
        assert_false(runas_shared_account(1000, "alice"));
        assert_false(runas_shared_account(999, "vfio-win10"));
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_shared_account_with_devices),
                cmocka_unit_test(test_shared_account_without_devices),
                cmocka_unit_test(test_root),
                cmocka_unit_test(test_shared_names),
        };
        return vl_run_tests(tests, NULL, NULL);
}
