/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The profile's "host_handover": { "stop_units": [UNIT...],
 * "unbind_vtconsoles": BOOL, "unbind_framebuffers": BOOL,
 * "unload_modules": [MODULE...] }. Part of the strict loader:
 * profile_json.c calls it for the top-level key; the readers are
 * profile_json_read.c's; the names' rules are profile_handover.c's.
 */
#include "profile/profile_json_read.h"

/* o[key]: an array of at most max strings of at most size - 1 bytes. */
static int string_array(struct ctx *c, json_t *o, const char *key, unsigned max, size_t size, char *out,
                        unsigned *ret_n)
{
        size_t m, i, k;
        json_t *a, *v;
        int r;

        a = pj_enter_typed(c, o, key, JSON_ARRAY, &m, &r);
        if (!a)
                return r;
        json_array_foreach (a, i, v) {
                k = pj_enter_index(c, i);
                if (i >= max)
                        return pj_fail(c, "too many entries (at most %u)", max);
                if ((r = pj_check_string(c, v, out + i * size, size)) < 0)
                        return r;
                pj_leave(c, k);
        }
        *ret_n = (unsigned) json_array_size(a);
        pj_leave(c, m);
        return 0;
}

int profile_json_parse_handover(struct ctx *c, json_t *root, struct profile_handover *h)
{
        static const char *const keys[] = { "stop_units", "unbind_vtconsoles", "unbind_framebuffers",
                                            "unload_modules", NULL };
        size_t m;
        int r;
        json_t *o = pj_enter_typed(c, root, "host_handover", JSON_OBJECT, &m, &r);

        if (!o)
                return r;
        if ((r = pj_check_keys(c, o, keys)) < 0 ||
            (r = string_array(c, o, "stop_units", PROFILE_HANDOVER_UNITS_MAX, PROFILE_UNIT_NAME_MAX,
                              &h->units[0][0], &h->n_units)) < 0 ||
            (r = pj_opt_bool(c, o, "unbind_vtconsoles", &h->vtconsoles)) < 0 ||
            (r = pj_opt_bool(c, o, "unbind_framebuffers", &h->framebuffers)) < 0 ||
            (r = string_array(c, o, "unload_modules", PROFILE_HANDOVER_MODULES_MAX, PROFILE_MODULE_NAME_MAX,
                              &h->modules[0][0], &h->n_modules)) < 0)
                return r;
        h->enabled = true;
        pj_leave(c, m);
        return 0;
}
