/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * --single-gpu's "host_handover" (init_internal.h): what this host's
 * display holds on the GPU, from the snapshot, as the steps a run takes
 * and gives back (profiles/README.md#host_handover). Pure.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "init/init_internal.h"

/* Another display controller, one the VM does not get, on the same driver:
 * unloading the module would take it from the host too. */
static const struct init_gpu_driver *driver_shared(const struct init_host *h, const struct init_gpu_driver *g)
{
        for (unsigned i = 0; i < h->n_gpu_drivers; i++) {
                const struct init_gpu_driver *o = &h->gpu_drivers[i];

                if (o != g && strcmp(o->driver, g->driver) == 0 &&
                    !(o->addr.domain == g->addr.domain && o->addr.bus == g->addr.bus && o->addr.slot == g->addr.slot))
                        return o;
        }
        return NULL;
}

static const struct init_gpu_driver *driver_of(const struct init_host *h, const struct init_pci *gpu)
{
        for (unsigned i = 0; i < h->n_gpu_drivers; i++)
                if (pci_addr_equal(&h->gpu_drivers[i].addr, &gpu->addr))
                        return &h->gpu_drivers[i];
        return NULL;
}

static void modules(struct ib *b, const struct init_pci *gpu, json_t *ho)
{
        const struct init_gpu_driver *g = driver_of(b->h, gpu), *other;
        char list[PROFILE_HANDOVER_MODULES_MAX * (PROFILE_MODULE_NAME_MAX + 2)] = "", a[PCI_ADDR_STRLEN];
        json_t *arr;

        if (!g || strcmp(g->driver, "vfio-pci") == 0)
                return; /* nothing drives it, or it is the VM's already */
        if (g->builtin) {
                ib_line(b, "handover: the GPU's driver, %s, is built into the kernel: nothing to unload (the GPU is "
                           "unbound from it)",
                        g->driver);
                return;
        }
        if ((other = driver_shared(b->h, g))) {
                ib_line(b, "handover: %s also drives %s: its module stays loaded (the GPU is unbound from it)",
                        g->driver, pci_addr_format(&other->addr, a));
                return;
        }
        if (g->too_many || g->n_modules == 0) {
                ib_line(b, "handover: the GPU's driver %s: %s; \"unload_modules\" left out", g->driver,
                        g->too_many ? "more modules use it than a profile lists (16)" : "its module is unknown");
                return;
        }
        arr = json_array();
        for (unsigned i = 0; i < g->n_modules; i++) {
                if (!arr || json_array_append_new(arr, json_string(g->modules[i])) < 0)
                        b->err = -ENOMEM;
                (void) snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s%s", i ? ", " : "",
                                g->modules[i]);
        }
        ib_set(b, ho, "unload_modules", arr);
        if (g->n_modules == 1)
                ib_line(b, "handover: unload_modules %s: the GPU's driver, unloaded for the run and loaded again "
                           "after",
                        list);
        else
                ib_line(b, "handover: unload_modules %s: the GPU's driver %s and the modules that use it, those "
                           "first; loaded again after",
                        list, g->driver);
}

json_t *ib_handover(struct ib *b, const struct init_pci *gpu)
{
        const struct init_host *h = b->h;
        json_t *ho = json_object();
        char d[320];

        if (!ho) {
                b->err = -ENOMEM;
                return NULL;
        }
        if (h->systemd) {
                json_t *units = json_array();

                if (!units || json_array_append_new(units, json_string("display-manager.service")) < 0)
                        b->err = -ENOMEM;
                ib_set(b, ho, "stop_units", units);
                ib_line(b, "handover: stop_units display-manager.service: systemd's name for whichever display "
                           "manager runs, stopped before the GPU moves and started again after (not running: "
                           "left alone)");
        } else
                ib_line(b, "note: PID 1 is not systemd: stop the display manager yourself before a run");
        if (h->n_fbcon > 0) {
                ib_set(b, ho, "unbind_vtconsoles", json_true());
                ib_line(b, "handover: unbind_vtconsoles: fbcon draws %u virtual console%s on a framebuffer; bound "
                           "again after",
                        h->n_fbcon, h->n_fbcon == 1 ? "" : "s");
        }
        if (h->n_framebuffers > 0) {
                ib_set(b, ho, "unbind_framebuffers", json_true());
                ib_line(b, "handover: unbind_framebuffers: the firmware's framebuffer %s%s holds the GPU's memory; "
                           "bound again after",
                        h->framebuffer, h->n_framebuffers > 1 ? " (and others)" : "");
        }
        modules(b, gpu, ho);
        if (json_object_size(ho) == 0) {
                json_decref(ho);
                ib_line(b, "note: the host's display runs on %s, but no step of a hand-over applies here (the "
                           "lines above say why): a run takes the GPU as the host leaves it",
                        ib_describe(gpu, d, sizeof(d)));
                return NULL;
        }
        return ho;
}
