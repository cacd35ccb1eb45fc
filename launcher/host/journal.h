/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * journal: the crash-safe record of every host change a run makes, so that
 * the run's own end, `vfio-launch recover` after the launcher died, `unbind`
 * and a live detach all give the host back the same way (host/undo.h).
 *
 * One file per VM: RUN/NAME/state.json (RUN = roots->run, /run/vfio-launch;
 * the directory RUN/NAME is 0700, owned by the launcher's euid). It is
 * written BEFORE each host change, atomically: a temp file in the same
 * directory, fsync, rename over state.json, fsync of the directory — a reader
 * sees the old or the new content, never a mix.
 *
 * What it holds: the PCI devices moved to vfio-pci (with the step each one
 * reached) and the /dev/vfio/GROUP nodes handed to QEMU's user, both owned
 * by bind.c; and a list of typed entries, one per other host change, each of
 * a kind in enum journal_kind. A kind is a struct here, a row of JSON keys in
 * journal_entry.c and an undo handler in undo.c (docs/design.md says how to add
 * one).
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

#include <net/if.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "base/error.h"
#include "base/pci_addr.h"
#include "base/roots.h"
#include "profile/profile.h"

#define JOURNAL_FILE_NAME "state.json"
#define JOURNAL_FILE_MAX (256u * 1024u) /* bytes a loaded journal may have */
#define JOURNAL_DEVICES_MAX 64
#define JOURNAL_GROUPS_MAX 32
/* Every change one run can make: NICs (8), hugepages (1), disks' block
 * devices (16), shmem files and kvmfr owners (8), evdev inputs (8), USB
 * devices (8), the host's hand-over (HANDOVER_STEPS_MAX, 48): 97. */
#define JOURNAL_ENTRIES_MAX 128
#define JOURNAL_DRIVER_MAX 64   /* incl. NUL, = PCI_DRIVER_MAX */
#define JOURNAL_PATH_MAX PROFILE_PATH_MAX

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
        uint32_t mode;        /* permission bits (0777) */
};

/* The other host changes a run makes, one kind each. The JSON spelling of a
 * kind and of its fields is journal_entry.c's table; the undo is undo.c's. */
enum journal_kind {
        JOURNAL_MACVTAP = 0, /* a macvtap link on a lower device (net.c) */
        JOURNAL_TAP,         /* a tap link enslaved to a bridge (net.c) */
        JOURNAL_HUGEPAGES,   /* pages added to a hugepage pool and the VM's folder (hugepages.c) */
        JOURNAL_BLOCKDEV,    /* a disk's block device node handed to QEMU's user (blockdev.c) */
        JOURNAL_SHMEM,       /* a "shmem" file made in /dev/shm (shmem.c) */
        JOURNAL_SHMEM_OWNER, /* /dev/kvmfrN handed to a "shmem"'s owner (shmem.c) */
        JOURNAL_EVDEV,       /* an "inputs" evdev node handed to QEMU's user (input.c, via devnode.c) */
        JOURNAL_USB,         /* a usb.devices node in /dev/bus/usb handed to QEMU's user (usb.c, via devnode.c) */
        JOURNAL_UNIT,        /* host_handover: a systemd unit stopped (handover.c) */
        JOURNAL_VTCON,       /* host_handover: fbcon unbound from a virtual console (handover.c) */
        JOURNAL_FRAMEBUFFER, /* host_handover: a firmware framebuffer unbound from its driver (handover.c) */
        JOURNAL_MODULE,      /* host_handover: a kernel module unloaded (handover.c) */
        _JOURNAL_KIND_MAX,
};

/* JOURNAL_MACVTAP, JOURNAL_TAP. A link is deleted only when the link of
 * that name is of that kind and has the ifindex and MAC recorded: a name can
 * be taken again by another VM's link, or anyone's, after a crash. */
struct journal_link {
        char name[IFNAMSIZ]; /* the link this run created */
        char peer[IFNAMSIZ]; /* macvtap: its lower device; tap: its bridge (for people) */
        uint64_t ifindex;    /* once created; 0 = not known yet */
        char mac[18];        /* its address ("52:54:00:..."); "" = not known yet */
};

#define JOURNAL_HUGEPAGES_DIR_PREFIX "vfio-launch-" /* the VM's folder: MOUNT/vfio-launch-NAME */

/* JOURNAL_HUGEPAGES */
struct journal_hugepages {
        uint64_t page_kib;         /* the pool: 2048 or 1048576 */
        uint64_t before;           /* nr_hugepages before the run (for people) */
        uint64_t added;            /* pages this run added to the pool: taken out again */
        char dir[JOURNAL_PATH_MAX]; /* the VM's folder in the mount: removed */
};

/* JOURNAL_BLOCKDEV, JOURNAL_EVDEV, JOURNAL_USB (host/devnode.h): a device node's owner,
 * group and mode before the chown, as for /dev/vfio/GROUP. The undo touches
 * the node only while it is still a node of the kind's type (a block
 * device; a character device of the input or the USB device major) with
 * this device number: a node udev made again since (the disk, keyboard or
 * USB device went and came back)
 * has its default owner already. */
/* The usb_device character major, /dev/bus/usb/BBB/DDD: fixed in the
 * kernel (include/linux/usb.h USB_DEVICE_MAJOR), not in the uapi headers. */
#define JOURNAL_USB_DEVICE_MAJOR 189

struct journal_devnode {
        char node[JOURNAL_PATH_MAX]; /* the resolved node, under DEV ("/dev/sdb", "/dev/input/event5") */
        uint64_t rdev;               /* its device number (makedev()); not 0 */
        uint64_t uid, gid;           /* before */
        uint64_t mode;               /* permission bits before (0777) */
};

/* JOURNAL_SHMEM: removed only while the file at path is still the one
 * this run made: it carries the mark with this nonce (host/shmem.h; only
 * root can set it) and, once known, the recorded dev + ino (0 = the crash
 * came before they were recorded). The name is in a world-writable folder:
 * a user's file of that name is never removed, whatever inode number it
 * got. JOURNAL_SHMEM_OWNER: the kvmfr node's owner and
 * mode before, given back. The folder is checked at undo against the
 * roots (shm / dev): a journal cannot point the undo elsewhere. */
struct journal_shmem {
        char path[JOURNAL_PATH_MAX]; /* SHM/NAME, or DEV/kvmfrN */
        uint64_t dev, ino;           /* JOURNAL_SHMEM */
        uint64_t nonce;              /* JOURNAL_SHMEM: the file's mark ends in it */
        uint64_t uid, gid, mode;     /* JOURNAL_SHMEM_OWNER: before the chown */
};

/* JOURNAL_UNIT, JOURNAL_VTCON, JOURNAL_FRAMEBUFFER, JOURNAL_MODULE: one step
 * of the host's hand-over of its only GPU (host/handover.h). They are made
 * before any device moves and undone after the devices are back
 * (host_undo()). Each undo first looks whether there is anything to do: a
 * unit running, a module loaded, a console or framebuffer bound again (by
 * the kernel itself: fbcon takes a framebuffer's consoles when one comes)
 * are left as they are. */
struct journal_handover {
        char name[PROFILE_UNIT_NAME_MAX]; /* UNIT: "gdm.service"; MODULE: "nvidia_drm";
                                             FRAMEBUFFER: the platform device ("efi-framebuffer.0") */
        char driver[JOURNAL_DRIVER_MAX];  /* FRAMEBUFFER: its driver ("efi-framebuffer") */
        uint64_t vtcon;                   /* VTCON: N of SYS/class/vtconsole/vtconN */
};

struct journal_entry {
        enum journal_kind kind;
        union {
                struct journal_link link;
                struct journal_hugepages hugepages;
                struct journal_devnode blockdev; /* JOURNAL_BLOCKDEV */
                struct journal_devnode evdev;    /* JOURNAL_EVDEV: the same fields */
                struct journal_devnode usb;      /* JOURNAL_USB: the same fields */
                struct journal_shmem shmem;
                struct journal_handover handover; /* JOURNAL_UNIT .. JOURNAL_MODULE */
        };
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
        struct journal_entry entries[JOURNAL_ENTRIES_MAX]; /* in the order the changes were made */
};

/* A fresh journal for VM `name`, owned by this process (getpid() and its
 * start time read from PROC/PID/stat; 0 when unreadable). */
void journal_init(struct journal *j, const char *name, const struct host_roots *roots);

/* "RUN/NAME/state.json" into buf. 0 or -ENAMETOOLONG / -EINVAL (name). */
int journal_path(char *buf, size_t size, const char *run_dir, const char *name);

/* Write j atomically to RUN/j->name/state.json, creating RUN (0755) and
 * RUN/NAME (0700) when missing. Refuses a RUN/NAME that is a symlink, not a
 * directory, or owned by another user (-EPERM). journal_create() also
 * refuses (-EEXIST) when a state.json is already there. Returns 0 or -errno,
 * e filled. */
int journal_create(const struct host_roots *roots, const struct journal *j, struct vl_error *e);
int journal_save(const struct host_roots *roots, const struct journal *j, struct vl_error *e);

/* Load RUN/NAME/state.json into *ret. Returns 0; -ENOENT (e filled) when
 * there is none; -EBADMSG (e names the file, line:column and what is wrong)
 * when it is not a valid journal; -EFBIG over JOURNAL_FILE_MAX; other
 * -errno. */
int journal_load(const struct host_roots *roots, const char *name, struct journal *ret,
                 struct vl_error *e);

/* The journal as its file holds it, and back: journal_format() returns the
 * JSON text (the caller frees it; NULL on ENOMEM); journal_parse() reads
 * len bytes of text strictly, as journal_load() does (path for messages,
 * name the VM it must be of; NULL: any). 0, or -EBADMSG / -EFBIG with e
 * filled. The one parser of journals: the fuzzer drives it too. */
char *journal_format(const struct journal *j);
int journal_parse(const char *text, size_t len, const char *path, const char *name, struct journal *ret,
                  struct vl_error *e);

/* Delete RUN/NAME/state.json and the RUN/NAME directory (if empty).
 * Returns 0, also when there was nothing to delete; -errno otherwise. */
int journal_remove(const struct host_roots *roots, const char *name, struct vl_error *e);

/* Whether nothing is left to give back: no device, no entry. */
bool journal_empty(const struct journal *j);

/* Load NAME's journal to undo what it records: 1 and *ret when there is one,
 * 0 when there is none (nothing to undo), -EBUSY (e says which) while the
 * run's launcher — another process than this one — or its QEMU is alive:
 * they still use what the journal records. Other errors as journal_load(). */
int journal_load_for_undo(const struct host_roots *roots, const char *name, struct journal *ret,
                          struct vl_error *e);

/* Whether process pid is alive: PROC/PID exists, is not a zombie, and
 * (when start != 0) started at `start` (guards against PID reuse). */
bool journal_pid_alive(const char *proc_root, pid_t pid, uint64_t start);

/* Start time of pid (PROC/PID/stat field 22). 0 or -errno. */
int journal_process_start(const char *proc_root, pid_t pid, uint64_t *ret);

/* One journal found by journal_list(). */
struct journal_listing {
        char name[256];           /* the directory name under RUN */
        int load_error;           /* 0, or the -errno of journal_load() */
        struct vl_error error;    /* its message when load_error != 0 */
        bool alive;               /* the launcher is alive (only when loaded) */
        struct journal journal;   /* valid when load_error == 0 */
};

/* Every RUN/ * /state.json, sorted by name; corrupt ones are listed with
 * their error, not skipped. A missing RUN is an empty list. *ret is owned
 * by the caller (free()). Returns 0, -ENOMEM, -E2BIG (more than 256 VMs), or
 * -errno when RUN cannot be read. */
int journal_list(const struct host_roots *roots, struct journal_listing **ret, size_t *ret_n,
                 struct vl_error *e);

/* The device entry for addr, or NULL. */
struct journal_device *journal_find_device(struct journal *j, const struct pci_addr *addr);

/* Load-modify-save helpers for the supervisor and the modules that make
 * host changes. journal_set_qemu(): records QEMU's PID (and its start time
 * from PROC) in an existing journal. journal_add_entry(): appends x — BEFORE
 * the change it records is made — creating the journal (owned by this
 * process) when there is none; -EEXIST when the journal there belongs to
 * another process (a run that is active or did not finish: recover it, do
 * not extend it); -ENOSPC when full; -EINVAL when x does not pass the checks
 * a loaded entry must. journal_remove_entry(): drops the entry equal to x
 * (0 also when absent), for a change that was rolled back by the module
 * that made it; a journal left empty is deleted. All return 0 or -errno with
 * e filled. */
int journal_set_qemu(const struct host_roots *roots, const char *name, pid_t pid, struct vl_error *e);
int journal_add_entry(const struct host_roots *roots, const char *name, const struct journal_entry *x,
                      struct vl_error *e);
int journal_remove_entry(const struct host_roots *roots, const char *name, const struct journal_entry *x,
                         struct vl_error *e);
/* Replace the entry equal to old with new (what became known once the
 * change was made: a link's ifindex). -ENOENT when old is not there. */
int journal_update_entry(const struct host_roots *roots, const char *name, const struct journal_entry *old,
                         const struct journal_entry *new, struct vl_error *e);

/* Drop entries[i] from j (in memory). */
void journal_drop_entry(struct journal *j, unsigned i);

/* "macvtap", "tap", "hugepages", "blockdev", "shmem", "shmem_owner", "evdev", "usb", "unit",
 * "vtcon", "framebuffer", "module"; NULL for an unknown kind. */
const char *journal_kind_to_string(enum journal_kind k);

/* What an entry is, for messages: "macvtap \"vl-win10-0\"",
 * "hugepages (2048 kB pages, 32 added, /dev/hugepages/vfio-launch-win10)". */
void journal_entry_describe(const struct journal_entry *x, char *buf, size_t size);

const char *journal_step_to_string(enum journal_step s);
