/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * shmem: the host side of "shmem" on a temp tree (roots.shm, .dev, .sysfs,
 * .run in a folder of the test's own; the real /dev/shm is never touched):
 * a file made with its size, owner, group, mode and mark, journaled with its
 * inode and the mark's nonce, removed by host_undo() — and not when the name
 * has become somebody's file (whatever inode number ext4 gives it), nor
 * after a crash that left only the nonce in the journal; a user's file of that name refused and left byte for byte; a kept
 * file reused; QEMU's user unable to open the file refused; the journal
 * round trip of both kinds and their refused values; kvmfr against a fake
 * /dev/kvmfr0 (a character device made with mknod: root only) and a fake
 * static_size_mb.
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
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>
#include <cmocka.h>
#include "vl_test.h"

#include "host/journal.h"
#include "host/shmem.h"
#include "host/undo.h"
#include "profile/profile.h"
#include "vl_tmp.h"

struct tree {
        char top[256], shm[300], dev[300], sys[300], run[300];
        struct host_roots roots;
        struct host_env env;
        struct profile p;
        struct runas user;
};

static int setup(void **state)
{
        struct tree *t = calloc(1, sizeof(*t));
        assert_non_null(t);
        snprintf(t->top, sizeof(t->top), "/tmp/vl-test-shmem.XXXXXX");
        assert_non_null(mkdtemp(t->top));
        snprintf(t->shm, sizeof(t->shm), "%s/shm", t->top);
        snprintf(t->dev, sizeof(t->dev), "%s/dev", t->top);
        snprintf(t->sys, sizeof(t->sys), "%s/sys", t->top);
        snprintf(t->run, sizeof(t->run), "%s/run", t->top);
        assert_int_equal(mkdir(t->shm, 01777), 0);
        assert_int_equal(chmod(t->shm, 01777), 0);
        assert_int_equal(mkdir(t->dev, 0755), 0);
        assert_int_equal(mkdir(t->sys, 0755), 0);
        t->roots = (struct host_roots) { .sysfs = t->sys, .dev = t->dev, .proc = "/proc", .run = t->run, .shm = t->shm };
        host_env_init(&t->env, &t->roots);
        profile_init(&t->p, "lg");
        t->p.n_shmem = 1;
        snprintf(t->p.shmem[0].name, sizeof(t->p.shmem[0].name), "looking-glass");
        t->p.shmem[0].size_mib = 2;
        t->p.shmem[0].mode = 0660;
        /* QEMU's user: this process's own account. */
        t->user.uid = getuid();
        t->user.gid = getgid();
        snprintf(t->user.name, sizeof(t->user.name), "qemu-user");
        *state = t;
        return 0;
}

static int teardown(void **state)
{
        struct tree *t = *state;

        (void) vl_rm_tree(t->top);
        free(t);
        return 0;
}

static void path_of(const struct tree *t, const char *name, char *buf, size_t size)
{
        snprintf(buf, size, "%s/%s", t->shm, name);
}

static void test_auto_size(void **state)
{
        (void) state;
        /* Looking Glass's table (docs/facts.md#F-looking-glass-size). */
        assert_int_equal(profile_shmem_auto_mib(1920, 1080), 32);
        assert_int_equal(profile_shmem_auto_mib(1920, 1200), 32);
        assert_int_equal(profile_shmem_auto_mib(2560, 1440), 64);
        assert_int_equal(profile_shmem_auto_mib(3840, 2160), 128);
        assert_int_equal(profile_shmem_auto_mib(1, 1), 16);
}

static void test_create_and_undo(void **state)
{
        struct tree *t = *state;
        struct shmem_plan plan;
        struct vl_error e = {};
        struct journal *j = calloc(1, sizeof(*j));
        char path[512], mark[64];
        struct stat st;
        int fd;

        assert_non_null(j);
        path_of(t, "looking-glass", path, sizeof(path));
        assert_int_equal(shmem_plan(&t->roots, &t->p, &t->user, &plan, &e), 0);
        assert_int_equal(plan.item[0].action, SHMEM_CREATE);
        assert_string_equal(plan.item[0].path, path);
        /* The plan made nothing. */
        assert_int_equal(lstat(path, &st), -1);
        assert_int_equal(shmem_setup(&t->roots, &t->p, &plan, &e), 0);
        assert_int_equal(lstat(path, &st), 0);
        assert_true(S_ISREG(st.st_mode));
        assert_int_equal(st.st_size, 2 << 20);
        assert_int_equal(st.st_mode & 07777, 0660);
        assert_int_equal(st.st_uid, getuid());
        assert_int_equal(st.st_gid, getgid());
        if (getuid() == 0) {
                ssize_t n = getxattr(path, SHMEM_XATTR, mark, sizeof(mark) - 1);
                if (n >= 0) {
                        mark[n] = '\0';
                        assert_int_equal(strlen(mark), 3 + 16); /* "lg:" and the nonce */
                        assert_memory_equal(mark, "lg:", 3);
                }
        }
        /* Journaled with its inode. */
        assert_int_equal(journal_load(&t->roots, "lg", j, &e), 0);
        assert_int_equal(j->n_entries, 1);
        assert_int_equal(j->entries[0].kind, JOURNAL_SHMEM);
        assert_string_equal(j->entries[0].shmem.path, path);
        assert_int_equal(j->entries[0].shmem.ino, (uint64_t) st.st_ino);
        assert_int_equal(j->entries[0].shmem.dev, (uint64_t) st.st_dev);
        /* The guest's writes are the file's. */
        fd = open(path, O_RDWR | O_CLOEXEC);
        assert_true(fd >= 0);
        assert_int_equal(pwrite(fd, "vl", 2, 4096), 2);
        close(fd);

        assert_int_equal(host_undo(&t->env, "lg", &e, NULL), 0);
        assert_int_equal(lstat(path, &st), -1);
        assert_int_equal(errno, ENOENT);
        assert_int_equal(journal_load(&t->roots, "lg", j, &e), -ENOENT);
        /* Twice is harmless. */
        assert_int_equal(host_undo(&t->env, "lg", &e, NULL), 0);
        free(j);
}

/* After a crash the name may be somebody's new file: only the recorded
 * inode goes. */
static void test_undo_spares_another_inode(void **state)
{
        struct tree *t = *state;
        struct shmem_plan plan;
        struct vl_error e = {};
        char path[512];
        struct stat st;
        int fd;

        path_of(t, "looking-glass", path, sizeof(path));
        assert_int_equal(shmem_plan(&t->roots, &t->p, &t->user, &plan, &e), 0);
        assert_int_equal(shmem_setup(&t->roots, &t->p, &plan, &e), 0);
        assert_int_equal(unlink(path), 0);
        fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
        assert_true(fd >= 0);
        assert_int_equal(write(fd, "mine", 4), 4);
        close(fd);
        assert_int_equal(host_undo(&t->env, "lg", &e, NULL), 0);
        assert_int_equal(lstat(path, &st), 0);
        assert_int_equal(st.st_size, 4);
}

/* A crash between making the file and recording its inode: the journal
 * has only the nonce, and that is enough to tell the run's file from a
 * user's. */
static void test_undo_by_nonce(void **state)
{
        struct tree *t = *state;
        struct shmem_plan plan;
        struct vl_error e = {};
        struct journal *j = calloc(1, sizeof(*j));
        char path[512];
        struct stat st;
        int fd;

        assert_non_null(j);
        path_of(t, "looking-glass", path, sizeof(path));
        assert_int_equal(shmem_plan(&t->roots, &t->p, &t->user, &plan, &e), 0);
        assert_int_equal(shmem_setup(&t->roots, &t->p, &plan, &e), 0);
        if (getxattr(path, SHMEM_XATTR, NULL, 0) < 0) {
                free(j);
                vl_skip("no trusted.* extended attributes here (%s)", strerror(errno));
        }
        assert_int_equal(journal_load(&t->roots, "lg", j, &e), 0);
        assert_true(j->entries[0].shmem.nonce != 0);
        j->entries[0].shmem.dev = j->entries[0].shmem.ino = 0; /* as before the update */
        assert_int_equal(journal_save(&t->roots, j, &e), 0);
        /* A user's file of that name (no mark): left. */
        {
                struct journal_entry x = j->entries[0];
                char saved[600];
                snprintf(saved, sizeof(saved), "%s.run", path);
                assert_int_equal(rename(path, saved), 0);
                fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
                assert_true(fd >= 0);
                close(fd);
                assert_int_equal(shmem_undo_entry(&t->roots, &x, &e), 0);
                assert_int_equal(lstat(path, &st), 0);
                assert_int_equal(rename(saved, path), 0);
        }
        /* The run's own: removed. */
        assert_int_equal(host_undo(&t->env, "lg", &e, NULL), 0);
        assert_int_equal(lstat(path, &st), -1);
        free(j);
}

static void test_refuse_user_file(void **state)
{
        struct tree *t = *state;
        struct shmem_plan plan;
        struct vl_error e = {};
        char path[512], buf[16] = "";
        struct stat st;
        int fd;

        path_of(t, "looking-glass", path, sizeof(path));
        fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
        assert_true(fd >= 0);
        assert_int_equal(write(fd, "users", 5), 5);
        close(fd);
        assert_int_equal(shmem_plan(&t->roots, &t->p, &t->user, &plan, &e), -EEXIST);
        assert_string_equal(e.path, "$.shmem[0]");
        assert_non_null(strstr(e.msg, "exists and vfio-launch did not make it for \"lg\": refused"));
        /* A symlink there (to anything) is refused the same way, not followed. */
        assert_int_equal(unlink(path), 0);
        assert_int_equal(symlink("/etc/passwd", path), 0);
        assert_int_equal(shmem_plan(&t->roots, &t->p, &t->user, &plan, &e), -EEXIST);
        assert_int_equal(unlink(path), 0);
        /* Another VM's kept file is somebody's too. */
        fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
        assert_true(fd >= 0);
        assert_int_equal(write(fd, "users", 5), 5);
        if (fsetxattr(fd, SHMEM_XATTR, "other", 5, 0) < 0 && getuid() == 0)
                assert_true(errno == EOPNOTSUPP || errno == ENOTSUP);
        close(fd);
        assert_int_equal(shmem_plan(&t->roots, &t->p, &t->user, &plan, &e), -EEXIST);
        /* And it is left as it was. */
        assert_int_equal(lstat(path, &st), 0);
        assert_int_equal(st.st_size, 5);
        assert_int_equal(st.st_mode & 07777, 0644);
        fd = open(path, O_RDONLY | O_CLOEXEC);
        assert_int_equal(read(fd, buf, sizeof(buf)), 5);
        close(fd);
        assert_string_equal(buf, "users");
}

static void test_keep_and_reuse(void **state)
{
        struct tree *t = *state;
        struct shmem_plan plan;
        struct vl_error e = {};
        struct journal *j = calloc(1, sizeof(*j));
        char path[512];
        struct stat st;

        assert_non_null(j);
        path_of(t, "looking-glass", path, sizeof(path));
        t->p.shmem[0].keep = true;
        assert_int_equal(shmem_plan(&t->roots, &t->p, &t->user, &plan, &e), 0);
        assert_int_equal(shmem_setup(&t->roots, &t->p, &plan, &e), 0);
        /* Kept: not journaled, so no undo removes it. */
        assert_int_equal(journal_load(&t->roots, "lg", j, &e), -ENOENT);
        assert_int_equal(lstat(path, &st), 0);
        if (getxattr(path, SHMEM_XATTR, NULL, 0) < 0) {
                free(j);
                vl_skip("no trusted.* extended attributes here (%s): a kept file cannot be known again",
                        strerror(errno));
        }
        /* The next run knows it by its mark; without keep it goes after. */
        t->p.shmem[0].keep = false;
        t->p.shmem[0].size_mib = 4;
        assert_int_equal(shmem_plan(&t->roots, &t->p, &t->user, &plan, &e), 0);
        assert_int_equal(plan.item[0].action, SHMEM_REUSE);
        assert_int_equal(shmem_setup(&t->roots, &t->p, &plan, &e), 0);
        assert_int_equal(lstat(path, &st), 0);
        assert_int_equal(st.st_size, 4 << 20);
        assert_int_equal(host_undo(&t->env, "lg", &e, NULL), 0);
        assert_int_equal(lstat(path, &st), -1);
        free(j);
}

static void test_refuse_inaccessible(void **state)
{
        struct tree *t = *state;
        struct shmem_plan plan;
        struct vl_error e = {};

        /* QEMU's user is neither the owner nor in the group, mode 0660. */
        t->user.uid = 4242;
        t->user.gid = 4242;
        snprintf(t->p.shmem[0].owner, sizeof(t->p.shmem[0].owner), "root");
        snprintf(t->p.shmem[0].group, sizeof(t->p.shmem[0].group), "root");
        assert_int_equal(shmem_plan(&t->roots, &t->p, &t->user, &plan, &e), -EACCES);
        assert_non_null(strstr(e.msg, "QEMU runs as \"qemu-user\", who could not read and write"));
        /* In the group: fine. */
        t->user.n_groups = 1;
        t->user.groups[0] = 0;
        assert_int_equal(shmem_plan(&t->roots, &t->p, &t->user, &plan, &e), 0);
        /* An unknown owner. */
        snprintf(t->p.shmem[0].owner, sizeof(t->p.shmem[0].owner), "no-such-user-vl");
        assert_int_equal(shmem_plan(&t->roots, &t->p, &t->user, &plan, &e), -ESRCH);
}

static void test_journal_round_trip(void **state)
{
        struct tree *t = *state;
        struct journal *j = calloc(1, sizeof(*j)), *k = calloc(1, sizeof(*k));
        struct vl_error e = {};
        char *text;

        assert_non_null(j);
        assert_non_null(k);
        journal_init(j, "lg", &t->roots);
        j->n_entries = 2;
        j->entries[0].kind = JOURNAL_SHMEM;
        snprintf(j->entries[0].shmem.path, sizeof(j->entries[0].shmem.path), "/dev/shm/looking-glass");
        j->entries[0].shmem.dev = 23;
        j->entries[0].shmem.ino = 4711;
        j->entries[0].shmem.nonce = 0x7fffffffffffffffull;
        j->entries[1].kind = JOURNAL_SHMEM_OWNER;
        snprintf(j->entries[1].shmem.path, sizeof(j->entries[1].shmem.path), "/dev/kvmfr0");
        j->entries[1].shmem.uid = 0;
        j->entries[1].shmem.gid = 0;
        j->entries[1].shmem.mode = 0600;
        text = journal_format(j);
        assert_non_null(text);
        if (journal_parse(text, strlen(text), "state.json", "lg", k, &e) != 0)
                fail_msg("%s: %s", e.msg, text);
        free(text);
        assert_int_equal(k->n_entries, 2);
        assert_int_equal(k->entries[0].kind, JOURNAL_SHMEM);
        assert_string_equal(k->entries[0].shmem.path, "/dev/shm/looking-glass");
        assert_int_equal(k->entries[0].shmem.ino, 4711);
        assert_int_equal(k->entries[0].shmem.nonce, 0x7fffffffffffffffull);
        assert_int_equal(k->entries[1].kind, JOURNAL_SHMEM_OWNER);
        assert_string_equal(k->entries[1].shmem.path, "/dev/kvmfr0");
        assert_int_equal(k->entries[1].shmem.mode, 0600);

#define HEAD "{\"version\": 2, \"name\": \"lg\", \"launcher_pid\": 5, \"launcher_start\": 0, \"qemu_pid\": 0, " \
             "\"qemu_start\": 0, \"groups\": [], \"devices\": [], \"entries\": "
        static const struct {
                const char *entries, *why;
        } bad[] = {
                { "[{\"kind\": \"shmem\", \"path\": \"/dev/shm/../../etc/passwd\", \"dev\": 1, \"ino\": 2, \"nonce\": 3}]}",
                  "\"path\" is not a valid absolute path" },
                { "[{\"kind\": \"shmem\", \"path\": \"/dev/shm/.hidden\", \"dev\": 1, \"ino\": 2, \"nonce\": 3}]}",
                  "\"path\" is not a shared memory file's" },
                { "[{\"kind\": \"shmem\", \"path\": \"/dev/shm/x\", \"ino\": 2}]}", "a shmem entry has exactly the keys" },
                { "[{\"kind\": \"shmem_owner\", \"path\": \"/dev/sda\", \"uid\": 0, \"gid\": 0, \"mode\": 384}]}",
                  "\"path\" is not a kvmfr node" },
                { "[{\"kind\": \"shmem_owner\", \"path\": \"/dev/kvmfr0\", \"uid\": 0, \"gid\": 0, \"mode\": 8192}]}",
                  "is out of range" },
        };
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                char buf[1024];
                snprintf(buf, sizeof(buf), HEAD "%s", bad[i].entries);
                assert_int_equal(journal_parse(buf, strlen(buf), "state.json", "lg", k, &e), -EBADMSG);
                if (!strstr(e.msg, bad[i].why))
                        fail_msg("case %zu: \"%s\" lacks \"%s\"", i, e.msg, bad[i].why);
        }
        free(j);
        free(k);
}

/* An entry pointing outside the roots' shm is not acted on. */
static void test_undo_only_in_shm(void **state)
{
        struct tree *t = *state;
        struct journal_entry x = { .kind = JOURNAL_SHMEM };
        struct vl_error e = {};
        char victim[512];
        struct stat st;
        int fd;

        snprintf(victim, sizeof(victim), "%s/victim", t->dev);
        fd = open(victim, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
        assert_true(fd >= 0);
        assert_int_equal(fstat(fd, &st), 0);
        close(fd);
        snprintf(x.shmem.path, sizeof(x.shmem.path), "%s", victim);
        x.shmem.dev = st.st_dev;
        x.shmem.ino = st.st_ino;
        assert_int_equal(shmem_undo_entry(&t->roots, &x, &e), -EPERM);
        assert_int_equal(lstat(victim, &st), 0);
}

static void test_kvmfr(void **state)
{
        struct tree *t = *state;
        struct shmem_plan plan;
        struct vl_error e = {};
        char node[512], sizes[512];
        struct stat st;
        FILE *f;

        if (getuid() != 0)
                vl_skip("mknod of a fake /dev/kvmfr0 needs root");
        t->p.shmem[0].backend = SHMEM_BACKEND_KVMFR;
        t->p.shmem[0].size_mib = 32;
        snprintf(node, sizeof(node), "%s/kvmfr0", t->dev);
        /* No node: the module is not loaded. */
        assert_int_equal(shmem_plan(&t->roots, &t->p, &t->user, &plan, &e), -ENODEV);
        assert_non_null(strstr(e.msg, "modprobe kvmfr static_size_mb=32"));
        /* A regular file there (QEMU made one before the module was
         * loaded): still refused. */
        assert_int_equal(close(open(node, O_CREAT | O_WRONLY | O_CLOEXEC, 0600)), 0);
        assert_int_equal(shmem_plan(&t->roots, &t->p, &t->user, &plan, &e), -ENODEV);
        assert_int_equal(unlink(node), 0);
        assert_int_equal(mknod(node, S_IFCHR | 0600, makedev(1, 3)), 0); /* a char device; never opened */
        assert_int_equal(shmem_plan(&t->roots, &t->p, &t->user, &plan, &e), 0); /* no parameter file: unchecked */
        snprintf(sizes, sizeof(sizes), "%s/module/kvmfr/parameters", t->sys);
        {
                char d[512];
                snprintf(d, sizeof(d), "%s/module", t->sys);
                (void) mkdir(d, 0755);
                snprintf(d, sizeof(d), "%s/module/kvmfr", t->sys);
                (void) mkdir(d, 0755);
                (void) mkdir(sizes, 0755);
        }
        strcat(sizes, "/static_size_mb");
        f = fopen(sizes, "we");
        assert_non_null(f);
        fputs("64\n", f);
        fclose(f);
        assert_int_equal(shmem_plan(&t->roots, &t->p, &t->user, &plan, &e), -EINVAL);
        assert_non_null(strstr(e.msg, "is 64 MiB (kvmfr's static_size_mb), not the profile's 32 MiB"));
        f = fopen(sizes, "we");
        fputs("32,64\n", f);
        fclose(f);
        t->p.shmem[0].owner[0] = '\0';
        t->user.uid = 4242;
        t->user.gid = 4343;
        assert_int_equal(shmem_plan(&t->roots, &t->p, &t->user, &plan, &e), 0);
        assert_int_equal(plan.item[0].action, SHMEM_KVMFR);
        assert_int_equal(shmem_setup(&t->roots, &t->p, &plan, &e), 0);
        assert_int_equal(lstat(node, &st), 0);
        assert_int_equal(st.st_uid, 4242);
        assert_int_equal(st.st_gid, 4343);
        assert_int_equal(st.st_mode & 07777, 0660);
        /* Given back. */
        assert_int_equal(host_undo(&t->env, "lg", &e, NULL), 0);
        assert_int_equal(lstat(node, &st), 0);
        assert_int_equal(st.st_uid, 0);
        assert_int_equal(st.st_gid, 0);
        assert_int_equal(st.st_mode & 07777, 0600);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_auto_size),
                cmocka_unit_test_setup_teardown(test_create_and_undo, setup, teardown),
                cmocka_unit_test_setup_teardown(test_undo_spares_another_inode, setup, teardown),
                cmocka_unit_test_setup_teardown(test_undo_by_nonce, setup, teardown),
                cmocka_unit_test_setup_teardown(test_refuse_user_file, setup, teardown),
                cmocka_unit_test_setup_teardown(test_keep_and_reuse, setup, teardown),
                cmocka_unit_test_setup_teardown(test_refuse_inaccessible, setup, teardown),
                cmocka_unit_test_setup_teardown(test_journal_round_trip, setup, teardown),
                cmocka_unit_test_setup_teardown(test_undo_only_in_shm, setup, teardown),
                cmocka_unit_test_setup_teardown(test_kvmfr, setup, teardown),
        };
        return vl_run_tests(tests, NULL, NULL);
}
