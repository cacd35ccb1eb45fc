/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The VM data model: defaults, the small parsers the loader and the tests
 * share (memory sizes, MACs), and profile_validate().
 *
 * profile_validate() is the one place for rules that span fields, and it
 * also re-checks every per-field invariant the QEMU argv builder relies on
 * (charsets of strings that end up inside QEMU option lists, ranges), so a
 * profile built in code gets the same guarantees as a loaded one. Its error
 * paths use the JSON spelling ("$.hostdevs[1].guest") so the loader can put a
 * line and column on them; warnings start with the path for the same reason.
 * Pure: no I/O.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "profile/profile.h"

static void copy_str(char *dst, size_t size, const char *src)
{
        size_t n = strnlen(src, size - 1);

        memcpy(dst, src, n);
        dst[n] = '\0';
}

void profile_init(struct profile *p, const char *name)
{
        /* memset, not a compound literal: padding is zeroed too, so two
         * profiles built the same way compare equal with memcmp(). */
        memset(p, 0, sizeof(*p));
        copy_str(p->name, sizeof(p->name), name ? name : "");
        copy_str(p->machine, sizeof(p->machine), "q35");
        p->memory_mib = 1024;
        p->hugepages.size = HUGEPAGE_2M;
        copy_str(p->hugepages.path, sizeof(p->hugepages.path), "/dev/hugepages");
        p->hugepages.prealloc = true;
        p->pci_hotplug = PCI_HOTPLUG_NATIVE;
        p->firmware.type = FIRMWARE_UEFI;
        copy_str(p->cpu.model, sizeof(p->cpu.model), "host");
        p->cpu.sockets = p->cpu.cores = p->cpu.threads = p->cpu.vcpus = 1;
        copy_str(p->display.listen, sizeof(p->display.listen), "127.0.0.1");
        p->shutdown_timeout_s = 120;
        p->powerdown_repeat_s = 1;
}

uint64_t profile_hugepage_kib(enum hugepage_size s)
{
        switch (s) {
        case HUGEPAGE_2M:
                return 2048;
        case HUGEPAGE_1G:
                return 1024 * 1024;
        }
        return 0;
}

/* ---- small parsers --------------------------------------------------------- */

int profile_parse_memory_mib(const char *s, uint64_t *ret_mib)
{
        uint64_t v = 0, kib;
        size_t i = 0;

        if (!s || !(s[0] >= '0' && s[0] <= '9'))
                return -EINVAL;
        for (; s[i] >= '0' && s[i] <= '9'; i++) {
                uint64_t d = (uint64_t) (s[i] - '0');
                if (v > (UINT64_MAX - d) / 10)
                        return -ERANGE;
                v = v * 10 + d;
        }
        if (s[i] != '\0' && s[i + 1] != '\0')
                return -EINVAL; /* one unit letter at most, nothing after it */
        switch (s[i]) {
        case '\0':
        case 'M':
        case 'm':
                *ret_mib = v;
                return 0;
        case 'K':
        case 'k':
                /* Below MiB granularity QEMU would round; refuse rather than guess. */
                if (v % 1024 != 0)
                        return -EDOM;
                *ret_mib = v / 1024;
                return 0;
        case 'G':
        case 'g':
                kib = 1024;
                break;
        case 'T':
        case 't':
                kib = 1024 * 1024;
                break;
        default:
                return -EINVAL;
        }
        if (v > UINT64_MAX / kib)
                return -ERANGE;
        *ret_mib = v * kib;
        return 0;
}

static int hexdigit(char c)
{
        if (c >= '0' && c <= '9')
                return c - '0';
        if (c >= 'a' && c <= 'f')
                return c - 'a' + 10;
        if (c >= 'A' && c <= 'F')
                return c - 'A' + 10;
        return -1;
}

int profile_parse_mac(const char *s, uint8_t ret[6])
{
        uint8_t mac[6];

        if (!s || strlen(s) != 17)
                return -EINVAL;
        for (int i = 0; i < 6; i++) {
                int hi = hexdigit(s[3 * i]), lo = hexdigit(s[3 * i + 1]);

                if (hi < 0 || lo < 0 || (i < 5 && s[3 * i + 2] != ':'))
                        return -EINVAL;
                mac[i] = (uint8_t) (hi * 16 + lo);
        }
        if (mac[0] & 1)
                return -EADDRNOTAVAIL; /* multicast/broadcast: not a station address */
        if (!(mac[0] | mac[1] | mac[2] | mac[3] | mac[4] | mac[5]))
                return -EADDRNOTAVAIL;
        memcpy(ret, mac, 6);
        return 0;
}

void profile_derive_mac(const char *name, unsigned index, uint8_t ret[6])
{
        /* FNV-1a over name, a separator and the index: stable across runs and
         * builds, different per VM and per NIC. 52:54:00 is QEMU's locally
         * administered prefix, so it never collides with real hardware. */
        uint32_t h = 2166136261u;

        for (const char *c = name ? name : ""; *c; c++)
                h = (h ^ (uint8_t) *c) * 16777619u;
        h = (h ^ 0xffu) * 16777619u;
        for (int i = 0; i < 4; i++)
                h = (h ^ ((index >> (8 * i)) & 0xffu)) * 16777619u;
        ret[0] = 0x52;
        ret[1] = 0x54;
        ret[2] = 0x00;
        ret[3] = (uint8_t) (h >> 16);
        ret[4] = (uint8_t) (h >> 8);
        ret[5] = (uint8_t) h;
}

/* ---- validation ---------------------------------------------------------- */

#define FAIL(path, ...) vl_error_set_at(e, EINVAL, NULL, 0, 0, (path), __VA_ARGS__)

static bool in_set(const char *s, const char *const *set)
{
        for (; *set; set++)
                if (strcmp(s, *set) == 0)
                        return true;
        return false;
}

static bool name_char(char c)
{
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               c == '_' || c == '.' || c == '-';
}

static bool all_name_chars(const char *s)
{
        for (; *s; s++)
                if (!name_char(*s))
                        return false;
        return true;
}

bool profile_name_valid(const char *s)
{
        size_t n = strnlen(s, PROFILE_NAME_MAX);

        return n >= 1 && n < PROFILE_NAME_MAX && s[0] != '.' && s[0] != '-' && all_name_chars(s);
}

/* QEMU's id_wellformed(): a letter, then letters, digits, '-', '.', '_'. */
static bool valid_qemu_id(const char *s)
{
        return ((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z')) && all_name_chars(s);
}

bool profile_ifname_valid(const char *s)
{
        size_t n = strlen(s);

        if (n == 0 || n > 15 || strcmp(s, ".") == 0 || strcmp(s, "..") == 0)
                return false;
        for (; *s; s++)
                if (*s == '/' || *s == ':' || *s == ',' || (unsigned char) *s <= ' ' ||
                    (unsigned char) *s >= 0x7f)
                        return false;
        return true;
}

static bool valid_machine(const char *s)
{
        const char *v;
        size_t a, b;

        if (strcmp(s, "q35") == 0)
                return true;
        if (strncmp(s, "pc-q35-", 7) != 0)
                return false;
        v = s + 7;
        a = strspn(v, "0123456789");
        if (a == 0 || v[a] != '.')
                return false;
        b = strspn(v + a + 1, "0123456789");
        return b > 0 && v[a + 1 + b] == '\0';
}

bool profile_user_valid(const char *s)
{
        size_t n = strlen(s);

        return n >= 1 && n <= 32 && s[0] != '-' && all_name_chars(s);
}

static bool valid_vendor_id(const char *s)
{
        /* Printable ASCII without ',': QEMU reads hv-vendor-id from a
         * comma-separated option list. */
        for (; *s; s++)
                if ((unsigned char) *s < 0x20 || (unsigned char) *s >= 0x7f || *s == ',')
                        return false;
        return true;
}

static int check_abs_path(const char *path, const char *jpath, struct vl_error *e)
{
        if (path[0] != '\0' && path[0] != '/')
                return FAIL(jpath, "\"%s\" is not an absolute path", path);
        return 0;
}

static int validate_cpu(const struct profile *p, struct vl_error *e)
{
        const struct profile_cpu *c = &p->cpu;
        const struct profile_hyperv *hv = &c->hyperv;
        unsigned long long product;

        if (c->model[0] == '\0' || !all_name_chars(c->model))
                return FAIL("$.cpu.model", "\"%s\" is not a CPU model name (letters, digits, _ . -)",
                            c->model);
        if (c->pinned && c->n_pin != c->vcpus)
                return FAIL("$.cpu.pin", "has %u entries, expected one host CPU list per vCPU (%u)",
                            c->n_pin, c->vcpus);
        /* -cpu host is KVM's view of the host CPU: TCG cannot provide it and
         * QEMU refuses to start. */
        if (p->accel == ACCEL_TCG && strcmp(c->model, "host") == 0)
                return FAIL("$.cpu.model",
                            "\"host\" needs \"accel\": \"kvm\" (expected \"max\" or a named model with tcg)");
        if (c->sockets < 1 || c->sockets > PROFILE_VCPUS_MAX)
                return FAIL("$.cpu.sockets", "%u is out of range (expected 1..%u)", c->sockets,
                            PROFILE_VCPUS_MAX);
        if (c->cores < 1 || c->cores > PROFILE_VCPUS_MAX)
                return FAIL("$.cpu.cores", "%u is out of range (expected 1..%u)", c->cores,
                            PROFILE_VCPUS_MAX);
        if (c->threads < 1 || c->threads > PROFILE_VCPUS_MAX)
                return FAIL("$.cpu.threads", "%u is out of range (expected 1..%u)", c->threads,
                            PROFILE_VCPUS_MAX);
        product = (unsigned long long) c->sockets * c->cores * c->threads;
        if (c->vcpus != product)
                return FAIL("$.cpu.vcpus",
                            "%u vCPUs do not match sockets x cores x threads = %u x %u x %u = %llu",
                            c->vcpus, c->sockets, c->cores, c->threads, product);
        if (c->vcpus < 1 || c->vcpus > PROFILE_VCPUS_MAX)
                return FAIL("$.cpu.vcpus", "%u vCPUs are out of range (expected 1..%u)", c->vcpus,
                            PROFILE_VCPUS_MAX);

        if (hv->spinlocks != 0 && hv->spinlocks < 4095)
                return FAIL("$.cpu.hyperv.spinlocks",
                            "%u retries are too few (Hyper-V needs at least 4095, or false for off)",
                            hv->spinlocks);
        if (strnlen(hv->vendor_id, sizeof(hv->vendor_id)) > PROFILE_VENDOR_ID_MAX ||
            !valid_vendor_id(hv->vendor_id))
                return FAIL("$.cpu.hyperv.vendor_id",
                            "\"%.*s\" is not a Hyper-V vendor id (at most %d printable characters, no ',')",
                            PROFILE_VENDOR_ID_MAX, hv->vendor_id, PROFILE_VENDOR_ID_MAX);
        /* Dependencies QEMU enforces at start-up (target/i386/kvm hyperv feature
         * table): catching them here gives the user a path instead of a QEMU error. */
        if (hv->synic && !hv->vpindex)
                return FAIL("$.cpu.hyperv.synic", "synic needs vpindex");
        if (hv->stimer && !(hv->synic && hv->time))
                return FAIL("$.cpu.hyperv.stimer", "stimer needs synic and time");
        if (hv->tlbflush && !hv->vpindex)
                return FAIL("$.cpu.hyperv.tlbflush", "tlbflush needs vpindex");
        if (hv->ipi && !hv->vpindex)
                return FAIL("$.cpu.hyperv.ipi", "ipi needs vpindex");
        if (hv->stimer_direct && !hv->stimer)
                return FAIL("$.cpu.hyperv.stimer_direct", "stimer_direct needs stimer");
        if (hv->evmcs && !hv->vapic)
                return FAIL("$.cpu.hyperv.evmcs", "evmcs needs vapic");
        if (hv->tlbflush_ext && !hv->tlbflush)
                return FAIL("$.cpu.hyperv.tlbflush_ext", "tlbflush_ext needs tlbflush");
        if (hv->tlbflush_direct && !hv->vapic)
                return FAIL("$.cpu.hyperv.tlbflush_direct", "tlbflush_direct needs vapic");
        /* hv-passthrough gives whatever KVM has and overrides every other
         * hv- setting (QEMU's hyperv.rst): others beside it would mislead. */
        if (hv->passthrough &&
            (hv->relaxed || hv->vapic || hv->spinlocks || hv->vendor_id[0] || hv->vpindex || hv->runtime ||
             hv->time || hv->synic || hv->stimer || hv->reset || hv->frequencies || hv->tlbflush || hv->ipi ||
             hv->reenlightenment || hv->stimer_direct || hv->avic || hv->evmcs || hv->xmm_input ||
             hv->tlbflush_ext || hv->tlbflush_direct || hv->emsr_bitmap))
                return FAIL("$.cpu.hyperv.passthrough",
                            "passthrough gives every enlightenment KVM has and overrides the others: leave them out");
        if (c->migratable != SWITCH_DEFAULT && strcmp(c->model, "host") != 0)
                return FAIL("$.cpu.migratable", "only model \"host\" has it (libvirt's host-passthrough)");
        for (unsigned i = 0; i < c->n_features; i++)
                for (unsigned k = 0; k < i; k++)
                        if (strcmp(c->features[i].name, c->features[k].name) == 0) {
                                char path[64];
                                (void) snprintf(path, sizeof(path), "$.cpu.features.%s", c->features[i].name);
                                return FAIL(path, "given twice");
                        }
        return 0;
}

const char *profile_device_id(const struct profile *p, enum profile_device_kind kind, unsigned i,
                              char buf[static PROFILE_STR_MAX])
{
        static const char *const prefix[] = {
                [PROFILE_DEVICE_HOSTDEV] = "hostdev",
                [PROFILE_DEVICE_DISK] = "disk",
                [PROFILE_DEVICE_NIC] = "net",
        };
        const char *id = kind == PROFILE_DEVICE_HOSTDEV ? p->hostdevs[i].id
                         : kind == PROFILE_DEVICE_DISK  ? p->disks[i].id
                                                        : p->nics[i].id;

        if (id[0])
                copy_str(buf, PROFILE_STR_MAX, id);
        else
                (void) snprintf(buf, PROFILE_STR_MAX, "%s%u", prefix[kind], i);
        return buf;
}

/* The ids the command line gives its own devices. */
static bool id_reserved(const char *id)
{
        static const char *const own[] = { PROFILE_ID_VIDEO, PROFILE_ID_SOUND, PROFILE_ID_SOUND_CODEC,
                                           PROFILE_ID_BALLOON, PROFILE_ID_WATCHDOG,
                                           PROFILE_ID_VIRTIO_SERIAL, PROFILE_ID_AGENT_PORT, PROFILE_ID_USB };
        static const char *const numbered[] = { PROFILE_ID_USB_REDIR_PREFIX, PROFILE_ID_USB_HOST_PREFIX,
                                                PROFILE_ID_INPUT_PREFIX };

        for (size_t i = 0; i < ELEMENTSOF(own); i++)
                if (strcmp(id, own[i]) == 0)
                        return true;
        for (size_t i = 0; i < ELEMENTSOF(numbered); i++) {
                size_t n = strlen(numbered[i]);

                if (strncmp(id, numbered[i], n) == 0 && id[n] >= '0' && id[n] <= '9')
                        return true;
        }
        return strncmp(id, "pci.", 4) == 0;
}

bool profile_spice_agent(const struct profile *p)
{
        return p->display.type == DISPLAY_SPICE && p->display.agent != SWITCH_OFF;
}

enum usb_controller profile_usb_controller(const struct profile *p)
{
        if (p->usb.controller != USB_CONTROLLER_DEFAULT)
                return p->usb.controller;
        return (p->display.type == DISPLAY_SPICE && p->display.usb_redirect > 0) || p->usb.n_devices > 0
                       ? USB_CONTROLLER_QEMU_XHCI
                       : USB_CONTROLLER_NONE;
}

/* The function-0 hostdev of the host slot of hostdevs[i], or -1. */
static int slot_anchor(const struct profile *p, unsigned i)
{
        const struct pci_addr *h = &p->hostdevs[i].host;

        for (unsigned k = 0; k < p->n_hostdevs; k++) {
                const struct pci_addr *a = &p->hostdevs[k].host;
                if (a->domain == h->domain && a->bus == h->bus && a->slot == h->slot &&
                    a->function == 0)
                        return (int) k;
        }
        return -1;
}

/* Where hostdevs[i] lands in the guest, if that is known before the builder
 * runs: explicit, or same-slot behind an explicit function 0. */
static bool effective_guest(const struct profile *p, unsigned i, unsigned *bus, unsigned *fn)
{
        const struct profile_hostdev *h = &p->hostdevs[i];

        if (h->guest.automatic)
                return false;
        if (!h->guest.same_slot) {
                *bus = h->guest.bus;
                *fn = h->guest.function;
                return true;
        }
        int a = slot_anchor(p, i);
        if (a < 0 || p->hostdevs[a].guest.automatic || p->hostdevs[a].guest.same_slot)
                return false;
        *bus = p->hostdevs[a].guest.bus;
        *fn = h->host.function;
        return true;
}

static int validate_hostdevs(const struct profile *p, struct vl_error *e, struct vl_warnings *w)
{
        char path[64], a1[PCI_ADDR_STRLEN];
        int vga = -1;

        if (p->n_hostdevs > PROFILE_HOSTDEVS_MAX)
                return FAIL("$.hostdevs", "%u hostdevs, more than %u", p->n_hostdevs,
                            PROFILE_HOSTDEVS_MAX);
        for (unsigned i = 0; i < p->n_hostdevs; i++) {
                const struct profile_hostdev *h = &p->hostdevs[i];
                unsigned bus, fn;

                for (unsigned k = 0; k < i; k++)
                        if (pci_addr_equal(&p->hostdevs[k].host, &h->host)) {
                                (void) snprintf(path, sizeof(path), "$.hostdevs[%u].host", i);
                                return FAIL(path, "%s is already $.hostdevs[%u]",
                                            pci_addr_format(&h->host, a1), k);
                        }

                (void) snprintf(path, sizeof(path), "$.hostdevs[%u].guest", i);
                if (h->guest.same_slot) {
                        if (h->host.function == 0)
                                return FAIL(path, "\"same-slot\" is for the other functions of a "
                                                  "device; this is function 0");
                        if (slot_anchor(p, i) < 0) {
                                struct pci_addr f0 = h->host;
                                f0.function = 0;
                                return FAIL(path,
                                            "\"same-slot\" needs function 0 of the same host slot "
                                            "(%s) in hostdevs",
                                            pci_addr_format(&f0, a1));
                        }
                } else if (!h->guest.automatic) {
                        if (h->guest.bus < 1 || h->guest.bus > PROFILE_GUEST_BUS_MAX)
                                return FAIL(path, "guest bus %u is out of range (expected 1..%u)",
                                            h->guest.bus, PROFILE_GUEST_BUS_MAX);
                        if (h->guest.slot != 0)
                                return FAIL(path,
                                            "guest slot %u: behind a root port the slot is always 0",
                                            h->guest.slot);
                        if (h->guest.function > 7)
                                return FAIL(path, "guest function %u is out of range (expected 0..7)",
                                            h->guest.function);
                }

                if (effective_guest(p, i, &bus, &fn)) {
                        bool has_f0 = fn == 0;

                        for (unsigned k = 0; k < p->n_hostdevs; k++) {
                                unsigned kb, kf;

                                if (k == i || !effective_guest(p, k, &kb, &kf) || kb != bus)
                                        continue;
                                if (kf == 0)
                                        has_f0 = true;
                                if (k < i && kf == fn)
                                        return FAIL(path,
                                                    "guest bus %u function %u is already taken by "
                                                    "$.hostdevs[%u]",
                                                    bus, fn, k);
                        }
                        /* The guest only probes functions 1..7 of a device whose
                         * function 0 exists (PCI spec); the others would be invisible. */
                        if (!has_f0)
                                return FAIL(path,
                                            "guest bus %u has function %u but no function 0: the "
                                            "guest would not see it",
                                            bus, fn);
                }

                if (h->x_vga) {
                        (void) snprintf(path, sizeof(path), "$.hostdevs[%u].x_vga", i);
                        if (p->firmware.type != FIRMWARE_BIOS)
                                return FAIL(path, "x_vga is for legacy VGA boot: it needs firmware "
                                                  "type \"bios\"");
                        if (vga >= 0)
                                return FAIL(path, "only one hostdev can have x_vga (already "
                                                  "$.hostdevs[%d])",
                                            vga);
                        vga = (int) i;
                }
                (void) snprintf(path, sizeof(path), "$.hostdevs[%u].romfile", i);
                if (check_abs_path(h->romfile, path, e) < 0)
                        return -EINVAL;
                if (h->romfile[0] && h->rombar == ROMBAR_OFF)
                        vl_warn(w, "%s: the ROM is not visible to the guest with rombar false, "
                                   "ignoring",
                                path);
        }

        if (p->n_allow_detach > PROFILE_ALLOW_DETACH_MAX)
                return FAIL("$.allow_detach", "%u addresses, more than %u", p->n_allow_detach,
                            PROFILE_ALLOW_DETACH_MAX);
        for (unsigned i = 0; i < p->n_allow_detach; i++) {
                (void) snprintf(path, sizeof(path), "$.allow_detach[%u]", i);
                pci_addr_format(&p->allow_detach[i], a1);
                for (unsigned k = 0; k < i; k++)
                        if (pci_addr_equal(&p->allow_detach[k], &p->allow_detach[i]))
                                return FAIL(path, "%s is already $.allow_detach[%u]", a1, k);
                for (unsigned k = 0; k < p->n_hostdevs; k++)
                        if (pci_addr_equal(&p->hostdevs[k].host, &p->allow_detach[i]))
                                return FAIL(path, "%s is already $.hostdevs[%u]", a1, k);
        }
        return 0;
}

void profile_nic_mac(const struct profile *p, unsigned i, uint8_t mac[6])
{
        if (p->nics[i].mac_set)
                memcpy(mac, p->nics[i].mac, 6);
        else
                profile_derive_mac(p->name, i, mac);
}

static int validate_nics(const struct profile *p, struct vl_error *e)
{
        static const char *const models[] = { "e1000e", "virtio-net-pci", "rtl8139", "e1000", NULL };
        char path[64];

        if (p->n_nics > PROFILE_NICS_MAX)
                return FAIL("$.nics", "%u nics, more than %u", p->n_nics, PROFILE_NICS_MAX);
        for (unsigned i = 0; i < p->n_nics; i++) {
                const struct profile_nic *n = &p->nics[i];
                uint8_t mac[6];

#define NIC_PATH(field) ((void) snprintf(path, sizeof(path), "$.nics[%u]%s", i, (field)), path)
                if (!in_set(n->model, models))
                        return FAIL(NIC_PATH(".model"),
                                    "\"%s\" is not a valid value (expected one of: e1000e, "
                                    "virtio-net-pci, rtl8139, e1000)",
                                    n->model);
                if (n->backend == NIC_MACVTAP && n->dev[0] == '\0')
                        return FAIL(NIC_PATH(".dev"), "backend \"macvtap\" needs dev (the lower "
                                                      "network device, e.g. \"eth0\")");
                if (n->backend != NIC_MACVTAP && n->dev[0])
                        return FAIL(NIC_PATH(".dev"), "dev is only used with backend \"macvtap\"");
                if (n->backend == NIC_TAP && n->bridge[0] == '\0')
                        return FAIL(NIC_PATH(".bridge"),
                                    "backend \"tap\" needs bridge (an existing bridge, e.g. \"br0\")");
                if (n->backend != NIC_TAP && n->bridge[0])
                        return FAIL(NIC_PATH(".bridge"), "bridge is only used with backend \"tap\"");
                if (n->dev[0] && !profile_ifname_valid(n->dev))
                        return FAIL(NIC_PATH(".dev"), "\"%s\" is not a network device name", n->dev);
                if (n->bridge[0] && !profile_ifname_valid(n->bridge))
                        return FAIL(NIC_PATH(".bridge"), "\"%s\" is not a network device name",
                                    n->bridge);
                /* vhost-net serves virtio queues on a tap fd: nothing else. */
                if (n->vhost == SWITCH_ON && strcmp(n->model, "virtio-net-pci") != 0)
                        return FAIL(NIC_PATH(".vhost"),
                                    "vhost-net only serves model \"virtio-net-pci\" (this is \"%s\")", n->model);
                if (n->vhost == SWITCH_ON && n->backend == NIC_USER)
                        return FAIL(NIC_PATH(".vhost"),
                                    "vhost-net needs backend \"tap\" or \"macvtap\" (\"user\" is QEMU's own NAT)");
                if (n->mac_set && ((n->mac[0] & 1) || !(n->mac[0] | n->mac[1] | n->mac[2] |
                                                        n->mac[3] | n->mac[4] | n->mac[5])))
                        return FAIL(NIC_PATH(".mac"), "not a unicast station address");
                profile_nic_mac(p, i, mac);
                for (unsigned k = 0; k < i; k++) {
                        uint8_t other[6];
                        profile_nic_mac(p, k, other);
                        if (memcmp(mac, other, 6) == 0)
                                return FAIL(NIC_PATH(".mac"),
                                            "%02x:%02x:%02x:%02x:%02x:%02x is already the MAC of "
                                            "$.nics[%u]",
                                            mac[0], mac[1], mac[2], mac[3], mac[4], mac[5], k);
                }
#undef NIC_PATH
        }
        return 0;
}

/* A disk's I/O settings against each other and against the I/O threads,
 * with QEMU's own rules (block.c, blockdev.c, file-posix.c) here so that
 * the error has a place and comes before the host is changed. */
static int validate_disk_io(const struct profile *p, unsigned i, struct vl_error *e)
{
        const struct profile_disk *d = &p->disks[i];
        char path[64];

        if (!profile_disk_discard_name(d->discard) || !profile_disk_detect_zeroes_name(d->detect_zeroes) ||
            !profile_disk_aio_name(d->aio) || !profile_disk_bus_name(d->bus)) {
                (void) snprintf(path, sizeof(path), "$.disks[%u]", i);
                return FAIL(path, "unknown discard, detect_zeroes, aio or bus value");
        }
        (void) snprintf(path, sizeof(path), "$.disks[%u].detect_zeroes", i);
        if (d->detect_zeroes == DISK_DZ_UNMAP && d->discard != DISK_DISCARD_UNMAP)
                return FAIL(path, "\"unmap\" needs \"discard\": \"unmap\" (QEMU: setting detect-zeroes "
                                  "to unmap is not allowed without setting discard operation to unmap)");
        (void) snprintf(path, sizeof(path), "$.disks[%u].aio", i);
        if (d->aio == DISK_AIO_NATIVE && d->cache != DISK_CACHE_NONE)
                return FAIL(path, "\"native\" needs \"cache\": \"none\" (QEMU: aio=native requires "
                                  "cache.direct=on, which only cache \"none\" sets)");
        if (!d->has_iothread)
                return 0;
        (void) snprintf(path, sizeof(path), "$.disks[%u].iothread", i);
        if (d->bus != DISK_BUS_VIRTIO && d->bus != DISK_BUS_SCSI)
                return FAIL(path, "only a disk on bus \"virtio\" or \"scsi\" has an I/O thread (this "
                                  "one is on \"%s\")",
                            profile_disk_bus_name(d->bus));
        if (d->iothread >= p->n_iothreads)
                return FAIL(path, "I/O thread %u does not exist (\"iothreads\" has %u%s)", d->iothread,
                            p->n_iothreads, p->n_iothreads ? ", counted from 0" : "");
        /* One virtio-scsi controller serves every scsi disk, and the
         * thread is the controller's. */
        for (unsigned k = 0; d->bus == DISK_BUS_SCSI && k < i; k++)
                if (p->disks[k].bus == DISK_BUS_SCSI && p->disks[k].has_iothread &&
                    p->disks[k].iothread != d->iothread)
                        return FAIL(path, "the scsi disks share one virtio-scsi controller, and $.disks[%u] "
                                          "gives it I/O thread %u",
                                    k, p->disks[k].iothread);
        return 0;
}

static int validate_disks(const struct profile *p, struct vl_error *e)
{
        char path[64];

        if (p->n_disks > PROFILE_DISKS_MAX)
                return FAIL("$.disks", "%u disks, more than %u", p->n_disks, PROFILE_DISKS_MAX);
        for (unsigned i = 0; i < p->n_disks; i++) {
                const struct profile_disk *d = &p->disks[i];

                (void) snprintf(path, sizeof(path), "$.disks[%u].path", i);
                if (d->path[0] == '\0')
                        return FAIL(path, "a disk needs a path");
                if (check_abs_path(d->path, path, e) < 0)
                        return -EINVAL;
                /* Two writers on one image corrupt it; QEMU's image locking
                 * would refuse at start, after the devices were moved. */
                for (unsigned k = 0; k < i; k++)
                        if (strcmp(p->disks[k].path, d->path) == 0 &&
                            !(d->readonly && p->disks[k].readonly))
                                return FAIL(path, "\"%s\" is already $.disks[%u] (allowed twice only "
                                                  "if both are readonly)",
                                            d->path, k);
                if (d->cdrom && d->bus != DISK_BUS_SATA) {
                        (void) snprintf(path, sizeof(path), "$.disks[%u].bus", i);
                        return FAIL(path, "a cdrom needs bus \"sata\"");
                }
                if (validate_disk_io(p, i, e) < 0)
                        return -EINVAL;
        }
        return 0;
}

/* An I/O thread no disk names is a thread QEMU runs for nothing: legal,
 * but likely a disk that forgot its "iothread". */
static int validate_iothreads(const struct profile *p, struct vl_error *e, struct vl_warnings *w)
{
        if (p->n_iothreads > PROFILE_IOTHREADS_MAX)
                return FAIL("$.iothreads", "%u I/O threads, more than %u", p->n_iothreads, PROFILE_IOTHREADS_MAX);
        for (unsigned t = 0; t < p->n_iothreads; t++) {
                bool used = false;

                for (unsigned i = 0; i < p->n_disks; i++)
                        used = used || (p->disks[i].has_iothread && p->disks[i].iothread == t);
                if (!used)
                        vl_warn(w, "$.iothreads[%u]: no disk names I/O thread %u (\"iothread\": %u), ignoring", t,
                                t, t);
        }
        return 0;
}

bool profile_boot_order(const struct profile *p)
{
        for (unsigned i = 0; i < p->n_disks; i++)
                if (p->disks[i].boot)
                        return true;
        for (unsigned i = 0; i < p->n_hostdevs; i++)
                if (p->hostdevs[i].boot)
                        return true;
        for (unsigned i = 0; i < p->n_nics; i++)
                if (p->nics[i].boot)
                        return true;
        return false;
}

/* "boot" orders: positive, and one device per order — QEMU refuses a
 * bootindex given twice, but only once the devices are being created,
 * after the host was changed. */
static int validate_boot(const struct profile *p, struct vl_error *e)
{
        enum { MAXDEV = PROFILE_HOSTDEVS_MAX + PROFILE_DISKS_MAX + PROFILE_NICS_MAX };
        unsigned order[MAXDEV], n = 0;
        char paths[MAXDEV][32];

#define ADD(arr, count, field)                                                                          \
        for (unsigned i = 0; i < (count); i++) {                                                    \
                if (!p->arr[i].field)                                                               \
                        continue;                                                                   \
                order[n] = p->arr[i].field;                                                         \
                (void) snprintf(paths[n], sizeof(paths[n]), "$.%s[%u].boot", #arr, i);              \
                if (order[n] > PROFILE_BOOT_MAX)                                                    \
                        return FAIL(paths[n], "%u is out of range (expected 1..%u)", order[n],      \
                                    PROFILE_BOOT_MAX);                                              \
                for (unsigned k = 0; k < n; k++)                                                    \
                        if (order[k] == order[n])                                                   \
                                return FAIL(paths[n], "boot order %u is also %s's (each order "    \
                                                      "names one device)",                          \
                                            order[n], paths[k]);                                    \
                n++;                                                                                \
        }
        ADD(disks, p->n_disks, boot)
        ADD(hostdevs, p->n_hostdevs, boot)
        ADD(nics, p->n_nics, boot)
#undef ADD
        return 0;
}

/* Device ids share QEMU's one namespace: unique across every kind, and
 * none of the command line's own. */
static int validate_ids(const struct profile *p, struct vl_error *e)
{
        enum { MAXDEV = PROFILE_HOSTDEVS_MAX + PROFILE_DISKS_MAX + PROFILE_NICS_MAX };
        static const struct {
                enum profile_device_kind kind;
                const char *array;
        } kinds[] = {
                { PROFILE_DEVICE_HOSTDEV, "hostdevs" },
                { PROFILE_DEVICE_DISK, "disks" },
                { PROFILE_DEVICE_NIC, "nics" },
        };
        char ids[MAXDEV][PROFILE_STR_MAX], paths[MAXDEV][32], path[48];
        unsigned n = 0;
        bool scsi = false;

        for (unsigned i = 0; i < p->n_disks; i++)
                scsi = scsi || p->disks[i].bus == DISK_BUS_SCSI;

        for (size_t k = 0; k < ELEMENTSOF(kinds); k++) {
                unsigned count = kinds[k].kind == PROFILE_DEVICE_HOSTDEV ? p->n_hostdevs
                                 : kinds[k].kind == PROFILE_DEVICE_DISK  ? p->n_disks
                                                                         : p->n_nics;
                for (unsigned i = 0; i < count && n < MAXDEV; i++, n++) {
                        profile_device_id(p, kinds[k].kind, i, ids[n]);
                        (void) snprintf(paths[n], sizeof(paths[n]), "$.%s[%u]", kinds[k].array, i);
                }
        }
        for (unsigned i = 0; i < n; i++) {
                (void) snprintf(path, sizeof(path), "%s.id", paths[i]);
                if (!valid_qemu_id(ids[i]))
                        return FAIL(path,
                                    "\"%s\" is not a device id (a letter, then letters, digits, _ . -)",
                                    ids[i]);
                if (scsi && strcmp(ids[i], PROFILE_ID_SCSI) == 0)
                        return FAIL(path, "\"%s\" is the id of the virtio-scsi controller vfio-launch adds "
                                          "for the scsi disks",
                                    PROFILE_ID_SCSI);
                if (id_reserved(ids[i]))
                        return FAIL(path,
                                    "\"%s\" is the id of a device vfio-launch adds itself (%s, %s, %s, %s, "
                                    "%s, %s, %s, %s, %sN, %sN, %sN, pci.N)",
                                    ids[i], PROFILE_ID_VIDEO, PROFILE_ID_SOUND, PROFILE_ID_SOUND_CODEC,
                                    PROFILE_ID_BALLOON, PROFILE_ID_WATCHDOG, PROFILE_ID_VIRTIO_SERIAL,
                                    PROFILE_ID_AGENT_PORT, PROFILE_ID_USB, PROFILE_ID_USB_REDIR_PREFIX,
                                    PROFILE_ID_USB_HOST_PREFIX, PROFILE_ID_INPUT_PREFIX);
                for (unsigned k = 0; k < i; k++)
                        if (strcmp(ids[i], ids[k]) == 0)
                                return FAIL(path, "id \"%s\" is already used by %s", ids[i],
                                            paths[k]);
        }
        return 0;
}

static int validate_sound(const struct profile *p, struct vl_error *e, struct vl_warnings *w)
{
        const struct profile_sound *s = &p->sound;
        bool alsa_set = s->alsa_dac_buffer_frames || s->alsa_dac_period_frames || s->alsa_dev[0];
        bool pa_set = s->pa_samples || s->pa_server[0];

        if (!profile_sound_backend_name(s->backend))
                return FAIL("$.sound.backend", "unknown backend %d", (int) s->backend);
        if (s->model == SOUND_NONE) {
                if (s->backend != AUDIO_NONE || alsa_set || pa_set || s->timer_period_hz ||
                    s->frequency)
                        vl_warn(w, "$.sound: audio settings without a sound card (model \"none\"), "
                                   "ignoring");
                return 0;
        }
        if (s->alsa_dac_buffer_frames && s->alsa_dac_period_frames > s->alsa_dac_buffer_frames)
                return FAIL("$.sound.alsa.dac_period_frames",
                            "a period of %u frames is longer than the buffer (%u frames)",
                            s->alsa_dac_period_frames, s->alsa_dac_buffer_frames);
        if (s->frequency && (s->frequency < 8000 || s->frequency > 192000))
                return FAIL("$.sound.frequency", "%u Hz is out of range (expected 8000..192000)",
                            s->frequency);
        if (s->timer_period_hz > 1000000)
                return FAIL("$.sound.timer_period_hz", "%u Hz is out of range (expected 1..1000000)",
                            s->timer_period_hz);
        if (s->backend == AUDIO_NONE)
                vl_warn(w, "$.sound.backend: the sound card has backend \"none\": the guest will be "
                           "silent");
        /* QEMU only ever read the variables of the selected driver
         * (docs/facts.md#F-audio-driver-vars-only): the others never had an
         * effect. Say so, keep them. */
        if (alsa_set && s->backend != AUDIO_ALSA)
                vl_warn(w, "$.sound.alsa: only used with backend \"alsa\" (QEMU read QEMU_ALSA_* "
                           "only with QEMU_AUDIO_DRV=alsa), ignoring");
        if (pa_set && s->backend != AUDIO_PA)
                vl_warn(w, "$.sound.pa: only used with backend \"pa\" (QEMU read QEMU_PA_* only "
                           "with QEMU_AUDIO_DRV=pa), ignoring");
        return 0;
}

static int validate_hugepages(const struct profile *p, struct vl_error *e)
{
        const struct profile_hugepages *h = &p->hugepages;
        uint64_t page_mib = profile_hugepage_kib(h->size) / 1024;
        size_t n = strnlen(h->path, sizeof(h->path));

        if (!h->enabled)
                return 0;
        if (page_mib == 0)
                return FAIL("$.hugepages.size", "unknown hugepage size %d", (int) h->size);
        if (n == 0 || n >= sizeof(h->path) || h->path[0] != '/')
                return FAIL("$.hugepages.path",
                            "\"%.*s\" is not an absolute path of at most %u bytes", (int) n, h->path,
                            PROFILE_HUGEPAGES_PATH_MAX - 1);
        /* QEMU would round the backend up to whole pages, and the pages
         * counted free before the start would not be the pages it takes. */
        if (p->memory_mib % page_mib != 0)
                return FAIL("$.hugepages.size",
                            "memory %llu MiB is not a whole number of %s pages (expected a multiple "
                            "of %llu MiB)",
                            (unsigned long long) p->memory_mib, profile_hugepage_size_name(h->size),
                            (unsigned long long) page_mib);
        return 0;
}

static int validate_display(const struct profile *p, struct vl_error *e, struct vl_warnings *w)
{
        static const char *const videos[] = { "", "qxl", "virtio", "std", NULL };
        const struct profile_display *d = &p->display;
        unsigned char addr[16];

        if (!in_set(d->video, videos))
                return FAIL("$.display.video",
                            "\"%s\" is not a valid value (expected one of: none, qxl, virtio, std)",
                            d->video);
        if (d->type == DISPLAY_NONE) {
                if (d->gl)
                        return FAIL("$.display.gl", "gl needs display type \"spice\"");
                if (d->agent != SWITCH_DEFAULT || d->clipboard != SWITCH_DEFAULT ||
                    d->file_transfer != SWITCH_DEFAULT)
                        return FAIL("$.display", "agent, clipboard and file_transfer need display type \"spice\"");
                return 0;
        }
        /* Both travel through the agent: without it they cannot be given. */
        if (d->agent == SWITCH_OFF && d->clipboard != SWITCH_DEFAULT)
                return FAIL("$.display.clipboard", "the clipboard is shared through the SPICE agent: "
                                                   "not with \"agent\": false");
        if (d->agent == SWITCH_OFF && d->file_transfer != SWITCH_DEFAULT)
                return FAIL("$.display.file_transfer", "file transfer goes through the SPICE agent: "
                                                       "not with \"agent\": false");
        if (d->usb_redirect > PROFILE_USB_REDIRECT_MAX)
                return FAIL("$.display.usb_redirect", "%u is out of range (expected 0..%d)", d->usb_redirect,
                            PROFILE_USB_REDIRECT_MAX);
        if (d->port > 65535)
                return FAIL("$.display.port", "%u is out of range (expected 1..65535 or \"auto\")",
                            d->port);
        if (inet_pton(AF_INET, d->listen, addr) != 1 && inet_pton(AF_INET6, d->listen, addr) != 1)
                return FAIL("$.display.listen", "\"%s\" is not an IPv4 or IPv6 address", d->listen);
        if (check_abs_path(d->rendernode, "$.display.rendernode", e) < 0 ||
            check_abs_path(d->password_file, "$.display.password_file", e) < 0)
                return -EINVAL;
        if (d->rendernode[0] && !d->gl)
                vl_warn(w, "$.display.rendernode: only used when gl is on, ignoring");
        return 0;
}

/* The TPM's device id is the command line's own, but only when there is a
 * TPM: a profile without one keeps "tpm0" free for its devices. */
static int validate_tpm(const struct profile *p, struct vl_error *e)
{
        static const struct {
                enum profile_device_kind kind;
                const char *array;
        } kinds[] = { { PROFILE_DEVICE_HOSTDEV, "hostdevs" }, { PROFILE_DEVICE_DISK, "disks" },
                      { PROFILE_DEVICE_NIC, "nics" } };
        char id[PROFILE_STR_MAX], path[64];

        if (!p->tpm.enabled)
                return 0;
        if (!profile_tpm_model_name(p->tpm.model) || p->tpm.model == TPM_MODEL_NONE)
                return FAIL("$.tpm.model", "unknown TPM model %d", (int) p->tpm.model);
        for (size_t k = 0; k < ELEMENTSOF(kinds); k++) {
                unsigned n = kinds[k].kind == PROFILE_DEVICE_HOSTDEV ? p->n_hostdevs
                             : kinds[k].kind == PROFILE_DEVICE_DISK  ? p->n_disks
                                                                     : p->n_nics;
                for (unsigned i = 0; i < n; i++)
                        if (strcmp(profile_device_id(p, kinds[k].kind, i, id), PROFILE_ID_TPM) == 0) {
                                (void) snprintf(path, sizeof(path), "$.%s[%u].id", kinds[k].array, i);
                                return FAIL(path, "\"%s\" is the id of the TPM vfio-launch adds for \"tpm\"",
                                            PROFILE_ID_TPM);
                        }
        }
        return 0;
}

static int validate_usb(const struct profile *p, struct vl_error *e)
{
        if (!profile_usb_controller_name(p->usb.controller))
                return FAIL("$.usb.controller", "unknown USB controller %d", (int) p->usb.controller);
        if (p->display.type == DISPLAY_SPICE && p->display.usb_redirect > 0 &&
            profile_usb_controller(p) == USB_CONTROLLER_NONE)
                return FAIL("$.display.usb_redirect", "redirected USB devices need the guest's USB controller: "
                                                      "not with \"usb\": {\"controller\": \"none\"}");
        return profile_validate_usb_devices(p, e);
}

static int validate_platform(const struct profile *p, struct vl_error *e, struct vl_warnings *w)
{
        char path[64];

        if (!profile_rtc_base_name(p->clock.rtc) || !profile_rtc_driftfix_name(p->clock.driftfix) ||
            !profile_tick_policy_name(p->clock.tick_policy))
                return FAIL("$.clock", "unknown clock setting");
        if (p->smbios.mode != SMBIOS_NONE && p->smbios.mode != SMBIOS_HOST && p->smbios.mode != SMBIOS_EXPLICIT)
                return FAIL("$.smbios", "unknown SMBIOS mode %d", (int) p->smbios.mode);
        for (unsigned f = 0; p->smbios.mode == SMBIOS_EXPLICIT && f < SMBIOS_FIELDS_N; f++) {
                const struct smbios_field_info *i = &profile_smbios_fields[f];
                const char *why;

                if (!p->smbios.field[f][0])
                        continue;
                why = profile_smbios_value_refused(f, p->smbios.field[f]);
                if (why) {
                        (void) snprintf(path, sizeof(path), "$.smbios.%s.%s", i->section, i->key);
                        return FAIL(path, "\"%s\" %s", p->smbios.field[f], why);
                }
        }
        if (!profile_watchdog_model_name(p->watchdog.model) || !profile_watchdog_action_name(p->watchdog.action))
                return FAIL("$.watchdog", "unknown watchdog model or action");
        if (p->n_qemu_args > PROFILE_QEMU_ARGS_MAX)
                return FAIL("$.qemu_args", "too many arguments (at most %d)", PROFILE_QEMU_ARGS_MAX);
        for (unsigned i = 0; i < p->n_qemu_args; i++) {
                const char *why = profile_qemu_arg_refused(p->qemu_args[i]);

                (void) snprintf(path, sizeof(path), "$.qemu_args[%u]", i);
                if (why)
                        return FAIL(path, "\"%s\" is refused: %s", p->qemu_args[i], why);
                if (!p->qemu_args[i][0])
                        return FAIL(path, "is empty");
        }
        /* Said at every run (every load): the launcher cannot vouch for
         * what it does not understand, and `status` says so as well. */
        if (p->n_qemu_args)
                vl_warn(w, "$.qemu_args: %u extra argument%s passed to QEMU as written, unchecked: the VM "
                           "counts as tainted (`vfio-launch status`)",
                        p->n_qemu_args, p->n_qemu_args == 1 ? "" : "s");
        return 0;
}

int profile_validate(const struct profile *p, struct vl_error *e, struct vl_warnings *w)
{
        const struct profile_firmware *fw = &p->firmware;
        int r;

        if (!profile_name_valid(p->name))
                return FAIL("$.name",
                            "\"%s\" is not a valid name (1..63 characters of A-Z a-z 0-9 _ . -, not "
                            "starting with . or -)",
                            p->name);
        if (!valid_machine(p->machine))
                return FAIL("$.machine",
                            "\"%s\" is not a supported machine type (expected \"q35\" or "
                            "\"pc-q35-X.Y\": devices go behind PCIe root ports)",
                            p->machine);
        if (p->user[0] && !profile_user_valid(p->user))
                return FAIL("$.user", "\"%s\" is not a valid user name", p->user);
        if (p->memory_mib < PROFILE_MEMORY_MIN_MIB || p->memory_mib > PROFILE_MEMORY_MAX_MIB)
                return FAIL("$.memory", "%llu MiB is out of range (expected %u MiB..%u MiB)",
                            (unsigned long long) p->memory_mib, PROFILE_MEMORY_MIN_MIB,
                            PROFILE_MEMORY_MAX_MIB);

        if (fw->type != FIRMWARE_UEFI && fw->type != FIRMWARE_BIOS)
                return FAIL("$.firmware.type", "unknown firmware type %d", (int) fw->type);
        if (fw->secure_boot && fw->type != FIRMWARE_UEFI)
                return FAIL("$.firmware.secure_boot", "secure boot needs firmware type \"uefi\"");
        if (fw->type == FIRMWARE_BIOS && fw->vars_template[0])
                return FAIL("$.firmware.vars_template", "SeaBIOS has no VARS: only for type \"uefi\"");
        if (fw->type == FIRMWARE_BIOS && fw->vars[0])
                return FAIL("$.firmware.vars", "SeaBIOS has no VARS: only for type \"uefi\"");
        if ((r = check_abs_path(fw->code, "$.firmware.code", e)) < 0 ||
            (r = check_abs_path(fw->vars_template, "$.firmware.vars_template", e)) < 0 ||
            (r = check_abs_path(fw->vars, "$.firmware.vars", e)) < 0)
                return r;

        if ((r = validate_cpu(p, e)) < 0 || (r = validate_hostdevs(p, e, w)) < 0 ||
            (r = validate_disks(p, e)) < 0 || (r = validate_nics(p, e)) < 0 || (r = validate_boot(p, e)) < 0 ||
            (r = validate_iothreads(p, e, w)) < 0 ||
            (r = validate_ids(p, e)) < 0 || (r = validate_sound(p, e, w)) < 0 ||
            (r = validate_display(p, e, w)) < 0 || (r = validate_hugepages(p, e)) < 0 ||
            (r = validate_tpm(p, e)) < 0 || (r = validate_usb(p, e)) < 0 || (r = validate_platform(p, e, w)) < 0 ||
            (r = profile_validate_shmem(p, e)) < 0 || (r = profile_validate_inputs(p, e)) < 0 ||
            (r = profile_validate_handover(p, e)) < 0)
                return r;

        if (p->shutdown_timeout_s < 1 || p->shutdown_timeout_s > 3600)
                return FAIL("$.shutdown_timeout", "%u s is out of range (expected 1..3600)",
                            p->shutdown_timeout_s);
        return 0;
}
