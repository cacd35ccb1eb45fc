/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Shared by the doctor's files: doctor.c (the host, the devices, firmware,
 * memory, the report) and doctor_backends.c (the profile's backends). */
#pragma once

#include <stddef.h>

#include "base/macro.h"
#include "report/doctor.h"

/* One result in rep (cut to its fields' sizes; beyond DOCTOR_RESULTS_MAX
 * counted as dropped); fix is dropped for DOCTOR_OK. */
void dr_add(struct doctor_report *rep, const char *id, enum doctor_status s, const char *title, const char *fix,
            const char *fmt, ...) _printf_(6, 7);

/* Append to a fixed buffer, cutting silently: evidence is for humans. */
void dr_appendf(char *buf, size_t size, const char *fmt, ...) _printf_(3, 4);

/* The profile's backends (doctor_backends.c), in the report's order. */
void dr_check_backends(const struct doctor_env *env, const struct profile *p, struct doctor_report *rep);
