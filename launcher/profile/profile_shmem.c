/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The rules of "shmem" (IVSHMEM shared memory: Looking Glass, Scream), for
 * profile_validate(), and Looking Glass's size formula. Pure: what the host
 * must also allow (the file is new, QEMU's user may open it, kvmfr's size)
 * is host/shmem.c's, at run time.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "profile/profile.h"

#define FAIL(path, ...) vl_error_set_at(e, EINVAL, NULL, 0, 0, (path), __VA_ARGS__)

uint64_t profile_shmem_auto_mib(unsigned width, unsigned height)
{
        /* docs/facts.md#F-looking-glass-size: W x H x 4 bytes x 2 frames,
         * in MiB, + 10 MiB, rounded up to a power of two. Whole bytes first,
         * so 25.82 MiB rounds up like Looking Glass's ceil(log2()). */
        uint64_t bytes = (uint64_t) width * height * 4u * 2u + 10u * 1024u * 1024u, mib = 1;

        while (mib * 1024u * 1024u < bytes)
                mib <<= 1;
        return mib;
}

static bool power_of_two(uint64_t v)
{
        return v && !(v & (v - 1));
}

int profile_validate_shmem(const struct profile *p, struct vl_error *e)
{
        static const struct {
                enum profile_device_kind kind;
                const char *array;
        } kinds[] = { { PROFILE_DEVICE_HOSTDEV, "hostdevs" }, { PROFILE_DEVICE_DISK, "disks" },
                      { PROFILE_DEVICE_NIC, "nics" } };
        char path[64], id[PROFILE_STR_MAX], own[PROFILE_STR_MAX + 8];

        if (p->n_shmem > PROFILE_SHMEM_MAX)
                return FAIL("$.shmem", "too many shared memory devices (at most %d)", PROFILE_SHMEM_MAX);
        for (unsigned i = 0; i < p->n_shmem; i++) {
                const struct profile_shmem *s = &p->shmem[i];

#define AT(key) ((void) snprintf(path, sizeof(path), "$.shmem[%u]%s", i, key), path)
                /* The name is a file name in /dev/shm that root creates:
                 * no '/', no leading '.', nothing a shell or QEMU reads
                 * twice. */
                if (!profile_name_valid(s->name))
                        return FAIL(AT(".name"),
                                    "\"%s\" is not a valid shared memory name (1..63 characters of A-Z a-z 0-9 _ . "
                                    "-, not starting with . or -)",
                                    s->name);
                for (unsigned k = 0; k < i; k++)
                        if (strcmp(p->shmem[k].name, s->name) == 0)
                                return FAIL(AT(".name"), "\"%s\" is already the name of $.shmem[%u]", s->name,
                                            k);
                if (!profile_shmem_backend_name(s->backend))
                        return FAIL(AT(".backend"), "unknown backend %d", (int) s->backend);
                if (s->size_auto && (!s->width || !s->height))
                        return FAIL(AT(""), "\"size\": \"auto\" needs \"resolution\" (e.g. \"2560x1440\")");
                /* QEMU 7.2 aborts on a BAR that is not a power of two
                 * (docs/facts.md#F-ivshmem-size). */
                if (!power_of_two(s->size_mib) || s->size_mib > PROFILE_SHMEM_MIB_MAX)
                        return FAIL(AT(".size"),
                                    "%llu MiB is not a power of two from 1M to 1G (the guest's PCI BAR must be)",
                                    (unsigned long long) s->size_mib);
                if (!s->size_auto && (s->width || s->height))
                        return FAIL(AT(".resolution"), "only with \"size\": \"auto\" (the size is given)");
                if (s->width > PROFILE_SHMEM_RES_MAX || s->height > PROFILE_SHMEM_RES_MAX)
                        return FAIL(AT(".resolution"), "%ux%u is out of range (at most %ux%u)", s->width, s->height,
                                    PROFILE_SHMEM_RES_MAX, PROFILE_SHMEM_RES_MAX);
                if (s->owner[0] && !profile_user_valid(s->owner))
                        return FAIL(AT(".owner"), "\"%s\" is not a valid user name", s->owner);
                if (s->group[0] && !profile_user_valid(s->group))
                        return FAIL(AT(".group"), "\"%s\" is not a valid group name", s->group);
                /* Permission bits only: a set-id or sticky bit on a memory
                 * file means nothing good. QEMU's user needs to read and
                 * write it: at least the owner's rw. */
                if (s->mode & ~0777u)
                        return FAIL(AT(".mode"), "%04o has bits besides the permissions (expected 0000..0777)",
                                    s->mode);
                if ((s->mode & 0600u) != 0600u)
                        return FAIL(AT(".mode"), "%04o does not let its owner read and write it", s->mode);
                if (s->backend == SHMEM_BACKEND_KVMFR && s->keep)
                        return FAIL(AT(".keep"), "only for \"backend\": \"file\" (/dev/kvmfrN is the module's)");
                (void) snprintf(own, sizeof(own), PROFILE_SHMEM_ID_PREFIX "%s", s->name);
                for (size_t k = 0; k < ELEMENTSOF(kinds); k++) {
                        unsigned n = kinds[k].kind == PROFILE_DEVICE_HOSTDEV ? p->n_hostdevs
                                     : kinds[k].kind == PROFILE_DEVICE_DISK  ? p->n_disks
                                                                             : p->n_nics;
                        for (unsigned d = 0; d < n; d++)
                                if (strcmp(profile_device_id(p, kinds[k].kind, d, id), own) == 0) {
                                        (void) snprintf(path, sizeof(path), "$.%s[%u].id", kinds[k].array, d);
                                        return FAIL(path, "\"%s\" is the id of the device of $.shmem[%u]", own, i);
                                }
                }
#undef AT
        }
        return 0;
}
