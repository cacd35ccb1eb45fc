/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * qemu_argv: the pure builder. Profiles are built in C here (the golden
 * cases in tests/argv/ go through the JSON loader); each test states one
 * rule of the layout or of the syntax.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "qemu/qemu_argv.h"

static void copy(char *dst, size_t size, const char *src)
{
        size_t n = strlen(src);
        assert_true(n < size);
        memcpy(dst, src, n + 1);
}
#define SET(field, s) copy((field), sizeof(field), (s))

static struct hostinfo host(unsigned major, unsigned minor, unsigned micro)
{
        struct hostinfo h = { .version = { major, minor, micro } };
        SET(h.qemu_path, "/usr/bin/qemu-system-x86_64");
        return h;
}

static struct qemu_runtime runtime(void)
{
        struct qemu_runtime rt;

        qemu_runtime_init(&rt);
        rt.fds.qmp = 3;
        rt.spice_port = 5900;
        SET(rt.firmware.code, "/usr/share/OVMF/OVMF_CODE_4M.fd");
        SET(rt.firmware.vars, "/var/lib/vfio-launch/win10/win10_VARS.fd");
        SET(rt.home, "/home/alice");
        SET(rt.xdg_runtime_dir, "/run/user/1000");
        return rt;
}

static void hostdev(struct profile *p, const char *host, unsigned bus, unsigned fn)
{
        struct profile_hostdev *h = &p->hostdevs[p->n_hostdevs++];

        memset(h, 0, sizeof(*h));
        assert_int_equal(pci_addr_parse(host, &h->host), 0);
        h->guest.bus = bus;
        h->guest.function = fn;
}

/* The reference machine (profiles/win10.json), built in code. */
static struct profile *reference(void)
{
        struct profile *p = test_calloc(1, sizeof(*p));
        static const uint8_t mac0[6] = { 0x52, 0x54, 0x00, 0x7a, 0x90, 0xb9 };
        static const uint8_t mac1[6] = { 0x52, 0x54, 0x00, 0x14, 0xc8, 0x8c };

        profile_init(p, "win10");
        SET(p->machine, "pc-q35-4.2");
        p->memory_mib = 8192;
        p->cpu.sockets = 1, p->cpu.cores = 4, p->cpu.threads = 2, p->cpu.vcpus = 8;
        p->cpu.kvm_hidden = true;
        p->cpu.hyperv.relaxed = p->cpu.hyperv.vapic = true;
        p->cpu.hyperv.spinlocks = 8191;
        SET(p->cpu.hyperv.vendor_id, "whatever");
        hostdev(p, "0000:03:00.0", 6, 0);
        hostdev(p, "0000:03:00.1", 7, 0);
        p->n_nics = 2;
        memcpy(p->nics[0].mac, mac0, 6);
        memcpy(p->nics[1].mac, mac1, 6);
        p->nics[0].mac_set = p->nics[1].mac_set = true;
        SET(p->nics[0].model, "e1000e");
        SET(p->nics[1].model, "e1000e");
        p->nics[1].backend = NIC_MACVTAP;
        SET(p->nics[1].dev, "usb0");
        p->n_disks = 1;
        SET(p->disks[0].path, "/var/lib/vfio-launch/win10/win10.qcow2");
        p->sound.model = SOUND_AC97;
        p->sound.backend = AUDIO_ALSA;
        p->sound.alsa_dac_buffer_frames = 512;
        p->sound.alsa_dac_period_frames = 170;
        p->sound.pa_samples = 1024;
        p->sound.timer_period_hz = 99;
        SET(p->sound.pa_server, "/run/user/1000/pulse/native");
        p->display.type = DISPLAY_SPICE;
        p->display.image_compression = SPICE_COMPRESSION_OFF;
        SET(p->display.rendernode, "/dev/dri/by-path/pci-0000:02:00.0-render");
        p->balloon = true;
        return p;
}

/* The builder, after what launch_prepare() decides first for it: the
 * machine type, resolved for this QEMU. */
static int build(const struct profile *p, const struct hostinfo *h, const struct qemu_runtime *rt0,
                 struct qemu_cmd **ret, struct vl_error *e, struct vl_warnings *w)
{
        struct qemu_runtime *rt = test_malloc(sizeof(*rt));
        int r;

        *rt = *rt0;
        r = hostinfo_machine_resolve(p->machine[0] ? p->machine : "q35", &h->version, rt->machine,
                                     sizeof(rt->machine), NULL, 0, e, w);
        if (r >= 0)
                r = qemu_argv_build(p, h, rt, ret, e, w);
        test_free(rt);
        return r;
}

static struct qemu_cmd *build_ok(const struct profile *p, const struct hostinfo *h,
                                 const struct qemu_runtime *rt, struct vl_warnings *w)
{
        struct qemu_cmd *c = NULL;
        struct vl_error e = {};
        int r = build(p, h, rt, &c, &e, w);

        if (r < 0)
                fail_msg("build failed: %d %s: %s", r, e.path, e.msg);
        assert_non_null(c);
        assert_null(c->argv[c->n_argv]);
        assert_null(c->env[c->n_env]);
        return c;
}

/* Does argv hold "opt" immediately followed by "value"? */
static bool has(const struct qemu_cmd *c, const char *opt, const char *value)
{
        for (size_t i = 0; i + 1 < c->n_argv; i++)
                if (strcmp(c->argv[i], opt) == 0 && strcmp(c->argv[i + 1], value) == 0)
                        return true;
        return false;
}

static size_t count_opt(const struct qemu_cmd *c, const char *opt, const char *prefix)
{
        size_t n = 0;

        for (size_t i = 0; i + 1 < c->n_argv; i++)
                if (strcmp(c->argv[i], opt) == 0 &&
                    strncmp(c->argv[i + 1], prefix, strlen(prefix)) == 0)
                        n++;
        return n;
}

#define assert_has(c, opt, value)                                                                  \
        do {                                                                                       \
                if (!has((c), (opt), (value)))                                                     \
                        fail_msg("missing %s %s", (opt), (value));                                 \
        } while (0)

static void test_reference_machine(void **state)
{
        struct profile *p = reference();
        struct hostinfo h = host(7, 2, 0);
        struct qemu_runtime rt = runtime();
        struct vl_warnings w = {};
        struct qemu_cmd *c;

        rt.fds.nic[1] = 12;
        c = build_ok(p, &h, &rt, &w);
        assert_string_equal(c->argv[0], "/usr/bin/qemu-system-x86_64");
        assert_has(c, "-name", "guest=win10,debug-threads=on");
        assert_has(c, "-machine",
                   "pc-q35-4.2,usb=off,vmport=off,dump-guest-core=off,pflash0=pflash0-format,"
                   "pflash1=pflash1-format");
        assert_has(c, "-accel", "kvm");
        assert_has(c, "-cpu", "host,kvm=off,hv-relaxed=on,hv-vapic=on,hv-spinlocks=0x1fff,"
                              "hv-vendor-id=whatever");
        assert_has(c, "-smp", "8,sockets=1,cores=4,threads=2");
        assert_has(c, "-m", "size=8192M");
        assert_has(c, "-blockdev", "driver=file,filename=/usr/share/OVMF/OVMF_CODE_4M.fd,"
                                   "node-name=pflash0-storage,read-only=on");
        assert_has(c, "-blockdev", "driver=file,filename=/var/lib/vfio-launch/win10/win10_VARS.fd,"
                                   "node-name=pflash1-storage");
        /* seven root ports, libvirt-numbered, the GPU behind pci.6 */
        assert_int_equal(count_opt(c, "-device", "pcie-root-port,"), 7);
        assert_has(c, "-device",
                   "pcie-root-port,id=pci.1,chassis=1,port=0x10,bus=pcie.0,addr=0x2,multifunction=on");
        assert_has(c, "-device", "pcie-root-port,id=pci.7,chassis=7,port=0x16,bus=pcie.0,addr=0x2.0x6");
        assert_has(c, "-device", "vfio-pci,host=0000:03:00.0,id=hostdev0,bus=pci.6,addr=0x0");
        assert_has(c, "-device", "vfio-pci,host=0000:03:00.1,id=hostdev1,bus=pci.7,addr=0x0");
        /* NICs, then the balloon, on the lowest ports the hostdevs left */
        assert_has(c, "-netdev", "user,id=hostnet0");
        assert_has(c, "-device", "e1000e,netdev=hostnet0,id=net0,mac=52:54:00:7a:90:b9,bus=pci.1,addr=0x0");
        assert_has(c, "-netdev", "tap,fd=12,id=hostnet1");
        assert_has(c, "-device", "e1000e,netdev=hostnet1,id=net1,mac=52:54:00:14:c8:8c,bus=pci.2,addr=0x0");
        assert_has(c, "-device", "virtio-balloon-pci,id=balloon0,bus=pci.3,addr=0x0");
        assert_has(c, "-device", "ide-hd,bus=ide.0,drive=disk0-format,id=disk0,bootindex=1");
        /* QEMU_AUDIO_DRV=alsa: 512/170 frames, 99 Hz; the PA settings never applied */
        assert_has(c, "-audiodev", "alsa,id=snd0,timer-period=10101,out.buffer-length=11610,"
                                   "out.period-length=3855");
        assert_has(c, "-device", "AC97,id=sound0,audiodev=snd0,bus=pcie.0,addr=0x1b");
        assert_int_equal(w.n, 0); /* the ignored PA settings are profile_validate()'s to report */
        /* autoport: the launcher's port; GL off so no rendernode */
        assert_has(c, "-spice", "port=5900,addr=127.0.0.1,image-compression=off,disable-ticketing=on");
        assert_has(c, "-chardev", "socket,id=charmonitor,fd=3,server=on,wait=off");
        assert_has(c, "-mon", "chardev=charmonitor,mode=control");
        assert_has(c, "-sandbox", "on,obsolete=deny,elevateprivileges=deny,spawn=deny,resourcecontrol=deny");
        assert_has(c, "-S", "-nodefaults");
        assert_has(c, "-nodefaults", "-no-user-config");
        assert_has(c, "-msg", "timestamp=on");
        assert_has(c, "-display", "none");

        /* environment: the run-as user's, never QEMU_AUDIO_* (gone in 8.2) */
        assert_int_equal(c->n_env, 3);
        assert_string_equal(c->env[0], "PATH=/usr/local/bin:/usr/bin:/bin");
        assert_string_equal(c->env[1], "HOME=/home/alice");
        assert_string_equal(c->env[2], "XDG_RUNTIME_DIR=/run/user/1000");
        for (size_t i = 0; i < c->n_env; i++)
                assert_null(strstr(c->env[i], "QEMU_"));
        qemu_cmd_free(c);
        test_free(p);
}

static void test_same_slot(void **state)
{
        struct profile *p = reference();
        struct hostinfo h = host(7, 2, 0);
        struct qemu_runtime rt = runtime();
        struct qemu_cmd *c;

        p->hostdevs[1].guest.same_slot = true;
        rt.fds.nic[1] = 12;
        c = build_ok(p, &h, &rt, NULL);
        assert_has(c, "-device",
                   "vfio-pci,host=0000:03:00.0,id=hostdev0,bus=pci.6,addr=0x0,multifunction=on");
        assert_has(c, "-device", "vfio-pci,host=0000:03:00.1,id=hostdev1,bus=pci.6,addr=0x0.0x1");
        /* pci.7 is no longer needed */
        assert_int_equal(count_opt(c, "-device", "pcie-root-port,"), 6);
        qemu_cmd_free(c);

        /* explicit functions 0 and 1 on one bus do the same */
        p->hostdevs[1].guest.same_slot = false;
        p->hostdevs[1].guest.bus = 6;
        p->hostdevs[1].guest.function = 1;
        c = build_ok(p, &h, &rt, NULL);
        assert_has(c, "-device",
                   "vfio-pci,host=0000:03:00.0,id=hostdev0,bus=pci.6,addr=0x0,multifunction=on");
        assert_has(c, "-device", "vfio-pci,host=0000:03:00.1,id=hostdev1,bus=pci.6,addr=0x0.0x1");
        qemu_cmd_free(c);
        test_free(p);
}

static void expect_error(const struct profile *p, const struct hostinfo *h,
                         const struct qemu_runtime *rt, int err, const char *path, const char *needle)
{
        struct qemu_cmd *c = NULL;
        struct vl_error e = {};

        assert_int_equal(build(p, h, rt, &c, &e, NULL), -err);
        assert_null(c);
        if (path)
                assert_string_equal(e.path, path);
        if (!strstr(e.msg, needle))
                fail_msg("error \"%s\" lacks \"%s\"", e.msg, needle);
}

static void test_layout_errors(void **state)
{
        struct profile *p = reference();
        struct hostinfo h = host(7, 2, 0);
        struct qemu_runtime rt = runtime();

        rt.fds.nic[1] = 12;
        p->hostdevs[1].guest.bus = 6; /* both at pci.6 function 0 */
        expect_error(p, &h, &rt, EINVAL, "$.hostdevs[1].guest", "already taken");

        p->hostdevs[1].guest.function = 1;
        p->hostdevs[0].guest.bus = 5; /* pci.6 has function 1 only */
        expect_error(p, &h, &rt, EINVAL, "$.hostdevs[1].guest", "no function 0");

        p->hostdevs[0].guest.bus = 6;
        p->hostdevs[1].guest.function = 0;
        p->hostdevs[1].guest.bus = 7;
        p->hostdevs[0].host.function = 2; /* no function 0 on the host slot any more */
        p->hostdevs[1].guest.same_slot = true;
        expect_error(p, &h, &rt, EINVAL, "$.hostdevs[1].guest", "same-slot");
        p->hostdevs[0].host.function = 0;
        p->hostdevs[1].guest.same_slot = false;

        p->hostdevs[1].guest.bus = 31;
        expect_error(p, &h, &rt, EINVAL, "$.hostdevs[1].guest", "out of range");
        p->hostdevs[1].guest.bus = 7;

        /* Ids: the profile's rule, which the builder applies to a
         * profile built in code too. */
        SET(p->hostdevs[1].id, "net0"); /* the first NIC's default id */
        expect_error(p, &h, &rt, EINVAL, "$.nics[0].id", "id \"net0\" is already used by $.hostdevs[1]");
        SET(p->hostdevs[1].id, "9gpu");
        expect_error(p, &h, &rt, EINVAL, "$.hostdevs[1].id", "is not a device id");
        SET(p->hostdevs[1].id, "video0"); /* the builder's own */
        expect_error(p, &h, &rt, EINVAL, "$.hostdevs[1].id", "the id of a device vfio-launch adds itself");
        SET(p->hostdevs[1].id, "pci.3"); /* a root port's */
        expect_error(p, &h, &rt, EINVAL, "$.hostdevs[1].id", "the id of a device vfio-launch adds itself");
        p->hostdevs[1].id[0] = '\0';

        rt.fds.nic[1] = -1; /* macvtap without an fd from the launcher */
        expect_error(p, &h, &rt, EINVAL, "$.nics[1]", "no tap file descriptor");
        rt.fds.nic[1] = 12;

        p->hostdevs[0].x_vga = true; /* UEFI */
        expect_error(p, &h, &rt, EINVAL, "$.hostdevs[0].x_vga", "it needs firmware type \"bios\"");
        p->hostdevs[0].x_vga = false;

        p->cpu.hyperv.synic = true;
        expect_error(p, &h, &rt, EINVAL, "$.cpu.hyperv.synic", "vpindex");
        p->cpu.hyperv.synic = false;

        p->display.port = 0;
        rt.spice_port = 0;
        expect_error(p, &h, &rt, EINVAL, "$.display.port", "autoport");
        rt.spice_port = 5900;

        rt.firmware.vars[0] = '\0';
        expect_error(p, &h, &rt, EINVAL, "$.firmware", "VARS");
        test_free(p);
}

static void test_automatic_and_numbering(void **state)
{
        struct profile *p = test_calloc(1, sizeof(*p));
        struct hostinfo h = host(7, 2, 0);
        struct qemu_runtime rt = runtime();
        struct qemu_cmd *c;

        profile_init(p, "big");
        hostdev(p, "0000:01:00.0", 10, 0);
        hostdev(p, "0000:02:00.0", 0, 0);
        p->hostdevs[1].guest.automatic = true;
        p->balloon = true;
        c = build_ok(p, &h, &rt, NULL);
        /* ten ports: pci.9 opens slot 3 (multifunction since pci.10 shares it) */
        assert_int_equal(count_opt(c, "-device", "pcie-root-port,"), 10);
        assert_has(c, "-device", "pcie-root-port,id=pci.8,chassis=8,port=0x17,bus=pcie.0,addr=0x2.0x7");
        assert_has(c, "-device",
                   "pcie-root-port,id=pci.9,chassis=9,port=0x18,bus=pcie.0,addr=0x3,multifunction=on");
        assert_has(c, "-device", "pcie-root-port,id=pci.10,chassis=10,port=0x19,bus=pcie.0,addr=0x3.0x1");
        assert_has(c, "-device", "vfio-pci,host=0000:02:00.0,id=hostdev1,bus=pci.1,addr=0x0");
        assert_has(c, "-device", "virtio-balloon-pci,id=balloon0,bus=pci.2,addr=0x0");
        qemu_cmd_free(c);

        /* a single port: no multifunction on it */
        p->n_hostdevs = 0;
        c = build_ok(p, &h, &rt, NULL);
        assert_has(c, "-device", "pcie-root-port,id=pci.1,chassis=1,port=0x10,bus=pcie.0,addr=0x2");
        qemu_cmd_free(c);
        test_free(p);
}

static void test_escaping(void **state)
{
        struct profile *p = reference();
        struct hostinfo h = host(7, 2, 0);
        struct qemu_runtime rt = runtime();
        struct qemu_cmd *c;
        char buf[16] = "x=";

        rt.fds.nic[1] = 12;
        SET(p->disks[0].path, "/srv/vm images/win,10.qcow2");
        SET(rt.firmware.vars, "/srv/vm images/a,b_VARS.fd");
        SET(p->hostdevs[0].romfile, "/srv/roms/gtx,580.rom");
        c = build_ok(p, &h, &rt, NULL);
        assert_has(c, "-blockdev",
                   "driver=file,filename=/srv/vm images/win,,10.qcow2,node-name=disk0-storage");
        assert_has(c, "-blockdev",
                   "driver=file,filename=/srv/vm images/a,,b_VARS.fd,node-name=pflash1-storage");
        assert_has(c, "-device", "vfio-pci,host=0000:03:00.0,id=hostdev0,bus=pci.6,addr=0x0,"
                                 "romfile=/srv/roms/gtx,,580.rom");
        qemu_cmd_free(c);
        /* hv-vendor-id has no comma to escape: profile_validate() refuses
         * one (QEMU's -cpu list would end there). */

        assert_int_equal(qemu_argv_escape(buf, sizeof(buf), "a,b,,c"), 0);
        assert_string_equal(buf, "x=a,,b,,,,c");
        assert_int_equal(qemu_argv_escape(buf, sizeof(buf), "more,"), -ENAMETOOLONG);
        assert_string_equal(buf, "x=a,,b,,,,c"); /* unchanged on overflow */
        test_free(p);
}

static void test_versions(void **state)
{
        struct profile *p = reference();
        struct hostinfo h = host(7, 2, 0);
        struct qemu_runtime rt = runtime();
        struct vl_warnings w = {};
        struct qemu_cmd *c;

        rt.fds.nic[1] = 12;
        /* pipewire: a clear error before 8.1, fine after */
        p->sound.backend = AUDIO_PIPEWIRE;
        expect_error(p, &h, &rt, ENOTSUP, "$.sound.backend", "8.1");
        h = host(8, 1, 0);
        c = build_ok(p, &h, &rt, NULL);
        assert_has(c, "-audiodev", "pipewire,id=snd0,timer-period=10101");
        qemu_cmd_free(c);
        p->sound.backend = AUDIO_PA;
        c = build_ok(p, &h, &rt, NULL);
        assert_has(c, "-audiodev", "pa,id=snd0,server=unix:/run/user/1000/pulse/native,"
                                   "timer-period=10101,in.buffer-length=11610,out.buffer-length=11610");
        qemu_cmd_free(c);

        /* pc-q35-4.2 is gone in 10.2: plain q35 and a warning */
        h = host(10, 2, 0);
        c = build_ok(p, &h, &rt, &w);
        assert_has(c, "-machine", "q35,usb=off,vmport=off,dump-guest-core=off,"
                                  "pflash0=pflash0-format,pflash1=pflash1-format");
        assert_int_equal(w.n, 1);
        assert_non_null(strstr(w.msg[0], "pc-q35-4.2"));
        qemu_cmd_free(c);
        /* ... still there (deprecated) in 10.1 */
        memset(&w, 0, sizeof(w));
        h = host(10, 1, 0);
        c = build_ok(p, &h, &rt, &w);
        assert_has(c, "-machine", "pc-q35-4.2,usb=off,vmport=off,dump-guest-core=off,"
                                  "pflash0=pflash0-format,pflash1=pflash1-format");
        assert_non_null(strstr(w.msg[0], "deprecated"));
        qemu_cmd_free(c);

        /* newer than the QEMU at hand, and a QEMU too old for us */
        SET(p->machine, "pc-q35-8.0");
        h = host(7, 2, 0);
        p->sound.backend = AUDIO_ALSA;
        expect_error(p, &h, &rt, EINVAL, "$.machine", "newer than QEMU 7.2.0");
        SET(p->machine, "pc-i440fx-7.2");
        expect_error(p, &h, &rt, EINVAL, "$.machine", "root ports");
        SET(p->machine, "q35");
        h = host(6, 2, 0);
        expect_error(p, &h, &rt, ENOTSUP, NULL, "too old");
        test_free(p);
}

static void test_secure_boot_and_bios(void **state)
{
        struct profile *p = reference();
        struct hostinfo h = host(7, 2, 0);
        struct qemu_runtime rt = runtime();
        struct qemu_cmd *c;

        rt.fds.nic[1] = 12;
        p->firmware.secure_boot = true;
        c = build_ok(p, &h, &rt, NULL);
        assert_has(c, "-machine", "pc-q35-4.2,usb=off,vmport=off,dump-guest-core=off,smm=on,"
                                  "pflash0=pflash0-format,pflash1=pflash1-format");
        assert_has(c, "-global", "driver=cfi.pflash01,property=secure,value=on");
        qemu_cmd_free(c);

        p->firmware.secure_boot = false;
        p->firmware.type = FIRMWARE_BIOS;
        p->hostdevs[0].x_vga = true;
        p->hostdevs[0].rombar = ROMBAR_OFF;
        c = build_ok(p, &h, &rt, NULL);
        assert_has(c, "-machine", "pc-q35-4.2,usb=off,vmport=off,dump-guest-core=off");
        assert_int_equal(count_opt(c, "-blockdev", "driver=file,filename=/usr/share/OVMF"), 0);
        assert_has(c, "-device", "vfio-pci,host=0000:03:00.0,id=hostdev0,bus=pci.6,addr=0x0,"
                                 "rombar=0,x-vga=on");
        qemu_cmd_free(c);

        SET(p->display.video, "qxl"); /* two legacy VGA owners */
        expect_error(p, &h, &rt, EINVAL, "$.display.video", "legacy VGA");
        p->firmware.type = FIRMWARE_UEFI;
        p->firmware.secure_boot = true;
        p->hostdevs[0].x_vga = false;
        c = build_ok(p, &h, &rt, NULL);
        assert_has(c, "-device", "qxl-vga,id=video0,bus=pcie.0,addr=0x1");
        qemu_cmd_free(c);
        test_free(p);
}

static void test_devices(void **state)
{
        struct profile *p = test_calloc(1, sizeof(*p));
        struct hostinfo h = host(7, 2, 0);
        struct qemu_runtime rt = runtime();
        struct qemu_cmd *c;

        profile_init(p, "dev");
        p->n_disks = 3;
        SET(p->disks[0].path, "/d/a.qcow2");
        p->disks[0].bus = DISK_BUS_VIRTIO;
        p->disks[0].cache = DISK_CACHE_NONE;
        SET(p->disks[1].path, "/d/b.raw");
        p->disks[1].format = DISK_RAW;
        p->disks[1].bus = DISK_BUS_NVME;
        SET(p->disks[1].id, "fast");
        SET(p->disks[2].path, "/d/install.iso");
        p->disks[2].format = DISK_RAW;
        p->disks[2].cdrom = true;
        p->sound.model = SOUND_ICH9;
        p->display.type = DISPLAY_SPICE;
        p->display.port = 5930;
        p->display.gl = true;
        SET(p->display.rendernode, "/dev/dri/renderD128");
        SET(p->display.password_file, "/etc/vfio-launch/dev.pass");
        c = build_ok(p, &h, &rt, NULL);
        assert_has(c, "-blockdev", "driver=file,filename=/d/a.qcow2,node-name=disk0-storage,"
                                   "cache.direct=on,cache.no-flush=off");
        assert_has(c, "-blockdev", "driver=qcow2,file=disk0-storage,node-name=disk0-format,"
                                   "cache.direct=on,cache.no-flush=off");
        assert_has(c, "-device", "virtio-blk-pci,bus=pci.1,addr=0x0,drive=disk0-format,id=disk0,bootindex=1");
        assert_has(c, "-device", "nvme,serial=fast,bus=pci.2,addr=0x0,drive=disk1-format,id=fast,bootindex=2");
        assert_has(c, "-blockdev", "driver=raw,file=disk2-storage,node-name=disk2-format,read-only=on");
        assert_has(c, "-device", "ide-cd,bus=ide.0,drive=disk2-format,id=disk2,bootindex=3");
        assert_has(c, "-audiodev", "none,id=snd0");
        assert_has(c, "-device", "ich9-intel-hda,id=sound0,bus=pcie.0,addr=0x1b");
        assert_has(c, "-device", "hda-duplex,id=sound0-codec0,bus=sound0.0,cad=0,audiodev=snd0");
        assert_has(c, "-object", "secret,id=spice-password,format=raw,file=/etc/vfio-launch/dev.pass");
        assert_has(c, "-spice", "port=5930,addr=127.0.0.1,password-secret=spice-password,gl=on,"
                                "rendernode=/dev/dri/renderD128");
        assert_has(c, "-cpu", "host");
        assert_has(c, "-smp", "1,sockets=1,cores=1,threads=1");
        qemu_cmd_free(c);

        p->sound.backend = AUDIO_SPICE;
        p->display.type = DISPLAY_NONE;
        p->display.gl = false;
        expect_error(p, &h, &rt, EINVAL, "$.sound.backend", "SPICE display");
        test_free(p);
}

/* Hugepages: the RAM as a backend of its own on the VM's folder, wired to
 * the machine; the folder comes from the runtime, never made up here. */
static void test_hugepages(void **state)
{
        struct profile *p = test_calloc(1, sizeof(*p));
        struct hostinfo h = host(7, 2, 0);
        struct qemu_runtime rt = runtime();
        struct qemu_cmd *c;

        profile_init(p, "huge");
        p->firmware.type = FIRMWARE_BIOS;
        p->memory_mib = 2048;
        p->hugepages.enabled = true;
        p->hugepages.size = HUGEPAGE_1G;
        expect_error(p, &h, &rt, EINVAL, "$.hugepages", "mem-path");
        SET(rt.mem_path, "/dev/huge,1G/vfio-launch-huge");
        c = build_ok(p, &h, &rt, NULL);
        assert_has(c, "-machine", "q35,usb=off,vmport=off,dump-guest-core=off,memory-backend=pc.ram");
        assert_has(c, "-m", "size=2048M");
        assert_has(c, "-object", "memory-backend-file,id=pc.ram,size=2048M,"
                                 "mem-path=/dev/huge,,1G/vfio-launch-huge,prealloc=on");
        qemu_cmd_free(c);

        p->hugepages.prealloc = false;
        c = build_ok(p, &h, &rt, NULL);
        assert_has(c, "-object", "memory-backend-file,id=pc.ram,size=2048M,"
                                 "mem-path=/dev/huge,,1G/vfio-launch-huge,prealloc=off");
        qemu_cmd_free(c);

        p->memory_mib = 1536; /* not whole 1G pages: QEMU would round up */
        expect_error(p, &h, &rt, EINVAL, "$.hugepages.size", "is not a whole number of 1G pages");
        p->hugepages.enabled = false;
        c = build_ok(p, &h, &rt, NULL);
        assert_int_equal(count_opt(c, "-object", "memory-backend"), 0);
        assert_has(c, "-machine", "q35,usb=off,vmport=off,dump-guest-core=off");
        qemu_cmd_free(c);
        test_free(p);
}

/* CPU features: named as QEMU knows them (when the flags were probed);
 * the nested-Hyper-V enlightenments need QEMU 7.1. */
static void test_cpu_features(void **state)
{
        struct profile *p = reference();
        struct hostinfo h = host(7, 2, 0);
        struct qemu_runtime rt = runtime();
        struct qemu_cmd *c;

        rt.fds.nic[1] = 12;
        strcpy(p->cpu.features[0].name, "topoext");
        p->cpu.features[0].on = true;
        strcpy(p->cpu.features[1].name, "hypervisor");
        p->cpu.n_features = 2;
        c = build_ok(p, &h, &rt, NULL); /* not probed: left to QEMU */
        qemu_cmd_free(c);
        strcpy(h.cpu_flags, " fpu topoext hypervisor ");
        c = build_ok(p, &h, &rt, NULL);
        assert_has(c, "-cpu", "host,topoext=on,hypervisor=off,kvm=off,hv-relaxed=on,hv-vapic=on,"
                              "hv-spinlocks=0x1fff,hv-vendor-id=whatever");
        qemu_cmd_free(c);
        strcpy(p->cpu.features[1].name, "hypervisr");
        expect_error(p, &h, &rt, EINVAL, "$.cpu.features.hypervisr", "knows no CPU feature \"hypervisr\"");
        p->cpu.n_features = 0;

        p->cpu.hyperv.tlbflush = p->cpu.hyperv.vpindex = p->cpu.hyperv.tlbflush_ext = true;
        h = host(7, 0, 0);
        expect_error(p, &h, &rt, ENOTSUP, "$.cpu.hyperv", "need QEMU 7.1");
        test_free(p);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_hugepages),
                cmocka_unit_test(test_reference_machine),
                cmocka_unit_test(test_cpu_features),
                cmocka_unit_test(test_same_slot),
                cmocka_unit_test(test_layout_errors),
                cmocka_unit_test(test_automatic_and_numbering),
                cmocka_unit_test(test_escaping),
                cmocka_unit_test(test_versions),
                cmocka_unit_test(test_secure_boot_and_bios),
                cmocka_unit_test(test_devices),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
