/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Host CPU sets as the kernel writes them ("0-3,8,10-11"): parse, format,
 * test. Pure; a fixed size so a struct profile stays one allocation. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CPUSET_MAX 1024 /* CPUs; more than any host vfio-launch targets */

struct cpuset {
        uint64_t bits[CPUSET_MAX / 64];
};

/* "0-3,8" (the kernel's cpulist format, also with spaces after commas and a
 * trailing newline as sysfs prints it). Returns 0, -EINVAL (malformed, empty,
 * a range backwards), -ERANGE (a CPU >= CPUSET_MAX). */
int cpuset_parse(const char *s, struct cpuset *ret);

/* Back to the cpulist format, shortest ranges; "" for an empty set.
 * Returns 0 or -ENAMETOOLONG. */
int cpuset_format(const struct cpuset *c, char *buf, size_t size);

bool cpuset_has(const struct cpuset *c, unsigned cpu);
void cpuset_add(struct cpuset *c, unsigned cpu);
unsigned cpuset_count(const struct cpuset *c);
/* The first CPU in a that is not in b, or -1. */
int cpuset_first_missing(const struct cpuset *a, const struct cpuset *b);
