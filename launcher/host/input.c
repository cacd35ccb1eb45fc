/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The evdev "inputs", handed to QEMU's user for the run (input.h). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/major.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "base/macro.h"
#include "host/devnode.h"
#include "host/input.h"
#include "host/journal.h"

/* Whether node is in DEV/input, where the kernel names its evdev nodes
 * (drivers/input/evdev.c: "input/eventN" under devtmpfs). */
static bool under_dev_input(const struct host_roots *roots, const char *node)
{
        char dev[PATH_MAX];
        size_t n;

        if (!realpath(roots->dev, dev))
                return false;
        n = strlen(dev);
        if (n == 1)
                n = 0;
        return strncmp(node, dev, n) == 0 && strncmp(node + n, "/input/", 7) == 0;
}

int input_inspect(const struct host_roots *roots, const char *path, const char *jpath, struct input_node *ret,
                  struct vl_error *e)
{
        _cleanup_close_ int fd = -EBADF;
        char node[PROFILE_PATH_MAX];
        struct stat st;
        int r;

        r = devnode_resolve(roots, path, jpath, "evdev input", node, sizeof(node), e);
        if (r < 0)
                return r;
        fd = devnode_open(node);
        if (fd < 0)
                return vl_error_set_at(e, -fd, NULL, 0, 0, jpath, "cannot open '%s': %s", node, strerror(-fd));
        if (fstat(fd, &st) < 0)
                return vl_error_set_at(e, errno, NULL, 0, 0, jpath, "cannot stat '%s': %s", node, strerror(errno));
        if (!S_ISCHR(st.st_mode) || major(st.st_rdev) != INPUT_MAJOR || !under_dev_input(roots, node))
                return vl_error_set_at(e, EINVAL, NULL, 0, 0, jpath,
                                       "'%s' is '%s', which is not an evdev node (a character device of major %d "
                                       "in %s/input)",
                                       path, node, INPUT_MAJOR, roots->dev);
        *ret = (struct input_node) {
                .rdev = st.st_rdev, .uid = st.st_uid, .gid = st.st_gid, .mode = st.st_mode & 07777,
        };
        strcpy(ret->node, node);
        return 0;
}

int input_plan(const struct host_roots *roots, const struct profile *p, struct input_plan *ret,
               struct vl_error *e)
{
        char jpath[64];
        int r;

        ret->n = 0;
        for (unsigned i = 0; i < p->n_inputs; i++) {
                struct input_node *n = &ret->nodes[ret->n];

                if (p->inputs[i].type != INPUT_EVDEV)
                        continue;
                (void) snprintf(jpath, sizeof(jpath), "$.inputs[%u].evdev", i);
                r = input_inspect(roots, p->inputs[i].evdev, jpath, n, e);
                if (r < 0)
                        return r;
                n->input = i;
                /* Two links to one node: the profile's rule cannot see it. */
                for (unsigned k = 0; k < ret->n; k++)
                        if (ret->nodes[k].rdev == n->rdev)
                                return vl_error_set_at(e, EINVAL, NULL, 0, 0, jpath,
                                                       "'%s' is the evdev node of $.inputs[%u] too (QEMU grabs a "
                                                       "device once)",
                                                       n->node, ret->nodes[k].input);
                ret->n++;
        }
        return 0;
}

int input_hand_over(const struct host_roots *roots, const char *vm, const struct input_plan *plan, uid_t uid,
                    gid_t gid, struct vl_error *e)
{
        int r;

        for (unsigned i = 0; i < plan->n; i++) {
                r = devnode_hand_over(roots, vm, JOURNAL_EVDEV, plan->nodes[i].node, plan->nodes[i].rdev, uid, gid,
                                      e);
                if (r < 0)
                        return r;
        }
        return 0;
}
