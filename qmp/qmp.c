/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libqmp: QMP client state machine, line framing, reply correlation, event
 * queue. See qmp.h for the contract.
 *
 * Invariants:
 *  - rbuf[0, rlen) holds received bytes not yet parsed; rbuf[0, rscan) holds
 *    no '\n' (so bytes arriving one at a time are scanned once, not
 *    quadratically); rcap <= max_line + 2 (the line, CR, LF): input can never
 *    make us allocate more than that for framing.
 *  - wbuf[woff, wlen) holds serialized commands not yet written.
 *  - error != 0 means the connection is dead; it is set once, never cleared.
 *  - in_process is set while parsing, so the event callback cannot re-enter.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "qmp-internal.h"
#include "qmp-state.h"
#include "qmp.h"

/* Our own cleanup helpers: libqmp must not depend on launcher/macro.h. */
#define _cleanup_(f) __attribute__((cleanup(f)))
#define _cleanup_free_ _cleanup_(freep)
#define _cleanup_close_ _cleanup_(closep)
#define _cleanup_json_ _cleanup_(json_decrefp)

#define TAKE_PTR(p)                                                            \
        ({                                                                     \
                __typeof__(p) _taken = (p);                                    \
                (p) = NULL;                                                    \
                _taken;                                                        \
        })
#define TAKE_FD(fd)                                                            \
        ({                                                                     \
                int _taken = (fd);                                             \
                (fd) = -EBADF;                                                 \
                _taken;                                                        \
        })

static void freep(void *p)
{
        free(*(void **) p);
}

static void closep(int *fd)
{
        if (*fd >= 0) {
                int saved = errno;
                (void) close(*fd);
                errno = saved;
        }
}

#define RBUF_CHUNK 4096           /* read granularity */
#define RBUF_KEEP (64 * 1024)     /* an empty buffer larger than this is released */
#define READS_PER_PROCESS 16      /* bound one qmp_process() call under a flood */
#define MAX_LINE_LIMIT (256u * 1024 * 1024)
#define MAX_EVENTS_LIMIT (1024u * 1024)
#define MAX_OUTPUT_LIMIT (1024u * 1024 * 1024)

/* Record the first transport error; every later call reports that one. */
static int fail(struct qmp *q, int r)
{
        if (!q->error)
                q->error = r;
        return q->error;
}

static int apply_options(struct qmp *q, const struct qmp_options *o)
{
        q->max_line = QMP_DEFAULT_MAX_LINE;
        q->max_events = QMP_DEFAULT_MAX_EVENTS;
        q->max_output = QMP_DEFAULT_MAX_OUTPUT;
        if (!o)
                return 0;
        if (o->max_line) {
                if (o->max_line < 16 || o->max_line > MAX_LINE_LIMIT)
                        return -EINVAL;
                q->max_line = o->max_line;
        }
        if (o->max_events) {
                if (o->max_events > MAX_EVENTS_LIMIT)
                        return -EINVAL;
                q->max_events = o->max_events;
        }
        if (o->max_output) {
                if (o->max_output < 64 || o->max_output > MAX_OUTPUT_LIMIT)
                        return -EINVAL;
                q->max_output = o->max_output;
        }
        return 0;
}

int qmp_new_fd(int fd, const struct qmp_options *opts, struct qmp **ret_q)
{
        _cleanup_close_ int owned = fd;
        _cleanup_(qmp_freep) struct qmp *q = NULL;
        socklen_t len = sizeof(int);
        int type, flags, r;

        if (fd < 0)
                return -EBADF;
        if (!ret_q)
                return -EINVAL;
        if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) < 0)
                return -errno;
        /* QMP is a byte stream framed by newlines; a datagram socket would
         * split or merge messages arbitrarily. */
        if (type != SOCK_STREAM)
                return -EPROTOTYPE;
        flags = fcntl(fd, F_GETFD);
        if (flags < 0)
                return -errno;
        if (!(flags & FD_CLOEXEC) && fcntl(fd, F_SETFD, flags | FD_CLOEXEC) < 0)
                return -errno;

        q = calloc(1, sizeof(*q));
        if (!q)
                return -ENOMEM;
        q->fd = -EBADF;
        q->next_id = 1;
        r = apply_options(q, opts);
        if (r < 0)
                return r;
        q->fd = TAKE_FD(owned);
        *ret_q = TAKE_PTR(q);
        return 0;
}

int qmp_connect_path(const char *path, const struct qmp_options *opts, struct qmp **ret_q)
{
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        _cleanup_close_ int fd = -EBADF;
        socklen_t salen;
        size_t n;

        if (!path || !*path || !ret_q || (path[0] == '@' && !path[1]))
                return -EINVAL;
        n = strlen(path);
        if (n >= sizeof(sa.sun_path))
                return -ENAMETOOLONG;
        memcpy(sa.sun_path, path, n);
        if (path[0] == '@') {
                sa.sun_path[0] = '\0'; /* abstract: the length is the name */
                salen = (socklen_t) (offsetof(struct sockaddr_un, sun_path) + n);
        } else
                salen = (socklen_t) (offsetof(struct sockaddr_un, sun_path) + n + 1);

        /* Non-blocking: an AF_UNIX connect completes at once or fails with
         * EAGAIN when the backlog is full; it never sleeps on our behalf. */
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (fd < 0)
                return -errno;
        if (connect(fd, (struct sockaddr *) &sa, salen) < 0)
                return -errno;
        return qmp_new_fd(TAKE_FD(fd), opts, ret_q);
}

struct qmp *qmp_free(struct qmp *q)
{
        int saved = errno;

        if (!q)
                return NULL;
        if (q->fd >= 0)
                (void) close(q->fd);
        free(q->rbuf);
        free(q->wbuf);
        json_decref(q->greeting);
        for (size_t i = 0; i < q->n_pending; i++)
                json_decref(q->pending[i].reply);
        free(q->pending);
        while (q->ev_head) {
                struct event_node *n = q->ev_head;
                q->ev_head = n->next;
                qmp_event_free(&n->ev);
        }
        free(q);
        errno = saved;
        return NULL;
}

void qmp_freep(struct qmp **q)
{
        if (q)
                *q = qmp_free(*q);
}

int qmp_fd(const struct qmp *q)
{
        return q ? q->fd : -EINVAL;
}

short qmp_poll_events(const struct qmp *q)
{
        if (!q)
                return 0;
        return (short) (POLLIN | (q->woff < q->wlen ? POLLOUT : 0));
}

/* ---- pending commands ---- */

static struct pending *pending_find(struct qmp *q, uint64_t id)
{
        for (size_t i = 0; i < q->n_pending; i++)
                if (q->pending[i].id == id)
                        return &q->pending[i];
        return NULL;
}

static void pending_remove(struct qmp *q, struct pending *p)
{
        json_decref(p->reply);
        *p = q->pending[--q->n_pending];
}

static int pending_add(struct qmp *q, uint64_t id, bool forgotten)
{
        if (q->n_pending == q->cap_pending) {
                size_t cap = q->cap_pending ? q->cap_pending * 2 : 8;
                struct pending *p = reallocarray(q->pending, cap, sizeof(*p));
                if (!p)
                        return -ENOMEM;
                q->pending = p;
                q->cap_pending = cap;
        }
        q->pending[q->n_pending++] = (struct pending){ .id = id, .forgotten = forgotten };
        return 0;
}

/* ---- incoming messages ---- */

static int get_uint(json_t *obj, const char *key, unsigned *ret)
{
        json_t *v = json_object_get(obj, key);

        if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > INT_MAX)
                return -EPROTO;
        *ret = (unsigned) json_integer_value(v);
        return 0;
}

/* {"QMP": {"version": {"qemu": {"major", "minor", "micro"}, "package"},
 *          "capabilities": [...]}} */
static int parse_greeting(struct qmp *q, json_t *v)
{
        json_t *ver, *qemu, *pkg, *caps, *c;
        unsigned version[3];
        size_t i;

        ver = json_object_get(v, "version");
        qemu = json_object_get(ver, "qemu");
        if (!json_is_object(qemu) || get_uint(qemu, "major", &version[0]) < 0 ||
            get_uint(qemu, "minor", &version[1]) < 0 || get_uint(qemu, "micro", &version[2]) < 0)
                return -EPROTO;
        pkg = json_object_get(ver, "package");
        if (pkg && !json_is_string(pkg))
                return -EPROTO;
        caps = json_object_get(v, "capabilities");
        if (!json_is_array(caps))
                return -EPROTO;
        json_array_foreach(caps, i, c)
                if (!json_is_string(c))
                        return -EPROTO;
        memcpy(q->version, version, sizeof(version));
        return 0;
}

static int get_timestamp(json_t *ts, const char *key, int64_t *ret)
{
        json_t *v = json_object_get(ts, key);

        if (!json_is_integer(v))
                return -EPROTO;
        *ret = json_integer_value(v);
        return 0;
}

static void queue_event(struct qmp *q, struct event_node *n)
{
        /* Full: drop the oldest. A monitor cares most about the latest state,
         * and refusing new events would let a flood hide SHUTDOWN. */
        if (q->n_events >= q->max_events) {
                struct event_node *old = q->ev_head;
                q->ev_head = old->next;
                if (!q->ev_head)
                        q->ev_tail = NULL;
                q->n_events--;
                q->events_dropped++;
                qmp_event_free(&old->ev);
        }
        if (q->ev_tail)
                q->ev_tail->next = n;
        else
                q->ev_head = n;
        q->ev_tail = n;
        q->n_events++;
}

/* {"event": NAME, "data": {...}, "timestamp": {"seconds", "microseconds"}} */
static int handle_event(struct qmp *q, json_t *m)
{
        json_t *name = json_object_get(m, "event"), *data = json_object_get(m, "data");
        json_t *ts = json_object_get(m, "timestamp");
        struct event_node *n;
        size_t len;

        /* jansson rejects "\u0000" without JSON_ALLOW_NUL, so the length is
         * also the C string length. */
        if (!json_is_string(name) || json_string_length(name) == 0)
                return -EPROTO;
        if (data && !json_is_object(data))
                return -EPROTO;
        if (ts && !json_is_object(ts))
                return -EPROTO;

        len = json_string_length(name);
        n = malloc(sizeof(*n) + len + 1);
        if (!n)
                return -ENOMEM;
        memcpy(n->name, json_string_value(name), len + 1);
        n->next = NULL;
        n->ev.name = n->name;
        n->ev.seconds = n->ev.microseconds = -1;
        n->ev.data = data ? json_incref(data) : json_object();
        if (!n->ev.data) {
                free(n);
                return -ENOMEM;
        }
        if (ts && (get_timestamp(ts, "seconds", &n->ev.seconds) < 0 ||
                   get_timestamp(ts, "microseconds", &n->ev.microseconds) < 0)) {
                qmp_event_free(&n->ev);
                return -EPROTO;
        }

        if (q->event_fn) {
                q->event_fn(q, &n->ev, q->event_userdata);
                qmp_event_free(&n->ev);
        } else
                queue_event(q, n);
        return 1;
}

/* {"return": X, "id": N} or {"error": {"class", "desc"}, "id": N}; steals m. */
static int handle_reply(struct qmp *q, json_t *msg)
{
        _cleanup_json_ json_t *m = msg;
        json_t *id = json_object_get(m, "id"), *err = json_object_get(m, "error");
        struct pending *p;

        if (err && json_object_get(m, "return"))
                return -EPROTO;
        if (err && (!json_is_string(json_object_get(err, "class")) ||
                    !json_is_string(json_object_get(err, "desc"))))
                return -EPROTO;
        /* We only ever send positive integer ids; anything else is not ours. */
        if (!json_is_integer(id) || json_integer_value(id) < 1)
                return -EPROTO;
        p = pending_find(q, (uint64_t) json_integer_value(id));
        if (!p || p->reply)
                return -EPROTO;
        if (p->forgotten)
                pending_remove(q, p);
        else
                p->reply = TAKE_PTR(m);
        return 1;
}

/* Steals msg. Returns 1 (one message handled) or -errno. */
static int dispatch(struct qmp *q, json_t *msg)
{
        _cleanup_json_ json_t *m = msg;
        json_t *v;
        int r;

        if (!json_is_object(m))
                return -EPROTO;
        v = json_object_get(m, "QMP");
        if (v) {
                if (q->greeting)
                        return -EPROTO;
                r = parse_greeting(q, v);
                if (r < 0)
                        return r;
                q->greeting = TAKE_PTR(m);
                return 1;
        }
        /* QEMU always greets first; anything else first is not QEMU. */
        if (!q->greeting)
                return -EPROTO;
        if (json_object_get(m, "event"))
                return handle_event(q, m);
        if (json_object_get(m, "return") || json_object_get(m, "error"))
                return handle_reply(q, TAKE_PTR(m));
        return -EPROTO;
}

/* One line without its '\n'. Returns 1 (a message), 0 (blank line), -errno. */
static int parse_line(struct qmp *q, const char *line, size_t len)
{
        json_error_t jerr;
        json_t *m;

        if (len > 0 && line[len - 1] == '\r')
                len--;
        if (len > q->max_line)
                return -EMSGSIZE;
        if (len == 0)
                return 0;
        /* json_loadb() would stop at a NUL and call the rest trailing junk
         * or accept a prefix; say plainly that NUL has no place in QMP. */
        if (memchr(line, '\0', len))
                return -EPROTO;
        m = json_loadb(line, len, JSON_REJECT_DUPLICATES, &jerr);
        if (!m)
                return -EPROTO;
        return dispatch(q, m);
}

/* Parse every complete line in rbuf, then move the partial rest to the
 * front. Returns the number of messages or a sticky error. */
static int parse_lines(struct qmp *q)
{
        size_t start = 0;
        int n = 0, r;

        while (q->rscan < q->rlen) {
                char *nl = memchr(q->rbuf + q->rscan, '\n', q->rlen - q->rscan);
                if (!nl) {
                        q->rscan = q->rlen;
                        break;
                }
                size_t end = (size_t) (nl - q->rbuf);
                r = parse_line(q, q->rbuf + start, end - start);
                if (r < 0)
                        return fail(q, r);
                n += r;
                start = q->rscan = end + 1;
        }
        if (start > 0) {
                memmove(q->rbuf, q->rbuf + start, q->rlen - start);
                q->rlen -= start;
                q->rscan -= start;
        }
        /* One long reply (query-qmp-schema) must not pin a large buffer. */
        if (q->rlen == 0 && q->rcap > RBUF_KEEP) {
                free(q->rbuf);
                q->rbuf = NULL;
                q->rcap = 0;
        }
        return n;
}

/* Make room for at least one more byte (normally RBUF_CHUNK). Fails with
 * -EMSGSIZE when the buffer is at its limit and holds no '\n': the line in
 * it is already longer than max_line. */
static int rbuf_reserve(struct qmp *q)
{
        size_t limit = q->max_line + 2, want;
        char *p;

        if (q->rcap - q->rlen >= RBUF_CHUNK)
                return 0;
        if (q->rcap >= limit)
                return q->rlen < q->rcap ? 0 : -EMSGSIZE;
        want = q->rcap * 2;
        if (want < q->rlen + RBUF_CHUNK)
                want = q->rlen + RBUF_CHUNK;
        if (want > limit)
                want = limit;
        p = realloc(q->rbuf, want);
        if (!p)
                return -ENOMEM;
        q->rbuf = p;
        q->rcap = want;
        return 0;
}

static int receive(struct qmp *q)
{
        int total = 0, r;

        for (unsigned i = 0; i < READS_PER_PROCESS;) {
                ssize_t n;

                r = rbuf_reserve(q);
                if (r < 0)
                        return fail(q, r);
                n = recv(q->fd, q->rbuf + q->rlen, q->rcap - q->rlen, MSG_DONTWAIT);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        if (errno == EAGAIN || errno == EWOULDBLOCK)
                                break;
                        return fail(q, -errno);
                }
                if (n == 0)
                        return fail(q, -ECONNRESET);
                q->rlen += (size_t) n;
                r = parse_lines(q);
                if (r < 0)
                        return r;
                total += r;
                i++;
        }
        return total;
}

static int flush(struct qmp *q)
{
        while (q->woff < q->wlen) {
                /* MSG_NOSIGNAL: a QEMU that died must be an -EPIPE, not a
                 * SIGPIPE that kills the caller. */
                ssize_t n = send(q->fd, q->wbuf + q->woff, q->wlen - q->woff,
                                 MSG_NOSIGNAL | MSG_DONTWAIT);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        if (errno == EAGAIN || errno == EWOULDBLOCK)
                                return 0;
                        return fail(q, -errno);
                }
                q->woff += (size_t) n;
        }
        q->woff = q->wlen = 0;
        return 0;
}

int qmp_process(struct qmp *q)
{
        int r, k;

        if (!q)
                return -EINVAL;
        if (q->in_process)
                return -EBUSY;
        if (q->error)
                return q->error;
        q->in_process = true;
        /* Read before writing: if the peer is gone, what it said before
         * going (a reply, SHUTDOWN) is still in our receive queue. */
        r = receive(q);
        if (r >= 0) {
                k = flush(q);
                if (k < 0)
                        r = k;
        }
        q->in_process = false;
        return r;
}

int qmp_feed(struct qmp *q, const void *buf, size_t size)
{
        const char *p = buf;
        int total = 0, r = 0;

        if (!q || (!buf && size))
                return -EINVAL;
        if (q->in_process)
                return -EBUSY;
        if (q->error)
                return q->error;
        q->in_process = true;
        while (size > 0) {
                size_t n;

                r = rbuf_reserve(q);
                if (r < 0) {
                        r = fail(q, r);
                        break;
                }
                n = q->rcap - q->rlen < size ? q->rcap - q->rlen : size;
                memcpy(q->rbuf + q->rlen, p, n);
                q->rlen += n;
                p += n;
                size -= n;
                r = parse_lines(q);
                if (r < 0)
                        break;
                total += r;
        }
        q->in_process = false;
        return r < 0 ? r : total;
}

int qmp_feed_eof(struct qmp *q)
{
        if (!q)
                return -EINVAL;
        return fail(q, -ECONNRESET);
}

size_t qmp_rbuf_capacity(const struct qmp *q)
{
        return q ? q->rcap : 0;
}

/* ---- commands ---- */

static int wbuf_append(struct qmp *q, const char *s, size_t n)
{
        if (q->woff > 0) {
                memmove(q->wbuf, q->wbuf + q->woff, q->wlen - q->woff);
                q->wlen -= q->woff;
                q->woff = 0;
        }
        if (q->wlen + n + 1 > q->max_output)
                return -ENOBUFS;
        if (q->wlen + n + 1 > q->wcap) {
                size_t cap = q->wcap ? q->wcap : 1024;
                char *p;

                while (cap < q->wlen + n + 1)
                        cap *= 2;
                p = realloc(q->wbuf, cap);
                if (!p)
                        return -ENOMEM;
                q->wbuf = p;
                q->wcap = cap;
        }
        memcpy(q->wbuf + q->wlen, s, n);
        q->wbuf[q->wlen + n] = '\n';
        q->wlen += n + 1;
        return 0;
}

/* The first bytes of the line s + "\n" with fd as SCM_RIGHTS ancillary
 * data: QEMU keeps the fd that came with a command for that command
 * (getfd, add-fd). The bytes sent (> 0, at most n + 1), or -errno. */
static ssize_t send_with_fd(int sock, const char *s, size_t n, int fd)
{
        union {
                struct cmsghdr align;
                char buf[CMSG_SPACE(sizeof(int))];
        } control = {};
        struct iovec iov[2] = { { .iov_base = (void *) s, .iov_len = n }, { .iov_base = (void *) "\n", .iov_len = 1 } };
        struct msghdr mh = { .msg_iov = iov, .msg_iovlen = 2, .msg_control = control.buf,
                             .msg_controllen = sizeof(control.buf) };
        struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
        ssize_t r;

        cm->cmsg_level = SOL_SOCKET;
        cm->cmsg_type = SCM_RIGHTS;
        cm->cmsg_len = CMSG_LEN(sizeof(int));
        memcpy(CMSG_DATA(cm), &fd, sizeof(int));
        do
                r = sendmsg(sock, &mh, MSG_NOSIGNAL);
        while (r < 0 && errno == EINTR);
        return r < 0 ? -errno : r;
}

static int send_command(struct qmp *q, const char *command, json_t *arguments, int fd, uint64_t *ret_id)
{
        _cleanup_json_ json_t *msg = NULL;
        _cleanup_free_ char *s = NULL;
        uint64_t id;
        int r;

        if (!q || !command || !*command || (arguments && !json_is_object(arguments)))
                return -EINVAL;
        if (q->error)
                return q->error;

        id = q->next_id;
        msg = json_object();
        if (!msg)
                return -ENOMEM;
        /* json_string() fails on invalid UTF-8: a caller error. */
        if (json_object_set_new(msg, "execute", json_string(command)) < 0)
                return -EINVAL;
        if (arguments && json_object_set(msg, "arguments", arguments) < 0)
                return -ENOMEM;
        if (json_object_set_new(msg, "id", json_integer((json_int_t) id)) < 0)
                return -ENOMEM;
        /* Compact output has no raw newline, so one command is one line. A
         * NULL here is a cycle in arguments (or no memory). */
        s = json_dumps(msg, JSON_COMPACT);
        if (!s)
                return -EINVAL;

        r = pending_add(q, id, !ret_id);
        if (r < 0)
                return r;
        r = 0;
        if (fd >= 0) {
                /* The fd goes with the command's first bytes, so nothing
                 * else may be before them on the wire. */
                size_t len = strlen(s);
                ssize_t n = q->wlen > q->woff ? -EBUSY : send_with_fd(q->fd, s, len, fd);

                if (n < 0) {
                        pending_remove(q, &q->pending[q->n_pending - 1]);
                        return (int) n;
                }
                if ((size_t) n <= len) /* the rest, and its newline, as any other output */
                        r = wbuf_append(q, s + n, len - (size_t) n);
        } else
                r = wbuf_append(q, s, strlen(s));
        if (r < 0) {
                pending_remove(q, &q->pending[q->n_pending - 1]);
                return r;
        }
        q->next_id++;
        r = flush(q);
        if (r < 0)
                return r;
        if (ret_id)
                *ret_id = id;
        return 0;
}

static void fill_error(json_t *err, struct qmp_error *ret_error)
{
        const char *c = json_string_value(json_object_get(err, "class"));
        const char *d = json_string_value(json_object_get(err, "desc"));

        /* snprintf truncates and always terminates. */
        (void) snprintf(ret_error->error_class, sizeof(ret_error->error_class), "%s", c ?: "");
        (void) snprintf(ret_error->desc, sizeof(ret_error->desc), "%s", d ?: "");
}

int qmp_send(struct qmp *q, const char *command, json_t *arguments, uint64_t *ret_id)
{
        return send_command(q, command, arguments, -1, ret_id);
}

int qmp_send_fd(struct qmp *q, const char *command, json_t *arguments, int fd, uint64_t *ret_id)
{
        if (fd < 0)
                return -EBADF;
        if (q && !q->error && q->wlen > q->woff)
                (void) flush(q);
        return send_command(q, command, arguments, fd, ret_id);
}

int qmp_reply(struct qmp *q, uint64_t id, json_t **ret_return, struct qmp_error *ret_error)
{
        _cleanup_json_ json_t *m = NULL;
        struct pending *p;
        json_t *err;

        if (!q)
                return -EINVAL;
        p = pending_find(q, id);
        if (!p || p->forgotten)
                return -ENOENT;
        if (!p->reply)
                return q->error ?: -EAGAIN;
        m = TAKE_PTR(p->reply);
        pending_remove(q, p);

        err = json_object_get(m, "error");
        if (err) {
                if (ret_error)
                        fill_error(err, ret_error);
                return -EREMOTEIO;
        }
        if (ret_return)
                *ret_return = json_incref(json_object_get(m, "return"));
        return 0;
}

int qmp_forget(struct qmp *q, uint64_t id)
{
        struct pending *p;

        if (!q)
                return -EINVAL;
        p = pending_find(q, id);
        if (!p || p->forgotten)
                return -ENOENT;
        if (p->reply)
                pending_remove(q, p);
        else
                p->forgotten = true;
        return 0;
}
