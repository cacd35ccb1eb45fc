/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The error object every fallible function below the CLI can fill.
 *
 * Fixed size, no allocation: it is filled on cleanup paths and in the forked
 * child, where malloc is not safe. A function returns -errno AND (when it was
 * given a non-NULL struct vl_error) describes the failure; the caller may add
 * context with vl_error_prefix() and pass it up. Only the CLI and the
 * supervisor print it, with vl_error_format().
 *
 * Printed shape (fields that are unset are left out):
 *   FILE:LINE:COL: $.json.path: message
 * always one line: a control character in any field (a newline in a value
 * the message quotes) is stored as '?'. Warnings too.
 */
#pragma once

#include <stddef.h>

#include "base/macro.h"

struct vl_error {
        char file[256];  /* the input file the error is about, or "" */
        char path[160];  /* JSON path, "$.hostdevs[0].host", or "" */
        int line;        /* 1-based; 0 = unknown */
        int column;      /* 1-based; 0 = unknown */
        int err;         /* positive errno of the failure */
        char msg[512];
};

/* Fill e (if not NULL) with a message; returns -err so callers can write
 * `return vl_error_set(e, EINVAL, "...")`. err must be positive. */
int vl_error_set(struct vl_error *e, int err, const char *fmt, ...) _printf_(3, 4);

/* As vl_error_set(), with a JSON path and a source position. */
int vl_error_set_at(struct vl_error *e, int err, const char *file, int line, int column,
                    const char *path, const char *fmt, ...) _printf_(7, 8);

/* Prepend context to an already filled message: "while X: <old message>". */
void vl_error_prefix(struct vl_error *e, const char *fmt, ...) _printf_(2, 3);

/* Append to an already filled message (cut when it does not fit): "; and
 * what else happened". */
void vl_error_append(struct vl_error *e, const char *fmt, ...) _printf_(2, 3);

/* "file:line:col: path: msg" into buf (always NUL-terminated). */
void vl_error_format(const struct vl_error *e, char *buf, size_t size);

/* "EBUSY (Device or resource busy)" for a positive or negative errno, in buf;
 * returns buf. For messages where the errno's name helps (sysfs writes). */
const char *vl_strerror_name(int err, char *buf, size_t size);

/* Warnings collected by validation and the argv builder, printed by the CLI
 * as "vfio-launch: warning: ...". Extra warnings beyond the capacity are
 * counted in `dropped` rather than lost silently. */
#define VL_WARNINGS_MAX 16
struct vl_warnings {
        unsigned n;
        unsigned dropped;
        char msg[VL_WARNINGS_MAX][256];
};

void vl_warn(struct vl_warnings *w, const char *fmt, ...) _printf_(2, 3);
