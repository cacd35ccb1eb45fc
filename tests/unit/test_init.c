/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * vfio-launch init, each half alone:
 *  - init_probe() on a fakesys host: what it reads into the snapshot (PCI
 *    names, groups and boot VGA; the CPU topology and L3 sets; the hybrid
 *    PMUs; MemTotal; pools and hugetlbfs mounts with their page sizes; the
 *    options' paths under the fake /dev; a bridge);
 *  - init_build() on snapshots written here: the choices the fake-host
 *    goldens (tests/init) do not reach — big cores told apart by
 *    cpu_capacity and by frequency, a spread of frequencies that is one
 *    kind, the L3 the host's core is not in, cores over several L3s, an
 *    IOMMU that is off, hugepages that cannot be served.
 */
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
#include "vl_test.h"

#include "fakesys.h"
#include "init/init.h"
#include "report/init_probe.h"

/* ---- the snapshot, read from a fake host ---------------------------------------------- */

static void test_probe(void **state)
{
        struct fakesys *fs = fakesys_new();
        struct init_host *h = calloc(1, sizeof(*h));
        struct init_options o = { .disk = "/dev/disk/by-id/nvme-x", .iso = "/nonexistent-vl-test/x.iso",
                                  .bridge = "br0" };
        struct host_roots roots = *fakesys_roots(fs);
        struct vl_error e = {};
        char path[4096], *before, *after;
        FILE *f;

        assert_non_null(h);
        fakesys_iommu_on(fs);
        fakesys_driver(fs, "nouveau", "nouveau", true);
        fakesys_device(fs, "0000:03:00.0", 0x10de, 0x11c0, 0x030000, 13, "nouveau", "nouveau");
        fakesys_device(fs, "0000:03:00.1", 0x10de, 0x0e0b, 0x040300, 13, NULL, NULL);
        fakesys_device(fs, "0000:00:02.0", 0x8086, 0x0162, 0x030000, 2, NULL, NULL);
        fakesys_device_attr(fs, "0000:00:02.0", "boot_vga", "1\n");
        for (unsigned c = 0; c < 4; c++) {
                char sib[16];

                snprintf(sib, sizeof(sib), "%u,%u", c % 2, c % 2 + 2);
                fakesys_cpu(fs, c, 0, 0, (int) (c % 2), sib, c % 2 ? NULL : "0,2");
        }
        fakesys_sys_file(fs, "devices/system/cpu/cpu1/cpu_capacity", "512\n");
        fakesys_sys_file(fs, "devices/system/cpu/cpu0/cpufreq/cpuinfo_max_freq", "4700000\n");
        fakesys_sys_file(fs, "devices/cpu_core/cpus", "0,2\n");
        fakesys_sys_file(fs, "devices/cpu_atom/cpus", "1,3\n");
        fakesys_proc_line(fs, "meminfo", "MemTotal:       16318412 kB");
        fakesys_proc_line(fs, "meminfo", "Hugepagesize:       2048 kB");
        fakesys_sys_file(fs, "kernel/mm/hugepages/hugepages-1048576kB/nr_hugepages", "4\n");
        fakesys_sys_file(fs, "kernel/mm/hugepages/hugepages-1048576kB/free_hugepages", "3\n");
        fakesys_sys_file(fs, "kernel/mm/hugepages/hugepages-1048576kB/resv_hugepages", "1\n");
        fakesys_proc_line(fs, "self/mountinfo",
                          "36 24 0:31 / /dev/hugepages rw,relatime shared:14 - hugetlbfs hugetlbfs rw,pagesize=2M");
        fakesys_proc_line(fs, "self/mountinfo", "40 24 0:44 / /mnt/huge\\0401g rw - hugetlbfs none rw,pagesize=1024M");
        fakesys_proc_line(fs, "self/mountinfo", "41 24 0:45 / /mnt/old rw - hugetlbfs none rw");
        fakesys_proc_line(fs, "self/mountinfo", "42 24 0:46 / /tmp rw - tmpfs tmpfs rw,pagesize=2M");
        fakesys_netdev(fs, "virtual/net", "br0", 3, true);
        fakesys_sys_file(fs, "devices/virtual/net/br0/bridge/stp_state", "0\n");
        snprintf(path, sizeof(path), "%s/disk", fakesys_dev(fs));
        assert_int_equal(mkdir(path, 0755), 0);
        snprintf(path, sizeof(path), "%s/disk/by-id", fakesys_dev(fs));
        assert_int_equal(mkdir(path, 0755), 0);
        snprintf(path, sizeof(path), "%s/disk/by-id/nvme-x", fakesys_dev(fs));
        f = fopen(path, "we");
        assert_non_null(f);
        fclose(f);

        /* What the display holds: systemd, fbcon on vtcon1, efifb; nouveau's
         * users (nouveau has none in real life: made up for the order). */
        fakesys_proc_line(fs, "1/comm", "systemd");
        fakesys_sys_file(fs, "class/vtconsole/vtcon0/name", "(S) dummy device\n");
        fakesys_sys_file(fs, "class/vtconsole/vtcon0/bind", "0\n");
        fakesys_sys_file(fs, "class/vtconsole/vtcon1/name", "(M) frame buffer device\n");
        fakesys_sys_file(fs, "class/vtconsole/vtcon1/bind", "1\n");
        fakesys_sys_link(fs, "bus/platform/devices/efi-framebuffer.0/driver", "bus/platform/drivers/efi-framebuffer");
        fakesys_sys_link(fs, "bus/platform/devices/serial8250/driver", "bus/platform/drivers/serial8250");
        fakesys_sys_link(fs, "module/nouveau/holders/b_user", "module/b_user");
        fakesys_sys_link(fs, "module/nouveau/holders/a_user", "module/a_user");
        fakesys_sys_link(fs, "module/a_user/holders/c_user", "module/c_user");
        fakesys_sys_link(fs, "module/b_user/holders/c_user", "module/c_user");

        before = fakesys_snapshot(fs);
        assert_int_equal(init_probe(&roots, fakesys_pci_ids(fs), &o, h, &e), 0);
        /* Read-only: the tree is as it was, to the mode and the byte. */
        after = fakesys_snapshot(fs);
        assert_string_equal(before, after);
        assert_int_equal(fakesys_writes(fs), 0);
        free(before);
        free(after);
        assert_int_equal(h->n_pci, 3);
        assert_true(h->iommu);
        /* by address: 00:02.0, 03:00.0, 03:00.1 */
        assert_true(h->pci[0].boot_vga);
        assert_int_equal(h->pci[1].group, 13);
        assert_int_equal(h->pci[1].class_code, 0x030000);
        assert_string_equal(h->pci[1].device_name, "GK106 [GeForce GTX 660]");
        assert_string_equal(h->pci[2].vendor_name, "NVIDIA Corporation");
        assert_false(h->pci[1].boot_vga);

        assert_int_equal(h->n_cpus, 4);
        assert_int_equal(h->cpus[3].id, 3);
        assert_int_equal(h->cpus[3].core, 1);
        assert_true(cpuset_has(&h->cpus[3].siblings, 1));
        assert_true(cpuset_has(&h->cpus[2].l3, 2) && cpuset_has(&h->cpus[2].l3, 0));
        assert_int_equal(cpuset_count(&h->cpus[1].l3), 0); /* none listed */
        assert_int_equal(h->cpus[1].capacity, 512);
        assert_int_equal(h->cpus[0].capacity, 0);
        assert_int_equal(h->cpus[0].max_khz, 4700000);
        assert_true(h->hybrid);
        assert_true(cpuset_has(&h->perf_cpus, 2) && !cpuset_has(&h->perf_cpus, 1));

        assert_int_equal(h->mem_kib, 16318412);
        assert_int_equal(h->default_hugepage_kib, 2048);
        assert_false(h->pool[HUGEPAGE_2M].present);
        assert_true(h->pool[HUGEPAGE_1G].present);
        assert_int_equal(h->pool[HUGEPAGE_1G].free, 3);
        assert_int_equal(h->pool[HUGEPAGE_1G].resv, 1);
        assert_int_equal(h->n_mounts, 3); /* not the tmpfs */
        assert_string_equal(h->mounts[0].path, "/dev/hugepages");
        assert_int_equal(h->mounts[0].page_kib, 2048);
        assert_string_equal(h->mounts[1].path, "/mnt/huge 1g");
        assert_int_equal(h->mounts[1].page_kib, 1048576);
        assert_int_equal(h->mounts[2].page_kib, 2048); /* no pagesize=: the default */

        assert_true(h->systemd);
        assert_int_equal(h->n_fbcon, 1);
        assert_int_equal(h->n_framebuffers, 1);
        assert_string_equal(h->framebuffer, "efi-framebuffer.0 (efi-framebuffer)");
        /* Only 03:00.0 has a driver; users first (by name, each once), nouveau last. */
        assert_int_equal(h->n_gpu_drivers, 1);
        assert_string_equal(h->gpu_drivers[0].driver, "nouveau");
        assert_false(h->gpu_drivers[0].builtin);
        assert_int_equal(h->gpu_drivers[0].n_modules, 4);
        assert_string_equal(h->gpu_drivers[0].modules[0], "c_user");
        assert_string_equal(h->gpu_drivers[0].modules[1], "a_user");
        assert_string_equal(h->gpu_drivers[0].modules[2], "b_user");
        assert_string_equal(h->gpu_drivers[0].modules[3], "nouveau");

        assert_int_equal(h->disk, INIT_PATH_FILE);
        assert_int_equal(h->iso, INIT_PATH_MISSING);
        assert_int_equal(h->virtio_win, INIT_PATH_UNKNOWN);
        assert_int_equal(h->net, INIT_NET_BRIDGE);

        /* No online list: the snapshot cannot be made. */
        snprintf(path, sizeof(path), "%s/devices/system/cpu/online", fakesys_sys(fs));
        assert_int_equal(unlink(path), 0);
        assert_int_equal(init_probe(&roots, fakesys_pci_ids(fs), &o, h, &e), -ENOENT);
        assert_non_null(strstr(e.msg, "online CPUs"));
        free(h);
        fakesys_free(fs);
}

/* ---- the builder, on snapshots made here ------------------------------------------------ */

static struct init_host *host_new(void)
{
        struct init_host *h = calloc(1, sizeof(*h));

        assert_non_null(h);
        h->iommu = true;
        h->mem_kib = 32u * 1024 * 1024;
        h->pci[h->n_pci++] = (struct init_pci) { .addr = { 0, 0, 2, 0 }, .vendor = 0x8086, .device = 0x0162,
                                                 .class_code = 0x030000, .group = 1, .boot_vga = true };
        h->pci[h->n_pci++] = (struct init_pci) { .addr = { 0, 3, 0, 0 }, .vendor = 0x10de, .device = 0x11c0,
                                                 .class_code = 0x030000, .group = 7 };
        h->pci[h->n_pci++] = (struct init_pci) { .addr = { 0, 3, 0, 1 }, .vendor = 0x10de, .device = 0x0e0b,
                                                 .class_code = 0x040300, .group = 7 };
        return h;
}

/* n cores x smt threads, CPU c+k*n the k-th thread of core c (AMD's and
 * Intel's numbering), l3 = cores per L3. */
static void host_cpus(struct init_host *h, unsigned n, unsigned smt, unsigned l3)
{
        h->n_cpus = 0;
        for (unsigned cpu = 0; cpu < n * smt; cpu++) {
                struct init_cpu *c = &h->cpus[h->n_cpus++];
                unsigned core = cpu % n;

                *c = (struct init_cpu) { .id = cpu, .core = (int) core };
                for (unsigned k = 0; k < smt; k++)
                        cpuset_add(&c->siblings, core + k * n);
                for (unsigned x = core / l3 * l3; x < (core / l3 + 1) * l3 && x < n; x++)
                        for (unsigned k = 0; k < smt; k++)
                                cpuset_add(&c->l3, x + k * n);
        }
}

static json_t *build_ok(const struct init_host *h, const struct init_options *o, struct init_result *res)
{
        struct vl_error e = {};
        int r = init_build(h, o, res, &e);

        if (r < 0)
                fail_msg("init_build: %s", e.msg);
        return res->profile;
}

static const char *pins(json_t *p, char *buf, size_t size)
{
        json_t *a = json_object_get(json_object_get(p, "cpu"), "pin"), *v;
        size_t i, len = 0;

        buf[0] = '\0';
        json_array_foreach (a, i, v)
                len += (size_t) snprintf(buf + len, size - len, "%s%s", i ? " " : "", json_string_value(v));
        return buf;
}

static bool has_line(const struct init_result *r, const char *part)
{
        for (unsigned i = 0; i < r->n_lines; i++)
                if (strstr(r->lines[i], part))
                        return true;
        return false;
}

static void test_cpus_l3(void **state)
{
        _cleanup_free_ struct init_host *h = host_new();
        struct init_options o = { .name = "vm", .cpus = 8 };
        struct init_result res = {};
        char buf[512];
        json_t *p;

        /* 8 cores x 2 in two L3s of 4: 4 cores fit the second one (the
         * first holds the host's core and has only 3 left). */
        host_cpus(h, 8, 2, 4);
        p = build_ok(h, &o, &res);
        assert_string_equal(pins(p, buf, sizeof(buf)), "4 12 5 13 6 14 7 15");
        assert_string_equal(json_string_value(json_object_get(json_object_get(p, "cpu"), "emulator_pin")),
                            "0-3,8-11");
        assert_true(has_line(&res, "share one L3 (CPUs 4-7,12-15), not the host's core's"));
        init_result_done(&res);

        /* 3 cores: both L3s can hold them; the one without the host's core. */
        o.cpus = 6;
        p = build_ok(h, &o, &res);
        assert_string_equal(pins(p, buf, sizeof(buf)), "4 12 5 13 6 14");
        init_result_done(&res);

        /* 5 cores span both: the whole second L3 first, then the first's. */
        o.cpus = 10;
        p = build_ok(h, &o, &res);
        assert_string_equal(pins(p, buf, sizeof(buf)), "1 9 4 12 5 13 6 14 7 15");
        assert_true(has_line(&res, "span 2 L3 caches"));
        assert_true(has_line(&res, "--cpus 8 or less fits one"));
        init_result_done(&res);
}

static void test_cpus_kinds(void **state)
{
        _cleanup_free_ struct init_host *h = host_new();
        struct init_options o = { .name = "vm" };
        struct init_result res = {};
        char buf[512];
        json_t *p;

        /* cpu_capacity: cores 0-3 big (1024), 4-7 small (400), no SMT. */
        host_cpus(h, 8, 1, 8);
        for (unsigned i = 0; i < 8; i++)
                h->cpus[i].capacity = i < 4 ? 1024 : 400;
        p = build_ok(h, &o, &res);
        assert_string_equal(pins(p, buf, sizeof(buf)), "1 2 3");
        assert_true(has_line(&res, "two kinds of cores (cpu_capacity): the guest gets big ones only (CPUs 0-3)"));
        init_result_done(&res);

        /* Without capacities, the maximum frequency tells them apart... */
        for (unsigned i = 0; i < 8; i++) {
                h->cpus[i].capacity = 0;
                h->cpus[i].max_khz = i < 4 ? 5000000 : 3800000;
        }
        p = build_ok(h, &o, &res);
        assert_string_equal(pins(p, buf, sizeof(buf)), "1 2 3");
        assert_true(has_line(&res, "(cpuinfo_max_freq)"));
        init_result_done(&res);

        /* ...but a few percent (AMD's preferred cores) is one kind. */
        for (unsigned i = 0; i < 8; i++)
                h->cpus[i].max_khz = 5000000 - i * 50000;
        p = build_ok(h, &o, &res);
        assert_string_equal(pins(p, buf, sizeof(buf)), "1 2 3 4 5 6 7");
        assert_false(has_line(&res, "two kinds"));
        init_result_done(&res);

        /* One core: nothing for a guest. */
        host_cpus(h, 1, 2, 1);
        {
                struct vl_error e = {};

                assert_int_equal(init_build(h, &o, &res, &e), -EINVAL);
                assert_string_equal(e.msg, "this host has one core: none is left for a guest after the host's");
        }
}

static void test_iommu_off(void **state)
{
        _cleanup_free_ struct init_host *h = host_new();
        struct init_options o = { .name = "vm" };
        struct init_result res = {};
        json_t *p, *devs;

        host_cpus(h, 4, 2, 4);
        h->iommu = false;
        for (unsigned i = 0; i < h->n_pci; i++)
                h->pci[i].group = -1;
        /* Another device of another slot, also without a group: not taken. */
        h->pci[h->n_pci++] = (struct init_pci) { .addr = { 0, 4, 0, 0 }, .vendor = 0x8086, .device = 0x1533,
                                                 .class_code = 0x020000, .group = -1 };
        p = build_ok(h, &o, &res);
        devs = json_object_get(p, "hostdevs");
        assert_int_equal(json_array_size(devs), 2);
        assert_string_equal(json_string_value(json_object_get(json_array_get(devs, 1), "host")), "0000:03:00.1");
        assert_true(has_line(&res, "in no IOMMU group (the IOMMU is off)"));
        assert_false(has_line(&res, "0000:04:00.0"));
        init_result_done(&res);
}

static void test_hugepages_refused(void **state)
{
        _cleanup_free_ struct init_host *h = host_new();
        struct init_options o = { .name = "vm", .hugepages = true, .memory_mib = 1000 };
        struct init_result res = {};
        struct vl_error e = {};
        json_t *p;

        host_cpus(h, 4, 2, 4);
        assert_int_equal(init_build(h, &o, &res, &e), -EINVAL);
        assert_non_null(strstr(e.msg, "--hugepages: no hugetlbfs mount on this host"));

        /* A 1G mount and pool only, memory not whole GiB: nothing fits. */
        h->mounts[h->n_mounts++] = (struct init_mount) { .path = "/dev/hugepages1G", .page_kib = 1048576 };
        h->pool[HUGEPAGE_1G] = (struct init_pool) { .present = true, .nr = 8, .free = 8 };
        assert_int_equal(init_build(h, &o, &res, &e), -EINVAL);
        assert_non_null(strstr(e.msg, "no hugetlbfs mount of a page size the guest's memory divides into"));

        /* Whole GiB, but more than the pool has free (resv counts): reserve. */
        o.memory_mib = 8192;
        h->pool[HUGEPAGE_1G].resv = 1;
        p = build_ok(h, &o, &res);
        assert_true(json_is_true(json_object_get(json_object_get(p, "hugepages"), "reserve")));
        assert_true(has_line(&res, "the pool has 7 free of the 8 the guest needs"));
        init_result_done(&res);
}

/* --single-gpu's host_handover: each step only where the host has it. */
static void test_handover(void **state)
{
        _cleanup_free_ struct init_host *h = host_new();
        struct init_options o = { .name = "vm", .single_gpu = true, .gpu_set = true, .gpu = { 0, 0, 2, 0 } };
        struct init_result res = {};
        json_t *p, *ho;

        host_cpus(h, 4, 2, 4);
        /* Nothing holds the display: no host_handover, and a line says so. */
        p = build_ok(h, &o, &res);
        assert_true(json_is_true(json_object_get(p, "allow_boot_vga")));
        assert_null(json_object_get(p, "host_handover"));
        assert_true(has_line(&res, "note: PID 1 is not systemd"));
        assert_true(has_line(&res, "no step of a hand-over applies here"));
        init_result_done(&res);

        /* i915 built in, fbcon on two consoles, systemd. */
        h->systemd = true;
        h->n_fbcon = 2;
        h->gpu_drivers[h->n_gpu_drivers++] =
                (struct init_gpu_driver) { .addr = { 0, 0, 2, 0 }, .driver = "i915", .builtin = true };
        p = build_ok(h, &o, &res);
        ho = json_object_get(p, "host_handover");
        assert_string_equal(json_string_value(json_array_get(json_object_get(ho, "stop_units"), 0)),
                            "display-manager.service");
        assert_true(json_is_true(json_object_get(ho, "unbind_vtconsoles")));
        assert_null(json_object_get(ho, "unbind_framebuffers"));
        assert_null(json_object_get(ho, "unload_modules"));
        assert_true(has_line(&res, "fbcon draws 2 virtual consoles"));
        assert_true(has_line(&res, "i915, is built into the kernel: nothing to unload"));
        init_result_done(&res);

        /* A module, but another GPU (not the VM's) is on the same driver. */
        h->gpu_drivers[0] = (struct init_gpu_driver) { .addr = { 0, 0, 2, 0 }, .driver = "amdgpu", .n_modules = 1,
                                                       .modules = { "amdgpu" } };
        h->gpu_drivers[h->n_gpu_drivers++] =
                (struct init_gpu_driver) { .addr = { 0, 3, 0, 0 }, .driver = "amdgpu", .n_modules = 1,
                                           .modules = { "amdgpu" } };
        p = build_ok(h, &o, &res);
        assert_null(json_object_get(json_object_get(p, "host_handover"), "unload_modules"));
        assert_true(has_line(&res, "amdgpu also drives 0000:03:00.0: its module stays loaded"));
        init_result_done(&res);

        /* Alone on it: unloaded; on vfio-pci already: nothing. */
        h->n_gpu_drivers = 1;
        p = build_ok(h, &o, &res);
        ho = json_object_get(p, "host_handover");
        assert_string_equal(json_string_value(json_array_get(json_object_get(ho, "unload_modules"), 0)), "amdgpu");
        init_result_done(&res);
        h->gpu_drivers[0] = (struct init_gpu_driver) { .addr = { 0, 0, 2, 0 }, .driver = "vfio-pci", .n_modules = 1,
                                                       .modules = { "vfio_pci" } };
        p = build_ok(h, &o, &res);
        assert_null(json_object_get(json_object_get(p, "host_handover"), "unload_modules"));
        init_result_done(&res);
}

static void test_generated_is_loadable(void **state)
{
        _cleanup_free_ struct init_host *h = host_new();
        struct init_options o = { .name = "vm", .disk = "/images/a\tb.qcow2" };
        struct init_result res = {};
        struct vl_error e = {};

        host_cpus(h, 4, 2, 4);
        /* What the loader refuses is refused here, with its path. */
        assert_int_equal(init_build(h, &o, &res, &e), -EINVAL);
        assert_non_null(strstr(e.msg, "the profile would not load: $.disks[0].path: "));
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_probe),
                cmocka_unit_test(test_cpus_l3),
                cmocka_unit_test(test_cpus_kinds),
                cmocka_unit_test(test_iommu_off),
                cmocka_unit_test(test_hugepages_refused),
                cmocka_unit_test(test_handover),
                cmocka_unit_test(test_generated_is_loadable),
        };

        return vl_run_tests(tests, NULL, NULL);
}
