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

#include "host/rundir.h"

int rundir_path(char *buf, size_t size, const char *run_dir, const char *name, const char *file)
{
        return xsnprintf(buf, size, "%s/%s%s%s", run_dir, name, file ? "/" : "", file ? file : "");
}

int rundir_lock(const char *run_dir, const char *name, pid_t *ret_holder, struct vl_error *e)
{
        char dir[4096], path[4096], pidbuf[32];
        struct stat st;
        int fd, n;

        if (rundir_path(dir, sizeof(dir), run_dir, name, NULL) < 0 ||
            rundir_path(path, sizeof(path), run_dir, name, RUNDIR_LOCK_FILE) < 0)
                return vl_error_set(e, ENAMETOOLONG, "run directory path too long");
        if (mkdir(run_dir, 0755) < 0 && errno != EEXIST)
                return vl_error_set(e, errno, "cannot create '%s': %s", run_dir, strerror(errno));
        if (mkdir(dir, 0700) < 0 && errno != EEXIST)
                return vl_error_set(e, errno, "cannot create '%s': %s", dir, strerror(errno));
        /* Never follow a planted symlink or use a directory someone else owns. */
        if (lstat(dir, &st) < 0)
                return vl_error_set(e, errno, "%s: %s", dir, strerror(errno));
        if (!S_ISDIR(st.st_mode) || st.st_uid != geteuid())
                return vl_error_set(e, EPERM, "%s is not a directory owned by uid %u", dir,
                                    (unsigned) geteuid());

        fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (fd < 0)
                return vl_error_set(e, errno, "cannot open '%s': %s", path, strerror(errno));
        if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
                int r = errno;
                n = (int) pread(fd, pidbuf, sizeof(pidbuf) - 1, 0);
                pidbuf[n > 0 ? n : 0] = '\0';
                close(fd);
                if (r != EWOULDBLOCK)
                        return vl_error_set(e, r, "cannot lock '%s': %s", path, strerror(r));
                *ret_holder = (pid_t) atoi(pidbuf);
                return vl_error_set(e, EBUSY, "VM \"%s\" is already running (vfio-launch pid %d)",
                                    name, (int) *ret_holder);
        }
        n = snprintf(pidbuf, sizeof(pidbuf), "%d\n", (int) getpid());
        if (ftruncate(fd, 0) < 0 || pwrite(fd, pidbuf, (size_t) n, 0) != n) {
                int r = errno;
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
