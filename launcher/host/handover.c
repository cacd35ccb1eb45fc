/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The host's hand-over of its only GPU: see handover.h. */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/fs.h"
#include "base/macro.h"
#include "host/handover.h"
#include "host/modules.h"
#include "host/sysfs.h"
#include "host/units.h"

/* The platform drivers of the framebuffers the firmware leaves (EFI GOP,
 * VESA through sysfb, simpledrm on newer kernels): they hold the GPU's
 * memory until unbound (docs/facts.md#F-single-gpu-handover). */
static const char *const fb_drivers[] = { "efi-framebuffer", "simple-framebuffer", "simpledrm" };

/* The kernel's MAX_NR_CON_DRIVER: vtcon0..vtcon15. */
#define VTCON_MAX 16

void handover_env_init(struct handover_env *env, const struct host_roots *roots)
{
        *env = (struct handover_env) {
                .roots = roots,
                .unit_timeout_ms = 120000, /* above systemd's default stop timeout (90 s) */
                .write_timeout_ms = 10000,
        };
}

bool handover_framebuffer_driver(const char *driver)
{
        for (size_t i = 0; i < ELEMENTSOF(fb_drivers); i++)
                if (strcmp(driver, fb_drivers[i]) == 0)
                        return true;
        return false;
}

bool handover_kind(enum journal_kind kind)
{
        return kind == JOURNAL_UNIT || kind == JOURNAL_VTCON || kind == JOURNAL_FRAMEBUFFER || kind == JOURNAL_MODULE;
}

/* ---- the host, through ops or for real ----------------------------------- */

static int do_write(const struct handover_env *env, const char *path, const char *data)
{
        if (env->ops)
                return env->ops->write(env->ops->userdata, path, data, env->write_timeout_ms);
        return sysfs_write_bounded(path, data, env->write_timeout_ms);
}

static int do_unit_active(const struct handover_env *env, const char *unit, struct vl_error *e)
{
        if (env->ops)
                return env->ops->unit_active(env->ops->userdata, unit, e);
        return units_active(env->bus, unit, e);
}

static int do_unit_change(const struct handover_env *env, const char *unit, bool start, struct vl_error *e)
{
        if (env->ops)
                return env->ops->unit_change(env->ops->userdata, unit, start, env->unit_timeout_ms, e);
        return units_change(env->bus, unit, start, env->unit_timeout_ms, e);
}

static int do_module(const struct handover_env *env, const char *module, bool load, struct vl_error *e)
{
        if (env->ops)
                return env->ops->module(env->ops->userdata, module, load, e);
        return load ? modules_insert(module, e) : modules_unload(module, e);
}

/* ---- what the host has ------------------------------------------------------ */

/* Whether SYS/class/vtconsole/vtconN is fbcon's: 1, 0, -ENOENT (no such
 * console driver), other -errno. */
static int vtcon_is_fbcon(const char *sysfs_root, unsigned n)
{
        char path[PATH_MAX], buf[128];
        int r;

        r = fs_join(path, sizeof(path), sysfs_root, "class/vtconsole/vtcon%u/name", n);
        if (r >= 0)
                r = fs_read(path, buf, sizeof(buf));
        if (r < 0)
                return r;
        /* fbcon's name; the others are "(S) dummy device", "(S) VGA+"
         * (drivers/video/fbdev/core/fbcon.c, drivers/tty/vt/vt.c). */
        return strstr(buf, "frame buffer device") != NULL;
}

int handover_vtcon_fbcon_bound(const char *sysfs_root, unsigned n)
{
        char path[PATH_MAX], buf[16];
        int r;

        r = vtcon_is_fbcon(sysfs_root, n);
        if (r <= 0)
                return r;
        r = fs_join(path, sizeof(path), sysfs_root, "class/vtconsole/vtcon%u/bind", n);
        if (r >= 0)
                r = fs_read(path, buf, sizeof(buf));
        if (r < 0)
                return r;
        return strcmp(buf, "1") == 0;
}

/* The kernel's name for a module: '-' is '_' (SYS/module/NAME). */
static void module_sysname(const char *module, char buf[static PROFILE_MODULE_NAME_MAX])
{
        size_t i;

        for (i = 0; module[i] && i < PROFILE_MODULE_NAME_MAX - 1; i++)
                buf[i] = module[i] == '-' ? '_' : module[i];
        buf[i] = '\0';
}

/* 1 loaded, 0 not, -EPERM built in (SYS/module/NAME without initstate:
 * only a module that can be unloaded has one). */
static int module_state(const char *sysfs_root, const char *module)
{
        char path[PATH_MAX], name[PROFILE_MODULE_NAME_MAX];
        int r;

        module_sysname(module, name);
        r = fs_join(path, sizeof(path), sysfs_root, "module/%s/initstate", name);
        if (r < 0)
                return r;
        if (fs_exists(path) > 0)
                return 1;
        r = fs_join(path, sizeof(path), sysfs_root, "module/%s", name);
        if (r < 0)
                return r;
        return fs_exists(path) > 0 ? -EPERM : 0;
}

static struct handover_step *add(struct handover_plan *plan, enum journal_kind kind, struct vl_error *e)
{
        struct handover_step *s;

        if (plan->n >= HANDOVER_STEPS_MAX) {
                vl_error_set(e, E2BIG, "host_handover: more than %d steps", HANDOVER_STEPS_MAX);
                return NULL;
        }
        s = &plan->steps[plan->n++];
        memset(s, 0, sizeof(*s));
        s->entry.kind = kind;
        s->take = true;
        return s;
}

static int plan_units(const struct handover_env *env, const struct profile_handover *h, struct handover_plan *plan,
                      struct vl_error *e)
{
        for (unsigned i = 0; i < h->n_units; i++) {
                struct handover_step *s = add(plan, JOURNAL_UNIT, e);
                struct vl_error ue = {};
                int r;

                if (!s)
                        return -E2BIG;
                (void) snprintf(s->entry.handover.name, sizeof(s->entry.handover.name), "%s", h->units[i]);
                r = do_unit_active(env, h->units[i], &ue);
                if (r < 0)
                        (void) snprintf(s->note, sizeof(s->note), "state unknown: %.140s", ue.msg);
                else
                        (void) snprintf(s->note, sizeof(s->note), "%s", r ? "active" : "not running");
                s->take = r != 0;
        }
        return 0;
}

static int plan_vtconsoles(const struct handover_env *env, struct handover_plan *plan, struct vl_error *e)
{
        char path[PATH_MAX], name[128];

        for (unsigned n = 0; n < VTCON_MAX; n++) {
                struct handover_step *s;
                int r = handover_vtcon_fbcon_bound(env->roots->sysfs, n);

                if (r == -ENOENT || r == 0)
                        continue;
                if (r < 0)
                        return vl_error_set(e, -r, "cannot read %s/class/vtconsole/vtcon%u: %s", env->roots->sysfs, n,
                                            strerror(-r));
                s = add(plan, JOURNAL_VTCON, e);
                if (!s)
                        return -E2BIG;
                s->entry.handover.vtcon = n;
                if (fs_join(path, sizeof(path), env->roots->sysfs, "class/vtconsole/vtcon%u/name", n) >= 0 &&
                    fs_read(path, name, sizeof(name)) >= 0)
                        (void) snprintf(s->note, sizeof(s->note), "%.127s", name);
        }
        return 0;
}

static int plan_framebuffers(const struct handover_env *env, struct handover_plan *plan, struct vl_error *e)
{
        _cleanup_closedir_ DIR *dir = NULL;
        char path[PATH_MAX], driver[JOURNAL_DRIVER_MAX];
        struct dirent *de;
        int r;

        r = fs_join(path, sizeof(path), env->roots->sysfs, "bus/platform/devices");
        if (r < 0)
                return vl_error_set(e, -r, "sysfs path too long");
        dir = opendir(path);
        if (!dir)
                return errno == ENOENT ? 0 : vl_error_set(e, errno, "cannot read '%s': %s", path, strerror(errno));
        while ((de = readdir(dir))) {
                struct handover_step *s;

                if (de->d_name[0] == '.' || strlen(de->d_name) >= sizeof(s->entry.handover.name) ||
                    fs_join(path, sizeof(path), env->roots->sysfs, "bus/platform/devices/%s/driver", de->d_name) < 0 ||
                    fs_read_link_name(path, driver, sizeof(driver)) < 0 || !handover_framebuffer_driver(driver))
                        continue;
                s = add(plan, JOURNAL_FRAMEBUFFER, e);
                if (!s)
                        return -E2BIG;
                (void) snprintf(s->entry.handover.name, sizeof(s->entry.handover.name), "%s", de->d_name);
                (void) snprintf(s->entry.handover.driver, sizeof(s->entry.handover.driver), "%s", driver);
                (void) snprintf(s->note, sizeof(s->note), "bound to %s", driver);
        }
        return 0;
}

static int plan_modules(const struct handover_env *env, const struct profile_handover *h, struct handover_plan *plan,
                        struct vl_error *e)
{
        for (unsigned i = 0; i < h->n_modules; i++) {
                struct handover_step *s;
                int r = module_state(env->roots->sysfs, h->modules[i]);

                if (r == -EPERM)
                        return vl_error_set_at(e, EPERM, NULL, 0, 0, "$.host_handover.unload_modules",
                                               "module \"%s\" is built into this kernel: it cannot be unloaded",
                                               h->modules[i]);
                if (r < 0)
                        return vl_error_set(e, -r, "module \"%s\": %s", h->modules[i], strerror(-r));
                s = add(plan, JOURNAL_MODULE, e);
                if (!s)
                        return -E2BIG;
                (void) snprintf(s->entry.handover.name, sizeof(s->entry.handover.name), "%s", h->modules[i]);
                s->take = r > 0;
                (void) snprintf(s->note, sizeof(s->note), "%s", r > 0 ? "loaded" : "not loaded");
        }
        return 0;
}

int handover_plan(const struct handover_env *env, const struct profile *p, struct handover_plan *ret,
                  struct vl_error *e)
{
        const struct profile_handover *h = &p->host_handover;
        int r = 0;

        memset(ret, 0, sizeof(*ret));
        if (!h->enabled)
                return 0;
        if (!env || !env->roots || !env->roots->sysfs)
                return vl_error_set(e, EINVAL, "handover: incomplete environment (a root is NULL)");
        /* The order of the hand-over (docs/facts.md#F-single-gpu-handover):
         * the desktop lets go of the GPU's nodes, fbcon of its framebuffer,
         * the firmware's framebuffer of its memory; then the driver can go. */
        r = plan_units(env, h, ret, e);
        if (r >= 0 && h->vtconsoles)
                r = plan_vtconsoles(env, ret, e);
        if (r >= 0 && h->framebuffers)
                r = plan_framebuffers(env, ret, e);
        if (r >= 0)
                r = plan_modules(env, h, ret, e);
        return r;
}

/* ---- taking and giving back --------------------------------------------------- */

static int vtcon_bind(const struct handover_env *env, uint64_t n, bool bind, struct vl_error *e)
{
        char path[PATH_MAX];
        int r;

        r = fs_join(path, sizeof(path), env->roots->sysfs, "class/vtconsole/vtcon%u/bind", (unsigned) n);
        if (r >= 0)
                r = do_write(env, path, bind ? "1" : "0");
        if (r < 0)
                return vl_error_set(e, -r, "cannot %s fbcon (write '%s' to %s): %s", bind ? "bind" : "unbind",
                                    bind ? "1" : "0", path, strerror(-r));
        return 0;
}

static int framebuffer_bind(const struct handover_env *env, const struct journal_handover *x, bool bind,
                            struct vl_error *e)
{
        char path[PATH_MAX];
        int r;

        r = fs_join(path, sizeof(path), env->roots->sysfs, "bus/platform/drivers/%s/%s", x->driver,
                    bind ? "bind" : "unbind");
        if (r >= 0)
                r = do_write(env, path, x->name);
        if (r < 0)
                return vl_error_set(e, -r, "cannot %s %s (write to %s): %s", bind ? "bind" : "unbind", x->name, path,
                                    strerror(-r));
        return 0;
}

/* One step. A step the host refused did not happen: 1 asks the caller to
 * take its entry out of the journal again. */
static int take(const struct handover_env *env, const struct handover_step *s, struct vl_error *e)
{
        const struct journal_handover *x = &s->entry.handover;
        int r;

        switch (s->entry.kind) {
        case JOURNAL_UNIT:
                /* A failed or timed-out job may have stopped it anyway: the
                 * entry stays, and its undo starts the unit only if it is
                 * not running. */
                return do_unit_change(env, x->name, false, e);
        case JOURNAL_VTCON:
                r = vtcon_bind(env, x->vtcon, false, e);
                break;
        case JOURNAL_FRAMEBUFFER:
                r = framebuffer_bind(env, x, false, e);
                break;
        case JOURNAL_MODULE:
                r = do_module(env, x->name, false, e);
                if (r == -ENOENT)
                        return 1; /* gone meanwhile: nothing for the undo to load */
                break;
        default:
                return vl_error_set(e, EINVAL, "not a hand-over step (kind %d)", (int) s->entry.kind);
        }
        return r;
}

int handover_apply(const struct handover_env *env, const char *name, const struct handover_plan *plan,
                   struct vl_error *e)
{
        struct vl_error ignored;
        int r;

        for (unsigned i = 0; i < plan->n; i++) {
                const struct handover_step *s = &plan->steps[i];

                if (!s->take)
                        continue;
                r = journal_add_entry(env->roots, name, &s->entry, e);
                if (r < 0)
                        return r;
                r = take(env, s, e);
                if (r == 0)
                        continue;
                /* Refused: it did not happen. A write that timed out may
                 * still happen, a unit's failed job may have stopped it:
                 * those stay for the undo, which looks first. */
                if (r > 0 || (r != -ETIMEDOUT && s->entry.kind != JOURNAL_UNIT))
                        (void) journal_remove_entry(env->roots, name, &s->entry, &ignored);
                if (r > 0)
                        continue;
                vl_error_prefix(e, "host hand-over");
                return r;
        }
        return 0;
}

static int undo_unit(const struct handover_env *env, const struct journal_handover *h, struct vl_error *e)
{
        int r = do_unit_active(env, h->name, e);

        if (r != 0)
                return r < 0 ? r : 0; /* running again (or started by someone) */
        return do_unit_change(env, h->name, true, e);
}

static int undo_vtcon(const struct handover_env *env, const struct journal_handover *h, struct vl_error *e)
{
        int r;

        if (h->vtcon >= VTCON_MAX)
                return vl_error_set(e, EINVAL, "vtcon%llu: out of range", (unsigned long long) h->vtcon);
        /* Gone: fbcon left with the last framebuffer, and takes the
         * consoles again by itself when one is registered
         * (docs/facts.md#F-fbcon-handover). Another console driver in that
         * slot now is not ours to bind. */
        r = vtcon_is_fbcon(env->roots->sysfs, (unsigned) h->vtcon);
        if (r == -ENOENT || r == 0)
                return 0;
        if (r > 0)
                r = handover_vtcon_fbcon_bound(env->roots->sysfs, (unsigned) h->vtcon);
        if (r < 0)
                return vl_error_set(e, -r, "cannot read %s/class/vtconsole/vtcon%u: %s", env->roots->sysfs,
                                    (unsigned) h->vtcon, strerror(-r));
        return r > 0 ? 0 : vtcon_bind(env, h->vtcon, true, e);
}

static int undo_framebuffer(const struct handover_env *env, const struct journal_handover *h, struct vl_error *e)
{
        char path[PATH_MAX], driver[JOURNAL_DRIVER_MAX];
        int r;

        if (!handover_framebuffer_driver(h->driver))
                return vl_error_set(e, EINVAL, "\"%s\" is not a firmware framebuffer's driver", h->driver);
        r = fs_join(path, sizeof(path), env->roots->sysfs, "bus/platform/devices/%s", h->name);
        if (r < 0)
                return vl_error_set(e, -r, "sysfs path too long");
        /* Gone: a GPU driver removes the firmware's framebuffer device
         * when it takes the hardware over. */
        if (fs_exists(path) <= 0)
                return 0;
        r = fs_join(path, sizeof(path), env->roots->sysfs, "bus/platform/devices/%s/driver", h->name);
        if (r < 0)
                return vl_error_set(e, -r, "sysfs path too long");
        if (fs_read_link_name(path, driver, sizeof(driver)) >= 0)
                return 0; /* bound again */
        return framebuffer_bind(env, h, true, e);
}

static int undo_module(const struct handover_env *env, const struct journal_handover *h, struct vl_error *e)
{
        int r = module_state(env->roots->sysfs, h->name);

        if (r > 0 || r == -EPERM)
                return 0; /* loaded again (by the device's give-back), or built into a kernel booted since */
        if (r < 0)
                return vl_error_set(e, -r, "module \"%s\": %s", h->name, strerror(-r));
        return do_module(env, h->name, true, e);
}

int handover_undo_entry(const struct handover_env *env, const struct journal_entry *x, struct vl_error *e)
{
        switch (x->kind) {
        case JOURNAL_UNIT:
                return undo_unit(env, &x->handover, e);
        case JOURNAL_VTCON:
                return undo_vtcon(env, &x->handover, e);
        case JOURNAL_FRAMEBUFFER:
                return undo_framebuffer(env, &x->handover, e);
        case JOURNAL_MODULE:
                return undo_module(env, &x->handover, e);
        default:
                return vl_error_set(e, EINVAL, "not a hand-over step (kind %d)", (int) x->kind);
        }
}

void handover_step_describe(const struct handover_step *s, char *buf, size_t size)
{
        const struct journal_handover *h = &s->entry.handover;

        switch (s->entry.kind) {
        case JOURNAL_UNIT:
                (void) snprintf(buf, size, "%s unit %s (%s)", s->take ? "stop" : "leave", h->name, s->note);
                return;
        case JOURNAL_VTCON:
                (void) snprintf(buf, size, "unbind fbcon from vtcon%llu (%s)", (unsigned long long) h->vtcon, s->note);
                return;
        case JOURNAL_FRAMEBUFFER:
                (void) snprintf(buf, size, "unbind framebuffer %s from %s", h->name, h->driver);
                return;
        case JOURNAL_MODULE:
                (void) snprintf(buf, size, "%s module %s (%s)", s->take ? "unload" : "leave", h->name, s->note);
                return;
        default:
                (void) snprintf(buf, size, "?");
        }
}
