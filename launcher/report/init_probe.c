/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Read the host for `vfio-launch init` (init_probe.h). Read-only. */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "base/fs.h"
#include "host/bind.h"
#include "host/handover.h"
#include "host/hugepages.h"
#include "host/pci.h"
#include "report/init_probe.h"

#define CACHE_INDEX_MAX 10 /* cache/index0..9: x86 has 4 or 5 */

static int read_cpuset(const char *path, struct cpuset *ret)
{
        char buf[4096];
        int r = fs_read(path, buf, sizeof(buf));

        if (r < 0)
                return r;
        if (buf[0] == '\0') { /* the kernel prints an empty line for none */
                *ret = (struct cpuset) {};
                return 0;
        }
        return cpuset_parse(buf, ret);
}

static int read_int(const char *path, long long *ret)
{
        char buf[64], *end;
        long long v;
        int r = fs_read(path, buf, sizeof(buf));

        if (r < 0)
                return r;
        errno = 0;
        v = strtoll(buf, &end, 10);
        if (errno || end == buf || *end)
                return -EBADMSG;
        *ret = v;
        return 0;
}

static int cpu_int(const char *sys, unsigned cpu, const char *rel, long long dflt)
{
        char path[4096];
        long long v;

        if (fs_join(path, sizeof(path), sys, "devices/system/cpu/cpu%u/%s", cpu, rel) < 0 ||
            read_int(path, &v) < 0 || v < INT32_MIN || v > INT32_MAX)
                return (int) dflt;
        return (int) v;
}

static void cpu_l3(const char *sys, unsigned cpu, struct cpuset *ret)
{
        char path[4096];

        for (unsigned i = 0; i < CACHE_INDEX_MAX; i++) {
                long long level;

                if (fs_join(path, sizeof(path), sys, "devices/system/cpu/cpu%u/cache/index%u/level", cpu, i) < 0 ||
                    read_int(path, &level) < 0 || level != 3)
                        continue;
                if (fs_join(path, sizeof(path), sys, "devices/system/cpu/cpu%u/cache/index%u/shared_cpu_list", cpu,
                            i) == 0 &&
                    read_cpuset(path, ret) == 0)
                        return;
        }
        *ret = (struct cpuset) {};
}

static int probe_cpus(const char *sys, struct init_host *h, struct vl_error *e)
{
        struct cpuset online;
        char path[4096];
        int r;

        if (fs_join(path, sizeof(path), sys, "devices/system/cpu/online") < 0)
                return vl_error_set(e, ENAMETOOLONG, "sysfs path too long");
        r = read_cpuset(path, &online);
        if (r < 0 || cpuset_count(&online) == 0)
                return vl_error_set(e, r < 0 ? -r : ENODATA, "cannot read the online CPUs from '%s': %s", path,
                                    r < 0 ? strerror(-r) : "empty");
        for (unsigned cpu = 0; cpu < CPUSET_MAX; cpu++) {
                struct init_cpu *c;

                if (!cpuset_has(&online, cpu))
                        continue;
                c = &h->cpus[h->n_cpus++];
                c->id = cpu;
                c->package = cpu_int(sys, cpu, "topology/physical_package_id", -1);
                c->die = cpu_int(sys, cpu, "topology/die_id", -1);
                c->core = cpu_int(sys, cpu, "topology/core_id", -1);
                if (fs_join(path, sizeof(path), sys, "devices/system/cpu/cpu%u/topology/thread_siblings_list",
                            cpu) < 0 ||
                    read_cpuset(path, &c->siblings) < 0 || !cpuset_has(&c->siblings, cpu)) {
                        c->siblings = (struct cpuset) {};
                        cpuset_add(&c->siblings, cpu);
                }
                cpu_l3(sys, cpu, &c->l3);
                c->capacity = (unsigned) cpu_int(sys, cpu, "cpu_capacity", 0);
                c->max_khz = (unsigned) cpu_int(sys, cpu, "cpufreq/cpuinfo_max_freq", 0);
        }
        /* Intel hybrid: the kernel registers one PMU per core type. */
        if (fs_join(path, sizeof(path), sys, "devices/cpu_atom/cpus") == 0 && read_cpuset(path, &h->eff_cpus) == 0 &&
            cpuset_count(&h->eff_cpus) > 0 && fs_join(path, sizeof(path), sys, "devices/cpu_core/cpus") == 0 &&
            read_cpuset(path, &h->perf_cpus) == 0 && cpuset_count(&h->perf_cpus) > 0)
                h->hybrid = true;
        return 0;
}

/* "MemTotal:       16318412 kB" */
static int probe_meminfo(const char *proc, struct init_host *h, struct vl_error *e)
{
        _cleanup_fclose_ FILE *f = NULL;
        char path[4096], line[256];
        unsigned long long v;

        if (fs_join(path, sizeof(path), proc, "meminfo") < 0)
                return vl_error_set(e, ENAMETOOLONG, "proc path too long");
        f = fopen(path, "re");
        if (!f)
                return vl_error_set(e, errno, "cannot read '%s': %s", path, strerror(errno));
        while (fgets(line, sizeof(line), f)) {
                if (sscanf(line, "MemTotal: %llu kB", &v) == 1)
                        h->mem_kib = v;
                else if (sscanf(line, "Hugepagesize: %llu kB", &v) == 1)
                        h->default_hugepage_kib = v;
        }
        if (h->mem_kib == 0)
                return vl_error_set(e, ENODATA, "'%s' has no MemTotal", path);
        return 0;
}

/* "pagesize=2M" / "pagesize=1024M" (the kernel's own spelling) in KiB. */
static uint64_t pagesize_kib(const char *opts)
{
        const char *p = strstr(opts, "pagesize=");
        unsigned long long v;
        char unit = 'K';

        if (!p || sscanf(p + 9, "%llu%c", &v, &unit) < 1)
                return 0;
        switch (unit) {
        case 'G': case 'g': return v * 1024 * 1024;
        case 'M': case 'm': return v * 1024;
        case 'K': case 'k': return v;
        default: return v / 1024; /* bytes */
        }
}

/* The octal escapes of mountinfo ("\040" for a space), in place. */
static void unescape(char *s)
{
        char *w = s;

        for (; *s; s++) {
                if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' && s[2] <= '7' && s[3] >= '0' &&
                    s[3] <= '7') {
                        *w++ = (char) ((s[1] - '0') * 64 + (s[2] - '0') * 8 + (s[3] - '0'));
                        s += 3;
                } else
                        *w++ = *s;
        }
        *w = '\0';
}

/* PROC/self/mountinfo: "ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTS [OPTIONAL...] -
 * FSTYPE SOURCE SUPEROPTS". A host without the file has no mounts we know. */
static void probe_mounts(const char *proc, struct init_host *h)
{
        _cleanup_fclose_ FILE *f = NULL;
        _cleanup_free_ char *line = NULL;
        size_t cap = 0;
        char path[4096];

        if (fs_join(path, sizeof(path), proc, "self/mountinfo") < 0 || !(f = fopen(path, "re")))
                return;
        while (getline(&line, &cap, f) > 0 && h->n_mounts < INIT_MOUNTS_MAX) {
                char mnt[1024], fstype[64], src[256], opts[1024];
                const char *sep = strstr(line, " - ");
                struct init_mount *m;

                if (!sep || sscanf(line, "%*s %*s %*s %*s %1023s", mnt) != 1 ||
                    sscanf(sep + 3, "%63s %255s %1023s", fstype, src, opts) != 3 || strcmp(fstype, "hugetlbfs") != 0)
                        continue;
                unescape(mnt);
                m = &h->mounts[h->n_mounts];
                if (strlen(mnt) >= sizeof(m->path))
                        continue;
                m->page_kib = pagesize_kib(opts);
                if (m->page_kib == 0)
                        m->page_kib = h->default_hugepage_kib;
                snprintf(m->path, sizeof(m->path), "%s", mnt);
                h->n_mounts++;
        }
}

static void probe_pools(const char *sys, struct init_host *h)
{
        for (unsigned s = HUGEPAGE_2M; s <= HUGEPAGE_1G; s++) {
                struct hugepages_pool pool;

                if (hugepages_read_pool(sys, profile_hugepage_kib(s), &pool, NULL) < 0)
                        continue;
                h->pool[s] = (struct init_pool) {
                        .present = true, .nr = pool.nr, .free = pool.free, .resv = pool.resv,
                };
        }
}

static enum init_path_state path_state(const struct host_roots *roots, const char *p)
{
        char path[4096];
        struct stat st;

        if (!p[0])
                return INIT_PATH_UNKNOWN;
        /* The host's /dev is roots->dev: a fake one in the tests. */
        if (strncmp(p, "/dev/", 5) == 0) {
                if (fs_join(path, sizeof(path), roots->dev, "%s", p + 5) < 0)
                        return INIT_PATH_UNKNOWN;
        } else if (xsnprintf(path, sizeof(path), "%s", p) < 0)
                return INIT_PATH_UNKNOWN;
        if (stat(path, &st) < 0)
                return errno == ENOENT || errno == ENOTDIR ? INIT_PATH_MISSING : INIT_PATH_UNKNOWN;
        return S_ISREG(st.st_mode) ? INIT_PATH_FILE : S_ISBLK(st.st_mode) ? INIT_PATH_BLOCK : INIT_PATH_OTHER;
}

static enum init_net_state net_state(const char *sys, const char *ifname)
{
        char path[4096];

        if (!ifname[0] || strchr(ifname, '/') || fs_join(path, sizeof(path), sys, "class/net/%s", ifname) < 0)
                return INIT_NET_UNKNOWN;
        if (fs_exists(path) <= 0)
                return INIT_NET_MISSING;
        if (fs_join(path, sizeof(path), sys, "class/net/%s/bridge", ifname) == 0 && fs_exists(path) > 0)
                return INIT_NET_BRIDGE;
        return INIT_NET_PRESENT;
}

/* PID 1 is systemd: its D-Bus API is there to stop the display manager. */
static bool probe_systemd(const char *proc)
{
        char path[4096], comm[64];

        return fs_join(path, sizeof(path), proc, "1/comm") == 0 && fs_read(path, comm, sizeof(comm)) == 0 &&
               strcmp(comm, "systemd") == 0;
}

/* fbcon's bound consoles and the bound firmware framebuffers, as a run's
 * hand-over would find them: handover_plan() of a profile that asks for
 * both is the one reader of what they are. A sysfs that cannot be read
 * leaves both unknown (none). */
static void probe_display(const struct host_roots *roots, struct init_host *h)
{
        _cleanup_free_ struct profile *p = calloc(1, sizeof(*p));
        _cleanup_free_ struct handover_plan *plan = malloc(sizeof(*plan));
        struct handover_env env;
        struct vl_error ignored;

        if (!p || !plan)
                return;
        p->host_handover = (struct profile_handover) { .enabled = true, .vtconsoles = true, .framebuffers = true };
        handover_env_init(&env, roots);
        if (handover_plan(&env, p, plan, &ignored) < 0)
                return;
        for (unsigned i = 0; i < plan->n; i++) {
                const struct journal_entry *x = &plan->steps[i].entry;

                if (!plan->steps[i].take)
                        continue;
                if (x->kind == JOURNAL_VTCON)
                        h->n_fbcon++;
                else if (x->kind == JOURNAL_FRAMEBUFFER && h->n_framebuffers++ == 0)
                        (void) snprintf(h->framebuffer, sizeof(h->framebuffer), "%.100s (%.50s)", x->handover.name,
                                        x->handover.driver);
        }
}

/* Add module m to g's list after the modules that use it
 * (SYS/module/M/holders, theirs first, by name): the order they can be
 * unloaded in. Module dependencies have no cycles; depth bounds a tree
 * that would. */
static void module_closure(const char *sys, const char *m, unsigned depth, struct init_gpu_driver *g)
{
        struct dirent **names = NULL;
        char path[4096];
        int n;

        for (unsigned i = 0; i < g->n_modules; i++)
                if (strcmp(g->modules[i], m) == 0)
                        return;
        if (depth < 8 && fs_join(path, sizeof(path), sys, "module/%s/holders", m) == 0 &&
            (n = scandir(path, &names, NULL, alphasort)) >= 0) {
                for (int i = 0; i < n; i++) {
                        if (names[i]->d_name[0] != '.')
                                module_closure(sys, names[i]->d_name, depth + 1, g);
                        free(names[i]);
                }
                free(names);
        }
        if (g->n_modules >= PROFILE_HANDOVER_MODULES_MAX || strlen(m) >= PROFILE_MODULE_NAME_MAX) {
                g->too_many = true;
                return;
        }
        (void) snprintf(g->modules[g->n_modules++], PROFILE_MODULE_NAME_MAX, "%s", m);
}

/* Each display controller's driver and, when it is a module, the modules
 * to unload for it to go. */
static void probe_gpu_drivers(const char *sys, struct init_host *h)
{
        for (unsigned i = 0; i < h->n_pci && h->n_gpu_drivers < INIT_GPU_DRIVERS_MAX; i++) {
                const struct init_pci *d = &h->pci[i];
                struct init_gpu_driver *g = &h->gpu_drivers[h->n_gpu_drivers];
                char a[PCI_ADDR_STRLEN], path[4096], module[PROFILE_MODULE_NAME_MAX];
                int r;

                if (!init_class_display(d->class_code))
                        continue;
                *g = (struct init_gpu_driver) { .addr = d->addr };
                if (fs_join(path, sizeof(path), sys, "bus/pci/devices/%s/driver", pci_addr_format(&d->addr, a)) < 0 ||
                    fs_read_link_name(path, g->driver, sizeof(g->driver)) < 0)
                        continue; /* no driver: nothing holds it */
                h->n_gpu_drivers++;
                if (fs_join(path, sizeof(path), sys, "bus/pci/drivers/%s/module", g->driver) < 0)
                        continue;
                r = fs_read_link_name(path, module, sizeof(module));
                if (r == -ENOENT)
                        g->builtin = true;
                else if (r == 0)
                        module_closure(sys, module, 0, g);
        }
}

int init_probe(const struct host_roots *roots, const char *ids_file, const struct init_options *o,
               struct init_host *h, struct vl_error *e)
{
        _cleanup_pci_ctx_ struct pci_ctx *ctx = NULL;
        _cleanup_free_ struct pci_device *devs = NULL;
        size_t n = 0;
        int r;

        memset(h, 0, sizeof(*h));
        r = pci_ctx_new(roots->sysfs, ids_file, &ctx, e);
        if (r >= 0)
                r = pci_scan(ctx, &devs, &n, e);
        if (r < 0) {
                vl_error_prefix(e, "cannot list the PCI devices");
                return r;
        }
        for (size_t i = 0; i < n && h->n_pci < INIT_PCI_MAX; i++) {
                const struct pci_device *d = &devs[i];
                struct init_pci *x = &h->pci[h->n_pci++];

                *x = (struct init_pci) { .addr = d->addr, .vendor = d->vendor_id, .device = d->device_id,
                                         .class_code = d->class_code, .group = d->iommu_group,
                                         .boot_vga = d->boot_vga };
                snprintf(x->vendor_name, sizeof(x->vendor_name), "%s", d->vendor_name);
                snprintf(x->device_name, sizeof(x->device_name), "%s", d->device_name);
                /* The run's own rule: what its in-use check calls the console. */
                if (init_class_display(d->class_code))
                        x->console = bind_device_console(roots, &d->addr, &(struct vl_error) {}) > 0;
        }
        h->iommu = pci_iommu_enabled(roots->sysfs);

        r = probe_cpus(roots->sysfs, h, e);
        if (r < 0)
                return r;
        r = probe_meminfo(roots->proc, h, e);
        if (r < 0)
                return r;
        probe_pools(roots->sysfs, h);
        probe_mounts(roots->proc, h);
        h->systemd = probe_systemd(roots->proc);
        probe_display(roots, h);
        probe_gpu_drivers(roots->sysfs, h);

        h->disk = path_state(roots, o->disk);
        h->iso = path_state(roots, o->iso);
        h->virtio_win = path_state(roots, o->virtio_win);
        h->net = net_state(roots->sysfs, o->bridge[0] ? o->bridge : o->macvtap);
        return 0;
}
