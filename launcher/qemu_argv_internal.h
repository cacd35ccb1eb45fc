/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Internal to the QEMU command-line builder: shared by qemu_argv.c (the
 * builder's entry point, machine, CPU, memory, firmware, monitors),
 * qemu_layout.c (the PCIe layout: root ports and hostdevs) and
 * qemu_devices.c (disks, NICs, video, sound, SPICE), and by nothing else;
 * the public interface is qemu_argv.h. PURE like the rest of the builder:
 * no I/O, no globals, no getenv; only malloc.
 *
 * The builder's growth never fails on the spot: an allocation failure sets
 * builder.oom, every later append does nothing, and qemu_argv_build() turns
 * it into -ENOMEM once at the end.
 */
#pragma once

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "macro.h"
#include "qemu_argv.h"

/* ---- growable strings and the argv/env vectors ---------------------------------------- */

struct opt {
        char *buf;
        size_t len, cap;
        bool first; /* no leading comma before the next key */
};

struct builder {
        struct qemu_cmd *cmd;
        size_t cap_argv, cap_env;
        bool oom;
        /* device ids handed out, to refuse duplicates QEMU would reject late */
        char ids[PROFILE_HOSTDEVS_MAX + PROFILE_DISKS_MAX + PROFILE_NICS_MAX + 8][PROFILE_STR_MAX];
        size_t n_ids;
};

static inline void opt_reserve(struct builder *b, struct opt *o, size_t more)
{
        size_t want = o->len + more + 1;
        char *n;

        if (b->oom || want <= o->cap)
                return;
        if (want < 2 * o->cap)
                want = 2 * o->cap;
        if (want < 64)
                want = 64;
        n = realloc(o->buf, want);
        if (!n) {
                b->oom = true;
                return;
        }
        o->buf = n;
        o->cap = want;
}

static inline void opt_raw(struct builder *b, struct opt *o, const char *s, size_t len)
{
        opt_reserve(b, o, len);
        if (b->oom)
                return;
        memcpy(o->buf + o->len, s, len);
        o->len += len;
        o->buf[o->len] = '\0';
}

static inline void opt_appendf(struct builder *b, struct opt *o, const char *fmt, ...)
        _printf_(3, 4);
static inline void opt_appendf(struct builder *b, struct opt *o, const char *fmt, ...)
{
        va_list ap;
        int n;

        va_start(ap, fmt);
        n = vsnprintf(NULL, 0, fmt, ap);
        va_end(ap);
        if (n < 0) {
                b->oom = true;
                return;
        }
        opt_reserve(b, o, (size_t) n);
        if (b->oom)
                return;
        va_start(ap, fmt);
        (void) vsnprintf(o->buf + o->len, (size_t) n + 1, fmt, ap);
        va_end(ap);
        o->len += (size_t) n;
}

static inline void opt_esc(struct builder *b, struct opt *o, const char *s)
{
        while (*s) {
                size_t n = strcspn(s, ",");

                opt_raw(b, o, s, n);
                s += n;
                if (*s == ',') {
                        opt_raw(b, o, ",,", 2);
                        s++;
                }
        }
}

/* Start an option string with its implied first value ("pcie-root-port"). */
static inline void opt_begin(struct builder *b, struct opt *o, const char *head)
{
        *o = (struct opt) { .first = true };
        if (head) {
                opt_raw(b, o, head, strlen(head));
                o->first = false;
        }
}

/* Start with a user-controlled implied value (a machine type, a CPU model). */
static inline void opt_begin_esc(struct builder *b, struct opt *o, const char *head)
{
        *o = (struct opt) { .first = true };
        opt_esc(b, o, head);
        o->first = false;
}

static inline void opt_kv(struct builder *b, struct opt *o, const char *key, const char *fmt, ...)
        _printf_(4, 5);
static inline void opt_kv(struct builder *b, struct opt *o, const char *key, const char *fmt, ...)
{
        char val[256];
        va_list ap;
        int n;

        va_start(ap, fmt);
        n = vsnprintf(val, sizeof(val), fmt, ap);
        va_end(ap);
        if (n < 0 || (size_t) n >= sizeof(val)) {
                b->oom = true; /* only builder-made values come here: cannot happen */
                return;
        }
        opt_appendf(b, o, "%s%s=%s", o->first ? "" : ",", key, val);
        o->first = false;
}

static inline void opt_kv_esc(struct builder *b, struct opt *o, const char *key, const char *value)
{
        opt_appendf(b, o, "%s%s=", o->first ? "" : ",", key);
        opt_esc(b, o, value);
        o->first = false;
}

static inline void vec_push(struct builder *b, char ***vec, size_t *n, size_t *cap, char *owned)
{
        if (!owned) {
                b->oom = true;
                return;
        }
        if (b->oom) {
                free(owned);
                return;
        }
        if (*n + 2 > *cap) {
                size_t nc = *cap ? *cap * 2 : 64;
                char **nv = realloc(*vec, nc * sizeof(char *));
                if (!nv) {
                        free(owned);
                        b->oom = true;
                        return;
                }
                *vec = nv;
                *cap = nc;
        }
        (*vec)[(*n)++] = owned;
        (*vec)[*n] = NULL;
}

static inline void arg(struct builder *b, const char *s)
{
        vec_push(b, &b->cmd->argv, &b->cmd->n_argv, &b->cap_argv, strdup(s));
}

/* Push "-name" and the option string; the string's buffer moves to argv. */
static inline void arg_opt(struct builder *b, const char *name, struct opt *o)
{
        arg(b, name);
        if (!o->buf)
                opt_raw(b, o, "", 0);
        vec_push(b, &b->cmd->argv, &b->cmd->n_argv, &b->cap_argv, o->buf);
        o->buf = NULL;
}

static inline void env(struct builder *b, const char *key, const char *value)
{
        struct opt o;

        opt_begin(b, &o, NULL);
        opt_appendf(b, &o, "%s=%s", key, value);
        if (!o.buf)
                b->oom = true;
        vec_push(b, &b->cmd->env, &b->cmd->n_env, &b->cap_env, o.buf);
}

/* ---- device ids (qemu_argv.c) --------------------------------------------------------- */

/* Register a device id: -EINVAL if malformed or already used (by the
 * profile or by one of the builder's own ids). */
int qemu_argv_claim_id(struct builder *b, const char *id, const char *path, struct vl_error *e);

/* The profile's id, or PREFIXn as the loader would default it. */
const char *qemu_argv_device_id(const char *id, const char *prefix, unsigned i,
                                char buf[static 24]);

/* ---- PCIe layout (qemu_layout.c) ------------------------------------------------------ */

enum port_user { PORT_FREE = 0, PORT_HOSTDEV, PORT_DEVICE };

struct layout {
        enum port_user user[PROFILE_GUEST_BUS_MAX + 1];
        bool fn_used[PROFILE_GUEST_BUS_MAX + 1][8];
        unsigned n_ports;                              /* highest pci.N in use */
        unsigned hd_bus[PROFILE_HOSTDEVS_MAX], hd_fn[PROFILE_HOSTDEVS_MAX];
        bool hd_multifunction[PROFILE_HOSTDEVS_MAX];
        unsigned nic_bus[PROFILE_NICS_MAX];
        unsigned disk_bus[PROFILE_DISKS_MAX];          /* 0 = SATA (no port) */
        unsigned balloon_bus;
};

/* Where every PCIe device goes (see qemu_argv.h for the rules): 0, or
 * -EINVAL / -ENOSPC with e filled. */
int qemu_argv_plan_layout(const struct profile *p, struct layout *l, struct vl_error *e);

/* "addr=0x0" / "addr=0x0.0x1": the endpoint behind a root port. */
static inline void opt_port_addr(struct builder *b, struct opt *o, unsigned bus, unsigned fn)
{
        opt_kv(b, o, "bus", "pci.%u", bus);
        if (fn)
                opt_kv(b, o, "addr", "0x0.0x%x", fn);
        else
                opt_kv(b, o, "addr", "0x0");
}

/* A pcie-root-port for each of pci.1 .. pci.n_ports. */
void qemu_argv_emit_root_ports(struct builder *b, const struct layout *l);

/* A vfio-pci device per hostdev, behind its port; claims the ids. */
int qemu_argv_emit_hostdevs(struct builder *b, const struct profile *p, const struct layout *l,
                            struct vl_error *e);

/* ---- devices (qemu_devices.c) --------------------------------------------------------- */

int qemu_argv_emit_disks(struct builder *b, const struct profile *p, const struct layout *l,
                         struct vl_error *e);
int qemu_argv_emit_nics(struct builder *b, const struct profile *p, const struct qemu_runtime *rt,
                        const struct layout *l, struct vl_error *e);
int qemu_argv_emit_video(struct builder *b, const struct profile *p, bool x_vga,
                         struct vl_error *e);
int qemu_argv_emit_sound(struct builder *b, const struct profile *p, const struct hostinfo *h,
                         const struct qemu_runtime *rt, struct vl_error *e, struct vl_warnings *w);
int qemu_argv_emit_spice(struct builder *b, const struct profile *p, const struct qemu_runtime *rt,
                         struct vl_error *e);
