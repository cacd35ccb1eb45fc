/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* pci: device facts from a fake sysfs tree (fakesys), libpci enumeration
 * and names, framebuffer and "who has it open" checks. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "fakesys.h"
#include "host/pci.h"

static struct pci_addr A(const char *s)
{
        struct pci_addr a;

        assert_int_equal(pci_addr_parse(s, &a), 0);
        return a;
}

/* A GPU + audio in group 12 behind a bridge in group 1. */
static int setup(void **state)
{
        struct fakesys *fs = fakesys_new();

        fakesys_iommu_on(fs);
        fakesys_driver(fs, "pcieport", NULL, true);
        fakesys_driver(fs, "nouveau", "nouveau", true);
        fakesys_driver(fs, "snd_hda_intel", "snd_hda_intel", true);
        fakesys_driver(fs, "nvidia", "nvidia", true);
        fakesys_device(fs, "0000:00:01.0", 0x8086, 0x1901, 0x060400, 1, "pcieport", "pcieport");
        fakesys_device(fs, "0000:01:00.0", 0x10de, 0x11c0, 0x030000, 12, "nouveau", "nouveau");
        fakesys_device(fs, "0000:01:00.1", 0x10de, 0x0e0b, 0x040300, 12, "snd_hda_intel", "snd_hda_intel");
        fakesys_device(fs, "0000:02:00.0", 0x1234, 0x5678, 0x020000, -1, NULL, NULL);
        *state = fs;
        return 0;
}

static int teardown(void **state)
{
        fakesys_free(*state);
        return 0;
}

static void test_device_read(void **state)
{
        struct fakesys *fs = *state;
        struct pci_addr a = A("0000:01:00.0");
        struct pci_device d;
        struct vl_error e = {};

        fakesys_device_attr(fs, "0000:01:00.0", "boot_vga", "1\n");
        assert_int_equal(pci_device_read(fakesys_sys(fs), &a, &d, &e), 0);
        assert_int_equal(d.vendor_id, 0x10de);
        assert_int_equal(d.device_id, 0x11c0);
        assert_int_equal(d.class_code, 0x030000);
        assert_int_equal(d.iommu_group, 12);
        assert_string_equal(d.driver, "nouveau");
        assert_string_equal(d.driver_module, "nouveau");
        assert_string_equal(d.driver_override, ""); /* "(null)" */
        assert_true(d.boot_vga);
        assert_false(d.bridge);
        assert_string_equal(d.vendor_name, "");

        a = A("0000:00:01.0");
        assert_int_equal(pci_device_read(fakesys_sys(fs), &a, &d, &e), 0);
        assert_true(d.bridge);
        assert_string_equal(d.driver, "pcieport");
        assert_string_equal(d.driver_module, ""); /* built in */

        a = A("0000:02:00.0");
        assert_int_equal(pci_device_read(fakesys_sys(fs), &a, &d, &e), 0);
        assert_int_equal(d.iommu_group, -1);
        assert_string_equal(d.driver, "");

        fakesys_device_attr(fs, "0000:02:00.0", "driver_override", "pci-stub\n");
        assert_int_equal(pci_device_read(fakesys_sys(fs), &a, &d, &e), 0);
        assert_string_equal(d.driver_override, "pci-stub");

        a = A("0000:09:00.0");
        assert_int_equal(pci_device_read(fakesys_sys(fs), &a, &d, &e), -ENOENT);

        fakesys_device_attr(fs, "0000:02:00.0", "vendor", "garbage\n");
        a = A("0000:02:00.0");
        assert_int_equal(pci_device_read(fakesys_sys(fs), &a, &d, &e), -EIO);
        assert_non_null(strstr(e.msg, "vendor"));
}

static void test_libpci_scan_and_names(void **state)
{
        struct fakesys *fs = *state;
        struct bind_env env;
        struct pci_ctx *c = NULL;
        struct pci_device *devs = NULL;
        struct vl_error e = {};
        size_t n = 0;

        fakesys_env(fs, &env);
        assert_int_equal(pci_ctx_new(fakesys_sys(fs), env.pci_ids, &c, &e), 0);
        assert_int_equal(pci_scan(c, &devs, &n, &e), 0);
        assert_int_equal(n, 4);
        char a[PCI_ADDR_STRLEN];
        assert_string_equal(pci_addr_format(&devs[0].addr, a), "0000:00:01.0");
        assert_string_equal(pci_addr_format(&devs[1].addr, a), "0000:01:00.0");
        assert_string_equal(devs[1].vendor_name, "NVIDIA Corporation");
        assert_string_equal(devs[1].device_name, "GK106 [GeForce GTX 660]");
        assert_string_equal(devs[1].driver, "nouveau");
        assert_string_equal(devs[2].device_name, "GK106 HDMI Audio Controller");
        assert_string_equal(devs[3].vendor_name, ""); /* 1234 is not in the tiny ids */
        free(devs);
        pci_ctx_free(c);

        /* No ids file: ids without names, no failure. */
        c = NULL;
        assert_int_equal(pci_ctx_new(fakesys_sys(fs), "/nonexistent/pci.ids", &c, &e), 0);
        assert_int_equal(pci_scan(c, &devs, &n, &e), 0);
        assert_int_equal(n, 4);
        assert_int_equal(devs[1].vendor_id, 0x10de);
        assert_string_equal(devs[1].vendor_name, "");
        assert_string_equal(devs[1].device_name, "");
        free(devs);
        pci_ctx_free(c);

        /* No context: names cleared, nothing else. */
        struct pci_device x = { .vendor_id = 0x10de, .device_id = 0x11c0 };
        strcpy(x.vendor_name, "stale");
        pci_ctx_fill_names(NULL, &x);
        assert_string_equal(x.vendor_name, "");
}

/* libpci's error path must come back as an error, not exit(1). */
static void test_libpci_error_no_exit(void **state)
{
        struct fakesys *fs = *state;
        struct pci_device *devs = NULL;
        struct pci_ctx *c = NULL;
        struct vl_error e = {};
        size_t n = 0;

        /* libpci reports the missing tree from its scan, through its error
         * callback, which would exit(1) by default. */
        assert_int_equal(pci_ctx_new("/nonexistent-vl-sysfs", NULL, &c, &e), 0);
        assert_int_equal(pci_scan(c, &devs, &n, &e), -EIO);
        assert_non_null(strstr(e.msg, "libpci: "));
        assert_non_null(strstr(e.msg, "/nonexistent-vl-sysfs/bus/pci/devices"));
        assert_null(devs);
        /* The broken handle refuses further use instead of touching libpci. */
        assert_int_equal(pci_scan(c, &devs, &n, &e), -EINVAL);
        pci_ctx_free(c);
        pci_ctx_free(NULL);

        /* And the library still works afterwards. */
        c = NULL;
        assert_int_equal(pci_ctx_new(fakesys_sys(fs), NULL, &c, &e), 0);
        assert_int_equal(pci_scan(c, &devs, &n, &e), 0);
        assert_int_equal(n, 4);
        free(devs);
        pci_ctx_free(c);
}

static void test_iommu_and_groups(void **state)
{
        struct fakesys *fs = *state, *off = fakesys_new();
        struct pci_addr m[8];
        struct vl_error e = {};
        char a[PCI_ADDR_STRLEN];
        size_t n = 0;

        assert_true(pci_iommu_enabled(fakesys_sys(fs)));
        assert_false(pci_iommu_enabled(fakesys_sys(off)));
        fakesys_free(off);

        fakesys_device(fs, "0000:01:00.3", 0x10de, 0x1ada, 0x0c0330, 12, NULL, NULL);
        assert_int_equal(pci_group_members(fakesys_sys(fs), 12, m, 8, &n, &e), 0);
        assert_int_equal(n, 3);
        assert_string_equal(pci_addr_format(&m[0], a), "0000:01:00.0");
        assert_string_equal(pci_addr_format(&m[2], a), "0000:01:00.3");
        assert_int_equal(pci_group_members(fakesys_sys(fs), 12, m, 2, &n, &e), -E2BIG);
        assert_int_equal(pci_group_members(fakesys_sys(fs), 77, m, 8, &n, &e), -ENOENT);
}

static void test_framebuffer(void **state)
{
        struct fakesys *fs = *state;
        struct pci_device d;
        struct pci_addr a = A("0000:01:00.0");
        char what[128];
        bool unknown;

        assert_int_equal(pci_device_read(fakesys_sys(fs), &a, &d, NULL), 0);
        /* No iomem at all: nothing found. */
        assert_int_equal(pci_device_has_framebuffer(fakesys_sys(fs), fakesys_proc(fs), &d, what, sizeof(what),
                                                    &unknown), 0);
        /* efifb elsewhere (another GPU's BAR). */
        fakesys_iomem(fs, "00000000-00000fff : Reserved\n"
                          "e0000000-efffffff : PCI Bus 0000:02\n"
                          "  e0000000-e07fffff : efifb\n");
        assert_int_equal(pci_device_has_framebuffer(fakesys_sys(fs), fakesys_proc(fs), &d, what, sizeof(what),
                                                    &unknown), 0);
        assert_false(unknown);
        /* efifb inside BAR 0 (c1000000-c10fffff). */
        fakesys_iomem(fs, "c1000000-c10fffff : 0000:01:00.0\n"
                          "  c1000000-c102ffff : efifb\n");
        assert_int_equal(pci_device_has_framebuffer(fakesys_sys(fs), fakesys_proc(fs), &d, what, sizeof(what),
                                                    &unknown), 1);
        assert_string_equal(what, "efifb at c1000000-c102ffff");
        fakesys_iomem(fs, "    c10f0000-c11fffff : simple-framebuffer.0\n");
        assert_int_equal(pci_device_has_framebuffer(fakesys_sys(fs), fakesys_proc(fs), &d, what, sizeof(what),
                                                    NULL), 1);
        fakesys_iomem(fs, "c0000000-c1000000 : BOOTFB\n");
        assert_int_equal(pci_device_has_framebuffer(fakesys_sys(fs), fakesys_proc(fs), &d, what, sizeof(what),
                                                    NULL), 1);
        /* iomem read without root: zeros, cannot tell. */
        fakesys_iomem(fs, "00000000-00000000 : 0000:01:00.0\n  00000000-00000000 : efifb\n");
        assert_int_equal(pci_device_has_framebuffer(fakesys_sys(fs), fakesys_proc(fs), &d, what, sizeof(what),
                                                    &unknown), 0);
        assert_true(unknown);
        /* An fb device bound to the GPU itself. */
        fakesys_iomem(fs, "");
        fakesys_fb(fs, "fb0", "0000:01:00.0");
        assert_int_equal(pci_device_has_framebuffer(fakesys_sys(fs), fakesys_proc(fs), &d, what, sizeof(what),
                                                    &unknown), 1);
        assert_string_equal(what, "framebuffer fb0");
}

static void test_openers(void **state)
{
        struct fakesys *fs = *state;
        struct pci_device d;
        struct pci_addr a = A("0000:01:00.0");
        struct pci_opener o[4];
        size_t n = 9;

        assert_int_equal(pci_device_read(fakesys_sys(fs), &a, &d, NULL), 0);
        assert_int_equal(pci_device_openers(fakesys_sys(fs), fakesys_dev(fs), fakesys_proc(fs), &d, o, 4, &n), 0);
        assert_int_equal(n, 0);

        fakesys_drm_node(fs, "0000:01:00.0", "card1");
        fakesys_drm_node(fs, "0000:01:00.0", "renderD129");
        fakesys_drm_node(fs, "0000:02:00.0", "card0");
        fakesys_process(fs, 4242, "Xorg", "dri/card1", 100);
        fakesys_process(fs, 99, "gnome-shell", "dri/renderD129", 100);
        fakesys_process(fs, 7, "other-gpu-user", "dri/card0", 100);
        fakesys_process(fs, 8, "idle", NULL, 100);
        assert_int_equal(pci_device_openers(fakesys_sys(fs), fakesys_dev(fs), fakesys_proc(fs), &d, o, 4, &n), 0);
        assert_int_equal(n, 2);
        assert_int_equal(o[0].pid, 99);
        assert_string_equal(o[0].comm, "gnome-shell");
        assert_string_equal(o[0].node, "dri/renderD129");
        assert_int_equal(o[1].pid, 4242);
        assert_string_equal(o[1].comm, "Xorg");
        assert_string_equal(o[1].node, "dri/card1");
        /* max smaller than the count: count all, store max. */
        assert_int_equal(pci_device_openers(fakesys_sys(fs), fakesys_dev(fs), fakesys_proc(fs), &d, o, 1, &n), 0);
        assert_int_equal(n, 2);
}

static void test_openers_nvidia(void **state)
{
        struct fakesys *fs = *state;
        struct pci_device d;
        struct pci_addr a = A("0000:01:00.0");
        struct pci_opener o[4];
        char path[4096];
        size_t n = 0;

        assert_int_equal(pci_device_read(fakesys_sys(fs), &a, &d, NULL), 0);
        strcpy(d.driver, "nvidia"); /* as if bound to the proprietary driver */
        fakesys_process(fs, 500, "nvidia-smi", "nvidia1", 1);
        fakesys_process(fs, 501, "game", "nvidia0", 1);
        /* Without the /proc/driver/nvidia information: every nvidiaN counts. */
        snprintf(path, sizeof(path), "%s/nvidia0", fakesys_dev(fs));
        fclose(fopen(path, "w"));
        snprintf(path, sizeof(path), "%s/nvidia1", fakesys_dev(fs));
        fclose(fopen(path, "w"));
        assert_int_equal(pci_device_openers(fakesys_sys(fs), fakesys_dev(fs), fakesys_proc(fs), &d, o, 4, &n), 0);
        assert_int_equal(n, 2);
        /* With it: only this GPU's minor. */
        snprintf(path, sizeof(path), "mkdir -p %s/driver/nvidia/gpus/0000:01:00.0 && printf 'Model: x\\nDevice Minor: 1\\n' > "
                                     "%s/driver/nvidia/gpus/0000:01:00.0/information",
                 fakesys_proc(fs), fakesys_proc(fs));
        assert_int_equal(system(path), 0);
        assert_int_equal(pci_device_openers(fakesys_sys(fs), fakesys_dev(fs), fakesys_proc(fs), &d, o, 4, &n), 0);
        assert_int_equal(n, 1);
        assert_int_equal(o[0].pid, 500);
        assert_string_equal(o[0].node, "nvidia1");
}

static void test_bars(void **state)
{
        struct fakesys *fs = *state;
        struct pci_addr a = A("0000:01:00.0");
        struct pci_bar b[4];
        size_t n = 0;

        fakesys_device_attr(fs, "0000:01:00.0", "resource",
                            "0x00000000f6000000 0x00000000f6ffffff 0x0000000000040200\n"
                            "0x0000000000000000 0x0000000000000000 0x0000000000000000\n"
                            "0x00000000e0000000 0x00000000efffffff 0x000000000014220c\n");
        assert_int_equal(pci_device_bars(fakesys_sys(fs), &a, b, 4, &n), 0);
        assert_int_equal(n, 2);
        assert_true(b[1].start == 0xe0000000u && b[1].end == 0xefffffffu);
        fakesys_device_attr(fs, "0000:01:00.0", "resource", "junk\n");
        assert_int_equal(pci_device_bars(fakesys_sys(fs), &a, b, 4, &n), -EIO);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_device_read, setup, teardown),
                cmocka_unit_test_setup_teardown(test_libpci_scan_and_names, setup, teardown),
                cmocka_unit_test_setup_teardown(test_libpci_error_no_exit, setup, teardown),
                cmocka_unit_test_setup_teardown(test_iommu_and_groups, setup, teardown),
                cmocka_unit_test_setup_teardown(test_framebuffer, setup, teardown),
                cmocka_unit_test_setup_teardown(test_openers, setup, teardown),
                cmocka_unit_test_setup_teardown(test_openers_nvidia, setup, teardown),
                cmocka_unit_test_setup_teardown(test_bars, setup, teardown),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
