/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Internal to the strict profile loader. profile_json.c (the entry points
 * and the top level), profile_json_machine.c (memory, hugepages, firmware,
 * boot, CPU), profile_json_devices.c (hostdevs, NICs, sound,
 * display), profile_json_disks.c (disks and their I/O threads), profile_json_platform.c (clock, SMBIOS, watchdog, qemu_args),
 * profile_json_preset.c ("os") and profile_json_read.c (the readers below) are together the
 * loader, and the only profile code that includes jansson; nothing else
 * includes this header (the interface is profile_json.h).
 *
 * Here: the reading context, the errors that carry the file, line:column
 * and JSON path, and the readers of typed values and objects every section
 * is made of. The pj_check_*() readers expect the path of their value in
 * c->path; the pj_opt_*() and section readers enter their key themselves and
 * leave c->path as they found it on success. On failure c->path is where the
 * error is. The readers are extern symbols of vlcore: the pj_ prefix keeps
 * their generic names apart from everything else linked with it.
 */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "profile/json_pos.h"
#include "base/macro.h"
#include "profile/profile_json.h"

#define QUOTE_MAX 64 /* bytes of a value shown in a message */

struct ctx {
        const char *file; /* as the caller gave it, for messages */
        const char *text;
        size_t len;
        const char *base_dir; /* absolute */
        struct vl_error *e;
        char path[JSON_PATH_MAX]; /* of the value being read */
};

/* ---- errors ---------------------------------------------------------------- */

/* Fill c->e with the message, at the value whose path is c->path; returns -EINVAL. */
int pj_fail(struct ctx *c, const char *fmt, ...) _printf_(2, 3);

/* Append key (or index i) to c->path; returns the old length for pj_leave(). */
size_t pj_enter_key(struct ctx *c, const char *key);
size_t pj_enter_index(struct ctx *c, size_t i);

static inline void pj_leave(struct ctx *c, size_t n)
{
        c->path[n] = '\0';
}

/* "expected EXPECTED, got a string (\"4\")" */
int pj_type_error(struct ctx *c, const json_t *v, const char *expected);

static inline void pj_quote_value(const json_t *v, char *buf, size_t size)
{
        json_quote(buf, size, json_string_value(v), json_string_length(v), QUOTE_MAX);
}

/* ---- typed values (the path of v is in c->path) ----------------------------- */

int pj_check_uint(struct ctx *c, const json_t *v, uint64_t min, uint64_t max, uint64_t *ret);

/* A non-empty string without control characters that fits buf (with NUL). */
int pj_check_string(struct ctx *c, const json_t *v, char *buf, size_t size);

/* Enums are spelt by name_of(value): NULL ends the list, "" is not spellable
 * (the default that is chosen by leaving the key out). */
typedef const char *(*enum_name_fn)(unsigned value);

int pj_check_enum(struct ctx *c, const json_t *v, enum_name_fn name_of, int *ret);

/* Join base and rel, dropping "." components and repeated slashes. ".." is
 * kept: resolving it lexically is wrong across symlinks, and the loader must
 * not look at the file system. 0 or -ENAMETOOLONG. */
int pj_join_path(const char *base, const char *rel, char *buf, size_t size);

int pj_check_pci(struct ctx *c, const json_t *v, struct pci_addr *ret);

/* A host CPU list string ("2-3,6") into set. */
int pj_check_cpuset(struct ctx *c, const json_t *v, struct cpuset *set);

/* ---- objects ------------------------------------------------------------------- */

/* An error at the first key of obj (in document order) not in allowed
 * (NULL-terminated). */
int pj_check_keys(struct ctx *c, json_t *obj, const char *const *allowed);

int pj_require(struct ctx *c, json_t *obj, const char *key);

/* obj[key] as an object (or array): NULL when absent, else *r < 0 on a type
 * error. On success the key has been entered; pj_leave() it with *saved. */
json_t *pj_enter_typed(struct ctx *c, json_t *obj, const char *key, json_type type, size_t *saved,
                       int *r);

/* The pj_opt_* helpers read obj[key] if present: 1 = read, 0 = absent, <0 error.
 * pj_opt_path() resolves the path against c->base_dir (pj_join_path()). */

int pj_opt_bool(struct ctx *c, json_t *obj, const char *key, bool *ret);
int pj_opt_unsigned(struct ctx *c, json_t *obj, const char *key, unsigned min, unsigned max,
                    unsigned *ret);
int pj_opt_u32(struct ctx *c, json_t *obj, const char *key, uint32_t min, uint32_t max,
               uint32_t *ret);
int pj_opt_string(struct ctx *c, json_t *obj, const char *key, char *buf, size_t size);
int pj_opt_path(struct ctx *c, json_t *obj, const char *key, char buf[static PROFILE_PATH_MAX]);
int pj_opt_enum(struct ctx *c, json_t *obj, const char *key, enum_name_fn name_of, int *ret);

/* ---- sections ------------------------------------------------------------------------ */

/* profile_json_machine.c */
int profile_json_parse_memory(struct ctx *c, json_t *root, struct profile *p);
int profile_json_parse_hugepages(struct ctx *c, json_t *root, struct profile_hugepages *h);
int profile_json_parse_firmware(struct ctx *c, json_t *root, struct profile_firmware *fw);
int profile_json_parse_boot(struct ctx *c, json_t *root, struct profile_boot *b);
int profile_json_parse_cpu(struct ctx *c, json_t *root, struct profile_cpu *cpu);

/* profile_json_devices.c: the *_element() read element i of their array
 * into the struct profile ud. */
int profile_json_hostdev_element(struct ctx *c, json_t *v, unsigned i, void *ud);
int profile_json_nic_element(struct ctx *c, json_t *o, unsigned i, void *ud);
int profile_json_parse_sound(struct ctx *c, json_t *root, struct profile_sound *s);
int profile_json_parse_display(struct ctx *c, json_t *root, struct profile_display *d);

/* profile_json_disks.c: "iothreads", and element i of "disks". */
int profile_json_parse_iothreads(struct ctx *c, json_t *root, struct profile *p);
int profile_json_disk_element(struct ctx *c, json_t *o, unsigned i, void *ud);
/* profile_json_shmem.c: element i of "shmem" into the struct profile ud. */
int profile_json_shmem_element(struct ctx *c, json_t *o, unsigned i, void *ud);
/* profile_json_input.c: one element of "inputs". */
int profile_json_input_element(struct ctx *c, json_t *o, unsigned i, void *ud);

/* profile_json_tpm.c */
int profile_json_parse_tpm(struct ctx *c, json_t *root, struct profile_tpm *t);

/* profile_json_usb.c */
int profile_json_parse_usb(struct ctx *c, json_t *root, struct profile_usb *u);
/* profile_json_preset.c: "os" (read first: its preset goes under root
 * before anything else is read), and whether the preset set the value at
 * path (a JSON path as errors spell it). */
int profile_json_apply_preset(struct ctx *c, json_t *root, struct profile *p);
bool profile_preset_set(const struct profile *p, const char *path);

/* profile_json_handover.c */
int profile_json_parse_handover(struct ctx *c, json_t *root, struct profile_handover *h);

/* profile_json_platform.c */
int profile_json_parse_clock(struct ctx *c, json_t *root, struct profile_clock *clk);
int profile_json_parse_smbios(struct ctx *c, json_t *root, struct profile_smbios *s);
int profile_json_parse_watchdog(struct ctx *c, json_t *root, struct profile_watchdog *w);
int profile_json_parse_qemu_args(struct ctx *c, json_t *root, struct profile *p);
