/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The running VMs `top` and `metrics` sample: the ones named, or every VM
 * of the run folder whose supervisor answers `status`. */
#pragma once

#include <stddef.h>

#include "base/roots.h"
#include "report/top.h"

#define TOP_VMS_MAX 256u /* VMs sampled at once (as journal_list()): each costs ~140 KiB */

/* Sample each VM of names[0..n) (n = 0: every running VM) into *ret (the
 * caller frees it). A named VM that does not answer is reported once on
 * stderr when report_missing, and left out. Returns the number sampled
 * (>= 0; beyond TOP_VMS_MAX the rest are left out, with a message),
 * or -ENOMEM. */
int top_vms_sample(const struct host_roots *roots, char *const *names, size_t n, bool report_missing,
                   struct top_vm **ret);

/* For each VM of cur, the rates against the sample of the same name in
 * prev (n_prev of them). */
void top_vms_rates(struct top_vm *cur, size_t n, const struct top_vm *prev, size_t n_prev);

/* A signalfd for SIGINT and SIGTERM (both blocked): the commands' way to
 * stop cleanly from their poll loops. -errno on failure. */
int top_vms_signalfd(void);
