/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Where the host is: the roots every path to the kernel's file systems and to
 * vfio-launch's run-time state is built from. The installed binary uses
 * host_roots_init()'s values and nothing reads the environment: tests pass
 * temporary trees instead (a fake /sys that models the kernel, a private run
 * folder), so no code below the CLI ever names "/sys" itself.
 */
#pragma once

#define HOST_RUN_DIR "/run/vfio-launch" /* one folder per running VM */

struct host_roots {
        const char *sysfs; /* "/sys" */
        const char *dev;   /* "/dev" */
        const char *proc;  /* "/proc" */
        const char *run;   /* HOST_RUN_DIR: RUN/NAME holds a VM's journal, lock and sockets */
        const char *shm;   /* "/dev/shm": the files of "shmem" (host/shmem.h) */
};

/* The installed binary's roots (the values above). */
void host_roots_init(struct host_roots *r);
