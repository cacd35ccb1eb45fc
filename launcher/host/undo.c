/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The one undo of every host change: see undo.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "host/devnode.h"
#include "host/net.h"
#include "host/shmem.h"
#include "host/undo.h"
#include "base/trace.h"

void host_env_init(struct host_env *h, const struct host_roots *roots)
{
        h->roots = roots;
        bind_env_init(&h->bind, roots);
        hugepages_env_init(&h->hugepages, roots);
        handover_env_init(&h->handover, roots);
}

/* ---- the handlers, one per kind ---------------------------------------- */

typedef int (*undo_fn)(const struct host_env *h, const struct journal_entry *x, struct vl_error *e,
                       struct vl_warnings *w);

static int undo_link(const struct host_env *h, const struct journal_entry *x, struct vl_error *e,
                     struct vl_warnings *w)
{
        return net_undo_link(h->roots, x, e);
}

static int undo_hugepages(const struct host_env *h, const struct journal_entry *x, struct vl_error *e,
                          struct vl_warnings *w)
{
        return hugepages_undo_entry(&h->hugepages, x, e, w);
}

/* JOURNAL_BLOCKDEV, JOURNAL_EVDEV, JOURNAL_USB: a device node handed to
 * QEMU's user. */
static int undo_devnode(const struct host_env *h, const struct journal_entry *x, struct vl_error *e,
                        struct vl_warnings *w)
{
        return devnode_undo_entry(h->roots, x, e);
}

static int undo_shmem(const struct host_env *h, const struct journal_entry *x, struct vl_error *e,
                      struct vl_warnings *w)
{
        return shmem_undo_entry(h->roots, x, e);
}

/* JOURNAL_UNIT, JOURNAL_VTCON, JOURNAL_FRAMEBUFFER, JOURNAL_MODULE: a step
 * of the host's hand-over of its GPU. */
static int undo_handover(const struct host_env *h, const struct journal_entry *x, struct vl_error *e,
                         struct vl_warnings *w)
{
        return handover_undo_entry(&h->handover, x, e);
}

static const undo_fn handlers[_JOURNAL_KIND_MAX] = {
        [JOURNAL_MACVTAP] = undo_link,
        [JOURNAL_TAP] = undo_link,
        [JOURNAL_HUGEPAGES] = undo_hugepages,
        [JOURNAL_BLOCKDEV] = undo_devnode,
        [JOURNAL_SHMEM] = undo_shmem,
        [JOURNAL_SHMEM_OWNER] = undo_shmem,
        [JOURNAL_EVDEV] = undo_devnode,
        [JOURNAL_USB] = undo_devnode,
        [JOURNAL_UNIT] = undo_handover,
        [JOURNAL_VTCON] = undo_handover,
        [JOURNAL_FRAMEBUFFER] = undo_handover,
        [JOURNAL_MODULE] = undo_handover,
};

bool host_undo_covers(enum journal_kind k)
{
        return (unsigned) k < _JOURNAL_KIND_MAX && handlers[k] != NULL;
}

int host_undo_entry(const struct host_env *h, const struct journal_entry *x, struct vl_error *e,
                    struct vl_warnings *w)
{
        char what[JOURNAL_PATH_MAX + 96];
        int r;

        if (!host_undo_covers(x->kind))
                return vl_error_set(e, EINVAL, "no undo for journal entries of kind %d", (int) x->kind);
        r = handlers[x->kind](h, x, e, w);
        if (r < 0) {
                journal_entry_describe(x, what, sizeof(what));
                vl_error_prefix(e, "%s", what);
        }
        return r;
}

/* ---- the journal, once ------------------------------------------------- */

/* The entries of j that are (handover) or are not steps of the host's
 * hand-over, newest first; *ret and *first keep the first failure. */
static void undo_entries(const struct host_env *h, struct journal *j, bool handover, int *ret,
                         struct vl_error *first, struct vl_warnings *w)
{
        struct vl_error ignored;
        int r;

        for (unsigned i = j->n_entries; i-- > 0;) {
                if (handover_kind(j->entries[i].kind) != handover)
                        continue;
                r = host_undo_entry(h, &j->entries[i], *ret < 0 ? &ignored : first, w);
                if (r < 0) {
                        if (*ret == 0)
                                *ret = r;
                        continue;
                }
                journal_drop_entry(j, i);
                (void) journal_save(h->roots, j, &ignored);
        }
}

int host_undo(const struct host_env *h, const char *name, struct vl_error *e, struct vl_warnings *w)
{
        _cleanup_free_ struct journal *j = malloc(sizeof(*j));
        struct vl_error first = {}, ignored;
        int ret = 0, r;

        if (!j)
                return vl_error_set(e, ENOMEM, "out of memory");
        r = journal_load_for_undo(h->roots, name, j, e);
        if (r <= 0)
                return r;

        /* 1. Entries, newest first; each one that is undone leaves the
         * journal at once, so a crash here never undoes it twice. */
        undo_entries(h, j, false, &ret, &first, w);

        /* 2. The devices (bind saves the journal as each comes back). */
        r = bind_undo(&h->bind, j, NULL, 0, ret < 0 ? &ignored : &first);
        if (r < 0 && ret == 0)
                ret = r;

        TRACE("devices given back");
        /* 3. The host's hand-over, after the devices: the GPU is on its
         * driver again before its modules are asked for, fbcon finds its
         * framebuffer, and the display manager its GPU. */
        undo_entries(h, j, true, &ret, &first, w);

        /* 4. Nothing left: the journal goes. */
        if (ret == 0)
                return journal_empty(j) ? journal_remove(h->roots, name, e) : journal_save(h->roots, j, e);
        if (e) {
                *e = first;
                vl_error_append(e, "; the journal keeps what is left: run `vfio-launch recover %s` when the cause "
                                   "is fixed",
                                name);
        }
        return ret;
}

int host_undo_groups(const struct host_env *h, const char *name, const int *groups, unsigned n_groups,
                     struct vl_error *e)
{
        _cleanup_free_ struct journal *j = malloc(sizeof(*j));
        int r;

        if (!groups || n_groups == 0)
                return vl_error_set(e, EINVAL, "no IOMMU group to give back");
        if (!j)
                return vl_error_set(e, ENOMEM, "out of memory");
        r = journal_load(h->roots, name, j, e);
        if (r < 0)
                return r;
        if (j->launcher_pid != getpid())
                return vl_error_set(e, EPERM, "the journal of \"%s\" belongs to launcher pid %d, not to this process",
                                    name, (int) j->launcher_pid);
        r = bind_undo(&h->bind, j, groups, n_groups, e);
        if (r < 0) {
                vl_error_append(e, "; they stay with the VM's journal and go back when it stops");
                return r;
        }
        /* Nothing left to give back: the journal goes (a later attach
         * writes a new one). */
        return journal_empty(j) ? journal_remove(h->roots, name, e) : 0;
}
