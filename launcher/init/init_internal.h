/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Shared by init_build.c and init_cpus.c: the choice lines and the JSON
 * helpers. */
#pragma once

#include "init/init.h"

struct ib {
        const struct init_host *h;
        const struct init_options *o;
        struct init_result *res;
        struct vl_error *e;
        json_t *p;      /* the profile being built */
        int err;        /* first allocation failure */
};

/* One choice line for stderr ("gpu: ..."), cut at INIT_LINE_MAX. */
void ib_line(struct ib *b, const char *fmt, ...) _printf_(2, 3);

/* o[key] = v (stolen); an allocation failure is recorded in b->err. */
void ib_set(struct ib *b, json_t *o, const char *key, json_t *v);

/* The CPUs: topology, cpu.pin and cpu.emulator_pin (init_cpus.c). 0, or
 * -EINVAL with b->e filled (a --cpus the host cannot give). */
int ib_cpus(struct ib *b, json_t *cpu);
