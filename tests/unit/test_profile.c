/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The profile loader and model: the reference machine (profiles/win10.json)
 * field by field, its "env" spelling, memory units, MACs, profile_validate()
 * rules on profiles built in code, positions and paths in errors, and the
 * json_pos helpers. The error texts themselves are pinned by the folders in
 * tests/profile/invalid; this file checks values.
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
#include <unistd.h>
#include <cmocka.h>

#include "profile/json_pos.h"
#include "profile/profile.h"
#include "profile/profile_json.h"

/* CMake compiles sources by absolute path: the tree is found from here. */
static void source_path(char *buf, size_t size, const char *rel)
{
        const char *f = __FILE__, *end = strstr(f, "/tests/unit/");

        assert_non_null(end);
        assert_true(snprintf(buf, size, "%.*s/%s", (int) (end - f), f, rel) < (int) size);
}

static struct profile *load_ok(const char *rel, struct vl_warnings *w)
{
        struct profile *p = calloc(1, sizeof(*p));
        struct vl_error e = {};
        char path[4096];

        assert_non_null(p);
        source_path(path, sizeof(path), rel);
        if (profile_load(path, p, &e, w) < 0) {
                char msg[1024];
                vl_error_format(&e, msg, sizeof(msg));
                fail_msg("%s", msg);
        }
        return p;
}

static int load_str(const char *json, struct profile *p, struct vl_error *e,
                    struct vl_warnings *w)
{
        return profile_load_buffer(json, strlen(json), "t.json", "/base/dir", p, e, w);
}

static void test_win10(void **state)
{
        struct vl_warnings w = {};
        struct profile *p = load_ok("profiles/win10.json", &w);
        char a[PCI_ADDR_STRLEN];

        assert_string_equal(p->name, "win10");
        assert_true(p->source[0] == '/');
        assert_non_null(strstr(p->source, "/profiles/win10.json"));
        assert_string_equal(p->machine, "pc-q35-4.2");
        assert_string_equal(p->user, "");
        assert_false(p->allow_root);
        assert_int_equal(p->memory_mib, 8192);

        assert_int_equal(p->firmware.type, FIRMWARE_UEFI);
        assert_false(p->firmware.secure_boot);
        assert_string_equal(p->firmware.code, "");
        assert_string_equal(p->firmware.vars, "");

        assert_string_equal(p->cpu.model, "host");
        assert_int_equal(p->cpu.sockets, 1);
        assert_int_equal(p->cpu.cores, 4);
        assert_int_equal(p->cpu.threads, 2);
        assert_int_equal(p->cpu.vcpus, 8);
        assert_true(p->cpu.kvm_hidden);
        assert_false(p->cpu.migratable);
        assert_true(p->cpu.hyperv.relaxed);
        assert_true(p->cpu.hyperv.vapic);
        assert_int_equal(p->cpu.hyperv.spinlocks, 8191);
        assert_string_equal(p->cpu.hyperv.vendor_id, "whatever");
        assert_false(p->cpu.hyperv.vpindex || p->cpu.hyperv.synic || p->cpu.hyperv.stimer ||
                     p->cpu.hyperv.time || p->cpu.hyperv.tlbflush || p->cpu.hyperv.ipi);

        assert_int_equal(p->n_hostdevs, 2);
        assert_string_equal(pci_addr_format(&p->hostdevs[0].host, a), "0000:03:00.0");
        assert_true(p->hostdevs[0].ids_set);
        assert_int_equal(p->hostdevs[0].vendor, 0x10de);
        assert_int_equal(p->hostdevs[0].device, 0x11c0);
        assert_false(p->hostdevs[0].guest.automatic);
        assert_false(p->hostdevs[0].guest.same_slot);
        assert_int_equal(p->hostdevs[0].guest.bus, 6);
        assert_int_equal(p->hostdevs[0].guest.slot, 0);
        assert_int_equal(p->hostdevs[0].guest.function, 0);
        assert_int_equal(p->hostdevs[0].rombar, ROMBAR_DEFAULT);
        assert_false(p->hostdevs[0].x_vga);
        assert_string_equal(p->hostdevs[0].id, "hostdev0");
        assert_string_equal(pci_addr_format(&p->hostdevs[1].host, a), "0000:03:00.1");
        assert_int_equal(p->hostdevs[1].device, 0x0e0b);
        assert_int_equal(p->hostdevs[1].guest.bus, 7);
        assert_int_equal(p->hostdevs[1].guest.function, 0);
        assert_string_equal(p->hostdevs[1].id, "hostdev1");
        assert_int_equal(p->n_allow_detach, 0);

        assert_int_equal(p->n_disks, 1);
        assert_string_equal(p->disks[0].path, "/var/lib/libvirt/images/win10.qcow2");
        assert_int_equal(p->disks[0].format, DISK_QCOW2);
        assert_int_equal(p->disks[0].bus, DISK_BUS_SATA);
        assert_false(p->disks[0].cdrom);
        assert_string_equal(p->disks[0].id, "disk0");

        assert_int_equal(p->n_nics, 2);
        const uint8_t mac0[6] = { 0x52, 0x54, 0x00, 0x7a, 0x90, 0xb9 };
        const uint8_t mac1[6] = { 0x52, 0x54, 0x00, 0x14, 0xc8, 0x8c };
        assert_string_equal(p->nics[0].model, "e1000e");
        assert_true(p->nics[0].mac_set);
        assert_memory_equal(p->nics[0].mac, mac0, 6);
        assert_int_equal(p->nics[0].backend, NIC_USER);
        assert_string_equal(p->nics[0].id, "net0");
        assert_string_equal(p->nics[1].model, "e1000e");
        assert_memory_equal(p->nics[1].mac, mac1, 6);
        assert_int_equal(p->nics[1].backend, NIC_MACVTAP);
        assert_string_equal(p->nics[1].dev, "usb0");
        assert_int_equal(p->nics[1].mode, MACVTAP_BRIDGE);

        assert_int_equal(p->sound.model, SOUND_AC97);
        assert_int_equal(p->sound.backend, AUDIO_ALSA);
        assert_int_equal(p->sound.alsa_dac_buffer_frames, 512);
        assert_int_equal(p->sound.alsa_dac_period_frames, 170);
        assert_int_equal(p->sound.pa_samples, 1024);
        assert_int_equal(p->sound.timer_period_hz, 99);
        assert_int_equal(p->sound.frequency, 0);
        assert_string_equal(p->sound.pa_server, "/run/user/1000/pulse/native");

        assert_int_equal(p->display.type, DISPLAY_SPICE);
        assert_int_equal(p->display.port, 0);
        assert_string_equal(p->display.listen, "127.0.0.1");
        assert_int_equal(p->display.image_compression, SPICE_COMPRESSION_OFF);
        assert_false(p->display.gl);
        assert_string_equal(p->display.rendernode, "/dev/dri/by-path/pci-0000:02:00.0-render");
        assert_string_equal(p->display.video, "");
        assert_true(p->balloon);
        assert_int_equal(p->shutdown_timeout_s, 120);

        /* PA settings with the ALSA backend; a rendernode with gl off. */
        assert_int_equal(w.n, 2);
        assert_non_null(strstr(w.msg[0], "$.sound.pa: "));
        assert_non_null(strstr(w.msg[1], "$.display.rendernode: "));

        assert_int_equal(profile_validate(p, NULL, NULL), 0);
        free(p);
}

/* The same machine written with the wiki's QEMU_* variables and defaults. */
static void test_win10_env_spelling(void **state)
{
        struct profile *a = load_ok("profiles/win10.json", NULL);
        struct profile *b = load_ok("tests/profile/valid/win10-env/input.json", NULL);

        assert_int_equal(a->memory_mib, b->memory_mib);
        assert_memory_equal(&a->cpu, &b->cpu, sizeof(a->cpu));
        assert_memory_equal(&a->sound, &b->sound, sizeof(a->sound));
        assert_int_equal(a->n_nics, b->n_nics);
        for (unsigned i = 0; i < a->n_nics; i++)
                assert_memory_equal(&a->nics[i], &b->nics[i], sizeof(a->nics[i]));
        for (unsigned i = 0; i < a->n_hostdevs; i++) {
                assert_true(pci_addr_equal(&a->hostdevs[i].host, &b->hostdevs[i].host));
                assert_memory_equal(&a->hostdevs[i].guest, &b->hostdevs[i].guest,
                                    sizeof(a->hostdevs[i].guest));
        }
        assert_memory_equal(&a->display, &b->display, sizeof(a->display));
        free(a);
        free(b);
}

static void test_memory_units(void **state)
{
        static const struct {
                const char *s;
                int r;
                uint64_t mib;
        } cases[] = {
                { "8G", 0, 8192 },         { "8g", 0, 8192 },        { "8192M", 0, 8192 },
                { "8192", 0, 8192 },       { "8388608K", 0, 8192 },  { "1024k", 0, 1 },
                { "1T", 0, 1048576 },      { "0", 0, 0 },            { "512K", -EDOM, 0 },
                { "1536K", -EDOM, 0 },     { "8GB", -EINVAL, 0 },    { "8 G", -EINVAL, 0 },
                { "G", -EINVAL, 0 },       { "", -EINVAL, 0 },       { "-1", -EINVAL, 0 },
                { "+8G", -EINVAL, 0 },     { "8X", -EINVAL, 0 },     { "8.5G", -EINVAL, 0 },
                { " 8G", -EINVAL, 0 },     { "0x10", -EINVAL, 0 },
                { "18446744073709551615", 0, UINT64_MAX },
                { "18446744073709551616", -ERANGE, 0 },
                { "17592186044416T", -ERANGE, 0 }, /* 2^44 TiB = 2^64 MiB */
                { "17592186044415T", 0, 17592186044415ull * 1048576ull },
        };

        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                uint64_t mib = 12345;
                int r = profile_parse_memory_mib(cases[i].s, &mib);

                if (r != cases[i].r)
                        fail_msg("\"%s\": %d, expected %d", cases[i].s, r, cases[i].r);
                if (r == 0)
                        assert_int_equal(mib, cases[i].mib);
                else
                        assert_int_equal(mib, 12345); /* untouched on failure */
        }
        assert_int_equal(profile_parse_memory_mib(NULL, &(uint64_t) { 0 }), -EINVAL);
}

static void test_memory_json(void **state)
{
        struct profile p;
        struct vl_error e;

        assert_int_equal(load_str("{\"name\":\"m\",\"memory\":4096}", &p, &e, NULL), 0);
        assert_int_equal(p.memory_mib, 4096);
        assert_int_equal(load_str("{\"name\":\"m\",\"memory\":\"2T\"}", &p, &e, NULL), 0);
        assert_int_equal(p.memory_mib, 2u * 1024 * 1024);
        assert_int_equal(load_str("{\"name\":\"m\"}", &p, &e, NULL), 0);
        assert_int_equal(p.memory_mib, 1024);
        assert_int_equal(load_str("{\"name\":\"m\",\"memory\":16}", &p, &e, NULL), 0);
        assert_int_equal(load_str("{\"name\":\"m\",\"memory\":15}", &p, &e, NULL), -EINVAL);
        assert_string_equal(e.path, "$.memory");
        assert_int_equal(load_str("{\"name\":\"m\",\"memory\":\"16T\"}", &p, &e, NULL), 0);
        assert_int_equal(load_str("{\"name\":\"m\",\"memory\":\"16385G\"}", &p, &e, NULL), -EINVAL);
}

static void test_mac(void **state)
{
        uint8_t m[6], d1[6], d2[6], d3[6];
        const uint8_t want[6] = { 0x52, 0x54, 0x00, 0x7a, 0x90, 0xb9 };

        assert_int_equal(profile_parse_mac("52:54:00:7a:90:b9", m), 0);
        assert_memory_equal(m, want, 6);
        assert_int_equal(profile_parse_mac("52:54:00:7A:90:B9", m), 0);
        assert_memory_equal(m, want, 6);
        assert_int_equal(profile_parse_mac("02:00:00:00:00:01", m), 0);

        static const char *const bad[] = {
                "52:54:00:7a:90",    "52:54:00:7a:90:b9:", "52-54-00-7a-90-b9", "525400:7a:90:b9",
                "52:54:00:7a:90:bg", "",                   " 52:54:00:7a:90:b9", "5:54:00:7a:90:b9a",
        };
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
                assert_int_equal(profile_parse_mac(bad[i], m), -EINVAL);
        assert_int_equal(profile_parse_mac(NULL, m), -EINVAL);
        assert_int_equal(profile_parse_mac("01:00:5e:00:00:01", m), -EADDRNOTAVAIL);
        assert_int_equal(profile_parse_mac("ff:ff:ff:ff:ff:ff", m), -EADDRNOTAVAIL);
        assert_int_equal(profile_parse_mac("33:33:00:00:00:01", m), -EADDRNOTAVAIL);
        assert_int_equal(profile_parse_mac("00:00:00:00:00:00", m), -EADDRNOTAVAIL);

        /* Derived: stable, QEMU's prefix, different per NIC and per VM. */
        profile_derive_mac("win10", 0, d1);
        profile_derive_mac("win10", 0, d2);
        assert_memory_equal(d1, d2, 6);
        assert_int_equal(d1[0], 0x52);
        assert_int_equal(d1[1], 0x54);
        assert_int_equal(d1[2], 0x00);
        profile_derive_mac("win10", 1, d3);
        assert_memory_not_equal(d1, d3, 6);
        profile_derive_mac("win11", 0, d3);
        assert_memory_not_equal(d1, d3, 6);
}

static void test_mac_derived_by_loader(void **state)
{
        struct profile p;
        struct vl_error e;
        uint8_t d[6];

        assert_int_equal(load_str("{\"name\":\"vm\",\"nics\":[{},{\"mac\":\"52:54:00:00:00:01\"}]}",
                                  &p, &e, NULL),
                         0);
        assert_false(p.nics[0].mac_set);
        profile_derive_mac("vm", 0, d);
        assert_memory_equal(p.nics[0].mac, d, 6);
        assert_true(p.nics[1].mac_set);
        assert_string_equal(p.nics[0].model, "e1000e");
        assert_string_equal(p.nics[1].id, "net1");
}

/* Every enum's spellings: one per value, no two alike, none past the last
 * value (the loader accepts exactly these; the invalid-profile cases show
 * its message for anything else). */
static void check_names(const char *(*name)(unsigned), unsigned count)
{
        for (unsigned v = 0; v < count; v++) {
                assert_non_null(name(v));
                for (unsigned k = 0; k < v; k++)
                        assert_string_not_equal(name(v), name(k));
        }
        assert_null(name(count));
        assert_null(name(99));
}

static void test_enum_strings(void **state)
{
        check_names(profile_accel_name, ACCEL_TCG + 1);
        check_names(profile_pci_hotplug_name, PCI_HOTPLUG_ACPI + 1);
        check_names(profile_firmware_name, FIRMWARE_BIOS + 1);
        check_names(profile_hugepage_size_name, HUGEPAGE_1G + 1);
        check_names(profile_disk_format_name, DISK_RAW + 1);
        check_names(profile_disk_bus_name, DISK_BUS_SCSI + 1);
        check_names(profile_disk_cache_name, DISK_CACHE_UNSAFE + 1);
        check_names(profile_disk_discard_name, DISK_DISCARD_IGNORE + 1);
        check_names(profile_disk_detect_zeroes_name, DISK_DZ_UNMAP + 1);
        check_names(profile_disk_aio_name, DISK_AIO_IO_URING + 1);
        check_names(profile_nic_backend_name, NIC_TAP + 1);
        check_names(profile_macvtap_mode_name, MACVTAP_PASSTHRU + 1);
        check_names(profile_sound_model_name, SOUND_ICH6 + 1);
        check_names(profile_sound_backend_name, AUDIO_WAV + 1);
        check_names(profile_display_type_name, DISPLAY_SPICE + 1);
        check_names(profile_image_compression_name, SPICE_COMPRESSION_LZ + 1);
        check_names(profile_video_name, 4);
        assert_string_equal(profile_sound_backend_name(AUDIO_PA), "pa");
        assert_string_equal(profile_hugepage_size_name(HUGEPAGE_1G), "1G");
        assert_int_equal(profile_hugepage_kib(HUGEPAGE_1G), 1048576);
}

static void test_topology(void **state)
{
        struct profile p;
        struct vl_error e;

        assert_int_equal(load_str("{\"name\":\"c\",\"cpu\":{\"vcpus\":6}}", &p, &e, NULL), 0);
        assert_int_equal(p.cpu.sockets, 1);
        assert_int_equal(p.cpu.cores, 6);
        assert_int_equal(p.cpu.threads, 1);
        assert_int_equal(p.cpu.vcpus, 6);
        assert_int_equal(load_str("{\"name\":\"c\",\"cpu\":{\"cores\":4,\"threads\":2}}", &p, &e, NULL), 0);
        assert_int_equal(p.cpu.sockets, 1);
        assert_int_equal(p.cpu.vcpus, 8);
        assert_int_equal(load_str("{\"name\":\"c\",\"cpu\":{\"cores\":4,\"vcpus\":8}}", &p, &e, NULL),
                         -EINVAL);
        assert_string_equal(e.path, "$.cpu.vcpus");
        assert_int_equal(load_str("{\"name\":\"c\",\"cpu\":{\"sockets\":255,\"cores\":1}}", &p, &e, NULL), 0);
        assert_int_equal(load_str("{\"name\":\"c\",\"cpu\":{\"sockets\":16,\"cores\":16}}", &p, &e, NULL),
                         -EINVAL);
        assert_string_equal(e.path, "$.cpu.vcpus");
        /* Defaulted vcpus: the error points at the cpu object. */
        assert_int_equal(e.line, 1);
        assert_int_equal(e.column, 19);
}

/* A base profile built in code: valid, then broken one rule at a time. */
static void base(struct profile *p)
{
        profile_init(p, "vm");
        p->n_hostdevs = 2;
        (void) pci_addr_parse("03:00.0", &p->hostdevs[0].host);
        p->hostdevs[0].guest = (struct profile_guest_addr) { .bus = 6 };
        (void) pci_addr_parse("03:00.1", &p->hostdevs[1].host);
        p->hostdevs[1].guest = (struct profile_guest_addr) { .same_slot = true };
}

static void expect_invalid(const struct profile *p, const char *path)
{
        struct vl_error e = {};

        assert_int_equal(profile_validate(p, &e, NULL), -EINVAL);
        assert_string_equal(e.path, path);
        assert_true(e.msg[0] != '\0');
        assert_int_equal(e.line, 0); /* the loader adds positions, validate does not */
}

static void test_validate(void **state)
{
        struct profile p;
        struct vl_warnings w = {};

        profile_init(&p, "plain");
        assert_int_equal(profile_validate(&p, NULL, &w), 0);
        assert_int_equal(w.n, 0);
        base(&p);
        assert_int_equal(profile_validate(&p, NULL, NULL), 0);

        base(&p);
        strcpy(p.name, ".x");
        expect_invalid(&p, "$.name");
        base(&p);
        p.name[0] = '\0';
        expect_invalid(&p, "$.name");
        base(&p);
        p.cpu.cores = 4;
        expect_invalid(&p, "$.cpu.vcpus"); /* vcpus still 1 */
        p.cpu.vcpus = 4;
        assert_int_equal(profile_validate(&p, NULL, NULL), 0);
        p.cpu.sockets = 0;
        expect_invalid(&p, "$.cpu.sockets");

        base(&p);
        p.cpu.hyperv.spinlocks = 4094;
        expect_invalid(&p, "$.cpu.hyperv.spinlocks");
        p.cpu.hyperv.spinlocks = 4095;
        assert_int_equal(profile_validate(&p, NULL, NULL), 0);
        p.cpu.hyperv.stimer = true;
        expect_invalid(&p, "$.cpu.hyperv.stimer");
        p.cpu.hyperv.synic = true;
        p.cpu.hyperv.time = true;
        expect_invalid(&p, "$.cpu.hyperv.synic"); /* needs vpindex */
        p.cpu.hyperv.vpindex = true;
        assert_int_equal(profile_validate(&p, NULL, NULL), 0);

        base(&p);
        p.firmware.secure_boot = true;
        assert_int_equal(profile_validate(&p, NULL, NULL), 0);
        p.firmware.type = FIRMWARE_BIOS;
        expect_invalid(&p, "$.firmware.secure_boot");
        base(&p);
        p.hostdevs[0].x_vga = true;
        expect_invalid(&p, "$.hostdevs[0].x_vga");
        p.firmware.type = FIRMWARE_BIOS;
        assert_int_equal(profile_validate(&p, NULL, NULL), 0);
        p.hostdevs[1].x_vga = true;
        expect_invalid(&p, "$.hostdevs[1].x_vga"); /* only one */

        /* same-slot: resolved to bus 6 function 1, so bus 6 function 1 is taken. */
        base(&p);
        p.n_hostdevs = 3;
        (void) pci_addr_parse("04:00.0", &p.hostdevs[2].host);
        p.hostdevs[2].guest = (struct profile_guest_addr) { .bus = 6, .function = 1 };
        expect_invalid(&p, "$.hostdevs[2].guest");
        p.hostdevs[2].guest.function = 2;
        assert_int_equal(profile_validate(&p, NULL, NULL), 0);
        p.hostdevs[2].guest = (struct profile_guest_addr) { .automatic = true };
        assert_int_equal(profile_validate(&p, NULL, NULL), 0);
        /* Without its function 0 in the profile. */
        base(&p);
        p.hostdevs[0] = p.hostdevs[1];
        p.n_hostdevs = 1;
        expect_invalid(&p, "$.hostdevs[0].guest");
        /* Same host address twice. */
        base(&p);
        p.hostdevs[1] = p.hostdevs[0];
        p.hostdevs[1].guest.bus = 7;
        expect_invalid(&p, "$.hostdevs[1].host");
        /* Guest bus range, slot 0 only. */
        base(&p);
        p.hostdevs[0].guest.bus = PROFILE_GUEST_BUS_MAX + 1;
        expect_invalid(&p, "$.hostdevs[0].guest");
        base(&p);
        p.hostdevs[0].guest.slot = 1;
        expect_invalid(&p, "$.hostdevs[0].guest");

        /* ids: given and default ones share one namespace. */
        base(&p);
        strcpy(p.hostdevs[1].id, "hostdev0");
        expect_invalid(&p, "$.hostdevs[1].id");
        base(&p);
        p.n_disks = 1;
        strcpy(p.disks[0].path, "/vm/a.img");
        strcpy(p.disks[0].id, "hostdev1");
        expect_invalid(&p, "$.disks[0].id");
        strcpy(p.disks[0].id, "pci,x");
        expect_invalid(&p, "$.disks[0].id");
        p.disks[0].id[0] = '\0';
        assert_int_equal(profile_validate(&p, NULL, NULL), 0);
        strcpy(p.disks[0].path, "rel.img");
        expect_invalid(&p, "$.disks[0].path");

        /* NICs. */
        base(&p);
        p.n_nics = 2;
        strcpy(p.nics[0].model, "e1000e");
        strcpy(p.nics[1].model, "e1000e");
        assert_int_equal(profile_validate(&p, NULL, NULL), 0); /* derived MACs differ */
        p.nics[1].backend = NIC_MACVTAP;
        expect_invalid(&p, "$.nics[1].dev");
        strcpy(p.nics[1].dev, "eth0");
        assert_int_equal(profile_validate(&p, NULL, NULL), 0);
        p.nics[1].backend = NIC_TAP;
        expect_invalid(&p, "$.nics[1].dev"); /* dev is macvtap's */
        p.nics[1].dev[0] = '\0';
        expect_invalid(&p, "$.nics[1].bridge");
        strcpy(p.nics[1].bridge, "br0");
        assert_int_equal(profile_validate(&p, NULL, NULL), 0);
        strcpy(p.nics[1].bridge, "br/0");
        expect_invalid(&p, "$.nics[1].bridge");
        strcpy(p.nics[1].bridge, "br0");
        profile_derive_mac("vm", 0, p.nics[1].mac);
        p.nics[1].mac_set = true;
        expect_invalid(&p, "$.nics[1].mac"); /* equals nic 0's derived MAC */

        /* Secure boot is fine with UEFI; VARS are UEFI only. */
        base(&p);
        p.firmware.type = FIRMWARE_BIOS;
        strcpy(p.firmware.vars, "/vm/x_VARS.fd");
        expect_invalid(&p, "$.firmware.vars");

        /* Sound. */
        base(&p);
        p.sound.model = SOUND_AC97;
        p.sound.backend = AUDIO_ALSA;
        p.sound.alsa_dac_buffer_frames = 170;
        p.sound.alsa_dac_period_frames = 512;
        expect_invalid(&p, "$.sound.alsa.dac_period_frames");
        p.sound.alsa_dac_buffer_frames = 512;
        p.sound.alsa_dac_period_frames = 170;
        memset(&w, 0, sizeof(w));
        assert_int_equal(profile_validate(&p, NULL, &w), 0);
        assert_int_equal(w.n, 0);
        p.sound.backend = AUDIO_PA;
        assert_int_equal(profile_validate(&p, NULL, &w), 0);
        assert_int_equal(w.n, 1);
        assert_non_null(strstr(w.msg[0], "$.sound.alsa: "));
        assert_non_null(strstr(w.msg[0], ", ignoring"));

        /* Display. */
        base(&p);
        p.display.gl = true;
        expect_invalid(&p, "$.display.gl"); /* type none */
        p.display.type = DISPLAY_SPICE;
        assert_int_equal(profile_validate(&p, NULL, NULL), 0);
        strcpy(p.display.listen, "localhost");
        expect_invalid(&p, "$.display.listen");
        strcpy(p.display.listen, "::");
        assert_int_equal(profile_validate(&p, NULL, NULL), 0);

        base(&p);
        p.shutdown_timeout_s = 0;
        expect_invalid(&p, "$.shutdown_timeout");
        base(&p);
        p.memory_mib = PROFILE_MEMORY_MAX_MIB + 1;
        expect_invalid(&p, "$.memory");
        base(&p);
        strcpy(p.machine, "pc-q35-4.2x");
        expect_invalid(&p, "$.machine");
        strcpy(p.machine, "pc-q35-10.1");
        assert_int_equal(profile_validate(&p, NULL, NULL), 0);
}

static void test_positions(void **state)
{
        static const char json[] = "{\n"
                                   "  \"name\": \"pos\",\n"
                                   "  \"hostdevs\": [\n"
                                   "    { \"host\": \"03:00.0\" },\n"
                                   "    { \"host\": \"03:00\" }\n"
                                   "  ]\n"
                                   "}\n";
        struct profile p;
        struct vl_error e;
        char buf[1024];

        assert_int_equal(load_str(json, &p, &e, NULL), -EINVAL);
        assert_string_equal(e.file, "t.json");
        assert_string_equal(e.path, "$.hostdevs[1].host");
        assert_int_equal(e.line, 5);
        assert_int_equal(e.column, 15);
        vl_error_format(&e, buf, sizeof(buf));
        assert_string_equal(buf, "t.json:5:15: $.hostdevs[1].host: \"03:00\" is not a PCI address "
                                 "(expected DDDD:BB:SS.F or BB:SS.F)");

        /* Columns count characters, as jansson's do: "é" is one column. */
        assert_int_equal(load_str("{\"name\": \"é\", \"nope\": 1}", &p, &e, NULL), -EINVAL);
        assert_string_equal(e.path, "$.nope");
        assert_int_equal(e.line, 1);
        assert_int_equal(e.column, 15);
        assert_int_equal(load_str("{\"name\": \"é\", \"name\": 1}", &p, &e, NULL), -EINVAL);
        assert_int_equal(e.column, 20); /* jansson's own: end of the duplicate key */

        /* Keys spelt with escapes are matched decoded. */
        assert_int_equal(load_str("{\"name\":\"x\",\"cpu\":{\"cor\\u0065s\":0}}", &p, &e, NULL),
                         -EINVAL);
        assert_string_equal(e.path, "$.cpu.cores");
        assert_int_equal(e.column, 33);
}

static void test_relative_paths(void **state)
{
        struct profile p;
        struct vl_error e;

        assert_int_equal(load_str("{\"name\":\"r\",\"disks\":[{\"path\":\"./a//b.qcow2\"},"
                                  "{\"path\":\"../c.img\"},{\"path\":\"/abs/d.img\"}],"
                                  "\"firmware\":{\"vars\":\"v.fd\"}}",
                                  &p, &e, NULL),
                         0);
        assert_string_equal(p.disks[0].path, "/base/dir/a/b.qcow2");
        assert_string_equal(p.disks[1].path, "/base/dir/../c.img");
        assert_string_equal(p.disks[2].path, "/abs/d.img");
        assert_string_equal(p.firmware.vars, "/base/dir/v.fd");
        assert_string_equal(p.source, "/base/dir/t.json");

        /* base_dir must be absolute. */
        assert_int_equal(profile_load_buffer("{}", 2, "t.json", "rel", &p, &e, NULL), -EINVAL);
}

static void test_ret_untouched(void **state)
{
        struct profile p, copy;
        struct vl_error e;

        memset(&p, 0xa5, sizeof(p));
        memcpy(&copy, &p, sizeof(p));
        assert_int_equal(load_str("{\"name\":\"x\",\"cpu\":{\"cores\":4,\"vcpus\":3}}", &p, &e, NULL),
                         -EINVAL);
        assert_memory_equal(&p, &copy, sizeof(p));
        assert_int_equal(load_str("{\"name\":", &p, &e, NULL), -EINVAL);
        assert_memory_equal(&p, &copy, sizeof(p));
        /* e may be NULL. */
        assert_int_equal(load_str("{\"name\":1}", &p, NULL, NULL), -EINVAL);
        assert_int_equal(load_str("{\"name\":\"-x\"}", &p, NULL, NULL), -EINVAL);
}

static void test_load_files(void **state)
{
        char dir[] = "/tmp/test_profile.XXXXXX", path[128], cwd[4096];
        struct profile *p = malloc(sizeof(*p));
        struct vl_error e;
        FILE *f;

        assert_non_null(p);
        assert_non_null(mkdtemp(dir));

        (void) snprintf(path, sizeof(path), "%s/missing.json", dir);
        assert_int_equal(profile_load(path, p, &e, NULL), -ENOENT);
        assert_string_equal(e.file, path);
        assert_int_equal(profile_load(dir, p, &e, NULL), -EISDIR);

        (void) snprintf(path, sizeof(path), "%s/big.json", dir);
        assert_non_null(f = fopen(path, "w"));
        fputs("{\"name\":\"big\"", f);
        for (unsigned i = 0; i < PROFILE_FILE_MAX; i++)
                fputc(' ', f);
        fputs("}", f);
        fclose(f);
        assert_int_equal(profile_load(path, p, &e, NULL), -EFBIG);
        assert_int_equal(e.err, EFBIG);

        /* A relative path: the file field is as given, source and relative
         * paths are absolute. */
        (void) snprintf(path, sizeof(path), "%s/rel.json", dir);
        assert_non_null(f = fopen(path, "w"));
        fputs("{\"name\":\"rel\",\"disks\":[{\"path\":\"img/rel.qcow2\"}]}", f);
        fclose(f);
        assert_non_null(getcwd(cwd, sizeof(cwd)));
        assert_int_equal(chdir("/tmp"), 0);
        assert_int_equal(profile_load(path + strlen("/tmp/"), p, &e, NULL), 0);
        (void) snprintf(path, sizeof(path), "%s/img/rel.qcow2", dir);
        assert_string_equal(p->disks[0].path, path);
        (void) snprintf(path, sizeof(path), "%s/rel.json", dir);
        assert_string_equal(p->source, path);
        assert_int_equal(chdir(cwd), 0);

        (void) unlink(path);
        (void) snprintf(path, sizeof(path), "%s/big.json", dir);
        (void) unlink(path);
        assert_int_equal(rmdir(dir), 0);
        free(p);
}

static void test_json_pos(void **state)
{
        char path[JSON_PATH_MAX] = "$", q[32];
        struct json_pos pos;
        static const char text[] = "{\"a\": [1, {\"b.c\": true}], \"d\": {\"e\": 2}}";

        assert_int_equal(json_path_append_key(path, sizeof(path), "a", 1), 0);
        assert_int_equal(json_path_append_index(path, sizeof(path), 1), 0);
        assert_int_equal(json_path_append_key(path, sizeof(path), "b.c", 3), 0);
        assert_string_equal(path, "$.a[1][\"b.c\"]");
        assert_int_equal(json_pos_find(text, strlen(text), path, false, &pos), 0);
        assert_int_equal(pos.column, 19);
        assert_int_equal(json_pos_find(text, strlen(text), path, true, &pos), 0);
        assert_int_equal(pos.column, 12);
        assert_int_equal(json_path_parent(path), 0);
        assert_string_equal(path, "$.a[1]");
        assert_int_equal(json_path_parent(path), 0);
        assert_int_equal(json_path_parent(path), 0);
        assert_string_equal(path, "$");
        assert_int_equal(json_path_parent(path), -ENOENT);
        assert_int_equal(json_pos_find(text, strlen(text), "$.d.x", false, &pos), -ENOENT);
        assert_int_equal(json_pos_find_nearest(text, strlen(text), "$.d.x", false, &pos), 0);
        assert_int_equal(pos.column, 32);

        /* Overflow leaves the path as it was. */
        char small[8] = "$.ab";
        assert_int_equal(json_path_append_key(small, sizeof(small), "xyz", 3), -ENAMETOOLONG);
        assert_string_equal(small, "$.ab");
        assert_int_equal(json_path_append_index(small, sizeof(small), 1000), -ENAMETOOLONG);
        assert_string_equal(small, "$.ab");

        /* Path at an offset (for syntax errors). */
        json_pos_path_at(text, strlen(text), 14, path, sizeof(path));
        assert_string_equal(path, "$.a[1][\"b.c\"]");
        json_pos_path_at(text, 0, 0, path, sizeof(path));
        assert_string_equal(path, "$");

        json_quote(q, sizeof(q), "a\"b\n", 4, 64);
        assert_string_equal(q, "\"a\\\"b\\u000a\"");
        json_quote(q, sizeof(q), "0123456789", 10, 4);
        assert_string_equal(q, "\"0123\"...");
        json_quote(q, sizeof(q), "\xc3\xa9\xc3\xa9", 4, 3); /* never half a character */
        assert_string_equal(q, "\"\xc3\xa9\"...");
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_win10),
                cmocka_unit_test(test_win10_env_spelling),
                cmocka_unit_test(test_memory_units),
                cmocka_unit_test(test_memory_json),
                cmocka_unit_test(test_mac),
                cmocka_unit_test(test_mac_derived_by_loader),
                cmocka_unit_test(test_enum_strings),
                cmocka_unit_test(test_topology),
                cmocka_unit_test(test_validate),
                cmocka_unit_test(test_positions),
                cmocka_unit_test(test_relative_paths),
                cmocka_unit_test(test_ret_untouched),
                cmocka_unit_test(test_load_files),
                cmocka_unit_test(test_json_pos),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
