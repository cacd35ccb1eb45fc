/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Device nodes handed to QEMU's user for the run (devnode.h). */
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

#include "base/fs.h"
#include "base/macro.h"
#include "host/devnode.h"

/* What each kind hands over: the node's type, and for a character device
 * its major, so neither the hand-over nor a journal's undo can chown
 * another kind of node (a tty, /dev/mem) under a kind's name. */
static bool node_is_kind(enum journal_kind kind, const struct stat *st)
{
        switch (kind) {
        case JOURNAL_BLOCKDEV:
                return S_ISBLK(st->st_mode);
        case JOURNAL_EVDEV:
                return S_ISCHR(st->st_mode) && major(st->st_rdev) == INPUT_MAJOR;
        case JOURNAL_USB:
                return S_ISCHR(st->st_mode) && major(st->st_rdev) == JOURNAL_USB_DEVICE_MAJOR;
        default:
                return false;
        }
}

bool devnode_under_dev(const struct host_roots *roots, const char *node)
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

int devnode_open(const char *node)
{
        int fd = open(node, O_PATH | O_NOFOLLOW | O_CLOEXEC);

        return fd < 0 ? -errno : fd;
}

/* One link at a time, each from a folder no other account controls: a
 * by-id link is udev's, in root's folders. */
static int resolve_trusted(const char *path, const char *jpath, const char *what, struct vl_error *e)
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
                dfd = fs_open_dir_trusted(dir, me, getegid(), what, &te);
                if (dfd == -ENOENT)
                        return vl_error_set_at(e, ENOENT, NULL, 0, 0, jpath, "%s '%s' does not exist", what, path);
                if (dfd < 0)
                        return vl_error_set_at(e, -dfd, NULL, 0, 0, jpath,
                                               "%s: root hands over only a %s reached through folders and links "
                                               "no other account controls",
                                               te.msg, what);
                if (fstatat(dfd, leaf, &st, AT_SYMLINK_NOFOLLOW) < 0) {
                        if (errno == ENOENT)
                                return vl_error_set_at(e, ENOENT, NULL, 0, 0, jpath, "%s '%s' does not exist%s%s",
                                                       what, path, strcmp(cur, path) ? ": no " : "",
                                                       strcmp(cur, path) ? cur : "");
                        return vl_error_set_at(e, errno, NULL, 0, 0, jpath, "cannot stat '%s': %s", cur,
                                               strerror(errno));
                }
                if (!S_ISLNK(st.st_mode))
                        return 0;
                if (st.st_uid != 0 && st.st_uid != me)
                        return vl_error_set_at(e, EPERM, NULL, 0, 0, jpath,
                                               "%s '%s': the link '%s' belongs to uid %u: root hands over only a "
                                               "%s reached through folders and links no other account controls",
                                               what, path, cur, (unsigned) st.st_uid, what);
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

int devnode_resolve(const struct host_roots *roots, const char *path, const char *jpath, const char *what,
                    char *node, size_t size, struct vl_error *e)
{
        char buf[PATH_MAX];
        int r;

        r = resolve_trusted(path, jpath, what, e);
        if (r < 0)
                return r;
        if (!realpath(path, buf))
                return vl_error_set_at(e, errno, NULL, 0, 0, jpath, "cannot resolve '%s': %s", path, strerror(errno));
        if (strlen(buf) >= size)
                return vl_error_set_at(e, ENAMETOOLONG, NULL, 0, 0, jpath, "'%s' resolves to a path too long", path);
        /* Root chowns it: only a node in the host's /dev, never one someone
         * made with mknod elsewhere. */
        if (!devnode_under_dev(roots, buf))
                return vl_error_set_at(e, EPERM, NULL, 0, 0, jpath,
                                       "'%s' is the %s node '%s', which is not under '%s': refused", path, what, buf,
                                       roots->dev);
        strcpy(node, buf);
        return 0;
}

int devnode_hand_over(const struct host_roots *roots, const char *vm, enum journal_kind kind, const char *node,
                      dev_t rdev, uid_t uid, gid_t gid, struct vl_error *e)
{
        _cleanup_close_ int fd = devnode_open(node);
        struct journal_entry x = { .kind = kind };
        struct stat st;
        int r;

        if (fd < 0)
                return vl_error_set(e, -fd, "cannot open '%s': %s", node, strerror(-fd));
        if (fstat(fd, &st) < 0)
                return vl_error_set(e, errno, "cannot stat '%s': %s", node, strerror(errno));
        if (!node_is_kind(kind, &st) || st.st_rdev != rdev)
                return vl_error_set(e, ESTALE, "'%s' is not the device %u:%u it was when the run was planned", node,
                                    major(rdev), minor(rdev));
        if (st.st_uid == uid && (gid == (gid_t) -1 || st.st_gid == gid))
                return 0;
        if (strlen(node) >= sizeof(x.blockdev.node))
                return vl_error_set(e, ENAMETOOLONG, "'%s': path too long for the journal", node);
        x.blockdev.rdev = st.st_rdev;
        x.blockdev.uid = st.st_uid;
        x.blockdev.gid = st.st_gid;
        x.blockdev.mode = st.st_mode & 0777;
        strcpy(x.blockdev.node, node);
        r = journal_add_entry(roots, vm, &x, e);
        if (r < 0)
                return r;
        /* An O_PATH fd: fchownat() with AT_EMPTY_PATH acts on it (fchown()
         * would not). */
        if (fchownat(fd, "", uid, gid, AT_EMPTY_PATH) < 0) {
                r = -errno;
                /* Nothing changed: the entry would only confuse `recover`. */
                (void) journal_remove_entry(roots, vm, &x, NULL);
                return vl_error_set(e, -r, "cannot give '%s' to %d:%d: %s", node, (int) uid, (int) gid,
                                    strerror(-r));
        }
        return 0;
}

int devnode_undo_entry(const struct host_roots *roots, const struct journal_entry *x, struct vl_error *e)
{
        const struct journal_devnode *b = &x->blockdev;
        _cleanup_close_ int fd = -EBADF;
        char proc_fd[64];
        struct stat st;

        if (x->kind != JOURNAL_BLOCKDEV && x->kind != JOURNAL_EVDEV && x->kind != JOURNAL_USB)
                return vl_error_set(e, EINVAL, "not a device node entry");
        if (!devnode_under_dev(roots, b->node))
                return vl_error_set(e, EPERM, "'%s' is not under '%s': left as it is", b->node, roots->dev);
        fd = devnode_open(b->node);
        /* Gone (the disk or keyboard was unplugged): nothing of ours is
         * left on it. */
        if (fd == -ENOENT || fd == -ENOTDIR)
                return 0;
        if (fd < 0)
                return vl_error_set(e, -fd, "cannot open '%s': %s", b->node, strerror(-fd));
        if (fstat(fd, &st) < 0)
                return vl_error_set(e, errno, "cannot stat '%s': %s", b->node, strerror(errno));
        /* A link, a file, another device at that name now: not ours. */
        if (!node_is_kind(x->kind, &st) || st.st_rdev != (dev_t) b->rdev)
                return 0;
        if ((st.st_uid != b->uid || st.st_gid != b->gid) &&
            fchownat(fd, "", (uid_t) b->uid, (gid_t) b->gid, AT_EMPTY_PATH) < 0)
                return vl_error_set(e, errno, "cannot give '%s' back to %u:%u: %s", b->node, (unsigned) b->uid,
                                    (unsigned) b->gid, strerror(errno));
        /* chown() clears set-id bits; the mode is put back as it was.
         * fchmod() refuses an O_PATH fd: through its /proc/self/fd link,
         * as systemd's fchmod_opath() does — still this inode, not the
         * name. */
        if ((st.st_mode & 07777) != b->mode) {
                (void) snprintf(proc_fd, sizeof(proc_fd), "/proc/self/fd/%d", fd);
                if (chmod(proc_fd, (mode_t) b->mode) < 0)
                        return vl_error_set(e, errno, "cannot restore the mode of '%s': %s", b->node,
                                            strerror(errno));
        }
        return 0;
}
