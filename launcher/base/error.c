/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* struct vl_error and struct vl_warnings: formatting only, no allocation, so
 * these are safe in the forked child and on cleanup paths. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "base/error.h"

/* A message is one line whatever it quotes (a journal's or a profile's
 * strings, sysfs contents, a JSON key): control characters become '?'. */
static void one_line(char *s)
{
        for (; *s; s++)
                if ((unsigned char) *s < 0x20 || *s == 0x7f)
                        *s = '?';
}

static void copy_str(char *dst, size_t size, const char *src)
{
        if (!src)
                src = "";
        size_t n = strnlen(src, size - 1);
        memcpy(dst, src, n);
        dst[n] = '\0';
        one_line(dst);
}

int vl_error_set(struct vl_error *e, int err, const char *fmt, ...)
{
        if (e) {
                va_list ap;
                memset(e, 0, sizeof(*e));
                e->err = err;
                va_start(ap, fmt);
                (void) vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
                va_end(ap);
                one_line(e->msg);
        }
        return -err;
}

int vl_error_set_at(struct vl_error *e, int err, const char *file, int line, int column,
                    const char *path, const char *fmt, ...)
{
        if (e) {
                va_list ap;
                memset(e, 0, sizeof(*e));
                e->err = err;
                copy_str(e->file, sizeof(e->file), file);
                copy_str(e->path, sizeof(e->path), path);
                e->line = line;
                e->column = column;
                va_start(ap, fmt);
                (void) vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
                va_end(ap);
                one_line(e->msg);
        }
        return -err;
}

void vl_error_prefix(struct vl_error *e, const char *fmt, ...)
{
        char old[sizeof(e->msg)];
        size_t n, room;
        va_list ap;
        int r;

        if (!e)
                return;
        memcpy(old, e->msg, sizeof(old));
        va_start(ap, fmt);
        r = vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
        va_end(ap);
        n = r < 0 ? 0 : (size_t) r;
        if (n >= sizeof(e->msg) - 3) {
                one_line(e->msg); /* the context alone fills the buffer */
                return;
        }
        /* The old message is cut if it does not fit: the context matters more. */
        memcpy(e->msg + n, ": ", 2);
        n += 2;
        room = sizeof(e->msg) - 1 - n;
        copy_str(e->msg + n, room + 1, old);
        one_line(e->msg);
}

void vl_error_append(struct vl_error *e, const char *fmt, ...)
{
        size_t n;
        va_list ap;

        if (!e)
                return;
        n = strnlen(e->msg, sizeof(e->msg));
        if (n >= sizeof(e->msg) - 1)
                return;
        va_start(ap, fmt);
        (void) vsnprintf(e->msg + n, sizeof(e->msg) - n, fmt, ap);
        va_end(ap);
        one_line(e->msg + n);
}

void vl_error_format(const struct vl_error *e, char *buf, size_t size)
{
        size_t off = 0;

        if (size == 0)
                return;
        buf[0] = '\0';
#define APPEND(...)                                                            \
        do {                                                                   \
                if (off < size) {                                              \
                        int _n = snprintf(buf + off, size - off, __VA_ARGS__); \
                        if (_n > 0)                                            \
                                off += (size_t) _n;                            \
                }                                                              \
        } while (0)
        if (e->file[0]) {
                APPEND("%s:", e->file);
                if (e->line > 0) {
                        APPEND("%d:", e->line);
                        if (e->column > 0)
                                APPEND("%d:", e->column);
                }
                APPEND(" ");
        }
        if (e->path[0])
                APPEND("%s: ", e->path);
        APPEND("%s", e->msg);
#undef APPEND
}

void vl_warn(struct vl_warnings *w, const char *fmt, ...)
{
        va_list ap;

        if (!w)
                return;
        if (w->n >= VL_WARNINGS_MAX) {
                w->dropped++;
                return;
        }
        va_start(ap, fmt);
        (void) vsnprintf(w->msg[w->n], sizeof(w->msg[0]), fmt, ap);
        va_end(ap);
        one_line(w->msg[w->n]);
        w->n++;
}

const char *vl_strerror_name(int err, char *buf, size_t size)
{
        const char *name;

        if (err < 0)
                err = -err;
        name = strerrorname_np(err);
        (void) snprintf(buf, size, "%s (%s)", name ? name : "E?", strerror(err));
        return buf;
}
