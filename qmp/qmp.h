/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libqmp: a small, standalone client for the QEMU Machine Protocol.
 *
 * Depends on jansson only. The library never blocks on its own: it owns one
 * connected stream socket, tells the caller which poll events it wants
 * (qmp_fd(), qmp_poll_events()) and does its I/O in qmp_process(). The
 * qmp_handshake()/qmp_execute_sync()/qmp_wait_*() helpers are built on poll()
 * and every one of them takes a timeout.
 *
 * Conventions (libmnl/systemd style):
 *  - int returns: >= 0 on success, -errno on failure. Nothing prints, nothing
 *    exits, nothing raises SIGPIPE (every send uses MSG_NOSIGNAL).
 *  - ret_* out parameters are written only on success (the struct qmp_error
 *    is an error object: it is written only when -EREMOTEIO is returned).
 *  - Transport errors are negative errno values and are sticky: once one is
 *    returned the connection is dead and every later call that needs the
 *    connection returns the same value; free the object. They are:
 *      -ETIMEDOUT    a blocking helper ran out of time (NOT sticky)
 *      -ECONNRESET   the peer closed the connection (cleanly or not; a message
 *                    cut by the close is discarded)
 *      -EPIPE        writing failed because the peer is gone
 *      -EPROTO       malformed JSON, a message that is not a JSON object, a
 *                    greeting missing or repeated, a reply whose id is not one
 *                    this library sent, a reply that is neither return nor
 *                    error
 *      -EMSGSIZE     a line longer than qmp_options.max_line
 *      -ENOMEM       no memory for the receive buffer or a message
 *      other         errors of recv()/send()
 *  - A QMP error reply ({"error": {"class", "desc"}}) is not a transport error:
 *    the functions that deliver a reply return -EREMOTEIO and fill a
 *    struct qmp_error; the connection stays usable.
 *
 * Ids: the library numbers commands 1, 2, 3, ... ("id": N) and matches each
 * reply to its command. A reply with an unknown, missing or repeated id is a
 * protocol error (-EPROTO): QEMU echoes every id it is given, so such a reply
 * means the stream is not what we think it is. A reply to a command whose id
 * was forgotten (qmp_forget(), qmp_send() with ret_id == NULL, a timed-out
 * qmp_execute_sync()) is dropped silently.
 *
 * Events are queued in arrival order (events may arrive BEFORE the reply to
 * the command that caused them). The queue holds at most
 * qmp_options.max_events; when full, the OLDEST event is dropped and counted
 * (qmp_events_dropped()). Alternatively a callback receives every event as it
 * is parsed and nothing is queued.
 *
 * Thread safety: none; one struct qmp per thread at a time.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#ifdef __cplusplus
extern "C" {
#endif

#define QMP_DEFAULT_MAX_LINE (1024 * 1024)       /* bytes, without the line end */
#define QMP_DEFAULT_MAX_EVENTS 1024
#define QMP_DEFAULT_MAX_OUTPUT (4 * 1024 * 1024) /* bytes of unsent commands */

/* Limits; a zero field means its default. */
struct qmp_options {
        size_t max_line;   /* 16 .. 256 MiB; longer lines fail with -EMSGSIZE */
        size_t max_events; /* 1 .. 1048576 queued events */
        size_t max_output; /* 64 .. 1 GiB bytes of commands not yet written */
};

/* A QMP error reply. Both strings are always NUL-terminated, truncated if
 * QEMU sent longer ones. */
struct qmp_error {
        char error_class[64]; /* "CommandNotFound", "GenericError", ... */
        char desc[512];
};

/* One event. Allocated by the library; the caller of qmp_next_event() or
 * qmp_wait_event() owns it and frees it with qmp_event_free(). */
struct qmp_event {
        const char *name;     /* "SHUTDOWN"; points into the event itself */
        json_t *data;         /* the "data" object (an empty object if QEMU sent
                               * none); owned by the event: json_incref() it to
                               * keep it beyond qmp_event_free() */
        int64_t seconds;      /* "timestamp" as sent by QEMU; -1 if absent */
        int64_t microseconds; /* -1 if absent */
};

struct qmp;

/* Called for every event, from inside qmp_process() (and so from every
 * blocking helper), instead of queueing it. The event is borrowed: it is
 * freed when the callback returns. The callback may call qmp_send(),
 * qmp_reply(), qmp_forget() and the getters; it must not call qmp_process(),
 * a blocking helper (they return -EBUSY) or qmp_free(). */
typedef void (*qmp_event_fn)(struct qmp *q, const struct qmp_event *event, void *userdata);

/* Wrap a connected stream socket (one end of a socketpair, an accepted
 * connection, ...). The fd is ALWAYS consumed: owned by the new object on
 * success, closed on failure, so `qmp_new_fd(TAKE_FD(fd), ...)` is correct.
 * It is set FD_CLOEXEC; its O_NONBLOCK flag is left alone (every recv/send
 * uses MSG_DONTWAIT). opts may be NULL (defaults).
 * Returns 0 and *ret_q; -EBADF (fd < 0), -ENOTSOCK, -EPROTOTYPE (not
 * SOCK_STREAM), -EINVAL (ret_q NULL or an option out of range), -ENOMEM. */
int qmp_new_fd(int fd, const struct qmp_options *opts, struct qmp **ret_q);

/* Connect to a listening AF_UNIX stream socket at path ("@name" = abstract
 * namespace) with a non-blocking, close-on-exec socket, then as
 * qmp_new_fd(). Returns 0 and *ret_q; -EINVAL, -ENAMETOOLONG (path does not
 * fit sun_path), -EAGAIN (the listener's backlog is full: retry later), the
 * errno of socket()/connect() (-ENOENT, -ECONNREFUSED, -EACCES, ...),
 * -ENOMEM. */
int qmp_connect_path(const char *path, const struct qmp_options *opts, struct qmp **ret_q);

/* Close the socket and free everything, queued events and unclaimed replies
 * included. NULL is fine. errno is preserved. Returns NULL. */
struct qmp *qmp_free(struct qmp *q);

/* For __attribute__((cleanup(qmp_freep))). */
void qmp_freep(struct qmp **q);

/* The socket to poll. Owned by q: do not close it. Returns -EINVAL if q is
 * NULL. */
int qmp_fd(const struct qmp *q);

/* The poll() events q needs now: POLLIN, plus POLLOUT while commands wait to
 * be written. Returns 0 if q is NULL. */
short qmp_poll_events(const struct qmp *q);

/* Do whatever I/O can be done without blocking: read what is available (a
 * bounded number of reads per call; poll is level-triggered, so the rest is
 * read next time), parse every complete line (LF or CRLF), queue events,
 * store replies, then write pending commands. Call it when poll() reports
 * any event on qmp_fd().
 * Returns the number of messages parsed (>= 0), or a sticky transport error
 * (see above; messages parsed before the error are kept), -EBUSY when called
 * from the event callback, -EINVAL if q is NULL. */
int qmp_process(struct qmp *q);

/* Wait for the greeting, check it, send "qmp_capabilities" and wait for its
 * success, all within timeout_ms (>= 0; 0 = only what is already readable).
 * Returns 0; -ETIMEDOUT; -EREMOTEIO if QEMU refused qmp_capabilities;
 * -EALREADY if the handshake was done before; -EINVAL; -EBUSY; a transport
 * error. */
int qmp_handshake(struct qmp *q, int timeout_ms);

/* True once the greeting has been received (qmp_process() may receive it
 * before qmp_handshake() is called). */
bool qmp_has_greeting(const struct qmp *q);

/* QEMU's version from the greeting. Returns 0 and the three numbers (each
 * pointer may be NULL); -ENODATA before the greeting; -EINVAL. */
int qmp_get_version(const struct qmp *q, unsigned *ret_major, unsigned *ret_minor,
                    unsigned *ret_micro);

/* The greeting's "package" string ("Debian 1:7.2+dfsg-7"), owned by q; NULL
 * before the greeting or when QEMU sent none. */
const char *qmp_get_package(const struct qmp *q);

/* Whether the greeting listed capability name ("oob"). False before the
 * greeting. */
bool qmp_has_capability(const struct qmp *q, const char *name);

/* The whole greeting object ({"QMP": {...}}), borrowed from q (valid until
 * qmp_free()); NULL before the greeting. */
json_t *qmp_get_greeting(const struct qmp *q);

/* Queue {"execute": command, "arguments": arguments, "id": N} and try to
 * write it. arguments is BORROWED (serialized before returning; keep or free
 * it as you like); NULL means no "arguments". If ret_id is NULL the reply
 * will be dropped when it arrives (fire and forget).
 * Returns 0 and *ret_id; -EINVAL (q or command NULL/empty, arguments not an
 * object); -ENOBUFS (more than max_output bytes wait to be written: the peer
 * is not reading); -ENOMEM; a sticky transport error. */
int qmp_send(struct qmp *q, const char *command, json_t *arguments, uint64_t *ret_id);

/* qmp_send() with fd passed along (SCM_RIGHTS, on a unix socket): for the
 * commands that take the fd that came with them (add-fd, getfd). fd is
 * borrowed: the peer gets its own copy. The first bytes go at once; returns
 * -EBUSY when earlier output is still waiting to be written (the fd would
 * arrive with another command), -EBADF for fd < 0, other errors as
 * qmp_send() and of sendmsg(). */
int qmp_send_fd(struct qmp *q, const char *command, json_t *arguments, int fd, uint64_t *ret_id);

/* Claim the reply to command id, without waiting. On success the id is
 * released. Returns 0 and *ret_return (a new reference to the "return" value,
 * the caller must json_decref() it; ret_return may be NULL to discard it);
 * -EREMOTEIO and *ret_error filled (ret_error may be NULL) for an error reply;
 * -EAGAIN if the reply has not arrived and the connection is alive; the
 * sticky transport error if it has not arrived and the connection is dead;
 * -ENOENT if id is not awaiting a reply (never sent, forgotten, claimed);
 * -EINVAL. */
int qmp_reply(struct qmp *q, uint64_t id, json_t **ret_return, struct qmp_error *ret_error);

/* As qmp_reply(), waiting up to timeout_ms (>= 0) for the reply. Events that
 * arrive meanwhile are queued. On -ETIMEDOUT the id stays pending: wait again,
 * or qmp_forget() it. Other returns as qmp_reply(), plus -ETIMEDOUT,
 * -EBUSY and errors of poll(). */
int qmp_wait_reply(struct qmp *q, uint64_t id, int timeout_ms, json_t **ret_return,
                   struct qmp_error *ret_error);

/* Stop waiting for id: a stored reply is freed, a future one is dropped.
 * Returns 0, -ENOENT (id not pending), -EINVAL. */
int qmp_forget(struct qmp *q, uint64_t id);

/* qmp_send() + qmp_wait_reply(); on -ETIMEDOUT the command is forgotten (its
 * late reply will be dropped). arguments is borrowed. Returns 0 and
 * *ret_return (new reference, may be NULL to discard); -EREMOTEIO with
 * *ret_error; -ETIMEDOUT; any error of qmp_send()/qmp_wait_reply(). */
int qmp_execute_sync(struct qmp *q, const char *command, json_t *arguments, int timeout_ms,
                     json_t **ret_return, struct qmp_error *ret_error);

/* Pop the oldest queued event, without waiting. Returns 1 and *ret_event
 * (owned by the caller: qmp_event_free()); 0 and *ret_event = NULL when the
 * queue is empty (also when a callback is set: nothing is queued then);
 * -EINVAL. Queued events stay readable after a transport error. */
int qmp_next_event(struct qmp *q, struct qmp_event **ret_event);

/* As qmp_next_event(), waiting up to timeout_ms (>= 0) for one. Returns 1
 * and *ret_event; -ETIMEDOUT; the sticky transport error once the queue is
 * empty and the connection dead (e.g. -ECONNRESET after QEMU quit); -EBUSY;
 * -EINVAL. */
int qmp_wait_event(struct qmp *q, int timeout_ms, struct qmp_event **ret_event);

/* Free an event from qmp_next_event()/qmp_wait_event(). NULL is fine. */
void qmp_event_free(struct qmp_event *event);

/* For __attribute__((cleanup(qmp_event_freep))). */
void qmp_event_freep(struct qmp_event **event);

/* Deliver events to fn instead of the queue (fn NULL: back to queueing).
 * Events already queued stay queued. Returns 0 or -EINVAL. */
int qmp_set_event_callback(struct qmp *q, qmp_event_fn fn, void *userdata);

/* How many events were dropped because the queue was full. 0 if q is NULL. */
uint64_t qmp_events_dropped(const struct qmp *q);

#ifdef __cplusplus
}
#endif
