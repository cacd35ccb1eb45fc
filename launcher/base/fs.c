/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Paths under a root and small pseudo-files: see fs.h. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
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
