/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * vhost-net and the SPICE agent, the parts that are not a golden command
 * line: vhost_net_decide()'s rule for every kind of NIC against a /dev that
 * has or lacks vhost-net (a temp folder; a regular file stands for the
 * node), the fd layout with a vhost-net slot after each tap (init, place and
 * the builder agree), the builder refusing a vhost fd on a non-virtio NIC,
 * and the agent's devices and -spice switches.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "host/vhost.h"
#include "qemu/qemu_argv.h"
#include "vl_test.h"

static char dev[PATH_MAX];

static int setup(void **state)
{
        (void) state;
        snprintf(dev, sizeof(dev), "/tmp/vl-vhost.XXXXXX");
        return mkdtemp(dev) ? 0 : -1;
}

static int teardown(void **state)
{
        char path[PATH_MAX + 16];

        (void) state;
        snprintf(path, sizeof(path), "%s/vhost-net", dev);
        (void) unlink(path);
        return rmdir(dev);
}

static void node(bool present)
{
        char path[PATH_MAX + 16];

        snprintf(path, sizeof(path), "%s/vhost-net", dev);
        if (present) {
                int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
                assert_true(fd >= 0);
                close(fd);
        } else
                (void) unlink(path);
}

static struct profile *vm(enum accel_type accel)
{
        struct profile *p = test_calloc(1, sizeof(*p));

        profile_init(p, "t");
        p->accel = accel;
        p->firmware.type = FIRMWARE_BIOS;
        if (accel == ACCEL_TCG)
                strcpy(p->cpu.model, "max");
        return p;
}

static void nic(struct profile *p, const char *model, enum nic_backend backend, enum profile_switch vhost)
{
        struct profile_nic *n = &p->nics[p->n_nics++];

        strcpy(n->model, model);
        n->backend = backend;
        if (backend == NIC_TAP)
                strcpy(n->bridge, "br0");
        n->vhost = vhost;
}

static void test_decide(void **state)
{
        struct host_roots roots = { .dev = dev };
        struct vhost_choice c[PROFILE_NICS_MAX];
        struct vl_warnings w = {};
        struct vl_error e = {};
        struct profile *p = vm(ACCEL_KVM);

        (void) state;
        nic(p, "virtio-net-pci", NIC_TAP, SWITCH_DEFAULT);
        nic(p, "virtio-net-pci", NIC_MACVTAP, SWITCH_ON);
        strcpy(p->nics[1].dev, "eth0");
        nic(p, "virtio-net-pci", NIC_TAP, SWITCH_OFF);
        nic(p, "e1000e", NIC_TAP, SWITCH_DEFAULT);
        nic(p, "virtio-net-pci", NIC_USER, SWITCH_DEFAULT);

        node(true);
        assert_int_equal(vhost_net_decide(p, &roots, c, &e, &w), 0);
        assert_true(c[0].on);
        assert_true(c[1].on);
        assert_false(c[2].on);
        assert_string_equal(c[2].why, "\"vhost\": false");
        assert_false(c[3].on);
        assert_non_null(strstr(c[3].why, "model e1000e"));
        assert_false(c[4].on);
        assert_non_null(strstr(c[4].why, "backend user"));
        assert_false(c[5].on); /* no NIC */
        assert_int_equal(w.n, 0);

        /* No node: the default falls back with a warning, true refuses. */
        node(false);
        assert_int_equal(vhost_net_decide(p, &roots, c, &e, &w), -ENOENT);
        assert_string_equal(e.path, "$.nics[1].vhost");
        assert_non_null(strstr(e.msg, "modprobe vhost_net"));
        p->nics[1].vhost = SWITCH_DEFAULT;
        w = (struct vl_warnings) {};
        assert_int_equal(vhost_net_decide(p, &roots, c, &e, &w), 0);
        assert_false(c[0].on);
        assert_false(c[1].on);
        assert_non_null(strstr(c[0].why, "cannot open"));
        assert_int_equal(w.n, 2);
        assert_non_null(strstr(w.msg[0], "$.nics[0]: cannot open"));
        assert_non_null(strstr(w.msg[1], "$.nics[1]: cannot open"));
        test_free(p);
}

/* TCG: off unless asked for (with a warning); asked for, it is used. */
static void test_decide_tcg(void **state)
{
        struct host_roots roots = { .dev = dev };
        struct vhost_choice c[PROFILE_NICS_MAX];
        struct vl_warnings w = {};
        struct vl_error e = {};
        struct profile *p = vm(ACCEL_TCG);

        (void) state;
        nic(p, "virtio-net-pci", NIC_TAP, SWITCH_DEFAULT);
        nic(p, "virtio-net-pci", NIC_TAP, SWITCH_ON);
        node(true);
        assert_int_equal(vhost_net_decide(p, &roots, c, &e, &w), 0);
        assert_false(c[0].on);
        assert_string_equal(c[0].why, "accel \"tcg\"");
        assert_true(c[1].on);
        assert_int_equal(w.n, 0); /* the TCG default is userspace, said by print only */
        test_free(p);
}

/* QMP, tools' QMP, tap0 + its vhost-net, tap1 (no vhost), user, the TPM. */
static void test_layout(void **state)
{
        struct profile *p = vm(ACCEL_KVM);
        const bool vhost[PROFILE_NICS_MAX] = { true, false, true };
        int nics[PROFILE_NICS_MAX] = { 30, 31, -1, -1, -1, -1, -1, -1 };
        int vfds[PROFILE_NICS_MAX] = { 40, -1, -1, -1, -1, -1, -1, -1 }, out[QEMU_FDS_MAX];
        struct qemu_fd_layout l;

        (void) state;
        nic(p, "virtio-net-pci", NIC_TAP, SWITCH_DEFAULT);
        nic(p, "virtio-net-pci", NIC_TAP, SWITCH_OFF);
        nic(p, "virtio-net-pci", NIC_USER, SWITCH_DEFAULT);
        p->tpm.enabled = true;
        p->tpm.model = TPM_MODEL_CRB;
        /* vhost[2] asks for a slot for a "user" NIC: it gets none */
        qemu_fd_layout_init(&l, p, true, vhost, NULL);
        assert_int_equal(l.nic[0], 5);
        assert_int_equal(l.vhost[0], 6);
        assert_int_equal(l.nic[1], 7);
        assert_int_equal(l.vhost[1], -1);
        assert_int_equal(l.nic[2], -1);
        assert_int_equal(l.vhost[2], -1);
        assert_int_equal(l.tpm, 8);
        assert_int_equal(l.n, 6);
        assert_int_equal(qemu_fd_layout_place(&l, 20, 21, nics, vfds, 50, NULL, out), 6);
        assert_int_equal(out[2], 30);
        assert_int_equal(out[3], 40);
        assert_int_equal(out[4], 31);
        assert_int_equal(out[5], 50);
        /* a slot with no fd for it */
        assert_int_equal(qemu_fd_layout_place(&l, 20, 21, nics, NULL, 50, NULL, out), -EBADF);
        test_free(p);
}

static bool has(const struct qemu_cmd *c, const char *opt, const char *value)
{
        for (size_t i = 0; i + 1 < c->n_argv; i++)
                if (strcmp(c->argv[i], opt) == 0 && strcmp(c->argv[i + 1], value) == 0)
                        return true;
        return false;
}

static struct qemu_cmd *build(const struct profile *p, const bool vhost[PROFILE_NICS_MAX], struct vl_error *e,
                              int *ret)
{
        struct hostinfo h = { .qemu_path = "/usr/bin/qemu-system-x86_64", .version = { 7, 2, 0 } };
        struct qemu_runtime rt;
        struct qemu_cmd *c = NULL;

        qemu_runtime_init(&rt);
        qemu_fd_layout_init(&rt.fds, p, false, vhost, NULL);
        strcpy(rt.machine, "q35");
        rt.spice_port = 5900;
        *ret = qemu_argv_build(p, &h, &rt, &c, e, NULL);
        return c;
}

static void test_build_vhost(void **state)
{
        const bool vhost[PROFILE_NICS_MAX] = { true };
        struct profile *p = vm(ACCEL_KVM);
        struct vl_error e = {};
        struct qemu_cmd *c;
        int r;

        (void) state;
        nic(p, "virtio-net-pci", NIC_TAP, SWITCH_DEFAULT);
        c = build(p, vhost, &e, &r);
        assert_int_equal(r, 0);
        assert_true(has(c, "-netdev", "tap,fd=4,vhost=on,vhostfd=5,id=hostnet0"));
        qemu_cmd_free(c);
        /* a layout that gives an e1000e a vhost-net fd: refused */
        strcpy(p->nics[0].model, "e1000e");
        c = build(p, vhost, &e, &r);
        assert_int_equal(r, -EINVAL);
        assert_null(c);
        assert_string_equal(e.path, "$.nics[0]");
        test_free(p);
}

static void test_agent(void **state)
{
        struct profile *p = vm(ACCEL_KVM);
        struct vl_error e = {};
        struct qemu_cmd *c;
        int r;

        (void) state;
        p->display.type = DISPLAY_SPICE;
        assert_true(profile_spice_agent(p));
        c = build(p, NULL, &e, &r);
        assert_int_equal(r, 0);
        assert_true(has(c, "-device", "virtio-serial-pci,id=virtio-serial0,bus=pci.1,addr=0x0"));
        assert_true(has(c, "-chardev", "spicevmc,id=vdagent0,name=vdagent"));
        assert_true(has(c, "-device", "virtserialport,bus=virtio-serial0.0,nr=1,chardev=vdagent0,id=channel0,"
                                      "name=com.redhat.spice.0"));
        assert_true(has(c, "-spice", "port=5900,addr=127.0.0.1,disable-ticketing=on"));
        qemu_cmd_free(c);

        p->display.clipboard = SWITCH_OFF;
        p->display.file_transfer = SWITCH_ON;
        c = build(p, NULL, &e, &r);
        assert_int_equal(r, 0);
        assert_true(has(c, "-spice", "port=5900,addr=127.0.0.1,disable-ticketing=on,disable-copy-paste=on"));
        qemu_cmd_free(c);

        /* agent off: no channel, and the switches are the loader's error */
        p->display.agent = SWITCH_OFF;
        assert_false(profile_spice_agent(p));
        c = build(p, NULL, &e, &r);
        assert_int_equal(r, -EINVAL);
        assert_string_equal(e.path, "$.display.clipboard");
        p->display.clipboard = p->display.file_transfer = SWITCH_DEFAULT;
        c = build(p, NULL, &e, &r);
        assert_int_equal(r, 0);
        for (size_t i = 0; i < c->n_argv; i++)
                assert_null(strstr(c->argv[i], "vdagent"));
        qemu_cmd_free(c);

        /* no SPICE, no agent */
        p->display.agent = SWITCH_DEFAULT;
        p->display.type = DISPLAY_NONE;
        assert_false(profile_spice_agent(p));
        test_free(p);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_decide),
                cmocka_unit_test(test_decide_tcg),
                cmocka_unit_test(test_layout),
                cmocka_unit_test(test_build_vhost),
                cmocka_unit_test(test_agent),
        };
        return vl_run_tests(tests, setup, teardown);
}
