/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* vCPU and emulator thread placement (pin.h). */
#include <dirent.h>
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/cpuset.h"
#include "run/pin.h"
#include "qmp.h"

#define QMP_TIMEOUT_MS 5000

static int read_cpuset(const char *sysfs_root, const char *rel, struct cpuset *ret)
{
        char path[4096], buf[4096];
        _cleanup_fclose_ FILE *f = NULL;

        if (xsnprintf(path, sizeof(path), "%s/devices/system/cpu/%s", sysfs_root, rel) < 0)
                return -ENAMETOOLONG;
        f = fopen(path, "re");
        if (!f)
                return -errno;
        if (!fgets(buf, sizeof(buf), f))
                buf[0] = '\0';
        if (buf[0] == '\n' || buf[0] == '\0') { /* the kernel prints an empty line */
                *ret = (struct cpuset) {};
                return 0;
        }
        return cpuset_parse(buf, ret);
}

static int check_online(const struct cpuset *set, const struct cpuset *online, const char *path,
                        struct vl_error *e)
{
        char want[256], have[256];
        int cpu = cpuset_first_missing(set, online);

        if (cpu < 0)
                return 0;
        (void) cpuset_format(set, want, sizeof(want));
        (void) cpuset_format(online, have, sizeof(have));
        return vl_error_set_at(e, EINVAL, NULL, 0, 0, path,
                               "host CPU %d (of \"%s\") is not online (online: %s)", cpu, want, have);
}

int pin_check(const struct profile *p, const char *sysfs_root, struct vl_error *e,
              struct vl_warnings *w)
{
        const struct profile_cpu *c = &p->cpu;
        struct cpuset online, isolated = {}, nohz = {}, vcpus = {};
        char path[64], list[256];
        int r;

        bool io_pinned = false;

        for (unsigned t = 0; t < p->n_iothreads; t++)
                io_pinned = io_pinned || p->iothreads[t].pinned;
        if (!c->pinned && !c->emulator_pinned && !io_pinned)
                return 0;
        r = read_cpuset(sysfs_root, "online", &online);
        if (r < 0)
                return vl_error_set(e, -r, "cannot read the online CPUs from %s/devices/system/cpu/online: %s",
                                    sysfs_root, strerror(-r));
        for (unsigned i = 0; c->pinned && i < c->n_pin; i++) {
                snprintf(path, sizeof(path), "$.cpu.pin[%u]", i);
                r = check_online(&c->pin[i], &online, path, e);
                if (r < 0)
                        return r;
                for (size_t k = 0; k < ELEMENTSOF(vcpus.bits); k++)
                        vcpus.bits[k] |= c->pin[i].bits[k];
        }
        if (c->emulator_pinned) {
                r = check_online(&c->emulator_pin, &online, "$.cpu.emulator_pin", e);
                if (r < 0)
                        return r;
        }
        for (unsigned t = 0; t < p->n_iothreads; t++) {
                if (!p->iothreads[t].pinned)
                        continue;
                snprintf(path, sizeof(path), "$.iothreads[%u].pin", t);
                r = check_online(&p->iothreads[t].pin, &online, path, e);
                if (r < 0)
                        return r;
        }
        if (!c->pinned)
                return 0;

        /* Either file may be missing (older kernels, no nohz support). */
        (void) read_cpuset(sysfs_root, "isolated", &isolated);
        (void) read_cpuset(sysfs_root, "nohz_full", &nohz);
        for (size_t k = 0; k < ELEMENTSOF(isolated.bits); k++)
                isolated.bits[k] |= nohz.bits[k];
        if (cpuset_first_missing(&vcpus, &isolated) >= 0) {
                struct cpuset shared = {};
                for (unsigned cpu = 0; cpu < CPUSET_MAX; cpu++)
                        if (cpuset_has(&vcpus, cpu) && !cpuset_has(&isolated, cpu))
                                cpuset_add(&shared, cpu);
                (void) cpuset_format(&shared, list, sizeof(list));
                vl_warn(w, "$.cpu.pin: host CPUs %s are not isolated (isolcpus=, nohz_full= or a "
                           "cpuset): host tasks will run there too, ignoring",
                        list);
        }
        /* A vCPU on one SMT thread of a core whose sibling serves the host
         * shares its caches and execution units with host work: latency. */
        for (unsigned cpu = 0; cpu < CPUSET_MAX; cpu++) {
                struct cpuset sib;
                char rel[96];
                int other;

                if (!cpuset_has(&vcpus, cpu))
                        continue;
                snprintf(rel, sizeof(rel), "cpu%u/topology/thread_siblings_list", cpu);
                if (read_cpuset(sysfs_root, rel, &sib) < 0)
                        continue;
                other = cpuset_first_missing(&sib, &vcpus);
                if (other >= 0) {
                        vl_warn(w, "$.cpu.pin: host CPU %u shares a core with CPU %d, which the VM "
                                   "does not get: give the VM both SMT siblings, ignoring",
                                cpu, other);
                        break;
                }
        }
        return 0;
}

static int set_affinity(pid_t tid, const struct cpuset *set, struct vl_error *e, const char *what)
{
        cpu_set_t *mask;
        size_t size = CPU_ALLOC_SIZE(CPUSET_MAX);
        int r = 0;

        mask = CPU_ALLOC(CPUSET_MAX);
        if (!mask)
                return vl_error_set(e, ENOMEM, "out of memory");
        CPU_ZERO_S(size, mask);
        for (unsigned cpu = 0; cpu < CPUSET_MAX; cpu++)
                if (cpuset_has(set, cpu))
                        CPU_SET_S(cpu, size, mask);
        if (sched_setaffinity(tid, size, mask) < 0) {
                char list[256];
                r = errno;
                (void) cpuset_format(set, list, sizeof(list));
                r = vl_error_set(e, r, "cannot pin %s (thread %d) to CPUs %s: %s", what, (int) tid, list,
                                 strerror(r));
        }
        CPU_FREE(mask);
        return r;
}

/* The pinned I/O threads' thread ids, by index (QMP query-iothreads: the
 * ids are the builder's "iothreadN"), as libvirt finds them
 * (qemuProcessDetectIOThreadPIDs). 0 where not pinned. */
static int iothread_tids(const struct profile *p, struct qmp *q, pid_t tid[static PROFILE_IOTHREADS_MAX],
                         struct vl_error *e)
{
        struct qmp_error qe;
        json_t *ret = NULL, *t;
        size_t i;
        int r;

        r = qmp_execute_sync(q, "query-iothreads", NULL, QMP_TIMEOUT_MS, &ret, &qe);
        if (r == -EREMOTEIO)
                return vl_error_set(e, EREMOTEIO, "query-iothreads: %s: %s", qe.error_class, qe.desc);
        if (r < 0)
                return vl_error_set(e, -r, "query-iothreads: %s", strerror(-r));
        json_array_foreach (ret, i, t) {
                const char *id = json_string_value(json_object_get(t, "id"));
                json_int_t tid_v = json_integer_value(json_object_get(t, "thread-id"));
                unsigned n;
                int end = 0;

                if (id && sscanf(id, "iothread%u%n", &n, &end) == 1 && id[end] == '\0' && n < p->n_iothreads &&
                    p->iothreads[n].pinned && tid_v > 0)
                        tid[n] = (pid_t) tid_v;
        }
        json_decref(ret);
        for (unsigned n = 0; n < p->n_iothreads; n++)
                if (p->iothreads[n].pinned && !tid[n])
                        return vl_error_set(e, ESRCH, "QEMU reported no thread for I/O thread iothread%u", n);
        return 0;
}

int pin_apply(const struct profile *p, struct qmp *q, pid_t qemu_pid, const char *proc_root,
              struct vl_error *e)
{
        const struct profile_cpu *c = &p->cpu;
        pid_t vcpu_tid[PROFILE_VCPUS_MAX] = {}, io_tid[PROFILE_IOTHREADS_MAX] = {};
        bool io_pinned = false;
        struct qmp_error qe;
        json_t *ret = NULL, *cpu;
        size_t i;
        int r;

        for (unsigned t = 0; t < p->n_iothreads; t++)
                io_pinned = io_pinned || p->iothreads[t].pinned;
        if (!c->pinned && !c->emulator_pinned && !c->rt_priority && !io_pinned)
                return 0;
        r = qmp_execute_sync(q, "query-cpus-fast", NULL, QMP_TIMEOUT_MS, &ret, &qe);
        if (r == -EREMOTEIO)
                return vl_error_set(e, EREMOTEIO, "query-cpus-fast: %s: %s", qe.error_class, qe.desc);
        if (r < 0)
                return vl_error_set(e, -r, "query-cpus-fast: %s", strerror(-r));
        json_array_foreach (ret, i, cpu) {
                json_int_t idx = json_integer_value(json_object_get(cpu, "cpu-index"));
                json_int_t tid = json_integer_value(json_object_get(cpu, "thread-id"));
                if (idx >= 0 && idx < PROFILE_VCPUS_MAX && tid > 0)
                        vcpu_tid[idx] = (pid_t) tid;
        }
        json_decref(ret);

        for (unsigned v = 0; v < c->vcpus; v++) {
                char what[32];
                if (!vcpu_tid[v])
                        return vl_error_set(e, ESRCH, "QEMU reported no thread for vCPU %u", v);
                snprintf(what, sizeof(what), "vCPU %u", v);
                if (c->pinned && (r = set_affinity(vcpu_tid[v], &c->pin[v], e, what)) < 0)
                        return r;
                if (c->rt_priority) {
                        struct sched_param sp = { .sched_priority = (int) c->rt_priority };
                        if (sched_setscheduler(vcpu_tid[v], SCHED_FIFO, &sp) < 0)
                                return vl_error_set(e, errno, "cannot give vCPU %u (thread %d) SCHED_FIFO %u: %s",
                                                    v, (int) vcpu_tid[v], c->rt_priority, strerror(errno));
                }
        }

        if (io_pinned) {
                r = iothread_tids(p, q, io_tid, e);
                if (r < 0)
                        return r;
                for (unsigned t = 0; t < p->n_iothreads; t++) {
                        char what[32];
                        if (!p->iothreads[t].pinned)
                                continue;
                        snprintf(what, sizeof(what), "I/O thread %u", t);
                        r = set_affinity(io_tid[t], &p->iothreads[t].pin, e, what);
                        if (r < 0)
                                return r;
                }
        }

        if (c->emulator_pinned) {
                char path[4096];
                DIR *d;
                struct dirent *de;

                if (xsnprintf(path, sizeof(path), "%s/%d/task", proc_root, (int) qemu_pid) < 0)
                        return vl_error_set(e, ENAMETOOLONG, "proc root too long");
                d = opendir(path);
                if (!d)
                        return vl_error_set(e, errno, "cannot list '%s': %s", path, strerror(errno));
                /* Threads QEMU starts later inherit from the thread that
                 * starts them: the main loop and its workers, all here. */
                while ((de = readdir(d))) {
                        pid_t tid = (pid_t) atoi(de->d_name);
                        bool is_vcpu = false;
                        if (tid <= 0)
                                continue;
                        for (unsigned v = 0; v < c->vcpus; v++)
                                is_vcpu = is_vcpu || vcpu_tid[v] == tid;
                        /* A pinned I/O thread keeps its own CPUs. */
                        for (unsigned t = 0; t < p->n_iothreads; t++)
                                is_vcpu = is_vcpu || (io_tid[t] && io_tid[t] == tid);
                        if (is_vcpu)
                                continue;
                        r = set_affinity(tid, &c->emulator_pin, e, "an emulator thread");
                        if (r < 0 && r != -ESRCH) {
                                closedir(d);
                                return r;
                        }
                }
                closedir(d);
        }
        return 0;
}
