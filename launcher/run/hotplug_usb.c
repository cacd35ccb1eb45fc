/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Live detach and attach of the host USB devices (hotplug_usb.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "base/macro.h"
#include "host/journal.h"
#include "qemu/qemu_argv.h"
#include "run/hotplug.h"
#include "run/hotplug_usb.h"
#include "run/supervisor.h"

#define QMP_COMMAND_TIMEOUT_MS 10000u

void hotplug_usb_init(struct hotplug_usb *h, const struct profile *p, const struct host_env *host, uid_t uid,
                      gid_t gid, const struct usb_plan *plan)
{
        *h = (struct hotplug_usb) { .p = p, .host = host, .uid = uid, .gid = gid };
        for (unsigned i = 0; i < plan->n; i++) {
                h->attached[plan->nodes[i].device] = true;
                h->node[plan->nodes[i].device] = plan->nodes[i];
        }
}

/* DEVICE: "usbhostI" or "I". */
static int find(const struct hotplug_usb *h, const char *arg)
{
        size_t n = strlen(PROFILE_ID_USB_HOST_PREFIX);
        const char *num = strncmp(arg, PROFILE_ID_USB_HOST_PREFIX, n) == 0 ? arg + n : arg;
        char *end;
        unsigned long i;

        if (*num < '0' || *num > '9')
                return -ENOENT;
        errno = 0;
        i = strtoul(num, &end, 10);
        if (errno || *end || i >= h->p->usb.n_devices)
                return -ENOENT;
        return (int) i;
}

/* Give the node of device i back: its journal entry undone through the
 * one way back, then out of the journal. */
static int give_back(struct hotplug_usb *h, unsigned i, struct vl_error *e)
{
        _cleanup_free_ struct journal *j = calloc(1, sizeof(*j));
        int r;

        if (!j)
                return vl_error_set(e, ENOMEM, "out of memory");
        r = journal_load(h->host->roots, h->p->name, j, e);
        if (r < 0)
                return r;
        for (unsigned k = 0; k < j->n_entries; k++) {
                const struct journal_entry *x = &j->entries[k];

                if (x->kind != JOURNAL_USB || strcmp(x->usb.node, h->node[i].node) != 0 ||
                    x->usb.rdev != (uint64_t) h->node[i].rdev)
                        continue;
                r = host_undo_entry(h->host, x, e, NULL);
                if (r < 0)
                        return r;
                return journal_remove_entry(h->host->roots, h->p->name, x, e);
        }
        return 0; /* the node was QEMU's user's already: nothing was changed */
}

static int remove_fdset(struct sup *s, unsigned fdset, struct vl_error *e)
{
        _cleanup_(json_decrefp) json_t *args = json_pack("{s:I}", "fdset-id", (json_int_t) fdset);

        if (!args)
                return vl_error_set(e, ENOMEM, "out of memory");
        return sup_execute(s, "remove-fd", args, QMP_COMMAND_TIMEOUT_MS, NULL, e);
}

struct deleted_wait {
        const struct hotplug_usb *h;
        unsigned i;
};

static bool deleted(void *data)
{
        const struct deleted_wait *w = data;

        return w->h->deleted[w->i];
}

static int detach(struct hotplug_usb *h, struct sup *s, unsigned i, char *reply, size_t size)
{
        struct deleted_wait w = { .h = h, .i = i };
        _cleanup_(json_decrefp) json_t *args = NULL;
        struct qemu_usb_host u;
        struct vl_error e = {};
        int r;

        qemu_usb_host_layout(i, &u);
        if (!h->attached[i])
                return hotplug_reply_set(reply, size, "error: %s is not attached", u.id);
        h->deleted[i] = false;
        args = json_pack("{s:s}", "id", u.id);
        if (!args)
                return hotplug_reply_set(reply, size, "error: out of memory");
        r = sup_execute(s, "device_del", args, QMP_COMMAND_TIMEOUT_MS, NULL, &e);
        if (r < 0)
                return hotplug_reply_set(reply, size, "error: device_del %s: %s", u.id, e.msg);
        r = sup_wait(s, deleted, &w, HOTPLUG_USB_TIMEOUT_MS);
        if (r < 0)
                return hotplug_reply_set(reply, size,
                        "error: %s: no DEVICE_DELETED within %u ms (%s); it stays with the VM",
                        u.id, HOTPLUG_USB_TIMEOUT_MS, strerror(-r));
        h->attached[i] = false;
        /* QEMU's copy of the fd stays in the set until it is removed: the
         * device would stay open (and busy for the host's driver). */
        r = remove_fdset(s, u.fdset, &e);
        if (r < 0)
                return hotplug_reply_set(reply, size,
                        "error: %s left the guest, but remove-fd %u: %s; the node goes back "
                        "when the VM stops",
                        u.id, u.fdset, e.msg);
        r = give_back(h, i, &e);
        if (r < 0)
                return hotplug_reply_set(reply, size, "error: %s left the guest, but %s was not given back: %s", u.id,
                                         h->node[i].node, e.msg);
        return hotplug_reply_set(reply, size,
                "ok: %s (%s, %04x:%04x) detached, %s given back", u.id, h->node[i].sysname,
                h->node[i].vendor, h->node[i].product, h->node[i].node);
}

static int attach(struct hotplug_usb *h, struct sup *s, unsigned i, char *reply, size_t size)
{
        _cleanup_(json_decrefp) json_t *fd_args = NULL, *dev_args = NULL;
        _cleanup_close_ int fd = -EBADF;
        struct qemu_usb_host u;
        struct vl_error e = {};
        struct usb_node n;
        char jpath[64];
        int r;

        qemu_usb_host_layout(i, &u);
        if (h->attached[i])
                return hotplug_reply_set(reply, size, "error: %s is attached already", u.id);
        (void) snprintf(jpath, sizeof(jpath), "$.usb.devices[%u]", i);
        /* As at start: the device may be on another node since (replugged). */
        r = usb_find(h->host->roots, &h->p->usb.devices[i], jpath, &n, &e);
        if (r < 0)
                return hotplug_reply_set(reply, size, "error: %s", e.msg);
        n.device = i;
        for (unsigned k = 0; k < h->p->usb.n_devices; k++)
                if (h->attached[k] && h->node[k].rdev == n.rdev)
                        return hotplug_reply_set(reply, size, "error: %s is " PROFILE_ID_USB_HOST_PREFIX "%u's already",
                                                 n.sysname, k);
        h->node[i] = n;
        r = usb_hand_over(h->host->roots, h->p->name, &n, h->uid, h->gid, &e);
        if (r >= 0)
                fd = r = usb_open(&n, &e);
        if (r < 0) {
                struct vl_error ge = {};

                (void) give_back(h, i, &ge);
                return hotplug_reply_set(reply, size, "error: %s", e.msg);
        }
        fd_args = json_pack("{s:I, s:s}", "fdset-id", (json_int_t) u.fdset, "opaque", u.id);
        dev_args = json_pack("{s:s, s:s, s:s, s:s}", "driver", "usb-host", "hostdevice", u.hostdevice, "id", u.id,
                             "bus", u.bus);
        if (!fd_args || !dev_args)
                r = vl_error_set(&e, ENOMEM, "out of memory");
        if (r >= 0)
                r = sup_execute_fd(s, "add-fd", fd_args, fd, QMP_COMMAND_TIMEOUT_MS, NULL, &e);
        if (r >= 0) {
                r = sup_execute(s, "device_add", dev_args, QMP_COMMAND_TIMEOUT_MS, NULL, &e);
                if (r < 0) {
                        struct vl_error fe = {};

                        (void) remove_fdset(s, u.fdset, &fe);
                }
        }
        if (r < 0) {
                struct vl_error ge = {};

                (void) give_back(h, i, &ge);
                return hotplug_reply_set(reply, size, "error: %s: %s; %s stays on the host", u.id, e.msg, n.node);
        }
        h->attached[i] = true;
        return hotplug_reply_set(reply, size,
                "ok: %s (%s, %04x:%04x, %s) attached", u.id, n.sysname, n.vendor, n.product, n.node);
}

void hotplug_usb_request(struct hotplug_usb *h, struct sup *s, const char *request, char *reply, size_t size)
{
        char verb[16], arg[PROFILE_STR_MAX];
        int i;

        if (sscanf(request, "usb %15s %63s", verb, arg) != 2) {
                (void) hotplug_reply_set(reply, size, "error: expected \"usb detach|attach DEVICE\"");
                return;
        }
        i = find(h, arg);
        if (i < 0)
                (void) hotplug_reply_set(reply, size, "error: \"%s\" is none of this VM's USB devices (%s0..%s%u)", arg,
                                         PROFILE_ID_USB_HOST_PREFIX, PROFILE_ID_USB_HOST_PREFIX,
                                         h->p->usb.n_devices ? h->p->usb.n_devices - 1 : 0);
        else if (strcmp(verb, "detach") == 0)
                (void) detach(h, s, (unsigned) i, reply, size);
        else if (strcmp(verb, "attach") == 0)
                (void) attach(h, s, (unsigned) i, reply, size);
        else
                (void) hotplug_reply_set(reply, size, "error: usb %s: expected detach or attach", verb);
}

void hotplug_usb_device_deleted(struct hotplug_usb *h, const char *id)
{
        int i = strncmp(id, PROFILE_ID_USB_HOST_PREFIX, strlen(PROFILE_ID_USB_HOST_PREFIX)) == 0 ? find(h, id)
                                                                                               : -ENOENT;

        if (i >= 0)
                h->deleted[i] = true;
}

void hotplug_usb_describe(const struct hotplug_usb *h, char *buf, size_t size)
{
        char list[1024];
        size_t n = 0, have = strlen(buf);

        if (!h->p || h->p->usb.n_devices == 0)
                return;
        for (unsigned i = 0; i < h->p->usb.n_devices; i++) {
                char what[64];
                int k;

                /* Ids and place only: a serial is the device's bytes, which
                 * JSON might need escaped. */
                if (h->p->usb.devices[i].by_port)
                        (void) snprintf(what, sizeof(what), "bus %u port %s", h->p->usb.devices[i].bus,
                                        h->p->usb.devices[i].port);
                else
                        (void) snprintf(what, sizeof(what), "%04x:%04x", h->p->usb.devices[i].vendor,
                                        h->p->usb.devices[i].product);
                k = snprintf(list + n, sizeof(list) - n,
                             "%s{\"id\":\"" PROFILE_ID_USB_HOST_PREFIX "%u\",\"device\":\"%s\",\"host\":\"%s\","
                             "\"node\":\"%s\",\"hotplug\":\"%s\"}",
                             i ? "," : "", i, what, h->attached[i] ? h->node[i].sysname : "",
                             h->attached[i] ? h->node[i].node : "", h->attached[i] ? "attached" : "detached");
                if (k < 0 || (size_t) k >= sizeof(list) - n)
                        return; /* left out whole: a cut member would break the reply's JSON */
                n += (size_t) k;
        }
        if (have + n + 12 < size)
                (void) snprintf(buf + have, size - have, "%s\"usb\":[%s]", have ? "," : "", list);
}
