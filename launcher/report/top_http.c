/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * `vfio-launch metrics --listen`: the smallest HTTP/1.x server a Prometheus
 * scrape needs. Single-threaded; one client at a time, its request head
 * bounded in size (TOP_HTTP_REQUEST_MAX) and in time (TOP_HTTP_CLIENT_MS),
 * so a client that never finishes costs two seconds, not the server. Every
 * reply closes the connection (Connection: close): no keep-alive state.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/macro.h"
#include "report/top.h"

int top_http_listen(const char *spec, struct vl_error *e)
{
        char host[64] = "127.0.0.1";
        const char *colon = strrchr(spec, ':'), *port_s = colon ? colon + 1 : spec;
        union {
                struct sockaddr sa;
                struct sockaddr_in in;
                struct sockaddr_in6 in6;
        } a;
        socklen_t alen;
        unsigned long port;
        char *end;
        int fd, one = 1;

        if (colon && colon != spec) {
                size_t len = (size_t) (colon - spec);
                if (spec[0] == '[' && len >= 2 && spec[len - 1] == ']') {
                        spec++;
                        len -= 2;
                }
                if (len >= sizeof(host))
                        return vl_error_set(e, EINVAL, "\"%s\": the address is too long", spec);
                memcpy(host, spec, len);
                host[len] = '\0';
        }
        errno = 0;
        port = strtoul(port_s, &end, 10);
        if (errno || end == port_s || *end || port < 1 || port > 65535)
                return vl_error_set(e, EINVAL, "\"%s\" is not a port (1..65535)", port_s);
        memset(&a, 0, sizeof(a));
        if (inet_pton(AF_INET, host, &a.in.sin_addr) == 1) {
                a.in.sin_family = AF_INET;
                a.in.sin_port = htons((uint16_t) port);
                alen = sizeof(a.in);
        } else if (inet_pton(AF_INET6, host, &a.in6.sin6_addr) == 1) {
                a.in6.sin6_family = AF_INET6;
                a.in6.sin6_port = htons((uint16_t) port);
                alen = sizeof(a.in6);
        } else
                return vl_error_set(e, EINVAL, "\"%s\" is not an IPv4 or IPv6 address", host);
        fd = socket(a.sa.sa_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (fd < 0)
                return vl_error_set(e, errno, "socket: %s", strerror(errno));
        /* a restart must not wait out TIME_WAIT of the last scrape */
        (void) setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
        if (bind(fd, &a.sa, alen) < 0 || listen(fd, 16) < 0) {
                int r = errno;
                close(fd);
                return vl_error_set(e, r, "cannot listen on %s:%lu: %s", host, port, strerror(r));
        }
        return fd;
}

static void reply(int fd, const char *status, const char *type, const char *body)
{
        char head[256];
        size_t len = body ? strlen(body) : 0;
        int n = snprintf(head, sizeof(head),
                         "HTTP/1.1 %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n",
                         status, type, len);

        /* SO_SNDTIMEO bounds both: a client that does not read is dropped */
        if (n > 0 && send(fd, head, (size_t) n, MSG_NOSIGNAL) == n)
                for (size_t off = 0; off < len;) {
                        ssize_t w = send(fd, body + off, len - off, MSG_NOSIGNAL);
                        if (w <= 0)
                                break;
                        off += (size_t) w;
                }
}

/* Read the request head; 1 = complete, 0 = too large, -1 = gone/timed out. */
static int read_head(int fd, char *buf, size_t size, size_t *ret_len)
{
        uint64_t deadline = clock_ms() + TOP_HTTP_CLIENT_MS;
        size_t len = 0;

        for (;;) {
                struct pollfd p = { .fd = fd, .events = POLLIN };
                uint64_t now = clock_ms();
                ssize_t n;

                if (now >= deadline || poll(&p, 1, (int) (deadline - now)) <= 0)
                        return -1;
                n = recv(fd, buf + len, size - 1 - len, MSG_DONTWAIT);
                if (n < 0 && (errno == EAGAIN || errno == EINTR))
                        continue;
                if (n <= 0)
                        return -1;
                len += (size_t) n;
                buf[len] = '\0';
                if (strstr(buf, "\r\n\r\n") || strstr(buf, "\n\n")) {
                        *ret_len = len;
                        return 1;
                }
                if (len >= size - 1)
                        return 0;
        }
}

static void serve_one(int fd, char *(*body)(void *userdata), void *userdata)
{
        static const char plain[] = "text/plain; charset=utf-8";
        char buf[TOP_HTTP_REQUEST_MAX + 1], method[16], target[256], version[16];
        struct timeval tv = { .tv_sec = TOP_HTTP_CLIENT_MS / 1000, .tv_usec = 0 };
        size_t len;
        int r;

        (void) setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
        r = read_head(fd, buf, sizeof(buf), &len);
        if (r < 0)
                return;
        if (r == 0) {
                reply(fd, "431 Request Header Fields Too Large", plain, "request too large\n");
                return;
        }
        if (sscanf(buf, "%15s %255s %15s", method, target, version) != 3 || strncmp(version, "HTTP/1.", 7) != 0) {
                reply(fd, "400 Bad Request", plain, "bad request\n");
                return;
        }
        if (strcmp(method, "GET") == 0 && (strcmp(target, "/metrics") == 0 || strncmp(target, "/metrics?", 9) == 0)) {
                _cleanup_free_ char *text = body(userdata);
                if (text)
                        reply(fd, "200 OK", "text/plain; version=0.0.4; charset=utf-8", text);
                else
                        reply(fd, "500 Internal Server Error", plain, "out of memory\n");
                return;
        }
        reply(fd, "404 Not Found", plain, "only GET /metrics is served here\n");
}

int top_http_serve(int listen_fd, int stop_fd, char *(*body)(void *userdata), void *userdata)
{
        for (;;) {
                struct pollfd p[2] = { { .fd = stop_fd, .events = POLLIN }, { .fd = listen_fd, .events = POLLIN } };
                int fd;

                if (poll(p, 2, -1) < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (p[0].revents)
                        return 0;
                if (!(p[1].revents & POLLIN))
                        continue;
                fd = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC);
                if (fd < 0)
                        continue; /* the client left before we took it, or out of fds: next one */
                serve_one(fd, body, userdata);
                close(fd);
        }
}
