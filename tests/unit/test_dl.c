/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* dl: optional libraries opened on first use (base/dl.h), on libm (part of
 * libc6, always there) and on the three real tables: a symbol the system's
 * library lacks, or a misspelt one, fails here and not on the host. */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "base/dl.h"
#include "host/modules.h"
#include "host/units.h"
#include "import/import.h"

DL_FN(cos);
static int *sym_signgam; /* a variable of libm: resolved as data */
static void *sym_vl_no_such_symbol;

static const struct dl_sym good[] = { DL_SYM(cos), DL_SYM(signgam) };
static const struct dl_sym bad[] = { DL_SYM(cos), DL_SYM(vl_no_such_symbol) };

static void test_missing_library(void **state)
{
        struct dl_lib lib = { .soname = "libvl-no-such.so.0", .package = "vl-nothing", .syms = good,
                              .n_syms = ELEMENTSOF(good) };
        struct vl_error e = {};

        assert_int_equal(dl_open(&lib, &e), -ELIBACC);
        assert_int_equal(e.err, ELIBACC);
        assert_non_null(strstr(e.msg, "libvl-no-such.so.0"));
        assert_non_null(strstr(e.msg, "Debian package vl-nothing"));
        assert_null(strchr(e.msg, '\n'));
        assert_null(lib.handle);
        assert_null(sym_cos);
        /* Without an error object too. */
        assert_int_equal(dl_open(&lib, NULL), -ELIBACC);
}

static void test_missing_symbol(void **state)
{
        struct dl_lib lib = { .soname = "libm.so.6", .package = "libc6", .syms = bad, .n_syms = ELEMENTSOF(bad) };
        struct vl_error e = {};

        assert_int_equal(dl_open(&lib, &e), -ELIBBAD);
        assert_int_equal(e.err, ELIBBAD);
        assert_non_null(strstr(e.msg, "libm.so.6 has no symbol vl_no_such_symbol"));
        assert_non_null(strstr(e.msg, "libc6"));
        /* Nothing half-resolved is left for a caller to use. */
        assert_null(lib.handle);
        assert_null(sym_cos);
}

static void test_resolved_once(void **state)
{
        struct dl_lib lib = { .soname = "libm.so.6", .package = "libc6", .syms = good, .n_syms = ELEMENTSOF(good) };
        void *h;

        assert_int_equal(dl_open(&lib, NULL), 0);
        assert_non_null(lib.handle);
        assert_non_null(sym_cos);
        assert_true(sym_cos(0.0) == 1.0);
        assert_non_null(sym_signgam);
        h = lib.handle;
        sym_cos = NULL;
        /* A second call finds the library open and resolves nothing again. */
        assert_int_equal(dl_open(&lib, NULL), 0);
        assert_ptr_equal(lib.handle, h);
        assert_null(sym_cos);
}

/* The tables of host/modules.c, host/units.c and import/import_xml.c
 * against this system's libraries: each call gets past dl_open() and fails
 * (or succeeds) for its own reason. Nothing on the host changes: a module
 * that does not exist is looked up, a bus that does not exist is dialled. */
static void test_real_tables(void **state)
{
        static const char domain[] = "<domain type='kvm'><name>t</name><memory unit='MiB'>512</memory></domain>";
        struct import_result res = {};
        struct vl_error e = {};
        int r;

        r = modules_insert("vl_no_such_module_for_test_dl", &e);
        assert_true(r < 0);
        assert_int_not_equal(r, -ELIBACC);
        assert_int_not_equal(r, -ELIBBAD);

        r = units_active("unix:path=/nonexistent/vl-test-dl-bus", "x.service", &e);
        assert_true(r < 0);
        assert_int_not_equal(r, -ELIBACC);
        assert_int_not_equal(r, -ELIBBAD);
        assert_non_null(strstr(e.msg, "cannot connect to systemd's bus"));

        r = import_domain_buffer("t.xml", domain, strlen(domain), NULL, &res, &e);
        assert_int_equal(r, 0);
        assert_non_null(res.profile);
        import_result_done(&res);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_missing_library),
                cmocka_unit_test(test_missing_symbol),
                cmocka_unit_test(test_resolved_once),
                cmocka_unit_test(test_real_tables),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
