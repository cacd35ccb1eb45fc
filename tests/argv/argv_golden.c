/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Golden command-line test: tests/argv/CASE/profile.json -> the argv, env
 * and warnings qemu_argv_build() gives on a FAKE host, compared with
 * CASE/expected.args (one argument per line), expected.env and
 * expected.warnings (absent = none). A case whose profile must be refused
 * has expected.error instead (the formatted error, one line).
 *
 * The fake host is fixed so the output is deterministic: QEMU
 * /usr/bin/qemu-system-x86_64 version 7.2.0 (CASE/host may say
 * "qemu-version X.Y.Z"), firmware chosen from the descriptors in
 * tests/argv/firmware/ (copies of Debian 12's), VARS at the profile's path or
 * /var/lib/vfio-launch/NAME/NAME_VARS.fd, the fd numbers of launch_prepare()'s
 * layout (QMP 3, then taps, each with its vhost-net where the case's folder
 * "dev" has a file "vhost-net"), SPICE
 * autoport 5900, run-as user HOME=/home/alice, XDG_RUNTIME_DIR=/run/user/1000.
 *
 * VL_REGEN=1 (read here only, never by vfio-launch) rewrites the expected
 * files instead of comparing; review the diff before committing.
 *
 * Usage: argv_golden CASE_DIR FIRMWARE_DESCRIPTOR_DIR
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "qemu/hostinfo.h"
#include "run/launch.h"
#include "profile/profile_json.h"
#include "qemu/qemu_argv.h"
#include "host/vars.h"

#define FILE_MAX (1024 * 1024)

static const char *case_dir; /* for messages */

static char *read_text(const char *path)
{
        FILE *f = fopen(path, "re");
        char *buf;
        size_t n;

        if (!f)
                return NULL;
        buf = malloc(FILE_MAX + 1);
        if (!buf) {
                fclose(f);
                return NULL;
        }
        n = fread(buf, 1, FILE_MAX, f);
        buf[n] = '\0';
        fclose(f);
        return buf;
}

static int write_text(const char *path, const char *text)
{
        FILE *f = fopen(path, "we");

        if (!f)
                return -errno;
        fputs(text, f);
        return fclose(f) == 0 ? 0 : -errno;
}

/* Lines joined into one text, each ending in '\n'. */
static char *join(char *const *lines, size_t n)
{
        size_t len = 1;
        char *s, *p;

        for (size_t i = 0; i < n; i++)
                len += strlen(lines[i]) + 1;
        s = p = malloc(len);
        if (!s)
                return NULL;
        for (size_t i = 0; i < n; i++)
                p += sprintf(p, "%s\n", lines[i]);
        *p = '\0';
        return s;
}

/* Compare (or with regen, write) one expected file. An empty `got` means
 * "this file must not exist". Returns 0 when equal. */
static int check(const char *dir, const char *name, const char *got, bool regen)
{
        char path[4096];
        _cleanup_free_ char *want = NULL;
        size_t line = 1;

        snprintf(path, sizeof(path), "%s/%s", dir, name);
        if (regen) {
                if (!got[0]) {
                        if (unlink(path) < 0 && errno != ENOENT)
                                return -errno;
                        return 0;
                }
                return write_text(path, got);
        }
        want = read_text(path);
        if (!want)
                want = strdup("");
        if (strcmp(want, got) == 0)
                return 0;
        /* Show the first differing line: enough to find it, diff does the rest. */
        for (const char *a = want, *b = got;; line++) {
                size_t la = strcspn(a, "\n"), lb = strcspn(b, "\n");
                if (la != lb || strncmp(a, b, la) != 0) {
                        fprintf(stderr, "%s/%s: line %zu differs:\n  expected: %.*s\n  got:      %.*s\n",
                                case_dir, name, line, (int) la, a, (int) lb, b);
                        break;
                }
                if (!a[la] || !b[lb])
                        break;
                a += la + 1;
                b += lb + 1;
        }
        fprintf(stderr, "(run with VL_REGEN=1 to rewrite %s, then review the diff)\n", name);
        return -1;
}

/* Messages name files by absolute path (the case's own dev/ and sys/):
 * the case folder becomes "." so the expected files hold wherever the
 * tree is. */
static void relative_to_case(char *s)
{
        char cwd[PATH_MAX];
        size_t n;

        if (!getcwd(cwd, sizeof(cwd)))
                return;
        n = strlen(cwd);
        for (char *p = strstr(s, cwd); p; p = strstr(p + 1, cwd)) {
                memmove(p + 1, p + n, strlen(p + n) + 1);
                *p = '.';
        }
}
/* "blockdev PATH NODE" lines of the case's host file: the disk at PATH is
 * a block device whose node is NODE (what launch_prepare() finds on a host
 * that has it; this one has no such device). */
static struct {
        char path[PROFILE_PATH_MAX], node[PROFILE_PATH_MAX];
} blockdevs[PROFILE_DISKS_MAX];
static unsigned n_blockdevs;
/* "evdev PATH NODE" lines: the evdev input at PATH resolves to NODE (an
 * input device this host does not have). */
static struct {
        char path[PROFILE_PATH_MAX], node[PROFILE_PATH_MAX];
} evdevs[PROFILE_INPUTS_MAX];
static unsigned n_evdevs;

static int read_host(const char *dir, struct hostinfo *h)
{
        char path[4096], line[256];
        FILE *f;

        snprintf(path, sizeof(path), "%s/host", dir);
        f = fopen(path, "re");
        if (!f)
                return errno == ENOENT ? 0 : -errno;
        while (fgets(line, sizeof(line), f)) {
                line[strcspn(line, "\n")] = '\0';
                if (!line[0] || line[0] == '#')
                        continue;
                if (strncmp(line, "qemu-version ", 13) == 0 &&
                    hostinfo_parse_version(line + 13, &h->version) == 0)
                        continue;
                if (strncmp(line, "blockdev ", 9) == 0 && n_blockdevs < PROFILE_DISKS_MAX &&
                    sscanf(line + 9, "%1023s %1023s", blockdevs[n_blockdevs].path, blockdevs[n_blockdevs].node) == 2) {
                        n_blockdevs++;
                        continue;
                }
                if (strncmp(line, "evdev ", 6) == 0 && n_evdevs < PROFILE_INPUTS_MAX &&
                    sscanf(line + 6, "%1023s %1023s", evdevs[n_evdevs].path, evdevs[n_evdevs].node) == 2) {
                        n_evdevs++;
                        continue;
                }
                fprintf(stderr, "%s: cannot understand \"%s\"\n", path, line);
                fclose(f);
                return -EINVAL;
        }
        fclose(f);
        return 0;
}

/* Everything the launcher decides, through the launcher's own steps
 * (launch_prepare: machine -> firmware descriptor -> VARS path -> fd numbers),
 * with the firmware descriptors of the test folder and fixed values for what
 * depends on the moment (SPICE autoport) or the user. */
static int fake_runtime(const struct profile *p, const struct hostinfo *h, const char *fw_dir,
                        struct qemu_runtime *rt, struct vl_error *e, struct vl_warnings *w)
{
        struct firmware_dirs dirs = { .n = 1 };
        /* The case's own sysfs (its folder "sys", for "smbios": "host")
         * and /dev (its folder "dev": a file "vhost-net" there is a
         * vhost-net the launcher can open). */
        static char sys[PATH_MAX], dev[PATH_MAX];
        struct host_roots roots;
        struct stat st;
        int r;

        qemu_runtime_init(rt);
        snprintf(dirs.dir[0], sizeof(dirs.dir[0]), "%s", fw_dir);
        /* The test descriptors are believed as the checkout's owner's (the
         * tests may run as root in a user's tree). */
        if (stat(fw_dir, &st) == 0) {
                dirs.uid = st.st_uid;
                dirs.gid = st.st_gid;
        }
        /* The cases are profiles root owns: they may name any VARS path. */
        host_roots_init(&roots);
        if (!getcwd(sys, sizeof(sys) - 4))
                return vl_error_set(e, errno, "getcwd: %s", strerror(errno));
        strcpy(dev, sys);
        strcat(sys, "/sys");
        strcat(dev, "/dev");
        roots.sysfs = sys;
        roots.dev = dev;
        r = launch_prepare(p, h, &roots, &dirs, VARS_STATE_DIR, true, rt, NULL, e, w);
        if (r < 0)
                return r;
        /* A node in the case's dev/ stands for the host's /dev one: the
         * expected file says /dev, wherever the tree is. */
        for (unsigned i = 0; i < p->n_shmem; i++) {
                size_t n = strlen(dev);
                char *s = rt->shmem_path[i];

                if (strncmp(s, dev, n) == 0 && s[n] == '/') {
                        memmove(s + 4, s + n, strlen(s + n) + 1);
                        memcpy(s, "/dev", 4);
                }
        }
        for (unsigned i = 0; i < p->n_disks; i++)
                for (unsigned k = 0; k < n_blockdevs; k++)
                        if (strcmp(p->disks[i].path, blockdevs[k].path) == 0)
                                snprintf(rt->disk_node[i], sizeof(rt->disk_node[i]), "%s", blockdevs[k].node);
        for (unsigned i = 0; i < p->n_inputs; i++)
                for (unsigned k = 0; k < n_evdevs; k++)
                        if (strcmp(p->inputs[i].evdev, evdevs[k].path) == 0)
                                snprintf(rt->input_node[i], sizeof(rt->input_node[i]), "%s", evdevs[k].node);
        rt->spice_port = 5900;
        strcpy(rt->home, "/home/alice");
        strcpy(rt->xdg_runtime_dir, "/run/user/1000");
        return 0;
}

int main(int argc, char **argv)
{
        const char *dir, *regen_env = getenv("VL_REGEN");
        _cleanup_free_ char *fw_dir = NULL;
        bool regen = regen_env && strcmp(regen_env, "1") == 0;
        struct hostinfo h = { .qemu_path = "/usr/bin/qemu-system-x86_64", .version = { 7, 2, 0 } };
        _cleanup_free_ struct profile *p = NULL;
        _cleanup_free_ struct qemu_runtime *rt = NULL;
        _cleanup_free_ char *args = NULL, *envs = NULL, *warns = NULL;
        _cleanup_qemu_cmd_ struct qemu_cmd *cmd = NULL;
        char errline[1200];
        struct vl_warnings w = {};
        struct vl_error e = {};
        int r, fails = 0;

        if (argc != 3) {
                fprintf(stderr, "usage: %s CASE_DIR FIRMWARE_DESCRIPTOR_DIR\n", argv[0]);
                return 2;
        }
        dir = case_dir = argv[1];
        /* Work inside the case folder so messages say "profile.json:L:C",
         * whatever the path of the source tree. */
        fw_dir = realpath(argv[2], NULL);
        if (!fw_dir || chdir(dir) < 0) {
                fprintf(stderr, "%s / %s: %m\n", argv[1], argv[2]);
                return 2;
        }
        p = malloc(sizeof(*p));
        rt = malloc(sizeof(*rt));
        if (!p || !rt)
                return 2;
        if (read_host(".", &h) < 0)
                return 1;

        r = profile_load("profile.json", p, &e, &w);
        if (r >= 0)
                r = fake_runtime(p, &h, fw_dir, rt, &e, &w);
        if (r >= 0)
                r = qemu_argv_build(p, &h, rt, &cmd, &e, &w);
        if (r < 0) {
                vl_error_format(&e, errline, sizeof(errline));
                relative_to_case(errline);
                strcat(errline, "\n");
                if (check(".", "expected.error", errline, regen) < 0) {
                        fprintf(stderr, "%s: build failed: %s", dir, errline);
                        return 1;
                }
                return 0;
        }
        if (!regen) {
                if (access("expected.error", F_OK) == 0) {
                        fprintf(stderr, "%s: expected an error, but the build succeeded\n", dir);
                        fails++;
                }
        } else {
                (void) check(".", "expected.error", "", true);
        }
        for (size_t i = 0; i < cmd->n_argv; i++)
                if (strchr(cmd->argv[i], '\n')) {
                        fprintf(stderr, "argument %zu contains a newline\n", i);
                        return 1;
                }
        args = join(cmd->argv, cmd->n_argv);
        envs = join(cmd->env, cmd->n_env);
        {
                char *lines[VL_WARNINGS_MAX];
                for (unsigned i = 0; i < w.n; i++) {
                        relative_to_case(w.msg[i]);
                        lines[i] = w.msg[i];
                }
                warns = join(lines, w.n);
        }
        if (!args || !envs || !warns)
                return 2;
        fails += check(".", "expected.args", args, regen) < 0;
        fails += check(".", "expected.env", envs, regen) < 0;
        fails += check(".", "expected.warnings", warns, regen) < 0;
        if (regen)
                printf("%s: rewritten\n", dir);
        return fails ? 1 : 0;
}
