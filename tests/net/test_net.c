/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* net without the kernel: net_check() against a fake SYS/class/net, link
 * names, and the refusals that come before any netlink message (a journal
 * of another run, a live launcher). The real links: net.sh. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "fakesys.h"
#include "host/journal.h"
#include "host/net.h"
#include "host/undo.h"

struct ctx {
        struct fakesys *fs;
        struct profile p;
};

static void mkdirf(struct ctx *c, const char *rel)
{
        char path[4096];

        snprintf(path, sizeof(path), "%s/%s", fakesys_sys(c->fs), rel);
        for (char *s = path + strlen(fakesys_sys(c->fs)) + 1; (s = strchr(s, '/')); s++) {
                *s = '\0';
                (void) mkdir(path, 0755);
                *s = '/';
        }
        assert_true(mkdir(path, 0755) == 0 || errno == EEXIST);
}

static int setup(void **state)
{
        struct ctx *c = calloc(1, sizeof(*c));

        assert_non_null(c);
        c->fs = fakesys_new();
        profile_init(&c->p, "win10");
        snprintf(c->p.source, sizeof(c->p.source), "/etc/vfio-launch/win10.json");
        mkdirf(c, "class/net/eth0");
        mkdirf(c, "class/net/br0/bridge");
        mkdirf(c, "class/net/wlan0");
        *state = c;
        return 0;
}

static int teardown(void **state)
{
        struct ctx *c = *state;

        fakesys_free(c->fs);
        free(c);
        return 0;
}

static void add_nic(struct profile *p, enum nic_backend b, const char *dev, const char *bridge)
{
        struct profile_nic *n = &p->nics[p->n_nics];

        n->backend = b;
        snprintf(n->dev, sizeof(n->dev), "%s", dev);
        snprintf(n->bridge, sizeof(n->bridge), "%s", bridge);
        profile_derive_mac(p->name, p->n_nics, n->mac);
        p->n_nics++;
}

static void check_ok(void **state)
{
        struct ctx *c = *state;
        struct vl_error e = {};

        assert_int_equal(net_check(&c->p, fakesys_sys(c->fs), &e), 0); /* no NIC */
        add_nic(&c->p, NIC_USER, "", "");
        add_nic(&c->p, NIC_MACVTAP, "eth0", "");
        add_nic(&c->p, NIC_TAP, "", "br0");
        assert_int_equal(net_check(&c->p, fakesys_sys(c->fs), &e), 0);
}

static void check_missing_lower(void **state)
{
        struct ctx *c = *state;
        struct vl_error e = {};

        add_nic(&c->p, NIC_USER, "", "");
        add_nic(&c->p, NIC_MACVTAP, "nosuch0", "");
        assert_int_equal(net_check(&c->p, fakesys_sys(c->fs), &e), -ENODEV);
        assert_string_equal(e.path, "$.nics[1].dev");
        assert_string_equal(e.file, "/etc/vfio-launch/win10.json");
        assert_non_null(strstr(e.msg, "\"nosuch0\" does not exist"));
        assert_non_null(strstr(e.msg, "class/net/nosuch0"));
        assert_non_null(strstr(e.msg, "name an existing interface"));
}

static void check_missing_bridge(void **state)
{
        struct ctx *c = *state;
        struct vl_error e = {};

        add_nic(&c->p, NIC_TAP, "", "br9");
        assert_int_equal(net_check(&c->p, fakesys_sys(c->fs), &e), -ENODEV);
        assert_string_equal(e.path, "$.nics[0].bridge");
        assert_non_null(strstr(e.msg, "\"br9\" does not exist"));
        assert_non_null(strstr(e.msg, "create it first"));
}

static void check_not_a_bridge(void **state)
{
        struct ctx *c = *state;
        struct vl_error e = {};

        add_nic(&c->p, NIC_MACVTAP, "eth0", "");
        add_nic(&c->p, NIC_TAP, "", "wlan0");
        assert_int_equal(net_check(&c->p, fakesys_sys(c->fs), &e), -ENODEV);
        assert_string_equal(e.path, "$.nics[1].bridge");
        assert_non_null(strstr(e.msg, "\"wlan0\" is not a bridge"));
}

static void check_bad_name(void **state)
{
        struct ctx *c = *state;
        struct vl_error e = {};

        /* The profile loader refuses these; net_check must not build a path
         * out of one anyway. */
        add_nic(&c->p, NIC_MACVTAP, "../../x", "");
        assert_int_equal(net_check(&c->p, fakesys_sys(c->fs), &e), -EINVAL);
        assert_string_equal(e.path, "$.nics[0].dev");
}

static void link_names(void **state)
{
        char buf[IFNAMSIZ], small[8];
        (void) state;

        assert_int_equal(net_link_name("win10", 0, buf, sizeof(buf)), 0);
        assert_string_equal(buf, "vl-win10-0");
        assert_int_equal(net_link_name("a-very-long-vm-name-indeed", 7, buf, sizeof(buf)), 0);
        assert_string_equal(buf, "vl-a-very-lon-7");
        assert_int_equal(net_link_name("a-very-long-vm-name-indeed", 12, buf, sizeof(buf)), 0);
        assert_string_equal(buf, "vl-a-very-lo-12"); /* the index survives the cut */
        assert_int_equal(strlen(buf), IFNAMSIZ - 1);
        assert_int_equal(net_link_name("win10", 0, small, sizeof(small)), -EINVAL);
}

/* This host's roots, with proc from elsewhere when a test needs a live pid 1. */
static struct host_roots roots_of(struct ctx *c, const char *proc)
{
        struct host_roots r = *fakesys_roots(c->fs);

        r.proc = proc;
        return r;
}

static void assert_no_fds(const int *fds)
{
        for (unsigned i = 0; i < PROFILE_NICS_MAX; i++)
                assert_int_equal(fds[i], -1);
}

/* A journal another launcher left: net_setup refuses before any link. */
static void setup_refuses_foreign_journal(void **state)
{
        struct ctx *c = *state;
        struct host_roots roots = roots_of(c, fakesys_proc(c->fs));
        struct journal *j = malloc(sizeof(*j));
        struct vl_error e = {};
        int fds[PROFILE_NICS_MAX];

        assert_non_null(j);
        journal_init(j, "win10", &roots);
        j->launcher_pid = getpid() + 1;
        assert_int_equal(journal_create(&roots, j, &e), 0);
        add_nic(&c->p, NIC_MACVTAP, "eth0", "");
        assert_int_equal(net_setup(&roots, &c->p, fds, &e), -EEXIST);
        assert_non_null(strstr(e.msg, "vfio-launch recover"));
        assert_no_fds(fds);
        assert_int_equal(journal_load(&roots, "win10", j, &e), 0);
        assert_int_equal(j->n_entries, 0);
        free(j);
}

static void setup_without_host_nics(void **state)
{
        struct ctx *c = *state;
        struct host_roots roots = roots_of(c, fakesys_proc(c->fs));
        struct vl_error e = {};
        int fds[PROFILE_NICS_MAX];

        add_nic(&c->p, NIC_USER, "", "");
        assert_int_equal(net_setup(&roots, &c->p, fds, &e), 0);
        assert_no_fds(fds);
}

/* undo: nothing to do without a journal; a live launcher's links stay. */
static void undo_refuses_live_run(void **state)
{
        struct ctx *c = *state;
        struct host_roots roots = roots_of(c, "/proc"); /* pid 1 is alive there */
        const struct journal_entry x = { .kind = JOURNAL_MACVTAP, .link = { .name = "vl-win10-0", .peer = "eth0" } };
        struct journal *j = malloc(sizeof(*j));
        struct host_env h;
        struct vl_error e = {};

        assert_non_null(j);
        host_env_init(&h, &roots);
        assert_int_equal(host_undo(&h, "win10", &e, NULL), 0);
        assert_int_equal(journal_add_entry(&roots, "win10", &x, &e), 0);
        assert_int_equal(journal_load(&roots, "win10", j, &e), 0);
        j->launcher_pid = 1;
        j->launcher_start = 0;
        assert_int_equal(journal_save(&roots, j, &e), 0);
        assert_int_equal(host_undo(&h, "win10", &e, NULL), -EBUSY);
        assert_non_null(strstr(e.msg, "still running"));
        assert_int_equal(journal_load(&roots, "win10", j, &e), 0);
        assert_int_equal(j->n_entries, 1);
        free(j);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(check_ok, setup, teardown),
                cmocka_unit_test_setup_teardown(check_missing_lower, setup, teardown),
                cmocka_unit_test_setup_teardown(check_missing_bridge, setup, teardown),
                cmocka_unit_test_setup_teardown(check_not_a_bridge, setup, teardown),
                cmocka_unit_test_setup_teardown(check_bad_name, setup, teardown),
                cmocka_unit_test(link_names),
                cmocka_unit_test_setup_teardown(setup_refuses_foreign_journal, setup, teardown),
                cmocka_unit_test_setup_teardown(setup_without_host_nics, setup, teardown),
                cmocka_unit_test_setup_teardown(undo_refuses_live_run, setup, teardown),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
