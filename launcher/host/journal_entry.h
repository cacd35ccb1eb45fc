/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The journal's entries, for journal.c (journal_entry.c): every kind's keys
 * and the checks of its values live there, the file's layout and its I/O
 * in journal.c. journal.h has the types and what others call
 * (journal_kind_to_string(), journal_entry_describe()).
 */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "base/error.h"
#include "host/journal.h"

/* Whether x is an entry this program could have written; why says what is
 * wrong otherwise (-EINVAL). */
int journal_entry_check(const struct journal_entry *x, const char *vm, char *why, size_t size);

/* x as the file's JSON object: {"kind": ..., one key per field}; NULL on
 * allocation failure. */
json_t *journal_entry_to_json(const struct journal_entry *x);

/* entries[i] of the file at path, for VM vm, into x: strictly (every key of
 * its kind, no other) and checked (journal_entry_check()). -EBADMSG with e
 * saying what is wrong. */
int journal_entry_from_json(json_t *v, size_t i, const char *path, const char *vm, struct journal_entry *x,
                            struct vl_error *e);

/* The same change: the same kind and every field equal. */
bool journal_entry_equal(const struct journal_entry *a, const struct journal_entry *b);
