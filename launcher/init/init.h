/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * `vfio-launch init`: a first profile for this host, from what the hardware
 * says. Two halves, so that each can be tested alone:
 *
 *   report/init_probe.h  reads the host (libpci, sysfs, /proc; read-only)
 *                        into a struct init_host: a snapshot of the facts;
 *   init_build()         (this folder) PURE: the snapshot and the user's
 *                        options to a profile (JSON) and one line per choice
 *                        it made and why, or a one-line refusal.
 *
 * This folder sits beside import/ (a layer that touches no host: the
 * include check keeps it so); what only the host knows comes in the struct.
 * The profile it returns has been through the strict loader and
 * profile_validate() (profile_load_buffer()): what init writes, `check`
 * accepts. It allocates freely: the CLI's process only.
 */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "base/cpuset.h"
#include "base/error.h"
#include "base/pci_addr.h"
#include "profile/profile.h"

#define INIT_PCI_MAX 1024      /* PCI functions of the snapshot (pci.h's PCI_SCAN_MAX) */
#define INIT_PCI_NAME_MAX 128  /* incl. NUL: vendor / device names from pci.ids */
#define INIT_MOUNTS_MAX 16     /* hugetlbfs mounts looked at */
#define INIT_LINES_MAX 48      /* choice lines */
#define INIT_LINE_MAX 512      /* incl. NUL: one choice line, cut beyond */

/* One PCI function, as sysfs and pci.ids describe it. */
struct init_pci {
        struct pci_addr addr;
        uint16_t vendor, device;
        uint32_t class_code;                      /* 24 bits: base << 16 | sub << 8 | prog-if */
        int group;                                /* IOMMU group; -1: none (IOMMU off) */
        bool boot_vga;                            /* sysfs boot_vga reads "1" */
        bool console;                             /* a display controller the host's console is
                                                     on (bind_device_console()) */
        char vendor_name[INIT_PCI_NAME_MAX];      /* "" unknown */
        char device_name[INIT_PCI_NAME_MAX];
};

/* One online logical CPU, as SYSFS/devices/system/cpu/cpuN says. */
struct init_cpu {
        unsigned id;
        int package, die, core;                   /* -1: unknown */
        struct cpuset siblings;                   /* topology/thread_siblings_list; {id} when unknown */
        struct cpuset l3;                         /* the CPUs sharing its L3 (cache/indexK with level 3);
                                                     empty: unknown */
        unsigned capacity;                        /* cpu_capacity; 0: unknown */
        unsigned max_khz;                         /* cpufreq/cpuinfo_max_freq; 0: unknown */
};

/* A hugetlbfs page pool (SYSFS/kernel/mm/hugepages/hugepages-NkB). */
struct init_pool {
        bool present;
        uint64_t nr, free, resv;
};

struct init_mount {
        char path[PROFILE_HUGEPAGES_PATH_MAX];
        uint64_t page_kib;
};

/* What a path the options name is on the host. */
enum init_path_state {
        INIT_PATH_UNKNOWN = 0, /* not looked at */
        INIT_PATH_MISSING,
        INIT_PATH_FILE,        /* a regular file */
        INIT_PATH_BLOCK,       /* a block device */
        INIT_PATH_OTHER,
};

/* What a network interface the options name is on the host. */
enum init_net_state {
        INIT_NET_UNKNOWN = 0,
        INIT_NET_MISSING,
        INIT_NET_PRESENT,      /* an interface, not a bridge */
        INIT_NET_BRIDGE,
};

#define INIT_GPU_DRIVERS_MAX 8 /* display controllers whose drivers are looked at */

/* What drives a display controller, for host_handover's unload_modules:
 * its driver and the modules that must go for that driver's module to go
 * (SYSFS/module/M/holders, recursively), users first, M last. */
struct init_gpu_driver {
        struct pci_addr addr;
        char driver[PROFILE_STR_MAX];             /* "": no driver bound */
        bool builtin;                             /* the driver is built into the kernel: no module */
        bool too_many;                            /* more than PROFILE_HANDOVER_MODULES_MAX modules */
        unsigned n_modules;
        char modules[PROFILE_HANDOVER_MODULES_MAX][PROFILE_MODULE_NAME_MAX];
};

/* The snapshot: everything init_build() knows of the host. Large (the CPU
 * and PCI tables): allocate it. */
struct init_host {
        unsigned n_pci;
        struct init_pci pci[INIT_PCI_MAX];        /* sorted by address */
        bool iommu;                               /* an IOMMU is on (groups exist) */

        unsigned n_cpus;
        struct init_cpu cpus[CPUSET_MAX];         /* the online CPUs, by id */
        bool hybrid;                              /* SYSFS/devices/cpu_atom/cpus names CPUs */
        struct cpuset perf_cpus;                  /* with hybrid: SYSFS/devices/cpu_core/cpus */
        struct cpuset eff_cpus;                   /* with hybrid: SYSFS/devices/cpu_atom/cpus */

        uint64_t mem_kib;                         /* MemTotal of PROC/meminfo */
        uint64_t default_hugepage_kib;            /* Hugepagesize; 0 unknown */
        struct init_pool pool[2];                 /* by enum hugepage_size */
        unsigned n_mounts;
        struct init_mount mounts[INIT_MOUNTS_MAX]; /* hugetlbfs mounts, in mount order */

        /* What the host's display holds, for --single-gpu's host_handover. */
        bool systemd;                             /* PROC/1/comm is "systemd": units can be stopped */
        unsigned n_fbcon;                         /* virtual consoles fbcon draws, bound */
        unsigned n_framebuffers;                  /* firmware framebuffers bound to their driver */
        char framebuffer[160];                    /* the first: "efi-framebuffer.0 (efi-framebuffer)" */
        unsigned n_gpu_drivers;
        struct init_gpu_driver gpu_drivers[INIT_GPU_DRIVERS_MAX]; /* display controllers with a driver */

        enum init_path_state disk, iso, virtio_win; /* the options' paths */
        enum init_net_state net;                  /* the --bridge / --macvtap interface */
};

/* The user's options. Paths are absolute (the CLI resolves them). */
struct init_options {
        char name[PROFILE_NAME_MAX];
        bool gpu_set;
        struct pci_addr gpu;
        enum os_preset os;                        /* OS_NONE: no --os */
        uint64_t memory_mib;                      /* 0: half the host's RAM */
        unsigned cpus;                            /* vCPUs; 0: every core but the host's */
        bool hugepages;
        bool single_gpu;
        char disk[PROFILE_PATH_MAX];              /* "": none */
        char iso[PROFILE_PATH_MAX];
        char virtio_win[PROFILE_PATH_MAX];
        char bridge[PROFILE_STR_MAX];             /* "": no --bridge */
        char macvtap[PROFILE_STR_MAX];            /* "": no --macvtap */
};

struct init_result {
        json_t *profile;                          /* owned: keys in a fixed order */
        unsigned n_lines;                         /* for stderr, one choice each: "gpu: ..." */
        char lines[INIT_LINES_MAX][INIT_LINE_MAX];
};

/* Build the profile of o on the host h. 0 with *ret filled (free with
 * init_result_done()); -EINVAL with e = one line saying what cannot be done
 * and what to give instead (several GPUs and no --gpu, an unknown --gpu,
 * --cpus or --memory the host cannot give, ...); -ENOMEM. Pure. */
int init_build(const struct init_host *h, const struct init_options *o, struct init_result *ret,
               struct vl_error *e);

void init_result_done(struct init_result *r);

/* Whether a PCI class is a display controller (base class 0x03: VGA, XGA,
 * 3D, other). */
static inline bool init_class_display(uint32_t class_code)
{
        return (class_code >> 16) == 0x03;
}

/* Whether a display controller is the host's own display: the boot VGA, or
 * the one its console is drawn on (a GPU that is not VGA-class has no
 * boot_vga). Passing it through takes the host's display: --single-gpu. */
static inline bool init_host_display(const struct init_pci *d)
{
        return d->boot_vga || d->console;
}
