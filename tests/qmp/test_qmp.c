/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libqmp against a scripted fake QMP server: a forked child on the other end
 * of a socketpair plays QEMU's side (as systemd's QMP client test does). The
 * child checks what the client sends and reports through its exit status
 * (0 = the script ran as written); alarm() bounds it, the teardown kills it.
 * Parser edge cases that need no peer go through qmp_feed().
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "qmp-internal.h"
#include "qmp.h"

#define GREETING                                                                           \
        "{\"QMP\": {\"version\": {\"qemu\": {\"micro\": 0, \"minor\": 2, \"major\": 7}, "  \
        "\"package\": \"Debian 1:7.2+dfsg-7\"}, \"capabilities\": [\"oob\"]}}\r\n"
#define TIMEOUT 5000 /* ms: generous, the tests never need it unless broken */

/* ---- the fake server (runs in the forked child: plain calls, _exit) ---- */

static void srv_write_raw(int fd, const void *buf, size_t n)
{
        const char *p = buf;

        while (n > 0) {
                ssize_t k = send(fd, p, n, MSG_NOSIGNAL);
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        _exit(10);
                }
                p += k;
                n -= (size_t) k;
        }
}

static void srv_write(int fd, const char *s)
{
        srv_write_raw(fd, s, strlen(s));
}

__attribute__((format(printf, 2, 3))) static void srv_printf(int fd, const char *fmt, ...)
{
        char *s;
        va_list ap;
        int r;

        va_start(ap, fmt);
        r = vasprintf(&s, fmt, ap);
        va_end(ap);
        if (r < 0)
                _exit(16);
        srv_write(fd, s);
        free(s);
}

/* One byte per send(), with a pause so that the client really sees them one
 * at a time instead of the kernel merging them in the socket buffer. */
static void srv_write_slow(int fd, const char *s)
{
        for (; *s; s++) {
                srv_write_raw(fd, s, 1);
                usleep(100);
        }
}

static json_t *srv_read(int fd)
{
        static char line[65536];
        size_t n = 0;
        json_t *m;

        for (;;) {
                char c;
                ssize_t k = read(fd, &c, 1);
                if (k < 0 && errno == EINTR)
                        continue;
                if (k <= 0)
                        _exit(11);
                if (c == '\n')
                        break;
                if (n + 1 >= sizeof(line))
                        _exit(12);
                line[n++] = c;
        }
        m = json_loadb(line, n, JSON_REJECT_DUPLICATES, NULL);
        if (!json_is_object(m))
                _exit(13);
        return m;
}

/* Read one command, check its name, return its id. If ret_args is given,
 * hand back the "arguments" object (or NULL). */
static json_int_t srv_expect_args(int fd, const char *execute, json_t **ret_args)
{
        json_t *m = srv_read(fd), *id = json_object_get(m, "id");
        const char *e = json_string_value(json_object_get(m, "execute"));
        json_int_t v;

        if (!e || strcmp(e, execute) != 0)
                _exit(14);
        if (!json_is_integer(id))
                _exit(15);
        v = json_integer_value(id);
        if (ret_args)
                *ret_args = json_incref(json_object_get(m, "arguments"));
        json_decref(m);
        return v;
}

static json_int_t srv_expect(int fd, const char *execute)
{
        return srv_expect_args(fd, execute, NULL);
}

static void srv_reply(int fd, json_int_t id, const char *ret)
{
        srv_printf(fd, "{\"return\": %s, \"id\": %lld}\r\n", ret, (long long) id);
}

static void srv_event(int fd, const char *name, const char *data)
{
        srv_printf(fd,
                   "{\"timestamp\": {\"seconds\": 1700000000, \"microseconds\": 123456}, "
                   "\"event\": \"%s\", \"data\": %s}\r\n",
                   name, data);
}

static void srv_handshake(int fd)
{
        srv_write(fd, GREETING);
        srv_reply(fd, srv_expect(fd, "qmp_capabilities"), "{}");
}

/* Wait for the client to close its end (so the script never closes first by
 * accident while the client still writes). */
static void srv_wait_close(int fd)
{
        char c;
        while (read(fd, &c, 1) > 0)
                ;
}

/* ---- fixture ---- */

struct fixture {
        pid_t pid;
        int peer; /* the other end, for tests that feed bytes without a server */
        struct qmp *q;
};

static int setup(void **state)
{
        struct fixture *f = calloc(1, sizeof(*f));

        assert_non_null(f);
        f->pid = -1;
        f->peer = -1;
        *state = f;
        return 0;
}

static int teardown(void **state)
{
        struct fixture *f = *state;

        qmp_free(f->q);
        if (f->peer >= 0)
                close(f->peer);
        if (f->pid > 0) {
                (void) kill(f->pid, SIGKILL);
                (void) waitpid(f->pid, NULL, 0);
        }
        free(f);
        return 0;
}

static void start_server(struct fixture *f, void (*server)(int fd), const struct qmp_options *opts)
{
        int sv[2];

        assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
        f->pid = fork();
        assert_true(f->pid >= 0);
        if (f->pid == 0) {
                close(sv[0]);
                alarm(20);
                server(sv[1]);
                _exit(0);
        }
        close(sv[1]);
        assert_int_equal(qmp_new_fd(sv[0], opts, &f->q), 0);
}

/* Reap the server and require that its script ran to the end. */
static void server_done(struct fixture *f)
{
        int status;

        assert_int_equal(waitpid(f->pid, &status, 0), f->pid);
        f->pid = -1;
        assert_true(WIFEXITED(status));
        assert_int_equal(WEXITSTATUS(status), 0);
}

/* A qmp with no server: a socketpair whose other end stays open and silent. */
static void start_feed(struct fixture *f, const struct qmp_options *opts)
{
        int sv[2];

        assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
        f->peer = sv[1];
        assert_int_equal(qmp_new_fd(sv[0], opts, &f->q), 0);
}

static void feed_str(struct fixture *f, const char *s, int expect)
{
        assert_int_equal(qmp_feed(f->q, s, strlen(s)), expect);
}

static long elapsed_ms(const struct timespec *t0)
{
        struct timespec t1;

        clock_gettime(CLOCK_MONOTONIC, &t1);
        return (t1.tv_sec - t0->tv_sec) * 1000 + (t1.tv_nsec - t0->tv_nsec) / 1000000;
}

/* ---- tests ---- */

static void srv_greet_event_close(int fd)
{
        srv_handshake(fd);
        srv_event(fd, "SHUTDOWN", "{\"guest\": false, \"reason\": \"host-qmp-quit\"}");
}

/* greeting → qmp_capabilities → reply with the same id; greeting data; an
 * event; EOF. */
static void test_handshake(void **state)
{
        struct fixture *f = *state;
        __attribute__((cleanup(qmp_event_freep))) struct qmp_event *ev = NULL;
        unsigned major = 0, minor = 0, micro = 0;

        start_server(f, srv_greet_event_close, NULL);
        assert_false(qmp_has_greeting(f->q));
        assert_int_equal(qmp_get_version(f->q, &major, NULL, NULL), -ENODATA);
        assert_int_equal(qmp_handshake(f->q, TIMEOUT), 0);
        assert_int_equal(qmp_handshake(f->q, TIMEOUT), -EALREADY);
        assert_true(qmp_has_greeting(f->q));
        assert_int_equal(qmp_get_version(f->q, &major, &minor, &micro), 0);
        assert_int_equal(major, 7);
        assert_int_equal(minor, 2);
        assert_int_equal(micro, 0);
        assert_string_equal(qmp_get_package(f->q), "Debian 1:7.2+dfsg-7");
        assert_true(qmp_has_capability(f->q, "oob"));
        assert_false(qmp_has_capability(f->q, "nope"));
        assert_non_null(json_object_get(qmp_get_greeting(f->q), "QMP"));

        assert_int_equal(qmp_wait_event(f->q, TIMEOUT, &ev), 1);
        assert_string_equal(ev->name, "SHUTDOWN");
        assert_int_equal(ev->seconds, 1700000000);
        assert_int_equal(ev->microseconds, 123456);
        assert_string_equal(json_string_value(json_object_get(ev->data, "reason")),
                            "host-qmp-quit");
        qmp_event_freep(&ev);
        assert_int_equal(qmp_wait_event(f->q, TIMEOUT, &ev), -ECONNRESET);
        assert_null(ev);
        /* Sticky: the connection is dead for everyone. */
        assert_int_equal(qmp_process(f->q), -ECONNRESET);
        assert_int_equal(qmp_send(f->q, "x", NULL, NULL), -ECONNRESET);
        server_done(f);
}

static void srv_interleave(int fd)
{
        json_int_t a, b, c;

        srv_handshake(fd);
        /* cont: the event it causes comes BEFORE its reply, as in QEMU. */
        c = srv_expect(fd, "cont");
        srv_event(fd, "RESUME", "{}");
        srv_reply(fd, c, "{}");
        a = srv_expect(fd, "cmd-a");
        b = srv_expect(fd, "cmd-b");
        srv_event(fd, "E1", "{\"n\": 1}");
        srv_reply(fd, b, "{\"b\": 1}");
        srv_event(fd, "E2", "{\"n\": 2}");
        srv_reply(fd, a, "{\"a\": 1}");
        srv_event(fd, "E3", "{\"n\": 3}");
        srv_wait_close(fd);
}

/* Replies matched by id with events in between and out of order. */
static void test_event_before_reply(void **state)
{
        struct fixture *f = *state;
        __attribute__((cleanup(qmp_event_freep))) struct qmp_event *ev = NULL;
        json_t *ret = NULL;
        uint64_t ida, idb;

        start_server(f, srv_interleave, NULL);
        assert_int_equal(qmp_handshake(f->q, TIMEOUT), 0);
        assert_int_equal(qmp_execute_sync(f->q, "cont", NULL, TIMEOUT, &ret, NULL), 0);
        assert_true(json_is_object(ret));
        json_decref(ret);
        assert_int_equal(qmp_next_event(f->q, &ev), 1);
        assert_string_equal(ev->name, "RESUME");
        qmp_event_freep(&ev);
        assert_int_equal(qmp_next_event(f->q, &ev), 0);
        assert_null(ev);

        assert_int_equal(qmp_send(f->q, "cmd-a", NULL, &ida), 0);
        assert_int_equal(qmp_send(f->q, "cmd-b", NULL, &idb), 0);
        assert_int_not_equal(ida, idb);
        assert_int_equal(qmp_wait_reply(f->q, ida, TIMEOUT, &ret, NULL), 0);
        assert_int_equal(json_integer_value(json_object_get(ret, "a")), 1);
        json_decref(ret);
        /* b's reply came first and was kept. */
        assert_int_equal(qmp_reply(f->q, idb, &ret, NULL), 0);
        assert_int_equal(json_integer_value(json_object_get(ret, "b")), 1);
        json_decref(ret);
        assert_int_equal(qmp_reply(f->q, idb, &ret, NULL), -ENOENT);

        for (int i = 1; i <= 3; i++) {
                char name[4];
                snprintf(name, sizeof(name), "E%d", i);
                assert_int_equal(qmp_wait_event(f->q, TIMEOUT, &ev), 1);
                assert_string_equal(ev->name, name);
                assert_int_equal(json_integer_value(json_object_get(ev->data, "n")), i);
                qmp_event_freep(&ev);
        }
        f->q = qmp_free(f->q);
        server_done(f);
}

static void srv_error(int fd)
{
        char desc[2001];
        json_int_t id;

        srv_handshake(fd);
        id = srv_expect(fd, "no-such-command");
        srv_printf(fd,
                   "{\"id\": %lld, \"error\": {\"class\": \"CommandNotFound\", "
                   "\"desc\": \"The command no-such-command has not been found\"}}\r\n",
                   (long long) id);
        id = srv_expect(fd, "long-error");
        memset(desc, 'd', sizeof(desc) - 1);
        desc[sizeof(desc) - 1] = '\0';
        srv_printf(fd, "{\"error\": {\"class\": \"GenericError\", \"desc\": \"%s\"}, \"id\": %lld}\n",
                   desc, (long long) id);
        srv_reply(fd, srv_expect(fd, "query-status"), "{\"status\": \"prelaunch\"}");
        srv_wait_close(fd);
}

/* A QMP error is -EREMOTEIO + class/desc, and the connection survives. */
static void test_error_reply(void **state)
{
        struct fixture *f = *state;
        struct qmp_error err;
        json_t *ret = NULL;

        start_server(f, srv_error, NULL);
        assert_int_equal(qmp_handshake(f->q, TIMEOUT), 0);
        assert_int_equal(qmp_execute_sync(f->q, "no-such-command", NULL, TIMEOUT, &ret, &err),
                         -EREMOTEIO);
        assert_null(ret);
        assert_string_equal(err.error_class, "CommandNotFound");
        assert_string_equal(err.desc, "The command no-such-command has not been found");

        assert_int_equal(qmp_execute_sync(f->q, "long-error", NULL, TIMEOUT, NULL, &err),
                         -EREMOTEIO);
        assert_string_equal(err.error_class, "GenericError");
        assert_int_equal(strlen(err.desc), sizeof(err.desc) - 1);

        assert_int_equal(qmp_execute_sync(f->q, "query-status", NULL, TIMEOUT, &ret, NULL), 0);
        assert_string_equal(json_string_value(json_object_get(ret, "status")), "prelaunch");
        json_decref(ret);
        f->q = qmp_free(f->q);
        server_done(f);
}

static void srv_slow(int fd)
{
        char buf[256];
        json_int_t id;

        srv_write_slow(fd, GREETING);
        id = srv_expect(fd, "qmp_capabilities");
        /* LF-only endings, and an event between, all one byte at a time. */
        srv_write_slow(fd, "{\"event\": \"STOP\"}\n");
        snprintf(buf, sizeof(buf), "{\"return\": {}, \"id\": %lld}\n", (long long) id);
        srv_write_slow(fd, buf);
        srv_wait_close(fd);
}

static void test_byte_at_a_time(void **state)
{
        struct fixture *f = *state;
        __attribute__((cleanup(qmp_event_freep))) struct qmp_event *ev = NULL;

        start_server(f, srv_slow, NULL);
        assert_int_equal(qmp_handshake(f->q, TIMEOUT), 0);
        assert_int_equal(qmp_next_event(f->q, &ev), 1);
        assert_string_equal(ev->name, "STOP");
        assert_int_equal(ev->seconds, -1);
        assert_int_equal(json_object_size(ev->data), 0);
        f->q = qmp_free(f->q);
        server_done(f);
}

static size_t big_line_size;

static void srv_big_line(int fd)
{
        static char chunk[65536];
        size_t left = big_line_size;

        srv_handshake(fd);
        (void) srv_expect(fd, "query-qmp-schema");
        srv_write(fd, "{\"return\": \"");
        memset(chunk, 'a', sizeof(chunk));
        /* The client gives up and closes mid-line: stop quietly then. */
        while (left > 0) {
                size_t n = left < sizeof(chunk) ? left : sizeof(chunk);
                ssize_t k = send(fd, chunk, n, MSG_NOSIGNAL);
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        if (errno == EPIPE || errno == ECONNRESET)
                                return;
                        _exit(20);
                }
                left -= (size_t) k;
        }
        srv_wait_close(fd);
}

/* A line over max_line fails with -EMSGSIZE without buffering all of it. */
static void test_oversized_line(void **state)
{
        struct fixture *f = *state;
        struct qmp_options opts = { .max_line = 4096 };

        big_line_size = 1024 * 1024;
        start_server(f, srv_big_line, &opts);
        assert_int_equal(qmp_handshake(f->q, TIMEOUT), 0);
        assert_int_equal(qmp_execute_sync(f->q, "query-qmp-schema", NULL, TIMEOUT, NULL, NULL),
                         -EMSGSIZE);
        assert_true(qmp_rbuf_capacity(f->q) <= 4096 + 2);
        assert_int_equal(qmp_process(f->q), -EMSGSIZE);
        f->q = qmp_free(f->q);
        server_done(f);
}

/* Same with the default limit (1 MiB) and a 3 MiB line. */
static void test_oversized_line_default(void **state)
{
        struct fixture *f = *state;

        big_line_size = 3 * 1024 * 1024;
        start_server(f, srv_big_line, NULL);
        assert_int_equal(qmp_handshake(f->q, TIMEOUT), 0);
        assert_int_equal(qmp_execute_sync(f->q, "query-qmp-schema", NULL, TIMEOUT, NULL, NULL),
                         -EMSGSIZE);
        assert_true(qmp_rbuf_capacity(f->q) <= QMP_DEFAULT_MAX_LINE + 2);
        f->q = qmp_free(f->q);
        server_done(f);
}

static void srv_close_mid_reply(int fd)
{
        json_int_t id;

        srv_write(fd, GREETING);
        id = srv_expect(fd, "qmp_capabilities");
        srv_printf(fd, "{\"return\": {}, \"id\": %lld", (long long) id);
}

static void srv_close_mid_greeting(int fd)
{
        srv_write(fd, "{\"QMP\": {\"version\": {\"qemu\": {\"mic");
}

/* The peer closes in the middle of a message: an error, not a hang. */
static void test_close_mid_message(void **state)
{
        struct fixture *f = *state;
        struct timespec t0;

        clock_gettime(CLOCK_MONOTONIC, &t0);
        start_server(f, srv_close_mid_reply, NULL);
        assert_int_equal(qmp_handshake(f->q, TIMEOUT), -ECONNRESET);
        server_done(f);
        f->q = qmp_free(f->q);

        start_server(f, srv_close_mid_greeting, NULL);
        assert_int_equal(qmp_handshake(f->q, TIMEOUT), -ECONNRESET);
        assert_false(qmp_has_greeting(f->q));
        server_done(f);
        assert_true(elapsed_ms(&t0) < TIMEOUT);
}

static void srv_silent(int fd)
{
        srv_wait_close(fd);
}

/* No greeting at all: -ETIMEDOUT, on time. */
static void test_no_greeting(void **state)
{
        struct fixture *f = *state;
        struct timespec t0;
        long ms;

        start_server(f, srv_silent, NULL);
        clock_gettime(CLOCK_MONOTONIC, &t0);
        assert_int_equal(qmp_handshake(f->q, 300), -ETIMEDOUT);
        ms = elapsed_ms(&t0);
        assert_true(ms >= 300);
        assert_true(ms < 1500);
        /* A timeout is not sticky; 0 ms = only what is already there. */
        assert_int_equal(qmp_handshake(f->q, 0), -ETIMEDOUT);
        f->q = qmp_free(f->q);
        server_done(f);
}

static void srv_garbage(int fd)
{
        srv_handshake(fd);
        (void) srv_expect(fd, "query-status");
        srv_write(fd, "this is not json\r\n");
        srv_wait_close(fd);
}

static void test_garbage(void **state)
{
        struct fixture *f = *state;

        start_server(f, srv_garbage, NULL);
        assert_int_equal(qmp_handshake(f->q, TIMEOUT), 0);
        assert_int_equal(qmp_execute_sync(f->q, "query-status", NULL, TIMEOUT, NULL, NULL),
                         -EPROTO);
        assert_int_equal(qmp_process(f->q), -EPROTO);
        f->q = qmp_free(f->q);
        server_done(f);
}

/* Protocol violations, fed straight into the parser. Ids 1 and 2 are pending
 * when these arrive after the greeting. */
static void test_protocol_errors(void **state)
{
        static const char *const after_greeting[] = {
                "[1, 2]\n",
                "\"str\"\n",
                "42\n",
                "{}\n",
                "{\"return\": {}, \"id\": 99}\n",
                "{\"return\": {}}\n",
                "{\"return\": {}, \"id\": \"1\"}\n",
                "{\"return\": {}, \"id\": 0}\n",
                "{\"return\": {}, \"id\": -1}\n",
                "{\"return\": {}, \"error\": {\"class\": \"A\", \"desc\": \"b\"}, \"id\": 1}\n",
                "{\"error\": {\"class\": 1, \"desc\": \"x\"}, \"id\": 1}\n",
                "{\"error\": {\"class\": \"A\"}, \"id\": 1}\n",
                "{\"error\": \"x\", \"id\": 1}\n",
                "{\"event\": 5}\n",
                "{\"event\": \"\"}\n",
                "{\"event\": \"X\", \"data\": []}\n",
                "{\"event\": \"X\", \"timestamp\": 5}\n",
                "{\"event\": \"X\", \"timestamp\": {\"seconds\": \"a\", \"microseconds\": 1}}\n",
                "{\"a\": 1, \"a\": 2}\n",
                "{\"return\": {}, \"id\": 1} trailing\n",
                "{\"return\": {}, \"id\": 1}{\"return\": {}, \"id\": 2}\n",
                "not json\n",
                "   \r\n",
                "{\"event\": \"\xff\xfe\"}\n",
                "{\"event\": \"A\\u0000B\"}\n",
                "{\"return\": {}, \"id\": 1}\n{\"return\": {}, \"id\": 1}\n", /* twice */
                GREETING,
        };
        static const char *const before_greeting[] = {
                "{\"return\": {}, \"id\": 1}\n",
                "{\"event\": \"X\"}\n",
                "{\"QMP\": {}}\n",
                "{\"QMP\": 1}\n",
                "{\"QMP\": {\"version\": {\"qemu\": {\"major\": -1, \"minor\": 2, \"micro\": 0}},"
                " \"capabilities\": []}}\n",
                "{\"QMP\": {\"version\": {\"qemu\": {\"major\": 7, \"minor\": 2, \"micro\": 0}},"
                " \"capabilities\": [1]}}\n",
                "{\"QMP\": {\"version\": {\"qemu\": {\"major\": 7, \"minor\": 2, \"micro\": 0}}}}\n",
                "{\"QMP\": {\"version\": {\"qemu\": {\"major\": 7, \"minor\": 2, \"micro\": 0},"
                " \"package\": 3}, \"capabilities\": []}}\n",
        };
        struct fixture *f = *state;

        for (size_t i = 0; i < sizeof(after_greeting) / sizeof(after_greeting[0]); i++) {
                uint64_t id;

                start_feed(f, NULL);
                feed_str(f, GREETING, 1);
                assert_int_equal(qmp_send(f->q, "a", NULL, &id), 0);
                assert_int_equal(id, 1);
                assert_int_equal(qmp_send(f->q, "b", NULL, &id), 0);
                assert_int_equal(id, 2);
                print_message("after greeting: case %zu\n", i);
                assert_int_equal(qmp_feed(f->q, after_greeting[i], strlen(after_greeting[i])),
                                 -EPROTO);
                assert_int_equal(qmp_process(f->q), -EPROTO);
                assert_int_equal(qmp_send(f->q, "c", NULL, NULL), -EPROTO);
                f->q = qmp_free(f->q);
                close(f->peer);
                f->peer = -1;
        }
        for (size_t i = 0; i < sizeof(before_greeting) / sizeof(before_greeting[0]); i++) {
                start_feed(f, NULL);
                print_message("before greeting: case %zu\n", i);
                feed_str(f, before_greeting[i], -EPROTO);
                assert_false(qmp_has_greeting(f->q));
                f->q = qmp_free(f->q);
                close(f->peer);
                f->peer = -1;
        }
        /* A raw NUL byte inside a line. */
        start_feed(f, NULL);
        feed_str(f, GREETING, 1);
        assert_int_equal(qmp_feed(f->q, "{\"event\": \"X\"\0}\n", 16), -EPROTO);
}

static void srv_many_events(int fd)
{
        json_int_t id;

        srv_handshake(fd);
        id = srv_expect(fd, "query-status");
        for (int i = 0; i < 5000; i++)
                srv_printf(fd, "{\"event\": \"N\", \"data\": {\"seq\": %d}}\r\n", i);
        srv_reply(fd, id, "{\"status\": \"running\"}");
        srv_wait_close(fd);
}

/* 5000 events, then the reply: the queue keeps the newest 100, counts the
 * rest as dropped, and the reply is found. */
static void test_many_events(void **state)
{
        struct fixture *f = *state;
        struct qmp_options opts = { .max_events = 100 };
        __attribute__((cleanup(qmp_event_freep))) struct qmp_event *ev = NULL;
        int n = 0;

        start_server(f, srv_many_events, &opts);
        assert_int_equal(qmp_handshake(f->q, TIMEOUT), 0);
        assert_int_equal(qmp_execute_sync(f->q, "query-status", NULL, TIMEOUT, NULL, NULL), 0);
        assert_int_equal(qmp_events_dropped(f->q), 4900);
        while (qmp_next_event(f->q, &ev) == 1) {
                assert_int_equal(json_integer_value(json_object_get(ev->data, "seq")), 4900 + n);
                qmp_event_freep(&ev);
                n++;
        }
        assert_int_equal(n, 100);
        f->q = qmp_free(f->q);
        server_done(f);
}

struct seen {
        int n;
        char names[8][16];
        uint64_t id;
};

static void on_event(struct qmp *q, const struct qmp_event *ev, void *userdata)
{
        struct seen *s = userdata;

        if (s->n < 8)
                snprintf(s->names[s->n], sizeof(s->names[0]), "%s", ev->name);
        s->n++;
        /* Sending from the callback is allowed; blocking is not. */
        if (strcmp(ev->name, "RESET") == 0)
                assert_int_equal(qmp_send(q, "from-callback", NULL, &s->id), 0);
        assert_int_equal(qmp_process(q), -EBUSY);
        assert_int_equal(qmp_handshake(q, 10), -EBUSY);
}

static void srv_callback(int fd)
{
        json_int_t id;

        srv_handshake(fd);
        srv_event(fd, "STOP", "{}");
        srv_event(fd, "RESET", "{\"guest\": true}");
        id = srv_expect(fd, "from-callback");
        srv_event(fd, "RESUME", "{}");
        srv_reply(fd, id, "{}");
        srv_wait_close(fd);
}

static void test_event_callback(void **state)
{
        struct fixture *f = *state;
        struct qmp_event *ev = NULL;
        struct seen s = { 0 };

        start_server(f, srv_callback, NULL);
        assert_int_equal(qmp_set_event_callback(f->q, on_event, &s), 0);
        assert_int_equal(qmp_handshake(f->q, TIMEOUT), 0);
        /* Nothing is queued in callback mode: each wait times out, while
         * qmp_process() runs the callback. */
        for (int i = 0; i < 100 && s.id == 0; i++)
                assert_int_equal(qmp_wait_event(f->q, 50, &ev), -ETIMEDOUT);
        assert_int_not_equal(s.id, 0);
        assert_int_equal(qmp_wait_reply(f->q, s.id, TIMEOUT, NULL, NULL), 0);
        assert_int_equal(s.n, 3);
        assert_string_equal(s.names[0], "STOP");
        assert_string_equal(s.names[1], "RESET");
        assert_string_equal(s.names[2], "RESUME");
        assert_int_equal(qmp_next_event(f->q, &ev), 0);
        f->q = qmp_free(f->q);
        server_done(f);
}

static void srv_late_reply(int fd)
{
        json_int_t a, b;

        srv_handshake(fd);
        a = srv_expect(fd, "slow");
        b = srv_expect(fd, "fast");
        srv_reply(fd, a, "{\"late\": true}");
        srv_reply(fd, b, "{\"late\": false}");
        srv_wait_close(fd);
}

/* A timed-out command is forgotten: its late reply is dropped, not a
 * protocol error, and the next command gets its own reply. */
static void test_timeout_then_late_reply(void **state)
{
        struct fixture *f = *state;
        json_t *ret = NULL;

        start_server(f, srv_late_reply, NULL);
        assert_int_equal(qmp_handshake(f->q, TIMEOUT), 0);
        assert_int_equal(qmp_execute_sync(f->q, "slow", NULL, 100, &ret, NULL), -ETIMEDOUT);
        assert_null(ret);
        assert_int_equal(qmp_execute_sync(f->q, "fast", NULL, TIMEOUT, &ret, NULL), 0);
        assert_true(json_is_false(json_object_get(ret, "late")));
        json_decref(ret);
        f->q = qmp_free(f->q);
        server_done(f);
}

static void srv_args(int fd)
{
        json_t *args = NULL;
        json_int_t id;

        srv_handshake(fd);
        id = srv_expect_args(fd, "device_del", &args);
        if (!json_is_object(args) ||
            strcmp(json_string_value(json_object_get(args, "id")) ?: "", "hostdev0") != 0)
                _exit(30);
        json_decref(args);
        srv_reply(fd, id, "{}");
        id = srv_expect_args(fd, "query-status", &args);
        if (args)
                _exit(31);
        srv_reply(fd, id, "{}");
        srv_wait_close(fd);
}

/* Arguments are serialized and borrowed (the caller's reference is intact). */
static void test_arguments(void **state)
{
        struct fixture *f = *state;
        json_t *args = json_pack("{s:s}", "id", "hostdev0");

        start_server(f, srv_args, NULL);
        assert_int_equal(qmp_handshake(f->q, TIMEOUT), 0);
        assert_int_equal(qmp_execute_sync(f->q, "device_del", args, TIMEOUT, NULL, NULL), 0);
        assert_int_equal(args->refcount, 1);
        json_decref(args);
        assert_int_equal(qmp_execute_sync(f->q, "query-status", NULL, TIMEOUT, NULL, NULL), 0);
        f->q = qmp_free(f->q);
        server_done(f);
}

static void srv_exit_after_handshake(int fd)
{
        srv_handshake(fd);
}

/* Writing to a peer that is gone is an error, never SIGPIPE. */
static void test_peer_gone(void **state)
{
        struct fixture *f = *state;
        int r;

        (void) signal(SIGPIPE, SIG_DFL);
        start_server(f, srv_exit_after_handshake, NULL);
        assert_int_equal(qmp_handshake(f->q, TIMEOUT), 0);
        server_done(f);
        r = qmp_execute_sync(f->q, "query-status", NULL, TIMEOUT, NULL, NULL);
        assert_true(r == -EPIPE || r == -ECONNRESET);
}

/* An event line whose content (without the line end) is exactly len bytes. */
static void event_line(char *buf, size_t size, size_t len, const char *end)
{
        const char *head = "{\"event\": \"P\", \"data\": {\"p\": \"", *tail = "\"}}";
        size_t fixed = strlen(head) + strlen(tail);

        assert_true(len >= fixed && len + strlen(end) < size);
        snprintf(buf, size, "%s%*s%s%s", head, (int) (len - fixed), "", tail, end);
        assert_int_equal(strlen(buf), len + strlen(end));
}

/* LF and CRLF, several messages per chunk, blank lines, a CR/LF split across
 * chunks, a message one byte at a time, the max_line boundary. */
static void test_framing(void **state)
{
        struct fixture *f = *state;
        struct qmp_options opts = { .max_line = 200 };
        __attribute__((cleanup(qmp_event_freep))) struct qmp_event *ev = NULL;
        const char *msg = "{\"return\": {\"x\": 1}, \"id\": 3}\r\n";
        char line[256];
        json_t *ret = NULL;
        uint64_t id;

        start_feed(f, &opts);
        assert_int_equal(qmp_feed(f->q, GREETING, 20), 0);
        assert_false(qmp_has_greeting(f->q));
        feed_str(f, &GREETING[20], 1);
        for (int i = 0; i < 3; i++)
                assert_int_equal(qmp_send(f->q, "c", NULL, &id), 0);
        feed_str(f, "{\"event\":\"A\"}\n\r\n\n{\"return\":{\"x\":1},\"id\":1}\r\n"
                    "{\"event\":\"B\",\"data\":{\"k\":2}}\n{\"return\":[],\"id\":2}\r",
                 3);
        assert_int_equal(qmp_reply(f->q, 2, &ret, NULL), -EAGAIN);
        feed_str(f, "\n", 1);
        assert_int_equal(qmp_reply(f->q, 2, &ret, NULL), 0);
        assert_true(json_is_array(ret));
        json_decref(ret);
        assert_int_equal(qmp_reply(f->q, 1, NULL, NULL), 0);
        assert_int_equal(qmp_next_event(f->q, &ev), 1);
        assert_string_equal(ev->name, "A");
        qmp_event_freep(&ev);
        assert_int_equal(qmp_next_event(f->q, &ev), 1);
        assert_string_equal(ev->name, "B");
        assert_int_equal(json_integer_value(json_object_get(ev->data, "k")), 2);
        qmp_event_freep(&ev);

        for (const char *p = msg; *p; p++)
                assert_int_equal(qmp_feed(f->q, p, 1), p[1] ? 0 : 1);
        assert_int_equal(qmp_reply(f->q, 3, NULL, NULL), 0);

        /* Exactly max_line bytes before CRLF or LF: accepted; one more: not. */
        event_line(line, sizeof(line), 200, "\r\n");
        for (const char *p = line; *p; p++)
                assert_int_equal(qmp_feed(f->q, p, 1), p[1] ? 0 : 1);
        event_line(line, sizeof(line), 200, "\n");
        feed_str(f, line, 1);
        event_line(line, sizeof(line), 201, "\n");
        feed_str(f, line, -EMSGSIZE);
        assert_true(qmp_rbuf_capacity(f->q) <= 200 + 2);
}

/* Feeding 10 MiB without a newline never grows the buffer past the limit. */
static void test_oversized_feed(void **state)
{
        struct fixture *f = *state;
        struct qmp_options opts = { .max_line = 4096 };
        static char chunk[65536];
        int r = 0;

        memset(chunk, ' ', sizeof(chunk));
        start_feed(f, &opts);
        feed_str(f, GREETING, 1);
        for (int i = 0; i < 160 && r == 0; i++)
                r = qmp_feed(f->q, chunk, sizeof(chunk));
        assert_int_equal(r, -EMSGSIZE);
        assert_true(qmp_rbuf_capacity(f->q) <= 4096 + 2);
}

/* A peer that never reads: commands queue up to max_output, then -ENOBUFS,
 * and qmp_poll_events() asks for POLLOUT meanwhile. */
static void test_output_limit(void **state)
{
        struct fixture *f = *state;
        struct qmp_options opts = { .max_output = 4096 };
        char buf[65536];
        int r = 0, i;

        start_feed(f, &opts);
        assert_int_equal(qmp_poll_events(f->q), POLLIN);
        for (i = 0; i < 1000000 && r == 0; i++)
                r = qmp_send(f->q, "query-status", NULL, NULL);
        assert_int_equal(r, -ENOBUFS);
        assert_int_equal(qmp_poll_events(f->q), POLLIN | POLLOUT);
        /* Drain the peer; the backlog then goes out. */
        for (int k = 0; k < 100 && (qmp_poll_events(f->q) & POLLOUT); k++) {
                while (recv(f->peer, buf, sizeof(buf), MSG_DONTWAIT) > 0)
                        ;
                assert_true(qmp_process(f->q) >= 0);
        }
        assert_int_equal(qmp_poll_events(f->q), POLLIN);
        assert_int_equal(qmp_send(f->q, "query-status", NULL, NULL), 0);
}

static char listen_path[108];

static void srv_accept(int lfd)
{
        int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);

        if (fd < 0)
                _exit(40);
        srv_handshake(fd);
        srv_wait_close(fd);
}

static void test_connect_path(void **state)
{
        struct fixture *f = *state;
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        char dir[] = "/tmp/qmp-test-XXXXXX", longpath[200];
        struct qmp *q = NULL;
        int lfd;

        assert_non_null(mkdtemp(dir));
        snprintf(listen_path, sizeof(listen_path), "%s/qmp.sock", dir);
        snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", listen_path);
        lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        assert_true(lfd >= 0);
        assert_int_equal(bind(lfd, (struct sockaddr *) &sa, sizeof(sa)), 0);
        assert_int_equal(listen(lfd, 1), 0);
        f->pid = fork();
        assert_true(f->pid >= 0);
        if (f->pid == 0) {
                alarm(20);
                srv_accept(lfd);
                _exit(0);
        }
        close(lfd);
        assert_int_equal(qmp_connect_path(listen_path, NULL, &f->q), 0);
        assert_int_equal(qmp_handshake(f->q, TIMEOUT), 0);
        f->q = qmp_free(f->q);
        server_done(f);
        unlink(listen_path);

        assert_int_equal(qmp_connect_path(listen_path, NULL, &q), -ENOENT);
        rmdir(dir);
        memset(longpath, 'x', sizeof(longpath) - 1);
        longpath[sizeof(longpath) - 1] = '\0';
        assert_int_equal(qmp_connect_path(longpath, NULL, &q), -ENAMETOOLONG);
        assert_int_equal(qmp_connect_path("", NULL, &q), -EINVAL);
        assert_int_equal(qmp_connect_path("@", NULL, &q), -EINVAL);
        assert_int_equal(qmp_connect_path("@vl-qmp-test-nonexistent", NULL, &q), -ECONNREFUSED);
        assert_null(q);
}

/* Argument checks and the documented corner returns. */
static void test_api_contract(void **state)
{
        struct fixture *f = *state;
        struct qmp_options bad = { .max_line = 1 };
        struct qmp *q = NULL;
        struct qmp_event *ev = NULL;
        json_t *arr = json_array();
        int p[2], fd;

        assert_int_equal(qmp_new_fd(-1, NULL, &q), -EBADF);
        /* Not a socket: refused, and the fd is consumed anyway. */
        assert_int_equal(pipe2(p, O_CLOEXEC), 0);
        assert_int_equal(qmp_new_fd(p[0], NULL, &q), -ENOTSOCK);
        assert_int_equal(fcntl(p[0], F_GETFD), -1);
        close(p[1]);
        fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        assert_int_equal(qmp_new_fd(fd, NULL, &q), -EPROTOTYPE);
        fd = socket(AF_UNIX, SOCK_STREAM, 0);
        assert_int_equal(qmp_new_fd(fd, &bad, &q), -EINVAL);
        assert_null(q);
        assert_null(qmp_free(NULL));
        qmp_freep(NULL);
        qmp_event_free(NULL);

        /* Adopted fds become close-on-exec. */
        assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, p), 0);
        f->peer = p[1];
        assert_int_equal(qmp_new_fd(p[0], NULL, &f->q), 0);
        assert_int_equal(qmp_fd(f->q), p[0]);
        assert_true(fcntl(p[0], F_GETFD) & FD_CLOEXEC);

        assert_int_equal(qmp_send(f->q, NULL, NULL, NULL), -EINVAL);
        assert_int_equal(qmp_send(f->q, "", NULL, NULL), -EINVAL);
        assert_int_equal(qmp_send(f->q, "x", arr, NULL), -EINVAL);
        assert_int_equal(qmp_send(f->q, "\xff", NULL, NULL), -EINVAL);
        json_decref(arr);
        assert_int_equal(qmp_reply(f->q, 12345, NULL, NULL), -ENOENT);
        assert_int_equal(qmp_forget(f->q, 12345), -ENOENT);
        assert_int_equal(qmp_next_event(f->q, &ev), 0);
        assert_int_equal(qmp_wait_event(f->q, -1, &ev), -EINVAL);
        assert_int_equal(qmp_execute_sync(f->q, "x", NULL, -1, NULL, NULL), -EINVAL);
        assert_int_equal(qmp_handshake(f->q, -5), -EINVAL);
        assert_int_equal(qmp_process(f->q), 0);
        assert_int_equal(qmp_events_dropped(f->q), 0);
        assert_null(qmp_get_package(f->q));
        assert_null(qmp_get_greeting(f->q));
        assert_int_equal(qmp_process(NULL), -EINVAL);
        assert_int_equal(qmp_fd(NULL), -EINVAL);
}

/* add-fd as QEMU's monitor gets it: the fd arrives with the command's
 * first bytes (SCM_RIGHTS). The server writes through the fd it got, the
 * test reads it on its own end of the pipe. */
static void srv_add_fd(int fd)
{
        union {
                struct cmsghdr align;
                char buf[CMSG_SPACE(sizeof(int))];
        } control;
        char line[4096];
        struct iovec iov = { .iov_base = line, .iov_len = sizeof(line) - 1 };
        struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = control.buf,
                             .msg_controllen = sizeof(control.buf) };
        struct cmsghdr *cm;
        json_t *m, *id;
        ssize_t n;
        int got;

        srv_handshake(fd);
        /* The client sends the command in one sendmsg(): it is all here. */
        n = recvmsg(fd, &mh, 0);
        if (n <= 0 || line[n - 1] != '\n')
                _exit(20);
        cm = CMSG_FIRSTHDR(&mh);
        if (!cm || cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
                _exit(21);
        memcpy(&got, CMSG_DATA(cm), sizeof(got));
        m = json_loadb(line, (size_t) n - 1, 0, NULL);
        id = json_object_get(m, "id");
        if (!m || strcmp(json_string_value(json_object_get(m, "execute")) ?: "", "add-fd") != 0 ||
            json_integer_value(json_object_get(json_object_get(m, "arguments"), "fdset-id")) != 3)
                _exit(22);
        if (write(got, "fd!", 3) != 3)
                _exit(23);
        close(got);
        srv_reply(fd, json_integer_value(id), "{\"fdset-id\": 3, \"fd\": 9}");
        json_decref(m);
        /* A command without an fd still goes as a plain line. */
        srv_reply(fd, srv_expect(fd, "query-fdsets"), "[]");
        srv_wait_close(fd);
}

static void test_send_fd(void **state)
{
        struct fixture *f = *state;
        json_t *args = json_pack("{s:i}", "fdset-id", 3), *ret = NULL;
        char buf[8] = "";
        uint64_t id;
        int p[2];

        assert_int_equal(pipe2(p, O_CLOEXEC), 0);
        start_server(f, srv_add_fd, NULL);
        assert_int_equal(qmp_handshake(f->q, TIMEOUT), 0);
        assert_int_equal(qmp_send_fd(f->q, "add-fd", args, -1, &id), -EBADF);
        assert_int_equal(qmp_send_fd(f->q, "add-fd", args, p[1], &id), 0);
        /* Borrowed: ours to close, the peer has its own copy. */
        close(p[1]);
        assert_int_equal(qmp_wait_reply(f->q, id, TIMEOUT, &ret, NULL), 0);
        assert_int_equal(json_integer_value(json_object_get(ret, "fdset-id")), 3);
        assert_int_equal(read(p[0], buf, sizeof(buf) - 1), 3);
        assert_string_equal(buf, "fd!");
        json_decref(ret);
        assert_int_equal(qmp_execute_sync(f->q, "query-fdsets", NULL, TIMEOUT, NULL, NULL), 0);
        close(p[0]);
        json_decref(args);
        f->q = qmp_free(f->q);
        server_done(f);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
                T(test_handshake),
                T(test_event_before_reply),
                T(test_error_reply),
                T(test_byte_at_a_time),
                T(test_oversized_line),
                T(test_oversized_line_default),
                T(test_close_mid_message),
                T(test_no_greeting),
                T(test_garbage),
                T(test_protocol_errors),
                T(test_many_events),
                T(test_event_callback),
                T(test_timeout_then_late_reply),
                T(test_arguments),
                T(test_peer_gone),
                T(test_framing),
                T(test_oversized_feed),
                T(test_output_limit),
                T(test_connect_path),
                T(test_api_contract),
                T(test_send_fd),
#undef T
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
