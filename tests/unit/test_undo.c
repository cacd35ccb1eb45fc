/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * host_undo(): the one way back. Against the fake host (tests/fakesys): the
 * GPU pair of a run on vfio-pci, and entries of every kind in its journal.
 * Checks that every kind has a handler, that the entries go back newest
 * first and before the devices — but the host's hand-over after them — and that what cannot be given back stays in
 * the journal — alone — for `recover`.
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
#include <unistd.h>
#include <cmocka.h>

#include "fakesys.h"
#include "host/journal.h"
#include "host/undo.h"

#define GPU "0000:01:00.0"
#define AUDIO "0000:01:00.1"

struct fixture {
        struct fakesys *fs;
        struct host_env host;
        struct profile p;
        char dir2m[512], dir1g[512];
        /* what was written to a hugepage pool, in order: 'M' 2M, 'G' 1G */
        char pool_writes[8];
        unsigned bind_writes_at_first_pool_write;
        bool pool_seen;
        /* the hand-over's module load: the GPU's driver at that time */
        char gpu_driver_at_module_load[64];
        unsigned module_loads, pool_writes_at_module_load;
};

static void write_file(const char *path, const char *text)
{
        FILE *f = fopen(path, "we");

        assert_non_null(f);
        fputs(text, f);
        assert_int_equal(fclose(f), 0);
}

static int mkdir_p(const char *path)
{
        char buf[4096];

        snprintf(buf, sizeof(buf), "%s", path);
        for (char *s = buf + 1; *s; s++)
                if (*s == '/') {
                        *s = '\0';
                        if (mkdir(buf, 0755) < 0 && errno != EEXIST)
                                return -errno;
                        *s = '/';
                }
        return mkdir(buf, 0755) < 0 && errno != EEXIST ? -errno : 0;
}

/* A pool of 4 pages of page_kib, all free. */
static void pool(struct fixture *f, unsigned page_kib)
{
        char path[4096];
        const char *files[] = { "nr_hugepages", "free_hugepages", "resv_hugepages" };

        snprintf(path, sizeof(path), "%s/kernel/mm/hugepages/hugepages-%ukB", fakesys_sys(f->fs), page_kib);
        assert_int_equal(mkdir_p(path), 0);
        for (size_t i = 0; i < 3; i++) {
                char file[4200];
                snprintf(file, sizeof(file), "%s/%s", path, files[i]);
                write_file(file, i == 2 ? "0\n" : "4\n");
        }
}

static int pool_write(void *userdata, const char *path, const char *data, unsigned timeout_ms)
{
        struct fixture *f = userdata;
        size_t n = strlen(f->pool_writes);

        if (!f->pool_seen) {
                f->bind_writes_at_first_pool_write = fakesys_writes(f->fs);
                f->pool_seen = true;
        }
        if (n + 1 < sizeof(f->pool_writes))
                f->pool_writes[n] = strstr(path, "hugepages-2048kB") ? 'M' : 'G';
        write_file(path, data);
        return 0;
}

static int module_op(void *userdata, const char *module, bool load, struct vl_error *e)
{
        struct fixture *f = userdata;
        const char *drv = fakesys_driver_of(f->fs, GPU);

        assert_true(load);
        assert_string_equal(module, "bochs");
        snprintf(f->gpu_driver_at_module_load, sizeof(f->gpu_driver_at_module_load), "%s", drv ? drv : "");
        f->pool_writes_at_module_load = (unsigned) strlen(f->pool_writes);
        f->module_loads++;
        return 0;
}

static const struct handover_ops handover_model = { .module = module_op };

/* The run: the plan (read only), pages (2M, then 1G), with handover the
 * host's hand-over (a module unloaded: journaled only), the devices. */
static int setup_run(void **state, bool handover)
{
        struct fixture *f = calloc(1, sizeof(*f));
        struct fakesys *fs = f->fs = fakesys_new();
        struct bind_plan *plan = NULL;
        struct vl_error e = {};

        fakesys_iommu_on(fs);
        fakesys_driver(fs, "nouveau", "nouveau", true);
        fakesys_driver(fs, "snd_hda_intel", "snd_hda_intel", true);
        fakesys_driver(fs, "vfio-pci", "vfio_pci", true);
        fakesys_device(fs, GPU, 0x10de, 0x11c0, 0x030000, 12, "nouveau", "nouveau");
        fakesys_device(fs, AUDIO, 0x10de, 0x0e0b, 0x040300, 12, "snd_hda_intel", "snd_hda_intel");
        fakesys_host_env(fs, &f->host);
        f->host.hugepages.write = pool_write;
        f->host.hugepages.userdata = f;
        profile_init(&f->p, "win10");
        assert_int_equal(pci_addr_parse(GPU, &f->p.hostdevs[f->p.n_hostdevs++].host), 0);
        assert_int_equal(pci_addr_parse(AUDIO, &f->p.hostdevs[f->p.n_hostdevs++].host), 0);
        pool(f, 2048);
        pool(f, 1048576);
        snprintf(f->dir2m, sizeof(f->dir2m), "%s/hp2m/vfio-launch-win10", fakesys_top(fs));
        snprintf(f->dir1g, sizeof(f->dir1g), "%s/hp1g/vfio-launch-win10", fakesys_top(fs));
        assert_int_equal(mkdir_p(f->dir2m), 0);
        assert_int_equal(mkdir_p(f->dir1g), 0);

        /* The run: the plan (read only), pages (2M, then 1G), the devices. */
        assert_int_equal(bind_plan_new(&f->host.bind, &f->p, &plan, &e), 0);
        struct journal_entry x2m = { .kind = JOURNAL_HUGEPAGES,
                                     .hugepages = { .page_kib = 2048, .before = 3, .added = 1 } };
        struct journal_entry x1g = { .kind = JOURNAL_HUGEPAGES,
                                     .hugepages = { .page_kib = 1048576, .before = 3, .added = 1 } };
        snprintf(x2m.hugepages.dir, sizeof(x2m.hugepages.dir), "%s", f->dir2m);
        snprintf(x1g.hugepages.dir, sizeof(x1g.hugepages.dir), "%s", f->dir1g);
        assert_int_equal(journal_add_entry(fakesys_roots(fs), "win10", &x2m, &e), 0);
        assert_int_equal(journal_add_entry(fakesys_roots(fs), "win10", &x1g, &e), 0);
        if (handover) {
                struct handover_ops *ops = malloc(sizeof(*ops));
                struct journal_entry xm = { .kind = JOURNAL_MODULE };

                *ops = handover_model;
                ops->userdata = f;
                f->host.handover.ops = ops;
                snprintf(xm.handover.name, sizeof(xm.handover.name), "bochs");
                assert_int_equal(journal_add_entry(fakesys_roots(fs), "win10", &xm, &e), 0);
        }
        assert_int_equal(bind_apply(&f->host.bind, plan, 1000, 1000, &e), 0);
        bind_plan_free(plan);
        assert_string_equal(fakesys_driver_of(fs, GPU), "vfio-pci");
        *state = f;
        return 0;
}

static int setup(void **state)
{
        return setup_run(state, false);
}

static int setup_handover(void **state)
{
        return setup_run(state, true);
}

static int teardown(void **state)
{
        struct fixture *f = *state;

        free((void *) f->host.handover.ops);
        fakesys_free(f->fs);
        free(f);
        return 0;
}

static bool journal_there(struct fixture *f)
{
        struct journal *j = malloc(sizeof(*j));
        struct vl_error e = {};
        int r = journal_load(fakesys_roots(f->fs), "win10", j, &e);

        free(j);
        return r == 0;
}

static void test_every_kind_has_a_handler(void **state)
{
        for (unsigned k = 0; k < _JOURNAL_KIND_MAX; k++) {
                if (!host_undo_covers((enum journal_kind) k))
                        fail_msg("journal kind %u (%s) has no undo handler", k,
                                 journal_kind_to_string((enum journal_kind) k));
                assert_non_null(journal_kind_to_string((enum journal_kind) k));
        }
        assert_false(host_undo_covers(_JOURNAL_KIND_MAX));
}

/* Everything back: the entries newest first (the 1G pages before the 2M
 * ones), all of them before any device write, then the devices on their
 * drivers, and the journal gone. */
static void test_all_back_in_reverse(void **state)
{
        struct fixture *f = *state;
        unsigned writes_before = fakesys_writes(f->fs);
        struct vl_error e = {};

        assert_int_equal(host_undo(&f->host, "win10", &e, NULL), 0);
        assert_string_equal(f->pool_writes, "GM");
        assert_int_equal(f->bind_writes_at_first_pool_write, writes_before);
        assert_true(fakesys_writes(f->fs) > writes_before);
        assert_string_equal(fakesys_driver_of(f->fs, GPU), "nouveau");
        assert_string_equal(fakesys_driver_of(f->fs, AUDIO), "snd_hda_intel");
        assert_int_equal(access(f->dir2m, F_OK), -1);
        assert_int_equal(access(f->dir1g, F_OK), -1);
        assert_false(journal_there(f));
        /* Twice is harmless: there is nothing left. */
        assert_int_equal(host_undo(&f->host, "win10", &e, NULL), 0);
}

/* One entry that cannot be undone (something left a file in the VM's
 * folder) does not keep the rest: the other pages and the devices come
 * back, and the journal keeps that entry alone, for `recover`. */
static void test_failure_keeps_only_what_is_left(void **state)
{
        struct fixture *f = *state;
        struct journal *j = malloc(sizeof(*j));
        struct vl_error e = {};
        char stray[4200];

        snprintf(stray, sizeof(stray), "%s/stray", f->dir2m);
        write_file(stray, "");
        assert_int_equal(host_undo(&f->host, "win10", &e, NULL), -ENOTEMPTY);
        assert_non_null(strstr(e.msg, "hugepages (2048 kB pages"));
        assert_non_null(strstr(e.msg, "run `vfio-launch recover win10`"));
        assert_string_equal(fakesys_driver_of(f->fs, GPU), "nouveau");
        assert_int_equal(access(f->dir1g, F_OK), -1);
        assert_int_equal(journal_load(fakesys_roots(f->fs), "win10", j, &e), 0);
        assert_int_equal(j->n_devices, 0);
        assert_int_equal(j->n_entries, 1);
        assert_int_equal(j->entries[0].hugepages.page_kib, 2048);

        /* The cause fixed, recover finishes it. */
        assert_int_equal(unlink(stray), 0);
        assert_int_equal(host_undo(&f->host, "win10", &e, NULL), 0);
        assert_false(journal_there(f));
        free(j);
}

/* The host's hand-over was made before the devices moved: it comes back
 * after them (the GPU on its driver before its module is asked for), and
 * after the other entries. */
static void test_handover_after_devices(void **state)
{
        struct fixture *f = *state;
        struct vl_error e = {};

        assert_int_equal(host_undo(&f->host, "win10", &e, NULL), 0);
        assert_int_equal(f->module_loads, 1);
        assert_string_equal(f->gpu_driver_at_module_load, "nouveau");
        assert_int_equal(f->pool_writes_at_module_load, 2);
        assert_string_equal(f->pool_writes, "GM");
        assert_false(journal_there(f));
}

/* A live detach gives back the listed groups' devices and nothing else. */
static void test_groups_only(void **state)
{
        struct fixture *f = *state;
        struct journal *j = malloc(sizeof(*j));
        const int g12 = 12, g99 = 99;
        struct vl_error e = {};

        assert_int_equal(host_undo_groups(&f->host, "win10", &g99, 1, &e), 0);
        assert_string_equal(fakesys_driver_of(f->fs, GPU), "vfio-pci");
        assert_int_equal(host_undo_groups(&f->host, "win10", &g12, 1, &e), 0);
        assert_string_equal(fakesys_driver_of(f->fs, GPU), "nouveau");
        assert_string_equal(f->pool_writes, "");
        assert_int_equal(journal_load(fakesys_roots(f->fs), "win10", j, &e), 0);
        assert_int_equal(j->n_devices, 0);
        assert_int_equal(j->n_entries, 2);
        assert_int_equal(host_undo_groups(&f->host, "win10", NULL, 0, &e), -EINVAL);
        free(j);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_every_kind_has_a_handler),
                cmocka_unit_test_setup_teardown(test_all_back_in_reverse, setup, teardown),
                cmocka_unit_test_setup_teardown(test_failure_keeps_only_what_is_left, setup, teardown),
                cmocka_unit_test_setup_teardown(test_groups_only, setup, teardown),
                cmocka_unit_test_setup_teardown(test_handover_after_devices, setup_handover, teardown),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
