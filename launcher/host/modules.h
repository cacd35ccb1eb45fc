/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Kernel modules the host needs loaded (vfio-pci; a device's own driver
 * when it is given back): through modprobe, bounded; and the modules the
 * host's hand-over of its only GPU unloads and loads again: through
 * libkmod, opened on the first such call (base/dl.h; a missing libkmod.so.2
 * is -ELIBACC with e filled). modules_load() is an exec of modprobe and
 * needs no library: the common run path never opens libkmod. No printing. */
#pragma once

#include <stddef.h>

#include "base/error.h"

/* Run `MODPROBE MODULE` (argv[0] = modprobe, a fixed PATH, no other
 * environment) and wait at most timeout_ms. 0 on exit status 0; -ENOENT
 * when the program cannot be executed; -EIO on a non-zero exit (msg gets the
 * first line modprobe wrote on stderr, or "exit status N"); -ETIMEDOUT (the
 * child is killed); -errno for pipe/fork failures. msg may be NULL. */
int modules_load(const char *modprobe, const char *module, unsigned timeout_ms, char *msg, size_t msgsize);

/* A module of the host's hand-over (host/handover.h), through libkmod (the
 * host's /lib/modules for this kernel, as modprobe reads it).
 * modules_unload(): delete_module() without waiting or forcing: -EAGAIN
 * (e says the module is in use) while anything holds it; -ENOENT when it is
 * not loaded. modules_insert(): the module and what it needs, as `modprobe
 * NAME` would (its options and install commands from modprobe.d included);
 * 0 also when it is loaded already. Both 0 or -errno with e filled. */
int modules_unload(const char *module, struct vl_error *e);
int modules_insert(const char *module, struct vl_error *e);
