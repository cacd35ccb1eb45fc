/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Host facts for the argv builder: the QEMU binary and its version, machine
 * type resolution, firmware descriptor matching (QEMU's
 * docs/interop/firmware.json, the same search libvirt does). Read-only; runs
 * in the launcher, never in the forked child. Firmware descriptors are
 * parsed with jansson here: they are QEMU's format, not a profile.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "base/exec.h"
#include "base/fs.h"
#include "qemu/hostinfo.h"
#include "base/macro.h"

#define QEMU_BINARY "qemu-system-x86_64"
#define DEFAULT_PATH "/usr/local/bin:/usr/bin:/bin"
#define HOSTINFO_CPU_HELP_MAX (64u * 1024u) /* bytes of `-cpu help` read: QEMU 7.2 prints 12 KiB */
#define PROBE_TIMEOUT_MS 10000

bool qemu_version_at_least(const struct qemu_version *v, unsigned major, unsigned minor,
                           unsigned micro)
{
        if (v->major != major)
                return v->major > major;
        if (v->minor != minor)
                return v->minor > minor;
        return v->micro >= micro;
}

/* One decimal component: digits only, no sign, bounded. */
static int parse_component(const char **s, unsigned *ret)
{
        unsigned long v = 0;
        const char *p = *s;

        if (*p < '0' || *p > '9')
                return -EINVAL;
        while (*p >= '0' && *p <= '9') {
                v = v * 10 + (unsigned long) (*p - '0');
                if (v > 65535)
                        return -EINVAL;
                p++;
        }
        *s = p;
        *ret = (unsigned) v;
        return 0;
}

int hostinfo_parse_version(const char *text, struct qemu_version *ret)
{
        static const char marker[] = "QEMU emulator version ";
        struct qemu_version v = {};
        const char *p;

        if (!text)
                return -EINVAL;
        p = strstr(text, marker);
        p = p ? p + strlen(marker) : text;
        while (*p == ' ' || *p == '\t')
                p++;
        if (parse_component(&p, &v.major) < 0 || *p++ != '.' ||
            parse_component(&p, &v.minor) < 0)
                return -EINVAL;
        if (*p == '.') {
                p++;
                if (parse_component(&p, &v.micro) < 0)
                        return -EINVAL;
        }
        /* Whatever follows must not continue the number ("7.2.22x" is junk,
         * "7.2.22 (Debian ...)" and "7.2.22\n" are fine). */
        if (*p && *p != ' ' && *p != '\n' && *p != '\r' && *p != '\t' && *p != '(')
                return -EINVAL;
        *ret = v;
        return 0;
}

static int check_executable(const char *path)
{
        struct stat st;

        if (stat(path, &st) < 0)
                return -errno;
        if (!S_ISREG(st.st_mode))
                return -EACCES;
        if (access(path, X_OK) < 0)
                return -errno;
        return 0;
}

int hostinfo_find_qemu(const char *explicit_path, const char *path_env, char *ret, size_t size,
                       struct vl_error *e)
{
        const char *p;
        int r;

        if (explicit_path && explicit_path[0]) {
                r = check_executable(explicit_path);
                if (r < 0)
                        return vl_error_set(e, -r, "QEMU binary \"%s\" is not usable: %s",
                                            explicit_path, strerror(-r));
                if (xsnprintf(ret, size, "%s", explicit_path) < 0)
                        return vl_error_set(e, ENAMETOOLONG, "QEMU path \"%s\" is too long",
                                            explicit_path);
                return 0;
        }

        if (!path_env || !path_env[0])
                path_env = DEFAULT_PATH;
        p = path_env;
        while (*p) {
                const char *end = strchrnul(p, ':');
                size_t len = (size_t) (end - p);
                char cand[PROFILE_PATH_MAX];

                /* An empty or relative $PATH entry means "the current folder":
                 * never pick a binary from wherever the launcher was started. */
                if (len > 0 && p[0] == '/' &&
                    xsnprintf(cand, sizeof(cand), "%.*s/%s", (int) len, p, QEMU_BINARY) == 0 &&
                    check_executable(cand) == 0) {
                        if (xsnprintf(ret, size, "%s", cand) < 0)
                                return vl_error_set(e, ENAMETOOLONG, "QEMU path \"%s\" is too long",
                                                    cand);
                        return 0;
                }
                p = *end ? end + 1 : end;
        }
        return vl_error_set(e, ENOENT,
                            "\"%s\" not found in \"%s\" (install qemu-system-x86 or give the "
                            "binary's path)",
                            QEMU_BINARY, path_env);
}

/* `QEMU ARG [ARG2]` with an empty environment (its output must not depend
 * on the caller's), stdout into out. */
static int run_qemu(const char *qemu_path, const char *arg, const char *arg2, char *out, size_t size,
                    struct vl_error *e)
{
        char *const argv[] = { (char *) qemu_path, (char *) arg, (char *) arg2, NULL };
        char *const envp[] = { NULL };
        int status = 0, r;

        r = exec_bounded(qemu_path, argv, envp, EXEC_CAPTURE_STDOUT, PROBE_TIMEOUT_MS, out, size, &status);
        if (r == -ETIMEDOUT)
                return vl_error_set(e, ETIMEDOUT, "\"%s %s%s%s\" did not finish in %d s", qemu_path, arg,
                                    arg2 ? " " : "", arg2 ? arg2 : "", PROBE_TIMEOUT_MS / 1000);
        if (r < 0)
                return vl_error_set(e, -r, "running \"%s %s%s%s\": %s", qemu_path, arg, arg2 ? " " : "",
                                    arg2 ? arg2 : "", strerror(-r));
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
                return vl_error_set(e, EIO, "\"%s %s%s%s\" failed (%s %d)", qemu_path, arg, arg2 ? " " : "",
                                    arg2 ? arg2 : "",
                                    WIFEXITED(status) ? "exit status" : "signal",
                                    WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
        return 0;
}

int hostinfo_parse_cpu_flags(const char *text, char *ret, size_t size)
{
        const char *p = strstr(text, "Recognized CPUID flags:");
        size_t len = 1;

        if (!p || size < 2)
                return -ENOENT;
        p += strlen("Recognized CPUID flags:");
        ret[0] = ' ';
        ret[1] = '\0';
        while (*p) {
                size_t n;

                p += strspn(p, " \t\n");
                n = strcspn(p, " \t\n");
                if (n == 0)
                        break;
                if (len + n + 2 > size)
                        return -E2BIG;
                for (size_t i = 0; i < n; i++)
                        ret[len + i] = p[i] == '_' ? '-' : p[i];
                len += n;
                ret[len++] = ' ';
                ret[len] = '\0';
                p += n;
        }
        return 0;
}

bool hostinfo_has_cpu_flag(const struct hostinfo *h, const char *name)
{
        char want[PROFILE_CPU_FEATURE_MAX + 2];
        size_t n = strlen(name);

        if (!h->cpu_flags[0])
                return true;
        if (n == 0 || n + 3 > sizeof(want) || strpbrk(name, " \t\n"))
                return false;
        want[0] = ' ';
        for (size_t i = 0; i < n; i++)
                want[1 + i] = name[i] == '_' ? '-' : name[i];
        want[n + 1] = ' ';
        want[n + 2] = '\0';
        return strstr(h->cpu_flags, want) != NULL;
}

int hostinfo_probe_qemu(const char *qemu_path, struct hostinfo *ret, struct vl_error *e)
{
        _cleanup_free_ char *out = malloc(HOSTINFO_CPU_HELP_MAX);
        struct qemu_version v;
        int r;

        if (!out)
                return vl_error_set(e, ENOMEM, "out of memory");
        if (strlen(qemu_path) >= sizeof(ret->qemu_path))
                return vl_error_set(e, ENAMETOOLONG, "QEMU path '%s' is too long", qemu_path);
        r = run_qemu(qemu_path, "-version", NULL, out, HOSTINFO_VERSION_OUTPUT_MAX, e);
        if (r < 0)
                return r;
        if (hostinfo_parse_version(out, &v) < 0) {
                out[strcspn(out, "\n")] = '\0';
                return vl_error_set(e, EINVAL, "cannot read a version in \"%s -version\" output \"%.80s\"",
                                    qemu_path, out);
        }
        memset(ret, 0, sizeof(*ret));
        strcpy(ret->qemu_path, qemu_path); /* length checked above */
        ret->version = v;
        /* The flag names, for the profile's "features": without them QEMU
         * would be the one to refuse a misspelt name, after the devices
         * moved. A QEMU without the list leaves them unchecked. */
        r = run_qemu(qemu_path, "-cpu", "help", out, HOSTINFO_CPU_HELP_MAX, e);
        if (r < 0)
                return r;
        r = hostinfo_parse_cpu_flags(out, ret->cpu_flags, sizeof(ret->cpu_flags));
        if (r == -E2BIG)
                return vl_error_set(e, E2BIG, "\"%s -cpu help\" lists more CPU flags than %d bytes hold", qemu_path,
                                    HOSTINFO_CPU_FLAGS_MAX);
        if (r < 0)
                ret->cpu_flags[0] = '\0';
        return 0;
}

/* One line: "PATH\tDEV INO SIZE MTIME.NS CTIME.NS MAJOR.MINOR.MICRO\n". */
static int probe_key(const char *qemu_path, char *buf, size_t size)
{
        struct stat st;

        if (stat(qemu_path, &st) < 0)
                return -errno;
        return xsnprintf(buf, size, "%s\t%llu %llu %lld %lld.%09ld %lld.%09ld", qemu_path,
                         (unsigned long long) st.st_dev, (unsigned long long) st.st_ino,
                         (long long) st.st_size, (long long) st.st_mtim.tv_sec, st.st_mtim.tv_nsec,
                         (long long) st.st_ctim.tv_sec, st.st_ctim.tv_nsec);
}

/* The cache file: "KEY VERSION\nflags FLAGS\n" (FLAGS as in struct hostinfo,
 * possibly empty). Anything else is stale: probed again. */
static int cache_read(const char *cache_path, const char *key, struct hostinfo *ret)
{
        _cleanup_free_ char *buf = malloc(PROFILE_PATH_MAX + 256 + HOSTINFO_CPU_FLAGS_MAX);
        size_t size = PROFILE_PATH_MAX + 256 + HOSTINFO_CPU_FLAGS_MAX;
        _cleanup_close_ int fd = -EBADF;
        size_t klen = strlen(key);
        struct stat st;
        char *flags, *end;
        ssize_t n;

        if (!buf)
                return -ENOMEM;
        fd = open(cache_path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
        if (fd < 0)
                return -errno;
        /* Trust only a file we wrote: ours, and nobody else may change it. */
        if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_uid != geteuid() ||
            (st.st_mode & 022))
                return -EPERM;
        n = fs_read_full(fd, buf, size - 1);
        if (n <= 0)
                return -ENODATA;
        buf[n] = '\0';
        if ((size_t) n <= klen + 1 || strncmp(buf, key, klen) != 0 || buf[klen] != ' ')
                return -ESTALE;
        flags = strstr(buf + klen, "\nflags ");
        if (!flags)
                return -ESTALE; /* written before the flags were kept */
        *flags = '\0';
        flags += strlen("\nflags ");
        end = strchr(flags, '\n');
        if (!end || (size_t) (end - flags) >= sizeof(ret->cpu_flags))
                return -EINVAL;
        *end = '\0';
        if (hostinfo_parse_version(buf + klen + 1, &ret->version) < 0)
                return -EINVAL;
        memcpy(ret->cpu_flags, flags, (size_t) (end - flags) + 1);
        return 0;
}

static void cache_write(const char *cache_path, const char *key, const struct hostinfo *h)
{
        char tmp[PROFILE_PATH_MAX + 16], dir[PROFILE_PATH_MAX], *slash;
        _cleanup_close_ int fd = -EBADF;
        int n;

        if (xsnprintf(dir, sizeof(dir), "%s", cache_path) < 0 ||
            xsnprintf(tmp, sizeof(tmp), "%s.XXXXXX", cache_path) < 0)
                return;
        slash = strrchr(dir, '/');
        if (slash && slash != dir) {
                *slash = '\0';
                (void) mkdir(dir, 0755);
        }
        fd = mkostemp(tmp, O_CLOEXEC);
        if (fd < 0)
                return;
        n = dprintf(fd, "%s %u.%u.%u\nflags %s\n", key, h->version.major, h->version.minor, h->version.micro,
                    h->cpu_flags);
        if (n <= 0 || fchmod(fd, 0644) < 0 || rename(tmp, cache_path) < 0)
                (void) unlink(tmp);
}

int hostinfo_probe_qemu_cached(const char *qemu_path, const char *cache_path,
                               struct hostinfo *ret, struct vl_error *e)
{
        char key[PROFILE_PATH_MAX + 128];
        int r;

        if (!cache_path || probe_key(qemu_path, key, sizeof(key)) < 0)
                return hostinfo_probe_qemu(qemu_path, ret, e);
        memset(ret, 0, sizeof(*ret));
        if (strlen(qemu_path) < sizeof(ret->qemu_path) && cache_read(cache_path, key, ret) == 0) {
                strcpy(ret->qemu_path, qemu_path);
                return 0;
        }
        r = hostinfo_probe_qemu(qemu_path, ret, e);
        if (r >= 0)
                cache_write(cache_path, key, ret);
        return r;
}

/* QEMU >= 9.1 (include/hw/boards.h, MACHINE_VER_DELETION_MAJOR = 6,
 * MACHINE_VER_DEPRECATION_MAJOR = 3): a versioned machine type X.Y is gone
 * (resp. deprecated) once (major - X) > cutoff, or == cutoff and
 * minor >= Y. A development snapshot (micro >= 50) already counts as the next
 * minor release. Earlier QEMUs removed machine types by hand, not by age. */
static bool machine_expired(const struct qemu_version *v, unsigned cutoff, unsigned x, unsigned y)
{
        unsigned major = v->major, minor = v->minor + (v->micro >= 50 ? 1 : 0);

        if (!qemu_version_at_least(v, 9, 1, 0))
                return false;
        if (major < x)
                return false;
        return major - x > cutoff || (major - x == cutoff && minor >= y);
}

int hostinfo_machine_resolve(const char *machine, const struct qemu_version *v,
                             char *ret_effective, size_t effective_size, char *ret_canonical,
                             size_t canonical_size, struct vl_error *e, struct vl_warnings *w)
{
        char canonical[PROFILE_STR_MAX];
        const char *effective = machine;
        unsigned x, y;
        const char *p;

        if (strcmp(machine, "q35") == 0) {
                (void) snprintf(canonical, sizeof(canonical), "pc-q35-%u.%u", v->major, v->minor);
        } else if (strncmp(machine, "pc-q35-", 7) == 0) {
                p = machine + 7;
                if (parse_component(&p, &x) < 0 || *p++ != '.' || parse_component(&p, &y) < 0 ||
                    *p)
                        return vl_error_set_at(e, EINVAL, NULL, 0, 0, "$.machine",
                                               "\"%s\" is not a q35 machine type (expected \"q35\" or "
                                               "\"pc-q35-X.Y\")",
                                               machine);
                if (x > v->major || (x == v->major && y > v->minor))
                        return vl_error_set_at(e, EINVAL, NULL, 0, 0, "$.machine",
                                               "machine type \"%s\" is newer than QEMU %u.%u.%u "
                                               "(use \"q35\" or pc-q35-%u.%u at most)",
                                               machine, v->major, v->minor, v->micro, v->major,
                                               v->minor);
                /* pc-q35-2.4 was the first versioned q35 type. */
                if (x < 2 || (x == 2 && y < 4))
                        return vl_error_set_at(e, EINVAL, NULL, 0, 0, "$.machine",
                                               "machine type \"%s\" never existed (the oldest is "
                                               "pc-q35-2.4)",
                                               machine);
                if (machine_expired(v, 6, x, y)) {
                        effective = "q35";
                        (void) snprintf(canonical, sizeof(canonical), "pc-q35-%u.%u", v->major,
                                        v->minor);
                        vl_warn(w,
                                "machine type \"%s\" no longer exists in QEMU %u.%u (versioned "
                                "machine types are deleted after 6 years); using \"q35\" "
                                "(pc-q35-%u.%u): the guest sees newer chipset defaults and "
                                "Windows may re-detect devices",
                                machine, v->major, v->minor, v->major, v->minor);
                } else {
                        if (machine_expired(v, 3, x, y))
                                vl_warn(w,
                                        "machine type \"%s\" is deprecated in QEMU %u.%u and will "
                                        "be deleted 6 years after its release; consider \"q35\"",
                                        machine, v->major, v->minor);
                        (void) snprintf(canonical, sizeof(canonical), "%s", machine);
                }
        } else {
                return vl_error_set_at(e, EINVAL, NULL, 0, 0, "$.machine",
                                       "machine type \"%s\" is not supported: vfio-launch places "
                                       "devices on PCIe root ports, which need \"q35\" or "
                                       "\"pc-q35-X.Y\"",
                                       machine);
        }
        if (xsnprintf(ret_effective, effective_size, "%s", effective) < 0)
                return vl_error_set(e, ENAMETOOLONG, "machine type too long");
        if (ret_canonical && xsnprintf(ret_canonical, canonical_size, "%s", canonical) < 0)
                return vl_error_set(e, ENAMETOOLONG, "machine type too long");
        return 0;
}

int hostinfo_firmware_dirs_default(uid_t uid, gid_t gid, const char *xdg_config_home,
                                   const char *home, struct firmware_dirs *ret)
{
        struct firmware_dirs d = { .uid = uid, .gid = gid };

        strcpy(d.dir[d.n++], "/usr/share/qemu/firmware");
        strcpy(d.dir[d.n++], "/etc/qemu/firmware");
        /* Root never reads a user's folder: whoever owns it would choose
         * which file root copies into the VM's VARS
         * (docs/facts.md#F-firmware-user-dir). */
        if (uid == 0) {
                *ret = d;
                return 0;
        }
        /* XDG: a relative $XDG_CONFIG_HOME is invalid and must be ignored. */
        if (xdg_config_home && xdg_config_home[0] == '/') {
                if (xsnprintf(d.dir[d.n], sizeof(d.dir[0]), "%s/qemu/firmware", xdg_config_home) < 0)
                        return -ENAMETOOLONG;
                d.n++;
        } else if (home && home[0] == '/') {
                if (xsnprintf(d.dir[d.n], sizeof(d.dir[0]), "%s/.config/qemu/firmware", home) < 0)
                        return -ENAMETOOLONG;
                d.n++;
        }
        *ret = d;
        return 0;
}

static bool json_array_has_string(json_t *arr, const char *s)
{
        size_t i;
        json_t *v;

        json_array_foreach(arr, i, v)
                if (json_is_string(v) && strcmp(json_string_value(v), s) == 0)
                        return true;
        return false;
}

/* mapping.executable / mapping.nvram-template: {filename, format}. */
static int flash_file(json_t *mapping, const char *key, bool required, char *path, size_t path_size,
                      char *format, size_t format_size, struct vl_error *e)
{
        json_t *o = json_object_get(mapping, key), *fn, *fmt;
        const char *f;

        if (!o) {
                if (required)
                        return vl_error_set(e, EINVAL, "mapping.%s missing", key);
                path[0] = format[0] = '\0';
                return 0;
        }
        fn = json_object_get(o, "filename");
        fmt = json_object_get(o, "format");
        if (!json_is_object(o) || !json_is_string(fn) || !json_is_string(fmt))
                return vl_error_set(e, EINVAL, "mapping.%s needs string \"filename\" and \"format\"",
                                    key);
        if (json_string_value(fn)[0] != '/')
                return vl_error_set(e, EINVAL, "mapping.%s.filename \"%s\" is not absolute", key,
                                    json_string_value(fn));
        f = json_string_value(fmt);
        if (strcmp(f, "raw") != 0 && strcmp(f, "qcow2") != 0)
                return vl_error_set(e, EINVAL, "mapping.%s.format \"%s\" is not raw or qcow2", key, f);
        if (xsnprintf(path, path_size, "%s", json_string_value(fn)) < 0 ||
            xsnprintf(format, format_size, "%s", f) < 0)
                return vl_error_set(e, ENAMETOOLONG, "mapping.%s too long", key);
        return 0;
}

int hostinfo_firmware_match(const char *json, size_t len, const char *canonical_machine,
                            bool secure_boot, struct firmware_choice *ret, struct vl_error *e)
{
        struct firmware_choice c = {};
        json_error_t jerr;
        json_t *root, *ifaces, *mapping, *device, *mode, *targets, *features, *t;
        bool target_ok = false;
        size_t i;
        int r = 0;

        root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &jerr);
        if (!root)
                return vl_error_set(e, EINVAL, "line %d: %s", jerr.line, jerr.text);

        ifaces = json_object_get(root, "interface-types");
        mapping = json_object_get(root, "mapping");
        targets = json_object_get(root, "targets");
        features = json_object_get(root, "features");
        if (!json_is_array(ifaces) || !json_is_object(mapping) || !json_is_array(targets) ||
            (features && !json_is_array(features))) {
                r = vl_error_set(e, EINVAL,
                                 "needs \"interface-types\", \"mapping\", \"targets\" (and "
                                 "\"features\" an array)");
                goto out;
        }
        if (!json_array_has_string(ifaces, "uefi"))
                goto out;
        device = json_object_get(mapping, "device");
        if (!json_is_string(device) || strcmp(json_string_value(device), "flash") != 0)
                goto out; /* memory/kernel mappings: not what -blockdev pflash loads */
        /* QEMU 8.1 added "mode": only the default "split" (code + vars files)
         * is something we copy a VARS template for. */
        mode = json_object_get(mapping, "mode");
        if (mode && (!json_is_string(mode) || strcmp(json_string_value(mode), "split") != 0))
                goto out;

        json_array_foreach(targets, i, t) {
                json_t *arch = json_object_get(t, "architecture");
                json_t *machines = json_object_get(t, "machines"), *m;
                size_t j;

                if (!json_is_string(arch) || strcmp(json_string_value(arch), "x86_64") != 0 ||
                    !json_is_array(machines))
                        continue;
                json_array_foreach(machines, j, m)
                        if (json_is_string(m) &&
                            fnmatch(json_string_value(m), canonical_machine, 0) == 0)
                                target_ok = true;
        }
        if (!target_ok)
                goto out;

        c.secure_boot = features && json_array_has_string(features, "secure-boot");
        c.requires_smm = features && json_array_has_string(features, "requires-smm");
        if (secure_boot && !(c.secure_boot && c.requires_smm))
                goto out;

        r = flash_file(mapping, "executable", true, c.code, sizeof(c.code), c.code_format,
                       sizeof(c.code_format), e);
        if (r < 0)
                goto out;
        r = flash_file(mapping, "nvram-template", false, c.vars_template, sizeof(c.vars_template),
                       c.vars_format, sizeof(c.vars_format), e);
        if (r < 0)
                goto out;
        *ret = c;
        r = 1;
out:
        json_decref(root);
        return r;
}

struct descriptor_entry {
        char name[256];
        unsigned dir;
};

static int entry_cmp(const void *a, const void *b)
{
        return strcmp(((const struct descriptor_entry *) a)->name,
                      ((const struct descriptor_entry *) b)->name);
}

/* What a skipped descriptor or folder warning adds: why it was not read. */
#define UNTRUSTED_HINT                                                                             \
        "only root's descriptors (and your own, when not run as root) are read, from folders no " \
        "other account may change"

/* Gather the *.json names of all folders; a later folder's file replaces the
 * same name from an earlier one. Each folder is opened as fs_open_dir_trusted()
 * allows (dirfds[d], -EBADF for a folder that is missing or not trusted). */
static void collect_descriptors(const struct firmware_dirs *dirs, int dirfds[],
                                struct descriptor_entry *list, size_t *n, struct vl_warnings *w)
{
        for (unsigned d = 0; d < dirs->n; d++) {
                struct vl_error derr = {};
                struct dirent *de;
                DIR *dir;
                int fd;

                dirfds[d] = fs_open_dir_trusted(dirs->dir[d], dirs->uid, dirs->gid, "firmware folder",
                                                &derr);
                if (dirfds[d] == -EPERM || dirfds[d] == -ELOOP || dirfds[d] == -ENOTDIR)
                        vl_warn(w, "%s: its descriptors are ignored; %s", derr.msg, UNTRUSTED_HINT);
                if (dirfds[d] < 0)
                        continue; /* a missing folder is normal (/etc, user) */
                fd = openat(dirfds[d], ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                dir = fd >= 0 ? fdopendir(fd) : NULL;
                if (!dir) {
                        if (fd >= 0)
                                (void) close(fd);
                        continue;
                }
                while ((de = readdir(dir))) {
                        size_t len = strlen(de->d_name), k;

                        if (de->d_name[0] == '.' || len < 6 || len >= sizeof(list[0].name) ||
                            strcmp(de->d_name + len - 5, ".json") != 0)
                                continue;
                        for (k = 0; k < *n; k++)
                                if (strcmp(list[k].name, de->d_name) == 0)
                                        break;
                        if (k == *n) {
                                if (*n >= HOSTINFO_DESCRIPTORS_MAX) {
                                        vl_warn(w, "more than %u firmware descriptors, ignoring "
                                                   "the rest", HOSTINFO_DESCRIPTORS_MAX);
                                        break;
                                }
                                strcpy(list[k].name, de->d_name);
                                (*n)++;
                        }
                        list[k].dir = d;
                }
                (void) closedir(dir);
        }
        qsort(list, *n, sizeof(list[0]), entry_cmp);
}

/* Read the descriptor name of the folder dfd (path: its whole name) as
 * fs_open_file_trusted() opens it: 0 with *ret_len 0 for an empty (hiding)
 * file; -errno with e filled. */
static int read_descriptor(int dfd, const char *name, const char *path,
                           const struct firmware_dirs *dirs, char *buf, size_t size,
                           size_t *ret_len, struct vl_error *e)
{
        _cleanup_close_ int fd = -EBADF;
        struct stat st;
        ssize_t n;

        fd = fs_open_file_trusted(dfd, name, path, dirs->uid, dirs->gid, "firmware descriptor", &st,
                                  e);
        if (fd < 0)
                return fd;
        if ((uint64_t) st.st_size >= size)
                return vl_error_set(e, EFBIG, "firmware descriptor '%s' is larger than %zu bytes",
                                    path, size - 1);
        n = fs_read_full(fd, buf, size - 1);
        if (n < 0)
                return vl_error_set(e, (int) -n, "firmware descriptor '%s': %s", path,
                                    strerror((int) -n));
        buf[n] = '\0';
        *ret_len = (size_t) n;
        return 0;
}

/* Called for each descriptor in QEMU's order (an empty one only hides its
 * name and is not passed): 0 to go on, 1 to stop there. */
typedef int (*descriptor_fn)(const char *path, const char *json, size_t len, void *userdata,
                             struct vl_warnings *w);

/* Every descriptor of dirs that may be read (see collect_descriptors() and
 * read_descriptor(); the others are warned about in w) to fn. Returns 1 when
 * fn stopped, 0 when it never did, -ENOMEM. */
static int for_each_descriptor(const struct firmware_dirs *dirs, descriptor_fn fn, void *userdata,
                               struct vl_warnings *w)
{
        _cleanup_free_ struct descriptor_entry *list = NULL;
        _cleanup_free_ char *buf = NULL;
        int dirfds[HOSTINFO_FIRMWARE_DIRS_MAX];
        size_t n = 0;
        int r = 0;

        list = calloc(HOSTINFO_DESCRIPTORS_MAX, sizeof(*list));
        buf = malloc(HOSTINFO_DESCRIPTOR_MAX);
        if (!list || !buf)
                return -ENOMEM;
        collect_descriptors(dirs, dirfds, list, &n, w);

        for (size_t i = 0; i < n && r == 0; i++) {
                char path[PROFILE_PATH_MAX];
                struct vl_error derr = {};
                int dfd = dirfds[list[i].dir];
                size_t len = 0;

                if (dfd < 0 ||
                    xsnprintf(path, sizeof(path), "%s/%s", dirs->dir[list[i].dir], list[i].name) < 0)
                        continue;
                r = read_descriptor(dfd, list[i].name, path, dirs, buf, HOSTINFO_DESCRIPTOR_MAX, &len,
                                    &derr);
                if (r == -EPERM || r == -ELOOP || r == -EINVAL) {
                        vl_warn(w, "%s: ignored; %s", derr.msg, UNTRUSTED_HINT);
                        r = 0;
                        continue;
                }
                if (r < 0) {
                        vl_warn(w, "%s, ignoring", derr.msg);
                        r = 0;
                        continue;
                }
                if (len > 0) /* an empty file hides the same name below it */
                        r = fn(path, buf, len, userdata, w);
        }
        for (unsigned d = 0; d < dirs->n; d++)
                if (dirfds[d] >= 0)
                        (void) close(dirfds[d]);
        return r;
}

struct select_ctx {
        const char *canonical_machine;
        bool secure_boot;
        const char *want_code;
        struct firmware_choice *ret;
        struct firmware_choice best;
        bool have_best;
};

/* With want_code, stop at the first fitting descriptor whose executable is
 * that file (any features); else at the first that fits, remembering a
 * "secure-boot" one in best unless asked for Secure Boot. */
static int select_one(const char *path, const char *json, size_t len, void *userdata,
                      struct vl_warnings *w)
{
        struct select_ctx *s = userdata;
        struct vl_error derr = {};
        struct firmware_choice c;
        int r;

        r = hostinfo_firmware_match(json, len, s->canonical_machine, s->secure_boot, &c, &derr);
        if (r < 0) {
                vl_warn(w, "firmware descriptor '%s': %s, ignoring", path, derr.msg);
                return 0;
        }
        if (r == 0)
                return 0;
        strcpy(c.descriptor, path);
        if (s->want_code) {
                if (strcmp(c.code, s->want_code) != 0)
                        return 0;
        } else if (!s->secure_boot && c.secure_boot) {
                /* A firmware that enforces Secure Boot refuses unsigned
                 * boot loaders: keep looking for a plain one. */
                if (!s->have_best) {
                        s->best = c;
                        s->have_best = true;
                }
                return 0;
        }
        *s->ret = c;
        return 1;
}

/* Walk the descriptors in QEMU's order. With want_code, return the first
 * fitting descriptor whose executable is that file (any features); else the
 * first that fits, preferring one without "secure-boot" unless asked. */
static int scan_descriptors(const struct firmware_dirs *dirs, const char *canonical_machine,
                            bool secure_boot, const char *want_code, struct firmware_choice *ret,
                            struct vl_warnings *w)
{
        struct select_ctx s = { .canonical_machine = canonical_machine, .secure_boot = secure_boot,
                                .want_code = want_code, .ret = ret };
        int r = for_each_descriptor(dirs, select_one, &s, w);

        if (r < 0)
                return r;
        if (r == 1)
                return 0;
        if (s.have_best) {
                vl_warn(w, "only a Secure Boot firmware ('%s') fits machine \"%s\"; using it",
                        s.best.descriptor, canonical_machine);
                *ret = s.best;
                return 0;
        }
        return -ENOENT;
}

int hostinfo_firmware_select(const struct firmware_dirs *dirs, const char *canonical_machine,
                             bool secure_boot, struct firmware_choice *ret, struct vl_error *e,
                             struct vl_warnings *w)
{
        int r = scan_descriptors(dirs, canonical_machine, secure_boot, NULL, ret, w);

        if (r == -ENOMEM)
                return vl_error_set(e, ENOMEM, "out of memory");
        if (r < 0)
                return vl_error_set(e, ENOENT,
                                    "no QEMU firmware descriptor offers UEFI%s for x86_64 machine "
                                    "\"%s\" (looked in %s%s%s%s%s; install ovmf or set "
                                    "firmware.code)",
                                    secure_boot ? " with Secure Boot and SMM" : "",
                                    canonical_machine, dirs->n > 0 ? dirs->dir[0] : "",
                                    dirs->n > 1 ? ", " : "", dirs->n > 1 ? dirs->dir[1] : "",
                                    dirs->n > 2 ? ", " : "", dirs->n > 2 ? dirs->dir[2] : "");
        return 0;
}

/* for_each_descriptor(): stop at a descriptor whose nvram-template is
 * userdata (whatever else it says). */
static int lists_template(const char *path, const char *json, size_t len, void *userdata,
                          struct vl_warnings *w)
{
        json_t *root = json_loadb(json, len, JSON_REJECT_DUPLICATES, NULL), *fn;
        int r;

        if (!root)
                return 0;
        fn = json_object_get(json_object_get(json_object_get(root, "mapping"), "nvram-template"),
                             "filename");
        r = json_is_string(fn) && strcmp(json_string_value(fn), userdata) == 0;
        json_decref(root);
        return r;
}

/* The profile's vars_template is copied by root into a file QEMU's user
 * owns: it must be a firmware's template — one a descriptor (that root
 * trusts) lists, or a file under /usr/share, with no ".." on the way. */
static int check_vars_template(const struct firmware_dirs *dirs, const char *path,
                               struct vl_error *e)
{
        static const char usr_share[] = "/usr/share/";
        bool dotdot = false;

        for (const char *c = path; c; c = strchr(c, '/') ? strchr(c, '/') + 1 : NULL)
                dotdot = dotdot || (strncmp(c, "..", 2) == 0 && (c[2] == '/' || c[2] == '\0'));
        if (!dotdot && strncmp(path, usr_share, strlen(usr_share)) == 0 && path[strlen(usr_share)])
                return 0;
        if (for_each_descriptor(dirs, lists_template, (void *) path, NULL) == 1)
                return 0;
        return vl_error_set_at(e, EPERM, NULL, 0, 0, "$.firmware.vars_template",
                               "'%s' is neither listed by a QEMU firmware descriptor nor under "
                               "/usr/share: root would copy it into a file QEMU's user owns (leave "
                               "vars_template out, or name the template of a firmware package)",
                               path);
}

int hostinfo_firmware_for_profile(const struct profile *p, const struct firmware_dirs *dirs,
                                  const char *canonical_machine, struct firmware_choice *ret,
                                  struct vl_error *e, struct vl_warnings *w)
{
        const struct profile_firmware *f = &p->firmware;
        struct firmware_choice c = {};
        int r;

        if (f->type == FIRMWARE_BIOS) {
                if (f->secure_boot)
                        return vl_error_set_at(e, EINVAL, NULL, 0, 0, "$.firmware.secure_boot",
                                               "Secure Boot needs UEFI firmware");
                *ret = c; /* SeaBIOS: QEMU's built-in default, no pflash */
                return 0;
        }
        if (f->vars_template[0] && (r = check_vars_template(dirs, f->vars_template, e)) < 0)
                return r;
        if (!f->code[0]) {
                r = hostinfo_firmware_select(dirs, canonical_machine, f->secure_boot, &c, e, w);
                if (r < 0)
                        return r;
                if (f->vars_template[0]) {
                        strcpy(c.vars_template, f->vars_template);
                        strcpy(c.vars_format, "raw");
                }
                *ret = c;
                return 0;
        }

        /* Explicit code: take the format, template and SMM needs from a
         * descriptor describing the same file when there is one (libvirt
         * does the same for <loader> paths it knows). */
        if (scan_descriptors(dirs, canonical_machine, false, f->code, &c, NULL) < 0) {
                memset(&c, 0, sizeof(c));
                strcpy(c.code, f->code);
                strcpy(c.code_format, "raw");
                c.secure_boot = c.requires_smm = f->secure_boot;
        }
        if (f->vars_template[0]) {
                strcpy(c.vars_template, f->vars_template);
                strcpy(c.vars_format, "raw");
        }
        if (!c.vars_template[0])
                vl_warn(w, "no VARS template known for firmware \"%s\": the VM's VARS file must "
                           "already exist",
                        f->code);
        *ret = c;
        return 0;
}
