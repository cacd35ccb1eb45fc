/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "base/unixsock.h"

static int address(const char *path, struct sockaddr_un *ret)
{
        *ret = (struct sockaddr_un) { .sun_family = AF_UNIX };
        if (strlen(path) >= sizeof(ret->sun_path))
                return -ENAMETOOLONG;
        strcpy(ret->sun_path, path);
        return 0;
}

int unix_listen(const char *path, int type, int backlog, struct vl_error *e)
{
        _cleanup_close_ int fd = -EBADF;
        struct sockaddr_un sa;

        if (address(path, &sa) < 0)
                return vl_error_set(e, ENAMETOOLONG, "socket path too long: '%s'", path);
        fd = socket(AF_UNIX, type | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return vl_error_set(e, errno, "socket: %s", strerror(errno));
        (void) unlink(path);
        if (bind(fd, (struct sockaddr *) &sa, sizeof(sa)) < 0 || chmod(path, 0600) < 0 || listen(fd, backlog) < 0)
                return vl_error_set(e, errno, "cannot listen on '%s': %s", path, strerror(errno));
        return TAKE_FD(fd);
}

int unix_connect(const char *path, int type)
{
        _cleanup_close_ int fd = -EBADF;
        struct sockaddr_un sa;

        if (address(path, &sa) < 0)
                return -EINVAL;
        fd = socket(AF_UNIX, type | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return -errno;
        if (connect(fd, (struct sockaddr *) &sa, sizeof(sa)) < 0)
                return -errno;
        return TAKE_FD(fd);
}
