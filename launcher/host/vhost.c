/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* vhost-net for virtio NICs: see vhost.h. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <limits.h>
#include <unistd.h>

#include "base/fs.h"
#include "base/macro.h"
#include "host/vhost.h"

int vhost_net_open(const struct host_roots *roots, struct vl_error *e)
{
        char path[PATH_MAX];
        int fd;

        if (xsnprintf(path, sizeof(path), "%s/%s", roots->dev, VHOST_NET_NODE) < 0)
                return vl_error_set(e, ENAMETOOLONG, "path of %s too long", VHOST_NET_NODE);
        /* O_NOCTTY: the node is whatever the root says; never let a tty
         * become ours through it. */
        fd = open(path, O_RDWR | O_CLOEXEC | O_NOCTTY);
        if (fd < 0) {
                int err = errno;
                return vl_error_set(e, err, "cannot open '%s': %s%s", path, strerror(err),
                                    err == ENOENT ? " (load the module: modprobe vhost_net)" : "");
        }
        return fd;
}

/* Once for all NICs: 1 when the node opens, 0 (and why) when it does not. */
static int probe(const struct host_roots *roots, struct vl_error *why)
{
        int fd = vhost_net_open(roots, why);

        if (fd < 0)
                return 0;
        close(fd);
        return 1;
}

int vhost_net_decide(const struct profile *p, const struct host_roots *roots,
                     struct vhost_choice ret[PROFILE_NICS_MAX], struct vl_error *e, struct vl_warnings *w)
{
        struct vl_error pe = {};
        int usable = -1; /* not probed yet */

        for (unsigned i = 0; i < PROFILE_NICS_MAX; i++)
                ret[i] = (struct vhost_choice) {};
        for (unsigned i = 0; i < p->n_nics && i < PROFILE_NICS_MAX; i++) {
                const struct profile_nic *n = &p->nics[i];
                struct vhost_choice *c = &ret[i];

                if (strcmp(n->model, "virtio-net-pci") != 0) {
                        (void) snprintf(c->why, sizeof(c->why), "model %s: vhost-net serves virtio-net only",
                                        n->model);
                        continue;
                }
                if (n->backend == NIC_USER) {
                        (void) snprintf(c->why, sizeof(c->why), "backend user: QEMU's own NAT");
                        continue;
                }
                if (n->vhost == SWITCH_OFF) {
                        (void) snprintf(c->why, sizeof(c->why), "\"vhost\": false");
                        continue;
                }
                /* Under TCG QEMU itself relays the kicks and interrupts
                 * vhost-net exchanges through KVM's ioeventfd and irqfd:
                 * the gain is gone, so only on request — and quietly: nothing
                 * is lost that the user chose (print says why). */
                if (n->vhost == SWITCH_DEFAULT && p->accel == ACCEL_TCG) {
                        (void) snprintf(c->why, sizeof(c->why), "accel \"tcg\"");
                        continue;
                }
                if (usable < 0)
                        usable = probe(roots, &pe);
                if (usable) {
                        c->on = true;
                        continue;
                }
                if (n->vhost == SWITCH_ON) {
                        char path[32];

                        (void) snprintf(path, sizeof(path), "$.nics[%u].vhost", i);
                        return vl_error_set_at(e, pe.err, NULL, 0, 0, path,
                                               "%s; \"vhost\": true needs it (leave the key out to fall back to "
                                               "QEMU's userspace virtio-net)",
                                               pe.msg);
                }
                /* Cut to fit: the whole message is in the warning. */
                (void) snprintf(c->why, sizeof(c->why), "%.*s", (int) sizeof(c->why) - 1, pe.msg);
                vl_warn(w, "$.nics[%u]: %s: QEMU's userspace virtio-net instead", i, pe.msg);
        }
        return 0;
}
