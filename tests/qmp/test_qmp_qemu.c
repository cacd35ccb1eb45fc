/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libqmp against a real qemu-system-x86_64 (TCG). The QMP socket is created
 * and listened on here and handed to QEMU as an inherited fd, as libvirt
 * does (-chardev socket,fd=N,server=on,wait=off): no polling for a socket
 * file. The teardown always reaps QEMU, killing it by PID if a test failed.
 * Skipped (with the reason printed) when qemu-system-x86_64 is not in PATH.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include "vl_test.h"

#include "qmp.h"

#define QEMU_NAME "qemu-system-x86_64"
/* TCG on a loaded CI machine: far above the ~100 ms seen unloaded. */
#define TIMEOUT 15000

struct vm {
        pid_t pid;
        char dir[32];
        char sock[64];
        struct qmp *q;
};

static char qemu_path[PATH_MAX];

static bool find_qemu(void)
{
        const char *path = getenv("PATH") ?: "/usr/bin:/bin";
        char *copy = strdup(path), *save = NULL;
        bool found = false;

        assert_non_null(copy);
        for (char *d = strtok_r(copy, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
                snprintf(qemu_path, sizeof(qemu_path), "%s/%s", *d ? d : ".", QEMU_NAME);
                if (access(qemu_path, X_OK) == 0) {
                        found = true;
                        break;
                }
        }
        free(copy);
        return found;
}

static int setup(void **state)
{
        struct vm *vm = calloc(1, sizeof(*vm));

        assert_non_null(vm);
        vm->pid = -1;
        *state = vm;
        return 0;
}

static int teardown(void **state)
{
        struct vm *vm = *state;

        qmp_free(vm->q);
        if (vm->pid > 0) {
                (void) kill(vm->pid, SIGKILL);
                (void) waitpid(vm->pid, NULL, 0);
        }
        if (vm->sock[0])
                (void) unlink(vm->sock);
        if (vm->dir[0])
                (void) rmdir(vm->dir);
        free(vm);
        return 0;
}

/* Start QEMU under -S with the QMP listener as an inherited fd, connect. */
static void start_qemu(struct vm *vm, const char *const *machine)
{
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        char chardev[64];
        const char *argv[32];
        size_t n = 0;
        int lfd;

        if (!find_qemu())
                vl_skip(QEMU_NAME " not found in PATH");
        snprintf(vm->dir, sizeof(vm->dir), "/tmp/qmp-qemu-XXXXXX");
        assert_non_null(mkdtemp(vm->dir));
        snprintf(vm->sock, sizeof(vm->sock), "%s/qmp.sock", vm->dir);
        snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", vm->sock);
        lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        assert_true(lfd >= 0);
        assert_int_equal(bind(lfd, (struct sockaddr *) &sa, sizeof(sa)), 0);
        assert_int_equal(listen(lfd, 1), 0);

        snprintf(chardev, sizeof(chardev), "socket,id=mon,fd=%d,server=on,wait=off", lfd);
        argv[n++] = qemu_path;
        for (; *machine; machine++)
                argv[n++] = *machine;
        argv[n++] = "-nodefaults";
        argv[n++] = "-display";
        argv[n++] = "none";
        argv[n++] = "-S";
        argv[n++] = "-chardev";
        argv[n++] = chardev;
        argv[n++] = "-mon";
        argv[n++] = "chardev=mon,mode=control";
        argv[n] = NULL;

        vm->pid = fork();
        assert_true(vm->pid >= 0);
        if (vm->pid == 0) {
                int null = open("/dev/null", O_RDWR | O_CLOEXEC);

                /* The listener is the one fd QEMU must inherit. */
                if (null < 0 || dup2(null, STDIN_FILENO) < 0 || fcntl(lfd, F_SETFD, 0) < 0)
                        _exit(126);
                execv(qemu_path, (char *const *) argv);
                _exit(127);
        }
        /* QEMU holds the listener now; if it dies early, connect() is
         * refused or the handshake sees EOF instead of hanging. */
        close(lfd);
        assert_int_equal(qmp_connect_path(vm->sock, NULL, &vm->q), 0);
}

/* Wait for the named event, skipping others, within timeout_ms. */
static void expect_event(struct qmp *q, const char *name, struct qmp_event **ret)
{
        struct timespec t0, t1;

        clock_gettime(CLOCK_MONOTONIC, &t0);
        for (;;) {
                struct qmp_event *ev = NULL;
                long ms;

                clock_gettime(CLOCK_MONOTONIC, &t1);
                ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
                assert_true(ms < TIMEOUT);
                assert_int_equal(qmp_wait_event(q, (int) (TIMEOUT - ms), &ev), 1);
                if (strcmp(ev->name, name) == 0) {
                        if (ret)
                                *ret = ev;
                        else
                                qmp_event_free(ev);
                        return;
                }
                print_message("(skipping event %s while waiting for %s)\n", ev->name, name);
                qmp_event_free(ev);
        }
}

static void expect_status(struct qmp *q, const char *status)
{
        json_t *ret = NULL;

        assert_int_equal(qmp_execute_sync(q, "query-status", NULL, TIMEOUT, &ret, NULL), 0);
        assert_string_equal(json_string_value(json_object_get(ret, "status")), status);
        json_decref(ret);
}

/* quit → reply, SHUTDOWN (host-qmp-quit), EOF, exit status 0. */
static void quit_and_reap(struct vm *vm)
{
        struct qmp_event *ev = NULL;
        struct timespec t0, t1;
        int status;

        assert_int_equal(qmp_execute_sync(vm->q, "quit", NULL, TIMEOUT, NULL, NULL), 0);
        expect_event(vm->q, "SHUTDOWN", &ev);
        assert_string_equal(json_string_value(json_object_get(ev->data, "reason")),
                            "host-qmp-quit");
        assert_true(json_is_false(json_object_get(ev->data, "guest")));
        qmp_event_free(ev);
        assert_int_equal(qmp_wait_event(vm->q, TIMEOUT, &ev), -ECONNRESET);

        clock_gettime(CLOCK_MONOTONIC, &t0);
        for (;;) {
                pid_t p = waitpid(vm->pid, &status, WNOHANG);
                assert_true(p >= 0);
                if (p == vm->pid)
                        break;
                clock_gettime(CLOCK_MONOTONIC, &t1);
                assert_true(t1.tv_sec - t0.tv_sec < TIMEOUT / 1000);
                usleep(10 * 1000);
        }
        vm->pid = -1;
        assert_true(WIFEXITED(status));
        assert_int_equal(WEXITSTATUS(status), 0);
}

/* -machine none: handshake, prelaunch, version, CommandNotFound, quit. */
static void test_machine_none(void **state)
{
        static const char *const machine[] = { "-machine", "none", NULL };
        struct vm *vm = *state;
        struct qmp_error err;
        unsigned major, minor, micro;
        json_t *ret = NULL, *qemu;

        start_qemu(vm, machine);
        assert_int_equal(qmp_handshake(vm->q, TIMEOUT), 0);
        assert_int_equal(qmp_get_version(vm->q, &major, &minor, &micro), 0);
        print_message("QEMU %u.%u.%u (%s)\n", major, minor, micro,
                      qmp_get_package(vm->q) ?: "no package");
        assert_true(qmp_has_capability(vm->q, "oob"));

        expect_status(vm->q, "prelaunch");

        assert_int_equal(qmp_execute_sync(vm->q, "query-version", NULL, TIMEOUT, &ret, NULL), 0);
        qemu = json_object_get(ret, "qemu");
        assert_int_equal(json_integer_value(json_object_get(qemu, "major")), major);
        assert_int_equal(json_integer_value(json_object_get(qemu, "minor")), minor);
        assert_int_equal(json_integer_value(json_object_get(qemu, "micro")), micro);
        json_decref(ret);

        assert_int_equal(qmp_execute_sync(vm->q, "no-such-command", NULL, TIMEOUT, &ret, &err),
                         -EREMOTEIO);
        assert_string_equal(err.error_class, "CommandNotFound");
        print_message("error desc: %s\n", err.desc);

        quit_and_reap(vm);
}

/* q35 + TCG + 128 MiB: prelaunch, cont → RESUME, system_powerdown →
 * POWERDOWN, quit. */
static void test_q35(void **state)
{
        static const char *const machine[] = { "-machine", "q35", "-accel", "tcg", "-m", "128",
                                               NULL };
        struct vm *vm = *state;

        start_qemu(vm, machine);
        assert_int_equal(qmp_handshake(vm->q, TIMEOUT), 0);
        expect_status(vm->q, "prelaunch");
        assert_int_equal(qmp_execute_sync(vm->q, "cont", NULL, TIMEOUT, NULL, NULL), 0);
        expect_event(vm->q, "RESUME", NULL);
        expect_status(vm->q, "running");
        assert_int_equal(qmp_execute_sync(vm->q, "system_powerdown", NULL, TIMEOUT, NULL, NULL),
                         0);
        expect_event(vm->q, "POWERDOWN", NULL);
        quit_and_reap(vm);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_machine_none, setup, teardown),
                cmocka_unit_test_setup_teardown(test_q35, setup, teardown),
        };

        return vl_run_tests(tests, NULL, NULL);
}
