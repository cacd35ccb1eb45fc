/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * audio: the legacy-variable table, checked against the figures QEMU's
 * audio/audio_legacy.c produces (docs/facts.md#F-audio-legacy-mapping).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "qemu/audio.h"

static const struct qemu_version v72 = { 7, 2, 0 }, v81 = { 8, 1, 0 }, v80 = { 8, 0, 4 };

static void test_formula(void **state)
{
        /* docs/facts.md#F-audio-legacy-mapping: 512 frames -> 11610 us; 170 -> 3855 us;
         * 99 Hz -> 10101 us (what QEMU 7.2's own -audio-help prints) */
        assert_int_equal(audio_frames_to_usecs(512, 0), 11610);
        assert_int_equal(audio_frames_to_usecs(170, 0), 3855);
        assert_int_equal(audio_hz_to_usecs(99), 10101);
        /* PA samples are interleaved: 1024 samples / 2 channels = 512 frames */
        assert_int_equal(audio_samples_to_usecs(1024, 2, 0), 11610);
        /* rounding: (frames * 1000000 + f / 2) / f */
        assert_int_equal(audio_frames_to_usecs(1, 44100), 23);   /* 22.68 -> 23 */
        assert_int_equal(audio_frames_to_usecs(512, 48000), 10667);
        assert_int_equal(audio_frames_to_usecs(0, 0), 0);
        assert_int_equal(audio_hz_to_usecs(0), 0);               /* "lowest possible" */
        assert_int_equal(audio_hz_to_usecs(100), 10000);
        /* QEMU's uint32_t arithmetic wrapped above 4294 frames; ours does not */
        assert_int_equal(audio_frames_to_usecs(8192, 44100), 185760);
        assert_int_equal(audio_frames_to_usecs(UINT32_MAX, 1), UINT32_MAX);
}

/* The reference machine's sound settings (profiles/win10.json). */
static void test_alsa_reference(void **state)
{
        struct profile_sound s = {
                .model = SOUND_AC97, .backend = AUDIO_ALSA, .timer_period_hz = 99,
                .alsa_dac_buffer_frames = 512, .alsa_dac_period_frames = 170,
                .pa_samples = 1024, .pa_server = "/run/user/1000/pulse/native",
        };
        struct audio_params a;
        struct vl_warnings w = {};

        assert_int_equal(audio_translate(&s, &v72, &a, NULL, &w), 0);
        assert_string_equal(a.driver_name, "alsa");
        assert_true(a.has_timer_period);
        assert_int_equal(a.timer_period_us, 10101);
        assert_true(a.has_out_buffer && a.has_out_period);
        assert_int_equal(a.out_buffer_us, 11610);
        assert_int_equal(a.out_period_us, 3855);
        /* the PA settings were never read with QEMU_AUDIO_DRV=alsa */
        assert_false(a.has_in_buffer);
        assert_string_equal(a.server, "");
        assert_int_equal(w.n, 1);
        assert_non_null(strstr(w.msg[0], "QEMU_PA_SAMPLES"));
        assert_non_null(strstr(w.msg[0], "ignoring"));
}

static void test_pa(void **state)
{
        struct profile_sound s = {
                .backend = AUDIO_PA, .pa_samples = 1024, .alsa_dac_buffer_frames = 512,
                .pa_server = "/run/user/1000/pulse/native",
        };
        struct audio_params a;
        struct vl_warnings w = {};

        assert_int_equal(audio_translate(&s, &v72, &a, NULL, &w), 0);
        assert_true(a.has_in_buffer && a.has_out_buffer);
        assert_int_equal(a.in_buffer_us, 11610);
        assert_int_equal(a.out_buffer_us, 11610);
        assert_false(a.has_out_period);
        assert_false(a.has_timer_period);
        assert_string_equal(a.server, "unix:/run/user/1000/pulse/native");
        assert_int_equal(w.n, 1);
        assert_non_null(strstr(w.msg[0], "ALSA"));

        /* a server string that is not a path passes unchanged */
        strcpy(s.pa_server, "tcp:192.168.1.2:4713");
        s.alsa_dac_buffer_frames = 0;
        memset(&w, 0, sizeof(w));
        assert_int_equal(audio_translate(&s, &v72, &a, NULL, &w), 0);
        assert_string_equal(a.server, "tcp:192.168.1.2:4713");
        assert_int_equal(w.n, 0);

        /* a fixed DAC frequency changes out, not in (ADC kept 44100) */
        s.frequency = 48000;
        assert_int_equal(audio_translate(&s, &v72, &a, NULL, NULL), 0);
        assert_int_equal(a.out_buffer_us, 10667);
        assert_int_equal(a.in_buffer_us, 11610);
        assert_true(a.has_out_frequency);
        assert_int_equal(a.out_frequency, 48000);
}

static void test_pipewire(void **state)
{
        struct profile_sound s = { .backend = AUDIO_PIPEWIRE, .timer_period_hz = 99 };
        struct audio_params a;
        struct vl_error e = {};

        assert_int_equal(audio_translate(&s, &v72, &a, &e, NULL), -ENOTSUP);
        assert_string_equal(e.path, "$.sound.backend");
        assert_non_null(strstr(e.msg, "8.1"));
        assert_non_null(strstr(e.msg, "7.2.0"));
        assert_int_equal(audio_translate(&s, &v80, &a, &e, NULL), -ENOTSUP);
        assert_int_equal(audio_translate(&s, &v81, &a, &e, NULL), 0);
        assert_string_equal(a.driver_name, "pipewire");
        assert_int_equal(a.timer_period_us, 10101);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_formula),
                cmocka_unit_test(test_alsa_reference),
                cmocka_unit_test(test_pa),
                cmocka_unit_test(test_pipewire),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
