/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The profile's disks and their I/O threads: "iothreads" (an array of
 * objects, one per thread, each with an optional "pin") and each element of
 * "disks". Part of the strict loader (profile_json.c reads the arrays);
 * the rules between fields (an iothread that exists, on a bus that has
 * one, detect_zeroes against discard, aio against cache, boot orders) are
 * profile_validate()'s, so a profile built in code meets them too.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "profile/profile_json_read.h"

/* "iothreads": [{"pin": "2"}, {}]: one form only. A bare count would say
 * the same as an array of empty objects, and two spellings of one thing
 * are one too many for a file people diff. */
int profile_json_parse_iothreads(struct ctx *c, json_t *root, struct profile *p)
{
        static const char *const keys[] = { "pin", NULL };
        json_t *a, *v, *pin;
        size_t m, k, i, n;
        int r;

        a = pj_enter_typed(c, root, "iothreads", JSON_ARRAY, &m, &r);
        if (!a)
                return r;
        json_array_foreach (a, i, v) {
                struct profile_iothread *t = &p->iothreads[i];

                k = pj_enter_index(c, i);
                if (i >= PROFILE_IOTHREADS_MAX)
                        return pj_fail(c, "too many I/O threads (at most %u)", PROFILE_IOTHREADS_MAX);
                if (!json_is_object(v))
                        return pj_type_error(c, v, "an object ({} or {\"pin\": \"CPUS\"})");
                if ((r = pj_check_keys(c, v, keys)) < 0)
                        return r;
                if ((pin = json_object_get(v, "pin"))) {
                        n = pj_enter_key(c, "pin");
                        if ((r = pj_check_cpuset(c, pin, &t->pin)) < 0)
                                return r;
                        t->pinned = true;
                        pj_leave(c, n);
                }
                pj_leave(c, k);
        }
        if (json_array_size(a) == 0)
                return pj_fail(c, "is empty (expected one object per I/O thread: [{}] or [{\"pin\": \"2\"}])");
        p->n_iothreads = (unsigned) json_array_size(a);
        pj_leave(c, m);
        return 0;
}

int profile_json_disk_element(struct ctx *c, json_t *o, unsigned i, void *ud)
{
        static const char *const keys[] = { "path",     "format",   "bus",  "cache",         "readonly",
                                            "cdrom",    "id",       "iothread", "discard",   "detect_zeroes",
                                            "aio",      "boot",     NULL };
        struct profile *p = ud;
        struct profile_disk *d = &p->disks[i];
        int r, fmt = -1, bus = DISK_BUS_SATA, cache = DISK_CACHE_DEFAULT, got_ro, got_io;
        int discard = DISK_DISCARD_DEFAULT, dz = DISK_DZ_DEFAULT, aio = DISK_AIO_DEFAULT;

        if (!json_is_object(o))
                return pj_type_error(c, o, "an object");
        if ((r = pj_check_keys(c, o, keys)) < 0 || (r = pj_require(c, o, "path")) < 0 ||
            (r = pj_opt_path(c, o, "path", d->path)) < 0 ||
            (r = pj_opt_enum(c, o, "format", profile_disk_format_name, &fmt)) < 0 ||
            (r = pj_opt_enum(c, o, "bus", profile_disk_bus_name, &bus)) < 0 ||
            (r = pj_opt_enum(c, o, "cache", profile_disk_cache_name, &cache)) < 0 ||
            (got_ro = pj_opt_bool(c, o, "readonly", &d->readonly)) < 0 ||
            (r = pj_opt_bool(c, o, "cdrom", &d->cdrom)) < 0 ||
            (r = pj_opt_string(c, o, "id", d->id, sizeof(d->id))) < 0 ||
            (got_io = pj_opt_unsigned(c, o, "iothread", 0, PROFILE_IOTHREADS_MAX - 1, &d->iothread)) < 0 ||
            (r = pj_opt_enum(c, o, "discard", profile_disk_discard_name, &discard)) < 0 ||
            (r = pj_opt_enum(c, o, "detect_zeroes", profile_disk_detect_zeroes_name, &dz)) < 0 ||
            (r = pj_opt_enum(c, o, "aio", profile_disk_aio_name, &aio)) < 0 ||
            (r = pj_opt_unsigned(c, o, "boot", 1, PROFILE_BOOT_MAX, &d->boot)) < 0)
                return r < 0 ? r : got_ro < 0 ? got_ro : got_io < 0 ? got_io : -EINVAL;
        if (d->cdrom) {
                if (got_ro && !d->readonly) {
                        (void) pj_enter_key(c, "readonly");
                        return pj_fail(c, "a cdrom is always read-only");
                }
                d->readonly = true;
        }
        /* An ISO is raw; never let QEMU probe a format (a raw image could
         * pose as qcow2 with a backing file). */
        d->format = fmt >= 0 ? (enum disk_format) fmt : d->cdrom ? DISK_RAW : DISK_QCOW2;
        d->bus = (enum disk_bus) bus;
        d->cache = (enum disk_cache) cache;
        d->has_iothread = got_io > 0;
        d->discard = (enum disk_discard) discard;
        d->detect_zeroes = (enum disk_detect_zeroes) dz;
        d->aio = (enum disk_aio) aio;
        if (!d->id[0])
                (void) snprintf(d->id, sizeof(d->id), "disk%u", i);
        return 0;
}
