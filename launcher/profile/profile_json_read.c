/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The readers the strict profile loader is made of (profile_json.c,
 * profile_json_machine.c, profile_json_devices.c): the errors that carry the
 * file, line:column and JSON path, and the readers of typed values and
 * objects. Declared, with the rules for c->path, in profile_json_read.h;
 * the pj_ prefix keeps these generic names out of the way of the rest of
 * vlcore.
 */
#include <errno.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "profile/json_pos.h"
#include "profile/profile_json_read.h"

/* ---- errors ---------------------------------------------------------------- */

static _printf_(3, 0) int fail_v(struct ctx *c, bool at_key, const char *fmt, va_list ap)
{
        struct json_pos pos;
        char msg[sizeof(c->e->msg)];

        (void) vsnprintf(msg, sizeof(msg), fmt, ap);
        (void) json_pos_find_nearest(c->text, c->len, c->path, at_key, &pos);
        return vl_error_set_at(c->e, EINVAL, c->file, pos.line, pos.column, c->path, "%s", msg);
}

int pj_fail(struct ctx *c, const char *fmt, ...)
{
        va_list ap;
        int r;

        va_start(ap, fmt);
        r = fail_v(c, false, fmt, ap);
        va_end(ap);
        return r;
}

/* Like pj_fail(), at the key rather than at its value. */
static _printf_(2, 3) int fail_key(struct ctx *c, const char *fmt, ...)
{
        va_list ap;
        int r;

        va_start(ap, fmt);
        r = fail_v(c, true, fmt, ap);
        va_end(ap);
        return r;
}

size_t pj_enter_key(struct ctx *c, const char *key)
{
        size_t n = strlen(c->path);

        (void) json_path_append_key(c->path, sizeof(c->path), key, strlen(key));
        return n;
}

size_t pj_enter_index(struct ctx *c, size_t i)
{
        size_t n = strlen(c->path);

        (void) json_path_append_index(c->path, sizeof(c->path), i);
        return n;
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

int pj_type_error(struct ctx *c, const json_t *v, const char *expected)
{
        char got[QUOTE_MAX + 32];

        describe(v, got, sizeof(got));
        return pj_fail(c, "expected %s, got %s", expected, got);
}

/* ---- typed values (the path of v is in c->path) ----------------------------- */

int pj_check_uint(struct ctx *c, const json_t *v, uint64_t min, uint64_t max, uint64_t *ret)
{
        json_int_t i;

        if (!json_is_integer(v))
                return pj_type_error(c, v, "an integer");
        i = json_integer_value(v);
        if (i < 0 || (uint64_t) i < min || (uint64_t) i > max)
                return pj_fail(c, "%" JSON_INTEGER_FORMAT " is out of range (expected %llu..%llu)",
                               i, (unsigned long long) min, (unsigned long long) max);
        *ret = (uint64_t) i;
        return 0;
}

int pj_check_string(struct ctx *c, const json_t *v, char *buf, size_t size)
{
        char q[QUOTE_MAX + 8];
        const char *s;
        size_t n;

        if (!json_is_string(v))
                return pj_type_error(c, v, "a string");
        s = json_string_value(v);
        n = json_string_length(v);
        pj_quote_value(v, q, sizeof(q));
        if (n == 0)
                return pj_fail(c, "must not be empty");
        if (n >= size)
                return pj_fail(c, "%s is too long (%zu bytes, at most %zu)", q, n, size - 1);
        for (size_t i = 0; i < n; i++)
                if ((unsigned char) s[i] < 0x20 || s[i] == 0x7f)
                        return pj_fail(c, "%s contains a control character", q);
        memcpy(buf, s, n + 1);
        return 0;
}

int pj_check_enum(struct ctx *c, const json_t *v, enum_name_fn name_of, int *ret)
{
        char list[256] = "", q[QUOTE_MAX + 8];
        const char *s;

        if (!json_is_string(v))
                return pj_type_error(c, v, "a string");
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
        pj_quote_value(v, q, sizeof(q));
        return pj_fail(c, "%s is not a valid value (expected one of: %s)", q, list);
}

int pj_join_path(const char *base, const char *rel, char *buf, size_t size)
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

/* A string, as a path resolved against the profile's folder (c->base_dir). */
static int check_path(struct ctx *c, const json_t *v, char buf[static PROFILE_PATH_MAX])
{
        char raw[PROFILE_PATH_MAX], q[QUOTE_MAX + 8];
        int r;

        if ((r = pj_check_string(c, v, raw, sizeof(raw))) < 0)
                return r;
        if (pj_join_path(c->base_dir, raw, buf, PROFILE_PATH_MAX) < 0) {
                pj_quote_value(v, q, sizeof(q));
                return pj_fail(c, "%s is too long once resolved against the profile's folder (at most %u bytes)",
                               q, PROFILE_PATH_MAX - 1);
        }
        return 0;
}

int pj_check_pci(struct ctx *c, const json_t *v, struct pci_addr *ret)
{
        char q[QUOTE_MAX + 8];

        if (!json_is_string(v))
                return pj_type_error(c, v, "a string");
        if (pci_addr_parse(json_string_value(v), ret) < 0) {
                pj_quote_value(v, q, sizeof(q));
                return pj_fail(c, "%s is not a PCI address (expected DDDD:BB:SS.F or BB:SS.F)", q);
        }
        return 0;
}

/* ---- objects ------------------------------------------------------------------- */

int pj_check_keys(struct ctx *c, json_t *obj, const char *const *allowed)
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
                (void) pj_enter_key(c, key);
                return fail_key(c, "unknown key %s (allowed: %s)", q, list);
        }
        return 0;
}

int pj_require(struct ctx *c, json_t *obj, const char *key)
{
        if (json_object_get(obj, key))
                return 0;
        return pj_fail(c, "missing required key \"%s\"", key);
}

json_t *pj_enter_typed(struct ctx *c, json_t *obj, const char *key, json_type type, size_t *saved,
                       int *r)
{
        json_t *v = json_object_get(obj, key);

        *r = 0;
        if (!v)
                return NULL;
        *saved = pj_enter_key(c, key);
        if (json_typeof(v) != type) {
                *r = pj_type_error(c, v, type == JSON_OBJECT ? "an object" : "an array");
                return NULL;
        }
        return v;
}

int pj_opt_bool(struct ctx *c, json_t *obj, const char *key, bool *ret)
{
        json_t *v = json_object_get(obj, key);
        size_t m;

        if (!v)
                return 0;
        m = pj_enter_key(c, key);
        if (!json_is_boolean(v))
                return pj_type_error(c, v, "a boolean");
        *ret = json_is_true(v);
        pj_leave(c, m);
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
        m = pj_enter_key(c, key);
        if ((r = pj_check_uint(c, v, min, max, ret)) < 0)
                return r;
        pj_leave(c, m);
        return 1;
}

int pj_opt_unsigned(struct ctx *c, json_t *obj, const char *key, unsigned min, unsigned max,
                    unsigned *ret)
{
        uint64_t u;
        int r = opt_uint(c, obj, key, min, max, &u);

        if (r > 0)
                *ret = (unsigned) u;
        return r;
}

int pj_opt_u32(struct ctx *c, json_t *obj, const char *key, uint32_t min, uint32_t max,
               uint32_t *ret)
{
        uint64_t u;
        int r = opt_uint(c, obj, key, min, max, &u);

        if (r > 0)
                *ret = (uint32_t) u;
        return r;
}

int pj_opt_string(struct ctx *c, json_t *obj, const char *key, char *buf, size_t size)
{
        json_t *v = json_object_get(obj, key);
        size_t m;
        int r;

        if (!v)
                return 0;
        m = pj_enter_key(c, key);
        if ((r = pj_check_string(c, v, buf, size)) < 0)
                return r;
        pj_leave(c, m);
        return 1;
}

int pj_opt_path(struct ctx *c, json_t *obj, const char *key, char buf[static PROFILE_PATH_MAX])
{
        json_t *v = json_object_get(obj, key);
        size_t m;
        int r;

        if (!v)
                return 0;
        m = pj_enter_key(c, key);
        if ((r = check_path(c, v, buf)) < 0)
                return r;
        pj_leave(c, m);
        return 1;
}

int pj_opt_enum(struct ctx *c, json_t *obj, const char *key, enum_name_fn name_of, int *ret)
{
        json_t *v = json_object_get(obj, key);
        size_t m;
        int r;

        if (!v)
                return 0;
        m = pj_enter_key(c, key);
        if ((r = pj_check_enum(c, v, name_of, ret)) < 0)
                return r;
        pj_leave(c, m);
        return 1;
}
