/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The supervisor's poll loop: see supervisor.h for the contract.
 *
 * QMP set-up follows libvirt: we create, bind and listen on the QMP socket,
 * hand the listening fd to QEMU (`-chardev socket,fd=3,server=on,wait=off`)
 * and connect to it ourselves BEFORE QEMU runs. The connection waits in the
 * listen backlog until QEMU accepts it, so there is no polling for a socket
 * file, and if QEMU dies during start-up the pending connection is reset and
 * we learn it at once.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/exec.h"
#include "base/unixsock.h"
#include "profile/profile.h"
#include "qmp.h"
#include "run/spawn.h"
#include "run/supervisor.h"
#include "base/trace.h"

#define CONTROL_CLIENTS_MAX 4
#define COUNTDOWN_LINE_EVERY_MS 30000 /* when stderr is not a terminal */

enum stage {
        STAGE_RUNNING,
        STAGE_POWERDOWN, /* ACPI power button pressed, waiting for the guest */
        STAGE_QUIT,      /* `quit` sent */
        STAGE_TERM,      /* SIGTERM sent */
        STAGE_KILL,      /* SIGKILL sent */
};

struct sup {
        const struct sup_config *c;
        struct sup_result *res;
        pid_t pid;
        int pidfd;
        int sigfd;
        int ctl_fd;
        int clients[CONTROL_CLIENTS_MAX];
        struct qmp *q;
        bool qmp_dead;
        bool ready;
        bool stop_requested;
        bool exited;
        enum stage stage;
        uint64_t deadline;    /* of the current stage, ms on CLOCK_MONOTONIC; 0 = none */
        uint64_t next_press;  /* second power button press; 0 = none */
        uint64_t next_tick;   /* countdown display */
        bool tty;
        bool tick_shown;
        bool hotplug_busy;    /* a hotplug hook is running (nested loop turns) */
        int wstatus;
        pid_t helper_pid;     /* swtpm; -1 = none */
        int helper_pidfd;
        bool helper_exited;
};

_printf_(2, 0) static void vsay(struct sup *s, const char *fmt, va_list ap)
{
        if (s->tick_shown) { /* end the countdown line first */
                fputc('\n', stderr);
                s->tick_shown = false;
        }
        fprintf(stderr, "vfio-launch: %s: ", s->c->name);
        vfprintf(stderr, fmt, ap);
        fputc('\n', stderr);
}

static void say(struct sup *s, const char *fmt, ...) _printf_(2, 3);
static void say(struct sup *s, const char *fmt, ...)
{
        va_list ap;

        va_start(ap, fmt);
        vsay(s, fmt, ap);
        va_end(ap);
}

void sup_log(struct sup *s, const char *fmt, ...)
{
        va_list ap;

        va_start(ap, fmt);
        vsay(s, fmt, ap);
        va_end(ap);
}

const char *sup_outcome_to_string(enum sup_outcome o)
{
        switch (o) {
        case SUP_GUEST_POWEROFF:
                return "guest powered off";
        case SUP_STOPPED:
                return "stopped (guest shut down on request)";
        case SUP_FORCED:
                return "stopped by force";
        case SUP_QEMU_FAILED:
                return "QEMU failed";
        case SUP_START_FAILED:
                return "QEMU failed to start";
        }
        return "unknown";
}

static int signal_qemu(struct sup *s, int sig)
{
        /* Through the pidfd: the PID cannot have been recycled under us. */
        if (syscall(SYS_pidfd_send_signal, s->pidfd, sig, NULL, 0) < 0 && errno != ESRCH)
                return -errno;
        return 0;
}

/* Whatever is left of QEMU's process group (the sandbox made QEMU a
 * session and group leader). Only while QEMU is not reaped: until then its
 * PID, which is the group's id, cannot name anything else. */
static void kill_group(struct sup *s)
{
        if (kill(-s->pid, SIGKILL) < 0 && errno != ESRCH)
                say(s, "cannot signal QEMU's process group %d: %s, ignoring", (int) s->pid, strerror(errno));
}

static void on_event(struct qmp *q, const struct qmp_event *ev, void *userdata)
{
        struct sup *s = userdata;

        if (strcmp(ev->name, "SHUTDOWN") == 0) {
                const char *reason = json_string_value(json_object_get(ev->data, "reason"));
                if (reason)
                        (void) snprintf(s->res->shutdown_reason, sizeof(s->res->shutdown_reason),
                                        "%s", reason);
                say(s, "QEMU is shutting down (%s)", reason ? reason : "no reason given");
        } else if (strcmp(ev->name, "RESET") == 0) {
                say(s, "the guest rebooted");
        } else if (strcmp(ev->name, "POWERDOWN") == 0) {
                /* Our own press echoed back: counted, nothing to say. */
                s->res->powerdown_presses++;
        } else if (strcmp(ev->name, "GUEST_PANICKED") == 0) {
                say(s, "the guest panicked");
        } else if (strcmp(ev->name, "WATCHDOG") == 0) {
                const char *action = json_string_value(json_object_get(ev->data, "action"));
                bool known = false;

                /* Named only if it is one of QEMU's: the text comes from QEMU. */
                for (unsigned i = 0; action && profile_watchdog_action_name(i); i++)
                        known = known || strcmp(action, profile_watchdog_action_name(i)) == 0;
                say(s, "the guest's watchdog fired (action: %s)", known ? action : "not one QEMU documents");
        } else if (strcmp(ev->name, "DEVICE_DELETED") == 0) {
                const char *id = json_string_value(json_object_get(ev->data, "device"));
                if (id && s->c->on_device_deleted)
                        s->c->on_device_deleted(s->c->userdata, s, id);
        }
}

static void send_fire_and_forget(struct sup *s, const char *command)
{
        if (s->qmp_dead || !s->ready)
                return;
        if (qmp_send(s->q, command, NULL, NULL) < 0)
                s->qmp_dead = true;
}

static void enter_stage(struct sup *s, enum stage st)
{
        uint64_t now = clock_ms();

        s->stage = st;
        s->next_press = 0;
        switch (st) {
        case STAGE_RUNNING:
                s->deadline = 0;
                break;
        case STAGE_POWERDOWN:
                send_fire_and_forget(s, "system_powerdown");
                s->deadline = now + (uint64_t) s->c->shutdown_timeout_s * 1000u;
                if (s->c->powerdown_repeat_ms)
                        s->next_press = now + s->c->powerdown_repeat_ms;
                /* A terminal gets a live countdown; a log a line now and then. */
                s->next_tick = s->tty ? now : now + COUNTDOWN_LINE_EVERY_MS;
                say(s, "asked the guest to power off (ACPI); waiting up to %u s%s",
                    s->c->shutdown_timeout_s,
                    s->tty ? " — press Ctrl-C again to force" : "");
                break;
        case STAGE_QUIT:
                if (s->ready && !s->qmp_dead) {
                        say(s, "telling QEMU to quit");
                        send_fire_and_forget(s, "quit");
                        s->deadline = now + s->c->quit_timeout_ms;
                        break;
                }
                /* No QMP: straight to SIGTERM. */
                s->stage = STAGE_TERM;
                _fallthrough_;
        case STAGE_TERM:
                say(s, "sending SIGTERM to QEMU (pid %d)", (int) s->pid);
                (void) signal_qemu(s, SIGTERM);
                s->deadline = now + s->c->quit_timeout_ms;
                break;
        case STAGE_KILL:
                say(s, "sending SIGKILL to QEMU (pid %d)", (int) s->pid);
                (void) signal_qemu(s, SIGKILL);
                kill_group(s);
                s->deadline = 0; /* SIGKILL cannot be refused */
                break;
        }
}

static void request_stop(struct sup *s, bool force)
{
        TRACE("stop requested%s", force ? " (force)" : "");
        if (s->exited)
                return;
        s->stop_requested = true;
        if (force || !s->ready) {
                /* Before QMP is ready there is no power button to press. */
                if (s->stage < STAGE_QUIT)
                        enter_stage(s, STAGE_QUIT);
                else if (s->stage == STAGE_QUIT)
                        enter_stage(s, STAGE_TERM);
                return;
        }
        if (s->stage == STAGE_RUNNING)
                enter_stage(s, STAGE_POWERDOWN);
        else if (s->stage == STAGE_POWERDOWN)
                enter_stage(s, STAGE_QUIT); /* the second Ctrl-C */
}

static void handle_deadlines(struct sup *s)
{
        uint64_t now = clock_ms();

        if (s->next_press && now >= s->next_press && s->stage == STAGE_POWERDOWN) {
                send_fire_and_forget(s, "system_powerdown");
                s->next_press = 0;
        }
        if (s->stage == STAGE_POWERDOWN && now >= s->next_tick) {
                uint64_t left = s->deadline > now ? (s->deadline - now + 999) / 1000 : 0;
                if (s->tty) {
                        fprintf(stderr, "\rvfio-launch: %s: waiting for the guest to power off: %3llu s left ",
                                s->c->name, (unsigned long long) left);
                        s->tick_shown = true;
                        s->next_tick = now + 1000;
                } else {
                        say(s, "still waiting for the guest to power off: %llu s left",
                            (unsigned long long) left);
                        s->next_tick = now + COUNTDOWN_LINE_EVERY_MS;
                }
        }
        if (!s->deadline || now < s->deadline)
                return;
        switch (s->stage) {
        case STAGE_POWERDOWN:
                say(s, "the guest did not power off within %u s", s->c->shutdown_timeout_s);
                enter_stage(s, STAGE_QUIT);
                break;
        case STAGE_QUIT:
                enter_stage(s, STAGE_TERM);
                break;
        case STAGE_TERM:
                enter_stage(s, STAGE_KILL);
                break;
        default:
                s->deadline = 0;
                break;
        }
}

static int next_timeout(const struct sup *s, uint64_t extra_deadline)
{
        uint64_t now = clock_ms(), t = UINT64_MAX;

        if (s->deadline)
                t = s->deadline;
        if (s->next_press && s->next_press < t)
                t = s->next_press;
        if (s->stage == STAGE_POWERDOWN && s->next_tick < t)
                t = s->next_tick;
        if (extra_deadline && extra_deadline < t)
                t = extra_deadline;
        if (t == UINT64_MAX)
                return -1;
        return t <= now ? 0 : (int) (t - now > 60000 ? 60000 : t - now);
}

static void reap(struct sup *s)
{
        siginfo_t si = {};
        int st;

        if (s->exited)
                return;
        /* Exited but not reaped yet (WNOWAIT): its group goes first. */
        if (waitid(P_PID, (id_t) s->pid, &si, WEXITED | WNOHANG | WNOWAIT) < 0 || si.si_pid != s->pid)
                return;
        TRACE("QEMU exited");
        kill_group(s);
        if (waitpid(s->pid, &st, WNOHANG) == s->pid) {
                TRACE("QEMU reaped");
                s->exited = true;
                s->wstatus = st;
        }
}

/* "exited with status 1", "was killed by signal 9 (Killed)" */
static void describe_wstatus(int st, char *buf, size_t size)
{
        if (WIFSIGNALED(st))
                (void) snprintf(buf, size, "was killed by signal %d (%s)", WTERMSIG(st), strsignal(WTERMSIG(st)));
        else
                (void) snprintf(buf, size, "exited with status %d", WIFEXITED(st) ? WEXITSTATUS(st) : -1);
}

static void helper_record(struct sup *s, int st)
{
        s->helper_exited = true;
        s->helper_pidfd = safe_close(s->helper_pidfd);
        s->res->helper_exit_status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
        s->res->helper_term_signal = WIFSIGNALED(st) ? WTERMSIG(st) : 0;
}

/* The helper is gone. With QEMU still there and not on its way out, the VM
 * has lost a device it cannot do without and QEMU does not notice: end the
 * run as a crash. */
static void reap_helper(struct sup *s)
{
        char how[96];
        int st;

        if (s->helper_pid <= 0 || s->helper_exited || waitpid(s->helper_pid, &st, WNOHANG) != s->helper_pid)
                return;
        helper_record(s, st);
        if (s->exited || s->stage >= STAGE_QUIT || s->res->shutdown_reason[0])
                return; /* QEMU is leaving, and its helper with it */
        describe_wstatus(st, how, sizeof(how));
        say(s, "%s (pid %d) %s: stopping the VM, it cannot run without it", s->c->helper.name,
            (int) s->helper_pid, how);
        s->res->helper_failed = true;
        enter_stage(s, STAGE_KILL);
}

/* QEMU is gone (or never ran): the helper leaves with it — swtpm ends when
 * its data channel closes, which it only has once QEMU set it up. Else
 * SIGTERM, then SIGKILL, each after quit_timeout_ms. */
static void stop_helper(struct sup *s)
{
        struct pollfd pfd = { .fd = s->helper_pidfd, .events = POLLIN };
        int st;

        if (s->helper_pid <= 0 || s->helper_exited)
                return;
        if (!s->ready || poll(&pfd, 1, (int) s->c->quit_timeout_ms) == 0) {
                if (s->ready)
                        say(s, "%s (pid %d) did not leave with QEMU: sending SIGTERM", s->c->helper.name,
                            (int) s->helper_pid);
                (void) syscall(SYS_pidfd_send_signal, s->helper_pidfd, SIGTERM, NULL, 0);
                if (poll(&pfd, 1, (int) s->c->quit_timeout_ms) == 0) {
                        say(s, "sending SIGKILL to %s (pid %d)", s->c->helper.name, (int) s->helper_pid);
                        (void) syscall(SYS_pidfd_send_signal, s->helper_pidfd, SIGKILL, NULL, 0);
                }
        }
        if (exec_wait(s->helper_pid, &st) == 0)
                helper_record(s, st);
}

static void handle_signal(struct sup *s)
{
        struct signalfd_siginfo si;

        while (read(s->sigfd, &si, sizeof(si)) == (ssize_t) sizeof(si)) {
                const char *name = si.ssi_signo == SIGINT    ? "SIGINT"
                                   : si.ssi_signo == SIGTERM ? "SIGTERM"
                                                             : "SIGHUP";
                if (!s->exited)
                        say(s, "%s received", name);
                request_stop(s, false);
        }
}

/* ---- control socket ---------------------------------------------------- */

static const char *stage_name(const struct sup *s)
{
        if (!s->ready)
                return "starting";
        return s->stage == STAGE_RUNNING ? "running" : "stopping";
}

static bool has_word(const char *msg, size_t len, const char *word)
{
        size_t n = strlen(word);

        return len > n && memcmp(msg, word, n) == 0 && msg[n] == ' ';
}

static int control_hotplug(struct sup *s, const char *msg, char *out, size_t size)
{
        if (!s->c->hotplug)
                return snprintf(out, size, "error: live detach and attach are not available for this VM");
        if (!s->ready || s->stage != STAGE_RUNNING || s->exited)
                return snprintf(out, size, "error: the VM is %s", s->exited ? "gone" : stage_name(s));
        if (s->hotplug_busy)
                return snprintf(out, size, "error: another detach or attach is in progress, try again");
        s->hotplug_busy = true;
        out[0] = '\0';
        s->c->hotplug(s->c->userdata, s, msg, out, size);
        s->hotplug_busy = false;
        if (!out[0])
                return snprintf(out, size, "error: no answer");
        return (int) strlen(out);
}

static void control_reply(struct sup *s, int fd, const char *msg, size_t len)
{
        char out[2048];
        int n;

        if (len == 6 && memcmp(msg, "status", 6) == 0) {
                char extra[1400] = "", helper[64] = "";
                if (s->c->status_extra)
                        s->c->status_extra(s->c->userdata, extra, sizeof(extra));
                if (s->helper_pid > 0 && !s->helper_exited)
                        (void) snprintf(helper, sizeof(helper), ",\"%s_pid\":%d", s->c->helper.name,
                                        (int) s->helper_pid);
                n = snprintf(out, sizeof(out),
                             "{\"name\":\"%s\",\"state\":\"%s\",\"launcher_pid\":%d,"
                             "\"qemu_pid\":%d%s,\"qmp\":\"%s\",\"detail\":\"%s\"%s%s}",
                             s->c->name, stage_name(s), (int) getpid(), (int) s->pid, helper,
                             s->c->user_qmp_path ? s->c->user_qmp_path : "",
                             s->c->ready_detail ? s->c->ready_detail : "", extra[0] ? "," : "", extra);
        } else if (len == 4 && memcmp(msg, "stop", 4) == 0) {
                say(s, "stop requested through the control socket");
                request_stop(s, false);
                n = snprintf(out, sizeof(out), "ok");
        } else if (len == 10 && memcmp(msg, "stop-force", 10) == 0) {
                say(s, "forced stop requested through the control socket");
                request_stop(s, true);
                n = snprintf(out, sizeof(out), "ok");
        } else if (has_word(msg, len, "detach") || has_word(msg, len, "attach") || has_word(msg, len, "usb"))
                n = control_hotplug(s, msg, out, sizeof(out));
        else
                n = snprintf(out, sizeof(out), "error: unknown command");
        if (n > 0)
                (void) send(fd, out, (size_t) n < sizeof(out) ? (size_t) n : sizeof(out) - 1,
                            MSG_NOSIGNAL | MSG_DONTWAIT);
}

static void control_accept(struct sup *s)
{
        int fd = accept4(s->ctl_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);

        if (fd < 0)
                return;
        for (int i = 0; i < CONTROL_CLIENTS_MAX; i++)
                if (s->clients[i] < 0) {
                        s->clients[i] = fd;
                        return;
                }
        close(fd); /* too many at once: the client sees a closed socket */
}

static void control_client(struct sup *s, int i)
{
        char msg[SUP_CONTROL_MSG_MAX];
        int fd = s->clients[i];
        ssize_t n;

        if (fd < 0) /* served by a nested turn already */
                return;
        n = recv(fd, msg, sizeof(msg) - 1, MSG_DONTWAIT);
        if (n < 0 && (errno == EAGAIN || errno == EINTR))
                return;
        /* Ours alone from here: a hotplug request turns the loop while it
         * waits, and those turns must not serve this client again. */
        s->clients[i] = -1;
        if (n > 0) {
                msg[n] = '\0';
                control_reply(s, fd, msg, strlen(msg));
        }
        close(fd);
}

int sup_control_request(const char *path, const char *command, char *buf, size_t size,
                        int timeout_ms)
{
        _cleanup_close_ int fd = -EBADF;
        struct pollfd pfd;
        ssize_t n;

        if (size == 0 || strlen(command) >= SUP_CONTROL_MSG_MAX)
                return -EINVAL;
        fd = unix_connect(path, SOCK_SEQPACKET);
        if (fd < 0)
                return fd;
        if (send(fd, command, strlen(command), MSG_NOSIGNAL) < 0)
                return -errno;
        pfd = (struct pollfd) { .fd = fd, .events = POLLIN };
        n = poll(&pfd, 1, timeout_ms);
        if (n == 0)
                return -ETIMEDOUT;
        if (n < 0)
                return -errno;
        n = recv(fd, buf, size - 1, 0);
        if (n < 0)
                return -errno;
        buf[n] = '\0';
        return 0;
}

/* ---- the loop ------------------------------------------------------------ */

enum { PFD_PID, PFD_SIG, PFD_QMP, PFD_CTL, PFD_HELPER, PFD_CLIENT0 };

/* One turn of the loop. Returns 1 when QEMU has exited. */
static int turn(struct sup *s, uint64_t extra_deadline)
{
        struct pollfd pfd[PFD_CLIENT0 + CONTROL_CLIENTS_MAX];
        int r;

        pfd[PFD_PID] = (struct pollfd) { .fd = s->pidfd, .events = POLLIN };
        pfd[PFD_SIG] = (struct pollfd) { .fd = s->sigfd, .events = POLLIN };
        pfd[PFD_QMP] = (struct pollfd) { .fd = s->qmp_dead ? -1 : qmp_fd(s->q),
                                         .events = s->qmp_dead ? 0 : qmp_poll_events(s->q) };
        pfd[PFD_CTL] = (struct pollfd) { .fd = s->ctl_fd, .events = POLLIN };
        pfd[PFD_HELPER] = (struct pollfd) { .fd = s->helper_exited ? -1 : s->helper_pidfd, .events = POLLIN };
        for (int i = 0; i < CONTROL_CLIENTS_MAX; i++)
                pfd[PFD_CLIENT0 + i] = (struct pollfd) { .fd = s->clients[i], .events = POLLIN };

        r = poll(pfd, ELEMENTSOF(pfd), next_timeout(s, extra_deadline));
        if (r < 0 && errno != EINTR)
                return -errno;
        if (r > 0) {
                if (pfd[PFD_SIG].revents)
                        handle_signal(s);
                if (pfd[PFD_QMP].revents && !s->qmp_dead && qmp_process(s->q) < 0)
                        s->qmp_dead = true; /* QEMU closed it: the pidfd tells the rest */
                if (pfd[PFD_CTL].revents)
                        control_accept(s);
                for (int i = 0; i < CONTROL_CLIENTS_MAX; i++)
                        if (pfd[PFD_CLIENT0 + i].revents)
                                control_client(s, i);
                if (pfd[PFD_PID].revents)
                        reap(s);
                /* After QEMU's: its own exit closes the helper's socket. */
                if (pfd[PFD_HELPER].revents)
                        reap_helper(s);
        }
        handle_deadlines(s);
        return s->exited;
}

/* Wait for the reply to id while watching everything else. Returns 0,
 * -EREMOTEIO (e filled with QEMU's error), -ECHILD (QEMU exited), -EINTR (a
 * stop was requested), -ETIMEDOUT, or a transport error. */
static int wait_reply(struct sup *s, uint64_t id, uint64_t deadline, json_t **ret,
                      struct vl_error *e)
{
        for (;;) {
                struct qmp_error qe;
                int r = qmp_reply(s->q, id, ret, &qe);

                if (r == -EREMOTEIO)
                        return vl_error_set(e, EREMOTEIO, "%s: %s", qe.error_class, qe.desc);
                if (r != -EAGAIN)
                        return r;
                r = turn(s, deadline);
                if (r < 0)
                        return r;
                if (r > 0)
                        return -ECHILD;
                if (s->stop_requested)
                        return -EINTR;
                if (clock_ms() >= deadline)
                        return -ETIMEDOUT;
        }
}

/* A transport error on QMP during start-up: QEMU is most likely on its way
 * out (a device that fails to realize closes the socket after the greeting),
 * and its exit status says more than the socket. Wait for it, bounded:
 * -ECHILD if it exited, else r unchanged. */
static int qmp_broken(struct sup *s, int r)
{
        uint64_t grace;
        int t = 0;

        if (r >= 0 || r == -EREMOTEIO || r == -ECHILD || r == -EINTR || r == -ETIMEDOUT)
                return r;
        grace = clock_ms() + s->c->quit_timeout_ms;
        while (!s->exited && (t = turn(s, grace)) == 0 && clock_ms() < grace && !s->stop_requested)
                ;
        return s->exited ? -ECHILD : r;
}

static int start_up(struct sup *s, struct vl_error *e)
{
        uint64_t deadline = clock_ms() + s->c->start_timeout_ms, id;
        json_t *status = NULL;
        const char *st;
        int r;

        /* The greeting arrives when QEMU accepts our queued connection. */
        while (!qmp_has_greeting(s->q)) {
                r = turn(s, deadline);
                if (r < 0)
                        return vl_error_set(e, -r, "waiting for QMP: %s", strerror(-r));
                if (r > 0)
                        return -ECHILD;
                if (s->stop_requested)
                        return -EINTR;
                if (s->qmp_dead) {
                        /* Closed before the greeting: QEMU is most likely
                         * exiting. Give it quit_timeout to do so — and no
                         * more: one that lives on without its monitor is
                         * stopped by the caller's ladder. */
                        uint64_t grace = clock_ms() + s->c->quit_timeout_ms;
                        while ((r = turn(s, grace)) == 0 && !s->stop_requested && clock_ms() < grace)
                                ;
                        if (r > 0)
                                return -ECHILD;
                        return vl_error_set(e, ECONNRESET, "QEMU closed QMP before its greeting");
                }
                if (clock_ms() >= deadline)
                        return vl_error_set(e, ETIMEDOUT, "no QMP greeting within %u ms",
                                            s->c->start_timeout_ms);
        }
        TRACE("QMP greeting");
        r = qmp_send(s->q, "qmp_capabilities", NULL, &id);
        if (r >= 0)
                r = wait_reply(s, id, deadline, NULL, e);
        if (r == 0) {
                r = qmp_send(s->q, "query-status", NULL, &id);
                if (r >= 0)
                        r = wait_reply(s, id, deadline, &status, e);
        }
        if (r == -ETIMEDOUT)
                return vl_error_set(e, ETIMEDOUT, "QEMU not ready within %u ms",
                                    s->c->start_timeout_ms);
        r = qmp_broken(s, r);
        if (r == -EREMOTEIO)
                return r;
        if (r < 0 && r != -ECHILD && r != -EINTR)
                return vl_error_set(e, -r, "QMP: %s", strerror(-r));
        if (r < 0)
                return r;
        st = json_string_value(json_object_get(status, "status"));
        if (!st || strcmp(st, "prelaunch") != 0) {
                r = vl_error_set(e, EPROTO, "QEMU is in state \"%s\", expected \"prelaunch\"",
                                 st ? st : "?");
                json_decref(status);
                return r;
        }
        json_decref(status);
        s->ready = true;
        TRACE("QMP ready, prelaunch");

        if (s->c->before_cont) {
                r = s->c->before_cont(s->c->userdata, s->q, s->pid, e);
                if (r < 0)
                        return r;
        }
        TRACE("cont");
        r = qmp_send(s->q, "cont", NULL, &id);
        if (r >= 0)
                r = wait_reply(s, id, deadline, NULL, e);
        r = qmp_broken(s, r);
        if (r < 0 && r != -ECHILD && r != -EINTR && r != -EREMOTEIO)
                return vl_error_set(e, -r, "cont: %s", strerror(-r));
        return r;
}

int sup_execute(struct sup *s, const char *command, json_t *arguments, unsigned timeout_ms, json_t **ret,
                struct vl_error *e)
{
        return sup_execute_fd(s, command, arguments, -1, timeout_ms, ret, e);
}

int sup_execute_fd(struct sup *s, const char *command, json_t *arguments, int fd, unsigned timeout_ms,
                   json_t **ret, struct vl_error *e)
{
        uint64_t id;
        int r;

        if (ret)
                *ret = NULL;
        if (s->qmp_dead || !s->ready)
                return vl_error_set(e, EBUSY, "QMP is not up");
        r = fd >= 0 ? qmp_send_fd(s->q, command, arguments, fd, &id) : qmp_send(s->q, command, arguments, &id);
        if (r < 0)
                return vl_error_set(e, -r, "%s: %s", command, strerror(-r));
        r = wait_reply(s, id, clock_ms() + timeout_ms, ret, e);
        if (r == -EREMOTEIO)
                return r;
        if (r < 0) {
                (void) qmp_forget(s->q, id);
                return vl_error_set(e, -r, "%s: %s", command,
                                    r == -ECHILD ? "QEMU exited" : r == -EINTR ? "the VM is stopping" : strerror(-r));
        }
        return 0;
}

int sup_wait(struct sup *s, bool (*done)(void *data), void *data, unsigned timeout_ms)
{
        uint64_t deadline = clock_ms() + timeout_ms;

        for (;;) {
                int r;

                if (done(data))
                        return 0;
                if (s->exited)
                        return -ECHILD;
                if (s->stop_requested)
                        return -EINTR;
                if (clock_ms() >= deadline)
                        return -ETIMEDOUT;
                r = turn(s, deadline);
                if (r < 0)
                        return r;
        }
}

pid_t sup_qemu_pid(const struct sup *s)
{
        return s->pid;
}

int sup_qmp_open(const char *path, int *ret_listener, int *ret_client, struct vl_error *e)
{
        _cleanup_close_ int l = -EBADF, c = -EBADF;

        l = unix_listen(path, SOCK_STREAM, 1, e);
        if (l < 0)
                return l;
        /* Completes at once: the connection waits in the backlog for QEMU. */
        c = unix_connect(path, SOCK_STREAM | SOCK_NONBLOCK);
        if (c < 0)
                return vl_error_set(e, -c, "cannot connect to '%s': %s", path, strerror(-c));
        /* Ours alone: a second client would wait in the backlog forever
         * (QEMU serves one per monitor) and could race us for the first. */
        (void) unlink(path);
        *ret_listener = TAKE_FD(l);
        *ret_client = TAKE_FD(c);
        return 0;
}

static void fill_result(struct sup *s)
{
        struct sup_result *res = s->res;

        res->qemu_pid = s->pid;
        res->exit_status = WIFEXITED(s->wstatus) ? WEXITSTATUS(s->wstatus) : -1;
        res->term_signal = WIFSIGNALED(s->wstatus) ? WTERMSIG(s->wstatus) : 0;
        if (s->stop_requested)
                res->outcome = s->ready && s->stage <= STAGE_POWERDOWN && res->exit_status == 0
                                       ? SUP_STOPPED
                                       : SUP_FORCED;
        else if (!s->ready)
                res->outcome = SUP_START_FAILED;
        else if (res->exit_status == 0)
                res->outcome = SUP_GUEST_POWEROFF;
        else
                res->outcome = SUP_QEMU_FAILED;
        /* The run was ended because the helper died: a crash, whatever
         * else was going on (a stop on request included). */
        if (res->helper_failed && s->ready)
                res->outcome = SUP_QEMU_FAILED;
}

static void close_fds(const struct sup_config *c)
{
        for (unsigned i = 0; i < c->sandbox.n_fds; i++)
                (void) safe_close(c->sandbox.fds[i]);
}

static void close_helper_fds(const struct sup_config *c)
{
        for (unsigned i = 0; i < c->helper.sandbox.n_fds; i++)
                (void) safe_close(c->helper.sandbox.fds[i]);
}

static void close_clients(struct sup *s)
{
        for (int i = 0; i < CONTROL_CLIENTS_MAX; i++)
                closep(&s->clients[i]);
}

int sup_run(const struct sup_config *c, struct sup_result *ret, struct vl_error *e)
{
        _cleanup_(close_clients) struct sup s = {
                .c = c, .res = ret, .pid = -1, .tty = isatty(STDERR_FILENO) == 1,
                .helper_pid = -1, .helper_pidfd = -1,
        };
        bool helper_fds_open = c->helper.name != NULL;
        _cleanup_close_ int client = c->qmp_client, pidfd = -EBADF, sigfd = -EBADF, ctl_fd = -EBADF;
        _cleanup_(qmp_freep) struct qmp *q = NULL;
        sigset_t mask, old;
        int r;

        memset(ret, 0, sizeof(*ret));
        ret->outcome = SUP_START_FAILED;
        ret->exit_status = ret->helper_exit_status = -1;
        for (int i = 0; i < CONTROL_CLIENTS_MAX; i++)
                s.clients[i] = -1;

        sigemptyset(&mask);
        sigaddset(&mask, SIGINT);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGHUP);
        if (sigprocmask(SIG_BLOCK, &mask, &old) < 0)
                return vl_error_set(e, errno, "sigprocmask: %s", strerror(errno));
        s.sigfd = sigfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
        if (sigfd < 0) {
                r = vl_error_set(e, errno, "signalfd: %s", strerror(errno));
                goto out;
        }
        s.ctl_fd = -1;
        if (c->control_path) {
                s.ctl_fd = ctl_fd = unix_listen(c->control_path, SOCK_SEQPACKET | SOCK_NONBLOCK,
                                                CONTROL_CLIENTS_MAX, e);
                if (ctl_fd < 0) {
                        r = ctl_fd;
                        goto out;
                }
        }
        r = qmp_new_fd(TAKE_FD(client), NULL, &q);
        if (r < 0) {
                vl_error_set(e, -r, "QMP client: %s", strerror(-r));
                goto out;
        }
        s.q = q;
        (void) qmp_set_event_callback(q, on_event, &s);

        if (c->helper.name) {
                r = spawn_sandboxed(c->helper.path, c->helper.argv, c->helper.envp, &c->helper.sandbox,
                                    &s.helper_pid, &s.helper_pidfd, e);
                close_helper_fds(c); /* its copies, or it failed */
                helper_fds_open = false;
                if (r < 0) {
                        s.helper_pid = -1;
                        vl_error_prefix(e, "cannot start %s", c->helper.name);
                        goto out;
                }
                ret->helper_pid = s.helper_pid;
        }

        r = spawn_sandboxed(c->qemu_path, c->argv, c->envp, &c->sandbox, &s.pid, &pidfd, e);
        s.pidfd = pidfd;
        /* QEMU has its own copies now. Ours would keep its listeners open:
         * a QEMU that dies before accepting must reset our queued QMP
         * connection, and a tap must go with QEMU's last fd. */
        close_fds(c);
        if (r < 0) {
                vl_error_prefix(e, "cannot start QEMU");
                goto out;
        }
        ret->qemu_pid = s.pid;
        TRACE("QEMU spawned (pid %d)", (int) s.pid);
        if (c->on_started)
                c->on_started(c->userdata, &s, s.pid);

        r = start_up(&s, e);
        if (r == -ECHILD || (r < 0 && s.exited)) {
                fill_result(&s);
                if (r == -ECHILD && ret->helper_failed)
                        vl_error_set(e, ECHILD, "%s ended during start-up (%s %d): QEMU was stopped",
                                     c->helper.name, ret->helper_term_signal ? "signal" : "status",
                                     ret->helper_term_signal ? ret->helper_term_signal : ret->helper_exit_status);
                else if (r == -ECHILD)
                        vl_error_set(e, ECHILD, "QEMU exited during start-up (%s %d)",
                                     ret->term_signal ? "signal" : "status",
                                     ret->term_signal ? ret->term_signal : ret->exit_status);
                r = -ECHILD;
                goto out;
        }
        if (r < 0 && r != -EINTR) {
                /* Not ready in time, or refused: make sure it is gone. */
                enter_stage(&s, STAGE_QUIT);
                while (turn(&s, 0) == 0)
                        ;
                fill_result(&s);
                ret->outcome = SUP_START_FAILED;
                goto out;
        }
        if (r == 0)
                say(&s, "running (QEMU pid %d)%s%s", (int) s.pid,
                    c->ready_detail && c->ready_detail[0] ? "; " : "",
                    c->ready_detail ? c->ready_detail : "");

        while ((r = turn(&s, 0)) == 0)
                if (c->on_idle)
                        c->on_idle(c->userdata, &s);
        if (r < 0) {
                /* poll itself failed: never leave QEMU behind unsupervised. */
                (void) signal_qemu(&s, SIGKILL);
                kill_group(&s);
                (void) waitpid(s.pid, &s.wstatus, 0);
                s.exited = true;
        }
        fill_result(&s);
        if (s.tick_shown)
                fputc('\n', stderr);
        r = 0;
out:
        if (s.pid <= 0)
                close_fds(c); /* never spawned: they are still ours to close */
        if (s.pid > 0 && !s.exited) {
                (void) signal_qemu(&s, SIGKILL);
                kill_group(&s);
                (void) waitpid(s.pid, NULL, 0);
        }
        if (helper_fds_open)
                close_helper_fds(c); /* never spawned */
        stop_helper(&s);
        s.helper_pidfd = safe_close(s.helper_pidfd);
        if (ctl_fd >= 0)
                (void) unlink(c->control_path);
        (void) sigprocmask(SIG_SETMASK, &old, NULL);
        return r;
}
