/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * NOT part of the libqmp API: hooks for the tests and the fuzzer, which must
 * drive the parser without a peer (or check its memory bound).
 */
#pragma once

#include <stddef.h>

#include "qmp.h"

/* Parse bytes as if recv() had returned them. Returns the number of
 * messages parsed or a sticky transport error, as qmp_process(). */
int qmp_feed(struct qmp *q, const void *buf, size_t size);

/* Act as if recv() had returned 0 (peer closed). Returns -ECONNRESET (or an
 * earlier sticky error). */
int qmp_feed_eof(struct qmp *q);

/* Current capacity of the receive buffer, in bytes. */
size_t qmp_rbuf_capacity(const struct qmp *q);
