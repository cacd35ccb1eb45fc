/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * doctor: the host checks against fakesys hosts, one per problem users hit
 * (IOMMU off, a group that is not viable, the boot GPU held by efifb, vfio
 * modules missing, no interrupt remapping, no intel_iommu on the command
 * line) and a healthy one; each asserts the status of the checks concerned
 * and the overall verdict. Then the `groups` listing of a fake tree, as text
 * and JSON. Never reads this machine's /sys or /proc.
 */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
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

#include "report/doctor.h"
#include "fakesys.h"

#define GPU "0000:01:00.0"
#define AUDIO "0000:01:00.1"

struct fixture {
        struct fakesys *fs;
        struct doctor_env env;
        struct hostinfo host;
        struct firmware_dirs dirs;
        struct profile p;
        struct doctor_report rep;
        char cmdline[512];
};

static struct pci_addr A(const char *s)
{
        struct pci_addr a;

        assert_int_equal(pci_addr_parse(s, &a), 0);
        return a;
}

static void write_at(const char *root, const char *rel, const char *text)
{
        char path[4096];
        FILE *f;

        snprintf(path, sizeof(path), "%s/%s", root, rel);
        f = fopen(path, "we");
        assert_non_null(f);
        fputs(text, f);
        fclose(f);
}

static void mkdir_at(const char *root, const char *rel)
{
        char path[4096];

        snprintf(path, sizeof(path), "%s/%s", root, rel);
        assert_true(mkdir(path, 0755) == 0 || errno == EEXIST);
}

static void set_cmdline(struct fixture *f, const char *text)
{
        write_at(fakesys_proc(f->fs), "cmdline", text);
}

/* The reference machine, healthy: Intel CPU with vmx, /dev/kvm, VT-d with
 * interrupt remapping, intel_iommu=on iommu=pt, vfio loaded, a GTX 660 and
 * its HDMI audio alone in group 12, both in the profile. */
static int setup(void **state)
{
        struct fixture *f = calloc(1, sizeof(*f));
        struct fakesys *fs = f->fs = fakesys_new();
        const char *sys = fakesys_sys(fs), *proc = fakesys_proc(fs);
        char path[4096];

        fakesys_iommu_on(fs);
        fakesys_driver(fs, "pcieport", NULL, true);
        fakesys_driver(fs, "nouveau", "nouveau", true);
        fakesys_driver(fs, "snd_hda_intel", "snd_hda_intel", true);
        fakesys_driver(fs, "e1000e", "e1000e", true);
        fakesys_driver(fs, "vfio-pci", "vfio_pci", true);
        fakesys_device(fs, "0000:00:01.0", 0x8086, 0x1901, 0x060400, 1, "pcieport", "pcieport");
        fakesys_device(fs, GPU, 0x10de, 0x11c0, 0x030000, 12, "nouveau", "nouveau");
        fakesys_device(fs, AUDIO, 0x10de, 0x0e0b, 0x040300, 12, "snd_hda_intel", "snd_hda_intel");
        fakesys_device(fs, "0000:02:00.0", 0x8086, 0x10d3, 0x020000, 13, "e1000e", "e1000e");
        fakesys_device_attr(fs, GPU, "resource",
                            "0x00000000c1000000 0x00000000c10fffff 0x0000000000040200\n"
                            "0x0000000000000000 0x0000000000000000 0x0000000000000000\n");
        mkdir_at(sys, "module/vfio");
        mkdir_at(sys, "module/vfio_iommu_type1");
        write_at(proc, "cpuinfo",
                 "processor\t: 0\nvendor_id\t: GenuineIntel\nmodel name\t: Intel(R) Core(TM) i7-4770\n"
                 "flags\t\t: fpu vme de pse tsc msr vmx smx est\n\n");
        write_at(proc, "interrupts",
                 "           CPU0\n  0:         10   IR-IO-APIC    2-edge      timer\n"
                 " 24:          0   IR-PCI-MSI 327680-edge      xhci_hcd\n");
        write_at(proc, "meminfo", "MemTotal:       16314164 kB\nMemFree:         9000000 kB\n"
                                  "MemAvailable:   12000000 kB\nHugePages_Total:       0\n");
        set_cmdline(f, "BOOT_IMAGE=/vmlinuz root=/dev/sda1 ro quiet intel_iommu=on iommu=pt\n");
        /* A character device anybody may open stands in for /dev/kvm. */
        snprintf(path, sizeof(path), "%s/kvm", fakesys_dev(fs));
        assert_int_equal(symlink("/dev/null", path), 0);

        doctor_env_init(&f->env, fakesys_roots(fs));
        fakesys_host_env(fs, &f->env.hostenv);
        f->env.euid = 0;
        assert_int_equal(hostinfo_parse_version("QEMU emulator version 7.2.22 (Debian)", &f->host.version), 0);
        snprintf(f->host.qemu_path, sizeof(f->host.qemu_path), "/usr/bin/qemu-system-x86_64");
        f->env.host = &f->host;
        f->env.dirs = &f->dirs; /* empty: the profile boots SeaBIOS */

        profile_init(&f->p, "win10");
        f->p.firmware.type = FIRMWARE_BIOS;
        f->p.hostdevs[f->p.n_hostdevs++].host = A(GPU);
        f->p.hostdevs[f->p.n_hostdevs++].host = A(AUDIO);
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

static void run(struct fixture *f)
{
        assert_int_equal(doctor_run(&f->env, &f->p, &f->rep), 0);
        for (unsigned i = 0; i < f->rep.n; i++)
                fprintf(stderr, "  # %-20s %-4s %s\n", f->rep.r[i].id, doctor_status_to_string(f->rep.r[i].status),
                        f->rep.r[i].evidence);
}

static void expect(struct fixture *f, const char *id, enum doctor_status s, const char *needle)
{
        const struct doctor_result *r = doctor_find(&f->rep, id);

        if (!r)
                fail_msg("no result \"%s\"", id);
        if (r->status != s)
                fail_msg("%s: status %s, expected %s (%s)", id, doctor_status_to_string(r->status),
                         doctor_status_to_string(s), r->evidence);
        if (needle && !strstr(r->evidence, needle))
                fail_msg("%s: evidence \"%s\" lacks \"%s\"", id, r->evidence, needle);
        if (s != DOCTOR_OK)
                assert_true(r->fix[0] != '\0');
}

static void test_healthy(void **state)
{
        struct fixture *f = *state;

        run(f);
        expect(f, "cpu-virt", DOCTOR_OK, "vmx");
        expect(f, "kvm", DOCTOR_OK, NULL);
        expect(f, "iommu", DOCTOR_OK, "dmar0");
        expect(f, "irq-remapping", DOCTOR_OK, NULL);
        expect(f, "vfio-modules", DOCTOR_OK, "vfio_iommu_type1");
        expect(f, "cmdline-iommu", DOCTOR_OK, "intel_iommu=on");
        expect(f, "cmdline-iommu-pt", DOCTOR_OK, NULL);
        expect(f, "cmdline-vfio-ids", DOCTOR_OK, "not set");
        expect(f, "cmdline-efifb", DOCTOR_OK, NULL);
        expect(f, "hostdev:" GPU, DOCTOR_OK, "group 12: 0000:01:00.0 nouveau, 0000:01:00.1 snd_hda_intel");
        expect(f, "hostdev:" AUDIO, DOCTOR_OK, NULL);
        expect(f, "group-viable", DOCTOR_OK, "group 12: 2 devices, 2 to move");
        expect(f, "boot-vga", DOCTOR_OK, NULL);
        expect(f, "in-use", DOCTOR_OK, NULL);
        expect(f, "qemu", DOCTOR_OK, "7.2.22");
        expect(f, "qemu-features", DOCTOR_OK, "pc-q35-7.2");
        expect(f, "ovmf", DOCTOR_OK, "SeaBIOS");
        expect(f, "memory", DOCTOR_OK, NULL);
        expect(f, "memlock", DOCTOR_OK, NULL);
        assert_int_equal(doctor_worst(&f->rep), DOCTOR_OK);

        /* Without a profile only the host-wide checks run. */
        assert_int_equal(doctor_run(&f->env, NULL, &f->rep), 0);
        assert_null(doctor_find(&f->rep, "group-viable"));
        assert_non_null(doctor_find(&f->rep, "iommu"));
        assert_int_equal(doctor_worst(&f->rep), DOCTOR_OK);
}

static void test_iommu_off(void **state)
{
        struct fixture *f = *state;
        char path[4096];

        snprintf(path, sizeof(path), "rm -rf '%s/class/iommu' '%s/kernel/iommu_groups'", fakesys_sys(f->fs),
                 fakesys_sys(f->fs));
        assert_int_equal(system(path), 0);
        /* The devices lose their groups with it. */
        snprintf(path, sizeof(path), "%s/bus/pci/devices/%s/iommu_group", fakesys_sys(f->fs), GPU);
        assert_int_equal(unlink(path), 0);
        set_cmdline(f, "root=/dev/sda1 ro quiet\n");
        run(f);
        expect(f, "iommu", DOCTOR_FAIL, "0 IOMMU groups");
        expect(f, "cmdline-iommu", DOCTOR_FAIL, "not in");
        expect(f, "hostdev:" GPU, DOCTOR_FAIL, "no IOMMU group");
        expect(f, "group-viable", DOCTOR_FAIL, "IOMMU is off");
        assert_int_equal(doctor_worst(&f->rep), DOCTOR_FAIL);
}

static void test_group_not_viable(void **state)
{
        struct fixture *f = *state;

        /* A third function in the GPU's group, on a host driver, not in the profile. */
        fakesys_device(f->fs, "0000:01:00.2", 0x8086, 0x10d3, 0x020000, 12, "e1000e", "e1000e");
        run(f);
        expect(f, "hostdev:" GPU, DOCTOR_OK, "0000:01:00.2 e1000e");
        expect(f, "group-viable", DOCTOR_FAIL, "0000:01:00.2");
        assert_int_equal(doctor_worst(&f->rep), DOCTOR_FAIL);

        /* allow_detach makes it viable again. */
        f->p.allow_detach[f->p.n_allow_detach++] = A("0000:01:00.2");
        run(f);
        expect(f, "group-viable", DOCTOR_OK, "3 devices");
        assert_int_equal(doctor_worst(&f->rep), DOCTOR_OK);
}

static void test_boot_vga_efifb(void **state)
{
        struct fixture *f = *state;

        fakesys_device_attr(f->fs, GPU, "boot_vga", "1\n");
        fakesys_iomem(f->fs, "c1000000-c10fffff : 0000:01:00.0\n  c1000000-c102ffff : efifb\n");
        run(f);
        expect(f, "boot-vga", DOCTOR_FAIL, "efifb at c1000000-c102ffff");
        expect(f, "cmdline-efifb", DOCTOR_WARN, "boot VGA");
        expect(f, "group-viable", DOCTOR_FAIL, NULL); /* a run refuses too */
        assert_int_equal(doctor_worst(&f->rep), DOCTOR_FAIL);

        /* The user booted with video=efifb:off and allows the boot GPU. */
        set_cmdline(f, "intel_iommu=on iommu=pt video=efifb:off\n");
        fakesys_iomem(f->fs, "c1000000-c10fffff : 0000:01:00.0\n");
        f->p.allow_boot_vga = true;
        run(f);
        expect(f, "boot-vga", DOCTOR_WARN, "boot_vga = 1");
        expect(f, "cmdline-efifb", DOCTOR_OK, NULL);
        assert_int_not_equal(doctor_worst(&f->rep), DOCTOR_FAIL);
}

static void test_in_use(void **state)
{
        struct fixture *f = *state;

        fakesys_drm_node(f->fs, GPU, "card1");
        fakesys_process(f->fs, 4242, "Xorg", "dri/card1", 100);
        run(f);
        expect(f, "in-use", DOCTOR_FAIL, "pid 4242 (Xorg) has /dev/dri/card1 open");
        expect(f, "group-viable", DOCTOR_OK, "a run refuses while the host uses them");
        assert_int_equal(doctor_worst(&f->rep), DOCTOR_FAIL);
}

/* host_handover: the boot GPU is the point, what uses it now is for the
 * hand-over to let go of (a run checks again after it), and the plan is
 * the run's: fbcon's console, the modules loaded or not; a built-in module
 * fails. */
static void test_host_handover(void **state)
{
        struct fixture *f = *state;

        fakesys_device_attr(f->fs, GPU, "boot_vga", "1\n");
        fakesys_drm_node(f->fs, GPU, "card1");
        fakesys_process(f->fs, 4242, "Xorg", "dri/card1", 100);
        fakesys_sys_file(f->fs, "devices/virtual/vtconsole/vtcon1/name", "(M) frame buffer device\n");
        fakesys_sys_file(f->fs, "devices/virtual/vtconsole/vtcon1/bind", "1\n");
        fakesys_sys_link(f->fs, "class/vtconsole/vtcon1", "devices/virtual/vtconsole/vtcon1");
        f->p.allow_boot_vga = true;
        f->p.host_handover = (struct profile_handover) { .enabled = true, .vtconsoles = true, .n_modules = 2 };
        snprintf(f->p.host_handover.modules[0], PROFILE_MODULE_NAME_MAX, "nouveau");
        snprintf(f->p.host_handover.modules[1], PROFILE_MODULE_NAME_MAX, "nvidia");
        run(f);
        expect(f, "boot-vga", DOCTOR_OK, "host_handover: the host hands it over for the run");
        expect(f, "in-use", DOCTOR_WARN, "pid 4242 (Xorg) has /dev/dri/card1 open");
        expect(f, "in-use", DOCTOR_WARN, "a run checks again after the hand-over");
        expect(f, "host-handover", DOCTOR_OK,
               "a run would, in this order: unbind fbcon from vtcon1 ((M) frame buffer device); unload module "
               "nouveau (loaded); leave module nvidia (not loaded)");

        fakesys_sys_file(f->fs, "module/nvidia/parameters/x", "0\n");
        run(f);
        expect(f, "host-handover", DOCTOR_FAIL, "module \"nvidia\" is built into this kernel");
}

/* The host's own use of a device: every holder of every named device at
 * once (a run stops at the first), the same words as the plan's refusal;
 * the groups themselves stay viable. */
static void test_in_use_by_host(void **state)
{
        struct fixture *f = *state;

        fakesys_netdev(f->fs, "pci0000:00/0000:02:00.0/net", "eth0", 2, true);
        fakesys_net_addr(f->fs, 2, "192.0.2.1/24");
        fakesys_fb(f->fs, "fb0", GPU);
        fakesys_sys_file(f->fs, "devices/virtual/vtconsole/vtcon1/name", "(M) frame buffer device\n");
        fakesys_sys_file(f->fs, "devices/virtual/vtconsole/vtcon1/bind", "1\n");
        fakesys_sys_link(f->fs, "class/vtconsole/vtcon1", "devices/virtual/vtconsole/vtcon1");
        f->p.allow_boot_vga = true;
        f->p.hostdevs[f->p.n_hostdevs++].host = A("0000:02:00.0");
        run(f);
        expect(f, "in-use", DOCTOR_FAIL,
               GPU " holds the console (fbcon on fb0); 0000:02:00.0 holds the network interface eth0 (up, address "
                   "192.0.2.1/24)");
        expect(f, "group-viable", DOCTOR_OK, "a run refuses while the host uses them");
        assert_int_equal(doctor_worst(&f->rep), DOCTOR_FAIL);

        f->p.allow_in_use = true;
        run(f);
        expect(f, "in-use", DOCTOR_WARN, "(allow_in_use is set: a run takes them anyway)");
        expect(f, "group-viable", DOCTOR_WARN, "0000:02:00.0 IS IN USE, taken anyway (allow_in_use): it holds the "
                                               "network interface eth0");
        assert_int_not_equal(doctor_worst(&f->rep), DOCTOR_FAIL);
}

static void test_vfio_modules_missing(void **state)
{
        struct fixture *f = *state;
        char path[4096];

        snprintf(path, sizeof(path), "rm -rf '%s/module/vfio' '%s/module/vfio_iommu_type1' '%s/module/vfio_pci' "
                                     "'%s/bus/pci/drivers/vfio-pci'",
                 fakesys_sys(f->fs), fakesys_sys(f->fs), fakesys_sys(f->fs), fakesys_sys(f->fs));
        assert_int_equal(system(path), 0);
        run(f);
        expect(f, "vfio-modules", DOCTOR_WARN, "not loaded: vfio vfio_pci vfio_iommu_type1");
        /* A warning: the launcher loads vfio-pci itself at start. */
        assert_int_equal(doctor_worst(&f->rep), DOCTOR_WARN);
}

static void test_irq_remapping_off(void **state)
{
        struct fixture *f = *state;

        write_at(fakesys_proc(f->fs), "interrupts",
                 "           CPU0\n  0:         10   IO-APIC    2-edge      timer\n"
                 " 24:          0   PCI-MSI 327680-edge      xhci_hcd\n");
        run(f);
        expect(f, "irq-remapping", DOCTOR_FAIL, "off");
        assert_int_equal(doctor_worst(&f->rep), DOCTOR_FAIL);

        /* allow_unsafe_interrupts: accepted, with a warning. */
        mkdir_at(fakesys_sys(f->fs), "module/vfio_iommu_type1/parameters");
        write_at(fakesys_sys(f->fs), "module/vfio_iommu_type1/parameters/allow_unsafe_interrupts", "Y\n");
        run(f);
        expect(f, "irq-remapping", DOCTOR_WARN, "allow_unsafe_interrupts");
        assert_int_equal(doctor_worst(&f->rep), DOCTOR_WARN);
}

static void test_cmdline_without_intel_iommu(void **state)
{
        struct fixture *f = *state;

        /* The IOMMU came on anyway (a kernel built with it on by default). */
        set_cmdline(f, "root=/dev/sda1 ro vfio-pci.ids=10de:11c0\n");
        run(f);
        expect(f, "cmdline-iommu", DOCTOR_WARN, "not in");
        expect(f, "cmdline-iommu-pt", DOCTOR_WARN, NULL);
        expect(f, "cmdline-vfio-ids", DOCTOR_WARN, "10de:0e0b"); /* the audio function is missing */
        expect(f, "cmdline-vfio-pre", DOCTOR_WARN, NULL);
        assert_int_equal(doctor_worst(&f->rep), DOCTOR_WARN);

        /* The reference host's "iommu=1" is not passthrough mode. */
        set_cmdline(f, "intel_iommu=off iommu=1 vfio_pci.ids=10de:11c0,10de:0e0b rd.driver.pre=vfio-pci\n");
        run(f);
        expect(f, "cmdline-iommu", DOCTOR_WARN, "intel_iommu=off");
        expect(f, "cmdline-iommu-pt", DOCTOR_WARN, "iommu=1");
        expect(f, "cmdline-vfio-ids", DOCTOR_OK, "covers 10de:11c0,10de:0e0b");
        expect(f, "cmdline-vfio-pre", DOCTOR_OK, NULL);
}

static void test_profile_backends(void **state)
{
        struct fixture *f = *state;
        struct runas u = { .name = "alice", .uid = 1000, .gid = 1000 };

        /* Not enough RAM, a pipewire backend QEMU 7.2 lacks, a missing
         * macvtap lower device and bridge, a PA socket that is a file. */
        f->p.memory_mib = 64 * 1024;
        f->p.sound.model = SOUND_ICH9;
        f->p.sound.backend = AUDIO_PIPEWIRE;
        f->p.n_nics = 2;
        f->p.nics[0] = (struct profile_nic) { .backend = NIC_MACVTAP, .dev = "enp5s0", .id = "net0" };
        f->p.nics[1] = (struct profile_nic) { .backend = NIC_TAP, .bridge = "br0", .id = "net1" };
        mkdir_at(fakesys_sys(f->fs), "class");
        mkdir_at(fakesys_sys(f->fs), "class/net");
        mkdir_at(fakesys_sys(f->fs), "class/net/enp5s0");
        f->env.user = &u;
        snprintf(u.xdg_runtime_dir, sizeof(u.xdg_runtime_dir), "%s", fakesys_top(f->fs));
        run(f);
        expect(f, "memory", DOCTOR_FAIL, "65536 MiB");
        expect(f, "qemu-features", DOCTOR_FAIL, "pipewire needs QEMU 8.1");
        expect(f, "audio", DOCTOR_FAIL, "pipewire-0");
        expect(f, "nic:net0", DOCTOR_OK, NULL);
        expect(f, "nic:net1", DOCTOR_FAIL, "no such bridge");

        f->p.sound.backend = AUDIO_PA;
        snprintf(f->p.sound.pa_server, sizeof(f->p.sound.pa_server), "unix:%s/pci.ids", fakesys_top(f->fs));
        run(f);
        expect(f, "audio", DOCTOR_FAIL, "not a socket");
}

/* A profile with hugepages: its path checked as a run checks it (a folder
 * of this machine's /tmp is no hugetlbfs mount), the pool read from the
 * fake sysfs. Without hugepages in the profile, the host's pool is merely
 * described. */
static void test_hugepages(void **state)
{
        struct fixture *f = *state;

        run(f);
        expect(f, "hugepages", DOCTOR_OK, "none reserved");
        f->p.memory_mib = 8192;
        f->p.hugepages.enabled = true;
        snprintf(f->p.hugepages.path, sizeof(f->p.hugepages.path), "%s", fakesys_top(f->fs));
        run(f);
        expect(f, "hugepages", DOCTOR_FAIL, "not on hugetlbfs");
        expect(f, "hugepages", DOCTOR_FAIL, "$.hugepages.path: ");
}

/* A profile with a TPM: swtpm found or not (the caller looks), and the
 * state folder as a run would find it, in a state root of the test's. */
static void test_tpm(void **state)
{
        struct fixture *f = *state;
        struct runas u = { .name = "alice", .uid = 1000, .gid = 1000 };
        struct tpm_tools t = { "/usr/bin/swtpm", "/usr/bin/swtpm_setup", "/usr/bin/swtpm_localca" };
        char dir[4096];

        f->p.tpm.enabled = true;
        f->env.tpm_error = "swtpm not found in $PATH: a profile with \"tpm\" needs it (apt-get install swtpm swtpm-tools)";
        run(f);
        expect(f, "tpm", DOCTOR_FAIL, "swtpm not found");
        assert_string_equal(doctor_find(&f->rep, "tpm")->fix, "apt-get install swtpm swtpm-tools");

        f->env.tpm_tools = &t;
        f->env.user = &u;
        f->env.state_dir = fakesys_top(f->fs);
        run(f);
        expect(f, "tpm", DOCTOR_OK, "/win10/tpm: made at the first start");
        /* a state folder that is not QEMU's user's */
        snprintf(dir, sizeof(dir), "%s/win10", fakesys_top(f->fs));
        assert_int_equal(mkdir(dir, 0755), 0);
        snprintf(dir, sizeof(dir), "%s/win10/tpm", fakesys_top(f->fs));
        assert_int_equal(mkdir(dir, 0700), 0);
        run(f);
        expect(f, "tpm", geteuid() == 1000 ? DOCTOR_OK : DOCTOR_FAIL, NULL);
}

/* An evdev input: missing is a failure with the fix; an input node in the
 * fake /dev is fine (the run's own plan, input_plan()). */
static void test_inputs(void **state)
{
        struct fixture *f = *state;
        char path[4096];

        snprintf(path, sizeof(path), "%s/input", fakesys_dev(f->fs));
        assert_int_equal(mkdir(path, 0755), 0);
        snprintf(path, sizeof(path), "%s/input/event4", fakesys_dev(f->fs));
        assert_true(strlen(path) < sizeof(f->p.inputs[0].evdev));
        memcpy(f->p.inputs[0].evdev, path, strlen(path) + 1);
        f->p.inputs[0].type = INPUT_EVDEV;
        f->p.inputs[1].type = INPUT_VIRTIO_TABLET;
        f->p.n_inputs = 2;
        run(f);
        expect(f, "inputs", DOCTOR_FAIL, "$.inputs[0].evdev: evdev input");
        expect(f, "inputs", DOCTOR_FAIL, "does not exist");
        if (mknod(path, S_IFCHR | 0660, makedev(13, 68)) < 0)
                return; /* no CAP_MKNOD: the failure above is what could be checked */
        run(f);
        expect(f, "inputs", DOCTOR_OK, "/input/event4: present");
}

/* A host USB device: not plugged in is a failure with the fix, or a
 * warning when optional; two alike without a serial: the fix says how to
 * tell them apart (the run's own plan, usb_plan()). */
static void test_usb(void **state)
{
        struct fixture *f = *state;

        f->p.usb.n_devices = 1;
        f->p.usb.devices[0] = (struct profile_usb_device) { .vendor = 0x0627, .product = 0x0001 };
        run(f);
        expect(f, "usb", DOCTOR_FAIL, "$.usb.devices[0]: no USB device 0627:0001");
        f->p.usb.devices[0].optional = true;
        run(f);
        expect(f, "usb", DOCTOR_WARN, "the VM runs without it");
        for (unsigned i = 1; i <= 2; i++) {
                char rel[128];

                snprintf(rel, sizeof(rel), "bus/usb/devices/1-%u/idVendor", i);
                fakesys_sys_file(f->fs, rel, "0627\n");
                snprintf(rel, sizeof(rel), "bus/usb/devices/1-%u/idProduct", i);
                fakesys_sys_file(f->fs, rel, "0001\n");
                snprintf(rel, sizeof(rel), "bus/usb/devices/1-%u/bDeviceClass", i);
                fakesys_sys_file(f->fs, rel, "00\n");
                snprintf(rel, sizeof(rel), "bus/usb/devices/1-%u/busnum", i);
                fakesys_sys_file(f->fs, rel, "1\n");
                snprintf(rel, sizeof(rel), "bus/usb/devices/1-%u/devnum", i);
                fakesys_sys_file(f->fs, rel, i == 1 ? "2\n" : "3\n");
                snprintf(rel, sizeof(rel), "bus/usb/devices/1-%u/dev", i);
                fakesys_sys_file(f->fs, rel, i == 1 ? "189:1\n" : "189:2\n");
        }
        run(f);
        expect(f, "usb", DOCTOR_FAIL, "2 USB devices are 0627:0001");
        assert_non_null(strstr(doctor_find(&f->rep, "usb")->fix, "serial"));
}

/* Shared memory: the run's own plan (shmem_plan()) for QEMU's user; a
 * file of that name in /dev/shm that the launcher did not make is a
 * failure with the fix. */
static void test_shmem(void **state)
{
        struct fixture *f = *state;
        struct runas u = { .name = "qemu-user", .uid = getuid(), .gid = getgid() };
        struct host_roots roots = *f->env.hostenv.roots;
        char shm[4096], path[4200];
        int fd;

        snprintf(shm, sizeof(shm), "%s/shm", fakesys_top(f->fs));
        assert_int_equal(mkdir(shm, 01777), 0);
        roots.shm = shm;
        f->env.hostenv.roots = &roots;
        f->p.n_shmem = 1;
        snprintf(f->p.shmem[0].name, sizeof(f->p.shmem[0].name), "looking-glass");
        f->p.shmem[0].size_mib = 32;
        f->p.shmem[0].mode = 0660;
        run(f);
        expect(f, "shmem", DOCTOR_WARN, "the run-as user is unknown");
        f->env.user = &u;
        run(f);
        expect(f, "shmem", DOCTOR_OK, "/shm/looking-glass (32 MiB");
        snprintf(path, sizeof(path), "%s/looking-glass", shm);
        fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        assert_true(fd >= 0);
        close(fd);
        run(f);
        expect(f, "shmem", DOCTOR_FAIL, "$.shmem[0]: ");
        assert_non_null(strstr(doctor_find(&f->rep, "shmem")->fix, "remove or rename that file"));
        assert_int_equal(unlink(path), 0);
        assert_int_equal(rmdir(shm), 0);
}

static void test_json(void **state)
{
        struct fixture *f = *state;
        json_error_t jerr;
        json_t *root, *res;
        char *s;

        fakesys_device(f->fs, "0000:01:00.2", 0x8086, 0x10d3, 0x020000, 12, "e1000e", "e1000e");
        run(f);
        s = doctor_report_json(&f->rep);
        assert_non_null(s);
        root = json_loads(s, 0, &jerr);
        assert_non_null(root);
        assert_true(json_is_false(json_object_get(root, "ok")));
        res = json_object_get(root, "results");
        assert_int_equal(json_array_size(res), f->rep.n);
        assert_string_equal(json_string_value(json_object_get(json_array_get(res, 0), "id")), "cpu-virt");
        json_decref(root);
        free(s);
}

static void test_groups(void **state)
{
        struct fixture *f = *state;
        struct vl_error e = {};
        json_error_t jerr;
        json_t *root, *g, *d;
        char *s = NULL;

        assert_int_equal(doctor_groups(fakesys_sys(f->fs), f->env.hostenv.bind.pci_ids, false, &s, &e), 0);
        fprintf(stderr, "%s", s);
        assert_string_equal(
                s, "IOMMU group 1\n"
                   "  0000:00:01.0 PCI bridge [0604]: Intel Corporation [8086:1901] driver=pcieport\n"
                   "IOMMU group 12\n"
                   "  0000:01:00.0 VGA compatible controller [0300]: NVIDIA Corporation GK106 [GeForce GTX 660] "
                   "[10de:11c0] driver=nouveau\n"
                   "  0000:01:00.1 Audio device [0403]: NVIDIA Corporation GK106 HDMI Audio Controller "
                   "[10de:0e0b] driver=snd_hda_intel\n"
                   "IOMMU group 13\n"
                   "  0000:02:00.0 Ethernet controller [0200]: Intel Corporation 82574L Gigabit Network "
                   "Connection [8086:10d3] driver=e1000e\n");
        free(s);
        s = NULL;

        assert_int_equal(doctor_groups(fakesys_sys(f->fs), f->env.hostenv.bind.pci_ids, true, &s, &e), 0);
        root = json_loads(s, 0, &jerr);
        assert_non_null(root);
        g = json_array_get(json_object_get(root, "groups"), 1);
        assert_int_equal(json_integer_value(json_object_get(g, "group")), 12);
        d = json_array_get(json_object_get(g, "devices"), 1);
        assert_string_equal(json_string_value(json_object_get(d, "address")), AUDIO);
        assert_string_equal(json_string_value(json_object_get(d, "ids")), "10de:0e0b");
        assert_string_equal(json_string_value(json_object_get(d, "driver")), "snd_hda_intel");
        assert_string_equal(json_string_value(json_object_get(d, "class")), "0403");
        json_decref(root);
        free(s);
        s = NULL;

        /* No IOMMU: an error that says so and how to fix it. */
        {
                char cmd[4096];
                snprintf(cmd, sizeof(cmd), "rm -rf '%s/class/iommu' '%s/kernel/iommu_groups'", fakesys_sys(f->fs),
                         fakesys_sys(f->fs));
                assert_int_equal(system(cmd), 0);
        }
        assert_int_equal(doctor_groups(fakesys_sys(f->fs), f->env.hostenv.bind.pci_ids, false, &s, &e), -ENODEV);
        assert_null(s);
        assert_non_null(strstr(e.msg, "IOMMU is off"));
        assert_non_null(strstr(e.msg, "intel_iommu=on"));
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_healthy, setup, teardown),
                cmocka_unit_test_setup_teardown(test_iommu_off, setup, teardown),
                cmocka_unit_test_setup_teardown(test_group_not_viable, setup, teardown),
                cmocka_unit_test_setup_teardown(test_boot_vga_efifb, setup, teardown),
                cmocka_unit_test_setup_teardown(test_in_use, setup, teardown),
                cmocka_unit_test_setup_teardown(test_host_handover, setup, teardown),
                cmocka_unit_test_setup_teardown(test_in_use_by_host, setup, teardown),
                cmocka_unit_test_setup_teardown(test_vfio_modules_missing, setup, teardown),
                cmocka_unit_test_setup_teardown(test_irq_remapping_off, setup, teardown),
                cmocka_unit_test_setup_teardown(test_cmdline_without_intel_iommu, setup, teardown),
                cmocka_unit_test_setup_teardown(test_profile_backends, setup, teardown),
                cmocka_unit_test_setup_teardown(test_hugepages, setup, teardown),
                cmocka_unit_test_setup_teardown(test_tpm, setup, teardown),
                cmocka_unit_test_setup_teardown(test_inputs, setup, teardown),
                cmocka_unit_test_setup_teardown(test_usb, setup, teardown),
                cmocka_unit_test_setup_teardown(test_shmem, setup, teardown),
                cmocka_unit_test_setup_teardown(test_json, setup, teardown),
                cmocka_unit_test_setup_teardown(test_groups, setup, teardown),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
