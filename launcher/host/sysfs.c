/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * sysfs: path helpers, the bounded attribute writer and the modprobe runner.
 * See sysfs.h. The forked children here only call async-signal-safe
 * functions (open, write, dup2, execve, _exit) before exec or exit.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "host/sysfs.h"

int sysfs_join(char *buf, size_t size, const char *root, const char *fmt, ...)
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

int sysfs_read(const char *path, char *buf, size_t size)
{
        _cleanup_close_ int fd = -EBADF;
        size_t off = 0;

        if (size < 2)
                return -EINVAL;
        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
        if (fd < 0)
                return -errno;
        for (;;) {
                ssize_t k = read(fd, buf + off, size - 1 - off);
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (k == 0)
                        break;
                off += (size_t) k;
                if (off == size - 1) {
                        char extra;
                        k = read(fd, &extra, 1);
                        if (k != 0)
                                return -EFBIG;
                        break;
                }
        }
        buf[off] = '\0';
        if (off > 0 && buf[off - 1] == '\n')
                buf[off - 1] = '\0';
        return 0;
}

int sysfs_read_hex(const char *path, uint32_t *ret)
{
        char buf[32], *end;
        unsigned long v;
        int r;

        r = sysfs_read(path, buf, sizeof(buf));
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

int sysfs_read_link_name(const char *path, char *buf, size_t size)
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

int sysfs_exists(const char *path)
{
        struct stat st;

        return lstat(path, &st) == 0;
}

uint64_t sysfs_now_ms(void)
{
        struct timespec ts;

        (void) clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000u + (uint64_t) ts.tv_nsec / 1000000u;
}

void sysfs_sleep_ms(unsigned ms)
{
        struct timespec ts = { .tv_sec = ms / 1000u, .tv_nsec = (long) (ms % 1000u) * 1000000L };

        while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
                ;
}

const char *sysfs_errno_str(int err, char *buf, size_t size)
{
        const char *name;

        if (err < 0)
                err = -err;
        name = strerrorname_np(err);
        (void) snprintf(buf, size, "%s (%s)", name ? name : "E?", strerror(err));
        return buf;
}

/* Children abandoned after a timeout: reaped here, without blocking, the next
 * time a child is started, so a hung write leaves at most a few zombies for
 * the life of the process (the supervisor may also reap them first; then
 * waitpid answers ECHILD, which is fine). */
static pid_t abandoned[16];

static void reap_abandoned(void)
{
        for (size_t i = 0; i < ELEMENTSOF(abandoned); i++)
                if (abandoned[i] > 0) {
                        pid_t r = waitpid(abandoned[i], NULL, WNOHANG);
                        if (r == abandoned[i] || (r < 0 && errno == ECHILD))
                                abandoned[i] = 0;
                }
}

static void abandon(pid_t pid)
{
        (void) kill(pid, SIGKILL);
        if (waitpid(pid, NULL, WNOHANG) == pid)
                return;
        for (size_t i = 0; i < ELEMENTSOF(abandoned); i++)
                if (abandoned[i] <= 0) {
                        abandoned[i] = pid;
                        return;
                }
        /* Table full: the zombie stays until the process exits. */
}

/* Wait for `fd` to become readable (or hang up) for at most deadline.
 * 1 ready, 0 timed out, -errno. */
static int wait_readable(int fd, uint64_t deadline)
{
        for (;;) {
                struct pollfd p = { .fd = fd, .events = POLLIN };
                uint64_t now = sysfs_now_ms();
                int left = now >= deadline ? 0 : (int) (deadline - now);
                int r = poll(&p, 1, left);
                if (r < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                return r > 0;
        }
}

static int wait_child(pid_t pid, int *ret_status)
{
        for (;;) {
                if (waitpid(pid, ret_status, 0) == pid)
                        return 0;
                if (errno != EINTR)
                        return -errno;
        }
}

int sysfs_write_bounded(const char *path, const char *data, unsigned timeout_ms)
{
        _cleanup_close_ int rfd = -EBADF, wfd = -EBADF;
        size_t len = strlen(data);
        int p[2], answer = 0, r;
        ssize_t k;
        pid_t pid;

        reap_abandoned();
        if (pipe2(p, O_CLOEXEC) < 0)
                return -errno;
        rfd = p[0];
        wfd = p[1];

        pid = fork();
        if (pid < 0)
                return -errno;
        if (pid == 0) {
                /* Child: O_TRUNC as a shell's '>' does (sysfs ignores it).
                 * The answer is the errno, 0 for success, -1 for short. */
                int err = 0;
                int fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC | O_NOCTTY);
                if (fd < 0)
                        err = errno;
                else {
                        ssize_t w = write(fd, data, len);
                        if (w < 0)
                                err = errno;
                        else if ((size_t) w != len)
                                err = -1;
                        if (close(fd) < 0 && err == 0 && errno != EINTR)
                                err = errno;
                }
                (void) !write(p[1], &err, sizeof(err));
                _exit(0);
        }
        (void) close(TAKE_FD(wfd));

        r = wait_readable(rfd, sysfs_now_ms() + timeout_ms);
        if (r <= 0) {
                abandon(pid);
                return r < 0 ? r : -ETIMEDOUT;
        }
        k = read(rfd, &answer, sizeof(answer));
        (void) wait_child(pid, NULL);
        if (k != (ssize_t) sizeof(answer))
                return -EIO; /* the child died without answering */
        if (answer < 0)
                return -EIO;
        return -answer;
}

int sysfs_modprobe(const char *modprobe, const char *module, unsigned timeout_ms, char *msg,
                   size_t msgsize)
{
        static const char *const envp[] = { "PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL=C", NULL };
        _cleanup_close_ int rfd = -EBADF;
        char out[512];
        size_t off = 0;
        uint64_t deadline;
        int p[2], status = 0, r;
        pid_t pid;

        if (msg && msgsize > 0)
                msg[0] = '\0';
        reap_abandoned();
        if (pipe2(p, O_CLOEXEC) < 0)
                return -errno;
        rfd = p[0];

        pid = fork();
        if (pid < 0) {
                r = -errno;
                (void) close(p[1]);
                return r;
        }
        if (pid == 0) {
                const char *argv[] = { "modprobe", module, NULL };
                int null = open("/dev/null", O_RDWR | O_CLOEXEC);
                if (null >= 0) {
                        (void) dup2(null, STDIN_FILENO);
                        (void) dup2(null, STDOUT_FILENO);
                }
                (void) dup2(p[1], STDERR_FILENO); /* dup2 clears CLOEXEC */
                execve(modprobe, (char *const *) argv, (char *const *) envp);
                /* 127 as a shell would; the parent turns it into -ENOENT. */
                (void) !write(STDERR_FILENO, "cannot execute\n", 15);
                _exit(127);
        }
        (void) close(p[1]);

        /* Collect stderr until EOF (the child exited) or the deadline. */
        deadline = sysfs_now_ms() + timeout_ms;
        for (;;) {
                ssize_t k;
                r = wait_readable(rfd, deadline);
                if (r <= 0) {
                        abandon(pid);
                        if (msg)
                                (void) snprintf(msg, msgsize, "no answer after %u ms", timeout_ms);
                        return r < 0 ? r : -ETIMEDOUT;
                }
                if (off < sizeof(out) - 1)
                        k = read(rfd, out + off, sizeof(out) - 1 - off);
                else {
                        char sink[256];
                        k = read(rfd, sink, sizeof(sink));
                }
                if (k < 0 && errno == EINTR)
                        continue;
                if (k <= 0)
                        break;
                if (off < sizeof(out) - 1)
                        off += (size_t) k;
        }
        out[off] = '\0';
        r = wait_child(pid, &status);
        if (r < 0)
                return r;
        if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
                return 0;
        if (msg && msgsize > 0) {
                size_t n = strcspn(out, "\n");
                if (n > 0)
                        (void) snprintf(msg, msgsize, "%.*s", (int) n, out);
                else if (WIFEXITED(status))
                        (void) snprintf(msg, msgsize, "exit status %d", WEXITSTATUS(status));
                else
                        (void) snprintf(msg, msgsize, "killed by signal %d", WTERMSIG(status));
        }
        if (WIFEXITED(status) && WEXITSTATUS(status) == 127)
                return -ENOENT;
        return -EIO;
}
