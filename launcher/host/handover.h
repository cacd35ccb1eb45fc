/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * handover: the host lets go of its only GPU for a run, and takes it back
 * (the profile's "host_handover"; docs/facts.md#F-single-gpu-handover).
 *
 *   handover_plan()        READ-ONLY: the steps a run would take, in order —
 *                          the listed units that run, fbcon's bound virtual
 *                          consoles, the bound firmware framebuffers, the
 *                          listed modules that are loaded — and what it
 *                          leaves because it is not there;
 *   handover_apply()       the steps, each journaled (journal_add_entry())
 *                          BEFORE it is taken; a step the host refuses
 *                          leaves the journal again (it did not happen) and
 *                          ends the apply: what earlier steps did stays in the
 *                          journal for host_undo(), which undoes it after
 *                          the devices are back;
 *   handover_undo_entry()  one step back; idempotent: what is back already
 *                          (a unit running, a module loaded, a console or a
 *                          framebuffer bound again — fbcon takes a new
 *                          framebuffer's consoles by itself) is left alone.
 *
 * Every sysfs path is built from env->roots. Units go through systemd's
 * D-Bus API (host/units.h), modules through libkmod (host/modules.h);
 * tests replace both, and the sysfs writes, through env->ops. No printing.
 */
#pragma once

#include <stdbool.h>

#include "base/error.h"
#include "base/roots.h"
#include "host/journal.h"
#include "profile/profile.h"

#define HANDOVER_STEPS_MAX 48

/* How a run would hand the host's GPU over. */
struct handover_step {
        struct journal_entry entry; /* the step, as the journal records it */
        bool take;                  /* false: nothing to take (not running, not loaded): left alone */
        char note[160];             /* for people: "active", "not loaded", "(M) frame buffer device" */
};

struct handover_plan {
        unsigned n;
        struct handover_step steps[HANDOVER_STEPS_MAX]; /* in the order they are taken */
};

struct handover_ops {
        /* Write data to the sysfs attribute at path (sysfs_write_bounded()). */
        int (*write)(void *userdata, const char *path, const char *data, unsigned timeout_ms);
        /* units_active(), units_change() */
        int (*unit_active)(void *userdata, const char *unit, struct vl_error *e);
        int (*unit_change)(void *userdata, const char *unit, bool start, unsigned timeout_ms, struct vl_error *e);
        /* modules_unload() (load = false), modules_insert() */
        int (*module)(void *userdata, const char *module, bool load, struct vl_error *e);
        void *userdata;
};

struct handover_env {
        const struct host_roots *roots; /* sysfs to read and write; run for the journal */
        const char *bus;                /* systemd's D-Bus address; NULL = the system bus */
        unsigned unit_timeout_ms;       /* bound on each unit's job: 120000 */
        unsigned write_timeout_ms;      /* bound on each sysfs write: 10000 */
        const struct handover_ops *ops; /* NULL = the real ones */
};

/* The installed binary's settings on roots (which must outlive env). */
void handover_env_init(struct handover_env *env, const struct host_roots *roots);

/* The plan for profile p (nothing when p has no "host_handover"). Reads
 * sysfs and asks systemd each unit's state; a unit whose state cannot be
 * read is planned (the run's stop says why it fails). -EPERM when a listed
 * module is built into the kernel (it cannot be unloaded), -E2BIG beyond
 * HANDOVER_STEPS_MAX; other -errno; e filled. */
int handover_plan(const struct handover_env *env, const struct profile *p, struct handover_plan *ret,
                  struct vl_error *e);

/* Take the plan's steps for VM name, in order. 0, or the first failure
 * with e saying which step and why. */
int handover_apply(const struct handover_env *env, const char *name, const struct handover_plan *plan,
                   struct vl_error *e);

/* Give back one JOURNAL_UNIT, JOURNAL_VTCON, JOURNAL_FRAMEBUFFER or
 * JOURNAL_MODULE entry. 0 or -errno with e filled. */
int handover_undo_entry(const struct handover_env *env, const struct journal_entry *x, struct vl_error *e);

/* Whether kind is a step of the hand-over (host_undo() undoes those after
 * the devices). */
bool handover_kind(enum journal_kind kind);

/* Whether driver is one of the firmware framebuffers' platform drivers the
 * hand-over unbinds ("efi-framebuffer", "simple-framebuffer", "simpledrm"). */
bool handover_framebuffer_driver(const char *driver);

/* Whether the virtual console SYS/class/vtconsole/vtconN is fbcon's and
 * bound: 1, 0, or -errno. The one test of "fbcon draws the consoles", shared
 * with the in-use check (host/bind_inuse.c). */
int handover_vtcon_fbcon_bound(const char *sysfs_root, unsigned n);

/* "stop unit gdm.service (active)", "unload module bochs (loaded)",
 * "leave module nvidia (not loaded)" for print and doctor. */
void handover_step_describe(const struct handover_step *s, char *buf, size_t size);
