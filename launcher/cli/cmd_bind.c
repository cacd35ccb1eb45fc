/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * `vfio-launch bind PROFILE` / `unbind PROFILE`: move a profile's devices to
 * vfio-pci and leave them there (the reference host's boot-time
 * detachCard2.sh + service), and give them back later.
 *
 * The record of the original drivers is a journal like a run's, kept in its
 * own folder (BIND_RUN_DIR): a run sees those devices already on vfio-pci and
 * leaves them there afterwards, and `recover` (which replays crashed runs)
 * never undoes a binding the user asked for.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/roots.h"
#include "host/bind.h"
#include "cli/cli.h"
#include "cli/cli_prepare.h"
#include "host/journal.h"
#include "host/rundir.h"
#include "host/undo.h"

#define BIND_RUN_DIR "/run/vfio-launch-bound"

static void bind_help(void)
{
        printf("Usage: vfio-launch bind PROFILE\n"
               "\n"
               "Move the profile's PCI devices (and the rest of their IOMMU groups, as\n"
               "the profile allows) to vfio-pci and leave them there, e.g. at boot before\n"
               "the display manager takes the GPU (vfio-launch-bind@.service). The\n"
               "original drivers are recorded; 'vfio-launch unbind PROFILE' gives the\n"
               "devices back. A later run of the VM uses them as they are.\n");
}

static void unbind_help(void)
{
        printf("Usage: vfio-launch unbind PROFILE\n"
               "\n"
               "Give back the devices that 'vfio-launch bind PROFILE' moved to vfio-pci,\n"
               "each to the driver it had before. Refused while a VM uses them.\n");
}

/* Is any device of the bound journal in use by a live run? */
static int check_not_in_use(const struct host_roots *roots, const struct journal *bound,
                            struct vl_error *e)
{
        _cleanup_free_ struct journal_listing *list = NULL;
        size_t n = 0;
        int r = journal_list(roots, &list, &n, e);

        if (r < 0)
                return r;
        for (size_t i = 0; i < n; i++) {
                const struct journal *j = &list[i].journal;
                if (list[i].load_error < 0)
                        continue;
                for (unsigned k = 0; k < j->n_devices; k++)
                        for (unsigned m = 0; m < bound->n_devices; m++) {
                                char a[PCI_ADDR_STRLEN];
                                if (!pci_addr_equal(&j->devices[k].addr, &bound->devices[m].addr))
                                        continue;
                                return vl_error_set(e, EBUSY,
                                                    "%s is in use by VM \"%s\"%s: stop that VM first",
                                                    pci_addr_format(&j->devices[k].addr, a), j->name,
                                                    list[i].alive ? "" : " (an unfinished run: recover it)");
                        }
        }
        return 0;
}

int cmd_bind(int argc, char **argv)
{
        static const struct cli_command bind_cmd = {
                .name = "bind", .help = bind_help, .min_operands = 1, .max_operands = 1,
                .operands = "one PROFILE argument",
        };
        static const struct cli_command unbind_cmd = {
                .name = "unbind", .help = unbind_help, .min_operands = 1, .max_operands = 1,
                .operands = "one PROFILE argument",
        };
        _cleanup_bind_plan_ struct bind_plan *plan = NULL;
        _cleanup_free_ struct profile *p = NULL;
        _cleanup_free_ struct journal *bound = NULL;
        bool unbind = strcmp(argv[0], "unbind") == 0;
        struct host_roots roots, bound_roots;
        struct host_env runs, kept;
        struct vl_warnings warn = {};
        struct vl_error err = {};
        pid_t holder;
        int first, r, lock;

        r = cli_parse(unbind ? &unbind_cmd : &bind_cmd, argc, argv, NULL, NULL, &first);
        if (r != CLI_PARSED)
                return r;
        r = cli_check_profile_owner(argv[first], true, NULL, &warn);
        if (r != EXIT_OK)
                return r;
        cli_print_warnings(&warn);
        r = cli_load_profile(argv[first], false, &p);
        if (r != EXIT_OK)
                return r;
        if (geteuid() != 0) {
                cli_log_error("%s: changing driver bindings needs root", argv[0]);
                return EXIT_FAILURE_RUN;
        }

        /* The runs' journals (to check against), and this command's own,
         * kept where runs and `recover` do not look. */
        host_roots_init(&roots);
        bound_roots = roots;
        bound_roots.run = BIND_RUN_DIR;
        host_env_init(&runs, &roots);
        host_env_init(&kept, &bound_roots);
        /* One bind/unbind of a VM at a time; a run of it uses the other
         * lock folder and the journals tell each other's devices apart. */
        lock = rundir_lock(BIND_RUN_DIR, p->name, &holder, &err);
        if (lock < 0) {
                cli_print_error(&err);
                return EXIT_FAILURE_RUN;
        }

        if (unbind) {
                bound = malloc(sizeof(*bound));
                if (!bound) {
                        r = -ENOMEM;
                        vl_error_set(&err, ENOMEM, "out of memory");
                } else {
                        r = journal_load(&bound_roots, p->name, bound, &err);
                        if (r == -ENOENT) {
                                cli_log("%s: nothing to give back (not bound by 'vfio-launch bind')",
                                        p->name);
                                rundir_unlock(BIND_RUN_DIR, p->name, lock);
                                return EXIT_OK;
                        }
                }
                if (r >= 0)
                        r = check_not_in_use(&roots, bound, &err);
                if (r >= 0)
                        r = host_undo(&kept, p->name, &err, NULL);
                if (r < 0)
                        cli_print_error(&err);
                else
                        cli_log("%s: every device is back on its original driver", p->name);
                rundir_unlock(BIND_RUN_DIR, p->name, lock);
                return r < 0 ? EXIT_FAILURE_RUN : EXIT_OK;
        }

        /* The host's display comes back when a run ends; `bind` has no
         * end to give it back at. */
        if (p->host_handover.enabled) {
                cli_log_error("%s: \"host_handover\": only a run hands the host's display over (and back when "
                              "the VM stops); `bind` does not",
                              p->name);
                rundir_unlock(BIND_RUN_DIR, p->name, lock);
                return EXIT_FAILURE_RUN;
        }
        /* The plan checks the live runs' journals for these devices... */
        r = bind_plan_new(&runs.bind, p, &plan, &err);
        if (r >= 0) {
                /* ...and the journal goes where runs and `recover` do not look. */
                cli_print_warnings(&plan->warnings);
                r = bind_apply(&kept.bind, plan, 0, 0, &err);
        }
        if (r < 0) {
                cli_print_error(&err);
                rundir_unlock(BIND_RUN_DIR, p->name, lock);
                return EXIT_FAILURE_RUN;
        }
        for (unsigned i = 0; i < plan->n_devices; i++) {
                char a[PCI_ADDR_STRLEN];
                const struct bind_plan_device *d = &plan->devices[i];
                cli_log("%s: %s: %s", p->name, pci_addr_format(&d->dev.addr, a),
                        d->action == BIND_ACTION_MOVE   ? "now on vfio-pci"
                        : d->action == BIND_ACTION_KEEP ? "was already on vfio-pci"
                                                        : "bridge, left alone");
        }
        rundir_unlock(BIND_RUN_DIR, p->name, lock);
        return EXIT_OK;
}
