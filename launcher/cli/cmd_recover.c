/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * `vfio-launch recover [NAME...]`: after vfio-launch itself died (kill -9,
 * OOM, power cut of the terminal), replay the journals of the runs that did
 * not finish and give their devices back. Runs whose launcher is alive are
 * left alone. Also run at boot by vfio-launch-recover.service.
 * Then it removes what else a dead run left in RUN_DIR/NAME (its lock and
 * sockets; a run without hostdevs writes no journal and leaves only those).
 */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "host/bind.h"
#include "cli/cli.h"
#include "host/hugepages.h"
#include "host/journal.h"
#include "host/net.h"
#include "host/rundir.h"

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

/* Remove RUN_DIR/NAME of a run that is over: taking its lock proves its
 * launcher is gone (the kernel drops an flock with its owner) and keeps a new
 * run of NAME out meanwhile. A journal still there (devices not given back)
 * keeps the whole directory. Returns true when something was removed. */
static bool remove_leftovers(const char *run_dir, const char *name)
{
        static const char *const files[] = { RUNDIR_QMP_SOCKET, RUNDIR_CONTROL_SOCKET };
        char path[4096];
        struct vl_error e = {};
        struct stat st;
        pid_t holder = 0;
        int lock;

        if (rundir_path(path, sizeof(path), run_dir, name, NULL) < 0 || lstat(path, &st) < 0 ||
            !S_ISDIR(st.st_mode) || journal_path(path, sizeof(path), run_dir, name) < 0 ||
            access(path, F_OK) == 0)
                return false;
        lock = rundir_lock(run_dir, name, &holder, &e);
        if (lock < 0)
                return false; /* running, or not ours: left alone */
        if (access(path, F_OK) == 0) { /* a run started and died meanwhile */
                close(lock);
                return false;
        }
        for (size_t i = 0; i < ELEMENTSOF(files); i++)
                if (rundir_path(path, sizeof(path), run_dir, name, files[i]) == 0)
                        (void) unlink(path);
        rundir_unlock(run_dir, name, lock);
        return true;
}

static bool in_listing(const struct journal_listing *list, size_t n, const char *name)
{
        for (size_t k = 0; k < n; k++)
                if (strcmp(list[k].name, name) == 0)
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
        struct net_env nenv;
        struct hugepages_env henv;
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
        nenv = (struct net_env) { .sysfs_root = env.sysfs_root, .dev_root = env.dev_root,
                                  .proc_root = env.proc_root, .run_dir = env.run_dir };
        hugepages_env_init(&henv, &env);
        if (journal_list(env.run_dir, env.proc_root, &list, &n, &err) < 0) {
                cli_print_error(&err);
                return EXIT_FAILURE_RUN;
        }
        for (size_t i = 0; i < n; i++) {
                const char *name = list[i].name;
                struct vl_warnings hw = {};
                if (!wanted(name, argc - optind, argv + optind))
                        continue;
                done++;
                if (list[i].load_error == 0 && list[i].alive) {
                        cli_log("%s: running (launcher pid %d), left alone", name,
                                (int) list[i].journal.launcher_pid);
                        continue;
                }
                /* Links and hugepages first: bind_undo_journal() deletes the
                 * journal only when no entry is left in it. */
                if (net_undo(&nenv, name, &err) < 0) {
                        cli_print_error(&err);
                        status = EXIT_FAILURE_RUN;
                        continue;
                }
                if (hugepages_undo(&henv, name, &err, &hw) < 0) {
                        cli_print_warnings(&hw);
                        cli_print_error(&err);
                        status = EXIT_FAILURE_RUN;
                        continue;
                }
                cli_print_warnings(&hw);
                if (bind_undo_journal(&env, name, &err) < 0) {
                        cli_print_error(&err);
                        status = EXIT_FAILURE_RUN;
                        continue;
                }
                if (list[i].load_error == 0 && list[i].journal.n_devices == 0)
                        cli_log("%s: recovered: what its run changed on the host is undone", name);
                else
                        cli_log("%s: recovered: every device is back on its original driver", name);
        }
        for (int i = optind; i < argc; i++) {
                bool found = in_listing(list, n, argv[i]);
                if (journal_name_valid(argv[i]) && remove_leftovers(env.run_dir, argv[i]) && !found) {
                        cli_log("%s: removed what its run left in %s (no devices to give back)", argv[i],
                                env.run_dir);
                        found = true;
                }
                if (!found)
                        cli_log("%s: nothing to recover", argv[i]);
        }
        if (argc == optind) {
                DIR *d = opendir(env.run_dir);
                struct dirent *de;

                while (d && (de = readdir(d)))
                        if (journal_name_valid(de->d_name) && remove_leftovers(env.run_dir, de->d_name) &&
                            !in_listing(list, n, de->d_name)) {
                                cli_log("%s: removed what its run left in %s (no devices to give back)",
                                        de->d_name, env.run_dir);
                                done++;
                        }
                if (d)
                        closedir(d);
                if (done == 0)
                        cli_log("nothing to recover");
        }
        return status;
}
