/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Block devices as disks, handed to QEMU's user for the run (blockdev.h). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "base/fs.h"
#include "base/macro.h"
#include "host/bind.h"
#include "host/blockdev.h"
#include "host/devnode.h"

int blockdev_inspect(const struct host_roots *roots, const char *path, const char *jpath,
                     struct blockdev_node *ret, struct vl_error *e)
{
        _cleanup_close_ int fd = -EBADF;
        char node[PROFILE_PATH_MAX];
        struct stat st;
        int r;

        /* Followed: a by-id link is what the profile should name. */
        if (stat(path, &st) < 0 || !S_ISBLK(st.st_mode))
                return 0;
        r = devnode_resolve(roots, path, jpath, "block device", node, sizeof(node), e);
        if (r < 0)
                return r;
        fd = devnode_open(node);
        if (fd < 0)
                return vl_error_set_at(e, -fd, NULL, 0, 0, jpath, "cannot open the block device '%s': %s", node,
                                       strerror(-fd));
        if (fstat(fd, &st) < 0)
                return vl_error_set_at(e, errno, NULL, 0, 0, jpath, "cannot stat '%s': %s", node, strerror(errno));
        if (!S_ISBLK(st.st_mode))
                return vl_error_set_at(e, EINVAL, NULL, 0, 0, jpath,
                                       "'%s' changed while it was looked at: not a block device any more", node);
        *ret = (struct blockdev_node) {
                .rdev = st.st_rdev, .uid = st.st_uid, .gid = st.st_gid, .mode = st.st_mode & 07777,
        };
        strcpy(ret->node, node);
        return 1;
}

int blockdev_check_unused(const struct host_roots *roots, const struct blockdev_node *n, const char *jpath,
                          struct vl_error *e)
{
        struct bind_holders h;
        char what[1024];
        int r;

        r = bind_block_holders(roots, n->rdev, &h, e);
        if (r < 0) {
                vl_error_prefix(e, "%s", jpath);
                return r;
        }
        if (r == 0)
                return 0;
        /* QEMU writing under the host's feet would corrupt both: there is
         * no allow_in_use for a disk. */
        return vl_error_set_at(e, EBUSY, NULL, 0, 0, jpath,
                               "the block device %s is in use on the host: %s; refused (unmount it, turn its swap "
                               "off or deactivate what is stacked on it first)",
                               n->node, bind_holders_join(&h, what, sizeof(what)));
}

int blockdev_plan(const struct host_roots *roots, const struct profile *p, struct blockdev_plan *ret,
                  struct vl_error *e)
{
        char jpath[64];
        int r;

        ret->n = 0;
        for (unsigned i = 0; i < p->n_disks; i++) {
                struct blockdev_node *n = &ret->nodes[ret->n];

                (void) snprintf(jpath, sizeof(jpath), "$.disks[%u].path", i);
                r = blockdev_inspect(roots, p->disks[i].path, jpath, n, e);
                if (r <= 0) {
                        if (r < 0)
                                return r;
                        continue;
                }
                n->disk = i;
                /* Two disks on one device: the profile's same-path rule
                 * cannot see through two links to one node. */
                for (unsigned k = 0; k < ret->n; k++)
                        if (ret->nodes[k].rdev == n->rdev && !(p->disks[i].readonly && p->disks[ret->nodes[k].disk].readonly))
                                return vl_error_set_at(e, EINVAL, NULL, 0, 0, jpath,
                                                       "'%s' is the block device of $.disks[%u] too (allowed twice "
                                                       "only if both are readonly)",
                                                       n->node, ret->nodes[k].disk);
                r = blockdev_check_unused(roots, n, jpath, e);
                if (r < 0)
                        return r;
                ret->n++;
        }
        return 0;
}

int blockdev_hand_over(const struct host_roots *roots, const char *vm, const struct blockdev_plan *plan, uid_t uid,
                       gid_t gid, struct vl_error *e)
{
        int r;

        for (unsigned i = 0; i < plan->n; i++) {
                r = devnode_hand_over(roots, vm, JOURNAL_BLOCKDEV, plan->nodes[i].node, plan->nodes[i].rdev, uid,
                                      gid, e);
                if (r < 0)
                        return r;
        }
        return 0;
}
