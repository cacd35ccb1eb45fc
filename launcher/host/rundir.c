/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The per-VM run directory and its instance lock (rundir.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/macro.h"
#include "host/rundir.h"

void (*rundir_lock_test_hook)(void);

int rundir_path(char *buf, size_t size, const char *run_dir, const char *name, const char *file)
{
        return xsnprintf(buf, size, "%s/%s%s%s", run_dir, name, file ? "/" : "", file ? file : "");
}

/* Open and lock path. 0 with *ret_fd locked; -EWOULDBLOCK (*ret_fd open,
 * for the holder's PID); -ESTALE when the file locked is no longer the one
 * at the path (its holder unlinked it before letting go: the lock holds
 * nothing, open the path again); other -errno. */
static int lock_once(const char *path, int *ret_fd)
{
        _cleanup_close_ int fd = -EBADF;
        struct stat fst, pst;

        fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK, 0600);
        if (fd < 0)
                return -errno;
        if (rundir_lock_test_hook)
                rundir_lock_test_hook();
        if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
                int r = -errno;
                if (r == -EWOULDBLOCK)
                        *ret_fd = TAKE_FD(fd);
                return r;
        }
        if (fstat(fd, &fst) < 0)
                return -errno;
        if (!S_ISREG(fst.st_mode) || fst.st_nlink == 0 || stat(path, &pst) < 0 || fst.st_dev != pst.st_dev ||
            fst.st_ino != pst.st_ino)
                return -ESTALE;
        *ret_fd = TAKE_FD(fd);
        return 0;
}

int rundir_lock(const char *run_dir, const char *name, pid_t *ret_holder, struct vl_error *e)
{
        char dir[4096], path[4096], pidbuf[32];
        struct stat st;
        int fd = -1, n, r;

        if (rundir_path(dir, sizeof(dir), run_dir, name, NULL) < 0 ||
            rundir_path(path, sizeof(path), run_dir, name, RUNDIR_LOCK_FILE) < 0)
                return vl_error_set(e, ENAMETOOLONG, "run directory path too long");
        if (mkdir(run_dir, 0755) < 0 && errno != EEXIST)
                return vl_error_set(e, errno, "cannot create '%s': %s", run_dir, strerror(errno));
        for (unsigned attempt = 0;; attempt++) {
                /* The holder removes the folder too when it is done. */
                if (mkdir(dir, 0700) < 0 && errno != EEXIST)
                        return vl_error_set(e, errno, "cannot create '%s': %s", dir, strerror(errno));
                /* Never follow a planted symlink or use a folder someone else owns. */
                if (lstat(dir, &st) < 0)
                        return vl_error_set(e, errno, "'%s': %s", dir, strerror(errno));
                if (!S_ISDIR(st.st_mode) || st.st_uid != geteuid())
                        return vl_error_set(e, EPERM, "'%s' is not a directory owned by uid %u", dir,
                                            (unsigned) geteuid());
                r = lock_once(path, &fd);
                if (r != -ESTALE && r != -ENOENT)
                        break;
                if (attempt >= 16)
                        return vl_error_set(e, EAGAIN, "'%s' keeps being replaced: cannot lock it", path);
        }
        if (r == -EWOULDBLOCK) {
                n = (int) pread(fd, pidbuf, sizeof(pidbuf) - 1, 0);
                pidbuf[n > 0 ? n : 0] = '\0';
                close(fd);
                *ret_holder = (pid_t) atoi(pidbuf);
                return vl_error_set(e, EBUSY, "VM \"%s\" is already running (vfio-launch pid %d)", name,
                                    (int) *ret_holder);
        }
        if (r < 0)
                return vl_error_set(e, -r, "cannot lock '%s': %s", path, strerror(-r));
        n = snprintf(pidbuf, sizeof(pidbuf), "%d\n", (int) getpid());
        if (ftruncate(fd, 0) < 0 || pwrite(fd, pidbuf, (size_t) n, 0) != n) {
                r = errno;
                close(fd);
                return vl_error_set(e, r, "cannot write '%s': %s", path, strerror(r));
        }
        return fd;
}

void rundir_unlock(const char *run_dir, const char *name, int fd)
{
        char path[4096];

        if (fd < 0)
                return;
        /* Unlink while still holding the lock, so a waiting second instance
         * cannot lock a file that is about to disappear. */
        if (rundir_path(path, sizeof(path), run_dir, name, RUNDIR_LOCK_FILE) == 0)
                (void) unlink(path);
        if (rundir_path(path, sizeof(path), run_dir, name, NULL) == 0)
                (void) rmdir(path); /* fails while a journal remains: on purpose */
        close(fd);
}
