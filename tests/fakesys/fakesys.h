/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * fakesys: a fake host for tests — sysfs, /dev, /proc and a run dir in a
 * fresh temp dir — and an in-process model of how the kernel reacts to the
 * sysfs writes bind makes (drivers/base/bus.c, dd.c, pci-driver.c):
 *
 *   DEV/driver_override   "x\n" sets, "\n" clears (reads back "(null)")
 *   DRV/unbind  ADDR      detach if bound to DRV, else ENODEV
 *   DRV/bind    ADDR      ENODEV if DRV does not match (override set to
 *                         another driver, or DRV is not the device's native
 *                         driver), EBUSY if the device has a driver
 *   drivers_probe ADDR    an unbound device attaches to its override, or with
 *                         none to its native driver, if that driver is loaded
 *   modprobe MODULE       creates the driver dir, then probes every unbound
 *                         device it matches (as module loading does)
 *   /dev/vfio/GROUP       exists while >= 1 member is bound to vfio-pci
 *                         (created root:root 0600)
 *
 * All dynamic state (driver links, overrides, loaded drivers, /dev/vfio)
 * lives in the tree itself, so a forked child can run bind code and die
 * mid-way ("crash") and the parent's model goes on from what is on disk.
 * The fixed facts (each device's native driver and group, driver modules,
 * injected failures) live in memory and must be set up before forking.
 *
 * Setup helpers abort() with a message on failure: they are test plumbing.
 * Never touches anything outside its temp dir.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "base/roots.h"
#include "host/bind.h"
#include "host/undo.h"

struct fakesys;

/* A new fake host in a mkdtemp() dir under $TMPDIR (or /tmp), IOMMU off,
 * no devices, no drivers. fakesys_free() removes the whole tree. */
struct fakesys *fakesys_new(void);
void fakesys_free(struct fakesys *fs);

const char *fakesys_top(const struct fakesys *fs);  /* the temp dir */
const char *fakesys_sys(const struct fakesys *fs);  /* TOP/sys */
const char *fakesys_dev(const struct fakesys *fs);  /* TOP/dev */
const char *fakesys_proc(const struct fakesys *fs); /* TOP/proc */
const char *fakesys_run(const struct fakesys *fs);  /* TOP/run (not created) */

/* This host's roots (sys, dev, proc, run), owned by fs. */
const struct host_roots *fakesys_roots(struct fakesys *fs);

/* bind_env for this host: its roots, a tiny pci.ids (10de:11c0, 10de:0e0b,
 * 8086:…), the model as ops, and short bounds (300 ms waits and writes). */
void fakesys_env(struct fakesys *fs, struct bind_env *env);

/* host_env for this host: fakesys_env() as its bind settings, the other
 * modules' installed settings on its roots. */
void fakesys_host_env(struct fakesys *fs, struct host_env *h);

/* --- building the host --------------------------------------------------- */

/* IOMMU on: SYS/class/iommu/dmar0 and SYS/kernel/iommu_groups exist. */
void fakesys_iommu_on(struct fakesys *fs);

/* A PCI driver NAME provided by MODULE (NULL: built in). loaded = its
 * SYS/bus/pci/drivers/NAME dir exists now. */
void fakesys_driver(struct fakesys *fs, const char *name, const char *module, bool loaded);

/* A device. class is 24-bit (0x030000 VGA, 0x040300 audio, 0x060400
 * bridge); group -1 = no iommu_group link; native = the driver the kernel
 * would pick for it (NULL none); bound_to = its driver now (NULL none; the
 * driver must be loaded). VGA devices get boot_vga "0". */
void fakesys_device(struct fakesys *fs, const char *addr, uint16_t vendor, uint16_t device,
                    uint32_t class_code, int group, const char *native, const char *bound_to);

/* Write a device attribute file (boot_vga, resource, driver_override...). */
void fakesys_device_attr(struct fakesys *fs, const char *addr, const char *attr, const char *content);

/* A DRM node: SYS/.../ADDR/drm/NAME, DEV/dri/NAME and, for card*,
 * DEV/dri/by-path/pci-ADDR-card (render* : -render). */
void fakesys_drm_node(struct fakesys *fs, const char *addr, const char *name);

/* PROC/PID with comm, stat (start time `start`) and an fd 3 linked to
 * DEV/node (node NULL: no fd). */
void fakesys_process(struct fakesys *fs, pid_t pid, const char *comm, const char *node, uint64_t start);

/* PROC/iomem content. */
void fakesys_iomem(struct fakesys *fs, const char *text);

/* SYS/class/graphics/FB with a device link to ADDR. */
void fakesys_fb(struct fakesys *fs, const char *fb, const char *addr);

/* The tiny pci.ids every fake host has (fakesys_env() names it); a test may
 * write its own there. */
const char *fakesys_pci_ids(const struct fakesys *fs);

/* --- CPUs and memory (vfio-launch init) ----------------------------------- */

/* An online CPU: SYS/devices/system/cpu/cpuN/topology/{physical_package_id,
 * die_id,core_id,thread_siblings_list} and, with l3 (a cpulist; NULL none),
 * cache/index3/{level,type,shared_cpu_list}. SYS/devices/system/cpu/online,
 * present and possible list every CPU added so far. */
void fakesys_cpu(struct fakesys *fs, unsigned cpu, int package, int die, int core, const char *siblings,
                 const char *l3);

/* Append one line (a newline is added) to PROC/REL: meminfo, self/mountinfo. */
void fakesys_proc_line(struct fakesys *fs, const char *rel, const char *line);

/* --- what the host runs on its devices (bind_device_holders) -------------- */

/* A file SYS/REL with content (its folders made), and a symlink SYS/REL ->
 * SYS/TARGET written relative, as sysfs writes its links. */
void fakesys_sys_file(struct fakesys *fs, const char *rel, const char *content);
void fakesys_sys_link(struct fakesys *fs, const char *rel, const char *target);

/* A block device NAME ("MAJ:MIN") at SYS/devices/DIR/NAME with its `dev`,
 * and SYS/class/block/NAME linking to it. DIR for a virtio disk:
 * "pci0000:00/ADDR/virtio1/block"; for a partition: the disk's folder. */
void fakesys_block(struct fakesys *fs, const char *dir, const char *name, const char *majmin);

/* Block device UPPER (dm, md) stacked on LOWER: UPPER/slaves/LOWER and
 * LOWER/holders/UPPER, as bd_link_disk_holder() makes them. */
void fakesys_block_stack(struct fakesys *fs, const char *upper, const char *lower);

/* A line of PROC/self/mountinfo; a line of PROC/swaps (header added first). */
void fakesys_mount(struct fakesys *fs, const char *majmin, const char *mountpoint, const char *fstype,
                   const char *source);
void fakesys_swap(struct fakesys *fs, const char *filename);

/* A network interface at SYS/devices/DIR/IFNAME (DIR: "pci0000:00/ADDR/net",
 * "virtual/net") with ifindex and flags (up: 0x1003, down: 0x1002), and
 * SYS/class/net/IFNAME linking to it. */
void fakesys_netdev(struct fakesys *fs, const char *dir, const char *ifname, int ifindex, bool up);

/* LOWER is stacked under UPPER: LOWER/upper_UPPER, and with master also
 * LOWER/master (a bridge or bond port). */
void fakesys_net_upper(struct fakesys *fs, const char *lower, const char *upper, bool master);

/* What rtnetlink says of link ifindex, as the model answers bind_ops.link_usage:
 * one more address ("192.0.2.1/24"), one more route (default: a default route). */
void fakesys_net_addr(struct fakesys *fs, int ifindex, const char *addr);
void fakesys_net_route(struct fakesys *fs, int ifindex, bool dflt);

/* --- injected failures ---------------------------------------------------- */

/* Every write to SYS/REL answers -err (nothing changes). */
void fakesys_fail_write(struct fakesys *fs, const char *rel, int err);

/* Replace SYS/REL with a FIFO nobody reads: the real bounded writer blocks
 * in open() until its timeout, as a hung sysfs write would. */
void fakesys_hang(struct fakesys *fs, const char *rel);

/* Probes to DRIVER accept the write but never bind (a probe that fails
 * quietly, or hangs in the background). */
void fakesys_never_binds(struct fakesys *fs, const char *driver, bool on);

/* modprobe MODULE fails ("Module not found"). */
void fakesys_module_missing(struct fakesys *fs, const char *module, bool on);

/* The model never creates /dev/vfio/GROUP nodes (vfio_iommu_type1 missing). */
void fakesys_no_vfio_node(struct fakesys *fs, bool on);

/* Remove a loaded driver's dir (as rmmod would; no device may be bound). */
void fakesys_unload_driver(struct fakesys *fs, const char *name);

/* The process calls _exit(0) at its (n+1)-th sysfs write (n = 0: the
 * first): before performing it, or right after the model applied it
 * (after_write). n < 0 = never. For a forked child: a crash. */
void fakesys_crash_at(struct fakesys *fs, int n, bool after_write);

/* --- looking at it ----------------------------------------------------------- */

/* Every entry under SYS, DEV and PROC (not the run dir), one line each,
 * sorted: "path type mode uid:gid -> target | content". malloc'd. */
char *fakesys_snapshot(const struct fakesys *fs);

/* Current driver of ADDR ("" none), into a static buffer. */
const char *fakesys_driver_of(const struct fakesys *fs, const char *addr);

/* Counters for assertions. */
unsigned fakesys_writes(const struct fakesys *fs);   /* sysfs writes seen */
unsigned fakesys_modprobes(const struct fakesys *fs);
/* Owner of DEV/vfio/GROUP seen when the model last removed it; -1 if never. */
long fakesys_vfio_owner_at_release(const struct fakesys *fs, int group);
