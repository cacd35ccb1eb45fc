/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * `vfio-launch [run] PROFILE`: the whole life of a VM.
 *   prepare (read-only: profile, QEMU, user, firmware, argv) → lock the VM
 *   name → plan the devices (read-only, refusals here leave the host as it
 *   was) → apply (journal first) → VARS copy → supervise QEMU → undo.
 * From the apply on, SIGINT/SIGTERM/SIGHUP are blocked: they are read by the
 * supervisor's signalfd, so no signal a process can catch skips the undo.
 * If this process is killed outright, QEMU dies with it (PDEATHSIG) and
 * `vfio-launch recover NAME` replays the journal.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "host/bind.h"
#include "cli/cli.h"
#include "cli/cli_prepare.h"
#include "run/hotplug.h"
#include "host/hugepages.h"
#include "host/journal.h"
#include "host/net.h"
#include "run/pin.h"
#include "host/rundir.h"
#include "run/supervisor.h"
#include "host/vars.h"

#define QEMU_LOG_DIR "/var/log/vfio-launch"

struct run_ctx {
        const struct bind_env *env;
        const struct profile *p;
        const char *name;
        struct hotplug hp;   /* live detach / attach; valid when hotplug_ready */
        bool hotplug_ready;
};

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

static void on_started(void *userdata, pid_t pid)
{
        struct run_ctx *ctx = userdata;
        struct vl_error e = {};

        /* So that `recover` after a crash of ours knows to wait for it. */
        if (journal_set_qemu(ctx->env->run_dir, ctx->env->proc_root, ctx->name, pid, &e) < 0 &&
            e.err != ENOENT)
                cli_log("warning: cannot record QEMU's pid in the journal: %s, ignoring", e.msg);
}

static void on_hotplug(void *userdata, struct sup *s, const char *request, char *reply, size_t size)
{
        struct run_ctx *ctx = userdata;

        hotplug_request(&ctx->hp, s, request, reply, size);
        /* Also in the VM's own output: a journal of what happened to its devices. */
        cli_log("%s: %s: %s", ctx->name, request, reply);
}

static void on_device_deleted(void *userdata, struct sup *s, const char *id)
{
        struct run_ctx *ctx = userdata;

        hotplug_device_deleted(&ctx->hp, s, id);
}

static void on_idle(void *userdata, struct sup *s)
{
        struct run_ctx *ctx = userdata;
        char msg[1024];

        if (hotplug_idle(&ctx->hp, s, msg, sizeof(msg)) != 0)
                cli_log("%s: a pending detach completed: %s", ctx->name, msg);
}

static void status_extra(void *userdata, char *buf, size_t size)
{
        struct run_ctx *ctx = userdata;

        hotplug_describe(&ctx->hp, buf, size);
}

/* Between prelaunch and `cont`: the guest never runs unplaced. */
static int before_cont(void *userdata, struct qmp *q, pid_t pid, struct vl_error *e)
{
        struct run_ctx *ctx = userdata;

        return pin_apply(ctx->p, q, pid, ctx->env->proc_root, e);
}

static int open_qemu_log(const char *name)
{
        char path[512];
        char stamp[64];
        time_t now = time(NULL);
        int fd;

        if (mkdir(QEMU_LOG_DIR, 0750) < 0 && errno != EEXIST)
                return -errno;
        snprintf(path, sizeof(path), "%s/%s.log", QEMU_LOG_DIR, name);
        fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0640);
        if (fd < 0)
                return -errno;
        strftime(stamp, sizeof(stamp), "%Y-%m-%d %H:%M:%S", localtime(&now));
        dprintf(fd, "---- %s vfio-launch %s: starting %s\n", stamp, VL_VERSION, name);
        return fd;
}

/* The last lines of QEMU's log, for a start-up failure. */
static void show_log_tail(const char *name)
{
        char path[512], buf[4096];
        ssize_t n;
        off_t size;
        int fd;

        snprintf(path, sizeof(path), "%s/%s.log", QEMU_LOG_DIR, name);
        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return;
        size = lseek(fd, 0, SEEK_END);
        n = pread(fd, buf, sizeof(buf) - 1, size > (off_t) sizeof(buf) - 1 ? size - (off_t) sizeof(buf) + 1 : 0);
        close(fd);
        if (n <= 0)
                return;
        buf[n] = '\0';
        /* From the last start marker on: only this run's lines. */
        char *start = buf, *m;
        while ((m = strstr(start, "---- ")) && strstr(m, ": starting "))
                start = m + 5;
        start = strchr(start, '\n') ? strchr(start, '\n') + 1 : start;
        if (*start)
                fprintf(stderr, "vfio-launch: QEMU said (%s):\n%s", path, start);
}

int cmd_run(int argc, char **argv)
{
        static const struct option options[] = {
                { "help", no_argument, NULL, 'h' },
                {},
        };
        _cleanup_bind_plan_ struct bind_plan *plan = NULL;
        struct cli_prepared c;
        struct bind_env env;
        struct vl_error err = {};
        struct sup_result res;
        struct run_ctx ctx;
        char qmp_path[256], mon_path[256], ctl_path[256], detail[768] = "";
        sigset_t mask, old;
        pid_t holder = 0;
        struct net_env nenv;
        struct hugepages_env henv;
        struct hugepages_plan hplan = {};
        struct vl_warnings hwarn = {};
        int nic_fds[PROFILE_NICS_MAX];
        unsigned n_nic_fds = 0;
        bool host_net = false;
        int opt, r, lock = -1, logfd = -1, status;

        while ((opt = getopt_long(argc, argv, "+h", options, NULL)) >= 0) {
                switch (opt) {
                case 'h':
                        help();
                        return EXIT_OK;
                default:
                        return EXIT_INVALID;
                }
        }
        if (argc - optind != 1) {
                cli_log_error("run: expected one PROFILE argument (see 'vfio-launch run --help')");
                return EXIT_INVALID;
        }

        r = cli_prepare(argv[optind], false, &c);
        if (r != EXIT_OK) {
                cli_prepared_done(&c);
                return r;
        }
        cli_print_warnings(&c.warn);
        for (unsigned i = 0; i < c.p->n_nics; i++)
                host_net = host_net || c.p->nics[i].backend != NIC_USER;
        if (geteuid() != 0 && host_net) {
                cli_log_error("macvtap and tap networking need root (CAP_NET_ADMIN): run it with sudo or pkexec");
                cli_prepared_done(&c);
                return EXIT_FAILURE_RUN;
        }
        if (geteuid() != 0 && c.p->hugepages.enabled) {
                cli_log_error("hugepages need root (the VM's folder in the hugetlbfs mount, nr_hugepages): run it with sudo or pkexec");
                cli_prepared_done(&c);
                return EXIT_FAILURE_RUN;
        }
        if (geteuid() != 0 && c.p->n_hostdevs > 0) {
                cli_log_error("moving PCI devices to vfio-pci needs root: run it with sudo or pkexec");
                cli_prepared_done(&c);
                return EXIT_FAILURE_RUN;
        }

        bind_env_init(&env);
        nenv = (struct net_env) { .sysfs_root = env.sysfs_root, .dev_root = env.dev_root,
                                  .proc_root = env.proc_root, .run_dir = env.run_dir };
        ctx = (struct run_ctx) { .env = &env, .p = c.p, .name = c.p->name };
        lock = rundir_lock(env.run_dir, c.p->name, &holder, &err);
        if (lock < 0) {
                cli_print_error(&err);
                if (lock == -EBUSY)
                        cli_log("stop it with 'vfio-launch stop %s'", c.p->name);
                cli_prepared_done(&c);
                return EXIT_FAILURE_RUN;
        }

        r = bind_plan_new(&env, c.p, &plan, &err);
        if (r >= 0)
                r = net_check(c.p, env.sysfs_root, &err);
        /* hugetlbfs mount and free pages: refused here, before any change. */
        hugepages_env_init(&henv, &env);
        if (r >= 0 && c.p->hugepages.enabled)
                r = hugepages_plan(&henv, c.p, &hplan, &err);
        if (r < 0) {
                cli_print_error(&err);
                cli_log("nothing was changed on the host");
                status = EXIT_FAILURE_RUN;
                goto unlock;
        }
        cli_print_warnings(&plan->warnings);

        /* From here on every exit path goes through the undo. */
        sigemptyset(&mask);
        sigaddset(&mask, SIGINT);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGHUP);
        sigprocmask(SIG_BLOCK, &mask, &old);

        /* Pages first: the host change most likely to be refused (the kernel
         * may not find them), before any device moves. bind_apply() extends
         * the journal this starts. */
        if (c.p->hugepages.enabled) {
                r = hugepages_setup(&henv, c.p, &hplan, c.user.uid, c.user.gid, &err);
                if (r < 0) {
                        cli_print_error(&err);
                        status = EXIT_FAILURE_RUN;
                        goto undo;
                }
                if (r > 0)
                        cli_log("%s: added %d %s hugepages to the pool for this run", c.p->name, r,
                                profile_hugepage_size_to_string(c.p->hugepages.size));
        }
        if (c.p->n_hostdevs > 0)
                cli_log("%s: moving %u device(s) to vfio-pci", c.p->name, plan->n_devices);
        r = bind_apply(&env, plan, c.user.uid, c.user.gid, &err);
        if (r < 0) {
                cli_print_error(&err);
                status = EXIT_FAILURE_RUN;
                goto undo;
        }
        if (c.p->n_hostdevs > 0) {
                /* Without it the VM runs as well; only detach/attach are refused. */
                if (hotplug_init(&ctx.hp, c.p, &env, c.user.uid, c.user.gid, &err) < 0)
                        cli_log("warning: live detach/attach unavailable: %s", err.msg);
                else
                        ctx.hotplug_ready = true;
        }

        if (c.p->firmware.type == FIRMWARE_UEFI) {
                bool created = false;
                if (!c.p->firmware.vars[0] && mkdir(VARS_STATE_DIR, 0755) < 0 && errno != EEXIST)
                        cli_log("warning: cannot create %s: %s", VARS_STATE_DIR, strerror(errno));
                r = vars_ensure(c.fc.vars_template, c.rt.firmware.vars, c.user.uid, c.user.gid,
                                c.p->firmware.vars[0] == '\0', &created, &err);
                if (r < 0) {
                        cli_print_error(&err);
                        status = EXIT_FAILURE_RUN;
                        goto undo;
                }
                if (created)
                        cli_log("%s: created %s from %s", c.p->name, c.rt.firmware.vars,
                                c.fc.vars_template);
        }

        if (host_net) {
                r = net_setup(&nenv, c.p, nic_fds, &n_nic_fds, &err);
                if (r < 0) {
                        cli_print_error(&err);
                        status = EXIT_FAILURE_RUN;
                        goto undo;
                }
        }

        logfd = open_qemu_log(c.p->name);
        if (logfd < 0)
                cli_log("warning: cannot open %s/%s.log (%s): QEMU's messages go to this "
                        "terminal, ignoring",
                        QEMU_LOG_DIR, c.p->name, strerror(-logfd));

        if (rundir_path(qmp_path, sizeof(qmp_path), env.run_dir, c.p->name, RUNDIR_QMP_SOCKET) < 0 ||
            rundir_path(mon_path, sizeof(mon_path), env.run_dir, c.p->name, RUNDIR_MONITOR_SOCKET) < 0 ||
            rundir_path(ctl_path, sizeof(ctl_path), env.run_dir, c.p->name, RUNDIR_CONTROL_SOCKET) < 0) {
                cli_log_error("run directory path too long");
                status = EXIT_FAILURE_RUN;
                goto undo;
        }
        if (c.p->display.type == DISPLAY_SPICE)
                snprintf(detail, sizeof(detail), "SPICE on %s:%u; ",
                         c.p->display.listen[0] ? c.p->display.listen : "127.0.0.1",
                         c.rt.spice_port);
        snprintf(detail + strlen(detail), sizeof(detail) - strlen(detail), "QMP %s; control %s",
                 qmp_path, ctl_path);

        struct sup_config sc = {
                .name = c.p->name,
                .qemu_path = c.host.qemu_path,
                .argv = c.cmd->argv,
                .envp = c.cmd->env,
                .sandbox = {
                        .uid = c.user.uid,
                        .gid = c.user.gid,
                        .n_groups = c.user.n_groups,
                        .stdin_fd = -1,
                        .stdout_fd = logfd >= 0 ? logfd : STDERR_FILENO,
                        .stderr_fd = logfd >= 0 ? logfd : STDERR_FILENO,
                        /* VFIO pins all guest RAM; libvirt's allowance: RAM + 1 GiB. */
                        .memlock_bytes = c.p->n_hostdevs ? (c.p->memory_mib + 1024) << 20 : 0,
                        .parent = getpid(),
                        .seccomp = true,
                },
                .qmp_path = mon_path,
                .user_qmp_path = qmp_path,
                .control_path = ctl_path,
                .shutdown_timeout_s = c.p->shutdown_timeout_s,
                .powerdown_repeat_ms = c.p->powerdown_repeat_s * 1000u,
                .start_timeout_ms = 60000,
                .quit_timeout_ms = 5000,
                .ready_detail = detail,
                .userdata = &ctx,
                .on_started = on_started,
                .before_cont = before_cont,
                .hotplug = ctx.hotplug_ready ? on_hotplug : NULL,
                .on_device_deleted = ctx.hotplug_ready ? on_device_deleted : NULL,
                .on_idle = ctx.hotplug_ready ? on_idle : NULL,
                .status_extra = ctx.hotplug_ready ? status_extra : NULL,
        };
        memcpy(sc.sandbox.groups, c.user.groups, sizeof(sc.sandbox.groups));
        /* After the two QMP listeners: QEMU sees them as 5, 6, ... in NIC
         * order, the numbers launch_prepare() put in the argv. */
        memcpy(sc.sandbox.fds, nic_fds, n_nic_fds * sizeof(nic_fds[0]));
        sc.sandbox.n_fds = n_nic_fds;

        r = sup_run(&sc, &res, &err);
        if (r < 0) {
                cli_print_error(&err);
                if (res.outcome == SUP_START_FAILED)
                        show_log_tail(c.p->name);
                status = res.outcome == SUP_FORCED ? EXIT_FORCED : EXIT_START_FAILED;
        } else {
                cli_log("%s: %s%s%s%s", c.p->name, sup_outcome_to_string(res.outcome),
                        res.term_signal ? " (" : "", res.term_signal ? strsignal(res.term_signal) : "",
                        res.term_signal ? ")" : "");
                switch (res.outcome) {
                case SUP_GUEST_POWEROFF:
                case SUP_STOPPED:
                        status = EXIT_OK;
                        break;
                case SUP_FORCED:
                        status = EXIT_FORCED;
                        break;
                case SUP_START_FAILED:
                        status = EXIT_START_FAILED;
                        break;
                default:
                        show_log_tail(c.p->name);
                        status = EXIT_QEMU_FAILED;
                        break;
                }
        }

undo:
        /* QEMU is gone: its links can go. Before the bind undo, which keeps
         * the journal while entries remain. */
        net_close_fds(nic_fds, n_nic_fds);
        if (host_net && net_undo(&nenv, c.p->name, &err) < 0) {
                cli_print_error(&err);
                cli_log("when the cause is fixed: 'vfio-launch recover %s'", c.p->name);
                status = EXIT_RESTORE_FAILED;
        }
        if (c.p->hugepages.enabled && hugepages_undo(&henv, c.p->name, &err, &hwarn) < 0) {
                cli_print_error(&err);
                cli_log("when the cause is fixed: 'vfio-launch recover %s'", c.p->name);
                status = EXIT_RESTORE_FAILED;
        }
        cli_print_warnings(&hwarn);
        r = bind_undo_journal(&env, c.p->name, &err);
        if (r < 0) {
                cli_print_error(&err);
                cli_log("when the cause is fixed: 'vfio-launch recover %s'", c.p->name);
                status = EXIT_RESTORE_FAILED;
        } else if (c.p->n_hostdevs > 0)
                cli_log("%s: every device is back on its original driver", c.p->name);
        sigprocmask(SIG_SETMASK, &old, NULL);
unlock:
        if (logfd >= 0)
                close(logfd);
        rundir_unlock(env.run_dir, c.p->name, lock);
        cli_prepared_done(&c);
        return status;
}
