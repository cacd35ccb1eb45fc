/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The rules of "host_handover" for profile_validate(): the names it lists
 * and what it needs around it. Pure: whether the units run and the modules
 * are loaded is the host's (host/handover.c), at run time.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "profile/profile.h"

#define FAIL(path, ...) vl_error_set_at(e, EINVAL, NULL, 0, 0, (path), __VA_ARGS__)

/* The unit types systemd knows (systemd's unit_type_table). */
static const char *const unit_types[] = {
        "service", "socket", "target", "device", "mount", "automount", "swap", "timer", "path", "slice", "scope",
};

/* systemd's unit_name_is_valid() for a name or an instance: NAME.TYPE or
 * NAME@INSTANCE.TYPE, of A-Z a-z 0-9 : - _ . \ (and @ once), at most 255
 * characters. A template ("getty@.service") cannot be stopped: refused. */
bool profile_unit_name_valid(const char *name)
{
        const char *dot, *at;
        size_t n = strlen(name);
        bool type_ok = false;

        if (n == 0 || n >= PROFILE_UNIT_NAME_MAX || name[0] == '.' || name[0] == '-' || name[0] == '@')
                return false;
        for (const char *s = name; *s; s++)
                if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789:-_.\\@", *s))
                        return false;
        dot = strrchr(name, '.');
        if (!dot || dot == name)
                return false;
        for (size_t i = 0; i < sizeof(unit_types) / sizeof(unit_types[0]); i++)
                type_ok = type_ok || strcmp(dot + 1, unit_types[i]) == 0;
        at = strchr(name, '@');
        if (at && (strchr(at + 1, '@') || at + 1 >= dot))
                return false;
        return type_ok;
}

/* The kernel spells a module's name with '_' (its sysfs folder, lsmod);
 * modprobe and libkmod take '-' for '_'. */
bool profile_module_name_valid(const char *name)
{
        size_t n = strlen(name);

        if (n == 0 || n >= PROFILE_MODULE_NAME_MAX || name[0] == '-')
                return false;
        return strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") == n;
}

static bool module_same(const char *a, const char *b)
{
        for (; *a && *b; a++, b++)
                if (*a != *b && !(strchr("-_", *a) && strchr("-_", *b)))
                        return false;
        return *a == *b;
}

int profile_validate_handover(const struct profile *p, struct vl_error *e)
{
        const struct profile_handover *h = &p->host_handover;
        char path[64];

        if (!h->enabled)
                return 0;
        if (h->n_units > PROFILE_HANDOVER_UNITS_MAX)
                return FAIL("$.host_handover.stop_units", "too many units (at most %d)", PROFILE_HANDOVER_UNITS_MAX);
        if (h->n_modules > PROFILE_HANDOVER_MODULES_MAX)
                return FAIL("$.host_handover.unload_modules", "too many modules (at most %d)",
                            PROFILE_HANDOVER_MODULES_MAX);
        for (unsigned i = 0; i < h->n_units; i++) {
                (void) snprintf(path, sizeof(path), "$.host_handover.stop_units[%u]", i);
                if (!profile_unit_name_valid(h->units[i]))
                        return FAIL(path,
                                    "\"%s\" is not a systemd unit name (NAME.TYPE, e.g. \"display-manager.service\"; "
                                    "not a template)",
                                    h->units[i]);
                for (unsigned k = 0; k < i; k++)
                        if (strcmp(h->units[k], h->units[i]) == 0)
                                return FAIL(path, "\"%s\" is listed already ($.host_handover.stop_units[%u])",
                                            h->units[i], k);
        }
        for (unsigned i = 0; i < h->n_modules; i++) {
                (void) snprintf(path, sizeof(path), "$.host_handover.unload_modules[%u]", i);
                if (!profile_module_name_valid(h->modules[i]))
                        return FAIL(path, "\"%s\" is not a kernel module name (1..%d characters of A-Z a-z 0-9 _ -)",
                                    h->modules[i], PROFILE_MODULE_NAME_MAX - 1);
                for (unsigned k = 0; k < i; k++)
                        if (module_same(h->modules[k], h->modules[i]))
                                return FAIL(path, "\"%s\" is listed already ($.host_handover.unload_modules[%u])",
                                            h->modules[i], k);
        }
        if (h->n_units == 0 && !h->vtconsoles && !h->framebuffers && h->n_modules == 0)
                return FAIL("$.host_handover", "names nothing to hand over (stop_units, unbind_vtconsoles, "
                                               "unbind_framebuffers, unload_modules)");
        /* Consent: without allow_boot_vga the plan refuses the host's
         * display device; with a hand-over, it is what the profile is for. */
        if (!p->allow_boot_vga)
                return FAIL("$.host_handover", "needs \"allow_boot_vga\": true: the hand-over gives the host's "
                                               "display to the VM for the run");
        if (p->n_hostdevs == 0)
                return FAIL("$.host_handover", "no hostdevs: there is no GPU to hand over");
        return 0;
}
