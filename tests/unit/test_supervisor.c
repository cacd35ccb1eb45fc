/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The supervisor against a real QEMU (`-machine none`, TCG, no guest): the
 * sandbox seen from /proc while QEMU runs, the stop ladder through the
 * control socket (a machine without ACPI ignores the power button, so the
 * timeout → quit rung is taken), kill -9 of QEMU, a device QEMU refuses, and
 * SIGTERM to the supervisor during start-up. The graceful ACPI path with a
 * real guest kernel lives in tests/lifecycle.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>
#include "vl_test.h"

#include "qmp.h"
#include "run/supervisor.h"

#define QEMU "/usr/bin/qemu-system-x86_64"

static char dir[64];
static char qmp_path[128], ctl_path[128];
static char proc_status[8192];

static int setup(void **state)
{
        snprintf(dir, sizeof(dir), "/tmp/vl-sup-XXXXXX");
        if (!mkdtemp(dir))
                return -1;
        chmod(dir, 0755);
        snprintf(qmp_path, sizeof(qmp_path), "%s/qmp.sock", dir);
        snprintf(ctl_path, sizeof(ctl_path), "%s/control.sock", dir);
        return 0;
}

static int teardown(void **state)
{
        unlink(qmp_path);
        unlink(ctl_path);
        rmdir(dir);
        return 0;
}

/* A configuration with a fresh private QMP socket, as the launcher makes
 * it: the listener at fd 3 in QEMU (QEMU_ARGV says so), our end in the
 * config; sup_run() takes both. */
static void config(struct sup_config *c, char *const *argv)
{
        static char *const envp[] = { (char *) "PATH=/usr/bin:/bin", NULL };
        struct vl_error e = {};
        int client = -1, listener = -1;

        if (sup_qmp_open(qmp_path, &listener, &client, &e) < 0)
                fail_msg("sup_qmp_open: %s", e.msg);
        *c = (struct sup_config) {
                .name = "suptest",
                .qemu_path = QEMU,
                .argv = argv,
                .envp = envp,
                .sandbox = {
                        .uid = geteuid() == 0 ? 65534 : getuid(),
                        .gid = geteuid() == 0 ? 65534 : getgid(),
                        .stdin_fd = -1, .stdout_fd = -1, .stderr_fd = -1,
                        .parent = getpid(), .seccomp = true,
                        .n_fds = 1, .fds = { listener },
                },
                .qmp_client = client,
                .control_path = ctl_path,
                .shutdown_timeout_s = 1,
                .start_timeout_ms = 60000, /* the launcher's own: QEMU starts slowly on a loaded machine */
                .quit_timeout_ms = 3000,
        };
}

#define QEMU_ARGV(...)                                                                     \
        {                                                                                  \
                (char *) "qemu-system-x86_64", (char *) "-machine", (char *) "none",       \
                        (char *) "-nodefaults", (char *) "-display", (char *) "none",      \
                        (char *) "-S", (char *) "-chardev",                                \
                        (char *) "socket,id=charmonitor,fd=3,server=on,wait=off",          \
                        (char *) "-mon", (char *) "chardev=charmonitor,mode=control",      \
                        (char *) "-sandbox",                                               \
                        (char *) "on,obsolete=deny,elevateprivileges=deny,spawn=deny,"     \
                                 "resourcecontrol=deny",                                   \
                        __VA_ARGS__ NULL                                                   \
        }

/* sup_run() succeeded, or the test fails saying what sup_run() said. */
#define assert_sup_ok(r, e)                                                          \
        do {                                                                         \
                int r_ = (r);                                                        \
                if (r_ != 0)                                                         \
                        print_message("sup_run: %d: %s\n", r_, (e)->msg);          \
                assert_int_equal(r_, 0);                                             \
        } while (0)

static int read_status(void *userdata, struct qmp *q, pid_t pid, struct vl_error *e)
{
        char path[64];
        int fd;
        ssize_t n;

        snprintf(path, sizeof(path), "/proc/%d/status", (int) pid);
        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        n = read(fd, proc_status, sizeof(proc_status) - 1);
        close(fd);
        proc_status[n > 0 ? n : 0] = '\0';
        return 0;
}

static const char *field(const char *name)
{
        static char val[128];
        char key[64];
        const char *s;

        snprintf(key, sizeof(key), "\n%s:", name);
        s = strstr(proc_status, key);
        if (!s)
                return "";
        s += strlen(key);
        while (*s == '\t' || *s == ' ')
                s++;
        snprintf(val, sizeof(val), "%.*s", (int) strcspn(s, "\n"), s);
        return val;
}

/* In a helper child: wait until the VM's status says "running", at most
 * the config's start_timeout_ms (60 s). */
static void wait_running(void)
{
        char buf[512];

        for (int i = 0; i < 1200; i++) {
                struct timespec ts = { 0, 50000000L };

                if (sup_control_request(ctl_path, "status", buf, sizeof(buf), 2000) == 0 &&
                    strstr(buf, "\"state\":\"running\""))
                        return;
                nanosleep(&ts, NULL);
        }
}

/* A child that sends `command` to the control socket delay_ms after the
 * VM is running (its status says so: QEMU's start takes seconds on a loaded
 * machine, and a stop before "running" is another path), or a signal to
 * the test process after delay_ms when command is NULL. */
static pid_t later(unsigned delay_ms, const char *command, int sig)
{
        pid_t parent = getpid(), pid = fork();

        if (pid == 0) {
                struct timespec ts = { delay_ms / 1000, (long) (delay_ms % 1000) * 1000000L };
                char buf[512];

                if (command)
                        wait_running();
                nanosleep(&ts, NULL);
                if (command) {
                        for (int i = 0; i < 100; i++) {
                                if (sup_control_request(ctl_path, command, buf, sizeof(buf), 2000) == 0)
                                        _exit(strcmp(buf, "ok") == 0 || buf[0] == '{' ? 0 : 1);
                                ts = (struct timespec) { 0, 50000000L };
                                nanosleep(&ts, NULL);
                        }
                        _exit(2);
                }
                kill(parent, sig);
                _exit(0);
        }
        return pid;
}

static void test_sandboxed_and_stopped_by_control(void **state)
{
        char *const argv[] = QEMU_ARGV();
        struct sup_config c;
        struct sup_result res;
        struct vl_error e = {};
        pid_t helper;
        int st;

        if (access(QEMU, X_OK) < 0)
                vl_skip(QEMU " not installed");
        config(&c, argv);
        c.before_cont = read_status;
        c.quit_timeout_ms = 20000; /* the outcome is a quit, however slow the machine */
        helper = later(300, "stop", 0);
        assert_sup_ok(sup_run(&c, &res, &e), &e);
        assert_int_equal(waitpid(helper, &st, 0), helper);
        assert_int_equal(WEXITSTATUS(st), 0);

        /* -machine none has no ACPI: the button is ignored, quit follows. */
        assert_int_equal(res.outcome, SUP_FORCED);
        assert_int_equal(res.exit_status, 0);
        assert_string_equal(res.shutdown_reason, "host-qmp-quit");

        if (geteuid() == 0)
                assert_string_equal(field("Uid"), "65534\t65534\t65534\t65534");
        assert_string_equal(field("CapEff"), "0000000000000000");
        if (geteuid() == 0)
                assert_string_equal(field("CapBnd"), "0000000000000000");
        assert_string_equal(field("NoNewPrivs"), "1");
        assert_string_equal(field("Seccomp"), "2");
        /* ours + QEMU's own -sandbox */
        assert_string_equal(field("Seccomp_filters"), "2");
        assert_int_equal(access(qmp_path, F_OK), -1);
        assert_int_equal(access(ctl_path, F_OK), -1);
}

static int kill_qemu(void *userdata, struct qmp *q, pid_t pid, struct vl_error *e)
{
        kill(pid, SIGKILL);
        return 0;
}

static void test_qemu_killed(void **state)
{
        char *const argv[] = QEMU_ARGV();
        struct sup_config c;
        struct sup_result res;
        struct vl_error e = {};
        int r;

        if (access(QEMU, X_OK) < 0)
                vl_skip(QEMU " not installed");
        config(&c, argv);
        c.before_cont = kill_qemu;
        r = sup_run(&c, &res, &e);
        /* Killed between ready and cont, or right after cont: either way a
         * QEMU that died of SIGKILL. */
        if (r == 0) {
                assert_int_equal(res.outcome, SUP_QEMU_FAILED);
        } else {
                assert_int_equal(r, -ECHILD);
        }
        assert_int_equal(res.term_signal, SIGKILL);
}

/* A "QEMU" that closes its monitor before the greeting and lives on: the
 * start-up ends within its bounds (no greeting, then quit_timeout), and the
 * process is stopped by the ladder. Before, the loop waited for it forever.
 * The alarm makes a hang fail the test instead of ctest's timeout. */
static void test_monitor_closed_qemu_alive(void **state)
{
        char *const argv[] = { (char *) "sh", (char *) "-c", (char *) "exec 3<&-; exec sleep 120", NULL };
        struct sup_config c;
        struct sup_result res;
        struct vl_error e = {};

        config(&c, argv);
        c.qemu_path = "/bin/sh";
        c.quit_timeout_ms = 500;
        alarm(60);
        assert_true(sup_run(&c, &res, &e) < 0);
        alarm(0);
        assert_int_equal(res.outcome, SUP_START_FAILED);
        assert_non_null(strstr(e.msg, "closed QMP before its greeting"));
        /* It did not exit by itself: the ladder ended it. */
        assert_true(res.term_signal == SIGTERM || res.term_signal == SIGKILL);
}

/* Whether pid ends within 5 s: no longer in /proc, or a zombie (killed,
 * waiting for its new parent to reap it). */
static bool gone(pid_t pid)
{
        for (int i = 0; i < 250; i++) {
                char path[64], stat[512] = "";
                FILE *f;

                snprintf(path, sizeof(path), "/proc/%d/stat", (int) pid);
                f = fopen(path, "re");
                if (!f)
                        return true;
                if (!fgets(stat, sizeof(stat), f))
                        stat[0] = '\0';
                fclose(f);
                if (strstr(stat, ") Z "))
                        return true;
                usleep(20000);
        }
        return false;
}

/* When QEMU is gone, so is its process group: a child it left behind
 * (here one that ignores SIGTERM) does not outlive the run. */
static void test_process_group_killed(void **state)
{
        char *const argv[] = { (char *) "sh", (char *) "-c",
                               (char *) "exec 3<&-; trap '' TERM; sleep 120 & echo $!; exec sleep 120", NULL };
        struct sup_config c;
        struct sup_result res;
        struct vl_error e = {};
        char buf[32] = "";
        int p[2];
        pid_t left;

        assert_int_equal(pipe2(p, O_CLOEXEC), 0);
        config(&c, argv);
        c.qemu_path = "/bin/sh";
        c.quit_timeout_ms = 500;
        c.sandbox.stdout_fd = p[1];
        alarm(60);
        assert_true(sup_run(&c, &res, &e) < 0);
        alarm(0);
        close(p[1]);
        assert_true(read(p[0], buf, sizeof(buf) - 1) > 0);
        close(p[0]);
        left = (pid_t) atoi(buf);
        assert_true(left > 1);
        assert_true(gone(left));
}

static void test_bad_device(void **state)
{
        char *const argv[] = QEMU_ARGV((char *) "-device", (char *) "no-such-device,id=x",);
        struct sup_config c;
        struct sup_result res;
        struct vl_error e = {};

        if (access(QEMU, X_OK) < 0)
                vl_skip(QEMU " not installed");
        config(&c, argv);
        assert_int_equal(sup_run(&c, &res, &e), -ECHILD);
        assert_int_equal(res.outcome, SUP_START_FAILED);
        assert_int_equal(res.exit_status, 1);
        assert_non_null(strstr(e.msg, "QEMU exited during start-up"));
}

static void test_sigterm_during_startup(void **state)
{
        /* -S with a long wait for QMP: a huge -m under TCG takes a while
         * to set up; the signal comes before it is ready or right after. */
        char *const argv[] = QEMU_ARGV();
        struct sup_config c;
        struct sup_result res;
        struct vl_error e = {};
        pid_t helper;
        int r;

        if (access(QEMU, X_OK) < 0)
                vl_skip(QEMU " not installed");
        config(&c, argv);
        c.before_cont = NULL;
        /* Blocked before the killer starts: a signal that arrives before
         * sup_run() blocks it itself would end this test process. Pending,
         * it is read by the supervisor's signalfd like one that comes later. */
        sigset_t term, old;
        sigemptyset(&term);
        sigaddset(&term, SIGTERM);
        sigprocmask(SIG_BLOCK, &term, &old);
        helper = later(0, NULL, SIGTERM);
        waitpid(helper, NULL, 0);
        r = sup_run(&c, &res, &e);
        sigprocmask(SIG_SETMASK, &old, NULL);
        assert_true(r == 0 || r == -EINTR);
        assert_int_equal(res.outcome, SUP_FORCED);
}

static void test_control_status(void **state)
{
        char *const argv[] = QEMU_ARGV();
        struct sup_config c;
        struct sup_result res;
        struct vl_error e = {};
        pid_t helper, stopper;
        int st;

        if (access(QEMU, X_OK) < 0)
                vl_skip(QEMU " not installed");
        config(&c, argv);
        helper = later(300, "status", 0);
        stopper = later(800, "stop-force", 0);
        assert_sup_ok(sup_run(&c, &res, &e), &e);
        assert_int_equal(waitpid(helper, &st, 0), helper);
        assert_int_equal(WEXITSTATUS(st), 0);
        assert_int_equal(waitpid(stopper, &st, 0), stopper);
        assert_int_equal(WEXITSTATUS(st), 0);
        assert_int_equal(res.outcome, SUP_FORCED);
}

static char hook_marker[128]; /* exists while the hook runs */

enum when { AT_ONCE, HOOK_RUNNING, HOOK_DONE };

/* A child that sends `command` delay_ms after the VM is running (and once
 * the hook runs, or once it is done) and exits 0 when the reply contains
 * `want`, 1 when it does not (the reply goes to stderr), 2 when it got
 * none. */
static pid_t later_expect(unsigned delay_ms, enum when when, const char *command, const char *want)
{
        pid_t pid = fork();

        if (pid == 0) {
                struct timespec ts = { delay_ms / 1000, (long) (delay_ms % 1000) * 1000000L };
                char buf[2048];

                wait_running();
                nanosleep(&ts, NULL);
                for (int i = 0; when != AT_ONCE && access(hook_marker, F_OK) < 0 && i < 400; i++) {
                        ts = (struct timespec) { 0, 25000000L };
                        nanosleep(&ts, NULL);
                }
                for (int i = 0; when == HOOK_DONE && access(hook_marker, F_OK) == 0 && i < 400; i++) {
                        ts = (struct timespec) { 0, 25000000L };
                        nanosleep(&ts, NULL);
                }
                for (int i = 0; i < 100; i++) {
                        if (sup_control_request(ctl_path, command, buf, sizeof(buf), 10000) == 0) {
                                if (strstr(buf, want))
                                        _exit(0);
                                fprintf(stderr, "%s -> %s\n", command, buf);
                                _exit(1);
                        }
                        ts = (struct timespec) { 0, 50000000L };
                        nanosleep(&ts, NULL);
                }
                _exit(2);
        }
        return pid;
}

static char hook_request[256], hook_status[64];
static int hook_wait_result, status_served, served_during_hook;

static bool never(void *data)
{
        return false;
}

/* Stands in for hotplug.c: one QMP command through the supervisor, then a
 * wait during which the loop must keep serving the control socket. */
static void hook(void *userdata, struct sup *s, const char *request, char *reply, size_t size)
{
        struct vl_error e = {};
        json_t *ret = NULL;

        const char *st;
        int fd;

        snprintf(hook_request, sizeof(hook_request), "%s", request);
        if (sup_execute(s, "query-status", NULL, 5000, &ret, &e) == 0) {
                st = json_string_value(json_object_get(ret, "status"));
                snprintf(hook_status, sizeof(hook_status), "%s", st ? st : "?");
        }
        json_decref(ret);
        fd = open(hook_marker, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
        if (fd >= 0)
                close(fd);
        hook_wait_result = sup_wait(s, never, NULL, 3000);
        served_during_hook = status_served;
        unlink(hook_marker);
        snprintf(reply, size, "ok: done");
}

static void count_status(void *userdata, char *buf, size_t size)
{
        status_served++;
        snprintf(buf, size, "\"extra\":1");
}

static void test_control_hotplug(void **state)
{
        char *const argv[] = QEMU_ARGV();
        struct sup_config c;
        struct sup_result res;
        struct vl_error e = {};
        pid_t detach, status, busy, usb_busy, stopper;
        int st;

        if (access(QEMU, X_OK) < 0)
                vl_skip(QEMU " not installed");
        config(&c, argv);
        c.hotplug = hook;
        c.status_extra = count_status;
        snprintf(hook_marker, sizeof(hook_marker), "%s/hook", dir);
        detach = later_expect(300, AT_ONCE, "detach 1000 gpu", "ok: done");
        status = later_expect(0, HOOK_RUNNING, "status", "\"extra\":1}");
        busy = later_expect(0, HOOK_RUNNING, "attach gpu", "error: another detach or attach is in progress");
        /* A USB device's request goes the same way, one at a time. */
        usb_busy = later_expect(0, HOOK_RUNNING, "usb attach usbhost0",
                                "error: another detach or attach is in progress");
        stopper = later_expect(0, HOOK_DONE, "stop-force", "ok");
        assert_sup_ok(sup_run(&c, &res, &e), &e);
        for (pid_t *p = (pid_t[]) { detach, status, busy, usb_busy, stopper, 0 }; *p; p++) {
                assert_int_equal(waitpid(*p, &st, 0), *p);
                assert_int_equal(WEXITSTATUS(st), 0);
        }
        assert_string_equal(hook_request, "detach 1000 gpu");
        assert_string_equal(hook_status, "running");
        assert_int_equal(hook_wait_result, -ETIMEDOUT);
        assert_true(served_during_hook >= 1); /* the loop went on while the hook waited */
        assert_int_equal(res.outcome, SUP_FORCED);
}

/* No hook (a VM without hostdevs): refused with a line that says so. */
static void test_control_hotplug_unavailable(void **state)
{
        char *const argv[] = QEMU_ARGV();
        struct sup_config c;
        struct sup_result res;
        struct vl_error e = {};
        pid_t detach, stopper;
        int st;

        if (access(QEMU, X_OK) < 0)
                vl_skip(QEMU " not installed");
        config(&c, argv);
        detach = later_expect(300, AT_ONCE, "detach 1000 gpu", "error: live detach and attach are not available");
        stopper = later_expect(900, AT_ONCE, "stop-force", "ok");
        assert_sup_ok(sup_run(&c, &res, &e), &e);
        assert_int_equal(waitpid(detach, &st, 0), detach);
        assert_int_equal(WEXITSTATUS(st), 0);
        assert_int_equal(waitpid(stopper, &st, 0), stopper);
        assert_int_equal(WEXITSTATUS(st), 0);
}

/* A q35 machine under TCG has the ACPI power button: each press is echoed
 * as a POWERDOWN event. SeaBIOS with no OS ignores it, so the timeout rung
 * follows; with a repeat delay shorter than the timeout, two presses. */
static void presses(unsigned repeat_ms, unsigned want)
{
        char *const argv[] = { (char *) "qemu-system-x86_64", (char *) "-machine", (char *) "q35",
                               (char *) "-accel", (char *) "tcg", (char *) "-m", (char *) "64",
                               (char *) "-nodefaults", (char *) "-display", (char *) "none",
                               (char *) "-S", (char *) "-chardev",
                               (char *) "socket,id=charmonitor,fd=3,server=on,wait=off",
                               (char *) "-mon", (char *) "chardev=charmonitor,mode=control", NULL };
        struct sup_config c;
        struct sup_result res;
        struct vl_error e = {};
        pid_t helper;

        if (access(QEMU, X_OK) < 0)
                vl_skip(QEMU " not installed");
        config(&c, argv);
        c.shutdown_timeout_s = 2;
        c.powerdown_repeat_ms = repeat_ms;
        c.quit_timeout_ms = 20000;
        helper = later(500, "stop", 0);
        assert_sup_ok(sup_run(&c, &res, &e), &e);
        waitpid(helper, NULL, 0);
        assert_int_equal(res.outcome, SUP_FORCED);
        assert_int_equal(res.powerdown_presses, want);
}

static void test_powerdown_pressed_twice(void **state)
{
        presses(700, 2);
}

static void test_powerdown_pressed_once(void **state)
{
        presses(0, 1);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_sandboxed_and_stopped_by_control, setup, teardown),
                cmocka_unit_test_setup_teardown(test_qemu_killed, setup, teardown),
                cmocka_unit_test_setup_teardown(test_monitor_closed_qemu_alive, setup, teardown),
                cmocka_unit_test_setup_teardown(test_process_group_killed, setup, teardown),
                cmocka_unit_test_setup_teardown(test_bad_device, setup, teardown),
                cmocka_unit_test_setup_teardown(test_sigterm_during_startup, setup, teardown),
                cmocka_unit_test_setup_teardown(test_control_status, setup, teardown),
                cmocka_unit_test_setup_teardown(test_control_hotplug, setup, teardown),
                cmocka_unit_test_setup_teardown(test_control_hotplug_unavailable, setup, teardown),
                cmocka_unit_test_setup_teardown(test_powerdown_pressed_twice, setup, teardown),
                cmocka_unit_test_setup_teardown(test_powerdown_pressed_once, setup, teardown),
        };
        return vl_run_tests(tests, NULL, NULL);
}
