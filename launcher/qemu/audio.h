/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The legacy QEMU_AUDIO_* / QEMU_ALSA_* / QEMU_PA_* settings of a profile,
 * translated into -audiodev properties with QEMU's own formula
 * (audio/audio_legacy.c). QEMU read those variables only when no -audiodev
 * was given, and removed them in 8.2: vfio-launch never sets them, it passes
 * what they meant. Pure: no I/O.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "base/error.h"
#include "qemu/hostinfo.h"
#include "profile/profile.h"

#define AUDIO_DEFAULT_FREQUENCY 44100 /* audio_legacy.c: frames_to_usecs() */
#define AUDIO_LEGACY_CHANNELS 2       /* audio_legacy.c: samples_to_usecs() */

/* (frames * 1000000 + freq / 2) / freq, as audio_legacy.c rounds. Computed
 * in 64 bits: QEMU's uint32_t version wrapped above 4294 frames; the result
 * is clamped to UINT32_MAX. freq 0 = 44100. */
uint32_t audio_frames_to_usecs(uint32_t frames, uint32_t freq);
/* Interleaved samples (QEMU_PA_SAMPLES) -> frames (/ channels) -> µs. */
uint32_t audio_samples_to_usecs(uint32_t samples, uint32_t channels, uint32_t freq);
/* QEMU_AUDIO_TIMER_PERIOD (Hz) -> timer-period (µs) = 1000000 / Hz,
 * truncated as QEMU does; 0 Hz stays 0 ("lowest possible"). */
uint32_t audio_hz_to_usecs(uint32_t hz);

/* One -audiodev, already in QEMU's units. has_* false = property left out. */
struct audio_params {
        enum sound_backend driver;
        const char *driver_name;          /* "alsa", "pa", ... (static) */
        bool has_timer_period;
        uint32_t timer_period_us;
        bool has_out_buffer, has_out_period, has_in_buffer, has_out_frequency;
        uint32_t out_buffer_us, out_period_us, in_buffer_us, out_frequency;
        char server[PROFILE_PATH_MAX + 8]; /* pa: "unix:/run/user/1000/pulse/native"; "" = default */
        char out_dev[PROFILE_STR_MAX];     /* alsa: PCM name; "" = default */
};

/* Translate s for QEMU version v. Only the selected driver's variables were
 * ever read by QEMU: the others are left out with a warning, rather than
 * silently applied. pipewire before QEMU 8.1: -ENOTSUP with a clear error.
 * Returns 0 or -errno; fills e (path "$.sound...."). w may be NULL. */
int audio_translate(const struct profile_sound *s, const struct qemu_version *v,
                    struct audio_params *ret, struct vl_error *e, struct vl_warnings *w);
