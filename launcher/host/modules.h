/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Kernel modules the host needs loaded (vfio-pci; a device's own driver
 * when it is given back): through modprobe, bounded. No printing. */
#pragma once

#include <stddef.h>

/* Run `MODPROBE MODULE` (argv[0] = modprobe, a fixed PATH, no other
 * environment) and wait at most timeout_ms. 0 on exit status 0; -ENOENT
 * when the program cannot be executed; -EIO on a non-zero exit (msg gets the
 * first line modprobe wrote on stderr, or "exit status N"); -ETIMEDOUT (the
 * child is killed); -errno for pipe/fork failures. msg may be NULL. */
int modules_load(const char *modprobe, const char *module, unsigned timeout_ms, char *msg, size_t msgsize);
