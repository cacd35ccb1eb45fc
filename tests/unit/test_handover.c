/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * handover: the host's hand-over of its only GPU on a temp tree (roots.sysfs
 * and .run in a folder of the test's own; the real /sys, systemd and the
 * kernel's modules are never touched). The ops are a small model of the
 * kernel and of systemd that logs each call in order: a write of "0" or "1"
 * to a vtconsole's bind changes it, a platform driver's unbind/bind removes
 * or makes the device's driver link, a module unload removes
 * SYS/module/NAME, a load makes it, a stopped unit is inactive. Each can be
 * made to fail.
 *
 * Specified here: the plan (what is taken, what is left because it is not
 * there, a built-in module refused); the steps in order, each journaled
 * before it is taken; host_undo() giving them back in reverse; a failure
 * halfway: the failed step out of the journal, the steps done undone in
 * reverse, nothing else touched; an undo of what came back by itself does
 * nothing; the journal round trip of the four kinds and their refused
 * values.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>
#include "vl_test.h"

#include "base/fs.h"
#include "host/handover.h"
#include "host/journal.h"
#include "host/undo.h"
#include "profile/profile.h"
#include "vl_tmp.h"

#define LOG_MAX 4096

struct tree {
        char top[256], sys[300], run[300];
        struct host_roots roots;
        struct host_env env;
        struct handover_ops ops;
        struct profile p;
        char log[LOG_MAX];           /* "stop gdm.service; write vtcon1/bind 0; ..." */
        char fail[128];              /* the call that fails, as logged */
        int fail_errno;
        bool unit_active[4];         /* gdm.service, ghost.service */
};

static const char *const units[] = { "gdm.service", "ghost.service" };

static int unit_index(const char *unit)
{
        for (unsigned i = 0; i < ELEMENTSOF(units); i++)
                if (strcmp(units[i], unit) == 0)
                        return (int) i;
        return -1;
}

static void put(const struct tree *t, const char *rel, const char *content)
{
        char path[600];
        FILE *f;

        snprintf(path, sizeof(path), "%s/%s", t->sys, rel);
        for (char *s = path + strlen(t->sys) + 1; (s = strchr(s, '/')); s++) {
                *s = '\0';
                assert_true(mkdir(path, 0755) == 0 || errno == EEXIST);
                *s = '/';
        }
        f = fopen(path, "w");
        assert_non_null(f);
        fputs(content, f);
        fclose(f);
}

static void link_driver(const struct tree *t, const char *dev, const char *driver)
{
        char path[600], target[600];

        snprintf(path, sizeof(path), "%s/bus/platform/devices/%s/driver", t->sys, dev);
        snprintf(target, sizeof(target), "../../drivers/%s", driver);
        assert_int_equal(symlink(target, path), 0);
}

static bool exists(const struct tree *t, const char *rel)
{
        char path[600];
        struct stat st;

        snprintf(path, sizeof(path), "%s/%s", t->sys, rel);
        return lstat(path, &st) == 0;
}

/* ---- the model ---------------------------------------------------------- */

static int logged(struct tree *t, const char *fmt, ...) _printf_(2, 3);
static int logged(struct tree *t, const char *fmt, ...)
{
        char call[256];
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(call, sizeof(call), fmt, ap);
        va_end(ap);
        if (t->log[0])
                strncat(t->log, "; ", LOG_MAX - strlen(t->log) - 1);
        strncat(t->log, call, LOG_MAX - strlen(t->log) - 1);
        return t->fail[0] && strcmp(call, t->fail) == 0 ? -t->fail_errno : 0;
}

static int model_write(void *ud, const char *path, const char *data, unsigned timeout_ms)
{
        struct tree *t = ud;
        const char *rel = path + strlen(t->sys) + 1;
        char dev[600];
        int r;

        (void) timeout_ms;
        assert_memory_equal(path, t->sys, strlen(t->sys));
        r = logged(t, "write %s %s", rel, data);
        if (r < 0)
                return r;
        if (strncmp(rel, "class/vtconsole/", 16) == 0) {
                FILE *f = fopen(path, "w");
                assert_non_null(f);
                fputs(data, f);
                fclose(f);
        } else if (strstr(rel, "/unbind")) {
                snprintf(dev, sizeof(dev), "%s/bus/platform/devices/%s/driver", t->sys, data);
                assert_int_equal(unlink(dev), 0);
        } else if (strstr(rel, "/bind")) {
                char driver[128];
                snprintf(driver, sizeof(driver), "%.*s", (int) (strstr(rel, "/bind") - rel - 21), rel + 21);
                link_driver(t, data, driver);
        }
        return 0;
}

static int model_unit_active(void *ud, const char *unit, struct vl_error *e)
{
        struct tree *t = ud;
        int i = unit_index(unit);

        (void) e;
        return i >= 0 && t->unit_active[i];
}

static int model_unit_change(void *ud, const char *unit, bool start, unsigned timeout_ms, struct vl_error *e)
{
        struct tree *t = ud;
        int i = unit_index(unit), r;

        (void) timeout_ms;
        r = logged(t, "%s %s", start ? "start" : "stop", unit);
        if (r < 0)
                return vl_error_set(e, -r, "%s %s failed", start ? "start" : "stop", unit);
        if (i >= 0)
                t->unit_active[i] = start;
        return 0;
}

static int model_module(void *ud, const char *module, bool load, struct vl_error *e)
{
        struct tree *t = ud;
        char rel[128];
        int r;

        r = logged(t, "%s %s", load ? "load" : "unload", module);
        if (r < 0)
                return vl_error_set(e, -r, "%s %s failed", load ? "load" : "unload", module);
        snprintf(rel, sizeof(rel), "module/%s/initstate", module);
        if (load)
                put(t, rel, "live");
        else {
                char path[600];
                snprintf(path, sizeof(path), "%s/module/%s", t->sys, module);
                (void) vl_rm_tree(path);
        }
        return 0;
}

static int setup(void **state)
{
        struct tree *t = calloc(1, sizeof(*t));

        assert_non_null(t);
        snprintf(t->top, sizeof(t->top), "/tmp/vl-test-handover.XXXXXX");
        assert_non_null(mkdtemp(t->top));
        snprintf(t->sys, sizeof(t->sys), "%s/sys", t->top);
        snprintf(t->run, sizeof(t->run), "%s/run", t->top);
        assert_int_equal(mkdir(t->sys, 0755), 0);
        t->roots = (struct host_roots) { .sysfs = t->sys, .dev = "/nonexistent", .proc = "/proc", .run = t->run };
        host_env_init(&t->env, &t->roots);
        t->ops = (struct handover_ops) { .write = model_write, .unit_active = model_unit_active,
                                         .unit_change = model_unit_change, .module = model_module, .userdata = t };
        t->env.handover.ops = &t->ops;

        /* The host: a VGA text console and fbcon, bound; the EFI
         * framebuffer and a serial port on their platform drivers; bochs
         * and drm loaded; nvidia not. */
        put(t, "class/vtconsole/vtcon0/name", "(S) VGA+\n");
        put(t, "class/vtconsole/vtcon0/bind", "1\n");
        put(t, "class/vtconsole/vtcon1/name", "(M) frame buffer device\n");
        put(t, "class/vtconsole/vtcon1/bind", "1\n");
        put(t, "bus/platform/drivers/efi-framebuffer/bind", "");
        put(t, "bus/platform/drivers/efi-framebuffer/unbind", "");
        put(t, "bus/platform/drivers/serial8250/unbind", "");
        put(t, "bus/platform/devices/efi-framebuffer.0/uevent", "");
        put(t, "bus/platform/devices/serial8250/uevent", "");
        link_driver(t, "efi-framebuffer.0", "efi-framebuffer");
        link_driver(t, "serial8250", "serial8250");
        put(t, "module/bochs/initstate", "live\n");
        put(t, "module/drm/initstate", "live\n");
        t->unit_active[0] = true; /* gdm.service runs, ghost.service does not */

        profile_init(&t->p, "single");
        t->p.allow_boot_vga = true;
        t->p.n_hostdevs = 1;
        t->p.host_handover = (struct profile_handover) { .enabled = true, .n_units = 2, .vtconsoles = true,
                                                          .framebuffers = true, .n_modules = 2 };
        snprintf(t->p.host_handover.units[0], PROFILE_UNIT_NAME_MAX, "gdm.service");
        snprintf(t->p.host_handover.units[1], PROFILE_UNIT_NAME_MAX, "ghost.service");
        snprintf(t->p.host_handover.modules[0], PROFILE_MODULE_NAME_MAX, "bochs");
        snprintf(t->p.host_handover.modules[1], PROFILE_MODULE_NAME_MAX, "nvidia");
        *state = t;
        return 0;
}

static int teardown(void **state)
{
        struct tree *t = *state;

        (void) vl_rm_tree(t->top);
        free(t);
        return 0;
}

static void load_journal(struct tree *t, struct journal *j)
{
        struct vl_error e = {};
        int r = journal_load(&t->roots, "single", j, &e);

        if (r < 0)
                fail_msg("journal_load: %s", e.msg);
}

static void plan_and_apply(struct tree *t, struct handover_plan *plan, int want)
{
        struct vl_error e = {};
        int r;

        r = handover_plan(&t->env.handover, &t->p, plan, &e);
        if (r < 0)
                fail_msg("handover_plan: %s", e.msg);
        r = handover_apply(&t->env.handover, "single", plan, &e);
        if (r != want)
                fail_msg("handover_apply: %d, want %d: %s", r, want, e.msg);
}

/* ---- the tests ------------------------------------------------------------- */

static void test_plan(void **state)
{
        struct tree *t = *state;
        _cleanup_free_ struct handover_plan *plan = calloc(1, sizeof(*plan));
        struct vl_error e = {};
        char line[512];

        assert_int_equal(handover_plan(&t->env.handover, &t->p, plan, &e), 0);
        /* units, vtconsoles, framebuffers, modules: in the order taken */
        assert_int_equal(plan->n, 6);
        handover_step_describe(&plan->steps[0], line, sizeof(line));
        assert_string_equal(line, "stop unit gdm.service (active)");
        handover_step_describe(&plan->steps[1], line, sizeof(line));
        assert_string_equal(line, "leave unit ghost.service (not running)");
        assert_false(plan->steps[1].take);
        handover_step_describe(&plan->steps[2], line, sizeof(line));
        assert_string_equal(line, "unbind fbcon from vtcon1 ((M) frame buffer device)");
        handover_step_describe(&plan->steps[3], line, sizeof(line));
        assert_string_equal(line, "unbind framebuffer efi-framebuffer.0 from efi-framebuffer");
        handover_step_describe(&plan->steps[4], line, sizeof(line));
        assert_string_equal(line, "unload module bochs (loaded)");
        handover_step_describe(&plan->steps[5], line, sizeof(line));
        assert_string_equal(line, "leave module nvidia (not loaded)");
        /* Read only: nothing was called but the units' state. */
        assert_string_equal(t->log, "");
        assert_false(exists(t, "../run/single"));

        /* Without the keys, none of those steps. */
        t->p.host_handover.vtconsoles = t->p.host_handover.framebuffers = false;
        assert_int_equal(handover_plan(&t->env.handover, &t->p, plan, &e), 0);
        assert_int_equal(plan->n, 4);
        /* No host_handover: an empty plan. */
        t->p.host_handover.enabled = false;
        assert_int_equal(handover_plan(&t->env.handover, &t->p, plan, &e), 0);
        assert_int_equal(plan->n, 0);
}

static void test_builtin_module_refused(void **state)
{
        struct tree *t = *state;
        _cleanup_free_ struct handover_plan *plan = calloc(1, sizeof(*plan));
        struct vl_error e = {};

        /* A built-in module has its folder (parameters) but no initstate. */
        put(t, "module/nvidia/parameters/x", "0\n");
        assert_int_equal(handover_plan(&t->env.handover, &t->p, plan, &e), -EPERM);
        assert_non_null(strstr(e.msg, "module \"nvidia\" is built into this kernel"));
        assert_string_equal(e.path, "$.host_handover.unload_modules");
}

static void test_apply_and_undo(void **state)
{
        struct tree *t = *state;
        _cleanup_free_ struct handover_plan *plan = calloc(1, sizeof(*plan));
        _cleanup_free_ struct journal *j = calloc(1, sizeof(*j));
        struct vl_error e = {};
        char buf[600], bound[8];

        plan_and_apply(t, plan, 0);
        assert_string_equal(t->log, "stop gdm.service; write class/vtconsole/vtcon1/bind 0; "
                                    "write bus/platform/drivers/efi-framebuffer/unbind efi-framebuffer.0; "
                                    "unload bochs");
        load_journal(t, j);
        assert_int_equal(j->n_entries, 4);
        assert_int_equal(j->entries[0].kind, JOURNAL_UNIT);
        assert_string_equal(j->entries[0].handover.name, "gdm.service");
        assert_int_equal(j->entries[1].kind, JOURNAL_VTCON);
        assert_int_equal(j->entries[1].handover.vtcon, 1);
        assert_int_equal(j->entries[2].kind, JOURNAL_FRAMEBUFFER);
        assert_string_equal(j->entries[2].handover.name, "efi-framebuffer.0");
        assert_string_equal(j->entries[2].handover.driver, "efi-framebuffer");
        assert_int_equal(j->entries[3].kind, JOURNAL_MODULE);
        assert_string_equal(j->entries[3].handover.name, "bochs");
        assert_false(exists(t, "module/bochs"));
        assert_false(exists(t, "bus/platform/devices/efi-framebuffer.0/driver"));
        assert_true(exists(t, "bus/platform/devices/serial8250/driver"));

        /* Back in reverse; the journal goes. */
        t->log[0] = '\0';
        if (host_undo(&t->env, "single", &e, NULL) < 0)
                fail_msg("host_undo: %s", e.msg);
        assert_string_equal(t->log, "load bochs; write bus/platform/drivers/efi-framebuffer/bind efi-framebuffer.0; "
                                    "write class/vtconsole/vtcon1/bind 1; start gdm.service");
        assert_true(exists(t, "module/bochs/initstate"));
        assert_true(exists(t, "bus/platform/devices/efi-framebuffer.0/driver"));
        snprintf(buf, sizeof(buf), "%s/class/vtconsole/vtcon1/bind", t->sys);
        assert_int_equal(fs_read(buf, bound, sizeof(bound)), 0);
        assert_string_equal(bound, "1");
        assert_true(t->unit_active[0]);
        assert_int_equal(journal_load(&t->roots, "single", j, &e), -ENOENT);

        /* Twice: nothing left, nothing done. */
        t->log[0] = '\0';
        assert_int_equal(host_undo(&t->env, "single", &e, NULL), 0);
        assert_string_equal(t->log, "");
}

/* The module is in use: its step fails, leaves the journal, and the steps
 * before it come back in reverse; nvidia (after it) was never touched. */
static void test_failure_halfway(void **state)
{
        struct tree *t = *state;
        _cleanup_free_ struct handover_plan *plan = calloc(1, sizeof(*plan));
        _cleanup_free_ struct journal *j = calloc(1, sizeof(*j));
        struct vl_error e = {};

        put(t, "module/nvidia/initstate", "live\n");
        snprintf(t->fail, sizeof(t->fail), "unload bochs");
        t->fail_errno = EAGAIN;
        plan_and_apply(t, plan, -EAGAIN);
        assert_string_equal(t->log, "stop gdm.service; write class/vtconsole/vtcon1/bind 0; "
                                    "write bus/platform/drivers/efi-framebuffer/unbind efi-framebuffer.0; "
                                    "unload bochs");
        load_journal(t, j);
        assert_int_equal(j->n_entries, 3);
        assert_int_equal(j->entries[2].kind, JOURNAL_FRAMEBUFFER);
        assert_true(exists(t, "module/bochs/initstate"));
        assert_true(exists(t, "module/nvidia/initstate"));

        t->log[0] = '\0';
        t->fail[0] = '\0';
        if (host_undo(&t->env, "single", &e, NULL) < 0)
                fail_msg("host_undo: %s", e.msg);
        assert_string_equal(t->log, "write bus/platform/drivers/efi-framebuffer/bind efi-framebuffer.0; "
                                    "write class/vtconsole/vtcon1/bind 1; start gdm.service");
        assert_int_equal(journal_load(&t->roots, "single", j, &e), -ENOENT);
}

/* A sysfs write the kernel refuses did not happen: out of the journal. A
 * unit whose stop job failed may be stopped anyway: it stays, and its undo
 * starts it only when it is not running. */
static void test_failed_steps_in_journal(void **state)
{
        struct tree *t = *state;
        _cleanup_free_ struct handover_plan *plan = calloc(1, sizeof(*plan));
        _cleanup_free_ struct journal *j = calloc(1, sizeof(*j));
        struct vl_error e = {};

        snprintf(t->fail, sizeof(t->fail), "write class/vtconsole/vtcon1/bind 0");
        t->fail_errno = EBUSY;
        plan_and_apply(t, plan, -EBUSY);
        load_journal(t, j);
        assert_int_equal(j->n_entries, 1);
        assert_int_equal(j->entries[0].kind, JOURNAL_UNIT);
        t->log[0] = '\0';
        t->fail[0] = '\0';
        assert_int_equal(host_undo(&t->env, "single", &e, NULL), 0);
        assert_string_equal(t->log, "start gdm.service");

        /* The stop job fails, the unit still runs: journaled, left running. */
        t->log[0] = '\0';
        snprintf(t->fail, sizeof(t->fail), "stop gdm.service");
        t->fail_errno = EIO;
        plan_and_apply(t, plan, -EIO);
        load_journal(t, j);
        assert_int_equal(j->n_entries, 1);
        t->log[0] = '\0';
        t->fail[0] = '\0';
        assert_int_equal(host_undo(&t->env, "single", &e, NULL), 0);
        assert_string_equal(t->log, "");
}

/* After a crash the host may have taken things back by itself: fbcon's
 * console went with the last framebuffer, a GPU driver removed the EFI
 * framebuffer, the module and the unit came back. The undo does nothing. */
static void test_undo_finds_it_back(void **state)
{
        struct tree *t = *state;
        _cleanup_free_ struct handover_plan *plan = calloc(1, sizeof(*plan));
        struct vl_error e = {};
        char path[600];

        plan_and_apply(t, plan, 0);
        snprintf(path, sizeof(path), "%s/class/vtconsole/vtcon1", t->sys);
        (void) vl_rm_tree(path);
        snprintf(path, sizeof(path), "%s/bus/platform/devices/efi-framebuffer.0", t->sys);
        (void) vl_rm_tree(path);
        put(t, "module/bochs/initstate", "live\n");
        t->unit_active[0] = true;
        t->log[0] = '\0';
        assert_int_equal(host_undo(&t->env, "single", &e, NULL), 0);
        assert_string_equal(t->log, "");

        /* fbcon back in its slot and bound again by the kernel: left. */
        plan_and_apply(t, plan, 0);
        put(t, "class/vtconsole/vtcon1/name", "(M) frame buffer device\n");
        put(t, "class/vtconsole/vtcon1/bind", "1\n");
        t->log[0] = '\0';
        assert_int_equal(host_undo(&t->env, "single", &e, NULL), 0);
        assert_null(strstr(t->log, "vtcon1"));
}

static void test_journal_kinds(void **state)
{
        static const struct {
                const char *entry, *why;
        } refused[] = {
                { "{\"kind\": \"unit\", \"unit\": \"../x.service\"}", "not a valid unit name" },
                { "{\"kind\": \"unit\", \"unit\": \"getty@.service\"}", "not a valid unit name" },
                { "{\"kind\": \"module\", \"module\": \"a/b\"}", "not a valid module name" },
                { "{\"kind\": \"vtcon\", \"vtcon\": 16}", "out of range" },
                { "{\"kind\": \"framebuffer\", \"device\": \"..\", \"driver\": \"efi-framebuffer\"}",
                  "not a valid sysfs name" },
                { "{\"kind\": \"framebuffer\", \"device\": \"x/y\", \"driver\": \"efi-framebuffer\"}",
                  "not a valid sysfs name" },
                { "{\"kind\": \"framebuffer\", \"device\": \"0000:01:00.0\", \"driver\": \"e1000e\"}",
                  "not a firmware framebuffer's" },
                { "{\"kind\": \"module\", \"module\": \"bochs\", \"extra\": 1}", "" },
        };
        _cleanup_free_ struct journal *j = calloc(1, sizeof(*j)), *back = calloc(1, sizeof(*back));
        _cleanup_free_ char *text = NULL;
        struct host_roots roots = { .sysfs = "/sys", .proc = "/proc", .run = "/nonexistent" };
        struct vl_error e = {};
        char doc[4096];

        (void) state;
        journal_init(j, "single", &roots);
        j->entries[0] = (struct journal_entry) { .kind = JOURNAL_UNIT };
        snprintf(j->entries[0].handover.name, PROFILE_UNIT_NAME_MAX, "display-manager.service");
        j->entries[1] = (struct journal_entry) { .kind = JOURNAL_VTCON, .handover.vtcon = 1 };
        j->entries[2] = (struct journal_entry) { .kind = JOURNAL_FRAMEBUFFER };
        snprintf(j->entries[2].handover.name, PROFILE_UNIT_NAME_MAX, "simple-framebuffer.0");
        snprintf(j->entries[2].handover.driver, JOURNAL_DRIVER_MAX, "simpledrm");
        j->entries[3] = (struct journal_entry) { .kind = JOURNAL_MODULE };
        snprintf(j->entries[3].handover.name, PROFILE_UNIT_NAME_MAX, "nvidia_drm");
        j->n_entries = 4;
        text = journal_format(j);
        assert_non_null(text);
        assert_int_equal(journal_parse(text, strlen(text), "state.json", "single", back, &e), 0);
        assert_int_equal(back->n_entries, 4);
        assert_memory_equal(back->entries, j->entries, 4 * sizeof(j->entries[0]));
        for (unsigned i = 0; i < 4; i++)
                assert_true(host_undo_covers(back->entries[i].kind));

        /* A valid journal with no entries, its "entries" then replaced. */
        free(text);
        j->n_entries = 0;
        text = journal_format(j);
        assert_non_null(text);
        for (size_t i = 0; i < ELEMENTSOF(refused); i++) {
                const char *at = strstr(text, "\"entries\": []");

                assert_non_null(at);
                snprintf(doc, sizeof(doc), "%.*s\"entries\": [%s]%s", (int) (at - text), text, refused[i].entry,
                         at + strlen("\"entries\": []"));
                e = (struct vl_error) {};
                if (journal_parse(doc, strlen(doc), "state.json", "single", back, &e) != -EBADMSG)
                        fail_msg("accepted: %s", refused[i].entry);
                if (!strstr(e.msg, refused[i].why))
                        fail_msg("%s: %s", refused[i].entry, e.msg);
        }
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_plan, setup, teardown),
                cmocka_unit_test_setup_teardown(test_builtin_module_refused, setup, teardown),
                cmocka_unit_test_setup_teardown(test_apply_and_undo, setup, teardown),
                cmocka_unit_test_setup_teardown(test_failure_halfway, setup, teardown),
                cmocka_unit_test_setup_teardown(test_failed_steps_in_journal, setup, teardown),
                cmocka_unit_test_setup_teardown(test_undo_finds_it_back, setup, teardown),
                cmocka_unit_test(test_journal_kinds),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
