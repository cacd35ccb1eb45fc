/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * base/error: a message is one line whatever it quotes — every way of
 * filling a struct vl_error or a warning turns control characters into '?'.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "base/error.h"
#include "vl_test.h"

static void test_one_line(void **state)
{
        struct vl_error e;
        struct vl_warnings w = {};
        char buf[1400];

        (void) state;
        assert_int_equal(vl_error_set(&e, EINVAL, "\"name\": \"%s\"", "wi\n10\x1b[2J"), -EINVAL);
        assert_string_equal(e.msg, "\"name\": \"wi?10?[2J\"");

        (void) vl_error_set_at(&e, EBADMSG, "/tmp/a\nb.json", 3, 7, "$.x\ty", "bad \"%s\"", "\r\x7f");
        vl_error_format(&e, buf, sizeof(buf));
        assert_string_equal(buf, "/tmp/a?b.json:3:7: $.x?y: bad \"??\"");

        vl_error_prefix(&e, "reading %s", "q\nr");
        assert_string_equal(e.msg, "reading q?r: bad \"??\"");
        vl_error_append(&e, "; %s", "s\nt");
        assert_string_equal(e.msg, "reading q?r: bad \"??\"; s?t");

        vl_warn(&w, "device %s", "x\ny");
        assert_int_equal(w.n, 1);
        assert_string_equal(w.msg[0], "device x?y");

        /* UTF-8 is text, not control: kept. */
        (void) vl_error_set(&e, EINVAL, "%s", "Gerät ñ");
        assert_string_equal(e.msg, "Gerät ñ");
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_one_line),
        };

        return vl_run_tests(tests, NULL, NULL);
}
