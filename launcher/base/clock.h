/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Time for deadlines: CLOCK_MONOTONIC (never jumps with the wall clock), in
 * milliseconds. Safe in a forked child. */
#pragma once

#include <stdint.h>

uint64_t clock_ms(void);

/* Sleep ms milliseconds, resuming after a signal interrupts it. */
void clock_sleep_ms(unsigned ms);
