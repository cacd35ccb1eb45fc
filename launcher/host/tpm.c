/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The TPM's state folder and the swtpm programs: see tpm.h. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/fs.h"
#include "base/macro.h"
#include "host/tpm.h"

#define DEFAULT_PATH "/usr/local/bin:/usr/bin:/bin"

/* ---- the programs ----------------------------------------------------------------- */

static int find_program(const char *path_env, const char *prog, char *ret, size_t size)
{
        const char *p = path_env && path_env[0] ? path_env : DEFAULT_PATH;

        while (*p) {
                const char *end = strchrnul(p, ':');
                size_t len = (size_t) (end - p);
                struct stat st;

                /* An empty or relative entry means "the current folder": never
                 * run a program from wherever the launcher was started. */
                if (len > 0 && p[0] == '/' && xsnprintf(ret, size, "%.*s/%s", (int) len, p, prog) == 0 &&
                    stat(ret, &st) == 0 && S_ISREG(st.st_mode) && access(ret, X_OK) == 0)
                        return 0;
                p = *end ? end + 1 : end;
        }
        ret[0] = '\0';
        return -ENOENT;
}

int tpm_find_tools(const char *path_env, struct tpm_tools *ret, struct vl_error *e)
{
        static const struct {
                const char *prog, *package;
                size_t offset;
        } progs[] = {
                { "swtpm", "swtpm", offsetof(struct tpm_tools, swtpm) },
                { "swtpm_setup", "swtpm-tools", offsetof(struct tpm_tools, swtpm_setup) },
                { "swtpm_localca", "swtpm-tools", offsetof(struct tpm_tools, swtpm_localca) },
        };

        for (size_t i = 0; i < ELEMENTSOF(progs); i++)
                if (find_program(path_env, progs[i].prog, (char *) ret + progs[i].offset, PROFILE_PATH_MAX) < 0)
                        return vl_error_set(e, ENOENT,
                                            "%s not found in %s: a profile with \"tpm\" needs it (apt-get "
                                            "install swtpm swtpm-tools)",
                                            progs[i].prog, path_env && path_env[0] ? "$PATH" : DEFAULT_PATH);
        return 0;
}

/* ---- the folders ------------------------------------------------------------------ */

int tpm_state_path(const char *state_dir, const char *name, char *ret, size_t size)
{
        return xsnprintf(ret, size, "%s/%s/%s", state_dir, name, TPM_STATE_SUBDIR);
}

/* A folder above the state: root's (or ours) and writable by no one else,
 * or whoever could write it could make a path root follows name anything. */
static int check_trusted(int fd, const char *path, struct vl_error *e)
{
        struct stat st;

        if (fstat(fd, &st) < 0)
                return vl_error_set(e, errno, "cannot stat '%s': %s", path, strerror(errno));
        if (st.st_uid != 0 && st.st_uid != geteuid())
                return vl_error_set(e, EPERM,
                                    "'%s' belongs to uid %u: the launcher only follows paths root controls "
                                    "(fix: chown root: '%s')",
                                    path, (unsigned) st.st_uid, path);
        if (st.st_mode & (S_IWGRP | S_IWOTH))
                return vl_error_set(e, EPERM,
                                    "'%s' is writable by group or others (mode %04o): the launcher only "
                                    "follows paths root controls (fix: chmod go-w '%s')",
                                    path, (unsigned) (st.st_mode & 07777), path);
        return 0;
}

static bool is_link(int dir_fd, const char *name)
{
        struct stat st;

        return fstatat(dir_fd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode);
}

/* STATE_DIR/NAME, open and checked; with create, both made if missing. 0
 * with *ret_fd; -ENOENT (not created); -errno with e. */
static int open_vm_dir(const char *state_dir, const char *name, bool create, int *ret_fd,
                       struct vl_error *e)
{
        _cleanup_close_ int root = -EBADF, vm = -EBADF;
        char path[PROFILE_PATH_MAX];
        int r;

        if (!profile_name_valid(name))
                return vl_error_set(e, EINVAL, "\"%s\" is not a VM name", name);
        if (xsnprintf(path, sizeof(path), "%s/%s", state_dir, name) < 0)
                return vl_error_set(e, ENAMETOOLONG, "the VM's state folder path is too long");
        if (create && mkdir(state_dir, 0755) < 0 && errno != EEXIST)
                return vl_error_set(e, errno, "cannot create '%s': %s", state_dir, strerror(errno));
        /* The state root itself is the administrator's path (/var/lib/...). */
        root = open(state_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (root < 0 && errno == ENOENT && !create)
                return -ENOENT;
        if (root < 0)
                return vl_error_set(e, errno, "cannot open '%s': %s", state_dir, strerror(errno));
        if ((r = check_trusted(root, state_dir, e)) < 0)
                return r;
        if (create && mkdirat(root, name, 0755) < 0 && errno != EEXIST)
                return vl_error_set(e, errno, "cannot create '%s': %s", path, strerror(errno));
        vm = openat(root, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (vm < 0 && errno == ENOENT && !create)
                return -ENOENT;
        if (vm < 0 && (errno == ELOOP || errno == ENOTDIR))
                return vl_error_set(e, ENOTDIR, "'%s' is %s: it must be a folder", path,
                                    is_link(root, name) ? "a symbolic link (never followed)" : "not a folder");
        if (vm < 0)
                return vl_error_set(e, errno, "cannot open '%s': %s", path, strerror(errno));
        if ((r = check_trusted(vm, path, e)) < 0)
                return r;
        *ret_fd = TAKE_FD(vm);
        return 0;
}

/* The state folder in vm_fd: 0 absent, 1 fine, -errno. */
static int check_state(int vm_fd, const char *path, uid_t uid, struct vl_error *e)
{
        _cleanup_close_ int fd = -EBADF;
        struct stat st;

        fd = openat(vm_fd, TPM_STATE_SUBDIR, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0 && errno == ENOENT)
                return 0;
        if (fd < 0 && (errno == ELOOP || errno == ENOTDIR))
                return vl_error_set(e, ENOTDIR,
                                    "the TPM state '%s' is %s: it must be a folder (the launcher does not "
                                    "follow links there; move it away to have a new TPM made)",
                                    path, is_link(vm_fd, TPM_STATE_SUBDIR) ? "a symbolic link" : "not a folder");
        if (fd < 0)
                return vl_error_set(e, errno, "cannot open the TPM state '%s': %s", path, strerror(errno));
        if (fstat(fd, &st) < 0)
                return vl_error_set(e, errno, "cannot stat '%s': %s", path, strerror(errno));
        if (st.st_uid != uid)
                return vl_error_set(e, EPERM,
                                    "the TPM state '%s' belongs to uid %u, QEMU's user is uid %u: swtpm runs "
                                    "as that user (fix: chown -R %u '%s', if it is this VM's TPM)",
                                    path, (unsigned) st.st_uid, (unsigned) uid, (unsigned) uid, path);
        if (st.st_mode & 077)
                return vl_error_set(e, EPERM,
                                    "the TPM state '%s' has mode %04o: others may reach the TPM's keys (fix: "
                                    "chmod 0700 '%s')",
                                    path, (unsigned) (st.st_mode & 07777), path);
        return 1;
}

int tpm_state_check(const char *state_dir, const char *name, uid_t uid, struct vl_error *e)
{
        _cleanup_close_ int vm = -EBADF;
        char path[PROFILE_PATH_MAX];
        int r;

        if (tpm_state_path(state_dir, name, path, sizeof(path)) < 0)
                return vl_error_set(e, ENAMETOOLONG, "the TPM state path is too long");
        r = open_vm_dir(state_dir, name, false, &vm, e);
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return r;
        return check_state(vm, path, uid, e);
}

/* ---- staging ---------------------------------------------------------------------- */

static int write_file(int dir_fd, const char *name, const char *text)
{
        _cleanup_close_ int fd = openat(dir_fd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
        int r;

        if (fd < 0)
                return -errno;
        r = fs_write_full(fd, text, strlen(text));
        if (r < 0)
                return r;
        return fchmod(fd, 0644) < 0 ? -errno : 0;
}

/* mkdtemp() in a folder given by fd. */
static int make_stage_dir(int vm_fd, char name[static 32])
{
        static const char chars[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

        for (int tries = 0; tries < 100; tries++) {
                unsigned char rnd[6];

                if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t) sizeof(rnd))
                        return -EIO;
                (void) snprintf(name, 32, "%s", TPM_STAGE_PREFIX);
                for (size_t i = 0; i < sizeof(rnd); i++)
                        name[strlen(TPM_STAGE_PREFIX) + i] = chars[rnd[i] % (sizeof(chars) - 1)];
                name[strlen(TPM_STAGE_PREFIX) + sizeof(rnd)] = '\0';
                if (mkdirat(vm_fd, name, 0700) == 0)
                        return 0;
                if (errno != EEXIST)
                        return -errno;
        }
        return -EEXIST;
}

/* A user's folder in the staging folder: made by root, then given away. */
static int make_user_dir(int fd, const char *name, uid_t uid, gid_t gid)
{
        if (mkdirat(fd, name, 0700) < 0 || fchownat(fd, name, uid, gid, AT_SYMLINK_NOFOLLOW) < 0 ||
            fchmodat(fd, name, 0700, 0) < 0)
                return -errno;
        return 0;
}

static void stage_init(struct tpm_stage *s)
{
        memset(s, 0, sizeof(*s));
        s->vm_fd = s->fd = -1;
}

int tpm_stage_create(const char *state_dir, const char *name, uid_t uid, gid_t gid, const char *localca,
                     struct tpm_stage *ret, struct vl_error *e)
{
        struct tpm_stage s;
        struct vl_error ignored;
        char conf[4 * PROFILE_PATH_MAX + 512];
        const char *what = NULL;
        int r;

        stage_init(&s);
        stage_init(ret);
        r = tpm_state_check(state_dir, name, uid, e);
        if (r > 0)
                return vl_error_set(e, EEXIST, "the TPM state exists already");
        if (r < 0)
                return r;
        r = open_vm_dir(state_dir, name, true, &s.vm_fd, e);
        if (r < 0)
                return r;
        r = make_stage_dir(s.vm_fd, s.name);
        if (r < 0) {
                s.vm_fd = safe_close(s.vm_fd);
                return vl_error_set(e, -r, "cannot create a folder in '%s/%s': %s", state_dir, name, strerror(-r));
        }
        if (xsnprintf(s.path, sizeof(s.path), "%s/%s/%s", state_dir, name, s.name) < 0 ||
            xsnprintf(s.state, sizeof(s.state), "%s/state", s.path) < 0 ||
            xsnprintf(s.config, sizeof(s.config), "%s/swtpm_setup.conf", s.path) < 0 ||
            tpm_state_path(state_dir, name, s.target, sizeof(s.target)) < 0) {
                r = vl_error_set(e, ENAMETOOLONG, "the TPM state path is too long");
                goto fail;
        }
        /* The configuration files take these paths as they are (and expand
         * ${VAR} in them): keep them plain. */
        if (strpbrk(s.path, "$\n#") || strpbrk(localca, "$\n#")) {
                r = vl_error_set(e, EINVAL, "'%s' or '%s' has a character swtpm's configuration files cannot hold",
                                 s.path, localca);
                goto fail;
        }
        s.fd = openat(s.vm_fd, s.name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (s.fd < 0 || fchmod(s.fd, 0755) < 0) {
                r = vl_error_set(e, errno, "cannot open '%s': %s", s.path, strerror(errno));
                goto fail;
        }
        if ((r = make_user_dir(s.fd, "state", uid, gid)) < 0 || (r = make_user_dir(s.fd, "ca", uid, gid)) < 0) {
                vl_error_set(e, -r, "cannot create the folders in '%s': %s", s.path, strerror(-r));
                goto fail;
        }
        /* swtpm_setup.conf(5): the certificate tool and its files; the PCR
         * bank Windows 11 asks for (SHA-256), as Debian's own file says. */
        what = "swtpm_setup.conf";
        if (xsnprintf(conf, sizeof(conf),
                      "# vfio-launch: for one swtpm_setup run, removed afterwards\n"
                      "create_certs_tool = %s\n"
                      "create_certs_tool_config = %s/swtpm-localca.conf\n"
                      "create_certs_tool_options = %s/swtpm-localca.options\n"
                      "active_pcr_banks = sha256\n",
                      localca, s.path, s.path) < 0 ||
            (r = write_file(s.fd, what, conf)) < 0)
                goto fail_file;
        /* swtpm-localca.conf(5): a CA of this TPM's own, in the user's ca/. */
        what = "swtpm-localca.conf";
        if (xsnprintf(conf, sizeof(conf),
                      "statedir = %s/ca\n"
                      "signingkey = %s/ca/signkey.pem\n"
                      "issuercert = %s/ca/issuercert.pem\n"
                      "certserial = %s/ca/certserial\n",
                      s.path, s.path, s.path, s.path) < 0 ||
            (r = write_file(s.fd, what, conf)) < 0)
                goto fail_file;
        /* swtpm-localca.options(5): what the platform certificate says. */
        what = "swtpm-localca.options";
        if ((r = write_file(s.fd, what,
                            "--platform-manufacturer vfio-launch\n"
                            "--platform-version 2.1\n"
                            "--platform-model QEMU\n")) < 0)
                goto fail_file;
        *ret = s;
        return 0;
fail_file:
        r = r < 0 ? r : -ENAMETOOLONG;
        vl_error_set(e, -r, "cannot write '%s/%s': %s", s.path, what, strerror(-r));
fail:
        (void) tpm_stage_remove(&s, &ignored);
        return r;
}

int tpm_stage_commit(struct tpm_stage *s, struct vl_error *e)
{
        struct stat st;

        if (s->fd < 0 || s->vm_fd < 0)
                return vl_error_set(e, EBADF, "no staging folder");
        if (renameat2(s->fd, "state", s->vm_fd, TPM_STATE_SUBDIR, RENAME_NOREPLACE) < 0) {
                if (errno == EEXIST)
                        return vl_error_set(e, EEXIST, "'%s' appeared meanwhile: it is kept", s->target);
                if (errno != EINVAL && errno != ENOSYS)
                        return vl_error_set(e, errno, "cannot rename '%s' to '%s': %s", s->state, s->target,
                                            strerror(errno));
                /* No RENAME_NOREPLACE on this file system: the VM's lock
                 * keeps other launchers out, so check, then rename. */
                if (fstatat(s->vm_fd, TPM_STATE_SUBDIR, &st, AT_SYMLINK_NOFOLLOW) == 0)
                        return vl_error_set(e, EEXIST, "'%s' appeared meanwhile: it is kept", s->target);
                if (renameat(s->fd, "state", s->vm_fd, TPM_STATE_SUBDIR) < 0)
                        return vl_error_set(e, errno, "cannot rename '%s' to '%s': %s", s->state, s->target,
                                            strerror(errno));
        }
        s->committed = true;
        if (fsync(s->vm_fd) < 0)
                return vl_error_set(e, errno, "fsync '%s': %s", s->target, strerror(errno));
        return 0;
}

/* Empty and remove parent/name, a folder another account owns: its entries
 * are unlinked through a descriptor of the folder opened without following
 * links, so nothing outside it can be reached; a folder in it is removed
 * only when empty. 0 (also when it is not there) or -errno. */
static int remove_user_dir(int parent, const char *name)
{
        _cleanup_close_ int fd = -EBADF;
        DIR *d;
        int r = 0;

        fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return errno == ENOENT ? 0 : -errno;
        d = fdopendir(TAKE_FD(fd));
        if (!d)
                return -errno;
        for (unsigned n = 0; n < TPM_STAGE_ENTRIES_MAX;) {
                struct dirent *de;
                errno = 0;
                de = readdir(d);
                if (!de) {
                        if (errno)
                                r = -errno;
                        break;
                }
                if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
                        continue;
                n++;
                if (unlinkat(dirfd(d), de->d_name, 0) < 0 &&
                    (errno != EISDIR || unlinkat(dirfd(d), de->d_name, AT_REMOVEDIR) < 0) && errno != ENOENT)
                        r = -errno;
        }
        closedir(d);
        if (unlinkat(parent, name, AT_REMOVEDIR) < 0 && errno != ENOENT)
                r = r < 0 ? r : -errno;
        return r;
}

int tpm_stage_remove(struct tpm_stage *s, struct vl_error *e)
{
        static const char *const files[] = { "swtpm_setup.conf", "swtpm-localca.conf", "swtpm-localca.options" };
        int r = 0, k;

        if (s->fd >= 0) {
                if ((k = remove_user_dir(s->fd, "ca")) < 0)
                        r = r < 0 ? r : k;
                if (!s->committed && (k = remove_user_dir(s->fd, "state")) < 0)
                        r = r < 0 ? r : k;
                for (size_t i = 0; i < ELEMENTSOF(files); i++)
                        if (unlinkat(s->fd, files[i], 0) < 0 && errno != ENOENT)
                                r = r < 0 ? r : -errno;
                s->fd = safe_close(s->fd);
        }
        if (s->vm_fd >= 0 && s->name[0] && unlinkat(s->vm_fd, s->name, AT_REMOVEDIR) < 0 && errno != ENOENT)
                r = r < 0 ? r : -errno;
        s->vm_fd = safe_close(s->vm_fd);
        s->name[0] = '\0';
        if (r < 0)
                return vl_error_set(e, -r, "cannot remove all of '%s' (harmless, remove it by hand): %s", s->path,
                                    strerror(-r));
        return 0;
}
