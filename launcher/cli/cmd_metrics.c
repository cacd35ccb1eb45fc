/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * `vfio-launch metrics [--listen ADDR:PORT] [NAME...]`: the figures of
 * `top` in the Prometheus text format, printed once (for node_exporter's
 * textfile collector) or served at GET /metrics, sampled afresh for each
 * scrape. Counters only: Prometheus makes the rates.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/macro.h"
#include "cli/cli.h"
#include "cli/top_vms.h"

struct metrics_ctx {
        struct host_roots roots;
        char *const *names;
        size_t n_names;
        const char *listen;
};

static void metrics_help(void)
{
        printf("Usage: vfio-launch metrics [--listen ADDR:PORT] [NAME...]\n"
               "\n"
               "Print the running VMs' figures (all, or the NAMEs) in the Prometheus\n"
               "text format: vfio_launch_* metrics with labels vm, vcpu, nic, disk,\n"
               "device. With --listen, serve them at http://ADDR:PORT/metrics instead\n"
               "(ADDR defaults to 127.0.0.1; [::1]:PORT for IPv6) until SIGTERM or\n"
               "SIGINT. The names are in vfio-launch(1).\n"
               "\n"
               "Exit status: 0; 1 a named VM is not running, or the server failed;\n"
               "2 invalid usage.\n");
}

static int metrics_option(int key, const char *arg, void *userdata)
{
        (void) key; /* --listen */
        ((struct metrics_ctx *) userdata)->listen = arg;
        return 0;
}

static char *scrape(void *userdata)
{
        struct metrics_ctx *c = userdata;
        _cleanup_free_ struct top_vm *vms = NULL;
        int n = top_vms_sample(&c->roots, c->names, c->n_names, false, &vms);

        return n < 0 ? NULL : top_format_prometheus(vms, (size_t) n);
}

int cmd_metrics(int argc, char **argv)
{
        static const struct cli_option options[] = { { "listen", 'l', true }, {} };
        static const struct cli_command cmd = {
                .name = "metrics", .help = metrics_help, .options = options, .max_operands = 64,
                .operands = "at most 64 VM NAMEs",
        };
        struct metrics_ctx c = {};
        _cleanup_close_ int sigfd = -1, lfd = -1;
        struct vl_error e;
        int first, r;

        r = cli_parse(&cmd, argc, argv, metrics_option, &c, &first);
        if (r != CLI_PARSED)
                return r;
        host_roots_init(&c.roots);
        c.names = argv + first;
        c.n_names = (size_t) (argc - first);
        if (!c.listen) {
                _cleanup_free_ struct top_vm *vms = NULL;
                _cleanup_free_ char *text = NULL;
                int n = top_vms_sample(&c.roots, c.names, c.n_names, true, &vms);

                if (n >= 0)
                        text = top_format_prometheus(vms, (size_t) n);
                if (!text) {
                        cli_log_error("metrics: %s", strerror(ENOMEM));
                        return EXIT_FAILURE_RUN;
                }
                fputs(text, stdout);
                return c.n_names && (size_t) n < c.n_names ? EXIT_FAILURE_RUN : EXIT_OK;
        }
        lfd = top_http_listen(c.listen, &e);
        if (lfd < 0) {
                cli_log_error("metrics: --listen %s: %s", c.listen, e.msg);
                return lfd == -EINVAL ? EXIT_INVALID : EXIT_FAILURE_RUN;
        }
        sigfd = top_vms_signalfd();
        if (sigfd < 0) {
                cli_log_error("signalfd: %s", strerror(-sigfd));
                return EXIT_FAILURE_RUN;
        }
        cli_log("serving http://%s/metrics (SIGTERM or Ctrl-C stops)", c.listen);
        r = top_http_serve(lfd, sigfd, scrape, &c);
        if (r < 0) {
                cli_log_error("metrics: poll: %s", strerror(-r));
                return EXIT_FAILURE_RUN;
        }
        return EXIT_OK;
}
