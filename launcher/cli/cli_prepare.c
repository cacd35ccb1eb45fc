/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The read-only preparation shared by `print` and `run` (cli_prepare.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/cli_prepare.h"
#include "run/launch.h"
#include "run/pin.h"
#include "profile/profile_json.h"
#include "base/fs.h"
#include "host/vars.h"
#include "base/trace.h"

int cli_profile_is_roots(const char *profile_path, struct vl_error *e)
{
        char path[PROFILE_PATH_MAX * 2], cwd[PROFILE_PATH_MAX];
        _cleanup_close_ int fd = -EBADF;

        if (profile_path[0] != '/' && !getcwd(cwd, sizeof(cwd)))
                return vl_error_set(e, errno, "profile '%s': %s", profile_path, strerror(errno));
        if (xsnprintf(path, sizeof(path), "%s%s%s", profile_path[0] == '/' ? "" : cwd,
                      profile_path[0] == '/' ? "" : "/", profile_path) < 0)
                return vl_error_set(e, ENAMETOOLONG, "profile '%s': path too long", profile_path);
        fd = fs_open_trusted(path, 0, 0, "profile", NULL, e);
        if (fd == -ELOOP || fd == -ENOTDIR || fd == -EINVAL)
                return -EPERM; /* a symlink, not a folder, not a regular file: not root's either */
        return fd < 0 ? fd : 0;
}

int cli_check_profile_owner(const char *profile_path, bool changes_host, bool *ret_trusted,
                            struct vl_warnings *w)
{
        struct vl_error err = {};
        int r;

        /* A profile is root's power over this host (docs/design.md, "Who may
         * do what"). Through pkexec, whoever asked is not root: the profile
         * must be root's, or it is not even read. */
        r = geteuid() == 0 ? cli_profile_is_roots(profile_path, &err) : 0;
        if (ret_trusted)
                *ret_trusted = r >= 0; /* a profile that cannot be judged: not believed either */
        if (r == -EPERM && changes_host && getenv("PKEXEC_UID")) {
                cli_log_error("%s: through pkexec only a profile that root owns, and no other account "
                              "may change, is used (keep it in /etc/vfio-launch/, owned by root)",
                              err.msg);
                return EXIT_INVALID;
        }
        if (r == -EPERM)
                vl_warn(w, "%s: whoever can change it has root's power over this host (keep "
                           "system profiles in /etc/vfio-launch/, owned by root)",
                        err.msg);
        return EXIT_OK;
}

int cli_prepare(const char *profile_path, bool dry_run, struct cli_prepared *c)
{
        struct host_roots roots;

        host_roots_init(&roots);
        return cli_prepare_at(profile_path, dry_run, &roots, c);
}

int cli_host_root_init(struct cli_host_root *h, const char *top)
{
        host_roots_init(&h->roots);
        h->pci_ids = NULL;
        if (!top)
                return EXIT_OK;
        if (fs_join(h->sys, sizeof(h->sys), top, "sys") < 0 || fs_join(h->proc, sizeof(h->proc), top, "proc") < 0 ||
            fs_join(h->dev, sizeof(h->dev), top, "dev") < 0 || fs_join(h->ids, sizeof(h->ids), top, "pci.ids") < 0) {
                cli_log_error("--host-root: path too long");
                return EXIT_INVALID;
        }
        h->roots.sysfs = h->sys;
        h->roots.proc = h->proc;
        h->roots.dev = h->dev;
        h->pci_ids = h->ids;
        return EXIT_OK;
}

int cli_prepare_at(const char *profile_path, bool dry_run, const struct host_roots *roots,
                   struct cli_prepared *c)
{
        char qemu_path[PROFILE_PATH_MAX];
        struct vl_error err = {};
        int r;

        memset(c, 0, sizeof(*c));
        c->roots = *roots;
        host_env_init(&c->hostenv, &c->roots);
        c->p = calloc(1, sizeof(*c->p));
        if (!c->p) {
                cli_log_error("out of memory");
                return EXIT_FAILURE_RUN;
        }

        r = cli_check_profile_owner(profile_path, !dry_run, &c->profile_trusted, &c->warn);
        if (r != EXIT_OK)
                return r;

        if (profile_load(profile_path, c->p, &err, &c->warn) < 0) {
                cli_print_error(&err);
                return EXIT_INVALID;
        }

        /* CPU placement against this host's CPUs (read-only). */
        r = pin_check(c->p, c->roots.sysfs, &err, &c->warn);
        if (r < 0) {
                snprintf(err.file, sizeof(err.file), "%s", profile_path);
                cli_print_error(&err);
                return EXIT_INVALID;
        }

        TRACE("profile loaded");
        r = hostinfo_find_qemu(NULL, getenv("PATH"), qemu_path, sizeof(qemu_path), &err);
        if (r >= 0)
                r = hostinfo_probe_qemu_cached(qemu_path,
                                               geteuid() == 0 ? HOSTINFO_PROBE_CACHE : NULL,
                                               &c->host, &err);
        if (r < 0) {
                vl_error_prefix(&err, "cannot use QEMU (install qemu-system-x86)");
                cli_print_error(&err);
                return EXIT_FAILURE_RUN;
        }

        TRACE("QEMU version known");
        r = runas_resolve(c->p, geteuid(), getenv("SUDO_UID"), getenv("PKEXEC_UID"), &c->user,
                          &err, &c->warn);
        if (r < 0 && dry_run) {
                /* Show the rest anyway: the command line does not depend on
                 * the user, and the reason is what the user needs to see. */
                vl_warn(&c->warn, "a run would stop here: %s", err.msg);
                snprintf(c->user.name, sizeof(c->user.name), "(unresolved)");
                c->user.uid = c->user.gid = (uid_t) -1;
        } else if (r < 0) {
                cli_print_error(&err);
                return r == -EPERM ? EXIT_INVALID : EXIT_FAILURE_RUN;
        }

        /* Firmware descriptors are looked up as QEMU and libvirt do; the
         * run-as user's configuration folder only when not run as root (a
         * non-root print shows what that user's own QEMU would take). */
        r = hostinfo_firmware_dirs_default(geteuid(), getegid(), NULL, c->user.home, &c->dirs);
        if (r < 0) {
                cli_log_error("firmware search path too long");
                return EXIT_FAILURE_RUN;
        }
        TRACE("user resolved");
        qemu_runtime_init(&c->rt);
        r = launch_prepare(c->p, &c->host, &c->roots, &c->dirs, VARS_STATE_DIR, c->profile_trusted, &c->rt,
                           &c->fc, &err, &c->warn);
        if (r < 0) {
                cli_print_error(&err);
                return EXIT_FAILURE_RUN;
        }
        snprintf(c->rt.home, sizeof(c->rt.home), "%s", c->user.home);
        snprintf(c->rt.xdg_runtime_dir, sizeof(c->rt.xdg_runtime_dir), "%s",
                 c->user.xdg_runtime_dir);

        if (c->p->display.type == DISPLAY_SPICE) {
                const char *listen = c->p->display.listen[0] ? c->p->display.listen : "127.0.0.1";
                if (c->p->display.port)
                        c->rt.spice_port = c->p->display.port;
                else if (launch_pick_port(listen, 5900, &c->rt.spice_port) < 0) {
                        cli_log_error("no free port for SPICE in 5900..5999 on %s", listen);
                        return EXIT_FAILURE_RUN;
                }
        }

        /* With a TPM: swtpm and its tools, found as QEMU is. */
        if (c->p->tpm.enabled && swtpm_plan(c->p, VARS_STATE_DIR, getenv("PATH"), &c->tpm, &err) < 0) {
                if (!dry_run) {
                        cli_print_error(&err);
                        return EXIT_FAILURE_RUN;
                }
                vl_warn(&c->warn, "a run would stop here: %s", err.msg);
        }

        r = qemu_argv_build(c->p, &c->host, &c->rt, &c->cmd, &err, &c->warn);
        if (r < 0) {
                cli_print_error(&err);
                return r == -ENOMEM ? EXIT_FAILURE_RUN : EXIT_INVALID;
        }
        return EXIT_OK;
}

void cli_prepared_done(struct cli_prepared *c)
{
        qemu_cmd_free(c->cmd);
        c->cmd = NULL;
        free(c->p);
        c->p = NULL;
}

void cli_print_shell_word(const char *s)
{
        bool plain = s[0] != '\0';

        for (const char *t = s; *t && plain; t++)
                plain = strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                               "0123456789_./,=:@%+-", *t) != NULL;
        if (plain) {
                fputs(s, stdout);
                return;
        }
        putchar('\'');
        for (const char *t = s; *t; t++) {
                if (*t == '\'')
                        fputs("'\\''", stdout);
                else
                        putchar(*t);
        }
        putchar('\'');
}
