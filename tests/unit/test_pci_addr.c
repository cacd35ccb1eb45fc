/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* pci_addr: the strict parser every hostdev address goes through. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "base/pci_addr.h"

static void test_parse_full(void **state)
{
        struct pci_addr a;
        char buf[PCI_ADDR_STRLEN];

        assert_int_equal(pci_addr_parse("0000:03:00.1", &a), 0);
        assert_int_equal(a.domain, 0);
        assert_int_equal(a.bus, 3);
        assert_int_equal(a.slot, 0);
        assert_int_equal(a.function, 1);
        assert_string_equal(pci_addr_format(&a, buf), "0000:03:00.1");

        assert_int_equal(pci_addr_parse("ABCD:Ff:1f.7", &a), 0);
        assert_string_equal(pci_addr_format(&a, buf), "abcd:ff:1f.7");
}

static void test_parse_short(void **state)
{
        struct pci_addr a;
        char buf[PCI_ADDR_STRLEN];

        assert_int_equal(pci_addr_parse("03:00.0", &a), 0);
        assert_string_equal(pci_addr_format(&a, buf), "0000:03:00.0");
}

static void test_parse_rejects(void **state)
{
        static const char *const bad[] = {
                "",           "3:00.0",        "03:00",        "03:00.8",     "03:20.0",
                "03:00.0 ",   " 03:00.0",      "0000:03:00.0x", "000:03:00.0", "0000-03:00.0",
                "0000:03:00:0", "g3:00.0",      "0000:03.00.0", "03:0.00",     "+3:00.0",
        };
        struct pci_addr a;

        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
                assert_int_equal(pci_addr_parse(bad[i], &a), -EINVAL);
        assert_int_equal(pci_addr_parse(NULL, &a), -EINVAL);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_parse_full),
                cmocka_unit_test(test_parse_short),
                cmocka_unit_test(test_parse_rejects),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
