/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * doctor: host checks as data (doctor.h). Read-only, prints nothing; every
 * path is built from struct doctor_env. The checks follow what passthrough
 * guides ask users to look at (lspci -nn, the IOMMU groups, the kernel
 * parameters) and the problems users hit most
 * (docs/facts.md#F-user-complaints).
 */
#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/fs.h"
#include "host/bind.h"
#include "host/handover.h"
#include "host/hugepages.h"
#include "host/pci.h"
#include "host/vars.h"
#include "report/doctor.h"
#include "report/doctor_internal.h"

#define CMDLINE_MAX 4096

void doctor_env_init(struct doctor_env *env, const struct host_roots *roots)
{
        *env = (struct doctor_env) { .memlock_limit = UINT64_MAX };
        host_env_init(&env->hostenv, roots);
}

const char *doctor_status_to_string(enum doctor_status s)
{
        switch (s) {
        case DOCTOR_OK:
                return "ok";
        case DOCTOR_WARN:
                return "warn";
        case DOCTOR_FAIL:
                return "fail";
        }
        return "?";
}

void dr_add(struct doctor_report *rep, const char *id, enum doctor_status s, const char *title, const char *fix,
            const char *fmt, ...)
{
        struct doctor_result *r;
        va_list ap;

        if (rep->n >= DOCTOR_RESULTS_MAX) {
                rep->dropped++;
                return;
        }
        r = &rep->r[rep->n++];
        (void) snprintf(r->id, sizeof(r->id), "%s", id);
        r->status = s;
        (void) snprintf(r->title, sizeof(r->title), "%s", title);
        (void) snprintf(r->fix, sizeof(r->fix), "%s", s == DOCTOR_OK || !fix ? "" : fix);
        va_start(ap, fmt);
        (void) vsnprintf(r->evidence, sizeof(r->evidence), fmt, ap);
        va_end(ap);
}

const struct doctor_result *doctor_find(const struct doctor_report *r, const char *id)
{
        for (unsigned i = 0; i < r->n; i++)
                if (strcmp(r->r[i].id, id) == 0)
                        return &r->r[i];
        return NULL;
}

enum doctor_status doctor_worst(const struct doctor_report *r)
{
        enum doctor_status w = DOCTOR_OK;

        for (unsigned i = 0; i < r->n; i++)
                if (r->r[i].status > w)
                        w = r->r[i].status;
        return w;
}

void dr_appendf(char *buf, size_t size, const char *fmt, ...)
{
        size_t len = strnlen(buf, size);
        va_list ap;

        if (len + 1 >= size)
                return;
        va_start(ap, fmt);
        (void) vsnprintf(buf + len, size - len, fmt, ap);
        va_end(ap);
}

/* --- /proc/cpuinfo and the kernel command line ---------------------------- */

struct cpu_facts {
        bool read;
        bool vmx, svm;
        char vendor[32]; /* "GenuineIntel", "AuthenticAMD", "" */
};

static bool has_word(const char *line, const char *word)
{
        size_t n = strlen(word);

        for (const char *p = line; (p = strstr(p, word)); p += n)
                if ((p == line || p[-1] == ' ' || p[-1] == '\t' || p[-1] == ':') &&
                    (p[n] == '\0' || p[n] == ' ' || p[n] == '\n' || p[n] == '\t'))
                        return true;
        return false;
}

static void read_cpuinfo(const char *proc_root, struct cpu_facts *ret)
{
        _cleanup_fclose_ FILE *f = NULL;
        char path[PATH_MAX], line[4096];
        bool flags = false;

        memset(ret, 0, sizeof(*ret));
        if (fs_join(path, sizeof(path), proc_root, "cpuinfo") < 0 || !(f = fopen(path, "re")))
                return;
        ret->read = true;
        /* The first CPU is enough: a host does not mix vendors. A "flags"
         * line longer than the buffer is read in pieces, each checked. */
        while (fgets(line, sizeof(line), f)) {
                if (!ret->vendor[0] && strncmp(line, "vendor_id", 9) == 0) {
                        const char *v = strchr(line, ':');
                        if (v)
                                (void) sscanf(v + 1, " %31s", ret->vendor);
                }
                if (strncmp(line, "flags", 5) == 0)
                        flags = true;
                if (flags) {
                        ret->vmx = ret->vmx || has_word(line, "vmx");
                        ret->svm = ret->svm || has_word(line, "svm");
                        if (strchr(line, '\n'))
                                flags = false;
                }
        }
}

/* The value of KEY=VALUE on the command line (the last one wins, as the
 * kernel's parser does), "" for a bare KEY; NULL when absent. */
static const char *cmdline_get(const char *cmdline, const char *key, char *buf, size_t size)
{
        size_t n = strlen(key);
        const char *found = NULL;

        for (const char *p = cmdline; *p;) {
                size_t len;
                while (*p == ' ' || *p == '\n' || *p == '\t')
                        p++;
                len = strcspn(p, " \n\t");
                if (len >= n && strncmp(p, key, n) == 0 && (len == n || p[n] == '=')) {
                        size_t vlen = len == n ? 0 : len - n - 1;
                        (void) snprintf(buf, size, "%.*s", (int) vlen, len == n ? "" : p + n + 1);
                        found = buf;
                }
                p += len;
        }
        return found;
}

/* The kernel treats '-' and '_' in module parameter names alike. */
static const char *cmdline_get_mod(const char *cmdline, const char *key_underscore, char *buf,
                                   size_t size)
{
        char alt[64];
        const char *v = cmdline_get(cmdline, key_underscore, buf, size);

        (void) snprintf(alt, sizeof(alt), "%s", key_underscore);
        for (char *c = alt; *c && *c != '.'; c++)
                if (*c == '_')
                        *c = '-';
        return v ? v : cmdline_get(cmdline, alt, buf, size);
}

static bool list_has(const char *list, const char *item)
{
        size_t n = strlen(item);

        for (const char *p = list; *p;) {
                size_t len = strcspn(p, ",");
                if (len == n && strncasecmp(p, item, n) == 0)
                        return true;
                p += len;
                if (*p == ',')
                        p++;
        }
        return false;
}

/* --- host-wide checks ------------------------------------------------------ */

static void check_cpu(const struct doctor_env *env, const struct profile *p,
                      const struct cpu_facts *cpu, struct doctor_report *rep)
{
        /* A TCG profile runs without KVM: missing virtualization only slows it. */
        enum doctor_status bad = p && p->accel == ACCEL_TCG ? DOCTOR_WARN : DOCTOR_FAIL;
        char path[PATH_MAX];
        struct stat st;

        if (!cpu->read)
                dr_add(rep, "cpu-virt", DOCTOR_WARN, "CPU virtualization", "check that /proc is mounted",
                       "%s/cpuinfo cannot be read", env->hostenv.roots->proc);
        else if (cpu->vmx || cpu->svm)
                dr_add(rep, "cpu-virt", DOCTOR_OK, "CPU virtualization", NULL, "%s flag in %s/cpuinfo (%s)",
                       cpu->vmx ? "vmx" : "svm", env->hostenv.roots->proc, cpu->vendor[0] ? cpu->vendor : "vendor unknown");
        else
                dr_add(rep, "cpu-virt", bad, "CPU virtualization",
                       "enable VT-x (Intel) or SVM / AMD-V (AMD) in the firmware setup",
                       "no vmx or svm flag in %s/cpuinfo", env->hostenv.roots->proc);

        if (fs_join(path, sizeof(path), env->hostenv.roots->dev, "kvm") < 0 || stat(path, &st) < 0)
                dr_add(rep, "kvm", bad, "/dev/kvm",
                       "load kvm_intel or kvm_amd (modprobe kvm_intel), after enabling virtualization in the firmware",
                       "%s does not exist", path);
        else if (!S_ISCHR(st.st_mode))
                dr_add(rep, "kvm", bad, "/dev/kvm", "check udev and the kvm module", "%s is not a character device",
                       path);
        else if (access(path, R_OK | W_OK) < 0)
                dr_add(rep, "kvm", bad, "/dev/kvm", "run vfio-launch as root, or add the user to group kvm",
                       "%s exists but this user cannot open it read-write", path);
        else
                dr_add(rep, "kvm", DOCTOR_OK, "/dev/kvm", NULL, "%s is accessible", path);
}

/* "dmar0 dmar1" or "ivhd0": what SYSFS/class/iommu lists, and the group count. */
static void iommu_evidence(const char *sysfs_root, char *buf, size_t size)
{
        char path[PATH_MAX];
        DIR *d;
        struct dirent *de;
        unsigned groups = 0, units = 0;

        buf[0] = '\0';
        if (fs_join(path, sizeof(path), sysfs_root, "class/iommu") >= 0 && (d = opendir(path))) {
                while ((de = readdir(d)))
                        if (de->d_name[0] != '.') {
                                dr_appendf(buf, size, "%s%s", units++ ? " " : "", de->d_name);
                        }
                closedir(d);
        }
        if (fs_join(path, sizeof(path), sysfs_root, "kernel/iommu_groups") >= 0 && (d = opendir(path))) {
                while ((de = readdir(d)))
                        groups += de->d_name[0] != '.';
                closedir(d);
        }
        dr_appendf(buf, size, "%s%u IOMMU groups", units ? "; " : "no IOMMU units; ", groups);
}

static void check_iommu(const struct doctor_env *env, const struct cpu_facts *cpu, bool iommu_on,
                        struct doctor_report *rep)
{
        const char *sys = env->hostenv.roots->sysfs;
        char ev[320];
        int r;

        iommu_evidence(sys, ev, sizeof(ev));
        if (iommu_on)
                dr_add(rep, "iommu", DOCTOR_OK, "IOMMU", NULL, "on: %s (%s/class/iommu)", ev, sys);
        else
                dr_add(rep, "iommu", DOCTOR_FAIL, "IOMMU",
                       strcmp(cpu->vendor, "AuthenticAMD") == 0
                            ? "enable AMD-Vi / IOMMU in the firmware setup (and remove amd_iommu=off)"
                            : "enable VT-d in the firmware setup and boot with intel_iommu=on",
                       "off: %s", ev);

        r = pci_irq_remapping(env->hostenv.roots->proc);
        if (r == 1)
                dr_add(rep, "irq-remapping", DOCTOR_OK, "Interrupt remapping", NULL,
                       "on: IR-* interrupt chips in %s/interrupts", env->hostenv.roots->proc);
        else if (r == 0 && pci_vfio_unsafe_interrupts(sys))
                dr_add(rep, "irq-remapping", DOCTOR_WARN, "Interrupt remapping",
                       "enable interrupt remapping (VT-d / AMD-Vi with x2APIC) in the firmware; the override lets a guest inject host interrupts",
                       "off, but vfio_iommu_type1 allow_unsafe_interrupts=1 accepts devices anyway");
        else if (r == 0)
                dr_add(rep, "irq-remapping", DOCTOR_FAIL, "Interrupt remapping",
                       "enable interrupt remapping in the firmware (VT-d / AMD-Vi, x2APIC); as a last resort "
                       "vfio_iommu_type1.allow_unsafe_interrupts=1 on the kernel command line (unsafe)",
                       "off: no IR-IO-APIC / IR-PCI-MSI chips in %s/interrupts; vfio refuses devices "
                       "(QEMU: \"Failed to set iommu for container: Operation not permitted\")",
                       env->hostenv.roots->proc);
        else
                dr_add(rep, "irq-remapping", DOCTOR_WARN, "Interrupt remapping", "check dmesg for \"remapping\"",
                       "cannot tell from '%s/interrupts' (%s)", env->hostenv.roots->proc,
                       r == -ENODATA ? "no IO-APIC or MSI chips listed" : strerror(-r));
}

static void check_cmdline(const struct doctor_env *env, const struct profile *p,
                          const struct cpu_facts *cpu, bool iommu_on, bool boot_vga_hostdev,
                          struct doctor_report *rep)
{
        char path[PATH_MAX], cmdline[CMDLINE_MAX] = "", v[512], ids[PROFILE_HOSTDEVS_MAX * 10 + 1] = "";
        const char *file = env->cmdline_path;
        bool amd = strcmp(cpu->vendor, "AuthenticAMD") == 0;
        bool missing_id = false;
        const char *ids_v;
        int r;

        if (!file) {
                if (fs_join(path, sizeof(path), env->hostenv.roots->proc, "cmdline") < 0)
                        return;
                file = path;
        }
        r = fs_read(file, cmdline, sizeof(cmdline));
        if (r < 0) {
                dr_add(rep, "cmdline", DOCTOR_WARN, "Kernel command line", "check that /proc is mounted",
                       "%s cannot be read: %s", file, strerror(-r));
                return;
        }

        if (amd) {
                /* AMD-Vi is on by default when the firmware enables it. */
                if (cmdline_get(cmdline, "amd_iommu", v, sizeof(v)) && strcmp(v, "off") == 0)
                        dr_add(rep, "cmdline-iommu", DOCTOR_FAIL, "Kernel: amd_iommu",
                               "remove amd_iommu=off from the kernel command line", "amd_iommu=off in %s", file);
                else
                        dr_add(rep, "cmdline-iommu", DOCTOR_OK, "Kernel: amd_iommu", NULL,
                               "AMD CPU: the IOMMU is on by default (amd_iommu=%s)",
                               cmdline_get(cmdline, "amd_iommu", v, sizeof(v)) ? v : "not set");
        } else if (!cmdline_get(cmdline, "intel_iommu", v, sizeof(v)))
                dr_add(rep, "cmdline-iommu", iommu_on ? DOCTOR_WARN : DOCTOR_FAIL, "Kernel: intel_iommu=on",
                       "add intel_iommu=on to GRUB_CMDLINE_LINUX_DEFAULT in /etc/default/grub, run update-grub, reboot",
                       iommu_on ? "not in %s (the IOMMU is on by the kernel's default; a kernel update may change that)"
                             : "not in %s",
                       file);
        else if (!list_has(v, "on") && !list_has(v, "1"))
                dr_add(rep, "cmdline-iommu", iommu_on ? DOCTOR_WARN : DOCTOR_FAIL, "Kernel: intel_iommu=on",
                       "set intel_iommu=on in /etc/default/grub, run update-grub, reboot", "intel_iommu=%s in %s", v,
                       file);
        else
                dr_add(rep, "cmdline-iommu", DOCTOR_OK, "Kernel: intel_iommu=on", NULL, "intel_iommu=%s in %s", v,
                       file);

        if (!cmdline_get(cmdline, "iommu", v, sizeof(v)))
                dr_add(rep, "cmdline-iommu-pt", DOCTOR_WARN, "Kernel: iommu=pt",
                       "add iommu=pt: host devices skip IOMMU translation (faster host I/O)", "not in %s", file);
        else if (strcmp(v, "pt") != 0)
                dr_add(rep, "cmdline-iommu-pt", DOCTOR_WARN, "Kernel: iommu=pt",
                       "use iommu=pt: host devices skip IOMMU translation (faster host I/O)", "iommu=%s in %s", v,
                       file);
        else
                dr_add(rep, "cmdline-iommu-pt", DOCTOR_OK, "Kernel: iommu=pt", NULL, "iommu=pt in %s", file);

        for (unsigned i = 0; p && i < p->n_hostdevs; i++) {
                char one[16];
                struct pci_device d;
                uint16_t ven = p->hostdevs[i].vendor, dev = p->hostdevs[i].device;
                if (!p->hostdevs[i].ids_set) {
                        if (pci_device_read(env->hostenv.roots->sysfs, &p->hostdevs[i].host, &d, NULL) < 0)
                                continue;
                        ven = d.vendor_id;
                        dev = d.device_id;
                }
                (void) snprintf(one, sizeof(one), "%04x:%04x", ven, dev);
                dr_appendf(ids, sizeof(ids), "%s%s", ids[0] ? "," : "", one);
        }
        ids_v = cmdline_get_mod(cmdline, "vfio_pci.ids", v, sizeof(v));
        for (const char *q = ids; ids_v && *q; q += strcspn(q, ",") + (q[strcspn(q, ",")] == ',')) {
                char one[16];
                (void) snprintf(one, sizeof(one), "%.*s", (int) strcspn(q, ","), q);
                missing_id = missing_id || !list_has(ids_v, one);
        }
        if (!ids_v)
                dr_add(rep, "cmdline-vfio-ids", DOCTOR_OK, "Kernel: vfio_pci.ids", NULL,
                       "not set: vfio-launch moves the devices to vfio-pci at start and gives them back after");
        else if (missing_id)
                dr_add(rep, "cmdline-vfio-ids", DOCTOR_WARN, "Kernel: vfio_pci.ids",
                       "add the profile's ids to vfio-pci.ids, or remove the parameter (vfio-launch binds at start)",
                       "vfio_pci.ids=%s lacks some of the profile's ids (%s)", ids_v, ids);
        else
                dr_add(rep, "cmdline-vfio-ids", DOCTOR_OK, "Kernel: vfio_pci.ids", NULL,
                       "vfio_pci.ids=%s%s%s", ids_v, ids[0] ? " covers " : "", ids);

        if (cmdline_get(cmdline, "video", v, sizeof(v)) && strstr(v, "efifb:off"))
                dr_add(rep, "cmdline-efifb", DOCTOR_OK, "Kernel: video=efifb:off", NULL, "video=%s in %s", v, file);
        else
                dr_add(rep, "cmdline-efifb", boot_vga_hostdev ? DOCTOR_WARN : DOCTOR_OK, "Kernel: video=efifb:off",
                       "add video=efifb:off so the EFI framebuffer does not claim the GPU's memory "
                       "(\"BAR 0: can't reserve\")",
                       boot_vga_hostdev ? "not in %s, and a hostdev is the boot VGA"
                                     : "not in %s (not needed: no hostdev is the boot VGA)",
                       file);

        if (cmdline_get(cmdline, "rd.driver.pre", v, sizeof(v)) && list_has(v, "vfio-pci"))
                dr_add(rep, "cmdline-vfio-pre", DOCTOR_OK, "Kernel: rd.driver.pre=vfio-pci", NULL,
                       "rd.driver.pre=%s in %s", v, file);
        else
                dr_add(rep, "cmdline-vfio-pre", ids_v ? DOCTOR_WARN : DOCTOR_OK, "Kernel: rd.driver.pre=vfio-pci",
                       "add rd.driver.pre=vfio-pci (or vfio-pci to the initramfs) so vfio-pci claims the ids before the GPU driver",
                       ids_v ? "not in %s, while vfio_pci.ids is set" : "not in %s (only needed with vfio_pci.ids)",
                       file);
}

static void check_modules(const struct doctor_env *env, struct doctor_report *rep)
{
        static const char *const mods[] = { "vfio", "vfio_pci", "vfio_iommu_type1" };
        char path[PATH_MAX], have[128] = "", missing[128] = "";

        for (size_t i = 0; i < ELEMENTSOF(mods); i++) {
                bool there = fs_join(path, sizeof(path), env->hostenv.roots->sysfs, "module/%s", mods[i]) >= 0 &&
                             fs_exists(path) > 0;
                /* A built-in vfio-pci has no module dir but has its driver dir. */
                if (!there && strcmp(mods[i], "vfio_pci") == 0)
                        there = fs_join(path, sizeof(path), env->hostenv.roots->sysfs, "bus/pci/drivers/vfio-pci") >= 0 &&
                                fs_exists(path) > 0;
                dr_appendf(there ? have : missing, 128, "%s%s", (there ? have : missing)[0] ? " " : "", mods[i]);
        }
        if (missing[0])
                dr_add(rep, "vfio-modules", DOCTOR_WARN, "vfio modules",
                       "modprobe vfio-pci (vfio-launch loads it at start; to load at boot list vfio, vfio_iommu_type1, "
                       "vfio_pci in /etc/modules)",
                       "not loaded: %s (%s/module)%s%s", missing, env->hostenv.roots->sysfs, have[0] ? "; loaded: " : "", have);
        else
                dr_add(rep, "vfio-modules", DOCTOR_OK, "vfio modules", NULL, "loaded: %s", have);
}

/* --- the profile's devices -------------------------------------------------- */

static void check_hostdevs(const struct doctor_env *env, const struct profile *p, struct doctor_report *rep)
{
        const char *sys = env->hostenv.roots->sysfs;

        for (unsigned i = 0; i < p->n_hostdevs; i++) {
                const struct profile_hostdev *h = &p->hostdevs[i];
                struct pci_addr members[64];
                struct pci_device d;
                char id[48], a[PCI_ADDR_STRLEN], ev[640] = "";
                size_t n = 0;
                int r;

                pci_addr_format(&h->host, a);
                (void) snprintf(id, sizeof(id), "hostdev:%s", a);
                r = pci_device_read(sys, &h->host, &d, NULL);
                if (r < 0) {
                        dr_add(rep, id, DOCTOR_FAIL, "Host device", "fix hostdevs[].host in the profile (lspci -nn -D)",
                               "%s %s", a, r == -ENOENT ? "does not exist" : "cannot be read");
                        continue;
                }
                if (h->ids_set && (d.vendor_id != h->vendor || d.device_id != h->device)) {
                        dr_add(rep, id, DOCTOR_FAIL, "Host device",
                               "the bus was renumbered or the profile is wrong: fix host or vendor_device",
                               "%s is %04x:%04x, the profile expects %04x:%04x", a, d.vendor_id, d.device_id, h->vendor,
                               h->device);
                        continue;
                }
                if (d.iommu_group < 0) {
                        dr_add(rep, id, DOCTOR_FAIL, "Host device", "turn the IOMMU on (see \"iommu\")",
                               "%s %04x:%04x has no IOMMU group", a, d.vendor_id, d.device_id);
                        continue;
                }
                dr_appendf(ev, sizeof(ev), "%s %04x:%04x on %s, group %d:", a, d.vendor_id, d.device_id,
                           d.driver[0] ? d.driver : "no driver", d.iommu_group);
                if (pci_group_members(sys, d.iommu_group, members, ELEMENTSOF(members), &n, NULL) < 0)
                        n = 0;
                for (size_t m = 0; m < n; m++) {
                        struct pci_device md;
                        char ma[PCI_ADDR_STRLEN];
                        pci_addr_format(&members[m], ma);
                        if (pci_device_read(sys, &members[m], &md, NULL) < 0)
                                dr_appendf(ev, sizeof(ev), " %s (unreadable)", ma);
                        else
                                dr_appendf(ev, sizeof(ev), " %s %s%s", ma, md.driver[0] ? md.driver : "none",
                                           m + 1 < n ? "," : "");
                }
                dr_add(rep, id, DOCTOR_OK, "Host device", NULL, "%s", ev);
        }
}

/* Whether the plan refused only because a device is in use: with
 * allow_in_use it goes through. That refusal is the "in-use" check's to
 * report; the groups themselves are viable then. */
static struct bind_plan *plan_ignoring_in_use(const struct doctor_env *env, const struct profile *p)
{
        _cleanup_free_ struct profile *q = NULL;
        struct bind_plan *plan = NULL;

        if (p->allow_in_use || !(q = malloc(sizeof(*q))))
                return NULL;
        memcpy(q, p, sizeof(*q));
        q->allow_in_use = true;
        if (bind_plan_new(&env->hostenv.bind, q, &plan, NULL) < 0)
                return NULL;
        return plan;
}

static void check_group_viable(const struct doctor_env *env, const struct profile *p, struct doctor_report *rep)
{
        _cleanup_bind_plan_ struct bind_plan *plan = NULL;
        struct vl_error e = {};
        char ev[640] = "";
        unsigned move = 0;
        bool in_use = false;

        /* The planner's refusal is what a run would say: its message
         * carries the reason and the fix already. */
        if (bind_plan_new(&env->hostenv.bind, p, &plan, &e) < 0) {
                plan = plan_ignoring_in_use(env, p);
                if (!plan) {
                        dr_add(rep, "group-viable", DOCTOR_FAIL, "IOMMU groups viable",
                               "as the evidence says (a run refuses)", "%s", e.msg);
                        return;
                }
                in_use = true;
        }
        for (unsigned i = 0; i < plan->n_devices; i++)
                move += plan->devices[i].action == BIND_ACTION_MOVE;
        dr_appendf(ev, sizeof(ev), "group%s", plan->n_groups == 1 ? "" : "s");
        for (unsigned i = 0; i < plan->n_groups; i++)
                dr_appendf(ev, sizeof(ev), "%s %d", i ? "," : "", plan->groups[i]);
        dr_appendf(ev, sizeof(ev), ": %u device%s, %u to move to vfio-pci", plan->n_devices,
                   plan->n_devices == 1 ? "" : "s", move);
        if (in_use) {
                /* Its warnings are those of a run with allow_in_use. */
                dr_add(rep, "group-viable", DOCTOR_OK, "IOMMU groups viable", NULL,
                       "%s (a run refuses while the host uses them: see \"Devices the host is using\")", ev);
                return;
        }
        for (unsigned i = 0; i < plan->warnings.n; i++)
                dr_appendf(ev, sizeof(ev), "; %s", plan->warnings.msg[i]);
        dr_add(rep, "group-viable", plan->warnings.n ? DOCTOR_WARN : DOCTOR_OK, "IOMMU groups viable",
               "see the evidence", "%s", ev);
}

static void check_boot_vga(const struct doctor_env *env, const struct profile *p, bool *ret_boot_vga,
                           struct doctor_report *rep)
{
        char ev[640] = "";
        bool any = false, unknown_any = false;

        for (unsigned i = 0; i < p->n_hostdevs; i++) {
                struct pci_device d;
                char a[PCI_ADDR_STRLEN], what[160] = "";
                bool unknown = false;
                int fb;

                if (pci_device_read(env->hostenv.roots->sysfs, &p->hostdevs[i].host, &d, NULL) < 0)
                        continue;
                pci_addr_format(&d.addr, a);
                fb = pci_device_has_framebuffer(env->hostenv.roots->sysfs, env->hostenv.roots->proc, &d, what,
                                                sizeof(what), &unknown);
                unknown_any = unknown_any || unknown;
                if (d.boot_vga) {
                        dr_appendf(ev, sizeof(ev), "%s%s is the boot VGA (boot_vga = 1)", ev[0] ? "; " : "", a);
                        any = true;
                }
                if (fb > 0) {
                        dr_appendf(ev, sizeof(ev), "%s%s holds the host's framebuffer: %s", ev[0] ? "; " : "", a, what);
                        any = true;
                }
        }
        *ret_boot_vga = any;
        if (any)
                dr_add(rep, "boot-vga", p->host_handover.enabled ? DOCTOR_OK : p->allow_boot_vga ? DOCTOR_WARN : DOCTOR_FAIL,
                       "Boot GPU / framebuffer",
                       "boot with video=efifb:off (and video=simplefb:off), use another GPU for the host console, "
                       "or set allow_boot_vga in the profile (with host_handover: the host hands it over)",
                       "%s%s", ev, p->host_handover.enabled ? " (host_handover: the host hands it over for the run)"
                                : p->allow_boot_vga          ? " (allow_boot_vga is set)"
                                                             : "");
        else
                dr_add(rep, "boot-vga", unknown_any ? DOCTOR_WARN : DOCTOR_OK, "Boot GPU / framebuffer",
                       "run as root: /proc/iomem shows addresses only to root",
                       unknown_any ? "no hostdev is the boot VGA; framebuffer ranges unknown (iomem unreadable)"
                                : "no hostdev is the boot VGA or holds a firmware framebuffer");
}

/* The plan's in-use rules (host/bind.h: processes with the device's nodes
 * open, bind_device_holders()) for every device the profile names, all of
 * them at once where a run stops at the first. */
static void check_in_use(const struct doctor_env *env, const struct profile *p, struct doctor_report *rep)
{
        const struct host_roots *roots = env->hostenv.roots;
        char ev[640] = "";
        size_t total = 0;

        for (unsigned i = 0; i < p->n_hostdevs + p->n_allow_detach; i++) {
                const struct pci_addr *addr = i < p->n_hostdevs ? &p->hostdevs[i].host
                                                                : &p->allow_detach[i - p->n_hostdevs];
                struct bind_holders held;
                struct pci_opener o[8];
                struct pci_device d;
                struct vl_error e = {};
                size_t n = 0;
                char a[PCI_ADDR_STRLEN], joined[400];

                if (pci_device_read(roots->sysfs, addr, &d, NULL) < 0)
                        continue;
                pci_addr_format(&d.addr, a);
                if (pci_device_openers(roots->sysfs, roots->dev, roots->proc, &d, o, ELEMENTSOF(o), &n) < 0)
                        n = 0;
                for (size_t k = 0; k < n && k < ELEMENTSOF(o); k++)
                        dr_appendf(ev, sizeof(ev), "%s%s: pid %d (%s) has /dev/%s open", ev[0] ? "; " : "", a,
                                   (int) o[k].pid, o[k].comm[0] ? o[k].comm : "?", o[k].node);
                total += n;
                if (bind_device_holders(&env->hostenv.bind, &d, &held, &e) < 0) {
                        dr_appendf(ev, sizeof(ev), "%s%s", ev[0] ? "; " : "", e.msg);
                        total++;
                } else if (held.n) {
                        dr_appendf(ev, sizeof(ev), "%s%s holds %s", ev[0] ? "; " : "", a,
                                   bind_holders_join(&held, joined, sizeof(joined)));
                        total += held.n;
                }
        }
        if (total)
                dr_add(rep, "in-use", p->allow_in_use || p->host_handover.enabled ? DOCTOR_WARN : DOCTOR_FAIL,
                       "Devices the host is using",
                       "stop the programs, unmount the file systems and swapoff, take the interfaces down and "
                       "flush their addresses (or take them out of their bridge), move the console elsewhere; "
                       "or set allow_in_use to take them anyway",
                       "%s%s", ev,
                       p->allow_in_use            ? " (allow_in_use is set: a run takes them anyway)"
                       : p->host_handover.enabled ? " (host_handover: a run checks again after the hand-over)"
                                               : "");
        else
                dr_add(rep, "in-use", DOCTOR_OK, "Devices the host is using", NULL,
                       "none: no process has their nodes open, no mounted file system, swap, network interface "
                       "in use or console is on them");
}

/* With host_handover: the hand-over plan (host/handover.h), the same one a
 * run takes. The in-use check above shows what holds the devices now; most
 * of it is what the hand-over lets go of. */
static void check_handover(const struct doctor_env *env, const struct profile *p, struct doctor_report *rep)
{
        _cleanup_free_ struct handover_plan *plan = calloc(1, sizeof(*plan));
        struct vl_error e = {};
        char ev[1200] = "", step[PROFILE_UNIT_NAME_MAX + 200];
        bool unknown = false;
        int r;

        if (!plan) {
                dr_add(rep, "host-handover", DOCTOR_FAIL, "Host hand-over", NULL, "out of memory");
                return;
        }
        r = handover_plan(&env->hostenv.handover, p, plan, &e);
        if (r < 0) {
                dr_add(rep, "host-handover", DOCTOR_FAIL, "Host hand-over",
                       "take the module out of unload_modules (a built-in driver cannot let go of the GPU: boot "
                       "with it disabled)",
                       "%s", e.msg);
                return;
        }
        for (unsigned i = 0; i < plan->n; i++) {
                handover_step_describe(&plan->steps[i], step, sizeof(step));
                dr_appendf(ev, sizeof(ev), "%s%s", ev[0] ? "; " : "", step);
                unknown = unknown || strstr(plan->steps[i].note, "state unknown");
        }
        dr_add(rep, "host-handover", unknown ? DOCTOR_WARN : DOCTOR_OK, "Host hand-over",
               unknown ? "a run stops the units through systemd's D-Bus API: is systemd running?" : NULL,
               "a run would, in this order: %s", ev[0] ? ev : "nothing (none of it is there now)");
}

/* --- firmware, memory, QEMU, audio, network -------------------------------- */

static void check_firmware_qemu(const struct doctor_env *env, const struct profile *p,
                                struct doctor_report *rep)
{
        char eff[PROFILE_STR_MAX], canon[PROFILE_STR_MAX];
        struct vl_warnings w = {};
        struct vl_error e = {};
        const struct hostinfo *h = env->host;

        if (!h)
                dr_add(rep, "qemu", DOCTOR_FAIL, "QEMU", "apt-get install qemu-system-x86", "%s",
                       env->qemu_error ? env->qemu_error : "qemu-system-x86_64 not found");
        else if (!qemu_version_at_least(&h->version, HOSTINFO_QEMU_MIN_MAJOR, HOSTINFO_QEMU_MIN_MINOR, 0))
                dr_add(rep, "qemu", DOCTOR_FAIL, "QEMU", "install QEMU 7.0 or newer", "%s is %u.%u.%u", h->qemu_path,
                       h->version.major, h->version.minor, h->version.micro);
        else
                dr_add(rep, "qemu", DOCTOR_OK, "QEMU", NULL, "%s %u.%u.%u", h->qemu_path, h->version.major,
                       h->version.minor, h->version.micro);
        if (!p || !h)
                return;

        if (hostinfo_machine_resolve(p->machine, &h->version, eff, sizeof(eff), canon, sizeof(canon), &e, &w) < 0) {
                dr_add(rep, "qemu-features", DOCTOR_FAIL, "QEMU features for the profile", "change \"machine\"", "%s",
                       e.msg);
                return;
        }
        if (p->sound.backend == AUDIO_PIPEWIRE && !qemu_version_at_least(&h->version, 8, 1, 0))
                dr_add(rep, "qemu-features", DOCTOR_FAIL, "QEMU features for the profile",
                       "use the pa backend (PipeWire serves it through pipewire-pulse) or QEMU >= 8.1",
                       "audio backend pipewire needs QEMU 8.1, this is %u.%u.%u", h->version.major, h->version.minor,
                       h->version.micro);
        else
                dr_add(rep, "qemu-features", w.n ? DOCTOR_WARN : DOCTOR_OK,
                       "QEMU features for the profile", "see the evidence", "machine %s (%s)%s%s", eff, canon,
                       w.n ? ": " : "", w.n ? w.msg[0] : "");

        if (!env->dirs)
                return;
        if (p->firmware.type == FIRMWARE_BIOS) {
                dr_add(rep, "ovmf", DOCTOR_OK, "Firmware", NULL, "SeaBIOS (firmware type bios), QEMU's default");
                return;
        }
        {
                struct firmware_choice fc;
                struct vl_warnings fw = {};
                if (hostinfo_firmware_for_profile(p, env->dirs, canon, &fc, &e, &fw) < 0)
                        dr_add(rep, "ovmf", DOCTOR_FAIL, "Firmware (OVMF)", "apt-get install ovmf", "%s", e.msg);
                else if (access(fc.code, R_OK) < 0)
                        dr_add(rep, "ovmf", DOCTOR_FAIL, "Firmware (OVMF)", "apt-get install --reinstall ovmf",
                               "%s (from %s) cannot be read", fc.code, fc.descriptor[0] ? fc.descriptor : "the profile");
                else
                        dr_add(rep, "ovmf", DOCTOR_OK, "Firmware (OVMF)", NULL, "%s%s%s%s", fc.code,
                               fc.vars_template[0] ? ", VARS template " : "", fc.vars_template,
                               fc.secure_boot ? " (secure boot)" : "");
        }
}

static int meminfo_kib(const char *proc_root, const char *key, uint64_t *ret)
{
        _cleanup_fclose_ FILE *f = NULL;
        char path[PATH_MAX], line[256];
        size_t n = strlen(key);

        if (fs_join(path, sizeof(path), proc_root, "meminfo") < 0)
                return -ENAMETOOLONG;
        f = fopen(path, "re");
        if (!f)
                return -errno;
        while (fgets(line, sizeof(line), f)) {
                unsigned long long v;
                if (strncmp(line, key, n) == 0 && line[n] == ':' && sscanf(line + n + 1, "%llu", &v) == 1) {
                        *ret = v;
                        return 0;
                }
        }
        return -ENODATA;
}

static void check_memory(const struct doctor_env *env, const struct profile *p, struct doctor_report *rep)
{
        const char *proc = env->hostenv.roots->proc;
        uint64_t avail = 0, total = 0, hp_total = 0, hp_free = 0, hp_size = 0, need;

        if (p && p->hugepages.enabled) {
                /* What a run checks before it changes anything (read only). */
                struct hugepages_plan plan;
                struct vl_error e = {};
                const char *size = profile_hugepage_size_name(p->hugepages.size);

                if (hugepages_plan(&env->hostenv.hugepages, p, &plan, &e) < 0)
                        dr_add(rep, "hugepages", DOCTOR_FAIL, "Hugepages", "see the evidence", "%s%s%s", e.path,
                               e.path[0] ? ": " : "", e.msg);
                else if (plan.missing)
                        dr_add(rep, "hugepages", DOCTOR_WARN, "Hugepages",
                               "reserve them at boot: the kernel may not find them later (fragmentation)",
                               "%s: %llu %s pages needed, %llu available: a run adds %llu (\"reserve\": true)",
                               p->hugepages.path, (unsigned long long) plan.needed, size,
                               (unsigned long long) plan.available, (unsigned long long) plan.missing);
                else
                        dr_add(rep, "hugepages", DOCTOR_OK, "Hugepages", NULL,
                               "%s (hugetlbfs, %s): %llu pages needed, %llu available", p->hugepages.path, size,
                               (unsigned long long) plan.needed, (unsigned long long) plan.available);
        } else if (meminfo_kib(proc, "HugePages_Total", &hp_total) >= 0 && hp_total > 0) {
                (void) meminfo_kib(proc, "HugePages_Free", &hp_free);
                (void) meminfo_kib(proc, "Hugepagesize", &hp_size);
                dr_add(rep, "hugepages", DOCTOR_OK, "Hugepages", NULL, "%llu of %llu free, %llu kB each (%s/meminfo)",
                       (unsigned long long) hp_free, (unsigned long long) hp_total, (unsigned long long) hp_size, proc);
        } else
                dr_add(rep, "hugepages", DOCTOR_OK, "Hugepages", NULL, "none reserved (not needed)");
        if (!p)
                return;
        need = p->memory_mib * 1024;
        if (meminfo_kib(proc, "MemTotal", &total) < 0 || meminfo_kib(proc, "MemAvailable", &avail) < 0)
                dr_add(rep, "memory", DOCTOR_WARN, "Memory", "check that /proc is mounted",
                       "%s/meminfo has no MemTotal / MemAvailable", proc);
        else if (total < need)
                dr_add(rep, "memory", DOCTOR_FAIL, "Memory", "lower \"memory\" in the profile",
                       "the guest wants %llu MiB, the host has %llu MiB in all", (unsigned long long) p->memory_mib,
                       (unsigned long long) (total / 1024));
        else if (avail < need)
                dr_add(rep, "memory", DOCTOR_WARN, "Memory",
                       "close programs or lower \"memory\": with VFIO all guest RAM is pinned",
                       "the guest wants %llu MiB, %llu MiB available now", (unsigned long long) p->memory_mib,
                       (unsigned long long) (avail / 1024));
        else
                dr_add(rep, "memory", DOCTOR_OK, "Memory", NULL, "the guest wants %llu MiB, %llu MiB available",
                       (unsigned long long) p->memory_mib, (unsigned long long) (avail / 1024));

        /* VFIO pins all guest RAM; libvirt's rule: RAM + 1 GiB. */
        need = (p->memory_mib + 1024) << 20;
        if (env->euid == 0)
                dr_add(rep, "memlock", DOCTOR_OK, "RLIMIT_MEMLOCK", NULL,
                       "running as root: the launcher raises it to guest RAM + 1 GiB itself");
        else if (env->memlock_limit < need && p->n_hostdevs)
                dr_add(rep, "memlock", DOCTOR_WARN, "RLIMIT_MEMLOCK", "run vfio-launch as root (it raises the limit)",
                       "%llu KiB now, a run needs %llu KiB (guest RAM + 1 GiB)",
                       (unsigned long long) (env->memlock_limit >> 10), (unsigned long long) (need >> 10));
        else
                dr_add(rep, "memlock", DOCTOR_OK, "RLIMIT_MEMLOCK", NULL, "enough for the guest");
}

int doctor_run(const struct doctor_env *env, const struct profile *p, struct doctor_report *ret)
{
        struct cpu_facts cpu;
        bool iommu_on, boot_vga = false;

        memset(ret, 0, sizeof(*ret));
        read_cpuinfo(env->hostenv.roots->proc, &cpu);
        iommu_on = pci_iommu_enabled(env->hostenv.roots->sysfs);

        check_cpu(env, p, &cpu, ret);
        check_iommu(env, &cpu, iommu_on, ret);
        check_modules(env, ret);
        if (p && p->n_hostdevs) {
                check_hostdevs(env, p, ret);
                check_group_viable(env, p, ret);
                check_boot_vga(env, p, &boot_vga, ret);
                check_in_use(env, p, ret);
                if (p->host_handover.enabled)
                        check_handover(env, p, ret);
        }
        check_cmdline(env, p, &cpu, iommu_on, boot_vga, ret);
        check_firmware_qemu(env, p, ret);
        check_memory(env, p, ret);
        if (p)
                dr_check_backends(env, p, ret);
        return 0;
}

char *doctor_report_json(const struct doctor_report *r)
{
        json_t *root = json_object(), *arr = json_array();
        char *s = NULL;

        if (!root || !arr)
                goto out;
        for (unsigned i = 0; i < r->n; i++) {
                const struct doctor_result *x = &r->r[i];
                json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s}", "id", x->id, "status",
                                      doctor_status_to_string(x->status), "title", x->title, "evidence",
                                      x->evidence, "fix", x->fix);
                if (!o || json_array_append_new(arr, o) < 0)
                        goto out;
        }
        if (json_object_set_new(root, "ok", json_boolean(doctor_worst(r) != DOCTOR_FAIL)) < 0 ||
            json_object_set(root, "results", arr) < 0)
                goto out;
        s = json_dumps(root, JSON_INDENT(2));
        if (s) {
                char *t = realloc(s, strlen(s) + 2);
                if (!t) {
                        free(s);
                        s = NULL;
                } else {
                        s = t;
                        strcat(s, "\n");
                }
        }
out:
        json_decref(arr);
        json_decref(root);
        return s;
}
