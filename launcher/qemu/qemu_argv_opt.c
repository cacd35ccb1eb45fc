/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The option strings ("key=value,key=value") and the argv/env vectors the
 * QEMU command-line builder (qemu_argv.c, qemu_layout.c, qemu_devices.c)
 * appends to. Declared in qemu_builder.h; the qa_ prefix keeps these
 * generic names out of the way of the rest of vlcore. PURE like the rest of
 * the builder: no I/O, no globals; only malloc. A failed allocation sets
 * builder.oom and makes every later append a no-op.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qemu/qemu_builder.h"

/* ---- option strings ------------------------------------------------------------------- */

static void opt_reserve(struct builder *b, struct opt *o, size_t more)
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

void qa_opt_raw(struct builder *b, struct opt *o, const char *s, size_t len)
{
        opt_reserve(b, o, len);
        if (b->oom)
                return;
        memcpy(o->buf + o->len, s, len);
        o->len += len;
        o->buf[o->len] = '\0';
}

void qa_opt_appendf(struct builder *b, struct opt *o, const char *fmt, ...)
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

/* Append s with every comma doubled, as QEMU's option parsers read it back. */
static void opt_esc(struct builder *b, struct opt *o, const char *s)
{
        while (*s) {
                size_t n = strcspn(s, ",");

                qa_opt_raw(b, o, s, n);
                s += n;
                if (*s == ',') {
                        qa_opt_raw(b, o, ",,", 2);
                        s++;
                }
        }
}

void qa_opt_begin(struct builder *b, struct opt *o, const char *head)
{
        *o = (struct opt) { .first = true };
        if (head) {
                qa_opt_raw(b, o, head, strlen(head));
                o->first = false;
        }
}

void qa_opt_begin_esc(struct builder *b, struct opt *o, const char *head)
{
        *o = (struct opt) { .first = true };
        opt_esc(b, o, head);
        o->first = false;
}

void qa_opt_kv(struct builder *b, struct opt *o, const char *key, const char *fmt, ...)
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
        qa_opt_appendf(b, o, "%s%s=%s", o->first ? "" : ",", key, val);
        o->first = false;
}

void qa_opt_kv_esc(struct builder *b, struct opt *o, const char *key, const char *value)
{
        qa_opt_appendf(b, o, "%s%s=", o->first ? "" : ",", key);
        opt_esc(b, o, value);
        o->first = false;
}

void qa_opt_port_addr(struct builder *b, struct opt *o, unsigned bus, unsigned fn)
{
        qa_opt_kv(b, o, "bus", "pci.%u", bus);
        if (fn)
                qa_opt_kv(b, o, "addr", "0x0.0x%x", fn);
        else
                qa_opt_kv(b, o, "addr", "0x0");
}

/* ---- argv and env --------------------------------------------------------------------- */

/* Append owned (freed on failure) and keep the vector NULL-terminated. */
static void vec_push(struct builder *b, char ***vec, size_t *n, size_t *cap, char *owned)
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

void qa_arg(struct builder *b, const char *s)
{
        vec_push(b, &b->cmd->argv, &b->cmd->n_argv, &b->cap_argv, strdup(s));
}

void qa_arg_opt(struct builder *b, const char *name, struct opt *o)
{
        qa_arg(b, name);
        if (!o->buf)
                qa_opt_raw(b, o, "", 0);
        vec_push(b, &b->cmd->argv, &b->cmd->n_argv, &b->cap_argv, o->buf);
        o->buf = NULL;
}

void qa_env(struct builder *b, const char *key, const char *value)
{
        struct opt o;

        qa_opt_begin(b, &o, NULL);
        qa_opt_appendf(b, &o, "%s=%s", key, value);
        if (!o.buf)
                b->oom = true;
        vec_push(b, &b->cmd->env, &b->cmd->n_env, &b->cap_env, o.buf);
}
