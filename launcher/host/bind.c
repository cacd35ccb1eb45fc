/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * bind: plan (read-only), apply, undo. See bind.h for the contract.
 *
 * The kernel behaviour this follows (drivers/base/bus.c, dd.c, pci-driver.c):
 *  - driver_override makes a device match only that driver, and no other:
 *    set it BEFORE unbinding, so nothing else grabs the device in between;
 *    "\n" clears it.
 *  - unbind detaches synchronously (the write returns after the driver's
 *    remove()); it does not trigger a new probe.
 *  - drivers_probe attaches an unbound device to the first matching driver;
 *    DRIVER/bind attaches to that driver only (-EBUSY when the device has a
 *    driver, -ENODEV when it does not match, e.g. another override is set).
 *  - loading a driver's module probes every unbound device it matches.
 *  - /dev/vfio/GROUP exists while at least one device of the group is bound
 *    to vfio-pci; QEMU can use it only when every endpoint is (bridges on
 *    pcieport and driverless devices are tolerated).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/fs.h"
#include "host/bind.h"
#include "host/modules.h"
#include "host/sysfs.h"
#include "base/trace.h"

#define VFIO_DRIVER "vfio-pci"
#define VFIO_MODULE "vfio-pci"

/* --- env and ops -------------------------------------------------------- */

static int real_write(void *userdata, const char *path, const char *data, unsigned timeout_ms)
{
        return sysfs_write_bounded(path, data, timeout_ms);
}

static int real_modprobe(void *userdata, const char *modprobe, const char *module,
                         unsigned timeout_ms, char *msg, size_t msgsize)
{
        return modules_load(modprobe, module, timeout_ms, msg, msgsize);
}

static int real_link_usage(void *userdata, int ifindex, struct net_link_usage *ret)
{
        return net_link_usage(ifindex, ret);
}

static const struct bind_ops real_ops = { .write = real_write, .modprobe = real_modprobe,
                                          .link_usage = real_link_usage };

void bind_env_init(struct bind_env *env, const struct host_roots *roots)
{
        *env = (struct bind_env) {
                .roots = roots,
                .modprobe = "/sbin/modprobe",
                .pci_ids = NULL,
                .wait_timeout_ms = 5000,
                .write_timeout_ms = 10000,
                .modprobe_timeout_ms = 30000,
                .poll_interval_ms = 10,
                .ops = NULL,
                .plan_names = true,
        };
}

static const struct bind_ops *env_ops(const struct bind_env *env)
{
        return env->ops ? env->ops : &real_ops;
}

static int env_check(const struct bind_env *env, struct vl_error *e)
{
        if (!env || !env->roots || !env->roots->sysfs || !env->roots->dev || !env->roots->proc ||
            !env->roots->run || !env->modprobe)
                return vl_error_set(e, EINVAL, "bind: incomplete environment (a root is NULL)");
        return 0;
}

const char *bind_action_to_string(enum bind_action a)
{
        switch (a) {
        case BIND_ACTION_MOVE:
                return "move";
        case BIND_ACTION_KEEP:
                return "keep";
        case BIND_ACTION_SKIP_BRIDGE:
                return "skip-bridge";
        }
        return NULL;
}

static const char *seconds(unsigned ms, char buf[static 16])
{
        (void) snprintf(buf, 16, "%u.%u s", ms / 1000u, (ms % 1000u) / 100u);
        return buf;
}

/* --- plan --------------------------------------------------------------- */

void bind_plan_free(struct bind_plan *p)
{
        free(p);
}

static bool addr_in(const struct pci_addr *a, const struct pci_addr *list, unsigned n)
{
        for (unsigned i = 0; i < n; i++)
                if (pci_addr_equal(a, &list[i]))
                        return true;
        return false;
}

static bool hostdev_listed(const struct profile *p, const struct pci_addr *a)
{
        for (unsigned i = 0; i < p->n_hostdevs; i++)
                if (pci_addr_equal(a, &p->hostdevs[i].host))
                        return true;
        return false;
}

static const char *dev_label(const struct pci_device *d, char *buf, size_t size)
{
        char a[PCI_ADDR_STRLEN];

        if (d->device_name[0])
                (void) snprintf(buf, size, "%s (%04x:%04x %s)", pci_addr_format(&d->addr, a), d->vendor_id,
                                d->device_id, d->device_name);
        else
                (void) snprintf(buf, size, "%s (%04x:%04x)", pci_addr_format(&d->addr, a), d->vendor_id,
                                d->device_id);
        return buf;
}

/* The devices' names, from pci.ids, read on first use. libpci parses the
 * whole file (1.3 MB) at the first lookup: tens of milliseconds on a
 * desktop, over a second on the emulated host of tests/vm (bench/README.md),
 * for names a run that goes well never shows. So a run looks them up only
 * for a message; a listing (print) asks for them all (plan_names). */
struct plan_names {
        const struct bind_env *env;
        struct pci_ctx *ctx;
        bool tried;
};

static void plan_names_done(struct plan_names *n)
{
        pci_ctx_free(TAKE_PTR(n->ctx));
}

static void plan_names_fill(struct plan_names *n, struct pci_device *d)
{
        struct vl_error ignored;

        if (!n->tried) {
                n->tried = true;
                /* Names are a nicety: without libpci or pci.ids the plan still works. */
                if (pci_ctx_new(n->env->roots->sysfs, n->env->pci_ids, &n->ctx, &ignored) < 0)
                        n->ctx = NULL;
        }
        pci_ctx_fill_names(n->ctx, d);
}

/* dev_label() with the names looked up if the plan has none. */
static const char *plan_label(struct plan_names *n, const struct pci_device *d, char *buf, size_t size)
{
        struct pci_device named = *d;

        if (!named.vendor_name[0] && !named.device_name[0])
                plan_names_fill(n, &named);
        return dev_label(&named, buf, size);
}

/* later: the host's hand-over (host/handover.h) comes between this plan
 * and the move, and lets go of what the desktop and the console hold: what
 * holds a device now is a warning, and bind_plan_recheck_usage() makes the
 * same checks for real once the hand-over is done. */
static int plan_checks_usage(const struct bind_env *env, const struct profile *p, struct bind_plan *plan,
                             bool later, struct plan_names *names, struct vl_error *e)
{
        for (unsigned i = 0; i < plan->n_devices; i++) {
                const struct bind_plan_device *d = &plan->devices[i];
                struct pci_opener who[8];
                struct bind_holders held;
                char label[256], what[160], addr[PCI_ADDR_STRLEN], list[256] = "", what_held[400];
                bool unknown = false;
                size_t n = 0, off = 0;
                int r;

                if (d->action != BIND_ACTION_MOVE)
                        continue;
                pci_addr_format(&d->dev.addr, addr);

                if (later)
                        continue; /* checked again after the hand-over, boot VGA and framebuffer included */
                if (d->dev.boot_vga && !p->allow_boot_vga)
                        return vl_error_set(e, EBUSY,
                                            "%s is the boot VGA device: the host's firmware console is on it. "
                                            "Boot the host on another GPU, or set \"allow_boot_vga\": true to take it "
                                            "anyway (the host loses that display)",
                                            plan_label(names, &d->dev, label, sizeof(label)));
                r = pci_device_has_framebuffer(env->roots->sysfs, env->roots->proc, &d->dev, what, sizeof(what),
                                               &unknown);
                if (r < 0)
                        return vl_error_set(e, -r, "%s: cannot check for a host framebuffer: %s", addr, strerror(-r));
                if (r > 0 && !p->allow_boot_vga)
                        return vl_error_set(e, EBUSY,
                                            "%s holds the host's framebuffer (%s): the kernel would keep its memory "
                                            "(\"BAR 0: can't reserve\"). Boot with video=efifb:off (or "
                                            "initcall_blacklist=sysfb_init), or set \"allow_boot_vga\": true",
                                            plan_label(names, &d->dev, label, sizeof(label)), what);
                if (r > 0)
                        vl_warn(&plan->warnings, "%s holds the host's framebuffer (%s); taking it (%s)", addr, what,
                                p->host_handover.enabled ? "host_handover" : "allow_boot_vga");
                if (unknown)
                        vl_warn(&plan->warnings,
                                "%s: cannot tell whether it holds the firmware framebuffer (%s/iomem hides "
                                "addresses from non-root), ignoring",
                                addr, env->roots->proc);

                r = pci_device_openers(env->roots->sysfs, env->roots->dev, env->roots->proc, &d->dev, who,
                                       ELEMENTSOF(who), &n);
                if (r < 0)
                        return vl_error_set(e, -r, "%s: cannot list the processes using it: %s", addr, strerror(-r));
                for (size_t k = 0; k < n && k < ELEMENTSOF(who) && off < sizeof(list); k++) {
                        int w = snprintf(list + off, sizeof(list) - off, "%spid %d (%s) has %s/%s open",
                                         k ? ", " : "", (int) who[k].pid, who[k].comm[0] ? who[k].comm : "?",
                                         env->roots->dev, who[k].node);
                        if (w > 0)
                                off += (size_t) w;
                }
                if (n > ELEMENTSOF(who) && off < sizeof(list))
                        (void) snprintf(list + off, sizeof(list) - off, " and %zu more", n - ELEMENTSOF(who));
                if (n > 0 && !p->allow_in_use)
                        return vl_error_set(e, EBUSY,
                                            "%s is in use: %s. Stop those programs (e.g. log out of the desktop "
                                            "running on it), or set \"allow_in_use\": true",
                                            plan_label(names, &d->dev, label, sizeof(label)), list);
                if (n > 0)
                        vl_warn(&plan->warnings, "%s is in use (%s); taking it anyway (allow_in_use)", addr, list);

                /* What the host itself runs on it (a file system, swap, a
                 * network interface in use, the console): moving the device
                 * pulls that from under the host, with no way back but the
                 * end of the run (docs/facts.md#F-inuse-block). */
                r = bind_device_holders(env, &d->dev, &held, e);
                if (r < 0)
                        return r;
                if (r > 0 && !p->allow_in_use)
                        return vl_error_set(e, EBUSY, "%s holds %s: refused (allow_in_use overrides)", addr,
                                            bind_holders_join(&held, what_held, sizeof(what_held)));
                /* One warning per holder: each names what the host loses. */
                for (unsigned k = 0; r > 0 && k < held.n && k < BIND_HOLDERS_MAX; k++)
                        vl_warn(&plan->warnings, "%s IS IN USE, taken anyway (allow_in_use): it holds %s", addr,
                                held.what[k]);
                if (r > 0 && held.n > BIND_HOLDERS_MAX)
                        vl_warn(&plan->warnings, "%s IS IN USE, taken anyway (allow_in_use): it holds %u more",
                                addr, held.n - BIND_HOLDERS_MAX);
        }
        return 0;
}

static int plan_check_journals(const struct bind_env *env, struct bind_plan *plan, struct vl_error *e)
{
        _cleanup_free_ struct journal_listing *list = NULL;
        pid_t self = getpid();
        size_t n = 0;
        int r;

        r = journal_list(env->roots, &list, &n, e);
        if (r < 0)
                return r;
        for (size_t i = 0; i < n; i++) {
                struct journal_listing *l = &list[i];
                struct journal *j = &l->journal;
                char msg[sizeof(l->error.msg) + 300];
                bool own;

                if (l->load_error == -EACCES) {
                        /* Not root (`vfio-launch print` as a user): the run
                         * itself, as root, reads it. */
                        vl_warn(&plan->warnings,
                                "cannot read the journal of VM \"%s\" (not root): whether it holds these devices "
                                "is unchecked, ignoring",
                                l->name);
                        continue;
                }
                if (l->load_error < 0) {
                        vl_error_format(&l->error, msg, sizeof(msg));
                        /* Ours: what it holds must be given back first. */
                        if (strcmp(l->name, plan->name) == 0)
                                return vl_error_set(e, EBADMSG,
                                                    "cannot tell what an earlier run of \"%s\" holds: %s. If no "
                                                    "run of \"%s\" is active, inspect and remove %s/%s",
                                                    l->name, msg, l->name, env->roots->run, l->name);
                        /* Another VM's broken journal is that VM's problem:
                         * a device it still uses is open by its QEMU, which
                         * the in-use check below sees. */
                        vl_warn(&plan->warnings,
                                "cannot tell which devices VM \"%s\" holds (%s): only the processes using "
                                "them are checked, ignoring",
                                l->name, msg);
                        continue;
                }
                /* Our own run, planning a live attach: only its devices
                 * must not be planned twice (the overlap check below). */
                own = strcmp(j->name, plan->name) == 0 && plan->extend && j->launcher_pid == self;
                if (strcmp(j->name, plan->name) == 0 && !own) {
                        if (l->alive)
                                return vl_error_set(e, EBUSY, "VM \"%s\" is already running (launcher pid %d)",
                                                    plan->name, (int) j->launcher_pid);
                        return vl_error_set(e, EBUSY,
                                            "an earlier run of \"%s\" did not finish (launcher pid %d is gone): "
                                            "run `vfio-launch recover %s` first",
                                            plan->name, (int) j->launcher_pid, plan->name);
                }
                for (unsigned k = 0; k < j->n_devices; k++)
                        for (unsigned m = 0; m < plan->n_devices; m++) {
                                char a[PCI_ADDR_STRLEN];
                                if (!pci_addr_equal(&j->devices[k].addr, &plan->devices[m].dev.addr))
                                        continue;
                                pci_addr_format(&j->devices[k].addr, a);
                                if (own)
                                        return vl_error_set(e, EBUSY, "%s is still assigned to VM \"%s\"", a,
                                                            plan->name);
                                if (l->alive)
                                        return vl_error_set(e, EBUSY,
                                                            "%s is in use by VM \"%s\" (launcher pid %d): stop that "
                                                            "VM first",
                                                            a, j->name, (int) j->launcher_pid);
                                return vl_error_set(e, EBUSY,
                                                    "%s is held by an unfinished run of VM \"%s\" (launcher pid %d "
                                                    "is gone): run `vfio-launch recover %s` first",
                                                    a, j->name, (int) j->launcher_pid, j->name);
                        }
        }
        return 0;
}

static int add_group(struct bind_plan *plan, int group, struct vl_error *e)
{
        for (unsigned i = 0; i < plan->n_groups; i++)
                if (plan->groups[i] == group)
                        return 0;
        if (plan->n_groups >= JOURNAL_GROUPS_MAX)
                return vl_error_set(e, E2BIG, "more than %d IOMMU groups", JOURNAL_GROUPS_MAX);
        plan->groups[plan->n_groups++] = group;
        return 0;
}

static int plan_new(const struct bind_env *env, const struct profile *p, const bool *only,
                    struct bind_plan **ret, struct vl_error *e)
{
        _cleanup_free_ struct bind_plan *plan = NULL;
        _cleanup_(plan_names_done) struct plan_names names = { .env = env };
        struct pci_addr members[JOURNAL_DEVICES_MAX];
        int r;

        r = env_check(env, e);
        if (r < 0)
                return r;
        if (!profile_name_valid(p->name))
                return vl_error_set(e, EINVAL, "\"%s\" is not a valid VM name", p->name);
        plan = calloc(1, sizeof(*plan));
        if (!plan)
                return vl_error_set(e, ENOMEM, "out of memory");
        (void) snprintf(plan->name, sizeof(plan->name), "%s", p->name);
        plan->extend = only != NULL;

        if (p->n_hostdevs == 0)
                goto done;
        if (!pci_iommu_enabled(env->roots->sysfs))
                return vl_error_set(e, ENODEV,
                                    "the IOMMU is off (%s/kernel/iommu_groups is empty): enable VT-d / AMD-Vi "
                                    "in the firmware and boot with intel_iommu=on (Intel) or amd_iommu=on (AMD)",
                                    env->roots->sysfs);
        /* Checked here, before any device moves: otherwise the only sign is
         * QEMU's "Failed to set iommu for container: Operation not
         * permitted" after the devices were already taken from the host. */
        if (pci_irq_remapping(env->roots->proc) == 0 && !pci_vfio_unsafe_interrupts(env->roots->sysfs))
                return vl_error_set(e, EPERM,
                                    "interrupt remapping is off (no IR- interrupt chips in %s/interrupts), and "
                                    "VFIO refuses devices without it: enable it (firmware: VT-d / AMD-Vi with "
                                    "interrupt remapping; no intremap=off or nointremap on the kernel command line), "
                                    "or accept the risk with the module option "
                                    "vfio_iommu_type1 allow_unsafe_interrupts=1",
                                    env->roots->proc);
        for (unsigned i = 0; i < p->n_hostdevs; i++) {
                struct pci_device d;
                char a[PCI_ADDR_STRLEN], label[256];
                if (only && !only[i])
                        continue;
                pci_addr_format(&p->hostdevs[i].host, a);
                r = pci_device_read(env->roots->sysfs, &p->hostdevs[i].host, &d, e);
                if (r == -ENOENT)
                        return vl_error_set(e, ENODEV,
                                            "hostdevs[%u]: there is no PCI device %s on this host: fix the address "
                                            "(`lspci -D` lists them)",
                                            i, a);
                if (r < 0)
                        return r;
                if (env->plan_names)
                        plan_names_fill(&names, &d);
                /* The profile pinned the ids ("vendor_device"): a renumbered
                 * bus (a card moved, a BIOS update) must not hand another
                 * device to the guest. */
                if (p->hostdevs[i].ids_set &&
                    (d.vendor_id != p->hostdevs[i].vendor || d.device_id != p->hostdevs[i].device))
                        return vl_error_set(e, ENODEV,
                                            "hostdevs[%u]: %s is %04x:%04x, the profile expects %04x:%04x "
                                            "(\"vendor_device\"): the device moved? `lspci -nn -D` shows where "
                                            "it is now",
                                            i, a, d.vendor_id, d.device_id, p->hostdevs[i].vendor,
                                            p->hostdevs[i].device);
                if (d.bridge)
                        return vl_error_set(e, EINVAL,
                                            "hostdevs[%u]: %s is a PCI bridge: pass the devices behind it instead",
                                            i, plan_label(&names, &d, label, sizeof(label)));
                if (d.iommu_group < 0)
                        return vl_error_set(e, ENODEV,
                                            "%s has no IOMMU group: the IOMMU does not cover it. Check that "
                                            "intel_iommu=on / amd_iommu=on took effect (dmesg | grep -i -e DMAR "
                                            "-e AMD-Vi) and that the slot is behind the IOMMU",
                                            plan_label(&names, &d, label, sizeof(label)));
                r = add_group(plan, d.iommu_group, e);
                if (r < 0)
                        return r;
        }

        for (unsigned g = 0; g < plan->n_groups; g++) {
                size_t n = 0;
                r = pci_group_members(env->roots->sysfs, plan->groups[g], members, ELEMENTSOF(members), &n, e);
                if (r == -ENOENT)
                        return vl_error_set(e, ENODEV, "IOMMU group %d has no %s/kernel/iommu_groups/%d/devices",
                                            plan->groups[g], env->roots->sysfs, plan->groups[g]);
                if (r < 0)
                        return r;
                for (size_t m = 0; m < n; m++) {
                        struct bind_plan_device *pd;
                        char a[PCI_ADDR_STRLEN], label[256];
                        if (plan->n_devices >= JOURNAL_DEVICES_MAX)
                                return vl_error_set(e, E2BIG, "the IOMMU groups hold more than %d devices",
                                                    JOURNAL_DEVICES_MAX);
                        pd = &plan->devices[plan->n_devices];
                        memset(pd, 0, sizeof(*pd));
                        r = pci_device_read(env->roots->sysfs, &members[m], &pd->dev, e);
                        if (r == -ENOENT)
                                continue; /* removed since the group was listed */
                        if (r < 0)
                                return r;
                        if (env->plan_names)
                                plan_names_fill(&names, &pd->dev);
                        pd->hostdev = hostdev_listed(p, &members[m]);
                        pd->allow_detach = addr_in(&members[m], p->allow_detach, p->n_allow_detach);
                        if (pd->dev.bridge)
                                pd->action = BIND_ACTION_SKIP_BRIDGE;
                        else if (strcmp(pd->dev.driver, VFIO_DRIVER) == 0)
                                pd->action = BIND_ACTION_KEEP;
                        else if (pd->hostdev || pd->allow_detach || !pd->dev.driver[0])
                                /* A driverless member is moved too: vfio-pci keeps
                                 * a host driver from claiming it during the run,
                                 * and undo leaves it driverless again. */
                                pd->action = BIND_ACTION_MOVE;
                        else
                                return vl_error_set(e, EBUSY,
                                                    "IOMMU group %d is not viable: %s is on host driver \"%s\" and "
                                                    "not in the profile. Add %s to \"hostdevs\" to pass it too, or to "
                                                    "\"allow_detach\" to move it to vfio-pci for the run (the whole "
                                                    "group must leave the host)",
                                                    plan->groups[g],
                                                    plan_label(&names, &pd->dev, label, sizeof(label)),
                                                    pd->dev.driver, pci_addr_format(&members[m], a));
                        plan->n_devices++;
                }
        }
        for (unsigned i = 0; i < p->n_allow_detach && !only; i++) {
                bool found = false;
                char a[PCI_ADDR_STRLEN];
                for (unsigned k = 0; k < plan->n_devices && !found; k++)
                        found = pci_addr_equal(&plan->devices[k].dev.addr, &p->allow_detach[i]);
                if (!found)
                        vl_warn(&plan->warnings, "allow_detach: %s is in none of the hostdevs' IOMMU groups, ignoring",
                                pci_addr_format(&p->allow_detach[i], a));
        }

        /* A live attach (a subset) is made while the hand-over is in
         * place: no second one comes. */
        plan->handover = p->host_handover.enabled && !only;
        r = plan_checks_usage(env, p, plan, plan->handover, &names, e);
        if (r >= 0 && plan->handover)
                vl_warn(&plan->warnings,
                        "the host hands its display over first (host_handover); what uses the devices is "
                        "checked after that");
        if (r < 0)
                return r;
done:
        r = plan_check_journals(env, plan, e);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(plan);
        return 0;
}

int bind_plan_new(const struct bind_env *env, const struct profile *p, struct bind_plan **ret,
                  struct vl_error *e)
{
        return plan_new(env, p, NULL, ret, e);
}

int bind_plan_new_subset(const struct bind_env *env, const struct profile *p, const bool *only,
                         struct bind_plan **ret, struct vl_error *e)
{
        if (!only)
                return vl_error_set(e, EINVAL, "bind: no hostdevs selected");
        return plan_new(env, p, only, ret, e);
}

int bind_plan_recheck_usage(const struct bind_env *env, const struct profile *p, struct bind_plan *plan,
                            struct vl_error *e)
{
        _cleanup_(plan_names_done) struct plan_names names = { .env = env };
        int r = env_check(env, e);

        return r < 0 ? r : plan_checks_usage(env, p, plan, false, &names, e);
}

char *bind_plan_format(const struct bind_plan *p)
{
        char *buf = NULL;
        size_t size = 0;
        FILE *f;

        f = open_memstream(&buf, &size);
        if (!f)
                return NULL;
        if (p->n_devices == 0)
                fprintf(f, "VM \"%s\": no host PCI devices to pass through\n", p->name);
        else
                fprintf(f, "VM \"%s\": %u PCI device%s in %u IOMMU group%s\n", p->name, p->n_devices,
                        p->n_devices == 1 ? "" : "s", p->n_groups, p->n_groups == 1 ? "" : "s");
        for (unsigned g = 0; g < p->n_groups; g++) {
                fprintf(f, "IOMMU group %d:\n", p->groups[g]);
                for (unsigned i = 0; i < p->n_devices; i++) {
                        const struct bind_plan_device *d = &p->devices[i];
                        char a[PCI_ADDR_STRLEN], name[2 * PCI_NAME_MAX + 2];
                        const char *role = d->hostdev ? "hostdev" : d->allow_detach ? "allow_detach" : "member";
                        const char *drv = d->dev.driver[0] ? d->dev.driver : "(no driver)";
                        if (d->dev.iommu_group != p->groups[g])
                                continue;
                        if (d->dev.vendor_name[0] || d->dev.device_name[0])
                                (void) snprintf(name, sizeof(name), "%s%s%s", d->dev.vendor_name,
                                                d->dev.vendor_name[0] && d->dev.device_name[0] ? " " : "",
                                                d->dev.device_name);
                        else
                                (void) snprintf(name, sizeof(name), "class %06x", d->dev.class_code);
                        fprintf(f, "  %s %04x:%04x %-12s ", pci_addr_format(&d->dev.addr, a), d->dev.vendor_id,
                                d->dev.device_id, role);
                        switch (d->action) {
                        case BIND_ACTION_MOVE:
                                if (d->dev.driver[0])
                                        fprintf(f, "%s -> vfio-pci, back to %s after the run", drv, drv);
                                else
                                        fprintf(f, "(no driver) -> vfio-pci, unbound again after the run");
                                break;
                        case BIND_ACTION_KEEP:
                                fprintf(f, "already on vfio-pci, left there");
                                break;
                        case BIND_ACTION_SKIP_BRIDGE:
                                fprintf(f, "skip: PCI bridge, stays on %s", drv);
                                break;
                        }
                        fprintf(f, "  [%s]\n", name);
                }
        }
        if (fclose(f) != 0) {
                free(buf);
                return NULL;
        }
        return buf;
}

/* --- host changes ------------------------------------------------------- */

static int dev_attr(char *buf, size_t size, const struct bind_env *env, const struct pci_addr *a,
                    const char *attr)
{
        char name[PCI_ADDR_STRLEN];

        return fs_join(buf, size, env->roots->sysfs, "bus/pci/devices/%s/%s", pci_addr_format(a, name), attr);
}

static void current_driver(const struct bind_env *env, const struct pci_addr *a, char *buf, size_t size)
{
        char path[PATH_MAX];

        if (dev_attr(path, sizeof(path), env, a, "driver") < 0 || fs_read_link_name(path, buf, size) < 0)
                buf[0] = '\0';
}

static void current_override(const struct bind_env *env, const struct pci_addr *a, char *buf, size_t size)
{
        char path[PATH_MAX];

        if (dev_attr(path, sizeof(path), env, a, "driver_override") < 0 || fs_read(path, buf, size) < 0 ||
            strcmp(buf, "(null)") == 0)
                buf[0] = '\0';
}

/* One sysfs write, with the message every caller wants: which device,
 * which step, what was written where, what the kernel answered. */
static int write_attr(const struct bind_env *env, const struct pci_addr *a, const char *step,
                      const char *path, const char *data, struct vl_error *e)
{
        const struct bind_ops *ops = env_ops(env);
        char addr[PCI_ADDR_STRLEN], err[96], t[16];
        const char *shown = strcmp(data, "\n") == 0 ? "\\n" : data;
        int r;

        pci_addr_format(a, addr);
        TRACE("%s: %s", addr, step);
        r = ops->write(ops->userdata, path, data, env->write_timeout_ms);
        if (r == -ETIMEDOUT)
                return vl_error_set(e, ETIMEDOUT,
                                    "%s: %s: writing \"%s\" to %s did not return within %s (the driver is stuck, "
                                    "usually because a process still uses the device)",
                                    addr, step, shown, path, seconds(env->write_timeout_ms, t));
        if (r < 0)
                return vl_error_set(e, -r, "%s: %s: writing \"%s\" to %s: the kernel answered %s", addr, step, shown,
                                    path, vl_strerror_name(r, err, sizeof(err)));
        return 0;
}

/* Poll until the device's driver is `want` ("" = none). 0, or -ETIMEDOUT
 * with the driver it has in `now`. */
static int wait_driver(const struct bind_env *env, const struct pci_addr *a, const char *want, char *now,
                       size_t nowsize)
{
        uint64_t deadline = clock_ms() + env->wait_timeout_ms;

        for (;;) {
                current_driver(env, a, now, nowsize);
                if (strcmp(now, want) == 0)
                        return 0;
                if (clock_ms() >= deadline)
                        return -ETIMEDOUT;
                clock_sleep_ms(env->poll_interval_ms);
        }
}

static int wait_exists(const struct bind_env *env, const char *path)
{
        uint64_t deadline = clock_ms() + env->wait_timeout_ms;

        for (;;) {
                if (fs_exists(path))
                        return 0;
                if (clock_ms() >= deadline)
                        return -ETIMEDOUT;
                clock_sleep_ms(env->poll_interval_ms);
        }
}

/* Make sure SYSFS/bus/pci/drivers/DRIVER exists, loading `module` (or the
 * driver's own name) when it does not. */
static int ensure_driver(const struct bind_env *env, const char *driver, const char *module, const char *why,
                         struct vl_error *e)
{
        const struct bind_ops *ops = env_ops(env);
        char path[PATH_MAX], msg[256] = "", t[16];
        const char *mod = module && module[0] ? module : driver;
        int r;

        r = fs_join(path, sizeof(path), env->roots->sysfs, "bus/pci/drivers/%s", driver);
        if (r < 0)
                return vl_error_set(e, -r, "sysfs path too long");
        if (fs_exists(path))
                return 0;
        r = ops->modprobe(ops->userdata, env->modprobe, mod, env->modprobe_timeout_ms, msg, sizeof(msg));
        if (r < 0)
                return vl_error_set(e, r == -ETIMEDOUT ? ETIMEDOUT : EIO, "%s: driver \"%s\" is not loaded and `%s %s` failed: %s",
                                    why, driver, env->modprobe, mod, msg[0] ? msg : strerror(-r));
        if (wait_exists(env, path) < 0)
                return vl_error_set(e, ETIMEDOUT, "%s: `%s %s` succeeded but %s did not appear within %s", why,
                                    env->modprobe, mod, path, seconds(env->wait_timeout_ms, t));
        return 0;
}

static int journal_step(const struct bind_env *env, struct journal *j, struct journal_device *d,
                        enum journal_step step, struct vl_error *e)
{
        d->step = step;
        TRACE("%s: journal step %d", pci_addr_format(&d->addr, (char[PCI_ADDR_STRLEN]){}), (int) step);
        return journal_save(env->roots, j, e);
}

static int apply_device(const struct bind_env *env, struct journal *j, struct journal_device *d,
                        struct vl_error *e)
{
        char path[PATH_MAX], cur[PCI_DRIVER_MAX], addr[PCI_ADDR_STRLEN], step[128], t[16];
        int r;

        pci_addr_format(&d->addr, addr);

        r = journal_step(env, j, d, JOURNAL_STEP_OVERRIDE, e);
        if (r < 0)
                return r;
        r = dev_attr(path, sizeof(path), env, &d->addr, "driver_override");
        if (r >= 0)
                r = write_attr(env, &d->addr, "set driver_override", path, VFIO_DRIVER, e);
        if (r < 0)
                return r;

        current_driver(env, &d->addr, cur, sizeof(cur));
        if (cur[0] && strcmp(cur, VFIO_DRIVER) != 0) {
                r = journal_step(env, j, d, JOURNAL_STEP_UNBIND, e);
                if (r < 0)
                        return r;
                (void) snprintf(step, sizeof(step), "unbind from \"%s\"", cur);
                r = fs_join(path, sizeof(path), env->roots->sysfs, "bus/pci/drivers/%s/unbind", cur);
                if (r >= 0)
                        r = write_attr(env, &d->addr, step, path, addr, e);
                if (r < 0)
                        return r;
        }

        r = journal_step(env, j, d, JOURNAL_STEP_PROBE, e);
        if (r < 0)
                return r;
        if (strcmp(cur, VFIO_DRIVER) != 0) {
                r = fs_join(path, sizeof(path), env->roots->sysfs, "bus/pci/drivers_probe");
                if (r >= 0)
                        r = write_attr(env, &d->addr, "probe (drivers_probe)", path, addr, e);
                if (r < 0)
                        return r;
        }
        r = wait_driver(env, &d->addr, VFIO_DRIVER, cur, sizeof(cur));
        if (r < 0)
                return vl_error_set(e, ETIMEDOUT, "%s: wait for vfio-pci: not bound to vfio-pci %s after drivers_probe "
                                    "(driver now: %s; see dmesg)",
                                    addr, seconds(env->wait_timeout_ms, t), cur[0] ? cur : "none");
        TRACE("%s on vfio-pci", addr);
        return journal_step(env, j, d, JOURNAL_STEP_ON_VFIO, e);
}

static int apply_group(const struct bind_env *env, struct journal *j, struct journal_group *g, uid_t uid,
                       gid_t gid, struct vl_error *e)
{
        char path[PATH_MAX], t[16];
        struct stat st;
        int r;

        r = fs_join(path, sizeof(path), env->roots->dev, "vfio/%d", g->group);
        if (r < 0)
                return vl_error_set(e, -r, "path too long");
        if (wait_exists(env, path) < 0)
                return vl_error_set(e, ETIMEDOUT,
                                    "IOMMU group %d: %s did not appear within %s after its devices moved to vfio-pci "
                                    "(is the vfio_iommu_type1 module loaded?)",
                                    g->group, path, seconds(env->wait_timeout_ms, t));
        if (uid == (uid_t) -1 && gid == (gid_t) -1)
                return 0;
        if (lstat(path, &st) < 0)
                return vl_error_set(e, errno, "IOMMU group %d: cannot stat '%s': %s", g->group, path, strerror(errno));
        g->uid = st.st_uid;
        g->gid = st.st_gid;
        g->mode = st.st_mode & 07777;
        g->chowned = true;
        r = journal_save(env->roots, j, e);
        if (r < 0)
                return r;
        if (fchownat(AT_FDCWD, path, uid, gid, AT_SYMLINK_NOFOLLOW) < 0)
                return vl_error_set(e, errno, "IOMMU group %d: cannot chown '%s' to %d:%d: %s", g->group, path,
                                    (int) uid, (int) gid, strerror(errno));
        return 0;
}

/* Give one device back. Reads the device's state instead of trusting the
 * step: a crash may have happened on either side of any write. */
static int undo_device(const struct bind_env *env, const struct journal_device *d, struct vl_error *e)
{
        char path[PATH_MAX], cur[PCI_DRIVER_MAX], ovr[PCI_DRIVER_MAX], addr[PCI_ADDR_STRLEN], step[128], t[16];
        int r;

        pci_addr_format(&d->addr, addr);
        r = dev_attr(path, sizeof(path), env, &d->addr, "");
        if (r < 0)
                return vl_error_set(e, -r, "path too long");
        /* Hot-unplugged since: nothing left to give back. If it comes back,
         * the kernel probes it afresh (its override went with it). */
        if (!fs_exists(path))
                return 0;

        current_driver(env, &d->addr, cur, sizeof(cur));
        current_override(env, &d->addr, ovr, sizeof(ovr));
        if (strcmp(cur, d->orig_driver) == 0 && strcmp(ovr, d->orig_override) == 0)
                return 0; /* already back: nothing to write */

        /* 1. Clear driver_override first: with "vfio-pci" left in it, the
         * original driver would not match (bind answers ENODEV). */
        if (ovr[0]) {
                r = dev_attr(path, sizeof(path), env, &d->addr, "driver_override");
                if (r >= 0)
                        r = write_attr(env, &d->addr, "clear driver_override", path, "\n", e);
                if (r < 0)
                        return r;
        }

        /* 2. Off vfio-pci. A driver we did not put there is not ours to
         * remove: report it. */
        if (strcmp(cur, VFIO_DRIVER) == 0) {
                r = fs_join(path, sizeof(path), env->roots->sysfs, "bus/pci/drivers/%s/unbind", VFIO_DRIVER);
                if (r >= 0)
                        r = write_attr(env, &d->addr, "unbind from \"vfio-pci\"", path, addr, e);
                if (r < 0)
                        return r;
                current_driver(env, &d->addr, cur, sizeof(cur));
                if (strcmp(cur, VFIO_DRIVER) == 0)
                        return vl_error_set(e, EBUSY, "%s: unbind from \"vfio-pci\": still bound after the write", addr);
        } else if (cur[0] && strcmp(cur, d->orig_driver) != 0)
                return vl_error_set(e, EBUSY,
                                    "%s: it is on driver \"%s\", neither vfio-pci nor its original \"%s\": "
                                    "left as it is",
                                    addr, cur, d->orig_driver[0] ? d->orig_driver : "(none)");

        /* 3. Back to the recorded driver (none: stays unbound). */
        if (d->orig_driver[0] && strcmp(cur, d->orig_driver) != 0) {
                (void) snprintf(step, sizeof(step), "bind to \"%s\"", d->orig_driver);
                r = ensure_driver(env, d->orig_driver, d->orig_module, addr, e);
                if (r < 0)
                        return r;
                /* Loading the module may have probed the device already. */
                current_driver(env, &d->addr, cur, sizeof(cur));
                if (!cur[0]) {
                        r = fs_join(path, sizeof(path), env->roots->sysfs, "bus/pci/drivers/%s/bind",
                                       d->orig_driver);
                        if (r >= 0)
                                r = write_attr(env, &d->addr, step, path, addr, e);
                        if (r < 0) {
                                current_driver(env, &d->addr, cur, sizeof(cur));
                                if (strcmp(cur, d->orig_driver) != 0)
                                        return r;
                        }
                }
                if (wait_driver(env, &d->addr, d->orig_driver, cur, sizeof(cur)) < 0)
                        return vl_error_set(e, ETIMEDOUT, "%s: %s: not bound %s later (driver now: %s; see dmesg)",
                                            addr, step, seconds(env->wait_timeout_ms, t), cur[0] ? cur : "none");
        }

        TRACE("%s back on %s", addr, d->orig_driver[0] ? d->orig_driver : "(none)");
        /* 4. The override the device had before, if any. */
        if (d->orig_override[0]) {
                r = dev_attr(path, sizeof(path), env, &d->addr, "driver_override");
                if (r >= 0)
                        r = write_attr(env, &d->addr, "restore driver_override", path, d->orig_override, e);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int undo_group(const struct bind_env *env, const struct journal_group *g, struct vl_error *e)
{
        char path[PATH_MAX];
        struct stat st;
        int r;

        r = fs_join(path, sizeof(path), env->roots->dev, "vfio/%d", g->group);
        if (r < 0)
                return vl_error_set(e, -r, "path too long");
        if (lstat(path, &st) < 0) {
                if (errno == ENOENT)
                        return 0; /* the node went with the group's last vfio-pci device */
                return vl_error_set(e, errno, "IOMMU group %d: cannot stat '%s': %s", g->group, path, strerror(errno));
        }
        if (S_ISLNK(st.st_mode))
                return vl_error_set(e, EPERM, "IOMMU group %d: %s is a symlink, leaving it", g->group, path);
        if ((st.st_uid != g->uid || st.st_gid != g->gid) &&
            fchownat(AT_FDCWD, path, g->uid, g->gid, AT_SYMLINK_NOFOLLOW) < 0)
                return vl_error_set(e, errno, "IOMMU group %d: cannot give '%s' back to %u:%u: %s", g->group, path,
                                    g->uid, g->gid, strerror(errno));
        if ((st.st_mode & 07777) != g->mode && fchmodat(AT_FDCWD, path, g->mode, 0) < 0)
                return vl_error_set(e, errno, "IOMMU group %d: cannot restore the mode of '%s': %s", g->group, path,
                                    strerror(errno));
        return 0;
}

static bool group_selected(int group, const int *groups, unsigned n_groups)
{
        if (!groups)
                return true;
        for (unsigned i = 0; i < n_groups; i++)
                if (groups[i] == group)
                        return true;
        return false;
}

int bind_undo(const struct bind_env *env, struct journal *j, const int *groups, unsigned n_groups,
              struct vl_error *e)
{
        struct vl_error first = {}, ignored;
        char left[256] = "";
        size_t off = 0;
        unsigned kept = 0;
        bool changed = false;
        int ret = 0, r;

        r = env_check(env, e);
        if (r < 0)
                return r;
        for (unsigned i = j->n_groups; i-- > 0;) {
                struct journal_group *g = &j->groups[i];
                if (!g->chowned || !group_selected(g->group, groups, n_groups))
                        continue;
                r = undo_group(env, g, ret < 0 ? &ignored : &first);
                if (r < 0) {
                        if (ret == 0)
                                ret = r;
                        continue;
                }
                g->chowned = false;
                changed = true;
                (void) journal_save(env->roots, j, &ignored);
        }

        for (unsigned i = j->n_devices; i-- > 0;) {
                struct journal_device *d = &j->devices[i];
                char a[PCI_ADDR_STRLEN];
                if (!group_selected(d->group, groups, n_groups))
                        continue;
                if (d->managed && d->step != JOURNAL_STEP_PLANNED) {
                        r = undo_device(env, d, ret < 0 ? &ignored : &first);
                        if (r < 0) {
                                if (ret == 0)
                                        ret = r;
                                if (off < sizeof(left)) {
                                        int w = snprintf(left + off, sizeof(left) - off, "%s%s", off ? ", " : "",
                                                         pci_addr_format(&d->addr, a));
                                        if (w > 0)
                                                off += (size_t) w;
                                }
                                continue;
                        }
                }
                /* Back (or never touched): drop it, so a later recover
                 * only retries what remains. */
                d->step = JOURNAL_STEP_PLANNED;
                d->managed = false;
                changed = true;
                (void) journal_save(env->roots, j, &ignored);
        }
        /* Compact: keep the devices still to give back, those of groups
         * not undone, and their groups. */
        for (unsigned i = 0; i < j->n_devices; i++)
                if (j->devices[i].managed || !group_selected(j->devices[i].group, groups, n_groups))
                        j->devices[kept++] = j->devices[i];
        j->n_devices = kept;
        kept = 0;
        for (unsigned i = 0; i < j->n_groups; i++) {
                bool used = j->groups[i].chowned;
                for (unsigned k = 0; k < j->n_devices && !used; k++)
                        used = j->devices[k].group == j->groups[i].group;
                if (used)
                        j->groups[kept++] = j->groups[i];
        }
        j->n_groups = kept;

        if (!changed && ret == 0)
                return 0;
        r = changed ? journal_save(env->roots, j, ret < 0 ? &ignored : e) : 0;
        if (ret == 0)
                return r;
        if (e) {
                *e = first;
                vl_error_append(e, "; not given back: %s%s", left[0] ? left : "the owner of /dev/vfio nodes",
                                r < 0 ? " (the journal could not be saved either)" : "");
        }
        return ret;
}

int bind_apply(const struct bind_env *env, const struct bind_plan *plan, uid_t uid, gid_t gid,
               struct vl_error *e)
{
        _cleanup_free_ struct journal *j = NULL;
        struct vl_error ue = {};
        bool any_move = false;
        unsigned n_before, first_group;
        int r, u;

        r = env_check(env, e);
        if (r < 0)
                return r;
        if (plan->n_devices == 0)
                return 0;
        j = malloc(sizeof(*j));
        if (!j)
                return vl_error_set(e, ENOMEM, "out of memory");

        /* The plan may be old (`print`, then a prompt): re-read the host. */
        for (unsigned i = 0; i < plan->n_devices; i++) {
                const struct bind_plan_device *pd = &plan->devices[i];
                struct pci_device now;
                char a[PCI_ADDR_STRLEN];
                pci_addr_format(&pd->dev.addr, a);
                r = pci_device_read(env->roots->sysfs, &pd->dev.addr, &now, e);
                if (r == -ENOENT)
                        return vl_error_set(e, ESTALE, "%s is gone since the plan was made: plan again", a);
                if (r < 0)
                        return r;
                /* The hand-over's module unload takes a device off its
                 * driver: the journal still records the driver it had. */
                if (plan->handover && !now.driver[0] && pd->dev.driver[0])
                        (void) snprintf(now.driver, sizeof(now.driver), "%s", pd->dev.driver);
                if (strcmp(now.driver, pd->dev.driver) != 0 || now.iommu_group != pd->dev.iommu_group ||
                    strcmp(now.driver_override, pd->dev.driver_override) != 0)
                        return vl_error_set(e, ESTALE,
                                            "%s changed since the plan was made (driver \"%s\" then, \"%s\" now): "
                                            "plan again",
                                            a, pd->dev.driver, now.driver);
        }

        /* Journal first. A journal of this VM from the network code of this
         * same process (entries only) is extended; any other is refused. */
        r = journal_load(env->roots, plan->name, j, e);
        if (r == 0) {
                if (j->launcher_pid != getpid() || ((j->n_devices > 0 || j->n_groups > 0) && !plan->extend))
                        return vl_error_set(e, EEXIST,
                                            "a journal of \"%s\" already exists (launcher pid %d): another run is "
                                            "active or did not finish; see `vfio-launch recover`",
                                            plan->name, (int) j->launcher_pid);
        } else if (r == -ENOENT)
                journal_init(j, plan->name, env->roots);
        else
                return r;
        n_before = j->n_devices;
        if (j->n_devices + plan->n_devices > JOURNAL_DEVICES_MAX || j->n_groups + plan->n_groups > JOURNAL_GROUPS_MAX)
                return vl_error_set(e, E2BIG, "the journal of \"%s\" cannot hold more devices", plan->name);
        for (unsigned i = 0; i < plan->n_devices; i++) {
                const struct bind_plan_device *pd = &plan->devices[i];
                struct journal_device *d;
                if (pd->action == BIND_ACTION_SKIP_BRIDGE)
                        continue;
                if (journal_find_device(j, &pd->dev.addr))
                        return vl_error_set(e, EEXIST, "%s is in the journal of \"%s\" already",
                                            pci_addr_format(&pd->dev.addr, (char[PCI_ADDR_STRLEN]){}), plan->name);
                d = &j->devices[j->n_devices++];
                *d = (struct journal_device) { .addr = pd->dev.addr, .group = pd->dev.iommu_group,
                                               .managed = pd->action == BIND_ACTION_MOVE,
                                               .step = JOURNAL_STEP_PLANNED };
                (void) snprintf(d->orig_driver, sizeof(d->orig_driver), "%s", pd->dev.driver);
                (void) snprintf(d->orig_module, sizeof(d->orig_module), "%s", pd->dev.driver_module);
                (void) snprintf(d->orig_override, sizeof(d->orig_override), "%s", pd->dev.driver_override);
                any_move = any_move || d->managed;
        }
        first_group = j->n_groups;
        for (unsigned g = 0; g < plan->n_groups; g++)
                j->groups[j->n_groups++] = (struct journal_group) { .group = plan->groups[g] };
        r = j->n_entries > 0 || j->n_devices > n_before ? journal_save(env->roots, j, e)
                                                        : journal_create(env->roots, j, e);
        if (r < 0)
                return r;

        if (any_move)
                r = ensure_driver(env, VFIO_DRIVER, VFIO_MODULE, "loading vfio-pci", e);
        for (unsigned i = n_before; r >= 0 && i < j->n_devices; i++)
                if (j->devices[i].managed)
                        r = apply_device(env, j, &j->devices[i], e);
        for (unsigned g = first_group; r >= 0 && g < j->n_groups; g++)
                r = apply_group(env, j, &j->groups[g], uid, gid, e);
        if (r >= 0)
                return 0;

        /* Only what this plan moved: a live attach must not take the
         * running guest's other devices with it. */
        u = bind_undo(env, j, plan->groups, plan->n_groups, &ue);
        if (u >= 0 && journal_empty(j))
                u = journal_remove(env->roots, j->name, &ue);
        if (u >= 0)
                vl_error_append(e, "; every change was rolled back");
        else
                vl_error_append(e, "; ROLLBACK INCOMPLETE: %s; run `vfio-launch recover %s` when the cause is fixed",
                                ue.msg, j->name);
        return r;
}
