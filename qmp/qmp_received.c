/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libqmp: what the client has received — the greeting's fields and the
 * event queue. See qmp.h for the contract.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "qmp-state.h"
#include "qmp.h"

/* ---- greeting ---- */

bool qmp_has_greeting(const struct qmp *q)
{
        return q && q->greeting;
}

int qmp_get_version(const struct qmp *q, unsigned *ret_major, unsigned *ret_minor,
                    unsigned *ret_micro)
{
        if (!q)
                return -EINVAL;
        if (!q->greeting)
                return -ENODATA;
        if (ret_major)
                *ret_major = q->version[0];
        if (ret_minor)
                *ret_minor = q->version[1];
        if (ret_micro)
                *ret_micro = q->version[2];
        return 0;
}

const char *qmp_get_package(const struct qmp *q)
{
        if (!q || !q->greeting)
                return NULL;
        return json_string_value(
                json_object_get(json_object_get(json_object_get(q->greeting, "QMP"), "version"),
                                "package"));
}

bool qmp_has_capability(const struct qmp *q, const char *name)
{
        json_t *caps, *c;
        size_t i;

        if (!q || !q->greeting || !name)
                return false;
        caps = json_object_get(json_object_get(q->greeting, "QMP"), "capabilities");
        json_array_foreach(caps, i, c)
                if (strcmp(json_string_value(c), name) == 0)
                        return true;
        return false;
}

json_t *qmp_get_greeting(const struct qmp *q)
{
        return q ? q->greeting : NULL;
}

/* ---- events ---- */

int qmp_next_event(struct qmp *q, struct qmp_event **ret_event)
{
        struct event_node *n;

        if (!q || !ret_event)
                return -EINVAL;
        n = q->ev_head;
        if (!n) {
                *ret_event = NULL;
                return 0;
        }
        q->ev_head = n->next;
        if (!q->ev_head)
                q->ev_tail = NULL;
        q->n_events--;
        n->next = NULL;
        *ret_event = &n->ev;
        return 1;
}

void qmp_event_free(struct qmp_event *event)
{
        if (!event)
                return;
        json_decref(event->data);
        free((struct event_node *) event);
}

void qmp_event_freep(struct qmp_event **event)
{
        if (event) {
                qmp_event_free(*event);
                *event = NULL;
        }
}

int qmp_set_event_callback(struct qmp *q, qmp_event_fn fn, void *userdata)
{
        if (!q)
                return -EINVAL;
        q->event_fn = fn;
        q->event_userdata = userdata;
        return 0;
}

uint64_t qmp_events_dropped(const struct qmp *q)
{
        return q ? q->events_dropped : 0;
}
