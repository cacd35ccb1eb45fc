/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <libkmod.h>
#include <sys/wait.h>

#include "base/exec.h"
#include "base/macro.h"
#include "host/modules.h"

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

static void kmod_unrefp(struct kmod_ctx **c)
{
        if (*c)
                kmod_unref(*c);
}

static void kmod_module_unrefp(struct kmod_module **m)
{
        if (*m)
                kmod_module_unref(*m);
}

static void kmod_list_unrefp(struct kmod_list **l)
{
        if (*l)
                kmod_module_unref_list(*l);
}

static int kmod_open(struct kmod_ctx **ret, struct vl_error *e)
{
        /* NULL, NULL: /lib/modules/`uname -r` and the system's modprobe.d. */
        struct kmod_ctx *c = kmod_new(NULL, NULL);

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
        r = kmod_module_new_from_name(ctx, module, &m);
        if (r < 0)
                return vl_error_set(e, -r, "module \"%s\": %s", module, strerror(-r));
        /* libkmod adds O_NONBLOCK: a module in use is refused at once
         * instead of the call waiting for its last user. */
        r = kmod_module_remove_module(m, 0);
        if (r == -EAGAIN || r == -EWOULDBLOCK || r == -EBUSY)
                return vl_error_set(e, EAGAIN, "module \"%s\" is in use (%d users): stop what uses it first",
                                    module, kmod_module_get_refcnt(m));
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
        r = kmod_module_new_from_lookup(ctx, module, &list);
        if (r < 0)
                return vl_error_set(e, -r, "module \"%s\": lookup: %s", module, strerror(-r));
        if (!list)
                return vl_error_set(e, ENOENT, "module \"%s\" is not in /lib/modules of this kernel", module);
        kmod_list_foreach(it, list) {
                _cleanup_(kmod_module_unrefp) struct kmod_module *m = kmod_module_get_module(it);

                r = kmod_module_probe_insert_module(m, KMOD_PROBE_IGNORE_LOADED, NULL, NULL, NULL, NULL);
                if (r < 0)
                        return vl_error_set(e, -r, "cannot load module \"%s\": %s", module, strerror(-r));
        }
        return 0;
}
