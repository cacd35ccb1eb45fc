/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * host/tpm: the TPM state folder as a root launcher must treat it — found
 * or refused without following a link, never replaced once it exists — and
 * the staging folder swtpm_setup fills, committed without replacing
 * anything and removed without reaching outside it. Runs as root (the
 * folders are given to another uid, as a run gives them to QEMU's user).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "host/tpm.h"
#include "vl_test.h"

#define USER_UID 4242 /* QEMU's user, as far as the folders are concerned */
#define USER_GID 4243

static char top[64], state[128], vm[192], tpm[256];

static int setup(void **st)
{
        (void) st;
        snprintf(top, sizeof(top), "/tmp/vl-tpm-XXXXXX");
        if (!mkdtemp(top))
                return -1;
        snprintf(state, sizeof(state), "%s/lib", top);
        snprintf(vm, sizeof(vm), "%s/vm", state);
        snprintf(tpm, sizeof(tpm), "%s/tpm", vm);
        return 0;
}

static int teardown(void **st)
{
        char cmd[128];

        (void) st;
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", top);
        return system(cmd) == 0 ? 0 : -1;
}

static void need_root(void)
{
        if (geteuid() != 0)
                vl_skip("needs root: the state folders are given to another uid");
}

static void sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void sh(const char *fmt, ...)
{
        char cmd[1024];
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(cmd, sizeof(cmd), fmt, ap);
        va_end(ap);
        assert_int_equal(system(cmd), 0);
}

static void exe(const char *path)
{
        int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0755);

        assert_true(fd >= 0);
        close(fd);
}

static void test_find_tools(void **st)
{
        char a[128], b[128], path[512];
        struct tpm_tools t;
        struct vl_error e = {};

        (void) st;
        snprintf(a, sizeof(a), "%s/a", top);
        snprintf(b, sizeof(b), "%s/b", top);
        sh("mkdir -p '%s' '%s'", a, b);
        snprintf(path, sizeof(path), "%s/swtpm", a);
        exe(path);
        snprintf(path, sizeof(path), "%s/swtpm_setup", b);
        exe(path);
        /* relative and empty entries are never searched */
        snprintf(path, sizeof(path), "::.:%s:%s", a, b);
        assert_int_equal(tpm_find_tools(path, &t, &e), -ENOENT);
        assert_string_equal(e.msg, "swtpm_localca not found in $PATH: a profile with \"tpm\" needs it (apt-get "
                                   "install swtpm swtpm-tools)");
        snprintf(path, sizeof(path), "%s/swtpm_localca", a);
        exe(path);
        snprintf(path, sizeof(path), "::.:%s:%s", a, b);
        assert_int_equal(tpm_find_tools(path, &t, &e), 0);
        snprintf(path, sizeof(path), "%s/swtpm", a);
        assert_string_equal(t.swtpm, path);
        snprintf(path, sizeof(path), "%s/swtpm_setup", b);
        assert_string_equal(t.swtpm_setup, path);
        /* not executable: not found */
        snprintf(path, sizeof(path), "%s/swtpm", a);
        assert_int_equal(chmod(path, 0644), 0);
        snprintf(path, sizeof(path), "%s:%s", a, b);
        assert_int_equal(tpm_find_tools(path, &t, &e), -ENOENT);
        assert_non_null(strstr(e.msg, "swtpm not found"));
}

static void test_path(void **st)
{
        char buf[64];

        (void) st;
        assert_int_equal(tpm_state_path("/var/lib/vfio-launch", "win11", buf, sizeof(buf)), 0);
        assert_string_equal(buf, "/var/lib/vfio-launch/win11/tpm");
        assert_int_equal(tpm_state_path("/var/lib/vfio-launch", "win11", buf, 20), -ENAMETOOLONG);
}

static void test_check(void **st)
{
        struct vl_error e = {};
        char msg[1024];

        (void) st;
        need_root();
        /* nothing yet, at any level: a run makes it */
        assert_int_equal(tpm_state_check(state, "vm", USER_UID, &e), 0);
        sh("mkdir -p '%s'", vm);
        assert_int_equal(tpm_state_check(state, "vm", USER_UID, &e), 0);
        sh("mkdir '%s' && chown %d:%d '%s' && chmod 0700 '%s'", tpm, USER_UID, USER_GID, tpm, tpm);
        assert_int_equal(tpm_state_check(state, "vm", USER_UID, &e), 1);

        /* another owner */
        assert_int_equal(tpm_state_check(state, "vm", USER_UID + 1, &e), -EPERM);
        snprintf(msg, sizeof(msg),
                 "the TPM state '%s' belongs to uid %d, QEMU's user is uid %d: swtpm runs as that user (fix: "
                 "chown -R %d '%s', if it is this VM's TPM)",
                 tpm, USER_UID, USER_UID + 1, USER_UID + 1, tpm);
        assert_string_equal(e.msg, msg);
        /* readable by others: the TPM's keys */
        sh("chmod 0750 '%s'", tpm);
        assert_int_equal(tpm_state_check(state, "vm", USER_UID, &e), -EPERM);
        snprintf(msg, sizeof(msg),
                 "the TPM state '%s' has mode 0750: others may reach the TPM's keys (fix: chmod 0700 '%s')", tpm,
                 tpm);
        assert_string_equal(e.msg, msg);
        sh("chmod 0700 '%s'", tpm);

        /* a folder above it that its owner could rearrange under root */
        sh("chmod 0777 '%s'", vm);
        assert_int_equal(tpm_state_check(state, "vm", USER_UID, &e), -EPERM);
        assert_non_null(strstr(e.msg, "is writable by group or others (mode 0777)"));
        sh("chmod 0755 '%s' && chown %d '%s'", vm, USER_UID, vm);
        assert_int_equal(tpm_state_check(state, "vm", USER_UID, &e), -EPERM);
        assert_non_null(strstr(e.msg, "belongs to uid 4242: the launcher only follows paths root controls"));
        sh("chown 0 '%s'", vm);

        /* a link, to a folder that would pass: never followed */
        sh("mv '%s' '%s/elsewhere' && ln -s '%s/elsewhere' '%s'", tpm, top, top, tpm);
        assert_int_equal(tpm_state_check(state, "vm", USER_UID, &e), -ENOTDIR);
        snprintf(msg, sizeof(msg),
                 "the TPM state '%s' is a symbolic link: it must be a folder (the launcher does not follow links "
                 "there; move it away to have a new TPM made)",
                 tpm);
        assert_string_equal(e.msg, msg);
        /* the VM's folder a link */
        sh("mv '%s' '%s/vm-real' && ln -s '%s/vm-real' '%s'", vm, top, top, vm);
        assert_int_equal(tpm_state_check(state, "vm", USER_UID, &e), -ENOTDIR);
        snprintf(msg, sizeof(msg), "'%s' is a symbolic link (never followed): it must be a folder", vm);
        assert_string_equal(e.msg, msg);
        sh("rm '%s' && mv '%s/vm-real' '%s' && rm '%s'", vm, top, vm, tpm);
        /* a file */
        sh("touch '%s'", tpm);
        assert_int_equal(tpm_state_check(state, "vm", USER_UID, &e), -ENOTDIR);
        assert_non_null(strstr(e.msg, "is not a folder"));
        sh("rm -rf '%s' '%s/elsewhere'", vm, top);
}

static void stat_of(const char *path, struct stat *st)
{
        assert_int_equal(lstat(path, st), 0);
}

static void test_stage(void **st)
{
        struct tpm_stage s;
        struct vl_error e = {};
        struct stat a, b;
        char p[2048], outside[256];

        (void) st;
        need_root();
        assert_int_equal(tpm_stage_create(state, "vm", USER_UID, USER_GID, "/usr/bin/swtpm_localca", &s, &e), 0);
        /* the staging folder is root's and 0755; state/ and ca/ the user's, 0700 */
        stat_of(s.path, &a);
        assert_int_equal(a.st_uid, 0);
        assert_int_equal(a.st_mode & 07777, 0755);
        stat_of(s.state, &a);
        assert_int_equal(a.st_uid, USER_UID);
        assert_int_equal(a.st_gid, USER_GID);
        assert_int_equal(a.st_mode & 07777, 0700);
        snprintf(p, sizeof(p), "%s/ca", s.path);
        stat_of(p, &a);
        assert_int_equal(a.st_uid, USER_UID);
        assert_int_equal(a.st_mode & 07777, 0700);
        stat_of(s.config, &a);
        assert_int_equal(a.st_uid, 0);
        assert_int_equal(a.st_mode & 07777, 0644);
        assert_string_equal(s.target, tpm);
        /* swtpm_setup would have written these */
        sh("touch '%s/tpm2-00.permall' '%s/ca/signkey.pem' && chown -R %d '%s' '%s/ca'", s.state, s.path, USER_UID,
           s.state, s.path);
        /* what the user could plant in ca/: a link out, and a folder */
        snprintf(outside, sizeof(outside), "%s/outside", top);
        sh("echo keep > '%s' && ln -s '%s' '%s/ca/link' && mkdir '%s/ca/sub' && touch '%s/ca/sub/f'", outside,
           outside, s.path, s.path, s.path);

        assert_int_equal(tpm_stage_commit(&s, &e), 0);
        stat_of(tpm, &a);
        assert_int_equal(a.st_uid, USER_UID);
        assert_int_equal(tpm_state_check(state, "vm", USER_UID, &e), 1);
        /* removing the rest: not the committed state, not the link's target;
         * the non-empty folder in ca/ stays, and is reported */
        assert_true(tpm_stage_remove(&s, &e) < 0);
        assert_non_null(strstr(e.msg, "cannot remove all of"));
        assert_int_equal(access(outside, F_OK), 0);
        snprintf(p, sizeof(p), "%s/tpm2-00.permall", tpm);
        assert_int_equal(access(p, F_OK), 0);
        sh("rm -rf '%s'/.tpm-setup.*", vm);

        /* a state exists: nothing to stage, and it is left alone */
        stat_of(tpm, &a);
        assert_int_equal(tpm_stage_create(state, "vm", USER_UID, USER_GID, "/usr/bin/swtpm_localca", &s, &e),
                         -EEXIST);
        stat_of(tpm, &b);
        assert_int_equal(a.st_ino, b.st_ino);

        /* a state that appears between stage and commit wins */
        sh("mv '%s' '%s/moved'", tpm, top);
        assert_int_equal(tpm_stage_create(state, "vm", USER_UID, USER_GID, "/usr/bin/swtpm_localca", &s, &e), 0);
        sh("mv '%s/moved' '%s'", top, tpm);
        assert_int_equal(tpm_stage_commit(&s, &e), -EEXIST);
        assert_int_equal(tpm_stage_remove(&s, &e), 0);
        stat_of(tpm, &b);
        assert_int_equal(a.st_ino, b.st_ino);
        assert_int_equal(access(p, F_OK), 0);
        /* nothing left of the staging folder, twice over */
        assert_int_equal(tpm_stage_remove(&s, &e), 0);
        sh("test -z \"$(ls -A '%s' | grep -v '^tpm$')\"", vm);

        /* a failed set-up: the staged state goes, no tpm appears */
        sh("rm -rf '%s'", tpm);
        assert_int_equal(tpm_stage_create(state, "vm", USER_UID, USER_GID, "/usr/bin/swtpm_localca", &s, &e), 0);
        sh("touch '%s/.lock'", s.state);
        assert_int_equal(tpm_stage_remove(&s, &e), 0);
        sh("test -z \"$(ls -A '%s')\"", vm);
}

/* The configuration swtpm_setup reads names this staging folder only. */
static void test_stage_config(void **st)
{
        struct tpm_stage s;
        struct vl_error e = {};
        char want[4096], got[4096] = "";
        FILE *f;

        (void) st;
        need_root();
        assert_int_equal(tpm_stage_create(state, "vm", USER_UID, USER_GID, "/usr/bin/swtpm_localca", &s, &e), 0);
        f = fopen(s.config, "re");
        assert_non_null(f);
        assert_true(fread(got, 1, sizeof(got) - 1, f) > 0);
        fclose(f);
        snprintf(want, sizeof(want),
                 "# vfio-launch: for one swtpm_setup run, removed afterwards\n"
                 "create_certs_tool = /usr/bin/swtpm_localca\n"
                 "create_certs_tool_config = %s/swtpm-localca.conf\n"
                 "create_certs_tool_options = %s/swtpm-localca.options\n"
                 "active_pcr_banks = sha256\n",
                 s.path, s.path);
        assert_string_equal(got, want);
        assert_int_equal(tpm_stage_remove(&s, &e), 0);
        /* a path a configuration file would read as something else */
        assert_int_equal(tpm_stage_create(state, "vm", USER_UID, USER_GID, "/opt/${HOME}/swtpm_localca", &s, &e),
                         -EINVAL);
        sh("test -z \"$(ls -A '%s')\"", vm);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_find_tools),
                cmocka_unit_test(test_path),
                cmocka_unit_test(test_check),
                cmocka_unit_test(test_stage),
                cmocka_unit_test(test_stage_config),
        };
        return vl_run_tests(tests, setup, teardown);
}
