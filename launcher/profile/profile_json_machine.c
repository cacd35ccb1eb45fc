/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The profile's machine: memory, hugepages, firmware, direct kernel boot and
 * the CPU (topology, Hyper-V enlightenments, pinning). Part of the strict
 * loader: profile_json.c calls each of these for its key of the top-level
 * object; the shared readers are in profile_json_read.c (declared in
 * profile_json_read.h).
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "profile/profile_json_read.h"

/* ---- sections ----------------------------------------------------------------------- */

int profile_json_parse_memory(struct ctx *c, json_t *root, struct profile *p)
{
        json_t *v = json_object_get(root, "memory");
        char q[QUOTE_MAX + 8];
        uint64_t mib;
        size_t m;
        int r;

        if (!v)
                return 0;
        m = pj_enter_key(c, "memory");
        if (json_is_integer(v)) {
                json_int_t i = json_integer_value(v);
                (void) snprintf(q, sizeof(q), "%" JSON_INTEGER_FORMAT " MiB", i);
                mib = i < 0 ? 0 : (uint64_t) i;
        } else if (json_is_string(v)) {
                pj_quote_value(v, q, sizeof(q));
                r = profile_parse_memory_mib(json_string_value(v), &mib);
                if (r == -EDOM)
                        return pj_fail(c, "%s is not a whole number of MiB", q);
                if (r == -ERANGE)
                        mib = UINT64_MAX;
                else if (r < 0)
                        return pj_fail(c, "%s is not a memory size (expected a number of MiB, or a "
                                       "number with K, M, G or T)",
                                    q);
        } else
                return pj_type_error(c, v, "a string or an integer (MiB)");
        if (mib < PROFILE_MEMORY_MIN_MIB || mib > PROFILE_MEMORY_MAX_MIB)
                return pj_fail(c, "%s is out of range (expected %u MiB..%u MiB, i.e. 16M..16T)", q,
                            PROFILE_MEMORY_MIN_MIB, PROFILE_MEMORY_MAX_MIB);
        p->memory_mib = mib;
        pj_leave(c, m);
        return 0;
}

int profile_json_parse_hugepages(struct ctx *c, json_t *root, struct profile_hugepages *h)
{
        static const char *const keys[] = { "size", "path", "reserve", "prealloc", NULL };
        char path[PROFILE_PATH_MAX];
        size_t m;
        int r, size = HUGEPAGE_2M, got_path;
        json_t *o = pj_enter_typed(c, root, "hugepages", JSON_OBJECT, &m, &r);

        if (!o)
                return r;
        if ((r = pj_check_keys(c, o, keys)) < 0 ||
            (r = pj_opt_enum(c, o, "size", profile_hugepage_size_name, &size)) < 0 ||
            (got_path = pj_opt_path(c, o, "path", path)) < 0 ||
            (r = pj_opt_bool(c, o, "reserve", &h->reserve)) < 0 ||
            (r = pj_opt_bool(c, o, "prealloc", &h->prealloc)) < 0)
                return r < 0 ? r : -EINVAL;
        if (got_path) {
                /* The run's journal records the VM's folder in this mount in a
                 * fixed-size field: a mount point is short anyway. */
                if (strlen(path) >= sizeof(h->path)) {
                        char q[QUOTE_MAX + 8];

                        json_quote(q, sizeof(q), path, strlen(path), QUOTE_MAX);
                        (void) pj_enter_key(c, "path");
                        return pj_fail(c, "%s is too long for a hugetlbfs mount (%zu bytes once resolved, at "
                                       "most %zu)",
                                    q, strlen(path), sizeof(h->path) - 1);
                }
                memcpy(h->path, path, strlen(path) + 1);
        }
        h->size = (enum hugepage_size) size;
        h->enabled = true;
        pj_leave(c, m);
        return 0;
}

int profile_json_parse_firmware(struct ctx *c, json_t *root, struct profile_firmware *fw)
{
        static const char *const keys[] = { "type", "secure_boot", "code", "vars_template", "vars",
                                            NULL };
        size_t m;
        int r, t = FIRMWARE_UEFI;
        json_t *o = pj_enter_typed(c, root, "firmware", JSON_OBJECT, &m, &r);

        if (!o)
                return r;
        if ((r = pj_check_keys(c, o, keys)) < 0 || (r = pj_opt_enum(c, o, "type", profile_firmware_name, &t)) < 0 ||
            (r = pj_opt_bool(c, o, "secure_boot", &fw->secure_boot)) < 0 ||
            (r = pj_opt_path(c, o, "code", fw->code)) < 0 ||
            (r = pj_opt_path(c, o, "vars_template", fw->vars_template)) < 0 ||
            (r = pj_opt_path(c, o, "vars", fw->vars)) < 0)
                return r;
        fw->type = (enum firmware_type) t;
        pj_leave(c, m);
        return 0;
}

int profile_json_parse_boot(struct ctx *c, json_t *root, struct profile_boot *b)
{
        static const char *const keys[] = { "kernel", "initrd", "cmdline", NULL };
        size_t m;
        int r;
        json_t *o = pj_enter_typed(c, root, "boot", JSON_OBJECT, &m, &r);

        if (!o)
                return r;
        if ((r = pj_check_keys(c, o, keys)) < 0 || (r = pj_require(c, o, "kernel")) < 0 ||
            (r = pj_opt_path(c, o, "kernel", b->kernel)) < 0 ||
            (r = pj_opt_path(c, o, "initrd", b->initrd)) < 0 ||
            (r = pj_opt_string(c, o, "cmdline", b->cmdline, sizeof(b->cmdline))) < 0)
                return r;
        pj_leave(c, m);
        return 0;
}

/* "features": {"topoext": true, "hypervisor": false}: CPUID flags on top of
 * the model. Whether QEMU knows each name is the builder's check (it has
 * the probed list); here, the spelling QEMU's option parser takes. */
static int parse_features(struct ctx *c, json_t *cpu, struct profile_cpu *ret)
{
        const char *key;
        size_t m, k;
        json_t *o, *v;
        int r;

        o = pj_enter_typed(c, cpu, "features", JSON_OBJECT, &m, &r);
        if (!o)
                return r;
        json_object_foreach(o, key, v) {
                struct profile_cpu_feature *f;
                size_t n = strlen(key);
                bool ok = n > 0 && n < PROFILE_CPU_FEATURE_MAX;

                k = pj_enter_key(c, key);
                for (const char *p = key; *p && ok; p++)
                        ok = (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-' || *p == '_' ||
                             *p == '.';
                if (!ok)
                        return pj_fail(c, "\"%.*s\" is not a CPU feature name (lower-case letters, digits, - _ ., at "
                                          "most %d characters)",
                                       QUOTE_MAX, key, PROFILE_CPU_FEATURE_MAX - 1);
                if (!json_is_boolean(v))
                        return pj_type_error(c, v, "true or false");
                if (ret->n_features >= PROFILE_CPU_FEATURES_MAX)
                        return pj_fail(c, "more than %d CPU features", PROFILE_CPU_FEATURES_MAX);
                f = &ret->features[ret->n_features++];
                memcpy(f->name, key, n + 1);
                f->on = json_is_true(v);
                pj_leave(c, k);
        }
        pj_leave(c, m);
        return 0;
}

/* The on/off enlightenments, by key (the field of the same name). */
static const struct {
        const char *key;
        size_t offset;
} hyperv_flags[] = {
#define HV(name) { #name, offsetof(struct profile_hyperv, name) }
        HV(relaxed),         HV(vapic),        HV(vpindex),     HV(runtime),      HV(time),
        HV(synic),           HV(stimer),       HV(reset),       HV(frequencies),  HV(tlbflush),
        HV(ipi),             HV(reenlightenment), HV(stimer_direct), HV(avic),    HV(evmcs),
        HV(xmm_input),       HV(tlbflush_ext), HV(tlbflush_direct), HV(emsr_bitmap), HV(passthrough),
#undef HV
};

static int parse_hyperv(struct ctx *c, json_t *cpu, struct profile_hyperv *hv)
{
        const char *keys[ELEMENTSOF(hyperv_flags) + 3];
        size_t m, k, n = 0;
        int r;
        json_t *o = pj_enter_typed(c, cpu, "hyperv", JSON_OBJECT, &m, &r), *v;

        if (!o)
                return r;
        /* Listed in messages in this order: the first two flags, the two
         * valued keys, the other flags. */
        for (size_t i = 0; i < ELEMENTSOF(hyperv_flags); i++) {
                if (i == 2) {
                        keys[n++] = "spinlocks";
                        keys[n++] = "vendor_id";
                }
                keys[n++] = hyperv_flags[i].key;
        }
        keys[n] = NULL;
        if ((r = pj_check_keys(c, o, keys)) < 0)
                return r;
        for (size_t i = 0; i < ELEMENTSOF(hyperv_flags); i++)
                if ((r = pj_opt_bool(c, o, hyperv_flags[i].key, (bool *) ((char *) hv + hyperv_flags[i].offset))) < 0)
                        return r;

        if ((v = json_object_get(o, "spinlocks"))) {
                uint64_t u;

                k = pj_enter_key(c, "spinlocks");
                if (json_is_false(v))
                        hv->spinlocks = 0;
                else if (!json_is_integer(v))
                        return pj_type_error(c, v, "an integer (retries) or false");
                else if ((r = pj_check_uint(c, v, 4095, UINT32_MAX, &u)) < 0)
                        return r;
                else
                        hv->spinlocks = (uint32_t) u;
                pj_leave(c, k);
        }
        if ((v = json_object_get(o, "vendor_id"))) {
                char q[QUOTE_MAX + 8];

                k = pj_enter_key(c, "vendor_id");
                /* Hyper-V's vendor id is three 32-bit registers: 12 bytes. */
                if (json_is_string(v) && json_string_length(v) > PROFILE_VENDOR_ID_MAX) {
                        pj_quote_value(v, q, sizeof(q));
                        return pj_fail(c, "%s is %zu characters, a Hyper-V vendor id has at most %d", q,
                                    json_string_length(v), PROFILE_VENDOR_ID_MAX);
                }
                if ((r = pj_check_string(c, v, hv->vendor_id, sizeof(hv->vendor_id))) < 0)
                        return r;
                pj_leave(c, k);
        }
        pj_leave(c, m);
        return 0;
}

int pj_check_cpuset(struct ctx *c, const json_t *v, struct cpuset *set)
{
        char q[QUOTE_MAX + 8];
        int r;

        if (!json_is_string(v))
                return pj_type_error(c, v, "a string with a host CPU list (\"2-3,6\")");
        r = cpuset_parse(json_string_value(v), set);
        pj_quote_value(v, q, sizeof(q));
        if (r == -ERANGE)
                return pj_fail(c, "%s names a CPU beyond %u", q, CPUSET_MAX - 1);
        if (r < 0 || strlen(json_string_value(v)) != json_string_length(v))
                return pj_fail(c, "%s is not a host CPU list (expected e.g. \"2\", \"2-3\" or \"2,6\")", q);
        return 0;
}

/* "pin": ["2", "3", ...], one host CPU list per vCPU (counted against the
 * topology by profile_validate()); "emulator_pin": "0-1". */
static int parse_pin(struct ctx *c, json_t *o, struct profile_cpu *cpu)
{
        json_t *a, *v;
        size_t m, k, i;
        int r;

        if ((v = json_object_get(o, "emulator_pin"))) {
                m = pj_enter_key(c, "emulator_pin");
                if ((r = pj_check_cpuset(c, v, &cpu->emulator_pin)) < 0)
                        return r;
                cpu->emulator_pinned = true;
                pj_leave(c, m);
        }
        a = pj_enter_typed(c, o, "pin", JSON_ARRAY, &m, &r);
        if (!a)
                return r;
        json_array_foreach (a, i, v) {
                k = pj_enter_index(c, i);
                if (i >= PROFILE_VCPUS_MAX)
                        return pj_fail(c, "too many entries (at most %u, one per vCPU)", PROFILE_VCPUS_MAX);
                if ((r = pj_check_cpuset(c, v, &cpu->pin[i])) < 0)
                        return r;
                pj_leave(c, k);
        }
        if (json_array_size(a) == 0)
                return pj_fail(c, "is empty (expected one host CPU list per vCPU)");
        cpu->pinned = true;
        cpu->n_pin = (unsigned) json_array_size(a);
        pj_leave(c, m);
        return 0;
}

int profile_json_parse_cpu(struct ctx *c, json_t *root, struct profile_cpu *cpu)
{
        static const char *const keys[] = { "model",      "sockets",    "cores",  "threads", "vcpus",
                                            "kvm_hidden", "migratable", "hyperv", "pin",
                                            "emulator_pin", "rt_priority", "cache", "features", NULL };
        unsigned s = 1, co = 1, t = 1, v = 0;
        int gs = 0, gc = 0, gt = 0, gv = 0, gm = 0, cache = CPU_CACHE_DEFAULT, r;
        bool migratable = false;
        size_t m;
        json_t *o = pj_enter_typed(c, root, "cpu", JSON_OBJECT, &m, &r);

        if (!o)
                return r;
        if ((r = pj_check_keys(c, o, keys)) < 0 ||
            (r = pj_opt_string(c, o, "model", cpu->model, sizeof(cpu->model))) < 0 ||
            (gs = pj_opt_unsigned(c, o, "sockets", 1, PROFILE_VCPUS_MAX, &s)) < 0 ||
            (gc = pj_opt_unsigned(c, o, "cores", 1, PROFILE_VCPUS_MAX, &co)) < 0 ||
            (gt = pj_opt_unsigned(c, o, "threads", 1, PROFILE_VCPUS_MAX, &t)) < 0 ||
            (gv = pj_opt_unsigned(c, o, "vcpus", 1, PROFILE_VCPUS_MAX, &v)) < 0 ||
            (r = pj_opt_bool(c, o, "kvm_hidden", &cpu->kvm_hidden)) < 0 ||
            (gm = pj_opt_bool(c, o, "migratable", &migratable)) < 0 ||
            (r = pj_opt_enum(c, o, "cache", profile_cpu_cache_name, &cache)) < 0 ||
            (r = parse_features(c, o, cpu)) < 0 ||
            (r = parse_hyperv(c, o, &cpu->hyperv)) < 0 ||
            (r = parse_pin(c, o, cpu)) < 0 ||
            (r = pj_opt_unsigned(c, o, "rt_priority", 1, 99, &cpu->rt_priority)) < 0)
                return r < 0 ? r : gm < 0 ? gm : -EINVAL;
        if (gm)
                cpu->migratable = migratable ? SWITCH_ON : SWITCH_OFF;
        cpu->cache = (enum cpu_cache) cache;

        /* A topology given in part defaults the rest to 1; vcpus alone means
         * that many cores. If both are given, profile_validate() checks that
         * they agree (at $.cpu.vcpus). */
        if (gs || gc || gt) {
                cpu->sockets = s;
                cpu->cores = co;
                cpu->threads = t;
                cpu->vcpus = gv ? v : s * co * t;
        } else if (gv) {
                cpu->sockets = 1;
                cpu->cores = v;
                cpu->threads = 1;
                cpu->vcpus = v;
        }
        pj_leave(c, m);
        return 0;
}
