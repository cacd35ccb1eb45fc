/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Libraries that only a few commands need, opened with dlopen() when that
 * code first runs: libxml2 (`import`), libsystemd (sd-bus: the host_handover's
 * units), libkmod (the host_handover's modules).
 *
 * Why: every exec of vfio-launch (each `run`, `stop`, `status`) paid the
 * dynamic loader for them and what they pull in (ICU and libstdc++ for
 * libxml2; libgcrypt, liblz4, libzstd, liblzma for libsystemd; libcrypto for
 * libkmod). An empty program linked with the same libraries took ~7.6 ms
 * per exec, +3 ms with libsystemd, +4 ms with libkmod, +4 ms with libxml2 on
 * the development machine, 10-20 times that in the emulated test host of
 * bench/README.md "Part passthrough", where it counted against the start
 * target. Their headers are still used for the types (the -dev packages stay
 * Build-Depends); debian/control names the libraries in Depends, since
 * dpkg-shlibdeps no longer sees them.
 *
 * A library is found by its SONAME only, never by a path from the
 * environment or a profile: ld.so's own search (its cache, the system's
 * library folders, LD_LIBRARY_PATH only where ld.so itself honours it).
 *
 * Each user declares its pointers with DL_FN(), lists them with DL_SYM() in
 * a struct dl_lib, and calls dl_open() before the first call. Resolved once
 * per process; the handle is never closed. Not for the forked child (dlopen
 * allocates and takes ld.so's lock). No printing.
 */
#pragma once

#include <stddef.h>

#include "base/error.h"

/* One symbol: its name, and the variable its address goes in. For a
 * function, a pointer of the function's type; for a variable of the library
 * (libxml2's xmlFree is one: a function pointer the library exports as
 * data), a pointer to the variable's type. */
struct dl_sym {
        const char *name;
        void **addr;
};

/* `static TYPE-OF-f *sym_f;`: the pointer a user calls f through, typed from
 * the library's own declaration. */
#define DL_FN(f) static __typeof__(f) *sym_##f
/* The table entry of DL_FN(f) (or of a data pointer named sym_f). # and ##
 * do not expand their argument: a name the header turns into a macro is
 * still looked up by its own name. */
#define DL_SYM(f) { #f, (void **) &sym_##f }

struct dl_lib {
        const char *soname;    /* "libxml2.so.2" */
        const char *package;   /* the Debian package that ships it: "libxml2" */
        const struct dl_sym *syms;
        size_t n_syms;
        void *handle;          /* set once every symbol is resolved; never closed */
};

/* Open lib and resolve every symbol of its table, once per process: 0 when
 * done (now or before). -ELIBACC when the library cannot be loaded,
 * -ELIBBAD when a symbol is missing (an older library than the build's);
 * e says in one line what, and which Debian package provides it. A failure
 * resolves nothing (the next call tries again). Thread-safe. */
int dl_open(struct dl_lib *lib, struct vl_error *e);
