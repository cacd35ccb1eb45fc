/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * JSON paths and source positions, for error messages about a JSON text.
 *
 * jansson reports positions for syntax errors only: a parsed value carries no
 * line or column. Rather than building an index of every value (which input
 * could make large), json_pos_find() rescans the text on demand for one path:
 * errors and warnings are few, the text is bounded by the caller, and a scan
 * allocates nothing.
 *
 * Paths look like `$.hostdevs[0].host`. A key that is not a plain identifier
 * (or is longer than 40 bytes) is written `$["a.b"]` (escaped, cut to 40 bytes
 * with "..."). The loader and the scanner both spell paths with
 * json_path_append_key()/json_path_append_index(), so they compare as plain
 * strings. Lines and columns are 1-based; a column counts characters (UTF-8
 * sequences), exactly as jansson counts them in its syntax errors.
 *
 * Pure: no I/O, no allocation, no jansson. The scanner never reads outside
 * [text, text + len) and stops quietly on malformed input.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#define JSON_PATH_MAX 512

struct json_pos {
        int line;
        int column;
};

/* Append ".key" or "[\"key\"]" to the NUL-terminated path. key need not be
 * NUL-terminated; only its first 64 bytes are read, len is its full length.
 * Returns 0, or -ENAMETOOLONG with path unchanged. */
int json_path_append_key(char *path, size_t size, const char *key, size_t len);

/* Append "[index]". Returns 0, or -ENAMETOOLONG with path unchanged. */
int json_path_append_index(char *path, size_t size, size_t index);

/* Strip the last component: "$.a[2].b" -> "$.a[2]". -ENOENT at "$". */
int json_path_parent(char *path);

/* Position of the value at path or, with key, of the key that names it (the
 * root has no key). 0 or -ENOENT. */
int json_pos_find(const char *text, size_t len, const char *path, bool key,
                  struct json_pos *ret);

/* As json_pos_find(), falling back to the nearest ancestor that exists (the
 * value at "$.cpu" when "$.cpu.vcpus" was defaulted). Always fills ret; 0 if
 * found at all, -ENOENT if not even "$" was (an empty text). */
int json_pos_find_nearest(const char *text, size_t len, const char *path, bool key,
                          struct json_pos *ret);

/* The path of what the parser was reading just before byte offset `offset`
 * (jansson's error.position, i.e. the bytes it consumed): the member or element
 * whose token started last before that offset. "$" when nothing matched. */
void json_pos_path_at(const char *text, size_t len, size_t offset, char *path, size_t size);

/* `"s"` for messages: JSON-escaped, cut after `max` bytes (at a character
 * boundary) with "..." appended. Always NUL-terminated. */
void json_quote(char *buf, size_t size, const char *s, size_t len, size_t max);
