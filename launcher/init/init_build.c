/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * init_build(): a snapshot of the host and the user's options to a profile
 * (init.h). Pure: no I/O. Every choice is one line for stderr saying what
 * was chosen, why, and which option changes it; what cannot be done is one
 * refusal line. The CPUs are init_cpus.c.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "init/init_internal.h"
#include "profile/profile_json.h"

#define GIB_KIB (1024u * 1024u)

void ib_line(struct ib *b, const char *fmt, ...)
{
        va_list ap;

        if (b->res->n_lines >= INIT_LINES_MAX)
                return;
        va_start(ap, fmt);
        (void) vsnprintf(b->res->lines[b->res->n_lines++], INIT_LINE_MAX, fmt, ap);
        va_end(ap);
}

void ib_set(struct ib *b, json_t *o, const char *key, json_t *v)
{
        if (!o || !v || json_object_set_new(o, key, v) < 0)
                b->err = -ENOMEM;
}

static json_t *ib_obj(struct ib *b, json_t *o, const char *key)
{
        json_t *v = json_object();

        ib_set(b, o, key, v);
        return v && json_object_get(o, key) == v ? v : NULL;
}

static void ib_append(struct ib *b, json_t *a, json_t *v)
{
        if (!a || !v || json_array_append_new(a, v) < 0)
                b->err = -ENOMEM;
}

const char *ib_describe(const struct init_pci *d, char *buf, size_t size)
{
        char a[PCI_ADDR_STRLEN];

        if (d->vendor_name[0] || d->device_name[0])
                (void) snprintf(buf, size, "%s [%04x:%04x] \"%s%s%s\"", pci_addr_format(&d->addr, a), d->vendor,
                                d->device, d->vendor_name, d->vendor_name[0] && d->device_name[0] ? " " : "",
                                d->device_name);
        else
                (void) snprintf(buf, size, "%s [%04x:%04x]", pci_addr_format(&d->addr, a), d->vendor, d->device);
        return buf;
}

static bool same_slot(const struct pci_addr *a, const struct pci_addr *b)
{
        return a->domain == b->domain && a->bus == b->bus && a->slot == b->slot;
}

static bool is_bridge(const struct init_pci *d)
{
        return (d->class_code >> 8) == 0x0604;
}

static const struct init_pci *find_pci(const struct init_host *h, const struct pci_addr *a)
{
        for (unsigned i = 0; i < h->n_pci; i++)
                if (pci_addr_equal(&h->pci[i].addr, a))
                        return &h->pci[i];
        return NULL;
}

/* Display controllers that could be "the GPU": one per slot (a card with
 * two display functions is one GPU), the host's own display or not. */
static unsigned display_candidates(const struct init_host *h, bool host_display, const struct init_pci **ret,
                                   unsigned max)
{
        unsigned n = 0;

        for (unsigned i = 0; i < h->n_pci; i++) {
                const struct init_pci *d = &h->pci[i];
                bool dup = false;

                if (!init_class_display(d->class_code) || init_host_display(d) != host_display)
                        continue;
                for (unsigned k = 0; k < n && !dup; k++)
                        dup = same_slot(&ret[k]->addr, &d->addr);
                if (!dup && n < max)
                        ret[n++] = d;
        }
        return n;
}

/* Why display controller d is the host's own display, and what passing it
 * through costs the host, for messages. */
static const char *display_role(const struct init_pci *d)
{
        return d->boot_vga ? "the boot VGA" : "the display the host's console is on";
}

static const char *display_loss(const struct init_pci *d)
{
        return d->boot_vga ? "the host has no display while the VM runs" : "the host's consoles go with it for the run";
}

static int pick_gpu(struct ib *b, const struct init_pci **ret)
{
        const struct init_host *h = b->h;
        const struct init_options *o = b->o;
        const struct init_pci *other[8], *boot[8], *g;
        char d1[320], d2[320], a[PCI_ADDR_STRLEN];
        unsigned n_other, n_boot;

        n_boot = display_candidates(h, true, boot, ELEMENTSOF(boot));
        if (o->gpu_set) {
                g = find_pci(h, &o->gpu);
                if (!g)
                        return vl_error_set(b->e, EINVAL,
                                            "--gpu %s: no such PCI device on this host ('vfio-launch groups' "
                                            "lists them)",
                                            pci_addr_format(&o->gpu, a));
                if (is_bridge(g))
                        return vl_error_set(b->e, EINVAL, "--gpu %s: a PCI bridge, not a device to pass through",
                                            ib_describe(g, d1, sizeof(d1)));
                if (init_host_display(g) && !o->single_gpu)
                        return vl_error_set(b->e, EINVAL,
                                            "--gpu %s is %s, the host's own display: --single-gpu "
                                            "passes it through anyway (%s)",
                                            ib_describe(g, d1, sizeof(d1)), display_role(g), display_loss(g));
                if (!init_class_display(g->class_code))
                        ib_line(b, "gpu: %s, as --gpu asked (class 0x%06x: not a display controller)",
                                ib_describe(g, d1, sizeof(d1)), g->class_code);
                else
                        ib_line(b, "gpu: %s, as --gpu asked%s%s%s", ib_describe(g, d1, sizeof(d1)),
                                init_host_display(g) ? " (" : "", init_host_display(g) ? display_role(g) : "",
                                init_host_display(g) ? ": --single-gpu, allow_boot_vga)" : "");
                *ret = g;
                return 0;
        }

        n_other = display_candidates(h, false, other, ELEMENTSOF(other));
        if (n_other > 1) {
                char list[480] = "";
                size_t len = 0;

                for (unsigned i = 0; i < n_other && len < sizeof(list); i++)
                        len += (size_t) snprintf(list + len, sizeof(list) - len, "%s%s", i ? ", " : "",
                                                 ib_describe(other[i], d1, sizeof(d1)));
                return vl_error_set(b->e, EINVAL, "%u GPUs could be passed through: %s: choose one with --gpu ADDR",
                                    n_other, list);
        }
        if (n_other == 1) {
                g = other[0];
                if (n_boot > 0 && boot[0]->boot_vga)
                        ib_line(b, "gpu: %s: the one display controller that is not the boot VGA (the boot VGA, "
                                   "%s, stays the host's); --gpu ADDR for another",
                                ib_describe(g, d1, sizeof(d1)), ib_describe(boot[0], d2, sizeof(d2)));
                else if (n_boot > 0)
                        ib_line(b, "gpu: %s: the one display controller that is not the host's own display (%s, "
                                   "the host's console is on it, stays the host's); --gpu ADDR for another",
                                ib_describe(g, d1, sizeof(d1)), ib_describe(boot[0], d2, sizeof(d2)));
                else
                        ib_line(b, "gpu: %s: the one display controller that is not the boot VGA; --gpu ADDR for "
                                   "another",
                                ib_describe(g, d1, sizeof(d1)));
                *ret = g;
                return 0;
        }
        if (n_boot == 0)
                return vl_error_set(b->e, EINVAL,
                                    "no GPU (PCI display controller) on this host: --gpu ADDR passes another "
                                    "device through");
        if (n_boot > 1 && boot[0]->boot_vga && boot[1]->boot_vga) /* sysfs says one; be safe */
                return vl_error_set(b->e, EINVAL, "%s and %s both say they are the boot VGA: choose with --gpu ADDR",
                                    ib_describe(boot[0], d1, sizeof(d1)), ib_describe(boot[1], d2, sizeof(d2)));
        if (n_boot > 1)
                return vl_error_set(b->e, EINVAL,
                                    "%s (%s) and %s (%s) are both the host's own display: choose with --gpu ADDR "
                                    "and --single-gpu",
                                    ib_describe(boot[0], d1, sizeof(d1)), display_role(boot[0]),
                                    ib_describe(boot[1], d2, sizeof(d2)), display_role(boot[1]));
        g = boot[0];
        if (!o->single_gpu)
                return vl_error_set(b->e, EINVAL,
                                    "the only GPU, %s, is %s, the host's own display: --single-gpu "
                                    "passes it through anyway (%s)",
                                    ib_describe(g, d1, sizeof(d1)), display_role(g), display_loss(g));
        ib_line(b, "gpu: %s: the only GPU, %s, passed through as --single-gpu asked (allow_boot_vga)",
                ib_describe(g, d1, sizeof(d1)), display_role(g));
        *ret = g;
        return 0;
}

/* "gpu-audio", "gpu-usb" for the first of each kind (what `vfio-launch
 * detach` users type), else "gpu-fnN": ids are unique in a profile. */
static const char *companion_id(const struct init_pci *d, json_t *devs, char *buf, size_t size)
{
        const char *want = (d->class_code >> 16) == 0x04     ? "gpu-audio"
                           : (d->class_code >> 8) == 0x0c03 ? "gpu-usb"
                                                            : NULL;
        json_t *v;
        size_t i;

        json_array_foreach (devs, i, v)
                if (want && strcmp(json_string_value(json_object_get(v, "id")) ?: "", want) == 0)
                        want = NULL;
        if (want)
                return want;
        (void) snprintf(buf, size, "gpu-fn%u", d->addr.function);
        return buf;
}

static json_t *hostdev(struct ib *b, const struct init_pci *d, const char *id)
{
        char a[PCI_ADDR_STRLEN], ids[16];
        json_t *o = json_object();

        (void) snprintf(ids, sizeof(ids), "%04x:%04x", d->vendor, d->device);
        ib_set(b, o, "host", json_string(pci_addr_format(&d->addr, a)));
        ib_set(b, o, "vendor_device", json_string(ids));
        ib_set(b, o, "id", json_string(id));
        return o;
}

/* The GPU and the functions of its slot in its IOMMU group (HDMI audio, a
 * USB-C controller): one multifunction device in one guest slot, as on the
 * card. Other members of the group are named, with what the user must do. */
static json_t *hostdevs(struct ib *b, const struct init_pci *g)
{
        const struct init_host *h = b->h;
        json_t *arr = json_array(), *gd;
        char d1[320], a[PCI_ADDR_STRLEN], idbuf[16];
        unsigned n_fn = 0;

        gd = hostdev(b, g, "gpu");
        ib_append(b, arr, gd);
        if (g->group < 0)
                ib_line(b, "note: %s is in no IOMMU group (%s): its other functions are passed through with it; "
                           "'vfio-launch doctor' says what a run needs",
                        ib_describe(g, d1, sizeof(d1)), h->iommu ? "the IOMMU does not cover it" : "the IOMMU is off");
        for (unsigned i = 0; i < h->n_pci; i++) {
                const struct init_pci *d = &h->pci[i];
                bool fn = same_slot(&d->addr, &g->addr);

                if (d == g || is_bridge(d))
                        continue;
                if (g->group < 0 ? !fn : d->group != g->group)
                        continue;
                if (fn) {
                        json_t *c = hostdev(b, d, companion_id(d, arr, idbuf, sizeof(idbuf)));

                        /* "same-slot" needs the slot's function 0 among the hostdevs: the GPU is it. */
                        if (g->addr.function == 0)
                                ib_set(b, c, "guest", json_string("same-slot"));
                        ib_append(b, arr, c);
                        n_fn++;
                        if (g->group >= 0)
                                ib_line(b, "gpu: with it %s, function %u of the same card in IOMMU group %d: in "
                                           "the same guest slot (\"same-slot\")",
                                        ib_describe(d, d1, sizeof(d1)), d->addr.function, g->group);
                        else
                                ib_line(b, "gpu: with it %s, function %u of the same card: in the same guest "
                                           "slot (\"same-slot\")",
                                        ib_describe(d, d1, sizeof(d1)), d->addr.function);
                } else
                        ib_line(b, "note: %s shares IOMMU group %d with the GPU but is not part of it: a run "
                                   "refuses until it is on vfio-pci too; add \"allow_detach\": [\"%s\"] to "
                                   "take it from the host while the VM runs, or move the GPU to a slot with a "
                                   "group of its own",
                                ib_describe(d, d1, sizeof(d1)), g->group, pci_addr_format(&d->addr, a));
        }
        if (n_fn > 0 && g->addr.function == 0)
                ib_set(b, gd, "multifunction", json_true());
        return arr;
}

static void format_size(uint64_t mib, char *buf, size_t size)
{
        if (mib % 1024 == 0)
                (void) snprintf(buf, size, "%lluG", (unsigned long long) (mib / 1024));
        else
                (void) snprintf(buf, size, "%lluM", (unsigned long long) mib);
}

/* "15.5 GiB" (tenths, rounded down: no float formatting, no locale). */
static void format_gib(uint64_t kib, char *buf, size_t size)
{
        uint64_t tenths = kib * 10 / GIB_KIB;

        (void) snprintf(buf, size, "%llu.%llu GiB", (unsigned long long) (tenths / 10),
                        (unsigned long long) (tenths % 10));
}

static int memory(struct ib *b, uint64_t *ret_mib)
{
        const struct init_host *h = b->h;
        char s[32], host[32];
        uint64_t mib;

        format_gib(h->mem_kib, host, sizeof(host));
        if (b->o->memory_mib) {
                mib = b->o->memory_mib;
                format_size(mib, s, sizeof(s));
                if (mib * 1024 > h->mem_kib)
                        return vl_error_set(b->e, EINVAL, "--memory %s: more than the host has (%s)", s, host);
                ib_line(b, "memory: %s, as --memory asked (the host has %s)", s, host);
        } else {
                mib = h->mem_kib / 2 / GIB_KIB * 1024;
                if (mib == 0)
                        return vl_error_set(b->e, EINVAL,
                                            "the host has %s of RAM: half of it is not a whole GiB; give --memory SIZE",
                                            host);
                format_size(mib, s, sizeof(s));
                ib_line(b, "memory: %s: half the host's %s (MemTotal), rounded down to a whole GiB; --memory "
                           "SIZE for another",
                        s, host);
        }
        ib_set(b, b->p, "memory", json_string(s));
        *ret_mib = mib;
        return 0;
}

static const struct init_mount *mount_of(const struct init_host *h, uint64_t page_kib)
{
        for (unsigned i = 0; i < h->n_mounts; i++)
                if (h->mounts[i].page_kib == page_kib)
                        return &h->mounts[i];
        return NULL;
}

static uint64_t pool_available(const struct init_pool *p)
{
        return p->free > p->resv ? p->free - p->resv : 0;
}

static void hugepages_json(struct ib *b, enum hugepage_size size, const struct init_mount *m, bool reserve)
{
        json_t *o = ib_obj(b, b->p, "hugepages");

        ib_set(b, o, "size", json_string(profile_hugepage_size_name(size)));
        if (strcmp(m->path, "/dev/hugepages") != 0)
                ib_set(b, o, "path", json_string(m->path));
        if (reserve)
                ib_set(b, o, "reserve", json_true());
}

/* --hugepages: a pool with the pages free and a mount of its size, 1G first
 * (fewer TLB entries); else a mount whose pool "reserve" can fill at each
 * start, 2M first (the kernel finds 2M pages at run time far more easily
 * than 1G ones). */
static int hugepages(struct ib *b, uint64_t mib)
{
        static const enum hugepage_size by_fit[] = { HUGEPAGE_1G, HUGEPAGE_2M };
        static const enum hugepage_size by_reserve[] = { HUGEPAGE_2M, HUGEPAGE_1G };
        const struct init_host *h = b->h;

        if (!b->o->hugepages)
                return 0;
        for (size_t i = 0; i < ELEMENTSOF(by_fit); i++) {
                enum hugepage_size s = by_fit[i];
                uint64_t kib = profile_hugepage_kib(s), need = mib * 1024 / kib;
                const struct init_mount *m = mount_of(h, kib);

                if ((mib * 1024) % kib != 0 || !h->pool[s].present || !m || pool_available(&h->pool[s]) < need)
                        continue;
                hugepages_json(b, s, m, false);
                ib_line(b, "hugepages: %s pages from %s: the pool has %llu free, the guest needs %llu",
                        profile_hugepage_size_name(s), m->path, (unsigned long long) pool_available(&h->pool[s]),
                        (unsigned long long) need);
                return 0;
        }
        for (size_t i = 0; i < ELEMENTSOF(by_reserve); i++) {
                enum hugepage_size s = by_reserve[i];
                uint64_t kib = profile_hugepage_kib(s), need = mib * 1024 / kib;
                const struct init_mount *m = mount_of(h, kib);

                if ((mib * 1024) % kib != 0 || !h->pool[s].present || !m)
                        continue;
                hugepages_json(b, s, m, true);
                ib_line(b, "hugepages: %s pages from %s with \"reserve\": the pool has %llu free of the %llu the "
                           "guest needs, so each run adds the missing ones and gives them back after (reserving "
                           "at boot is surer: hugepagesz=%s hugepages=%llu on the kernel command line)",
                        profile_hugepage_size_name(s), m->path, (unsigned long long) pool_available(&h->pool[s]),
                        (unsigned long long) need, profile_hugepage_size_name(s), (unsigned long long) need);
                return 0;
        }
        if (h->n_mounts == 0)
                return vl_error_set(b->e, EINVAL,
                                    "--hugepages: no hugetlbfs mount on this host (mount -t hugetlbfs hugetlbfs "
                                    "/dev/hugepages), or leave --hugepages out");
        return vl_error_set(b->e, EINVAL,
                            "--hugepages: no hugetlbfs mount of a page size the guest's memory divides into with a "
                            "pool of that size; leave --hugepages out or give --memory in whole GiB");
}

static void os_preset(struct ib *b)
{
        switch (b->o->os) {
        case OS_NONE:
                ib_line(b, "os: none given: QEMU's defaults; --os windows11, windows10 or linux adds what that "
                           "guest wants");
                return;
        case OS_WINDOWS11:
                ib_line(b, "os: windows11: the preset adds UEFI Secure Boot, a TPM 2.0 (swtpm), Windows' clocks "
                           "and the Hyper-V enlightenments ('vfio-launch print' lists them)");
                break;
        case OS_WINDOWS10:
                ib_line(b, "os: windows10: the preset adds Windows' clocks and the Hyper-V enlightenments "
                           "('vfio-launch print' lists them)");
                break;
        case OS_LINUX:
                ib_line(b, "os: linux: the preset keeps the RTC in UTC");
                break;
        case OS_OTHER:
                ib_line(b, "os: other: QEMU's defaults");
                break;
        }
        ib_set(b, b->p, "os", json_string(profile_os_name(b->o->os)));
}

static bool windows(const struct init_options *o)
{
        return o->os == OS_WINDOWS10 || o->os == OS_WINDOWS11;
}

/* virtio (disk and NIC) when the guest has the drivers: Linux does, Windows
 * from the virtio-win disc. */
static bool virtio(const struct init_options *o)
{
        return o->os == OS_LINUX || (o->virtio_win[0] && o->os != OS_NONE && o->os != OS_OTHER);
}

static bool has_suffix(const char *s, const char *suffix)
{
        size_t n = strlen(s), k = strlen(suffix);

        return n >= k && strcasecmp(s + n - k, suffix) == 0;
}

static void disks(struct ib *b)
{
        const struct init_options *o = b->o;
        const struct init_host *h = b->h;
        json_t *arr, *d;

        if (!o->disk[0] && !o->iso[0] && !o->virtio_win[0]) {
                ib_line(b, "disk: none; --disk PATH (an image, or /dev/disk/by-id/...) adds one");
                return;
        }
        arr = json_array();
        ib_set(b, b->p, "disks", arr);
        if (o->disk[0]) {
                bool block = strncmp(o->disk, "/dev/", 5) == 0 || h->disk == INIT_PATH_BLOCK;
                bool raw = block || has_suffix(o->disk, ".raw") || has_suffix(o->disk, ".img");
                const char *bus = virtio(o) ? "virtio" : "sata";
                const char *why;

                d = json_object();
                ib_set(b, d, "path", json_string(o->disk));
                ib_set(b, d, "format", json_string(raw ? "raw" : "qcow2"));
                ib_set(b, d, "bus", json_string(bus));
                ib_append(b, arr, d);
                if (o->os == OS_LINUX)
                        why = "virtio: Linux has the driver";
                else if (virtio(o))
                        why = "virtio: Windows setup takes its driver from the virtio-win disc (Load driver, "
                              "viostor)";
                else if (windows(o))
                        why = "SATA: Windows has the driver built in (--virtio-win for virtio)";
                else
                        why = "SATA: every guest has the driver";
                ib_line(b, "disk: %s: %s, on %s", o->disk,
                        block ? "the whole block device (raw)" : raw ? "a raw image" : "a qcow2 image", why);
                if (h->disk == INIT_PATH_MISSING && !block)
                        ib_line(b, "note: %s does not exist yet: qemu-img create -f %s %s 128G", o->disk,
                                raw ? "raw" : "qcow2", o->disk);
                else if (h->disk == INIT_PATH_MISSING)
                        ib_line(b, "note: %s does not exist on this host: a run refuses until it does", o->disk);
        }
        if (o->iso[0]) {
                d = json_object();
                ib_set(b, d, "path", json_string(o->iso));
                ib_set(b, d, "cdrom", json_true());
                ib_append(b, arr, d);
                ib_line(b, "iso: %s: a SATA cdrom after the disk (the firmware boots it while the disk is empty)",
                        o->iso);
                if (h->iso == INIT_PATH_MISSING)
                        ib_line(b, "note: %s does not exist: a run fails until it does", o->iso);
        }
        if (o->virtio_win[0]) {
                d = json_object();
                ib_set(b, d, "path", json_string(o->virtio_win));
                ib_set(b, d, "cdrom", json_true());
                ib_append(b, arr, d);
                ib_line(b, "virtio-win: %s: a second cdrom with the virtio drivers%s", o->virtio_win,
                        o->os == OS_LINUX ? " (a Linux guest has them already)" : "");
                if (h->virtio_win == INIT_PATH_MISSING)
                        ib_line(b, "note: %s does not exist: a run fails until it does", o->virtio_win);
        }
}

static void nics(struct ib *b)
{
        const struct init_options *o = b->o;
        json_t *arr = json_array(), *n = json_object();
        const char *model = virtio(o) ? "virtio-net-pci" : "e1000e";
        const char *why = virtio(o) ? (o->os == OS_LINUX ? "Linux has the driver" : "its driver on the virtio-win disc")
                                    : "every guest has the driver";

        ib_set(b, b->p, "nics", arr);
        ib_set(b, n, "model", json_string(model));
        if (o->bridge[0]) {
                ib_set(b, n, "backend", json_string("tap"));
                ib_set(b, n, "bridge", json_string(o->bridge));
                ib_line(b, "nic: %s (%s) on a tap in bridge %s, as --bridge asked", model, why, o->bridge);
                if (b->h->net == INIT_NET_MISSING || b->h->net == INIT_NET_PRESENT)
                        ib_line(b, "note: %s is not a bridge on this host (yet): a run refuses until it is",
                                o->bridge);
        } else if (o->macvtap[0]) {
                ib_set(b, n, "backend", json_string("macvtap"));
                ib_set(b, n, "dev", json_string(o->macvtap));
                ib_set(b, n, "mode", json_string("bridge"));
                ib_line(b, "nic: %s (%s) on macvtap over %s, mode bridge, as --macvtap asked (the host and the "
                           "guest cannot reach each other through %s)",
                        model, why, o->macvtap, o->macvtap);
                if (b->h->net == INIT_NET_MISSING)
                        ib_line(b, "note: %s is not an interface of this host: a run refuses until it is",
                                o->macvtap);
        } else {
                ib_set(b, n, "backend", json_string("user"));
                ib_line(b, "nic: %s (%s) on user-mode NAT: the guest reaches out, nothing reaches in; --bridge BR "
                           "or --macvtap DEV puts it on the LAN",
                        model, why);
        }
        ib_append(b, arr, n);
}

/* What `check` says of the profile is what init gives: load it through the
 * strict loader and the cross-field rules. A refusal here is a value the
 * user gave that no profile can hold (a path with a control character). */
static int self_check(struct ib *b)
{
        _cleanup_free_ char *text = json_dumps(b->p, JSON_COMPACT | JSON_PRESERVE_ORDER);
        _cleanup_free_ struct profile *p = malloc(sizeof(*p));
        struct vl_error le = {};

        if (!text || !p)
                return -ENOMEM;
        if (profile_load_buffer(text, strlen(text), "", "/", p, &le, NULL) < 0)
                return vl_error_set(b->e, EINVAL, "the profile would not load: %s%s%s", le.path,
                                    le.path[0] ? ": " : "", le.msg);
        return 0;
}

int init_build(const struct init_host *h, const struct init_options *o, struct init_result *ret,
               struct vl_error *e)
{
        struct init_result res = {};
        struct ib b = { .h = h, .o = o, .res = &res, .e = e };
        const struct init_pci *gpu = NULL;
        json_t *cpu, *devs = NULL, *handover = NULL;
        uint64_t mib = 0;
        int r;

        if (!profile_name_valid(o->name))
                return vl_error_set(e, EINVAL,
                                    "\"%s\" is not a profile name (1-63 of A-Z a-z 0-9 _ . -, not starting with "
                                    "'.' or '-')",
                                    o->name);
        if (o->bridge[0] && o->macvtap[0])
                return vl_error_set(e, EINVAL, "--bridge and --macvtap: give one of them");
        b.p = res.profile = json_object();
        if (!b.p)
                return -ENOMEM;
        ib_set(&b, b.p, "$schema", json_string("vfio-launch.schema.json"));
        ib_set(&b, b.p, "name", json_string(o->name));

        r = pick_gpu(&b, &gpu);
        if (r >= 0) {
                devs = hostdevs(&b, gpu);
                if (init_host_display(gpu))
                        handover = ib_handover(&b, gpu);
                os_preset(&b);
                r = memory(&b, &mib);
        }
        if (r >= 0)
                r = hugepages(&b, mib);
        if (r >= 0) {
                cpu = ib_obj(&b, b.p, "cpu");
                r = cpu ? ib_cpus(&b, cpu) : -ENOMEM;
        }
        if (r >= 0) {
                ib_set(&b, b.p, "hostdevs", TAKE_PTR(devs));
                /* The profile's consent to take the host's display, which
                 * a hand-over needs too (its rule). */
                if (init_host_display(gpu))
                        ib_set(&b, b.p, "allow_boot_vga", json_true());
                if (handover)
                        ib_set(&b, b.p, "host_handover", TAKE_PTR(handover));
                disks(&b);
                nics(&b);
                ib_line(&b, "display: none: the guest's screen is the GPU's own output; for its keyboard and "
                            "mouse add \"inputs\" (profiles/README.md#inputs) or pass a USB controller through");
                r = b.err;
        }
        if (r >= 0)
                r = self_check(&b);
        json_decref(devs);
        json_decref(handover);
        if (r < 0) {
                if (r == -ENOMEM)
                        (void) vl_error_set(e, ENOMEM, "out of memory");
                init_result_done(&res);
                return r;
        }
        *ret = res;
        return 0;
}

void init_result_done(struct init_result *r)
{
        json_decref(r->profile);
        r->profile = NULL;
}
