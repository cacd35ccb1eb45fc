/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * `vfio-launch [run] PROFILE`: the whole life of a VM, as run/launch.h
 * steps it — pre-flight (read-only: profile, QEMU, user, firmware, argv,
 * the VM's lock, the plan; a refusal here leaves the host as it was) →
 * apply (each change journaled first) → supervise QEMU → undo. This file
 * says what happens at each step and turns the outcome into an exit status.
 * From the apply on, SIGINT/SIGTERM/SIGHUP are blocked: they are read by the
 * supervisor's signalfd, so no signal a process can catch skips the undo.
 * If this process is killed outright, QEMU dies with it (PDEATHSIG) and
 * `vfio-launch recover NAME` replays the journal.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/clock.h"
#include "cli/cli.h"
#include "cli/cli_prepare.h"
#include "host/vars.h"
#include "run/launch.h"
#include "base/trace.h"

static void help(void)
{
        printf("Usage: vfio-launch [run] PROFILE\n"
               "\n"
               "Start the VM described by PROFILE and stay with it until it is gone:\n"
               "move its PCI devices to vfio-pci, run QEMU as an unprivileged user under\n"
               "seccomp, and give every device back to its original driver afterwards,\n"
               "however QEMU ended.\n"
               "\n"
               "Ctrl-C, SIGTERM or 'vfio-launch stop NAME' press the guest's power button\n"
               "and wait for it (the profile's shutdown_timeout); a second Ctrl-C or\n"
               "'vfio-launch stop --force NAME' stops QEMU at once.\n"
               "\n"
               "Exit status: 0 the guest powered off or stopped on request; 1 failure\n"
               "(the host was restored); 2 invalid usage or profile; 3 QEMU failed to\n"
               "start; 4 QEMU crashed or was killed; 5 stopped by force (the guest did\n"
               "not power off in time, --force or a second Ctrl-C, or a stop before it\n"
               "was running); 6 devices could not all be given back (see 'recover').\n");
}

enum {
        EXIT_START_FAILED = 3,
        EXIT_QEMU_FAILED = 4,
        EXIT_FORCED = 5,
        EXIT_RESTORE_FAILED = 6,
};

/* The last lines of QEMU's log, for a failure: this run's only, with
 * control characters escaped (QEMU writes what the guest and the devices
 * give it; a terminal must not take them as commands). */
static void show_log_tail(const char *name)
{
        char path[512], buf[4096];
        _cleanup_close_ int fd = -EBADF;
        ssize_t n;
        off_t size;

        if (xsnprintf(path, sizeof(path), "%s/%s.log", LAUNCH_LOG_DIR, name) < 0)
                return;
        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
        if (fd < 0)
                return;
        size = lseek(fd, 0, SEEK_END);
        n = pread(fd, buf, sizeof(buf) - 1, size > (off_t) sizeof(buf) - 1 ? size - (off_t) sizeof(buf) + 1 : 0);
        if (n <= 0)
                return;
        buf[n] = '\0';
        /* From the last start marker on: only this run's lines. */
        char *start = buf, *m;
        while ((m = strstr(start, "---- ")) && strstr(m, ": starting "))
                start = m + 5;
        start = strchr(start, '\n') ? strchr(start, '\n') + 1 : start;
        if (!*start)
                return;
        fprintf(stderr, "vfio-launch: QEMU said ('%s'):\n", path);
        cli_print_untrusted(start);
}

/* Who may do what this profile asks: refused here, before anything. */
static int check_privileges(const struct profile *p)
{
        bool host_net = false, evdev = false;

        for (unsigned i = 0; i < p->n_nics; i++)
                host_net = host_net || p->nics[i].backend != NIC_USER;
        for (unsigned i = 0; i < p->n_inputs; i++)
                evdev = evdev || p->inputs[i].type == INPUT_EVDEV;
        if (geteuid() == 0)
                return EXIT_OK;
        if (host_net)
                cli_log_error("macvtap and tap networking need root (CAP_NET_ADMIN): run it with sudo or pkexec");
        else if (p->hugepages.enabled)
                cli_log_error("hugepages need root (the VM's folder in the hugetlbfs mount, nr_hugepages): run it "
                              "with sudo or pkexec");
        else if (p->n_hostdevs > 0)
                cli_log_error("moving PCI devices to vfio-pci needs root: run it with sudo or pkexec");
        else if (p->n_shmem)
                cli_log_error("shared memory (\"shmem\") needs root (the files in /dev/shm are made for QEMU's user): "
                              "run it with sudo or pkexec");
        else if (evdev)
                cli_log_error("an evdev input needs root (its node is handed to QEMU's user for the run): run it "
                              "with sudo or pkexec");
        else if (p->usb.n_devices > 0)
                cli_log_error("a host USB device needs root (its /dev/bus/usb node is handed to QEMU's user for the "
                              "run): run it with sudo or pkexec");
        else if (p->tpm.enabled)
                cli_log_error("a TPM needs root (its state is kept in %s/%s/tpm): run it with sudo or pkexec",
                              VARS_STATE_DIR, p->name);
        else
                return EXIT_OK;
        return EXIT_FAILURE_RUN;
}

/* Lock and plan: read-only. */
static int preflight(struct launch *l)
{
        struct vl_error err = {};
        pid_t holder = 0;
        int r;

        r = launch_lock(l, &holder, &err);
        if (r < 0) {
                cli_print_error(&err);
                if (r == -EBUSY)
                        cli_log("stop it with 'vfio-launch stop %s'", l->p->name);
                return EXIT_FAILURE_RUN;
        }
        r = launch_plan(l, &err);
        if (r < 0) {
                cli_print_error(&err);
                cli_log("nothing was changed on the host");
                return EXIT_FAILURE_RUN;
        }
        cli_print_warnings(&l->plan->warnings);
        return EXIT_OK;
}

/* The host changes, in order; on failure launch_undo() gives back what the
 * earlier steps did. */
static int apply(struct launch *l, const struct cli_prepared *c)
{
        const struct profile *p = c->p;
        struct vl_warnings warn = {};
        struct vl_error err = {};
        bool tpm_failed = false;
        int r;

        /* Pages first: the host change most likely to be refused (the kernel
         * may not find them), before any device moves. */
        r = launch_apply_hugepages(l, &err);
        if (r > 0)
                cli_log("%s: added %d %s hugepages to the pool for this run", p->name, r,
                        profile_hugepage_size_name(p->hugepages.size));
        /* Shared memory before the devices too: quick, and refused by the
         * host more easily than they are. */
        if (r >= 0)
                r = launch_apply_shmem(l, &err);
        /* The TPM's state before the devices: a failed swtpm_setup has moved nothing. */
        if (r >= 0 && p->tpm.enabled) {
                uint64_t t0 = clock_ms();
                r = launch_apply_tpm(l, &err, &warn);
                if (r > 0)
                        cli_log("%s: manufactured the TPM in %s (swtpm_setup, %.1f s)", p->name, c->tpm.state,
                                (double) (clock_ms() - t0) / 1000.0);
                if (r < 0 && err.err == EIO)
                        tpm_failed = true; /* swtpm_setup said why, in the log */
        }
        if (r >= 0 && l->blockdevs.n > 0) {
                r = launch_apply_blockdevs(l, &err);
                for (unsigned i = 0; r >= 0 && i < l->blockdevs.n; i++)
                        cli_log("%s: block device %s handed to %s for the run", p->name, l->blockdevs.nodes[i].node,
                                l->user->name);
        }
        if (r >= 0 && l->inputs.n > 0) {
                r = launch_apply_inputs(l, &err);
                for (unsigned i = 0; r >= 0 && i < l->inputs.n; i++)
                        cli_log("%s: evdev input %s handed to %s for the run", p->name, l->inputs.nodes[i].node,
                                l->user->name);
        }
        /* Also with every device absent (optional): `usb attach` may bring
         * one in once it is plugged in. */
        if (r >= 0 && p->usb.n_devices > 0) {
                r = launch_apply_usb(l, &err);
                for (unsigned i = 0; r >= 0 && i < l->usb.n; i++)
                        cli_log("%s: USB device %s (%04x:%04x, %s) handed to %s for the run", p->name,
                                l->usb.nodes[i].sysname, l->usb.nodes[i].vendor, l->usb.nodes[i].product,
                                l->usb.nodes[i].node, l->user->name);
        }
        /* The host's display last before the devices: a step before
         * that fails has not taken it from the user. */
        if (r >= 0 && l->handover) {
                char what[PROFILE_UNIT_NAME_MAX + 200];

                for (unsigned i = 0; i < l->handover->n; i++)
                        if (l->handover->steps[i].take) {
                                handover_step_describe(&l->handover->steps[i], what, sizeof(what));
                                cli_log("%s: host hand-over: %s", p->name, what);
                        }
                r = launch_apply_handover(l, &err, &warn);
        }
        if (r >= 0 && p->n_hostdevs > 0)
                cli_log("%s: moving %u device(s) to vfio-pci", p->name, l->plan->n_devices);
        if (r >= 0)
                r = launch_apply_devices(l, &err, &warn);
        if (r >= 0 && p->firmware.type == FIRMWARE_UEFI) {
                r = launch_apply_vars(l, c->fc.vars_template, c->rt.firmware.vars, &err);
                if (r > 0)
                        cli_log("%s: created %s from %s", p->name, c->rt.firmware.vars, c->fc.vars_template);
        }
        if (r >= 0)
                r = launch_apply_net(l, &err);
        if (r >= 0)
                r = launch_open(l, &err, &warn);
        cli_print_warnings(&warn);
        if (r < 0) {
                cli_print_error(&err);
                if (tpm_failed)
                        show_log_tail(p->name);
                return EXIT_FAILURE_RUN;
        }
        return EXIT_OK;
}

static int supervise(struct launch *l, const struct cli_prepared *c)
{
        const struct profile *p = c->p;
        char detail[768] = "";
        struct sup_result res;
        struct vl_error err = {};
        int r;

        if (p->display.type == DISPLAY_SPICE)
                (void) snprintf(detail, sizeof(detail), "SPICE on %s:%u; ",
                                p->display.listen[0] ? p->display.listen : "127.0.0.1", c->rt.spice_port);
        (void) snprintf(detail + strlen(detail), sizeof(detail) - strlen(detail), "QMP %s; control %s",
                        l->qmp_user_path, l->control_path);

        r = launch_supervise(l, c->cmd, detail, &res, &err);
        if (r < 0) {
                cli_print_error(&err);
                if (res.outcome == SUP_START_FAILED)
                        show_log_tail(p->name);
                return res.outcome == SUP_FORCED ? EXIT_FORCED : EXIT_START_FAILED;
        }
        if (res.helper_failed)
                cli_log("%s: %s: swtpm, the VM's TPM, ended (%s)", p->name, sup_outcome_to_string(res.outcome),
                        res.helper_term_signal ? strsignal(res.helper_term_signal) : "exited");
        else
                cli_log("%s: %s%s%s%s", p->name, sup_outcome_to_string(res.outcome), res.term_signal ? " (" : "",
                        res.term_signal ? strsignal(res.term_signal) : "", res.term_signal ? ")" : "");
        switch (res.outcome) {
        case SUP_GUEST_POWEROFF:
        case SUP_STOPPED:
                return EXIT_OK;
        case SUP_FORCED:
                return EXIT_FORCED;
        case SUP_START_FAILED:
                return EXIT_START_FAILED;
        default:
                show_log_tail(p->name);
                return EXIT_QEMU_FAILED;
        }
}

/* Everything back; the exit status says whether it all came back. */
static int finish(struct launch *l, int status)
{
        struct vl_warnings warn = {};
        struct vl_error err = {};
        int r;

        r = launch_undo(l, &err, &warn);
        cli_print_warnings(&warn);
        if (r < 0) {
                cli_print_error(&err);
                return EXIT_RESTORE_FAILED;
        }
        if (l->p->n_hostdevs > 0)
                cli_log("%s: every device is back on its original driver", l->p->name);
        return status;
}

int cmd_run(int argc, char **argv)
{
        static const struct cli_command cmd = {
                .name = "run", .help = help, .min_operands = 1, .max_operands = 1,
                .operands = "one PROFILE argument",
        };
        _cleanup_(cli_prepared_done) struct cli_prepared c = {};
        _cleanup_(launch_done) struct launch l = {}; /* nothing to do until launch_init() */
        sigset_t mask, old;
        int first, r;

        r = cli_parse(&cmd, argc, argv, NULL, NULL, &first);
        if (r != CLI_PARSED)
                return r;
        r = cli_prepare(argv[first], false, &c);
        if (r != EXIT_OK)
                return r;
        cli_print_warnings(&c.warn);
        r = check_privileges(c.p);
        if (r != EXIT_OK)
                return r;

        TRACE("prepared");
        /* A run lists no devices: their names only if a message needs one. */
        c.hostenv.bind.plan_names = false;
        launch_init(&l, c.p, &c.hostenv, &c.user, &c.rt);
        l.tpm = c.p->tpm.enabled ? &c.tpm : NULL;
        r = preflight(&l);
        if (r != EXIT_OK)
                return r;

        /* From here on every exit path goes through the undo: the signals
         * that would end us are read by the supervisor's signalfd instead. */
        sigemptyset(&mask);
        sigaddset(&mask, SIGINT);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGHUP);
        sigprocmask(SIG_BLOCK, &mask, &old);
        TRACE("planned");
        r = apply(&l, &c);
        TRACE("applied");
        if (r == EXIT_OK)
                r = supervise(&l, &c);
        TRACE("undo");
        r = finish(&l, r);
        TRACE("undone");
        sigprocmask(SIG_SETMASK, &old, NULL);
        return r;
}
