/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Paths under a root and small pseudo-files: see fs.h. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/fs.h"

int fs_join(char *buf, size_t size, const char *root, const char *fmt, ...)
{
        va_list ap;
        size_t n;
        int r;

        n = strlen(root);
        while (n > 1 && root[n - 1] == '/')
                n--;
        if (n + 2 > size)
                return -ENAMETOOLONG;
        memcpy(buf, root, n);
        buf[n++] = '/';
        va_start(ap, fmt);
        r = vsnprintf(buf + n, size - n, fmt, ap);
        va_end(ap);
        if (r < 0 || (size_t) r >= size - n)
                return -ENAMETOOLONG;
        return 0;
}

ssize_t fs_read_full(int fd, void *buf, size_t size)
{
        size_t off = 0;

        while (off < size) {
                ssize_t k = read(fd, (char *) buf + off, size - off);
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (k == 0)
                        break;
                off += (size_t) k;
        }
        return (ssize_t) off;
}

int fs_write_full(int fd, const void *buf, size_t len)
{
        const char *p = buf;

        while (len > 0) {
                ssize_t k = write(fd, p, len);
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                p += k;
                len -= (size_t) k;
        }
        return 0;
}

int fs_read(const char *path, char *buf, size_t size)
{
        _cleanup_close_ int fd = -EBADF;
        ssize_t n;

        if (size < 2)
                return -EINVAL;
        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
        if (fd < 0)
                return -errno;
        /* One byte more than fits: its presence says the file is too big. */
        n = fs_read_full(fd, buf, size);
        if (n < 0)
                return (int) n;
        if ((size_t) n == size)
                return -EFBIG;
        buf[n] = '\0';
        if (n > 0 && buf[n - 1] == '\n')
                buf[n - 1] = '\0';
        return 0;
}

int fs_read_hex(const char *path, uint32_t *ret)
{
        char buf[32], *end;
        unsigned long v;
        int r;

        r = fs_read(path, buf, sizeof(buf));
        if (r < 0)
                return r;
        if (strncmp(buf, "0x", 2) != 0 || buf[2] == '\0')
                return -EINVAL;
        errno = 0;
        v = strtoul(buf + 2, &end, 16);
        if (errno != 0 || *end != '\0' || v > UINT32_MAX)
                return -EINVAL;
        *ret = (uint32_t) v;
        return 0;
}

int fs_read_link_name(const char *path, char *buf, size_t size)
{
        char target[4096];
        const char *base;
        ssize_t k;
        size_t n;

        k = readlink(path, target, sizeof(target) - 1);
        if (k < 0)
                return -errno;
        target[k] = '\0';
        while (k > 1 && target[k - 1] == '/')
                target[--k] = '\0';
        base = strrchr(target, '/');
        base = base ? base + 1 : target;
        n = strlen(base);
        if (n == 0)
                return -EINVAL;
        if (n + 1 > size)
                return -ENAMETOOLONG;
        memcpy(buf, base, n + 1);
        return 0;
}

int fs_exists(const char *path)
{
        struct stat st;

        return lstat(path, &st) == 0;
}

/* ---- files root trusts (fs.h) ------------------------------------------ */

/* "WHAT 'SUBJECT' PROBLEM" when the part at fault is the subject itself,
 * else "WHAT 'SUBJECT': 'PART' PROBLEM". */
static int trust_fail(struct vl_error *e, int err, const char *what, const char *subject,
                      const char *part, const char *problem)
{
        if (strcmp(part, subject) == 0)
                return vl_error_set(e, err, "%s '%s' %s", what, subject, problem);
        return vl_error_set(e, err, "%s '%s': '%s' %s", what, subject, part, problem);
}

/* Owned by root or uid; writable by no other account (a sticky folder's
 * entries are only replaced by their owners). 0, or -EPERM with problem. */
static int trust_judge(const struct stat *st, uid_t uid, gid_t gid, char *problem, size_t size)
{
        bool sticky = S_ISDIR(st->st_mode) && (st->st_mode & S_ISVTX);
        unsigned mode = (unsigned) st->st_mode & 07777;

        if (st->st_uid != 0 && st->st_uid != uid) {
                (void) snprintf(problem, size, "belongs to uid %u", (unsigned) st->st_uid);
                return -EPERM;
        }
        if (sticky)
                return 0;
        if (st->st_mode & S_IWOTH) {
                (void) snprintf(problem, size, "is writable by every account (mode %04o)", mode);
                return -EPERM;
        }
        if ((st->st_mode & S_IWGRP) && st->st_gid != 0 && st->st_gid != gid) {
                (void) snprintf(problem, size, "is writable by group %u (mode %04o)",
                                (unsigned) st->st_gid, mode);
                return -EPERM;
        }
        return 0;
}

/* path without "//", "." and ".." (lexically), into buf; "/" stays "/". */
static int trust_normalize(const char *path, char *buf, size_t size)
{
        const char *p = path;
        size_t n = 0;

        if (path[0] != '/')
                return -EINVAL;
        buf[0] = '\0';
        while (*p) {
                const char *s;
                size_t len;

                while (*p == '/')
                        p++;
                s = p;
                while (*p && *p != '/')
                        p++;
                len = (size_t) (p - s);
                if (len == 0 || (len == 1 && s[0] == '.'))
                        continue;
                if (len == 2 && s[0] == '.' && s[1] == '.') {
                        char *slash = strrchr(buf, '/');
                        if (slash) {
                                *slash = '\0';
                                n = (size_t) (slash - buf);
                        }
                        continue;
                }
                if (n + 1 + len + 1 > size)
                        return -ENAMETOOLONG;
                buf[n++] = '/';
                memcpy(buf + n, s, len);
                n += len;
                buf[n] = '\0';
        }
        if (n == 0) {
                if (size < 2)
                        return -ENAMETOOLONG;
                strcpy(buf, "/");
        }
        return 0;
}

/* Walk to the folder dir (normalised), component by component; subject is
 * what the messages are about. */
static int trust_walk(char *dir, const char *subject, uid_t uid, gid_t gid, const char *what,
                      struct vl_error *e)
{
        _cleanup_close_ int fd = -EBADF;
        char problem[96];
        struct stat st;
        char *p = dir;
        int r;

        fd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0 || fstat(fd, &st) < 0)
                return vl_error_set(e, errno, "%s '%s': '/': %s", what, subject, strerror(errno));
        if ((r = trust_judge(&st, uid, gid, problem, sizeof(problem))) < 0)
                return trust_fail(e, -r, what, subject, "/", problem);

        while (p[0] == '/' && p[1]) {
                char *name = p + 1, *end = strchrnul(name, '/'), saved = *end;
                int nfd, err;

                *end = '\0'; /* dir, up to here, is the part looked at */
                nfd = openat(fd, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (nfd < 0) {
                        err = errno;
                        if ((err == ENOTDIR || err == ELOOP) &&
                            fstatat(fd, name, &st, AT_SYMLINK_NOFOLLOW) == 0)
                                r = S_ISLNK(st.st_mode)
                                            ? trust_fail(e, ELOOP, what, subject, dir, "is a symbolic link")
                                            : trust_fail(e, ENOTDIR, what, subject, dir, "is not a folder");
                        else if (strcmp(dir, subject) == 0)
                                r = vl_error_set(e, err, "%s '%s': %s", what, subject, strerror(err));
                        else
                                r = vl_error_set(e, err, "%s '%s': '%s': %s", what, subject, dir,
                                                 strerror(err));
                        *end = saved;
                        return r;
                }
                if (fstat(nfd, &st) < 0) {
                        err = errno;
                        (void) close(nfd);
                        *end = saved;
                        return vl_error_set(e, err, "%s '%s': %s", what, subject, strerror(err));
                }
                if ((r = trust_judge(&st, uid, gid, problem, sizeof(problem))) < 0) {
                        (void) close(nfd);
                        r = trust_fail(e, -r, what, subject, dir, problem);
                        *end = saved;
                        return r;
                }
                *end = saved;
                (void) close(fd);
                fd = nfd;
                p = end;
        }
        return TAKE_FD(fd);
}

int fs_open_dir_trusted(const char *path, uid_t uid, gid_t gid, const char *what,
                        struct vl_error *e)
{
        char norm[4096], subject[4096];
        int r = trust_normalize(path, norm, sizeof(norm));

        if (r == -EINVAL)
                return vl_error_set(e, EINVAL, "%s '%s' is not an absolute path", what, path);
        if (r < 0)
                return vl_error_set(e, -r, "%s '%s': %s", what, path, strerror(-r));
        /* Messages name the normalised path: that is the folder opened. */
        strcpy(subject, norm);
        return trust_walk(norm, subject, uid, gid, what, e);
}

int fs_open_file_trusted(int dfd, const char *name, const char *path, uid_t uid, gid_t gid,
                         const char *what, struct stat *ret_st, struct vl_error *e)
{
        _cleanup_close_ int fd = -EBADF;
        char problem[96];
        struct stat st;
        int r;

        /* Look before opening: a device node is not even opened. */
        if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return vl_error_set(e, errno, "%s '%s': %s", what, path, strerror(errno));
        if (S_ISLNK(st.st_mode))
                return trust_fail(e, ELOOP, what, path, path, "is a symbolic link");
        if (!S_ISREG(st.st_mode))
                return trust_fail(e, EINVAL, what, path, path, "is not a regular file");
        fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
        if (fd < 0) {
                if (errno == ELOOP)
                        return trust_fail(e, ELOOP, what, path, path, "is a symbolic link");
                return vl_error_set(e, errno, "%s '%s': %s", what, path, strerror(errno));
        }
        if (fstat(fd, &st) < 0)
                return vl_error_set(e, errno, "%s '%s': %s", what, path, strerror(errno));
        if (!S_ISREG(st.st_mode))
                return trust_fail(e, EINVAL, what, path, path, "is not a regular file");
        if ((r = trust_judge(&st, uid, gid, problem, sizeof(problem))) < 0)
                return trust_fail(e, -r, what, path, path, problem);
        if (ret_st)
                *ret_st = st;
        return TAKE_FD(fd);
}

int fs_open_trusted(const char *path, uid_t uid, gid_t gid, const char *what,
                    struct stat *ret_st, struct vl_error *e)
{
        _cleanup_close_ int dfd = -EBADF;
        char norm[4096], name[4096], *slash;
        int r = trust_normalize(path, norm, sizeof(norm));

        if (r == -EINVAL)
                return vl_error_set(e, EINVAL, "%s '%s' is not an absolute path", what, path);
        if (r < 0)
                return vl_error_set(e, -r, "%s '%s': %s", what, path, strerror(-r));
        if (strcmp(norm, "/") == 0)
                return trust_fail(e, EINVAL, what, path, path, "is not a regular file");
        slash = strrchr(norm, '/');
        strcpy(name, slash + 1);
        slash[slash == norm ? 1 : 0] = '\0'; /* "/x" -> "/", "/a/x" -> "/a" */
        dfd = trust_walk(norm, path, uid, gid, what, e);
        if (dfd < 0)
                return dfd;
        return fs_open_file_trusted(dfd, name, path, uid, gid, what, ret_st, e);
}
