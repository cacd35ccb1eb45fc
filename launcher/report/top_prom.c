/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * `vfio-launch metrics`: the samples in the Prometheus text exposition
 * format 0.0.4 (https://prometheus.io/docs/instrumenting/exposition_formats/).
 * Every family's samples follow its one HELP and TYPE line (the format
 * forbids a family split in two), so the table below is walked family by
 * family, VM by VM. Unknown figures are left out, never written as 0.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report/top.h"

enum fam {
        F_UP, F_INFO, F_UPTIME, F_CPU, F_VCPU_CPU, F_VCPU_HOST, F_VCPU_ON_PIN, F_RSS, F_HUGETLB, F_GUEST,
        F_OVERHEAD, F_NIC_RX, F_NIC_TX, F_NIC_RXP, F_NIC_TXP, F_DISK_RD, F_DISK_WR, F_DISK_RDO, F_DISK_WRO,
        F_HOSTDEV, F_TPM, F_USB, F_SHMEM, _F_MAX,
};

static const struct family {
        const char *name, *type, *help;
} families[_F_MAX] = {
        [F_UP] = { "vfio_launch_vm_running", "gauge", "1 while the VM's supervisor says running, 0 while starting or stopping." },
        [F_INFO] = { "vfio_launch_vm_info", "gauge", "Always 1; the labels name the VM's state and its QEMU process." },
        [F_UPTIME] = { "vfio_launch_vm_uptime_seconds", "gauge", "Seconds since the VM's QEMU process started." },
        [F_CPU] = { "vfio_launch_qemu_cpu_seconds_total", "counter", "CPU time of all of QEMU's threads (user + system)." },
        [F_VCPU_CPU] = { "vfio_launch_vcpu_cpu_seconds_total", "counter", "CPU time of one vCPU thread (user + system)." },
        [F_VCPU_HOST] = { "vfio_launch_vcpu_host_cpu", "gauge", "The host CPU the vCPU thread last ran on." },
        [F_VCPU_ON_PIN] = { "vfio_launch_vcpu_on_pin", "gauge", "1 when a pinned vCPU last ran on a CPU of its cpu.pin, else 0." },
        [F_RSS] = { "vfio_launch_qemu_rss_bytes", "gauge", "QEMU's resident memory (VmRSS; hugetlbfs pages not included)." },
        [F_HUGETLB] = { "vfio_launch_qemu_hugetlb_bytes", "gauge", "QEMU's hugetlbfs pages mapped (smaps_rollup)." },
        [F_GUEST] = { "vfio_launch_guest_memory_bytes", "gauge", "The guest's RAM (QMP query-memory-size-summary)." },
        [F_OVERHEAD] = { "vfio_launch_qemu_overhead_bytes", "gauge", "QEMU's memory beyond the guest's RAM (rss + hugetlb - guest, at least 0)." },
        [F_NIC_RX] = { "vfio_launch_nic_receive_bytes_total", "counter", "Bytes the NIC's host link received (what the guest sent)." },
        [F_NIC_TX] = { "vfio_launch_nic_transmit_bytes_total", "counter", "Bytes the NIC's host link sent (what the guest received)." },
        [F_NIC_RXP] = { "vfio_launch_nic_receive_packets_total", "counter", "Packets the NIC's host link received." },
        [F_NIC_TXP] = { "vfio_launch_nic_transmit_packets_total", "counter", "Packets the NIC's host link sent." },
        [F_DISK_RD] = { "vfio_launch_disk_read_bytes_total", "counter", "Bytes the guest read from the disk (QMP query-blockstats)." },
        [F_DISK_WR] = { "vfio_launch_disk_written_bytes_total", "counter", "Bytes the guest wrote to the disk." },
        [F_DISK_RDO] = { "vfio_launch_disk_read_ops_total", "counter", "Read operations on the disk." },
        [F_DISK_WRO] = { "vfio_launch_disk_write_ops_total", "counter", "Write operations on the disk." },
        [F_HOSTDEV] = { "vfio_launch_hostdev_info", "gauge", "Always 1 per passed-through PCI device; labels: its driver and IOMMU group now." },
        [F_TPM] = { "vfio_launch_tpm_running", "gauge", "1 while the VM's swtpm is alive." },
        [F_USB] = { "vfio_launch_usb_devices", "gauge", "USB devices the guest sees (QMP x-query-usb)." },
        [F_SHMEM] = { "vfio_launch_shmem_bytes", "gauge", "Size of a shared memory file of the VM (0 for a kvmfr node)." },
};

/* A label value: backslash, double quote and newline escaped (the format's only escapes). */
static void label(FILE *f, const char *key, const char *value, bool first)
{
        fprintf(f, "%s%s=\"", first ? "" : ",", key);
        for (const char *p = value; *p; p++) {
                if (*p == '\\' || *p == '"')
                        fprintf(f, "\\%c", *p);
                else if (*p == '\n')
                        fputs("\\n", f);
                else
                        fputc(*p, f);
        }
        fputc('"', f);
}

static void head(FILE *f, enum fam fm, const struct top_vm *vm)
{
        fputs(families[fm].name, f);
        fputc('{', f);
        label(f, "vm", vm->name, true);
}

static void val_u(FILE *f, uint64_t v)
{
        fprintf(f, "} %" PRIu64 "\n", v);
}

static void val_d(FILE *f, double v)
{
        fprintf(f, "} %.9g\n", v);
}

static void emit(FILE *f, enum fam fm, const struct top_vm *vm)
{
        char buf[32];

        switch (fm) {
        case F_UP:
                head(f, fm, vm);
                val_u(f, strcmp(vm->state, "running") == 0);
                break;
        case F_INFO:
                head(f, fm, vm);
                label(f, "state", vm->state, false);
                (void) snprintf(buf, sizeof(buf), "%d", (int) vm->qemu_pid);
                label(f, "qemu_pid", buf, false);
                val_u(f, 1);
                break;
        case F_UPTIME:
                if (vm->uptime_s >= 0) {
                        head(f, fm, vm);
                        val_d(f, vm->uptime_s);
                }
                break;
        case F_CPU:
                if (vm->uptime_s >= 0) { /* /proc was readable */
                        head(f, fm, vm);
                        val_d(f, vm->cpu_seconds);
                }
                break;
        case F_VCPU_CPU:
        case F_VCPU_HOST:
        case F_VCPU_ON_PIN:
                for (unsigned i = 0; i < vm->n_vcpus; i++) {
                        const struct top_vcpu *v = &vm->vcpus[i];
                        if ((fm == F_VCPU_HOST && v->host_cpu < 0) || (fm == F_VCPU_ON_PIN && !v->pinned))
                                continue;
                        head(f, fm, vm);
                        (void) snprintf(buf, sizeof(buf), "%d", v->index);
                        label(f, "vcpu", buf, false);
                        if (fm == F_VCPU_CPU)
                                val_d(f, v->cpu_seconds);
                        else
                                val_u(f, fm == F_VCPU_HOST ? (uint64_t) v->host_cpu : v->on_pin);
                }
                break;
        case F_RSS:
        case F_HUGETLB:
        case F_GUEST:
        case F_OVERHEAD: {
                uint64_t v = fm == F_RSS ? vm->rss_bytes : fm == F_HUGETLB ? vm->hugetlb_bytes
                           : fm == F_GUEST ? vm->guest_bytes : vm->overhead_bytes;
                if (v != UINT64_MAX) {
                        head(f, fm, vm);
                        val_u(f, v);
                }
                break;
        }
        case F_NIC_RX:
        case F_NIC_TX:
        case F_NIC_RXP:
        case F_NIC_TXP:
                for (unsigned i = 0; i < vm->n_nics; i++) {
                        const struct top_nic *n = &vm->nics[i];
                        if (!n->present)
                                continue;
                        head(f, fm, vm);
                        label(f, "nic", n->link, false);
                        val_u(f, fm == F_NIC_RX ? n->rx_bytes : fm == F_NIC_TX ? n->tx_bytes
                                 : fm == F_NIC_RXP ? n->rx_packets : n->tx_packets);
                }
                break;
        case F_DISK_RD:
        case F_DISK_WR:
        case F_DISK_RDO:
        case F_DISK_WRO:
                for (unsigned i = 0; i < vm->n_disks; i++) {
                        const struct top_disk *d = &vm->disks[i];
                        head(f, fm, vm);
                        label(f, "disk", d->id, false);
                        val_u(f, fm == F_DISK_RD ? d->rd_bytes : fm == F_DISK_WR ? d->wr_bytes
                                 : fm == F_DISK_RDO ? d->rd_ops : d->wr_ops);
                }
                break;
        case F_HOSTDEV:
                for (unsigned i = 0; i < vm->n_hostdevs; i++) {
                        const struct top_hostdev *h = &vm->hostdevs[i];
                        head(f, fm, vm);
                        label(f, "device", h->addr, false);
                        label(f, "driver", h->driver, false);
                        (void) snprintf(buf, sizeof(buf), "%d", h->group);
                        label(f, "iommu_group", h->group >= 0 ? buf : "", false);
                        val_u(f, 1);
                }
                break;
        case F_TPM:
                if (vm->tpm) {
                        head(f, fm, vm);
                        val_u(f, vm->swtpm_alive);
                }
                break;
        case F_USB:
                if (vm->usb_known) {
                        head(f, fm, vm);
                        val_u(f, vm->n_usb);
                }
                break;
        case F_SHMEM:
                for (unsigned i = 0; i < vm->n_shmem; i++) {
                        if (!vm->shmem[i].present)
                                continue;
                        head(f, fm, vm);
                        label(f, "device", vm->shmem[i].path, false);
                        val_u(f, vm->shmem[i].size);
                }
                break;
        case _F_MAX:
                break;
        }
}

char *top_format_prometheus(const struct top_vm *vms, size_t n)
{
        char *text = NULL;
        size_t size = 0;
        FILE *f = open_memstream(&text, &size);

        if (!f)
                return NULL;
        for (int fm = 0; fm < _F_MAX; fm++) {
                fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", families[fm].name, families[fm].help, families[fm].name,
                        families[fm].type);
                for (size_t i = 0; i < n; i++)
                        emit(f, (enum fam) fm, &vms[i]);
        }
        if (ferror(f)) {
                fclose(f);
                free(text);
                return NULL;
        }
        if (fclose(f) != 0) {
                free(text);
                return NULL;
        }
        return text;
}
