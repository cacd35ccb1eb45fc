/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * vhost: whether each NIC's virtio-net queues are served by the kernel
 * (vhost-net) or by QEMU itself, and the /dev/vhost-net fds for those that
 * are. QEMU runs unprivileged and may not open /dev/vhost-net (root's, 0600
 * on Debian), so the launcher opens it, as libvirt does, and QEMU gets the
 * fd: `-netdev tap,fd=N,vhost=on,vhostfd=M` (docs/facts.md#F-vhost-net).
 *
 * One owner for the rule (vhost_net_decide()):
 *   - only model virtio-net-pci on a tap or macvtap backend can have it;
 *   - "vhost": false: never; "vhost": true: always, and a /dev/vhost-net
 *     that cannot be opened is an error (with accel "tcg" too: QEMU then
 *     relays the notifications KVM would deliver, but it works);
 *   - left out: with accel "kvm" when /dev/vhost-net opens, else QEMU's
 *     userspace virtio-net and a warning (libvirt falls back silently;
 *     a warning says why the NIC is slower than it could be).
 * Opening /dev/vhost-net changes nothing on the host (each open is a new
 * vhost device owned by the fd; the kernel loads vhost_net on the first
 * open of the node if the module is not loaded): nothing is journaled.
 * Nothing here prints; no exit().
 */
#pragma once

#include <stdbool.h>

#include "base/error.h"
#include "base/roots.h"
#include "profile/profile.h"

#define VHOST_NET_NODE "vhost-net" /* under roots->dev */
#define VHOST_WHY_MAX 128

struct vhost_choice {
        bool on;                  /* vhost-net: the NIC gets an fd of /dev/vhost-net */
        char why[VHOST_WHY_MAX];  /* off: why not ("accel \"tcg\"", ...), for print */
};

/* Decide for every NIC of p (ret[i] for i < p->n_nics) by the rules above,
 * opening DEV/vhost-net once to see whether it can be. Warnings (a NIC that
 * could have had vhost-net and will not) go to w. Returns 0, or -errno
 * with e on $.nics[i].vhost when "vhost": true and the node cannot be
 * opened. */
int vhost_net_decide(const struct profile *p, const struct host_roots *roots,
                     struct vhost_choice ret[PROFILE_NICS_MAX], struct vl_error *e, struct vl_warnings *w);

/* Open DEV/vhost-net (O_RDWR | O_CLOEXEC) for one NIC. Returns the fd, or
 * -errno with e naming the node and the fix. */
int vhost_net_open(const struct host_roots *roots, struct vl_error *e);
