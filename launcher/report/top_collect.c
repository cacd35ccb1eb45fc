/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * One sample of one running VM for `top` and `metrics` (report/top.h): the
 * supervisor's status reply names QEMU's pid and the tools' QMP socket; the
 * journal names the links, devices and shared memory the run made; /proc
 * and sysfs hold the counters. Read-only.
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "qmp.h"
#include "base/cpuset.h"
#include "base/fs.h"
#include "base/macro.h"
#include "base/pci_addr.h"
#include "host/journal.h"
#include "host/pci.h"
#include "report/top.h"

static void note(struct top_vm *vm, const char *fmt, ...) _printf_(2, 3);
static void note(struct top_vm *vm, const char *fmt, ...)
{
        va_list ap;

        if (vm->note[0])
                return; /* the first reason is the one worth showing */
        va_start(ap, fmt);
        (void) vsnprintf(vm->note, sizeof(vm->note), fmt, ap);
        va_end(ap);
}

static uint64_t monotonic_ns(void)
{
        struct timespec ts;

        (void) clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000000000u + (uint64_t) ts.tv_nsec;
}

static double ticks_per_s(void)
{
        long t = sysconf(_SC_CLK_TCK);

        return t > 0 ? (double) t : 100.0;
}

/* PROC/PID/FILE, or PROC/PID/task/TID/FILE when tid > 0. */
static int read_proc(const struct host_roots *roots, char *buf, size_t size, pid_t pid, pid_t tid, const char *file)
{
        char path[PATH_MAX];
        int r = tid > 0 ? fs_join(path, sizeof(path), roots->proc, "%d/task/%d/%s", (int) pid, (int) tid, file)
                        : fs_join(path, sizeof(path), roots->proc, "%d/%s", (int) pid, file);

        return r < 0 ? r : fs_read(path, buf, size);
}

static int parse_status(const char *status, size_t len, struct top_vm *vm, char *qmp_path, size_t qmp_size,
                        struct vl_error *e)
{
        json_error_t je;
        _cleanup_(json_decrefp) json_t *root = json_loadb(status, len, JSON_REJECT_DUPLICATES, &je);
        json_t *pin;
        const char *state, *qmp;

        if (!json_is_object(root))
                return vl_error_set(e, EBADMSG, "the status reply is not a JSON object: %s", je.text);
        state = json_string_value(json_object_get(root, "state"));
        qmp = json_string_value(json_object_get(root, "qmp"));
        if (!state || !json_is_integer(json_object_get(root, "qemu_pid")))
                return vl_error_set(e, EBADMSG, "the status reply has no \"state\" or \"qemu_pid\"");
        (void) snprintf(vm->state, sizeof(vm->state), "%s", state);
        vm->qemu_pid = (pid_t) json_integer_value(json_object_get(root, "qemu_pid"));
        vm->launcher_pid = (pid_t) json_integer_value(json_object_get(root, "launcher_pid"));
        if (json_is_integer(json_object_get(root, "swtpm_pid"))) {
                vm->tpm = true;
                vm->swtpm_pid = (pid_t) json_integer_value(json_object_get(root, "swtpm_pid"));
        }
        (void) snprintf(qmp_path, qmp_size, "%s", qmp ? qmp : "");
        pin = json_object_get(root, "pin");
        for (size_t i = 0; json_is_array(pin) && i < json_array_size(pin) && i < TOP_VCPUS_MAX; i++) {
                const char *s = json_string_value(json_array_get(pin, i));
                /* held by index until QMP says which thread is which vCPU */
                if (s)
                        (void) snprintf(vm->vcpus[i].pin, sizeof(vm->vcpus[i].pin), "%s", s);
        }
        return 0;
}

static void collect_vcpus(const struct host_roots *roots, struct qmp *q, struct top_vm *vm)
{
        _cleanup_(json_decrefp) json_t *cpus = NULL;
        char pins[TOP_VCPUS_MAX][64];
        struct qmp_error qe;
        size_t i;
        int r;

        for (i = 0; i < TOP_VCPUS_MAX; i++)
                memcpy(pins[i], vm->vcpus[i].pin, sizeof(pins[i]));
        r = qmp_execute_sync(q, "query-cpus-fast", NULL, TOP_QMP_TIMEOUT_MS, &cpus, &qe);
        if (r < 0 || !json_is_array(cpus)) {
                note(vm, "query-cpus-fast: %s", r == -EREMOTEIO ? qe.desc : strerror(r < 0 ? -r : EPROTO));
                return;
        }
        for (i = 0; i < json_array_size(cpus) && vm->n_vcpus < TOP_VCPUS_MAX; i++) {
                json_t *c = json_array_get(cpus, i);
                struct top_vcpu *v = &vm->vcpus[vm->n_vcpus];
                char buf[1024];
                int idx = (int) json_integer_value(json_object_get(c, "cpu-index"));

                memset(v, 0, sizeof(*v));
                v->index = idx;
                v->tid = (pid_t) json_integer_value(json_object_get(c, "thread-id"));
                v->host_cpu = -1;
                v->cpu_percent = -1;
                if (idx >= 0 && idx < TOP_VCPUS_MAX && pins[idx][0]) {
                        v->pinned = true;
                        memcpy(v->pin, pins[idx], sizeof(v->pin));
                }
                if (v->tid > 0 && read_proc(roots, buf, sizeof(buf), vm->qemu_pid, v->tid, "stat") == 0 &&
                    top_parse_stat(buf, &v->ticks, &v->host_cpu, NULL) == 0)
                        v->cpu_seconds = (double) v->ticks / ticks_per_s();
                else
                        note(vm, "vCPU %d: thread %d is not readable in /proc", idx, (int) v->tid);
                if (v->pinned) {
                        struct cpuset set;
                        v->on_pin = cpuset_parse(v->pin, &set) == 0 && v->host_cpu >= 0 &&
                                    cpuset_has(&set, (unsigned) v->host_cpu);
                }
                vm->n_vcpus++;
        }
        for (i = vm->n_vcpus; i < TOP_VCPUS_MAX; i++)
                vm->vcpus[i].pin[0] = '\0';
}

/* "/machine/peripheral/disk0/virtio-backend" → "disk0": the id the profile's
 * disk got on QEMU's command line; the backend name when there is no device. */
static void disk_id(json_t *b, char *buf, size_t size)
{
        const char *qdev = json_string_value(json_object_get(b, "qdev"));
        const char *dev = json_string_value(json_object_get(b, "device"));
        static const char pfx[] = "/machine/peripheral/";

        if (qdev && strncmp(qdev, pfx, sizeof(pfx) - 1) == 0) {
                const char *s = qdev + sizeof(pfx) - 1;
                (void) snprintf(buf, size, "%.*s", (int) strcspn(s, "/"), s);
        } else if (dev && dev[0])
                (void) snprintf(buf, size, "%s", dev);
        else
                (void) snprintf(buf, size, "%s", qdev ? qdev : json_string_value(json_object_get(b, "node-name")) ?: "?");
}

static void collect_disks(struct qmp *q, struct top_vm *vm)
{
        _cleanup_(json_decrefp) json_t *list = NULL;
        struct qmp_error qe;
        int r;

        r = qmp_execute_sync(q, "query-blockstats", NULL, TOP_QMP_TIMEOUT_MS, &list, &qe);
        if (r < 0 || !json_is_array(list)) {
                note(vm, "query-blockstats: %s", r == -EREMOTEIO ? qe.desc : strerror(r < 0 ? -r : EPROTO));
                return;
        }
        for (size_t i = 0; i < json_array_size(list) && vm->n_disks < TOP_DISKS_MAX; i++) {
                json_t *b = json_array_get(list, i), *st = json_object_get(b, "stats");
                struct top_disk *d = &vm->disks[vm->n_disks];

                if (!json_is_object(st))
                        continue;
                memset(d, 0, sizeof(*d));
                disk_id(b, d->id, sizeof(d->id));
                d->rd_bytes = (uint64_t) json_integer_value(json_object_get(st, "rd_bytes"));
                d->wr_bytes = (uint64_t) json_integer_value(json_object_get(st, "wr_bytes"));
                d->rd_ops = (uint64_t) json_integer_value(json_object_get(st, "rd_operations"));
                d->wr_ops = (uint64_t) json_integer_value(json_object_get(st, "wr_operations"));
                d->rd_rate = d->wr_rate = -1;
                vm->n_disks++;
        }
}

static void collect_guest_memory(struct qmp *q, struct top_vm *vm)
{
        _cleanup_(json_decrefp) json_t *m = NULL;
        struct qmp_error qe;
        int r;

        r = qmp_execute_sync(q, "query-memory-size-summary", NULL, TOP_QMP_TIMEOUT_MS, &m, &qe);
        if (r < 0 || !json_is_integer(json_object_get(m, "base-memory"))) {
                note(vm, "query-memory-size-summary: %s", r == -EREMOTEIO ? qe.desc : strerror(r < 0 ? -r : EPROTO));
                return;
        }
        vm->guest_bytes = (uint64_t) json_integer_value(json_object_get(m, "base-memory"));
        if (json_is_integer(json_object_get(m, "plugged-memory")))
                vm->guest_bytes += (uint64_t) json_integer_value(json_object_get(m, "plugged-memory"));
}

static void collect_usb(struct qmp *q, struct top_vm *vm)
{
        _cleanup_(json_decrefp) json_t *r_text = NULL;
        struct qmp_error qe;
        const char *text;
        int r;

        r = qmp_execute_sync(q, "x-query-usb", NULL, TOP_QMP_TIMEOUT_MS, &r_text, &qe);
        if (r == -EREMOTEIO && strcmp(qe.error_class, "CommandNotFound") == 0)
                return; /* QEMU < 6.2: USB stays unknown */
        if (r == -EREMOTEIO && strstr(qe.desc, "not enabled")) {
                vm->usb_known = true; /* no USB controller: "USB support not enabled" */
                return;
        }
        text = json_string_value(json_object_get(r_text, "human-readable-text"));
        if (r < 0 || !text) {
                note(vm, "x-query-usb: %s", r == -EREMOTEIO ? qe.desc : strerror(r < 0 ? -r : EPROTO));
                return;
        }
        vm->usb_known = true;
        (void) top_parse_usb(text, vm);
}

static void collect_qmp(const struct host_roots *roots, const char *path, struct top_vm *vm)
{
        _cleanup_(qmp_freep) struct qmp *q = NULL;
        int r;

        if (!path[0]) {
                note(vm, "the VM has no QMP socket for tools");
                return;
        }
        r = qmp_connect_path(path, NULL, &q);
        if (r >= 0)
                r = qmp_handshake(q, TOP_QMP_TIMEOUT_MS);
        if (r < 0) {
                /* QEMU serves one QMP client at a time: another tool may hold it. */
                note(vm, "'%s': %s%s", path, strerror(-r), r == -ETIMEDOUT ? " (another client holds it?)" : "");
                return;
        }
        collect_vcpus(roots, q, vm);
        collect_disks(q, vm);
        collect_guest_memory(q, vm);
        collect_usb(q, vm);
}

static void collect_process(const struct host_roots *roots, struct top_vm *vm)
{
        char buf[4096];
        uint64_t ticks, start, v;
        double up;
        int cpu;

        if (read_proc(roots, buf, sizeof(buf), vm->qemu_pid, 0, "stat") < 0 ||
            top_parse_stat(buf, &ticks, &cpu, &start) < 0) {
                note(vm, "QEMU (pid %d) is not readable in /proc", (int) vm->qemu_pid);
                return;
        }
        vm->cpu_seconds = (double) ticks / ticks_per_s();
        {
                char path[PATH_MAX];
                if (fs_join(path, sizeof(path), roots->proc, "uptime") == 0 && fs_read(path, buf, sizeof(buf)) == 0 &&
                    sscanf(buf, "%lf", &up) == 1)
                        vm->uptime_s = up - (double) start / ticks_per_s();
        }
        if (read_proc(roots, buf, sizeof(buf), vm->qemu_pid, 0, "status") == 0 &&
            top_parse_kib(buf, "VmRSS", &v) == 0)
                vm->rss_bytes = v;
        if (read_proc(roots, buf, sizeof(buf), vm->qemu_pid, 0, "smaps_rollup") == 0) {
                uint64_t priv = 0, shared = 0;
                /* hugetlbfs pages are not in VmRSS: smaps counts them apart. */
                int rp = top_parse_kib(buf, "Private_Hugetlb", &priv);
                int rs = top_parse_kib(buf, "Shared_Hugetlb", &shared);
                if (rp == 0 || rs == 0)
                        vm->hugetlb_bytes = priv + shared;
        }
}

static void collect_journal(const struct host_roots *roots, struct top_vm *vm)
{
        _cleanup_free_ struct journal *j = malloc(sizeof(*j));
        struct vl_error e;
        int r;

        if (!j) {
                note(vm, "journal: %s", strerror(ENOMEM));
                return;
        }
        r = journal_load(roots, vm->name, j, &e);
        if (r == -ENOENT)
                return; /* nothing on the host changed for this VM */
        if (r < 0) {
                note(vm, "%s", e.msg);
                return;
        }
        for (unsigned i = 0; i < j->n_devices && vm->n_hostdevs < TOP_HOSTDEVS_MAX; i++) {
                struct top_hostdev *h = &vm->hostdevs[vm->n_hostdevs++];
                struct pci_device d;
                struct vl_error pe;

                (void) pci_addr_format(&j->devices[i].addr, h->addr);
                h->group = -1;
                h->driver[0] = '\0';
                if (pci_device_read(roots->sysfs, &j->devices[i].addr, &d, &pe) == 0) {
                        h->group = d.iommu_group;
                        (void) snprintf(h->driver, sizeof(h->driver), "%s", d.driver);
                }
        }
        for (unsigned i = 0; i < j->n_entries; i++) {
                const struct journal_entry *x = &j->entries[i];
                char path[PATH_MAX], val[32];

                if ((x->kind == JOURNAL_TAP || x->kind == JOURNAL_MACVTAP) && vm->n_nics < TOP_NICS_MAX) {
                        static const char *const names[] = { "rx_bytes", "tx_bytes", "rx_packets", "tx_packets" };
                        struct top_nic *n = &vm->nics[vm->n_nics++];
                        uint64_t *dst[] = { &n->rx_bytes, &n->tx_bytes, &n->rx_packets, &n->tx_packets };

                        memset(n, 0, sizeof(*n));
                        (void) snprintf(n->link, sizeof(n->link), "%s", x->link.name);
                        (void) snprintf(n->kind, sizeof(n->kind), "%s", journal_kind_to_string(x->kind));
                        n->rx_rate = n->tx_rate = -1;
                        n->present = true;
                        for (size_t k = 0; k < ELEMENTSOF(names); k++) {
                                if (fs_join(path, sizeof(path), roots->sysfs, "class/net/%s/statistics/%s",
                                            n->link, names[k]) < 0 ||
                                    fs_read(path, val, sizeof(val)) < 0 ||
                                    sscanf(val, "%" SCNu64, dst[k]) != 1)
                                        n->present = false;
                        }
                } else if ((x->kind == JOURNAL_SHMEM || x->kind == JOURNAL_SHMEM_OWNER) && vm->n_shmem < TOP_SHMEM_MAX) {
                        struct top_shmem *s = &vm->shmem[vm->n_shmem++];
                        struct stat st;

                        (void) snprintf(s->path, sizeof(s->path), "%s", x->shmem.path);
                        s->present = stat(s->path, &st) == 0;
                        s->size = s->present && S_ISREG(st.st_mode) ? (uint64_t) st.st_size : 0;
                }
        }
}

int top_collect(const struct host_roots *roots, const char *name, const char *status, size_t len,
                struct top_vm *ret, struct vl_error *e)
{
        char qmp_path[PROFILE_PATH_MAX];
        int r;

        memset(ret, 0, sizeof(*ret));
        (void) snprintf(ret->name, sizeof(ret->name), "%s", name);
        ret->uptime_s = ret->cpu_percent = -1;
        ret->rss_bytes = ret->hugetlb_bytes = ret->guest_bytes = ret->overhead_bytes = UINT64_MAX;
        r = parse_status(status, len, ret, qmp_path, sizeof(qmp_path), e);
        if (r < 0)
                return r;
        ret->sampled_ns = monotonic_ns();
        if (ret->qemu_pid > 0) {
                collect_process(roots, ret);
                collect_qmp(roots, qmp_path, ret);
        }
        if (ret->tpm)
                ret->swtpm_alive = journal_pid_alive(roots->proc, ret->swtpm_pid, 0);
        collect_journal(roots, ret);
        if (ret->rss_bytes != UINT64_MAX && ret->guest_bytes != UINT64_MAX) {
                uint64_t used = ret->rss_bytes + (ret->hugetlb_bytes != UINT64_MAX ? ret->hugetlb_bytes : 0);
                ret->overhead_bytes = used > ret->guest_bytes ? used - ret->guest_bytes : 0;
        }
        return 0;
}

static double rate(uint64_t now, uint64_t before, double dt)
{
        return now >= before ? (double) (now - before) / dt : -1;
}

void top_vm_rates(struct top_vm *cur, const struct top_vm *prev)
{
        double dt;

        if (!prev || prev->qemu_pid != cur->qemu_pid || cur->sampled_ns <= prev->sampled_ns)
                return;
        dt = (double) (cur->sampled_ns - prev->sampled_ns) / 1e9;
        if (cur->cpu_seconds >= prev->cpu_seconds)
                cur->cpu_percent = (cur->cpu_seconds - prev->cpu_seconds) / dt * 100.0;
        for (unsigned i = 0; i < cur->n_vcpus; i++)
                for (unsigned k = 0; k < prev->n_vcpus; k++)
                        if (prev->vcpus[k].tid == cur->vcpus[i].tid && cur->vcpus[i].ticks >= prev->vcpus[k].ticks)
                                cur->vcpus[i].cpu_percent =
                                        (cur->vcpus[i].cpu_seconds - prev->vcpus[k].cpu_seconds) / dt * 100.0;
        for (unsigned i = 0; i < cur->n_nics; i++)
                for (unsigned k = 0; k < prev->n_nics; k++)
                        if (strcmp(prev->nics[k].link, cur->nics[i].link) == 0 && cur->nics[i].present) {
                                cur->nics[i].rx_rate = rate(cur->nics[i].rx_bytes, prev->nics[k].rx_bytes, dt);
                                cur->nics[i].tx_rate = rate(cur->nics[i].tx_bytes, prev->nics[k].tx_bytes, dt);
                        }
        for (unsigned i = 0; i < cur->n_disks; i++)
                for (unsigned k = 0; k < prev->n_disks; k++)
                        if (strcmp(prev->disks[k].id, cur->disks[i].id) == 0) {
                                cur->disks[i].rd_rate = rate(cur->disks[i].rd_bytes, prev->disks[k].rd_bytes, dt);
                                cur->disks[i].wr_rate = rate(cur->disks[i].wr_bytes, prev->disks[k].wr_bytes, dt);
                        }
}
