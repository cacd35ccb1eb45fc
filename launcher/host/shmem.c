/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The host side of "shmem": see shmem.h. */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "base/fs.h"
#include "base/macro.h"
#include "host/shmem.h"

int shmem_path(const struct host_roots *roots, const struct profile *p, unsigned i, char *buf, size_t size)
{
        unsigned k = 0;

        if (p->shmem[i].backend == SHMEM_BACKEND_FILE)
                return fs_join(buf, size, roots->shm, "%s", p->shmem[i].name);
        for (unsigned j = 0; j < i; j++)
                k += p->shmem[j].backend == SHMEM_BACKEND_KVMFR;
        return fs_join(buf, size, roots->dev, "kvmfr%u", k);
}

/* ---- plan ------------------------------------------------------------------------------ */

/* Whether user (QEMU's) may read and write a file of uid:gid with mode,
 * as the kernel's generic_permission() decides without ACLs: the owner's
 * bits for the owner, the group's for a member, the others' otherwise. */
static bool user_may_rw(const struct runas *user, uid_t uid, gid_t gid, mode_t mode)
{
        bool member = user->gid == gid;

        if (user->uid == 0)
                return true;
        if (user->uid == uid)
                return (mode & 0600) == 0600;
        for (unsigned i = 0; i < user->n_groups && !member; i++)
                member = user->groups[i] == gid;
        if (member)
                return (mode & 0060) == 0060;
        return (mode & 0006) == 0006;
}

static int resolve_owner(const struct profile_shmem *s, const struct runas *user, const char *at,
                         struct shmem_item *it, struct vl_error *e)
{
        char buf[4096];
        struct passwd pw, *pwr = NULL;
        struct group gr, *grr = NULL;

        if (!s->owner[0]) {
                it->uid = user->uid;
                it->gid = user->gid;
                (void) snprintf(it->owner, sizeof(it->owner), "%s", user->name);
        } else {
                if (getpwnam_r(s->owner, &pw, buf, sizeof(buf), &pwr) != 0 || !pwr)
                        return vl_error_set_at(e, ESRCH, NULL, 0, 0, at, "no user \"%s\" on this host", s->owner);
                it->uid = pwr->pw_uid;
                it->gid = pwr->pw_gid;
                (void) snprintf(it->owner, sizeof(it->owner), "%s", s->owner);
        }
        if (s->group[0]) {
                if (getgrnam_r(s->group, &gr, buf, sizeof(buf), &grr) != 0 || !grr)
                        return vl_error_set_at(e, ESRCH, NULL, 0, 0, at, "no group \"%s\" on this host", s->group);
                it->gid = grr->gr_gid;
                (void) snprintf(it->group, sizeof(it->group), "%s", s->group);
        } else if (getgrgid_r(it->gid, &gr, buf, sizeof(buf), &grr) == 0 && grr)
                (void) snprintf(it->group, sizeof(it->group), "%s", grr->gr_name);
        else
                (void) snprintf(it->group, sizeof(it->group), "%u", (unsigned) it->gid);
        it->mode = s->mode;
        if (!user_may_rw(user, it->uid, it->gid, it->mode))
                return vl_error_set_at(e, EACCES, NULL, 0, 0, at,
                                       "QEMU runs as \"%s\", who could not read and write '%s' owned by %s:%s with "
                                       "mode %04o (make \"%s\" the owner, put it in the group, or widen the mode)",
                                       user->name, it->path, it->owner, it->group, (unsigned) it->mode, user->name);
        return 0;
}

/* The mark of the open file fd: "VM:NONCE" (NONCE 16 hex digits). 0 with
 * the VM's name and nonce; -ENODATA without a mark (or a malformed one);
 * -EOPNOTSUPP where the file system keeps no trusted.* attributes. */
static int read_mark(int fd, char vm[static PROFILE_NAME_MAX], uint64_t *ret_nonce)
{
        char v[PROFILE_NAME_MAX + 18], *colon, *end;
        ssize_t n = fgetxattr(fd, SHMEM_XATTR, v, sizeof(v) - 1);

        if (n < 0)
                return errno == ENOTSUP || errno == EOPNOTSUPP ? -EOPNOTSUPP : -ENODATA;
        v[n] = '\0';
        colon = strrchr(v, ':');
        if (!colon || (size_t) (colon - v) >= PROFILE_NAME_MAX || strlen(colon + 1) != 16)
                return -ENODATA;
        errno = 0;
        *ret_nonce = strtoull(colon + 1, &end, 16);
        if (*end || errno)
                return -ENODATA;
        memcpy(vm, v, (size_t) (colon - v));
        vm[colon - v] = '\0';
        return 0;
}

/* Whether the open file fd carries this VM's mark; its nonce in *ret_nonce. */
static bool has_mark(int fd, const char *vm, uint64_t *ret_nonce)
{
        char who[PROFILE_NAME_MAX];

        return read_mark(fd, who, ret_nonce) == 0 && strcmp(who, vm) == 0;
}

/* An existing SHM/NAME: this VM's kept file (a regular file with our mark
 * and one link), or somebody's. O_NONBLOCK: a FIFO planted there does not
 * hang the launcher (users cannot make device nodes). */
static int check_existing(int dfd, const char *name, const char *path, const char *vm, const char *at,
                          struct vl_error *e)
{
        _cleanup_close_ int fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
        uint64_t nonce;
        struct stat st;

        if (fd < 0 && errno != ELOOP && errno != ENXIO && errno != EACCES)
                return vl_error_set(e, errno, "cannot open '%s': %s", path, strerror(errno));
        if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_nlink != 1 || !has_mark(fd, vm, &nonce))
                return vl_error_set_at(e, EEXIST, NULL, 0, 0, at,
                                       "'%s' exists and vfio-launch did not make it for \"%s\": refused, it is not "
                                       "overwritten (remove it, or choose another \"name\")",
                                       path, vm);
        return 0;
}

static int plan_file(int dfd, const struct profile *p, unsigned i, const char *at, struct shmem_item *it,
                     struct vl_error *e)
{
        struct stat st;

        if (fstatat(dfd, p->shmem[i].name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
                if (errno != ENOENT)
                        return vl_error_set(e, errno, "cannot look at '%s': %s", it->path, strerror(errno));
                it->action = SHMEM_CREATE;
                return 0;
        }
        it->action = SHMEM_REUSE;
        return check_existing(dfd, p->shmem[i].name, it->path, p->name, at, e);
}

/* kvmfr's node, and its size: static_size_mb is "32" or "32,64", one
 * entry per node in order. No parameter file: not an in-memory device, or
 * an older module; the size cannot be checked then. */
static int plan_kvmfr(const struct host_roots *roots, const struct profile_shmem *s, const char *at,
                      struct shmem_item *it, struct vl_error *e)
{
        char sizes[256], file[PROFILE_PATH_MAX];
        const char *base = strrchr(it->path, '/') + 1;
        unsigned k = (unsigned) strtoul(base + 5, NULL, 10);
        struct stat st;
        int r;

        it->action = SHMEM_KVMFR;
        if (lstat(it->path, &st) < 0 || !S_ISCHR(st.st_mode))
                return vl_error_set_at(e, ENODEV, NULL, 0, 0, at,
                                       "'%s' is not a character device: is the kvmfr module loaded (`modprobe kvmfr "
                                       "static_size_mb=%llu`)?",
                                       it->path, (unsigned long long) s->size_mib);
        if ((r = fs_join(file, sizeof(file), roots->sysfs, SHMEM_KVMFR_SIZES)) < 0)
                return vl_error_set(e, -r, "sysfs path too long");
        r = fs_read(file, sizes, sizeof(sizes));
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return vl_error_set(e, -r, "cannot read '%s': %s", file, strerror(-r));
        {
                char *c = sizes, *end;
                unsigned long mb = 0;

                for (unsigned j = 0; j <= k; j++) {
                        errno = 0;
                        mb = strtoul(c, &end, 10);
                        if (end == c || errno || (j < k && *end != ','))
                                return vl_error_set_at(e, ENODEV, NULL, 0, 0, at,
                                                       "the kvmfr module has no device %u ('%s' is \"%s\")", k, file,
                                                       sizes);
                        c = end + 1;
                }
                if (mb != s->size_mib)
                        return vl_error_set_at(e, EINVAL, NULL, 0, 0, at,
                                               "'%s' is %lu MiB (kvmfr's static_size_mb), not the profile's %llu MiB",
                                               it->path, mb, (unsigned long long) s->size_mib);
        }
        return 0;
}

int shmem_plan(const struct host_roots *roots, const struct profile *p, const struct runas *user,
               struct shmem_plan *ret, struct vl_error *e)
{
        _cleanup_close_ int dfd = -EBADF;
        struct shmem_plan plan = { .n = p->n_shmem };
        char at[32];
        int r;

        for (unsigned i = 0; i < p->n_shmem; i++) {
                struct shmem_item *it = &plan.item[i];

                (void) snprintf(at, sizeof(at), "$.shmem[%u]", i);
                if ((r = shmem_path(roots, p, i, it->path, sizeof(it->path))) < 0)
                        return vl_error_set(e, -r, "the path of %s is too long", at);
                it->bytes = p->shmem[i].size_mib << 20;
                if ((r = resolve_owner(&p->shmem[i], user, at, it, e)) < 0)
                        return r;
                if (p->shmem[i].backend == SHMEM_BACKEND_KVMFR) {
                        if ((r = plan_kvmfr(roots, &p->shmem[i], at, it, e)) < 0)
                                return r;
                        continue;
                }
                if (dfd < 0 && (dfd = open(roots->shm, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0)
                        return vl_error_set(e, errno, "cannot open '%s': %s", roots->shm, strerror(errno));
                if ((r = plan_file(dfd, p, i, at, it, e)) < 0)
                        return r;
        }
        *ret = plan;
        return 0;
}

/* ---- setup and undo --------------------------------------------------------------------- */

/* Remove SHM/NAME if it is still the file x recorded: its mark ends in
 * x's nonce (a user cannot set it) and, once recorded, it is x's dev:ino.
 * Without trusted.* attributes on the file system only dev:ino can tell,
 * and an unknown one leaves the file. Between the look and the unlink only
 * the file's owner can swap it (the folder is sticky), and would lose its
 * own new file: nobody else's is at risk. */
static int remove_if_ours(int dfd, const char *name, const struct journal_shmem *x, struct vl_error *e)
{
        _cleanup_close_ int fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
        char vm[PROFILE_NAME_MAX];
        uint64_t nonce;
        struct stat st;
        int r;

        if (fd < 0)
                return errno == ENOENT || errno == ELOOP || errno == ENXIO
                               ? 0 /* gone, or a link or socket: not a file this run made */
                               : vl_error_set(e, errno, "cannot open '%s': %s", x->path, strerror(errno));
        if (fstat(fd, &st) < 0)
                return vl_error_set(e, errno, "cannot look at '%s': %s", x->path, strerror(errno));
        if (!S_ISREG(st.st_mode) || (x->ino && ((uint64_t) st.st_dev != x->dev || (uint64_t) st.st_ino != x->ino)))
                return 0; /* somebody's file of that name now */
        r = read_mark(fd, vm, &nonce);
        if (r == 0 ? nonce != x->nonce : r != -EOPNOTSUPP || !x->ino)
                return 0;
        if (unlinkat(dfd, name, 0) < 0 && errno != ENOENT)
                return vl_error_set(e, errno, "cannot remove '%s': %s", x->path, strerror(errno));
        return 0;
}

/* The folder of an entry's path must be root (shm or dev), the name a
 * single component: the undo acts only there. */
static int split_entry_path(const char *path, const char *root, char *dir, size_t size, const char **ret_name,
                            struct vl_error *e)
{
        const char *slash = strrchr(path, '/');

        if (!slash || (size_t) (slash - path) >= size)
                return vl_error_set(e, EPERM, "'%s' is not in '%s': not undone", path, root);
        memcpy(dir, path, (size_t) (slash - path));
        dir[slash - path] = '\0';
        if (strcmp(dir, root) != 0)
                return vl_error_set(e, EPERM, "'%s' is not in '%s': not undone", path, root);
        *ret_name = slash + 1;
        return 0;
}

int shmem_undo_entry(const struct host_roots *roots, const struct journal_entry *x, struct vl_error *e)
{
        _cleanup_close_ int dfd = -EBADF;
        char dir[JOURNAL_PATH_MAX];
        const char *name;
        struct stat st;
        int r;

        if (x->kind == JOURNAL_SHMEM) {
                if ((r = split_entry_path(x->shmem.path, roots->shm, dir, sizeof(dir), &name, e)) < 0)
                        return r;
                dfd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (dfd < 0)
                        return errno == ENOENT ? 0 : vl_error_set(e, errno, "cannot open '%s': %s", dir, strerror(errno));
                return remove_if_ours(dfd, name, &x->shmem, e);
        }
        if (x->kind != JOURNAL_SHMEM_OWNER)
                return vl_error_set(e, EINVAL, "not a shmem entry");
        if ((r = split_entry_path(x->shmem.path, roots->dev, dir, sizeof(dir), &name, e)) < 0)
                return r;
        dfd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (dfd < 0)
                return vl_error_set(e, errno, "cannot open '%s': %s", dir, strerror(errno));
        /* Gone (the module unloaded): nothing to give back. Anything but
         * the character device it was is not touched. */
        if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return errno == ENOENT ? 0 : vl_error_set(e, errno, "cannot look at '%s': %s", x->shmem.path,
                                                           strerror(errno));
        if (!S_ISCHR(st.st_mode))
                return 0;
        if (fchownat(dfd, name, (uid_t) x->shmem.uid, (gid_t) x->shmem.gid, AT_SYMLINK_NOFOLLOW) < 0 ||
            fchmodat(dfd, name, (mode_t) x->shmem.mode, 0) < 0)
                return vl_error_set(e, errno, "cannot give '%s' back to %llu:%llu: %s", x->shmem.path,
                                    (unsigned long long) x->shmem.uid, (unsigned long long) x->shmem.gid,
                                    strerror(errno));
        return 0;
}

/* Size, owner, group and mode through the open fd: never by path, which
 * the owner could swap. */
static int shape(int fd, const struct shmem_item *it, struct vl_error *e)
{
        if (ftruncate(fd, (off_t) it->bytes) < 0)
                return vl_error_set(e, errno, "cannot size '%s' to %llu bytes: %s", it->path,
                                    (unsigned long long) it->bytes, strerror(errno));
        if (fchown(fd, it->uid, it->gid) < 0 || fchmod(fd, it->mode) < 0)
                return vl_error_set(e, errno, "cannot give '%s' to %s:%s mode %04o: %s", it->path, it->owner,
                                    it->group, (unsigned) it->mode, strerror(errno));
        return 0;
}

static int setup_file(const struct host_roots *roots, int dfd, const struct profile *p, unsigned i,
                      const struct shmem_item *it, struct vl_error *e)
{
        const struct profile_shmem *s = &p->shmem[i];
        struct journal_entry x = { .kind = JOURNAL_SHMEM }, made;
        _cleanup_close_ int fd = -EBADF;
        struct vl_error ignored;
        struct stat st;
        int r;

        char mark[PROFILE_NAME_MAX + 18];

        (void) snprintf(x.shmem.path, sizeof(x.shmem.path), "%s", it->path);
        if (it->action == SHMEM_REUSE) {
                fd = openat(dfd, s->name, O_RDWR | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
                if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_nlink != 1 ||
                    !has_mark(fd, p->name, &x.shmem.nonce))
                        return vl_error_set(e, EEXIST, "'%s' changed since the plan: refused, not touched", it->path);
                x.shmem.dev = (uint64_t) st.st_dev;
                x.shmem.ino = (uint64_t) st.st_ino;
                if (!s->keep && (r = journal_add_entry(roots, p->name, &x, e)) < 0)
                        return r;
                return shape(fd, it, e);
        }
        /* Journaled before it exists, with the nonce of its mark; its inode
         * once it does. The journal's numbers are JSON integers >= 0. */
        if (getrandom(&x.shmem.nonce, sizeof(x.shmem.nonce), 0) != sizeof(x.shmem.nonce))
                return vl_error_set(e, EIO, "getrandom: %s", strerror(errno));
        x.shmem.nonce &= INT64_MAX;
        (void) snprintf(mark, sizeof(mark), "%s:%016llx", p->name, (unsigned long long) x.shmem.nonce);
        if (!s->keep && (r = journal_add_entry(roots, p->name, &x, e)) < 0)
                return r;
        fd = openat(dfd, s->name, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY, 0600);
        if (fd < 0) {
                r = vl_error_set(e, errno, "cannot create '%s': %s", it->path, strerror(errno));
                if (!s->keep)
                        (void) journal_remove_entry(roots, p->name, &x, &ignored);
                return r;
        }
        /* Marked at once: a file a crash leaves before its inode is
         * journaled is still known by its nonce. Without the mark (a file
         * system without trusted.* attributes) the file works; only a kept
         * or left one is not known again. */
        (void) fsetxattr(fd, SHMEM_XATTR, mark, strlen(mark), 0);
        made = x;
        if (fstat(fd, &st) < 0) {
                r = -errno;
                (void) unlinkat(dfd, s->name, 0); /* just made, by this fd's open: ours */
                if (!s->keep)
                        (void) journal_remove_entry(roots, p->name, &x, &ignored);
                return vl_error_set(e, -r, "cannot stat '%s': %s", it->path, strerror(-r));
        }
        made.shmem.dev = (uint64_t) st.st_dev;
        made.shmem.ino = (uint64_t) st.st_ino;
        if (!s->keep && (r = journal_update_entry(roots, p->name, &x, &made, e)) < 0) {
                (void) unlinkat(dfd, s->name, 0);
                (void) journal_remove_entry(roots, p->name, &x, &ignored);
                return r;
        }
        r = shape(fd, it, e);
        if (r < 0) {
                (void) remove_if_ours(dfd, s->name, &made.shmem, &ignored);
                if (!s->keep)
                        (void) journal_remove_entry(roots, p->name, &made, &ignored);
        }
        return r;
}

static int setup_kvmfr(const struct host_roots *roots, const struct profile *p, const struct shmem_item *it,
                       struct vl_error *e)
{
        struct journal_entry x = { .kind = JOURNAL_SHMEM_OWNER };
        struct vl_error ignored;
        struct stat st;
        int r;

        if (lstat(it->path, &st) < 0 || !S_ISCHR(st.st_mode))
                return vl_error_set(e, ENODEV, "'%s' is not a character device any more", it->path);
        (void) snprintf(x.shmem.path, sizeof(x.shmem.path), "%s", it->path);
        x.shmem.uid = st.st_uid;
        x.shmem.gid = st.st_gid;
        x.shmem.mode = st.st_mode & 07777;
        if ((r = journal_add_entry(roots, p->name, &x, e)) < 0)
                return r;
        /* /dev is root's: the node checked above is the one changed. */
        if (lchown(it->path, it->uid, it->gid) < 0 || chmod(it->path, it->mode) < 0) {
                r = vl_error_set(e, errno, "cannot give '%s' to %s:%s mode %04o: %s", it->path, it->owner, it->group,
                                 (unsigned) it->mode, strerror(errno));
                if (shmem_undo_entry(roots, &x, &ignored) == 0)
                        (void) journal_remove_entry(roots, p->name, &x, &ignored);
                return r;
        }
        return 0;
}

int shmem_setup(const struct host_roots *roots, const struct profile *p, const struct shmem_plan *plan,
                struct vl_error *e)
{
        _cleanup_close_ int dfd = -EBADF;
        int r;

        for (unsigned i = 0; i < plan->n; i++) {
                const struct shmem_item *it = &plan->item[i];

                if (it->action == SHMEM_KVMFR)
                        r = setup_kvmfr(roots, p, it, e);
                else if (dfd < 0 && (dfd = open(roots->shm, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0)
                        r = vl_error_set(e, errno, "cannot open '%s': %s", roots->shm, strerror(errno));
                else
                        r = setup_file(roots, dfd, p, i, it, e);
                /* What earlier elements did is in the journal: the run's
                 * undo gives it back. */
                if (r < 0)
                        return r;
        }
        return 0;
}
