/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The platform around the CPU on the command line: the clocks, SMBIOS, the
 * watchdog, and the profile's own "qemu_args" at the very end. PURE, part
 * of the builder (qemu_argv.c).
 */
#include <errno.h>
#include <string.h>

#include "qemu/qemu_builder.h"

/* i6300esb is a conventional PCI device: on pcie.0 as an integrated
 * endpoint, in a slot neither the root ports (2..5) nor the ICH9 functions
 * QEMU or the builder place (0x1b sound, 0x1f LPC) use. */
#define PCIE0_WATCHDOG_ADDR "0x1c"

void qemu_argv_machine_platform(struct builder *b, struct opt *o, const struct profile *p)
{
        /* The machine property, not the deprecated -no-hpet (QEMU >= 7.0,
         * the oldest the builder takes). */
        if (p->clock.hpet != SWITCH_DEFAULT)
                qa_opt_kv(b, o, "hpet", p->clock.hpet == SWITCH_ON ? "on" : "off");
}

static void emit_clock(struct builder *b, const struct profile *p)
{
        const struct profile_clock *c = &p->clock;
        struct opt o;

        if (c->rtc != RTC_BASE_DEFAULT || c->driftfix != RTC_DRIFTFIX_DEFAULT) {
                qa_opt_begin(b, &o, NULL);
                if (c->rtc != RTC_BASE_DEFAULT)
                        qa_opt_kv(b, &o, "base", "%s", profile_rtc_base_name(c->rtc));
                if (c->driftfix != RTC_DRIFTFIX_DEFAULT)
                        qa_opt_kv(b, &o, "driftfix", "%s", profile_rtc_driftfix_name(c->driftfix));
                qa_arg_opt(b, "-rtc", &o);
        }
        /* The in-kernel PIT of KVM; QEMU's own PIT (TCG) has no policy, and a
         * -global for a device that is not created is not an error. */
        if (c->tick_policy != TICK_POLICY_DEFAULT) {
                qa_opt_begin(b, &o, NULL);
                qa_opt_kv(b, &o, "driver", "kvm-pit");
                qa_opt_kv(b, &o, "property", "lost_tick_policy");
                qa_opt_kv(b, &o, "value", "%s", profile_tick_policy_name(c->tick_policy));
                qa_arg_opt(b, "-global", &o);
        }
}

static int emit_smbios(struct builder *b, const struct profile *p, const struct qemu_runtime *rt,
                       struct vl_error *e)
{
        const struct profile_smbios *s = &p->smbios;
        struct opt o;

        if (s->mode == SMBIOS_NONE)
                return 0;
        if (s->mode == SMBIOS_HOST) {
                if (rt->smbios_host.mode != SMBIOS_HOST)
                        return vl_error_set_at(e, EINVAL, NULL, 0, 0, "$.smbios",
                                               "the host's SMBIOS strings were not read (launch_prepare() "
                                               "reads them)");
                s = &rt->smbios_host;
        }
        /* One -smbios per type that has a field, in the table's order. */
        for (unsigned type = 0; type <= 3; type++) {
                bool any = false;

                for (unsigned f = 0; f < SMBIOS_FIELDS_N; f++)
                        any = any || (profile_smbios_fields[f].type == type && s->field[f][0]);
                if (!any)
                        continue;
                qa_opt_begin(b, &o, NULL);
                qa_opt_kv(b, &o, "type", "%u", type);
                for (unsigned f = 0; f < SMBIOS_FIELDS_N; f++)
                        if (profile_smbios_fields[f].type == type && s->field[f][0])
                                qa_opt_kv_esc(b, &o, profile_smbios_fields[f].qemu_key, s->field[f]);
                qa_arg_opt(b, "-smbios", &o);
        }
        return 0;
}

static void emit_watchdog(struct builder *b, const struct profile *p)
{
        const struct profile_watchdog *w = &p->watchdog;
        struct opt o;

        switch (w->model) {
        case WATCHDOG_NONE:
                return;
        case WATCHDOG_ITCO:
                /* The ICH9 LPC's TCO timer is always there on q35; it only
                 * acts once noreboot is off (libvirt's model='itco'). */
                qa_opt_begin(b, &o, NULL);
                qa_opt_kv(b, &o, "driver", "ICH9-LPC");
                qa_opt_kv(b, &o, "property", "noreboot");
                qa_opt_kv(b, &o, "value", "off");
                qa_arg_opt(b, "-global", &o);
                break;
        case WATCHDOG_I6300ESB:
                qa_opt_begin(b, &o, "i6300esb");
                qa_opt_kv(b, &o, "id", PROFILE_ID_WATCHDOG);
                qa_opt_kv(b, &o, "bus", "pcie.0");
                qa_opt_kv(b, &o, "addr", PCIE0_WATCHDOG_ADDR);
                qa_arg_opt(b, "-device", &o);
                break;
        }
        qa_opt_begin(b, &o, NULL);
        qa_opt_kv(b, &o, "watchdog", "%s", profile_watchdog_action_name(w->action));
        qa_arg_opt(b, "-action", &o);
}

int qemu_argv_emit_platform(struct builder *b, const struct profile *p, const struct qemu_runtime *rt,
                            struct vl_error *e)
{
        int r;

        emit_clock(b, p);
        r = emit_smbios(b, p, rt, e);
        if (r < 0)
                return r;
        emit_watchdog(b, p);
        return 0;
}

void qemu_argv_emit_extra(struct builder *b, const struct profile *p)
{
        /* As written: profile_validate() refused what would defeat the
         * launcher; the rest is the user's (and the VM counts as tainted). */
        for (unsigned i = 0; i < p->n_qemu_args; i++)
                qa_arg(b, p->qemu_args[i]);
}
