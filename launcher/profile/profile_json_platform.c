/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The profile's platform: clock, SMBIOS, watchdog and the "qemu_args"
 * escape hatch. Part of the strict loader (see profile_json.c); the rules on
 * values are profile_platform.c's, asked here so that each error carries
 * its line and column.
 */
#include <errno.h>
#include <string.h>

#include "profile/profile_json_read.h"

int profile_json_parse_clock(struct ctx *c, json_t *root, struct profile_clock *clk)
{
        static const char *const keys[] = { "rtc", "driftfix", "tick_policy", "hpet", NULL };
        int rtc = RTC_BASE_DEFAULT, driftfix = RTC_DRIFTFIX_DEFAULT, tick = TICK_POLICY_DEFAULT, got_hpet, r;
        bool hpet = true;
        size_t m;
        json_t *o = pj_enter_typed(c, root, "clock", JSON_OBJECT, &m, &r);

        if (!o)
                return r;
        if ((r = pj_check_keys(c, o, keys)) < 0 || (r = pj_opt_enum(c, o, "rtc", profile_rtc_base_name, &rtc)) < 0 ||
            (r = pj_opt_enum(c, o, "driftfix", profile_rtc_driftfix_name, &driftfix)) < 0 ||
            (r = pj_opt_enum(c, o, "tick_policy", profile_tick_policy_name, &tick)) < 0 ||
            (got_hpet = pj_opt_bool(c, o, "hpet", &hpet)) < 0)
                return r < 0 ? r : -EINVAL;
        clk->rtc = (enum rtc_base) rtc;
        clk->driftfix = (enum rtc_driftfix) driftfix;
        clk->tick_policy = (enum tick_policy) tick;
        if (got_hpet)
                clk->hpet = hpet ? SWITCH_ON : SWITCH_OFF;
        pj_leave(c, m);
        return 0;
}

/* "bios": {"vendor": ..., ...}: the fields of one SMBIOS type. */
static int parse_smbios_section(struct ctx *c, json_t *smbios, const char *section, struct profile_smbios *s)
{
        const char *keys[SMBIOS_FIELDS_N + 1];
        size_t m, n = 0;
        int r;
        json_t *o = pj_enter_typed(c, smbios, section, JSON_OBJECT, &m, &r);

        if (!o)
                return r;
        for (unsigned f = 0; f < SMBIOS_FIELDS_N; f++)
                if (strcmp(profile_smbios_fields[f].section, section) == 0)
                        keys[n++] = profile_smbios_fields[f].key;
        keys[n] = NULL;
        if ((r = pj_check_keys(c, o, keys)) < 0)
                return r;
        for (unsigned f = 0; f < SMBIOS_FIELDS_N; f++) {
                const struct smbios_field_info *i = &profile_smbios_fields[f];
                json_t *v = json_object_get(o, i->key);
                const char *why;
                char q[QUOTE_MAX + 8];
                size_t k;

                if (strcmp(i->section, section) != 0 || !v)
                        continue;
                k = pj_enter_key(c, i->key);
                if (!json_is_string(v))
                        return pj_type_error(c, v, "a string");
                pj_quote_value(v, q, sizeof(q));
                why = strlen(json_string_value(v)) != json_string_length(v)
                              ? "holds a NUL character"
                              : profile_smbios_value_refused(f, json_string_value(v));
                if (why)
                        return pj_fail(c, "%s %s", q, why);
                memcpy(s->field[f], json_string_value(v), json_string_length(v) + 1);
                pj_leave(c, k);
        }
        pj_leave(c, m);
        return 0;
}

int profile_json_parse_smbios(struct ctx *c, json_t *root, struct profile_smbios *s)
{
        static const char *const sections[] = { "bios", "system", "baseboard", "chassis", NULL };
        json_t *v = json_object_get(root, "smbios");
        size_t m;
        int r;

        if (!v)
                return 0;
        m = pj_enter_key(c, "smbios");
        if (json_is_string(v)) {
                char q[QUOTE_MAX + 8];

                if (strcmp(json_string_value(v), "host") != 0) {
                        pj_quote_value(v, q, sizeof(q));
                        return pj_fail(c, "%s is not valid (expected \"host\", or an object with bios, system, "
                                          "baseboard, chassis)",
                                       q);
                }
                s->mode = SMBIOS_HOST;
                pj_leave(c, m);
                return 0;
        }
        if (!json_is_object(v))
                return pj_type_error(c, v, "\"host\" or an object");
        if ((r = pj_check_keys(c, v, sections)) < 0)
                return r;
        for (const char *const *sec = sections; *sec; sec++)
                if ((r = parse_smbios_section(c, v, *sec, s)) < 0)
                        return r;
        s->mode = SMBIOS_EXPLICIT;
        pj_leave(c, m);
        return 0;
}

int profile_json_parse_watchdog(struct ctx *c, json_t *root, struct profile_watchdog *w)
{
        static const char *const keys[] = { "model", "action", NULL };
        int model = WATCHDOG_NONE, action = WATCHDOG_ACTION_RESET, r;
        size_t m;
        json_t *o = pj_enter_typed(c, root, "watchdog", JSON_OBJECT, &m, &r);

        if (!o)
                return r;
        if ((r = pj_check_keys(c, o, keys)) < 0 || (r = pj_require(c, o, "model")) < 0 ||
            (r = pj_opt_enum(c, o, "model", profile_watchdog_model_name, &model)) < 0 ||
            (r = pj_opt_enum(c, o, "action", profile_watchdog_action_name, &action)) < 0)
                return r;
        w->model = (enum watchdog_model) model;
        w->action = (enum watchdog_action) action;
        pj_leave(c, m);
        return 0;
}

int profile_json_parse_qemu_args(struct ctx *c, json_t *root, struct profile *p)
{
        size_t m, k, i;
        json_t *a, *v;
        int r;

        a = pj_enter_typed(c, root, "qemu_args", JSON_ARRAY, &m, &r);
        if (!a)
                return r;
        json_array_foreach (a, i, v) {
                const char *why;
                char q[QUOTE_MAX + 8];

                k = pj_enter_index(c, i);
                if (i >= PROFILE_QEMU_ARGS_MAX)
                        return pj_fail(c, "too many arguments (at most %d)", PROFILE_QEMU_ARGS_MAX);
                if (!json_is_string(v))
                        return pj_type_error(c, v, "a string (one argument)");
                if ((r = pj_check_string(c, v, p->qemu_args[i], sizeof(p->qemu_args[i]))) < 0)
                        return r;
                why = profile_qemu_arg_refused(p->qemu_args[i]);
                if (why) {
                        pj_quote_value(v, q, sizeof(q));
                        return pj_fail(c, "%s is refused: %s", q, why);
                }
                pj_leave(c, k);
        }
        p->n_qemu_args = (unsigned) json_array_size(a);
        pj_leave(c, m);
        return 0;
}
