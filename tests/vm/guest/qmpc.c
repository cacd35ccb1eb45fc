/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * qmpc: a tiny QMP client for the VM test guest (built static, lives in the
 * L1 initramfs). Not project code: the launcher has its own library in qmp/.
 *
 * usage: qmpc [-t SECS] [-w EVENT] SOCKET [CMD...]
 *   Connects (retrying until the deadline: the socket may not exist yet),
 *   reads the greeting, sends qmp_capabilities, then each CMD in order. A CMD
 *   is a JSON object or a bare command name ("quit" = {"execute":"quit"}).
 *   Prints every reply on its own line and every event as "EVENT {...}".
 *   -w EVENT: afterwards, wait for that event (e.g. SHUTDOWN).
 * exit: 0 every command returned (EOF right after "quit" counts as success)
 *         and the awaited event came; 1 an error reply or no event;
 *       2 no connection / no greeting / timeout.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

static char buf[1 << 20];
static size_t blen;
static double deadline;

static double now(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Next '\n'-terminated line, CR/LF stripped, NUL-terminated in place of the
 * buffer head; 1 = got a line, 0 = EOF, -1 = timeout/error. */
static int next_line(int fd, char *out, size_t outsz)
{
        for (;;) {
                char *nl = memchr(buf, '\n', blen);
                if (nl) {
                        size_t n = (size_t)(nl - buf) + 1, c = n - 1;
                        if (c > 0 && buf[c - 1] == '\r')
                                c--;
                        if (c >= outsz)
                                c = outsz - 1;
                        memcpy(out, buf, c);
                        out[c] = 0;
                        memmove(buf, buf + n, blen - n);
                        blen -= n;
                        return 1;
                }
                if (blen == sizeof buf)
                        return -1;
                int ms = (int)((deadline - now()) * 1000);
                if (ms <= 0)
                        return -1;
                struct pollfd p = {.fd = fd, .events = POLLIN};
                int r = poll(&p, 1, ms);
                if (r <= 0)
                        return -1;
                ssize_t got = read(fd, buf + blen, sizeof buf - blen);
                if (got == 0)
                        return 0;
                if (got < 0)
                        return errno == EINTR ? next_line(fd, out, outsz) : -1;
                blen += (size_t)got;
        }
}

static int is_event(const char *l, const char *name)
{
        char pat[160];
        if (!strstr(l, "\"event\""))
                return 0;
        if (!name)
                return 1;
        snprintf(pat, sizeof pat, "\"event\": \"%s\"", name);
        return strstr(l, pat) != NULL;
}

static int send_all(int fd, const char *s)
{
        size_t n = strlen(s);
        while (n) {
                ssize_t w = write(fd, s, n);
                if (w < 0 && errno == EINTR)
                        continue;
                if (w <= 0)
                        return -1;
                s += w;
                n -= (size_t)w;
        }
        return 0;
}

int main(int argc, char **argv)
{
        static char line[1 << 20], cmd[8192];
        double secs = 30;
        const char *want = NULL;
        int opt, seen = 0, rc = 0;

        while ((opt = getopt(argc, argv, "t:w:")) != -1) {
                if (opt == 't')
                        secs = atof(optarg);
                else if (opt == 'w')
                        want = optarg;
                else
                        return 2;
        }
        if (optind >= argc) {
                fprintf(stderr, "usage: qmpc [-t SECS] [-w EVENT] SOCKET [CMD...]\n");
                return 2;
        }
        deadline = now() + secs;
        const char *path = argv[optind++];
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        if (strlen(path) >= sizeof sa.sun_path) {
                fprintf(stderr, "qmpc: socket path too long\n");
                return 2;
        }
        strcpy(sa.sun_path, path);
        int fd;
        for (;;) {
                fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
                if (fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0)
                        break;
                int e = errno;
                if (fd >= 0)
                        close(fd);
                if (now() > deadline) {
                        fprintf(stderr, "qmpc: connect %s: %s\n", path, strerror(e));
                        return 2;
                }
                usleep(20000);
        }
        if (next_line(fd, line, sizeof line) != 1 || !strstr(line, "\"QMP\"")) {
                fprintf(stderr, "qmpc: no QMP greeting on %s (socket held by another client?)\n", path);
                return 2;
        }
        for (int i = optind - 1; i < argc; i++) {
                const char *c = i == optind - 1 ? "qmp_capabilities" : argv[i];
                int quit;
                if (c[0] == '{')
                        snprintf(cmd, sizeof cmd, "%s\n", c);
                else
                        snprintf(cmd, sizeof cmd, "{\"execute\": \"%s\"}\n", c);
                quit = strstr(cmd, "\"quit\"") != NULL;
                if (send_all(fd, cmd) < 0) {
                        fprintf(stderr, "qmpc: write: %s\n", strerror(errno));
                        return quit ? 0 : 2;
                }
                for (;;) {
                        int r = next_line(fd, line, sizeof line);
                        if (r != 1) {
                                if (quit && r == 0)
                                        goto out;
                                fprintf(stderr, "qmpc: %s waiting for the reply to %s",
                                        r == 0 ? "EOF" : "timeout", cmd);
                                return 2;
                        }
                        if (is_event(line, NULL)) {
                                printf("EVENT %s\n", line);
                                if (want && is_event(line, want))
                                        seen = 1;
                                continue;
                        }
                        if (i >= optind)
                                printf("%s\n", line);
                        if (!strstr(line, "\"return\""))
                                rc = 1;
                        break;
                }
        }
        while (want && !seen) {
                int r = next_line(fd, line, sizeof line);
                if (r != 1)
                        break;
                if (is_event(line, NULL)) {
                        printf("EVENT %s\n", line);
                        seen = is_event(line, want);
                }
        }
out:
        fflush(stdout);
        close(fd);
        if (want && !seen) {
                fprintf(stderr, "qmpc: no %s event\n", want);
                return 1;
        }
        return rc;
}
