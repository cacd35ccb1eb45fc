/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The host USB devices of "usb": {"devices": [...]} on the fake host
 * (tests/fakesys; host/usb.h, through host/devnode.h): found by
 * vendor:product, by vendor:product and serial, by bus and port; two
 * matches refused with both named; a hub never matched; a device not
 * plugged in refused when required and left out with a warning when not;
 * the node checked against the device number SYS gives; the hand-over
 * journaled BEFORE the chown as kind usb and given back by host_undo(),
 * idempotent; the fd QEMU gets opened read-write on the planned node only.
 * SYS is modelled as the kernel lays it out (bus/usb/devices/B-P links into
 * devices/); the nodes are made with mknod in the fake DEV, never a host
 * node — tests/vm case usb passes a real device to a nested guest.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>
#include <cmocka.h>
#include <jansson.h>

#include "fakesys.h"
#include "vl_test.h"
#include "host/devnode.h"
#include "host/undo.h"
#include "host/usb.h"
#include "run/hotplug_usb.h"

static int setup(void **state)
{
        *state = fakesys_new();
        return 0;
}

static int teardown(void **state)
{
        fakesys_free(*state);
        return 0;
}

/* The kernel's usbfs numbering (drivers/usb/core/usb.c): minor
 * (bus - 1) * 128 + devnum - 1. */
static dev_t usb_rdev(unsigned bus, unsigned dev)
{
        return makedev(189, (bus - 1) * 128 + dev - 1);
}

/* A device at sysname ("3-1.2") on bus, with devnum dev: its folder under
 * SYS/devices, the SYS/bus/usb/devices link, an interface beside it (which
 * is never a match), and its node DEV/bus/usb/BBB/DDD root:root 0664 (when
 * node). serial NULL: none. */
static void usb_device(struct fakesys *fs, const char *sysname, unsigned bus, unsigned dev, const char *vendor,
                       const char *product, const char *serial, const char *class, bool node)
{
        char dir[256], rel[512], val[64], path[4096];
        const char *attrs[][2] = { { "idVendor", vendor }, { "idProduct", product }, { "bDeviceClass", class } };

        snprintf(dir, sizeof(dir), "devices/pci0000:00/0000:00:14.0/usb%u/%s", bus, sysname);
        for (size_t i = 0; i < sizeof(attrs) / sizeof(attrs[0]); i++) {
                snprintf(rel, sizeof(rel), "%s/%s", dir, attrs[i][0]);
                snprintf(val, sizeof(val), "%s\n", attrs[i][1]);
                fakesys_sys_file(fs, rel, val);
        }
        snprintf(rel, sizeof(rel), "%s/busnum", dir);
        snprintf(val, sizeof(val), "%u\n", bus);
        fakesys_sys_file(fs, rel, val);
        snprintf(rel, sizeof(rel), "%s/devnum", dir);
        snprintf(val, sizeof(val), "%u\n", dev);
        fakesys_sys_file(fs, rel, val);
        snprintf(rel, sizeof(rel), "%s/dev", dir);
        snprintf(val, sizeof(val), "%u:%u\n", major(usb_rdev(bus, dev)), minor(usb_rdev(bus, dev)));
        fakesys_sys_file(fs, rel, val);
        if (serial) {
                snprintf(rel, sizeof(rel), "%s/serial", dir);
                snprintf(val, sizeof(val), "%s\n", serial);
                fakesys_sys_file(fs, rel, val);
        }
        snprintf(rel, sizeof(rel), "%s/%s:1.0/bInterfaceClass", dir, sysname);
        fakesys_sys_file(fs, rel, "03\n");
        snprintf(rel, sizeof(rel), "bus/usb/devices/%s", sysname);
        fakesys_sys_link(fs, rel, dir);
        snprintf(rel, sizeof(rel), "bus/usb/devices/%s:1.0", sysname);
        snprintf(path, sizeof(path), "%s/%s:1.0", dir, sysname);
        fakesys_sys_link(fs, rel, path);
        if (!node)
                return;
        snprintf(path, sizeof(path), "%s/bus", fakesys_dev(fs));
        (void) mkdir(path, 0755);
        snprintf(path, sizeof(path), "%s/bus/usb", fakesys_dev(fs));
        (void) mkdir(path, 0755);
        snprintf(path, sizeof(path), "%s/bus/usb/%03u", fakesys_dev(fs), bus);
        (void) mkdir(path, 0755);
        snprintf(path, sizeof(path), "%s/bus/usb/%03u/%03u", fakesys_dev(fs), bus, dev);
        if (mknod(path, S_IFCHR | 0664, usb_rdev(bus, dev)) < 0 || chmod(path, 0664) < 0)
                vl_skip("mknod needs root (%s)", strerror(errno));
}

/* A host like a desktop's: a hub on 1-1, a Logitech receiver behind it, two
 * sticks of one model with their serials, a keyboard without a serial. */
static void desktop(struct fakesys *fs)
{
        usb_device(fs, "1-1", 1, 2, "05e3", "0610", NULL, "09", true);
        usb_device(fs, "1-1.4", 1, 5, "046d", "c52b", NULL, "00", true);
        usb_device(fs, "3-1", 3, 2, "0781", "5581", "4C530001230101100245", "00", true);
        usb_device(fs, "3-2", 3, 3, "0781", "5581", "4C530001230101100246", "00", true);
        usb_device(fs, "3-1.2", 3, 7, "0627", "0001", NULL, "00", true);
}

static struct profile_usb_device by_ids(uint16_t vendor, uint16_t product, const char *serial)
{
        struct profile_usb_device d = { .vendor = vendor, .product = product };

        if (serial)
                snprintf(d.serial, sizeof(d.serial), "%s", serial);
        return d;
}

static struct profile_usb_device by_port(unsigned bus, const char *port)
{
        struct profile_usb_device d = { .by_port = true, .bus = bus };

        snprintf(d.port, sizeof(d.port), "%s", port);
        return d;
}

static void test_find(void **state)
{
        struct fakesys *fs = *state;
        struct profile_usb_device d;
        struct usb_node n;
        struct vl_error e = {};
        char node[4096];

        desktop(fs);
        /* By ids, behind a hub. */
        d = by_ids(0x046d, 0xc52b, NULL);
        assert_int_equal(usb_find(fakesys_roots(fs), &d, "$.usb.devices[0]", &n, &e), 0);
        assert_string_equal(n.sysname, "1-1.4");
        assert_int_equal(n.busnum, 1);
        assert_int_equal(n.devnum, 5);
        assert_int_equal(n.rdev, usb_rdev(1, 5));
        snprintf(node, sizeof(node), "%s/bus/usb/001/005", fakesys_dev(fs));
        assert_string_equal(n.node, node);
        /* By ids and serial: one of two alike. */
        d = by_ids(0x0781, 0x5581, "4C530001230101100246");
        assert_int_equal(usb_find(fakesys_roots(fs), &d, "$.usb.devices[0]", &n, &e), 0);
        assert_string_equal(n.sysname, "3-2");
        assert_int_equal(n.rdev, usb_rdev(3, 3));
        /* By bus and port. */
        d = by_port(3, "1.2");
        assert_int_equal(usb_find(fakesys_roots(fs), &d, "$.usb.devices[0]", &n, &e), 0);
        assert_string_equal(n.sysname, "3-1.2");
        assert_int_equal(n.vendor, 0x0627);
        assert_int_equal(n.product, 0x0001);
        assert_int_equal(n.rdev, usb_rdev(3, 7));
}

static void test_ambiguous(void **state)
{
        struct fakesys *fs = *state;
        struct profile_usb_device d = by_ids(0x0781, 0x5581, NULL);
        struct usb_node n;
        struct vl_error e = {};

        desktop(fs);
        assert_int_equal(usb_find(fakesys_roots(fs), &d, "$.usb.devices[1]", &n, &e), -ENOTUNIQ);
        assert_string_equal(e.path, "$.usb.devices[1]");
        assert_non_null(strstr(e.msg, "2 USB devices are 0781:5581"));
        assert_non_null(strstr(e.msg, "3-1 (bus 3 device 2, serial \"4C530001230101100245\")"));
        assert_non_null(strstr(e.msg, "3-2 (bus 3 device 3, serial \"4C530001230101100246\")"));
        assert_non_null(strstr(e.msg, "\"serial\""));
}

static void test_absent(void **state)
{
        struct fakesys *fs = *state;
        struct profile_usb_device d;
        struct usb_node n;
        struct vl_error e = {};

        /* No USB at all: no bus/usb in SYS. */
        d = by_ids(0x046d, 0xc52b, NULL);
        assert_int_equal(usb_find(fakesys_roots(fs), &d, "$.usb.devices[0]", &n, &e), -ENOENT);
        desktop(fs);
        /* A serial nobody has. */
        d = by_ids(0x0781, 0x5581, "0000");
        assert_int_equal(usb_find(fakesys_roots(fs), &d, "$.usb.devices[0]", &n, &e), -ENOENT);
        assert_non_null(strstr(e.msg, "no USB device 0781:5581 serial \"0000\" is plugged in"));
        /* An empty port. */
        d = by_port(3, "4");
        assert_int_equal(usb_find(fakesys_roots(fs), &d, "$.usb.devices[0]", &n, &e), -ENOENT);
        assert_non_null(strstr(e.msg, "no USB device on bus 3 port 4 (3-4)"));
        /* A hub by ids is not a device to pass; by port: refused. */
        d = by_ids(0x05e3, 0x0610, NULL);
        assert_int_equal(usb_find(fakesys_roots(fs), &d, "$.usb.devices[0]", &n, &e), -ENOENT);
        d = by_port(1, "1");
        assert_int_equal(usb_find(fakesys_roots(fs), &d, "$.usb.devices[0]", &n, &e), -EINVAL);
        assert_non_null(strstr(e.msg, "is a hub"));
}

static void test_node_checked(void **state)
{
        struct fakesys *fs = *state;
        struct profile_usb_device d = by_port(3, "1.2");
        struct usb_node n;
        struct vl_error e = {};
        char path[4096];

        desktop(fs);
        /* The node at BBB/DDD is another device's (udev late, or a node
         * someone made): refused. */
        snprintf(path, sizeof(path), "%s/bus/usb/003/007", fakesys_dev(fs));
        assert_int_equal(unlink(path), 0);
        assert_int_equal(mknod(path, S_IFCHR | 0664, usb_rdev(3, 9)), 0);
        assert_int_equal(usb_find(fakesys_roots(fs), &d, "$.usb.devices[0]", &n, &e), -EINVAL);
        assert_non_null(strstr(e.msg, "is not the node of USB device 3-1.2"));
        /* A link there, to a node of the right number elsewhere in DEV:
         * its folder is root's, so the link is followed, but the node
         * found is what is checked. */
        assert_int_equal(unlink(path), 0);
        assert_int_equal(usb_find(fakesys_roots(fs), &d, "$.usb.devices[0]", &n, &e), -ENOENT);
        /* A folder on the way another account may write: refused. */
        assert_int_equal(mknod(path, S_IFCHR | 0664, usb_rdev(3, 7)), 0);
        snprintf(path, sizeof(path), "%s/bus/usb/003", fakesys_dev(fs));
        assert_int_equal(chown(path, 65534, 65534), 0);
        assert_int_equal(usb_find(fakesys_roots(fs), &d, "$.usb.devices[0]", &n, &e), -EPERM);
}

static void test_plan(void **state)
{
        struct fakesys *fs = *state;
        _cleanup_free_ struct profile *p = calloc(1, sizeof(*p));
        struct vl_warnings w = {};
        struct usb_plan plan;
        struct vl_error e = {};

        desktop(fs);
        assert_non_null(p);
        profile_init(p, "usb");
        p->usb.n_devices = 3;
        p->usb.devices[0] = by_ids(0x046d, 0xc52b, NULL);
        p->usb.devices[1] = by_ids(0x1050, 0x0407, NULL); /* not plugged in */
        p->usb.devices[2] = by_port(3, "1.2");
        /* Required and missing: refused, before anything. */
        assert_int_equal(usb_plan(fakesys_roots(fs), p, &plan, &e, &w), -ENOENT);
        assert_string_equal(e.path, "$.usb.devices[1]");
        /* Optional: left out, with the warning. */
        p->usb.devices[1].optional = true;
        assert_int_equal(usb_plan(fakesys_roots(fs), p, &plan, &e, &w), 0);
        assert_int_equal(plan.n, 2);
        assert_int_equal(plan.nodes[0].device, 0);
        assert_int_equal(plan.nodes[1].device, 2);
        assert_int_equal(w.n, 1);
        assert_non_null(strstr(w.msg[0], "$.usb.devices[1]: no USB device 1050:0407 is plugged in"));
        /* By ids and by port, one device: refused. */
        p->usb.devices[1] = by_ids(0x0627, 0x0001, NULL);
        assert_int_equal(usb_plan(fakesys_roots(fs), p, &plan, &e, &w), -EINVAL);
        assert_string_equal(e.path, "$.usb.devices[2]");
        assert_non_null(strstr(e.msg, "is the one of $.usb.devices[1] too"));
}

static void test_hand_over_and_undo(void **state)
{
        struct fakesys *fs = *state;
        _cleanup_free_ struct journal *j = calloc(1, sizeof(*j));
        struct profile_usb_device d = by_ids(0x0627, 0x0001, NULL);
        struct journal_entry x;
        struct usb_node n;
        struct host_env h;
        struct vl_error e = {};
        struct stat st, fst;
        int fd;

        desktop(fs);
        assert_int_equal(usb_find(fakesys_roots(fs), &d, "$.usb.devices[0]", &n, &e), 0);
        assert_int_equal(usb_hand_over(fakesys_roots(fs), "usb", &n, 65534, 65534, &e), 0);
        assert_int_equal(stat(n.node, &st), 0);
        assert_int_equal(st.st_uid, 65534);
        assert_int_equal(st.st_gid, 65534);
        /* Journaled with the owner before. */
        assert_int_equal(journal_load(fakesys_roots(fs), "usb", j, &e), 0);
        assert_int_equal(j->n_entries, 1);
        x = j->entries[0];
        assert_int_equal(x.kind, JOURNAL_USB);
        assert_string_equal(x.usb.node, n.node);
        assert_int_equal(x.usb.rdev, usb_rdev(3, 7));
        assert_int_equal(x.usb.uid, 0);
        assert_int_equal(x.usb.gid, 0);
        assert_int_equal(x.usb.mode, 0664);

        /* QEMU's fd: read-write, on that very node. A kernel without
         * usbcore has no driver for major 189 (ENXIO): the open was still
         * of the planned node, which is what is checked then. */
        fd = usb_open(&n, &e);
        if (fd == -ENXIO || fd == -ENODEV) {
                assert_non_null(strstr(e.msg, n.node));
        } else {
                assert_true(fd >= 0);
                assert_int_equal(fstat(fd, &fst), 0);
                assert_int_equal(fst.st_rdev, usb_rdev(3, 7));
                assert_int_equal(fcntl(fd, F_GETFL) & O_ACCMODE, O_RDWR);
                assert_true(fcntl(fd, F_GETFD) & FD_CLOEXEC);
                close(fd);
        }

        fakesys_host_env(fs, &h);
        assert_int_equal(host_undo(&h, "usb", &e, NULL), 0);
        assert_int_equal(stat(n.node, &st), 0);
        assert_int_equal(st.st_uid, 0);
        assert_int_equal(st.st_gid, 0);
        assert_int_equal(st.st_mode & 07777, 0664);
        assert_int_equal(journal_load(fakesys_roots(fs), "usb", j, &e), -ENOENT);
        /* Idempotent. */
        assert_int_equal(devnode_undo_entry(fakesys_roots(fs), &x, &e), 0);
        assert_int_equal(stat(n.node, &st), 0);
        assert_int_equal(st.st_uid, 0);

        /* Unplugged and another device got the number's name: neither the
         * hand-over, nor the fd, nor the undo touch it. */
        assert_int_equal(unlink(n.node), 0);
        assert_int_equal(mknod(n.node, S_IFCHR | 0664, usb_rdev(3, 8)), 0);
        assert_int_equal(chown(n.node, 1000, 1000), 0);
        assert_int_equal(usb_hand_over(fakesys_roots(fs), "usb", &n, 65534, 65534, &e), -ESTALE);
        assert_int_equal(usb_open(&n, &e), -ESTALE);
        assert_int_equal(devnode_undo_entry(fakesys_roots(fs), &x, &e), 0);
        assert_int_equal(stat(n.node, &st), 0);
        assert_int_equal(st.st_uid, 1000);
        /* A usb entry never chowns another kind of node, even one naming
         * its number. */
        assert_int_equal(unlink(n.node), 0);
        assert_int_equal(mknod(n.node, S_IFCHR | 0620, makedev(4, 7)), 0);
        assert_int_equal(chown(n.node, 1000, 5), 0);
        x.usb.rdev = makedev(4, 7);
        assert_int_equal(devnode_undo_entry(fakesys_roots(fs), &x, &e), 0);
        assert_int_equal(stat(n.node, &st), 0);
        assert_int_equal(st.st_uid, 1000);
}

/* A USB stick whose partition the host has mounted: refused, naming the
 * mount, as a disk given to QEMU is; the same stick unmounted is taken. */
static void test_disk_in_use(void **state)
{
        struct fakesys *fs = *state;
        struct profile_usb_device d = by_ids(0x0781, 0x5583, NULL);
        struct usb_node n;
        struct vl_error e = {};
        const char *lun = "pci0000:00/0000:00:14.0/usb3/3-4/3-4:1.0/host6/target6:0:0/6:0:0:0/block";
        char part[512];

        usb_device(fs, "3-4", 3, 9, "0781", "5583", "S1", "00", true);
        fakesys_block(fs, lun, "sdb", "8:16");
        snprintf(part, sizeof(part), "%s/sdb", lun);
        fakesys_block(fs, part, "sdb1", "8:17");
        assert_int_equal(usb_find(fakesys_roots(fs), &d, "$.usb.devices[0]", &n, &e), 0);
        fakesys_mount(fs, "8:17", "/media/stick", "vfat", "/dev/sdb1");
        assert_int_equal(usb_find(fakesys_roots(fs), &d, "$.usb.devices[0]", &n, &e), -EBUSY);
        assert_string_equal(e.path, "$.usb.devices[0]");
        assert_non_null(strstr(e.msg, "USB device 3-4 (0781:5583) is the disk /dev/sdb, in use on the host"));
        assert_non_null(strstr(e.msg, "/media/stick"));
}

/* What `status` says of the USB devices: valid JSON whatever is attached,
 * "hotplug" (never "state": the VM's), and DEVICE_DELETED of another
 * device's id ignored. */
static void test_hotplug_describe(void **state)
{
        struct fakesys *fs = *state;
        _cleanup_free_ struct profile *p = calloc(1, sizeof(*p));
        struct hotplug_usb h;
        struct usb_plan plan;
        struct host_env env;
        struct vl_error e = {};
        char buf[1400] = "\"hostdevs\":[]", obj[1500];
        json_t *j, *a;

        desktop(fs);
        assert_non_null(p);
        profile_init(p, "usb");
        p->usb.n_devices = 2;
        p->usb.devices[0] = by_port(3, "1.2");
        p->usb.devices[1] = by_ids(0x1050, 0x0407, NULL);
        p->usb.devices[1].optional = true;
        assert_int_equal(usb_plan(fakesys_roots(fs), p, &plan, &e, NULL), 0);
        fakesys_host_env(fs, &env);
        hotplug_usb_init(&h, p, &env, 65534, 65534, &plan);
        hotplug_usb_device_deleted(&h, "gpu");
        hotplug_usb_device_deleted(&h, "usbhost7");
        assert_false(h.deleted[0] || h.deleted[1]);
        hotplug_usb_device_deleted(&h, "usbhost1");
        assert_true(h.deleted[1]);
        hotplug_usb_describe(&h, buf, sizeof(buf));
        snprintf(obj, sizeof(obj), "{%s}", buf);
        j = json_loads(obj, JSON_REJECT_DUPLICATES, NULL);
        assert_non_null(j);
        a = json_object_get(j, "usb");
        assert_int_equal(json_array_size(a), 2);
        assert_string_equal(json_string_value(json_object_get(json_array_get(a, 0), "id")), "usbhost0");
        assert_string_equal(json_string_value(json_object_get(json_array_get(a, 0), "device")), "bus 3 port 1.2");
        assert_string_equal(json_string_value(json_object_get(json_array_get(a, 0), "host")), "3-1.2");
        assert_string_equal(json_string_value(json_object_get(json_array_get(a, 0), "hotplug")), "attached");
        assert_string_equal(json_string_value(json_object_get(json_array_get(a, 1), "device")), "1050:0407");
        assert_string_equal(json_string_value(json_object_get(json_array_get(a, 1), "hotplug")), "detached");
        assert_null(json_object_get(json_array_get(a, 1), "state"));
        json_decref(j);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_find, setup, teardown),
                cmocka_unit_test_setup_teardown(test_ambiguous, setup, teardown),
                cmocka_unit_test_setup_teardown(test_absent, setup, teardown),
                cmocka_unit_test_setup_teardown(test_node_checked, setup, teardown),
                cmocka_unit_test_setup_teardown(test_plan, setup, teardown),
                cmocka_unit_test_setup_teardown(test_hand_over_and_undo, setup, teardown),
                cmocka_unit_test_setup_teardown(test_disk_in_use, setup, teardown),
                cmocka_unit_test_setup_teardown(test_hotplug_describe, setup, teardown),
        };
        return vl_run_tests(tests, NULL, NULL);
}
