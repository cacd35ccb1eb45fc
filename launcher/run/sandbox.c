/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The privilege drop between fork() and execve() of QEMU: see sandbox.h for
 * the order and why it is that order. Runs in the forked child only. */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cap-ng.h>
#include <linux/capability.h>
#include <seccomp.h>

#include "base/fs.h"
#include "run/sandbox.h"

#ifndef PR_CAP_AMBIENT
#define PR_CAP_AMBIENT 47
#define PR_CAP_AMBIENT_CLEAR_ALL 4
#endif

/* What no VM needs and a compromised QEMU must not have. QEMU's own
 * `-sandbox on,...` stacks on top (seccomp filters add up across exec); this
 * list also covers what QEMU's filter allows (module loading, ptrace, bpf,
 * keyrings, handle-based opens that escape a chroot): the two stack, as
 * docs/facts.md#F-seccomp-stacking says. */
const char *const sandbox_denied_syscalls[] = {
        "kexec_load",     "kexec_file_load", "init_module",       "finit_module",
        "delete_module",  "reboot",          "mount",             "umount2",
        "pivot_root",     "chroot",          "swapon",            "swapoff",
        "ptrace",         "process_vm_writev", "process_vm_readv", "bpf",
        "perf_event_open", "keyctl",         "add_key",           "request_key",
        "open_by_handle_at", "name_to_handle_at", "iopl",         "ioperm",
        "acct",           "settimeofday",    "clock_settime",     "clock_adjtime",
        "adjtimex",       "sethostname",     "setdomainname",     "syslog",
        "quotactl",       "uselib",          "vhangup",           "fanotify_init",
        "fsopen",         "fsmount",         "fsconfig",          "move_mount",
        "open_tree",      "lookup_dcookie",  "setns",             "unshare",
        NULL,
};

static int move_fds(const struct sandbox_config *c, struct vl_error *e)
{
        int std[3] = { c->stdin_fd, c->stdout_fd, c->stderr_fd };
        int lifted_std[3], lifted[SANDBOX_FDS_MAX];

        if (c->n_fds > SANDBOX_FDS_MAX)
                return vl_error_set(e, EINVAL, "too many fds for QEMU (%u)", c->n_fds);

        /* First lift every source above the highest target, so that no
         * dup2() onto 0..2+n clobbers a source that is still to be moved. */
        for (int i = 0; i < 3; i++) {
                int src = std[i];
                if (src < 0) {
                        src = open("/dev/null", O_RDWR | O_CLOEXEC);
                        if (src < 0)
                                return vl_error_set(e, errno, "cannot open /dev/null: %s",
                                                    strerror(errno));
                }
                lifted_std[i] = fcntl(src, F_DUPFD_CLOEXEC, 3 + SANDBOX_FDS_MAX);
                if (lifted_std[i] < 0)
                        return vl_error_set(e, errno, "cannot duplicate fd %d: %s", src,
                                            strerror(errno));
        }
        for (unsigned i = 0; i < c->n_fds; i++) {
                lifted[i] = fcntl(c->fds[i], F_DUPFD_CLOEXEC, 3 + SANDBOX_FDS_MAX);
                if (lifted[i] < 0)
                        return vl_error_set(e, errno, "cannot duplicate fd %d: %s", c->fds[i],
                                            strerror(errno));
        }
        /* dup2() clears FD_CLOEXEC on the copy: these are the fds QEMU keeps. */
        for (int i = 0; i < 3; i++)
                if (dup2(lifted_std[i], i) < 0)
                        return vl_error_set(e, errno, "cannot set up fd %d: %s", i,
                                            strerror(errno));
        for (unsigned i = 0; i < c->n_fds; i++)
                if (dup2(lifted[i], 3 + (int) i) < 0)
                        return vl_error_set(e, errno, "cannot move fd to %u: %s", 3 + i,
                                            strerror(errno));
        /* Everything above is marked CLOEXEC (the error pipe must stay open
         * until the exec): QEMU inherits exactly 0..2+n. */
        if (close_range(3 + c->n_fds, ~0U, CLOSE_RANGE_CLOEXEC) < 0)
                return vl_error_set(e, errno, "close_range: %s", strerror(errno));
        return 0;
}

static int drop_bounding_set(struct vl_error *e)
{
        /* Only a process with CAP_SETPCAP can shrink it; a non-root launcher
         * (no hostdevs, running as the user) has nothing to drop, and
         * NO_NEW_PRIVS below keeps exec from gaining anything anyway. */
        if (capng_have_capability(CAPNG_EFFECTIVE, CAP_SETPCAP) != 1)
                return 0;
        capng_clear(CAPNG_SELECT_BOUNDS);
        if (capng_apply(CAPNG_SELECT_BOUNDS) < 0)
                return vl_error_set(e, EPERM, "cannot clear the capability bounding set");
        return 0;
}

static int change_ids(const struct sandbox_config *c, struct vl_error *e)
{
        if (c->n_groups > SANDBOX_GROUPS_MAX)
                return vl_error_set(e, EINVAL, "too many supplementary groups");
        if (getuid() == 0 || geteuid() == 0) {
                if (setgroups(c->n_groups, c->groups) < 0)
                        return vl_error_set(e, errno, "setgroups: %s", strerror(errno));
        }
        if (setresgid(c->gid, c->gid, c->gid) < 0)
                return vl_error_set(e, errno, "setresgid(%u): %s", (unsigned) c->gid,
                                    strerror(errno));
        if (setresuid(c->uid, c->uid, c->uid) < 0)
                return vl_error_set(e, errno, "setresuid(%u): %s", (unsigned) c->uid,
                                    strerror(errno));
        return 0;
}

static int clear_caps(struct vl_error *e)
{
        capng_get_caps_process();
        if (capng_have_capabilities(CAPNG_SELECT_CAPS) != CAPNG_NONE) {
                capng_clear(CAPNG_SELECT_CAPS);
                if (capng_apply(CAPNG_SELECT_CAPS) < 0)
                        return vl_error_set(e, EPERM, "cannot clear capabilities");
        }
        /* Ambient capabilities would survive exec: clear them explicitly. */
        if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
                return vl_error_set(e, errno, "clearing ambient capabilities: %s",
                                    strerror(errno));
        return 0;
}

static int load_seccomp(struct vl_error *e)
{
        scmp_filter_ctx ctx;
        int r;

        /* The default bad-arch action (kill) stays: a 32-bit or x32 syscall
         * must not be a way around the list. */
        ctx = seccomp_init(SCMP_ACT_ALLOW);
        if (!ctx)
                return vl_error_set(e, ENOMEM, "seccomp_init failed");
        for (size_t i = 0; sandbox_denied_syscalls[i]; i++) {
                int nr = seccomp_syscall_resolve_name(sandbox_denied_syscalls[i]);
                if (nr == __NR_SCMP_ERROR)
                        continue; /* not a syscall on this architecture */
                r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), nr, 0);
                if (r < 0) {
                        seccomp_release(ctx);
                        return vl_error_set(e, -r, "seccomp rule for %s: %s",
                                            sandbox_denied_syscalls[i], strerror(-r));
                }
        }
        r = seccomp_load(ctx);
        seccomp_release(ctx);
        if (r < 0)
                return vl_error_set(e, -r, "cannot load the seccomp filter: %s", strerror(-r));
        return 0;
}

int sandbox_enter(const struct sandbox_config *c, struct vl_error *e)
{
        struct rlimit rl;
        int r;

        r = move_fds(c, e);
        if (r < 0)
                return r;
        if (setsid() < 0)
                return vl_error_set(e, errno, "setsid: %s", strerror(errno));

        if (c->memlock_bytes > 0) {
                rl.rlim_cur = rl.rlim_max = c->memlock_bytes;
                if (setrlimit(RLIMIT_MEMLOCK, &rl) < 0)
                        return vl_error_set(e, errno,
                                            "cannot raise RLIMIT_MEMLOCK to %llu MiB: %s",
                                            (unsigned long long) (c->memlock_bytes >> 20),
                                            strerror(errno));
        }

        capng_get_caps_process();
        r = drop_bounding_set(e);
        if (r < 0)
                return r;
        r = change_ids(c, e);
        if (r < 0)
                return r;

        if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0)
                return vl_error_set(e, errno, "PR_SET_PDEATHSIG: %s", strerror(errno));
        /* The parent may have died before PDEATHSIG was armed: then nothing
         * would ever kill us, and QEMU would hold the devices forever. */
        if (c->parent > 0 && getppid() != c->parent)
                return vl_error_set(e, ESRCH, "the launcher exited during start-up");

        r = clear_caps(e);
        if (r < 0)
                return r;
        if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
                return vl_error_set(e, errno, "PR_SET_NO_NEW_PRIVS: %s", strerror(errno));
        if (c->seccomp) {
                r = load_seccomp(e);
                if (r < 0)
                        return r;
        }
        return 0;
}

void sandbox_report_write(int fd, const struct vl_error *e)
{
        struct sandbox_report rep = { .err = e->err > 0 ? e->err : EIO };
        ssize_t n;

        /* Cut to the report's size on purpose: it must fit one pipe write. */
        size_t len = strnlen(e->msg, sizeof(rep.msg) - 1);
        memcpy(rep.msg, e->msg, len);
        rep.msg[len] = '\0';
        do
                n = write(fd, &rep, sizeof(rep));
        while (n < 0 && errno == EINTR);
}

int sandbox_report_read(int fd, struct sandbox_report *ret)
{
        struct sandbox_report rep;
        ssize_t got = fs_read_full(fd, &rep, sizeof(rep));

        if (got < 0)
                return (int) got;
        if (got == 0)
                return 0;
        if ((size_t) got != sizeof(rep))
                return -EPROTO;
        rep.msg[sizeof(rep.msg) - 1] = '\0';
        *ret = rep;
        return 1;
}
