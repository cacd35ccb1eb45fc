/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * net: the host side of a run's macvtap and tap NICs, over rtnetlink
 * (libmnl; the launcher never runs `ip`).
 *
 *   net_check()  READ-ONLY: every macvtap lower device and every tap bridge
 *                exists; a refusal here leaves the host untouched.
 *   net_setup()  per NIC in profile order: journal entry FIRST (kind
 *                JOURNAL_MACVTAP or JOURNAL_TAP, the link's name), then create the
 *                link, set it up, open the fd QEMU gets (`-netdev tap,fd=N`).
 *                macvtap: a link on the lower device with the guest's MAC and
 *                mode, and its /dev/tapIFINDEX. tap: /dev/net/tun TUNSETIFF,
 *                enslaved to the bridge. Any failure undoes what was done.
 *   net_undo_link()  deletes the link of one journal entry (RTM_DELLINK by
 *                name; a link already gone is fine): host_undo()'s handler
 *                for both kinds, at the end of a run and by `recover`.
 *
 * Links live in the network namespace of the calling process: undo must run
 * in the namespace the run used. Nothing here prints; no exit().
 */
#pragma once

#include <net/if.h>
#include <stdbool.h>

#include "base/error.h"
#include "base/roots.h"
#include "host/journal.h"
#include "profile/profile.h"

/* The host link name of NIC index of VM name: "vl-NAME-INDEX" when it fits
 * IFNAMSIZ-1, else "vl-" + the start of NAME + "+" + six hex digits of a
 * hash of the whole NAME + "-INDEX": two VMs never share one. buf must hold
 * IFNAMSIZ bytes. Returns 0 or -EINVAL (size too small, index too big). */
int net_link_name(const char *name, unsigned index, char *buf, size_t size);

/* Whether the profile's host network devices exist under SYSFS/class/net:
 * each macvtap `dev`, and each tap `bridge` (with SYSFS/class/net/B/bridge).
 * Returns 0, or -ENODEV / -EINVAL with e naming the file, $.nics[i].dev or
 * .bridge, and the fix. Reads only. */
int net_check(const struct profile *p, const char *sysfs_root, struct vl_error *e);

/* Create the links of every macvtap/tap NIC of p (see the top). On success
 * ret_fds[i] is the open fd (O_CLOEXEC) of NIC i, -1 for "user" NICs; the
 * caller owns them (net_close_fds()). On failure everything created was
 * deleted again (unless e says otherwise) and nothing is open. A journal of
 * p->name left by another process refuses with -EEXIST. Returns 0 or -errno
 * with e filled. */
int net_setup(const struct host_roots *roots, const struct profile *p, int ret_fds[PROFILE_NICS_MAX],
              struct vl_error *e);

/* Delete the link of x (a JOURNAL_MACVTAP or JOURNAL_TAP entry), by its
 * index, when the link of that name is of that kind and has the ifindex and
 * MAC recorded. 0 also when it is gone already, or when it is not ours (the
 * name was taken since). -errno with e filled. */
int net_undo_link(const struct host_roots *roots, const struct journal_entry *x, struct vl_error *e);

/* Close fds[0..n-1] (those >= 0) and set them to -1. */
void net_close_fds(int *fds, unsigned n);

/* What the host's network stack has configured on one link, for bind's
 * in-use check (docs/facts.md#F-inuse-net). Read only. */
#define NET_LINK_ADDRS_MAX 3
struct net_link_usage {
        unsigned n_addrs;                     /* every address of the link */
        char addrs[NET_LINK_ADDRS_MAX][56];   /* the first ones: "192.0.2.1/24", "fe80::1/64" */
        unsigned n_routes;                    /* unicast routes out of it, every table but local */
        bool default_route;                   /* one of them is a default route */
};

/* The addresses (RTM_GETADDR dump) and routes (RTM_GETROUTE dump, RTA_OIF
 * or a multipath next hop) of link ifindex in the caller's network
 * namespace. Returns 0 or -errno. Reads only. */
int net_link_usage(int ifindex, struct net_link_usage *ret);
