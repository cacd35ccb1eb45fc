/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Optional libraries opened on first use: see dl.h. */
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>

#include "base/dl.h"

/* Users may race for the same library (nothing does today); a failure
 * must not leave half a table behind. */
static pthread_mutex_t dl_lock = PTHREAD_MUTEX_INITIALIZER;

int dl_open(struct dl_lib *lib, struct vl_error *e)
{
        void *h;
        int r = 0;

        if (__atomic_load_n(&lib->handle, __ATOMIC_ACQUIRE))
                return 0;
        (void) pthread_mutex_lock(&dl_lock);
        if (lib->handle)
                goto out;
        /* A bare SONAME: ld.so's search, never a path of ours.
         * RTLD_LOCAL: the library's symbols do not become candidates for
         * anything resolved later. RTLD_NOW: an incomplete library fails
         * here, not in the middle of a host change. */
        h = dlopen(lib->soname, RTLD_NOW | RTLD_LOCAL);
        if (!h) {
                const char *why = dlerror();

                r = vl_error_set(e, ELIBACC, "cannot load %s (Debian package %s): %s", lib->soname,
                                 lib->package, why ? why : "dlopen failed");
                goto out;
        }
        for (size_t i = 0; i < lib->n_syms; i++) {
                void *p;

                (void) dlerror();
                p = dlsym(h, lib->syms[i].name);
                if (!p) {
                        r = vl_error_set(e, ELIBBAD, "%s has no symbol %s: the Debian package %s is older "
                                         "than this vfio-launch needs", lib->soname, lib->syms[i].name,
                                         lib->package);
                        for (size_t j = 0; j < i; j++)
                                *lib->syms[j].addr = NULL;
                        (void) dlclose(h);
                        goto out;
                }
                *lib->syms[i].addr = p;
        }
        __atomic_store_n(&lib->handle, h, __ATOMIC_RELEASE);
out:
        (void) pthread_mutex_unlock(&dl_lock);
        return r;
}
