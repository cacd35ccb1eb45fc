/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Per-VM UEFI VARS file: create once from the template, crash-safe
 * (temp file + fsync + no-replace rename), never overwrite. See vars.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

/* Move tmp to dst unless dst exists. 0 = moved, -EEXIST = dst won. */
static int rename_noreplace(const char *tmp, const char *dst)
{
        if (renameat2(AT_FDCWD, tmp, AT_FDCWD, dst, RENAME_NOREPLACE) == 0)
                return 0;
        if (errno != EINVAL && errno != ENOSYS)
                return -errno;
        /* No RENAME_NOREPLACE here (some network file systems): link() fails
         * with EEXIST just as atomically. */
        if (link(tmp, dst) < 0)
                return -errno;
        (void) unlink(tmp);
        return 0;
}

static int fsync_dir(const char *dir)
{
        _cleanup_close_ int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

        if (fd < 0)
                return -errno;
        return fsync(fd) < 0 ? -errno : 0;
}

int vars_ensure(const char *template_path, const char *vars_path, uid_t uid, gid_t gid,
                bool mkdir_parent, bool *ret_created, struct vl_error *e)
{
        _cleanup_close_ int in = -EBADF, out = -EBADF;
        char dir[4096], tmp[4096 + 32];
        const char *base;
        struct stat st;
        int r;

        if (ret_created)
                *ret_created = false;
        if (!vars_path || vars_path[0] != '/')
                return vl_error_set(e, EINVAL, "VARS path \"%s\" is not absolute",
                                    vars_path ? vars_path : "");
        if (stat(vars_path, &st) == 0) {
                if (!S_ISREG(st.st_mode))
                        return vl_error_set(e, EEXIST, "VARS file \"%s\" exists and is not a regular file",
                                            vars_path);
                return 0; /* the VM's own variables: never replaced */
        }
        if (errno != ENOENT)
                return vl_error_set(e, errno, "VARS file \"%s\": %s", vars_path, strerror(errno));

        if (!template_path || !template_path[0])
                return vl_error_set(e, ENOENT,
                                    "VARS file \"%s\" does not exist and no template is known "
                                    "(set firmware.vars_template)",
                                    vars_path);

        if (xsnprintf(dir, sizeof(dir), "%s", vars_path) < 0)
                return vl_error_set(e, ENAMETOOLONG, "VARS path too long");
        base = strrchr(vars_path, '/') + 1;
        *strrchr(dir, '/') = '\0';
        if (!dir[0])
                strcpy(dir, "/");
        if (!base[0])
                return vl_error_set(e, EINVAL, "VARS path \"%s\" names a folder", vars_path);
        if (mkdir_parent && mkdir(dir, 0755) < 0 && errno != EEXIST)
                return vl_error_set(e, errno, "cannot create \"%s\": %s", dir, strerror(errno));

        in = open(template_path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (in < 0)
                return vl_error_set(e, errno, "VARS template \"%s\": %s", template_path,
                                    strerror(errno));
        if (fstat(in, &st) < 0)
                return vl_error_set(e, errno, "VARS template \"%s\": %s", template_path,
                                    strerror(errno));
        if (!S_ISREG(st.st_mode) || (uint64_t) st.st_size > VARS_TEMPLATE_MAX)
                return vl_error_set(e, EINVAL,
                                    "VARS template \"%s\" is not a regular file of at most %u MiB",
                                    template_path, VARS_TEMPLATE_MAX >> 20);

        /* mkostemp creates with O_CREAT|O_EXCL and mode 0600. The dot name
         * keeps a half-written copy from looking like a VARS file. */
        if (xsnprintf(tmp, sizeof(tmp), "%s/.%s.XXXXXX", strcmp(dir, "/") ? dir : "", base) < 0)
                return vl_error_set(e, ENAMETOOLONG, "VARS path too long");
        out = mkostemp(tmp, O_CLOEXEC);
        if (out < 0)
                return vl_error_set(e, errno, "cannot create a file in \"%s\": %s", dir,
                                    strerror(errno));

        r = copy_fd(in, out, (uint64_t) st.st_size);
        if (r < 0) {
                vl_error_set(e, -r, "copying \"%s\" to \"%s\": %s", template_path, tmp,
                             strerror(-r));
                goto fail;
        }
        if (uid != (uid_t) -1 && fchown(out, uid, gid) < 0) {
                r = vl_error_set(e, errno, "chown \"%s\": %s", tmp, strerror(errno));
                goto fail;
        }
        if (fsync(out) < 0) {
                r = vl_error_set(e, errno, "fsync \"%s\": %s", tmp, strerror(errno));
                goto fail;
        }
        r = close(TAKE_FD(out));
        if (r < 0 && errno != EINTR) {
                r = vl_error_set(e, errno, "close \"%s\": %s", tmp, strerror(errno));
                goto fail;
        }
        r = rename_noreplace(tmp, vars_path);
        if (r == -EEXIST) {
                (void) unlink(tmp);
                return 0; /* someone else created it first: theirs is used as is */
        }
        if (r < 0) {
                vl_error_set(e, -r, "cannot create \"%s\": %s", vars_path, strerror(-r));
                goto fail;
        }
        r = fsync_dir(dir);
        if (r < 0)
                return vl_error_set(e, -r, "fsync \"%s\": %s", dir, strerror(-r));
        if (ret_created)
                *ret_created = true;
        return 0;
fail:
        (void) unlink(tmp);
        return r;
}
