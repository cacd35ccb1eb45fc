/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * dmi_read() (host/dmi.h): the host's SMBIOS strings for "smbios": "host",
 * on a fake /sys/class/dmi/id.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "fakesys.h"
#include "host/dmi.h"

static const char *warned(const struct vl_warnings *w, const char *needle)
{
        for (unsigned i = 0; i < w->n; i++)
                if (strstr(w->msg[i], needle))
                        return w->msg[i];
        return NULL;
}

static void test_no_tables(void **state)
{
        struct fakesys *fs = fakesys_new();
        struct profile_smbios s;
        struct vl_error e = {};

        assert_int_equal(dmi_read(fakesys_roots(fs), &s, &e, NULL), -ENOENT);
        assert_non_null(strstr(e.msg, "this host shows no SMBIOS tables"));
        assert_int_equal(s.mode, SMBIOS_NONE);
        fakesys_free(fs);
}

static void test_strings(void **state)
{
        struct fakesys *fs = fakesys_new();
        struct profile_smbios *s = test_malloc(sizeof(*s));
        struct vl_warnings w = {};
        struct vl_error e = {};

        /* What a desktop board's firmware writes, with its padding. */
        fakesys_sys_file(fs, "class/dmi/id/bios_vendor", "American Megatrends International, LLC.\n");
        fakesys_sys_file(fs, "class/dmi/id/bios_date", "02/14/2024\n");
        fakesys_sys_file(fs, "class/dmi/id/bios_release", "5.27\n");
        fakesys_sys_file(fs, "class/dmi/id/sys_vendor", "Micro-Star International Co., Ltd.   \n");
        fakesys_sys_file(fs, "class/dmi/id/product_name", "      \n");            /* blank: left out */
        fakesys_sys_file(fs, "class/dmi/id/product_uuid", "8c1b2f4e-6a3d-4e21-9f0a-5b7c9d2e1f30\n");
        fakesys_sys_file(fs, "class/dmi/id/board_name",
                         "0123456789012345678901234567890123456789012345678901234567890123456789\n");
        fakesys_sys_file(fs, "class/dmi/id/board_vendor", "Caf\xc3\xa9 Boards\n");
        fakesys_sys_file(fs, "class/dmi/id/chassis_version", "Default string\n");
        fakesys_sys_file(fs, "class/dmi/id/board_version", "2024-02-14\n"); /* any text is fine here */
        fakesys_sys_file(fs, "class/dmi/id/chassis_asset_tag", "1.0\n");

        assert_int_equal(dmi_read(fakesys_roots(fs), s, &e, &w), 0);
        assert_int_equal(s->mode, SMBIOS_HOST);
        assert_string_equal(s->field[SMBIOS_BIOS_VENDOR], "American Megatrends International, LLC.");
        assert_string_equal(s->field[SMBIOS_BIOS_DATE], "02/14/2024");
        assert_string_equal(s->field[SMBIOS_BIOS_RELEASE], "5.27");
        assert_string_equal(s->field[SMBIOS_SYSTEM_MANUFACTURER], "Micro-Star International Co., Ltd.");
        assert_string_equal(s->field[SMBIOS_SYSTEM_PRODUCT], "");
        assert_string_equal(s->field[SMBIOS_SYSTEM_UUID], "");  /* never the host's */
        assert_string_equal(s->field[SMBIOS_SYSTEM_SERIAL], ""); /* absent */
        assert_string_equal(s->field[SMBIOS_BOARD_VERSION], "2024-02-14");
        assert_string_equal(s->field[SMBIOS_CHASSIS_VERSION], "Default string");
        assert_string_equal(s->field[SMBIOS_CHASSIS_ASSET], "1.0");
        /* What cannot go to the guest as it is: left to QEMU, said once. */
        assert_string_equal(s->field[SMBIOS_BOARD_PRODUCT], "");
        assert_string_equal(s->field[SMBIOS_BOARD_MANUFACTURER], "");
        assert_non_null(warned(&w, "the host's baseboard product is longer than 64 characters"));
        assert_non_null(warned(&w, "the host's baseboard manufacturer holds a character that is not printable ASCII"));
        assert_int_equal(w.n, 2);
        test_free(s);
        fakesys_free(fs);
}

static void test_bad_date(void **state)
{
        struct fakesys *fs = fakesys_new();
        struct profile_smbios s;
        struct vl_warnings w = {};
        struct vl_error e = {};

        fakesys_sys_file(fs, "class/dmi/id/bios_date", "2024-02-14\n");
        fakesys_sys_file(fs, "class/dmi/id/bios_release", "1\n");
        assert_int_equal(dmi_read(fakesys_roots(fs), &s, &e, &w), 0);
        assert_string_equal(s.field[SMBIOS_BIOS_DATE], "");
        assert_non_null(warned(&w, "the host's bios date is not a date MM/DD/YYYY"));
        assert_non_null(warned(&w, "the host's bios release is not a release MAJOR.MINOR"));
        fakesys_free(fs);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_no_tables),
                cmocka_unit_test(test_strings),
                cmocka_unit_test(test_bad_date),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
