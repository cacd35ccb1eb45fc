/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libqmp: the blocking helpers — qmp_process() driven by poll() until a
 * reply, an event or the greeting is there, or a deadline passes. See qmp.h
 * for the contract.
 */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <time.h>

#include "qmp-state.h"
#include "qmp.h"

static uint64_t now_usec(void)
{
        struct timespec ts;

        (void) clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000000u + (uint64_t) ts.tv_nsec / 1000u;
}

static int check_wait_args(const struct qmp *q, int timeout_ms)
{
        if (!q || timeout_ms < 0)
                return -EINVAL;
        if (q->in_process)
                return -EBUSY;
        return 0;
}

/* Wait until qmp_fd() is ready or the deadline passes, then qmp_process().
 * Returns 0 (something happened; the caller re-checks its condition, which
 * also picks up a sticky error), -ETIMEDOUT, or a poll() error. */
static int wait_io(struct qmp *q, uint64_t deadline)
{
        for (;;) {
                struct pollfd p = { .fd = q->fd, .events = qmp_poll_events(q) };
                uint64_t now = now_usec(), left = now < deadline ? deadline - now : 0;
                int ms = left / 1000 >= INT_MAX ? INT_MAX : (int) ((left + 999) / 1000);
                int r;

                r = poll(&p, 1, ms);
                if (r < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (r == 0) {
                        if (now_usec() >= deadline)
                                return -ETIMEDOUT;
                        continue;
                }
                r = qmp_process(q);
                return r < 0 && !q->error ? r : 0;
        }
}

static int wait_reply_until(struct qmp *q, uint64_t id, uint64_t deadline, json_t **ret_return,
                            struct qmp_error *ret_error)
{
        for (;;) {
                int r = qmp_reply(q, id, ret_return, ret_error);
                if (r != -EAGAIN)
                        return r;
                r = wait_io(q, deadline);
                if (r < 0)
                        return r;
        }
}

int qmp_wait_reply(struct qmp *q, uint64_t id, int timeout_ms, json_t **ret_return,
                   struct qmp_error *ret_error)
{
        int r = check_wait_args(q, timeout_ms);

        if (r < 0)
                return r;
        return wait_reply_until(q, id, now_usec() + (uint64_t) timeout_ms * 1000u, ret_return,
                                ret_error);
}

static int execute_until(struct qmp *q, const char *command, json_t *arguments, uint64_t deadline,
                         json_t **ret_return, struct qmp_error *ret_error)
{
        uint64_t id;
        int r;

        r = qmp_send(q, command, arguments, &id);
        if (r < 0)
                return r;
        r = wait_reply_until(q, id, deadline, ret_return, ret_error);
        /* 0 and -EREMOTEIO released the id; otherwise drop the late reply. */
        if (r < 0 && r != -EREMOTEIO)
                (void) qmp_forget(q, id);
        return r;
}

int qmp_execute_sync(struct qmp *q, const char *command, json_t *arguments, int timeout_ms,
                     json_t **ret_return, struct qmp_error *ret_error)
{
        int r = check_wait_args(q, timeout_ms);

        if (r < 0)
                return r;
        return execute_until(q, command, arguments, now_usec() + (uint64_t) timeout_ms * 1000u,
                             ret_return, ret_error);
}

int qmp_handshake(struct qmp *q, int timeout_ms)
{
        uint64_t deadline;
        int r = check_wait_args(q, timeout_ms);

        if (r < 0)
                return r;
        if (q->negotiated)
                return -EALREADY;
        deadline = now_usec() + (uint64_t) timeout_ms * 1000u;
        while (!q->greeting) {
                if (q->error)
                        return q->error;
                r = wait_io(q, deadline);
                if (r < 0)
                        return r;
        }
        r = execute_until(q, "qmp_capabilities", NULL, deadline, NULL, NULL);
        if (r < 0)
                return r;
        q->negotiated = true;
        return 0;
}

int qmp_wait_event(struct qmp *q, int timeout_ms, struct qmp_event **ret_event)
{
        uint64_t deadline;
        int r = check_wait_args(q, timeout_ms);

        if (r < 0)
                return r;
        if (!ret_event)
                return -EINVAL;
        deadline = now_usec() + (uint64_t) timeout_ms * 1000u;
        for (;;) {
                r = qmp_next_event(q, ret_event);
                if (r != 0)
                        return r;
                if (q->error)
                        return q->error;
                r = wait_io(q, deadline);
                if (r < 0)
                        return r;
        }
}
