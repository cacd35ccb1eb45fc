/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * "os": the presets. Each is a profile fragment that goes under the user's
 * profile before anything is read: a key the profile gives wins, objects are
 * merged key by key, and what the preset supplied is recorded for print.
 * Part of the strict loader (see profile_json.c). The values are what a
 * careful libvirt or Proxmox user sets for that guest
 * (docs/facts.md#F-os-presets).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "profile/profile_json_read.h"

/* Windows' clocks and the Hyper-V enlightenments Proxmox and virt-manager
 * give Windows 10 and 11 (the union of both; none needs a newer QEMU than
 * the builder's oldest). */
#define WINDOWS_COMMON                                                                                     \
        "\"clock\": {\"rtc\": \"localtime\", \"driftfix\": \"slew\", \"tick_policy\": \"delay\", "       \
        "\"hpet\": false},"                                                                                \
        "\"cpu\": {\"hyperv\": {\"relaxed\": true, \"vapic\": true, \"spinlocks\": 8191, "                \
        "\"vpindex\": true, \"runtime\": true, \"synic\": true, \"stimer\": true, \"reset\": true, "      \
        "\"frequencies\": true, \"time\": true, \"tlbflush\": true, \"ipi\": true}}"

static const char *const presets[] = {
        [OS_NONE] = NULL,
        /* Windows 11's setup insists on UEFI with Secure Boot and a TPM 2.0. */
        [OS_WINDOWS11] = "{" WINDOWS_COMMON ", \"firmware\": {\"type\": \"uefi\", \"secure_boot\": true}, "
                         "\"tpm\": {\"model\": \"crb\"}}",
        [OS_WINDOWS10] = "{" WINDOWS_COMMON "}",
        [OS_LINUX] = "{\"clock\": {\"rtc\": \"utc\"}}",
        [OS_OTHER] = "{}",
};

/* A preset object is not merged into a profile's object that holds one of
 * these: it stands for all of the preset's keys there. */
static bool stands_alone(const char *path, json_t *user)
{
        return strcmp(path, "$.cpu.hyperv") == 0 && json_is_true(json_object_get(user, "passthrough"));
}

static void record(struct profile *p, const char *path, json_t *v)
{
        char *text;

        if (json_is_object(v) && json_object_size(v) > 0) {
                const char *key;
                json_t *child;

                json_object_foreach (v, key, child) {
                        char sub[JSON_PATH_MAX];

                        if (snprintf(sub, sizeof(sub), "%s.%s", path, key) < (int) sizeof(sub))
                                record(p, sub, child);
                }
                return;
        }
        if (p->n_preset_set >= PROFILE_PRESET_SET_MAX)
                return;
        text = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
        (void) snprintf(p->preset_set[p->n_preset_set++], PROFILE_PRESET_SET_LEN, "%s: %s", path,
                        text ? text : "?");
        free(text);
}

/* preset under user, at path. */
static int merge(json_t *user, json_t *preset, const char *path, struct profile *p)
{
        const char *key;
        json_t *pv;

        json_object_foreach (preset, key, pv) {
                json_t *uv = json_object_get(user, key);
                char sub[JSON_PATH_MAX];
                int r;

                if (snprintf(sub, sizeof(sub), "%s.%s", path, key) >= (int) sizeof(sub))
                        return -ENAMETOOLONG;
                if (!uv) {
                        if (json_object_set(user, key, pv) < 0)
                                return -ENOMEM;
                        record(p, sub, pv);
                } else if (json_is_object(uv) && json_is_object(pv) && !stands_alone(sub, uv)) {
                        r = merge(uv, pv, sub, p);
                        if (r < 0)
                                return r;
                }
                /* Else the profile's value wins, whatever its type: the
                 * loader judges it as the user wrote it. */
        }
        return 0;
}

int profile_json_apply_preset(struct ctx *c, json_t *root, struct profile *p)
{
        _cleanup_(json_decrefp) json_t *preset = NULL;
        json_error_t jerr;
        int os = OS_NONE, r;

        r = pj_opt_enum(c, root, "os", profile_os_name, &os);
        if (r <= 0)
                return r;
        p->os = (enum os_preset) os;
        preset = json_loads(presets[os], 0, &jerr);
        if (!preset)
                return vl_error_set(c->e, EINVAL, "internal error: preset \"%s\": %s", profile_os_name(os),
                                    jerr.text);
        r = merge(root, preset, "$", p);
        if (r < 0)
                return vl_error_set(c->e, -r, "cannot apply preset \"%s\"", profile_os_name(os));
        return 0;
}

bool profile_preset_set(const struct profile *p, const char *path)
{
        size_t n = strlen(path);

        /* An error at $.firmware.secure_boot is the preset's if it set
         * "$.firmware.secure_boot: true" (or all of $.firmware). */
        for (unsigned i = 0; i < p->n_preset_set; i++) {
                const char *s = p->preset_set[i];
                size_t k = strcspn(s, ":");

                if ((k == n && strncmp(s, path, n) == 0) ||
                    (k < n && strncmp(s, path, k) == 0 && (path[k] == '.' || path[k] == '[')))
                        return true;
        }
        return false;
}
