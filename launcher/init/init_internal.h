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

/* 0000:03:00.0 [10de:11c0] "NVIDIA Corporation GK106 [GeForce GTX 660]", as
 * lspci -nn names it; without a name in pci.ids only the ids. */
const char *ib_describe(const struct init_pci *d, char *buf, size_t size);

/* --single-gpu: the "host_handover" of the boot VGA gpu, from what holds
 * the host's display (init_handover.c); NULL when nothing does (a line
 * says so) or on allocation failure (b->err). */
json_t *ib_handover(struct ib *b, const struct init_pci *gpu);
