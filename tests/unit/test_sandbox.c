/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * sandbox + spawn: start a real program through the same path QEMU takes and
 * read what the kernel says about it in /proc/PID/status. The child is
 * `/bin/sh -c 'cat /proc/self/status >&3'`, so the checks see the state at
 * exec time, after every step.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>
#include "vl_test.h"

#include "run/spawn.h"

static char status[8192];

static int run_child(const struct sandbox_config *base, const char *script, int *ret_status,
                     struct vl_error *e)
{
        struct sandbox_config c = *base;
        char *const argv[] = { (char *) "sh", (char *) "-c", (char *) script, NULL };
        char *const envp[] = { (char *) "PATH=/usr/bin:/bin", NULL };
        int p[2], pidfd, r;
        pid_t pid;
        size_t got = 0;
        ssize_t n;

        assert_int_equal(pipe2(p, O_CLOEXEC), 0);
        c.fds[c.n_fds++] = p[1];
        r = spawn_sandboxed("/bin/sh", argv, envp, &c, &pid, &pidfd, e);
        close(p[1]);
        if (r < 0) {
                close(p[0]);
                return r;
        }
        while ((n = read(p[0], status + got, sizeof(status) - 1 - got)) > 0)
                got += (size_t) n;
        status[got] = '\0';
        close(p[0]);
        close(pidfd);
        assert_int_equal(waitpid(pid, ret_status, 0), pid);
        return 0;
}

static const char *field(const char *name)
{
        static char val[256];
        const char *s = strstr(status, name);

        if (!s)
                return "";
        s += strlen(name);
        while (*s == ':' || *s == '\t' || *s == ' ')
                s++;
        size_t len = strcspn(s, "\n");
        snprintf(val, sizeof(val), "%.*s", (int) len, s);
        return val;
}

static void test_status_after_sandbox(void **state)
{
        struct sandbox_config c = {
                .uid = 65534, .gid = 65534, .stdin_fd = -1, .stdout_fd = -1, .stderr_fd = 2,
                .memlock_bytes = 4ull << 20, .parent = getpid(), .seccomp = true,
        };
        struct vl_error e = {};
        int st;

        if (geteuid() != 0)
                vl_skip("not root: the sandbox's switch to user nobody needs root");
        int r = run_child(&c, "cat /proc/self/status >&3; ulimit -l >&3", &st, &e);
        if (r < 0)
                fail_msg("spawn: %s", e.msg);
        assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
        assert_string_equal(field("Uid"), "65534\t65534\t65534\t65534");
        assert_string_equal(field("Gid"), "65534\t65534\t65534\t65534");
        assert_string_equal(field("CapEff"), "0000000000000000");
        assert_string_equal(field("CapPrm"), "0000000000000000");
        assert_string_equal(field("CapBnd"), "0000000000000000");
        assert_string_equal(field("CapAmb"), "0000000000000000");
        assert_string_equal(field("NoNewPrivs"), "1");
        assert_string_equal(field("Seccomp"), "2");
        /* ulimit -l prints KiB. 4 MiB: below the hard limit, because a root
         * without CAP_SYS_RESOURCE (containers, this CI) cannot raise it;
         * the tests/vm harness checks the real VFIO-sized value. */
        assert_non_null(strstr(status, "\n4096\n"));
}

static void test_seccomp_denies(void **state)
{
        struct sandbox_config c = {
                .uid = getuid(), .gid = getgid(), .stdin_fd = -1, .stdout_fd = -1,
                .stderr_fd = -1, .parent = getpid(), .seccomp = true,
        };
        struct vl_error e = {};
        int st;

        /* unshare(1) needs the unshare syscall, which the list denies with
         * EPERM: the command must fail, where without the filter (root) it
         * would succeed. */
        assert_int_equal(run_child(&c, "unshare -U true 2>/dev/null; echo rc=$? >&3", &st, &e), 0);
        assert_non_null(strstr(status, "rc=1"));
        c.seccomp = false;
        if (geteuid() == 0) {
                assert_int_equal(run_child(&c, "unshare -U true 2>/dev/null; echo rc=$? >&3", &st, &e), 0);
                assert_non_null(strstr(status, "rc=0"));
        }
}

static void test_only_given_fds_inherited(void **state)
{
        struct sandbox_config c = {
                .uid = getuid(), .gid = getgid(), .stdin_fd = -1, .stdout_fd = -1,
                .stderr_fd = -1, .parent = getpid(),
        };
        struct vl_error e = {};
        int leak = open("/dev/null", O_RDONLY); /* not CLOEXEC on purpose */
        int st;

        assert_true(leak >= 0);
        assert_int_equal(run_child(&c, "ls /proc/self/fd >&3", &st, &e), 0);
        close(leak);
        /* 0 1 2, fd 3 (the pipe) and ls's own directory fd. */
        unsigned count = 0;
        for (char *s = status; *s; s++)
                count += *s == '\n';
        assert_int_equal(count, 5);
}

static void test_exec_failure_reported(void **state)
{
        struct sandbox_config c = {
                .uid = getuid(), .gid = getgid(), .stdin_fd = -1, .stdout_fd = -1,
                .stderr_fd = -1, .parent = getpid(),
        };
        char *const argv[] = { (char *) "nope", NULL };
        char *const envp[] = { NULL };
        struct vl_error e = {};
        pid_t pid;
        int pidfd;

        assert_int_equal(spawn_sandboxed("/nonexistent/qemu", argv, envp, &c, &pid, &pidfd, &e),
                         -ENOENT);
        assert_non_null(strstr(e.msg, "cannot execute '/nonexistent/qemu'"));
}

static void test_parent_check(void **state)
{
        struct sandbox_config c = {
                .uid = getuid(), .gid = getgid(), .stdin_fd = -1, .stdout_fd = -1,
                .stderr_fd = -1, .parent = 1, /* not our parent: as if we had died */
        };
        char *const argv[] = { (char *) "true", NULL };
        char *const envp[] = { NULL };
        struct vl_error e = {};
        pid_t pid;
        int pidfd;

        assert_int_equal(spawn_sandboxed("/bin/true", argv, envp, &c, &pid, &pidfd, &e), -ESRCH);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_status_after_sandbox),
                cmocka_unit_test(test_seccomp_denies),
                cmocka_unit_test(test_only_given_fds_inherited),
                cmocka_unit_test(test_exec_failure_reported),
                cmocka_unit_test(test_parent_check),
        };
        return vl_run_tests(tests, NULL, NULL);
}
