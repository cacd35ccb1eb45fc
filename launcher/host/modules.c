/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Kernel modules: modprobe (an exec, no library) and libkmod (opened on
 * first use, base/dl.h): see modules.h. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <libkmod.h>
#include <sys/wait.h>

#include "base/dl.h"
#include "base/exec.h"
#include "base/macro.h"
#include "host/modules.h"

/* libkmod only for the host_handover's modules: every other run of
 * vfio-launch would pay the loader for it and libcrypto (base/dl.h). */
DL_FN(kmod_new);
DL_FN(kmod_unref);
DL_FN(kmod_module_new_from_name);
DL_FN(kmod_module_new_from_lookup);
DL_FN(kmod_module_unref);
DL_FN(kmod_module_unref_list);
DL_FN(kmod_module_remove_module);
DL_FN(kmod_module_get_refcnt);
DL_FN(kmod_module_get_module);
DL_FN(kmod_module_probe_insert_module);
DL_FN(kmod_list_next);

static const struct dl_sym kmod_syms[] = {
        DL_SYM(kmod_new),
        DL_SYM(kmod_unref),
        DL_SYM(kmod_module_new_from_name),
        DL_SYM(kmod_module_new_from_lookup),
        DL_SYM(kmod_module_unref),
        DL_SYM(kmod_module_unref_list),
        DL_SYM(kmod_module_remove_module),
        DL_SYM(kmod_module_get_refcnt),
        DL_SYM(kmod_module_get_module),
        DL_SYM(kmod_module_probe_insert_module),
        DL_SYM(kmod_list_next),
};

static struct dl_lib libkmod = {
        .soname = "libkmod.so.2",
        .package = "libkmod2",
        .syms = kmod_syms,
        .n_syms = ELEMENTSOF(kmod_syms),
};

int modules_load(const char *modprobe, const char *module, unsigned timeout_ms, char *msg, size_t msgsize)
{
        static const char *const envp[] = { "PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL=C", NULL };
        const char *argv[] = { "modprobe", module, NULL };
        char out[512];
        int status = 0, r;

        if (msg && msgsize > 0)
                msg[0] = '\0';
        r = exec_bounded(modprobe, (char *const *) argv, (char *const *) envp, EXEC_CAPTURE_STDERR, timeout_ms,
                         out, sizeof(out), &status);
        if (r == -ETIMEDOUT && msg)
                (void) snprintf(msg, msgsize, "no answer after %u ms", timeout_ms);
        if (r < 0)
                return r;
        if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
                return 0;
        if (msg && msgsize > 0) {
                size_t n = strcspn(out, "\n");
                if (n > 0)
                        (void) snprintf(msg, msgsize, "%.*s", (int) n, out);
                else if (WIFEXITED(status))
                        (void) snprintf(msg, msgsize, "exit status %d", WEXITSTATUS(status));
                else
                        (void) snprintf(msg, msgsize, "killed by signal %d", WTERMSIG(status));
        }
        if (WIFEXITED(status) && WEXITSTATUS(status) == 127)
                return -ENOENT;
        return -EIO;
}

/* The cleanups below see a non-NULL object only after libkmod was opened. */
static void kmod_unrefp(struct kmod_ctx **c)
{
        if (*c)
                sym_kmod_unref(*c);
}

static void kmod_module_unrefp(struct kmod_module **m)
{
        if (*m)
                sym_kmod_module_unref(*m);
}

static void kmod_list_unrefp(struct kmod_list **l)
{
        if (*l)
                sym_kmod_module_unref_list(*l);
}

static int kmod_open(struct kmod_ctx **ret, struct vl_error *e)
{
        struct kmod_ctx *c;
        int r;

        r = dl_open(&libkmod, e);
        if (r < 0)
                return r;
        /* NULL, NULL: /lib/modules/`uname -r` and the system's modprobe.d. */
        c = sym_kmod_new(NULL, NULL);
        if (!c)
                return vl_error_set(e, ENOMEM, "cannot set up libkmod");
        *ret = c;
        return 0;
}

int modules_unload(const char *module, struct vl_error *e)
{
        _cleanup_(kmod_unrefp) struct kmod_ctx *ctx = NULL;
        _cleanup_(kmod_module_unrefp) struct kmod_module *m = NULL;
        int r;

        r = kmod_open(&ctx, e);
        if (r < 0)
                return r;
        r = sym_kmod_module_new_from_name(ctx, module, &m);
        if (r < 0)
                return vl_error_set(e, -r, "module \"%s\": %s", module, strerror(-r));
        /* libkmod adds O_NONBLOCK: a module in use is refused at once
         * instead of the call waiting for its last user. */
        r = sym_kmod_module_remove_module(m, 0);
        if (r == -EAGAIN || r == -EWOULDBLOCK || r == -EBUSY)
                return vl_error_set(e, EAGAIN, "module \"%s\" is in use (%d users): stop what uses it first",
                                    module, sym_kmod_module_get_refcnt(m));
        if (r < 0)
                return vl_error_set(e, -r, "cannot unload module \"%s\": %s", module, strerror(-r));
        return 0;
}

int modules_insert(const char *module, struct vl_error *e)
{
        _cleanup_(kmod_unrefp) struct kmod_ctx *ctx = NULL;
        _cleanup_(kmod_list_unrefp) struct kmod_list *list = NULL;
        struct kmod_list *it;
        int r;

        r = kmod_open(&ctx, e);
        if (r < 0)
                return r;
        r = sym_kmod_module_new_from_lookup(ctx, module, &list);
        if (r < 0)
                return vl_error_set(e, -r, "module \"%s\": lookup: %s", module, strerror(-r));
        if (!list)
                return vl_error_set(e, ENOENT, "module \"%s\" is not in /lib/modules of this kernel", module);
        /* kmod_list_foreach() without its macro: it calls kmod_list_next(). */
        for (it = list; it; it = sym_kmod_list_next(list, it)) {
                _cleanup_(kmod_module_unrefp) struct kmod_module *m = sym_kmod_module_get_module(it);

                r = sym_kmod_module_probe_insert_module(m, KMOD_PROBE_IGNORE_LOADED, NULL, NULL, NULL, NULL);
                if (r < 0)
                        return vl_error_set(e, -r, "cannot load module \"%s\": %s", module, strerror(-r));
        }
        return 0;
}
