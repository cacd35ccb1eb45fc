/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * NOT part of the libqmp API: the client's state, shared by the files of
 * libqmp — qmp.c (connection, framing, commands), qmp_wait.c (the blocking
 * helpers), qmp_received.c (what arrived: the greeting, the event queue).
 * Its invariants are stated at the top of qmp.c.
 */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "qmp.h"

/* A queued event (qmp_next_event() hands out &ev); its name is stored after it. */
struct event_node {
        struct qmp_event ev; /* first: qmp_event_free() casts back */
        struct event_node *next;
        char name[];
};

/* A command sent whose reply qmp_reply() has not collected yet. */
struct pending {
        uint64_t id;
        json_t *reply; /* the whole reply message, once it arrived */
        bool forgotten;
};

/* One connection. */
struct qmp {
        int fd;
        int error; /* sticky transport error (negative), 0 while alive */
        bool in_process;
        bool negotiated;

        size_t max_line, max_events, max_output;

        char *rbuf;
        size_t rlen, rcap, rscan;
        char *wbuf;
        size_t wlen, woff, wcap;

        json_t *greeting;
        unsigned version[3];

        uint64_t next_id;
        struct pending *pending;
        size_t n_pending, cap_pending;

        struct event_node *ev_head, *ev_tail;
        size_t n_events;
        uint64_t events_dropped;
        qmp_event_fn event_fn;
        void *event_userdata;
};
