/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The supervisor: starts QEMU in the sandbox, brings it from -S to running
 * over QMP, and watches it until it is gone, in one poll loop over a pidfd
 * (QEMU's exit), a signalfd (SIGINT/SIGTERM/SIGHUP), the QMP socket and the
 * control socket (`vfio-launch status|stop NAME`).
 *
 * The stop ladder, each rung with a bound:
 *   system_powerdown (pressed again after powerdown_repeat_ms, because
 *   Windows often ignores the first ACPI press) → wait shutdown_timeout →
 *   quit → SIGTERM → SIGKILL (through the pidfd, so never a recycled PID).
 * A second Ctrl-C (or `stop --force`) skips to quit.
 *
 * A helper QEMU cannot run without (swtpm, the VM's TPM) is started first,
 * in its own sandbox, and watched through a pidfd in the same loop: QEMU
 * does not notice the death of its TPM emulator (it runs on, no QMP event,
 * docs/facts.md#F-swtpm), so the supervisor ends the run itself — SIGKILL
 * to QEMU, an outcome of SUP_QEMU_FAILED, as for a crash of QEMU. When QEMU
 * is gone the helper is waited for (it leaves with QEMU), then stopped with
 * SIGTERM and SIGKILL, each after quit_timeout_ms.
 *
 * It does not undo host changes: it returns how QEMU ended and the caller
 * (cmd_run) undoes the binding, whatever the outcome. It prints progress
 * lines to stderr (the supervisor and the CLI are the only printers).
 */
#pragma once

#include <stdbool.h>
#include <sys/types.h>

#include <jansson.h>

#include "base/error.h"
#include "run/sandbox.h"

struct qmp;
struct sup; /* the running supervisor, as its hooks see it */

enum sup_outcome {
        SUP_GUEST_POWEROFF = 0, /* the guest shut down by itself */
        SUP_STOPPED,            /* stopped on request, gracefully (ACPI) */
        SUP_FORCED,             /* stopped on request with quit/SIGTERM/SIGKILL */
        SUP_QEMU_FAILED,        /* QEMU exited with an error or was killed by a signal */
        SUP_START_FAILED,       /* QEMU never became ready */
};

/* A process QEMU depends on (swtpm). */
struct sup_helper {
        const char *name;             /* for messages, "swtpm"; NULL = no helper */
        const char *path;
        char *const *argv;
        char *const *envp;
        /* Its fds, in the order its argv numbers them from 3; sup_run()
         * takes them like QEMU's. */
        struct sandbox_config sandbox;
};

struct sup_config {
        const char *name;             /* VM name, for messages */
        const char *qemu_path;
        char *const *argv;
        char *const *envp;
        /* Its fds are QEMU's, in the order the argv numbers them (fds[i]
         * becomes QEMU_FD_FIRST + i: see struct qemu_fd_layout). sup_run()
         * takes them: closed as soon as QEMU has its copies, or on failure. */
        struct sandbox_config sandbox;
        int qmp_client;               /* our end of the private QMP socket (sup_qmp_open());
                                         sup_run() takes it: closed on return either way */
        const char *user_qmp_path;    /* the tools' QMP socket, for `status`; NULL = none */
        const char *control_path;     /* control socket path; NULL = none */
        unsigned shutdown_timeout_s;  /* guest ACPI shutdown allowance */
        unsigned powerdown_repeat_ms; /* 0 = press once */
        unsigned start_timeout_ms;    /* exec → QMP ready */
        unsigned quit_timeout_ms;     /* quit → exit, then SIGTERM → exit */
        const char *ready_detail;     /* printed on the ready line (SPICE port, ...) */
        struct sup_helper helper;     /* started before QEMU; .name NULL = none */
        /* Called after QMP is ready and before `cont` (vCPU pinning). May be NULL. */
        int (*before_cont)(void *userdata, struct qmp *q, pid_t qemu_pid, struct vl_error *e);
        void *userdata;
        /* Called once QEMU runs (its pid known), e.g. to record it in the journal. */
        void (*on_started)(void *userdata, struct sup *s, pid_t qemu_pid);
        /* Live hot-plug, asked for through the control socket ("detach ARGS",
         * "attach ARGS", "usb detach|attach ARGS"; NULL = refused). Called from the loop while the VM
         * runs, one request at a time; may use sup_execute() and sup_wait(),
         * which keep the loop (signals, QMP events, status) going. Fills
         * reply with one line for the client: "ok: ..." or "error: ...". */
        void (*hotplug)(void *userdata, struct sup *s, const char *request, char *reply, size_t size);
        /* Every DEVICE_DELETED event QEMU sends, with the device's id
         * (devices without an id are not reported). May be NULL. */
        void (*on_device_deleted)(void *userdata, struct sup *s, const char *id);
        /* Called after every turn of the main loop (not from inside a
         * hook's sup_wait()), for work an event asked for. May be NULL. */
        void (*on_idle)(void *userdata, struct sup *s);
        /* Extra members for the status reply: a JSON fragment
         * ("\"key\":value,...") or "" (buf is never NULL). May be NULL. */
        void (*status_extra)(void *userdata, char *buf, size_t size);
};

struct sup_result {
        enum sup_outcome outcome;
        int exit_status;  /* QEMU's exit status, or -1 */
        int term_signal;  /* the signal that killed QEMU, or 0 */
        pid_t qemu_pid;
        char shutdown_reason[64]; /* from the SHUTDOWN event, "" if none seen */
        unsigned powerdown_presses; /* POWERDOWN events QEMU reported (one per press) */
        /* The helper, when there was one: */
        pid_t helper_pid;           /* 0 = none started */
        bool helper_failed;         /* it ended while QEMU ran: the run was ended for it */
        int helper_exit_status;     /* its exit status, or -1 */
        int helper_term_signal;     /* the signal that ended it, or 0 */
};

/* Run QEMU to its end. Returns 0 with *ret filled whenever QEMU was started
 * (whatever its outcome), or -errno with e filled when it could not even be
 * started (then ret->outcome = SUP_START_FAILED). Signals SIGINT, SIGTERM,
 * SIGHUP are blocked and handled through a signalfd while it runs, and
 * restored on return. */
int sup_run(const struct sup_config *c, struct sup_result *ret, struct vl_error *e);

const char *sup_outcome_to_string(enum sup_outcome o);

/* For hooks: run one QMP command on the supervisor's connection and wait
 * for its reply (at most timeout_ms), the loop going on meanwhile. *ret
 * (may be NULL) gets the "return" value, owned by the caller. Returns 0;
 * -EREMOTEIO (e has QEMU's error); -ECHILD (QEMU exited); -EINTR (a stop
 * was requested); -ETIMEDOUT; -EBUSY (QMP is not up); other -errno. */
int sup_execute(struct sup *s, const char *command, json_t *arguments, unsigned timeout_ms, json_t **ret,
                struct vl_error *e);
/* The same with fd (borrowed) passed along for the commands that take one
 * (add-fd); fd < 0: sup_execute(). */
int sup_execute_fd(struct sup *s, const char *command, json_t *arguments, int fd, unsigned timeout_ms,
                   json_t **ret, struct vl_error *e);

/* For hooks: turn the loop until done(data) is true. 0, -ETIMEDOUT after
 * timeout_ms, -ECHILD when QEMU exited, -EINTR when a stop was requested. */
int sup_wait(struct sup *s, bool (*done)(void *data), void *data, unsigned timeout_ms);

/* QEMU's pid (-1 before it was started). */
pid_t sup_qemu_pid(const struct sup *s);

/* For hooks: a line in the VM's output, "vfio-launch: NAME: MSG". */
void sup_log(struct sup *s, const char *fmt, ...) _printf_(2, 3);

/* The supervisor's private QMP socket, libvirt's way: a listener at path
 * for QEMU to inherit (`-chardev socket,fd=N,server=on,wait=off`), and our
 * own connection to it, made now — it waits in the backlog until QEMU
 * accepts it, so nothing polls for a socket file, and a QEMU that dies in
 * start-up resets it. path is unlinked at once: nobody else can connect.
 * 0 with both fds (O_CLOEXEC, the client non-blocking), or -errno. */
int sup_qmp_open(const char *path, int *ret_listener, int *ret_client, struct vl_error *e);

/* Client side of the control socket: send one command ("status", "stop",
 * "stop-force", "detach TIMEOUT_MS DEVICE", "attach DEVICE"; at most
 * SUP_CONTROL_MSG_MAX - 1 bytes) to path and put the reply in buf. Returns
 * 0 or -errno. */
#define SUP_CONTROL_MSG_MAX 256
int sup_control_request(const char *path, const char *command, char *buf, size_t size,
                        int timeout_ms);
