/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * run/swtpm and the supervisor's helper, against the real programs:
 *   - swtpm's and swtpm_setup's command lines (pure builders);
 *   - the manufacturing with the real swtpm_setup as nobody: made once,
 *     then used as it is (same inode), nothing left of the staging folder
 *     or its CA; a failing swtpm_setup leaves no state;
 *   - swtpm as the supervisor's helper next to a real QEMU with a tpm-crb
 *     on the socket pair: its sandbox seen in /proc (nobody, no
 *     capabilities, NoNewPrivs, two seccomp filters: the launcher's and
 *     its own), gone with QEMU; kill -9 of swtpm ends the run as a crash;
 *     a helper that cannot start leaves no QEMU.
 * Needs root (the programs run as nobody) and swtpm, swtpm-tools, QEMU.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base/clock.h"
#include "run/supervisor.h"
#include "run/swtpm.h"
#include "vl_test.h"

#define QEMU "/usr/bin/qemu-system-x86_64"
#define NOBODY 65534

static char top[64], state_dir[128], qmp_path[160], ctl_path[160];

static int setup(void **st)
{
        (void) st;
        snprintf(top, sizeof(top), "/tmp/vl-swtpm-XXXXXX");
        if (!mkdtemp(top) || chmod(top, 0755) < 0)
                return -1;
        snprintf(state_dir, sizeof(state_dir), "%s/lib", top);
        snprintf(qmp_path, sizeof(qmp_path), "%s/qmp.sock", top);
        snprintf(ctl_path, sizeof(ctl_path), "%s/control.sock", top);
        return mkdir(state_dir, 0755);
}

static int teardown(void **st)
{
        char cmd[128];

        (void) st;
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", top);
        return system(cmd) == 0 ? 0 : -1;
}

static void test_argv(void **st)
{
        static const char *const want[] = { "/usr/bin/swtpm", "socket", "--tpm2", "--tpmstate",
                                            "dir=/var/lib/vfio-launch/win11/tpm,mode=0600", "--ctrl",
                                            "type=unixio,clientfd=3", "--terminate", "--seccomp", "action=kill" };
        static const char *const want_setup[] = {
                "/usr/bin/swtpm_setup", "--tpm2", "--tpm-state", "/s/state", "--config", "/s/swtpm_setup.conf",
                "--createek", "--create-ek-cert", "--create-platform-cert", "--lock-nvram", "--not-overwrite",
                "--vmid", "win11",
        };
        struct swtpm_cmd c;
        struct vl_error e = {};

        (void) st;
        assert_int_equal(swtpm_argv("/usr/bin/swtpm", "/var/lib/vfio-launch/win11/tpm", &c, &e), 0);
        assert_int_equal(c.argc, sizeof(want) / sizeof(want[0]));
        for (unsigned i = 0; i < c.argc; i++)
                assert_string_equal(c.argv[i], want[i]);
        assert_null(c.argv[c.argc]);
        /* swtpm's options have no escape for a comma */
        assert_int_equal(swtpm_argv("/usr/bin/swtpm", "/srv/a,b/tpm", &c, &e), -EINVAL);
        assert_int_equal(swtpm_setup_argv("/usr/bin/swtpm_setup", "/s/state", "/s/swtpm_setup.conf", "win11", &c, &e),
                         0);
        assert_int_equal(c.argc, sizeof(want_setup) / sizeof(want_setup[0]));
        for (unsigned i = 0; i < c.argc; i++)
                assert_string_equal(c.argv[i], want_setup[i]);
        assert_null(c.argv[c.argc]);
}

static void need(void)
{
        if (geteuid() != 0)
                vl_skip("needs root: swtpm runs as nobody");
        if (access("/usr/bin/swtpm", X_OK) < 0 || access("/usr/bin/swtpm_setup", X_OK) < 0)
                vl_skip("swtpm and swtpm-tools not installed");
}

static struct sandbox_config nobody(void)
{
        return (struct sandbox_config) {
                .uid = NOBODY, .gid = NOBODY, .stdin_fd = -1, .stdout_fd = -1, .stderr_fd = -1,
                .parent = getpid(), .seccomp = true,
        };
}

static void plan(const char *name, struct swtpm_plan *t)
{
        struct profile p;
        struct vl_error e = {};

        profile_init(&p, name);
        p.tpm.enabled = true;
        if (swtpm_plan(&p, state_dir, "/usr/bin:/bin", t, &e) < 0)
                fail_msg("swtpm_plan: %s", e.msg);
}

static void test_manufacture(void **st)
{
        struct sandbox_config c;
        struct swtpm_plan *t = test_malloc(sizeof(*t));
        struct vl_error e = {};
        struct stat a, b;
        char path[4096];
        uint64_t t0;
        int r;

        (void) st;
        need();
        c = nobody();
        plan("vm", t);
        t0 = clock_ms();
        r = swtpm_manufacture(t, "vm", &c, SWTPM_SETUP_TIMEOUT_MS, &e);
        if (r < 0)
                fail_msg("swtpm_manufacture: %s", e.msg);
        assert_int_equal(r, 1);
        printf("swtpm_setup manufactured the TPM in %llu ms\n", (unsigned long long) (clock_ms() - t0));
        assert_int_equal(lstat(t->state, &a), 0);
        assert_true(S_ISDIR(a.st_mode));
        assert_int_equal(a.st_uid, NOBODY);
        assert_int_equal(a.st_mode & 07777, 0700);
        snprintf(path, sizeof(path), "%s/tpm2-00.permall", t->state);
        assert_int_equal(access(path, F_OK), 0);
        /* the staging folder, CA key included, is gone: only tpm/ is left */
        snprintf(path, sizeof(path), "test \"$(ls -A '%s/vm')\" = tpm", state_dir);
        assert_int_equal(system(path), 0);

        /* again: used as it is, swtpm_setup not run */
        assert_int_equal(swtpm_manufacture(t, "vm", &c, SWTPM_SETUP_TIMEOUT_MS, &e), 0);
        assert_int_equal(lstat(t->state, &b), 0);
        assert_int_equal(a.st_ino, b.st_ino);

        /* a state of another user is refused, not replaced */
        c.uid = c.gid = NOBODY - 1;
        assert_int_equal(swtpm_manufacture(t, "vm", &c, SWTPM_SETUP_TIMEOUT_MS, &e), -EPERM);
        assert_int_equal(lstat(t->state, &b), 0);
        assert_int_equal(a.st_ino, b.st_ino);
        test_free(t);
}

/* swtpm_setup fails: no state, no staging folder. */
static void test_manufacture_fails(void **st)
{
        struct sandbox_config c;
        struct swtpm_plan *t = test_malloc(sizeof(*t));
        struct vl_error e = {};
        char path[4096];

        (void) st;
        need();
        c = nobody();
        plan("broken", t);
        snprintf(t->tools.swtpm_setup, sizeof(t->tools.swtpm_setup), "/bin/false");
        assert_int_equal(swtpm_manufacture(t, "broken", &c, SWTPM_SETUP_TIMEOUT_MS, &e), -EIO);
        assert_string_equal(e.msg, "swtpm_setup failed (exit status 1): its messages are in the VM's log");
        snprintf(path, sizeof(path), "test -z \"$(ls -A '%s/broken')\"", state_dir);
        assert_int_equal(system(path), 0);
        /* one that does not finish in time is killed, with what it started */
        snprintf(t->tools.swtpm_setup, sizeof(t->tools.swtpm_setup), "%s/hang", top);
        snprintf(path, sizeof(path), "printf '#!/bin/sh\\nsleep 100 & sleep 100\\n' > '%s' && chmod 0755 '%s'",
                 t->tools.swtpm_setup, t->tools.swtpm_setup);
        assert_int_equal(system(path), 0);
        snprintf(path, sizeof(path), "test -z \"$(ls -A '%s/broken')\"", state_dir);
        assert_int_equal(swtpm_manufacture(t, "broken", &c, 300, &e), -ETIMEDOUT);
        assert_string_equal(e.msg, "swtpm_setup did not finish within 0 s: killed");
        assert_int_equal(system(path), 0);
        assert_int_equal(system("! pgrep -u 65534 -f '^sleep 100$'"), 0);
        test_free(t);
}

/* ---- swtpm next to QEMU ----------------------------------------------------------- */

struct run {
        struct sup_config c;
        struct sup_result res;
        struct swtpm_plan t;
        char *qemu_argv[32];
        char status[8192];     /* swtpm's /proc/PID/status before cont */
        bool kill_helper;
};

static void read_file(const char *path, char *buf, size_t size)
{
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        ssize_t n = fd >= 0 ? read(fd, buf, size - 1) : -1;

        buf[n > 0 ? n : 0] = '\0';
        if (fd >= 0)
                close(fd);
}

static const char *field(const char *text, const char *name)
{
        static char val[128];
        char key[64];
        const char *s;

        snprintf(key, sizeof(key), "\n%s:", name);
        s = strstr(text, key);
        if (!s)
                return "";
        s += strlen(key);
        while (*s == '\t' || *s == ' ')
                s++;
        snprintf(val, sizeof(val), "%.*s", (int) strcspn(s, "\n"), s);
        return val;
}

static int before_cont(void *userdata, struct qmp *q, pid_t pid, struct vl_error *e)
{
        struct run *r = userdata;
        char path[64];

        (void) q, (void) pid, (void) e;
        snprintf(path, sizeof(path), "/proc/%d/status", (int) r->res.helper_pid);
        read_file(path, r->status, sizeof(r->status));
        if (r->kill_helper)
                kill(r->res.helper_pid, SIGKILL);
        return 0;
}

/* QEMU (q35, TCG, no guest) with a tpm-crb on one end of a socket pair,
 * swtpm as the helper on the other, both as nobody. */
static void make_run(struct run *r, const char *name)
{
        static char *const envp[] = { (char *) "PATH=/usr/bin:/bin", NULL };
        static char *const swtpm_env[] = { (char *) SWTPM_ENV_PATH, NULL };
        struct vl_error e = {};
        int client = -1, listener = -1, sp[2];
        char cmd[3072];
        unsigned n = 0;

        plan(name, &r->t);
        /* an empty state: swtpm makes a new TPM in it (no certificates) */
        snprintf(cmd, sizeof(cmd), "mkdir -p -m 0700 '%s' && chown %d:%d '%s'", r->t.state, NOBODY, NOBODY, r->t.state);
        assert_int_equal(system(cmd), 0);
        assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp), 0);
        if (sup_qmp_open(qmp_path, &listener, &client, &e) < 0)
                fail_msg("sup_qmp_open: %s", e.msg);
#define A(s) r->qemu_argv[n++] = (char *) (s)
        A("qemu-system-x86_64"); A("-machine"); A("q35"); A("-accel"); A("tcg"); A("-nodefaults");
        A("-display"); A("none"); A("-S"); A("-chardev"); A("socket,id=charmonitor,fd=3,server=on,wait=off");
        A("-mon"); A("chardev=charmonitor,mode=control"); A("-chardev"); A("socket,id=chrtpm,fd=4");
        A("-tpmdev"); A("emulator,id=tpm-tpm0,chardev=chrtpm"); A("-device"); A("tpm-crb,tpmdev=tpm-tpm0,id=tpm0");
        A("-sandbox"); A("on,obsolete=deny,elevateprivileges=deny,spawn=deny,resourcecontrol=deny");
        A(NULL);
#undef A
        r->c = (struct sup_config) {
                .name = "swtpmtest", .qemu_path = QEMU, .argv = r->qemu_argv, .envp = envp,
                .sandbox = nobody(),
                .qmp_client = client, .control_path = ctl_path,
                .shutdown_timeout_s = 1, .start_timeout_ms = 60000, .quit_timeout_ms = 3000,
                .userdata = r, .before_cont = before_cont,
                .helper = {
                        .name = "swtpm", .path = r->t.cmd.argv[0], .argv = r->t.cmd.argv, .envp = swtpm_env,
                        .sandbox = nobody(),
                },
        };
        r->c.sandbox.n_fds = 2;
        r->c.sandbox.fds[0] = listener;
        r->c.sandbox.fds[1] = sp[0];
        r->c.helper.sandbox.n_fds = 1;
        r->c.helper.sandbox.fds[0] = sp[1];
}

static bool alive(pid_t pid)
{
        return kill(pid, 0) == 0 || errno != ESRCH;
}

/* stop --force after ~1 s, from a child */
static pid_t stop_later(void)
{
        pid_t pid = fork();

        if (pid == 0) {
                char buf[512];
                for (int i = 0; i < 200; i++) {
                        struct timespec ts = { 0, 50000000L };
                        nanosleep(&ts, NULL);
                        if (sup_control_request(ctl_path, "status", buf, sizeof(buf), 2000) == 0 &&
                            strstr(buf, "\"running\"") &&
                            sup_control_request(ctl_path, "stop-force", buf, sizeof(buf), 2000) == 0)
                                _exit(0);
                }
                _exit(1);
        }
        return pid;
}

static void test_helper_with_qemu(void **st)
{
        struct run *r = test_calloc(1, sizeof(*r));
        struct vl_error e = {};
        pid_t stopper;
        int status;

        (void) st;
        need();
        if (access(QEMU, X_OK) < 0)
                vl_skip(QEMU " not installed");
        make_run(r, "vm2");
        stopper = stop_later();
        if (sup_run(&r->c, &r->res, &e) < 0)
                fail_msg("sup_run: %s", e.msg);
        assert_int_equal(waitpid(stopper, &status, 0), stopper);
        assert_int_equal(WEXITSTATUS(status), 0);
        assert_int_equal(r->res.outcome, SUP_FORCED);
        /* swtpm's sandbox, as QEMU's */
        assert_true(r->res.helper_pid > 0);
        assert_true(strncmp(r->status, "Name:\tswtpm\n", 12) == 0);
        assert_string_equal(field(r->status, "Uid"), "65534\t65534\t65534\t65534");
        assert_string_equal(field(r->status, "CapEff"), "0000000000000000");
        assert_string_equal(field(r->status, "CapBnd"), "0000000000000000");
        assert_string_equal(field(r->status, "NoNewPrivs"), "1");
        assert_string_equal(field(r->status, "Seccomp"), "2");
        /* the launcher's list and swtpm's own --seccomp */
        assert_string_equal(field(r->status, "Seccomp_filters"), "2");
        /* it left with QEMU, by itself */
        assert_false(r->res.helper_failed);
        assert_int_equal(r->res.helper_exit_status, 0);
        assert_false(alive(r->res.helper_pid));
        test_free(r);
}

static void test_helper_killed(void **st)
{
        struct run *r = test_calloc(1, sizeof(*r));
        struct vl_error e = {};
        int rc;

        (void) st;
        need();
        if (access(QEMU, X_OK) < 0)
                vl_skip(QEMU " not installed");
        make_run(r, "vm3");
        r->kill_helper = true;
        rc = sup_run(&r->c, &r->res, &e);
        /* killed before cont: the start fails, or right after: a crash */
        if (rc == 0)
                assert_int_equal(r->res.outcome, SUP_QEMU_FAILED);
        else
                assert_string_equal(e.msg, "swtpm ended during start-up (signal 9): QEMU was stopped");
        assert_true(r->res.helper_failed);
        assert_int_equal(r->res.helper_term_signal, SIGKILL);
        assert_int_equal(r->res.term_signal, SIGKILL);
        assert_false(alive(r->res.qemu_pid));
        test_free(r);
}

static void test_helper_cannot_start(void **st)
{
        struct run *r = test_calloc(1, sizeof(*r));
        struct vl_error e = {};

        (void) st;
        need();
        make_run(r, "vm4");
        r->c.helper.path = "/nonexistent/swtpm";
        assert_true(sup_run(&r->c, &r->res, &e) < 0);
        assert_non_null(strstr(e.msg, "cannot start swtpm: cannot execute '/nonexistent/swtpm'"));
        assert_int_equal(r->res.outcome, SUP_START_FAILED);
        assert_int_equal(r->res.qemu_pid, 0);
        assert_int_equal(r->res.helper_pid, 0);
        test_free(r);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_argv),
                cmocka_unit_test_setup_teardown(test_manufacture, setup, teardown),
                cmocka_unit_test_setup_teardown(test_manufacture_fails, setup, teardown),
                cmocka_unit_test_setup_teardown(test_helper_with_qemu, setup, teardown),
                cmocka_unit_test_setup_teardown(test_helper_killed, setup, teardown),
                cmocka_unit_test_setup_teardown(test_helper_cannot_start, setup, teardown),
        };
        return vl_run_tests(tests, NULL, NULL);
}
