/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* One run of a VM: see launch.h. launch_prepare() and launch_pick_port()
 * change nothing on the host; the rest is the run's own life. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/unixsock.h"
#include "host/dmi.h"
#include "host/journal.h"
#include "host/net.h"
#include "host/rundir.h"
#include "host/vars.h"
#include "host/vhost.h"
#include "run/launch.h"
#include "run/pin.h"

/* path is in the folder dir/name/ (or below it), with no ".." on the way. */
static bool path_in_vm_dir(const char *path, const char *dir, const char *name)
{
        size_t dl = strlen(dir), nl = strlen(name);
        const char *rest;

        if (strncmp(path, dir, dl) != 0 || path[dl] != '/' || strncmp(path + dl + 1, name, nl) != 0 ||
            path[dl + 1 + nl] != '/')
                return false;
        rest = path + dl + 1 + nl + 1;
        if (!rest[0])
                return false;
        for (const char *c = rest; c; c = strchr(c, '/') ? strchr(c, '/') + 1 : NULL)
                if (strncmp(c, "..", 2) == 0 && (c[2] == '/' || c[2] == '\0'))
                        return false;
        return true;
}

int launch_prepare(const struct profile *p, const struct hostinfo *h, const struct host_roots *roots,
                   const struct firmware_dirs *dirs, const char *state_dir, bool profile_trusted,
                   struct qemu_runtime *rt, struct firmware_choice *ret_fc, struct vl_error *e,
                   struct vl_warnings *w)
{
        char canonical[PROFILE_STR_MAX];
        struct firmware_choice fc = {};
        struct vhost_choice vhost[PROFILE_NICS_MAX];
        bool vhost_on[PROFILE_NICS_MAX], usb_on[PROFILE_USB_DEVICES_MAX] = {};
        int r;

        /* Decided here, once: the fd layout has a slot for each vhost-net
         * fd, and print shows the same choice a run makes. */
        r = vhost_net_decide(p, roots, vhost, e, w);
        if (r < 0)
                return r;
        for (unsigned i = 0; i < PROFILE_NICS_MAX; i++) {
                vhost_on[i] = vhost[i].on;
                (void) snprintf(rt->vhost_off[i], sizeof(rt->vhost_off[i]), "%s", vhost[i].why);
        }
        /* A USB device has an fd slot unless it is optional and not
         * plugged in now: then the run goes without it (print shows the
         * same warning). A required one that is missing keeps its slot,
         * and launch_plan() refuses the run. */
        for (unsigned i = 0; i < p->usb.n_devices; i++) {
                struct usb_node n;
                struct vl_error ue = {};
                char jpath[64];

                (void) snprintf(jpath, sizeof(jpath), "$.usb.devices[%u]", i);
                r = usb_find(roots, &p->usb.devices[i], jpath, &n, &ue);
                usb_on[i] = !(r == -ENOENT && p->usb.devices[i].optional);
                if (r == 0) {
                        strcpy(rt->usb_node[i], n.node);
                        strcpy(rt->usb_sysname[i], n.sysname);
                } else if (!usb_on[i]) {
                        vl_warn(w, "%s: %s (\"required\": false): the VM runs without it", jpath, ue.msg);
                }
        }
        qemu_fd_layout_init(&rt->fds, p, true, vhost_on, usb_on);
        /* The run creates this folder (hugepages_setup()); print shows it. */
        if (p->hugepages.enabled &&
            hugepages_vm_dir(p->hugepages.path, p->name, rt->mem_path, sizeof(rt->mem_path)) < 0)
                return vl_error_set(e, ENAMETOOLONG, "the VM's hugepages folder path is too long");

        /* A block device is opened by its node, with QEMU's host_device
         * driver; print shows it, the run hands it over (launch_plan()). */
        for (unsigned i = 0; i < p->n_disks; i++) {
                struct blockdev_node n;
                char jpath[64];

                (void) snprintf(jpath, sizeof(jpath), "$.disks[%u].path", i);
                r = blockdev_inspect(roots, p->disks[i].path, jpath, &n, e);
                if (r < 0)
                        return r;
                if (r > 0)
                        strcpy(rt->disk_node[i], n.node);
        }
        /* QEMU opens the evdev node by the name resolved here, the one the
         * run hands over. Missing now: left "" for print to say so, and
         * refused by launch_plan() before any change. */
        for (unsigned i = 0; i < p->n_inputs; i++) {
                struct input_node n;
                struct vl_error ie = {};
                char jpath[64];

                if (p->inputs[i].type != INPUT_EVDEV)
                        continue;
                (void) snprintf(jpath, sizeof(jpath), "$.inputs[%u].evdev", i);
                if (input_inspect(roots, p->inputs[i].evdev, jpath, &n, &ie) == 0)
                        strcpy(rt->input_node[i], n.node);
        }
        /* The run prepares these files (shmem_setup()); print shows them. */
        for (unsigned i = 0; i < p->n_shmem; i++)
                if (shmem_path(roots, p, i, rt->shmem_path[i], sizeof(rt->shmem_path[i])) < 0)
                        return vl_error_set(e, ENAMETOOLONG, "the path of $.shmem[%u] is too long", i);

        /* Root creates the VARS for QEMU's user: where, only root says. */
        if (p->firmware.type == FIRMWARE_UEFI && p->firmware.vars[0] && !profile_trusted &&
            !path_in_vm_dir(p->firmware.vars, state_dir, p->name))
                return vl_error_set_at(e, EPERM, NULL, 0, 0, "$.firmware.vars",
                                       "'%s' is not in '%s/%s/': only a profile that root owns, and no "
                                       "other account may change, may put the VARS elsewhere (leave "
                                       "vars out, or keep the profile in /etc/vfio-launch/, owned by "
                                       "root)",
                                       p->firmware.vars, state_dir, p->name);

        /* Once: the builder runs what this chose, and the firmware
         * descriptors are matched against its canonical name. */
        r = hostinfo_machine_resolve(p->machine[0] ? p->machine : "q35", &h->version, rt->machine,
                                     sizeof(rt->machine), canonical, sizeof(canonical), e, w);
        if (r < 0)
                return r;
        /* Read at start, as libvirt's mode='host' does: what print shows
         * is what the run gives the guest. */
        if (p->smbios.mode == SMBIOS_HOST) {
                r = dmi_read(roots, &rt->smbios_host, e, w);
                if (r < 0)
                        return r;
        }
        r = hostinfo_firmware_for_profile(p, dirs, canonical, &fc, e, w);
        if (r < 0)
                return r;
        if (ret_fc)
                *ret_fc = fc;
        if (p->firmware.type == FIRMWARE_BIOS)
                return 0;

        if (xsnprintf(rt->firmware.code, sizeof(rt->firmware.code), "%s", fc.code) < 0)
                return vl_error_set(e, ENAMETOOLONG, "firmware path too long");
        snprintf(rt->firmware.code_format, sizeof(rt->firmware.code_format), "%s",
                 fc.code_format[0] ? fc.code_format : "raw");
        snprintf(rt->firmware.vars_format, sizeof(rt->firmware.vars_format), "%s",
                 fc.vars_format[0] ? fc.vars_format : "raw");
        rt->firmware.requires_smm = fc.requires_smm;
        if (p->firmware.vars[0])
                snprintf(rt->firmware.vars, sizeof(rt->firmware.vars), "%s", p->firmware.vars);
        else if (vars_default_path(state_dir, p->name, rt->firmware.vars,
                                   sizeof(rt->firmware.vars)) < 0)
                return vl_error_set(e, ENAMETOOLONG, "VARS path too long");
        return 0;
}

int launch_pick_port(const char *listen_addr, unsigned first, unsigned *ret)
{
        struct sockaddr_storage ss = {};
        socklen_t len;

        if (inet_pton(AF_INET, listen_addr, &((struct sockaddr_in *) &ss)->sin_addr) == 1) {
                ss.ss_family = AF_INET;
                len = sizeof(struct sockaddr_in);
        } else if (inet_pton(AF_INET6, listen_addr, &((struct sockaddr_in6 *) &ss)->sin6_addr) == 1) {
                ss.ss_family = AF_INET6;
                len = sizeof(struct sockaddr_in6);
        } else
                return -EINVAL;

        for (unsigned port = first; port < first + 100 && port <= 65535; port++) {
                int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0), r;
                if (fd < 0)
                        return -errno;
                if (ss.ss_family == AF_INET)
                        ((struct sockaddr_in *) &ss)->sin_port = htons((uint16_t) port);
                else
                        ((struct sockaddr_in6 *) &ss)->sin6_port = htons((uint16_t) port);
                r = bind(fd, (struct sockaddr *) &ss, len);
                close(fd);
                if (r == 0) {
                        *ret = port;
                        return 0;
                }
        }
        return -EADDRINUSE;
}

/* ---- the run ----------------------------------------------------------- */

/* Every fd of the layout must fit the sandbox's table. */
_Static_assert(QEMU_FDS_MAX <= SANDBOX_FDS_MAX, "the sandbox cannot hand QEMU every fd of the layout");
/* One journal entry per host change a run makes (JOURNAL_ENTRIES_MAX): a
 * full journal would refuse a profile the loader accepted. */
_Static_assert(PROFILE_NICS_MAX + 1 + PROFILE_DISKS_MAX + 2 * PROFILE_SHMEM_MAX + PROFILE_INPUTS_MAX +
                               PROFILE_USB_DEVICES_MAX + HANDOVER_STEPS_MAX <=
                       JOURNAL_ENTRIES_MAX,
               "a run can make more host changes than its journal holds");

void launch_init(struct launch *l, const struct profile *p, const struct host_env *host,
                 const struct runas *user, const struct qemu_runtime *rt)
{
        *l = (struct launch) {
                .p = p, .host = host, .user = user, .rt = rt, .lock = -1, .log_fd = -1,
                .qmp_listener = -1, .qmp_client = -1, .qmp_user_listener = -1,
                .tpm_fds = { -1, -1 },
        };
        for (unsigned i = 0; i < PROFILE_NICS_MAX; i++)
                l->nic_fds[i] = l->vhost_fds[i] = -1;
        for (unsigned i = 0; i < PROFILE_USB_DEVICES_MAX; i++)
                l->usb_fds[i] = -1;
}

int launch_lock(struct launch *l, pid_t *ret_holder, struct vl_error *e)
{
        int fd = rundir_lock(l->host->roots->run, l->p->name, ret_holder, e);

        if (fd < 0)
                return fd;
        l->lock = fd;
        return 0;
}

int launch_plan(struct launch *l, struct vl_error *e)
{
        int r;

        r = bind_plan_new(&l->host->bind, l->p, &l->plan, e);
        if (r >= 0)
                r = net_check(l->p, l->host->roots->sysfs, e);
        if (r >= 0 && l->p->hugepages.enabled)
                r = hugepages_plan(&l->host->hugepages, l->p, &l->hugepages, e);
        if (r >= 0)
                r = blockdev_plan(l->host->roots, l->p, &l->blockdevs, e);
        /* The command line names the nodes launch_prepare() found: a link
         * that points elsewhere now would give QEMU another device than
         * the one handed over. */
        for (unsigned i = 0; r >= 0 && i < l->blockdevs.n; i++) {
                const struct blockdev_node *n = &l->blockdevs.nodes[i];
                char jpath[64];

                (void) snprintf(jpath, sizeof(jpath), "$.disks[%u].path", n->disk);
                if (strcmp(n->node, l->rt->disk_node[n->disk]) != 0)
                        r = vl_error_set_at(e, ESTALE, NULL, 0, 0, jpath,
                                            "now the block device '%s', not '%s' as when the command line was "
                                            "built",
                                            n->node, l->rt->disk_node[n->disk][0] ? l->rt->disk_node[n->disk] : "(none)");
        }
        for (unsigned i = 0; r >= 0 && i < l->p->n_disks; i++) {
                bool planned = false;
                char jpath[64];

                (void) snprintf(jpath, sizeof(jpath), "$.disks[%u].path", i);
                for (unsigned k = 0; k < l->blockdevs.n; k++)
                        planned = planned || l->blockdevs.nodes[k].disk == i;
                if (l->rt->disk_node[i][0] && !planned)
                        r = vl_error_set_at(e, ESTALE, NULL, 0, 0, jpath, "no longer the block device '%s'",
                                            l->rt->disk_node[i]);
        }
        if (r >= 0 && l->p->n_shmem)
                r = shmem_plan(l->host->roots, l->p, l->user, &l->shmem, e);
        if (r >= 0 && l->p->host_handover.enabled) {
                l->handover = calloc(1, sizeof(*l->handover));
                r = l->handover ? handover_plan(&l->host->handover, l->p, l->handover, e)
                                : vl_error_set(e, ENOMEM, "out of memory");
        }
        if (r >= 0)
                r = input_plan(l->host->roots, l->p, &l->inputs, e);
        /* As for the disks: the command line names the node found then. */
        for (unsigned i = 0; r >= 0 && i < l->inputs.n; i++) {
                const struct input_node *n = &l->inputs.nodes[i];
                char jpath[64];

                (void) snprintf(jpath, sizeof(jpath), "$.inputs[%u].evdev", n->input);
                if (strcmp(n->node, l->rt->input_node[n->input]) != 0)
                        r = vl_error_set_at(e, ESTALE, NULL, 0, 0, jpath,
                                            "now the evdev node '%s', not '%s' as when the command line was built",
                                            n->node,
                                            l->rt->input_node[n->input][0] ? l->rt->input_node[n->input] : "(none)");
        }
        if (r >= 0)
                r = usb_plan(l->host->roots, l->p, &l->usb, e, NULL);
        /* The command line has an fd for each device found then: the same
         * devices, at the same nodes, or the run would pass another one. */
        for (unsigned i = 0; r >= 0 && i < l->p->usb.n_devices; i++) {
                const struct usb_node *n = NULL;
                char jpath[64];

                (void) snprintf(jpath, sizeof(jpath), "$.usb.devices[%u]", i);
                for (unsigned k = 0; k < l->usb.n; k++)
                        if (l->usb.nodes[k].device == i)
                                n = &l->usb.nodes[k];
                if (!n && l->rt->fds.usb[i] >= 0)
                        r = vl_error_set_at(e, ENOENT, NULL, 0, 0, jpath, "USB device %s was unplugged",
                                            l->rt->usb_node[i]);
                else if (n && (l->rt->fds.usb[i] < 0 || strcmp(n->node, l->rt->usb_node[i]) != 0))
                        r = vl_error_set_at(e, ESTALE, NULL, 0, 0, jpath,
                                            "now USB device %s (%s), not '%s' as when the command line was built",
                                            n->sysname, n->node, l->rt->usb_node[i][0] ? l->rt->usb_node[i] : "(none)");
        }
        return r;
}

int launch_apply_usb(struct launch *l, struct vl_error *e)
{
        int r;

        for (unsigned i = 0; i < l->usb.n; i++) {
                const struct usb_node *n = &l->usb.nodes[i];

                l->changed = true;
                r = usb_hand_over(l->host->roots, l->p->name, n, l->user->uid, l->user->gid, e);
                if (r < 0)
                        return r;
                r = usb_open(n, e);
                if (r < 0)
                        return r;
                l->usb_fds[n->device] = r;
        }
        hotplug_usb_init(&l->usb_hotplug, l->p, l->host, l->user->uid, l->user->gid, &l->usb);
        return 0;
}

int launch_apply_inputs(struct launch *l, struct vl_error *e)
{
        if (l->inputs.n == 0)
                return 0;
        l->changed = true;
        return input_hand_over(l->host->roots, l->p->name, &l->inputs, l->user->uid, l->user->gid, e);
}

int launch_apply_blockdevs(struct launch *l, struct vl_error *e)
{
        if (l->blockdevs.n == 0)
                return 0;
        l->changed = true;
        return blockdev_hand_over(l->host->roots, l->p->name, &l->blockdevs, l->user->uid, l->user->gid, e);
}

int launch_apply_shmem(struct launch *l, struct vl_error *e)
{
        if (!l->p->n_shmem)
                return 0;
        l->changed = true;
        return shmem_setup(l->host->roots, l->p, &l->shmem, e);
}

int launch_apply_hugepages(struct launch *l, struct vl_error *e)
{
        if (!l->p->hugepages.enabled)
                return 0;
        l->changed = true;
        return hugepages_setup(&l->host->hugepages, l->p, &l->hugepages, l->user->uid, l->user->gid, e);
}

int launch_apply_handover(struct launch *l, struct vl_error *e, struct vl_warnings *w)
{
        unsigned n_before;
        int r;

        if (!l->handover)
                return 0;
        l->changed = true;
        r = handover_apply(&l->host->handover, l->p->name, l->handover, e);
        if (r < 0)
                return r;
        n_before = l->plan->warnings.n;
        r = bind_plan_recheck_usage(&l->host->bind, l->p, l->plan, e);
        if (r < 0) {
                vl_error_append(e, " (after the host's hand-over)");
                return r;
        }
        for (unsigned i = n_before; i < l->plan->warnings.n && i < VL_WARNINGS_MAX; i++)
                vl_warn(w, "%s", l->plan->warnings.msg[i]);
        return 0;
}

int launch_apply_devices(struct launch *l, struct vl_error *e, struct vl_warnings *w)
{
        struct vl_error he = {};
        int r;

        l->changed = true;
        r = bind_apply(&l->host->bind, l->plan, l->user->uid, l->user->gid, e);
        if (r < 0 || l->p->n_hostdevs == 0)
                return r;
        /* Without it the VM runs as well; only detach/attach are refused. */
        if (hotplug_init(&l->hotplug, l->p, l->host, l->user->uid, l->user->gid, &he) < 0)
                vl_warn(w, "live detach/attach unavailable: %s", he.msg);
        else
                l->hotplug_ready = true;
        return 0;
}

int launch_apply_vars(struct launch *l, const char *template_path, const char *vars_path, struct vl_error *e)
{
        bool created = false;
        int r;

        /* The default place is ours to create; a path the profile names
         * must exist up to its folder. */
        r = vars_ensure(template_path, vars_path, l->user->uid, l->user->gid, l->p->firmware.vars[0] == '\0',
                        &created, e);
        return r < 0 ? r : created;
}

int launch_apply_net(struct launch *l, struct vl_error *e)
{
        int r;

        /* Not a host change: a vhost device lives and dies with its fd. */
        for (unsigned i = 0; i < PROFILE_NICS_MAX; i++) {
                if (l->rt->fds.vhost[i] < 0)
                        continue;
                r = vhost_net_open(l->host->roots, e);
                if (r < 0) {
                        if (e)
                                (void) snprintf(e->path, sizeof(e->path), "$.nics[%u].vhost", i);
                        return r;
                }
                l->vhost_fds[i] = r;
        }
        l->changed = true;
        return net_setup(l->host->roots, l->p, l->nic_fds, e);
}

static int open_log(const char *name, struct vl_error *e);

/* The sandbox both QEMU and swtpm run in: QEMU's user, the VM's log. */
static struct sandbox_config sandbox_for(const struct launch *l)
{
        struct sandbox_config c = {
                .uid = l->user->uid,
                .gid = l->user->gid,
                .n_groups = l->user->n_groups,
                .stdin_fd = -1,
                .stdout_fd = l->log_fd >= 0 ? l->log_fd : STDERR_FILENO,
                .stderr_fd = l->log_fd >= 0 ? l->log_fd : STDERR_FILENO,
                .parent = getpid(),
                .seccomp = true,
        };

        memcpy(c.groups, l->user->groups, sizeof(c.groups));
        return c;
}

static void ensure_log(struct launch *l, struct vl_warnings *w)
{
        struct vl_error le = {};

        if (l->log_fd >= 0)
                return;
        l->log_fd = open_log(l->p->name, &le);
        if (l->log_fd < 0)
                vl_warn(w, "%s: QEMU's messages go to this terminal, ignoring", le.msg);
}

int launch_apply_tpm(struct launch *l, struct vl_error *e, struct vl_warnings *w)
{
        struct sandbox_config c;

        if (!l->tpm)
                return 0;
        ensure_log(l, w);
        c = sandbox_for(l);
        return swtpm_manufacture(l->tpm, l->p->name, &c, SWTPM_SETUP_TIMEOUT_MS, e);
}

static int open_log(const char *name, struct vl_error *e)
{
        char path[512], stamp[64];
        time_t now = time(NULL);
        int fd;

        if (mkdir(LAUNCH_LOG_DIR, 0750) < 0 && errno != EEXIST)
                return vl_error_set(e, errno, "cannot create '%s': %s", LAUNCH_LOG_DIR, strerror(errno));
        if (xsnprintf(path, sizeof(path), "%s/%s.log", LAUNCH_LOG_DIR, name) < 0)
                return vl_error_set(e, ENAMETOOLONG, "log path too long");
        fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK, 0640);
        if (fd < 0)
                return vl_error_set(e, errno, "cannot open '%s': %s", path, strerror(errno));
        (void) strftime(stamp, sizeof(stamp), "%Y-%m-%d %H:%M:%S", localtime(&now));
        dprintf(fd, "---- %s vfio-launch %s: starting %s\n", stamp, VL_VERSION, name);
        return fd;
}

int launch_open(struct launch *l, struct vl_error *e, struct vl_warnings *w)
{
        const char *run = l->host->roots->run, *name = l->p->name;
        char monitor[256];
        int r;

        ensure_log(l, w);
        if (l->tpm && socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, l->tpm_fds) < 0)
                return vl_error_set(e, errno, "socketpair for the TPM: %s", strerror(errno));

        if (rundir_path(monitor, sizeof(monitor), run, name, RUNDIR_MONITOR_SOCKET) < 0 ||
            rundir_path(l->qmp_user_path, sizeof(l->qmp_user_path), run, name, RUNDIR_QMP_SOCKET) < 0 ||
            rundir_path(l->control_path, sizeof(l->control_path), run, name, RUNDIR_CONTROL_SOCKET) < 0)
                return vl_error_set(e, ENAMETOOLONG, "run directory path too long");
        r = sup_qmp_open(monitor, &l->qmp_listener, &l->qmp_client, e);
        if (r < 0)
                return r;
        l->qmp_user_listener = unix_listen(l->qmp_user_path, SOCK_STREAM, 1, e);
        return l->qmp_user_listener < 0 ? l->qmp_user_listener : 0;
}

/* ---- the supervisor's hooks -------------------------------------------- */

static void on_started(void *userdata, struct sup *s, pid_t pid)
{
        struct launch *l = userdata;
        struct vl_error e = {};

        /* So that `recover` after a crash of ours knows to wait for it. */
        if (journal_set_qemu(l->host->roots, l->p->name, pid, &e) < 0 && e.err != ENOENT)
                sup_log(s, "warning: cannot record QEMU's pid in the journal: %s, ignoring", e.msg);
}

/* Between prelaunch and `cont`: the guest never runs unplaced. */
static int before_cont(void *userdata, struct qmp *q, pid_t pid, struct vl_error *e)
{
        struct launch *l = userdata;

        return pin_apply(l->p, q, pid, l->host->roots->proc, e);
}

static void on_hotplug(void *userdata, struct sup *s, const char *request, char *reply, size_t size)
{
        struct launch *l = userdata;

        if (strncmp(request, "usb ", 4) == 0)
                hotplug_usb_request(&l->usb_hotplug, s, request, reply, size);
        else if (l->hotplug_ready)
                hotplug_request(&l->hotplug, s, request, reply, size);
        else
                (void) snprintf(reply, size, "error: live detach and attach of hostdevs are not available for "
                                             "this VM");
        /* Also in the VM's own output: a record of what happened to its devices. */
        sup_log(s, "%s: %s", request, reply);
}

static void on_device_deleted(void *userdata, struct sup *s, const char *id)
{
        struct launch *l = userdata;

        hotplug_usb_device_deleted(&l->usb_hotplug, id);
        if (l->hotplug_ready)
                hotplug_device_deleted(&l->hotplug, s, id);
}

static void on_idle(void *userdata, struct sup *s)
{
        struct launch *l = userdata;
        char msg[1024];

        if (hotplug_idle(&l->hotplug, s, msg, sizeof(msg)) != 0)
                sup_log(s, "a pending detach completed: %s", msg);
}

/* The profile's cpu.pin, one cpulist per vCPU, so that `top` can say
 * whether each vCPU runs where the profile put it: the running VM is the
 * one that knows its profile. Left out whole when it does not fit: a cut
 * member would break the reply's JSON. */
static void status_pin(const struct profile *p, char *buf, size_t size)
{
        char list[1024], one[64];
        size_t n = strlen(buf), len;

        if (!p->cpu.pinned)
                return;
        len = (size_t) snprintf(list, sizeof(list), "%s\"pin\":[", n ? "," : "");
        for (unsigned i = 0; i < p->cpu.n_pin; i++) {
                if (cpuset_format(&p->cpu.pin[i], one, sizeof(one)) < 0 ||
                    len + strlen(one) + 4 >= sizeof(list))
                        return;
                len += (size_t) snprintf(list + len, sizeof(list) - len, "%s\"%s\"", i ? "," : "", one);
        }
        if (len + 2 > sizeof(list) || n + len + 2 > size)
                return;
        (void) snprintf(buf + n, size - n, "%s]", list);
}

static void status_extra(void *userdata, char *buf, size_t size)
{
        struct launch *l = userdata;
        size_t n;

        buf[0] = '\0';
        if (l->hotplug_ready)
                hotplug_describe(&l->hotplug, buf, size);
        hotplug_usb_describe(&l->usb_hotplug, buf, size);
        /* Arguments the launcher passed unchecked: whatever the VM does, the
         * launcher cannot vouch for it (libvirt's "custom-argv" taint). */
        n = strlen(buf);
        if (l->p->n_qemu_args)
                (void) snprintf(buf + n, size - n, "%s\"tainted\":[\"qemu_args\"]", n ? "," : "");
        status_pin(l->p, buf, size);
}

int launch_supervise(struct launch *l, const struct qemu_cmd *cmd, const char *ready_detail,
                     struct sup_result *ret, struct vl_error *e)
{
        const bool hp = l->hotplug_ready, usb = l->usb_hotplug.p && l->p->usb.n_devices > 0;
        static char *const swtpm_env[] = { (char *) SWTPM_ENV_PATH, NULL };
        struct sup_config c = {
                .name = l->p->name,
                .qemu_path = cmd->argv[0],
                .argv = cmd->argv,
                .envp = cmd->env,
                .sandbox = sandbox_for(l),
                .qmp_client = l->qmp_client,
                .user_qmp_path = l->qmp_user_path,
                .control_path = l->control_path,
                .shutdown_timeout_s = l->p->shutdown_timeout_s,
                .powerdown_repeat_ms = l->p->powerdown_repeat_s * 1000u,
                .start_timeout_ms = 60000,
                .quit_timeout_ms = 5000,
                .ready_detail = ready_detail,
                .userdata = l,
                .on_started = on_started,
                .before_cont = before_cont,
                .hotplug = hp || usb ? on_hotplug : NULL,
                .on_device_deleted = hp || usb ? on_device_deleted : NULL,
                .on_idle = hp ? on_idle : NULL,
                .status_extra = status_extra,
        };
        int r;

        /* VFIO pins all guest RAM; libvirt's allowance: RAM + 1 GiB. */
        c.sandbox.memlock_bytes = l->p->n_hostdevs ? (l->p->memory_mib + 1024) << 20 : 0;
        if (l->tpm) {
                /* swtpm: the same sandbox, its end of the pair as fd 3. */
                c.helper = (struct sup_helper) {
                        .name = "swtpm", .path = l->tpm->cmd.argv[0], .argv = l->tpm->cmd.argv,
                        .envp = swtpm_env, .sandbox = sandbox_for(l),
                };
                c.helper.sandbox.n_fds = 1;
                c.helper.sandbox.fds[SWTPM_CTRL_FD - 3] = l->tpm_fds[1];
        }
        /* Each fd at the number the command line gives it. */
        r = qemu_fd_layout_place(&l->rt->fds, l->qmp_listener, l->qmp_user_listener, l->nic_fds, l->vhost_fds,
                                 l->tpm_fds[0], l->usb_fds, c.sandbox.fds);
        if (r < 0) {
                memset(ret, 0, sizeof(*ret));
                ret->outcome = SUP_START_FAILED;
                return vl_error_set(e, EBADF, "an fd the command line names is not open");
        }
        c.sandbox.n_fds = (unsigned) r;
        /* sup_run() takes them all. */
        l->qmp_client = l->qmp_listener = l->qmp_user_listener = -1;
        l->tpm_fds[0] = l->tpm_fds[1] = -1;
        for (unsigned i = 0; i < PROFILE_NICS_MAX; i++)
                l->nic_fds[i] = l->vhost_fds[i] = -1;
        for (unsigned i = 0; i < PROFILE_USB_DEVICES_MAX; i++)
                l->usb_fds[i] = -1;
        return sup_run(&c, ret, e);
}

int launch_undo(struct launch *l, struct vl_error *e, struct vl_warnings *w)
{
        int r;

        /* QEMU is gone: its links can go, and a tap goes with its last fd. */
        net_close_fds(l->nic_fds, PROFILE_NICS_MAX);
        net_close_fds(l->vhost_fds, PROFILE_NICS_MAX);
        net_close_fds(l->usb_fds, PROFILE_USB_DEVICES_MAX);
        if (!l->changed)
                return 0;
        r = host_undo(l->host, l->p->name, e, w);
        if (r >= 0)
                l->changed = false;
        return r;
}

void launch_done(struct launch *l)
{
        if (!l->p)
                return; /* never started: launch_init() was not reached */
        if (l->changed) {
                struct vl_error ignored;
                /* A path that skipped launch_undo(): give back anyway; what
                 * fails stays in the journal for `recover`. */
                (void) launch_undo(l, &ignored, NULL);
        }
        net_close_fds(l->nic_fds, PROFILE_NICS_MAX);
        net_close_fds(l->vhost_fds, PROFILE_NICS_MAX);
        net_close_fds(l->usb_fds, PROFILE_USB_DEVICES_MAX);
        l->qmp_listener = safe_close(l->qmp_listener);
        l->qmp_client = safe_close(l->qmp_client);
        l->qmp_user_listener = safe_close(l->qmp_user_listener);
        l->tpm_fds[0] = safe_close(l->tpm_fds[0]);
        l->tpm_fds[1] = safe_close(l->tpm_fds[1]);
        if (l->qmp_user_path[0])
                (void) unlink(l->qmp_user_path);
        l->log_fd = safe_close(l->log_fd);
        bind_plan_free(TAKE_PTR(l->plan));
        free(TAKE_PTR(l->handover));
        if (l->lock >= 0)
                rundir_unlock(l->host->roots->run, l->p->name, TAKE_FD(l->lock));
}
