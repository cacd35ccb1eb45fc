/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* report/top.h: the /proc parsers, top_collect() against a fake /proc and
 * run folder, the rates, and the two output formats (JSON read back with
 * jansson; the Prometheus text checked line by line, and by promtool in
 * tests/metrics). */
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

#include <jansson.h>

#include "report/top.h"

/* A real line of a TCG vCPU thread, its comm holding a space and a slash;
 * utime 1500, stime 250, starttime 4242, processor 3. */
#define STAT_LINE "12345 (CPU 0/TCG) S 1 2 3 0 -1 4194560 10 0 0 0 1500 250 0 0 20 0 3 0 4242 " \
        "1000000 500 18446744073709551615 1 1 0 0 0 0 0 4096 0 0 0 0 -1 3 0 0 0 0 0\n"

static void test_parse_stat(void **state)
{
        uint64_t ticks, start;
        int cpu;

        (void) state;
        assert_int_equal(top_parse_stat(STAT_LINE, &ticks, &cpu, &start), 0);
        assert_int_equal(ticks, 1750);
        assert_int_equal(cpu, 3);
        assert_int_equal(start, 4242);
        /* a comm that looks like the end of one: fields count from the last ')' */
        assert_int_equal(top_parse_stat("7 (a) b) (c) R 1 2 3 0 -1 0 0 0 0 0 9 1 0 0 20 0 1 0 77 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 5\n",
                                        &ticks, &cpu, NULL), 0);
        assert_int_equal(ticks, 10);
        assert_int_equal(cpu, 5);
}

static void test_parse_stat_bad(void **state)
{
        uint64_t ticks = 99, start;
        int cpu = 99;

        (void) state;
        assert_int_equal(top_parse_stat("", &ticks, &cpu, &start), -EBADMSG);
        assert_int_equal(top_parse_stat("12 (x) S 1 2 3", &ticks, &cpu, &start), -EBADMSG); /* cut before utime */
        assert_int_equal(top_parse_stat("12 (x) S 1 2 3 0 -1 0 0 0 0 0 15x0 250 0 0 20 0 3 0 4242 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 3",
                                        &ticks, &cpu, &start), -EBADMSG);
        /* cut before field 39 (kernels before 2.2.8 had no processor field) */
        assert_int_equal(top_parse_stat("12 (x) S 1 2 3 0 -1 0 0 0 0 0 1 2 0 0 20 0 3 0 4242 0", &ticks, &cpu, &start),
                         -EBADMSG);
        assert_int_equal(ticks, 99); /* ret_ untouched on failure */
        assert_int_equal(cpu, 99);
}

static void test_parse_kib(void **state)
{
        static const char status[] = "Name:\tqemu-system-x86\nVmRSSx:\t1 kB\nVmRSS:\t  204800 kB\nVmSwap:\t0 kB\n";
        uint64_t v = 7;

        (void) state;
        assert_int_equal(top_parse_kib(status, "VmRSS", &v), 0);
        assert_int_equal(v, 204800ull * 1024);
        assert_int_equal(top_parse_kib(status, "VmSwap", &v), 0);
        assert_int_equal(v, 0);
        assert_int_equal(top_parse_kib(status, "VmHWM", &v), -ENOENT);
        assert_int_equal(top_parse_kib("VmRSS: 12 MB\n", "VmRSS", &v), -EBADMSG);
        assert_int_equal(top_parse_kib("VmRSS: kB\n", "VmRSS", &v), -EBADMSG);
        assert_int_equal(top_parse_kib("VmRSS: 99999999999999999999 kB\n", "VmRSS", &v), -EBADMSG);
}

static void test_parse_usb(void **state)
{
        /* QEMU 7.2's x-query-usb text for a tablet and a passed-through receiver */
        static const char text[] = "  Device 0.1, Port 1, Speed 480 Mb/s, Product QEMU USB Tablet, ID: input0\n"
                                   "  Device 0.2, Port 2.1, Speed 12 Mb/s, Product USB\x01Rec\xc3\xa9iver\n"
                                   "something else\n";
        struct top_vm *vm = calloc(1, sizeof(*vm));

        (void) state;
        assert_int_equal(top_parse_usb(text, vm), 2);
        assert_string_equal(vm->usb[0].port, "1");
        assert_string_equal(vm->usb[0].speed, "480 Mb/s");
        assert_string_equal(vm->usb[0].product, "QEMU USB Tablet");
        assert_string_equal(vm->usb[0].id, "input0");
        assert_string_equal(vm->usb[1].port, "2.1");
        assert_string_equal(vm->usb[1].product, "USB?Rec??iver"); /* control and non-ASCII bytes made inert */
        assert_string_equal(vm->usb[1].id, "");
        assert_int_equal(top_parse_usb("", vm), 0);
        free(vm);
}

static struct top_vm *sample_vm(void)
{
        struct top_vm *vm = calloc(1, sizeof(*vm));

        assert_non_null(vm);
        strcpy(vm->name, "win10");
        strcpy(vm->state, "running");
        vm->qemu_pid = 4321;
        vm->launcher_pid = 4300;
        vm->uptime_s = 61.5;
        vm->cpu_seconds = 12.25;
        vm->cpu_percent = -1;
        vm->rss_bytes = 300u << 20;
        vm->hugetlb_bytes = UINT64_MAX; /* unknown: left out */
        vm->guest_bytes = 256u << 20;
        vm->overhead_bytes = 44u << 20;
        vm->n_vcpus = 2;
        vm->vcpus[0] = (struct top_vcpu) { .index = 0, .tid = 4330, .host_cpu = 1, .cpu_seconds = 5.5,
                                           .cpu_percent = 97.5, .pinned = true, .pin = "1", .on_pin = true };
        vm->vcpus[1] = (struct top_vcpu) { .index = 1, .tid = 4331, .host_cpu = 2, .cpu_seconds = 0.5,
                                           .cpu_percent = -1, .pinned = true, .pin = "0", .on_pin = false };
        vm->n_nics = 1;
        vm->nics[0] = (struct top_nic) { .link = "vl-win10-0", .kind = "macvtap", .present = true, .rx_bytes = 1000,
                                         .tx_bytes = 2000, .rx_packets = 10, .tx_packets = 20, .rx_rate = 50,
                                         .tx_rate = -1 };
        vm->n_disks = 1;
        vm->disks[0] = (struct top_disk) { .id = "disk0", .rd_bytes = 4096, .wr_bytes = 512, .rd_ops = 2,
                                           .wr_ops = 1, .rd_rate = -1, .wr_rate = -1 };
        vm->n_hostdevs = 1;
        vm->hostdevs[0] = (struct top_hostdev) { .addr = "0000:03:00.0", .group = 14, .driver = "vfio-pci" };
        vm->tpm = true;
        vm->swtpm_pid = 4310;
        vm->swtpm_alive = true;
        vm->usb_known = true;
        vm->n_usb = 1;
        vm->usb[0] = (struct top_usb) { .port = "1", .speed = "12 Mb/s", .product = "QEMU USB Tablet", .id = "input0" };
        vm->n_shmem = 1;
        vm->shmem[0] = (struct top_shmem) { .path = "/dev/shm/a\"b\\c", .size = 33554432, .present = true };
        return vm;
}

static bool has_line(const char *text, const char *line)
{
        size_t n = strlen(line);

        for (const char *p = text; (p = strstr(p, line)); p += n)
                if ((p == text || p[-1] == '\n') && p[n] == '\n')
                        return true;
        return false;
}

static void test_prometheus(void **state)
{
        struct top_vm *vm = sample_vm();
        char *text = top_format_prometheus(vm, 1);
        const char *p;

        (void) state;
        assert_non_null(text);
        assert_true(has_line(text, "# TYPE vfio_launch_vcpu_cpu_seconds_total counter"));
        assert_true(has_line(text, "vfio_launch_vm_running{vm=\"win10\"} 1"));
        assert_true(has_line(text, "vfio_launch_vm_info{vm=\"win10\",state=\"running\",qemu_pid=\"4321\"} 1"));
        assert_true(has_line(text, "vfio_launch_vm_uptime_seconds{vm=\"win10\"} 61.5"));
        assert_true(has_line(text, "vfio_launch_vcpu_cpu_seconds_total{vm=\"win10\",vcpu=\"0\"} 5.5"));
        assert_true(has_line(text, "vfio_launch_vcpu_host_cpu{vm=\"win10\",vcpu=\"1\"} 2"));
        assert_true(has_line(text, "vfio_launch_vcpu_on_pin{vm=\"win10\",vcpu=\"0\"} 1"));
        assert_true(has_line(text, "vfio_launch_vcpu_on_pin{vm=\"win10\",vcpu=\"1\"} 0"));
        assert_true(has_line(text, "vfio_launch_qemu_rss_bytes{vm=\"win10\"} 314572800"));
        assert_true(has_line(text, "vfio_launch_nic_receive_bytes_total{vm=\"win10\",nic=\"vl-win10-0\"} 1000"));
        assert_true(has_line(text, "vfio_launch_disk_read_ops_total{vm=\"win10\",disk=\"disk0\"} 2"));
        assert_true(has_line(text, "vfio_launch_hostdev_info{vm=\"win10\",device=\"0000:03:00.0\",driver=\"vfio-pci\",iommu_group=\"14\"} 1"));
        assert_true(has_line(text, "vfio_launch_tpm_running{vm=\"win10\"} 1"));
        assert_true(has_line(text, "vfio_launch_usb_devices{vm=\"win10\"} 1"));
        /* the format's escapes: \" and \\ in a label value */
        assert_true(has_line(text, "vfio_launch_shmem_bytes{vm=\"win10\",device=\"/dev/shm/a\\\"b\\\\c\"} 33554432"));
        /* unknown figures are left out, not written as 0 */
        assert_null(strstr(text, "vfio_launch_qemu_hugetlb_bytes{"));
        /* each family: one HELP, one TYPE, then its samples, never split */
        for (p = text; *p; p = strchr(p, '\n') + 1) {
                char name[96];
                size_t len = strcspn(p, "{ ");
                if (*p == '#')
                        continue;
                assert_true(len < sizeof(name) - 8);
                snprintf(name, sizeof(name), "# TYPE %.*s ", (int) len, p);
                const char *type = strstr(text, name);
                assert_non_null(type);
                assert_true(type < p);
                /* between the TYPE line and this sample, only this family */
                for (const char *q = strchr(type, '\n') + 1; q < p; q = strchr(q, '\n') + 1)
                        assert_true(q[0] != '#' && strncmp(q, p, len) == 0);
                /* counters, and only counters, end in _total */
                assert_int_equal(strncmp(strchr(type + strlen(name), '\n') - 7, "counter", 7) == 0,
                                 strstr(name, "_total ") != NULL);
        }
        free(text);
        free(vm);
}

static void test_json(void **state)
{
        struct top_vm *vm = sample_vm();
        char *text = top_format_json(vm, 1, 2.0);
        json_error_t je;
        json_t *root, *v, *cpu;

        (void) state;
        assert_non_null(text);
        root = json_loads(text, JSON_REJECT_DUPLICATES, &je);
        assert_non_null(root);
        assert_int_equal(json_integer_value(json_object_get(root, "version")), 1);
        v = json_array_get(json_object_get(root, "vms"), 0);
        assert_string_equal(json_string_value(json_object_get(v, "name")), "win10");
        assert_string_equal(json_string_value(json_object_get(v, "state")), "running");
        assert_true(json_is_null(json_object_get(v, "cpu_percent")));
        assert_true(json_is_null(json_object_get(json_object_get(v, "memory"), "hugetlb_bytes")));
        assert_int_equal(json_integer_value(json_object_get(json_object_get(v, "memory"), "guest_bytes")), 256 << 20);
        cpu = json_array_get(json_object_get(v, "vcpus"), 0);
        assert_int_equal(json_integer_value(json_object_get(cpu, "host_cpu")), 1);
        assert_string_equal(json_string_value(json_object_get(cpu, "pin")), "1");
        assert_true(json_is_true(json_object_get(cpu, "on_pin")));
        assert_true(json_real_value(json_object_get(cpu, "cpu_percent")) == 97.5);
        cpu = json_array_get(json_object_get(v, "vcpus"), 1);
        assert_true(json_is_false(json_object_get(cpu, "on_pin")));
        assert_true(json_is_null(json_object_get(cpu, "cpu_percent")));
        assert_int_equal(json_integer_value(json_object_get(json_array_get(json_object_get(v, "disks"), 0), "rd_bytes")), 4096);
        assert_true(json_is_null(json_object_get(json_array_get(json_object_get(v, "nics"), 0), "tx_bytes_per_second")));
        assert_int_equal(json_integer_value(json_object_get(json_array_get(json_object_get(v, "hostdevs"), 0), "iommu_group")), 14);
        assert_true(json_is_true(json_object_get(json_object_get(v, "tpm"), "alive")));
        assert_true(json_is_null(json_object_get(v, "note")));
        assert_string_equal(json_string_value(json_object_get(json_array_get(json_object_get(v, "usb"), 0), "id")), "input0");
        json_decref(root);
        free(text);
        free(vm);
}

static void test_rates(void **state)
{
        struct top_vm *a = sample_vm(), *b = sample_vm();

        (void) state;
        a->sampled_ns = 1000000000;
        b->sampled_ns = 3000000000; /* 2 s later */
        b->cpu_seconds = a->cpu_seconds + 3;
        b->vcpus[0].cpu_seconds = a->vcpus[0].cpu_seconds + 1.5;
        b->vcpus[0].ticks = a->vcpus[0].ticks + 150;
        b->vcpus[0].cpu_percent = b->vcpus[1].cpu_percent = -1;
        b->nics[0].rx_bytes = a->nics[0].rx_bytes + 4000;
        b->disks[0].wr_bytes = a->disks[0].wr_bytes + 1024;
        top_vm_rates(b, a);
        assert_true(b->cpu_percent > 149.9 && b->cpu_percent < 150.1);
        assert_true(b->vcpus[0].cpu_percent > 74.9 && b->vcpus[0].cpu_percent < 75.1);
        assert_true(b->vcpus[1].cpu_percent == 0);
        assert_true(b->nics[0].rx_rate == 2000);
        assert_true(b->disks[0].wr_rate == 512);
        /* another QEMU (restarted VM): nothing is derived */
        b->qemu_pid++;
        b->cpu_percent = -1;
        top_vm_rates(b, a);
        assert_true(b->cpu_percent == -1);
        free(a);
        free(b);
}

static void put(const char *dir, const char *rel, const char *content)
{
        char path[512];
        FILE *f;

        snprintf(path, sizeof(path), "%s/%s", dir, rel);
        f = fopen(path, "we");
        assert_non_null(f);
        fputs(content, f);
        fclose(f);
}

/* top_collect() on a fake /proc: figures from QEMU's stat, status and
 * smaps_rollup; no QMP socket is a note, not a failure. */
static void test_collect(void **state)
{
        char proc[] = "/tmp/vl-top-XXXXXX", run[] = "/tmp/vl-top-run-XXXXXX", path[256], cmd[600];
        struct host_roots roots = { .sysfs = "/nonexistent", .dev = "/nonexistent", .shm = "/nonexistent" };
        static const char status[] = "{\"name\":\"vm1\",\"state\":\"running\",\"launcher_pid\":4300,"
                                     "\"qemu_pid\":4321,\"swtpm_pid\":4310,\"qmp\":\"\",\"detail\":\"\",\"pin\":[\"1\",\"0\"]}";
        struct top_vm *vm = calloc(1, sizeof(*vm));
        struct vl_error e;

        (void) state;
        assert_non_null(mkdtemp(proc));
        assert_non_null(mkdtemp(run));
        roots.proc = proc;
        roots.run = run;
        snprintf(path, sizeof(path), "%s/4321", proc);
        assert_int_equal(mkdir(path, 0755), 0);
        put(proc, "uptime", "5000.00 9000.00\n");
        put(proc, "4321/stat", STAT_LINE);
        put(proc, "4321/status", "Name:\tqemu\nVmRSS:\t  1024 kB\n");
        put(proc, "4321/smaps_rollup", "Rss:  1024 kB\nShared_Hugetlb:   0 kB\nPrivate_Hugetlb: 2048 kB\n");
        assert_int_equal(top_collect(&roots, "vm1", status, strlen(status), vm, &e), 0);
        assert_string_equal(vm->state, "running");
        assert_int_equal(vm->qemu_pid, 4321);
        assert_true(vm->cpu_seconds > 0);
        assert_true(vm->uptime_s > 0 && vm->uptime_s < 5000);
        assert_int_equal(vm->rss_bytes, 1024 * 1024);
        assert_int_equal(vm->hugetlb_bytes, 2048 * 1024);
        assert_true(vm->tpm);
        assert_false(vm->swtpm_alive); /* no PROC/4310 */
        assert_int_equal(vm->n_vcpus, 0);   /* no QMP: unknown */
        assert_non_null(strstr(vm->note, "no QMP socket"));
        assert_int_equal(vm->overhead_bytes, UINT64_MAX); /* the guest's size is QMP's */
        /* not a status reply */
        assert_int_equal(top_collect(&roots, "vm1", "[1]", 3, vm, &e), -EBADMSG);
        snprintf(cmd, sizeof(cmd), "rm -rf '%s' '%s'", proc, run);
        assert_int_equal(system(cmd), 0);
        free(vm);
}

/* --listen ADDR:PORT: what is refused, with a message, before any socket */
static void test_http_listen_spec(void **state)
{
        static const char *const bad[] = { "", "127.0.0.1:", "127.0.0.1:0", "127.0.0.1:65536", "127.0.0.1:80x",
                                           "localhost:9101", "1.2.3.4.5:9101", "[::1:9101", "::1" };
        struct vl_error e;

        (void) state;
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                e.msg[0] = '\0';
                assert_int_equal(top_http_listen(bad[i], &e), -EINVAL);
                assert_true(e.msg[0] != '\0');
        }
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_parse_stat), cmocka_unit_test(test_parse_stat_bad),
                cmocka_unit_test(test_parse_kib),  cmocka_unit_test(test_parse_usb),  cmocka_unit_test(test_prometheus),
                cmocka_unit_test(test_json),       cmocka_unit_test(test_rates),
                cmocka_unit_test(test_collect),    cmocka_unit_test(test_http_listen_spec),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
