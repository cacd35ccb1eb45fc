/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * "shmem" on the command line: per element a memory-backend-file with
 * share=on on the file the launcher prepared (rt->shmem_path[i]) and an
 * ivshmem-plain device on it, as QEMU's docs/system/devices/ivshmem.rst and
 * Looking Glass's ivshmem_shm.rst / ivshmem_kvmfr.rst spell it
 * (docs/facts.md#F-ivshmem-size). Part of the pure builder.
 *
 * share=on: without it QEMU maps the file MAP_PRIVATE and the guest's
 * writes never reach the host. ivshmem-plain is a conventional PCI device:
 * on pcie.0 as an integrated endpoint (where Looking Glass's QEMU example
 * puts it), at fixed slots so the guest (Windows binds its IVSHMEM driver to
 * the slot) sees it at the same address every run.
 */
#include <errno.h>
#include <stdio.h>

#include "qemu/qemu_builder.h"

/* Free on q35 as the builder lays it out: 0x1 video, 0x2-0x5 root ports
 * (pci.1..30), 0x1b sound, 0x1c watchdog, 0x1f LPC. */
#define PCIE0_SHMEM_FIRST_SLOT 0x10

int qemu_argv_emit_shmem(struct builder *b, const struct profile *p, const struct qemu_runtime *rt,
                         struct vl_error *e)
{
        char id[PROFILE_NAME_MAX + sizeof(PROFILE_SHMEM_ID_PREFIX)];
        struct opt o = {};

        for (unsigned i = 0; i < p->n_shmem; i++) {
                const struct profile_shmem *s = &p->shmem[i];

                if (!rt->shmem_path[i][0])
                        return vl_error_set_at(e, EINVAL, NULL, 0, 0, "$.shmem", "no host file for $.shmem[%u]", i);
                /* The name passed profile_validate(): [A-Za-z0-9_.-], so
                 * the id needs no escaping and starts with a letter. */
                (void) snprintf(id, sizeof(id), PROFILE_SHMEM_ID_PREFIX "%s", s->name);
                qa_opt_begin(b, &o, "memory-backend-file");
                qa_opt_kv(b, &o, "id", "%s", id);
                qa_opt_kv_esc(b, &o, "mem-path", rt->shmem_path[i]);
                qa_opt_kv(b, &o, "size", "%lluM", (unsigned long long) s->size_mib);
                qa_opt_kv(b, &o, "share", "on");
                qa_arg_opt(b, "-object", &o);

                qa_opt_begin(b, &o, "ivshmem-plain");
                qa_opt_kv(b, &o, "memdev", "%s", id);
                qa_opt_kv(b, &o, "id", "%s", id);
                qa_opt_kv(b, &o, "bus", "pcie.0");
                qa_opt_kv(b, &o, "addr", "0x%x", PCIE0_SHMEM_FIRST_SLOT + i);
                qa_arg_opt(b, "-device", &o);
        }
        return 0;
}
