/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The domain's CPU: <vcpu>, <cpu> (mode, model, topology, features, cache),
 * <cputune> pinning, <iothreads>, and <features> (Hyper-V enlightenments,
 * KVM hidden; ACPI, APIC and the like are what the launcher's q35 always has).
 */
#include <errno.h>
#include <string.h>

#include "import/import_internal.h"
#include "profile/profile.h"

/* libvirt's <hyperv> children (formatdomain "Hypervisor features") whose
 * profile key is the same name; the rest are handled one by one. */
static const char *const hv_same[] = {
        "relaxed", "vapic", "vpindex", "runtime", "synic", "reset", "frequencies", "reenlightenment",
        "ipi", "evmcs", "avic", "emsr_bitmap", "xmm_input",
};

static bool on(xmlNode *n)
{
        return ix_bool(ix_attr(n, "state")) == 1;
}

static void map_hyperv(struct ix *x, xmlNode *hv, json_t *cpu)
{
        const char *mode = ix_attr(hv, "mode");
        json_t *h = ix_obj(x, cpu, "hyperv");

        ix_take(hv);
        if (mode && !strcmp(mode, "passthrough")) {
                ix_set(x, h, "passthrough", json_true());
                return;
        }
        for (xmlNode *f = hv->children; f; f = f->next) {
                const char *name = (const char *) f->name, *st;

                if (f->type != XML_ELEMENT_NODE)
                        continue;
                st = ix_attr(f, "state");
                if (!st || ix_bool(st) < 0) {
                        ix_omit(x, f, "no state='on|off'");
                        continue;
                }
                ix_take(f);
                if (ix_bool(st) == 0)
                        continue; /* off is the profile's default */
                if (!strcmp(name, "spinlocks")) {
                        unsigned long long r;

                        if (ix_uint(ix_attr(f, "retries"), 0xffffffffULL, &r) == 0 && r >= 4095)
                                ix_set(x, h, "spinlocks", json_integer((json_int_t) r));
                        else
                                ix_omit(x, f, "retries must be 4095-4294967295");
                } else if (!strcmp(name, "vendor_id")) {
                        ix_set(x, h, "vendor_id", json_string(ix_attr(f, "value") ?: ""));
                } else if (!strcmp(name, "stimer")) {
                        xmlNode *d = ix_child(f, "direct");

                        ix_set(x, h, "stimer", json_true());
                        if (d && on(d))
                                ix_set(x, h, "stimer_direct", json_true());
                        ix_take(d);
                } else if (!strcmp(name, "tlbflush")) {
                        xmlNode *d = ix_child(f, "direct"), *e = ix_child(f, "extended");

                        ix_set(x, h, "tlbflush", json_true());
                        if (d && on(d))
                                ix_set(x, h, "tlbflush_direct", json_true());
                        if (e && on(e))
                                ix_set(x, h, "tlbflush_ext", json_true());
                        ix_take(d);
                        ix_take(e);
                } else {
                        size_t i;

                        for (i = 0; i < ELEMENTSOF(hv_same); i++)
                                if (!strcmp(name, hv_same[i]))
                                        break;
                        if (i < ELEMENTSOF(hv_same))
                                ix_set(x, h, name, json_true());
                        else
                                ix_omit(x, f, "no profile key for this enlightenment");
                }
        }
        if (json_object_size(h) == 0)
                json_object_del(cpu, "hyperv");
}

static void map_features(struct ix *x, xmlNode *dom, json_t *cpu)
{
        /* What every launcher VM has: q35's ACPI, the local APIC, KVM's
         * in-kernel IOAPIC; PAE is part of x86_64. Present = implied. */
        static const char *const implied[] = { "acpi", "apic", "pae", "ioapic" };
        xmlNode *fs = ix_child(dom, "features"), *n;

        if (!fs)
                return;
        ix_take(fs);
        for (size_t i = 0; i < ELEMENTSOF(implied); i++)
                if ((n = ix_child(fs, implied[i])) && !ix_attr(n, "state") && !n->properties)
                        ix_take(n);
        if ((n = ix_child(fs, "ioapic")) && ix_attr(n, "driver") && !strcmp(ix_attr(n, "driver"), "kvm"))
                ix_take(n);
        /* vmport off: the launcher never gives the VMware port; smm on: the
         * launcher turns SMM on with a Secure Boot firmware, as it must. */
        if ((n = ix_child(fs, "vmport")) && ix_bool(ix_attr(n, "state")) == 0)
                ix_take(n);
        if ((n = ix_child(fs, "smm")) && ix_bool(ix_attr(n, "state")) == 1)
                ix_take(n);
        if ((n = ix_child(fs, "hyperv")))
                map_hyperv(x, n, cpu);
        if ((n = ix_child(fs, "kvm"))) {
                xmlNode *h = ix_child(n, "hidden");

                ix_take(n);
                if (h && ix_attr(h, "state")) {
                        ix_take(h);
                        if (ix_bool(ix_attr(h, "state")) == 1)
                                ix_set(x, cpu, "kvm_hidden", json_true());
                }
        }
}

static void map_topology(struct ix *x, xmlNode *c, json_t *cpu)
{
        static const char *const keys[] = { "sockets", "dies", "cores", "threads" };
        xmlNode *t = ix_child(c, "topology");

        if (!t)
                return;
        ix_take(t);
        for (size_t i = 0; i < ELEMENTSOF(keys); i++) {
                unsigned long long v;
                const char *s = ix_attr(t, keys[i]);

                if (!s)
                        continue;
                if (ix_uint(s, 255, &v) < 0 || v == 0)
                        ix_omit(x, ix_attr_node(t, keys[i]), "not 1-255");
                else if (i == 1) {
                        if (v != 1)
                                ix_omit(x, ix_attr_node(t, keys[i]), "more than one die per socket has no profile key");
                } else
                        ix_set(x, cpu, keys[i], json_integer((json_int_t) v));
        }
}

static void map_cpu_element(struct ix *x, xmlNode *c, json_t *cpu)
{
        const char *mode = ix_attr(c, "mode"), *s;
        xmlNode *n;

        ix_take(c);
        ix_attr(c, "check"); /* libvirt's own comparison with the host's CPU; QEMU checks features */
        if (!mode || !strcmp(mode, "custom")) {
                const char *match = ix_attr(c, "match");

                /* exact is what QEMU gives: the model as named, no more */
                if (match && strcmp(match, "exact"))
                        ix_omit(x, ix_attr_node(c, "match"), "match \"%s\": the model is given as named", match);
                if ((n = ix_child(c, "model"))) {
                        ix_attr(n, "fallback");
                        ix_set(x, cpu, "model", json_string(ix_text(n)));
                }
        } else if (!strcmp(mode, "host-passthrough")) {
                ix_set(x, cpu, "model", json_string("host"));
                if ((s = ix_attr(c, "migratable")) && ix_bool(s) >= 0)
                        ix_set(x, cpu, "migratable", json_boolean(ix_bool(s)));
        } else if (!strcmp(mode, "maximum")) {
                ix_set(x, cpu, "model", json_string("max"));
        } else
                ix_omit(x, ix_attr_node(c, "mode"),
                        "mode \"%s\": libvirt computes that model from the host; give \"cpu.model\"", mode);
        map_topology(x, c, cpu);
        if ((n = ix_child(c, "cache"))) {
                const char *m = ix_attr(n, "mode");
                unsigned v = m && !strcmp(m, "passthrough") ? CPU_CACHE_PASSTHROUGH
                           : m && !strcmp(m, "emulate")   ? CPU_CACHE_EMULATE
                           : m && !strcmp(m, "disable")   ? CPU_CACHE_DISABLE
                                                          : CPU_CACHE_DEFAULT;

                if (v == CPU_CACHE_DEFAULT || ix_attr(n, "level"))
                        ix_omit(x, n, "only mode passthrough, emulate or disable, without a level");
                else {
                        ix_take(n);
                        ix_set(x, cpu, "cache", json_string(profile_cpu_cache_name(v)));
                }
        }
        ix_for_each(f, c, "feature") {
                const char *pol = ix_attr(f, "policy"), *name = ix_attr(f, "name");

                if (!name || !pol || (strcmp(pol, "require") && strcmp(pol, "disable") && strcmp(pol, "force"))) {
                        ix_omit(x, f, "only policy require, force or disable");
                        continue;
                }
                ix_take(f);
                ix_set(x, ix_obj(x, cpu, "features"), name, json_boolean(strcmp(pol, "disable") != 0));
        }
        if ((n = ix_child(c, "numa")))
                ix_omit(x, n, "guest NUMA nodes have no profile key");
}

/* Pins from <cputune>, the array in vCPU order. */
static void map_cputune(struct ix *x, xmlNode *dom, json_t *cpu, unsigned vcpus)
{
        xmlNode *ct = ix_child(dom, "cputune"), *n;
        const char *pins[256] = {};
        xmlNode *nodes[256] = {};
        unsigned npins = 0;

        if (!ct)
                return;
        ix_take(ct);
        ix_for_each(p, ct, "vcpupin") {
                unsigned long long v;

                if (ix_uint(ix_attr(p, "vcpu"), 255, &v) < 0 || !ix_attr(p, "cpuset") || pins[v]) {
                        ix_omit(x, p, "not one vCPU number and a cpuset");
                        continue;
                }
                pins[v] = ix_attr(p, "cpuset");
                nodes[v] = p;
                ix_take(p);
                npins++;
        }
        if (npins) {
                bool all = npins == vcpus;

                for (unsigned i = 0; all && i < vcpus; i++)
                        all = pins[i] != NULL;
                if (all) {
                        json_t *a = ix_arr(x, cpu, "pin");

                        for (unsigned i = 0; i < vcpus; i++)
                                if (json_array_append_new(a, json_string(pins[i])) < 0)
                                        x->err = -ENOMEM;
                } else
                        for (unsigned i = 0; i < 256; i++)
                                if (nodes[i])
                                        ix_omit(x, nodes[i], "\"cpu.pin\" needs a pin for every vCPU "
                                                             "(libvirt leaves the others unpinned)");
        }
        if ((n = ix_child(ct, "emulatorpin")) && ix_attr(n, "cpuset")) {
                ix_take(n);
                ix_set(x, cpu, "emulator_pin", json_string(ix_attr(n, "cpuset")));
        }
        ix_for_each(p, ct, "iothreadpin") {
                unsigned long long id;
                json_t *its = json_object_get(x->p, "iothreads");
                json_t *it;

                /* libvirt's iothread ids count from 1; the profile's indexes from 0. */
                if (ix_uint(ix_attr(p, "iothread"), 16, &id) < 0 || id == 0 ||
                    !(it = json_array_get(its, id - 1)) || !ix_attr(p, "cpuset")) {
                        ix_omit(x, p, "no such iothread");
                        continue;
                }
                ix_take(p);
                ix_set(x, it, "pin", json_string(ix_attr(p, "cpuset")));
        }
}

void ix_map_cpu(struct ix *x, xmlNode *dom)
{
        json_t *cpu = ix_obj(x, x->p, "cpu");
        unsigned long long vcpus = 1;
        xmlNode *n;

        if ((n = ix_child(dom, "cpu")))
                map_cpu_element(x, n, cpu);
        else if (ix_child(dom, "vcpu")) {
                /* Without <cpu> libvirt leaves QEMU's default model, not the
                 * profile's default ("host"): keep what the guest saw. */
                ix_set(x, cpu, "model", json_string("qemu64"));
                ix_note(x, ix_child(dom, "vcpu"), "no <cpu>: the guest keeps QEMU's default CPU model, qemu64 "
                                                  "(\"model\": \"host\" gives it the host's)");
        }
        if ((n = ix_child(dom, "vcpu"))) {
                const char *pl = ix_attr(n, "placement");

                if (pl && strcmp(pl, "static"))
                        ix_omit(x, ix_attr_node(n, "placement"), "placement \"%s\": pinning is \"cpu.pin\"", pl);
                if (ix_attr(n, "cpuset"))
                        ix_omit(x, ix_attr_node(n, "cpuset"), "a cpuset for all vCPUs: give \"cpu.pin\" per vCPU");
                if (ix_attr(n, "current"))
                        ix_omit(x, ix_attr_node(n, "current"), "vCPU hot-plug has no profile key");
                if (ix_uint(ix_text(n), 255, &vcpus) < 0 || vcpus == 0)
                        ix_omit(x, n, "not 1-255 vCPUs");
                else
                        ix_set(x, cpu, "vcpus", json_integer((json_int_t) vcpus));
        }
        if ((n = ix_child(dom, "iothreads"))) {
                unsigned long long k;

                if (ix_uint(ix_text(n), 16, &k) < 0)
                        ix_omit(x, n, "more than 16 I/O threads");
                else
                        for (unsigned i = 0; i < k; i++)
                                if (json_array_append_new(ix_arr(x, x->p, "iothreads"), json_object()) < 0)
                                        x->err = -ENOMEM;
        }
        map_cputune(x, dom, cpu, (unsigned) vcpus);
        map_features(x, dom, cpu);
        /* The order of profiles/README.md's table. */
        {
                static const char *const order[] = { "model", "sockets", "cores", "threads", "vcpus", "kvm_hidden",
                                                     "migratable", "cache", "features", "pin", "emulator_pin",
                                                     "hyperv" };
                json_t *o = json_object(), *v;
                const char *k;

                for (size_t i = 0; i < ELEMENTSOF(order); i++)
                        if ((v = json_object_get(cpu, order[i])))
                                ix_set(x, o, order[i], json_incref(v));
                json_object_foreach(cpu, k, v)
                        if (!json_object_get(o, k))
                                ix_set(x, o, k, json_incref(v));
                if (json_object_size(o))
                        ix_set(x, x->p, "cpu", o);
                else {
                        json_decref(o);
                        json_object_del(x->p, "cpu");
                }
        }
}
