/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * `vfio-launch doctor [--json] [PROFILE]`: check the host (and a profile)
 * for passthrough and say how to fix what is missing. Read-only; the checks
 * are doctor.c, this file gathers what needs the process (euid, rlimits,
 * QEMU probe, run-as user) and prints. Exit 0 when nothing failed, 1 when a
 * check failed, 2 on usage or profile errors.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "cli/cli.h"
#include "report/doctor.h"

static void help(void)
{
        printf("Usage: vfio-launch doctor [--json] [PROFILE]\n"
               "\n"
               "Check the host for GPU passthrough: CPU virtualization and /dev/kvm, the IOMMU\n"
               "and interrupt remapping, the kernel command line, the vfio modules, QEMU and\n"
               "memory; with PROFILE also its devices and IOMMU groups, the boot GPU, processes\n"
               "holding the devices, the firmware, audio and network backends.\n"
               "Prints one line per check (ok / warn / FAIL) with what was seen, and the fix\n"
               "under each problem. Changes nothing. Exit status 0 when nothing failed, 1\n"
               "otherwise, 2 on a usage or profile error.\n"
               "\n"
               "  --json  the results as a JSON object\n");
}

static void print_text(const struct doctor_report *rep)
{
        for (unsigned i = 0; i < rep->n; i++) {
                const struct doctor_result *r = &rep->r[i];
                printf("%-4s  %s: %s\n", r->status == DOCTOR_FAIL ? "FAIL" : doctor_status_to_string(r->status),
                       r->title, r->evidence);
                if (r->status != DOCTOR_OK && r->fix[0])
                        printf("      fix: %s\n", r->fix);
        }
        if (rep->dropped)
                printf("(%u more results not shown)\n", rep->dropped);
}

int cmd_doctor(int argc, char **argv)
{
        static const struct cli_option options[] = { { "json", 'j', false }, {} };
        static const struct cli_command cmd = {
                .name = "doctor", .help = help, .options = options, .max_operands = 1,
                .operands = "at most one PROFILE argument",
        };
        _cleanup_free_ struct profile *p = NULL;
        _cleanup_free_ struct doctor_report *rep = NULL;
        _cleanup_free_ char *json = NULL;
        struct host_roots roots;
        struct doctor_env env;
        struct hostinfo host;
        struct runas user;
        struct firmware_dirs dirs;
        struct vl_warnings warn = {};
        struct tpm_tools tools;
        struct vl_error qerr = {}, uerr = {}, terr = {};
        char qemu_path[PROFILE_PATH_MAX], qmsg[600], umsg[600];
        struct rlimit rl;
        bool as_json = false;
        int first, r;

        r = cli_parse(&cmd, argc, argv, cli_set_flag, &as_json, &first);
        if (r != CLI_PARSED)
                return r;
        rep = calloc(1, sizeof(*rep));
        if (!rep) {
                cli_log_error("out of memory");
                return EXIT_FAILURE_RUN;
        }
        if (first < argc && (r = cli_load_profile(argv[first], true, &p)) != EXIT_OK)
                return r;

        host_roots_init(&roots);
        doctor_env_init(&env, &roots);
        env.euid = geteuid();
        if (getrlimit(RLIMIT_MEMLOCK, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY)
                env.memlock_limit = rl.rlim_cur;

        r = hostinfo_find_qemu(NULL, getenv("PATH"), qemu_path, sizeof(qemu_path), &qerr);
        if (r >= 0)
                r = hostinfo_probe_qemu_cached(qemu_path, geteuid() == 0 ? HOSTINFO_PROBE_CACHE : NULL, &host,
                                               &qerr);
        if (r >= 0)
                env.host = &host;
        else {
                vl_error_format(&qerr, qmsg, sizeof(qmsg));
                env.qemu_error = qmsg;
        }

        if (p) {
                if (runas_resolve(p, geteuid(), getenv("SUDO_UID"), getenv("PKEXEC_UID"), &user, &uerr, &warn) >= 0)
                        env.user = &user;
                else {
                        vl_error_format(&uerr, umsg, sizeof(umsg));
                        env.user_error = umsg;
                }
                /* Firmware descriptors as a run finds them (the run-as
                 * user's own folder only when not run as root). */
                if (hostinfo_firmware_dirs_default(geteuid(), getegid(), NULL, env.user ? user.home : NULL,
                                                   &dirs) >= 0)
                        env.dirs = &dirs;
                /* swtpm as a run finds it */
                if (p->tpm.enabled && tpm_find_tools(getenv("PATH"), &tools, &terr) >= 0)
                        env.tpm_tools = &tools;
                else
                        env.tpm_error = terr.msg;
        }

        r = doctor_run(&env, p, rep);
        if (r < 0) {
                cli_log_error("doctor: out of memory");
                return EXIT_FAILURE_RUN;
        }
        if (as_json) {
                json = doctor_report_json(rep);
                if (!json) {
                        cli_log_error("doctor: out of memory");
                        return EXIT_FAILURE_RUN;
                }
                fputs(json, stdout);
        } else
                print_text(rep);
        return doctor_worst(rep) == DOCTOR_FAIL ? EXIT_FAILURE_RUN : EXIT_OK;
}
