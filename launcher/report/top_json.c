/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * `vfio-launch top --json`: the samples as one JSON document. The schema is
 * docs/top.md's; an unknown figure is null, never a made-up 0.
 */
#include <stdint.h>
#include <stdlib.h>

#include <jansson.h>

#include "base/macro.h"
#include "report/top.h"

static json_t *num_or_null(double v)
{
        return v < 0 ? json_null() : json_real(v);
}

static json_t *bytes_or_null(uint64_t v)
{
        return v == UINT64_MAX ? json_null() : json_integer((json_int_t) v);
}

static json_t *vcpus_json(const struct top_vm *vm)
{
        json_t *a = json_array();

        for (unsigned i = 0; a && i < vm->n_vcpus; i++) {
                const struct top_vcpu *v = &vm->vcpus[i];
                (void) json_array_append_new(a, json_pack("{s:i, s:i, s:o, s:f, s:o, s:o, s:o}",
                        "index", v->index, "thread_id", (int) v->tid,
                        "host_cpu", v->host_cpu >= 0 ? json_integer(v->host_cpu) : json_null(),
                        "cpu_seconds", v->cpu_seconds, "cpu_percent", num_or_null(v->cpu_percent),
                        "pin", v->pinned ? json_string(v->pin) : json_null(),
                        "on_pin", v->pinned ? json_boolean(v->on_pin) : json_null()));
        }
        return a;
}

static json_t *nics_json(const struct top_vm *vm)
{
        json_t *a = json_array();

        for (unsigned i = 0; a && i < vm->n_nics; i++) {
                const struct top_nic *n = &vm->nics[i];
                (void) json_array_append_new(a, json_pack("{s:s, s:s, s:b, s:I, s:I, s:I, s:I, s:o, s:o}",
                        "link", n->link, "kind", n->kind, "present", n->present,
                        "rx_bytes", (json_int_t) n->rx_bytes, "tx_bytes", (json_int_t) n->tx_bytes,
                        "rx_packets", (json_int_t) n->rx_packets, "tx_packets", (json_int_t) n->tx_packets,
                        "rx_bytes_per_second", num_or_null(n->rx_rate),
                        "tx_bytes_per_second", num_or_null(n->tx_rate)));
        }
        return a;
}

static json_t *disks_json(const struct top_vm *vm)
{
        json_t *a = json_array();

        for (unsigned i = 0; a && i < vm->n_disks; i++) {
                const struct top_disk *d = &vm->disks[i];
                (void) json_array_append_new(a, json_pack("{s:s, s:I, s:I, s:I, s:I, s:o, s:o}",
                        "id", d->id, "rd_bytes", (json_int_t) d->rd_bytes, "wr_bytes", (json_int_t) d->wr_bytes,
                        "rd_ops", (json_int_t) d->rd_ops, "wr_ops", (json_int_t) d->wr_ops,
                        "rd_bytes_per_second", num_or_null(d->rd_rate),
                        "wr_bytes_per_second", num_or_null(d->wr_rate)));
        }
        return a;
}

static json_t *usb_json(const struct top_vm *vm)
{
        json_t *a;

        if (!vm->usb_known)
                return json_null();
        a = json_array();
        for (unsigned i = 0; a && i < vm->n_usb; i++)
                (void) json_array_append_new(a, json_pack("{s:s, s:s, s:s, s:o}", "port", vm->usb[i].port,
                        "speed", vm->usb[i].speed, "product", vm->usb[i].product,
                        "id", vm->usb[i].id[0] ? json_string(vm->usb[i].id) : json_null()));
        return a;
}

static json_t *vm_json(const struct top_vm *vm)
{
        json_t *hostdevs = json_array(), *shmem = json_array();

        for (unsigned i = 0; hostdevs && i < vm->n_hostdevs; i++)
                (void) json_array_append_new(hostdevs, json_pack("{s:s, s:o, s:o}",
                        "address", vm->hostdevs[i].addr,
                        "driver", vm->hostdevs[i].driver[0] ? json_string(vm->hostdevs[i].driver) : json_null(),
                        "iommu_group", vm->hostdevs[i].group >= 0 ? json_integer(vm->hostdevs[i].group) : json_null()));
        for (unsigned i = 0; shmem && i < vm->n_shmem; i++)
                (void) json_array_append_new(shmem, json_pack("{s:s, s:I, s:b}", "path", vm->shmem[i].path,
                        "size_bytes", (json_int_t) vm->shmem[i].size, "present", vm->shmem[i].present));
        return json_pack("{s:s, s:s, s:i, s:i, s:o, s:f, s:o, s:{s:o, s:o, s:o, s:o}, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o}",
                "name", vm->name, "state", vm->state, "launcher_pid", (int) vm->launcher_pid,
                "qemu_pid", (int) vm->qemu_pid, "uptime_seconds", num_or_null(vm->uptime_s),
                "cpu_seconds", vm->cpu_seconds, "cpu_percent", num_or_null(vm->cpu_percent),
                "memory", "rss_bytes", bytes_or_null(vm->rss_bytes), "hugetlb_bytes", bytes_or_null(vm->hugetlb_bytes),
                "guest_bytes", bytes_or_null(vm->guest_bytes), "overhead_bytes", bytes_or_null(vm->overhead_bytes),
                "vcpus", vcpus_json(vm), "nics", nics_json(vm), "disks", disks_json(vm), "hostdevs", hostdevs,
                "tpm", vm->tpm ? json_pack("{s:i, s:b}", "swtpm_pid", (int) vm->swtpm_pid, "alive", vm->swtpm_alive)
                               : json_null(),
                "usb", usb_json(vm), "shmem", shmem, "note", vm->note[0] ? json_string(vm->note) : json_null());
}

char *top_format_json(const struct top_vm *vms, size_t n, double interval_s)
{
        _cleanup_(json_decrefp) json_t *root = NULL;
        json_t *a = json_array();

        if (!a)
                return NULL;
        for (size_t i = 0; i < n; i++)
                if (json_array_append_new(a, vm_json(&vms[i])) < 0) {
                        json_decref(a);
                        return NULL;
                }
        root = json_pack("{s:i, s:f, s:o}", "version", 1, "interval_seconds", interval_s, "vms", a);
        return root ? json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;
}
