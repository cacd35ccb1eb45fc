/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The profile's "shmem": [{"name", "size", "resolution", "backend", "owner",
 * "group", "mode", "keep"}], IVSHMEM shared memory (Looking Glass, Scream).
 * Part of the strict loader: profile_json.c reads the array and calls
 * profile_json_shmem_element() for each element; the rules that span keys
 * are profile_shmem.c's (profile_validate_shmem()), the host's
 * host/shmem.c's.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "profile/profile_json_read.h"

/* "auto", an integer (MiB) or a size string ("64M", "1G"). */
static int parse_size(struct ctx *c, json_t *o, struct profile_shmem *s)
{
        json_t *v = json_object_get(o, "size");
        char q[QUOTE_MAX + 8];
        size_t m;
        int r;

        if (!v)
                return pj_fail(c, "missing required key \"size\" (\"64M\", or \"auto\" with \"resolution\")");
        m = pj_enter_key(c, "size");
        if (json_is_integer(v)) {
                if (json_integer_value(v) < 1 || json_integer_value(v) > PROFILE_SHMEM_MIB_MAX)
                        return pj_fail(c, "%" JSON_INTEGER_FORMAT " MiB is out of range (expected 1..%u MiB)",
                                       json_integer_value(v), PROFILE_SHMEM_MIB_MAX);
                s->size_mib = (uint64_t) json_integer_value(v);
        } else if (json_is_string(v)) {
                pj_quote_value(v, q, sizeof(q));
                if (strcmp(json_string_value(v), "auto") == 0)
                        s->size_auto = true;
                else if ((r = profile_parse_memory_mib(json_string_value(v), &s->size_mib)) < 0 || s->size_mib < 1 ||
                         s->size_mib > PROFILE_SHMEM_MIB_MAX)
                        return pj_fail(c, "%s is not a size from 1M to 1G (expected \"auto\", a number of MiB, or a "
                                          "number with M or G)",
                                       q);
        } else
                return pj_type_error(c, v, "\"auto\", a size string or an integer (MiB)");
        pj_leave(c, m);
        return 0;
}

/* "2560x1440": two decimal numbers, 1..PROFILE_SHMEM_RES_MAX, no signs or spaces. */
static int parse_resolution(struct ctx *c, json_t *o, struct profile_shmem *s)
{
        char buf[32], q[QUOTE_MAX + 8], *x, *end;
        unsigned long w, h;
        size_t m;
        int r;

        r = pj_opt_string(c, o, "resolution", buf, sizeof(buf));
        if (r <= 0)
                return r;
        m = pj_enter_key(c, "resolution");
        pj_quote_value(json_object_get(o, "resolution"), q, sizeof(q));
        x = strchr(buf, 'x');
        if (!x || buf[0] < '1' || buf[0] > '9' || x[1] < '1' || x[1] > '9')
                return pj_fail(c, "%s is not a resolution (expected WIDTHxHEIGHT, e.g. \"2560x1440\")", q);
        errno = 0;
        w = strtoul(buf, &end, 10);
        if (end != x || errno)
                return pj_fail(c, "%s is not a resolution (expected WIDTHxHEIGHT, e.g. \"2560x1440\")", q);
        h = strtoul(x + 1, &end, 10);
        if (*end || errno)
                return pj_fail(c, "%s is not a resolution (expected WIDTHxHEIGHT, e.g. \"2560x1440\")", q);
        if (w > PROFILE_SHMEM_RES_MAX || h > PROFILE_SHMEM_RES_MAX)
                return pj_fail(c, "%s is out of range (at most %ux%u)", q, PROFILE_SHMEM_RES_MAX, PROFILE_SHMEM_RES_MAX);
        s->width = (unsigned) w;
        s->height = (unsigned) h;
        pj_leave(c, m);
        return 0;
}

/* "0660": an octal string of 3 or 4 digits, as chmod(1) and tmpfiles.d
 * spell it (a JSON integer would be read as decimal 660). */
static int parse_mode(struct ctx *c, json_t *o, struct profile_shmem *s)
{
        json_t *v = json_object_get(o, "mode");
        char q[QUOTE_MAX + 8];
        const char *str;
        size_t m, n;

        if (!v)
                return 0;
        m = pj_enter_key(c, "mode");
        if (!json_is_string(v))
                return pj_type_error(c, v, "a string of octal digits (\"0660\")");
        pj_quote_value(v, q, sizeof(q));
        str = json_string_value(v);
        n = json_string_length(v);
        if (n < 3 || n > 4 || strspn(str, "01234567") != n)
                return pj_fail(c, "%s is not an octal mode (expected 3 or 4 octal digits, e.g. \"0660\")", q);
        s->mode = (uint32_t) strtoul(str, NULL, 8);
        pj_leave(c, m);
        return 0;
}

int profile_json_shmem_element(struct ctx *c, json_t *o, unsigned i, void *ud)
{
        static const char *const keys[] = { "name", "size", "resolution", "backend", "owner",
                                            "group", "mode", "keep", NULL };
        struct profile_shmem *s = &((struct profile *) ud)->shmem[i];
        int r, backend = SHMEM_BACKEND_FILE;

        if (!json_is_object(o))
                return pj_type_error(c, o, "an object");
        s->mode = 0660;
        if ((r = pj_check_keys(c, o, keys)) < 0 || (r = pj_require(c, o, "name")) < 0 ||
            (r = pj_opt_string(c, o, "name", s->name, sizeof(s->name))) < 0 || (r = parse_size(c, o, s)) < 0 ||
            (r = parse_resolution(c, o, s)) < 0 ||
            (r = pj_opt_enum(c, o, "backend", profile_shmem_backend_name, &backend)) < 0 ||
            (r = pj_opt_string(c, o, "owner", s->owner, sizeof(s->owner))) < 0 ||
            (r = pj_opt_string(c, o, "group", s->group, sizeof(s->group))) < 0 || (r = parse_mode(c, o, s)) < 0 ||
            (r = pj_opt_bool(c, o, "keep", &s->keep)) < 0)
                return r;
        s->backend = (enum shmem_backend) backend;
        if (s->size_auto && s->width && s->height)
                s->size_mib = profile_shmem_auto_mib(s->width, s->height);
        return 0;
}
