/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * input: the profile's evdev "inputs" (/dev/input/by-id/...-event-kbd),
 * which QEMU's input-linux object opens and grabs. QEMU runs unprivileged
 * and an evdev node is root's (udev: root:input 0660), so for the run the
 * node is handed to QEMU's user through host/devnode.h (journal kind
 * JOURNAL_EVDEV) and given back on every way out.
 *
 * An input's node is its path resolved through links and folders root
 * owns; it must be a character device of the input major (13) under
 * DEV/input — a path that leads to a tty or a disk is refused, as is one
 * that does not exist: before any change (input_plan()). Two inputs that
 * are one node are refused (QEMU's second grab would fail).
 *
 * Every path is built from struct host_roots; nothing here prints.
 */
#pragma once

#include <sys/types.h>

#include "base/error.h"
#include "base/roots.h"
#include "profile/profile.h"

struct input_node {
        unsigned input;                /* index in profile.inputs */
        char node[PROFILE_PATH_MAX];   /* the evdev path resolved: "/dev/input/event5" */
        dev_t rdev;
        uid_t uid;                     /* as found */
        gid_t gid;
        mode_t mode;                   /* permission bits */
};

struct input_plan {
        unsigned n;
        struct input_node nodes[PROFILE_INPUTS_MAX];
};

/* Inspect evdev path (the profile's, jpath its key): 0 with *ret filled
 * (input left 0), or -errno with e filled: -ENOENT (missing: plugged out,
 * or a typo), -EPERM (not reached through trusted links and folders, or not
 * under DEV), -EINVAL (not an evdev node). Read only. */
int input_inspect(const struct host_roots *roots, const char *path, const char *jpath, struct input_node *ret,
                  struct vl_error *e);

/* READ-ONLY: every evdev input of p inspected; a refusal leaves the host
 * untouched. */
int input_plan(const struct host_roots *roots, const struct profile *p, struct input_plan *ret,
               struct vl_error *e);

/* Hand each planned node to uid:gid for VM vm's run (devnode_hand_over(),
 * kind JOURNAL_EVDEV). 0 or -errno; what was handed over before a failure
 * is the journal's to give back. */
int input_hand_over(const struct host_roots *roots, const char *vm, const struct input_plan *plan, uid_t uid,
                    gid_t gid, struct vl_error *e);
