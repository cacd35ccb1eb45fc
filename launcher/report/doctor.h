/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * doctor: the host checks every passthrough guide makes by hand (CPU flags,
 * /dev/kvm, IOMMU and interrupt remapping, the kernel command line, vfio
 * modules, the profile's devices and groups, firmware, memory, QEMU, audio
 * and network backends), as a list of results. Read-only; prints nothing.
 *
 * Every host path comes from struct doctor_env (sysfs, proc, dev roots and
 * the kernel command line file); process facts (euid, RLIMIT_MEMLOCK) and
 * what needs an exec (the QEMU probe) are filled in by the caller, so tests
 * run the whole thing against a fakesys tree.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "host/undo.h"
#include "base/error.h"
#include "qemu/hostinfo.h"
#include "profile/profile.h"
#include "host/runas.h"
#include "host/tpm.h"

#define DOCTOR_RESULTS_MAX 64

enum doctor_status {
        DOCTOR_OK = 0,
        DOCTOR_WARN,
        DOCTOR_FAIL,
};

struct doctor_result {
        char id[48];          /* stable: "iommu", "hostdev:0000:01:00.0", "nic:net0" */
        enum doctor_status status;
        char title[96];
        char evidence[640];   /* what was seen, with where it was seen */
        char fix[384];        /* "" for ok */
};

/* Results in the order they were made. Plain data, one allocation-free struct. */
struct doctor_report {
        unsigned n;
        unsigned dropped;     /* results beyond DOCTOR_RESULTS_MAX */
        struct doctor_result r[DOCTOR_RESULTS_MAX];
};

struct doctor_env {
        struct host_env hostenv;      /* roots, and the bind/hugepages settings the plans use */
        const char *cmdline_path;     /* NULL = PROC_ROOT/cmdline */
        uid_t euid;                   /* of the caller: root gets RLIMIT_MEMLOCK raised by the launcher */
        uint64_t memlock_limit;       /* RLIMIT_MEMLOCK soft limit, bytes; UINT64_MAX = unlimited */
        const struct hostinfo *host;  /* NULL: QEMU was not found (qemu_error says why) */
        const char *qemu_error;
        const struct firmware_dirs *dirs; /* NULL: firmware not checked */
        const struct runas *user;     /* NULL: run-as user unknown (user_error says why) */
        const char *user_error;
        const struct tpm_tools *tpm_tools; /* a profile with "tpm": NULL = not found (tpm_error says why) */
        const char *tpm_error;
        const char *state_dir;        /* the TPM state's root; NULL = VARS_STATE_DIR */
};

/* The installed settings on roots (which must outlive env; host_env_init),
 * the real PROC/cmdline, euid and memlock of nobody in particular (0 /
 * unlimited): the caller sets them. */
void doctor_env_init(struct doctor_env *env, const struct host_roots *roots);

/* Run every check; with p (may be NULL) also the profile's. Fills ret and
 * returns 0, or -ENOMEM. A check that cannot read its input reports that as
 * its evidence (warn), it does not fail the call. */
int doctor_run(const struct doctor_env *env, const struct profile *p, struct doctor_report *ret);

/* The result with that id, or NULL. */
const struct doctor_result *doctor_find(const struct doctor_report *r, const char *id);

/* Worst status in the report. */
enum doctor_status doctor_worst(const struct doctor_report *r);

const char *doctor_status_to_string(enum doctor_status s); /* "ok" "warn" "fail" */

/* The report as a JSON object {"ok":bool,"results":[{id,status,title,
 * evidence,fix}...]}, '\n'-terminated. malloc'd, NULL on ENOMEM. */
char *doctor_report_json(const struct doctor_report *r);

/* Every IOMMU group (SYSFS/kernel/iommu_groups, numeric order) and its
 * devices: address, class, ids, names (pci.ids), driver — as text (one
 * "IOMMU group N" line, then one indented line per device) or as JSON
 * {"groups":[{"group":N,"devices":[...]}]}. *ret is malloc'd.
 * Returns 0; -ENODEV when the IOMMU is off (e says so, with the fix);
 * -ENOMEM; -EIO and others from reading sysfs (e filled). */
int doctor_groups(const char *sysfs_root, const char *pci_ids, bool json, char **ret,
                  struct vl_error *e);
