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
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/roots.h"
#include "cli/cli.h"
#include "host/journal.h"
#include "host/rundir.h"
#include "host/undo.h"

static void help(void)
{
        printf("Usage: vfio-launch recover [NAME...]\n"
               "\n"
               "Give back the devices of runs that did not finish (vfio-launch was killed),\n"
               "from their journals in %s. Without NAME: every unfinished run.\n"
               "Running VMs are left alone.\n",
               HOST_RUN_DIR);
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
static bool remove_leftovers(const struct host_roots *roots, const char *name)
{
        static const char *const files[] = { RUNDIR_QMP_SOCKET, RUNDIR_CONTROL_SOCKET };
        char path[4096];
        struct vl_error e = {};
        struct stat st;
        pid_t holder = 0;
        int lock;

        const char *run_dir = roots->run;

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
        static const struct cli_command cmd = {
                .name = "recover", .help = help, .max_operands = UINT_MAX, .operands = "VM names",
        };
        _cleanup_free_ struct journal_listing *list = NULL;
        struct host_roots roots;
        struct host_env host;
        struct vl_error err = {};
        size_t n = 0;
        int first, r, status = EXIT_OK, done = 0;

        r = cli_parse(&cmd, argc, argv, NULL, NULL, &first);
        if (r != CLI_PARSED)
                return r;
        if (geteuid() != 0) {
                cli_log_error("recover: needs root");
                return EXIT_FAILURE_RUN;
        }
        host_roots_init(&roots);
        host_env_init(&host, &roots);
        if (journal_list(&roots, &list, &n, &err) < 0) {
                cli_print_error(&err);
                return EXIT_FAILURE_RUN;
        }
        for (size_t i = 0; i < n; i++) {
                const char *name = list[i].name;
                struct vl_warnings w = {};
                if (!wanted(name, argc - first, argv + first))
                        continue;
                done++;
                if (list[i].load_error == 0 && list[i].alive) {
                        cli_log("%s: running (launcher pid %d), left alone", name,
                                (int) list[i].journal.launcher_pid);
                        continue;
                }
                r = host_undo(&host, name, &err, &w);
                cli_print_warnings(&w);
                if (r < 0) {
                        cli_print_error(&err);
                        status = EXIT_FAILURE_RUN;
                        continue;
                }
                if (list[i].load_error == 0 && list[i].journal.n_devices == 0)
                        cli_log("%s: recovered: what its run changed on the host is undone", name);
                else
                        cli_log("%s: recovered: every device is back on its original driver", name);
        }
        for (int i = first; i < argc; i++) {
                bool found = in_listing(list, n, argv[i]);
                if (profile_name_valid(argv[i]) && remove_leftovers(&roots, argv[i]) && !found) {
                        cli_log("%s: removed what its run left in %s (no devices to give back)", argv[i],
                                roots.run);
                        found = true;
                }
                if (!found)
                        cli_log("%s: nothing to recover", argv[i]);
        }
        if (argc == first) {
                DIR *d = opendir(roots.run);
                struct dirent *de;

                while (d && (de = readdir(d)))
                        if (profile_name_valid(de->d_name) && remove_leftovers(&roots, de->d_name) &&
                            !in_listing(list, n, de->d_name)) {
                                cli_log("%s: removed what its run left in %s (no devices to give back)",
                                        de->d_name, roots.run);
                                done++;
                        }
                if (d)
                        closedir(d);
                if (done == 0)
                        cli_log("nothing to recover");
        }
        return status;
}
