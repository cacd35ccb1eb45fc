/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * undo: the one way back. Everything a run changed on the host is in its
 * journal (host/journal.h), recorded before the change was made; host_undo()
 * loads that journal once and gives it all back:
 *
 *   1. the entries, newest first, each through its kind's handler (a table in
 *      undo.c: a macvtap or tap link deleted, hugepages given back, ...),
 *   2. then the devices: /dev/vfio/GROUP owners, then every device back on
 *      its recorded driver (bind_undo()),
 *   3. then the host's hand-over of its only GPU (host/handover.h), newest
 *      first: its steps were taken before any device moved, and the display
 *      stack they stopped sits on the devices' own drivers,
 *   4. then the journal file goes — or stays, holding exactly what could not
 *      be given back, for a later `vfio-launch recover`.
 *
 * The end of a run, `recover` after the launcher died (and the boot unit),
 * `unbind` and a live detach all come here. A step that fails does not stop
 * the others: the host gets back as much as it can, and the first failure is
 * reported with what is left.
 *
 * Adding a kind of host change: docs/design.md, "Adding a kind of host
 * change". Runs in the launcher; nothing here prints.
 */
#pragma once

#include "base/error.h"
#include "base/roots.h"
#include "host/bind.h"
#include "host/handover.h"
#include "host/hugepages.h"
#include "host/journal.h"

/* What the modules that undo need, on one set of roots. Plain data: copy it
 * freely while roots lives. Tests replace the ops (a model of the kernel). */
struct host_env {
        const struct host_roots *roots;
        struct bind_env bind;
        struct hugepages_env hugepages;
        struct handover_env handover;
};

/* Every module's installed settings, on roots (which must outlive h). */
void host_env_init(struct host_env *h, const struct host_roots *roots);

/* Give back what NAME's journal records (see the top). Returns 0 — also
 * when there is no journal: running it twice is harmless — after the journal
 * was deleted; -EBUSY when the run's launcher (another process) or its QEMU
 * is still alive (nothing is touched); -EBADMSG for a journal that cannot be
 * read; else the first failure, with e naming it and everything left behind
 * (the journal keeps those). Warnings that change nothing (pages the kernel
 * frees later) go to w (may be NULL). */
int host_undo(const struct host_env *h, const char *name, struct vl_error *e, struct vl_warnings *w);

/* A live detach: give back only the devices of the listed IOMMU groups,
 * while QEMU runs on with the rest (the caller made sure it let go of
 * these). Only the journal's own launcher may (-EPERM otherwise); the
 * journal stays for the rest, and goes when nothing is left in it. 0 or
 * the first device's error (e names the devices left behind; they stay in
 * the journal). */
int host_undo_groups(const struct host_env *h, const char *name, const int *groups, unsigned n_groups,
                     struct vl_error *e);

/* Undo one entry through its kind's handler, without touching the journal
 * file: for a module rolling back what it just did. 0 or -errno. */
int host_undo_entry(const struct host_env *h, const struct journal_entry *x, struct vl_error *e,
                    struct vl_warnings *w);

/* Whether every kind has a handler (a test checks it: a kind added to the
 * journal without one would be left behind by every undo). */
bool host_undo_covers(enum journal_kind k);
