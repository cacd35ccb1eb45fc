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

/* Whether node (resolved) is below roots->dev (resolved too). */
static bool under_dev(const struct host_roots *roots, const char *node)
{
        char dev[PATH_MAX];
        size_t n;

        if (!realpath(roots->dev, dev))
                return false;
        n = strlen(dev);
        if (n == 1) /* "/" as DEV: any absolute path */
                return node[0] == '/';
        return strncmp(node, dev, n) == 0 && node[n] == '/';
}

/* The node, without following a link at its end (the resolve already
 * did) and without waiting for media: the fd the hand-over acts on. */
static int open_node(const char *node)
{
        int fd = open(node, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);

        return fd < 0 ? -errno : fd;
}

/* Root hands over the node the path leads to: every folder on the way and
 * every link followed must be root's (or the caller's own) and writable by
 * no other account — else whoever controls one picks which disk of the host
 * QEMU's user gets. /dev/disk/by-id/... passes: udev's links in root's
 * folders. One link at a time, each from a trusted folder. */
static int resolve_trusted(const char *path, const char *jpath, struct vl_error *e)
{
        char cur[PATH_MAX], target[PATH_MAX];
        uid_t me = geteuid();

        if (xsnprintf(cur, sizeof(cur), "%s", path) < 0)
                return vl_error_set_at(e, ENAMETOOLONG, NULL, 0, 0, jpath, "'%s': path too long", path);
        for (unsigned hop = 0; hop < 16; hop++) {
                _cleanup_close_ int dfd = -EBADF;
                struct vl_error te = {};
                char dir[PATH_MAX], *slash;
                const char *leaf;
                struct stat st;
                ssize_t n;

                if (cur[0] != '/')
                        return vl_error_set_at(e, EINVAL, NULL, 0, 0, jpath, "'%s' is not absolute", cur);
                strcpy(dir, cur);
                slash = strrchr(dir, '/');
                leaf = cur + (slash - dir) + 1;
                slash[slash == dir ? 1 : 0] = '\0';
                dfd = fs_open_dir_trusted(dir, me, getegid(), "block device", &te);
                if (dfd < 0)
                        return vl_error_set_at(e, -dfd, NULL, 0, 0, jpath,
                                               "%s: root hands over only a block device reached through folders "
                                               "and links no other account controls",
                                               te.msg);
                if (fstatat(dfd, leaf, &st, AT_SYMLINK_NOFOLLOW) < 0)
                        return vl_error_set_at(e, errno, NULL, 0, 0, jpath, "cannot stat '%s': %s", cur,
                                               strerror(errno));
                if (!S_ISLNK(st.st_mode))
                        return 0;
                if (st.st_uid != 0 && st.st_uid != me)
                        return vl_error_set_at(e, EPERM, NULL, 0, 0, jpath,
                                               "block device '%s': the link '%s' belongs to uid %u: root hands "
                                               "over only a block device reached through folders and links no "
                                               "other account controls",
                                               path, cur, (unsigned) st.st_uid);
                n = readlinkat(dfd, leaf, target, sizeof(target) - 1);
                if (n < 0)
                        return vl_error_set_at(e, errno, NULL, 0, 0, jpath, "cannot read the link '%s': %s", cur,
                                               strerror(errno));
                target[n] = '\0';
                if (target[0] == '/' ? xsnprintf(cur, sizeof(cur), "%s", target) < 0
                                     : xsnprintf(cur, sizeof(cur), "%s/%s", strcmp(dir, "/") ? dir : "", target) < 0)
                        return vl_error_set_at(e, ENAMETOOLONG, NULL, 0, 0, jpath, "'%s': path too long", path);
        }
        return vl_error_set_at(e, ELOOP, NULL, 0, 0, jpath, "'%s': too many links", path);
}

int blockdev_inspect(const struct host_roots *roots, const char *path, const char *jpath,
                     struct blockdev_node *ret, struct vl_error *e)
{
        _cleanup_close_ int fd = -EBADF;
        char node[PATH_MAX];
        struct stat st;
        int r;

        /* Followed: a by-id link is what the profile should name. */
        if (stat(path, &st) < 0 || !S_ISBLK(st.st_mode))
                return 0;
        r = resolve_trusted(path, jpath, e);
        if (r < 0)
                return r;
        if (!realpath(path, node))
                return vl_error_set_at(e, errno, NULL, 0, 0, jpath, "cannot resolve '%s': %s", path, strerror(errno));
        if (strlen(node) >= sizeof(ret->node))
                return vl_error_set_at(e, ENAMETOOLONG, NULL, 0, 0, jpath, "'%s' resolves to a path too long", path);
        /* Root chowns it: only a node in the host's /dev, never one someone
         * made with mknod elsewhere. */
        if (!under_dev(roots, node))
                return vl_error_set_at(e, EPERM, NULL, 0, 0, jpath,
                                       "'%s' is the block device node '%s', which is not under '%s': refused", path,
                                       node, roots->dev);
        fd = open_node(node);
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
                const struct blockdev_node *n = &plan->nodes[i];
                _cleanup_close_ int fd = open_node(n->node);
                struct journal_entry x = { .kind = JOURNAL_BLOCKDEV };
                struct stat st;

                if (fd < 0)
                        return vl_error_set(e, -fd, "cannot open the block device '%s': %s", n->node, strerror(-fd));
                if (fstat(fd, &st) < 0)
                        return vl_error_set(e, errno, "cannot stat '%s': %s", n->node, strerror(errno));
                if (!S_ISBLK(st.st_mode) || st.st_rdev != n->rdev)
                        return vl_error_set(e, ESTALE, "'%s' is not the block device %u:%u it was when the run was "
                                                       "planned",
                                            n->node, major(n->rdev), minor(n->rdev));
                if (st.st_uid == uid && (gid == (gid_t) -1 || st.st_gid == gid))
                        continue;
                x.blockdev.rdev = st.st_rdev;
                x.blockdev.uid = st.st_uid;
                x.blockdev.gid = st.st_gid;
                x.blockdev.mode = st.st_mode & 0777;
                strcpy(x.blockdev.node, n->node);
                r = journal_add_entry(roots, vm, &x, e);
                if (r < 0)
                        return r;
                if (fchown(fd, uid, gid) < 0) {
                        r = -errno;
                        /* Nothing changed: the entry would only confuse `recover`. */
                        (void) journal_remove_entry(roots, vm, &x, NULL);
                        return vl_error_set(e, -r, "cannot give the block device '%s' to %d:%d: %s", n->node,
                                            (int) uid, (int) gid, strerror(-r));
                }
        }
        return 0;
}

int blockdev_undo_entry(const struct host_roots *roots, const struct journal_entry *x, struct vl_error *e)
{
        const struct journal_blockdev *b = &x->blockdev;
        _cleanup_close_ int fd = -EBADF;
        struct stat st;

        if (x->kind != JOURNAL_BLOCKDEV)
                return vl_error_set(e, EINVAL, "not a blockdev entry");
        if (!under_dev(roots, b->node))
                return vl_error_set(e, EPERM, "'%s' is not under '%s': left as it is", b->node, roots->dev);
        fd = open_node(b->node);
        /* Gone (the disk was unplugged), a link now, or no media: nothing
         * of ours is left on it. */
        if (fd == -ENOENT || fd == -ENXIO || fd == -ENODEV || fd == -ELOOP || fd == -ENOMEDIUM)
                return 0;
        if (fd < 0)
                return vl_error_set(e, -fd, "cannot open '%s': %s", b->node, strerror(-fd));
        if (fstat(fd, &st) < 0)
                return vl_error_set(e, errno, "cannot stat '%s': %s", b->node, strerror(errno));
        if (!S_ISBLK(st.st_mode) || st.st_rdev != (dev_t) b->rdev)
                return 0;
        if ((st.st_uid != b->uid || st.st_gid != b->gid) && fchown(fd, (uid_t) b->uid, (gid_t) b->gid) < 0)
                return vl_error_set(e, errno, "cannot give '%s' back to %u:%u: %s", b->node, (unsigned) b->uid,
                                    (unsigned) b->gid, strerror(errno));
        /* chown() clears set-id bits; the mode is put back as it was. */
        if ((st.st_mode & 07777) != b->mode && fchmod(fd, (mode_t) b->mode) < 0)
                return vl_error_set(e, errno, "cannot restore the mode of '%s': %s", b->node, strerror(errno));
        return 0;
}
