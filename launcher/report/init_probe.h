/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The host half of `vfio-launch init` (init/init.h): read what the
 * profile's choices rest on into a struct init_host. Read-only: nothing is
 * written, nothing loaded, no device touched. Every path is under the
 * roots the caller passes (tests: a fake tree).
 *
 *   PCI        libpci's enumeration and pci.ids names (host/pci.h): class,
 *              ids, IOMMU group, boot_vga
 *   CPUs       SYSFS/devices/system/cpu: online, cpuN/topology (core_id,
 *              physical_package_id, die_id, thread_siblings_list), the L3's
 *              cache/indexK/shared_cpu_list, cpu_capacity,
 *              cpufreq/cpuinfo_max_freq; SYSFS/devices/cpu_core/cpus and
 *              cpu_atom/cpus (Intel hybrid)
 *   memory     PROC/meminfo (MemTotal, Hugepagesize), the 2M and 1G pools
 *              (SYSFS/kernel/mm/hugepages), hugetlbfs mounts and their page
 *              size (PROC/self/mountinfo)
 *   display    for --single-gpu's host_handover: PROC/1/comm (systemd?),
 *              fbcon's consoles and the firmware framebuffers (through
 *              host/handover.h's plan), each display controller's driver
 *              and its module with SYSFS/module/M/holders
 *   options    what the options' paths are (a path under /dev/ is looked
 *              up under DEV) and the --bridge / --macvtap interface
 *              (SYSFS/class/net)
 */
#pragma once

#include "base/error.h"
#include "base/roots.h"
#include "init/init.h"

/* Fill *ret (the caller allocates it: it is large). ids_file: the pci.ids
 * for names, NULL = libpci's default. 0, or -errno with e naming what could
 * not be read (no PCI devices, no online CPUs, no MemTotal). */
int init_probe(const struct host_roots *roots, const char *ids_file, const struct init_options *o,
               struct init_host *ret, struct vl_error *e);
