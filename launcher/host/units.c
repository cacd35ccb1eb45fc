/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* systemd units through sd-bus (libsystemd, opened on first use: base/dl.h):
 * see units.h. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <systemd/sd-bus.h>

#include "base/clock.h"
#include "base/dl.h"
#include "base/macro.h"
#include "host/units.h"

/* libsystemd only for the host_handover's units: every other run of
 * vfio-launch would pay the loader for it, libgcrypt, liblz4, libzstd and
 * liblzma (base/dl.h). */
DL_FN(sd_bus_open_system);
DL_FN(sd_bus_new);
DL_FN(sd_bus_set_address);
DL_FN(sd_bus_set_bus_client);
DL_FN(sd_bus_start);
DL_FN(sd_bus_unref);
DL_FN(sd_bus_flush_close_unref);
DL_FN(sd_bus_message_unref);
DL_FN(sd_bus_slot_unref);
DL_FN(sd_bus_call_method);
DL_FN(sd_bus_error_has_name);
DL_FN(sd_bus_error_free);
DL_FN(sd_bus_message_read);
DL_FN(sd_bus_get_property_string);
DL_FN(sd_bus_match_signal);
DL_FN(sd_bus_process);
DL_FN(sd_bus_wait);

static const struct dl_sym sd_syms[] = {
        DL_SYM(sd_bus_open_system),
        DL_SYM(sd_bus_new),
        DL_SYM(sd_bus_set_address),
        DL_SYM(sd_bus_set_bus_client),
        DL_SYM(sd_bus_start),
        DL_SYM(sd_bus_unref),
        DL_SYM(sd_bus_flush_close_unref),
        DL_SYM(sd_bus_message_unref),
        DL_SYM(sd_bus_slot_unref),
        DL_SYM(sd_bus_call_method),
        DL_SYM(sd_bus_error_has_name),
        DL_SYM(sd_bus_error_free),
        DL_SYM(sd_bus_message_read),
        DL_SYM(sd_bus_get_property_string),
        DL_SYM(sd_bus_match_signal),
        DL_SYM(sd_bus_process),
        DL_SYM(sd_bus_wait),
};

static struct dl_lib libsystemd = {
        .soname = "libsystemd.so.0",
        .package = "libsystemd0",
        .syms = sd_syms,
        .n_syms = ELEMENTSOF(sd_syms),
};

#define SD_DEST "org.freedesktop.systemd1"
#define SD_PATH "/org/freedesktop/systemd1"
#define SD_MANAGER "org.freedesktop.systemd1.Manager"
#define SD_UNIT "org.freedesktop.systemd1.Unit"
#define CALL_TIMEOUT_USEC (25ull * 1000 * 1000) /* sd-bus's own default for one call */

/* The cleanups below see a non-NULL object only after libsystemd was
 * opened (sd-bus's own unref functions accept NULL; the pointers to them do
 * not exist before). */
static void bus_unrefp(sd_bus **b)
{
        if (*b)
                sym_sd_bus_flush_close_unref(*b);
}

static void message_unrefp(sd_bus_message **m)
{
        if (*m)
                sym_sd_bus_message_unref(*m);
}

static void slot_unrefp(sd_bus_slot **s)
{
        if (*s)
                sym_sd_bus_slot_unref(*s);
}

static int bus_open(const char *address, sd_bus **ret, struct vl_error *e)
{
        sd_bus *b = NULL;
        int r;

        r = dl_open(&libsystemd, e);
        if (r < 0)
                return r;
        if (!address)
                r = sym_sd_bus_open_system(&b);
        else {
                r = sym_sd_bus_new(&b);
                if (r >= 0)
                        r = sym_sd_bus_set_address(b, address);
                if (r >= 0)
                        r = sym_sd_bus_set_bus_client(b, 1);
                if (r >= 0)
                        r = sym_sd_bus_start(b);
        }
        if (r < 0) {
                if (b)
                        sym_sd_bus_unref(b);
                return vl_error_set(e, -r, "cannot connect to systemd's bus (%s): %s",
                                    address ? address : "the system bus", strerror(-r));
        }
        *ret = b;
        return 0;
}

/* e from a failed call: the D-Bus error's name and message. */
static int call_failed(struct vl_error *e, int r, const sd_bus_error *err, const char *method, const char *unit)
{
        return vl_error_set(e, -r, "systemd %s(\"%s\"): %s%s%s", method, unit,
                            err->name ? err->name : strerror(-r), err->message ? ": " : "",
                            err->message ? err->message : "");
}

int units_active(const char *bus, const char *unit, struct vl_error *e)
{
        _cleanup_(bus_unrefp) sd_bus *b = NULL;
        _cleanup_(message_unrefp) sd_bus_message *reply = NULL;
        sd_bus_error err = SD_BUS_ERROR_NULL;
        _cleanup_free_ char *state = NULL;
        const char *path;
        int r;

        r = bus_open(bus, &b, e);
        if (r < 0)
                return r;
        r = sym_sd_bus_call_method(b, SD_DEST, SD_PATH, SD_MANAGER, "GetUnit", &err, &reply, "s", unit);
        if (r < 0) {
                /* Not loaded: nothing runs under that name. */
                if (sym_sd_bus_error_has_name(&err, "org.freedesktop.systemd1.NoSuchUnit")) {
                        sym_sd_bus_error_free(&err);
                        return 0;
                }
                r = call_failed(e, r, &err, "GetUnit", unit);
                sym_sd_bus_error_free(&err);
                return r;
        }
        r = sym_sd_bus_message_read(reply, "o", &path);
        if (r >= 0)
                r = sym_sd_bus_get_property_string(b, SD_DEST, path, SD_UNIT, "ActiveState", &err, &state);
        if (r < 0) {
                r = call_failed(e, r, &err, "ActiveState of", unit);
                sym_sd_bus_error_free(&err);
                return r;
        }
        return strcmp(state, "inactive") != 0 && strcmp(state, "failed") != 0;
}

struct job_wait {
        const char *job;   /* the job's object path, once known */
        bool done;
        char result[32];
};

/* JobRemoved(u id, o job, s unit, s result): systemd's signal when a job
 * ends, with how it ended. */
static int on_job_removed(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
        struct job_wait *w = userdata;
        const char *job, *unit, *result;
        uint32_t id;

        if (sym_sd_bus_message_read(m, "uoss", &id, &job, &unit, &result) < 0 || !w->job || strcmp(job, w->job) != 0)
                return 0;
        w->done = true;
        (void) snprintf(w->result, sizeof(w->result), "%s", result);
        return 0;
}

int units_change(const char *bus, const char *unit, bool start, unsigned timeout_ms, struct vl_error *e)
{
        _cleanup_(bus_unrefp) sd_bus *b = NULL;
        _cleanup_(message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_(slot_unrefp) sd_bus_slot *slot = NULL;
        const char *method = start ? "StartUnit" : "StopUnit";
        sd_bus_error err = SD_BUS_ERROR_NULL;
        struct job_wait w = {};
        uint64_t deadline = clock_ms() + timeout_ms;
        int r;

        r = bus_open(bus, &b, e);
        if (r < 0)
                return r;
        /* The match before the call: the job may end before its reply is
         * read, and sd-bus queues what arrives meanwhile. systemd sends
         * JobRemoved only while a client is subscribed. */
        r = sym_sd_bus_match_signal(b, &slot, SD_DEST, SD_PATH, SD_MANAGER, "JobRemoved", on_job_removed, &w);
        if (r < 0)
                return vl_error_set(e, -r, "cannot watch systemd's jobs: %s", strerror(-r));
        r = sym_sd_bus_call_method(b, SD_DEST, SD_PATH, SD_MANAGER, "Subscribe", &err, NULL, "");
        sym_sd_bus_error_free(&err);
        if (r < 0)
                return vl_error_set(e, -r, "systemd Subscribe: %s", strerror(-r));
        r = sym_sd_bus_call_method(b, SD_DEST, SD_PATH, SD_MANAGER, method, &err, &reply, "ss", unit, "replace");
        if (r < 0) {
                r = call_failed(e, r, &err, method, unit);
                sym_sd_bus_error_free(&err);
                return r;
        }
        r = sym_sd_bus_message_read(reply, "o", &w.job);
        if (r < 0)
                return vl_error_set(e, -r, "systemd %s(\"%s\"): unexpected reply", method, unit);
        while (!w.done) {
                uint64_t now = clock_ms();

                r = sym_sd_bus_process(b, NULL);
                if (r < 0)
                        return vl_error_set(e, -r, "systemd's bus: %s", strerror(-r));
                if (r > 0)
                        continue;
                if (now >= deadline)
                        return vl_error_set(e, ETIMEDOUT, "systemd %s(\"%s\"): the job did not end within %u s",
                                            method, unit, timeout_ms / 1000);
                r = sym_sd_bus_wait(b, (deadline - now) * 1000);
                if (r < 0)
                        return vl_error_set(e, -r, "systemd's bus: %s", strerror(-r));
        }
        if (strcmp(w.result, "done") != 0)
                return vl_error_set(e, EIO, "systemd %s(\"%s\"): the job ended \"%s\" (see `systemctl status %s`)",
                                    method, unit, w.result, unit);
        return 0;
}
