/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * `vfio-launch recover [NAME...]`: after vfio-launch itself died (kill -9,
 * OOM, power cut of the terminal), replay the journals of the runs that did
 * not finish and give their devices back. Runs whose launcher is alive are
 * left alone. Also run at boot by vfio-launch-recover.service.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "bind.h"
#include "cli.h"
#include "journal.h"

static void help(void)
{
        printf("Usage: vfio-launch recover [NAME...]\n"
               "\n"
               "Give back the devices of runs that did not finish (vfio-launch was killed),\n"
               "from their journals in %s. Without NAME: every unfinished run.\n"
               "Running VMs are left alone.\n",
               JOURNAL_DEFAULT_RUN_DIR);
}

static bool wanted(const char *name, int argc, char **argv)
{
        if (argc == 0)
                return true;
        for (int i = 0; i < argc; i++)
                if (strcmp(argv[i], name) == 0)
                        return true;
        return false;
}

int cmd_recover(int argc, char **argv)
{
        static const struct option options[] = {
                { "help", no_argument, NULL, 'h' },
                {},
        };
        _cleanup_free_ struct journal_listing *list = NULL;
        struct bind_env env;
        struct vl_error err = {};
        size_t n = 0;
        int opt, status = EXIT_OK, done = 0;

        while ((opt = getopt_long(argc, argv, "+h", options, NULL)) >= 0) {
                switch (opt) {
                case 'h':
                        help();
                        return EXIT_OK;
                default:
                        return EXIT_INVALID;
                }
        }
        if (geteuid() != 0) {
                cli_log_error("recover: needs root");
                return EXIT_FAILURE_RUN;
        }
        bind_env_init(&env);
        if (journal_list(env.run_dir, env.proc_root, &list, &n, &err) < 0) {
                cli_print_error(&err);
                return EXIT_FAILURE_RUN;
        }
        for (size_t i = 0; i < n; i++) {
                const char *name = list[i].name;
                if (!wanted(name, argc - optind, argv + optind))
                        continue;
                done++;
                if (list[i].load_error == 0 && list[i].alive) {
                        cli_log("%s: running (launcher pid %d), left alone", name,
                                (int) list[i].journal.launcher_pid);
                        continue;
                }
                if (bind_undo_journal(&env, name, &err) < 0) {
                        cli_print_error(&err);
                        status = EXIT_FAILURE_RUN;
                        continue;
                }
                cli_log("%s: recovered: every device is back on its original driver", name);
        }
        for (int i = optind; i < argc; i++) {
                bool found = false;
                for (size_t k = 0; k < n; k++)
                        found = found || strcmp(list[k].name, argv[i]) == 0;
                if (!found)
                        cli_log("%s: nothing to recover", argv[i]);
        }
        if (done == 0 && argc == optind)
                cli_log("nothing to recover");
        return status;
}
