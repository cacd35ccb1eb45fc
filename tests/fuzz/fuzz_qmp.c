/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Fuzz libqmp's parser with arbitrary "server output". No peer is needed:
 * qmp_feed() (qmp-internal.h) pushes the bytes through the same framing and
 * dispatch as recv() would; the qmp object sits on a socketpair only so
 * that qmp_send() has somewhere to write.
 *
 * Input layout: byte 0 picks limits and modes, byte 1 the chunk size (so the
 * same stream is also fed in pieces, down to one byte at a time), the rest
 * is the stream. Commands 1..3 are pending (2 fire-and-forget) so that
 * replies can match.
 */
#include <stdint.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "qmp-internal.h"
#include "qmp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void on_event(struct qmp *q, const struct qmp_event *ev, void *userdata)
{
        size_t *n = userdata;

        (*n)++;
        (void) ev->name[0];
        (void) json_object_size(ev->data);
        if (*n == 2)
                (void) qmp_send(q, "from-callback", NULL, NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        static const size_t lines[] = { 64, 256, 4096, 0 };
        static const size_t events[] = { 1, 4, 64, 0 };
        struct qmp_options opts = { 0 };
        struct qmp *q = NULL;
        struct qmp_event *ev;
        size_t chunk, seen = 0;
        uint64_t id1, id3;
        unsigned v[3];
        int sv[2], r = 0;
        uint8_t mode;

        if (size < 2)
                return 0;
        mode = data[0];
        chunk = data[1] ? data[1] : SIZE_MAX;
        data += 2;
        size -= 2;

        opts.max_line = lines[mode & 3];
        opts.max_events = events[(mode >> 2) & 3];
        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
                return 0;
        if (qmp_new_fd(sv[0], &opts, &q) < 0) {
                close(sv[1]);
                return 0;
        }
        if (mode & 0x10)
                (void) qmp_set_event_callback(q, on_event, &seen);
        (void) qmp_send(q, "one", NULL, &id1);
        (void) qmp_send(q, "two", NULL, NULL);
        (void) qmp_send(q, "three", NULL, &id3);

        while (size > 0 && r >= 0) {
                size_t n = size < chunk ? size : chunk;
                r = qmp_feed(q, data, n);
                data += n;
                size -= n;
                /* Claim and forget along the way, not only at the end. */
                if (mode & 0x20)
                        (void) qmp_reply(q, 1, NULL, NULL);
                if (mode & 0x40)
                        (void) qmp_forget(q, 3);
        }
        if (mode & 0x80)
                (void) qmp_feed_eof(q);

        while (qmp_next_event(q, &ev) == 1) {
                (void) json_object_size(ev->data);
                qmp_event_free(ev);
        }
        for (uint64_t id = 1; id <= 4; id++) {
                json_t *ret = NULL;
                struct qmp_error err;
                if (qmp_reply(q, id, &ret, &err) == 0)
                        json_decref(ret);
        }
        (void) qmp_get_version(q, &v[0], &v[1], &v[2]);
        (void) qmp_get_package(q);
        (void) qmp_has_capability(q, "oob");
        (void) qmp_events_dropped(q);
        (void) qmp_process(q);
        qmp_free(q);
        close(sv[1]);
        return 0;
}
