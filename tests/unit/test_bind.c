/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * bind: plan, apply, undo and recovery against fakesys (a fake sysfs tree
 * with an in-process model of the kernel's reaction to writes). Every test
 * that changes the fake host ends by comparing a snapshot of the whole tree
 * (driver links, overrides, /dev/vfio with owner and mode, /proc) with the
 * one taken before, and checks whether the journal is gone or kept.
 *
 * Also the real bounded writer and modprobe runner, on temp files, FIFOs
 * and scripts only — never on this machine's /sys.
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
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "base/clock.h"
#include "base/fs.h"
#include "fakesys.h"
#include "host/bind.h"
#include "host/modules.h"
#include "host/sysfs.h"
#include "host/undo.h"

#define GPU "0000:01:00.0"
#define AUDIO "0000:01:00.1"
#define RUN_UID 1234
#define RUN_GID 2345

struct fixture {
        struct fakesys *fs;
        struct bind_env env;
        struct profile p;
        char *before;
};

/* What every way back runs (the end of a run, recover, unbind): host_undo()
 * with this fixture's bind settings, as they are now. */
static int undo(struct fixture *f, const char *name, struct vl_error *e)
{
        struct host_env h;

        host_env_init(&h, f->env.roots);
        h.bind = f->env;
        return host_undo(&h, name, e, NULL);
}

/* A live detach's way back: the listed groups only. */
static int undo_groups(struct fixture *f, const char *name, const int *groups, unsigned n, struct vl_error *e)
{
        struct host_env h;

        host_env_init(&h, f->env.roots);
        h.bind = f->env;
        return host_undo_groups(&h, name, groups, n, e);
}

static struct pci_addr A(const char *s)
{
        struct pci_addr a;

        assert_int_equal(pci_addr_parse(s, &a), 0);
        return a;
}

static void add_hostdev(struct profile *p, const char *addr)
{
        p->hostdevs[p->n_hostdevs++].host = A(addr);
}

/* The reference machine: a GTX 660 and its HDMI audio in IOMMU group 12
 * (on nouveau and snd_hda_intel), a bridge in group 1, a NIC in group 13;
 * vfio-pci loaded. */
static int setup(void **state)
{
        struct fixture *f = calloc(1, sizeof(*f));
        struct fakesys *fs = f->fs = fakesys_new();

        fakesys_iommu_on(fs);
        fakesys_driver(fs, "pcieport", NULL, true);
        fakesys_driver(fs, "nouveau", "nouveau", true);
        fakesys_driver(fs, "snd_hda_intel", "snd_hda_intel", true);
        fakesys_driver(fs, "e1000e", "e1000e", true);
        fakesys_driver(fs, "xhci_hcd", "xhci_pci", true);
        fakesys_driver(fs, "vfio-pci", "vfio_pci", true);
        fakesys_device(fs, "0000:00:01.0", 0x8086, 0x1901, 0x060400, 1, "pcieport", "pcieport");
        fakesys_device(fs, GPU, 0x10de, 0x11c0, 0x030000, 12, "nouveau", "nouveau");
        fakesys_device(fs, AUDIO, 0x10de, 0x0e0b, 0x040300, 12, "snd_hda_intel", "snd_hda_intel");
        fakesys_device(fs, "0000:02:00.0", 0x8086, 0x10d3, 0x020000, 13, "e1000e", "e1000e");
        fakesys_env(fs, &f->env);
        profile_init(&f->p, "win10");
        add_hostdev(&f->p, GPU);
        add_hostdev(&f->p, AUDIO);
        *state = f;
        return 0;
}

static int teardown(void **state)
{
        struct fixture *f = *state;

        free(f->before);
        fakesys_free(f->fs);
        free(f);
        return 0;
}

static void take_snapshot(struct fixture *f)
{
        free(f->before);
        f->before = fakesys_snapshot(f->fs);
}

/* Lines only in a ("-") or only in b ("+"): both are sorted walks. */
static void print_diff(const char *a, const char *b)
{
        char *x = strdup(a), *y = strdup(b), *sx = NULL, *sy = NULL;
        char *la = strtok_r(x, "\n", &sx), *lb = strtok_r(y, "\n", &sy);

        while (la || lb) {
                int c = !la ? 1 : !lb ? -1 : strcmp(la, lb);
                if (c == 0) {
                        la = strtok_r(NULL, "\n", &sx);
                        lb = strtok_r(NULL, "\n", &sy);
                } else if (c < 0) {
                        fprintf(stderr, "- %s\n", la);
                        la = strtok_r(NULL, "\n", &sx);
                } else {
                        fprintf(stderr, "+ %s\n", lb);
                        lb = strtok_r(NULL, "\n", &sy);
                }
        }
        free(x);
        free(y);
}

static void assert_host_unchanged(struct fixture *f)
{
        char *now = fakesys_snapshot(f->fs);

        if (strcmp(now, f->before) != 0) {
                print_diff(f->before, now);
                free(now);
                fail_msg("the fake host is not as it started");
        }
        free(now);
}

static bool journal_exists(struct fixture *f, const char *name)
{
        char path[4096];

        assert_int_equal(journal_path(path, sizeof(path), fakesys_run(f->fs), name), 0);
        return access(path, F_OK) == 0;
}

static void assert_msg(const struct vl_error *e, const char *needle)
{
        if (!strstr(e->msg, needle))
                fail_msg("message \"%s\" lacks \"%s\"", e->msg, needle);
}

/* Plan must refuse with err and a message holding each needle, writing
 * nothing. */
static void expect_refusal(struct fixture *f, int err, const char *const *needles)
{
        struct bind_plan *plan = NULL;
        struct vl_error e = {};
        unsigned writes = fakesys_writes(f->fs);

        take_snapshot(f);
        assert_int_equal(bind_plan_new(&f->env, &f->p, &plan, &e), -err);
        assert_null(plan);
        assert_int_equal(e.err, err);
        assert_null(strchr(e.msg, '\n')); /* one line */
        for (; *needles; needles++)
                assert_msg(&e, *needles);
        assert_int_equal(fakesys_writes(f->fs), writes);
        assert_host_unchanged(f);
}

static struct bind_plan *plan_ok(struct fixture *f)
{
        struct bind_plan *plan = NULL;
        struct vl_error e = {};
        int r = bind_plan_new(&f->env, &f->p, &plan, &e);

        if (r < 0)
                fail_msg("plan: %s", e.msg);
        return plan;
}

static const struct bind_plan_device *plan_dev(const struct bind_plan *plan, const char *addr)
{
        struct pci_addr a = A(addr);

        for (unsigned i = 0; i < plan->n_devices; i++)
                if (pci_addr_equal(&plan->devices[i].dev.addr, &a))
                        return &plan->devices[i];
        return NULL;
}

/* --- plan -------------------------------------------------------------------------- */

static void test_plan(void **state)
{
        struct fixture *f = *state;
        struct bind_plan *plan;
        char *text;

        take_snapshot(f);
        plan = plan_ok(f);
        assert_string_equal(plan->name, "win10");
        assert_int_equal(plan->n_groups, 1);
        assert_int_equal(plan->groups[0], 12);
        assert_int_equal(plan->n_devices, 2);
        assert_int_equal(plan->devices[0].action, BIND_ACTION_MOVE);
        assert_true(plan->devices[0].hostdev);
        assert_string_equal(plan->devices[0].dev.driver, "nouveau");
        assert_string_equal(plan->devices[0].dev.device_name, "GK106 [GeForce GTX 660]");
        assert_string_equal(plan->devices[1].dev.driver, "snd_hda_intel");
        assert_int_equal(plan->warnings.n, 0);

        text = bind_plan_format(plan);
        assert_non_null(text);
        assert_string_equal(text,
                            "VM \"win10\": 2 PCI devices in 1 IOMMU group\n"
                            "IOMMU group 12:\n"
                            "  0000:01:00.0 10de:11c0 hostdev      nouveau -> vfio-pci, back to nouveau after the run"
                            "  [NVIDIA Corporation GK106 [GeForce GTX 660]]\n"
                            "  0000:01:00.1 10de:0e0b hostdev      snd_hda_intel -> vfio-pci, back to snd_hda_intel "
                            "after the run  [NVIDIA Corporation GK106 HDMI Audio Controller]\n");
        free(text);
        bind_plan_free(plan);
        assert_int_equal(fakesys_writes(f->fs), 0);
        assert_host_unchanged(f);
}

static void test_plan_no_hostdevs(void **state)
{
        struct fixture *f = *state;
        struct bind_plan *plan;
        struct vl_error e = {};
        char *text;

        f->p.n_hostdevs = 0;
        fakesys_free(f->fs); /* works even without an IOMMU or any device */
        f->fs = fakesys_new();
        fakesys_env(f->fs, &f->env);
        take_snapshot(f);
        plan = plan_ok(f);
        assert_int_equal(plan->n_devices, 0);
        text = bind_plan_format(plan);
        assert_string_equal(text, "VM \"win10\": no host PCI devices to pass through\n");
        free(text);
        assert_int_equal(bind_apply(&f->env, plan, RUN_UID, RUN_GID, &e), 0);
        assert_false(journal_exists(f, "win10"));
        bind_plan_free(plan);
        assert_host_unchanged(f);
}

static void test_refuse_iommu_off(void **state)
{
        struct fixture *f = *state;
        char path[4096];

        snprintf(path, sizeof(path), "rm -rf %s/class/iommu %s/kernel/iommu_groups", fakesys_sys(f->fs),
                 fakesys_sys(f->fs));
        assert_int_equal(system(path), 0);
        expect_refusal(f, ENODEV, (const char *const[]) { "IOMMU is off", "intel_iommu=on", "amd_iommu=on", NULL });
}

static void write_interrupts(struct fixture *f, const char *chips)
{
        char path[4096];
        FILE *fp;

        snprintf(path, sizeof(path), "%s/interrupts", fakesys_proc(f->fs));
        fp = fopen(path, "we");
        assert_non_null(fp);
        fprintf(fp, "            CPU0       CPU1\n"
                    "   0:         38          0   %s   2-edge      timer\n"
                    "  24:          0          0   %s 2097152-edge  eth0\n",
                chips, strstr(chips, "IR-") ? "IR-PCI-MSIX-0000:00:02.0" : "PCI-MSIX-0000:00:02.0");
        fclose(fp);
}

static void test_refuse_no_irq_remapping(void **state)
{
        struct fixture *f = *state;
        char path[4096];
        struct bind_plan *plan;

        /* Remapped chips: planned as usual. */
        write_interrupts(f, "IR-IO-APIC");
        plan = plan_ok(f);
        bind_plan_free(plan);
        /* Not remapped: refused before anything moves, naming the cause and
         * both ways out. */
        write_interrupts(f, "IO-APIC");
        expect_refusal(f, EPERM, (const char *const[]) { "interrupt remapping is off", "intremap=off",
                                                         "allow_unsafe_interrupts=1", NULL });
        /* The user accepted the risk: planned. */
        snprintf(path, sizeof(path), "mkdir -p %s/module/vfio_iommu_type1/parameters && echo Y > "
                                     "%s/module/vfio_iommu_type1/parameters/allow_unsafe_interrupts",
                 fakesys_sys(f->fs), fakesys_sys(f->fs));
        assert_int_equal(system(path), 0);
        plan = plan_ok(f);
        bind_plan_free(plan);
}

static void test_refuse_missing_device(void **state)
{
        struct fixture *f = *state;

        add_hostdev(&f->p, "0000:05:00.0");
        expect_refusal(f, ENODEV, (const char *const[]) { "hostdevs[2]", "no PCI device 0000:05:00.0", "lspci", NULL });
}

static void test_refuse_wrong_ids(void **state)
{
        struct fixture *f = *state;
        struct bind_plan *plan;

        /* The ids the profile pinned match: planned as usual. */
        f->p.hostdevs[0].ids_set = true;
        f->p.hostdevs[0].vendor = 0x10de;
        f->p.hostdevs[0].device = 0x11c0;
        plan = plan_ok(f);
        bind_plan_free(plan);
        /* Another device at that address: refused, naming both. */
        f->p.hostdevs[0].device = 0x1b80;
        expect_refusal(f, ENODEV, (const char *const[]) { "hostdevs[0]", "0000:01:00.0 is 10de:11c0",
                                                          "expects 10de:1b80", NULL });
}

static void test_refuse_no_group(void **state)
{
        struct fixture *f = *state;

        fakesys_device(f->fs, "0000:03:00.0", 0x10de, 0x11c0, 0x030000, -1, "nouveau", NULL);
        f->p.n_hostdevs = 0;
        add_hostdev(&f->p, "0000:03:00.0");
        expect_refusal(f, ENODEV, (const char *const[]) { "0000:03:00.0", "no IOMMU group", NULL });
}

static void test_refuse_bridge_hostdev(void **state)
{
        struct fixture *f = *state;

        add_hostdev(&f->p, "0000:00:01.0");
        expect_refusal(f, EINVAL, (const char *const[]) { "0000:00:01.0", "PCI bridge", NULL });
}

/* A third function on a host driver in the same group. */
static void test_refuse_not_viable_then_allow_detach(void **state)
{
        struct fixture *f = *state;
        struct bind_plan *plan;
        struct vl_error e = {};

        fakesys_device(f->fs, "0000:01:00.2", 0x10de, 0x1ada, 0x0c0330, 12, "xhci_hcd", "xhci_hcd");
        expect_refusal(f, EBUSY,
                       (const char *const[]) { "IOMMU group 12 is not viable", "0000:01:00.2", "\"xhci_hcd\"",
                                               "hostdevs", "allow_detach", NULL });

        f->p.allow_detach[f->p.n_allow_detach++] = A("0000:01:00.2");
        f->p.allow_detach[f->p.n_allow_detach++] = A("0000:09:00.0"); /* not in the group */
        plan = plan_ok(f);
        assert_int_equal(plan->n_devices, 3);
        assert_int_equal(plan_dev(plan, "0000:01:00.2")->action, BIND_ACTION_MOVE);
        assert_true(plan_dev(plan, "0000:01:00.2")->allow_detach);
        assert_int_equal(plan->warnings.n, 1);
        assert_non_null(strstr(plan->warnings.msg[0], "0000:09:00.0"));

        take_snapshot(f);
        assert_int_equal(bind_apply(&f->env, plan, RUN_UID, RUN_GID, &e), 0);
        assert_string_equal(fakesys_driver_of(f->fs, "0000:01:00.2"), "vfio-pci");
        assert_int_equal(undo(f, "win10", &e), 0);
        assert_string_equal(fakesys_driver_of(f->fs, "0000:01:00.2"), "xhci_hcd");
        assert_false(journal_exists(f, "win10"));
        assert_host_unchanged(f);
        bind_plan_free(plan);
}

static void test_refuse_boot_vga(void **state)
{
        struct fixture *f = *state;

        fakesys_device_attr(f->fs, GPU, "boot_vga", "1\n");
        expect_refusal(f, EBUSY, (const char *const[]) { GPU, "boot VGA", "allow_boot_vga", NULL });
        f->p.allow_boot_vga = true;
        bind_plan_free(plan_ok(f));
}

static void test_refuse_efifb(void **state)
{
        struct fixture *f = *state;
        struct bind_plan *plan;

        /* The GPU's BAR 0 is c1000000-c10fffff in the fake tree. */
        fakesys_iomem(f->fs, "c1000000-c10fffff : 0000:01:00.0\n  c1000000-c102ffff : efifb\n");
        expect_refusal(f, EBUSY, (const char *const[]) { GPU, "efifb at c1000000-c102ffff", "video=efifb:off",
                                                         "allow_boot_vga", NULL });
        f->p.allow_boot_vga = true;
        plan = plan_ok(f);
        assert_int_equal(plan->warnings.n, 1);
        bind_plan_free(plan);

        /* A framebuffer elsewhere is no reason to refuse. */
        f->p.allow_boot_vga = false;
        fakesys_iomem(f->fs, "e0000000-e07fffff : efifb\n");
        bind_plan_free(plan_ok(f));
        /* An fb device node on the GPU (fbcon on nouveau) is. */
        fakesys_fb(f->fs, "fb0", GPU);
        expect_refusal(f, EBUSY, (const char *const[]) { GPU, "framebuffer fb0", NULL });
}

static void test_refuse_in_use(void **state)
{
        struct fixture *f = *state;
        struct bind_plan *plan;

        fakesys_drm_node(f->fs, GPU, "card0");
        fakesys_drm_node(f->fs, GPU, "renderD128");
        fakesys_process(f->fs, 4242, "Xorg", "dri/card0", 1);
        fakesys_process(f->fs, 4343, "firefox", "dri/renderD128", 1);
        fakesys_process(f->fs, 4444, "bash", NULL, 1);
        expect_refusal(f, EBUSY,
                       (const char *const[]) { GPU, "is in use", "pid 4242 (Xorg)", "pid 4343 (firefox)",
                                               "/dev/dri/card0", "allow_in_use",
                                               NULL });
        f->p.allow_in_use = true;
        plan = plan_ok(f);
        assert_int_equal(plan->warnings.n, 1);
        assert_non_null(strstr(plan->warnings.msg[0], "pid 4242 (Xorg)"));
        bind_plan_free(plan);
}

static void write_other_journal(struct fixture *f, const char *name, pid_t pid, const char *addr)
{
        struct journal *j = calloc(1, sizeof(*j));
        struct vl_error e = {};

        journal_init(j, name, fakesys_roots(f->fs));
        j->launcher_pid = pid;
        j->launcher_start = 0;
        j->n_devices = 1;
        j->devices[0].addr = A(addr);
        j->devices[0].group = 12;
        j->devices[0].managed = true;
        strcpy(j->devices[0].orig_driver, "snd_hda_intel");
        j->devices[0].step = JOURNAL_STEP_ON_VFIO;
        assert_int_equal(journal_create(fakesys_roots(f->fs), j, &e), 0);
        free(j);
}

static void test_refuse_claimed(void **state)
{
        struct fixture *f = *state;
        struct vl_error e = {};
        char path[4096];

        /* Another VM, running. */
        fakesys_process(f->fs, 777, "vfio-launch", NULL, 0);
        write_other_journal(f, "other", 777, AUDIO);
        expect_refusal(f, EBUSY, (const char *const[]) { AUDIO, "in use by VM \"other\"", "pid 777", NULL });
        /* The same VM, crashed: its devices may still be on vfio-pci with
         * their real drivers only in that journal. */
        assert_int_equal(journal_remove(fakesys_roots(f->fs), "other", &e), 0);
        write_other_journal(f, "other", 778, AUDIO);
        expect_refusal(f, EBUSY,
                       (const char *const[]) { AUDIO, "unfinished run of VM \"other\"", "vfio-launch recover other",
                                               NULL });
        assert_int_equal(journal_remove(fakesys_roots(f->fs), "other", &e), 0);
        /* This VM's own journal, live or stale. */
        write_other_journal(f, "win10", 777, "0000:07:00.0");
        expect_refusal(f, EBUSY, (const char *const[]) { "\"win10\" is already running", NULL });
        assert_int_equal(journal_remove(fakesys_roots(f->fs), "win10", &e), 0);
        write_other_journal(f, "win10", 779, "0000:07:00.0");
        expect_refusal(f, EBUSY, (const char *const[]) { "vfio-launch recover win10", NULL });
        assert_int_equal(journal_remove(fakesys_roots(f->fs), "win10", &e), 0);
        /* A journal nobody can read: its devices are unknown. */
        snprintf(path, sizeof(path), "mkdir -m 700 -p %s/junk && echo '{' > %s/junk/state.json", fakesys_run(f->fs),
                 fakesys_run(f->fs));
        assert_int_equal(system(path), 0);
        expect_refusal(f, EBADMSG, (const char *const[]) { "VM \"junk\"", "corrupt journal", NULL });
        /* A journal of an unrelated device is no obstacle. */
        snprintf(path, sizeof(path), "rm -rf %s/junk", fakesys_run(f->fs));
        assert_int_equal(system(path), 0);
        write_other_journal(f, "other", 777, "0000:02:00.0");
        bind_plan_free(plan_ok(f));
}

/* --- apply and undo ---------------------------------------------------------------- */

static void test_apply_undo(void **state)
{
        struct fixture *f = *state;
        struct journal *j = calloc(1, sizeof(*j));
        struct bind_plan *plan;
        struct vl_error e = {};
        char path[4096];
        struct stat st;
        unsigned writes;

        take_snapshot(f);
        plan = plan_ok(f);
        if (bind_apply(&f->env, plan, RUN_UID, RUN_GID, &e) < 0)
                fail_msg("apply: %s", e.msg);
        assert_string_equal(fakesys_driver_of(f->fs, GPU), "vfio-pci");
        assert_string_equal(fakesys_driver_of(f->fs, AUDIO), "vfio-pci");
        snprintf(path, sizeof(path), "%s/vfio/12", fakesys_dev(f->fs));
        assert_int_equal(lstat(path, &st), 0);
        assert_int_equal(st.st_uid, RUN_UID);
        assert_int_equal(st.st_gid, RUN_GID);
        assert_int_equal(fakesys_modprobes(f->fs), 0); /* vfio-pci was loaded */

        /* The journal holds what undo needs. */
        assert_int_equal(journal_load(fakesys_roots(f->fs), "win10", j, &e), 0);
        assert_int_equal(j->launcher_pid, getpid());
        assert_int_equal(j->n_devices, 2);
        assert_string_equal(j->devices[0].orig_driver, "nouveau");
        assert_string_equal(j->devices[0].orig_module, "nouveau");
        assert_string_equal(j->devices[1].orig_driver, "snd_hda_intel");
        assert_int_equal(j->devices[0].step, JOURNAL_STEP_ON_VFIO);
        assert_int_equal(j->devices[1].step, JOURNAL_STEP_ON_VFIO);
        assert_int_equal(j->n_groups, 1);
        assert_true(j->groups[0].chowned);
        assert_int_equal(j->groups[0].uid, 0);
        assert_int_equal(j->groups[0].mode, 0600);

        /* A second apply of the same VM is refused, host untouched. */
        writes = fakesys_writes(f->fs);
        assert_int_equal(bind_apply(&f->env, plan, RUN_UID, RUN_GID, &e), -ESTALE);
        assert_int_equal(fakesys_writes(f->fs), writes);

        assert_int_equal(undo(f, "win10", &e), 0);
        /* /dev/vfio/12 was given back to root before the group left vfio-pci. */
        assert_int_equal(fakesys_vfio_owner_at_release(f->fs, 12), 0);
        assert_false(journal_exists(f, "win10"));
        assert_host_unchanged(f);

        /* Idempotent: again, nothing written, nothing changed. */
        writes = fakesys_writes(f->fs);
        assert_int_equal(undo(f, "win10", &e), 0);
        assert_int_equal(fakesys_writes(f->fs), writes);
        assert_host_unchanged(f);
        bind_plan_free(plan);
        free(j);
}

static void test_apply_loads_vfio(void **state)
{
        struct fixture *f = *state;
        struct bind_plan *plan;
        struct vl_error e = {};

        fakesys_unload_driver(f->fs, "vfio-pci");
        take_snapshot(f);
        plan = plan_ok(f);
        assert_int_equal(bind_apply(&f->env, plan, RUN_UID, RUN_GID, &e), 0);
        assert_int_equal(fakesys_modprobes(f->fs), 1);
        assert_string_equal(fakesys_driver_of(f->fs, GPU), "vfio-pci");
        assert_int_equal(undo(f, "win10", &e), 0);
        /* Like libvirt, the module stays loaded; take it out to compare. */
        fakesys_unload_driver(f->fs, "vfio-pci");
        assert_host_unchanged(f);
        bind_plan_free(plan);
}

static void test_group_with_bridge_and_keep(void **state)
{
        struct fixture *f = *state;
        struct bind_plan *plan;
        struct vl_error e = {};
        char path[4096];
        struct stat st;

        /* Group 12 also holds a bridge (skipped) and a function already on
         * vfio-pci from the host's own config (kept, not given back). */
        fakesys_device(f->fs, "0000:00:1c.0", 0x8086, 0xa110, 0x060400, 12, "pcieport", "pcieport");
        fakesys_device(f->fs, "0000:01:00.3", 0x10de, 0x1ada, 0x0c8000, 12, "vfio-pci", "vfio-pci");
        take_snapshot(f);
        plan = plan_ok(f);
        assert_int_equal(plan->n_devices, 4);
        assert_int_equal(plan_dev(plan, "0000:00:1c.0")->action, BIND_ACTION_SKIP_BRIDGE);
        assert_int_equal(plan_dev(plan, "0000:01:00.3")->action, BIND_ACTION_KEEP);
        char *text = bind_plan_format(plan);
        assert_non_null(strstr(text, "0000:00:1c.0 8086:a110 member       skip: PCI bridge, stays on pcieport"));
        assert_non_null(strstr(text, "0000:01:00.3 10de:1ada member       already on vfio-pci, left there"));
        free(text);

        assert_int_equal(bind_apply(&f->env, plan, RUN_UID, RUN_GID, &e), 0);
        assert_string_equal(fakesys_driver_of(f->fs, "0000:00:1c.0"), "pcieport");
        assert_int_equal(undo(f, "win10", &e), 0);
        assert_string_equal(fakesys_driver_of(f->fs, "0000:01:00.3"), "vfio-pci");
        /* /dev/vfio/12 stays (01:00.3 holds it) and is root's again. */
        snprintf(path, sizeof(path), "%s/vfio/12", fakesys_dev(f->fs));
        assert_int_equal(lstat(path, &st), 0);
        assert_int_equal(st.st_uid, 0);
        assert_false(journal_exists(f, "win10"));
        assert_host_unchanged(f);
        bind_plan_free(plan);
}

static void test_no_original_driver(void **state)
{
        struct fixture *f = *state;
        struct bind_plan *plan;
        struct vl_error e = {};

        /* The audio function had no driver before: it must not come back on
         * snd_hda_intel ("whatever probes"), but stay unbound. */
        char path[4096];
        snprintf(path, sizeof(path), "%s/bus/pci/drivers/snd_hda_intel/unbind", fakesys_sys(f->fs));
        assert_int_equal(f->env.ops->write(f->env.ops->userdata, path, AUDIO, 100), 0);
        assert_string_equal(fakesys_driver_of(f->fs, AUDIO), "");
        take_snapshot(f);
        plan = plan_ok(f);
        assert_int_equal(plan_dev(plan, AUDIO)->action, BIND_ACTION_MOVE);
        char *text = bind_plan_format(plan);
        assert_non_null(strstr(text, AUDIO " 10de:0e0b hostdev      (no driver) -> vfio-pci, unbound again after the run"));
        free(text);
        assert_int_equal(bind_apply(&f->env, plan, RUN_UID, RUN_GID, &e), 0);
        assert_string_equal(fakesys_driver_of(f->fs, AUDIO), "vfio-pci");
        assert_int_equal(undo(f, "win10", &e), 0);
        assert_string_equal(fakesys_driver_of(f->fs, AUDIO), "");
        assert_string_equal(fakesys_driver_of(f->fs, GPU), "nouveau");
        assert_host_unchanged(f);
        bind_plan_free(plan);
}

static void test_original_override_restored(void **state)
{
        struct fixture *f = *state;
        struct bind_plan *plan;
        struct vl_error e = {};

        /* An override naming the device's own driver (as some boot scripts
         * leave it): it must be back afterwards, and binding must still work. */
        fakesys_device_attr(f->fs, AUDIO, "driver_override", "snd_hda_intel\n");
        take_snapshot(f);
        plan = plan_ok(f);
        assert_int_equal(bind_apply(&f->env, plan, RUN_UID, RUN_GID, &e), 0);
        assert_int_equal(undo(f, "win10", &e), 0);
        assert_host_unchanged(f);
        bind_plan_free(plan);
}

static void test_stale_plan(void **state)
{
        struct fixture *f = *state;
        struct bind_plan *plan;
        struct vl_error e = {};
        char path[4096];

        plan = plan_ok(f);
        snprintf(path, sizeof(path), "%s/bus/pci/drivers/snd_hda_intel/unbind", fakesys_sys(f->fs));
        assert_int_equal(f->env.ops->write(f->env.ops->userdata, path, AUDIO, 100), 0);
        take_snapshot(f);
        unsigned writes = fakesys_writes(f->fs);
        assert_int_equal(bind_apply(&f->env, plan, RUN_UID, RUN_GID, &e), -ESTALE);
        assert_msg(&e, AUDIO);
        assert_msg(&e, "plan again");
        assert_int_equal(fakesys_writes(f->fs), writes);
        assert_false(journal_exists(f, "win10"));
        assert_host_unchanged(f);
        bind_plan_free(plan);
}

/* --- failures during apply: rolled back, host as it was ------------------------------ */

static void apply_expect_rollback(struct fixture *f, int err, const char *const *needles)
{
        struct bind_plan *plan;
        struct vl_error e = {};
        int r;

        take_snapshot(f);
        plan = plan_ok(f);
        r = bind_apply(&f->env, plan, RUN_UID, RUN_GID, &e);
        if (r != -err)
                fail_msg("apply answered %d (%s), expected %d", r, e.msg, -err);
        for (; *needles; needles++)
                assert_msg(&e, *needles);
        assert_msg(&e, "every change was rolled back");
        assert_false(journal_exists(f, "win10"));
        assert_host_unchanged(f);
        bind_plan_free(plan);
}

static void test_fail_unbind_ebusy(void **state)
{
        struct fixture *f = *state;

        /* The GPU moved already when the audio's unbind is refused. */
        fakesys_fail_write(f->fs, "bus/pci/drivers/snd_hda_intel/unbind", EBUSY);
        apply_expect_rollback(f, EBUSY,
                              (const char *const[]) { AUDIO, "unbind from \"snd_hda_intel\"", "drivers/snd_hda_intel/unbind",
                                                      "the kernel answered EBUSY (Device or resource busy)", NULL });
}

static void test_fail_override_write(void **state)
{
        struct fixture *f = *state;

        fakesys_fail_write(f->fs, "bus/pci/devices/" GPU "/driver_override", EACCES);
        apply_expect_rollback(f, EACCES, (const char *const[]) { GPU, "set driver_override", "EACCES", NULL });
}

static void test_fail_probe_never_binds(void **state)
{
        struct fixture *f = *state;

        fakesys_never_binds(f->fs, "vfio-pci", true);
        apply_expect_rollback(f, ETIMEDOUT,
                              (const char *const[]) { GPU, "wait for vfio-pci", "0.3 s", "driver now: none", NULL });
}

static void test_fail_write_blocks(void **state)
{
        struct fixture *f = *state;
        uint64_t t0 = clock_ms(), took;

        /* A FIFO nobody reads: the real bounded writer hangs in open(). */
        fakesys_hang(f->fs, "bus/pci/drivers/nouveau/unbind");
        apply_expect_rollback(f, ETIMEDOUT,
                              (const char *const[]) { GPU, "unbind from \"nouveau\"", "did not return within 0.3 s",
                                                      NULL });
        took = clock_ms() - t0;
        assert_true(took >= 300);
        assert_true(took < 5000);
        assert_string_equal(fakesys_driver_of(f->fs, GPU), "nouveau");
}

static void test_fail_vfio_module_missing(void **state)
{
        struct fixture *f = *state;

        fakesys_unload_driver(f->fs, "vfio-pci");
        fakesys_module_missing(f->fs, "vfio_pci", true);
        apply_expect_rollback(f, EIO, (const char *const[]) { "vfio-pci", "Module vfio-pci not found", NULL });
        assert_int_equal(fakesys_writes(f->fs), 0);
}

static void test_fail_group_node_missing(void **state)
{
        struct fixture *f = *state;

        /* Both functions bind, but the group's /dev/vfio node never shows
         * up (as without vfio_iommu_type1): the wait runs out. */
        fakesys_no_vfio_node(f->fs, true);
        apply_expect_rollback(f, ETIMEDOUT,
                              (const char *const[]) { "IOMMU group 12", "/vfio/12 did not appear within 0.3 s",
                                                      "vfio_iommu_type1", NULL });
}

/* The rollback itself fails: the journal stays, naming what is left; a
 * later recover finishes the job. */
static void test_rollback_incomplete_then_recover(void **state)
{
        struct fixture *f = *state;
        struct journal *j = calloc(1, sizeof(*j));
        struct bind_plan *plan;
        struct vl_error e = {};
        char path[4096];

        take_snapshot(f);
        plan = plan_ok(f);
        fakesys_fail_write(f->fs, "bus/pci/drivers/snd_hda_intel/unbind", EBUSY);
        fakesys_hang(f->fs, "bus/pci/drivers/vfio-pci/unbind");
        assert_int_equal(bind_apply(&f->env, plan, RUN_UID, RUN_GID, &e), -EBUSY);
        assert_msg(&e, "ROLLBACK INCOMPLETE");
        assert_msg(&e, GPU);
        assert_true(journal_exists(f, "win10"));
        assert_int_equal(journal_load(fakesys_roots(f->fs), "win10", j, &e), 0);
        assert_int_equal(j->n_devices, 1); /* the audio function is back */
        assert_string_equal(pci_addr_format(&j->devices[0].addr, path), GPU);
        assert_string_equal(j->devices[0].orig_driver, "nouveau");

        /* The stuck driver recovers; `recover` finishes. */
        snprintf(path, sizeof(path), "%s/bus/pci/drivers/vfio-pci/unbind", fakesys_sys(f->fs));
        unlink(path);
        FILE *x = fopen(path, "we");
        fclose(x);
        chmod(path, 0200);
        assert_int_equal(undo(f, "win10", &e), 0);
        assert_false(journal_exists(f, "win10"));
        assert_host_unchanged(f);
        bind_plan_free(plan);
        free(j);
}

/* --- undo failures ------------------------------------------------------------------- */

static void test_undo_original_module_missing(void **state)
{
        struct fixture *f = *state;
        struct journal *j = calloc(1, sizeof(*j));
        struct bind_plan *plan;
        struct vl_error e = {};
        char a[PCI_ADDR_STRLEN];

        take_snapshot(f);
        plan = plan_ok(f);
        assert_int_equal(bind_apply(&f->env, plan, RUN_UID, RUN_GID, &e), 0);
        /* During the run snd_hda_intel was unloaded, and its module is gone. */
        fakesys_unload_driver(f->fs, "snd_hda_intel");
        fakesys_module_missing(f->fs, "snd_hda_intel", true);
        assert_int_equal(undo(f, "win10", &e), -EIO);
        assert_msg(&e, AUDIO);
        assert_msg(&e, "Module snd_hda_intel not found");
        assert_msg(&e, "not given back: " AUDIO);
        assert_msg(&e, "vfio-launch recover win10");
        /* The GPU is back; the audio function is off vfio-pci, driverless. */
        assert_string_equal(fakesys_driver_of(f->fs, GPU), "nouveau");
        assert_string_equal(fakesys_driver_of(f->fs, AUDIO), "");
        assert_int_equal(journal_load(fakesys_roots(f->fs), "win10", j, &e), 0);
        assert_int_equal(j->n_devices, 1);
        assert_string_equal(pci_addr_format(&j->devices[0].addr, a), AUDIO);

        /* The module is installed again: recover completes. */
        fakesys_module_missing(f->fs, "snd_hda_intel", false);
        assert_int_equal(undo(f, "win10", &e), 0);
        assert_false(journal_exists(f, "win10"));
        assert_host_unchanged(f);
        bind_plan_free(plan);
        free(j);
}

static void test_undo_device_gone(void **state)
{
        struct fixture *f = *state;
        struct vl_error e = {};
        char path[4096];

        /* A crashed run's journal names a device that was unplugged since. */
        write_other_journal(f, "win10", 778, "0000:07:00.0");
        snprintf(path, sizeof(path), "%s/bus/pci/devices/0000:07:00.0", fakesys_sys(f->fs));
        assert_int_not_equal(access(path, F_OK), 0);
        take_snapshot(f);
        assert_int_equal(undo(f, "win10", &e), 0);
        assert_false(journal_exists(f, "win10"));
        assert_int_equal(fakesys_writes(f->fs), 0);
        assert_host_unchanged(f);
}

static void test_undo_refuses_live_owner(void **state)
{
        struct fixture *f = *state;
        struct vl_error e = {};

        fakesys_process(f->fs, 777, "vfio-launch", NULL, 0);
        write_other_journal(f, "other", 777, AUDIO);
        take_snapshot(f);
        assert_int_equal(undo(f, "other", &e), -EBUSY);
        assert_msg(&e, "still running (launcher pid 777)");
        assert_true(journal_exists(f, "other"));

        /* Launcher gone, but its QEMU still alive. */
        struct journal *j = calloc(1, sizeof(*j));
        assert_int_equal(journal_load(fakesys_roots(f->fs), "other", j, &e), 0);
        j->launcher_pid = 778;
        j->qemu_pid = 777;
        assert_int_equal(journal_save(fakesys_roots(f->fs), j, &e), 0);
        assert_int_equal(undo(f, "other", &e), -EBUSY);
        assert_msg(&e, "QEMU (pid 777)");
        assert_int_equal(fakesys_writes(f->fs), 0);
        free(j);
        assert_int_equal(journal_remove(fakesys_roots(f->fs), "other", &e), 0);
}

/* --- crash recovery ---------------------------------------------------------------- */

/* The launcher dies at each write of the apply in turn, just before it and
 * just after the kernel applied it (a forked child runs bind_apply and
 * _exits there); recovery from the journal it left must give the host back
 * exactly. The "after" crashes check that every step is journalled BEFORE
 * its write. */
static void test_crash_at_every_step(void **state)
{
        struct fixture *f = *state;
        struct bind_plan *plan;
        struct vl_error e = {};
        unsigned total;

        fakesys_device(f->fs, "0000:01:00.2", 0x10de, 0x1ada, 0x0c0330, 12, "xhci_hcd", "xhci_hcd");
        f->p.allow_detach[f->p.n_allow_detach++] = A("0000:01:00.2");
        take_snapshot(f);
        plan = plan_ok(f);

        /* A full apply + undo, to count the writes. */
        assert_int_equal(bind_apply(&f->env, plan, RUN_UID, RUN_GID, &e), 0);
        total = fakesys_writes(f->fs);
        assert_int_equal(total, 9); /* 3 devices x (override, unbind, probe) */
        assert_int_equal(undo(f, "win10", &e), 0);
        assert_host_unchanged(f);

        for (unsigned k = 0; k <= 2 * total; k++) {
                unsigned n = k / 2;
                bool after = k % 2;
                int status;
                pid_t pid;
                if (after && n == total)
                        break;
                pid = fork();
                assert_true(pid >= 0);
                if (pid == 0) {
                        struct vl_error ce = {};
                        fakesys_crash_at(f->fs, (int) n, after);
                        _exit(bind_apply(&f->env, plan, RUN_UID, RUN_GID, &ce) < 0 ? 3 : 0);
                }
                assert_int_equal(waitpid(pid, &status, 0), pid);
                assert_true(WIFEXITED(status));
                assert_int_equal(WEXITSTATUS(status), 0);
                /* The journal was written before the first host change. */
                assert_true(journal_exists(f, "win10"));
                /* A new run refuses until recovered. */
                struct bind_plan *again = NULL;
                assert_int_equal(bind_plan_new(&f->env, &f->p, &again, &e), -EBUSY);
                assert_msg(&e, "vfio-launch recover win10");
                if (undo(f, "win10", &e) < 0)
                        fail_msg("recover after a crash %s write %u: %s", after ? "after" : "before", n, e.msg);
                assert_false(journal_exists(f, "win10"));
                char *now = fakesys_snapshot(f->fs);
                if (strcmp(f->before, now) != 0)
                        fprintf(stderr, "after a crash %s write %u:\n", after ? "after" : "before", n);
                free(now);
                assert_host_unchanged(f);
        }
        bind_plan_free(plan);
}

/* --- the real writer and modprobe runner (temp files only) ----------------------------- */

static void test_real_write_bounded(void **state)
{
        struct fakesys *fs = fakesys_new();
        char path[4096], buf[64];
        uint64_t t0;

        snprintf(path, sizeof(path), "%s/attr", fakesys_top(fs));
        FILE *x = fopen(path, "we");
        fputs("old content that is longer\n", x);
        fclose(x);
        assert_int_equal(sysfs_write_bounded(path, "vfio-pci", 1000), 0);
        assert_int_equal(fs_read(path, buf, sizeof(buf)), 0);
        assert_string_equal(buf, "vfio-pci"); /* truncated as '>' does */

        snprintf(path, sizeof(path), "%s/missing/attr", fakesys_top(fs));
        assert_int_equal(sysfs_write_bounded(path, "x", 1000), -ENOENT);

        snprintf(path, sizeof(path), "%s/fifo", fakesys_top(fs));
        assert_int_equal(mkfifo(path, 0600), 0);
        t0 = clock_ms();
        assert_int_equal(sysfs_write_bounded(path, "0000:01:00.0", 200), -ETIMEDOUT);
        assert_true(clock_ms() - t0 >= 200);
        assert_true(clock_ms() - t0 < 2000);
        /* The abandoned child is reaped by the next call. */
        snprintf(path, sizeof(path), "%s/attr", fakesys_top(fs));
        assert_int_equal(sysfs_write_bounded(path, "y", 1000), 0);
        fakesys_free(fs);
}

static void script(const char *path, const char *body)
{
        FILE *x = fopen(path, "we");

        assert_non_null(x);
        fprintf(x, "#!/bin/sh\n%s\n", body);
        fclose(x);
        assert_int_equal(chmod(path, 0755), 0);
}

static void test_real_modprobe(void **state)
{
        struct fakesys *fs = fakesys_new();
        char prog[4096], out[4096], body[8192], msg[256], buf[256];

        snprintf(prog, sizeof(prog), "%s/modprobe-ok", fakesys_top(fs));
        snprintf(out, sizeof(out), "%s/args", fakesys_top(fs));
        snprintf(body, sizeof(body), "echo \"$# $1 $PATH\" > %s", out);
        script(prog, body);
        assert_int_equal(modules_load(prog, "vfio-pci", 2000, msg, sizeof(msg)), 0);
        assert_int_equal(fs_read(out, buf, sizeof(buf)), 0);
        assert_string_equal(buf, "1 vfio-pci /usr/sbin:/usr/bin:/sbin:/bin");

        snprintf(prog, sizeof(prog), "%s/modprobe-fail", fakesys_top(fs));
        script(prog, "echo \"modprobe: FATAL: Module $1 not found in directory /lib/modules/x\" >&2\necho more >&2\nexit 1");
        assert_int_equal(modules_load(prog, "nouveau", 2000, msg, sizeof(msg)), -EIO);
        assert_string_equal(msg, "modprobe: FATAL: Module nouveau not found in directory /lib/modules/x");

        snprintf(prog, sizeof(prog), "%s/modprobe-quiet", fakesys_top(fs));
        script(prog, "exit 3");
        assert_int_equal(modules_load(prog, "x", 2000, msg, sizeof(msg)), -EIO);
        assert_string_equal(msg, "exit status 3");

        snprintf(prog, sizeof(prog), "%s/modprobe-hang", fakesys_top(fs));
        script(prog, "exec sleep 10");
        assert_int_equal(modules_load(prog, "x", 200, msg, sizeof(msg)), -ETIMEDOUT);

        snprintf(prog, sizeof(prog), "%s/does-not-exist", fakesys_top(fs));
        assert_int_equal(modules_load(prog, "x", 2000, msg, sizeof(msg)), -ENOENT);
        fakesys_free(fs);
}

static void test_env_defaults(void **state)
{
        struct host_roots roots;
        struct bind_env env;

        host_roots_init(&roots);
        bind_env_init(&env, &roots);
        assert_ptr_equal(env.roots, &roots);
        assert_string_equal(roots.sysfs, "/sys");
        assert_string_equal(roots.dev, "/dev");
        assert_string_equal(roots.proc, "/proc");
        assert_string_equal(roots.run, "/run/vfio-launch");
        assert_string_equal(env.modprobe, "/sbin/modprobe");
        assert_int_equal(env.wait_timeout_ms, 5000);
        assert_null(env.ops);
        assert_string_equal(bind_action_to_string(BIND_ACTION_SKIP_BRIDGE), "skip-bridge");
}

/* A run of the GPU pair (group 12) and a NIC (group 13), all on vfio-pci,
 * the host snapshot taken before. */
static void start_pair_and_nic(struct fixture *f)
{
        struct bind_plan *plan;
        struct vl_error e = {};

        add_hostdev(&f->p, "0000:02:00.0");
        take_snapshot(f);
        plan = plan_ok(f);
        assert_int_equal(bind_apply(&f->env, plan, RUN_UID, RUN_GID, &e), 0);
        bind_plan_free(plan);
}

/* Live detach / attach: two groups (the GPU pair in 12, a NIC in 13). The
 * pair goes back to the host while the NIC stays with the run, then comes
 * back in a subset plan that extends the same journal. */
static void test_give_back_and_extend(void **state)
{
        struct fixture *f = *state;
        struct bind_plan *sub;
        struct journal j;
        struct vl_error e = {};
        bool only[PROFILE_HOSTDEVS_MAX] = { true, true, false };
        const int g12 = 12;

        start_pair_and_nic(f);

        /* A subset of devices still assigned is refused, host untouched. */
        assert_int_equal(bind_plan_new_subset(&f->env, &f->p, only, &sub, &e), -EBUSY);
        assert_msg(&e, "is still assigned to VM \"win10\"");

        assert_int_equal(undo_groups(f, "win10", &g12, 1, &e), 0);
        assert_string_equal(fakesys_driver_of(f->fs, GPU), "nouveau");
        assert_string_equal(fakesys_driver_of(f->fs, AUDIO), "snd_hda_intel");
        assert_string_equal(fakesys_driver_of(f->fs, "0000:02:00.0"), "vfio-pci");
        assert_int_equal(journal_load(f->env.roots, "win10", &j, &e), 0);
        assert_int_equal(j.n_devices, 1);
        assert_int_equal(j.devices[0].group, 13);
        assert_int_equal(j.n_groups, 1);

        /* Back in: the subset plan covers group 12 only. */
        assert_int_equal(bind_plan_new_subset(&f->env, &f->p, only, &sub, &e), 0);
        assert_true(sub->extend);
        assert_int_equal(sub->n_groups, 1);
        assert_int_equal(sub->groups[0], 12);
        assert_int_equal(bind_apply(&f->env, sub, RUN_UID, RUN_GID, &e), 0);
        bind_plan_free(sub);
        assert_string_equal(fakesys_driver_of(f->fs, GPU), "vfio-pci");
        assert_int_equal(journal_load(f->env.roots, "win10", &j, &e), 0);
        assert_int_equal(j.n_devices, 3);
        assert_int_equal(j.n_groups, 2);

        /* The end of the run gives back all of it. */
        assert_int_equal(undo(f, "win10", &e), 0);
        assert_false(journal_exists(f, "win10"));
        assert_host_unchanged(f);
}

/* A failed attach rolls back only its own group: the devices the guest
 * still uses stay on vfio-pci and in the journal. */
static void test_extend_failure_keeps_others(void **state)
{
        struct fixture *f = *state;
        struct bind_plan *sub;
        struct journal j;
        struct vl_error e = {};
        bool only[PROFILE_HOSTDEVS_MAX] = { true, true, false };
        const int g12 = 12;

        start_pair_and_nic(f);
        assert_int_equal(undo_groups(f, "win10", &g12, 1, &e), 0);

        assert_int_equal(bind_plan_new_subset(&f->env, &f->p, only, &sub, &e), 0);
        /* The audio function refuses its override: the GPU, moved first, must go back. */
        fakesys_fail_write(f->fs, "bus/pci/devices/" AUDIO "/driver_override", EACCES);
        assert_true(bind_apply(&f->env, sub, RUN_UID, RUN_GID, &e) < 0);
        bind_plan_free(sub);
        assert_msg(&e, "every change was rolled back");
        assert_string_equal(fakesys_driver_of(f->fs, GPU), "nouveau");
        assert_string_equal(fakesys_driver_of(f->fs, AUDIO), "snd_hda_intel");
        assert_string_equal(fakesys_driver_of(f->fs, "0000:02:00.0"), "vfio-pci");
        assert_int_equal(journal_load(f->env.roots, "win10", &j, &e), 0);
        assert_int_equal(j.n_devices, 1);

        assert_int_equal(undo(f, "win10", &e), 0);
        assert_host_unchanged(f);
}

/* Only the journal's own launcher gives devices back while QEMU runs. */
static void test_give_back_not_owner(void **state)
{
        struct fixture *f = *state;
        struct vl_error e = {};
        const int g12 = 12;

        write_other_journal(f, "win10", 1, GPU);
        assert_int_equal(undo_groups(f, "win10", &g12, 1, &e), -EPERM);
        assert_msg(&e, "belongs to launcher pid 1");
        assert_int_equal(undo_groups(f, "nothere", &g12, 1, &e), -ENOENT);
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int main(void)
{
        const struct CMUnitTest tests[] = {
                T(test_plan),
                T(test_plan_no_hostdevs),
                T(test_refuse_iommu_off),
                T(test_refuse_missing_device),
                T(test_refuse_wrong_ids),
                T(test_refuse_no_irq_remapping),
                T(test_refuse_no_group),
                T(test_refuse_bridge_hostdev),
                T(test_refuse_not_viable_then_allow_detach),
                T(test_refuse_boot_vga),
                T(test_refuse_efifb),
                T(test_refuse_in_use),
                T(test_refuse_claimed),
                T(test_apply_undo),
                T(test_apply_loads_vfio),
                T(test_group_with_bridge_and_keep),
                T(test_no_original_driver),
                T(test_original_override_restored),
                T(test_stale_plan),
                T(test_fail_unbind_ebusy),
                T(test_fail_override_write),
                T(test_fail_probe_never_binds),
                T(test_fail_write_blocks),
                T(test_fail_vfio_module_missing),
                T(test_fail_group_node_missing),
                T(test_rollback_incomplete_then_recover),
                T(test_undo_original_module_missing),
                T(test_undo_device_gone),
                T(test_undo_refuses_live_owner),
                T(test_crash_at_every_step),
                T(test_give_back_and_extend),
                T(test_extend_failure_keeps_others),
                T(test_give_back_not_owner),
                cmocka_unit_test(test_real_write_bounded),
                cmocka_unit_test(test_real_modprobe),
                cmocka_unit_test(test_env_defaults),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
