/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Per-VM UEFI VARS file: create once from the template, crash-safe
 * (temp file + fsync + no-replace rename), never overwrite; every path
 * opened the way root may trust it (fs_open_trusted()). See vars.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/fs.h"
#include "base/macro.h"
#include "host/vars.h"

int vars_default_path(const char *state_dir, const char *name, char *ret, size_t size)
{
        return xsnprintf(ret, size, "%s/%s/%s_VARS.fd", state_dir, name, name);
}

static int copy_fd(int in, int out, uint64_t size)
{
        char buf[64 * 1024];
        uint64_t done = 0;

        for (;;) {
                ssize_t n = fs_read_full(in, buf, sizeof(buf));
                int r;

                if (n < 0)
                        return (int) n;
                if (n == 0)
                        break;
                done += (uint64_t) n;
                /* The template grew while we read it: not a firmware image. */
                if (done > VARS_TEMPLATE_MAX)
                        return -EFBIG;
                r = fs_write_full(out, buf, (size_t) n);
                if (r < 0)
                        return r;
        }
        return done == size ? 0 : -EIO;
}

/* Move tmp to dst (both in dfd) unless dst exists. 0 = moved, -EEXIST =
 * dst won. */
static int rename_noreplace(int dfd, const char *tmp, const char *dst)
{
        if (renameat2(dfd, tmp, dfd, dst, RENAME_NOREPLACE) == 0)
                return 0;
        if (errno != EINVAL && errno != ENOSYS)
                return -errno;
        /* No RENAME_NOREPLACE here (some network file systems): link() fails
         * with EEXIST just as atomically. */
        if (linkat(dfd, tmp, dfd, dst, 0) < 0)
                return -errno;
        (void) unlinkat(dfd, tmp, 0);
        return 0;
}

static int fsync_dir(int dfd)
{
        _cleanup_close_ int fd = openat(dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);

        if (fd < 0)
                return -errno;
        return fsync(fd) < 0 ? -errno : 0;
}

/* A new file ".BASE.XXXXXX" in dfd, O_EXCL, mode 0600 (mkostemp() in a
 * folder given by fd). Its name into tmp. */
static int create_temp(int dfd, const char *base, char *tmp, size_t size)
{
        for (int tries = 0; tries < 100; tries++) {
                uint64_t rnd = 0;
                int fd;

                if (getrandom(&rnd, sizeof(rnd), GRND_NONBLOCK) != sizeof(rnd))
                        rnd ^= ((uint64_t) getpid() << 32) ^ (uint64_t) tries ^ (uint64_t) (uintptr_t) tmp;
                /* The dot name keeps a half-written copy from looking like a
                 * VARS file. */
                if (xsnprintf(tmp, size, ".%s.%06llx", base, (unsigned long long) (rnd & 0xffffff)) < 0)
                        return -ENAMETOOLONG;
                fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
                if (fd >= 0 || errno != EEXIST)
                        return fd >= 0 ? fd : -errno;
        }
        return -EEXIST;
}

/* The VM's existing VARS: QEMU's user's regular file (looked at before it
 * is opened, opened without following a link or blocking, looked at again). */
static int check_existing(int dfd, const char *base, const char *path, uid_t owner,
                          struct vl_error *e)
{
        _cleanup_close_ int fd = -EBADF;
        struct stat st;

        if (fstatat(dfd, base, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return vl_error_set(e, errno, "VARS file '%s': %s", path, strerror(errno));
        if (S_ISLNK(st.st_mode))
                return vl_error_set(e, ELOOP, "VARS file '%s' is a symbolic link (name the file itself)",
                                    path);
        if (!S_ISREG(st.st_mode))
                return vl_error_set(e, EEXIST, "VARS file '%s' exists and is not a regular file", path);
        fd = openat(dfd, base, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
        if (fd < 0 && errno == ELOOP)
                return vl_error_set(e, ELOOP, "VARS file '%s' is a symbolic link (name the file itself)",
                                    path);
        if (fd < 0 || fstat(fd, &st) < 0)
                return vl_error_set(e, errno, "VARS file '%s': %s", path, strerror(errno));
        if (!S_ISREG(st.st_mode))
                return vl_error_set(e, EEXIST, "VARS file '%s' exists and is not a regular file", path);
        if (st.st_uid != owner)
                return vl_error_set(e, EPERM,
                                    "VARS file '%s' belongs to uid %u, not to uid %u that QEMU runs as "
                                    "(chown %u '%s')",
                                    path, (unsigned) st.st_uid, (unsigned) owner, (unsigned) owner, path);
        return 0;
}

/* Create the last level of dir (0755) in its parent, a trusted folder;
 * levels > 1 creates the parent first the same way when it is missing. */
static int make_folder(const char *dir, uid_t owner, gid_t group, unsigned levels, struct vl_error *e)
{
        _cleanup_close_ int pfd = -EBADF;
        char parent[4096], *slash;
        const char *leaf;
        struct vl_error pe = {};

        if (xsnprintf(parent, sizeof(parent), "%s", dir) < 0)
                return vl_error_set(e, ENAMETOOLONG, "VARS path too long");
        slash = strrchr(parent, '/');
        leaf = dir + (slash - parent) + 1;
        slash[slash == parent ? 1 : 0] = '\0'; /* "/x" -> "/", "/a/x" -> "/a" */
        pfd = fs_open_dir_trusted(parent, owner, group, "VARS folder", &pe);
        if (pfd == -ENOENT && levels > 1) {
                int r = make_folder(parent, owner, group, levels - 1, e);

                if (r < 0)
                        return r;
                pfd = fs_open_dir_trusted(parent, owner, group, "VARS folder", &pe);
        }
        if (pfd < 0) {
                *e = pe;
                return pfd;
        }
        if (leaf[0] && mkdirat(pfd, leaf, 0755) < 0 && errno != EEXIST)
                return vl_error_set(e, errno, "cannot create '%s': %s", dir, strerror(errno));
        return 0;
}

/* The folder of the VARS, as root may create a file in it: of root's or of
 * QEMU's user, no other account may change it or the folders above; with
 * mkdir_parent it and its parent (STATE_DIR/NAME and STATE_DIR, on the
 * first run after an install that made neither) are created first (0755). */
static int open_folder(const char *dir, uid_t owner, gid_t group, bool mkdir_parent,
                       struct vl_error *e)
{
        int r;

        if (mkdir_parent && (r = make_folder(dir, owner, group, 2, e)) < 0)
                goto fail;
        r = fs_open_dir_trusted(dir, owner, group, "VARS folder", e);
        if (r >= 0)
                return r;
fail:
        if (r == -EPERM || r == -ELOOP || r == -ENOTDIR)
                vl_error_append(e, ": root creates the VARS only in folders of root's or of QEMU's "
                                   "user that no other account may change");
        return r;
}

int vars_ensure(const char *template_path, const char *vars_path, uid_t uid, gid_t gid,
                bool mkdir_parent, bool *ret_created, struct vl_error *e)
{
        _cleanup_close_ int dfd = -EBADF, in = -EBADF, out = -EBADF;
        uid_t owner = uid == (uid_t) -1 ? geteuid() : uid;
        gid_t group = uid == (uid_t) -1 ? getegid() : gid;
        char dir[4096], tmp[300];
        const char *base;
        struct vl_error te = {};
        struct stat st;
        int r;

        if (ret_created)
                *ret_created = false;
        if (!vars_path || vars_path[0] != '/')
                return vl_error_set(e, EINVAL, "VARS path '%s' is not absolute",
                                    vars_path ? vars_path : "");
        if (xsnprintf(dir, sizeof(dir), "%s", vars_path) < 0)
                return vl_error_set(e, ENAMETOOLONG, "VARS path too long");
        base = strrchr(vars_path, '/') + 1;
        *strrchr(dir, '/') = '\0';
        if (!dir[0])
                strcpy(dir, "/");
        if (!base[0] || strcmp(base, ".") == 0 || strcmp(base, "..") == 0)
                return vl_error_set(e, EINVAL, "VARS path '%s' names a folder", vars_path);

        dfd = open_folder(dir, owner, group, mkdir_parent, e);
        if (dfd < 0)
                return dfd;

        /* The VM's own variables: never replaced. */
        if (fstatat(dfd, base, &st, AT_SYMLINK_NOFOLLOW) == 0)
                return check_existing(dfd, base, vars_path, owner, e);
        if (errno != ENOENT)
                return vl_error_set(e, errno, "VARS file '%s': %s", vars_path, strerror(errno));

        if (!template_path || !template_path[0])
                return vl_error_set(e, ENOENT,
                                    "VARS file '%s' does not exist and no template is known "
                                    "(set firmware.vars_template)",
                                    vars_path);
        /* The template is root's to give: the reader's own files besides
         * root's only when the reader is not root. */
        in = fs_open_trusted(template_path, geteuid(), getegid(), "VARS template", &st, &te);
        if (in < 0) {
                if (e)
                        *e = te;
                vl_error_append(e, ": root copies only a template that root owns, in folders no "
                                   "other account may change (use the firmware package's, under "
                                   "/usr/share)");
                return in;
        }
        if ((uint64_t) st.st_size > VARS_TEMPLATE_MAX)
                return vl_error_set(e, EFBIG, "VARS template '%s' is larger than %u MiB", template_path,
                                    VARS_TEMPLATE_MAX >> 20);

        out = create_temp(dfd, base, tmp, sizeof(tmp));
        if (out < 0)
                return vl_error_set(e, -out, "cannot create a file in '%s': %s", dir, strerror(-out));

        r = copy_fd(in, out, (uint64_t) st.st_size);
        if (r < 0) {
                vl_error_set(e, -r, "copying '%s' to '%s/%s': %s", template_path, dir, tmp,
                             strerror(-r));
                goto fail;
        }
        if (uid != (uid_t) -1 && fchown(out, uid, gid) < 0) {
                r = vl_error_set(e, errno, "chown '%s/%s': %s", dir, tmp, strerror(errno));
                goto fail;
        }
        if (fsync(out) < 0) {
                r = vl_error_set(e, errno, "fsync '%s/%s': %s", dir, tmp, strerror(errno));
                goto fail;
        }
        r = close(TAKE_FD(out));
        if (r < 0 && errno != EINTR) {
                r = vl_error_set(e, errno, "close '%s/%s': %s", dir, tmp, strerror(errno));
                goto fail;
        }
        r = rename_noreplace(dfd, tmp, base);
        if (r == -EEXIST) {
                (void) unlinkat(dfd, tmp, 0);
                return 0; /* someone else created it first: theirs is used as is */
        }
        if (r < 0) {
                vl_error_set(e, -r, "cannot create '%s': %s", vars_path, strerror(-r));
                goto fail;
        }
        r = fsync_dir(dfd);
        if (r < 0)
                return vl_error_set(e, -r, "fsync '%s': %s", dir, strerror(-r));
        if (ret_created)
                *ret_created = true;
        return 0;
fail:
        (void) unlinkat(dfd, tmp, 0);
        return r;
}
