/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * hotplug: live detach / attach. See hotplug.h for the contract.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "run/hotplug.h"
#include "host/journal.h"
#include "host/pci.h"
#include "run/supervisor.h"

#define QMP_COMMAND_TIMEOUT_MS 10000u
#define ATTACH_ROLLBACK_TIMEOUT_MS 2000u

int hotplug_init(struct hotplug *h, const struct profile *p, const struct host_env *host, uid_t uid,
                 gid_t gid, struct vl_error *e)
{
        int r;

        *h = (struct hotplug) { .p = p, .host = host, .uid = uid, .gid = gid };
        r = qemu_hostdev_layout(p, h->hd, e);
        if (r < 0)
                return r;
        for (unsigned i = 0; i < p->n_hostdevs; i++) {
                struct pci_device d;
                r = pci_device_read(host->roots->sysfs, &p->hostdevs[i].host, &d, e);
                if (r < 0)
                        return r == -ENOENT ? vl_error_set(e, ENODEV, "%s is gone", h->hd[i].host) : r;
                h->group[i] = d.iommu_group;
        }
        return 0;
}

int hotplug_find(const struct hotplug *h, const char *arg)
{
        struct pci_addr a;
        bool is_addr = pci_addr_parse(arg, &a) == 0;

        for (unsigned i = 0; i < h->p->n_hostdevs; i++)
                if (strcmp(h->hd[i].id, arg) == 0 || (is_addr && pci_addr_equal(&a, &h->p->hostdevs[i].host)))
                        return (int) i;
        return -ENOENT;
}

void hotplug_closure(const struct hotplug *h, unsigned i, bool ret[static PROFILE_HOSTDEVS_MAX])
{
        unsigned n = h->p->n_hostdevs;
        bool grew = true;

        memset(ret, 0, sizeof(bool) * PROFILE_HOSTDEVS_MAX);
        ret[i] = true;
        while (grew) {
                grew = false;
                for (unsigned j = 0; j < n; j++) {
                        if (ret[j])
                                continue;
                        for (unsigned k = 0; k < n && !ret[j]; k++)
                                if (ret[k] && (h->group[k] == h->group[j] || h->hd[k].bus == h->hd[j].bus))
                                        ret[j] = grew = true;
                }
        }
}

/* "gpu (0000:01:00.0), gpuaudio (0000:01:00.1)" */
static const char *set_names(const struct hotplug *h, const bool *set, char *buf, size_t size)
{
        size_t off = 0;

        buf[0] = '\0';
        for (unsigned i = 0; i < h->p->n_hostdevs && off < size; i++) {
                int w;
                if (!set[i])
                        continue;
                w = snprintf(buf + off, size - off, "%s%s (%s)", off ? ", " : "", h->hd[i].id, h->hd[i].host);
                if (w > 0)
                        off += (size_t) w;
        }
        return buf;
}

static unsigned set_groups(const struct hotplug *h, const bool *set, int groups[static PROFILE_HOSTDEVS_MAX])
{
        unsigned n = 0;

        for (unsigned i = 0; i < h->p->n_hostdevs; i++) {
                bool seen = false;
                if (!set[i])
                        continue;
                for (unsigned k = 0; k < n; k++)
                        seen = seen || groups[k] == h->group[i];
                if (!seen)
                        groups[n++] = h->group[i];
        }
        return n;
}

int hotplug_reply_set(char *reply, size_t size, const char *fmt, ...)
{
        va_list ap;

        va_start(ap, fmt);
        (void) vsnprintf(reply, size, fmt, ap);
        va_end(ap);
        return 0;
}

/* ---- waiting for QEMU -------------------------------------------------------------- */

struct deleted_wait {
        const struct hotplug *h;
        const bool *set;
};

static bool all_deleted(void *data)
{
        const struct deleted_wait *w = data;

        for (unsigned i = 0; i < w->h->p->n_hostdevs; i++)
                if (w->set[i] && !w->h->deleted[i])
                        return false;
        return true;
}

/* Whether QEMU (pid) still has /dev/vfio/GROUP of one of groups open. A
 * device QEMU has finalized has closed its device fd, but the group node
 * closes with the last device of the group, and a host driver cannot bind
 * while it is open. */
static bool qemu_holds_groups(const struct host_roots *roots, pid_t pid, const int *groups, unsigned n)
{
        char dir[PATH_MAX], target[PATH_MAX], want[64];
        DIR *d;
        struct dirent *de;
        bool found = false;

        (void) snprintf(dir, sizeof(dir), "%s/%d/fd", roots->proc, (int) pid);
        d = opendir(dir);
        if (!d)
                return false; /* gone */
        while (!found && (de = readdir(d))) {
                ssize_t len;
                if (de->d_name[0] == '.')
                        continue;
                len = readlinkat(dirfd(d), de->d_name, target, sizeof(target) - 1);
                if (len <= 0)
                        continue;
                target[len] = '\0';
                for (unsigned k = 0; k < n && !found; k++) {
                        (void) snprintf(want, sizeof(want), "/vfio/%d", groups[k]);
                        /* "/dev/vfio/12": compare the tail, the dev root may differ */
                        size_t tl = strlen(target), wl = strlen(want);
                        found = tl >= wl && strcmp(target + tl - wl, want) == 0;
                }
        }
        closedir(d);
        return found;
}

static int wait_released(const struct hotplug *h, pid_t pid, const int *groups, unsigned n)
{
        const struct timespec step = { .tv_nsec = 20 * 1000 * 1000 };

        for (unsigned waited = 0; waited < HOTPLUG_RELEASE_TIMEOUT_MS; waited += 20) {
                if (!qemu_holds_groups(h->host->roots, pid, groups, n))
                        return 0;
                (void) nanosleep(&step, NULL);
        }
        return -ETIMEDOUT;
}

/* The devices of set are out of the guest: give them back to the host. */
static int finish_detach(struct hotplug *h, struct sup *s, const bool *set, char *msg, size_t size)
{
        int groups[PROFILE_HOSTDEVS_MAX];
        unsigned n = set_groups(h, set, groups);
        char names[512], drivers[256] = "";
        struct vl_error e = {};
        size_t off = 0;
        int r;

        set_names(h, set, names, sizeof(names));
        if (wait_released(h, sup_qemu_pid(s), groups, n) < 0) {
                hotplug_reply_set(msg, size,
                                  "error: %s left the guest, but QEMU still holds their IOMMU group after %u s; "
                                  "they go back to the host when the VM stops",
                                  names, HOTPLUG_RELEASE_TIMEOUT_MS / 1000);
                return -EBUSY;
        }
        r = host_undo_groups(h->host, h->p->name, groups, n, &e);
        if (r < 0) {
                hotplug_reply_set(msg, size, "error: %s left the guest, but giving them back failed: %s", names, e.msg);
                return r;
        }
        for (unsigned i = 0; i < h->p->n_hostdevs; i++) {
                struct pci_device d;
                struct vl_error ignored;
                int w;
                if (!set[i])
                        continue;
                h->state[i] = HOTPLUG_DETACHED;
                if (off < sizeof(drivers) &&
                    pci_device_read(h->host->roots->sysfs, &h->p->hostdevs[i].host, &d, &ignored) == 0) {
                        w = snprintf(drivers + off, sizeof(drivers) - off, "%s%s", off ? ", " : "",
                                     d.driver[0] ? d.driver : "no driver");
                        if (w > 0)
                                off += (size_t) w;
                }
        }
        hotplug_reply_set(msg, size, "ok: %s left the guest and are back on the host (%s)", names, drivers);
        return 1;
}

/* The hostdev arg names and what goes with it (set, names), all in state
 * from. Returns its index, or -1 with the reply filled. */
static int select_set(const struct hotplug *h, const char *arg, enum hotplug_state from,
                      bool set[static PROFILE_HOSTDEVS_MAX], char *names, size_t names_size, char *reply,
                      size_t size)
{
        int idx = hotplug_find(h, arg);

        if (idx < 0) {
                hotplug_reply_set(reply, size, "error: \"%s\" is no hostdev of VM \"%s\" (give its id or host address)",
                                  arg, h->p->name);
                return -1;
        }
        hotplug_closure(h, (unsigned) idx, set);
        set_names(h, set, names, names_size);
        for (unsigned i = 0; i < h->p->n_hostdevs; i++) {
                if (!set[i] || h->state[i] == from)
                        continue;
                if (h->state[i] == HOTPLUG_DETACHING)
                        hotplug_reply_set(reply, size,
                                "error: the detach of %s is still pending: the guest has not released it",
                                h->hd[i].id);
                else if (h->state[i] == HOTPLUG_DETACHED)
                        hotplug_reply_set(reply, size, "error: %s is not attached to the VM", h->hd[i].id);
                else
                        hotplug_reply_set(reply, size, "error: %s is attached to the VM already", h->hd[i].id);
                return -1;
        }
        return idx;
}

/* ---- detach ---------------------------------------------------------------------------- */

static int detach(struct hotplug *h, struct sup *s, unsigned timeout_ms, const char *arg, char *reply,
                   size_t size)
{
        bool set[PROFILE_HOSTDEVS_MAX];
        struct deleted_wait w = { .h = h, .set = set };
        char names[512];
        int idx, r;

        idx = select_set(h, arg, HOTPLUG_ATTACHED, set, names, sizeof(names), reply, size);
        if (idx < 0)
                return idx;

        for (unsigned i = 0; i < h->p->n_hostdevs; i++)
                if (set[i])
                        h->deleted[i] = false;
        /* Function 0 of each slot: QEMU removes the whole slot with it. */
        for (unsigned i = 0; i < h->p->n_hostdevs; i++) {
                struct vl_error e = {};
                json_t *args;
                if (!set[i] || h->hd[i].function != 0)
                        continue;
                args = json_pack("{s:s}", "id", h->hd[i].id);
                if (!args)
                        return hotplug_reply_set(reply, size, "error: out of memory");
                r = sup_execute(s, "device_del", args, QMP_COMMAND_TIMEOUT_MS, NULL, &e);
                json_decref(args);
                if (r < 0)
                        return hotplug_reply_set(reply, size, "error: device_del %s: %s", h->hd[i].id, e.msg);
                for (unsigned k = 0; k < h->p->n_hostdevs; k++)
                        if (set[k] && h->hd[k].bus == h->hd[i].bus)
                                h->state[k] = HOTPLUG_DETACHING;
        }

        r = sup_wait(s, all_deleted, &w, timeout_ms);
        if (r == -ETIMEDOUT)
                return hotplug_reply_set(reply, size,
                                         "error: the guest did not release %s within %u s (a guest without PCI hot-plug "
                                         "support, or one that is still booting, ignores the request); they stay with "
                                         "the VM and go back to the host when the guest lets go or the VM stops",
                                         names, timeout_ms / 1000);
        if (r < 0)
                return hotplug_reply_set(reply, size, "error: the VM stopped meanwhile; %s go back to the host with it",
                                         names);
        return finish_detach(h, s, set, reply, size);
}

/* ---- attach ---------------------------------------------------------------------------- */

static json_t *device_args(const struct qemu_hostdev *hd)
{
        char bus[16], addr[16];
        json_t *o;

        (void) snprintf(bus, sizeof(bus), "pci.%u", hd->bus);
        if (hd->function)
                (void) snprintf(addr, sizeof(addr), "0x0.0x%x", hd->function);
        else
                (void) snprintf(addr, sizeof(addr), "0x0");
        o = json_pack("{s:s, s:s, s:s, s:s, s:s}", "driver", "vfio-pci", "host", hd->host, "id", hd->id, "bus",
                      bus, "addr", addr);
        if (!o)
                return NULL;
        if ((hd->multifunction && json_object_set_new(o, "multifunction", json_true()) < 0) ||
            (hd->rombar >= 0 && json_object_set_new(o, "rombar", json_integer(hd->rombar)) < 0) ||
            (hd->romfile[0] && json_object_set_new(o, "romfile", json_string(hd->romfile)) < 0) ||
            (hd->x_vga && json_object_set_new(o, "x-vga", json_true()) < 0) ||
            /* The boot order the command line gave it: the next reboot
             * of the guest boots from it as before the detach. */
            (hd->bootindex && json_object_set_new(o, "bootindex", json_integer(hd->bootindex)) < 0)) {
                json_decref(o);
                return NULL;
        }
        return o;
}

/* Take back what a failed attach added; best effort, bounded. */
static void attach_rollback(struct hotplug *h, struct sup *s, const bool *set, const bool *added)
{
        bool gone[PROFILE_HOSTDEVS_MAX] = {};
        struct deleted_wait w = { .h = h, .set = gone };
        int groups[PROFILE_HOSTDEVS_MAX];
        unsigned n = set_groups(h, set, groups);
        struct vl_error ignored;

        for (unsigned i = 0; i < h->p->n_hostdevs; i++) {
                json_t *args;
                if (!added[i])
                        continue;
                h->deleted[i] = false;
                gone[i] = true;
                args = json_pack("{s:s}", "id", h->hd[i].id);
                if (args)
                        (void) sup_execute(s, "device_del", args, QMP_COMMAND_TIMEOUT_MS, NULL, &ignored);
                json_decref(args);
        }
        /* Functions other than 0 of a slot without its function 0 go at once. */
        (void) sup_wait(s, all_deleted, &w, ATTACH_ROLLBACK_TIMEOUT_MS);
        if (!all_deleted(&w) || wait_released(h, sup_qemu_pid(s), groups, n) < 0) {
                for (unsigned i = 0; i < h->p->n_hostdevs; i++)
                        if (added[i])
                                h->state[i] = HOTPLUG_DETACHING; /* the guest may still let go */
                return;
        }
        (void) host_undo_groups(h->host, h->p->name, groups, n, &ignored);
}

static int attach(struct hotplug *h, struct sup *s, const char *arg, char *reply, size_t size)
{
        _cleanup_bind_plan_ struct bind_plan *plan = NULL;
        bool set[PROFILE_HOSTDEVS_MAX], added[PROFILE_HOSTDEVS_MAX] = {};
        char names[512];
        struct vl_error e = {};
        int idx, r;

        idx = select_set(h, arg, HOTPLUG_DETACHED, set, names, sizeof(names), reply, size);
        if (idx < 0)
                return idx;

        /* The same checks as at start: group viable, not in use, not
         * another VM's; then vfio-pci and the group node for QEMU's user. */
        r = bind_plan_new_subset(&h->host->bind, h->p, set, &plan, &e);
        if (r >= 0)
                r = bind_apply(&h->host->bind, plan, h->uid, h->gid, &e);
        if (r < 0)
                return hotplug_reply_set(reply, size, "error: %s: %s; nothing was changed", names, e.msg);
        /* The journal may have been created afresh (the detach emptied it):
         * recover must know which QEMU to wait for. */
        (void) journal_set_qemu(h->host->roots, h->p->name, sup_qemu_pid(s), &e);

        /* Per slot: the other functions first, function 0 last. */
        for (int pass = 0; pass < 2; pass++)
                for (unsigned i = 0; i < h->p->n_hostdevs; i++) {
                        json_t *args;
                        if (!set[i] || (pass == 0) != (h->hd[i].function != 0))
                                continue;
                        args = device_args(&h->hd[i]);
                        if (!args) {
                                vl_error_set(&e, ENOMEM, "out of memory");
                                r = -ENOMEM;
                        } else
                                r = sup_execute(s, "device_add", args, QMP_COMMAND_TIMEOUT_MS, NULL, &e);
                        json_decref(args);
                        if (r < 0) {
                                attach_rollback(h, s, set, added);
                                return hotplug_reply_set(reply, size,
                                        "error: device_add %s: %s; %s stay on the host", h->hd[i].id,
                                        e.msg, names);
                        }
                        added[i] = true;
                }
        for (unsigned i = 0; i < h->p->n_hostdevs; i++)
                if (set[i])
                        h->state[i] = HOTPLUG_ATTACHED;
        return hotplug_reply_set(reply, size,
                "ok: %s are attached to the VM again (guest bus %u)", names, h->hd[idx].bus);
}

void hotplug_describe(const struct hotplug *h, char *buf, size_t size)
{
        static const char *const names[] = { [HOTPLUG_ATTACHED] = "attached", [HOTPLUG_DETACHING] = "detaching",
                                             [HOTPLUG_DETACHED] = "detached" };
        size_t off;
        int w;

        /* Ids are [A-Za-z0-9_.-] (qemu_argv checks them): no escaping. */
        w = snprintf(buf, size, "\"hostdevs\":[");
        off = w > 0 ? (size_t) w : 0;
        for (unsigned i = 0; i < h->p->n_hostdevs && off < size; i++) {
                w = snprintf(buf + off, size - off, "%s{\"id\":\"%s\",\"host\":\"%s\",\"hotplug\":\"%s\"}",
                             i ? "," : "", h->hd[i].id, h->hd[i].host, names[h->state[i]]);
                if (w > 0)
                        off += (size_t) w;
        }
        if (off + 2 > size) { /* cut: better none than broken JSON */
                buf[0] = '\0';
                return;
        }
        (void) snprintf(buf + off, size - off, "]");
}

/* ---- hooks ------------------------------------------------------------------------------- */

void hotplug_request(struct hotplug *h, struct sup *s, const char *request, char *reply, size_t size)
{
        char arg[PROFILE_STR_MAX];
        unsigned timeout_ms = HOTPLUG_DEFAULT_TIMEOUT_MS;
        int n = -1;

        h->in_request = true;
        if (sscanf(request, "detach %u %127s%n", &timeout_ms, arg, &n) == 2 && n > 0 && !request[n])
                (void) detach(h, s, timeout_ms, arg, reply, size);
        else if (sscanf(request, "attach %127s%n", arg, &n) == 1 && n > 0 && !request[n])
                (void) attach(h, s, arg, reply, size);
        else
                (void) hotplug_reply_set(reply, size, "error: malformed request \"%.64s\"", request);
        h->in_request = false;
        /* A detach that timed out may have completed since. */
        for (unsigned i = 0; i < h->p->n_hostdevs; i++)
                if (h->state[i] == HOTPLUG_DETACHING && h->deleted[i])
                        h->late = true;
}

void hotplug_device_deleted(struct hotplug *h, struct sup *s, const char *id)
{
        for (unsigned i = 0; i < h->p->n_hostdevs; i++)
                if (strcmp(h->hd[i].id, id) == 0) {
                        h->deleted[i] = true;
                        if (h->state[i] == HOTPLUG_DETACHING && !h->in_request)
                                h->late = true;
                }
}

int hotplug_idle(struct hotplug *h, struct sup *s, char *msg, size_t size)
{
        if (!h->late || h->in_request)
                return 0;
        h->late = false;
        for (unsigned i = 0; i < h->p->n_hostdevs; i++) {
                bool set[PROFILE_HOSTDEVS_MAX];
                struct deleted_wait w = { .h = h, .set = set };
                if (h->state[i] != HOTPLUG_DETACHING)
                        continue;
                hotplug_closure(h, i, set);
                if (!all_deleted(&w))
                        continue;
                return finish_detach(h, s, set, msg, size);
        }
        return 0;
}
