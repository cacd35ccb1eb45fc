/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Guest RAM on hugetlbfs: the mount check, the pool arithmetic, the
 * journalled reservation and the VM's folder (see hugepages.h). Runs in the
 * launcher (never in the forked child); nothing here prints.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <linux/magic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include "base/fs.h"
#include "host/hugepages.h"
#include "host/journal.h"
#include "host/sysfs.h"

#define POOL_DIR "kernel/mm/hugepages/hugepages-%" PRIu64 "kB"
#define WRITE_TIMEOUT_MS 30000

void hugepages_env_init(struct hugepages_env *env, const struct host_roots *roots)
{
        *env = (struct hugepages_env) { .roots = roots, .write_timeout_ms = WRITE_TIMEOUT_MS };
}

uint64_t hugepages_available(const struct hugepages_pool *pool)
{
        return pool->free > pool->resv ? pool->free - pool->resv : 0;
}

int hugepages_vm_dir(const char *path, const char *name, char *buf, size_t size)
{
        size_t n = strlen(path);

        while (n > 1 && path[n - 1] == '/')
                n--;
        return xsnprintf(buf, size, "%.*s%s%s%s", (int) n, path, n == 1 && path[0] == '/' ? "" : "/",
                         HUGEPAGES_DIR_PREFIX, name);
}

/* "2M" / "1G" for messages; the sysfs name for other sizes. */
static const char *size_name(uint64_t page_kib, char *buf, size_t size)
{
        if (page_kib == 2048)
                return "2M";
        if (page_kib == 1024 * 1024)
                return "1G";
        (void) snprintf(buf, size, "%" PRIu64 "kB", page_kib);
        return buf;
}

/* ---- reading the pool ----------------------------------------------------------------- */

static int read_count(const char *sysfs_root, uint64_t page_kib, const char *file, uint64_t *ret,
                      struct vl_error *e)
{
        char path[4096], buf[32], errbuf[64], *end;
        unsigned long long v;
        int r;

        r = fs_join(path, sizeof(path), sysfs_root, POOL_DIR "/%s", page_kib, file);
        if (r < 0)
                return vl_error_set(e, -r, "sysfs path too long");
        r = fs_read(path, buf, sizeof(buf));
        if (r < 0)
                return vl_error_set(e, -r, "cannot read '%s': %s", path, vl_strerror_name(r, errbuf, sizeof(errbuf)));
        errno = 0;
        v = strtoull(buf, &end, 10);
        if (buf[0] < '0' || buf[0] > '9' || *end != '\0' || errno != 0)
                return vl_error_set(e, EBADMSG, "%s holds \"%s\", not a number of pages", path, buf);
        *ret = v;
        return 0;
}

int hugepages_read_pool(const char *sysfs_root, uint64_t page_kib, struct hugepages_pool *ret,
                        struct vl_error *e)
{
        struct hugepages_pool pool;
        char path[4096], sb[32];
        int r;

        r = fs_join(path, sizeof(path), sysfs_root, POOL_DIR, page_kib);
        if (r < 0)
                return vl_error_set(e, -r, "sysfs path too long");
        if (!fs_exists(path))
                return vl_error_set(e, EOPNOTSUPP,
                                    "this kernel has no %s hugepages (no %s)%s", size_name(page_kib, sb, sizeof(sb)),
                                    path,
                                    page_kib == 1024 * 1024
                                            ? ": 1G pages need a CPU with pdpe1gb (grep -w pdpe1gb /proc/cpuinfo); "
                                              "or use \"size\": \"2M\""
                                            : ": it needs CONFIG_HUGETLBFS");
        if ((r = read_count(sysfs_root, page_kib, "nr_hugepages", &pool.nr, e)) < 0 ||
            (r = read_count(sysfs_root, page_kib, "free_hugepages", &pool.free, e)) < 0 ||
            (r = read_count(sysfs_root, page_kib, "resv_hugepages", &pool.resv, e)) < 0)
                return r;
        *ret = pool;
        return 0;
}

/* ---- the mount ---------------------------------------------------------------------------- */

/* What statfs says a path is, for "is on X, not on hugetlbfs". */
static const char *fs_name(unsigned long type)
{
        static const struct {
                unsigned long magic;
                const char *name;
        } names[] = {
                { TMPFS_MAGIC, "tmpfs" },        { RAMFS_MAGIC, "ramfs" },
                { EXT4_SUPER_MAGIC, "ext4" },    { XFS_SUPER_MAGIC, "xfs" },
                { BTRFS_SUPER_MAGIC, "btrfs" },  { OVERLAYFS_SUPER_MAGIC, "overlayfs" },
                { NFS_SUPER_MAGIC, "nfs" },      { V9FS_MAGIC, "9p" },
                { SYSFS_MAGIC, "sysfs" },        { PROC_SUPER_MAGIC, "proc" },
                { SQUASHFS_MAGIC, "squashfs" },  { F2FS_SUPER_MAGIC, "f2fs" },
                { FUSE_SUPER_MAGIC, "fuse" },    { CGROUP2_SUPER_MAGIC, "cgroup2" },
                { DEVPTS_SUPER_MAGIC, "devpts" }, { 0x2fc12fc1, "zfs" },
        };

        for (size_t i = 0; i < ELEMENTSOF(names); i++)
                if (names[i].magic == type)
                        return names[i].name;
        return NULL;
}

static int check_statfs(const struct statfs *st, const char *path, uint64_t page_kib, uint64_t needed,
                        const char *source, struct vl_error *e)
{
        const char *fs = fs_name((unsigned long) st->f_type);
        char sb[32], other[32], what[64];

        if ((unsigned long) st->f_type != HUGETLBFS_MAGIC) {
                if (fs)
                        (void) snprintf(what, sizeof(what), "%s", fs);
                else
                        (void) snprintf(what, sizeof(what), "a file system of type 0x%lx",
                                        (unsigned long) st->f_type);
                return vl_error_set_at(e, EMEDIUMTYPE, source, 0, 0, "$.hugepages.path",
                                       "%s is on %s, not on hugetlbfs: QEMU would put the guest's RAM in "
                                       "an ordinary file there, without hugepages and without an error. "
                                       "Mount hugetlbfs there (mount -t hugetlbfs -o pagesize=%s hugetlbfs %s) "
                                       "or name a hugetlbfs mount (grep hugetlbfs /proc/mounts)",
                                       path, what, size_name(page_kib, sb, sizeof(sb)), path);
        }
        if ((uint64_t) st->f_bsize != page_kib * 1024)
                return vl_error_set_at(e, EINVAL, source, 0, 0, "$.hugepages.path",
                                       "%s is a hugetlbfs mount of %s pages, the profile asks for %s: mount "
                                       "one with -o pagesize=%s, or set \"size\": \"%s\"",
                                       path, size_name((uint64_t) st->f_bsize / 1024, other, sizeof(other)),
                                       size_name(page_kib, sb, sizeof(sb)), size_name(page_kib, sb, sizeof(sb)),
                                       other);
        /* A mount with size=: the kernel reports its limit as blocks and
         * refuses pages beyond it, whatever the pool has free. Without a
         * limit the counts are 0 (or -1, as simple_statfs() says). */
        if (needed > 0 && st->f_blocks > 0 && st->f_blocks != (fsblkcnt_t) -1 && st->f_bavail < needed)
                return vl_error_set_at(e, ENOSPC, source, 0, 0, "$.hugepages.path",
                                       "the hugetlbfs mount %s has room for %llu more %s pages (its size= "
                                       "limit is %llu), the guest needs %" PRIu64
                                       ": remount it with a larger size=, or without one",
                                       path, (unsigned long long) st->f_bavail,
                                       size_name(page_kib, sb, sizeof(sb)), (unsigned long long) st->f_blocks,
                                       needed);
        return 0;
}

int hugepages_check_mount(const char *path, uint64_t page_kib, uint64_t needed, const char *source,
                          struct vl_error *e)
{
        struct statfs sfs;
        struct stat st;
        char sb[32];

        if (stat(path, &st) < 0 || statfs(path, &sfs) < 0) {
                int r = errno;
                if (r == ENOENT)
                        return vl_error_set_at(e, r, source, 0, 0, "$.hugepages.path",
                                               "%s does not exist: mount hugetlbfs there (mkdir -p %s && mount -t "
                                               "hugetlbfs -o pagesize=%s hugetlbfs %s)",
                                               path, path, size_name(page_kib, sb, sizeof(sb)), path);
                return vl_error_set_at(e, r, source, 0, 0, "$.hugepages.path", "cannot look at '%s': %s", path,
                                       strerror(r));
        }
        if (!S_ISDIR(st.st_mode))
                return vl_error_set_at(e, ENOTDIR, source, 0, 0, "$.hugepages.path",
                                       "%s is not a folder (expected a hugetlbfs mount)", path);
        return check_statfs(&sfs, path, page_kib, needed, source, e);
}

/* ---- plan ----------------------------------------------------------------------------------- */

/* A journal of this VM from another process: a run that is active or did
 * not finish. Its entries must be replayed by `recover`, not extended. */
static int check_foreign_journal(const struct hugepages_env *env, const char *name, struct vl_error *e)
{
        _cleanup_free_ struct journal *j = malloc(sizeof(*j));
        int r;

        if (!j)
                return vl_error_set(e, ENOMEM, "out of memory");
        r = journal_load(env->roots, name, j, e);
        if (r == -ENOENT || r == -EACCES)
                return 0; /* none; or not root (print): a run, as root, sees it */
        if (r < 0)
                return r;
        if (j->launcher_pid != getpid())
                return vl_error_set(e, EEXIST,
                                    "a journal of \"%s\" already exists (launcher pid %d): another run is active "
                                    "or did not finish; see `vfio-launch recover`",
                                    name, (int) j->launcher_pid);
        return 0;
}

int hugepages_plan(const struct hugepages_env *env, const struct profile *p,
                   struct hugepages_plan *ret, struct vl_error *e)
{
        const struct profile_hugepages *h = &p->hugepages;
        struct hugepages_plan plan = {};
        char pool_dir[4096], sb[32];
        struct stat st;
        int r;

        plan.page_kib = profile_hugepage_kib(h->size);
        if (!h->enabled || plan.page_kib == 0)
                return vl_error_set(e, EINVAL, "the profile asks for no hugepages");
        plan.needed = p->memory_mib * 1024 / plan.page_kib;
        if ((r = hugepages_check_mount(h->path, plan.page_kib, plan.needed, p->source, e)) < 0 ||
            (r = hugepages_read_pool(env->roots->sysfs, plan.page_kib, &plan.pool, e)) < 0)
                return r;
        if (hugepages_vm_dir(h->path, p->name, plan.dir, sizeof(plan.dir)) < 0)
                return vl_error_set(e, ENAMETOOLONG, "the VM's hugepages folder path is too long");
        if (lstat(plan.dir, &st) == 0)
                return vl_error_set(e, EEXIST,
                                    "%s exists already: another run of \"%s\" uses it, or one left it behind "
                                    "(then: `vfio-launch recover %s`, or rmdir it when no QEMU of \"%s\" runs)",
                                    plan.dir, p->name, p->name, p->name);
        if ((r = check_foreign_journal(env, p->name, e)) < 0)
                return r;

        plan.available = hugepages_available(&plan.pool);
        if (plan.available < plan.needed) {
                uint64_t missing = plan.needed - plan.available;

                if (!h->reserve) {
                        (void) fs_join(pool_dir, sizeof(pool_dir), env->roots->sysfs, POOL_DIR, plan.page_kib);
                        return vl_error_set_at(
                                e, ENOMEM, p->source, 0, 0, "$.hugepages",
                                "the guest needs %" PRIu64 " free %s hugepages (%" PRIu64 " MiB), the host has %" PRIu64
                                " (nr_hugepages %" PRIu64 ", free %" PRIu64 ", %" PRIu64
                                " of them promised to other mappings; %s): add them (echo %" PRIu64
                                " > %s/nr_hugepages, or hugepagesz=%s hugepages=%" PRIu64
                                " on the kernel command line) or set \"reserve\": true",
                                plan.needed, size_name(plan.page_kib, sb, sizeof(sb)), p->memory_mib, plan.available,
                                plan.pool.nr, plan.pool.free, plan.pool.resv, pool_dir, plan.pool.nr + missing,
                                pool_dir, size_name(plan.page_kib, sb, sizeof(sb)), plan.pool.nr + missing);
                }
                plan.missing = missing;
        }
        *ret = plan;
        return 0;
}

/* ---- changes -------------------------------------------------------------------------------- */

static int write_nr(const struct hugepages_env *env, uint64_t page_kib, uint64_t nr, struct vl_error *e)
{
        char path[4096], data[32], errbuf[64];
        int r;

        r = fs_join(path, sizeof(path), env->roots->sysfs, POOL_DIR "/nr_hugepages", page_kib);
        if (r < 0)
                return vl_error_set(e, -r, "sysfs path too long");
        (void) snprintf(data, sizeof(data), "%" PRIu64, nr);
        r = env->write ? env->write(env->userdata, path, data, env->write_timeout_ms)
                       : sysfs_write_bounded(path, data, env->write_timeout_ms);
        if (r < 0)
                return vl_error_set(e, -r, "cannot write %s to '%s': %s", data, path,
                                    vl_strerror_name(r, errbuf, sizeof(errbuf)));
        return 0;
}

/* Take the pages a run added out of the pool again: nr_hugepages minus
 * added (see the top of hugepages.h for why not the old value). */
static int give_back(const struct hugepages_env *env, uint64_t page_kib, uint64_t added,
                     struct vl_error *e, struct vl_warnings *w)
{
        struct hugepages_pool pool, after;
        uint64_t want;
        char sb[32];
        int r;

        if (added == 0)
                return 0;
        if ((r = hugepages_read_pool(env->roots->sysfs, page_kib, &pool, e)) < 0)
                return r;
        want = pool.nr > added ? pool.nr - added : 0;
        if ((r = write_nr(env, page_kib, want, e)) < 0)
                return r;
        /* Pages still mapped (or promised) cannot go at once: the kernel
         * makes them surplus pages and frees them when they are released. */
        if (hugepages_read_pool(env->roots->sysfs, page_kib, &after, NULL) >= 0 && after.nr > want)
                vl_warn(w, "%" PRIu64 " of the %s hugepages this run added are still in use: the kernel frees "
                           "them when they are released (nr_hugepages %" PRIu64 ", asked for %" PRIu64 ")",
                        after.nr - want, size_name(page_kib, sb, sizeof(sb)), after.nr, want);
        return 0;
}

static int remove_dir(const char *dir, struct vl_error *e)
{
        if (rmdir(dir) < 0 && errno != ENOENT)
                return vl_error_set(e, errno,
                                    "cannot remove '%s': %s (QEMU unlinks its file there at once: whatever is left "
                                    "is not ours; remove it, then `vfio-launch recover`)",
                                    dir, strerror(errno));
        return 0;
}

/* The VM's folder, created inside the checked mount through a descriptor of
 * it (so a mount swapped since the plan, or a symlink put in place of the
 * folder, is not followed) and handed to QEMU's user. */
static int make_dir(const struct hugepages_plan *plan, const char *path, const char *name, uid_t uid,
                    gid_t gid, bool *ret_made, struct vl_error *e)
{
        _cleanup_close_ int parent = -EBADF, fd = -EBADF;
        const char *base = strrchr(plan->dir, '/') + 1;
        struct statfs sfs;
        int r;

        parent = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (parent < 0)
                return vl_error_set(e, errno, "cannot open '%s': %s", path, strerror(errno));
        if (fstatfs(parent, &sfs) < 0)
                return vl_error_set(e, errno, "cannot look at '%s': %s", path, strerror(errno));
        r = check_statfs(&sfs, path, plan->page_kib, 0, NULL, e);
        if (r < 0)
                return r;
        if (mkdirat(parent, base, 0700) < 0) {
                r = errno;
                if (r == EEXIST)
                        return vl_error_set(e, r, "%s appeared since the plan: another run of \"%s\"?", plan->dir,
                                            name);
                return vl_error_set(e, r, "cannot create '%s': %s", plan->dir, strerror(r));
        }
        *ret_made = true;
        fd = openat(parent, base, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return vl_error_set(e, errno, "cannot open '%s': %s", plan->dir, strerror(errno));
        if (fchown(fd, uid, gid) < 0)
                return vl_error_set(e, errno, "cannot hand '%s' to uid %d: %s", plan->dir, (int) uid,
                                    strerror(errno));
        return 0;
}

int hugepages_setup(const struct hugepages_env *env, const struct profile *p,
                    const struct hugepages_plan *plan, uid_t uid, gid_t gid, struct vl_error *e)
{
        struct hugepages_pool now, got;
        struct vl_error ue = {};
        struct journal_entry x = { .kind = JOURNAL_HUGEPAGES };
        char sb[32];
        uint64_t avail, added = 0;
        bool made = false;
        int r, u = 0;

        /* Again, now: another run may have taken pages since the plan. */
        r = hugepages_read_pool(env->roots->sysfs, plan->page_kib, &now, e);
        if (r < 0)
                return r;
        avail = hugepages_available(&now);
        if (avail < plan->needed) {
                if (!p->hugepages.reserve)
                        return vl_error_set(e, ENOMEM,
                                            "only %" PRIu64 " free %s hugepages left, the guest needs %" PRIu64
                                            " (taken since the plan by another program?)",
                                            avail, size_name(plan->page_kib, sb, sizeof(sb)), plan->needed);
                added = plan->needed - avail;
        }

        /* Journal first (journal_add_entry() refuses a journal of another
         * run, active or dead): the pages and the folder are recorded before they
         * exist, so `recover` can undo a run that died in between. */
        x.hugepages = (struct journal_hugepages) { .page_kib = plan->page_kib, .before = now.nr, .added = added };
        if (xsnprintf(x.hugepages.dir, sizeof(x.hugepages.dir), "%s", plan->dir) < 0)
                return vl_error_set(e, ENAMETOOLONG, "%s is too long for the journal", plan->dir);
        r = journal_add_entry(env->roots, p->name, &x, e);
        if (r < 0)
                return r;

        if (added > 0) {
                uint64_t real;
                int rr;

                r = write_nr(env, plan->page_kib, now.nr + added, e);
                /* Accepted, refused or timed out: what the pool holds now is
                 * what there is to keep or to give back. */
                rr = hugepages_read_pool(env->roots->sysfs, plan->page_kib, &got, r < 0 ? NULL : e);
                if (rr < 0) {
                        if (r >= 0)
                                r = rr; /* unknown: the full count is given back */
                } else {
                        real = got.nr > now.nr ? got.nr - now.nr : 0;
                        /* The kernel gives what it can assemble and says nothing. */
                        if (r >= 0 && real < added)
                                r = vl_error_set(e, ENOMEM,
                                                 "the kernel found only %" PRIu64 " of the %" PRIu64
                                                 " %s hugepages missing (memory too fragmented): reserve them at "
                                                 "boot (hugepagesz=%s hugepages=%" PRIu64
                                                 " on the kernel command line)",
                                                 real, added, size_name(plan->page_kib, sb, sizeof(sb)),
                                                 size_name(plan->page_kib, sb, sizeof(sb)), now.nr + added);
                        else if (r == -ETIMEDOUT)
                                vl_error_prefix(e, "raising the %s hugepages pool (nr_hugepages may still change "
                                                   "when the kernel returns: check it)",
                                                size_name(plan->page_kib, sb, sizeof(sb)));
                        if (r < 0)
                                added = real;
                }
        }
        if (r >= 0)
                r = make_dir(plan, p->hugepages.path, p->name, uid, gid, &made, e);
        if (r >= 0)
                return added > INT_MAX ? INT_MAX : (int) added;

        /* Roll back what was done, then drop the entry. */
        if (made)
                u = remove_dir(plan->dir, &ue);
        if (u >= 0)
                u = give_back(env, plan->page_kib, added, &ue, NULL);
        if (u >= 0)
                u = journal_remove_entry(env->roots, p->name, &x, &ue);
        if (u < 0)
                vl_error_prefix(e, "NOT all given back (%s; run `vfio-launch recover %s`)", ue.msg, p->name);
        return r;
}

/* ---- undo ------------------------------------------------------------------------------------- */

int hugepages_undo_entry(const struct hugepages_env *env, const struct journal_entry *x, struct vl_error *e,
                         struct vl_warnings *w)
{
        int r;

        if (x->kind != JOURNAL_HUGEPAGES)
                return vl_error_set(e, EINVAL, "not a hugepages entry");
        r = remove_dir(x->hugepages.dir, e);
        if (r >= 0)
                r = give_back(env, x->hugepages.page_kib, x->hugepages.added, e, w);
        return r;
}
