/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Legacy audio environment -> -audiodev, following QEMU's
 * audio/audio_legacy.c (the code QEMU itself used to turn those variables
 * into an Audiodev until 8.2). Pure. See audio.h.
 */
#include <errno.h>
#include <string.h>

#include "qemu/audio.h"
#include "base/macro.h"

uint32_t audio_frames_to_usecs(uint32_t frames, uint32_t freq)
{
        uint64_t f = freq ? freq : AUDIO_DEFAULT_FREQUENCY;
        uint64_t us = ((uint64_t) frames * 1000000u + f / 2) / f;

        return us > UINT32_MAX ? UINT32_MAX : (uint32_t) us;
}

uint32_t audio_samples_to_usecs(uint32_t samples, uint32_t channels, uint32_t freq)
{
        return audio_frames_to_usecs(samples / (channels ? channels : AUDIO_LEGACY_CHANNELS), freq);
}

uint32_t audio_hz_to_usecs(uint32_t hz)
{
        /* audio_legacy.c: NANOSECONDS_PER_SECOND / 1000 / hz; 0 kept as 0. */
        return hz ? 1000000u / hz : 0;
}

static const char *driver_name(enum sound_backend b)
{
        switch (b) {
        case AUDIO_NONE:
                return "none";
        case AUDIO_ALSA:
                return "alsa";
        case AUDIO_PA:
                return "pa";
        case AUDIO_PIPEWIRE:
                return "pipewire";
        case AUDIO_SPICE:
                return "spice";
        case AUDIO_WAV:
                return "wav";
        }
        return NULL;
}

int audio_translate(const struct profile_sound *s, const struct qemu_version *v,
                    struct audio_params *ret, struct vl_error *e, struct vl_warnings *w)
{
        struct audio_params a = {};
        const char *name = driver_name(s->backend);
        bool alsa_set = s->alsa_dac_buffer_frames || s->alsa_dac_period_frames || s->alsa_dev[0];
        bool pa_set = s->pa_samples || s->pa_server[0];

        if (!name)
                return vl_error_set_at(e, EINVAL, NULL, 0, 0, "$.sound.backend",
                                       "unknown audio backend %d", (int) s->backend);
        if (s->backend == AUDIO_PIPEWIRE && !qemu_version_at_least(v, 8, 1, 0))
                return vl_error_set_at(e, ENOTSUP, NULL, 0, 0, "$.sound.backend",
                                       "the \"pipewire\" audio backend needs QEMU 8.1 or newer, "
                                       "this is QEMU %u.%u.%u; use \"pa\" (PipeWire serves "
                                       "PulseAudio clients through pipewire-pulse)",
                                       v->major, v->minor, v->micro);
        a.driver = s->backend;
        a.driver_name = name;

        /* QEMU_AUDIO_TIMER_PERIOD and QEMU_AUDIO_DAC_FIXED_FREQ were generic:
         * read for whichever driver was selected. */
        if (s->timer_period_hz) {
                a.has_timer_period = true;
                a.timer_period_us = audio_hz_to_usecs(s->timer_period_hz);
        }
        if (s->frequency) {
                a.has_out_frequency = true;
                a.out_frequency = s->frequency;
        }

        /* Only the selected driver's own variables were ever read
         * (audio_legacy.c switches on the driver): say so instead of
         * quietly giving settings an effect they never had. */
        if (s->backend == AUDIO_ALSA) {
                /* QEMU_ALSA_DAC_*: frames unless QEMU_ALSA_DAC_SIZE_IN_USEC,
                 * which profiles do not carry. The DAC is the out direction. */
                if (s->alsa_dac_buffer_frames) {
                        a.has_out_buffer = true;
                        a.out_buffer_us = audio_frames_to_usecs(s->alsa_dac_buffer_frames,
                                                                s->frequency);
                }
                if (s->alsa_dac_period_frames) {
                        a.has_out_period = true;
                        a.out_period_us = audio_frames_to_usecs(s->alsa_dac_period_frames,
                                                                s->frequency);
                }
                if (xsnprintf(a.out_dev, sizeof(a.out_dev), "%s", s->alsa_dev) < 0)
                        return vl_error_set_at(e, ENAMETOOLONG, NULL, 0, 0, "$.sound", "ALSA device too long");
        } else if (alsa_set) {
                vl_warn(w, "sound: the ALSA buffer/period/device settings were never read with "
                           "QEMU_AUDIO_DRV=%s; ignoring", name);
        }

        if (s->backend == AUDIO_PA) {
                /* QEMU_PA_SAMPLES counts interleaved samples for both
                 * directions; the input frequency was never fixed by the
                 * DAC setting, so in uses 44100. */
                if (s->pa_samples) {
                        a.has_in_buffer = a.has_out_buffer = true;
                        a.in_buffer_us = audio_samples_to_usecs(s->pa_samples,
                                                                AUDIO_LEGACY_CHANNELS, 0);
                        a.out_buffer_us = audio_samples_to_usecs(s->pa_samples,
                                                                 AUDIO_LEGACY_CHANNELS, s->frequency);
                }
                /* libpulse takes a bare path too, but "unix:" says what it is
                 * and is what QEMU's documentation shows. */
                if (s->pa_server[0] == '/') {
                        if (xsnprintf(a.server, sizeof(a.server), "unix:%s", s->pa_server) < 0)
                                return vl_error_set_at(e, ENAMETOOLONG, NULL, 0, 0, "$.sound.pa_server",
                                                       "PulseAudio server too long");
                } else if (xsnprintf(a.server, sizeof(a.server), "%s", s->pa_server) < 0) {
                        return vl_error_set_at(e, ENAMETOOLONG, NULL, 0, 0, "$.sound.pa_server",
                                               "PulseAudio server too long");
                }
        } else if (pa_set) {
                vl_warn(w, "sound: QEMU_PA_SAMPLES/QEMU_PA_SERVER were never read with "
                           "QEMU_AUDIO_DRV=%s; ignoring", name);
        }

        *ret = a;
        return 0;
}
