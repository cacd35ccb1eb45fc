/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* swtpm's and swtpm_setup's command lines, and the manufacturing: see swtpm.h. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/macro.h"
#include "run/spawn.h"
#include "run/swtpm.h"

/* ---- command lines ---------------------------------------------------------------- */

static void cmd_init(struct swtpm_cmd *c)
{
        c->argc = 0;
        c->argv[0] = NULL;
        c->buf[0] = '\0';
}

/* Append one printf-formatted argument; -ENAMETOOLONG when full. */
static int cmd_add(struct swtpm_cmd *c, const char *fmt, ...) _printf_(2, 3);
static int cmd_add(struct swtpm_cmd *c, const char *fmt, ...)
{
        size_t used = 0;
        va_list ap;
        int n;

        if (c->argc > 0)
                used = (size_t) (c->argv[c->argc - 1] - c->buf) + strlen(c->argv[c->argc - 1]) + 1;
        if (c->argc >= SWTPM_ARGS_MAX || used >= sizeof(c->buf))
                return -ENAMETOOLONG;
        va_start(ap, fmt);
        n = vsnprintf(c->buf + used, sizeof(c->buf) - used, fmt, ap);
        va_end(ap);
        if (n < 0 || (size_t) n >= sizeof(c->buf) - used)
                return -ENAMETOOLONG;
        c->argv[c->argc++] = c->buf + used;
        c->argv[c->argc] = NULL;
        return 0;
}

int swtpm_argv(const char *swtpm, const char *state, struct swtpm_cmd *ret, struct vl_error *e)
{
        int r = 0;

        cmd_init(ret);
        /* swtpm's option parser has no escape for a comma in a value. */
        if (strchr(state, ','))
                return vl_error_set(e, EINVAL, "the TPM state path '%s' has a ',', which swtpm's options cannot hold",
                                    state);
        if ((r = cmd_add(ret, "%s", swtpm)) < 0 || (r = cmd_add(ret, "socket")) < 0 ||
            (r = cmd_add(ret, "--tpm2")) < 0 || (r = cmd_add(ret, "--tpmstate")) < 0 ||
            /* libvirt's mode for the state files */
            (r = cmd_add(ret, "dir=%s,mode=0600", state)) < 0 || (r = cmd_add(ret, "--ctrl")) < 0 ||
            (r = cmd_add(ret, "type=unixio,clientfd=%d", SWTPM_CTRL_FD)) < 0 ||
            /* leave when QEMU closes the data channel */
            (r = cmd_add(ret, "--terminate")) < 0 ||
            /* its default, said: a syscall outside its list kills it */
            (r = cmd_add(ret, "--seccomp")) < 0 || (r = cmd_add(ret, "action=kill")) < 0)
                return vl_error_set(e, -r, "swtpm's command line is too long");
        return 0;
}

int swtpm_setup_argv(const char *swtpm_setup, const char *state, const char *config, const char *vm_name,
                     struct swtpm_cmd *ret, struct vl_error *e)
{
        static const char *const flags[] = { "--createek",   "--create-ek-cert", "--create-platform-cert",
                                             "--lock-nvram", "--not-overwrite" };
        int r;

        cmd_init(ret);
        if ((r = cmd_add(ret, "%s", swtpm_setup)) < 0 || (r = cmd_add(ret, "--tpm2")) < 0 ||
            (r = cmd_add(ret, "--tpm-state")) < 0 || (r = cmd_add(ret, "%s", state)) < 0 ||
            (r = cmd_add(ret, "--config")) < 0 || (r = cmd_add(ret, "%s", config)) < 0)
                return vl_error_set(e, -r, "swtpm_setup's command line is too long");
        for (size_t i = 0; i < ELEMENTSOF(flags); i++)
                if ((r = cmd_add(ret, "%s", flags[i])) < 0)
                        return vl_error_set(e, -r, "swtpm_setup's command line is too long");
        /* In the certificates, to tell whose TPM it is. */
        if ((r = cmd_add(ret, "--vmid")) < 0 || (r = cmd_add(ret, "%s", vm_name)) < 0)
                return vl_error_set(e, -r, "swtpm_setup's command line is too long");
        return 0;
}

int swtpm_plan(const struct profile *p, const char *state_dir, const char *path_env, struct swtpm_plan *ret,
               struct vl_error *e)
{
        int r;

        memset(ret, 0, sizeof(*ret));
        r = tpm_find_tools(path_env, &ret->tools, e);
        if (r < 0)
                return r;
        if (xsnprintf(ret->state_dir, sizeof(ret->state_dir), "%s", state_dir) < 0 ||
            tpm_state_path(state_dir, p->name, ret->state, sizeof(ret->state)) < 0)
                return vl_error_set(e, ENAMETOOLONG, "the TPM state path is too long");
        return swtpm_argv(ret->tools.swtpm, ret->state, &ret->cmd, e);
}

/* ---- manufacturing ---------------------------------------------------------------- */

/* Wait for pid (pidfd) until deadline; on time-out kill it. Either way
 * whatever is left of its process group goes (the sandbox made it a
 * session and group leader: swtpm_setup's own swtpm is in it), while the
 * leader is not reaped yet, so the group id names nothing else. */
static int wait_bounded(pid_t pid, int pidfd, uint64_t deadline, int *ret_status, bool *ret_timed_out)
{
        struct pollfd pfd = { .fd = pidfd, .events = POLLIN };
        uint64_t now;
        int r;

        *ret_timed_out = false;
        for (;;) {
                now = clock_ms();
                if (now >= deadline) {
                        *ret_timed_out = true;
                        (void) syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, NULL, 0);
                        break;
                }
                r = poll(&pfd, 1, (int) (deadline - now > 60000 ? 60000 : deadline - now));
                if (r > 0)
                        break;
                if (r < 0 && errno != EINTR)
                        return -errno;
        }
        {
                siginfo_t si = {};
                /* exited (or killed): its group first, then reap */
                (void) waitid(P_PID, (id_t) pid, &si, WEXITED | WNOWAIT);
        }
        (void) kill(-pid, SIGKILL);
        while (waitpid(pid, ret_status, 0) < 0)
                if (errno != EINTR)
                        return -errno;
        return 0;
}

int swtpm_manufacture(const struct swtpm_plan *t, const char *vm_name, const struct sandbox_config *sandbox,
                      unsigned timeout_ms, struct vl_error *e)
{
        static char *const envp[] = { (char *) SWTPM_ENV_PATH, NULL };
        struct sandbox_config c = *sandbox;
        struct tpm_stage stage;
        struct swtpm_cmd cmd;
        struct vl_error ignored;
        _cleanup_close_ int pidfd = -EBADF;
        bool timed_out;
        pid_t pid;
        int r, st;

        r = tpm_state_check(t->state_dir, vm_name, sandbox->uid, e);
        if (r != 0)
                return r < 0 ? r : 0; /* there: used as it is */
        r = tpm_stage_create(t->state_dir, vm_name, sandbox->uid, sandbox->gid, t->tools.swtpm_localca, &stage, e);
        if (r < 0)
                return r;
        r = swtpm_setup_argv(t->tools.swtpm_setup, stage.state, stage.config, vm_name, &cmd, e);
        if (r < 0)
                goto out;
        c.n_fds = 0;
        c.memlock_bytes = 0;
        r = spawn_sandboxed(cmd.argv[0], cmd.argv, envp, &c, &pid, &pidfd, e);
        if (r < 0) {
                vl_error_prefix(e, "cannot run %s", t->tools.swtpm_setup);
                goto out;
        }
        r = wait_bounded(pid, pidfd, clock_ms() + timeout_ms, &st, &timed_out);
        if (r < 0) {
                vl_error_set(e, -r, "waiting for swtpm_setup: %s", strerror(-r));
                goto out;
        }
        if (timed_out) {
                r = vl_error_set(e, ETIMEDOUT, "swtpm_setup did not finish within %u s: killed", timeout_ms / 1000);
                goto out;
        }
        if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
                r = vl_error_set(e, EIO, "swtpm_setup failed (%s %d): its messages are in the VM's log",
                                 WIFEXITED(st) ? "exit status" : "signal", WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st));
                goto out;
        }
        r = tpm_stage_commit(&stage, e);
        if (r == -EEXIST)
                r = 0; /* one appeared meanwhile: that one is the VM's */
        else if (r == 0)
                r = 1;
out:
        (void) tpm_stage_remove(&stage, &ignored); /* a leftover is harmless, and named .tpm-setup.* */
        return r;
}
