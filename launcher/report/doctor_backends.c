/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * doctor: what the profile's backends need of the host (doctor_internal.h):
 * the audio server, the NICs' devices, swtpm and its state, the disks that
 * are block devices, the evdev inputs, the host USB devices, the shared
 * memory. Each asks the run's own plan where there is one, read only.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/fs.h"
#include "host/blockdev.h"
#include "host/input.h"
#include "host/shmem.h"
#include "host/usb.h"
#include "host/vars.h"
#include "report/doctor_internal.h"

static void check_audio(const struct doctor_env *env, const struct profile *p, struct doctor_report *rep)
{
        const struct runas *u = env->user;
        char path[PROFILE_PATH_MAX + 32];
        const char *s = p->sound.pa_server;
        const char *what = p->sound.backend == AUDIO_PA ? "PulseAudio" : "PipeWire";
        struct stat st;

        if (p->sound.model == SOUND_NONE || (p->sound.backend != AUDIO_PA && p->sound.backend != AUDIO_PIPEWIRE))
                return;
        if (!u) {
                dr_add(rep, "audio", DOCTOR_WARN, "Audio server", "set \"user\" in the profile, or run through sudo",
                       "the run-as user is unknown: %s", env->user_error ? env->user_error : "?");
                return;
        }
        if (p->sound.backend == AUDIO_PA && s[0]) {
                if (strncmp(s, "unix:", 5) == 0)
                        s += 5;
                if (s[0] != '/') {
                        dr_add(rep, "audio", DOCTOR_OK, "Audio server", NULL, "network server %s: not checked", s);
                        return;
                }
                (void) snprintf(path, sizeof(path), "%s", s);
        } else if (!u->xdg_runtime_dir[0]) {
                dr_add(rep, "audio", DOCTOR_WARN, "Audio server", "run QEMU as the desktop user (\"user\")",
                       "%s has no /run/user folder: no %s socket to use", u->name, what);
                return;
        } else
                (void) snprintf(path, sizeof(path), "%s/%s", u->xdg_runtime_dir,
                                p->sound.backend == AUDIO_PA ? "pulse/native" : "pipewire-0");

        if (stat(path, &st) < 0)
                dr_add(rep, "audio", DOCTOR_FAIL, "Audio server",
                       "log in as the run-as user with the sound server running (QEMU fails at start without it)",
                       "%s socket %s: %s", what, path, strerror(errno));
        else if (!S_ISSOCK(st.st_mode))
                dr_add(rep, "audio", DOCTOR_FAIL, "Audio server", "fix sound.pa_server", "%s is not a socket", path);
        else if (st.st_uid != u->uid)
                dr_add(rep, "audio", DOCTOR_FAIL, "Audio server",
                       "run QEMU as the user who owns the sound server (profile \"user\")",
                       "%s belongs to uid %u, QEMU runs as %s (uid %u)", path, (unsigned) st.st_uid, u->name,
                       (unsigned) u->uid);
        else
                dr_add(rep, "audio", DOCTOR_OK, "Audio server", NULL, "%s socket %s owned by %s", what, path, u->name);
}

static void check_nics(const struct doctor_env *env, const struct profile *p, struct doctor_report *rep)
{
        for (unsigned i = 0; i < p->n_nics; i++) {
                const struct profile_nic *n = &p->nics[i];
                char id[48], path[PATH_MAX];
                bool there;

                (void) snprintf(id, sizeof(id), "nic:%s", n->id[0] ? n->id : "?");
                if (n->backend == NIC_MACVTAP) {
                        there = fs_join(path, sizeof(path), env->hostenv.roots->sysfs, "class/net/%s", n->dev) >= 0 &&
                                fs_exists(path) > 0;
                        dr_add(rep, id, there ? DOCTOR_OK : DOCTOR_FAIL, "macvtap lower device",
                               "fix nics[].dev in the profile (ip link)", "%s %s", path,
                               there ? "exists" : "does not exist");
                } else if (n->backend == NIC_TAP) {
                        there = fs_join(path, sizeof(path), env->hostenv.roots->sysfs, "class/net/%s/bridge",
                                           n->bridge) >= 0 &&
                                fs_exists(path) > 0;
                        dr_add(rep, id, there ? DOCTOR_OK : DOCTOR_FAIL, "tap bridge",
                               "create the bridge (ip link add NAME type bridge) or fix nics[].bridge",
                               "%s %s", path, there ? "exists" : "does not exist: no such bridge");
                }
        }
}

/* swtpm and the state folder a run would use (host/tpm.h), read only. */
static void check_tpm(const struct doctor_env *env, const struct profile *p, struct doctor_report *rep)
{
        const char *dir = env->state_dir ? env->state_dir : VARS_STATE_DIR;
        const struct tpm_tools *t = env->tpm_tools;
        struct vl_error e = {};
        int r;

        if (!t) {
                dr_add(rep, "tpm", DOCTOR_FAIL, "TPM (swtpm)", "apt-get install swtpm swtpm-tools", "%s",
                       env->tpm_error ? env->tpm_error : "swtpm not found");
                return;
        }
        r = env->user ? tpm_state_check(dir, p->name, env->user->uid, &e) : 0;
        if (r < 0)
                dr_add(rep, "tpm", DOCTOR_FAIL, "TPM (swtpm)", "see the evidence", "%s", e.msg);
        else
                dr_add(rep, "tpm", DOCTOR_OK, "TPM (swtpm)", NULL, "%s, %s; state %s/%s/%s: %s", t->swtpm,
                       t->swtpm_setup, dir, p->name, TPM_STATE_SUBDIR,
                       r > 0 ? "there, used as is" : "made at the first start");
}

/* The disks that are block devices: what a run would refuse, through the
 * run's own plan (blockdev_plan(), read only). */
static void check_blockdevs(const struct doctor_env *env, const struct profile *p, struct doctor_report *rep)
{
        struct blockdev_plan plan;
        struct vl_error e = {};
        char list[400] = "";

        if (blockdev_plan(env->hostenv.roots, p, &plan, &e) < 0) {
                dr_add(rep, "blockdevs", DOCTOR_FAIL, "Block devices as disks",
                       "unmount the file systems on it, swapoff, deactivate what is stacked on it (vgchange -an, "
                       "cryptsetup close, mdadm --stop); or give the VM another disk",
                       "%s", e.msg);
                return;
        }
        if (plan.n == 0)
                return;
        for (unsigned i = 0; i < plan.n; i++)
                dr_appendf(list, sizeof(list), "%s%s", i ? ", " : "", plan.nodes[i].node);
        dr_add(rep, "blockdevs", DOCTOR_OK, "Block devices as disks", NULL,
               "%s: not in use on the host; a run hands them to QEMU's user and gives them back", list);
}

/* The evdev inputs: each there, an input device node reached through
 * links root trusts — the run's own plan (input_plan(), read only). */
static void check_inputs(const struct doctor_env *env, const struct profile *p, struct doctor_report *rep)
{
        struct input_plan plan;
        struct vl_error e = {};
        char list[400] = "";

        if (input_plan(env->hostenv.roots, p, &plan, &e) < 0) {
                dr_add(rep, "inputs", DOCTOR_FAIL, "Evdev inputs",
                       "plug the device in, or name it by its link in /dev/input/by-id (ls -l /dev/input/by-id)",
                       "%s: %s", e.path, e.msg);
                return;
        }
        if (plan.n == 0)
                return;
        for (unsigned i = 0; i < plan.n; i++)
                dr_appendf(list, sizeof(list), "%s%s", i ? ", " : "", plan.nodes[i].node);
        dr_add(rep, "inputs", DOCTOR_OK, "Evdev inputs", NULL,
               "%s: present; a run hands them to QEMU's user and gives them back", list);
}

/* The host USB devices: each found, once — the run's own plan (usb_plan(),
 * read only); an optional one that is not plugged in is a note. */
static void check_usb(const struct doctor_env *env, const struct profile *p, struct doctor_report *rep)
{
        struct vl_warnings w = {};
        struct usb_plan plan;
        struct vl_error e = {};
        char list[400] = "";

        if (p->usb.n_devices == 0)
                return;
        if (usb_plan(env->hostenv.roots, p, &plan, &e, &w) < 0) {
                dr_add(rep, "usb", DOCTOR_FAIL, "USB devices",
                       e.err == ENOTUNIQ ? "add the device's \"serial\", or name it by \"bus\" and \"port\" "
                                        "(lsusb -t)"
                                      : "plug the device in, or check its ids (lsusb) or place (lsusb -t)",
                       "%s: %s", e.path, e.msg);
                return;
        }
        for (unsigned i = 0; i < plan.n; i++)
                dr_appendf(list, sizeof(list), "%s%s (%04x:%04x, %s)", i ? ", " : "", plan.nodes[i].sysname,
                           plan.nodes[i].vendor, plan.nodes[i].product, plan.nodes[i].node);
        for (unsigned i = 0; i < w.n; i++)
                dr_add(rep, "usb", DOCTOR_WARN, "USB devices", "plug it in before the start, or leave it out",
                       "%s", w.msg[i]);
        if (plan.n > 0)
                dr_add(rep, "usb", DOCTOR_OK, "USB devices", NULL,
                       "%s: present; a run hands their nodes to QEMU's user and gives them back; QEMU takes each "
                       "device from its host drivers while the guest has it",
                       list);
}

/* The shared memory (Looking Glass, Scream): the run's own plan
 * (shmem_plan(), read only) for QEMU's user — a file of that name that is
 * not this VM's, a kvmfr node missing or of another size. */
static void check_shmem(const struct doctor_env *env, const struct profile *p, struct doctor_report *rep)
{
        _cleanup_free_ struct shmem_plan *plan = calloc(1, sizeof(*plan));
        struct vl_error e = {};
        char list[600] = "";

        if (p->n_shmem == 0)
                return;
        if (!plan) {
                dr_add(rep, "shmem", DOCTOR_FAIL, "Shared memory", NULL, "out of memory");
                return;
        }
        if (!env->user) {
                dr_add(rep, "shmem", DOCTOR_WARN, "Shared memory", "set \"user\" in the profile, or run through sudo",
                       "the run-as user is unknown (%s): who may open the memory cannot be checked",
                       env->user_error ? env->user_error : "?");
                return;
        }
        if (shmem_plan(env->hostenv.roots, p, env->user, plan, &e) < 0) {
                dr_add(rep, "shmem", DOCTOR_FAIL, "Shared memory",
                       e.err == EEXIST   ? "remove or rename that file (not this VM's), or choose another \"name\""
                       : e.err == ENODEV ? "load the kvmfr module (modprobe kvmfr static_size_mb=SIZE)"
                       : e.err == EINVAL ? "load kvmfr with the profile's size (static_size_mb), or change \"size\""
                                         : "check the profile's owner, group and mode (profiles/README.md#shmem)",
                       "%s: %s", e.path[0] ? e.path : "$.shmem", e.msg);
                return;
        }
        for (unsigned i = 0; i < plan->n; i++)
                dr_appendf(list, sizeof(list), "%s%s (%llu MiB, %s:%s %04o%s)", i ? ", " : "", plan->item[i].path,
                           (unsigned long long) (plan->item[i].bytes >> 20), plan->item[i].owner, plan->item[i].group,
                           (unsigned) plan->item[i].mode,
                           plan->item[i].action == SHMEM_REUSE   ? ", kept from an earlier run"
                           : plan->item[i].action == SHMEM_KVMFR ? ", kvmfr"
                                                              : "");
        dr_add(rep, "shmem", DOCTOR_OK, "Shared memory", NULL, "%s: a run can set %s up for QEMU's user (%s)", list,
               plan->n == 1 ? "it" : "them", env->user->name);
}

void dr_check_backends(const struct doctor_env *env, const struct profile *p, struct doctor_report *rep)
{
        check_audio(env, p, rep);
        check_nics(env, p, rep);
        check_blockdevs(env, p, rep);
        check_inputs(env, p, rep);
        check_usb(env, p, rep);
        check_shmem(env, p, rep);
        if (p->tpm.enabled)
                check_tpm(env, p, rep);
}
