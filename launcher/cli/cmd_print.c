/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * `vfio-launch print PROFILE`: the dry run. Shows what a run would do — the
 * firmware and VARS choice, the run-as user, the device plan, the
 * environment and the QEMU command line (one argument per line, shell-quoted,
 * ready to paste) — and changes nothing. Needs no root.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "host/bind.h"
#include "cli/cli.h"
#include "cli/cli_prepare.h"
#include "host/blockdev.h"
#include "host/handover.h"
#include "host/hugepages.h"
#include "host/net.h"
#include "host/input.h"
#include "host/usb.h"
#include "host/shmem.h"
#include "host/tpm.h"

static void help(void)
{
        printf("Usage: vfio-launch print [--args-only] PROFILE\n"
               "\n"
               "Show what 'vfio-launch PROFILE' would do, without doing it: the firmware\n"
               "and VARS file, the user QEMU runs as, what happens to each PCI device,\n"
               "the environment and the QEMU command line. Changes nothing; no root needed.\n"
               "\n"
               "  --args-only  print only the command line, one argument per line\n");
}

/* The devices: what a run would do to each, or why it would refuse. Read
 * only (sysfs, /proc, the journals). */
static void print_plan(const struct cli_prepared *c)
{
        _cleanup_bind_plan_ struct bind_plan *plan = NULL;
        _cleanup_free_ char *text = NULL;
        struct vl_error err = {};
        char line[1200];

        if (c->p->n_hostdevs == 0) {
                printf("# devices: none passed through\n");
                return;
        }
        if (bind_plan_new(&c->hostenv.bind, c->p, &plan, &err) < 0) {
                vl_error_format(&err, line, sizeof(line));
                printf("# devices: a run would refuse: %s\n", line);
                return;
        }
        cli_print_warnings(&plan->warnings);
        text = bind_plan_format(plan);
        if (!text)
                return;
        printf("# devices:\n");
        for (char *l = text, *nl; *l; l = nl) {
                nl = strchr(l, '\n');
                nl = nl ? nl + 1 : l + strlen(l);
                printf("#   %.*s", (int) (nl - l), l);
        }
        if (text[0] && text[strlen(text) - 1] != '\n')
                putchar('\n');
}

/* With host_handover: what a run would take from the host before the
 * devices move, in order, and what it would leave because it is not there.
 * Read only (sysfs; each unit's state from systemd). */
static void print_handover(const struct cli_prepared *c)
{
        _cleanup_free_ struct handover_plan *plan = NULL;
        struct vl_error err = {};
        char line[1200];

        if (!c->p->host_handover.enabled)
                return;
        plan = calloc(1, sizeof(*plan));
        if (!plan)
                return;
        if (handover_plan(&c->hostenv.handover, c->p, plan, &err) < 0) {
                vl_error_format(&err, line, sizeof(line));
                printf("# host hand-over: a run would refuse: %s\n", line);
                return;
        }
        printf("# host hand-over (before the devices move; given back in reverse after them):\n");
        if (plan->n == 0)
                printf("#   nothing to take: no listed unit, console, framebuffer or module is there now\n");
        for (unsigned i = 0; i < plan->n; i++) {
                handover_step_describe(&plan->steps[i], line, sizeof(line));
                printf("#   %s\n", line);
        }
}

/* Where the guest's RAM comes from and whether a run would get it: the
 * hugetlbfs mount check and the pool, read only. */
static void print_memory(const struct cli_prepared *c)
{
        const struct profile_hugepages *h = &c->p->hugepages;
        const char *size = profile_hugepage_size_name(h->size);
        struct hugepages_plan plan;
        struct vl_error err = {};
        char line[1200];

        if (!h->enabled) {
                printf("# memory: %llu MiB\n", (unsigned long long) c->p->memory_mib);
                return;
        }
        printf("# memory: %llu MiB on %s hugepages in %s (QEMU's mem-path; prealloc %s)\n",
               (unsigned long long) c->p->memory_mib, size, c->rt.mem_path, h->prealloc ? "on" : "off");
        if (hugepages_plan(&c->hostenv.hugepages, c->p, &plan, &err) < 0) {
                vl_error_format(&err, line, sizeof(line));
                printf("# hugepages: a run would refuse: %s\n", line);
                return;
        }
        printf("# hugepages: %llu needed, %llu available in the %s pool (nr_hugepages %llu)%s",
               (unsigned long long) plan.needed, (unsigned long long) plan.available, size,
               (unsigned long long) plan.pool.nr, plan.missing ? "" : "\n");
        if (plan.missing)
                printf(": a run would add %llu for itself (reserve) and give them back after\n",
                       (unsigned long long) plan.missing);
}

/* The TPM: its state folder as a run would find it, read only. */
static void print_tpm(const struct cli_prepared *c)
{
        struct vl_error err = {};
        char line[1200];
        int r;

        if (!c->p->tpm.enabled)
                return;
        if (!c->tpm.state[0]) {
                printf("# TPM: %s on swtpm", c->p->tpm.model == TPM_MODEL_TIS ? "tpm-tis" : "tpm-crb");
                printf(" (see the warning above)\n");
                return;
        }
        printf("# TPM: %s on swtpm, state in %s", c->p->tpm.model == TPM_MODEL_TIS ? "tpm-tis" : "tpm-crb",
               c->tpm.state);
        r = tpm_state_check(c->tpm.state_dir, c->p->name, c->user.uid, &err);
        if (r > 0)
                printf(" (exists: used as is, never replaced)\n");
        else if (r == 0)
                printf(" (will be manufactured at the first start: %s as %s)\n", c->tpm.tools.swtpm_setup,
                       c->user.name);
        else {
                vl_error_format(&err, line, sizeof(line));
                printf("\n# TPM state: a run would refuse: %s\n", line);
        }
}

/* The shared memory files: where, how big, whose, and what a run would do
 * with each (shmem_plan(): read only, nothing is created). */
static void print_shmem(const struct cli_prepared *c)
{
        struct shmem_plan plan;
        struct vl_error err = {};
        char line[1200];

        if (!c->p->n_shmem)
                return;
        if (c->user.uid == (uid_t) -1 || shmem_plan(&c->roots, c->p, &c->user, &plan, &err) < 0) {
                for (unsigned i = 0; i < c->p->n_shmem; i++)
                        printf("# shmem[%u]: %s, %llu MiB (ivshmem-plain)\n", i, c->rt.shmem_path[i],
                               (unsigned long long) c->p->shmem[i].size_mib);
                if (c->user.uid != (uid_t) -1) {
                        vl_error_format(&err, line, sizeof(line));
                        printf("# shmem: a run would refuse: %s\n", line);
                }
                return;
        }
        for (unsigned i = 0; i < plan.n; i++) {
                const struct shmem_item *it = &plan.item[i];
                const struct profile_shmem *s = &c->p->shmem[i];

                printf("# shmem[%u]: %s, %llu MiB%s (ivshmem-plain), owner %s:%s mode %04o: %s\n", i, it->path,
                       (unsigned long long) s->size_mib, s->size_auto ? " (auto for the resolution)" : "", it->owner,
                       it->group, (unsigned) it->mode,
                       it->action == SHMEM_KVMFR    ? "the kvmfr module's, handed over for the run"
                       : it->action == SHMEM_REUSE ? (s->keep ? "kept from an earlier run: reused, kept after"
                                                               : "kept from an earlier run: reused, removed after")
                       : s->keep                   ? "created at the start, kept after"
                                                   : "created at the start, removed after");
        }
}

/* The host links a run would create, by the names `ip link` will show. */
static void print_network(const struct cli_prepared *c)
{
        for (unsigned i = 0; i < c->p->n_nics; i++) {
                const struct profile_nic *n = &c->p->nics[i];
                char link[IFNAMSIZ];

                /* Which virtio-net a virtio NIC gets, and why not the kernel's. */
                if (strcmp(n->model, "virtio-net-pci") == 0) {
                        if (c->rt.fds.vhost[i] >= 0)
                                printf("# nics[%u]: vhost-net (/dev/vhost-net as fd %d)\n", i, c->rt.fds.vhost[i]);
                        else
                                printf("# nics[%u]: userspace virtio-net (%s)\n", i, c->rt.vhost_off[i]);
                }
                if (n->backend == NIC_USER || net_link_name(c->p->name, i, link, sizeof(link)) < 0)
                        continue;
                if (n->backend == NIC_MACVTAP)
                        printf("# nics[%u]: macvtap %s on %s, mode %s\n", i, link, n->dev,
                               profile_macvtap_mode_name(n->mode));
                else
                        printf("# nics[%u]: tap %s on bridge %s\n", i, link, n->bridge);
        }
}

/* The I/O threads with their CPUs, and the block devices a run hands to
 * QEMU's user: what the host loses for the run, and whether it may. */
static void print_disks(const struct cli_prepared *c)
{
        const struct profile *p = c->p;
        char list[256], line[1200];

        for (unsigned t = 0; t < p->n_iothreads; t++) {
                unsigned users = 0;

                for (unsigned i = 0; i < p->n_disks; i++)
                        users += p->disks[i].has_iothread && p->disks[i].iothread == t;
                if (p->iothreads[t].pinned)
                        (void) cpuset_format(&p->iothreads[t].pin, list, sizeof(list));
                printf("# iothreads[%u]: iothread%u, %u disk(s), %s%s%s\n", t, t, users,
                       p->iothreads[t].pinned ? "pinned to host CPUs " : "",
                       p->iothreads[t].pinned ? list : "",
                       p->iothreads[t].pinned       ? " before the guest runs"
                       : p->cpu.emulator_pinned ? "with QEMU's other threads (cpu.emulator_pin)"
                                                : "not pinned");
        }
        for (unsigned i = 0; i < p->n_disks; i++) {
                struct blockdev_node n;
                struct vl_error err = {};
                char jpath[64];
                int r;

                if (!c->rt.disk_node[i][0])
                        continue;
                (void) snprintf(jpath, sizeof(jpath), "$.disks[%u].path", i);
                r = blockdev_inspect(&c->roots, p->disks[i].path, jpath, &n, &err);
                if (r > 0)
                        r = blockdev_check_unused(&c->roots, &n, jpath, &err);
                if (r < 0) {
                        vl_error_format(&err, line, sizeof(line));
                        printf("# disks[%u]: a run would refuse: %s\n", i, line);
                        continue;
                }
                printf("# disks[%u]: block device %s (%u:%u, owner now %u:%u, mode %04o): handed to %s for the run, "
                       "given back after (journaled)\n",
                       i, c->rt.disk_node[i], major(n.rdev), minor(n.rdev), (unsigned) n.uid, (unsigned) n.gid,
                       (unsigned) n.mode, c->user.name);
        }
}

/* Each input: a virtio device, or an evdev node and its hand-over as a
 * run would make it (input_inspect(): read only). */
static void print_inputs(const struct cli_prepared *c)
{
        const struct profile *p = c->p;
        char line[1200];

        for (unsigned i = 0; i < p->n_inputs; i++) {
                const struct profile_input *in = &p->inputs[i];
                struct input_node n;
                struct vl_error err = {};
                char jpath[64];

                if (in->type != INPUT_EVDEV) {
                        printf("# inputs[%u]: %s-pci (" PROFILE_ID_INPUT_PREFIX "%u)\n", i,
                               profile_input_type_name(in->type), i);
                        continue;
                }
                (void) snprintf(jpath, sizeof(jpath), "$.inputs[%u].evdev", i);
                if (input_inspect(&c->roots, in->evdev, jpath, &n, &err) < 0) {
                        vl_error_format(&err, line, sizeof(line));
                        printf("# inputs[%u]: evdev %s: a run would refuse: %s\n", i, in->evdev, line);
                        continue;
                }
                printf("# inputs[%u]: evdev %s -> %s (%u:%u, owner now %u:%u, mode %04o), grab-toggle %s%s%s: "
                       "handed to %s for the run, given back after (journaled)\n",
                       i, in->evdev, n.node, major(n.rdev), minor(n.rdev), (unsigned) n.uid, (unsigned) n.gid,
                       (unsigned) n.mode,
                       in->grab_toggle == GRAB_TOGGLE_DEFAULT ? "ctrl-ctrl (QEMU's default)"
                                                              : profile_grab_toggle_name(in->grab_toggle),
                       in->grab_all ? ", grab_all" : "", in->repeat ? ", repeat" : "", c->user.name);
        }
}

/* Each host USB device: the device it finds now and its hand-over as a run
 * would make it (usb_find(): read only), or why a run would refuse it or
 * go without it. */
static void print_usb(const struct cli_prepared *c)
{
        const struct profile *p = c->p;
        char line[1200], what[PROFILE_USB_SERIAL_MAX + 64];

        for (unsigned i = 0; i < p->usb.n_devices; i++) {
                const struct profile_usb_device *d = &p->usb.devices[i];
                struct vl_error err = {};
                struct usb_node n;
                struct stat st;
                char jpath[64];
                int r;

                profile_usb_device_describe(d, what, sizeof(what));
                (void) snprintf(jpath, sizeof(jpath), "$.usb.devices[%u]", i);
                r = usb_find(&c->roots, d, jpath, &n, &err);
                if (r < 0) {
                        vl_error_format(&err, line, sizeof(line));
                        printf("# usb.devices[%u]: %s: %s\n", i,
                               r == -ENOENT && d->optional ? "the VM runs without it" : "a run would refuse",
                               line);
                        continue;
                }
                if (stat(n.node, &st) < 0)
                        st = (struct stat) {};
                printf("# usb.devices[%u]: %s -> %s (%04x:%04x) %s (owner now %u:%u, mode %04o): usb-host "
                       PROFILE_ID_USB_HOST_PREFIX "%u on fd set %u, handed to %s for the run, given back after "
                       "(journaled)\n",
                       i, what, n.sysname, n.vendor, n.product, n.node, (unsigned) st.st_uid,
                       (unsigned) st.st_gid, (unsigned) (st.st_mode & 07777), i, QEMU_USB_FDSET(i), c->user.name);
        }
}

/* What the command line does not say plainly: where SMBIOS strings come
 * from, and which arguments nobody checked. */
static void print_platform(const struct cli_prepared *c)
{
        unsigned n = 0;

        if (c->p->os != OS_NONE) {
                printf("# os: %s; the preset set what the profile leaves out:%s\n", profile_os_name(c->p->os),
                       c->p->n_preset_set ? "" : " nothing");
                for (unsigned i = 0; i < c->p->n_preset_set; i++)
                        printf("#   %s\n", c->p->preset_set[i]);
        }
        if (c->p->smbios.mode == SMBIOS_HOST) {
                for (unsigned f = 0; f < SMBIOS_FIELDS_N; f++)
                        n += c->rt.smbios_host.field[f][0] != '\0';
                printf("# SMBIOS: the host's, %u strings read from %s/class/dmi/id now (a run reads them again)\n",
                       n, c->roots.sysfs);
        }
        if (c->p->n_qemu_args)
                printf("# qemu_args: the last %u arguments below are the profile's, unchecked (the VM counts as "
                       "tainted)\n",
                       c->p->n_qemu_args);
}

enum { OPT_HOST_ROOT = 0x100 };

struct print_opts {
        bool args_only;
        const char *host_root;
};

static int on_option(int key, const char *arg, void *userdata)
{
        struct print_opts *o = userdata;

        if (key == 'a')
                o->args_only = true;
        else if (key == OPT_HOST_ROOT)
                o->host_root = arg;
        return 0;
}

int cmd_print(int argc, char **argv)
{
        static const struct cli_option options[] = {
                { "args-only", 'a', false },
                /* For the tests: a fake host, ROOT/{sys,proc,dev} (tests/fakesys's
                 * layout), as `init --host-root` reads it. Read only. */
                { "host-root", OPT_HOST_ROOT, true },
                {},
        };
        static const struct cli_command cmd = {
                .name = "print", .help = help, .options = options, .min_operands = 1, .max_operands = 1,
                .operands = "one PROFILE argument",
        };
        struct cli_prepared c;
        struct print_opts o = {};
        struct cli_host_root hr;
        bool args_only;
        int first, r;

        r = cli_parse(&cmd, argc, argv, on_option, &o, &first);
        if (r != CLI_PARSED)
                return r;
        args_only = o.args_only;
        r = cli_host_root_init(&hr, o.host_root);
        if (r != EXIT_OK)
                return r;
        r = cli_prepare_at(argv[first], true, &hr.roots, &c);
        if (r != EXIT_OK) {
                cli_prepared_done(&c);
                return r;
        }
        cli_print_warnings(&c.warn);

        if (args_only) {
                for (size_t i = 0; i < c.cmd->n_argv; i++)
                        printf("%s\n", c.cmd->argv[i]);
                cli_prepared_done(&c);
                return EXIT_OK;
        }

        printf("# vfio-launch %s: VM \"%s\" from %s\n", VL_VERSION, c.p->name, c.p->source);
        printf("# QEMU: %s (%u.%u.%u)\n", c.host.qemu_path, c.host.version.major,
               c.host.version.minor, c.host.version.micro);
        if (c.p->firmware.type == FIRMWARE_BIOS)
                printf("# firmware: SeaBIOS (QEMU's default BIOS)\n");
        else {
                printf("# firmware: %s%s%s\n", c.fc.code,
                       c.fc.descriptor[0] ? " from descriptor " : " (set in the profile)",
                       c.fc.descriptor);
                printf("# VARS: %s (%s)\n", c.rt.firmware.vars,
                       access(c.rt.firmware.vars, F_OK) == 0
                               ? "exists: used as is, never overwritten"
                               : "will be copied from the template at the first start");
                if (c.fc.vars_template[0])
                        printf("# VARS template: %s\n", c.fc.vars_template);
                printf("# secure boot: %s\n", c.p->firmware.secure_boot ? "on" : "off");
        }
        if (c.user.uid == (uid_t) -1)
                printf("# QEMU runs as: (unresolved, see the warning above)\n");
        else
                printf("# QEMU runs as: %s (uid %u, gid %u)\n", c.user.name,
                       (unsigned) c.user.uid, (unsigned) c.user.gid);
        if (c.p->display.type == DISPLAY_SPICE)
                printf("# SPICE: %s:%u%s\n",
                       c.p->display.listen[0] ? c.p->display.listen : "127.0.0.1",
                       c.rt.spice_port, c.p->display.port ? "" : " (autoport: free right now)");

        print_memory(&c);
        print_tpm(&c);
        print_shmem(&c);
        print_inputs(&c);
        print_usb(&c);
        print_network(&c);
        print_disks(&c);
        print_handover(&c);
        print_plan(&c);
        print_platform(&c);

        printf("\n# environment\n");
        for (size_t i = 0; i < c.cmd->n_env; i++) {
                cli_print_shell_word(c.cmd->env[i]);
                putchar('\n');
        }
        printf("\n# command line\n");
        for (size_t i = 0; i < c.cmd->n_argv; i++) {
                cli_print_shell_word(c.cmd->argv[i]);
                fputs(i + 1 < c.cmd->n_argv ? " \\\n" : "\n", stdout);
        }
        if (c.p->tpm.enabled && c.tpm.cmd.argc) {
                printf("\n# swtpm command line (started before QEMU, as the same user, in the same sandbox;\n"
                       "# fd %d is its end of a socket pair whose other end QEMU has as fd %d)\n",
                       SWTPM_CTRL_FD, c.rt.fds.tpm);
                for (unsigned i = 0; i < c.tpm.cmd.argc; i++) {
                        cli_print_shell_word(c.tpm.cmd.argv[i]);
                        fputs(i + 1 < c.tpm.cmd.argc ? " \\\n" : "\n", stdout);
                }
        }
        cli_prepared_done(&c);
        return EXIT_OK;
}
