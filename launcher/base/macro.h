/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Small helpers shared by every module: cleanup attributes and ownership
 * transfer, in the style of systemd's macro.h. Header-only; safe to use in
 * the forked child (nothing here allocates).
 */
#pragma once

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#define _cleanup_(f) __attribute__((cleanup(f)))
#define _unused_ __attribute__((unused))
#define _printf_(a, b) __attribute__((format(printf, a, b)))
#define _warn_unused_result_ __attribute__((warn_unused_result))
#define _fallthrough_ __attribute__((fallthrough))

#define ELEMENTSOF(x) (sizeof(x) / sizeof((x)[0]))

static inline void freep(void *p)
{
        free(*(void **) p);
}

static inline void closep(int *fd)
{
        if (*fd >= 0) {
                int saved = errno;
                (void) close(*fd);
                errno = saved;
        }
}

static inline void fclosep(FILE **f)
{
        if (*f)
                (void) fclose(*f);
}

static inline void closedirp(DIR **d)
{
        if (*d)
                (void) closedir(*d);
}

/* Close fd if it is one, keeping errno; returns -EBADF for `fd = safe_close(fd)`. */
static inline int safe_close(int fd)
{
        closep(&fd);
        return -EBADF;
}

#define _cleanup_free_ _cleanup_(freep)
#define _cleanup_close_ _cleanup_(closep)
#define _cleanup_fclose_ _cleanup_(fclosep)
#define _cleanup_closedir_ _cleanup_(closedirp)

/* Hand a pointer or fd out of a _cleanup_ scope: returns it and disarms the
 * variable so the cleanup does nothing. */
#define TAKE_PTR(p)                                                            \
        ({                                                                     \
                __typeof__(p) _taken = (p);                                    \
                (p) = NULL;                                                    \
                _taken;                                                        \
        })
#define TAKE_FD(fd)                                                            \
        ({                                                                     \
                int _taken = (fd);                                             \
                (fd) = -EBADF;                                                 \
                _taken;                                                        \
        })

/* Truncation-checked snprintf: 0 on success, -ENAMETOOLONG when cut. */
#define xsnprintf(buf, size, ...)                                              \
        ({                                                                     \
                int _n = snprintf((buf), (size), __VA_ARGS__);                 \
                (_n < 0 || (size_t) _n >= (size)) ? -ENAMETOOLONG : 0;         \
        })

#define STRINGIFY_(x) #x
#define STRINGIFY(x) STRINGIFY_(x)
