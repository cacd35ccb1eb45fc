/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Realization test: hand a golden command line (CASE/expected.args) to the
 * real qemu-system-x86_64 under TCG with -S and require that it reaches
 * "prelaunch" with every -device realized and nothing on stderr. A golden
 * file that QEMU rejects fails here, so goldens cannot drift into syntax no
 * QEMU accepts.
 *
 * Only what a machine without KVM, VFIO or a GPU cannot do is substituted,
 * here in the harness (the builder knows nothing of it), and each
 * substitution is printed:
 *   -accel kvm                 -> -accel tcg
 *   -cpu MODEL,...             -> -cpu max,...,vendor=GenuineIntel without
 *                                 hv-vpindex (TCG: "kernel doesn't allow setting
 *                                 HyperV VP_INDEX"; other hv-* flags are kept);
 *                                 TCG's max is AMD-flavoured and warns on
 *                                 threads>1 without topoext, which TCG lacks
 *   -device vfio-pci,...       -> bochs-display (function 0; VGA if x-vga=on;
 *                                 nvme,serial=ID with a bootindex) /
 *                                 ich9-intel-hda (other functions): a GPU and its
 *                                 HDA function, with the same id, bus, addr,
 *                                 multifunction, rombar; host/romfile/x-vga dropped
 *   -netdev tap,fd=N,...       -> -netdev user,... (same id); vhost=on and
 *                                 vhostfd=M dropped (no /dev/vhost-net here:
 *                                 tests/net case vhost and tests/vm case
 *                                 vhost-net hand QEMU the real one)
 *   -chardev socket,fd=N,...   -> -chardev stdio (same id): QMP over stdin/stdout
 *   pflash0 file               -> the real OVMF code (same file if present)
 *   pflash1 file               -> a temp copy of the matching OVMF VARS template
 *   disk files                 -> temp qcow2/raw images made with qemu-img
 *   -blockdev host_device,     -> driver=file on such a temp image (no block
 *     filename=/dev/...           device here; tests/lifecycle case blockdev
 *                                 runs a real one, a loop device)
 *   -object secret,file=       -> a temp password file
 *   -object input-linux,...    -> iothread,id=ID once every key is one this
 *                                 QEMU lists for input-linux (no evdev device
 *                                 here; tests/lifecycle case input runs the
 *                                 real one on a uinput keyboard)
 *   -device usb-host,...       -> usb-kbd with the same id and bus, once every
 *                                 key is one this QEMU lists for usb-host (no
 *                                 USB device here; tests/vm case usb passes a
 *                                 real one); each -add-fd's fd= is /dev/null
 *                                 opened read-write
 *   -spice                     -> a free port on 127.0.0.1; gl/rendernode dropped
 *   -audiodev DRIVER,...       -> none,... keeping id and the generic
 *                                 timer-period / buffer-length / frequency
 *                                 (no sound server or card here; ALSA errors
 *                                 would only be logged, PA would be fatal)
 *   -chardev socket,fd=N of a  -> kept: QEMU gets one end of a socket pair at fd
 *     -tpmdev emulator            N, a real swtpm (a fresh state in a temp folder)
 *                                 the other as its control channel, as the
 *                                 launcher runs it; swtpm must exit 0 with QEMU
 *   memory-backend-file,       -> mem-path = a temp file of the same name and
 *     share=on (a "shmem":        size (the launcher makes /dev/shm/NAME, and
 *     /dev/shm/NAME, /dev/kvmfrN) no test machine has kvmfr's /dev/kvmfrN)
 *   memory-backend-file        -> mem-path = a temp folder of the same name,
 *     mem-path=DIR                prealloc=off (this machine reserves no hugepages and its
 *                                 tests never write nr_hugepages; QEMU takes any
 *                                 folder, so the syntax is still checked —
 *                                 tests/vm runs it on a real hugetlbfs mount)
 * Temp files keep the golden file's base name (commas and spaces included)
 * inside a folder named "realize, CASE.XXXXXX", so the escaping is exercised.
 *
 * Usage: argv_realize CASE_DIR QEMU QEMU_IMG OVMF_DIR WORK_PARENT [SWTPM]
 * Exit: 0 pass, 1 fail, 77 skip (no QEMU; no swtpm for a case with a TPM).
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "vl_tmp.h"

#define MAX_ARGS 512
#define MAX_KV 64
#define OUT_MAX (1024 * 1024)
#define TIMEOUT_MS 60000

static const char *qemu, *qemu_img, *ovmf_dir, *swtpm = "/usr/bin/swtpm";
static const char *tpm_chardev; /* the id a -tpmdev emulator names, or NULL */
static int tpm_fd = -1;         /* its fd= in QEMU */
static int add_fds[16];         /* the fd= of each -add-fd: /dev/null read-write there */
static size_t n_add_fds;
static char work[4096];
static const char *work_parent;
static char *in_args[MAX_ARGS];
static size_t n_in;

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die(const char *fmt, ...)
{
        va_list ap;

        va_start(ap, fmt);
        fputs("argv_realize: ", stderr);
        vfprintf(stderr, fmt, ap);
        fputc('\n', stderr);
        va_end(ap);
        exit(1);
}

/* Every string this short-lived tool makes is tracked and freed at the
 * end, so the sanitizer build's leak checker stays meaningful. */
static void **tracked;
static size_t n_tracked, cap_tracked;

static void *track(void *p)
{
        if (!p)
                die("out of memory");
        if (n_tracked == cap_tracked) {
                size_t nc = cap_tracked ? 2 * cap_tracked : 256;
                void **n = realloc(tracked, nc * sizeof(*n));
                if (!n)
                        die("out of memory");
                tracked = n;
                cap_tracked = nc;
        }
        tracked[n_tracked++] = p;
        return p;
}

static void free_tracked(void)
{
        for (size_t i = 0; i < n_tracked; i++)
                free(tracked[i]);
        free(tracked);
}

static char *xstrdup(const char *s)
{
        return track(strdup(s));
}

static char *xprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *xprintf(const char *fmt, ...)
{
        va_list ap;
        char *r;

        va_start(ap, fmt);
        if (vasprintf(&r, fmt, ap) < 0)
                die("out of memory");
        va_end(ap);
        return track(r);
}

/* ---- QEMU option strings: "head,key=value,..." with ",," for a comma ---------------------- */

struct kv {
        char *k; /* NULL: the implied first value ("e1000e" in -device e1000e,...) */
        char *v;
};
struct optv {
        size_t n;
        struct kv kv[MAX_KV];
};

static void opt_parse(const char *s, struct optv *o)
{
        char *seg = malloc(strlen(s) + 1);
        size_t len;

        if (!seg)
                die("out of memory");
        o->n = 0;
        for (;;) {
                len = 0;
                while (*s) {
                        if (*s == ',' && s[1] == ',') {
                                seg[len++] = ',';
                                s += 2;
                        } else if (*s == ',') {
                                break;
                        } else {
                                seg[len++] = *s++;
                        }
                }
                seg[len] = '\0';
                if (o->n >= MAX_KV)
                        die("too many options in \"%s\"", s);
                {
                        char *eq = strchr(seg, '=');
                        struct kv *kv = &o->kv[o->n++];
                        if (!eq && o->n == 1) {
                                kv->k = NULL;
                                kv->v = xstrdup(seg);
                        } else if (eq) {
                                *eq = '\0';
                                kv->k = xstrdup(seg);
                                kv->v = xstrdup(eq + 1);
                        } else {
                                kv->k = xstrdup(seg); /* a bare flag */
                                kv->v = NULL;
                        }
                }
                if (!*s)
                        break;
                s++;
        }
        free(seg);
}

static char *opt_join(const struct optv *o)
{
        size_t cap = 1;
        char *r, *p;

        for (size_t i = 0; i < o->n; i++)
                cap += 2 * ((o->kv[i].k ? strlen(o->kv[i].k) : 0) +
                            (o->kv[i].v ? strlen(o->kv[i].v) : 0)) + 3;
        r = p = track(malloc(cap));
        for (size_t i = 0; i < o->n; i++) {
                if (i > 0)
                        *p++ = ',';
                if (o->kv[i].k) {
                        p = stpcpy(p, o->kv[i].k);
                        if (o->kv[i].v)
                                *p++ = '=';
                }
                for (const char *v = o->kv[i].v; v && *v; v++) {
                        *p++ = *v;
                        if (*v == ',')
                                *p++ = ',';
                }
        }
        *p = '\0';
        return r;
}

static const char *opt_head(const struct optv *o)
{
        return o->n > 0 && !o->kv[0].k ? o->kv[0].v : "";
}

static const char *opt_get(const struct optv *o, const char *key)
{
        for (size_t i = 0; i < o->n; i++)
                if (o->kv[i].k && strcmp(o->kv[i].k, key) == 0)
                        return o->kv[i].v;
        return NULL;
}

static void opt_set(struct optv *o, const char *key, const char *val)
{
        for (size_t i = 0; i < o->n; i++)
                if (o->kv[i].k && strcmp(o->kv[i].k, key) == 0) {
                        o->kv[i].v = xstrdup(val);
                        return;
                }
        if (o->n >= MAX_KV)
                die("too many options");
        o->kv[o->n].k = xstrdup(key);
        o->kv[o->n++].v = xstrdup(val);
}

static void opt_del(struct optv *o, const char *key)
{
        for (size_t i = 0; i < o->n; i++)
                if (o->kv[i].k && strcmp(o->kv[i].k, key) == 0) {
                        memmove(&o->kv[i], &o->kv[i + 1], (o->n - i - 1) * sizeof(o->kv[0]));
                        o->n--;
                        i--;
                }
}

static void opt_set_head(struct optv *o, const char *head)
{
        if (o->n > 0 && !o->kv[0].k) {
                o->kv[0].v = xstrdup(head);
                return;
        }
        if (o->n >= MAX_KV)
                die("too many options");
        memmove(&o->kv[1], &o->kv[0], o->n * sizeof(o->kv[0]));
        o->kv[0] = (struct kv) { NULL, xstrdup(head) };
        o->n++;
}

/* ---- helpers ------------------------------------------------------------------------------ */

static int run_wait(char *const argv[])
{
        pid_t pid = fork();
        int status;

        if (pid < 0)
                die("fork: %m");
        if (pid == 0) {
                int devnull = open("/dev/null", O_WRONLY);
                if (devnull >= 0)
                        dup2(devnull, STDOUT_FILENO);
                execv(argv[0], argv);
                _exit(127);
        }
        if (waitpid(pid, &status, 0) < 0)
                die("waitpid: %m");
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

static void copy_file(const char *from, const char *to)
{
        char buf[65536];
        int in = open(from, O_RDONLY | O_CLOEXEC), out;
        ssize_t n;

        if (in < 0)
                die("open %s: %m", from);
        out = open(to, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (out < 0)
                die("create %s: %m", to);
        while ((n = read(in, buf, sizeof(buf))) > 0)
                if (write(out, buf, (size_t) n) != n)
                        die("write %s: %m", to);
        close(in);
        close(out);
}

static const char *base_name(const char *path)
{
        const char *s = strrchr(path, '/');
        return s ? s + 1 : path;
}

static unsigned free_port(void)
{
        struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
        socklen_t len = sizeof(a);
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

        if (fd < 0 || bind(fd, (struct sockaddr *) &a, sizeof(a)) < 0 ||
            getsockname(fd, (struct sockaddr *) &a, &len) < 0)
                die("cannot find a free port: %m");
        close(fd);
        return ntohs(a.sin_port);
}

/* The format node's driver for a file node ("disk0-storage" -> "qcow2"). */
static const char *format_of(const char *node)
{
        for (size_t i = 1; i + 1 < n_in; i++) {
                struct optv o;
                const char *f;

                if (strcmp(in_args[i], "-blockdev") != 0)
                        continue;
                opt_parse(in_args[i + 1], &o);
                f = opt_get(&o, "file");
                if (f && strcmp(f, node) == 0)
                        return opt_get(&o, "driver");
        }
        return "raw";
}

static void note(const char *what, const char *from, const char *to)
{
        printf("substituted %s:\n    %s\n -> %s\n", what, from, to);
}

/* ---- the substitutions -------------------------------------------------------------------- */

static char *subst_blockdev(const char *val, const char **code_path, unsigned *n_disk)
{
        struct optv o;
        const char *node, *file;
        char *path;

        opt_parse(val, &o);
        /* A block device this machine does not have: the same node as a
         * file (the launcher hands the real one to QEMU's user). */
        if (strcmp(opt_get(&o, "driver") ? opt_get(&o, "driver") : "", "host_device") == 0) {
                char *from = xstrdup(val), *to;

                opt_set(&o, "driver", "file");
                to = subst_blockdev(opt_join(&o), code_path, n_disk);
                note("a block device (host_device)", from, to);
                return to;
        }
        if (strcmp(opt_get(&o, "driver") ? opt_get(&o, "driver") : "", "file") != 0)
                return xstrdup(val);
        node = opt_get(&o, "node-name");
        file = opt_get(&o, "filename");
        if (!node || !file)
                die("-blockdev %s: no node-name or filename", val);
        if (strcmp(node, "pflash0-storage") == 0) {
                if (access(file, R_OK) == 0) {
                        path = xstrdup(file);
                } else {
                        path = xprintf("%s/%s", ovmf_dir, base_name(file));
                        if (access(path, R_OK) < 0)
                                path = xprintf("%s/OVMF_CODE_4M.fd", ovmf_dir);
                }
                *code_path = path;
        } else if (strcmp(node, "pflash1-storage") == 0) {
                /* The enrolled-keys code comes with its own VARS (the keys). */
                const char *tpl = *code_path && strstr(base_name(*code_path), ".ms.")
                                          ? "OVMF_VARS_4M.ms.fd"
                                          : "OVMF_VARS_4M.fd";
                char *from = xprintf("%s/%s", ovmf_dir, tpl);
                path = xprintf("%s/%s", work, base_name(file));
                copy_file(from, path);
        } else {
                const char *fmt = format_of(node);
                char *const cmd[] = { (char *) qemu_img, (char *) "create", (char *) "-q",
                                      (char *) "-f", (char *) fmt,
                                      path = xprintf("%s/%u-%s", work, (*n_disk)++, base_name(file)),
                                      (char *) (strcmp(fmt, "qcow2") == 0 ? "64M" : "1M"), NULL };
                if (run_wait(cmd) != 0)
                        die("qemu-img create %s failed", path);
        }
        opt_set(&o, "filename", path);
        return opt_join(&o);
}

/* -cpu host became max under TCG (above): a CPUID feature the profile asks
 * for that TCG does not emulate is a warning of the substitution, not of the
 * command line (under KVM the host CPU has it or QEMU says so). Those lines
 * are dropped from err, and said. */
static void drop_tcg_feature_warnings(char *err)
{
        static const char tcg[] = "warning: TCG doesn't support requested feature: ";
        char *line = err, *out = err;

        while (*line) {
                char *end = strchrnul(line, '\n');
                size_t n = (size_t) (end - line) + (*end ? 1 : 0);
                if (memmem(line, n, tcg, strlen(tcg)))
                        printf("ignored (TCG for -cpu host): %.*s", (int) n, line);
                else {
                        memmove(out, line, n);
                        out += n;
                }
                line += n;
        }
        *out = '\0';
}

/* Every key of o other than id is one this QEMU lists for "OPT TYPE,help";
 * dies otherwise. */
static void check_keys(const char *opt, const char *type, const struct optv *o)
{
        char cmd[4096], line[256], keys[2048] = "";
        FILE *f;

        snprintf(cmd, sizeof(cmd), "'%s' %s %s,help 2>&1", qemu, opt, type);
        f = popen(cmd, "re");
        if (!f)
                die("cannot run %s: %m", cmd);
        while (fgets(line, sizeof(line), f)) {
                char *k = line + strspn(line, " ");
                size_t n = strcspn(k, "=");
                if (k[n] == '=' && strlen(keys) + n + 3 < sizeof(keys))
                        strcat(strncat(strcat(keys, " "), k, n), " ");
        }
        pclose(f);
        for (size_t i = 0; i < o->n; i++) {
                char want[128];
                /* id and bus are every device's, not in its own list. */
                if (!o->kv[i].k || strcmp(o->kv[i].k, "id") == 0 || strcmp(o->kv[i].k, "bus") == 0)
                        continue;
                snprintf(want, sizeof(want), " %s ", o->kv[i].k);
                if (!strstr(keys, want))
                        die("%s has no property \"%s\" in this QEMU (it has:%s)", type, o->kv[i].k, keys);
        }
}

/* An input-linux object needs a real evdev device (its complete() opens
 * the node and asks EVIOCGVERSION), and this machine may have none: each
 * key is checked against what this QEMU lists for input-linux, each on/off
 * value spelt as QEMU's bools, then the object becomes an iothread of the
 * same id (the lifecycle case input runs the real one on a uinput device). */
static char *subst_input_linux(struct optv *o)
{
        check_keys("-object", "input-linux", o);
        for (size_t i = 0; i < o->n; i++) {
                if (!o->kv[i].k)
                        continue;
                if ((strcmp(o->kv[i].k, "grab_all") == 0 || strcmp(o->kv[i].k, "repeat") == 0) &&
                    strcmp(o->kv[i].v, "on") != 0 && strcmp(o->kv[i].v, "off") != 0)
                        die("input-linux %s=%s is not on/off", o->kv[i].k, o->kv[i].v);
        }
        return xprintf("iothread,id=%s", opt_get(o, "id") ? opt_get(o, "id") : "input");
}

static char *subst(const char *opt, const char *val, const char **code_path, unsigned *n_disk)
{
        struct optv o;

        if (strcmp(opt, "-accel") == 0 && strcmp(val, "kvm") == 0)
                return xstrdup("tcg");
        if (strcmp(opt, "-blockdev") == 0)
                return subst_blockdev(val, code_path, n_disk);
        opt_parse(val, &o);
        if (strcmp(opt, "-cpu") == 0) {
                opt_set_head(&o, "max");
                opt_del(&o, "hv-vpindex");
                opt_set(&o, "vendor", "GenuineIntel");
                return opt_join(&o);
        }
        if (strcmp(opt, "-device") == 0 && strcmp(opt_head(&o), "vfio-pci") == 0) {
                const char *addr = opt_get(&o, "addr");
                bool fn0 = !addr || !strchr(addr, '.'), vga = opt_get(&o, "x-vga") != NULL;
                /* Not a NIC: an unconnected one warns "nic ... has no peer". */
                opt_set_head(&o, !fn0 ? "ich9-intel-hda" : vga ? "VGA" : "bochs-display");
                /* A boot device (bootindex=): an NVMe controller, which
                 * takes one, as the passed-through NVMe it stands for. */
                if (fn0 && !vga && opt_get(&o, "bootindex")) {
                        opt_set_head(&o, "nvme");
                        opt_set(&o, "serial", opt_get(&o, "id") ? opt_get(&o, "id") : "hostdev");
                }
                opt_del(&o, "host");
                opt_del(&o, "romfile");
                opt_del(&o, "x-vga");
                return opt_join(&o);
        }
        if (strcmp(opt, "-netdev") == 0 && strcmp(opt_head(&o), "tap") == 0) {
                opt_set_head(&o, "user");
                opt_del(&o, "fd");
                opt_del(&o, "vhost");
                opt_del(&o, "vhostfd");
                return opt_join(&o);
        }
        if (strcmp(opt, "-chardev") == 0 && tpm_chardev && opt_get(&o, "id") &&
            strcmp(opt_get(&o, "id"), tpm_chardev) == 0 && opt_get(&o, "fd")) {
                /* The TPM's socket: the real thing, run_qemu() puts it there. */
                tpm_fd = atoi(opt_get(&o, "fd"));
                if (tpm_fd < 3 || tpm_fd > 100)
                        die("TPM chardev fd %s out of range", opt_get(&o, "fd"));
                return xstrdup(val);
        }
        if (strcmp(opt, "-chardev") == 0 && strcmp(opt_head(&o), "socket") == 0 &&
            opt_get(&o, "fd")) {
                /* The first is the supervisor's monitor, driven over stdio
                 * here; any other (the tools' monitor) listens on a path. */
                static bool stdio_taken;
                if (!stdio_taken) {
                        stdio_taken = true;
                        return xprintf("stdio,id=%s", opt_get(&o, "id"));
                }
                opt_del(&o, "fd");
                opt_set(&o, "path", xprintf("%s/%s.sock", work, opt_get(&o, "id")));
                return opt_join(&o);
        }
        if (strcmp(opt, "-object") == 0 && strcmp(opt_head(&o), "input-linux") == 0)
                return subst_input_linux(&o);
        if (strcmp(opt, "-add-fd") == 0) {
                int fd = opt_get(&o, "fd") ? atoi(opt_get(&o, "fd")) : -1;

                /* The fd set a usb-host opens: QEMU checks that the fd is
                 * open; nothing reads it once usb-host is substituted. */
                if (fd < 3 || fd > 100 || n_add_fds >= sizeof(add_fds) / sizeof(add_fds[0]))
                        die("-add-fd fd %s out of range", opt_get(&o, "fd") ? opt_get(&o, "fd") : "(none)");
                add_fds[n_add_fds++] = fd;
                return xstrdup(val);
        }
        if (strcmp(opt, "-device") == 0 && strcmp(opt_head(&o), "usb-host") == 0) {
                /* No USB device here (tests/vm case usb passes a real one):
                 * usb-host's keys checked against this QEMU's, then a
                 * usb-kbd with the same id on the same bus. */
                check_keys("-device", "usb-host", &o);
                if (!opt_get(&o, "hostdevice") || strncmp(opt_get(&o, "hostdevice"), "/dev/fdset/", 11) != 0)
                        die("usb-host without hostdevice=/dev/fdset/N");
                opt_set_head(&o, "usb-kbd");
                opt_del(&o, "hostdevice");
                return opt_join(&o);
        }
        if (strcmp(opt, "-object") == 0 && strcmp(opt_head(&o), "secret") == 0 &&
            opt_get(&o, "file")) {
                char *path = xprintf("%s/%s", work, base_name(opt_get(&o, "file")));
                FILE *f = fopen(path, "we");
                if (!f || fputs("test-password", f) < 0 || fclose(f) != 0)
                        die("cannot write %s", path);
                opt_set(&o, "file", path);
                return opt_join(&o);
        }
        if (strcmp(opt, "-object") == 0 && strcmp(opt_head(&o), "memory-backend-file") == 0 &&
            opt_get(&o, "mem-path") && opt_get(&o, "share") && strcmp(opt_get(&o, "share"), "on") == 0) {
                char *path = xprintf("%s/%s", work, base_name(opt_get(&o, "mem-path")));
                const char *size = opt_get(&o, "size");
                char *end;
                unsigned long long mib = size ? strtoull(size, &end, 10) : 0;
                int fd;

                if (!size || strcmp(end, "M") != 0)
                        die("shmem size %s is not NM", size ? size : "(none)");
                fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
                if (fd < 0 || ftruncate(fd, (off_t) (mib << 20)) < 0 || close(fd) < 0)
                        die("cannot make %s: %m", path);
                opt_set(&o, "mem-path", path);
                return opt_join(&o);
        }
        if (strcmp(opt, "-object") == 0 && strcmp(opt_head(&o), "memory-backend-file") == 0 &&
            opt_get(&o, "mem-path")) {
                char *path = xprintf("%s/%s", work, base_name(opt_get(&o, "mem-path")));
                if (mkdir(path, 0700) < 0)
                        die("mkdir %s: %m", path);
                opt_set(&o, "mem-path", path);
                /* Not on hugetlbfs, prealloc=on would write the whole size
                 * (16 GiB for win11) to this machine's disk before prelaunch. */
                if (opt_get(&o, "prealloc"))
                        opt_set(&o, "prealloc", "off");
                return opt_join(&o);
        }
        if (strcmp(opt, "-spice") == 0) {
                char port[16];
                snprintf(port, sizeof(port), "%u", free_port());
                opt_set(&o, "port", port);
                opt_set(&o, "addr", "127.0.0.1");
                opt_del(&o, "gl");
                opt_del(&o, "rendernode");
                return opt_join(&o);
        }
        if (strcmp(opt, "-audiodev") == 0) {
                static const char *const keep[] = { "id", "timer-period", "in.buffer-length",
                                                    "out.buffer-length", "out.frequency" };
                struct optv n = { 0 };
                n.kv[n.n++] = (struct kv) { NULL, xstrdup("none") };
                for (size_t i = 0; i < o.n; i++)
                        for (size_t k = 0; k < sizeof(keep) / sizeof(keep[0]); k++)
                                if (o.kv[i].k && strcmp(o.kv[i].k, keep[k]) == 0)
                                        n.kv[n.n++] = o.kv[i];
                return opt_join(&n);
        }
        return xstrdup(val);
}

/* ---- running QEMU ------------------------------------------------------------------------- */

static int64_t now_ms(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}


/* swtpm on one end of a socket pair, as the launcher runs it (its control
 * channel at fd 3); *ret_qemu_end is the other end, for QEMU's tpm_fd. */
static pid_t start_swtpm(const char *state, int *ret_qemu_end)
{
        int sp[2];
        pid_t pid;

        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) < 0)
                die("socketpair: %m");
        pid = fork();
        if (pid < 0)
                die("fork: %m");
        if (pid == 0) {
                char *const args[] = { (char *) swtpm, (char *) "socket", (char *) "--tpm2",
                                       (char *) "--tpmstate", xprintf("dir=%s,mode=0600", state),
                                       (char *) "--ctrl", (char *) "type=unixio,clientfd=3",
                                       (char *) "--terminate", (char *) "--seccomp", (char *) "action=kill", NULL };
                if (dup2(sp[0], 3) < 0)
                        _exit(127);
                execv(swtpm, args);
                _exit(127);
        }
        close(sp[0]);
        *ret_qemu_end = sp[1];
        return pid;
}

/* swtpm leaves with QEMU (--terminate): wait for it, at most 5 s. */
static int wait_swtpm(pid_t pid)
{
        int64_t deadline = now_ms() + 5000;
        int status;

        while (waitpid(pid, &status, WNOHANG) == 0) {
                if (now_ms() > deadline) {
                        kill(pid, SIGKILL);
                        (void) waitpid(pid, &status, 0);
                        fprintf(stderr, "FAIL: swtpm was still running 5 s after QEMU\n");
                        return -1;
                }
                usleep(10000);
        }
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
                fprintf(stderr, "FAIL: swtpm ended with %s %d\n", WIFEXITED(status) ? "status" : "signal",
                        WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
                return -1;
        }
        printf("swtpm (the TPM's other end) exited 0 with QEMU\n");
        return 0;
}

static int run_qemu(char **argv, char *out, char *err, int *ret_status)
{
        static const char cmds[] = "{\"execute\":\"qmp_capabilities\"}\n"
                                   "{\"execute\":\"query-status\"}\n"
                                   "{\"execute\":\"qom-list\",\"arguments\":{\"path\":"
                                   "\"/machine/peripheral\"}}\n"
                                   "{\"execute\":\"quit\"}\n";
        int in[2], o[2], e[2];
        size_t n_out = 0, n_err = 0;
        int64_t deadline = now_ms() + TIMEOUT_MS;
        char *env[] = { (char *) "PATH=/usr/local/bin:/usr/bin:/bin", xprintf("HOME=%s", work), NULL };
        pid_t pid, tpm_pid = -1;
        int tpm_end = -1, tpm_failed = 0;
        char *tpm_state = NULL;

        if (tpm_fd >= 0) {
                /* Not in work: swtpm's options have no ",," for the comma in its name. */
                tpm_state = xprintf("%s/realize-swtpm.XXXXXX", work_parent);
                if (!mkdtemp(tpm_state))
                        die("mkdtemp %s: %m", tpm_state);
                tpm_pid = start_swtpm(tpm_state, &tpm_end);
        }
        if (pipe2(in, O_CLOEXEC) < 0 || pipe2(o, O_CLOEXEC) < 0 || pipe2(e, O_CLOEXEC) < 0)
                die("pipe: %m");
        pid = fork();
        if (pid < 0)
                die("fork: %m");
        if (pid == 0) {
                /* Above every number dup2() is about to take, then into place. */
                int t = tpm_end >= 0 ? fcntl(tpm_end, F_DUPFD_CLOEXEC, 200) : -1;
                if (dup2(in[0], 0) < 0 || dup2(o[1], 1) < 0 || dup2(e[1], 2) < 0)
                        _exit(127);
                if (t >= 0 && dup2(t, tpm_fd) < 0)
                        _exit(127);
                for (size_t i = 0; i < n_add_fds; i++) {
                        int null = open("/dev/null", O_RDWR);
                        if (null < 0 || (null != add_fds[i] && dup2(null, add_fds[i]) < 0))
                                _exit(127);
                        if (null != add_fds[i])
                                close(null);
                }
                if (chdir(work) < 0)
                        _exit(127);
                execve(argv[0], argv, env);
                _exit(127);
        }
        close(in[0]);
        close(o[1]);
        close(e[1]);
        if (tpm_end >= 0)
                close(tpm_end);
        /* QMP input can be queued before the greeting: the monitor reads it
         * once it runs, i.e. after every device was created and realized. */
        if (write(in[1], cmds, strlen(cmds)) != (ssize_t) strlen(cmds))
                fprintf(stderr, "writing QMP commands: %m (QEMU gone early?)\n");
        close(in[1]);

        for (int open_fds = 2; open_fds > 0;) {
                struct pollfd p[2] = { { .fd = o[0], .events = POLLIN }, { .fd = e[0], .events = POLLIN } };
                int64_t left = deadline - now_ms();
                if (left <= 0 || poll(p, 2, (int) left) <= 0) {
                        kill(pid, SIGKILL);
                        fprintf(stderr, "QEMU did not finish within %d s\n", TIMEOUT_MS / 1000);
                        break;
                }
                for (int i = 0; i < 2; i++) {
                        char *buf = i ? err : out;
                        size_t *n = i ? &n_err : &n_out;
                        ssize_t r;
                        if (p[i].fd < 0 || !(p[i].revents & (POLLIN | POLLHUP | POLLERR)))
                                continue;
                        r = read(p[i].fd, buf + *n, OUT_MAX - 1 - *n);
                        if (r <= 0) {
                                close(p[i].fd);
                                if (i)
                                        e[0] = -1;
                                else
                                        o[0] = -1;
                                open_fds--;
                                continue;
                        }
                        *n += (size_t) r;
                        buf[*n] = '\0';
                }
        }
        if (o[0] >= 0)
                close(o[0]);
        if (e[0] >= 0)
                close(e[0]);
        if (waitpid(pid, ret_status, 0) < 0)
                die("waitpid: %m");
        if (tpm_pid > 0) {
                tpm_failed = wait_swtpm(tpm_pid) < 0;
                vl_rm_tree(tpm_state);
        }
        return tpm_failed ? -1 : 0;
}

int main(int argc, char **argv)
{
        const char *dir, *code_path = NULL, *keep = getenv("VL_KEEP");
        char *out_args[MAX_ARGS + 1], *out, *err, *text, *line, *save;
        unsigned n_disk = 0;
        int status = 0, fails = 0;
        FILE *f;
        size_t len;

        if (argc != 6 && argc != 7) {
                fprintf(stderr, "usage: %s CASE_DIR QEMU QEMU_IMG OVMF_DIR WORK_PARENT [SWTPM]\n", argv[0]);
                return 2;
        }
        dir = argv[1];
        qemu = argv[2];
        qemu_img = argv[3];
        ovmf_dir = argv[4];
        if (argc == 7)
                swtpm = argv[6];
        signal(SIGPIPE, SIG_IGN);
        if (access(qemu, X_OK) < 0 || access(qemu_img, X_OK) < 0) {
                printf("SKIP: %s or %s not installed\n", qemu, qemu_img);
                return 77;
        }

        /* expected.args, one argument per line */
        text = xprintf("%s/expected.args", dir);
        f = fopen(text, "re");
        if (!f)
                die("%s: %m", text);
        text = track(malloc(OUT_MAX));
        len = fread(text, 1, OUT_MAX - 1, f);
        text[len] = '\0';
        fclose(f);
        for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                if (n_in >= MAX_ARGS)
                        die("too many arguments");
                in_args[n_in++] = line;
        }
        if (n_in == 0)
                die("%s/expected.args is empty", dir);
        work_parent = argv[5];
        for (size_t i = 1; i + 1 < n_in; i++) {
                struct optv o;

                if (strcmp(in_args[i], "-tpmdev") != 0)
                        continue;
                opt_parse(in_args[i + 1], &o);
                if (strcmp(opt_head(&o), "emulator") == 0 && opt_get(&o, "chardev"))
                        tpm_chardev = opt_get(&o, "chardev");
        }
        if (tpm_chardev && access(swtpm, X_OK) < 0) {
                printf("SKIP: %s not installed (apt-get install swtpm): the case has a TPM\n", swtpm);
                return 77;
        }

        snprintf(work, sizeof(work), "%s/realize, %s.XXXXXX", argv[5], base_name(dir));
        if (!mkdtemp(work))
                die("mkdtemp %s: %m", work);

        out_args[0] = (char *) qemu;
        for (size_t i = 1; i < n_in; i++) {
                char *v;

                out_args[i] = in_args[i];
                /* options without a value */
                if (strcmp(in_args[i], "-S") == 0 || strcmp(in_args[i], "-nodefaults") == 0 ||
                    strcmp(in_args[i], "-no-user-config") == 0)
                        continue;
                if (in_args[i][0] != '-' || i + 1 >= n_in)
                        die("unexpected argument \"%s\"", in_args[i]);
                v = subst(in_args[i], in_args[i + 1], &code_path, &n_disk);
                if (strcmp(v, in_args[i + 1]) != 0)
                        note(in_args[i], in_args[i + 1], v);
                out_args[i + 1] = v;
                i++;
        }
        out_args[n_in] = NULL;

        out = track(calloc(1, OUT_MAX));
        err = track(calloc(1, OUT_MAX));
        if (run_qemu(out_args, out, err, &status) < 0)
                fails++;

        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
                fprintf(stderr, "FAIL: QEMU exited with %s %d\n",
                        WIFEXITED(status) ? "status" : "signal",
                        WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
                fails++;
        }
        drop_tcg_feature_warnings(err);
        if (err[0]) {
                fprintf(stderr, "FAIL: QEMU wrote to stderr:\n%s", err);
                fails++;
        }
        if (!strstr(out, "\"status\": \"prelaunch\"")) {
                fprintf(stderr, "FAIL: query-status did not answer \"prelaunch\"\n");
                fails++;
        }
        if (strstr(out, "\"error\"")) {
                fprintf(stderr, "FAIL: a QMP command failed\n");
                fails++;
        }
        /* every -device must be in /machine/peripheral, i.e. realized */
        for (size_t i = 1; i + 1 < n_in; i++) {
                struct optv o;
                const char *id;
                char *want;

                if (strcmp(out_args[i], "-device") != 0)
                        continue;
                opt_parse(out_args[i + 1], &o);
                id = opt_get(&o, "id");
                if (!id) {
                        fprintf(stderr, "FAIL: -device %s has no id\n", out_args[i + 1]);
                        fails++;
                        continue;
                }
                want = xprintf("\"name\": \"%s\"", id);
                if (!strstr(out, want)) {
                        fprintf(stderr, "FAIL: device \"%s\" is not in /machine/peripheral\n", id);
                        fails++;
                }
        }
        if (fails) {
                fprintf(stderr, "command line:\n");
                for (size_t i = 0; out_args[i]; i++)
                        fprintf(stderr, "  %s\n", out_args[i]);
                fprintf(stderr, "QMP output:\n%s\n", out);
        } else {
                printf("PASS: %s reached prelaunch with every device realized\n", base_name(dir));
        }
        if (!keep || strcmp(keep, "1") != 0)
                vl_rm_tree(work);
        free_tracked();
        return fails ? 1 : 0;
}
