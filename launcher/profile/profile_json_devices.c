/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The profile's devices: hostdevs (with their guest addresses), NICs,
 * sound and the display (the disks: profile_json_disks.c). Part of the
 * strict loader: profile_json.c reads the hostdevs and nics arrays and
 * hands each element to its *_element() here, and calls the sound and
 * display readers for their keys; the shared readers are in
 * profile_json_read.c (declared in profile_json_read.h).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "profile/profile_json_read.h"

/* ---- hostdevs ----------------------------------------------------------------------- */

static int parse_guest(struct ctx *c, json_t *dev, struct profile_guest_addr *g)
{
        static const char *const keys[] = { "bus", "slot", "function", NULL };
        json_t *v = json_object_get(dev, "guest");
        size_t m;
        int r;

        g->automatic = true;
        if (!v)
                return 0;
        m = pj_enter_key(c, "guest");
        if (json_is_string(v)) {
                char q[QUOTE_MAX + 8];

                if (strcmp(json_string_value(v), "same-slot") != 0) {
                        pj_quote_value(v, q, sizeof(q));
                        return pj_fail(c, "%s is not a valid value (expected \"same-slot\" or an "
                                       "object with bus, slot, function)",
                                    q);
                }
                g->automatic = false;
                g->same_slot = true;
        } else if (json_is_object(v)) {
                if ((r = pj_check_keys(c, v, keys)) < 0 || (r = pj_require(c, v, "bus")) < 0 ||
                    (r = pj_opt_unsigned(c, v, "bus", 1, PROFILE_GUEST_BUS_MAX, &g->bus)) < 0 ||
                    (r = pj_opt_unsigned(c, v, "slot", 0, 31, &g->slot)) < 0 ||
                    (r = pj_opt_unsigned(c, v, "function", 0, 7, &g->function)) < 0)
                        return r;
                g->automatic = false;
        } else
                return pj_type_error(c, v, "an object or \"same-slot\"");
        pj_leave(c, m);
        return 0;
}

static int parse_ids(struct ctx *c, json_t *dev, struct profile_hostdev *h)
{
        json_t *v = json_object_get(dev, "vendor_device");
        char q[QUOTE_MAX + 8];
        unsigned vendor, device;
        const char *s;
        size_t m;
        int n = 0;

        if (!v)
                return 0;
        m = pj_enter_key(c, "vendor_device");
        if (!json_is_string(v))
                return pj_type_error(c, v, "a string");
        s = json_string_value(v);
        if (strlen(s) != 9 || strspn(s, "0123456789abcdefABCDEF") != 4 || s[4] != ':' ||
            strspn(s + 5, "0123456789abcdefABCDEF") != 4 ||
            sscanf(s, "%4x:%4x%n", &vendor, &device, &n) != 2 || n != 9) {
                pj_quote_value(v, q, sizeof(q));
                return pj_fail(c, "%s is not a vendor:device pair (expected 4 hex digits, ':', 4 hex "
                               "digits, as lspci -nn prints them)",
                            q);
        }
        h->ids_set = true;
        h->vendor = (uint16_t) vendor;
        h->device = (uint16_t) device;
        pj_leave(c, m);
        return 0;
}

static int parse_hostdev(struct ctx *c, json_t *o, unsigned index, struct profile_hostdev *h)
{
        static const char *const keys[] = { "host",   "guest", "vendor_device", "rombar", "romfile",
                                            "multifunction", "x_vga", "id", "boot", NULL };
        bool rombar = false;
        size_t m;
        int r, got_rombar;

        if (!json_is_object(o))
                return pj_type_error(c, o, "an object");
        if ((r = pj_check_keys(c, o, keys)) < 0 || (r = pj_require(c, o, "host")) < 0)
                return r;
        m = pj_enter_key(c, "host");
        if ((r = pj_check_pci(c, json_object_get(o, "host"), &h->host)) < 0)
                return r;
        pj_leave(c, m);
        if ((r = parse_guest(c, o, &h->guest)) < 0 || (r = parse_ids(c, o, h)) < 0 ||
            (got_rombar = pj_opt_bool(c, o, "rombar", &rombar)) < 0 ||
            (r = pj_opt_path(c, o, "romfile", h->romfile)) < 0 ||
            (r = pj_opt_bool(c, o, "multifunction", &h->multifunction)) < 0 ||
            (r = pj_opt_bool(c, o, "x_vga", &h->x_vga)) < 0 ||
            (r = pj_opt_string(c, o, "id", h->id, sizeof(h->id))) < 0 ||
            (r = pj_opt_unsigned(c, o, "boot", 1, PROFILE_BOOT_MAX, &h->boot)) < 0)
                return r < 0 ? r : -EINVAL;
        h->rombar = got_rombar ? (rombar ? ROMBAR_ON : ROMBAR_OFF) : ROMBAR_DEFAULT;
        if (!h->id[0])
                (void) snprintf(h->id, sizeof(h->id), "hostdev%u", index);
        return 0;
}

int profile_json_hostdev_element(struct ctx *c, json_t *v, unsigned i, void *ud)
{
        return parse_hostdev(c, v, i, &((struct profile *) ud)->hostdevs[i]);
}

/* ---- NICs ----------------------------------------------------------------- */

static int check_mac(struct ctx *c, json_t *v, struct profile_nic *n)
{
        char q[QUOTE_MAX + 8];
        int r;

        if (!json_is_string(v))
                return pj_type_error(c, v, "a string");
        pj_quote_value(v, q, sizeof(q));
        r = profile_parse_mac(json_string_value(v), n->mac);
        if (r == -EADDRNOTAVAIL)
                return pj_fail(c, "%s is a multicast or all-zero MAC address (a NIC needs a unicast "
                               "one: bit 0 of the first byte clear)",
                            q);
        if (r < 0)
                return pj_fail(c, "%s is not a MAC address (expected six hex pairs like "
                               "52:54:00:12:34:56)",
                            q);
        n->mac_set = true;
        return 0;
}

/* A bool key whose absence means "the default": left SWITCH_DEFAULT. */
static int opt_switch(struct ctx *c, json_t *o, const char *key, enum profile_switch *ret)
{
        bool on = false;
        int r = pj_opt_bool(c, o, key, &on);

        if (r > 0)
                *ret = on ? SWITCH_ON : SWITCH_OFF;
        return r;
}

int profile_json_nic_element(struct ctx *c, json_t *o, unsigned i, void *ud)
{
        static const char *const keys[] = { "model",  "mac",    "backend", "dev",
                                            "mode",   "bridge", "id",      "vhost", "boot", NULL };
        struct profile *p = ud;
        struct profile_nic *n = &p->nics[i];
        int r, backend = NIC_USER, mode = MACVTAP_BRIDGE, got_mode;
        json_t *v;
        size_t m;

        if (!json_is_object(o))
                return pj_type_error(c, o, "an object");
        if ((r = pj_check_keys(c, o, keys)) < 0 ||
            (r = pj_opt_string(c, o, "model", n->model, sizeof(n->model))) < 0 ||
            (r = pj_opt_enum(c, o, "backend", profile_nic_backend_name, &backend)) < 0 ||
            (r = pj_opt_string(c, o, "dev", n->dev, sizeof(n->dev))) < 0 ||
            (got_mode = pj_opt_enum(c, o, "mode", profile_macvtap_mode_name, &mode)) < 0 ||
            (r = pj_opt_string(c, o, "bridge", n->bridge, sizeof(n->bridge))) < 0 ||
            (r = pj_opt_string(c, o, "id", n->id, sizeof(n->id))) < 0 ||
            (r = opt_switch(c, o, "vhost", &n->vhost)) < 0 ||
            (r = pj_opt_unsigned(c, o, "boot", 1, PROFILE_BOOT_MAX, &n->boot)) < 0)
                return r < 0 ? r : -EINVAL;
        if ((v = json_object_get(o, "mac"))) {
                m = pj_enter_key(c, "mac");
                if ((r = check_mac(c, v, n)) < 0)
                        return r;
                pj_leave(c, m);
        } else
                profile_derive_mac(p->name, i, n->mac); /* mac_set stays false: derived */
        if (got_mode && backend != NIC_MACVTAP) {
                (void) pj_enter_key(c, "mode");
                return pj_fail(c, "mode is only used with backend \"macvtap\"");
        }
        if (!n->model[0])
                strcpy(n->model, "e1000e");
        n->backend = (enum nic_backend) backend;
        n->mode = (enum macvtap_mode) mode;
        if (!n->id[0])
                (void) snprintf(n->id, sizeof(n->id), "net%u", i);
        return 0;
}

/* ---- sound and display -------------------------------------------------------------- */

/* Which sound settings were given where, so the legacy "env" spelling and
 * the structured one cannot silently disagree. */
struct sound_seen {
        const char *backend, *timer, *freq, *buffer, *period, *alsa_dev, *samples, *server;
};

static int env_number(struct ctx *c, json_t *v, uint32_t min, uint32_t max, uint32_t *ret)
{
        char q[QUOTE_MAX + 8];
        uint64_t u = 0;
        int r;

        if (json_is_integer(v)) {
                if ((r = pj_check_uint(c, v, min, max, &u)) < 0)
                        return r;
        } else if (json_is_string(v)) {
                const char *s = json_string_value(v);
                size_t n = strlen(s);

                pj_quote_value(v, q, sizeof(q));
                if (n == 0 || n > 10 || strspn(s, "0123456789") != n)
                        return pj_fail(c, "%s is not a decimal number", q);
                for (size_t k = 0; k < n; k++)
                        u = u * 10 + (uint64_t) (s[k] - '0');
                if (u < min || u > max)
                        return pj_fail(c, "%s is out of range (expected %u..%u)", q, min, max);
        } else
                return pj_type_error(c, v, "a string of digits or an integer");
        *ret = (uint32_t) u;
        return 0;
}

static int parse_sound_env(struct ctx *c, json_t *sound, struct profile_sound *s,
                           struct sound_seen *seen)
{
        static const char *const keys[] = {
                "QEMU_AUDIO_DRV",           "QEMU_AUDIO_TIMER_PERIOD",   "QEMU_AUDIO_DAC_FIXED_FREQ",
                "QEMU_ALSA_DAC_BUFFER_SIZE", "QEMU_ALSA_DAC_PERIOD_SIZE", "QEMU_ALSA_DAC_DEV",
                "QEMU_PA_SAMPLES",          "QEMU_PA_SERVER",            NULL
        };
        const char *key;
        json_t *v;
        size_t m;
        int r;
        json_t *o = pj_enter_typed(c, sound, "env", JSON_OBJECT, &m, &r);

        if (!o)
                return r;
        if ((r = pj_check_keys(c, o, keys)) < 0)
                return r;
        json_object_foreach (o, key, v) {
                size_t k = pj_enter_key(c, key);

/* Each variable appears once (duplicate keys are rejected), but it may
 * repeat a structured key given above. */
#define SEEN(field)                                                                          \
        do {                                                                                 \
                if (seen->field)                                                             \
                        return pj_fail(c, "also set by %s: give it once", seen->field);        \
        } while (0)
                if (strcmp(key, "QEMU_AUDIO_DRV") == 0) {
                        int b;
                        SEEN(backend);
                        if ((r = pj_check_enum(c, v, profile_sound_backend_name, &b)) < 0)
                                return r;
                        s->backend = (enum sound_backend) b;
                } else if (strcmp(key, "QEMU_AUDIO_TIMER_PERIOD") == 0) {
                        SEEN(timer);
                        if ((r = env_number(c, v, 1, 1000000, &s->timer_period_hz)) < 0)
                                return r;
                } else if (strcmp(key, "QEMU_AUDIO_DAC_FIXED_FREQ") == 0) {
                        SEEN(freq);
                        if ((r = env_number(c, v, 8000, 192000, &s->frequency)) < 0)
                                return r;
                } else if (strcmp(key, "QEMU_ALSA_DAC_BUFFER_SIZE") == 0) {
                        SEEN(buffer);
                        if ((r = env_number(c, v, 1, 1u << 20, &s->alsa_dac_buffer_frames)) < 0)
                                return r;
                } else if (strcmp(key, "QEMU_ALSA_DAC_PERIOD_SIZE") == 0) {
                        SEEN(period);
                        if ((r = env_number(c, v, 1, 1u << 20, &s->alsa_dac_period_frames)) < 0)
                                return r;
                } else if (strcmp(key, "QEMU_ALSA_DAC_DEV") == 0) {
                        SEEN(alsa_dev);
                        if ((r = pj_check_string(c, v, s->alsa_dev, sizeof(s->alsa_dev))) < 0)
                                return r;
                } else if (strcmp(key, "QEMU_PA_SAMPLES") == 0) {
                        SEEN(samples);
                        if ((r = env_number(c, v, 1, 1u << 20, &s->pa_samples)) < 0)
                                return r;
                } else {
                        SEEN(server);
                        if ((r = pj_check_string(c, v, s->pa_server, sizeof(s->pa_server))) < 0)
                                return r;
                }
#undef SEEN
                pj_leave(c, k);
        }
        pj_leave(c, m);
        return 0;
}

int profile_json_parse_sound(struct ctx *c, json_t *root, struct profile_sound *s)
{
        static const char *const keys[] = { "model", "backend", "timer_period_hz", "frequency",
                                            "alsa",  "pa",      "env",             NULL };
        static const char *const alsa_keys[] = { "dac_buffer_frames", "dac_period_frames", "dev",
                                                 NULL };
        static const char *const pa_keys[] = { "samples", "server", NULL };
        struct sound_seen seen = {};
        int r, model = SOUND_NONE, backend = AUDIO_NONE;
        size_t m, k;
        json_t *o = pj_enter_typed(c, root, "sound", JSON_OBJECT, &m, &r), *sub;

#define MARK(field, name, call)                                                              \
        do {                                                                                 \
                if ((r = (call)) < 0)                                                        \
                        return r;                                                            \
                if (r > 0)                                                                   \
                        seen.field = (name);                                                 \
        } while (0)
        if (!o)
                return r;
        if ((r = pj_check_keys(c, o, keys)) < 0 || (r = pj_require(c, o, "model")) < 0 ||
            (r = pj_opt_enum(c, o, "model", profile_sound_model_name, &model)) < 0)
                return r;
        MARK(backend, "$.sound.backend", pj_opt_enum(c, o, "backend", profile_sound_backend_name, &backend));
        s->backend = (enum sound_backend) backend;
        MARK(timer, "$.sound.timer_period_hz",
             pj_opt_u32(c, o, "timer_period_hz", 1, 1000000, &s->timer_period_hz));
        MARK(freq, "$.sound.frequency", pj_opt_u32(c, o, "frequency", 8000, 192000, &s->frequency));

        if ((sub = pj_enter_typed(c, o, "alsa", JSON_OBJECT, &k, &r))) {
                if ((r = pj_check_keys(c, sub, alsa_keys)) < 0)
                        return r;
                MARK(buffer, "$.sound.alsa.dac_buffer_frames",
                     pj_opt_u32(c, sub, "dac_buffer_frames", 1, 1u << 20, &s->alsa_dac_buffer_frames));
                MARK(period, "$.sound.alsa.dac_period_frames",
                     pj_opt_u32(c, sub, "dac_period_frames", 1, 1u << 20, &s->alsa_dac_period_frames));
                MARK(alsa_dev, "$.sound.alsa.dev",
                     pj_opt_string(c, sub, "dev", s->alsa_dev, sizeof(s->alsa_dev)));
                pj_leave(c, k);
        } else if (r < 0)
                return r;
        if ((sub = pj_enter_typed(c, o, "pa", JSON_OBJECT, &k, &r))) {
                if ((r = pj_check_keys(c, sub, pa_keys)) < 0)
                        return r;
                MARK(samples, "$.sound.pa.samples",
                     pj_opt_u32(c, sub, "samples", 1, 1u << 20, &s->pa_samples));
                /* A server is a socket path, "unix:PATH" or a host: not resolved
                 * against the profile's folder. */
                MARK(server, "$.sound.pa.server",
                     pj_opt_string(c, sub, "server", s->pa_server, sizeof(s->pa_server)));
                pj_leave(c, k);
        } else if (r < 0)
                return r;
#undef MARK
        if ((r = parse_sound_env(c, o, s, &seen)) < 0)
                return r;
        s->model = (enum sound_model) model;
        pj_leave(c, m);
        return 0;
}

int profile_json_parse_display(struct ctx *c, json_t *root, struct profile_display *d)
{
        static const char *const keys[] = { "type", "port",          "listen", "image_compression",
                                            "gl",   "rendernode",    "password_file", "video",
                                            "agent", "clipboard",    "file_transfer", "usb_redirect", NULL };
        int r, type = DISPLAY_SPICE, comp = SPICE_COMPRESSION_DEFAULT, video = 0;
        const char *key;
        json_t *v;
        size_t m, k;
        json_t *o = pj_enter_typed(c, root, "display", JSON_OBJECT, &m, &r);

        if (!o)
                return r;
        if ((r = pj_check_keys(c, o, keys)) < 0 || (r = pj_opt_enum(c, o, "type", profile_display_type_name, &type)) < 0)
                return r;
        d->type = (enum display_type) type;
        if (d->type == DISPLAY_NONE) {
                json_object_foreach (o, key, v)
                        if (strcmp(key, "type") != 0) {
                                (void) pj_enter_key(c, key);
                                return pj_fail(c, "only used with type \"spice\"");
                        }
                pj_leave(c, m);
                return 0;
        }
        if ((v = json_object_get(o, "port"))) {
                uint64_t port;

                k = pj_enter_key(c, "port");
                if (json_is_string(v) && strcmp(json_string_value(v), "auto") == 0)
                        d->port = 0;
                else if (!json_is_integer(v))
                        return pj_type_error(c, v, "\"auto\" or an integer");
                else if ((r = pj_check_uint(c, v, 1, 65535, &port)) < 0)
                        return r;
                else
                        d->port = (unsigned) port;
                pj_leave(c, k);
        }
        if ((r = pj_opt_string(c, o, "listen", d->listen, sizeof(d->listen))) < 0 ||
            (r = pj_opt_enum(c, o, "image_compression", profile_image_compression_name, &comp)) < 0 ||
            (r = pj_opt_bool(c, o, "gl", &d->gl)) < 0 ||
            (r = pj_opt_path(c, o, "rendernode", d->rendernode)) < 0 ||
            (r = pj_opt_path(c, o, "password_file", d->password_file)) < 0 ||
            (r = pj_opt_enum(c, o, "video", profile_video_name, &video)) < 0)
                return r;
        if ((r = opt_switch(c, o, "agent", &d->agent)) < 0 ||
            (r = opt_switch(c, o, "clipboard", &d->clipboard)) < 0 ||
            (r = opt_switch(c, o, "file_transfer", &d->file_transfer)) < 0 ||
            (r = pj_opt_unsigned(c, o, "usb_redirect", 0, PROFILE_USB_REDIRECT_MAX, &d->usb_redirect)) < 0)
                return r;
        d->image_compression = (enum spice_compression) comp;
        strcpy(d->video, video == 0 ? "" : profile_video_name((unsigned) video));
        pj_leave(c, m);
        return 0;
}
