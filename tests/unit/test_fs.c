/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * fs_open_trusted() and friends (base/fs.h): what root believes. A temp tree
 * under /tmp (sticky: allowed on the way); the cases that need another
 * account give files to nobody and run as root only.
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

#include "base/fs.h"
#include "vl_tmp.h"

static char tmp[256];

static int setup(void **state)
{
        strcpy(tmp, "/tmp/vl-test-fs.XXXXXX");
        return mkdtemp(tmp) ? 0 : -1;
}

static int teardown(void **state)
{
        return vl_rm_tree(tmp);
}

static void pathj(char *buf, size_t size, const char *name)
{
        assert_true(snprintf(buf, size, "%s/%s", tmp, name) < (int) size);
}

static void write_file(const char *path, const char *content)
{
        int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

        assert_true(fd >= 0);
        assert_int_equal(write(fd, content, strlen(content)), (ssize_t) strlen(content));
        assert_int_equal(close(fd), 0);
}

/* Open as root (or the runner's own), read what is there, close. */
static int open_read(const char *path, uid_t uid, gid_t gid, char *buf, size_t size, struct vl_error *e)
{
        int fd = fs_open_trusted(path, uid, gid, "file", NULL, e);
        ssize_t n;

        if (fd < 0)
                return fd;
        n = read(fd, buf, size - 1);
        close(fd);
        assert_true(n >= 0);
        buf[n] = '\0';
        return 0;
}

/* What holds for any runner: the runner's own files in its own folders,
 * through sticky /tmp; no symlink, FIFO or device; "." and ".." lexically. */
static void test_own(void **state)
{
        uid_t u = geteuid();
        gid_t g = getegid();
        char p[400], q[400], buf[64];
        struct vl_error e = {};
        int fd;

        pathj(p, sizeof(p), "a");
        assert_int_equal(mkdir(p, 0755), 0);
        pathj(p, sizeof(p), "a/f");
        write_file(p, "content");
        assert_int_equal(open_read(p, u, g, buf, sizeof(buf), &e), 0);
        assert_string_equal(buf, "content");
        /* lexical "." and "..", "//" */
        assert_true(snprintf(q, sizeof(q), "%s/./a/../a//f", tmp) > 0);
        assert_int_equal(open_read(q, u, g, buf, sizeof(buf), &e), 0);
        assert_string_equal(buf, "content");

        /* not absolute, missing, a folder where a file is expected */
        assert_int_equal(fs_open_trusted("a/f", u, g, "file", NULL, &e), -EINVAL);
        assert_string_equal(e.msg, "file 'a/f' is not an absolute path");
        pathj(p, sizeof(p), "a/missing");
        assert_int_equal(fs_open_trusted(p, u, g, "file", NULL, &e), -ENOENT);
        pathj(p, sizeof(p), "a");
        assert_int_equal(fs_open_trusted(p, u, g, "file", NULL, &e), -EINVAL);
        assert_int_equal(fs_open_trusted("/", u, g, "file", NULL, &e), -EINVAL);

        /* a symlink as the file, and on the way */
        pathj(p, sizeof(p), "a/link");
        pathj(q, sizeof(q), "a/f");
        assert_int_equal(symlink(q, p), 0);
        assert_int_equal(fs_open_trusted(p, u, g, "file", NULL, &e), -ELOOP);
        assert_true(snprintf(q, sizeof(q), "file '%s' is a symbolic link", p) > 0);
        assert_string_equal(e.msg, q);
        pathj(p, sizeof(p), "b");
        pathj(q, sizeof(q), "a");
        assert_int_equal(symlink(q, p), 0);
        pathj(p, sizeof(p), "b/f");
        assert_int_equal(fs_open_trusted(p, u, g, "file", NULL, &e), -ELOOP);
        pathj(q, sizeof(q), "b");
        assert_non_null(strstr(e.msg, q));
        assert_non_null(strstr(e.msg, "' is a symbolic link"));
        assert_int_equal(fs_open_dir_trusted(p, u, g, "folder", &e), -ELOOP);

        /* a FIFO is never opened (would block), a device never opened */
        pathj(p, sizeof(p), "a/fifo");
        assert_int_equal(mkfifo(p, 0644), 0);
        alarm(10);
        assert_int_equal(fs_open_trusted(p, u, g, "file", NULL, &e), -EINVAL);
        alarm(0);
        assert_non_null(strstr(e.msg, "is not a regular file"));
        assert_int_equal(fs_open_trusted("/dev/null", u, g, "file", NULL, &e), -EINVAL);

        /* a folder every account may write (not sticky) */
        pathj(p, sizeof(p), "loose");
        assert_int_equal(mkdir(p, 0777), 0);
        assert_int_equal(chmod(p, 0777), 0);
        pathj(q, sizeof(q), "loose/f");
        write_file(q, "x");
        assert_int_equal(fs_open_trusted(q, u, g, "VARS template", NULL, &e), -EPERM);
        {
                char want[1000];
                assert_true(snprintf(want, sizeof(want),
                                     "VARS template '%s': '%s' is writable by every account (mode 0777)",
                                     q, p) > 0);
                assert_string_equal(e.msg, want);
        }
        /* ... unless sticky, as /tmp: its entries are checked themselves */
        assert_int_equal(chmod(p, 01777), 0);
        assert_int_equal(open_read(q, u, g, buf, sizeof(buf), &e), 0);
        /* a file others may write */
        assert_int_equal(chmod(q, 0666), 0);
        assert_int_equal(fs_open_trusted(q, u, g, "file", NULL, &e), -EPERM);
        assert_non_null(strstr(e.msg, "is writable by every account (mode 0666)"));

        /* the folder itself, opened for the *at() calls */
        pathj(p, sizeof(p), "a");
        fd = fs_open_dir_trusted(p, u, g, "folder", &e);
        assert_true(fd >= 0);
        assert_int_equal(faccessat(fd, "f", F_OK, 0), 0);
        close(fd);
        fd = fs_open_dir_trusted("/", u, g, "folder", &e);
        assert_true(fd >= 0);
        close(fd);
}

/* Root only: files and folders of another account, and group write. */
static void test_other_account(void **state)
{
        struct passwd *pw = getpwnam("nobody");
        char p[400], q[400], buf[64];
        struct vl_error e = {};
        uid_t nuid;
        gid_t ngid;

        if (geteuid() != 0 || !pw || pw->pw_uid == 0)
                skip();
        nuid = pw->pw_uid;
        ngid = pw->pw_gid;

        /* nobody's file: not root's; believed for nobody */
        pathj(p, sizeof(p), "f");
        write_file(p, "nobody's");
        assert_int_equal(chown(p, nuid, ngid), 0);
        assert_int_equal(fs_open_trusted(p, 0, 0, "firmware descriptor", NULL, &e), -EPERM);
        assert_true(snprintf(q, sizeof(q), "firmware descriptor '%s' belongs to uid %u", p,
                             (unsigned) nuid) > 0);
        assert_string_equal(e.msg, q);
        assert_int_equal(open_read(p, nuid, ngid, buf, sizeof(buf), &e), 0);

        /* root's file in nobody's folder: the folder could swap it */
        pathj(p, sizeof(p), "home");
        assert_int_equal(mkdir(p, 0755), 0);
        assert_int_equal(chown(p, nuid, ngid), 0);
        pathj(q, sizeof(q), "home/f");
        write_file(q, "root's");
        assert_int_equal(fs_open_trusted(q, 0, 0, "file", NULL, &e), -EPERM);
        assert_non_null(strstr(e.msg, "belongs to uid"));
        assert_int_equal(open_read(q, nuid, ngid, buf, sizeof(buf), &e), 0);

        /* a folder its group may write: refused unless the group is root's
         * or the given account's */
        pathj(p, sizeof(p), "grp");
        assert_int_equal(mkdir(p, 0775), 0);
        assert_int_equal(chmod(p, 0775), 0);
        assert_int_equal(chown(p, 0, ngid), 0);
        pathj(q, sizeof(q), "grp/f");
        write_file(q, "root's");
        assert_int_equal(fs_open_trusted(q, 0, 0, "file", NULL, &e), -EPERM);
        assert_true(snprintf(buf, sizeof(buf), "writable by group %u (mode 0775)", (unsigned) ngid) > 0);
        assert_non_null(strstr(e.msg, buf));
        assert_int_equal(open_read(q, nuid, ngid, buf, sizeof(buf), &e), 0);
        assert_int_equal(chown(p, 0, 0), 0);
        assert_int_equal(open_read(q, 0, 0, buf, sizeof(buf), &e), 0);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_own, setup, teardown),
                cmocka_unit_test_setup_teardown(test_other_account, setup, teardown),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
