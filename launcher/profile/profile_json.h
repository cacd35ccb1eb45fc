/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * JSON -> struct profile. The loader (profile_json*.c) is the only profile
 * code that includes jansson.
 *
 * Strict: unknown keys, duplicate keys, wrong types, out-of-range values are
 * errors. Every error names the file (as given by the caller), the line and
 * column of the offending value (or key), the JSON path, what is wrong and what
 * is expected:  win10.json:14:9: $.hostdevs[0].host: "03:00" is not a PCI
 * address (expected DDDD:BB:SS.F or BB:SS.F)
 * Nothing here touches the host: it only reads the one file.
 */
#pragma once

#include <stddef.h>

#include "base/error.h"
#include "profile/profile.h"

/* Load and validate path into *ret (written only on success). Relative paths
 * in the profile are resolved against the folder of path. Returns 0, or
 * -EINVAL (bad content), -EFBIG (over PROFILE_FILE_MAX), or -errno of the
 * read; e is filled in every failure case. w may be NULL. */
int profile_load(const char *path, struct profile *ret, struct vl_error *e,
                 struct vl_warnings *w);

/* The same from memory (the fuzzer's entry point): source_name is used in
 * messages, base_dir to resolve relative paths (absolute). buf need not be
 * NUL-terminated. */
int profile_load_buffer(const char *buf, size_t len, const char *source_name,
                        const char *base_dir, struct profile *ret, struct vl_error *e,
                        struct vl_warnings *w);
