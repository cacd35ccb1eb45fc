/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * hotplug: which hostdevs a detach/attach takes together, and how a name
 * is resolved. The QMP and sysfs sides run for real in tests/vm (hotplug).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "fakesys.h"
#include "run/hotplug.h"

struct fixture {
        struct fakesys *fs;
        struct host_env env;
        struct profile p;
        struct hotplug h;
};

static void hostdev(struct profile *p, const char *addr, const char *id, int bus, bool same_slot)
{
        struct profile_hostdev *h = &p->hostdevs[p->n_hostdevs++];

        assert_int_equal(pci_addr_parse(addr, &h->host), 0);
        strcpy(h->id, id);
        if (same_slot)
                h->guest.same_slot = true;
        else if (bus == 0)
                h->guest.automatic = true;
        else
                h->guest.bus = (unsigned) bus;
}

/* A GPU + audio pair in group 12 (one guest slot), a NIC alone in group 13
 * on a port of its own, and two functions of a USB card in group 14 that
 * the profile puts on two different ports. */
static int setup(void **state)
{
        struct fixture *f = calloc(1, sizeof(*f));
        struct vl_error e = {};

        f->fs = fakesys_new();
        fakesys_iommu_on(f->fs);
        fakesys_driver(f->fs, "vfio-pci", "vfio_pci", true);
        fakesys_device(f->fs, "0000:01:00.0", 0x10de, 0x11c0, 0x030000, 12, NULL, "vfio-pci");
        fakesys_device(f->fs, "0000:01:00.1", 0x10de, 0x0e0b, 0x040300, 12, NULL, "vfio-pci");
        fakesys_device(f->fs, "0000:02:00.0", 0x8086, 0x10d3, 0x020000, 13, NULL, "vfio-pci");
        fakesys_device(f->fs, "0000:03:00.0", 0x1912, 0x0014, 0x0c0330, 14, NULL, "vfio-pci");
        fakesys_device(f->fs, "0000:03:00.1", 0x1912, 0x0015, 0x0c0330, 14, NULL, "vfio-pci");
        fakesys_host_env(f->fs, &f->env);
        profile_init(&f->p, "win10");
        hostdev(&f->p, "0000:01:00.0", "gpu", 6, false);
        hostdev(&f->p, "0000:01:00.1", "gpuaudio", 0, true);
        hostdev(&f->p, "0000:02:00.0", "nic", 0, false);
        hostdev(&f->p, "0000:03:00.0", "usb0", 3, false);
        hostdev(&f->p, "0000:03:00.1", "usb1", 4, false);
        assert_int_equal(hotplug_init(&f->h, &f->p, &f->env, 1000, 1000, &e), 0);
        *state = f;
        return 0;
}

static int teardown(void **state)
{
        struct fixture *f = *state;

        fakesys_free(f->fs);
        free(f);
        return 0;
}

static void test_init_layout(void **state)
{
        struct fixture *f = *state;

        /* The same places as on the command line: the pair on pci.6 as
         * functions 0 and 1, function 0 multifunction. */
        assert_int_equal(f->h.hd[0].bus, 6);
        assert_int_equal(f->h.hd[0].function, 0);
        assert_true(f->h.hd[0].multifunction);
        assert_int_equal(f->h.hd[1].bus, 6);
        assert_int_equal(f->h.hd[1].function, 1);
        assert_string_equal(f->h.hd[1].host, "0000:01:00.1");
        assert_int_equal(f->h.group[0], 12);
        assert_int_equal(f->h.group[2], 13);
        for (unsigned i = 0; i < f->p.n_hostdevs; i++)
                assert_int_equal(f->h.state[i], HOTPLUG_ATTACHED);
}

static void test_find(void **state)
{
        struct fixture *f = *state;

        assert_int_equal(hotplug_find(&f->h, "gpuaudio"), 1);
        assert_int_equal(hotplug_find(&f->h, "0000:02:00.0"), 2);
        assert_int_equal(hotplug_find(&f->h, "03:00.1"), 4);
        assert_int_equal(hotplug_find(&f->h, "gpu0"), -ENOENT);
        assert_int_equal(hotplug_find(&f->h, "0000:09:00.0"), -ENOENT);
        assert_int_equal(hotplug_find(&f->h, ""), -ENOENT);
}

static void expect_closure(struct fixture *f, unsigned i, const char *want)
{
        bool set[PROFILE_HOSTDEVS_MAX];
        char got[128] = "";

        hotplug_closure(&f->h, i, set);
        for (unsigned k = 0; k < PROFILE_HOSTDEVS_MAX; k++)
                if (set[k]) {
                        assert_true(k < f->p.n_hostdevs);
                        strcat(got, got[0] ? " " : "");
                        strcat(got, f->h.hd[k].id);
                }
        assert_string_equal(got, want);
}

static void test_closure(void **state)
{
        struct fixture *f = *state;

        expect_closure(f, 0, "gpu gpuaudio");   /* same group, same slot */
        expect_closure(f, 1, "gpu gpuaudio");   /* naming the audio takes the GPU */
        expect_closure(f, 2, "nic");
        expect_closure(f, 3, "usb0 usb1");      /* same group, two slots */
        expect_closure(f, 4, "usb0 usb1");
}

/* Transitive: a device sharing the NIC's port would pull in its group too. */
static void test_closure_transitive(void **state)
{
        struct fixture *f = *state;

        f->h.hd[2].bus = f->h.hd[3].bus; /* the NIC on usb0's port */
        expect_closure(f, 2, "nic usb0 usb1");
        expect_closure(f, 4, "nic usb0 usb1");
        expect_closure(f, 0, "gpu gpuaudio");
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int main(void)
{
        const struct CMUnitTest tests[] = {
                T(test_init_layout),
                T(test_find),
                T(test_closure),
                T(test_closure_transitive),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
