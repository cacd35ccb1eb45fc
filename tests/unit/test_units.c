/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * units: systemd units through sd-bus (host/units.c), and the hand-over's
 * unit step end to end (handover_apply() + host_undo()), against a D-Bus
 * STAND-IN for systemd: a private dbus-daemon in a temp folder and
 * systemd-standin (systemd_standin.c) owning org.freedesktop.systemd1 on
 * it with systemd's method and signal signatures. This machine runs no
 * systemd as PID 1; the launcher is pointed at the private bus by
 * handover_env.bus, which only tests set. Skipped (77) without dbus-daemon.
 *
 * Specified here: a running unit, a stopped one, one systemd does not know
 * (NoSuchUnit: not running); a stop and a start that wait for their job's
 * JobRemoved; a job that ends "failed" (-EIO, the result named); a job
 * that never ends (-ETIMEDOUT after the bound); no bus (an error naming
 * it); the hand-over stopping a unit, journaled, and host_undo() starting
 * it again, and leaving alone one that was not running.
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
#include <unistd.h>
#include <cmocka.h>
#include "vl_test.h"

#include "base/clock.h"
#include "host/handover.h"
#include "host/journal.h"
#include "host/undo.h"
#include "host/units.h"
#include "profile/profile.h"
#include "vl_tmp.h"

#ifndef STANDIN_PATH
#error "STANDIN_PATH: the systemd-standin binary"
#endif

struct bus {
        char top[256], address[420], sys[300], run[300];
        pid_t daemon, standin;
};

static struct bus B;

static pid_t spawn(const char *const argv[], const char *out)
{
        pid_t pid = fork();

        if (pid == 0) {
                int fd = open(out, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
                if (fd >= 0) {
                        dup2(fd, 1);
                        dup2(fd, 2);
                }
                execv(argv[0], (char *const *) argv);
                _exit(127);
        }
        return pid;
}

/* Up when GetUnit answers through the stand-in. */
static bool standin_up(void)
{
        struct vl_error e = {};

        return units_active(B.address, "gdm.service", &e) >= 0;
}

static int setup_bus(void **state)
{
        char conf[600], sock[300], out[600];
        FILE *f;

        (void) state;
        if (access("/usr/bin/dbus-daemon", X_OK) != 0) {
                fprintf(stderr, "SKIP: no /usr/bin/dbus-daemon (apt-get install dbus-daemon)\n");
                exit(77);
        }
        snprintf(B.top, sizeof(B.top), "/tmp/vl-test-units.XXXXXX");
        assert_non_null(mkdtemp(B.top));
        snprintf(sock, sizeof(sock), "%s/bus", B.top);
        snprintf(B.address, sizeof(B.address), "unix:path=%s", sock);
        snprintf(B.sys, sizeof(B.sys), "%s/sys", B.top);
        snprintf(B.run, sizeof(B.run), "%s/run", B.top);
        assert_int_equal(mkdir(B.sys, 0755), 0);
        snprintf(conf, sizeof(conf), "%s/bus.conf", B.top);
        f = fopen(conf, "w");
        assert_non_null(f);
        /* A bus of this test's own: anyone here may own and call anything. */
        fprintf(f, "<!DOCTYPE busconfig PUBLIC \"-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN\"\n"
                   " \"http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd\">\n"
                   "<busconfig><type>session</type><listen>unix:path=%s</listen><auth>EXTERNAL</auth>\n"
                   "<policy context=\"default\"><allow send_destination=\"*\"/><allow receive_sender=\"*\"/>"
                   "<allow own=\"*\"/></policy></busconfig>\n",
                sock);
        fclose(f);
        snprintf(out, sizeof(out), "%s/daemon.log", B.top);
        {
                char cf[620];
                const char *argv[] = { "/usr/bin/dbus-daemon", "--nofork", "--nopidfile", cf, NULL };
                snprintf(cf, sizeof(cf), "--config-file=%s", conf);
                B.daemon = spawn(argv, out);
        }
        for (int i = 0; i < 500 && access(sock, F_OK) != 0; i++)
                usleep(10000);
        assert_int_equal(access(sock, F_OK), 0);
        snprintf(out, sizeof(out), "%s/standin.log", B.top);
        {
                const char *argv[] = { STANDIN_PATH, B.address, "gdm.service=active", "sddm.service=inactive",
                                 "broken.service=active:failed", "slow.service=active:never", NULL };
                B.standin = spawn(argv, out);
        }
        for (int i = 0; i < 500 && !standin_up(); i++)
                usleep(10000);
        assert_true(standin_up());
        return 0;
}

static int teardown_bus(void **state)
{
        (void) state;
        if (B.standin > 0)
                kill(B.standin, SIGTERM), waitpid(B.standin, NULL, 0);
        if (B.daemon > 0)
                kill(B.daemon, SIGTERM), waitpid(B.daemon, NULL, 0);
        (void) vl_rm_tree(B.top);
        return 0;
}

static void test_active(void **state)
{
        struct vl_error e = {};

        (void) state;
        assert_int_equal(units_active(B.address, "gdm.service", &e), 1);
        assert_int_equal(units_active(B.address, "sddm.service", &e), 0);
        assert_int_equal(units_active(B.address, "nosuch.service", &e), 0);
}

static void test_stop_start(void **state)
{
        struct vl_error e = {};
        uint64_t t0 = clock_ms();

        (void) state;
        if (units_change(B.address, "gdm.service", false, 5000, &e) < 0)
                fail_msg("stop: %s", e.msg);
        assert_int_equal(units_active(B.address, "gdm.service", &e), 0);
        if (units_change(B.address, "gdm.service", true, 5000, &e) < 0)
                fail_msg("start: %s", e.msg);
        assert_int_equal(units_active(B.address, "gdm.service", &e), 1);
        assert_true(clock_ms() - t0 < 5000);
}

static void test_job_failed_and_timeout(void **state)
{
        struct vl_error e = {};
        uint64_t t0;

        (void) state;
        assert_int_equal(units_change(B.address, "broken.service", false, 5000, &e), -EIO);
        assert_non_null(strstr(e.msg, "StopUnit(\"broken.service\"): the job ended \"failed\""));
        assert_int_equal(units_active(B.address, "broken.service", &e), 1);

        t0 = clock_ms();
        e = (struct vl_error) {};
        assert_int_equal(units_change(B.address, "slow.service", false, 300, &e), -ETIMEDOUT);
        assert_true(clock_ms() - t0 >= 300);
        assert_true(clock_ms() - t0 < 3000);

        e = (struct vl_error) {};
        assert_true(units_change(B.address, "nosuch.service", false, 1000, &e) < 0);
        assert_non_null(strstr(e.msg, "NoSuchUnit"));
}

static void test_no_bus(void **state)
{
        struct vl_error e = {};
        char addr[500];

        (void) state;
        snprintf(addr, sizeof(addr), "unix:path=%s/nobus", B.top);
        assert_true(units_active(addr, "gdm.service", &e) < 0);
        assert_non_null(strstr(e.msg, "cannot connect to systemd's bus"));
}

/* The hand-over's unit step through the real sd-bus code: journaled,
 * stopped, started again by host_undo(); a unit that was not running is
 * neither stopped nor started. */
static void test_handover_units(void **state)
{
        struct host_roots roots = { .sysfs = B.sys, .dev = "/nonexistent", .proc = "/proc", .run = B.run };
        _cleanup_free_ struct handover_plan *plan = calloc(1, sizeof(*plan));
        _cleanup_free_ struct journal *j = calloc(1, sizeof(*j));
        struct host_env env;
        struct profile p;
        struct vl_error e = {};
        char log[600], buf[4096] = "";
        FILE *f;

        struct stat st;
        long start;

        (void) state;
        snprintf(log, sizeof(log), "%s/standin.log", B.top);
        assert_int_equal(stat(log, &st), 0);
        start = (long) st.st_size;
        host_env_init(&env, &roots);
        env.handover.bus = B.address;
        profile_init(&p, "single");
        p.allow_boot_vga = true;
        p.n_hostdevs = 1;
        p.host_handover = (struct profile_handover) { .enabled = true, .n_units = 2 };
        snprintf(p.host_handover.units[0], PROFILE_UNIT_NAME_MAX, "sddm.service");
        snprintf(p.host_handover.units[1], PROFILE_UNIT_NAME_MAX, "gdm.service");
        if (handover_plan(&env.handover, &p, plan, &e) < 0)
                fail_msg("plan: %s", e.msg);
        assert_int_equal(plan->n, 2);
        assert_false(plan->steps[0].take);
        assert_true(plan->steps[1].take);
        if (handover_apply(&env.handover, "single", plan, &e) < 0)
                fail_msg("apply: %s", e.msg);
        assert_int_equal(units_active(B.address, "gdm.service", &e), 0);
        assert_int_equal(journal_load(&roots, "single", j, &e), 0);
        assert_int_equal(j->n_entries, 1);
        assert_string_equal(j->entries[0].handover.name, "gdm.service");
        if (host_undo(&env, "single", &e, NULL) < 0)
                fail_msg("undo: %s", e.msg);
        assert_int_equal(units_active(B.address, "gdm.service", &e), 1);
        assert_int_equal(units_active(B.address, "sddm.service", &e), 0);
        assert_int_equal(journal_load(&roots, "single", j, &e), -ENOENT);

        /* What the stand-in was asked since this test began, in order:
         * gdm stopped then started, never sddm. */
        f = fopen(log, "r");
        assert_non_null(f);
        assert_int_equal(fseek(f, start, SEEK_SET), 0);
        (void) !fread(buf, 1, sizeof(buf) - 1, f);
        fclose(f);
        assert_null(strstr(buf, "StopUnit sddm.service"));
        assert_null(strstr(buf, "StartUnit sddm.service"));
        assert_non_null(strstr(buf, "StopUnit gdm.service replace"));
        assert_non_null(strstr(strstr(buf, "StopUnit gdm.service replace"), "StartUnit gdm.service replace"));
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_active),
                cmocka_unit_test(test_stop_start),
                cmocka_unit_test(test_job_failed_and_timeout),
                cmocka_unit_test(test_no_bus),
                cmocka_unit_test(test_handover_units),
        };
        return cmocka_run_group_tests(tests, setup_bus, teardown_bus);
}
