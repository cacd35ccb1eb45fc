/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * systemd-standin ADDRESS UNIT=STATE[:RESULT]...: a stand-in for systemd's
 * manager on a private D-Bus bus, for unit/test_units where no systemd
 * runs (this machine's PID 1 is not systemd). It owns
 * org.freedesktop.systemd1 and answers, with systemd's signatures:
 *
 *   Manager.GetUnit(s) -> o             org.freedesktop.systemd1.NoSuchUnit
 *                                       for a unit not on the command line
 *   Manager.StopUnit(ss) / StartUnit(ss) -> o   a job, then the signal
 *   Manager.JobRemoved(u id, o job, s unit, s result)
 *   Manager.Subscribe()
 *   Unit.ActiveState (s), on the path GetUnit returns
 *
 * STATE is active or inactive; RESULT the result of every job on the unit:
 * done (the default: the unit changes state), failed (it does not), or
 * never (no JobRemoved at all: the caller must time out). "ready" on stdout
 * once the name is owned, then each call. Ends on SIGTERM. Also the
 * systemd of tests/vm's handover case, on the chroot's system bus socket.
 */
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-bus.h>

#define UNITS_MAX 8

struct unit {
        char name[64], path[96], result[16];
        bool active;
};

static struct unit units[UNITS_MAX];
static unsigned n_units, next_job = 1;

static struct unit *find(const char *name)
{
        for (unsigned i = 0; i < n_units; i++)
                if (strcmp(units[i].name, name) == 0)
                        return &units[i];
        return NULL;
}

static int get_unit(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
        const char *name;
        struct unit *u;
        int r = sd_bus_message_read(m, "s", &name);

        if (r < 0)
                return r;
        printf("GetUnit %s\n", name);
        u = find(name);
        if (!u)
                return sd_bus_error_setf(ret_error, "org.freedesktop.systemd1.NoSuchUnit", "Unit %s not loaded.",
                                         name);
        return sd_bus_reply_method_return(m, "o", u->path);
}

static int change(sd_bus_message *m, bool start, sd_bus_error *ret_error)
{
        const char *name, *mode;
        char job[96];
        struct unit *u;
        unsigned id = next_job++;
        int r = sd_bus_message_read(m, "ss", &name, &mode);

        if (r < 0)
                return r;
        printf("%s %s %s\n", start ? "StartUnit" : "StopUnit", name, mode);
        fflush(stdout);
        u = find(name);
        if (!u)
                return sd_bus_error_setf(ret_error, "org.freedesktop.systemd1.NoSuchUnit", "Unit %s not found.", name);
        snprintf(job, sizeof(job), "/org/freedesktop/systemd1/job/%u", id);
        r = sd_bus_reply_method_return(m, "o", job);
        if (r < 0 || strcmp(u->result, "never") == 0)
                return r;
        if (strcmp(u->result, "done") == 0)
                u->active = start;
        return sd_bus_emit_signal(sd_bus_message_get_bus(m), "/org/freedesktop/systemd1",
                                  "org.freedesktop.systemd1.Manager", "JobRemoved", "uoss", id, job, name, u->result);
}

static int stop_unit(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
        return change(m, false, ret_error);
}

static int start_unit(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
        return change(m, true, ret_error);
}

static int subscribe(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
        printf("Subscribe\n");
        return sd_bus_reply_method_return(m, "");
}

static int active_state(sd_bus *bus, const char *path, const char *interface, const char *property,
                        sd_bus_message *reply, void *userdata, sd_bus_error *ret_error)
{
        const struct unit *u = userdata;

        return sd_bus_message_append(reply, "s", u->active ? "active" : "inactive");
}

static const sd_bus_vtable manager_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_METHOD("GetUnit", "s", "o", get_unit, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD("StartUnit", "ss", "o", start_unit, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD("StopUnit", "ss", "o", stop_unit, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD("Subscribe", "", "", subscribe, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_SIGNAL("JobRemoved", "uoss", 0),
        SD_BUS_VTABLE_END,
};

static const sd_bus_vtable unit_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_PROPERTY("ActiveState", "s", active_state, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
        SD_BUS_VTABLE_END,
};

int main(int argc, char **argv)
{
        sd_bus *bus = NULL;
        sigset_t ss;
        int r;

        if (argc < 2) {
                fprintf(stderr, "usage: systemd-standin ADDRESS UNIT=STATE[:RESULT]...\n");
                return 2;
        }
        setvbuf(stdout, NULL, _IOLBF, 0);
        for (int i = 2; i < argc && n_units < UNITS_MAX; i++) {
                struct unit *u = &units[n_units];
                char *eq = strchr(argv[i], '='), *colon;

                if (!eq)
                        return 2;
                *eq = '\0';
                colon = strchr(eq + 1, ':');
                if (colon)
                        *colon = '\0';
                snprintf(u->name, sizeof(u->name), "%s", argv[i]);
                snprintf(u->path, sizeof(u->path), "/org/freedesktop/systemd1/unit/u%u", n_units);
                snprintf(u->result, sizeof(u->result), "%s", colon ? colon + 1 : "done");
                u->active = strcmp(eq + 1, "active") == 0;
                n_units++;
        }
        r = sd_bus_new(&bus);
        if (r >= 0)
                r = sd_bus_set_address(bus, argv[1]);
        if (r >= 0)
                r = sd_bus_set_bus_client(bus, 1);
        if (r >= 0)
                r = sd_bus_start(bus);
        if (r >= 0)
                r = sd_bus_add_object_vtable(bus, NULL, "/org/freedesktop/systemd1", "org.freedesktop.systemd1.Manager",
                                             manager_vtable, NULL);
        for (unsigned i = 0; r >= 0 && i < n_units; i++)
                r = sd_bus_add_object_vtable(bus, NULL, units[i].path, "org.freedesktop.systemd1.Unit", unit_vtable,
                                             &units[i]);
        if (r >= 0)
                r = sd_bus_request_name(bus, "org.freedesktop.systemd1", 0);
        if (r < 0) {
                fprintf(stderr, "systemd-standin: %s\n", strerror(-r));
                return 1;
        }
        printf("ready\n");
        /* SIGTERM ends the loop through the default action. */
        sigemptyset(&ss);
        sigprocmask(SIG_SETMASK, &ss, NULL);
        for (;;) {
                r = sd_bus_process(bus, NULL);
                if (r < 0)
                        break;
                if (r > 0)
                        continue;
                if (sd_bus_wait(bus, UINT64_MAX) < 0)
                        break;
        }
        sd_bus_flush_close_unref(bus);
        return 0;
}
