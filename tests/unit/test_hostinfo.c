/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * hostinfo + vars: version parsing, finding and probing QEMU (fake binaries
 * in a temp dir, and the real one when installed), machine resolution,
 * firmware descriptor search in temp folders, and the never-overwrite VARS
 * copy; as root, what a less privileged account may plant where root reads
 * (docs/facts.md#F-firmware-user-dir).
 */
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "qemu/hostinfo.h"
#include "host/vars.h"
#include "run/launch.h"
#include "vl_tmp.h"

static char tmp[256];

static int setup(void **state)
{
        strcpy(tmp, "/tmp/vl-test-hostinfo.XXXXXX");
        return mkdtemp(tmp) ? 0 : -1;
}

static int teardown(void **state)
{
        return vl_rm_tree(tmp);
}

static void write_file(const char *path, const char *content, mode_t mode)
{
        int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
        size_t len = strlen(content);

        assert_true(fd >= 0);
        assert_int_equal(write(fd, content, len), (ssize_t) len);
        assert_int_equal(close(fd), 0);
}

/* Lines in a file: how often the fake QEMU ran. */
static int runs_in(const char *path, char *buf, size_t size)
{
        int fd = open(path, O_RDONLY | O_CLOEXEC), n = 0;
        ssize_t len;

        if (fd < 0)
                return 0;
        while ((len = read(fd, buf, size)) > 0)
                for (ssize_t i = 0; i < len; i++)
                        n += buf[i] == '\n';
        close(fd);
        return n;
}

/* TMP/name */
static void pathj(char *buf, size_t size, const char *name)
{
        assert_true(snprintf(buf, size, "%s/%s", tmp, name) < (int) size);
}

static void test_parse_version(void **state)
{
        struct qemu_version v;

        assert_int_equal(hostinfo_parse_version("QEMU emulator version 7.2.22 (Debian "
                                                "1:7.2+dfsg-7+deb12u18+b3)\nCopyright (c) 2003-2022",
                                                &v),
                         0);
        assert_int_equal(v.major, 7);
        assert_int_equal(v.minor, 2);
        assert_int_equal(v.micro, 22);
        assert_int_equal(hostinfo_parse_version("8.2.0", &v), 0);
        assert_int_equal(v.major, 8);
        assert_int_equal(v.micro, 0);
        assert_int_equal(hostinfo_parse_version("QEMU emulator version 10.2.0\n", &v), 0);
        assert_int_equal(v.major, 10);
        assert_int_equal(hostinfo_parse_version("9.1", &v), 0);
        assert_int_equal(v.micro, 0);
        assert_int_equal(hostinfo_parse_version("", &v), -EINVAL);
        assert_int_equal(hostinfo_parse_version("QEMU emulator version x", &v), -EINVAL);
        assert_int_equal(hostinfo_parse_version("7.2.22x", &v), -EINVAL);
        assert_int_equal(hostinfo_parse_version("7.", &v), -EINVAL);
        assert_int_equal(hostinfo_parse_version("99999999.1.1", &v), -EINVAL);

        assert_true(qemu_version_at_least(&(struct qemu_version) { 8, 1, 0 }, 8, 1, 0));
        assert_true(qemu_version_at_least(&(struct qemu_version) { 10, 0, 0 }, 8, 1, 0));
        assert_false(qemu_version_at_least(&(struct qemu_version) { 8, 0, 9 }, 8, 1, 0));
}

static void test_find_and_probe(void **state)
{
        char bin[300], path_env[600], found[300], other[300];
        struct hostinfo h;
        struct vl_error e = {};

        pathj(bin, sizeof(bin), "bin");
        assert_int_equal(mkdir(bin, 0755), 0);
        pathj(other, sizeof(other), "empty");
        assert_int_equal(mkdir(other, 0755), 0);
        pathj(bin, sizeof(bin), "bin/qemu-system-x86_64");
        write_file(bin, "#!/bin/sh\necho 'QEMU emulator version 8.2.1 (fake)'\n", 0755);

        /* PATH search: skips empty and relative entries, takes the first hit */
        snprintf(path_env, sizeof(path_env), "::relative:%s:%s/bin", other, tmp);
        assert_int_equal(hostinfo_find_qemu(NULL, path_env, found, sizeof(found), &e), 0);
        assert_string_equal(found, bin);
        assert_int_equal(hostinfo_find_qemu(NULL, other, found, sizeof(found), &e), -ENOENT);
        assert_non_null(strstr(e.msg, "qemu-system-x86_64"));
        /* explicit path wins; a directory is not a binary */
        assert_int_equal(hostinfo_find_qemu(bin, "/nonexistent", found, sizeof(found), &e), 0);
        assert_int_equal(hostinfo_find_qemu(other, NULL, found, sizeof(found), &e), -EACCES);

        assert_int_equal(hostinfo_probe_qemu(bin, &h, &e), 0);
        assert_string_equal(h.qemu_path, bin);
        assert_int_equal(h.version.major, 8);
        assert_int_equal(h.version.minor, 2);
        assert_int_equal(h.version.micro, 1);

        write_file(bin, "#!/bin/sh\necho 'no version here'\n", 0755);
        assert_int_equal(hostinfo_probe_qemu(bin, &h, &e), -EINVAL);
        write_file(bin, "#!/bin/sh\nexit 3\n", 0755);
        assert_int_equal(hostinfo_probe_qemu(bin, &h, &e), -EIO);
        assert_non_null(strstr(e.msg, "exit status 3"));

        /* the real one, when this machine has it: its flags too */
        if (access("/usr/bin/qemu-system-x86_64", X_OK) == 0) {
                assert_int_equal(hostinfo_probe_qemu("/usr/bin/qemu-system-x86_64", &h, &e), 0);
                assert_true(h.version.major >= 7);
                assert_true(hostinfo_has_cpu_flag(&h, "topoext"));
                assert_true(hostinfo_has_cpu_flag(&h, "lahf_lm"));
                assert_true(hostinfo_has_cpu_flag(&h, "lahf-lm"));
                assert_false(hostinfo_has_cpu_flag(&h, "topoextra"));
        }
}

static void test_cpu_flags(void **state)
{
        struct hostinfo h = {};
        char small[16];

        /* Not probed: nothing to check against. */
        assert_true(hostinfo_has_cpu_flag(&h, "anything"));
        assert_int_equal(hostinfo_parse_cpu_flags("x86 max\n\nRecognized CPUID flags:\n  3dnow abm\n"
                                                  "  lahf_lm\n", h.cpu_flags, sizeof(h.cpu_flags)),
                         0);
        assert_string_equal(h.cpu_flags, " 3dnow abm lahf-lm ");
        assert_true(hostinfo_has_cpu_flag(&h, "abm"));
        assert_true(hostinfo_has_cpu_flag(&h, "lahf_lm"));
        assert_false(hostinfo_has_cpu_flag(&h, "ab"));
        assert_false(hostinfo_has_cpu_flag(&h, "3dnow abm"));
        assert_int_equal(hostinfo_parse_cpu_flags("no list here", h.cpu_flags, sizeof(h.cpu_flags)), -ENOENT);
        assert_int_equal(hostinfo_parse_cpu_flags("Recognized CPUID flags: aaaaaaaaaaaaaaaaaaaa", small,
                                                  sizeof(small)),
                         -E2BIG);
}

static void test_machine(void **state)
{
        struct qemu_version v72 = { 7, 2, 0 }, v91 = { 9, 1, 0 }, v101 = { 10, 1, 0 },
                            v102 = { 10, 2, 0 }, dev = { 10, 1, 50 };
        char eff[64], can[64];
        struct vl_warnings w = {};
        struct vl_error e = {};

        assert_int_equal(hostinfo_machine_resolve("q35", &v72, eff, sizeof(eff), can, sizeof(can),
                                                  &e, &w), 0);
        assert_string_equal(eff, "q35");
        assert_string_equal(can, "pc-q35-7.2");
        assert_int_equal(hostinfo_machine_resolve("pc-q35-4.2", &v72, eff, sizeof(eff), can,
                                                  sizeof(can), &e, &w), 0);
        assert_string_equal(eff, "pc-q35-4.2");
        assert_int_equal(w.n, 0);
        /* 9.1: 5 years old -> deprecated, still there */
        assert_int_equal(hostinfo_machine_resolve("pc-q35-4.2", &v91, eff, sizeof(eff), can,
                                                  sizeof(can), &e, &w), 0);
        assert_string_equal(eff, "pc-q35-4.2");
        assert_int_equal(w.n, 1);
        assert_int_equal(hostinfo_machine_resolve("pc-q35-4.2", &v101, eff, sizeof(eff), can,
                                                  sizeof(can), &e, NULL), 0);
        assert_string_equal(eff, "pc-q35-4.2");
        /* 10.2 deletes 4.2 (6 years); a 10.1 development snapshot counts as 10.2 */
        assert_int_equal(hostinfo_machine_resolve("pc-q35-4.2", &v102, eff, sizeof(eff), can,
                                                  sizeof(can), &e, &w), 0);
        assert_string_equal(eff, "q35");
        assert_string_equal(can, "pc-q35-10.2");
        assert_int_equal(w.n, 2);
        assert_non_null(strstr(w.msg[1], "no longer exists"));
        assert_int_equal(hostinfo_machine_resolve("pc-q35-4.2", &dev, eff, sizeof(eff), NULL, 0,
                                                  &e, NULL), 0);
        assert_string_equal(eff, "q35");
        assert_int_equal(hostinfo_machine_resolve("pc-q35-4.1", &v101, eff, sizeof(eff), NULL, 0,
                                                  &e, NULL), 0);
        assert_string_equal(eff, "q35");

        assert_int_equal(hostinfo_machine_resolve("pc-q35-8.0", &v72, eff, sizeof(eff), NULL, 0,
                                                  &e, NULL), -EINVAL);
        assert_string_equal(e.path, "$.machine");
        assert_int_equal(hostinfo_machine_resolve("pc-q35-2.3", &v72, eff, sizeof(eff), NULL, 0,
                                                  &e, NULL), -EINVAL);
        assert_int_equal(hostinfo_machine_resolve("pc-q35-4.2x", &v72, eff, sizeof(eff), NULL, 0,
                                                  &e, NULL), -EINVAL);
        assert_int_equal(hostinfo_machine_resolve("pc", &v72, eff, sizeof(eff), NULL, 0, &e, NULL),
                         -EINVAL);
}

#define DESC(name, code, vars, machines, features)                                                 \
        "{ \"description\": \"" name "\", \"interface-types\": [\"uefi\"],"                        \
        "  \"mapping\": { \"device\": \"flash\","                                                  \
        "    \"executable\": { \"filename\": \"" code "\", \"format\": \"raw\" },"                \
        "    \"nvram-template\": { \"filename\": \"" vars "\", \"format\": \"raw\" } },"          \
        "  \"targets\": [ { \"architecture\": \"x86_64\", \"machines\": [" machines "] } ],"      \
        "  \"features\": [" features "], \"tags\": [] }"

/* Debian 12's three OVMF descriptors. */
static void debian_descriptors(const char *dir)
{
        char p[512];

        assert_true(snprintf(p, sizeof(p), "%s/40-edk2-x86_64-secure-enrolled.json", dir) > 0);
        write_file(p, DESC("sb enrolled", "/usr/share/OVMF/OVMF_CODE_4M.ms.fd",
                           "/usr/share/OVMF/OVMF_VARS_4M.ms.fd", "\"pc-q35-*\"",
                           "\"acpi-s3\", \"enrolled-keys\", \"requires-smm\", \"secure-boot\""),
                   0644);
        assert_true(snprintf(p, sizeof(p), "%s/50-edk2-x86_64-secure.json", dir) > 0);
        write_file(p, DESC("sb", "/usr/share/OVMF/OVMF_CODE_4M.secboot.fd",
                           "/usr/share/OVMF/OVMF_VARS_4M.fd", "\"pc-q35-*\"",
                           "\"acpi-s3\", \"requires-smm\", \"secure-boot\""),
                   0644);
        assert_true(snprintf(p, sizeof(p), "%s/60-edk2-x86_64.json", dir) > 0);
        write_file(p, DESC("plain", "/usr/share/OVMF/OVMF_CODE_4M.fd",
                           "/usr/share/OVMF/OVMF_VARS_4M.fd", "\"pc-i440fx-*\", \"pc-q35-*\"",
                           "\"acpi-s3\", \"amd-sev\""),
                   0644);
}

static void test_firmware(void **state)
{
        struct firmware_dirs d = {};
        struct firmware_choice c;
        struct vl_warnings w = {};
        struct vl_error e = {};
        char p[512];

        /* system, /etc, user: least specific first; the files are the
         * runner's own (as a user's print reads its own folder) */
        d.n = 3;
        d.uid = geteuid();
        d.gid = getegid();
        pathj(d.dir[0], sizeof(d.dir[0]), "share");
        pathj(d.dir[1], sizeof(d.dir[1]), "etc");
        pathj(d.dir[2], sizeof(d.dir[2]), "user");
        assert_int_equal(mkdir(d.dir[0], 0755), 0);
        assert_int_equal(mkdir(d.dir[1], 0755), 0);
        /* d.dir[2] does not exist: normal */
        debian_descriptors(d.dir[0]);

        /* without secure boot: 40 and 50 fit too, but the plain 60 is preferred */
        assert_int_equal(hostinfo_firmware_select(&d, "pc-q35-7.2", false, &c, &e, &w), 0);
        assert_string_equal(c.code, "/usr/share/OVMF/OVMF_CODE_4M.fd");
        assert_string_equal(c.vars_template, "/usr/share/OVMF/OVMF_VARS_4M.fd");
        assert_string_equal(c.code_format, "raw");
        assert_false(c.secure_boot);
        assert_false(c.requires_smm);
        assert_non_null(strstr(c.descriptor, "share/60-edk2-x86_64.json"));
        /* secure boot: the first by name with secure-boot + requires-smm */
        assert_int_equal(hostinfo_firmware_select(&d, "pc-q35-7.2", true, &c, &e, &w), 0);
        assert_string_equal(c.code, "/usr/share/OVMF/OVMF_CODE_4M.ms.fd");
        assert_true(c.secure_boot && c.requires_smm);
        assert_int_equal(w.n, 0);

        /* an empty file of the same name in /etc hides the system one */
        pathj(p, sizeof(p), "etc/40-edk2-x86_64-secure-enrolled.json");
        write_file(p, "", 0644);
        assert_int_equal(hostinfo_firmware_select(&d, "pc-q35-7.2", true, &c, &e, &w), 0);
        assert_string_equal(c.code, "/usr/share/OVMF/OVMF_CODE_4M.secboot.fd");

        /* a user file of the same name replaces /etc's; an earlier name wins */
        assert_int_equal(mkdir(d.dir[2], 0755), 0);
        pathj(p, sizeof(p), "user/40-edk2-x86_64-secure-enrolled.json");
        write_file(p, DESC("mine", "/home/u/CODE.fd", "/home/u/VARS.fd", "\"pc-q35-*\"",
                           "\"requires-smm\", \"secure-boot\""),
                   0644);
        assert_int_equal(hostinfo_firmware_select(&d, "pc-q35-7.2", true, &c, &e, &w), 0);
        assert_string_equal(c.code, "/home/u/CODE.fd");
        pathj(p, sizeof(p), "user/10-plain.json");
        write_file(p, DESC("mine", "/home/u/PLAIN.fd", "/home/u/PVARS.fd", "\"pc-q35-7.*\"", ""),
                   0644);
        assert_int_equal(hostinfo_firmware_select(&d, "pc-q35-7.2", false, &c, &e, &w), 0);
        assert_string_equal(c.code, "/home/u/PLAIN.fd");
        /* ... but its glob does not match pc-q35-8.2 */
        assert_int_equal(hostinfo_firmware_select(&d, "pc-q35-8.2", false, &c, &e, &w), 0);
        assert_string_equal(c.code, "/usr/share/OVMF/OVMF_CODE_4M.fd");

        /* invalid descriptors are skipped with a warning */
        pathj(p, sizeof(p), "user/05-broken.json");
        write_file(p, "{ not json", 0644);
        memset(&w, 0, sizeof(w));
        assert_int_equal(hostinfo_firmware_select(&d, "pc-q35-7.2", false, &c, &e, &w), 0);
        assert_string_equal(c.code, "/home/u/PLAIN.fd");
        assert_int_equal(w.n, 1);
        assert_non_null(strstr(w.msg[0], "05-broken.json"));

        /* nothing for i440fx-only... and for another architecture */
        assert_int_equal(hostinfo_firmware_select(&d, "microvm", false, &c, &e, NULL), -ENOENT);
        assert_non_null(strstr(e.msg, "microvm"));

        /* explicit code path: format/template/SMM from the descriptor naming it */
        {
                struct profile *pr = calloc(1, sizeof(*pr));
                assert_non_null(pr);
                profile_init(pr, "vm");
                strcpy(pr->firmware.code, "/usr/share/OVMF/OVMF_CODE_4M.secboot.fd");
                assert_int_equal(hostinfo_firmware_for_profile(pr, &d, "pc-q35-7.2", &c, &e, NULL), 0);
                assert_string_equal(c.vars_template, "/usr/share/OVMF/OVMF_VARS_4M.fd");
                assert_true(c.requires_smm);
                strcpy(pr->firmware.code, "/opt/fw/CODE.fd");
                memset(&w, 0, sizeof(w));
                assert_int_equal(hostinfo_firmware_for_profile(pr, &d, "pc-q35-7.2", &c, &e, &w), 0);
                assert_string_equal(c.code, "/opt/fw/CODE.fd");
                assert_string_equal(c.vars_template, "");
                assert_int_equal(w.n, 1); /* no template known */
                /* the profile's own template: a firmware's, that a
                 * descriptor lists or under /usr/share; anything else is
                 * refused (root copies it into a file QEMU's user owns) */
                strcpy(pr->firmware.vars_template, "/opt/fw/VARS.fd");
                assert_int_equal(hostinfo_firmware_for_profile(pr, &d, "pc-q35-7.2", &c, &e, NULL),
                                 -EPERM);
                assert_string_equal(e.path, "$.firmware.vars_template");
                assert_string_equal(e.msg,
                                    "'/opt/fw/VARS.fd' is neither listed by a QEMU firmware descriptor "
                                    "nor under /usr/share: root would copy it into a file QEMU's user "
                                    "owns (leave vars_template out, or name the template of a firmware "
                                    "package)");
                strcpy(pr->firmware.vars_template, "/usr/share/../../etc/shadow");
                assert_int_equal(hostinfo_firmware_for_profile(pr, &d, "pc-q35-7.2", &c, &e, NULL),
                                 -EPERM);
                strcpy(pr->firmware.vars_template, "/usr/sharex/VARS.fd");
                assert_int_equal(hostinfo_firmware_for_profile(pr, &d, "pc-q35-7.2", &c, &e, NULL),
                                 -EPERM);
                strcpy(pr->firmware.vars_template, "/usr/share/edk2/ovmf/OVMF_VARS.fd");
                assert_int_equal(hostinfo_firmware_for_profile(pr, &d, "pc-q35-7.2", &c, &e, NULL), 0);
                assert_string_equal(c.vars_template, "/usr/share/edk2/ovmf/OVMF_VARS.fd");
                strcpy(pr->firmware.vars_template, "/home/u/PVARS.fd"); /* user/10-plain.json's */
                assert_int_equal(hostinfo_firmware_for_profile(pr, &d, "pc-q35-7.2", &c, &e, NULL), 0);
                assert_string_equal(c.vars_template, "/home/u/PVARS.fd");
                /* the same rule without firmware.code */
                pr->firmware.code[0] = '\0';
                strcpy(pr->firmware.vars_template, "/opt/fw/VARS.fd");
                assert_int_equal(hostinfo_firmware_for_profile(pr, &d, "pc-q35-7.2", &c, &e, NULL),
                                 -EPERM);
                pr->firmware.type = FIRMWARE_BIOS;
                pr->firmware.vars_template[0] = '\0';
                assert_int_equal(hostinfo_firmware_for_profile(pr, &d, "pc-q35-7.2", &c, &e, NULL), 0);
                assert_string_equal(c.code, "");
                free(pr);
        }

        /* the default folder list of a user */
        assert_int_equal(hostinfo_firmware_dirs_default(1000, 1000, "/x/cfg", "/home/u", &d), 0);
        assert_int_equal(d.n, 3);
        assert_string_equal(d.dir[0], "/usr/share/qemu/firmware");
        assert_string_equal(d.dir[1], "/etc/qemu/firmware");
        assert_string_equal(d.dir[2], "/x/cfg/qemu/firmware");
        assert_int_equal(d.uid, 1000);
        assert_int_equal(d.gid, 1000);
        assert_int_equal(hostinfo_firmware_dirs_default(1000, 1000, "relative", "/home/u", &d), 0);
        assert_string_equal(d.dir[2], "/home/u/.config/qemu/firmware");
        assert_int_equal(hostinfo_firmware_dirs_default(1000, 1000, NULL, NULL, &d), 0);
        assert_int_equal(d.n, 2);
        /* ... and of root: never a user's folder, root's files only */
        assert_int_equal(hostinfo_firmware_dirs_default(0, 0, "/x/cfg", "/home/u", &d), 0);
        assert_int_equal(d.n, 2);
        assert_string_equal(d.dir[1], "/etc/qemu/firmware");
        assert_int_equal(d.uid, 0);
}

static void read_file(const char *path, char *buf, size_t size)
{
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        ssize_t n;

        assert_true(fd >= 0);
        n = read(fd, buf, size - 1);
        assert_true(n >= 0);
        buf[n] = '\0';
        close(fd);
}

static void test_vars(void **state)
{
        char tpl[300], vars[300], buf[64], dir[300];
        struct vl_error e = {};
        struct stat st;
        bool created;

        pathj(tpl, sizeof(tpl), "VARS_template.fd");
        write_file(tpl, "template-v1", 0644);
        assert_int_equal(vars_default_path(tmp, "win10", vars, sizeof(vars)), 0);
        pathj(dir, sizeof(dir), "win10/win10_VARS.fd");
        assert_string_equal(vars, dir);

        /* the parent is missing: only created when asked */
        assert_int_equal(vars_ensure(tpl, vars, (uid_t) -1, (gid_t) -1, false, &created, &e), -ENOENT);
        assert_false(created);
        assert_int_equal(vars_ensure(tpl, vars, (uid_t) -1, (gid_t) -1, true, &created, &e), 0);
        assert_true(created);
        read_file(vars, buf, sizeof(buf));
        assert_string_equal(buf, "template-v1");
        assert_int_equal(stat(vars, &st), 0);
        assert_int_equal(st.st_mode & 0777, 0600);
        assert_int_equal(st.st_uid, getuid());

        /* the VM wrote its variables; a new template must not replace them */
        write_file(vars, "guest-boot-entries", 0600);
        write_file(tpl, "template-v2", 0644);
        assert_int_equal(vars_ensure(tpl, vars, (uid_t) -1, (gid_t) -1, true, &created, &e), 0);
        assert_false(created);
        read_file(vars, buf, sizeof(buf));
        assert_string_equal(buf, "guest-boot-entries");
        /* even with no template at all */
        assert_int_equal(vars_ensure(NULL, vars, (uid_t) -1, (gid_t) -1, false, &created, &e), 0);

        /* the first run after an install: STATE_DIR itself is missing too
         * (two levels made); three missing levels are not the default place */
        pathj(vars, sizeof(vars), "state/win11/win11_VARS.fd");
        assert_int_equal(vars_ensure(tpl, vars, (uid_t) -1, (gid_t) -1, true, &created, &e), 0);
        assert_true(created);
        pathj(dir, sizeof(dir), "state");
        assert_int_equal(stat(dir, &st), 0);
        assert_int_equal(st.st_mode & 0777, 0755);
        pathj(vars, sizeof(vars), "a/b/c/c_VARS.fd");
        assert_int_equal(vars_ensure(tpl, vars, (uid_t) -1, (gid_t) -1, true, &created, &e), -ENOENT);

        /* no leftover temp files */
        pathj(dir, sizeof(dir), "win10");
        {
                char cmd[400];
                snprintf(cmd, sizeof(cmd), "test $(ls -A '%s' | wc -l) -eq 1", dir);
                assert_int_equal(system(cmd), 0);
        }

        /* a folder in the way, a missing template, a relative path */
        pathj(vars, sizeof(vars), "win10/dir_VARS.fd");
        assert_int_equal(mkdir(vars, 0755), 0);
        assert_int_equal(vars_ensure(tpl, vars, (uid_t) -1, (gid_t) -1, false, NULL, &e), -EEXIST);
        pathj(vars, sizeof(vars), "win10/other_VARS.fd");
        assert_int_equal(vars_ensure(NULL, vars, (uid_t) -1, (gid_t) -1, false, NULL, &e), -ENOENT);
        assert_non_null(strstr(e.msg, "template"));
        pathj(tpl, sizeof(tpl), "missing.fd");
        assert_int_equal(vars_ensure(tpl, vars, (uid_t) -1, (gid_t) -1, false, NULL, &e), -ENOENT);
        assert_int_equal(access(vars, F_OK), -1);
        assert_int_equal(vars_ensure(tpl, "rel/VARS.fd", (uid_t) -1, (gid_t) -1, false, NULL, &e),
                         -EINVAL);
        /* a path with a comma and a space is just a path here */
        pathj(tpl, sizeof(tpl), "VARS_template.fd");
        pathj(vars, sizeof(vars), "win10/my, vm_VARS.fd");
        assert_int_equal(vars_ensure(tpl, vars, getuid(), getgid(), false, &created, &e), 0);
        assert_true(created);
}

/* Where the VARS may be (launch_prepare()): root creates that file for
 * QEMU's user, so only a profile root owns (profile_trusted) may name a
 * place outside STATE/NAME/. */
static void test_vars_location(void **state)
{
        struct hostinfo h = { .qemu_path = "/usr/bin/qemu-system-x86_64", .version = { 7, 2, 0 } };
        struct firmware_dirs d = { .n = 1, .uid = geteuid(), .gid = getegid() };
        struct host_roots roots = { .sysfs = "/nonexistent" }; /* no "smbios": "host" here */
        struct qemu_runtime *rt = calloc(1, sizeof(*rt));
        struct profile *pr = calloc(1, sizeof(*pr));
        struct vl_error e = {};
        static const char *const inside[] = { "/var/lib/vfio-launch/vm/vm_VARS.fd",
                                              "/var/lib/vfio-launch/vm/old/VARS.fd" };
        static const char *const outside[] = { "/srv/vms/vm_VARS.fd", "/var/lib/vfio-launch/vm.fd",
                                               "/var/lib/vfio-launch/vmx/vm_VARS.fd",
                                               "/var/lib/vfio-launch/other/vm_VARS.fd",
                                               "/var/lib/vfio-launch/vm/../other/vm_VARS.fd",
                                               "/var/lib/vfio-launch/vm/" };

        assert_non_null(rt);
        assert_non_null(pr);
        pathj(d.dir[0], sizeof(d.dir[0]), "share");
        assert_int_equal(mkdir(d.dir[0], 0755), 0);
        debian_descriptors(d.dir[0]);
        profile_init(pr, "vm");

        for (size_t i = 0; i < ELEMENTSOF(outside); i++) {
                strcpy(pr->firmware.vars, outside[i]);
                qemu_runtime_init(rt);
                assert_int_equal(launch_prepare(pr, &h, &roots, &d, "/var/lib/vfio-launch", false, rt, NULL, &e,
                                                 NULL),
                                 -EPERM);
                assert_string_equal(e.path, "$.firmware.vars");
                /* a profile of root's may */
                qemu_runtime_init(rt);
                assert_int_equal(launch_prepare(pr, &h, &roots, &d, "/var/lib/vfio-launch", true, rt, NULL, &e,
                                                 NULL),
                                 0);
                assert_string_equal(rt->firmware.vars, outside[i]);
        }
        strcpy(pr->firmware.vars, "/srv/vms/vm_VARS.fd");
        assert_int_equal(launch_prepare(pr, &h, &roots, &d, "/var/lib/vfio-launch", false, rt, NULL, &e, NULL),
                         -EPERM);
        assert_string_equal(e.msg,
                            "'/srv/vms/vm_VARS.fd' is not in '/var/lib/vfio-launch/vm/': only a profile "
                            "that root owns, and no other account may change, may put the VARS "
                            "elsewhere (leave vars out, or keep the profile in /etc/vfio-launch/, owned "
                            "by root)");
        for (size_t i = 0; i < ELEMENTSOF(inside); i++) {
                strcpy(pr->firmware.vars, inside[i]);
                qemu_runtime_init(rt);
                assert_int_equal(launch_prepare(pr, &h, &roots, &d, "/var/lib/vfio-launch", false, rt, NULL, &e,
                                                 NULL),
                                 0);
                assert_string_equal(rt->firmware.vars, inside[i]);
        }
        pr->firmware.vars[0] = '\0';
        qemu_runtime_init(rt);
        assert_int_equal(launch_prepare(pr, &h, &roots, &d, "/var/lib/vfio-launch", false, rt, NULL, &e, NULL), 0);
        assert_string_equal(rt->firmware.vars, "/var/lib/vfio-launch/vm/vm_VARS.fd");
        free(pr);
        free(rt);
}

/* ---- what another account plants where root reads ------------------------
 * Root only: the files are given to user nobody. A stand-in for /etc/shadow
 * (mode 0600, root's) is what the planted files name; no test may end with
 * its content in a warning or in a file nobody owns. */

static bool nobody_ids(uid_t *uid, gid_t *gid)
{
        struct passwd *pw = getpwnam("nobody");

        if (geteuid() != 0 || !pw || pw->pw_uid == 0)
                return false;
        *uid = pw->pw_uid;
        *gid = pw->pw_gid;
        return true;
}

#define SECRET "SECRET-TOKEN:$6$salt$hash:19000:0:99999:7:::\n"

/* TMP/secret: root's, 0600. */
static void plant_secret(char *buf, size_t size)
{
        pathj(buf, size, "secret");
        write_file(buf, SECRET, 0600);
        assert_int_equal(chmod(buf, 0600), 0);
}

static void mkdir_owned(const char *path, mode_t mode, uid_t uid, gid_t gid)
{
        assert_int_equal(mkdir(path, mode), 0);
        assert_int_equal(chmod(path, mode), 0); /* past the umask */
        assert_int_equal(chown(path, uid, gid), 0);
}

static bool warned(const struct vl_warnings *w, const char *a, const char *b)
{
        for (unsigned i = 0; i < w->n; i++)
                if (strstr(w->msg[i], a) && (!b || strstr(w->msg[i], b)))
                        return true;
        return false;
}

static bool leaked(const struct vl_warnings *w)
{
        for (unsigned i = 0; i < w->n; i++)
                if (strstr(w->msg[i], "SECRET"))
                        return true;
        return false;
}

/* F1: a descriptor the run-as user planted names root's secret as its
 * nvram-template. Root never picks it: not from the user's folder, not when
 * it sits in a system folder but belongs to another account, not through a
 * folder others may write or a symlink; a FIFO or a symlink as descriptor is
 * refused at once, without reading it (so nothing of it is in a warning). */
static void test_firmware_untrusted(void **state)
{
        char secret[300], home[300], p[700], userfw[512], sys[300], loose[300];
        struct firmware_dirs d = {};
        struct firmware_choice c;
        struct vl_warnings w = {};
        struct vl_error e = {};
        uid_t nuid = 0;
        gid_t ngid = 0;

        if (!nobody_ids(&nuid, &ngid))
                skip();
        plant_secret(secret, sizeof(secret));
        pathj(sys, sizeof(sys), "sys");
        mkdir_owned(sys, 0755, 0, 0);
        debian_descriptors(sys);

        /* nobody's home, as useradd makes it, with a descriptor of its own */
        pathj(home, sizeof(home), "home");
        mkdir_owned(home, 0755, nuid, ngid);
        snprintf(p, sizeof(p), "%s/.config", home);
        mkdir_owned(p, 0755, nuid, ngid);
        snprintf(p, sizeof(p), "%s/.config/qemu", home);
        mkdir_owned(p, 0755, nuid, ngid);
        snprintf(userfw, sizeof(userfw), "%s/.config/qemu/firmware", home);
        mkdir_owned(userfw, 0755, nuid, ngid);
        snprintf(p, sizeof(p), "%s/10-evil.json", userfw);
        {
                char json[1024];
                snprintf(json, sizeof(json), DESC("evil", "/usr/share/OVMF/OVMF_CODE_4M.fd", "%s",
                                                  "\"pc-q35-*\"", ""),
                         secret);
                write_file(p, json, 0644);
                assert_int_equal(chown(p, nuid, ngid), 0);

                /* Root's search does not even list nobody's folder; with
                 * the system's folders it finds whatever they offer (or
                 * nothing), never the planted descriptor. */
                assert_int_equal(hostinfo_firmware_dirs_default(0, 0, NULL, home, &d), 0);
                assert_int_equal(d.n, 2);
                for (unsigned i = 0; i < d.n; i++)
                        assert_null(strstr(d.dir[i], home));
                memset(&c, 0, sizeof(c));
                (void) hostinfo_firmware_select(&d, "pc-q35-7.2", false, &c, &e, NULL);
                assert_null(strstr(c.descriptor, "evil"));
                assert_string_not_equal(c.vars_template, secret);

                /* Listed after the system folder, as QEMU's search would
                 * (and root's reader, uid 0): still not read. */
                memset(&d, 0, sizeof(d));
                d.n = 2;
                strcpy(d.dir[0], sys);
                strcpy(d.dir[1], userfw);
                assert_int_equal(hostinfo_firmware_select(&d, "pc-q35-7.2", false, &c, &e, &w), 0);
                assert_string_equal(c.vars_template, "/usr/share/OVMF/OVMF_VARS_4M.fd");
                assert_string_equal(c.code, "/usr/share/OVMF/OVMF_CODE_4M.fd");
                /* the folder is nobody's: nothing in it is even listed */
                assert_true(warned(&w, home, "belongs to uid"));

                /* nobody's file in root's folder: not read either */
                snprintf(p, sizeof(p), "%s/05-nobody.json", sys);
                write_file(p, json, 0644);
                assert_int_equal(chown(p, nuid, ngid), 0);
                memset(&w, 0, sizeof(w));
                d.n = 1;
                assert_int_equal(hostinfo_firmware_select(&d, "pc-q35-7.2", false, &c, &e, &w), 0);
                assert_string_equal(c.vars_template, "/usr/share/OVMF/OVMF_VARS_4M.fd");
                assert_true(warned(&w, "05-nobody.json", "belongs to uid"));
                assert_int_equal(unlink(p), 0);

                /* root's file in a folder every account may write: whoever
                 * wrote it last is unknown */
                pathj(loose, sizeof(loose), "loose");
                mkdir_owned(loose, 0777, 0, 0);
                snprintf(p, sizeof(p), "%s/00-loose.json", loose);
                write_file(p, json, 0644);
                memset(&w, 0, sizeof(w));
                d.n = 2;
                strcpy(d.dir[1], loose);
                assert_int_equal(hostinfo_firmware_select(&d, "pc-q35-7.2", false, &c, &e, &w), 0);
                assert_string_equal(c.vars_template, "/usr/share/OVMF/OVMF_VARS_4M.fd");
                assert_true(warned(&w, loose, "writable by every account"));
        }

        /* A FIFO and a symlink (to the secret) as descriptors, in root's
         * folder: refused at once; the alarm turns a hang into a failure. */
        snprintf(p, sizeof(p), "%s/01-fifo.json", sys);
        assert_int_equal(mkfifo(p, 0644), 0);
        snprintf(p, sizeof(p), "%s/02-link.json", sys);
        assert_int_equal(symlink(secret, p), 0);
        memset(&w, 0, sizeof(w));
        d.n = 1;
        alarm(10);
        assert_int_equal(hostinfo_firmware_select(&d, "pc-q35-7.2", false, &c, &e, &w), 0);
        alarm(0);
        assert_string_equal(c.vars_template, "/usr/share/OVMF/OVMF_VARS_4M.fd");
        assert_true(warned(&w, "01-fifo.json", "not a regular file"));
        assert_true(warned(&w, "02-link.json", "symbolic link"));
        assert_false(leaked(&w));

        /* the system folder reached through a symlink: not read at all */
        pathj(p, sizeof(p), "sys-link");
        assert_int_equal(symlink(sys, p), 0);
        strcpy(d.dir[0], p);
        memset(&w, 0, sizeof(w));
        assert_int_equal(hostinfo_firmware_select(&d, "pc-q35-7.2", false, &c, &e, &w), -ENOENT);
        assert_true(warned(&w, "sys-link", "symbolic link"));
        assert_false(leaked(&w));
}

/* A VARS copy as root for user nobody: only from a template root owns, in
 * folders no other account may change, never through a symlink or from a
 * FIFO; into a folder of root's or nobody's own; an existing VARS must be a
 * regular file of nobody's. Nothing is created when refused. */
static void test_vars_untrusted(void **state)
{
        char secret[300], tpl[300], bad[300], dir[300], vars[400], buf[64];
        struct vl_error e = {};
        struct stat st;
        bool created;
        uid_t nuid = 0;
        gid_t ngid = 0;

        if (!nobody_ids(&nuid, &ngid))
                skip();
        plant_secret(secret, sizeof(secret));
        pathj(tpl, sizeof(tpl), "VARS_template.fd");
        write_file(tpl, "template", 0644);
        pathj(dir, sizeof(dir), "vm");
        mkdir_owned(dir, 0755, 0, 0);
        snprintf(vars, sizeof(vars), "%s/vm_VARS.fd", dir);

        /* templates that are not root's to give */
        pathj(bad, sizeof(bad), "tpl-link.fd");
        assert_int_equal(symlink(secret, bad), 0);
        assert_int_equal(vars_ensure(bad, vars, nuid, ngid, false, &created, &e), -ELOOP);
        assert_non_null(strstr(e.msg, "symbolic link"));
        assert_null(strstr(e.msg, "SECRET"));
        pathj(bad, sizeof(bad), "tpl-nobody.fd");
        write_file(bad, "nobody's", 0644);
        assert_int_equal(chown(bad, nuid, ngid), 0);
        assert_int_equal(vars_ensure(bad, vars, nuid, ngid, false, &created, &e), -EPERM);
        assert_non_null(strstr(e.msg, "belongs to uid"));
        pathj(bad, sizeof(bad), "tpl-fifo.fd");
        assert_int_equal(mkfifo(bad, 0644), 0);
        alarm(10);
        assert_true(vars_ensure(bad, vars, nuid, ngid, false, &created, &e) < 0);
        alarm(0);
        assert_non_null(strstr(e.msg, "not a regular file"));
        pathj(bad, sizeof(bad), "loose");
        mkdir_owned(bad, 0777, 0, 0);
        pathj(bad, sizeof(bad), "loose/tpl.fd");
        write_file(bad, "template", 0644);
        assert_int_equal(vars_ensure(bad, vars, nuid, ngid, false, &created, &e), -EPERM);
        assert_non_null(strstr(e.msg, "writable by every account"));
        assert_int_equal(lstat(vars, &st), -1);

        /* a VARS that is a symlink, or not nobody's: not used as is */
        assert_int_equal(symlink(secret, vars), 0);
        assert_int_equal(vars_ensure(tpl, vars, nuid, ngid, false, &created, &e), -ELOOP);
        assert_int_equal(unlink(vars), 0);
        write_file(vars, "root's", 0600);
        assert_int_equal(vars_ensure(tpl, vars, nuid, ngid, false, &created, &e), -EPERM);
        assert_non_null(strstr(e.msg, "belongs to uid 0"));
        assert_int_equal(unlink(vars), 0);

        /* a VARS folder others may write, or reached through a symlink */
        pathj(bad, sizeof(bad), "loose/vm_VARS.fd");
        assert_int_equal(vars_ensure(tpl, bad, nuid, ngid, false, &created, &e), -EPERM);
        assert_int_equal(lstat(bad, &st), -1);
        pathj(bad, sizeof(bad), "vm-link");
        assert_int_equal(symlink(dir, bad), 0);
        pathj(bad, sizeof(bad), "vm-link/vm_VARS.fd");
        assert_int_equal(vars_ensure(tpl, bad, nuid, ngid, false, &created, &e), -ELOOP);
        assert_int_equal(lstat(vars, &st), -1);

        /* and the way it should be: root's template, nobody's copy */
        assert_int_equal(vars_ensure(tpl, vars, nuid, ngid, false, &created, &e), 0);
        assert_true(created);
        assert_int_equal(lstat(vars, &st), 0);
        assert_int_equal(st.st_uid, nuid);
        assert_int_equal(st.st_mode & 07777, 0600);
        read_file(vars, buf, sizeof(buf));
        assert_string_equal(buf, "template");
        /* in a folder of nobody's own, too */
        pathj(bad, sizeof(bad), "nobodys");
        mkdir_owned(bad, 0700, nuid, ngid);
        pathj(bad, sizeof(bad), "nobodys/vm_VARS.fd");
        assert_int_equal(vars_ensure(tpl, bad, nuid, ngid, false, &created, &e), 0);
        assert_true(created);
}

/* The probe cache: a second launch does not exec QEMU; a changed binary,
 * a corrupt or a writable-by-others cache file are probed again. The fake
 * QEMU counts its runs in a file. */
static void test_probe_cache(void **state)
{
        char bin[300], cache[300], count[300], script[900], buf[64];
        struct hostinfo h;
        struct vl_error e = {};
        struct timespec later[2] = { { 0, UTIME_OMIT }, { 2000000000, 0 } };

        pathj(bin, sizeof(bin), "qemu");
        pathj(cache, sizeof(cache), "cache/qemu-version");
        pathj(count, sizeof(count), "count");
        /* -version counted; -cpu help lists three flags. */
        snprintf(script, sizeof(script),
                 "#!/bin/sh\nif [ \"$1\" = -cpu ]; then printf 'Available CPUs:\\nx86 max\\n\\n"
                 "Recognized CPUID flags:\\n  fpu lahf_lm\\n  topoext\\n'; exit 0; fi\n"
                 "echo x >> %s\necho 'QEMU emulator version 9.1.2'\n",
                 count);
        write_file(bin, script, 0755);
#define RUNS() (runs_in(count, buf, sizeof(buf)))
        assert_int_equal(hostinfo_probe_qemu_cached(bin, cache, &h, &e), 0);
        assert_int_equal(h.version.minor, 1);
        assert_int_equal(RUNS(), 1);
        assert_int_equal(hostinfo_probe_qemu_cached(bin, cache, &h, &e), 0);
        assert_string_equal(h.qemu_path, bin);
        assert_int_equal(h.version.major, 9);
        assert_int_equal(h.version.micro, 2);
        assert_string_equal(h.cpu_flags, " fpu lahf-lm topoext "); /* the flags too */
        assert_int_equal(RUNS(), 1); /* from the cache */

        /* An upgrade changes mtime (and ctime): probed again. */
        assert_int_equal(utimensat(AT_FDCWD, bin, later, 0), 0);
        assert_int_equal(hostinfo_probe_qemu_cached(bin, cache, &h, &e), 0);
        assert_int_equal(RUNS(), 2);
        assert_int_equal(hostinfo_probe_qemu_cached(bin, cache, &h, &e), 0);
        assert_int_equal(RUNS(), 2);

        /* Garbage, or a file others could have written: not trusted. */
        write_file(cache, "garbage", 0644);
        assert_int_equal(hostinfo_probe_qemu_cached(bin, cache, &h, &e), 0);
        assert_int_equal(RUNS(), 3);
        assert_int_equal(chmod(cache, 0666), 0);
        assert_int_equal(hostinfo_probe_qemu_cached(bin, cache, &h, &e), 0);
        assert_int_equal(RUNS(), 4);

        /* No cache path: always probes. */
        assert_int_equal(hostinfo_probe_qemu_cached(bin, NULL, &h, &e), 0);
        assert_int_equal(RUNS(), 5);
#undef RUNS
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_parse_version),
                cmocka_unit_test_setup_teardown(test_find_and_probe, setup, teardown),
                cmocka_unit_test_setup_teardown(test_probe_cache, setup, teardown),
                cmocka_unit_test(test_cpu_flags),
                cmocka_unit_test(test_machine),
                cmocka_unit_test_setup_teardown(test_firmware, setup, teardown),
                cmocka_unit_test_setup_teardown(test_vars, setup, teardown),
                cmocka_unit_test_setup_teardown(test_vars_location, setup, teardown),
                cmocka_unit_test_setup_teardown(test_firmware_untrusted, setup, teardown),
                cmocka_unit_test_setup_teardown(test_vars_untrusted, setup, teardown),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
