/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The domain's machine-wide parts: name, os (machine, firmware, NVRAM,
 * direct kernel boot), memory and its backing, clock, SMBIOS, lifecycle
 * actions and <qemu:commandline>. Each table entry says why an element is
 * implied (the launcher does the same anyway) or maps it; the rest is left
 * to the sweep, which lists it.
 */
#include <errno.h>
#include <string.h>

#include "import/import_internal.h"
#include "profile/profile.h"

/* libvirt's memory units (formatdomain "Memory Allocation"): the factor to
 * KiB; 0 = a unit not a whole KiB (bytes). */
static const struct {
        const char *unit;
        unsigned long long kib;
} mem_units[] = {
        { "KiB", 1 }, { "k", 1 }, { "K", 1 }, { "M", 1024 }, { "MiB", 1024 }, { "G", 1024 * 1024 },
        { "GiB", 1024 * 1024 }, { "T", 1024ULL * 1024 * 1024 }, { "TiB", 1024ULL * 1024 * 1024 },
};

/* An element's amount in KiB ("unit" defaults to KiB); -EINVAL for bytes
 * or decimal units (KB, MB: powers of ten), which would need rounding. */
static int mem_kib(xmlNode *n, unsigned long long *ret)
{
        const char *unit = ix_attr(n, "unit");
        unsigned long long v;

        if (ix_uint(ix_text(n), 1ULL << 50, &v) < 0)
                return -EINVAL;
        if (!unit)
                unit = "KiB";
        for (size_t i = 0; i < ELEMENTSOF(mem_units); i++)
                if (!strcmp(unit, mem_units[i].unit)) {
                        *ret = v * mem_units[i].kib;
                        return 0;
                }
        return -EINVAL;
}

/* The profile's memory string: the largest binary unit that is exact. */
static json_t *mem_json(unsigned long long kib)
{
        static const char units[] = "TGM";
        unsigned long long mib = kib / 1024;

        for (int i = 0; i < 3; i++) {
                unsigned long long f = 1ULL << (10 * (2 - i));

                if (mib % f == 0)
                        return json_sprintf("%llu%c", mib / f, units[i]);
        }
        return NULL;
}

static void map_memory(struct ix *x, xmlNode *dom)
{
        xmlNode *m = ix_child(dom, "memory"), *cur = ix_child(dom, "currentMemory");
        unsigned long long kib = 0, curkib;

        if (m) {
                if (mem_kib(m, &kib) < 0 || kib % 1024 || kib < 16 * 1024)
                        ix_omit(x, m, "not a whole number of MiB of at least 16 MiB in binary units: "
                                      "give \"memory\" yourself");
                else
                        ix_set(x, x->p, "memory", mem_json(kib));
        }
        if (cur) {
                if (mem_kib(cur, &curkib) == 0 && curkib == kib)
                        ix_take(cur); /* the same as <memory>: nothing ballooned at start */
                else
                        ix_omit(x, cur, "a start-up balloon target below <memory> has no profile key "
                                        "(the guest gets all of \"memory\")");
        }
}

/* <page size='N' unit='U'/>: the amount is an attribute here. */
static int page_kib(xmlNode *page, unsigned long long *ret)
{
        const char *unit = ix_attr(page, "unit") ?: "KiB";
        unsigned long long v;

        if (ix_uint(ix_attr(page, "size"), 1ULL << 40, &v) < 0)
                return -EINVAL;
        for (size_t i = 0; i < ELEMENTSOF(mem_units); i++)
                if (!strcmp(unit, mem_units[i].unit)) {
                        *ret = v * mem_units[i].kib;
                        return 0;
                }
        return -EINVAL;
}

static void map_backing(struct ix *x, xmlNode *dom)
{
        xmlNode *mb = ix_child(dom, "memoryBacking"), *hp;

        if (!mb)
                return;
        ix_take(mb);
        if ((hp = ix_child(mb, "hugepages"))) {
                json_t *h = ix_obj(x, x->p, "hugepages");
                xmlNode *page = ix_child(hp, "page");
                unsigned long long kib;

                ix_take(hp);
                if (page) {
                        if (ix_next(page, "page") || ix_attr(page, "nodeset"))
                                ix_omit(x, page, "per-NUMA-node page sizes have no profile key");
                        else if (page_kib(page, &kib) == 0 && (kib == 2048 || kib == 1024 * 1024)) {
                                ix_take(page);
                                ix_set(x, h, "size", json_string(profile_hugepage_size_name(
                                                             kib == 2048 ? HUGEPAGE_2M : HUGEPAGE_1G)));
                        } else
                                ix_omit(x, page, "only 2M and 1G pages are supported");
                }
        }
        /* mlock: with VFIO the launcher locks all guest RAM anyway. */
        if (ix_child(mb, "locked"))
                ix_take(ix_child(mb, "locked"));
        if (ix_child(mb, "nosharepages"))
                ix_take(ix_child(mb, "nosharepages")); /* VFIO pins the pages: KSM cannot merge them */
}

static void map_os(struct ix *x, xmlNode *dom)
{
        xmlNode *os = ix_child(dom, "os"), *t, *n;
        const char *s;
        bool uefi = false;
        json_t *fw;

        if (!os)
                return;
        ix_take(os);
        fw = ix_obj(x, x->p, "firmware");
        if ((s = ix_attr(os, "firmware")))
                uefi = !strcmp(s, "efi");
        if ((t = ix_child(os, "type"))) {
                if (strcmp(ix_text(t), "hvm"))
                        ix_omit(x, t, "only hvm guests");
                if ((s = ix_attr(t, "arch")) && strcmp(s, "x86_64"))
                        ix_omit(x, ix_attr_node(t, "arch"), "only x86_64 guests");
                if ((s = ix_attr(t, "machine"))) {
                        if (!strcmp(s, "q35") || !strncmp(s, "pc-q35-", 7))
                                ix_set(x, x->p, "machine", json_string(s));
                        else
                                ix_omit(x, ix_attr_node(t, "machine"),
                                        "machine \"%s\": only q35 machines (passthrough needs PCIe root ports)",
                                        s);
                }
        }
        if ((n = ix_child(os, "loader"))) {
                const char *path = ix_text(n), *ty = ix_attr(n, "type"), *sec = ix_attr(n, "secure");

                ix_attr(n, "readonly"); /* the CODE image is always read-only to QEMU */
                if (ty && !strcmp(ty, "rom")) { /* pflash is UEFI, a ROM is SeaBIOS */
                        ix_set(x, fw, "type", json_string(profile_firmware_name(FIRMWARE_BIOS)));
                        if (*path)
                                ix_set(x, fw, "code", json_string(path));
                } else {
                        uefi = true;
                        if (sec && ix_bool(sec) == 1)
                                ix_set(x, fw, "secure_boot", json_true());
                        if (*path)
                                ix_set(x, fw, "code", json_string(path));
                }
        }
        if ((n = ix_child(os, "nvram"))) {
                const char *tmpl = ix_attr(n, "template"), *path = ix_text(n);

                uefi = true;
                if (tmpl)
                        ix_set(x, fw, "vars_template", json_string(tmpl));
                /* The domain's own VARS, kept where it is: the profile names it and the
                 * launcher copies a template only when the file does not exist. */
                if (*path) {
                        ix_set(x, fw, "vars", json_string(path));
                        ix_note(x, n, "the VM's UEFI variables stay in '%s' (never copied or overwritten); a run "
                                      "uses a file outside /var/lib/vfio-launch/NAME/ only from a profile root owns",
                                path);
                }
        }
        /* libvirt's firmware auto-selection by features (formatdomain "BIOS
         * bootloader"): the profile's secure_boot picks a descriptor the same
         * way, with Microsoft's keys enrolled. */
        if ((n = ix_child(os, "firmware"))) {
                bool sb = false, keys = true;

                ix_take(n);
                ix_for_each(f, n, "feature") {
                        const char *name = ix_attr(f, "name"), *en = ix_attr(f, "enabled");

                        if (!name || ix_bool(en) < 0) {
                                ix_omit(x, f, "not a feature with enabled='yes|no'");
                                continue;
                        }
                        ix_take(f);
                        if (!strcmp(name, "secure-boot"))
                                sb = ix_bool(en) == 1;
                        else if (!strcmp(name, "enrolled-keys"))
                                keys = ix_bool(en) == 1;
                        else
                                ix_omit(x, f, "firmware feature \"%s\" has no profile key", name);
                }
                if (sb && !keys)
                        ix_omit(x, n, "Secure Boot without enrolled keys: the profile's secure_boot picks a "
                                      "firmware with Microsoft's keys");
                else if (sb)
                        ix_set(x, fw, "secure_boot", json_true());
                uefi = true;
        }
        if (!json_object_get(fw, "type"))
                ix_set(x, fw, "type", json_string(profile_firmware_name(uefi ? FIRMWARE_UEFI : FIRMWARE_BIOS)));
        /* Reorder: "type" first, as profiles/README.md lists it. */
        {
                json_t *o = json_object(), *v;
                const char *k;

                ix_set(x, o, "type", json_incref(json_object_get(fw, "type")));
                json_object_foreach(fw, k, v)
                        if (strcmp(k, "type"))
                                ix_set(x, o, k, json_incref(v));
                ix_set(x, x->p, "firmware", o);
        }
        if ((n = ix_child(os, "kernel"))) {
                json_t *b = ix_obj(x, x->p, "boot");

                ix_set(x, b, "kernel", json_string(ix_text(n)));
                if ((n = ix_child(os, "initrd")))
                        ix_set(x, b, "initrd", json_string(ix_text(n)));
                if ((n = ix_child(os, "cmdline")))
                        ix_set(x, b, "cmdline", json_string(ix_text(n)));
        }
        ix_for_each(b, os, "boot")
                ix_omit(x, b, "a domain-wide boot device has no profile key: give \"boot\" on the disk, "
                              "hostdev or NIC (per-device <boot order> is mapped)");
        if ((n = ix_child(os, "bootmenu")))
                ix_omit(x, n, "the firmware's boot menu has no profile key");
        if ((n = ix_child(os, "smbios"))) {
                ix_take(n);
                if ((s = ix_attr(n, "mode")) && !strcmp(s, "host"))
                        ix_set(x, x->p, "smbios", json_string("host"));
                else if (s && !strcmp(s, "sysinfo"))
                        ; /* the <sysinfo> strings, below */
                else
                        ix_omit(x, n, "SMBIOS mode \"%s\" is QEMU's default (leave it out)", s ? s : "");
        }
}

/* <sysinfo type='smbios'> sections → smbios, entry names as the profile's. */
static void map_sysinfo(struct ix *x, xmlNode *dom)
{
        static const struct {
                const char *xml, *key;
        } sections[] = { { "bios", "bios" }, { "system", "system" }, { "baseBoard", "baseboard" },
                         { "chassis", "chassis" } };
        xmlNode *si = ix_child(dom, "sysinfo");
        json_t *sm;

        if (!si)
                return;
        if (json_is_string(json_object_get(x->p, "smbios"))) {
                ix_omit(x, si, "<smbios mode='host'> copies the host's strings: these are not used");
                return;
        }
        if (!ix_attr(si, "type") || strcmp(ix_attr(si, "type"), "smbios")) {
                ix_omit(x, si, "only SMBIOS system information (type='smbios')");
                return;
        }
        ix_take(si);
        sm = ix_obj(x, x->p, "smbios");
        for (size_t i = 0; i < ELEMENTSOF(sections); i++) {
                xmlNode *sec = ix_child(si, sections[i].xml);

                if (!sec)
                        continue;
                ix_take(sec);
                ix_for_each(e, sec, "entry") {
                        const char *name = ix_attr(e, "name");

                        /* libvirt's entry names are the profile's keys (formatdomain
                         * "SMBIOS System Information"), but for the chassis' and board's
                         * "asset"; the loader checks the values. */
                        if (name && (strcmp(name, "uuid") || i == 1) && strlen(name) < 16)
                                ix_set(x, ix_obj(x, sm, sections[i].key), name, json_string(ix_text(e)));
                        else
                                ix_omit(x, e, "no profile key for this SMBIOS entry");
                }
        }
}

static void map_clock(struct ix *x, xmlNode *dom)
{
        xmlNode *c = ix_child(dom, "clock");
        const char *off;
        json_t *cl;

        if (!c)
                return;
        ix_take(c);
        cl = ix_obj(x, x->p, "clock");
        if ((off = ix_attr(c, "offset"))) {
                if (!strcmp(off, "utc"))
                        ix_set(x, cl, "rtc", json_string(profile_rtc_base_name(RTC_BASE_UTC)));
                else if (!strcmp(off, "localtime"))
                        ix_set(x, cl, "rtc", json_string(profile_rtc_base_name(RTC_BASE_LOCALTIME)));
                else
                        ix_omit(x, ix_attr_node(c, "offset"), "offset \"%s\": only utc and localtime", off);
        }
        ix_for_each(t, c, "timer") {
                const char *name = ix_attr(t, "name"), *pol = ix_attr(t, "tickpolicy"),
                           *present = ix_attr(t, "present");

                ix_take(t);
                if (name && !strcmp(name, "rtc") && pol && !present) {
                        if (!strcmp(pol, "catchup"))
                                ix_set(x, cl, "driftfix", json_string(profile_rtc_driftfix_name(RTC_DRIFTFIX_SLEW)));
                        else if (!strcmp(pol, "delay"))
                                ix_set(x, cl, "driftfix", json_string(profile_rtc_driftfix_name(RTC_DRIFTFIX_NONE)));
                        else
                                ix_omit(x, t, "RTC tick policy \"%s\": only catchup and delay", pol);
                } else if (name && !strcmp(name, "pit") && pol && !present) {
                        if (!strcmp(pol, "delay"))
                                ix_set(x, cl, "tick_policy", json_string(profile_tick_policy_name(TICK_POLICY_DELAY)));
                        else if (!strcmp(pol, "discard"))
                                ix_set(x, cl, "tick_policy",
                                       json_string(profile_tick_policy_name(TICK_POLICY_DISCARD)));
                        else
                                ix_omit(x, t, "PIT tick policy \"%s\": KVM's PIT takes delay or discard", pol);
                } else if (name && !strcmp(name, "hpet") && present && !pol && ix_bool(present) >= 0)
                        ix_set(x, cl, "hpet", json_boolean(ix_bool(present)));
                else if (name && !strcmp(name, "hypervclock") && present && ix_bool(present) == 1)
                        ix_set(x, ix_obj(x, ix_obj(x, x->p, "cpu"), "hyperv"), "time", json_true());
                /* libvirt turns the kvmclock timer into the CPU flag (-cpu ...,kvmclock=off),
                 * as guides use it to hide the hypervisor. */
                else if (name && !strcmp(name, "kvmclock") && present && !pol && ix_bool(present) >= 0)
                        ix_set(x, ix_obj(x, ix_obj(x, x->p, "cpu"), "features"), "kvmclock",
                               json_boolean(ix_bool(present)));
                else
                        ix_omit(x, t, "no profile key for this timer");
        }
        if (json_object_size(cl) == 0)
                json_object_del(x->p, "clock");
}

static void map_qemu(struct ix *x, xmlNode *dom)
{
        for (xmlNode *c = dom->children; c; c = c->next) {
                if (c->type != XML_ELEMENT_NODE || !c->ns || strcmp((const char *) c->ns->href, IX_QEMU_NS) ||
                    strcmp((const char *) c->name, "commandline"))
                        continue;
                ix_take(c);
                for (xmlNode *a = c->children; a; a = a->next) {
                        if (a->type != XML_ELEMENT_NODE || !a->ns || strcmp((const char *) a->ns->href, IX_QEMU_NS))
                                continue;
                        if (!strcmp((const char *) a->name, "arg")) {
                                const char *v = ix_attr(a, "value");

                                ix_take(a);
                                if (json_array_append_new(ix_arr(x, x->p, "qemu_args"), json_string(v ?: "")) < 0)
                                        x->err = -ENOMEM;
                        }
                        /* <qemu:env> of the audio variables is the sound mapping's
                         * (import_map_devices.c), which runs later: the rest here. */
                        if (!strcmp((const char *) a->name, "env")) {
                                const char *name = ix_attr(a, "name");

                                if (!name || strncmp(name, "QEMU_", 5) ||
                                    (!strstr(name, "AUDIO") && strncmp(name, "QEMU_ALSA_", 10) &&
                                     strncmp(name, "QEMU_PA_", 8)))
                                        ix_omit(x, a, "environment variable \"%s\": the profile sets only "
                                                      "QEMU's audio variables (\"sound\")", name ? name : "");
                        }
                }
        }
}

/* libvirt takes almost any name ("Windows 10"); a profile's names a folder,
 * a lock and a systemd instance: 1-63 of A-Z a-z 0-9 _ . - not starting
 * with . or -. Anything else becomes '-', with a note saying so. */
static void map_name(struct ix *x, xmlNode *n)
{
        const char *s = ix_text(n);
        char name[64];
        size_t k = 0;

        if (*s == '.' || *s == '-' || *s == '\0')
                k = (size_t) snprintf(name, sizeof(name), "vm-");
        for (; *s && k < sizeof(name) - 1; s++)
                name[k++] = (strchr("_.-", *s) || (*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
                             (*s >= '0' && *s <= '9'))
                                    ? *s
                                    : '-';
        name[k] = '\0';
        if (strcmp(name, ix_text(n)))
                ix_note(x, n, "the profile's name is \"%s\" (a name is 1-63 of A-Z a-z 0-9 _ . -, not "
                              "starting with . or -)", name);
        ix_set(x, x->p, "name", json_string(name));
}

void ix_map_machine(struct ix *x, xmlNode *dom)
{
        static const char *const lifecycle[][2] = {
                /* What the launcher does: a guest power-off ends the run, a reboot
                 * stays in QEMU, a crash ends it (QEMU exits). */
                { "on_poweroff", "destroy" }, { "on_reboot", "restart" }, { "on_crash", "destroy" },
        };
        xmlNode *n;
        const char *s;

        if ((s = ix_attr(dom, "type")) && strcmp(s, "kvm"))
                ix_omit(x, ix_attr_node(dom, "type"), "domain type \"%s\": the profile runs kvm (or \"accel\": \"tcg\")", s);
        ix_take(dom);
        ix_attr(dom, "id"); /* a running domain's number, not configuration */
        if ((n = ix_child(dom, "name")))
                map_name(x, n);
        if ((n = ix_child(dom, "uuid")))
                ix_take(n); /* mapped with <sysinfo> below, as libvirt gives it to SMBIOS */
        for (size_t i = 0; i < ELEMENTSOF(lifecycle); i++)
                if ((n = ix_child(dom, lifecycle[i][0])) && strcmp(ix_text(n), lifecycle[i][1]))
                        ix_omit(x, n, "\"%s\": the launcher does \"%s\"", ix_text(n), lifecycle[i][1]);
        /* Text for people, not the machine. */
        if ((n = ix_child(dom, "title")))
                ix_omit(x, n, "a profile has no title (JSON has no comments)");
        if ((n = ix_child(dom, "description")))
                ix_omit(x, n, "a profile has no description (JSON has no comments)");
        map_memory(x, dom);
        map_backing(x, dom);
        map_os(x, dom);
        map_sysinfo(x, dom);
        /* libvirt gives the domain's uuid to QEMU (-uuid), which shows it as the
         * SMBIOS system UUID: Windows' activation is tied to it. */
        if ((n = ix_child(dom, "uuid"))) {
                json_t *sm = json_object_get(x->p, "smbios");

                if (json_is_string(sm))
                        ix_omit(x, n, "with \"smbios\": \"host\" the guest gets QEMU's system UUID (the profile "
                                      "cannot give both)");
                else if (!json_object_get(json_object_get(sm, "system"), "uuid"))
                        ix_set(x, ix_obj(x, ix_obj(x, x->p, "smbios"), "system"), "uuid", json_string(ix_text(n)));
        }
        /* libvirt's own, with no counterpart: say why rather than only "no key". */
        if ((n = ix_child(dom, "seclabel")))
                ix_omit(x, n, "libvirt's security label: vfio-launch confines QEMU itself (its own user, "
                              "no capabilities, seccomp)");
        if ((n = ix_child(dom, "resource")))
                ix_omit(x, n, "libvirt's cgroup placement has no profile key");
        if ((n = ix_child(dom, "metadata")))
                ix_omit(x, n, "other programs' data (virt-manager's, libosinfo's OS id) has no profile key");
        if ((n = ix_child(dom, "pm")))
                ix_omit(x, n, "guest suspend settings have no profile key (QEMU's defaults apply)");
        map_clock(x, dom);
        map_qemu(x, dom);
}
