/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * devnode: a device node of the host handed to QEMU's user for the run —
 * the one owner of that hand-over, for every kind of node: a disk's block
 * device (host/blockdev.h, journal kind JOURNAL_BLOCKDEV), an evdev
 * input (host/input.h, JOURNAL_EVDEV) and a USB device's usbfs node
 * (host/usb.h, JOURNAL_USB). QEMU runs unprivileged, so the node
 * is chown'ed to its user, the same way as /dev/vfio/GROUP: the owner,
 * group and mode are journaled BEFORE the change and given back on every
 * way out (host_undo(), also `vfio-launch recover`).
 *
 * Root acts only on what it resolved itself: the profile's path (a by-id
 * link) is followed one link at a time, each link and folder root's (or the
 * caller's) and writable by no other account, and the node it ends on must
 * be under roots->dev. The hand-over and the undo act on an O_PATH fd of
 * that node, opened O_NOFOLLOW and checked with fstat() to be the node of
 * the kind's type with the device number recorded — never by name, and
 * without opening the device itself (no driver open: no media wait for a
 * disk, no evdev client for a keyboard).
 *
 * Nothing here prints.
 */
#pragma once

#include <stdbool.h>
#include <sys/types.h>

#include "base/error.h"
#include "base/roots.h"
#include "host/journal.h"

/* Whether node (an absolute, resolved path) is below roots->dev. */
bool devnode_under_dev(const struct host_roots *roots, const char *node);

/* Follow path to the node it names, trusting only links and folders root
 * (or the caller) owns and no other account may write: whoever controls
 * one would pick which device of the host QEMU's user gets. what names the
 * kind for messages ("block device", "evdev input"). Then realpath() into
 * node (size bytes), which must be under roots->dev (-EPERM). -ENOENT when
 * something on the way does not exist. 0 or -errno with e filled (jpath:
 * the profile key). Read only. */
int devnode_resolve(const struct host_roots *roots, const char *path, const char *jpath, const char *what,
                    char *node, size_t size, struct vl_error *e);

/* An O_PATH | O_NOFOLLOW fd of node (a link there is opened as the link,
 * never followed), or -errno. */
int devnode_open(const char *node);

/* Hand node to uid:gid (gid -1: unchanged) for VM vm's run: re-opened and
 * checked to be the node of kind's type with device number rdev (-ESTALE
 * otherwise), journaled as kind, then chown'ed. A node uid:gid own already
 * is left alone (no entry, 0). 0, or -errno with e filled: what was handed
 * over before a failure is the journal's to give back. */
int devnode_hand_over(const struct host_roots *roots, const char *vm, enum journal_kind kind, const char *node,
                      dev_t rdev, uid_t uid, gid_t gid, struct vl_error *e);

/* Give one JOURNAL_BLOCKDEV, JOURNAL_EVDEV or JOURNAL_USB entry back: the recorded
 * owner, group and mode, if the node is still a node of the kind's type
 * with that device number. Idempotent: a node that is gone, a link now, or
 * another device (udev made it again: its owner is the default) is nothing
 * to give back (0). -EPERM for a node outside roots->dev (a journal cannot
 * make root chown anything else). */
int devnode_undo_entry(const struct host_roots *roots, const struct journal_entry *x, struct vl_error *e);
