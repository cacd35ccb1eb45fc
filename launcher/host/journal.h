/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * journal: the crash-safe record of every host change a run makes, so that
 * `vfio-launch recover` can give the host back after the launcher died.
 *
 * One file per VM: RUN_DIR/NAME/state.json (RUN_DIR defaults to
 * /run/vfio-launch; the directory RUN_DIR/NAME is 0700, owned by the
 * launcher's euid). It is written BEFORE each host change, atomically: a temp
 * file in the same directory, fsync, rename over state.json, fsync of the
 * directory — a reader sees the old or the new content, never a mix.
 *
 * struct journal is plain data (no pointers: copy with '='); the functions
 * below move it to and from disk. JSON through jansson, loaded strictly:
 * unknown keys, duplicate keys, wrong types, out-of-range values and
 * truncated files are errors with a message (-EBADMSG), never a crash.
 *
 * Whose journal is it: launcher_pid + launcher_start (the process start time
 * from PROC/PID/stat, field 22). A journal whose launcher is alive belongs to
 * a running VM and claims its devices; a dead one is stale: recoverable.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "base/error.h"
#include "base/pci_addr.h"
#include "profile/profile.h"

#define JOURNAL_DEFAULT_RUN_DIR "/run/vfio-launch"
#define JOURNAL_FILE_NAME "state.json"
#define JOURNAL_FILE_MAX (256u * 1024u) /* bytes a loaded journal may have */
#define JOURNAL_DEVICES_MAX 64
#define JOURNAL_GROUPS_MAX 32
#define JOURNAL_ENTRIES_MAX 32
#define JOURNAL_DRIVER_MAX 64   /* incl. NUL, = PCI_DRIVER_MAX */
#define JOURNAL_KIND_MAX 32     /* incl. NUL */
#define JOURNAL_ID_MAX 64       /* incl. NUL */
#define JOURNAL_DATA_MAX 256    /* incl. NUL */

/* How far the apply got with one device. Each step is recorded BEFORE the
 * write it names, so a step means "this write may have happened". */
enum journal_step {
        JOURNAL_STEP_PLANNED = 0, /* nothing written for this device yet */
        JOURNAL_STEP_OVERRIDE,    /* driver_override = vfio-pci */
        JOURNAL_STEP_UNBIND,      /* unbind from the original driver */
        JOURNAL_STEP_PROBE,       /* drivers_probe */
        JOURNAL_STEP_ON_VFIO,     /* verified: on vfio-pci */
        _JOURNAL_STEP_MAX,
};

struct journal_device {
        struct pci_addr addr;
        int group;                              /* IOMMU group */
        bool managed;                           /* false: was on vfio-pci already;
                                                   claimed for the run, never touched */
        char orig_driver[JOURNAL_DRIVER_MAX];   /* "" = had no driver */
        char orig_module[JOURNAL_DRIVER_MAX];   /* module to load it from; "" = built in */
        char orig_override[JOURNAL_DRIVER_MAX]; /* driver_override before; "" = none */
        enum journal_step step;
};

/* /dev/vfio/GROUP ownership, recorded before the chown. */
struct journal_group {
        int group;
        bool chowned;         /* a chown may have happened: restore uid/gid/mode */
        uint32_t uid, gid;
        uint32_t mode;        /* permission bits (07777) */
};

/* Another host change of the run (a macvtap link, a tap...), for the
 * module that made it to undo. Free-form strings. */
struct journal_entry {
        char kind[JOURNAL_KIND_MAX];  /* non-empty: "macvtap", "tap", ... */
        char id[JOURNAL_ID_MAX];      /* what: "macvtap0" */
        char data[JOURNAL_DATA_MAX];  /* anything else the owner needs */
};

struct journal {
        char name[PROFILE_NAME_MAX];   /* the VM */
        pid_t launcher_pid;
        uint64_t launcher_start;       /* 0 = unknown: liveness = the PID exists */
        pid_t qemu_pid;                /* 0 = not started */
        uint64_t qemu_start;
        unsigned n_devices;
        struct journal_device devices[JOURNAL_DEVICES_MAX];
        unsigned n_groups;
        struct journal_group groups[JOURNAL_GROUPS_MAX];
        unsigned n_entries;
        struct journal_entry entries[JOURNAL_ENTRIES_MAX];
};

/* A fresh journal for VM `name`, owned by this process (getpid() and its
 * start time read from PROC_ROOT/PID/stat; 0 when unreadable). */
void journal_init(struct journal *j, const char *name, const char *proc_root);

/* Whether name is usable as a directory name: 1..63 of [A-Za-z0-9_.-], not
 * starting with '.' or '-' (the profile name rule). */
bool journal_name_valid(const char *name);

/* "RUN_DIR/NAME/state.json" into buf. 0 or -ENAMETOOLONG / -EINVAL (name). */
int journal_path(char *buf, size_t size, const char *run_dir, const char *name);

/* Write j atomically to RUN_DIR/j->name/state.json, creating RUN_DIR (0755)
 * and RUN_DIR/NAME (0700) when missing. Refuses a RUN_DIR/NAME that is a
 * symlink, not a directory, or owned by another user (-EPERM).
 * journal_create() also refuses (-EEXIST) when a state.json is already there.
 * Returns 0 or -errno, e filled. */
int journal_create(const char *run_dir, const struct journal *j, struct vl_error *e);
int journal_save(const char *run_dir, const struct journal *j, struct vl_error *e);

/* Load RUN_DIR/NAME/state.json into *ret. Returns 0; -ENOENT (e filled)
 * when there is none; -EBADMSG (e names the file, line:column and what is
 * wrong) when it is not a valid journal; -EFBIG over JOURNAL_FILE_MAX;
 * other -errno. */
int journal_load(const char *run_dir, const char *name, struct journal *ret, struct vl_error *e);

/* Delete RUN_DIR/NAME/state.json and the RUN_DIR/NAME directory (if empty).
 * Returns 0, also when there was nothing to delete; -errno otherwise. */
int journal_remove(const char *run_dir, const char *name, struct vl_error *e);

/* Load NAME's journal to undo what it records: 1 and *ret when there is one,
 * 0 when there is none (nothing to undo), -EBUSY (e says which) while the
 * run's launcher — another process than this one — or its QEMU is alive:
 * they still use what the journal records. Other errors as journal_load(). */
int journal_load_for_undo(const char *run_dir, const char *proc_root, const char *name,
                          struct journal *ret, struct vl_error *e);

/* Whether process pid is alive: PROC_ROOT/PID exists, is not a zombie, and
 * (when start != 0) started at `start` (guards against PID reuse). */
bool journal_pid_alive(const char *proc_root, pid_t pid, uint64_t start);

/* Start time of pid (PROC_ROOT/PID/stat field 22). 0 or -errno. */
int journal_process_start(const char *proc_root, pid_t pid, uint64_t *ret);

/* One journal found by journal_list(). */
struct journal_listing {
        char name[256];           /* the directory name under RUN_DIR */
        int load_error;           /* 0, or the -errno of journal_load() */
        struct vl_error error;    /* its message when load_error != 0 */
        bool alive;               /* the launcher is alive (only when loaded) */
        struct journal journal;   /* valid when load_error == 0 */
};

/* Every RUN_DIR/ * /state.json, sorted by name; corrupt ones are listed with
 * their error, not skipped. A missing RUN_DIR is an empty list. *ret is owned
 * by the caller (free()). Returns 0, -ENOMEM, -E2BIG (more than 256 VMs), or
 * -errno when RUN_DIR cannot be read. */
int journal_list(const char *run_dir, const char *proc_root, struct journal_listing **ret,
                 size_t *ret_n, struct vl_error *e);

/* The device entry for addr, or NULL. */
struct journal_device *journal_find_device(struct journal *j, const struct pci_addr *addr);

/* Load-modify-save helpers for the supervisor and the network code.
 * journal_set_qemu(): records QEMU's PID (and its start time from PROC_ROOT)
 * in an existing journal. journal_add_entry(): appends an entry, creating
 * the journal (owned by this process) when there is none; -ENOSPC when
 * full. journal_remove_entry(): drops the first entry with that kind and id
 * (0 also when absent); a journal left with no device and no entry is
 * deleted. All return 0 or -errno with e filled. */
int journal_set_qemu(const char *run_dir, const char *proc_root, const char *name, pid_t pid,
                     struct vl_error *e);
int journal_add_entry(const char *run_dir, const char *proc_root, const char *name,
                      const char *kind, const char *id, const char *data, struct vl_error *e);
int journal_remove_entry(const char *run_dir, const char *name, const char *kind, const char *id,
                         struct vl_error *e);

const char *journal_step_to_string(enum journal_step s);
