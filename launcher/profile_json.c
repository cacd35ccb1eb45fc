/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * JSON -> struct profile: the strict loader (format: profiles/README.md).
 *
 * Order of checks, so the first error reported is the most fundamental one:
 * size, syntax (jansson, duplicate keys rejected), top-level type, nesting
 * depth, then each object's keys (unknown keys first, in document order),
 * then each value (type, range, format), then profile_validate() for the
 * cross-field rules. Every error gets the file as the caller named it, the
 * JSON path and the line:column of the value (or of the key, for unknown
 * keys) found by rescanning the text (json_pos.c): jansson keeps no positions
 * once parsing succeeded.
 *
 * Nothing is truncated: a string longer than its buffer is an error. Nothing
 * touches the host: relative paths are joined to the profile's folder
 * lexically, without looking at the file system.
 */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdarg.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "json_pos.h"
#include "profile_json.h"

#define QUOTE_MAX 64 /* bytes of a value shown in a message */

struct ctx {
        const char *file; /* as the caller gave it, for messages */
        const char *text;
        size_t len;
        const char *base_dir; /* absolute */
        struct vl_error *e;
        char path[JSON_PATH_MAX]; /* of the value being read */
};

/* ---- errors ---------------------------------------------------------------- */

static _printf_(3, 0) int fail_v(struct ctx *c, bool at_key, const char *fmt, va_list ap)
{
        struct json_pos pos;
        char msg[sizeof(c->e->msg)];

        (void) vsnprintf(msg, sizeof(msg), fmt, ap);
        (void) json_pos_find_nearest(c->text, c->len, c->path, at_key, &pos);
        return vl_error_set_at(c->e, EINVAL, c->file, pos.line, pos.column, c->path, "%s", msg);
}

static _printf_(2, 3) int fail(struct ctx *c, const char *fmt, ...)
{
        va_list ap;
        int r;

        va_start(ap, fmt);
        r = fail_v(c, false, fmt, ap);
        va_end(ap);
        return r;
}

static _printf_(2, 3) int fail_key(struct ctx *c, const char *fmt, ...)
{
        va_list ap;
        int r;

        va_start(ap, fmt);
        r = fail_v(c, true, fmt, ap);
        va_end(ap);
        return r;
}

static size_t enter_key(struct ctx *c, const char *key)
{
        size_t n = strlen(c->path);

        (void) json_path_append_key(c->path, sizeof(c->path), key, strlen(key));
        return n;
}

static size_t enter_index(struct ctx *c, size_t i)
{
        size_t n = strlen(c->path);

        (void) json_path_append_index(c->path, sizeof(c->path), i);
        return n;
}

static void leave(struct ctx *c, size_t n)
{
        c->path[n] = '\0';
}

/* "a string (\"4\")", "an integer (4)", ... for "expected X, got Y". */
static void describe(const json_t *v, char *buf, size_t size)
{
        char q[QUOTE_MAX + 8];

        switch (json_typeof(v)) {
        case JSON_OBJECT: (void) snprintf(buf, size, "an object"); break;
        case JSON_ARRAY: (void) snprintf(buf, size, "an array"); break;
        case JSON_STRING:
                json_quote(q, sizeof(q), json_string_value(v), json_string_length(v), QUOTE_MAX);
                (void) snprintf(buf, size, "a string (%s)", q);
                break;
        case JSON_INTEGER:
                (void) snprintf(buf, size, "an integer (%" JSON_INTEGER_FORMAT ")",
                                json_integer_value(v));
                break;
        case JSON_REAL:
                /* "4.0" must not read as "4": say it is a real number. */
                (void) snprintf(q, sizeof(q), "%g", json_real_value(v));
                (void) snprintf(buf, size, "a real number (%s%s)", q,
                                strpbrk(q, ".einf") ? "" : ".0");
                break;
        case JSON_TRUE: (void) snprintf(buf, size, "a boolean (true)"); break;
        case JSON_FALSE: (void) snprintf(buf, size, "a boolean (false)"); break;
        case JSON_NULL: (void) snprintf(buf, size, "null"); break;
        }
}

static int type_error(struct ctx *c, const json_t *v, const char *expected)
{
        char got[QUOTE_MAX + 32];

        describe(v, got, sizeof(got));
        return fail(c, "expected %s, got %s", expected, got);
}

static void quote_value(const json_t *v, char *buf, size_t size)
{
        json_quote(buf, size, json_string_value(v), json_string_length(v), QUOTE_MAX);
}

/* ---- typed values (the path of v is in c->path) ----------------------------- */

static int check_uint(struct ctx *c, const json_t *v, uint64_t min, uint64_t max, uint64_t *ret)
{
        json_int_t i;

        if (!json_is_integer(v))
                return type_error(c, v, "an integer");
        i = json_integer_value(v);
        if (i < 0 || (uint64_t) i < min || (uint64_t) i > max)
                return fail(c, "%" JSON_INTEGER_FORMAT " is out of range (expected %llu..%llu)", i,
                            (unsigned long long) min, (unsigned long long) max);
        *ret = (uint64_t) i;
        return 0;
}

/* A non-empty string without control characters that fits buf (with NUL). */
static int check_string(struct ctx *c, const json_t *v, char *buf, size_t size)
{
        char q[QUOTE_MAX + 8];
        const char *s;
        size_t n;

        if (!json_is_string(v))
                return type_error(c, v, "a string");
        s = json_string_value(v);
        n = json_string_length(v);
        quote_value(v, q, sizeof(q));
        if (n == 0)
                return fail(c, "must not be empty");
        if (n >= size)
                return fail(c, "%s is too long (%zu bytes, at most %zu)", q, n, size - 1);
        for (size_t i = 0; i < n; i++)
                if ((unsigned char) s[i] < 0x20 || s[i] == 0x7f)
                        return fail(c, "%s contains a control character", q);
        memcpy(buf, s, n + 1);
        return 0;
}

/* Enums are spelt by name_of(value): NULL ends the list, "" is not spellable
 * (the default that is chosen by leaving the key out). */
typedef const char *(*enum_name_fn)(unsigned value);

static int check_enum(struct ctx *c, const json_t *v, enum_name_fn name_of, int *ret)
{
        char list[256] = "", q[QUOTE_MAX + 8];
        const char *s;

        if (!json_is_string(v))
                return type_error(c, v, "a string");
        s = json_string_value(v);
        for (unsigned i = 0; name_of(i); i++) {
                const char *n = name_of(i);
                if (!n[0])
                        continue;
                if (strcmp(s, n) == 0) {
                        *ret = (int) i;
                        return 0;
                }
                if (list[0])
                        (void) strncat(list, ", ", sizeof(list) - strlen(list) - 1);
                (void) strncat(list, n, sizeof(list) - strlen(list) - 1);
        }
        quote_value(v, q, sizeof(q));
        return fail(c, "%s is not a valid value (expected one of: %s)", q, list);
}

/* Join base and rel, dropping "." components and repeated slashes. ".." is
 * kept: resolving it lexically is wrong across symlinks, and the loader must
 * not look at the file system. */
static int join_path(const char *base, const char *rel, char *buf, size_t size)
{
        char tmp[2 * PROFILE_PATH_MAX + 2];
        size_t o = 0;
        int r;

        if (rel[0] == '/')
                r = xsnprintf(tmp, sizeof(tmp), "%s", rel);
        else
                r = xsnprintf(tmp, sizeof(tmp), "%s/%s", base, rel);
        if (r < 0)
                return r;
        for (const char *s = tmp; *s;) {
                size_t n = strcspn(s, "/");
                if (n == 0 || (n == 1 && s[0] == '.')) {
                        s += n + (s[n] == '/');
                        continue;
                }
                if (o + 1 + n >= size)
                        return -ENAMETOOLONG;
                buf[o++] = '/';
                memcpy(buf + o, s, n);
                o += n;
                s += n + (s[n] == '/');
        }
        if (o == 0)
                buf[o++] = '/';
        buf[o] = '\0';
        return 0;
}

static int check_path(struct ctx *c, const json_t *v, char buf[static PROFILE_PATH_MAX])
{
        char raw[PROFILE_PATH_MAX], q[QUOTE_MAX + 8];
        int r;

        if ((r = check_string(c, v, raw, sizeof(raw))) < 0)
                return r;
        if (join_path(c->base_dir, raw, buf, PROFILE_PATH_MAX) < 0) {
                quote_value(v, q, sizeof(q));
                return fail(c, "%s is too long once resolved against the profile's folder (at most %u bytes)",
                            q, PROFILE_PATH_MAX - 1);
        }
        return 0;
}

static int check_pci(struct ctx *c, const json_t *v, struct pci_addr *ret)
{
        char q[QUOTE_MAX + 8];

        if (!json_is_string(v))
                return type_error(c, v, "a string");
        if (pci_addr_parse(json_string_value(v), ret) < 0) {
                quote_value(v, q, sizeof(q));
                return fail(c, "%s is not a PCI address (expected DDDD:BB:SS.F or BB:SS.F)", q);
        }
        return 0;
}

/* ---- objects ------------------------------------------------------------------- */

static int check_keys(struct ctx *c, json_t *obj, const char *const *allowed)
{
        const char *key;
        json_t *v;

        json_object_foreach (obj, key, v) {
                char list[512] = "", q[QUOTE_MAX + 8];
                bool ok = false;

                for (const char *const *a = allowed; *a; a++)
                        if (strcmp(key, *a) == 0)
                                ok = true;
                if (ok)
                        continue;
                for (const char *const *a = allowed; *a; a++) {
                        if (list[0])
                                (void) strncat(list, ", ", sizeof(list) - strlen(list) - 1);
                        (void) strncat(list, *a, sizeof(list) - strlen(list) - 1);
                }
                json_quote(q, sizeof(q), key, strlen(key), QUOTE_MAX);
                (void) enter_key(c, key);
                return fail_key(c, "unknown key %s (allowed: %s)", q, list);
        }
        return 0;
}

static int require(struct ctx *c, json_t *obj, const char *key)
{
        if (json_object_get(obj, key))
                return 0;
        return fail(c, "missing required key \"%s\"", key);
}

/* obj[key] as an object (or array): NULL when absent, else *r < 0 on a type
 * error. On success the key has been entered; leave() it with *saved. */
static json_t *enter_typed(struct ctx *c, json_t *obj, const char *key, json_type type,
                           size_t *saved, int *r)
{
        json_t *v = json_object_get(obj, key);

        *r = 0;
        if (!v)
                return NULL;
        *saved = enter_key(c, key);
        if (json_typeof(v) != type) {
                *r = type_error(c, v, type == JSON_OBJECT ? "an object" : "an array");
                return NULL;
        }
        return v;
}

/* The opt_* helpers read obj[key] if present: 1 = read, 0 = absent, <0 error. */

static int opt_bool(struct ctx *c, json_t *obj, const char *key, bool *ret)
{
        json_t *v = json_object_get(obj, key);
        size_t m;

        if (!v)
                return 0;
        m = enter_key(c, key);
        if (!json_is_boolean(v))
                return type_error(c, v, "a boolean");
        *ret = json_is_true(v);
        leave(c, m);
        return 1;
}

static int opt_uint(struct ctx *c, json_t *obj, const char *key, uint64_t min, uint64_t max,
                    uint64_t *ret)
{
        json_t *v = json_object_get(obj, key);
        size_t m;
        int r;

        if (!v)
                return 0;
        m = enter_key(c, key);
        if ((r = check_uint(c, v, min, max, ret)) < 0)
                return r;
        leave(c, m);
        return 1;
}

static int opt_unsigned(struct ctx *c, json_t *obj, const char *key, unsigned min, unsigned max,
                        unsigned *ret)
{
        uint64_t u;
        int r = opt_uint(c, obj, key, min, max, &u);

        if (r > 0)
                *ret = (unsigned) u;
        return r;
}

static int opt_u32(struct ctx *c, json_t *obj, const char *key, uint32_t min, uint32_t max,
                   uint32_t *ret)
{
        uint64_t u;
        int r = opt_uint(c, obj, key, min, max, &u);

        if (r > 0)
                *ret = (uint32_t) u;
        return r;
}

static int opt_string(struct ctx *c, json_t *obj, const char *key, char *buf, size_t size)
{
        json_t *v = json_object_get(obj, key);
        size_t m;
        int r;

        if (!v)
                return 0;
        m = enter_key(c, key);
        if ((r = check_string(c, v, buf, size)) < 0)
                return r;
        leave(c, m);
        return 1;
}

static int opt_path(struct ctx *c, json_t *obj, const char *key, char buf[static PROFILE_PATH_MAX])
{
        json_t *v = json_object_get(obj, key);
        size_t m;
        int r;

        if (!v)
                return 0;
        m = enter_key(c, key);
        if ((r = check_path(c, v, buf)) < 0)
                return r;
        leave(c, m);
        return 1;
}

static int opt_enum(struct ctx *c, json_t *obj, const char *key, enum_name_fn name_of, int *ret)
{
        json_t *v = json_object_get(obj, key);
        size_t m;
        int r;

        if (!v)
                return 0;
        m = enter_key(c, key);
        if ((r = check_enum(c, v, name_of, ret)) < 0)
                return r;
        leave(c, m);
        return 1;
}

/* ---- enum spellings ------------------------------------------------------------------ */

#define NAME_TABLE(fn, ...)                                                                  \
        static const char *fn(unsigned i)                                                    \
        {                                                                                    \
                static const char *const names[] = { __VA_ARGS__ };                          \
                return i < ELEMENTSOF(names) ? names[i] : NULL;                              \
        }

NAME_TABLE(firmware_name, [FIRMWARE_UEFI] = "uefi", [FIRMWARE_BIOS] = "bios")
NAME_TABLE(accel_name, [ACCEL_KVM] = "kvm", [ACCEL_TCG] = "tcg")
NAME_TABLE(pci_hotplug_name, [PCI_HOTPLUG_NATIVE] = "native", [PCI_HOTPLUG_ACPI] = "acpi")
NAME_TABLE(disk_format_name, [DISK_QCOW2] = "qcow2", [DISK_RAW] = "raw")
NAME_TABLE(disk_bus_name, [DISK_BUS_SATA] = "sata", [DISK_BUS_VIRTIO] = "virtio",
           [DISK_BUS_NVME] = "nvme")
NAME_TABLE(disk_cache_name, [DISK_CACHE_DEFAULT] = "", [DISK_CACHE_NONE] = "none",
           [DISK_CACHE_WRITEBACK] = "writeback", [DISK_CACHE_UNSAFE] = "unsafe")
NAME_TABLE(nic_backend_name, [NIC_USER] = "user", [NIC_MACVTAP] = "macvtap", [NIC_TAP] = "tap")
NAME_TABLE(sound_model_name, [SOUND_NONE] = "none", [SOUND_AC97] = "ac97", [SOUND_ICH9] = "ich9",
           [SOUND_ICH6] = "ich6")
NAME_TABLE(display_type_name, [DISPLAY_NONE] = "none", [DISPLAY_SPICE] = "spice")
NAME_TABLE(compression_name, [SPICE_COMPRESSION_DEFAULT] = "", [SPICE_COMPRESSION_OFF] = "off",
           [SPICE_COMPRESSION_AUTO_GLZ] = "auto_glz", [SPICE_COMPRESSION_AUTO_LZ] = "auto_lz",
           [SPICE_COMPRESSION_QUIC] = "quic", [SPICE_COMPRESSION_GLZ] = "glz",
           [SPICE_COMPRESSION_LZ] = "lz")
NAME_TABLE(video_name, "none", "qxl", "virtio", "std")
NAME_TABLE(hugepage_size_name, [HUGEPAGE_2M] = "2M", [HUGEPAGE_1G] = "1G")

static const char *backend_name(unsigned i)
{
        return sound_backend_to_string((enum sound_backend) i);
}

static const char *macvtap_name(unsigned i)
{
        return macvtap_mode_to_string((enum macvtap_mode) i);
}

/* ---- sections ----------------------------------------------------------------------- */

static int parse_memory(struct ctx *c, json_t *root, struct profile *p)
{
        json_t *v = json_object_get(root, "memory");
        char q[QUOTE_MAX + 8];
        uint64_t mib;
        size_t m;
        int r;

        if (!v)
                return 0;
        m = enter_key(c, "memory");
        if (json_is_integer(v)) {
                json_int_t i = json_integer_value(v);
                (void) snprintf(q, sizeof(q), "%" JSON_INTEGER_FORMAT " MiB", i);
                mib = i < 0 ? 0 : (uint64_t) i;
        } else if (json_is_string(v)) {
                quote_value(v, q, sizeof(q));
                r = profile_parse_memory_mib(json_string_value(v), &mib);
                if (r == -EDOM)
                        return fail(c, "%s is not a whole number of MiB", q);
                if (r == -ERANGE)
                        mib = UINT64_MAX;
                else if (r < 0)
                        return fail(c, "%s is not a memory size (expected a number of MiB, or a "
                                       "number with K, M, G or T)",
                                    q);
        } else
                return type_error(c, v, "a string or an integer (MiB)");
        if (mib < PROFILE_MEMORY_MIN_MIB || mib > PROFILE_MEMORY_MAX_MIB)
                return fail(c, "%s is out of range (expected %u MiB..%u MiB, i.e. 16M..16T)", q,
                            PROFILE_MEMORY_MIN_MIB, PROFILE_MEMORY_MAX_MIB);
        p->memory_mib = mib;
        leave(c, m);
        return 0;
}

static int parse_hugepages(struct ctx *c, json_t *root, struct profile_hugepages *h)
{
        static const char *const keys[] = { "size", "path", "reserve", "prealloc", NULL };
        char path[PROFILE_PATH_MAX];
        size_t m;
        int r, size = HUGEPAGE_2M, got_path;
        json_t *o = enter_typed(c, root, "hugepages", JSON_OBJECT, &m, &r);

        if (!o)
                return r;
        if ((r = check_keys(c, o, keys)) < 0 ||
            (r = opt_enum(c, o, "size", hugepage_size_name, &size)) < 0 ||
            (got_path = opt_path(c, o, "path", path)) < 0 ||
            (r = opt_bool(c, o, "reserve", &h->reserve)) < 0 ||
            (r = opt_bool(c, o, "prealloc", &h->prealloc)) < 0)
                return r < 0 ? r : -EINVAL;
        if (got_path) {
                /* The run's journal records the VM's folder in this mount in a
                 * fixed-size field: a mount point is short anyway. */
                if (strlen(path) >= sizeof(h->path)) {
                        char q[QUOTE_MAX + 8];

                        json_quote(q, sizeof(q), path, strlen(path), QUOTE_MAX);
                        (void) enter_key(c, "path");
                        return fail(c, "%s is too long for a hugetlbfs mount (%zu bytes once resolved, at "
                                       "most %zu)",
                                    q, strlen(path), sizeof(h->path) - 1);
                }
                memcpy(h->path, path, strlen(path) + 1);
        }
        h->size = (enum hugepage_size) size;
        h->enabled = true;
        leave(c, m);
        return 0;
}

static int parse_firmware(struct ctx *c, json_t *root, struct profile_firmware *fw)
{
        static const char *const keys[] = { "type", "secure_boot", "code", "vars_template", "vars",
                                            NULL };
        size_t m;
        int r, t = FIRMWARE_UEFI;
        json_t *o = enter_typed(c, root, "firmware", JSON_OBJECT, &m, &r);

        if (!o)
                return r;
        if ((r = check_keys(c, o, keys)) < 0 || (r = opt_enum(c, o, "type", firmware_name, &t)) < 0 ||
            (r = opt_bool(c, o, "secure_boot", &fw->secure_boot)) < 0 ||
            (r = opt_path(c, o, "code", fw->code)) < 0 ||
            (r = opt_path(c, o, "vars_template", fw->vars_template)) < 0 ||
            (r = opt_path(c, o, "vars", fw->vars)) < 0)
                return r;
        fw->type = (enum firmware_type) t;
        leave(c, m);
        return 0;
}

static int parse_boot(struct ctx *c, json_t *root, struct profile_boot *b)
{
        static const char *const keys[] = { "kernel", "initrd", "cmdline", NULL };
        size_t m;
        int r;
        json_t *o = enter_typed(c, root, "boot", JSON_OBJECT, &m, &r);

        if (!o)
                return r;
        if ((r = check_keys(c, o, keys)) < 0 || (r = require(c, o, "kernel")) < 0 ||
            (r = opt_path(c, o, "kernel", b->kernel)) < 0 ||
            (r = opt_path(c, o, "initrd", b->initrd)) < 0 ||
            (r = opt_string(c, o, "cmdline", b->cmdline, sizeof(b->cmdline))) < 0)
                return r;
        leave(c, m);
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
        json_t *o = enter_typed(c, cpu, "hyperv", JSON_OBJECT, &m, &r), *v;

        if (!o)
                return r;
        if ((r = check_keys(c, o, keys)) < 0 || (r = opt_bool(c, o, "relaxed", &hv->relaxed)) < 0 ||
            (r = opt_bool(c, o, "vapic", &hv->vapic)) < 0 ||
            (r = opt_bool(c, o, "vpindex", &hv->vpindex)) < 0 ||
            (r = opt_bool(c, o, "runtime", &hv->runtime)) < 0 ||
            (r = opt_bool(c, o, "time", &hv->time)) < 0 ||
            (r = opt_bool(c, o, "synic", &hv->synic)) < 0 ||
            (r = opt_bool(c, o, "stimer", &hv->stimer)) < 0 ||
            (r = opt_bool(c, o, "reset", &hv->reset)) < 0 ||
            (r = opt_bool(c, o, "frequencies", &hv->frequencies)) < 0 ||
            (r = opt_bool(c, o, "tlbflush", &hv->tlbflush)) < 0 ||
            (r = opt_bool(c, o, "ipi", &hv->ipi)) < 0)
                return r;

        if ((v = json_object_get(o, "spinlocks"))) {
                uint64_t u;

                k = enter_key(c, "spinlocks");
                if (json_is_false(v))
                        hv->spinlocks = 0;
                else if (!json_is_integer(v))
                        return type_error(c, v, "an integer (retries) or false");
                else if ((r = check_uint(c, v, 4095, UINT32_MAX, &u)) < 0)
                        return r;
                else
                        hv->spinlocks = (uint32_t) u;
                leave(c, k);
        }
        if ((v = json_object_get(o, "vendor_id"))) {
                char q[QUOTE_MAX + 8];

                k = enter_key(c, "vendor_id");
                /* Hyper-V's vendor id is three 32-bit registers: 12 bytes. */
                if (json_is_string(v) && json_string_length(v) > PROFILE_VENDOR_ID_MAX) {
                        quote_value(v, q, sizeof(q));
                        return fail(c, "%s is %zu characters, a Hyper-V vendor id has at most %d", q,
                                    json_string_length(v), PROFILE_VENDOR_ID_MAX);
                }
                if ((r = check_string(c, v, hv->vendor_id, sizeof(hv->vendor_id))) < 0)
                        return r;
                leave(c, k);
        }
        leave(c, m);
        return 0;
}

/* A host CPU list string ("2-3,6") into set; the caller has entered v. */
static int check_cpuset(struct ctx *c, const json_t *v, struct cpuset *set)
{
        char q[QUOTE_MAX + 8];
        int r;

        if (!json_is_string(v))
                return type_error(c, v, "a string with a host CPU list (\"2-3,6\")");
        r = cpuset_parse(json_string_value(v), set);
        quote_value(v, q, sizeof(q));
        if (r == -ERANGE)
                return fail(c, "%s names a CPU beyond %u", q, CPUSET_MAX - 1);
        if (r < 0 || strlen(json_string_value(v)) != json_string_length(v))
                return fail(c, "%s is not a host CPU list (expected e.g. \"2\", \"2-3\" or \"2,6\")", q);
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
                m = enter_key(c, "emulator_pin");
                if ((r = check_cpuset(c, v, &cpu->emulator_pin)) < 0)
                        return r;
                cpu->emulator_pinned = true;
                leave(c, m);
        }
        a = enter_typed(c, o, "pin", JSON_ARRAY, &m, &r);
        if (!a)
                return r;
        json_array_foreach (a, i, v) {
                k = enter_index(c, i);
                if (i >= PROFILE_VCPUS_MAX)
                        return fail(c, "too many entries (at most %u, one per vCPU)", PROFILE_VCPUS_MAX);
                if ((r = check_cpuset(c, v, &cpu->pin[i])) < 0)
                        return r;
                leave(c, k);
        }
        if (json_array_size(a) == 0)
                return fail(c, "is empty (expected one host CPU list per vCPU)");
        cpu->pinned = true;
        cpu->n_pin = (unsigned) json_array_size(a);
        leave(c, m);
        return 0;
}

static int parse_cpu(struct ctx *c, json_t *root, struct profile_cpu *cpu)
{
        static const char *const keys[] = { "model",      "sockets",    "cores",  "threads", "vcpus",
                                            "kvm_hidden", "migratable", "hyperv", "pin",
                                            "emulator_pin", "rt_priority", NULL };
        unsigned s = 1, co = 1, t = 1, v = 0;
        int gs = 0, gc = 0, gt = 0, gv = 0, r;
        size_t m;
        json_t *o = enter_typed(c, root, "cpu", JSON_OBJECT, &m, &r);

        if (!o)
                return r;
        if ((r = check_keys(c, o, keys)) < 0 ||
            (r = opt_string(c, o, "model", cpu->model, sizeof(cpu->model))) < 0 ||
            (gs = opt_unsigned(c, o, "sockets", 1, PROFILE_VCPUS_MAX, &s)) < 0 ||
            (gc = opt_unsigned(c, o, "cores", 1, PROFILE_VCPUS_MAX, &co)) < 0 ||
            (gt = opt_unsigned(c, o, "threads", 1, PROFILE_VCPUS_MAX, &t)) < 0 ||
            (gv = opt_unsigned(c, o, "vcpus", 1, PROFILE_VCPUS_MAX, &v)) < 0 ||
            (r = opt_bool(c, o, "kvm_hidden", &cpu->kvm_hidden)) < 0 ||
            (r = opt_bool(c, o, "migratable", &cpu->migratable)) < 0 ||
            (r = parse_hyperv(c, o, &cpu->hyperv)) < 0 ||
            (r = parse_pin(c, o, cpu)) < 0 ||
            (r = opt_unsigned(c, o, "rt_priority", 1, 99, &cpu->rt_priority)) < 0)
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
        leave(c, m);
        return 0;
}

static int parse_guest(struct ctx *c, json_t *dev, struct profile_guest_addr *g)
{
        static const char *const keys[] = { "bus", "slot", "function", NULL };
        json_t *v = json_object_get(dev, "guest");
        size_t m;
        int r;

        g->automatic = true;
        if (!v)
                return 0;
        m = enter_key(c, "guest");
        if (json_is_string(v)) {
                char q[QUOTE_MAX + 8];

                if (strcmp(json_string_value(v), "same-slot") != 0) {
                        quote_value(v, q, sizeof(q));
                        return fail(c, "%s is not a valid value (expected \"same-slot\" or an "
                                       "object with bus, slot, function)",
                                    q);
                }
                g->automatic = false;
                g->same_slot = true;
        } else if (json_is_object(v)) {
                if ((r = check_keys(c, v, keys)) < 0 || (r = require(c, v, "bus")) < 0 ||
                    (r = opt_unsigned(c, v, "bus", 1, PROFILE_GUEST_BUS_MAX, &g->bus)) < 0 ||
                    (r = opt_unsigned(c, v, "slot", 0, 31, &g->slot)) < 0 ||
                    (r = opt_unsigned(c, v, "function", 0, 7, &g->function)) < 0)
                        return r;
                g->automatic = false;
        } else
                return type_error(c, v, "an object or \"same-slot\"");
        leave(c, m);
        return 0;
}

static int parse_ids(struct ctx *c, json_t *dev, struct profile_hostdev *h)
{
        json_t *v = json_object_get(dev, "vendor_device");
        char q[QUOTE_MAX + 8];
        unsigned vendor, device;
        const char *s;
        size_t m;
        int n = 0;

        if (!v)
                return 0;
        m = enter_key(c, "vendor_device");
        if (!json_is_string(v))
                return type_error(c, v, "a string");
        s = json_string_value(v);
        if (strlen(s) != 9 || strspn(s, "0123456789abcdefABCDEF") != 4 || s[4] != ':' ||
            strspn(s + 5, "0123456789abcdefABCDEF") != 4 ||
            sscanf(s, "%4x:%4x%n", &vendor, &device, &n) != 2 || n != 9) {
                quote_value(v, q, sizeof(q));
                return fail(c, "%s is not a vendor:device pair (expected 4 hex digits, ':', 4 hex "
                               "digits, as lspci -nn prints them)",
                            q);
        }
        h->ids_set = true;
        h->vendor = (uint16_t) vendor;
        h->device = (uint16_t) device;
        leave(c, m);
        return 0;
}

static int parse_hostdev(struct ctx *c, json_t *o, unsigned index, struct profile_hostdev *h)
{
        static const char *const keys[] = { "host",   "guest", "vendor_device", "rombar", "romfile",
                                            "multifunction", "x_vga", "id", NULL };
        bool rombar = false;
        size_t m;
        int r, got_rombar;

        if (!json_is_object(o))
                return type_error(c, o, "an object");
        if ((r = check_keys(c, o, keys)) < 0 || (r = require(c, o, "host")) < 0)
                return r;
        m = enter_key(c, "host");
        if ((r = check_pci(c, json_object_get(o, "host"), &h->host)) < 0)
                return r;
        leave(c, m);
        if ((r = parse_guest(c, o, &h->guest)) < 0 || (r = parse_ids(c, o, h)) < 0 ||
            (got_rombar = opt_bool(c, o, "rombar", &rombar)) < 0 ||
            (r = opt_path(c, o, "romfile", h->romfile)) < 0 ||
            (r = opt_bool(c, o, "multifunction", &h->multifunction)) < 0 ||
            (r = opt_bool(c, o, "x_vga", &h->x_vga)) < 0 ||
            (r = opt_string(c, o, "id", h->id, sizeof(h->id))) < 0)
                return r < 0 ? r : -EINVAL;
        h->rombar = got_rombar ? (rombar ? ROMBAR_ON : ROMBAR_OFF) : ROMBAR_DEFAULT;
        if (!h->id[0])
                (void) snprintf(h->id, sizeof(h->id), "hostdev%u", index);
        return 0;
}

/* root[key] as an array of at most max elements, each handed to fn. */
typedef int (*element_fn)(struct ctx *c, json_t *v, unsigned index, void *ud);

static int parse_array(struct ctx *c, json_t *root, const char *key, unsigned max,
                       const char *what, element_fn fn, void *ud, unsigned *ret_n)
{
        size_t m, k, i;
        int r;
        json_t *a = enter_typed(c, root, key, JSON_ARRAY, &m, &r), *v;

        if (!a)
                return r;
        json_array_foreach (a, i, v) {
                k = enter_index(c, i);
                if (i >= max)
                        return fail(c, "too many %s (at most %u)", what, max);
                if ((r = fn(c, v, (unsigned) i, ud)) < 0)
                        return r;
                leave(c, k);
        }
        *ret_n = (unsigned) json_array_size(a);
        leave(c, m);
        return 0;
}

static int hostdev_element(struct ctx *c, json_t *v, unsigned i, void *ud)
{
        return parse_hostdev(c, v, i, &((struct profile *) ud)->hostdevs[i]);
}

static int detach_element(struct ctx *c, json_t *v, unsigned i, void *ud)
{
        return check_pci(c, v, &((struct profile *) ud)->allow_detach[i]);
}

static int disk_element(struct ctx *c, json_t *o, unsigned i, void *ud)
{
        static const char *const keys[] = { "path",     "format", "bus", "cache",
                                            "readonly", "cdrom",  "id",  NULL };
        struct profile_disk *d = &((struct profile *) ud)->disks[i];
        int r, fmt = -1, bus = DISK_BUS_SATA, cache = DISK_CACHE_DEFAULT, got_ro;

        if (!json_is_object(o))
                return type_error(c, o, "an object");
        if ((r = check_keys(c, o, keys)) < 0 || (r = require(c, o, "path")) < 0 ||
            (r = opt_path(c, o, "path", d->path)) < 0 ||
            (r = opt_enum(c, o, "format", disk_format_name, &fmt)) < 0 ||
            (r = opt_enum(c, o, "bus", disk_bus_name, &bus)) < 0 ||
            (r = opt_enum(c, o, "cache", disk_cache_name, &cache)) < 0 ||
            (got_ro = opt_bool(c, o, "readonly", &d->readonly)) < 0 ||
            (r = opt_bool(c, o, "cdrom", &d->cdrom)) < 0 ||
            (r = opt_string(c, o, "id", d->id, sizeof(d->id))) < 0)
                return r < 0 ? r : -EINVAL;
        if (d->cdrom) {
                if (got_ro && !d->readonly) {
                        (void) enter_key(c, "readonly");
                        return fail(c, "a cdrom is always read-only");
                }
                d->readonly = true;
        }
        /* An ISO is raw; never let QEMU probe a format (a raw image could
         * pose as qcow2 with a backing file). */
        d->format = fmt >= 0 ? (enum disk_format) fmt : d->cdrom ? DISK_RAW : DISK_QCOW2;
        d->bus = (enum disk_bus) bus;
        d->cache = (enum disk_cache) cache;
        if (!d->id[0])
                (void) snprintf(d->id, sizeof(d->id), "disk%u", i);
        return 0;
}

static int check_mac(struct ctx *c, json_t *v, struct profile_nic *n)
{
        char q[QUOTE_MAX + 8];
        int r;

        if (!json_is_string(v))
                return type_error(c, v, "a string");
        quote_value(v, q, sizeof(q));
        r = profile_parse_mac(json_string_value(v), n->mac);
        if (r == -EADDRNOTAVAIL)
                return fail(c, "%s is a multicast or all-zero MAC address (a NIC needs a unicast "
                               "one: bit 0 of the first byte clear)",
                            q);
        if (r < 0)
                return fail(c, "%s is not a MAC address (expected six hex pairs like "
                               "52:54:00:12:34:56)",
                            q);
        n->mac_set = true;
        return 0;
}

static int nic_element(struct ctx *c, json_t *o, unsigned i, void *ud)
{
        static const char *const keys[] = { "model",  "mac",    "backend", "dev",
                                            "mode",   "bridge", "id",      NULL };
        struct profile *p = ud;
        struct profile_nic *n = &p->nics[i];
        int r, backend = NIC_USER, mode = MACVTAP_BRIDGE, got_mode;
        json_t *v;
        size_t m;

        if (!json_is_object(o))
                return type_error(c, o, "an object");
        if ((r = check_keys(c, o, keys)) < 0 ||
            (r = opt_string(c, o, "model", n->model, sizeof(n->model))) < 0 ||
            (r = opt_enum(c, o, "backend", nic_backend_name, &backend)) < 0 ||
            (r = opt_string(c, o, "dev", n->dev, sizeof(n->dev))) < 0 ||
            (got_mode = opt_enum(c, o, "mode", macvtap_name, &mode)) < 0 ||
            (r = opt_string(c, o, "bridge", n->bridge, sizeof(n->bridge))) < 0 ||
            (r = opt_string(c, o, "id", n->id, sizeof(n->id))) < 0)
                return r < 0 ? r : -EINVAL;
        if ((v = json_object_get(o, "mac"))) {
                m = enter_key(c, "mac");
                if ((r = check_mac(c, v, n)) < 0)
                        return r;
                leave(c, m);
        } else
                profile_derive_mac(p->name, i, n->mac); /* mac_set stays false: derived */
        if (got_mode && backend != NIC_MACVTAP) {
                (void) enter_key(c, "mode");
                return fail(c, "mode is only used with backend \"macvtap\"");
        }
        if (!n->model[0])
                strcpy(n->model, "e1000e");
        n->backend = (enum nic_backend) backend;
        n->mode = (enum macvtap_mode) mode;
        if (!n->id[0])
                (void) snprintf(n->id, sizeof(n->id), "net%u", i);
        return 0;
}

/* Which sound settings were given where, so the legacy "env" spelling and
 * the structured one cannot silently disagree. */
struct sound_seen {
        const char *backend, *timer, *freq, *buffer, *period, *alsa_dev, *samples, *server;
};

static int env_number(struct ctx *c, json_t *v, uint32_t min, uint32_t max, uint32_t *ret)
{
        char q[QUOTE_MAX + 8];
        uint64_t u = 0;
        int r;

        if (json_is_integer(v)) {
                if ((r = check_uint(c, v, min, max, &u)) < 0)
                        return r;
        } else if (json_is_string(v)) {
                const char *s = json_string_value(v);
                size_t n = strlen(s);

                quote_value(v, q, sizeof(q));
                if (n == 0 || n > 10 || strspn(s, "0123456789") != n)
                        return fail(c, "%s is not a decimal number", q);
                for (size_t k = 0; k < n; k++)
                        u = u * 10 + (uint64_t) (s[k] - '0');
                if (u < min || u > max)
                        return fail(c, "%s is out of range (expected %u..%u)", q, min, max);
        } else
                return type_error(c, v, "a string of digits or an integer");
        *ret = (uint32_t) u;
        return 0;
}

static int parse_sound_env(struct ctx *c, json_t *sound, struct profile_sound *s,
                           struct sound_seen *seen)
{
        static const char *const keys[] = {
                "QEMU_AUDIO_DRV",           "QEMU_AUDIO_TIMER_PERIOD",   "QEMU_AUDIO_DAC_FIXED_FREQ",
                "QEMU_ALSA_DAC_BUFFER_SIZE", "QEMU_ALSA_DAC_PERIOD_SIZE", "QEMU_ALSA_DAC_DEV",
                "QEMU_PA_SAMPLES",          "QEMU_PA_SERVER",            NULL
        };
        const char *key;
        json_t *v;
        size_t m;
        int r;
        json_t *o = enter_typed(c, sound, "env", JSON_OBJECT, &m, &r);

        if (!o)
                return r;
        if ((r = check_keys(c, o, keys)) < 0)
                return r;
        json_object_foreach (o, key, v) {
                size_t k = enter_key(c, key);

/* Each variable appears once (duplicate keys are rejected), but it may
 * repeat a structured key given above. */
#define SEEN(field)                                                                          \
        do {                                                                                 \
                if (seen->field)                                                             \
                        return fail(c, "also set by %s: give it once", seen->field);        \
        } while (0)
                if (strcmp(key, "QEMU_AUDIO_DRV") == 0) {
                        int b;
                        SEEN(backend);
                        if ((r = check_enum(c, v, backend_name, &b)) < 0)
                                return r;
                        s->backend = (enum sound_backend) b;
                } else if (strcmp(key, "QEMU_AUDIO_TIMER_PERIOD") == 0) {
                        SEEN(timer);
                        if ((r = env_number(c, v, 1, 1000000, &s->timer_period_hz)) < 0)
                                return r;
                } else if (strcmp(key, "QEMU_AUDIO_DAC_FIXED_FREQ") == 0) {
                        SEEN(freq);
                        if ((r = env_number(c, v, 8000, 192000, &s->frequency)) < 0)
                                return r;
                } else if (strcmp(key, "QEMU_ALSA_DAC_BUFFER_SIZE") == 0) {
                        SEEN(buffer);
                        if ((r = env_number(c, v, 1, 1u << 20, &s->alsa_dac_buffer_frames)) < 0)
                                return r;
                } else if (strcmp(key, "QEMU_ALSA_DAC_PERIOD_SIZE") == 0) {
                        SEEN(period);
                        if ((r = env_number(c, v, 1, 1u << 20, &s->alsa_dac_period_frames)) < 0)
                                return r;
                } else if (strcmp(key, "QEMU_ALSA_DAC_DEV") == 0) {
                        SEEN(alsa_dev);
                        if ((r = check_string(c, v, s->alsa_dev, sizeof(s->alsa_dev))) < 0)
                                return r;
                } else if (strcmp(key, "QEMU_PA_SAMPLES") == 0) {
                        SEEN(samples);
                        if ((r = env_number(c, v, 1, 1u << 20, &s->pa_samples)) < 0)
                                return r;
                } else {
                        SEEN(server);
                        if ((r = check_string(c, v, s->pa_server, sizeof(s->pa_server))) < 0)
                                return r;
                }
#undef SEEN
                leave(c, k);
        }
        leave(c, m);
        return 0;
}

static int parse_sound(struct ctx *c, json_t *root, struct profile_sound *s)
{
        static const char *const keys[] = { "model", "backend", "timer_period_hz", "frequency",
                                            "alsa",  "pa",      "env",             NULL };
        static const char *const alsa_keys[] = { "dac_buffer_frames", "dac_period_frames", "dev",
                                                 NULL };
        static const char *const pa_keys[] = { "samples", "server", NULL };
        struct sound_seen seen = {};
        int r, model = SOUND_NONE, backend = AUDIO_NONE;
        size_t m, k;
        json_t *o = enter_typed(c, root, "sound", JSON_OBJECT, &m, &r), *sub;

#define MARK(field, name, call)                                                              \
        do {                                                                                 \
                if ((r = (call)) < 0)                                                        \
                        return r;                                                            \
                if (r > 0)                                                                   \
                        seen.field = (name);                                                 \
        } while (0)
        if (!o)
                return r;
        if ((r = check_keys(c, o, keys)) < 0 || (r = require(c, o, "model")) < 0 ||
            (r = opt_enum(c, o, "model", sound_model_name, &model)) < 0)
                return r;
        MARK(backend, "$.sound.backend", opt_enum(c, o, "backend", backend_name, &backend));
        s->backend = (enum sound_backend) backend;
        MARK(timer, "$.sound.timer_period_hz",
             opt_u32(c, o, "timer_period_hz", 1, 1000000, &s->timer_period_hz));
        MARK(freq, "$.sound.frequency", opt_u32(c, o, "frequency", 8000, 192000, &s->frequency));

        if ((sub = enter_typed(c, o, "alsa", JSON_OBJECT, &k, &r))) {
                if ((r = check_keys(c, sub, alsa_keys)) < 0)
                        return r;
                MARK(buffer, "$.sound.alsa.dac_buffer_frames",
                     opt_u32(c, sub, "dac_buffer_frames", 1, 1u << 20, &s->alsa_dac_buffer_frames));
                MARK(period, "$.sound.alsa.dac_period_frames",
                     opt_u32(c, sub, "dac_period_frames", 1, 1u << 20, &s->alsa_dac_period_frames));
                MARK(alsa_dev, "$.sound.alsa.dev",
                     opt_string(c, sub, "dev", s->alsa_dev, sizeof(s->alsa_dev)));
                leave(c, k);
        } else if (r < 0)
                return r;
        if ((sub = enter_typed(c, o, "pa", JSON_OBJECT, &k, &r))) {
                if ((r = check_keys(c, sub, pa_keys)) < 0)
                        return r;
                MARK(samples, "$.sound.pa.samples",
                     opt_u32(c, sub, "samples", 1, 1u << 20, &s->pa_samples));
                /* A server is a socket path, "unix:PATH" or a host: not resolved
                 * against the profile's folder. */
                MARK(server, "$.sound.pa.server",
                     opt_string(c, sub, "server", s->pa_server, sizeof(s->pa_server)));
                leave(c, k);
        } else if (r < 0)
                return r;
#undef MARK
        if ((r = parse_sound_env(c, o, s, &seen)) < 0)
                return r;
        s->model = (enum sound_model) model;
        leave(c, m);
        return 0;
}

static int parse_display(struct ctx *c, json_t *root, struct profile_display *d)
{
        static const char *const keys[] = { "type", "port",          "listen", "image_compression",
                                            "gl",   "rendernode",    "password_file", "video",
                                            NULL };
        int r, type = DISPLAY_SPICE, comp = SPICE_COMPRESSION_DEFAULT, video = 0;
        const char *key;
        json_t *v;
        size_t m, k;
        json_t *o = enter_typed(c, root, "display", JSON_OBJECT, &m, &r);

        if (!o)
                return r;
        if ((r = check_keys(c, o, keys)) < 0 || (r = opt_enum(c, o, "type", display_type_name, &type)) < 0)
                return r;
        d->type = (enum display_type) type;
        if (d->type == DISPLAY_NONE) {
                json_object_foreach (o, key, v)
                        if (strcmp(key, "type") != 0) {
                                (void) enter_key(c, key);
                                return fail(c, "only used with type \"spice\"");
                        }
                leave(c, m);
                return 0;
        }
        if ((v = json_object_get(o, "port"))) {
                uint64_t port;

                k = enter_key(c, "port");
                if (json_is_string(v) && strcmp(json_string_value(v), "auto") == 0)
                        d->port = 0;
                else if (!json_is_integer(v))
                        return type_error(c, v, "\"auto\" or an integer");
                else if ((r = check_uint(c, v, 1, 65535, &port)) < 0)
                        return r;
                else
                        d->port = (unsigned) port;
                leave(c, k);
        }
        if ((r = opt_string(c, o, "listen", d->listen, sizeof(d->listen))) < 0 ||
            (r = opt_enum(c, o, "image_compression", compression_name, &comp)) < 0 ||
            (r = opt_bool(c, o, "gl", &d->gl)) < 0 ||
            (r = opt_path(c, o, "rendernode", d->rendernode)) < 0 ||
            (r = opt_path(c, o, "password_file", d->password_file)) < 0 ||
            (r = opt_enum(c, o, "video", video_name, &video)) < 0)
                return r;
        d->image_compression = (enum spice_compression) comp;
        strcpy(d->video, video == 0 ? "" : video_name((unsigned) video));
        leave(c, m);
        return 0;
}

static int parse_profile(struct ctx *c, json_t *root, struct profile *p)
{
        static const char *const keys[] = {
                "$schema",  "name",     "machine",      "accel",          "user",
                "allow_root",
                "memory",   "hugepages", "firmware", "boot",         "cpu",          "hostdevs",       "allow_detach",
                "allow_boot_vga", "allow_in_use", "disks", "nics",        "sound",
                "display",  "balloon",  "shutdown_timeout", "powerdown_repeat", "pci_hotplug",
                NULL
        };
        char schema[PROFILE_PATH_MAX];
        int accel = ACCEL_KVM, hotplug = PCI_HOTPLUG_NATIVE, r;

        if ((r = check_keys(c, root, keys)) < 0 || (r = require(c, root, "name")) < 0 ||
            (r = opt_string(c, root, "$schema", schema, sizeof(schema))) < 0 ||
            (r = opt_string(c, root, "name", p->name, sizeof(p->name))) < 0 ||
            (r = opt_string(c, root, "machine", p->machine, sizeof(p->machine))) < 0 ||
            (r = opt_enum(c, root, "accel", accel_name, &accel)) < 0 ||
            (r = opt_string(c, root, "user", p->user, sizeof(p->user))) < 0 ||
            (r = opt_bool(c, root, "allow_root", &p->allow_root)) < 0 ||
            (r = parse_memory(c, root, p)) < 0 || (r = parse_hugepages(c, root, &p->hugepages)) < 0 ||
            (r = parse_firmware(c, root, &p->firmware)) < 0 ||
            (r = parse_boot(c, root, &p->boot)) < 0 ||
            (r = parse_cpu(c, root, &p->cpu)) < 0 ||
            (r = parse_array(c, root, "hostdevs", PROFILE_HOSTDEVS_MAX, "hostdevs",
                             hostdev_element, p, &p->n_hostdevs)) < 0 ||
            (r = parse_array(c, root, "allow_detach", PROFILE_ALLOW_DETACH_MAX, "addresses",
                             detach_element, p, &p->n_allow_detach)) < 0 ||
            (r = opt_bool(c, root, "allow_boot_vga", &p->allow_boot_vga)) < 0 ||
            (r = opt_bool(c, root, "allow_in_use", &p->allow_in_use)) < 0 ||
            (r = parse_array(c, root, "disks", PROFILE_DISKS_MAX, "disks", disk_element, p,
                             &p->n_disks)) < 0 ||
            (r = parse_array(c, root, "nics", PROFILE_NICS_MAX, "nics", nic_element, p,
                             &p->n_nics)) < 0 ||
            (r = parse_sound(c, root, &p->sound)) < 0 ||
            (r = parse_display(c, root, &p->display)) < 0 ||
            (r = opt_bool(c, root, "balloon", &p->balloon)) < 0 ||
            (r = opt_unsigned(c, root, "shutdown_timeout", 1, 3600, &p->shutdown_timeout_s)) < 0 ||
            (r = opt_unsigned(c, root, "powerdown_repeat", 0, 60, &p->powerdown_repeat_s)) < 0 ||
            (r = opt_enum(c, root, "pci_hotplug", pci_hotplug_name, &hotplug)) < 0)
                return r;
        p->accel = (enum accel_type) accel;
        p->pci_hotplug = (enum pci_hotplug_mode) hotplug;
        /* The default model follows the accelerator: KVM's "host" cannot be
         * emulated, TCG's "max" is the closest. */
        if (p->accel == ACCEL_TCG && !json_object_get(json_object_get(root, "cpu"), "model"))
                snprintf(p->cpu.model, sizeof(p->cpu.model), "max");
        return 0;
}

/* Containers nested deeper than PROFILE_DEPTH_MAX (the root object is level
 * 1), in document order. Checked before anything else so that a deep value
 * is reported as such, whatever key it hides under. */
static int check_depth(struct ctx *c, json_t *v, unsigned depth)
{
        const char *key;
        json_t *child;
        size_t i, m;
        int r;

        if (!json_is_object(v) && !json_is_array(v))
                return 0;
        if (depth > PROFILE_DEPTH_MAX)
                return fail(c, "nested deeper than %u levels", PROFILE_DEPTH_MAX);
        if (json_is_object(v)) {
                json_object_foreach (v, key, child) {
                        m = enter_key(c, key);
                        if ((r = check_depth(c, child, depth + 1)) < 0)
                                return r;
                        leave(c, m);
                }
        } else {
                json_array_foreach (v, i, child) {
                        m = enter_index(c, i);
                        if ((r = check_depth(c, child, depth + 1)) < 0)
                                return r;
                        leave(c, m);
                }
        }
        return 0;
}

static int syntax_error(struct ctx *c, const json_error_t *j)
{
        char msg[sizeof(j->text)];
        int line = j->line, col = j->column;

        /* jansson quotes the text near the error: keep the message one line. */
        for (size_t i = 0; i < sizeof(msg); i++) {
                unsigned char b = (unsigned char) j->text[i];
                msg[i] = (b && (b < 0x20 || b == 0x7f)) ? '?' : (char) b;
                if (!b)
                        break;
        }
        msg[sizeof(msg) - 1] = '\0';
        /* Two of jansson's texts speak of its API; say what the user did. */
        if (json_error_code(j) == json_error_null_character)
                (void) xsnprintf(msg, sizeof(msg), "\\u0000 (NUL) is not allowed in a string");
        else if (json_error_code(j) == json_error_stack_overflow)
                (void) xsnprintf(msg, sizeof(msg), "nested deeper than %u levels",
                                 PROFILE_DEPTH_MAX);
        json_pos_path_at(c->text, c->len, j->position > 0 ? (size_t) j->position : 0, c->path,
                         sizeof(c->path));
        if (line < 1)
                line = col = 0; /* not about a place in the text */
        else if (col < 1)
                col = 1; /* jansson says 0 before the first character of a line */
        return vl_error_set_at(c->e, EINVAL, c->file, line, col, c->path, "%s", msg);
}

/* Put a file:line:col in front of each "$.path: ..." warning. */
static void locate_warnings(struct ctx *c, const struct vl_warnings *in, struct vl_warnings *out)
{
        if (!out)
                return;
        for (unsigned i = 0; i < in->n; i++) {
                const char *msg = in->msg[i], *sep = strstr(msg, ": ");
                char path[JSON_PATH_MAX];
                struct json_pos pos;

                if (msg[0] != '$' || !sep || (size_t) (sep - msg) >= sizeof(path)) {
                        vl_warn(out, "%s: %s", c->file, msg);
                        continue;
                }
                memcpy(path, msg, (size_t) (sep - msg));
                path[sep - msg] = '\0';
                (void) json_pos_find_nearest(c->text, c->len, path, false, &pos);
                vl_warn(out, "%s:%d:%d: %s", c->file, pos.line, pos.column, msg);
        }
        out->dropped += in->dropped;
}

int profile_load_buffer(const char *buf, size_t len, const char *source_name,
                        const char *base_dir, struct profile *ret, struct vl_error *e,
                        struct vl_warnings *w)
{
        _cleanup_(json_decrefp) json_t *root = NULL; /* jansson's own cleanup helper */
        _cleanup_free_ struct profile *p = NULL;
        struct vl_warnings warnings = {};
        struct ctx c = {
                .file = source_name ? source_name : "",
                .text = buf,
                .len = len,
                .base_dir = base_dir,
                .e = e,
                .path = "$",
        };
        const char *base;
        json_error_t jerr;
        size_t i;
        int r;

        if (!base_dir || base_dir[0] != '/')
                return vl_error_set_at(e, EINVAL, c.file, 0, 0, NULL,
                                       "the base folder for relative paths must be absolute");
        if (len > PROFILE_FILE_MAX)
                return vl_error_set_at(e, EFBIG, c.file, 1, 1, "$",
                                       "the file is larger than %u bytes", PROFILE_FILE_MAX);
        for (i = 0; i < len && buf[i] && strchr(" \t\r\n", buf[i]); i++)
                ;
        if (i == len)
                return vl_error_set_at(e, EINVAL, c.file, 1, 1, "$",
                                       "the file is empty (expected a JSON object)");

        root = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);
        if (!root)
                return syntax_error(&c, &jerr);
        if (!json_is_object(root))
                return type_error(&c, root, "a JSON object at the top level");
        if ((r = check_depth(&c, root, 1)) < 0)
                return r;

        p = malloc(sizeof(*p));
        if (!p)
                return vl_error_set(e, ENOMEM, "out of memory");
        profile_init(p, "");
        if ((r = parse_profile(&c, root, p)) < 0)
                return r;

        if ((r = profile_validate(p, e, &warnings)) < 0) {
                struct json_pos pos;

                (void) json_pos_find_nearest(buf, len, e ? e->path : "$", false, &pos);
                if (e) {
                        (void) xsnprintf(e->file, sizeof(e->file), "%s", c.file);
                        e->line = pos.line;
                        e->column = pos.column;
                }
                return r;
        }

        base = strrchr(c.file, '/');
        base = base ? base + 1 : c.file;
        if (join_path(base_dir, base[0] ? base : ".", p->source, sizeof(p->source)) < 0)
                return vl_error_set_at(e, ENAMETOOLONG, c.file, 0, 0, NULL,
                                       "the profile's own path is too long");
        locate_warnings(&c, &warnings, w);
        *ret = *p;
        return 0;
}

/* The absolute folder of path, lexically (see join_path()). */
static int folder_of(const char *path, char *buf, size_t size)
{
        char cwd[PROFILE_PATH_MAX], dir[PROFILE_PATH_MAX];
        const char *slash = strrchr(path, '/');

        if (!slash)
                strcpy(dir, ".");
        else if (slash == path)
                strcpy(dir, "/");
        else if ((size_t) (slash - path) >= sizeof(dir))
                return -ENAMETOOLONG;
        else {
                memcpy(dir, path, (size_t) (slash - path));
                dir[slash - path] = '\0';
        }
        if (dir[0] == '/')
                return join_path("/", dir, buf, size);
        if (!getcwd(cwd, sizeof(cwd)))
                return -errno;
        return join_path(cwd, dir, buf, size);
}

int profile_load(const char *path, struct profile *ret, struct vl_error *e,
                 struct vl_warnings *w)
{
        _cleanup_free_ char *buf = NULL;
        _cleanup_close_ int fd = -EBADF;
        char dir[PROFILE_PATH_MAX];
        size_t len = 0;
        int r;

        if ((r = folder_of(path, dir, sizeof(dir))) < 0)
                return vl_error_set_at(e, -r, path, 0, 0, NULL,
                                       "cannot find the profile's folder: %s", strerror(-r));
        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return vl_error_set_at(e, errno, path, 0, 0, NULL, "cannot open: %s",
                                       strerror(errno));
        /* One byte more than the limit tells "too large" without trusting
         * st_size (a pipe has none, a file can grow). */
        buf = malloc(PROFILE_FILE_MAX + 1);
        if (!buf)
                return vl_error_set(e, ENOMEM, "out of memory");
        while (len < PROFILE_FILE_MAX + 1) {
                ssize_t n = read(fd, buf + len, PROFILE_FILE_MAX + 1 - len);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return vl_error_set_at(e, errno, path, 0, 0, NULL, "cannot read: %s",
                                               strerror(errno));
                if (n == 0)
                        break;
                len += (size_t) n;
        }
        return profile_load_buffer(buf, len, path, dir, ret, e, w);
}
