/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * hugepages: the pool arithmetic, the refusal of a mem-path that is not
 * hugetlbfs (statfs of real tmpfs / ext4 / proc folders), the acceptance of a
 * real hugetlbfs mount and of nothing else (page size, size= limit), the
 * plan's refusals, and the journalled reservation, its rollback when the
 * kernel gives fewer pages, the give-back at the end and after a crash.
 *
 * The pool is a fake SYSFS/kernel/mm/hugepages tree in a fakesys temp dir,
 * written through a model of what the kernel does on a write of
 * nr_hugepages (grow up to what it can assemble; shrink by the free pages not
 * promised to mappings, the rest stays as surplus until released). The
 * hugetlbfs mounts are real, made by this process in a mount namespace of
 * its own (unshare): nothing is mounted where anyone else sees it, and the
 * real /sys and /proc/sys are never written. Without the right to mount
 * hugetlbfs (not root, no hugetlbfs in the kernel) those tests are skipped,
 * saying why.
 */
#include <errno.h>
#include <inttypes.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>
#include "vl_test.h"

#include "fakesys.h"
#include "host/hugepages.h"
#include "host/undo.h"
#include "host/journal.h"

#define POOL "kernel/mm/hugepages/hugepages-2048kB"

/* hugetlbfs mounts of this process's own mount namespace; "" = none could
 * be made (why in no_mount_reason). */
static char huge2m[64], huge2m_small[64];
static char no_mount_reason[256];

struct model {
        struct fakesys *fs;
        uint64_t capacity; /* the most pages the "kernel" can hold in the pool */
        int refuse;        /* > 0: every write answers -refuse */
        bool late;         /* the next write happens, but after the writer's timeout */
        unsigned writes;
};

struct fixture {
        struct fakesys *fs;
        struct model m;
        struct hugepages_env env;
        struct profile p;
};

/* ---- the fake pool ----------------------------------------------------------------------- */

static void pool_path(const struct fakesys *fs, const char *file, char *buf, size_t size)
{
        snprintf(buf, size, "%s/" POOL "%s%s", fakesys_sys(fs), file[0] ? "/" : "", file);
}

static void pool_set(const struct fakesys *fs, const char *file, uint64_t v)
{
        char path[4096];
        FILE *f;

        pool_path(fs, file, path, sizeof(path));
        f = fopen(path, "we");
        assert_non_null(f);
        fprintf(f, "%" PRIu64 "\n", v);
        fclose(f);
}

static uint64_t pool_get(const struct fakesys *fs, const char *file)
{
        char path[4096];
        unsigned long long v = 0;
        FILE *f;

        pool_path(fs, file, path, sizeof(path));
        f = fopen(path, "re");
        assert_non_null(f);
        assert_int_equal(fscanf(f, "%llu", &v), 1);
        fclose(f);
        return v;
}

static void pool(const struct fakesys *fs, uint64_t nr, uint64_t free_pages, uint64_t resv)
{
        char path[4096];

        pool_path(fs, "", path, sizeof(path));
        for (char *s = path + strlen(fakesys_sys(fs)) + 1; (s = strchr(s, '/')); s++) {
                *s = '\0';
                (void) mkdir(path, 0755);
                *s = '/';
        }
        (void) mkdir(path, 0755);
        pool_set(fs, "nr_hugepages", nr);
        pool_set(fs, "free_hugepages", free_pages);
        pool_set(fs, "resv_hugepages", resv);
}

/* What mm/hugetlb.c set_max_huge_pages() does with a write of count. */
static int model_write(void *userdata, const char *path, const char *data, unsigned timeout_ms)
{
        struct model *m = userdata;
        char want_path[4096];
        uint64_t nr, fr, resv, count;
        char *end;

        m->writes++;
        pool_path(m->fs, "nr_hugepages", want_path, sizeof(want_path));
        if (strcmp(path, want_path) != 0)
                return -EPERM; /* hugepages writes nothing else */
        if (m->refuse)
                return -m->refuse;
        count = strtoull(data, &end, 10);
        if (*end != '\0')
                return -EINVAL;
        nr = pool_get(m->fs, "nr_hugepages");
        fr = pool_get(m->fs, "free_hugepages");
        resv = pool_get(m->fs, "resv_hugepages");
        if (count > nr) {
                uint64_t to = count < m->capacity ? count : m->capacity;
                if (to > nr) {
                        fr += to - nr;
                        nr = to;
                }
        } else {
                uint64_t freeable = fr - resv, drop = nr - count < freeable ? nr - count : freeable;
                nr -= drop; /* the rest becomes surplus: nr_hugepages still counts it */
                fr -= drop;
        }
        pool_set(m->fs, "nr_hugepages", nr);
        pool_set(m->fs, "free_hugepages", fr);
        if (m->late) {
                m->late = false; /* once */
                return -ETIMEDOUT;
        }
        return 0;
}

/* ---- fixtures ---------------------------------------------------------------------------- */

/* A mount namespace of our own with two hugetlbfs mounts of 2M pages: one
 * without a limit, one with size=4M (2 pages). */
static int group_setup(void **state)
{
        char tmpl[] = "/tmp/vl-huge.XXXXXX";

        if (unshare(CLONE_NEWNS) < 0) {
                snprintf(no_mount_reason, sizeof(no_mount_reason), "unshare(CLONE_NEWNS): %s", strerror(errno));
                return 0;
        }
        if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) {
                snprintf(no_mount_reason, sizeof(no_mount_reason), "making / private: %s", strerror(errno));
                return 0;
        }
        if (!mkdtemp(tmpl))
                return -1;
        snprintf(huge2m, sizeof(huge2m), "%s/2m", tmpl);
        snprintf(huge2m_small, sizeof(huge2m_small), "%s/2m-small", tmpl);
        (void) mkdir(huge2m, 0755);
        (void) mkdir(huge2m_small, 0755);
        if (mount("hugetlbfs", huge2m, "hugetlbfs", 0, "pagesize=2M") < 0 ||
            mount("hugetlbfs", huge2m_small, "hugetlbfs", 0, "pagesize=2M,size=4M") < 0) {
                snprintf(no_mount_reason, sizeof(no_mount_reason), "mount -t hugetlbfs -o pagesize=2M: %s",
                         strerror(errno));
                huge2m[0] = huge2m_small[0] = '\0';
        }
        return 0;
}

static int group_teardown(void **state)
{
        char top[64];

        if (huge2m[0]) {
                (void) umount(huge2m);
                (void) umount(huge2m_small);
                (void) rmdir(huge2m);
                (void) rmdir(huge2m_small);
                snprintf(top, sizeof(top), "%.*s", (int) (strrchr(huge2m, '/') - huge2m), huge2m);
                (void) rmdir(top);
        }
        return 0;
}

static void need_mount(void)
{
        if (!huge2m[0])
                vl_skip("no hugetlbfs mount could be made here (%s)", no_mount_reason);
}

static int setup(void **state)
{
        struct fixture *f = calloc(1, sizeof(*f));

        assert_non_null(f);
        f->fs = fakesys_new();
        f->m = (struct model) { .fs = f->fs, .capacity = 1000 };
        hugepages_env_init(&f->env, fakesys_roots(f->fs));
        f->env.write = model_write;
        f->env.userdata = &f->m;
        profile_init(&f->p, "hp");
        f->p.memory_mib = 128; /* 64 pages of 2M */
        f->p.hugepages.enabled = true;
        snprintf(f->p.hugepages.path, sizeof(f->p.hugepages.path), "%s", huge2m[0] ? huge2m : "/nonexistent");
        snprintf(f->p.source, sizeof(f->p.source), "/etc/vfio-launch/hp.json");
        *state = f;
        return 0;
}

static int teardown(void **state)
{
        struct fixture *f = *state;
        char dir[PROFILE_PATH_MAX];

        if (huge2m[0] && hugepages_vm_dir(huge2m, "hp", dir, sizeof(dir)) == 0)
                (void) rmdir(dir); /* a failed test's leftover */
        fakesys_free(f->fs);
        free(f);
        return 0;
}

static bool journal_there(const struct fixture *f)
{
        char path[4096];

        assert_int_equal(journal_path(path, sizeof(path), fakesys_run(f->fs), "hp"), 0);
        return access(path, F_OK) == 0;
}

static bool vm_dir_there(const struct fixture *f)
{
        char dir[PROFILE_PATH_MAX];

        assert_int_equal(hugepages_vm_dir(f->p.hugepages.path, "hp", dir, sizeof(dir)), 0);
        return access(dir, F_OK) == 0;
}

/* ---- arithmetic and names ---------------------------------------------------------------------- */

static void test_available(void **state)
{
        struct hugepages_pool p = { .nr = 100, .free = 80, .resv = 10 };

        assert_int_equal(hugepages_available(&p), 70);
        p = (struct hugepages_pool) { .nr = 10, .free = 2, .resv = 5 }; /* resv > free: none */
        assert_int_equal(hugepages_available(&p), 0);
        p = (struct hugepages_pool) { .nr = 0, .free = 0, .resv = 0 };
        assert_int_equal(hugepages_available(&p), 0);
        assert_int_equal(profile_hugepage_kib(HUGEPAGE_2M), 2048);
        assert_int_equal(profile_hugepage_kib(HUGEPAGE_1G), 1048576);
}

static void test_vm_dir(void **state)
{
        char buf[64];

        assert_int_equal(hugepages_vm_dir("/dev/hugepages", "win10", buf, sizeof(buf)), 0);
        assert_string_equal(buf, "/dev/hugepages/vfio-launch-win10");
        assert_int_equal(hugepages_vm_dir("/mnt/huge1G//", "a", buf, sizeof(buf)), 0);
        assert_string_equal(buf, "/mnt/huge1G/vfio-launch-a");
        assert_int_equal(hugepages_vm_dir("/", "a", buf, sizeof(buf)), 0);
        assert_string_equal(buf, "/vfio-launch-a");
        assert_int_equal(hugepages_vm_dir("/a/very/long/mount/point/for/hugepages", "and-a-long-name", buf, 40),
                         -ENAMETOOLONG);
}

static void test_read_pool(void **state)
{
        struct fixture *f = *state;
        struct hugepages_pool p;
        struct vl_error e = {};
        char path[4096];
        FILE *fp;

        assert_int_equal(hugepages_read_pool(fakesys_sys(f->fs), 2048, &p, &e), -EOPNOTSUPP);
        assert_non_null(strstr(e.msg, "this kernel has no 2M hugepages"));
        assert_int_equal(hugepages_read_pool(fakesys_sys(f->fs), 1048576, &p, &e), -EOPNOTSUPP);
        assert_non_null(strstr(e.msg, "pdpe1gb"));
        pool(f->fs, 12, 7, 3);
        assert_int_equal(hugepages_read_pool(fakesys_sys(f->fs), 2048, &p, &e), 0);
        assert_int_equal(p.nr, 12);
        assert_int_equal(p.free, 7);
        assert_int_equal(p.resv, 3);
        pool_path(f->fs, "resv_hugepages", path, sizeof(path));
        fp = fopen(path, "we");
        assert_non_null(fp);
        fputs("3x\n", fp);
        fclose(fp);
        assert_int_equal(hugepages_read_pool(fakesys_sys(f->fs), 2048, &p, &e), -EBADMSG);
        assert_non_null(strstr(e.msg, "resv_hugepages holds \"3x\""));
}

/* ---- the mount check --------------------------------------------------------------------------- */

/* A real folder of another file system must be refused, naming it: QEMU
 * would take it and put the guest's RAM in an ordinary file. */
static void test_refuse_not_hugetlbfs(void **state)
{
        struct fixture *f = *state;
        struct vl_error e = {};
        char buf[1024], file[4096];
        FILE *fp;

        /* the fakesys temp dir: whatever /tmp is here (ext4, tmpfs, ...) */
        assert_int_equal(hugepages_check_mount(fakesys_top(f->fs), 2048, 0, "hp.json", &e), -EMEDIUMTYPE);
        vl_error_format(&e, buf, sizeof(buf));
        print_message("%s\n", buf);
        assert_non_null(strstr(buf, "hp.json: $.hugepages.path: "));
        assert_non_null(strstr(buf, "not on hugetlbfs"));
        assert_non_null(strstr(buf, "mount -t hugetlbfs -o pagesize=2M hugetlbfs "));
        if (access("/dev/shm", F_OK) == 0) { /* tmpfs on every Debian */
                assert_int_equal(hugepages_check_mount("/dev/shm", 2048, 0, NULL, &e), -EMEDIUMTYPE);
                assert_non_null(strstr(e.msg, "/dev/shm is on tmpfs, not on hugetlbfs"));
        }
        assert_int_equal(hugepages_check_mount("/proc", 1048576, 0, NULL, &e), -EMEDIUMTYPE);
        assert_non_null(strstr(e.msg, "/proc is on proc, not on hugetlbfs"));
        assert_non_null(strstr(e.msg, "pagesize=1G"));
        assert_int_equal(hugepages_check_mount("/nonexistent/huge", 2048, 0, NULL, &e), -ENOENT);
        assert_non_null(strstr(e.msg, "/nonexistent/huge does not exist: mount hugetlbfs there"));
        snprintf(file, sizeof(file), "%s/file", fakesys_top(f->fs));
        fp = fopen(file, "we");
        assert_non_null(fp);
        fclose(fp);
        assert_int_equal(hugepages_check_mount(file, 2048, 0, NULL, &e), -ENOTDIR);
}

static void test_hugetlbfs_mount(void **state)
{
        struct vl_error e = {};
        char sub[128];

        need_mount();
        assert_int_equal(hugepages_check_mount(huge2m, 2048, 64, NULL, &e), 0);
        /* any folder inside the mount is on it */
        snprintf(sub, sizeof(sub), "%s/sub", huge2m);
        assert_int_equal(mkdir(sub, 0700), 0);
        assert_int_equal(hugepages_check_mount(sub, 2048, 64, NULL, &e), 0);
        assert_int_equal(rmdir(sub), 0);
        /* the page size must be the profile's */
        assert_int_equal(hugepages_check_mount(huge2m, 1048576, 1, NULL, &e), -EINVAL);
        assert_non_null(strstr(e.msg, "is a hugetlbfs mount of 2M pages, the profile asks for 1G"));
        /* size=4M: room for 2 pages */
        assert_int_equal(hugepages_check_mount(huge2m_small, 2048, 2, NULL, &e), 0);
        assert_int_equal(hugepages_check_mount(huge2m_small, 2048, 3, NULL, &e), -ENOSPC);
        assert_non_null(strstr(e.msg, "has room for 2 more 2M pages"));
}

/* ---- plan ------------------------------------------------------------------------------------------- */

static void test_plan_enough(void **state)
{
        struct fixture *f = *state;
        struct hugepages_plan plan;
        struct vl_error e = {};
        char want[PROFILE_PATH_MAX];

        need_mount();
        pool(f->fs, 100, 80, 10); /* 70 available, 64 needed */
        assert_int_equal(hugepages_plan(&f->env, &f->p, &plan, &e), 0);
        assert_int_equal(plan.page_kib, 2048);
        assert_int_equal(plan.needed, 64);
        assert_int_equal(plan.available, 70);
        assert_int_equal(plan.missing, 0);
        snprintf(want, sizeof(want), "%s/vfio-launch-hp", huge2m);
        assert_string_equal(plan.dir, want);
        assert_int_equal(f->m.writes, 0);
}

/* Too few free pages and no "reserve": refused, nothing written. Reserved
 * pages (resv) do not count as free. */
static void test_plan_refuse(void **state)
{
        struct fixture *f = *state;
        struct hugepages_plan plan;
        struct vl_error e = {};
        char buf[1024];

        need_mount();
        pool(f->fs, 100, 70, 10); /* 60 available, 64 needed */
        assert_int_equal(hugepages_plan(&f->env, &f->p, &plan, &e), -ENOMEM);
        vl_error_format(&e, buf, sizeof(buf));
        print_message("%s\n", buf);
        assert_non_null(strstr(buf, "/etc/vfio-launch/hp.json: $.hugepages: the guest needs 64 free 2M "
                                    "hugepages (128 MiB), the host has 60 (nr_hugepages 100, free 70, 10 "));
        assert_non_null(strstr(buf, "echo 104 > "));
        assert_non_null(strstr(buf, "set \"reserve\": true"));
        assert_int_equal(f->m.writes, 0);
        assert_false(journal_there(f));
        assert_false(vm_dir_there(f));

        f->p.hugepages.reserve = true;
        assert_int_equal(hugepages_plan(&f->env, &f->p, &plan, &e), 0);
        assert_int_equal(plan.missing, 4);
        assert_int_equal(f->m.writes, 0);
}

static void test_plan_leftovers(void **state)
{
        struct fixture *f = *state;
        struct hugepages_plan plan;
        struct journal j;
        struct vl_error e = {};
        char dir[PROFILE_PATH_MAX];

        need_mount();
        pool(f->fs, 100, 100, 0);
        /* the VM's folder exists: another run, or a leftover */
        assert_int_equal(hugepages_vm_dir(huge2m, "hp", dir, sizeof(dir)), 0);
        assert_int_equal(mkdir(dir, 0700), 0);
        assert_int_equal(hugepages_plan(&f->env, &f->p, &plan, &e), -EEXIST);
        assert_non_null(strstr(e.msg, "exists already"));
        assert_int_equal(rmdir(dir), 0);
        /* a journal of a dead run of this VM: recover first */
        journal_init(&j, "hp", fakesys_roots(f->fs));
        j.launcher_pid = 1234567;
        assert_int_equal(journal_create(fakesys_roots(f->fs), &j, &e), 0);
        assert_int_equal(hugepages_plan(&f->env, &f->p, &plan, &e), -EEXIST);
        assert_non_null(strstr(e.msg, "see `vfio-launch recover`"));
}

/* What every way back runs (the end of a run, recover): host_undo() with
 * this fixture's hugepages settings (the model pool). */
static int undo(struct fixture *f, struct vl_error *e, struct vl_warnings *w)
{
        struct host_env h;

        host_env_init(&h, f->env.roots);
        h.hugepages = f->env;
        return host_undo(&h, "hp", e, w);
}

/* ---- setup and undo --------------------------------------------------------------------------------- */

static void entry_of(const struct fixture *f, struct journal_entry *ret)
{
        struct journal *j = malloc(sizeof(*j));
        struct vl_error e = {};

        assert_non_null(j);
        assert_int_equal(journal_load(fakesys_roots(f->fs), "hp", j, &e), 0);
        assert_int_equal(j->n_entries, 1);
        *ret = j->entries[0];
        free(j);
}

/* reserve: journal first, the pool raised by what is missing, the folder
 * made and handed to QEMU's user; undo gives exactly that back. */
static void test_reserve_and_restore(void **state)
{
        struct fixture *f = *state;
        struct hugepages_plan plan;
        struct journal_entry x;
        struct vl_warnings w = {};
        struct vl_error e = {};
        struct stat st;

        need_mount();
        f->p.hugepages.reserve = true;
        pool(f->fs, 30, 20, 0); /* 44 missing */
        assert_int_equal(hugepages_plan(&f->env, &f->p, &plan, &e), 0);
        assert_int_equal(plan.missing, 44);
        assert_int_equal(hugepages_setup(&f->env, &f->p, &plan, 65534, 65534, &e), 44);
        assert_int_equal(pool_get(f->fs, "nr_hugepages"), 74);
        assert_int_equal(pool_get(f->fs, "free_hugepages"), 64);
        entry_of(f, &x);
        assert_int_equal(x.kind, JOURNAL_HUGEPAGES);
        assert_int_equal(x.hugepages.page_kib, 2048);
        assert_int_equal(x.hugepages.before, 30);
        assert_int_equal(x.hugepages.added, 44);
        assert_string_equal(x.hugepages.dir, plan.dir);
        assert_int_equal(stat(plan.dir, &st), 0);
        assert_true(S_ISDIR(st.st_mode));
        assert_int_equal(st.st_mode & 07777, 0700);
        assert_int_equal(st.st_uid, 65534);
        assert_int_equal(st.st_gid, 65534);

        assert_int_equal(undo(f, &e, &w), 0);
        assert_int_equal(w.n, 0);
        assert_int_equal(pool_get(f->fs, "nr_hugepages"), 30);
        assert_int_equal(pool_get(f->fs, "free_hugepages"), 20);
        assert_false(vm_dir_there(f));
        assert_false(journal_there(f)); /* its only entry gone: deleted */
        /* twice is harmless */
        assert_int_equal(undo(f, &e, &w), 0);
        assert_int_equal(pool_get(f->fs, "nr_hugepages"), 30);
}

/* Enough free pages: nothing written to the pool, but the folder is still
 * made, journalled and removed. */
static void test_no_reserve_needed(void **state)
{
        struct fixture *f = *state;
        struct hugepages_plan plan;
        struct journal_entry x;
        struct vl_error e = {};

        need_mount();
        f->p.hugepages.reserve = true;
        pool(f->fs, 64, 64, 0);
        assert_int_equal(hugepages_plan(&f->env, &f->p, &plan, &e), 0);
        assert_int_equal(hugepages_setup(&f->env, &f->p, &plan, (uid_t) -1, (gid_t) -1, &e), 0);
        assert_int_equal(f->m.writes, 0);
        entry_of(f, &x);
        assert_int_equal(x.hugepages.added, 0);
        assert_true(vm_dir_there(f));
        assert_int_equal(undo(f, &e, NULL), 0);
        assert_int_equal(f->m.writes, 0);
        assert_false(vm_dir_there(f));
        assert_false(journal_there(f));
}

/* Another VM reserves after us and is still running when we stop: we take
 * out only what we added (not "back to 30", which would shrink its pages). */
static void test_restore_keeps_others(void **state)
{
        struct fixture *f = *state;
        struct hugepages_plan plan;
        struct vl_error e = {};
        char path[4096];

        need_mount();
        f->p.hugepages.reserve = true;
        pool(f->fs, 30, 20, 0);
        assert_int_equal(hugepages_plan(&f->env, &f->p, &plan, &e), 0);
        assert_int_equal(hugepages_setup(&f->env, &f->p, &plan, (uid_t) -1, (gid_t) -1, &e), 44);
        assert_int_equal(pool_get(f->fs, "nr_hugepages"), 74);
        pool_path(f->fs, "nr_hugepages", path, sizeof(path));
        assert_int_equal(model_write(&f->m, path, "84", 0), 0); /* the other VM: +10 */
        assert_int_equal(undo(f, &e, NULL), 0);
        assert_int_equal(pool_get(f->fs, "nr_hugepages"), 40);
        assert_int_equal(pool_get(f->fs, "free_hugepages"), 30);
}

/* Pages still in use at the give-back: the kernel keeps them as surplus
 * until released; said as a warning, the entry is dropped all the same (a
 * second give-back would take pages that are not ours). */
static void test_restore_in_use_warns(void **state)
{
        struct fixture *f = *state;
        struct hugepages_plan plan;
        struct vl_warnings w = {};
        struct vl_error e = {};

        need_mount();
        f->p.hugepages.reserve = true;
        pool(f->fs, 0, 0, 0);
        assert_int_equal(hugepages_plan(&f->env, &f->p, &plan, &e), 0);
        assert_int_equal(hugepages_setup(&f->env, &f->p, &plan, (uid_t) -1, (gid_t) -1, &e), 64);
        assert_int_equal(pool_get(f->fs, "nr_hugepages"), 64);
        pool_set(f->fs, "free_hugepages", 54); /* something maps 10 of them */
        assert_int_equal(undo(f, &e, &w), 0);
        assert_int_equal(pool_get(f->fs, "nr_hugepages"), 10);
        assert_int_equal(w.n, 1);
        print_message("%s\n", w.msg[0]);
        assert_non_null(strstr(w.msg[0], "10 of the 2M hugepages this run added are still in use"));
        assert_false(journal_there(f));
}

/* The kernel assembles fewer pages than asked: they are given back and the
 * run refused; nothing is left. */
static void test_kernel_gives_fewer(void **state)
{
        struct fixture *f = *state;
        struct hugepages_plan plan;
        struct vl_error e = {};

        need_mount();
        f->p.hugepages.reserve = true;
        f->m.capacity = 50;
        pool(f->fs, 30, 20, 0);
        assert_int_equal(hugepages_plan(&f->env, &f->p, &plan, &e), 0);
        assert_int_equal(hugepages_setup(&f->env, &f->p, &plan, (uid_t) -1, (gid_t) -1, &e), -ENOMEM);
        print_message("%s\n", e.msg);
        assert_non_null(strstr(e.msg, "the kernel found only 20 of the 44 2M hugepages missing"));
        assert_null(strstr(e.msg, "NOT all given back"));
        assert_int_equal(pool_get(f->fs, "nr_hugepages"), 30);
        assert_int_equal(pool_get(f->fs, "free_hugepages"), 20);
        assert_false(vm_dir_there(f));
        assert_false(journal_there(f));
}

/* A write the kernel refuses; one that returns only after the timeout; and
 * a pool that shrank since the plan without "reserve". Nothing is left any
 * way: what the pool holds after the write is what is given back. */
static void test_setup_refusals(void **state)
{
        struct fixture *f = *state;
        struct hugepages_plan plan;
        struct vl_error e = {};

        need_mount();
        f->p.hugepages.reserve = true;
        pool(f->fs, 0, 0, 0);
        assert_int_equal(hugepages_plan(&f->env, &f->p, &plan, &e), 0);
        f->m.refuse = EACCES;
        assert_int_equal(hugepages_setup(&f->env, &f->p, &plan, (uid_t) -1, (gid_t) -1, &e), -EACCES);
        assert_non_null(strstr(e.msg, "cannot write 64 to "));
        assert_false(vm_dir_there(f));
        assert_false(journal_there(f));

        f->m.refuse = 0;
        f->m.late = true;
        assert_int_equal(hugepages_setup(&f->env, &f->p, &plan, (uid_t) -1, (gid_t) -1, &e), -ETIMEDOUT);
        print_message("%s\n", e.msg);
        assert_non_null(strstr(e.msg, "nr_hugepages may still change"));
        assert_null(strstr(e.msg, "NOT all given back"));
        assert_int_equal(pool_get(f->fs, "nr_hugepages"), 0);
        assert_false(vm_dir_there(f));
        assert_false(journal_there(f));

        f->m.refuse = 0;
        f->p.hugepages.reserve = false;
        pool(f->fs, 64, 64, 0);
        assert_int_equal(hugepages_plan(&f->env, &f->p, &plan, &e), 0);
        pool(f->fs, 64, 60, 0); /* 4 taken since */
        assert_int_equal(hugepages_setup(&f->env, &f->p, &plan, (uid_t) -1, (gid_t) -1, &e), -ENOMEM);
        assert_non_null(strstr(e.msg, "only 60 free 2M hugepages left, the guest needs 64"));
        assert_int_equal(f->m.writes, 3); /* the refused one, the late one and its give-back */
        assert_false(vm_dir_there(f));
        assert_false(journal_there(f));
}

/* The launcher dies after the reservation (a forked child that never
 * undoes): the journal and the folder stay; `recover`'s undo gives the
 * pages back from the journal alone. */
static void test_recover_after_crash(void **state)
{
        struct fixture *f = *state;
        struct hugepages_plan plan;
        struct journal_entry x;
        struct vl_error e = {};
        pid_t pid;
        int st;

        need_mount();
        f->p.hugepages.reserve = true;
        pool(f->fs, 2, 2, 0);
        assert_int_equal(hugepages_plan(&f->env, &f->p, &plan, &e), 0);
        pid = fork();
        assert_true(pid >= 0);
        if (pid == 0)
                _exit(hugepages_setup(&f->env, &f->p, &plan, (uid_t) -1, (gid_t) -1, &e) == 62 ? 0 : 1);
        assert_int_equal(waitpid(pid, &st, 0), pid);
        assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
        assert_int_equal(pool_get(f->fs, "nr_hugepages"), 64);
        assert_true(vm_dir_there(f));
        entry_of(f, &x);
        assert_int_equal(x.hugepages.before, 2);
        assert_int_equal(x.hugepages.added, 62);

        assert_int_equal(undo(f, &e, NULL), 0);
        assert_int_equal(pool_get(f->fs, "nr_hugepages"), 2);
        assert_false(vm_dir_there(f));
        assert_false(journal_there(f));
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_available),
                cmocka_unit_test(test_vm_dir),
                cmocka_unit_test_setup_teardown(test_read_pool, setup, teardown),
                cmocka_unit_test_setup_teardown(test_refuse_not_hugetlbfs, setup, teardown),
                cmocka_unit_test_setup_teardown(test_hugetlbfs_mount, setup, teardown),
                cmocka_unit_test_setup_teardown(test_plan_enough, setup, teardown),
                cmocka_unit_test_setup_teardown(test_plan_refuse, setup, teardown),
                cmocka_unit_test_setup_teardown(test_plan_leftovers, setup, teardown),
                cmocka_unit_test_setup_teardown(test_reserve_and_restore, setup, teardown),
                cmocka_unit_test_setup_teardown(test_no_reserve_needed, setup, teardown),
                cmocka_unit_test_setup_teardown(test_restore_keeps_others, setup, teardown),
                cmocka_unit_test_setup_teardown(test_restore_in_use_warns, setup, teardown),
                cmocka_unit_test_setup_teardown(test_kernel_gives_fewer, setup, teardown),
                cmocka_unit_test_setup_teardown(test_setup_refusals, setup, teardown),
                cmocka_unit_test_setup_teardown(test_recover_after_crash, setup, teardown),
        };

        return vl_run_tests(tests, group_setup, group_teardown);
}
