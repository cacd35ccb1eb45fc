/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What `vfio-launch top` and `metrics` show about one running VM, read the
 * ways a running VM already offers: the supervisor's `status` reply (the CLI
 * fetches it through the control socket and hands the text here: report/
 * does not talk to run/), the tools' QMP socket it names, the VM's journal
 * (its links, devices and shared memory files), /proc and sysfs.
 *
 * Read-only and silent: nothing here prints or changes the host. A figure
 * that cannot be read is left at its "unknown" value and the first reason is
 * kept in top_vm.note, so one VM with a busy QMP socket still shows the rest.
 *
 * struct top_vm is plain data (copy with '='); top_vm_rates() derives the
 * per-second figures from two samples of the same VM.
 */
#pragma once

#include <net/if.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "base/error.h"
#include "base/roots.h"
#include "host/journal.h"
#include "profile/profile.h"

#define TOP_VCPUS_MAX PROFILE_VCPUS_MAX
#define TOP_NICS_MAX 16
#define TOP_DISKS_MAX 32
#define TOP_HOSTDEVS_MAX JOURNAL_DEVICES_MAX
#define TOP_SHMEM_MAX 8
#define TOP_USB_MAX 16
#define TOP_NOTE_MAX 256
#define TOP_QMP_TIMEOUT_MS 2000 /* per VM: a busy QMP socket (one client at a time) must not stall the view */

struct top_vcpu {
        int index;          /* QMP cpu-index */
        pid_t tid;          /* its host thread (QMP thread-id) */
        int host_cpu;       /* the CPU it last ran on (stat field 39); -1 = unknown */
        uint64_t ticks;     /* utime + stime, clock ticks */
        double cpu_seconds; /* the same in seconds */
        double cpu_percent; /* over the last interval; -1 = not known yet (one sample) */
        bool pinned;        /* the profile pins it (the supervisor's `status` says so) */
        char pin[64];       /* its cpu.pin ("2-3"), when pinned */
        bool on_pin;        /* pinned and host_cpu is in pin */
};

struct top_nic {
        char link[IFNAMSIZ];  /* the tap/macvtap link on the host */
        char kind[8];         /* "tap", "macvtap" */
        /* the link's own counters: what the link receives is what the guest sends */
        uint64_t rx_bytes, tx_bytes, rx_packets, tx_packets;
        double rx_rate, tx_rate; /* bytes/s; -1 = not known yet */
        bool present;            /* the link is there */
};

struct top_disk {
        char id[64];     /* the QEMU device id ("disk0"), or the block backend's name */
        uint64_t rd_bytes, wr_bytes, rd_ops, wr_ops;
        double rd_rate, wr_rate; /* bytes/s; -1 = not known yet */
};

struct top_hostdev {
        char addr[PCI_ADDR_STRLEN];
        int group;                  /* IOMMU group now (-1 = none/gone) */
        char driver[64];            /* its driver now; "" = none */
};

/* A USB device the guest sees, from QMP x-query-usb (QEMU >= 6.2; the
 * only QMP view of USB, as the text of HMP `info usb`). */
struct top_usb {
        char port[16];     /* "1", "1.2" */
        char speed[16];    /* "480 Mb/s" */
        char product[64];  /* "QEMU USB Tablet", "Logitech USB Receiver" */
        char id[64];       /* its QEMU id; "" = none */
};

struct top_shmem {
        char path[PROFILE_PATH_MAX];
        uint64_t size; /* bytes; 0 for a kvmfr node */
        bool present;
};

struct top_vm {
        char name[PROFILE_NAME_MAX];
        char state[16];             /* the supervisor's: "starting", "running", "stopping" */
        pid_t launcher_pid, qemu_pid;
        uint64_t sampled_ns;        /* CLOCK_MONOTONIC of the sample */
        double uptime_s;            /* since QEMU started; -1 = unknown */
        double cpu_seconds;         /* all of QEMU's threads */
        double cpu_percent;         /* of one CPU, over the interval; -1 = not known yet */
        /* memory: bytes; UINT64_MAX = unknown */
        uint64_t rss_bytes;         /* VmRSS: hugetlbfs pages are not in it */
        uint64_t hugetlb_bytes;     /* Private_ + Shared_Hugetlb of smaps_rollup */
        uint64_t guest_bytes;       /* QMP query-memory-size-summary base-memory */
        uint64_t overhead_bytes;    /* rss + hugetlb - guest, 0 while the guest has not touched its RAM */
        bool tpm;                   /* the supervisor runs an swtpm for it */
        pid_t swtpm_pid;
        bool swtpm_alive;
        bool usb_known;             /* x-query-usb answered (n_usb = 0: no USB or none plugged) */
        unsigned n_vcpus, n_nics, n_disks, n_hostdevs, n_shmem, n_usb;
        struct top_vcpu vcpus[TOP_VCPUS_MAX];
        struct top_nic nics[TOP_NICS_MAX];
        struct top_disk disks[TOP_DISKS_MAX];
        struct top_hostdev hostdevs[TOP_HOSTDEVS_MAX];
        struct top_shmem shmem[TOP_SHMEM_MAX];
        struct top_usb usb[TOP_USB_MAX];
        char note[TOP_NOTE_MAX];    /* the first figure that could not be read, and why; "" = none */
};

/* Sample VM `name` from its supervisor's `status` reply (status, len bytes
 * of JSON) and what that names. Returns 0 (figures that could not be read
 * are unknown, ret->note says why); -EBADMSG when status is not a status
 * reply (e filled). */
int top_collect(const struct host_roots *roots, const char *name, const char *status, size_t len,
                struct top_vm *ret, struct vl_error *e);

/* Fill cur's rates and percentages from prev, an earlier sample of the
 * same VM (matched by QEMU's pid; figures matched by thread id, link and
 * disk id). A prev of another QEMU leaves them unknown. */
void top_vm_rates(struct top_vm *cur, const struct top_vm *prev);

/* ---- /proc parsing (top_proc.c), exported for the tests ---- */

/* PROC/PID/task/TID/stat text: utime + stime (ticks) and the CPU it last
 * ran on (field 39). 0 or -EBADMSG. The command name may hold spaces and
 * parentheses: fields are counted after the LAST ')'. */
int top_parse_stat(const char *text, uint64_t *ret_ticks, int *ret_cpu, uint64_t *ret_start);

/* The text of QMP x-query-usb ("  Device 0.2, Port 1, Speed 12 Mb/s,
 * Product QEMU USB Tablet, ID: input0" per line) into vm->usb; lines
 * that are not devices are skipped. Returns the number of devices. */
unsigned top_parse_usb(const char *text, struct top_vm *vm);

/* The value of "KEY:   N kB" in /proc status/smaps_rollup text, in bytes.
 * 0, -ENOENT (no such key) or -EBADMSG. */
int top_parse_kib(const char *text, const char *key, uint64_t *ret_bytes);

/* ---- output (top_json.c, top_prom.c): text the CLI prints ---- */

/* One JSON document for n VMs (schema: docs/top.md). The caller frees it.
 * NULL on ENOMEM. */
char *top_format_json(const struct top_vm *vms, size_t n, double interval_s);

/* The Prometheus text exposition format (version 0.0.4) for n VMs. The
 * caller frees it. NULL on ENOMEM. */
char *top_format_prometheus(const struct top_vm *vms, size_t n);

/* ---- GET /metrics over HTTP (top_http.c) ---- */

#define TOP_HTTP_REQUEST_MAX 8192   /* bytes of request head read; more: 431 */
#define TOP_HTTP_CLIENT_MS 2000     /* one client at a time: a slow one is dropped after this */

/* Listen on TCP "ADDR:PORT" ("127.0.0.1:9101", "[::1]:9101"; ":PORT" or
 * "PORT" alone = 127.0.0.1). Returns the listening fd (O_CLOEXEC), -EINVAL
 * (e says what is wrong with spec) or -errno of socket/bind/listen. */
int top_http_listen(const char *spec, struct vl_error *e);

/* Answer requests on listen_fd until stop_fd is readable (a signalfd):
 * GET /metrics gets 200 with body(userdata) as text/plain; version=0.0.4
 * (NULL: 500); any other request 404, a malformed one 400, one whose head
 * exceeds TOP_HTTP_REQUEST_MAX 431. One client at a time, each bounded by
 * TOP_HTTP_CLIENT_MS. Returns 0 when stopped, -errno when poll fails. */
int top_http_serve(int listen_fd, int stop_fd, char *(*body)(void *userdata), void *userdata);
