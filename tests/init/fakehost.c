/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * fakehost HOST IDS CMD [ARGS...]: build the fake host that the file HOST
 * describes (tests/fakesys), with IDS as its pci.ids, run CMD with every
 * "@ROOT@" in ARGS replaced by the host's top folder (ROOT/sys, ROOT/proc,
 * ROOT/dev, ROOT/pci.ids), remove the host, exit with CMD's status.
 *
 * HOST: one fact a line, '#' starts a comment:
 *   iommu                                    an IOMMU is on
 *   cpu N package P die D core C siblings LIST [l3 LIST] [capacity K] [max_khz F]
 *   pci ADDR VVVV:DDDD CLASS GROUP|- [driver NAME] [boot_vga]
 *   net IFNAME [bridge]                      a network interface (a bridge)
 *   dev REL                                  a file ROOT/dev/REL (a /dev/disk/by-id name)
 *   sys REL CONTENT...                       ROOT/sys/REL holds CONTENT and a newline
 *   link REL TARGET                          ROOT/sys/REL is a symlink to ROOT/sys/TARGET
 *   proc REL LINE...                         LINE appended to ROOT/proc/REL
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fakesys.h"

static _Noreturn void fail(const char *file, unsigned line, const char *what)
{
        fprintf(stderr, "fakehost: %s:%u: %s\n", file, line, what);
        exit(99);
}

/* The rest of the line after n words (for sys/proc contents). */
static const char *rest_after(const char *s, unsigned n)
{
        for (unsigned i = 0; i < n; i++) {
                s += strspn(s, " \t");
                s += strcspn(s, " \t");
        }
        return s + strspn(s, " \t");
}

static const char *opt(char **w, unsigned n, const char *key)
{
        for (unsigned i = 0; i + 1 < n; i++)
                if (strcmp(w[i], key) == 0)
                        return w[i + 1];
        return NULL;
}

static bool flag(char **w, unsigned n, const char *key)
{
        for (unsigned i = 0; i < n; i++)
                if (strcmp(w[i], key) == 0)
                        return true;
        return false;
}

static void build(struct fakesys *fs, const char *file)
{
        char line[4096], copy[4096], *w[32], drivers[32][64];
        unsigned n_drivers = 0, no = 0;
        FILE *f = fopen(file, "re");

        if (!f)
                fail(file, 0, strerror(errno));
        while (fgets(line, sizeof(line), f)) {
                unsigned n = 0;
                char *save = NULL, rel[1024];

                no++;
                line[strcspn(line, "\n#")] = '\0';
                memcpy(copy, line, sizeof(copy));
                for (char *t = strtok_r(copy, " \t", &save); t && n < 32; t = strtok_r(NULL, " \t", &save))
                        w[n++] = t;
                if (n == 0)
                        continue;
                if (strcmp(w[0], "iommu") == 0)
                        fakesys_iommu_on(fs);
                else if (strcmp(w[0], "cpu") == 0 && n >= 10) {
                        unsigned cpu = (unsigned) atoi(w[1]);
                        const char *v;

                        fakesys_cpu(fs, cpu, atoi(opt(w, n, "package") ?: "0"), atoi(opt(w, n, "die") ?: "0"),
                                    atoi(opt(w, n, "core") ?: "0"), opt(w, n, "siblings") ?: w[1], opt(w, n, "l3"));
                        if ((v = opt(w, n, "capacity"))) {
                                snprintf(rel, sizeof(rel), "devices/system/cpu/cpu%u/cpu_capacity", cpu);
                                fakesys_sys_file(fs, rel, v);
                        }
                        if ((v = opt(w, n, "max_khz"))) {
                                snprintf(rel, sizeof(rel), "devices/system/cpu/cpu%u/cpufreq/cpuinfo_max_freq", cpu);
                                fakesys_sys_file(fs, rel, v);
                        }
                } else if (strcmp(w[0], "pci") == 0 && n >= 5) {
                        unsigned ven, dev;
                        const char *drv = opt(w, n, "driver");
                        bool known = false;

                        if (sscanf(w[2], "%4x:%4x", &ven, &dev) != 2)
                                fail(file, no, "expected VVVV:DDDD");
                        for (unsigned i = 0; drv && i < n_drivers; i++)
                                known = known || strcmp(drivers[i], drv) == 0;
                        if (drv && !known) {
                                if (n_drivers == 32)
                                        fail(file, no, "too many drivers");
                                snprintf(drivers[n_drivers++], sizeof(drivers[0]), "%s", drv);
                                fakesys_driver(fs, drv, drv, true);
                        }
                        fakesys_device(fs, w[1], (uint16_t) ven, (uint16_t) dev, (uint32_t) strtoul(w[3], NULL, 16),
                                       strcmp(w[4], "-") == 0 ? -1 : atoi(w[4]), drv, drv);
                        if (flag(w, n, "boot_vga"))
                                fakesys_device_attr(fs, w[1], "boot_vga", "1\n");
                } else if (strcmp(w[0], "net") == 0 && n >= 2) {
                        fakesys_netdev(fs, "virtual/net", w[1], (int) no, true);
                        if (flag(w, n, "bridge")) {
                                snprintf(rel, sizeof(rel), "devices/virtual/net/%s/bridge/stp_state", w[1]);
                                fakesys_sys_file(fs, rel, "0\n");
                        }
                } else if (strcmp(w[0], "dev") == 0 && n == 2) {
                        char path[4096];
                        FILE *x;

                        snprintf(path, sizeof(path), "%s/%s", fakesys_dev(fs), w[1]);
                        for (char *p = path + strlen(fakesys_dev(fs)) + 1; (p = strchr(p, '/')); p++) {
                                *p = '\0';
                                (void) mkdir(path, 0755);
                                *p = '/';
                        }
                        if (!(x = fopen(path, "we")) || fclose(x) != 0)
                                fail(file, no, "cannot make the dev file");
                } else if (strcmp(w[0], "sys") == 0 && n >= 3) {
                        char content[4096];

                        snprintf(content, sizeof(content), "%s\n", rest_after(line, 2));
                        fakesys_sys_file(fs, w[1], content);
                } else if (strcmp(w[0], "link") == 0 && n == 3)
                        fakesys_sys_link(fs, w[1], w[2]);
                else if (strcmp(w[0], "proc") == 0 && n >= 3)
                        fakesys_proc_line(fs, w[1], rest_after(line, 2));
                else
                        fail(file, no, "unknown or incomplete line");
        }
        fclose(f);
}

static void copy_file(const char *from, const char *to)
{
        char buf[65536];
        size_t n;
        FILE *in = fopen(from, "re"), *out = fopen(to, "we");

        if (!in || !out)
                fail(from, 0, "cannot copy the pci.ids");
        while ((n = fread(buf, 1, sizeof(buf), in)) > 0)
                if (fwrite(buf, 1, n, out) != n)
                        fail(to, 0, "cannot write");
        fclose(in);
        if (fclose(out) != 0)
                fail(to, 0, "cannot write");
}

/* s with every "@ROOT@" replaced by root (malloc'd). */
static char *subst(const char *s, const char *root)
{
        size_t cap = strlen(s) * (strlen(root) + 1) + 1;
        char *out = calloc(1, cap), *w = out;

        if (!out)
                abort();
        while (*s) {
                if (strncmp(s, "@ROOT@", 6) == 0) {
                        w = stpcpy(w, root);
                        s += 6;
                } else
                        *w++ = *s++;
        }
        return out;
}

int main(int argc, char **argv)
{
        struct fakesys *fs;
        int status;
        pid_t pid;

        if (argc < 4) {
                fprintf(stderr, "usage: fakehost HOST IDS CMD [ARGS...]\n");
                return 99;
        }
        fs = fakesys_new();
        build(fs, argv[1]);
        unlink(fakesys_pci_ids(fs));
        copy_file(argv[2], fakesys_pci_ids(fs));
        for (int i = 3; i < argc; i++)
                argv[i] = subst(argv[i], fakesys_top(fs));
        pid = fork();
        if (pid < 0)
                abort();
        if (pid == 0) {
                execvp(argv[3], argv + 3);
                fprintf(stderr, "fakehost: %s: %s\n", argv[3], strerror(errno));
                _exit(127);
        }
        while (waitpid(pid, &status, 0) < 0)
                if (errno != EINTR)
                        abort();
        fakesys_free(fs);
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}
