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

/* A run's plan (plan_names off) reads no pci.ids for devices it only
 * moves, and still names a device in a refusal. */
static void test_plan_names_lazy(void **state)
{
        struct fixture *f = *state;
        struct bind_plan *plan;

        f->env.plan_names = false;
        plan = plan_ok(f);
        assert_string_equal(plan->devices[0].dev.vendor_name, "");
        assert_string_equal(plan->devices[0].dev.device_name, "");
        assert_string_equal(plan->devices[1].dev.device_name, "");
        bind_plan_free(plan);

        fakesys_drm_node(f->fs, GPU, "card0");
        fakesys_process(f->fs, 4242, "Xorg", "dri/card0", 1);
        expect_refusal(f, EBUSY,
                       (const char *const[]) { GPU, "GK106 [GeForce GTX 660]", "is in use", "pid 4242 (Xorg)",
                                               NULL });
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

/* --- what the host runs on a device ------------------------------------------------ */

#define DISK "0000:03:00.0"
#define NIC "0000:02:00.0"
#define NIC2 "0000:04:00.0"
#define SERIAL "0000:05:00.0"
#define NVME "0000:06:00.0"

/* Plan must refuse with EBUSY and exactly this message, writing nothing. */
static void expect_refusal_msg(struct fixture *f, const char *msg)
{
        struct bind_plan *plan = NULL;
        struct vl_error e = {};
        unsigned writes = fakesys_writes(f->fs);

        take_snapshot(f);
        assert_int_equal(bind_plan_new(&f->env, &f->p, &plan, &e), -EBUSY);
        assert_null(plan);
        assert_string_equal(e.msg, msg);
        assert_int_equal(fakesys_writes(f->fs), writes);
        assert_host_unchanged(f);
}

/* With allow_in_use the same plan goes through with one loud warning per
 * holder: exactly these, in this order (other warnings aside); then
 * allow_in_use is off again. */
static void expect_warnings(struct fixture *f, const char *const *warnings)
{
        struct bind_plan *plan;
        unsigned k = 0;

        f->p.allow_in_use = true;
        plan = plan_ok(f);
        for (unsigned i = 0; i < plan->warnings.n; i++) {
                if (!strstr(plan->warnings.msg[i], " IS IN USE"))
                        continue;
                if (!warnings[k])
                        fail_msg("unexpected warning \"%s\"", plan->warnings.msg[i]);
                assert_string_equal(plan->warnings.msg[i], warnings[k]);
                k++;
        }
        if (warnings[k])
                fail_msg("missing warning \"%s\"", warnings[k]);
        bind_plan_free(plan);
        f->p.allow_in_use = false;
}

static void only_hostdev(struct fixture *f, const char *addr)
{
        f->p.n_hostdevs = 0;
        add_hostdev(&f->p, addr);
}

/* A virtio disk (vda: vda1, vda2, vda3) alone in group 14, the profile's
 * only hostdev; the host's other mounts are elsewhere. */
static void add_disk(struct fixture *f)
{
        fakesys_driver(f->fs, "virtio-pci", "virtio_pci", true);
        fakesys_device(f->fs, DISK, 0x1af4, 0x1042, 0x010000, 14, "virtio-pci", "virtio-pci");
        fakesys_block(f->fs, "pci0000:00/" DISK "/virtio1/block", "vda", "254:0");
        for (unsigned i = 1; i <= 3; i++) {
                char name[8], mm[16];
                snprintf(name, sizeof(name), "vda%u", i);
                snprintf(mm, sizeof(mm), "254:%u", i);
                fakesys_block(f->fs, "pci0000:00/" DISK "/virtio1/block/vda", name, mm);
        }
        fakesys_block(f->fs, "pci0000:00/0000:00:17.0/ata1/host0/target0:0:0/0:0:0:0/block", "sda", "8:0");
        fakesys_block(f->fs, "pci0000:00/0000:00:17.0/ata1/host0/target0:0:0/0:0:0:0/block/sda", "sda1", "8:1");
        fakesys_mount(f->fs, "8:1", "/", "ext4", "/dev/sda1");
        fakesys_mount(f->fs, "0:22", "/proc", "proc", "proc");
        fakesys_swap(f->fs, "/dev/sda2");
        only_hostdev(f, DISK);
}

static void test_refuse_mounted(void **state)
{
        struct fixture *f = *state;

        add_disk(f);
        /* Its partitions exist, nothing of them is mounted: planned. */
        bind_plan_free(plan_ok(f));
        /* The root file system, mounted by the kernel itself ("/dev/root"). */
        fakesys_mount(f->fs, "254:1", "/", "ext4", "/dev/root");
        expect_refusal_msg(f, DISK " holds the mounted filesystem / (/dev/vda1): refused (allow_in_use overrides)");
        expect_warnings(f, (const char *const[]) {
                DISK " IS IN USE, taken anyway (allow_in_use): it holds the mounted filesystem / (/dev/vda1)", NULL });
}

/* dm stacked twice (LUKS on LVM), an escaped mount point, btrfs's
 * anonymous device number, swap on a partition. */
static void test_refuse_stacked_and_swap(void **state)
{
        struct fixture *f = *state;

        add_disk(f);
        fakesys_block(f->fs, "virtual/block", "dm-0", "253:0");
        fakesys_sys_file(f->fs, "devices/virtual/block/dm-0/dm/name", "vg-home\n");
        fakesys_block_stack(f->fs, "dm-0", "vda2");
        fakesys_block(f->fs, "virtual/block", "dm-1", "253:1");
        fakesys_sys_file(f->fs, "devices/virtual/block/dm-1/dm/name", "home-crypt\n");
        fakesys_block_stack(f->fs, "dm-1", "dm-0");
        /* Not stacked on the disk: no concern of this device. */
        fakesys_block(f->fs, "virtual/block", "dm-2", "253:2");
        fakesys_block_stack(f->fs, "dm-2", "sda1");
        fakesys_mount(f->fs, "253:2", "/opt", "ext4", "/dev/dm-2");
        bind_plan_free(plan_ok(f));

        fakesys_mount(f->fs, "253:0", "/home", "ext4", "/dev/mapper/vg-home");
        fakesys_mount(f->fs, "253:1", "/srv\\040data", "ext4", "/dev/mapper/home-crypt");
        fakesys_mount(f->fs, "0:45", "/var", "btrfs", "/dev/vda1");
        fakesys_swap(f->fs, "/dev/vda3");
        expect_refusal_msg(f, DISK " holds the mounted filesystem /home (/dev/mapper/vg-home), the mounted "
                              "filesystem /srv data (/dev/mapper/home-crypt), the mounted filesystem /var "
                              "(/dev/vda1) and the active swap /dev/vda3: refused (allow_in_use overrides)");
        expect_warnings(f, (const char *const[]) {
                DISK " IS IN USE, taken anyway (allow_in_use): it holds the mounted filesystem /home (/dev/mapper/vg-home)",
                DISK " IS IN USE, taken anyway (allow_in_use): it holds the mounted filesystem /srv data "
                     "(/dev/mapper/home-crypt)",
                DISK " IS IN USE, taken anyway (allow_in_use): it holds the mounted filesystem /var (/dev/vda1)",
                DISK " IS IN USE, taken anyway (allow_in_use): it holds the active swap /dev/vda3", NULL });
}

/* Many mounts of one device: the message names eight and counts the rest. */
static void test_refuse_many_mounts(void **state)
{
        struct fixture *f = *state;
        struct bind_plan *plan = NULL;
        struct vl_error e = {};

        add_disk(f);
        for (unsigned i = 0; i < 10; i++) {
                char mp[32];
                snprintf(mp, sizeof(mp), "/srv/b%u", i);
                fakesys_mount(f->fs, "254:1", mp, "ext4", "/dev/vda1");
        }
        assert_int_equal(bind_plan_new(&f->env, &f->p, &plan, &e), -EBUSY);
        assert_msg(&e, DISK " holds the mounted filesystem /srv/b0 (/dev/vda1), ");
        assert_msg(&e, "/srv/b7 (/dev/vda1) and 2 more: refused (allow_in_use overrides)");
}

/* Native NVMe multipath: the disk is under the subsystem, which links to
 * its controller on the device. And a 9p export of a virtio device. */
static void test_refuse_nvme_head_and_9p(void **state)
{
        struct fixture *f = *state;

        fakesys_driver(f->fs, "nvme", "nvme", true);
        fakesys_device(f->fs, NVME, 0x1b36, 0x0010, 0x010802, 16, "nvme", "nvme");
        fakesys_sys_file(f->fs, "devices/pci0000:00/" NVME "/nvme/nvme0/dev", "243:0\n");
        fakesys_sys_link(f->fs, "class/nvme/nvme0", "devices/pci0000:00/" NVME "/nvme/nvme0");
        fakesys_block(f->fs, "virtual/nvme-subsystem/nvme-subsys0", "nvme0n1", "259:0");
        fakesys_sys_link(f->fs, "devices/virtual/nvme-subsystem/nvme-subsys0/nvme0",
                         "devices/pci0000:00/" NVME "/nvme/nvme0");
        only_hostdev(f, NVME);
        bind_plan_free(plan_ok(f));
        fakesys_mount(f->fs, "259:0", "/", "xfs", "/dev/nvme0n1");
        expect_refusal_msg(f, NVME " holds the mounted filesystem / (/dev/nvme0n1): refused (allow_in_use overrides)");

        add_disk(f);
        fakesys_sys_file(f->fs, "devices/pci0000:00/" DISK "/virtio2/mount_tag", "hostroot\n");
        fakesys_mount(f->fs, "0:33", "/mnt/l0", "9p", "other");
        bind_plan_free(plan_ok(f));
        fakesys_mount(f->fs, "0:34", "/mnt/host", "9p", "hostroot");
        expect_refusal_msg(f, DISK " holds the mounted filesystem /mnt/host (9p hostroot): refused (allow_in_use "
                              "overrides)");
}

/* Network interfaces: down and bare is free; a bridge port, up, an
 * address, a route each make it the host's. */
static void test_refuse_net(void **state)
{
        struct fixture *f = *state;

        fakesys_netdev(f->fs, "virtual/net", "lo", 1, true);
        fakesys_net_addr(f->fs, 1, "127.0.0.1/8");
        fakesys_net_route(f->fs, 1, false);
        fakesys_netdev(f->fs, "pci0000:00/" NIC "/net", "eth0", 2, false);
        only_hostdev(f, NIC);
        bind_plan_free(plan_ok(f));

        fakesys_netdev(f->fs, "virtual/net", "br0", 5, true);
        fakesys_netdev(f->fs, "virtual/net", "eth0.10", 6, true);
        fakesys_net_upper(f->fs, "eth0", "br0", true);
        fakesys_net_upper(f->fs, "eth0", "eth0.10", false);
        expect_refusal_msg(f, NIC " holds the network interface eth0 (a port of br0, under eth0.10): refused "
                              "(allow_in_use overrides)");
        expect_warnings(f, (const char *const[]) {
                NIC " IS IN USE, taken anyway (allow_in_use): it holds the network interface eth0 (a port of br0, "
                    "under eth0.10)", NULL });

        fakesys_device(f->fs, NIC2, 0x8086, 0x10d3, 0x020000, 15, "e1000e", "e1000e");
        fakesys_netdev(f->fs, "pci0000:00/" NIC2 "/net", "eth1", 3, true);
        only_hostdev(f, NIC2);
        expect_refusal_msg(f, NIC2 " holds the network interface eth1 (up): refused (allow_in_use overrides)");
        /* Down again, an address and its route stay (as a static address
         * with keep_addr_on_down would). */
        fakesys_netdev(f->fs, "pci0000:00/" NIC2 "/net", "eth1", 3, false);
        fakesys_net_addr(f->fs, 3, "192.0.2.1/24");
        fakesys_net_route(f->fs, 3, false);
        expect_refusal_msg(f, NIC2 " holds the network interface eth1 (address 192.0.2.1/24, 1 route): refused "
                              "(allow_in_use overrides)");
        fakesys_netdev(f->fs, "pci0000:00/" NIC2 "/net", "eth1", 3, true);
        fakesys_net_addr(f->fs, 3, "2001:db8::1/64");
        fakesys_net_addr(f->fs, 3, "fe80::5054:ff:fe12:3456/64");
        fakesys_net_addr(f->fs, 3, "198.51.100.7/24");
        fakesys_net_route(f->fs, 3, true);
        expect_refusal_msg(f, NIC2 " holds the network interface eth1 (up, addresses 192.0.2.1/24 2001:db8::1/64 "
                              "fe80::5054:ff:fe12:3456/64 and 1 more, 2 routes incl. the default route): refused "
                              "(allow_in_use overrides)");
        expect_warnings(f, (const char *const[]) {
                NIC2 " IS IN USE, taken anyway (allow_in_use): it holds the network interface eth1 (up, addresses "
                     "192.0.2.1/24 2001:db8::1/64 fe80::5054:ff:fe12:3456/64 and 1 more, 2 routes incl. the default "
                     "route)", NULL });
}

/* bind_device_console() of the device at addr: 1, 0 or -errno. */
static int console_on(struct fixture *f, const char *addr)
{
        struct pci_addr a;
        struct vl_error e = {};

        assert_int_equal(pci_addr_parse(addr, &a), 0);
        return bind_device_console(f->env.roots, &a, &e);
}

/* The console: a serial card's port, and fbcon on a GPU's framebuffer;
 * bind_device_console() says the same as the refusals. */
static void test_refuse_console(void **state)
{
        struct fixture *f = *state;

        fakesys_driver(f->fs, "serial", NULL, true);
        fakesys_device(f->fs, SERIAL, 0x1415, 0xc158, 0x070002, 17, "serial", "serial");
        fakesys_sys_file(f->fs, "devices/pci0000:00/" SERIAL "/tty/ttyS4/dev", "4:68\n");
        fakesys_sys_link(f->fs, "class/tty/ttyS4", "devices/pci0000:00/" SERIAL "/tty/ttyS4");
        fakesys_sys_file(f->fs, "devices/pnp0/00:04/tty/ttyS0/dev", "4:64\n");
        fakesys_sys_link(f->fs, "class/tty/ttyS0", "devices/pnp0/00:04/tty/ttyS0");
        fakesys_sys_file(f->fs, "devices/virtual/tty/tty0/dev", "4:0\n");
        fakesys_sys_link(f->fs, "class/tty/tty0", "devices/virtual/tty/tty0");
        fakesys_sys_file(f->fs, "devices/virtual/tty/console/active", "tty0 ttyS0\n");
        fakesys_sys_link(f->fs, "class/tty/console", "devices/virtual/tty/console");
        only_hostdev(f, SERIAL);
        bind_plan_free(plan_ok(f));
        assert_int_equal(console_on(f, SERIAL), 0);
        fakesys_sys_file(f->fs, "devices/virtual/tty/console/active", "tty0 ttyS4\n");
        expect_refusal_msg(f, SERIAL " holds the console ttyS4: refused (allow_in_use overrides)");
        assert_int_equal(console_on(f, SERIAL), 1);
        expect_warnings(f, (const char *const[]) {
                SERIAL " IS IN USE, taken anyway (allow_in_use): it holds the console ttyS4", NULL });

        /* fbcon draws the virtual terminals on the GPU's fb0: the
         * framebuffer rule (allow_boot_vga) and this one both apply. */
        only_hostdev(f, GPU);
        add_hostdev(&f->p, AUDIO);
        f->p.allow_boot_vga = true;
        fakesys_fb(f->fs, "fb0", GPU);
        fakesys_sys_file(f->fs, "devices/virtual/vtconsole/vtcon0/name", "(S) dummy device\n");
        fakesys_sys_file(f->fs, "devices/virtual/vtconsole/vtcon0/bind", "0\n");
        fakesys_sys_link(f->fs, "class/vtconsole/vtcon0", "devices/virtual/vtconsole/vtcon0");
        fakesys_sys_file(f->fs, "devices/virtual/vtconsole/vtcon1/name", "(M) frame buffer device\n");
        fakesys_sys_file(f->fs, "devices/virtual/vtconsole/vtcon1/bind", "0\n");
        fakesys_sys_link(f->fs, "class/vtconsole/vtcon1", "devices/virtual/vtconsole/vtcon1");
        bind_plan_free(plan_ok(f)); /* unbound: the framebuffer warning only */
        assert_int_equal(console_on(f, GPU), 0);
        fakesys_sys_file(f->fs, "devices/virtual/vtconsole/vtcon1/bind", "1\n");
        expect_refusal_msg(f, GPU " holds the console (fbcon on fb0): refused (allow_in_use overrides)");
        assert_int_equal(console_on(f, GPU), 1);
        assert_int_equal(console_on(f, AUDIO), 0);    /* the same card, not its framebuffer */
        assert_int_equal(console_on(f, "0000:7f:00.0"), -ENOENT);
}

/* host_handover: the plan postpones the in-use checks (the hand-over lets
 * go of the console first) and bind_plan_recheck_usage() makes them after
 * it; the GPU's module unloaded by the hand-over leaves it driverless, which
 * bind_apply() accepts, and the journal keeps the driver it had. */
static void test_handover_postpones_usage(void **state)
{
        struct fixture *f = *state;
        struct bind_plan *plan;
        struct journal *j = calloc(1, sizeof(*j));
        struct vl_error e = {};
        char path[4096];
        bool said = false;

        only_hostdev(f, GPU);
        add_hostdev(&f->p, AUDIO);
        f->p.allow_boot_vga = true;
        f->p.host_handover.enabled = true;
        f->p.host_handover.vtconsoles = true;
        fakesys_fb(f->fs, "fb0", GPU);
        fakesys_sys_file(f->fs, "devices/virtual/vtconsole/vtcon1/name", "(M) frame buffer device\n");
        fakesys_sys_file(f->fs, "devices/virtual/vtconsole/vtcon1/bind", "1\n");
        fakesys_sys_link(f->fs, "class/vtconsole/vtcon1", "devices/virtual/vtconsole/vtcon1");

        plan = plan_ok(f);
        assert_true(plan->handover);
        for (unsigned i = 0; i < plan->warnings.n; i++)
                said = said || strstr(plan->warnings.msg[i], "checked after that");
        assert_true(said);
        /* Still bound: the same refusal as without the hand-over. */
        assert_int_equal(bind_plan_recheck_usage(&f->env, &f->p, plan, &e), -EBUSY);
        assert_string_equal(e.msg, GPU " holds the console (fbcon on fb0): refused (allow_in_use overrides)");
        /* The hand-over: fbcon unbound, the GPU's module unloaded. */
        fakesys_sys_file(f->fs, "devices/virtual/vtconsole/vtcon1/bind", "0\n");
        assert_int_equal(bind_plan_recheck_usage(&f->env, &f->p, plan, &e), 0);
        snprintf(path, sizeof(path), "%s/bus/pci/drivers/nouveau/unbind", fakesys_sys(f->fs));
        assert_int_equal(f->env.ops->write(f->env.ops->userdata, path, GPU, 100), 0);
        fakesys_unload_driver(f->fs, "nouveau");
        if (bind_apply(&f->env, plan, RUN_UID, RUN_GID, &e) < 0)
                fail_msg("apply: %s", e.msg);
        assert_string_equal(fakesys_driver_of(f->fs, GPU), "vfio-pci");
        assert_int_equal(journal_load(fakesys_roots(f->fs), "win10", j, &e), 0);
        assert_string_equal(j->devices[0].orig_driver, "nouveau");
        assert_int_equal(bind_undo(&f->env, j, NULL, 0, &e), 0);
        assert_string_equal(fakesys_driver_of(f->fs, GPU), "nouveau");
        assert_int_equal(journal_remove(fakesys_roots(f->fs), "win10", &e), 0);
        bind_plan_free(plan);

        /* Without a hand-over the same driverless GPU is a stale plan. */
        f->p.host_handover.enabled = false;
        plan = plan_ok(f);
        snprintf(path, sizeof(path), "%s/bus/pci/drivers/nouveau/unbind", fakesys_sys(f->fs));
        assert_int_equal(f->env.ops->write(f->env.ops->userdata, path, GPU, 100), 0);
        assert_int_equal(bind_apply(&f->env, plan, RUN_UID, RUN_GID, &e), -ESTALE);
        bind_plan_free(plan);
        free(j);
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
        /* Another VM's journal nobody can read: its devices are unknown, a
         * warning, and that VM's problem — not every other VM's. */
        snprintf(path, sizeof(path), "mkdir -m 700 -p %s/junk && echo '{' > %s/junk/state.json", fakesys_run(f->fs),
                 fakesys_run(f->fs));
        assert_int_equal(system(path), 0);
        {
                struct bind_plan *plan = plan_ok(f);
                bool warned = false;
                for (unsigned i = 0; i < plan->warnings.n; i++)
                        warned = warned || (strstr(plan->warnings.msg[i], "VM \"junk\"") &&
                                            strstr(plan->warnings.msg[i], "corrupt journal"));
                assert_true(warned);
                bind_plan_free(plan);
        }
        snprintf(path, sizeof(path), "rm -rf %s/junk", fakesys_run(f->fs));
        assert_int_equal(system(path), 0);
        /* This VM's own: what it holds is unknown, refused. */
        snprintf(path, sizeof(path), "mkdir -m 700 -p %s/win10 && echo '{' > %s/win10/state.json", fakesys_run(f->fs),
                 fakesys_run(f->fs));
        assert_int_equal(system(path), 0);
        expect_refusal(f, EBADMSG, (const char *const[]) { "earlier run of \"win10\"", "corrupt journal", NULL });
        snprintf(path, sizeof(path), "rm -rf %s/win10", fakesys_run(f->fs));
        assert_int_equal(system(path), 0);
        /* A journal of an unrelated device is no obstacle. */
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
                T(test_plan_names_lazy),
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
                T(test_refuse_mounted),
                T(test_refuse_stacked_and_swap),
                T(test_refuse_many_mounts),
                T(test_refuse_nvme_head_and_9p),
                T(test_refuse_net),
                T(test_refuse_console),
                T(test_handover_postpones_usage),
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
