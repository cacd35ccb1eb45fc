/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * `vfio-launch top [--once] [--json] [--interval SECS] [NAME...]`: the
 * running VMs, refreshed every SECS in plain ANSI (no curses: a VM host's
 * console may have no terminfo). The figures are report/top.h's; this file
 * only lays them out. CPU percentages and rates need two samples, so even
 * --once waits one interval.
 */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "base/macro.h"
#include "cli/cli.h"
#include "cli/top_vms.h"

struct top_opts {
        bool once, json;
        unsigned interval_ms;
};

static void top_help(void)
{
        printf("Usage: vfio-launch top [--once] [--json] [--interval SECS] [NAME...]\n"
               "\n"
               "Watch the running VMs (all, or the NAMEs): state, uptime, each vCPU\n"
               "thread's CPU %% and the host CPU it ran on (and whether that is in its\n"
               "cpu.pin), QEMU's memory beyond the guest's RAM, NIC and disk counters\n"
               "and rates, passed-through devices with their driver and IOMMU group,\n"
               "TPM and shared memory. Refreshed every SECS (default 2, 0.2..3600);\n"
               "q or Ctrl-C quits.\n"
               "\n"
               "  --once       one frame after one interval, then exit\n"
               "  --json       one JSON document (docs/top.md), then exit\n"
               "\n"
               "Exit status: 0; 1 a named VM is not running; 2 invalid usage.\n");
}

static int top_option(int key, const char *arg, void *userdata)
{
        struct top_opts *o = userdata;
        double v;
        char *end;

        switch (key) {
        case 'o':
                o->once = true;
                return 0;
        case 'j':
                o->json = true;
                return 0;
        default: /* --interval */
                errno = 0;
                v = strtod(arg, &end);
                if (errno || end == arg || *end || !(v >= 0.2 && v <= 3600)) {
                        cli_log_error("top: --interval takes 0.2..3600 seconds, not \"%s\"", arg);
                        return EXIT_INVALID;
                }
                o->interval_ms = (unsigned) (v * 1000 + 0.5);
                return 0;
        }
}

/* 1536 → "1.5 Ki": binary units; "-" for unknown. */
static const char *human(uint64_t v, char buf[static 24])
{
        static const char *const units[] = { "Ki", "Mi", "Gi", "Ti", "Pi", "Ei" };
        double d = (double) v;
        int u = -1;

        if (v == UINT64_MAX)
                return "-";
        if (v < 1024) {
                (void) snprintf(buf, 24, "%u", (unsigned) v);
                return buf;
        }
        while (d >= 1024 && u + 1 < (int) ELEMENTSOF(units)) {
                d /= 1024;
                u++;
        }
        (void) snprintf(buf, 24, "%.*f %s", d < 10 ? 1 : 0, d, units[u]);
        return buf;
}

static const char *rate_s(double r, char buf[static 24])
{
        char h[24];

        if (r < 0)
                return "-";
        (void) snprintf(buf, 24, "%s/s", human((uint64_t) r, h));
        return buf;
}

static const char *pct(double p, char buf[static 24])
{
        if (p < 0)
                return "-";
        (void) snprintf(buf, 24, "%.1f", p);
        return buf;
}

static void uptime(double s, char buf[static 32])
{
        unsigned long t = s < 0 ? 0 : (unsigned long) s;

        if (s < 0)
                (void) snprintf(buf, 32, "-");
        else if (t >= 86400)
                (void) snprintf(buf, 32, "%lud%02luh", t / 86400, t / 3600 % 24);
        else
                (void) snprintf(buf, 32, "%lu:%02lu:%02lu", t / 3600, t / 60 % 60, t % 60);
}

/* Text QEMU or the kernel gave (QMP error messages, disk ids) goes to a
 * terminal: control characters are shown as '?', never interpreted. */
static const char *safe(const char *text, char *buf, size_t size)
{
        size_t i;

        for (i = 0; text[i] && i + 1 < size; i++)
                buf[i] = (unsigned char) text[i] < ' ' || text[i] == 0x7f ? '?' : text[i];
        buf[i] = '\0';
        return buf;
}

static void render_vm(const struct top_vm *vm, bool color)
{
        const char *b = color ? "\033[1m" : "", *n = color ? "\033[0m" : "";
        const char *red = color ? "\033[31m" : "", *green = color ? "\033[32m" : "";
        char a[24], c[24], d[24], f[24], up[32];

        uptime(vm->uptime_s, up);
        printf("%s%s%s  %s  up %s  QEMU pid %d  CPU %s%s\n", b, vm->name, n, vm->state, up, (int) vm->qemu_pid,
               pct(vm->cpu_percent, a), vm->cpu_percent < 0 ? "" : "%");
        printf("  memory  RSS %s  hugetlb %s  guest %s  overhead %s\n", human(vm->rss_bytes, a),
               human(vm->hugetlb_bytes, c), human(vm->guest_bytes, d), human(vm->overhead_bytes, f));
        if (vm->n_vcpus)
                printf("  %-6s %8s %7s %9s  %s\n", "vCPU", "thread", "CPU%", "host CPU", "pin");
        for (unsigned i = 0; i < vm->n_vcpus; i++) {
                const struct top_vcpu *v = &vm->vcpus[i];
                printf("  %-6d %8d %7s %9d  ", v->index, (int) v->tid, pct(v->cpu_percent, a), v->host_cpu);
                if (v->pinned)
                        printf("%s%s %s%s\n", v->on_pin ? green : red, v->pin, v->on_pin ? "ok" : "OFF PIN", n);
                else
                        printf("-\n");
        }
        for (unsigned i = 0; i < vm->n_nics; i++) {
                const struct top_nic *x = &vm->nics[i];
                if (!x->present) {
                        printf("  nic %-15s (%s) %snot found here%s\n", x->link, x->kind, red, n);
                        continue;
                }
                printf("  nic %-15s (%s)  rx %s (%s)  tx %s (%s)\n", x->link, x->kind, human(x->rx_bytes, a),
                       rate_s(x->rx_rate, c), human(x->tx_bytes, d), rate_s(x->tx_rate, f));
        }
        for (unsigned i = 0; i < vm->n_disks; i++) {
                const struct top_disk *x = &vm->disks[i];
                char id[sizeof(x->id)];
                printf("  disk %-14s read %s (%s, %" PRIu64 " ops)  written %s (%s, %" PRIu64 " ops)\n",
                       safe(x->id, id, sizeof(id)),
                       human(x->rd_bytes, a), rate_s(x->rd_rate, c), x->rd_ops, human(x->wr_bytes, d),
                       rate_s(x->wr_rate, f), x->wr_ops);
        }
        for (unsigned i = 0; i < vm->n_hostdevs; i++) {
                const struct top_hostdev *h = &vm->hostdevs[i];
                printf("  hostdev %s  driver %s%s%s  IOMMU group %d\n", h->addr,
                       strcmp(h->driver, "vfio-pci") == 0 ? "" : red, h->driver[0] ? h->driver : "(none)", n,
                       h->group);
        }
        if (vm->tpm)
                printf("  tpm  swtpm pid %d %s%s%s\n", (int) vm->swtpm_pid, vm->swtpm_alive ? green : red,
                       vm->swtpm_alive ? "alive" : "GONE", n);
        for (unsigned i = 0; i < vm->n_usb; i++) {
                char prod[sizeof(vm->usb[i].product)], id[sizeof(vm->usb[i].id)];
                printf("  usb  port %s  %s%s%s%s  %s\n", vm->usb[i].port, safe(vm->usb[i].product, prod, sizeof(prod)),
                       vm->usb[i].id[0] ? " (" : "", safe(vm->usb[i].id, id, sizeof(id)), vm->usb[i].id[0] ? ")" : "",
                       vm->usb[i].speed);
        }
        for (unsigned i = 0; i < vm->n_shmem; i++)
                printf("  shmem %s  %s\n", vm->shmem[i].path,
                       vm->shmem[i].present ? human(vm->shmem[i].size, a) : "gone");
        if (vm->note[0]) {
                char text[sizeof(vm->note)];
                printf("  note: %s\n", safe(vm->note, text, sizeof(text)));
        }
}

static void render(const struct top_vm *vms, size_t n, const struct top_opts *o, bool tty)
{
        char when[32];
        time_t t = time(NULL);
        struct tm tm;

        (void) strftime(when, sizeof(when), "%H:%M:%S", localtime_r(&t, &tm));
        if (tty)
                printf("\033[H\033[2J"); /* home + clear: a full redraw keeps this free of terminfo */
        printf("vfio-launch top  %s  %zu VM%s  every %.1f s\n\n", when, n, n == 1 ? "" : "s", o->interval_ms / 1000.0);
        for (size_t i = 0; i < n; i++) {
                render_vm(&vms[i], tty);
                printf("\n");
        }
        fflush(stdout);
}

/* The live view reads single keys (q) without echo and draws on the
 * terminal's alternate screen; both are given back on every way out. */
struct term {
        bool active;
        struct termios saved;
};

static void term_enter(struct term *t, bool keys)
{
        struct termios raw;

        if (keys && tcgetattr(STDIN_FILENO, &t->saved) == 0) {
                raw = t->saved;
                raw.c_lflag &= ~(tcflag_t) (ICANON | ECHO);
                raw.c_cc[VMIN] = 1;
                raw.c_cc[VTIME] = 0;
                t->active = tcsetattr(STDIN_FILENO, TCSANOW, &raw) == 0;
        }
        printf("\033[?1049h\033[?25l"); /* alternate screen, cursor hidden */
}

static void term_leave(struct term *t)
{
        if (!t)
                return;
        printf("\033[?25h\033[?1049l");
        fflush(stdout);
        if (t->active)
                (void) tcsetattr(STDIN_FILENO, TCSANOW, &t->saved);
}

static void term_leavep(struct term **t)
{
        term_leave(*t);
}

/* Wait one interval; false when SIGINT/SIGTERM came or 'q' was typed. */
static bool wait_interval(int sigfd, unsigned ms, bool keys)
{
        struct pollfd p[2] = { { .fd = sigfd, .events = POLLIN }, { .fd = STDIN_FILENO, .events = POLLIN } };
        uint64_t left = ms;

        while (left > 0) {
                struct timespec a, b;
                int r;

                clock_gettime(CLOCK_MONOTONIC, &a);
                r = poll(p, keys ? 2 : 1, (int) left);
                if (r < 0 && errno != EINTR)
                        return false;
                if (r > 0 && p[0].revents)
                        return false;
                if (r > 0 && keys && p[1].revents) {
                        char c = 0;
                        if (read(STDIN_FILENO, &c, 1) <= 0 || c == 'q' || c == 'Q')
                                return false;
                }
                clock_gettime(CLOCK_MONOTONIC, &b);
                uint64_t spent = (uint64_t) ((b.tv_sec - a.tv_sec) * 1000 + (b.tv_nsec - a.tv_nsec) / 1000000);
                left = spent >= left ? 0 : left - spent;
        }
        return true;
}

int cmd_top(int argc, char **argv)
{
        static const struct cli_option options[] = {
                { "once", 'o', false }, { "json", 'j', false }, { "interval", 'i', true }, {}
        };
        static const struct cli_command cmd = {
                .name = "top", .help = top_help, .options = options, .max_operands = 64,
                .operands = "at most 64 VM NAMEs",
        };
        struct top_opts o = { .interval_ms = 2000 };
        struct term term = {};
        _cleanup_(term_leavep) struct term *in_term = NULL;
        _cleanup_free_ struct top_vm *prev = NULL;
        _cleanup_close_ int sigfd = -1;
        struct host_roots roots;
        bool tty, keys;
        int first, r, n_prev;
        size_t n_names;

        r = cli_parse(&cmd, argc, argv, top_option, &o, &first);
        if (r != CLI_PARSED)
                return r;
        n_names = (size_t) (argc - first);
        host_roots_init(&roots);
        sigfd = top_vms_signalfd();
        if (sigfd < 0) {
                cli_log_error("signalfd: %s", strerror(-sigfd));
                return EXIT_FAILURE_RUN;
        }
        tty = !o.once && !o.json && isatty(STDOUT_FILENO);
        keys = tty && isatty(STDIN_FILENO);
        n_prev = top_vms_sample(&roots, argv + first, n_names, true, &prev);
        if (n_prev < 0) {
                cli_log_error("top: %s", strerror(-n_prev));
                return EXIT_FAILURE_RUN;
        }
        if (n_names && (size_t) n_prev < n_names)
                return EXIT_FAILURE_RUN;
        if (tty) {
                term_enter(&term, keys);
                in_term = &term;
                render(prev, (size_t) n_prev, &o, tty); /* something to look at during the first interval */
        }
        for (;;) {
                _cleanup_free_ struct top_vm *cur = NULL;
                int n;

                if (!wait_interval(sigfd, o.interval_ms, keys))
                        return EXIT_OK;
                n = top_vms_sample(&roots, argv + first, n_names, false, &cur);
                if (n < 0) {
                        cli_log_error("top: %s", strerror(-n));
                        return EXIT_FAILURE_RUN;
                }
                top_vms_rates(cur, (size_t) n, prev, (size_t) n_prev);
                if (o.json) {
                        _cleanup_free_ char *text = top_format_json(cur, (size_t) n, o.interval_ms / 1000.0);
                        if (!text) {
                                cli_log_error("top: %s", strerror(ENOMEM));
                                return EXIT_FAILURE_RUN;
                        }
                        printf("%s\n", text);
                        return EXIT_OK;
                }
                render(cur, (size_t) n, &o, tty);
                if (o.once)
                        return EXIT_OK;
                free(prev);
                prev = TAKE_PTR(cur);
                n_prev = n;
        }
}
