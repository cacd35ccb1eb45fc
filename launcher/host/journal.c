/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * journal: RUN_DIR/NAME/state.json, written atomically, loaded strictly.
 * See journal.h for the format and the liveness rules; the entries' kinds,
 * their keys and the checks of their values are journal_entry.c's.
 *
 * Every string read back from a journal ends up in a sysfs path or write
 * (drivers/ORIG/bind, driver_override): they are checked to be plain driver
 * names, never "..", never containing '/'.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/fs.h"
#include "host/journal.h"
#include "host/journal_entry.h"

/* 2: typed entries (1 had "kind", "id" and a free-form "data" string). */
#define JOURNAL_VERSION 2
#define JOURNAL_TMP_NAME ".state.json.tmp"
#define JOURNAL_LIST_MAX 256

static const char *const step_names[_JOURNAL_STEP_MAX] = {
        [JOURNAL_STEP_PLANNED] = "planned", [JOURNAL_STEP_OVERRIDE] = "override",
        [JOURNAL_STEP_UNBIND] = "unbind",   [JOURNAL_STEP_PROBE] = "probe",
        [JOURNAL_STEP_ON_VFIO] = "on-vfio",
};

const char *journal_step_to_string(enum journal_step s)
{
        return (unsigned) s < _JOURNAL_STEP_MAX ? step_names[s] : NULL;
}

static int step_from_string(const char *s)
{
        for (unsigned i = 0; i < _JOURNAL_STEP_MAX; i++)
                if (strcmp(s, step_names[i]) == 0)
                        return (int) i;
        return -EINVAL;
}

/* A kernel driver or module name as it may appear in a sysfs path. */
static bool driver_name_valid(const char *s)
{
        size_t n = strlen(s);

        if (n == 0 || n >= JOURNAL_DRIVER_MAX || strcmp(s, ".") == 0 || strcmp(s, "..") == 0)
                return false;
        for (size_t i = 0; i < n; i++)
                if (!isalnum((unsigned char) s[i]) && !strchr("_.-:", s[i]))
                        return false;
        return true;
}

int journal_path(char *buf, size_t size, const char *run_dir, const char *name)
{
        if (!profile_name_valid(name))
                return -EINVAL;
        return fs_join(buf, size, run_dir, "%s/%s", name, JOURNAL_FILE_NAME);
}

int journal_process_start(const char *proc_root, pid_t pid, uint64_t *ret)
{
        char path[PATH_MAX], buf[1024], *p, *save = NULL, *tok;
        int r;

        if (pid <= 0)
                return -EINVAL;
        r = fs_join(path, sizeof(path), proc_root, "%d/stat", (int) pid);
        if (r < 0)
                return r;
        r = fs_read(path, buf, sizeof(buf));
        if (r < 0)
                return r;
        /* "PID (COMM) STATE PPID ...": COMM may hold spaces and ')'. */
        p = strrchr(buf, ')');
        if (!p || p[1] != ' ')
                return -EIO;
        p += 2;
        for (int field = 3; (tok = strtok_r(p, " ", &save)); field++, p = NULL) {
                if (field == 3 && (tok[0] == 'Z' || tok[0] == 'X'))
                        return -ESRCH;
                if (field == 22) {
                        char *end;
                        errno = 0;
                        unsigned long long v = strtoull(tok, &end, 10);
                        if (errno != 0 || *end != '\0')
                                return -EIO;
                        *ret = v;
                        return 0;
                }
        }
        return -EIO;
}

int journal_load_for_undo(const struct host_roots *roots, const char *name, struct journal *j,
                          struct vl_error *e)
{
        const char *proc_root = roots->proc;
        int r = journal_load(roots, name, j, e);

        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return r;
        if (j->launcher_pid != getpid() && journal_pid_alive(proc_root, j->launcher_pid, j->launcher_start))
                return vl_error_set(e, EBUSY,
                                    "VM \"%s\" is still running (launcher pid %d): stop it (`vfio-launch stop %s`), "
                                    "it gives the host back itself",
                                    name, (int) j->launcher_pid, name);
        if (j->qemu_pid > 0 && journal_pid_alive(proc_root, j->qemu_pid, j->qemu_start))
                return vl_error_set(e, EBUSY,
                                    "QEMU (pid %d) of VM \"%s\" is still running and holds its devices: stop it "
                                    "(kill %d), then recover",
                                    (int) j->qemu_pid, name, (int) j->qemu_pid);
        return 1;
}

bool journal_pid_alive(const char *proc_root, pid_t pid, uint64_t start)
{
        char path[PATH_MAX];
        uint64_t now_start = 0;
        int r;

        if (pid <= 0 || fs_join(path, sizeof(path), proc_root, "%d", (int) pid) < 0)
                return false;
        if (!fs_exists(path))
                return false;
        r = journal_process_start(proc_root, pid, &now_start);
        if (r == -ESRCH)
                return false; /* a zombie: it is gone */
        if (start == 0)
                return true;
        return r >= 0 && now_start == start;
}

void journal_init(struct journal *j, const char *name, const struct host_roots *roots)
{
        memset(j, 0, sizeof(*j));
        (void) snprintf(j->name, sizeof(j->name), "%s", name);
        j->launcher_pid = getpid();
        if (journal_process_start(roots->proc, j->launcher_pid, &j->launcher_start) < 0)
                j->launcher_start = 0;
}

struct journal_device *journal_find_device(struct journal *j, const struct pci_addr *addr)
{
        for (unsigned i = 0; i < j->n_devices; i++)
                if (pci_addr_equal(&j->devices[i].addr, addr))
                        return &j->devices[i];
        return NULL;
}

/* --- to JSON ------------------------------------------------------------ */

static json_t *str_or_null(const char *s)
{
        return s[0] ? json_string(s) : json_null();
}

char *journal_format(const struct journal *j)
{
        json_t *root, *devs, *groups, *entries;
        char *text;
        int r;

        root = json_pack("{s:i, s:s, s:I, s:I, s:I, s:I}", "version", JOURNAL_VERSION, "name", j->name,
                         "launcher_pid", (json_int_t) j->launcher_pid, "launcher_start",
                         (json_int_t) j->launcher_start, "qemu_pid", (json_int_t) j->qemu_pid,
                         "qemu_start", (json_int_t) j->qemu_start);
        devs = json_array();
        groups = json_array();
        entries = json_array();
        if (!root || !devs || !groups || !entries)
                goto fail;
        for (unsigned i = 0; i < j->n_devices; i++) {
                const struct journal_device *d = &j->devices[i];
                char addr[PCI_ADDR_STRLEN];
                if (json_array_append_new(devs, json_pack("{s:s, s:i, s:b, s:o, s:o, s:o, s:s}",
                                "address", pci_addr_format(&d->addr, addr), "group", d->group,
                                "managed", d->managed, "driver", str_or_null(d->orig_driver),
                                "module", str_or_null(d->orig_module),
                                "override", str_or_null(d->orig_override),
                                "step", journal_step_to_string(d->step))) < 0)
                        goto fail;
        }
        for (unsigned i = 0; i < j->n_groups; i++) {
                const struct journal_group *g = &j->groups[i];
                if (json_array_append_new(groups, json_pack("{s:i, s:b, s:I, s:I, s:I}", "group", g->group,
                                "chowned", g->chowned, "uid", (json_int_t) g->uid, "gid",
                                (json_int_t) g->gid, "mode", (json_int_t) g->mode)) < 0)
                        goto fail;
        }
        for (unsigned i = 0; i < j->n_entries; i++)
                if (json_array_append_new(entries, journal_entry_to_json(&j->entries[i])) < 0)
                        goto fail;
        /* json_object_set_new() takes the reference even when it fails. */
        r = json_object_set_new(root, "devices", devs);
        devs = NULL;
        if (r >= 0)
                r = json_object_set_new(root, "groups", groups);
        groups = NULL;
        if (r >= 0)
                r = json_object_set_new(root, "entries", entries);
        entries = NULL;
        if (r < 0)
                goto fail;
        text = json_dumps(root, JSON_INDENT(2));
        json_decref(root);
        return text;
fail:
        json_decref(devs);
        json_decref(groups);
        json_decref(entries);
        json_decref(root);
        return NULL;
}

/* --- from JSON ---------------------------------------------------------- */

/* Copy an optional string (NULL = "") into a fixed buffer; false if it
 * does not fit. */
static bool copy_opt(char *dst, size_t size, const char *src)
{
        if (!src)
                src = "";
        if (strlen(src) >= size)
                return false;
        strcpy(dst, src);
        return true;
}

/* A string or null (NULL); false for any other type. */
static bool nullable_string(json_t *v, const char **ret)
{
        if (json_is_null(v)) {
                *ret = NULL;
                return true;
        }
        if (!json_is_string(v))
                return false;
        *ret = json_string_value(v);
        return true;
}

#define BAD(...) vl_error_set_at(e, EBADMSG, path, 0, 0, "", __VA_ARGS__)

static int journal_from_json(json_t *root, const char *path, const char *want_name,
                             struct journal *j, struct vl_error *e)
{
        json_t *devs, *groups, *entries, *v;
        json_int_t version, lpid, lstart, qpid, qstart;
        const char *name;
        json_error_t jerr;
        size_t i;

        memset(j, 0, sizeof(*j));
        if (json_unpack_ex(root, &jerr, JSON_STRICT, "{s:I, s:s, s:I, s:I, s:I, s:I, s:o, s:o, s:o}",
                           "version", &version, "name", &name, "launcher_pid", &lpid, "launcher_start",
                           &lstart, "qemu_pid", &qpid, "qemu_start", &qstart, "devices", &devs,
                           "groups", &groups, "entries", &entries) < 0)
                return BAD("not a vfio-launch journal: %s", jerr.text);
        if (version != JOURNAL_VERSION)
                return BAD("journal version %lld, this vfio-launch reads version %d", (long long) version,
                           JOURNAL_VERSION);
        /* Not echoed when invalid: it may hold a newline or a terminal's
         * control sequence, and a message is one line. */
        if (!profile_name_valid(name))
                return BAD("\"name\" is not a VM name (1-63 of A-Z a-z 0-9 _ . -)");
        if (want_name && strcmp(name, want_name) != 0)
                return BAD("\"name\": \"%s\" does not match its directory \"%s\"", name, want_name);
        strcpy(j->name, name);
        if (lpid <= 0 || lpid > INT32_MAX || qpid < 0 || qpid > INT32_MAX || lstart < 0 || qstart < 0)
                return BAD("a PID or start time is out of range");
        j->launcher_pid = (pid_t) lpid;
        j->launcher_start = (uint64_t) lstart;
        j->qemu_pid = (pid_t) qpid;
        j->qemu_start = (uint64_t) qstart;

        if (!json_is_array(devs) || !json_is_array(groups) || !json_is_array(entries))
                return BAD("\"devices\", \"groups\" and \"entries\" must be arrays");
        if (json_array_size(devs) > JOURNAL_DEVICES_MAX || json_array_size(groups) > JOURNAL_GROUPS_MAX ||
            json_array_size(entries) > JOURNAL_ENTRIES_MAX)
                return BAD("too many devices, groups or entries");

        json_array_foreach(devs, i, v) {
                struct journal_device *d = &j->devices[i];
                const char *addr, *drv, *mod, *ovr, *step;
                json_t *jdrv, *jmod, *jovr;
                int managed, group, s;
                if (json_unpack_ex(v, &jerr, JSON_STRICT, "{s:s, s:i, s:b, s:o, s:o, s:o, s:s}", "address",
                                   &addr, "group", &group, "managed", &managed, "driver", &jdrv, "module", &jmod,
                                   "override", &jovr, "step", &step) < 0)
                        return BAD("devices[%zu]: %s", i, jerr.text);
                if (!nullable_string(jdrv, &drv) || !nullable_string(jmod, &mod) || !nullable_string(jovr, &ovr))
                        return BAD("devices[%zu]: \"driver\", \"module\" and \"override\" must be strings or null",
                                   i);
                if (strlen(addr) != 12 || pci_addr_parse(addr, &d->addr) < 0)
                        return BAD("devices[%zu]: \"%s\" is not a PCI address", i, addr);
                if (journal_find_device(j, &d->addr)) /* searches the i entries before */
                        return BAD("devices[%zu]: %s is listed twice", i, addr);
                if (group < 0)
                        return BAD("devices[%zu]: group %d is negative", i, group);
                if ((drv && !driver_name_valid(drv)) || (mod && !driver_name_valid(mod)) ||
                    (ovr && !driver_name_valid(ovr)) || !copy_opt(d->orig_driver, sizeof(d->orig_driver), drv) ||
                    !copy_opt(d->orig_module, sizeof(d->orig_module), mod) ||
                    !copy_opt(d->orig_override, sizeof(d->orig_override), ovr))
                        return BAD("devices[%zu]: a driver, module or override is not a driver name", i);
                s = step_from_string(step);
                if (s < 0)
                        return BAD("devices[%zu]: unknown step \"%s\"", i, step);
                d->group = group;
                d->managed = managed;
                d->step = (enum journal_step) s;
                j->n_devices = (unsigned) i + 1;
        }
        json_array_foreach(groups, i, v) {
                struct journal_group *g = &j->groups[i];
                json_int_t uid, gid, mode;
                int group, chowned;
                if (json_unpack_ex(v, &jerr, JSON_STRICT, "{s:i, s:b, s:I, s:I, s:I}", "group", &group,
                                   "chowned", &chowned, "uid", &uid, "gid", &gid, "mode", &mode) < 0)
                        return BAD("groups[%zu]: %s", i, jerr.text);
                /* A mode the launcher could have seen on a /dev/vfio node: no
                 * set-id or sticky bit is ever given back. */
                if (group < 0 || uid < 0 || uid >= UINT32_MAX || gid < 0 || gid >= UINT32_MAX || mode < 0 ||
                    mode > 0777)
                        return BAD("groups[%zu]: a value is out of range", i);
                *g = (struct journal_group) { .group = group, .chowned = chowned, .uid = (uint32_t) uid,
                                              .gid = (uint32_t) gid, .mode = (uint32_t) mode };
                j->n_groups = (unsigned) i + 1;
        }
        json_array_foreach(entries, i, v) {
                int r = journal_entry_from_json(v, i, path, j->name, &j->entries[i], e);
                if (r < 0)
                        return r;
                j->n_entries = (unsigned) i + 1;
        }
        return 0;
}

/* --- files -------------------------------------------------------------- */

static int open_dir(const char *run_dir, const char *name, bool create, int *ret_rfd, int *ret_dfd,
                    struct vl_error *e)
{
        _cleanup_close_ int rfd = -EBADF, dfd = -EBADF;
        struct stat st;

        if (!profile_name_valid(name))
                return vl_error_set(e, EINVAL, "\"%s\" is not a valid VM name", name);
        if (create && mkdir(run_dir, 0755) < 0 && errno != EEXIST)
                return vl_error_set(e, errno, "cannot create '%s': %s", run_dir, strerror(errno));
        rfd = open(run_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (rfd < 0)
                return vl_error_set(e, errno, "cannot open '%s': %s", run_dir, strerror(errno));
        if (create) {
                if (mkdirat(rfd, name, 0700) == 0)
                        (void) fsync(rfd);
                else if (errno != EEXIST)
                        return vl_error_set(e, errno, "cannot create '%s/%s': %s", run_dir, name, strerror(errno));
        }
        dfd = openat(rfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (dfd < 0) {
                int err = errno;
                if (err == ELOOP || err == ENOTDIR)
                        return vl_error_set(e, EPERM, "%s/%s is not a directory", run_dir, name);
                return vl_error_set(e, err, "cannot open '%s/%s': %s", run_dir, name, strerror(err));
        }
        if (fstat(dfd, &st) < 0)
                return vl_error_set(e, errno, "cannot stat '%s/%s': %s", run_dir, name, strerror(errno));
        if (st.st_uid != geteuid() || (st.st_mode & 022))
                return vl_error_set(e, EPERM,
                                    "%s/%s is owned by uid %u or writable by others: remove it (it is not ours)",
                                    run_dir, name, (unsigned) st.st_uid);
        if (ret_rfd)
                *ret_rfd = TAKE_FD(rfd);
        *ret_dfd = TAKE_FD(dfd);
        return 0;
}

static int journal_write(const char *run_dir, const struct journal *j, bool create, struct vl_error *e)
{
        _cleanup_close_ int dfd = -EBADF, fd = -EBADF;
        _cleanup_free_ char *text = NULL;
        int r;

        r = open_dir(run_dir, j->name, true, NULL, &dfd, e);
        if (r < 0)
                return r;
        text = journal_format(j);
        if (!text)
                return vl_error_set(e, ENOMEM, "cannot encode the journal of \"%s\"", j->name);

        (void) unlinkat(dfd, JOURNAL_TMP_NAME, 0);
        fd = openat(dfd, JOURNAL_TMP_NAME, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (fd < 0)
                return vl_error_set(e, errno, "cannot create '%s/%s/%s': %s", run_dir, j->name, JOURNAL_TMP_NAME,
                                    strerror(errno));
        r = fs_write_full(fd, text, strlen(text));
        if (r >= 0)
                r = fs_write_full(fd, "\n", 1);
        if (r >= 0 && fsync(fd) < 0)
                r = -errno;
        if (r >= 0 && close(TAKE_FD(fd)) < 0)
                r = -errno;
        if (r < 0) {
                (void) unlinkat(dfd, JOURNAL_TMP_NAME, 0);
                return vl_error_set(e, -r, "cannot write the journal '%s/%s': %s", run_dir, j->name, strerror(-r));
        }
        /* create: link() fails with EEXIST atomically where rename would
         * replace; the first save of a run must not clobber a journal left
         * by an earlier one. */
        if (create) {
                if (linkat(dfd, JOURNAL_TMP_NAME, dfd, JOURNAL_FILE_NAME, 0) < 0) {
                        r = -errno;
                        (void) unlinkat(dfd, JOURNAL_TMP_NAME, 0);
                        if (r == -EEXIST)
                                return vl_error_set(e, EEXIST, "a journal already exists at %s/%s/%s", run_dir,
                                                    j->name, JOURNAL_FILE_NAME);
                        return vl_error_set(e, -r, "cannot create the journal '%s/%s': %s", run_dir, j->name,
                                            strerror(-r));
                }
                (void) unlinkat(dfd, JOURNAL_TMP_NAME, 0);
        } else if (renameat(dfd, JOURNAL_TMP_NAME, dfd, JOURNAL_FILE_NAME) < 0) {
                r = -errno;
                (void) unlinkat(dfd, JOURNAL_TMP_NAME, 0);
                return vl_error_set(e, -r, "cannot replace the journal '%s/%s': %s", run_dir, j->name, strerror(-r));
        }
        if (fsync(dfd) < 0)
                return vl_error_set(e, errno, "cannot sync '%s/%s': %s", run_dir, j->name, strerror(errno));
        return 0;
}

int journal_create(const struct host_roots *roots, const struct journal *j, struct vl_error *e)
{
        return journal_write(roots->run, j, true, e);
}

int journal_save(const struct host_roots *roots, const struct journal *j, struct vl_error *e)
{
        return journal_write(roots->run, j, false, e);
}

int journal_load(const struct host_roots *roots, const char *name, struct journal *ret, struct vl_error *e)
{
        const char *run_dir = roots->run;
        _cleanup_close_ int dfd = -EBADF, fd = -EBADF;
        _cleanup_free_ char *buf = NULL;
        _cleanup_free_ struct journal *j = NULL;
        char path[PATH_MAX];
        struct stat st;
        size_t off = 0;
        ssize_t n;
        int r;

        r = journal_path(path, sizeof(path), run_dir, name);
        if (r < 0)
                return vl_error_set(e, -r, "\"%s\" is not a valid VM name", name);
        r = open_dir(run_dir, name, false, NULL, &dfd, e);
        if (r == -ENOENT)
                return vl_error_set(e, ENOENT, "no journal for \"%s\" in %s", name, run_dir);
        if (r < 0)
                return r;
        /* O_NONBLOCK: a FIFO planted there must not hang root. */
        fd = openat(dfd, JOURNAL_FILE_NAME, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
        if (fd < 0) {
                if (errno == ENOENT)
                        return vl_error_set(e, ENOENT, "no journal for \"%s\" in %s", name, run_dir);
                return vl_error_set(e, errno, "cannot open '%s': %s", path, strerror(errno));
        }
        if (fstat(fd, &st) < 0)
                return vl_error_set(e, errno, "cannot stat '%s': %s", path, strerror(errno));
        if (!S_ISREG(st.st_mode))
                return vl_error_set_at(e, EBADMSG, path, 0, 0, "", "not a regular file");
        /* Only what this launcher's account wrote is acted on as root. */
        if (st.st_uid != geteuid())
                return vl_error_set_at(e, EBADMSG, path, 0, 0, "",
                                       "belongs to uid %u, not to uid %u that writes journals (remove it: "
                                       "it is not ours)",
                                       (unsigned) st.st_uid, (unsigned) geteuid());
        if (st.st_size > (off_t) JOURNAL_FILE_MAX)
                return vl_error_set_at(e, EFBIG, path, 0, 0, "", "larger than %u bytes", JOURNAL_FILE_MAX);
        buf = malloc(JOURNAL_FILE_MAX + 1);
        j = malloc(sizeof(*j));
        if (!buf || !j)
                return vl_error_set(e, ENOMEM, "out of memory");
        n = fs_read_full(fd, buf, JOURNAL_FILE_MAX + 1);
        if (n < 0)
                return vl_error_set(e, (int) -n, "cannot read '%s': %s", path, strerror((int) -n));
        if (n > (ssize_t) JOURNAL_FILE_MAX)
                return vl_error_set_at(e, EFBIG, path, 0, 0, "", "larger than %u bytes", JOURNAL_FILE_MAX);
        off = (size_t) n;
        r = journal_parse(buf, off, path, name, j, e);
        if (r < 0)
                return r;
        *ret = *j;
        return 0;
}

int journal_parse(const char *text, size_t len, const char *path, const char *name, struct journal *ret,
                  struct vl_error *e)
{
        json_error_t jerr;
        json_t *root;
        int r;

        if (len > JOURNAL_FILE_MAX)
                return vl_error_set_at(e, EFBIG, path, 0, 0, "", "larger than %u bytes", JOURNAL_FILE_MAX);
        root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
        if (!root)
                return vl_error_set_at(e, EBADMSG, path, jerr.line, jerr.column, "", "corrupt journal: %s",
                                       jerr.text);
        r = journal_from_json(root, path, name, ret, e);
        json_decref(root);
        return r;
}

int journal_remove(const struct host_roots *roots, const char *name, struct vl_error *e)
{
        const char *run_dir = roots->run;
        _cleanup_close_ int rfd = -EBADF, dfd = -EBADF;
        int r;

        r = open_dir(run_dir, name, false, &rfd, &dfd, e);
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return r;
        if (unlinkat(dfd, JOURNAL_FILE_NAME, 0) < 0 && errno != ENOENT)
                return vl_error_set(e, errno, "cannot delete '%s/%s/%s': %s", run_dir, name, JOURNAL_FILE_NAME,
                                    strerror(errno));
        (void) unlinkat(dfd, JOURNAL_TMP_NAME, 0);
        (void) fsync(dfd);
        /* Other files of the run (a lock, a socket) may still be there. */
        if (unlinkat(rfd, name, AT_REMOVEDIR) == 0)
                (void) fsync(rfd);
        return 0;
}

static int listing_cmp(const void *a, const void *b)
{
        return strcmp(((const struct journal_listing *) a)->name, ((const struct journal_listing *) b)->name);
}

int journal_list(const struct host_roots *roots, struct journal_listing **ret, size_t *ret_n,
                 struct vl_error *e)
{
        const char *run_dir = roots->run;
        _cleanup_free_ struct journal_listing *list = NULL;
        DIR *d;
        struct dirent *de;
        size_t n = 0;

        d = opendir(run_dir);
        if (!d) {
                if (errno == ENOENT) {
                        *ret = NULL;
                        *ret_n = 0;
                        return 0;
                }
                return vl_error_set(e, errno, "cannot list '%s': %s", run_dir, strerror(errno));
        }
        while ((de = readdir(d))) {
                char path[PATH_MAX];
                struct journal_listing *l;
                if (de->d_name[0] == '.')
                        continue;
                if (fs_join(path, sizeof(path), run_dir, "%s/%s", de->d_name, JOURNAL_FILE_NAME) < 0 ||
                    !fs_exists(path))
                        continue;
                if (n >= JOURNAL_LIST_MAX) {
                        closedir(d);
                        return vl_error_set(e, E2BIG, "more than %d journals in %s", JOURNAL_LIST_MAX, run_dir);
                }
                if (n % 8 == 0) {
                        struct journal_listing *bigger = realloc(list, (n + 8) * sizeof(*list));
                        if (!bigger) {
                                closedir(d);
                                return vl_error_set(e, ENOMEM, "out of memory");
                        }
                        list = bigger;
                }
                l = &list[n++];
                memset(l, 0, sizeof(*l));
                (void) snprintf(l->name, sizeof(l->name), "%s", de->d_name);
                l->load_error = journal_load(roots, l->name, &l->journal, &l->error);
                if (l->load_error == 0)
                        l->alive = journal_pid_alive(roots->proc, l->journal.launcher_pid,
                                                     l->journal.launcher_start);
        }
        closedir(d);
        if (n > 0)
                qsort(list, n, sizeof(*list), listing_cmp);
        *ret = TAKE_PTR(list);
        *ret_n = n;
        return 0;
}

/* --- load-modify-save --------------------------------------------------- */

int journal_set_qemu(const struct host_roots *roots, const char *name, pid_t pid, struct vl_error *e)
{
        _cleanup_free_ struct journal *j = malloc(sizeof(*j));
        int r;

        if (!j)
                return vl_error_set(e, ENOMEM, "out of memory");
        r = journal_load(roots, name, j, e);
        if (r < 0)
                return r;
        j->qemu_pid = pid;
        if (pid <= 0 || journal_process_start(roots->proc, pid, &j->qemu_start) < 0)
                j->qemu_start = 0;
        return journal_save(roots, j, e);
}

int journal_add_entry(const struct host_roots *roots, const char *name, const struct journal_entry *x,
                      struct vl_error *e)
{
        _cleanup_free_ struct journal *j = malloc(sizeof(*j));
        char what[JOURNAL_PATH_MAX + 64];
        bool fresh = false;
        int r;

        if (!j)
                return vl_error_set(e, ENOMEM, "out of memory");
        r = journal_entry_check(x, name, what, sizeof(what));
        if (r < 0)
                return vl_error_set(e, EINVAL, "journal entry: %s", what);
        r = journal_load(roots, name, j, e);
        if (r == -ENOENT) {
                journal_init(j, name, roots);
                fresh = true;
        } else if (r < 0)
                return r;
        else if (j->launcher_pid != getpid())
                return vl_error_set(e, EEXIST,
                                    "a journal of \"%s\" already exists (launcher pid %d): another run is active "
                                    "or did not finish; see `vfio-launch recover`",
                                    name, (int) j->launcher_pid);
        if (j->n_entries >= JOURNAL_ENTRIES_MAX)
                return vl_error_set(e, ENOSPC, "the journal of \"%s\" is full (%d entries)", name,
                                    JOURNAL_ENTRIES_MAX);
        j->entries[j->n_entries++] = *x;
        return fresh ? journal_create(roots, j, e) : journal_save(roots, j, e);
}

void journal_drop_entry(struct journal *j, unsigned i)
{
        if (i >= j->n_entries)
                return;
        memmove(&j->entries[i], &j->entries[i + 1], (j->n_entries - i - 1) * sizeof(j->entries[0]));
        j->n_entries--;
}

int journal_remove_entry(const struct host_roots *roots, const char *name, const struct journal_entry *x,
                         struct vl_error *e)
{
        _cleanup_free_ struct journal *j = malloc(sizeof(*j));
        int r;

        if (!j)
                return vl_error_set(e, ENOMEM, "out of memory");
        r = journal_load(roots, name, j, e);
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return r;
        for (unsigned i = 0; i < j->n_entries; i++)
                if (journal_entry_equal(&j->entries[i], x)) {
                        journal_drop_entry(j, i);
                        break;
                }
        if (journal_empty(j))
                return journal_remove(roots, name, e);
        return journal_save(roots, j, e);
}

int journal_update_entry(const struct host_roots *roots, const char *name, const struct journal_entry *old,
                         const struct journal_entry *new, struct vl_error *e)
{
        _cleanup_free_ struct journal *j = malloc(sizeof(*j));
        char what[JOURNAL_PATH_MAX + 64];
        int r;

        if (!j)
                return vl_error_set(e, ENOMEM, "out of memory");
        if (journal_entry_check(new, name, what, sizeof(what)) < 0)
                return vl_error_set(e, EINVAL, "journal entry: %s", what);
        r = journal_load(roots, name, j, e);
        if (r < 0)
                return r;
        for (unsigned i = 0; i < j->n_entries; i++)
                if (journal_entry_equal(&j->entries[i], old)) {
                        j->entries[i] = *new;
                        return journal_save(roots, j, e);
                }
        return vl_error_set(e, ENOENT, "the journal of \"%s\" has no such entry", name);
}

bool journal_empty(const struct journal *j)
{
        return j->n_devices == 0 && j->n_entries == 0;
}
