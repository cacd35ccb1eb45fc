/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * `vfio-launch desktop [--output DIR] PROFILE`: write a freedesktop desktop
 * entry that starts the profile's VM through pkexec, with a "Stop VM"
 * action. pkexec matches the installed binary (VL_BINDIR, from CMake) and
 * the verb against the polkit policy dist/org.vfio-launch.policy.in, which
 * names the actions in the password prompt.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/cli_prepare.h"

#ifndef VL_BINDIR
#define VL_BINDIR "/usr/bin"
#endif
#define VL_INSTALLED_BINARY VL_BINDIR "/vfio-launch"

static void usage(void)
{
        printf("Usage: vfio-launch desktop [--output DIR] PROFILE\n"
               "\n"
               "Write DIR/vfio-launch-NAME.desktop, a menu entry that runs the profile's VM\n"
               "through pkexec (" VL_INSTALLED_BINARY " run PROFILE), with a \"Stop VM\"\n"
               "action. DIR defaults to ~/.local/share/applications of the invoking user\n"
               "(the user behind sudo when run through it).\n");
}

/* The Exec key's quoting (Desktop Entry Specification, "The Exec key"): an
 * argument with a reserved character goes in double quotes with " ` $ \
 * backslash-escaped; then the value's own escaping doubles every backslash,
 * and a literal % is %%. */
static int exec_quote(const char *arg, char *buf, size_t size)
{
        bool quote = arg[0] == '\0' || strpbrk(arg, " \t\"'\\><~|&;$*?#()`") != NULL;
        size_t n = 0;

#define PUT(c)                                                                 \
        do {                                                                   \
                if (n + 1 >= size)                                             \
                        return -ENAMETOOLONG;                                  \
                buf[n++] = (c);                                                \
        } while (0)
        if (quote)
                PUT('"');
        for (const char *s = arg; *s; s++) {
                if ((unsigned char) *s < 0x20 || *s == 0x7f)
                        return -EINVAL; /* no way to write a newline in Exec */
                if (quote && strchr("\"`$\\", *s)) {
                        PUT('\\');
                        PUT('\\');
                }
                if (*s == '\\') {
                        PUT('\\');
                        PUT('\\');
                } else if (*s == '%') {
                        PUT('%');
                        PUT('%');
                } else
                        PUT(*s);
        }
        if (quote)
                PUT('"');
#undef PUT
        buf[n] = '\0';
        return 0;
}

/* The applications folder of the user who asked: under sudo, the user
 * behind it (from the password database, as sudo may keep root's HOME), so
 * that `sudo vfio-launch desktop` does not hide the entry in root's menu;
 * otherwise $XDG_DATA_HOME, else $HOME/.local/share, as the XDG Base
 * Directory Specification says. ret_uid/ret_gid: who should own what is
 * created. */
static int applications_dir(char *buf, size_t size, uid_t *ret_uid, gid_t *ret_gid)
{
        const char *sudo_uid = getuid() == 0 ? getenv("SUDO_UID") : NULL;
        const char *xdg = getenv("XDG_DATA_HOME"), *home = getenv("HOME");
        struct passwd *pw;

        if (!sudo_uid && ((xdg && xdg[0] == '/') || (home && home[0] == '/'))) {
                int r = xdg && xdg[0] == '/' ? xsnprintf(buf, size, "%s/applications", xdg)
                                             : xsnprintf(buf, size, "%s/.local/share/applications", home);
                if (r < 0)
                        return r;
                *ret_uid = geteuid();
                *ret_gid = getegid();
                return 0;
        }
        if (!sudo_uid) {
                pw = getpwuid(getuid());
        } else {
                char *end;
                unsigned long v;
                errno = 0;
                v = strtoul(sudo_uid, &end, 10);
                if (errno || *end || end == sudo_uid || v >= UINT_MAX)
                        return -EINVAL;
                pw = getpwuid((uid_t) v);
        }
        if (!pw || !pw->pw_dir || pw->pw_dir[0] != '/')
                return -ENOENT;
        if (xsnprintf(buf, size, "%s/.local/share/applications", pw->pw_dir) < 0)
                return -ENAMETOOLONG;
        *ret_uid = pw->pw_uid;
        *ret_gid = pw->pw_gid;
        return 0;
}

/* mkdir -p for the default folder, owned by the user it is for. */
static int make_dirs(char *path, uid_t uid, gid_t gid, bool chown_new)
{
        for (char *s = path + 1;; s++) {
                bool end = *s == '\0';
                if (!end && *s != '/')
                        continue;
                *s = '\0';
                if (mkdir(path, 0755) == 0) {
                        if (chown_new && chown(path, uid, gid) < 0) {
                                int r = -errno;
                                *s = end ? '\0' : '/';
                                return r;
                        }
                } else if (errno != EEXIST) {
                        int r = -errno;
                        *s = end ? '\0' : '/';
                        return r;
                }
                if (end)
                        return 0;
                *s = '/';
        }
}

static int on_option(int key, const char *arg, void *userdata)
{
        *(const char **) userdata = arg; /* --output */
        return 0;
}

int cmd_desktop(int argc, char **argv)
{
        static const struct cli_option options[] = { { "output", 'o', true }, {} };
        static const struct cli_command cmd = {
                .name = "desktop", .help = usage, .options = options, .min_operands = 1, .max_operands = 1,
                .operands = "one PROFILE argument",
        };
        _cleanup_free_ struct profile *p = NULL;
        _cleanup_free_ char *profile_abs = NULL;
        _cleanup_fclose_ FILE *f = NULL;
        struct vl_warnings warn = {};
        struct vl_error err = {};
        char dir[PATH_MAX], path[PATH_MAX + 64], tmp[PATH_MAX + 80], quoted[2 * PATH_MAX + 8];
        const char *output = NULL;
        bool chown_new = false;
        uid_t uid = 0;
        gid_t gid = 0;
        int first, r, fd;

        r = cli_parse(&cmd, argc, argv, on_option, &output, &first);
        if (r != CLI_PARSED)
                return r;
        r = cli_load_profile(argv[first], false, &p);
        if (r != EXIT_OK)
                return r;
        /* pkexec starts in another folder: the entry needs the absolute path. */
        profile_abs = realpath(argv[first], NULL);
        if (!profile_abs) {
                cli_log_error("%s: %m", argv[first]);
                return EXIT_FAILURE_RUN;
        }
        /* The entry runs it through pkexec, which runs only root's. */
        if (cli_profile_is_roots(profile_abs, &err) == -EPERM) {
                vl_warn(&warn, "%s: the entry runs it through pkexec, which will refuse it (keep it in "
                               "/etc/vfio-launch/, owned by root)",
                        err.msg);
                cli_print_warnings(&warn);
        }
        r = exec_quote(profile_abs, quoted, sizeof(quoted));
        if (r < 0) {
                cli_log_error("%s: cannot be written in a desktop entry's Exec key (control character)",
                              profile_abs);
                return EXIT_INVALID;
        }

        if (output)
                r = xsnprintf(dir, sizeof(dir), "%s", output);
        else {
                r = applications_dir(dir, sizeof(dir), &uid, &gid);
                if (r < 0) {
                        cli_log_error("desktop: cannot find the invoking user's home folder: pass --output DIR");
                        return EXIT_FAILURE_RUN;
                }
                chown_new = uid != geteuid();
        }
        if (r < 0 || (r = make_dirs(dir, uid, gid, chown_new)) < 0) {
                cli_log_error("%s: %s", dir, strerror(-r));
                return EXIT_FAILURE_RUN;
        }
        if (xsnprintf(path, sizeof(path), "%s/vfio-launch-%s.desktop", dir, p->name) < 0 ||
            xsnprintf(tmp, sizeof(tmp), "%s.tmp", path) < 0) {
                cli_log_error("%s: path too long", dir);
                return EXIT_FAILURE_RUN;
        }
        (void) unlink(tmp);
        fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
        if (fd < 0 || !(f = fdopen(fd, "w"))) {
                cli_log_error("%s: %m", tmp);
                if (fd >= 0)
                        close(fd);
                return EXIT_FAILURE_RUN;
        }
        /* The name is [A-Za-z0-9_.-] (profile.h): safe in every key as is. */
        fprintf(f,
                "[Desktop Entry]\n"
                "Type=Application\n"
                "Version=1.4\n"
                "Name=%s (VM)\n"
                "GenericName=Virtual machine\n"
                "Comment=Start the %s virtual machine with its passed-through devices\n"
                "Exec=pkexec " VL_INSTALLED_BINARY " run %s\n"
                "TryExec=" VL_INSTALLED_BINARY "\n"
                "Icon=computer\n"
                "Terminal=false\n"
                "Categories=System;Emulator;\n"
                "Keywords=VM;QEMU;VFIO;passthrough;\n"
                "Actions=stop;\n"
                "\n"
                "[Desktop Action stop]\n"
                "Name=Stop VM\n"
                "Exec=pkexec " VL_INSTALLED_BINARY " stop %s\n",
                p->name, p->name, quoted, p->name);
        if (fflush(f) != 0 || ferror(f) || (chown_new && fchown(fd, uid, gid) < 0) ||
            rename(tmp, path) < 0) {
                cli_log_error("%s: %m", path);
                (void) unlink(tmp);
                return EXIT_FAILURE_RUN;
        }
        printf("%s\n", path);
        return EXIT_OK;
}
