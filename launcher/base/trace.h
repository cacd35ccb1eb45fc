/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A timing trace of the launcher's steps, for finding where a start or a
 * stop spends its time (bench/README.md, part passthrough). Off unless the
 * CLI turns it on (VL_TRACE=1 in the environment): then one line per step
 * on stderr, "vfio-launch: trace 12345.678 STEP", the time in milliseconds
 * on CLOCK_MONOTONIC — the clock a script's time.monotonic() reads, so a
 * benchmark can put the launcher's steps on its own time line. Debug output
 * that the CLI asked for, not a message: off, each call is one test of a
 * flag.
 */
#pragma once

#include <stdbool.h>

#include "base/macro.h"

extern bool trace_on;

void trace_enable(void);
void trace_step(const char *fmt, ...) _printf_(1, 2);

#define TRACE(...)                          \
        do {                                \
                if (trace_on)               \
                        trace_step(__VA_ARGS__); \
        } while (0)
