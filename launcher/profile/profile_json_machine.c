/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The profile's machine: memory, hugepages, firmware, direct kernel boot and
 * the CPU (topology, Hyper-V enlightenments, pinning). Part of the strict
 * loader: profile_json.c calls each of these for its key of the top-level
 * object; the shared readers are in profile_json_read.c (declared in
 * profile_json_internal.h).
 */
#include <errno.h>
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

static int parse_hyperv(struct ctx *c, json_t *cpu, struct profile_hyperv *hv)
{
        static const char *const keys[] = { "relaxed", "vapic",  "spinlocks",   "vendor_id",
                                            "vpindex", "runtime", "time",       "synic",
                                            "stimer",  "reset",  "frequencies", "tlbflush",
                                            "ipi",     NULL };
        size_t m, k;
        int r;
        json_t *o = pj_enter_typed(c, cpu, "hyperv", JSON_OBJECT, &m, &r), *v;

        if (!o)
                return r;
        if ((r = pj_check_keys(c, o, keys)) < 0 || (r = pj_opt_bool(c, o, "relaxed", &hv->relaxed)) < 0 ||
            (r = pj_opt_bool(c, o, "vapic", &hv->vapic)) < 0 ||
            (r = pj_opt_bool(c, o, "vpindex", &hv->vpindex)) < 0 ||
            (r = pj_opt_bool(c, o, "runtime", &hv->runtime)) < 0 ||
            (r = pj_opt_bool(c, o, "time", &hv->time)) < 0 ||
            (r = pj_opt_bool(c, o, "synic", &hv->synic)) < 0 ||
            (r = pj_opt_bool(c, o, "stimer", &hv->stimer)) < 0 ||
            (r = pj_opt_bool(c, o, "reset", &hv->reset)) < 0 ||
            (r = pj_opt_bool(c, o, "frequencies", &hv->frequencies)) < 0 ||
            (r = pj_opt_bool(c, o, "tlbflush", &hv->tlbflush)) < 0 ||
            (r = pj_opt_bool(c, o, "ipi", &hv->ipi)) < 0)
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

/* A host CPU list string ("2-3,6") into set; the caller has entered v. */
static int check_cpuset(struct ctx *c, const json_t *v, struct cpuset *set)
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
                if ((r = check_cpuset(c, v, &cpu->emulator_pin)) < 0)
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
                if ((r = check_cpuset(c, v, &cpu->pin[i])) < 0)
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
                                            "emulator_pin", "rt_priority", NULL };
        unsigned s = 1, co = 1, t = 1, v = 0;
        int gs = 0, gc = 0, gt = 0, gv = 0, r;
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
            (r = pj_opt_bool(c, o, "migratable", &cpu->migratable)) < 0 ||
            (r = parse_hyperv(c, o, &cpu->hyperv)) < 0 ||
            (r = parse_pin(c, o, cpu)) < 0 ||
            (r = pj_opt_unsigned(c, o, "rt_priority", 1, 99, &cpu->rt_priority)) < 0)
                return r < 0 ? r : -EINVAL;

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
