/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* AF_UNIX sockets at a path: the VM's QMP and control sockets. */
#pragma once

#include "base/error.h"

/* A socket of type (SOCK_STREAM, SOCK_SEQPACKET; SOCK_NONBLOCK may be or'ed
 * in) listening at path, mode 0600, with backlog. A file already at path is
 * replaced: the caller holds the VM's lock, so it can only be a stale socket
 * of an earlier run. Returns the fd (O_CLOEXEC) or -errno with e saying
 * which path. */
int unix_listen(const char *path, int type, int backlog, struct vl_error *e);

/* A socket of type connected to path. Returns the fd (O_CLOEXEC) or -errno
 * (-EINVAL: path too long). */
int unix_connect(const char *path, int type);
