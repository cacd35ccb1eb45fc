/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * profile + hostinfo + runtime -> QEMU argv + env. PURE: no I/O, no globals,
 * no getenv; only malloc. See qemu_argv.h for the layout rules.
 *
 * This file holds the entry point and the machine itself (firmware, CPU,
 * memory, monitors); the PCIe layout and the hostdevs are in qemu_layout.c,
 * the other devices in qemu_devices.c, clocks, SMBIOS, watchdog and
 * "qemu_args" in qemu_platform.c, and the option strings and vectors
 * they all append to in qemu_argv_opt.c (declared in qemu_builder.h).
 *
 * Every option value that comes from the user (paths, ids, models, vendor
 * id, listen address) goes through qa_opt_kv_esc(), which doubles commas as
 * QEMU's QemuOpts and keyval parsers require; values the builder makes up
 * (numbers, our own ids) are written as they are.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qemu/qemu_builder.h"

#define QEMU_ENV_PATH "/usr/local/bin:/usr/bin:/bin"
#define RAM_BACKEND_ID "pc.ram"  /* libvirt's id for the machine's RAM backend */

/* ---- helpers -------------------------------------------------------------------------- */

void qemu_runtime_init(struct qemu_runtime *rt)
{
        memset(rt, 0, sizeof(*rt));
        rt->fds.qmp = rt->fds.qmp_user = rt->fds.tpm = -1;
        for (size_t i = 0; i < ELEMENTSOF(rt->fds.nic); i++)
                rt->fds.nic[i] = rt->fds.vhost[i] = -1;
}

void qemu_fd_layout_init(struct qemu_fd_layout *l, const struct profile *p, bool qmp_user,
                         const bool vhost[PROFILE_NICS_MAX], const bool usb[PROFILE_USB_DEVICES_MAX])
{
        int fd = QEMU_FD_FIRST;

        l->qmp = fd++;
        l->qmp_user = qmp_user ? fd++ : -1;
        for (unsigned i = 0; i < ELEMENTSOF(l->nic); i++) {
                l->nic[i] = i < p->n_nics && p->nics[i].backend != NIC_USER ? fd++ : -1;
                l->vhost[i] = l->nic[i] >= 0 && vhost && vhost[i] ? fd++ : -1;
        }
        l->tpm = p->tpm.enabled ? fd++ : -1;
        for (unsigned i = 0; i < ELEMENTSOF(l->usb); i++)
                l->usb[i] = i < p->usb.n_devices && usb && usb[i] ? fd++ : -1;
        l->n = (unsigned) (fd - QEMU_FD_FIRST);
}

static int place(const struct qemu_fd_layout *l, int number, int fd, int out[QEMU_FDS_MAX])
{
        if (number < 0)
                return 0;
        if (fd < 0 || number < QEMU_FD_FIRST || number >= QEMU_FD_FIRST + (int) l->n)
                return -EBADF;
        out[number - QEMU_FD_FIRST] = fd;
        return 0;
}

int qemu_fd_layout_place(const struct qemu_fd_layout *l, int qmp, int qmp_user,
                         const int nic_fds[PROFILE_NICS_MAX], const int vhost_fds[PROFILE_NICS_MAX], int tpm,
                         const int usb_fds[PROFILE_USB_DEVICES_MAX], int out[QEMU_FDS_MAX])
{
        int r;

        if (l->n > QEMU_FDS_MAX)
                return -EBADF;
        for (unsigned i = 0; i < l->n; i++)
                out[i] = -1;
        r = place(l, l->qmp, qmp, out);
        if (r >= 0)
                r = place(l, l->qmp_user, qmp_user, out);
        for (unsigned i = 0; r >= 0 && i < PROFILE_NICS_MAX; i++) {
                r = place(l, l->nic[i], nic_fds[i], out);
                if (r >= 0)
                        r = place(l, l->vhost[i], vhost_fds ? vhost_fds[i] : -1, out);
        }
        if (r >= 0)
                r = place(l, l->tpm, tpm, out);
        for (unsigned i = 0; r >= 0 && i < PROFILE_USB_DEVICES_MAX; i++)
                r = place(l, l->usb[i], usb_fds ? usb_fds[i] : -1, out);
        for (unsigned i = 0; r >= 0 && i < l->n; i++)
                if (out[i] < 0)
                        r = -EBADF; /* a number no fd was given for */
        return r < 0 ? r : (int) l->n;
}

void qemu_cmd_free(struct qemu_cmd *c)
{
        if (!c)
                return;
        for (size_t i = 0; i < c->n_argv; i++)
                free(c->argv[i]);
        for (size_t i = 0; i < c->n_env; i++)
                free(c->env[i]);
        free(c->argv);
        free(c->env);
        free(c);
}

int qemu_argv_escape(char *buf, size_t size, const char *s)
{
        size_t len = strnlen(buf, size), start = len;

        for (; *s; s++) {
                size_t need = *s == ',' ? 2 : 1;
                if (len + need >= size) {
                        buf[start] = '\0';
                        return -ENAMETOOLONG;
                }
                buf[len++] = *s;
                if (*s == ',')
                        buf[len++] = ',';
        }
        buf[len] = '\0';
        return 0;
}

/* ---- sections ------------------------------------------------------------------------- */

static int emit_firmware_blockdevs(struct builder *b, const struct qemu_runtime *rt,
                                   struct vl_error *e)
{
        const char *cf = rt->firmware.code_format[0] ? rt->firmware.code_format : "raw";
        const char *vf = rt->firmware.vars_format[0] ? rt->firmware.vars_format : "raw";
        struct opt o;

        if (!rt->firmware.code[0] || !rt->firmware.vars[0])
                return vl_error_set_at(e, EINVAL, NULL, 0, 0, "$.firmware",
                                       "UEFI firmware needs a code and a VARS file (none resolved)");
        if ((strcmp(cf, "raw") && strcmp(cf, "qcow2")) || (strcmp(vf, "raw") && strcmp(vf, "qcow2")))
                return vl_error_set_at(e, EINVAL, NULL, 0, 0, "$.firmware",
                                       "firmware format must be raw or qcow2");
        /* -blockdev + -machine pflashN= (QEMU >= 4.0), the way libvirt wires
         * pflash: a file node and a format node per flash; -drive if=pflash
         * would parse "file=" prefixes and needs more escaping. */
        qa_opt_begin(b, &o, NULL);
        qa_opt_kv(b, &o, "driver", "file");
        qa_opt_kv_esc(b, &o, "filename", rt->firmware.code);
        qa_opt_kv(b, &o, "node-name", "pflash0-storage");
        qa_opt_kv(b, &o, "read-only", "on");
        qa_arg_opt(b, "-blockdev", &o);
        qa_opt_begin(b, &o, NULL);
        qa_opt_kv(b, &o, "driver", "%s", cf);
        qa_opt_kv(b, &o, "file", "pflash0-storage");
        qa_opt_kv(b, &o, "node-name", "pflash0-format");
        qa_opt_kv(b, &o, "read-only", "on");
        qa_arg_opt(b, "-blockdev", &o);
        qa_opt_begin(b, &o, NULL);
        qa_opt_kv(b, &o, "driver", "file");
        qa_opt_kv_esc(b, &o, "filename", rt->firmware.vars);
        qa_opt_kv(b, &o, "node-name", "pflash1-storage");
        qa_arg_opt(b, "-blockdev", &o);
        qa_opt_begin(b, &o, NULL);
        qa_opt_kv(b, &o, "driver", "%s", vf);
        qa_opt_kv(b, &o, "file", "pflash1-storage");
        qa_opt_kv(b, &o, "node-name", "pflash1-format");
        qa_arg_opt(b, "-blockdev", &o);
        return 0;
}

/* A QMP monitor on an inherited, already listening socket. */
static void emit_monitor(struct builder *b, const char *id, int fd)
{
        struct opt o;

        qa_opt_begin(b, &o, "socket");
        qa_opt_kv(b, &o, "id", "%s", id);
        qa_opt_kv(b, &o, "fd", "%d", fd);
        qa_opt_kv(b, &o, "server", "on");
        qa_opt_kv(b, &o, "wait", "off");
        qa_arg_opt(b, "-chardev", &o);
        qa_opt_begin(b, &o, NULL);
        qa_opt_kv(b, &o, "chardev", "%s", id);
        qa_opt_kv(b, &o, "mode", "control");
        qa_arg_opt(b, "-mon", &o);
}

/* hv-NAME=on for each enlightenment set, in libvirt's order
 * (qemuBuildCpuCommandLine: hv-time from the clock, then the <hyperv>
 * features in their enum order, sub-features after theirs). */
static void emit_hyperv(struct builder *b, struct opt *o, const struct profile_hyperv *hv)
{
        const struct {
                bool on;
                const char *name;
        } flags[] = {
                { hv->time, "hv-time" },
                { hv->relaxed, "hv-relaxed" },
                { hv->vapic, "hv-vapic" },
        }, after_spinlocks[] = {
                { hv->vpindex, "hv-vpindex" },
                { hv->runtime, "hv-runtime" },
                { hv->synic, "hv-synic" },
                { hv->stimer, "hv-stimer" },
                { hv->stimer_direct, "hv-stimer-direct" },
                { hv->reset, "hv-reset" },
        }, after_vendor[] = {
                { hv->frequencies, "hv-frequencies" },
                { hv->reenlightenment, "hv-reenlightenment" },
                { hv->tlbflush, "hv-tlbflush" },
                { hv->tlbflush_direct, "hv-tlbflush-direct" },
                { hv->tlbflush_ext, "hv-tlbflush-ext" },
                { hv->ipi, "hv-ipi" },
                { hv->evmcs, "hv-evmcs" },
                { hv->avic, "hv-avic" },
                { hv->emsr_bitmap, "hv-emsr-bitmap" },
                { hv->xmm_input, "hv-xmm-input" },
        };

        if (hv->passthrough) {
                qa_opt_kv(b, o, "hv-passthrough", "on");
                return;
        }
        for (size_t i = 0; i < ELEMENTSOF(flags); i++)
                if (flags[i].on)
                        qa_opt_kv(b, o, flags[i].name, "on");
        if (hv->spinlocks)
                qa_opt_kv(b, o, "hv-spinlocks", "0x%x", hv->spinlocks);
        for (size_t i = 0; i < ELEMENTSOF(after_spinlocks); i++)
                if (after_spinlocks[i].on)
                        qa_opt_kv(b, o, after_spinlocks[i].name, "on");
        if (hv->vendor_id[0])
                qa_opt_kv_esc(b, o, "hv-vendor-id", hv->vendor_id);
        for (size_t i = 0; i < ELEMENTSOF(after_vendor); i++)
                if (after_vendor[i].on)
                        qa_opt_kv(b, o, after_vendor[i].name, "on");
}

static int emit_cpu(struct builder *b, const struct profile *p, const struct hostinfo *h, struct vl_error *e)
{
        const struct profile_cpu *c = &p->cpu;
        const struct profile_hyperv *hv = &c->hyperv;
        const char *model = c->model[0] ? c->model : "host";
        struct opt o;

        /* The nested-Hyper-V enlightenments came with QEMU 7.1. */
        if ((hv->xmm_input || hv->tlbflush_ext || hv->tlbflush_direct || hv->emsr_bitmap) &&
            !qemu_version_at_least(&h->version, 7, 1, 0))
                return vl_error_set_at(e, ENOTSUP, NULL, 0, 0, "$.cpu.hyperv",
                                       "xmm_input, tlbflush_ext, tlbflush_direct and emsr_bitmap need QEMU 7.1 "
                                       "(this is %u.%u.%u)",
                                       h->version.major, h->version.minor, h->version.micro);
        for (unsigned i = 0; i < c->n_features; i++)
                if (!hostinfo_has_cpu_flag(h, c->features[i].name)) {
                        char path[64];
                        (void) snprintf(path, sizeof(path), "$.cpu.features.%s", c->features[i].name);
                        return vl_error_set_at(e, EINVAL, NULL, 0, 0, path,
                                               "QEMU %u.%u.%u knows no CPU feature \"%s\" (`%s -cpu help` lists "
                                               "them)",
                                               h->version.major, h->version.minor, h->version.micro,
                                               c->features[i].name, h->qemu_path);
                }

        qa_opt_begin_esc(b, &o, model);
        if (c->migratable != SWITCH_DEFAULT)
                qa_opt_kv(b, &o, "migratable", c->migratable == SWITCH_ON ? "on" : "off");
        for (unsigned i = 0; i < c->n_features; i++)
                qa_opt_kv(b, &o, c->features[i].name, c->features[i].on ? "on" : "off");
        /* libvirt's <cache mode=...> (qemuBuildCpuModelArgStr). */
        switch (c->cache) {
        case CPU_CACHE_PASSTHROUGH:
                qa_opt_kv(b, &o, "host-cache-info", "on");
                qa_opt_kv(b, &o, "l3-cache", "off");
                break;
        case CPU_CACHE_EMULATE:
                qa_opt_kv(b, &o, "l3-cache", "on");
                break;
        case CPU_CACHE_DISABLE:
                qa_opt_kv(b, &o, "l3-cache", "off");
                break;
        case CPU_CACHE_DEFAULT:
                break;
        }
        if (c->kvm_hidden)
                qa_opt_kv(b, &o, "kvm", "off"); /* hides the KVM signature: NVIDIA error 43 */
        emit_hyperv(b, &o, hv);
        qa_arg_opt(b, "-cpu", &o);
        return 0;
}

static int emit_smp_mem(struct builder *b, const struct profile *p, const struct qemu_runtime *rt,
                        struct vl_error *e)
{
        const struct profile_hugepages *hp = &p->hugepages;
        const struct profile_cpu *c = &p->cpu;
        unsigned s = c->sockets ? c->sockets : 1, t = c->threads ? c->threads : 1;
        unsigned co = c->cores ? c->cores : (c->vcpus ? c->vcpus : 1);
        unsigned n = c->vcpus ? c->vcpus : s * co * t;
        struct opt o;

        if ((uint64_t) s * co * t != n || n > PROFILE_VCPUS_MAX)
                return vl_error_set_at(e, EINVAL, NULL, 0, 0, "$.cpu",
                                       "%u vCPUs is not sockets %u x cores %u x threads %u (or "
                                       "over %u)",
                                       n, s, co, t, PROFILE_VCPUS_MAX);
        if (p->memory_mib < PROFILE_MEMORY_MIN_MIB || p->memory_mib > PROFILE_MEMORY_MAX_MIB)
                return vl_error_set_at(e, EINVAL, NULL, 0, 0, "$.memory",
                                       "%llu MiB is out of range", (unsigned long long) p->memory_mib);
        qa_opt_begin(b, &o, NULL);
        qa_opt_kv(b, &o, "size", "%lluM", (unsigned long long) p->memory_mib);
        qa_arg_opt(b, "-m", &o);
        if (hp->enabled) {
                /* Whole pages: profile_validate(). */
                if (!rt->mem_path[0])
                        return vl_error_set_at(e, EINVAL, NULL, 0, 0, "$.hugepages",
                                               "no folder in the hugetlbfs mount for QEMU's mem-path");
                /* The machine's RAM as a backend of its own (-machine
                 * memory-backend=, as libvirt does since QEMU 5.0): a file
                 * QEMU creates and unlinks in the VM's folder of the
                 * hugetlbfs mount. The -m size must stay and match it.
                 * prealloc takes every page at start, so a short pool fails
                 * the start, not the guest later (SIGBUS). */
                qa_opt_begin(b, &o, "memory-backend-file");
                qa_opt_kv(b, &o, "id", "%s", RAM_BACKEND_ID);
                qa_opt_kv(b, &o, "size", "%lluM", (unsigned long long) p->memory_mib);
                qa_opt_kv_esc(b, &o, "mem-path", rt->mem_path);
                qa_opt_kv(b, &o, "prealloc", hp->prealloc ? "on" : "off");
                qa_arg_opt(b, "-object", &o);
        }
        qa_opt_begin(b, &o, NULL);
        qa_opt_appendf(b, &o, "%u", n);
        o.first = false;
        qa_opt_kv(b, &o, "sockets", "%u", s);
        qa_opt_kv(b, &o, "cores", "%u", co);
        qa_opt_kv(b, &o, "threads", "%u", t);
        qa_arg_opt(b, "-smp", &o);
        return 0;
}

/* ---- the builder ---------------------------------------------------------------------- */

static int build(struct builder *b, const struct profile *p, const struct hostinfo *h,
                 const struct qemu_runtime *rt, struct vl_error *e, struct vl_warnings *w)
{
        const char *machine = rt->machine;
        bool uefi = p->firmware.type == FIRMWARE_UEFI;
        bool smm = uefi && (p->firmware.secure_boot || rt->firmware.requires_smm);
        bool x_vga = false;
        struct layout l;
        struct opt o;
        int r;

        if (!qemu_version_at_least(&h->version, HOSTINFO_QEMU_MIN_MAJOR, HOSTINFO_QEMU_MIN_MINOR, 0))
                return vl_error_set(e, ENOTSUP, "QEMU %u.%u.%u is too old: vfio-launch needs %u.%u "
                                                "or newer",
                                    h->version.major, h->version.minor, h->version.micro,
                                    HOSTINFO_QEMU_MIN_MAJOR, HOSTINFO_QEMU_MIN_MINOR);
        if (!h->qemu_path[0])
                return vl_error_set(e, EINVAL, "no QEMU binary path");
        /* The profile's rules have one owner; a profile built in code (not
         * loaded) gets them here. Warnings were the loader's to give. */
        r = profile_validate(p, e, NULL);
        if (r < 0)
                return r;
        if (rt->fds.qmp < QEMU_FD_FIRST)
                return vl_error_set(e, EINVAL, "no QMP socket file descriptor");
        if (!rt->machine[0])
                return vl_error_set(e, EINVAL, "no machine type (launch_prepare() resolves it)");
        for (unsigned i = 0; i < p->n_hostdevs; i++)
                x_vga = x_vga || p->hostdevs[i].x_vga;
        r = qemu_argv_plan_layout(p, &l, e);
        if (r < 0)
                return r;

        qa_arg(b, h->qemu_path);
        qa_opt_begin(b, &o, NULL);
        qa_opt_kv_esc(b, &o, "guest", p->name);
        qa_opt_kv(b, &o, "debug-threads", "on"); /* names vCPU threads "CPU n/KVM" for pinning */
        qa_arg_opt(b, "-name", &o);
        qa_arg(b, "-S"); /* the supervisor pins vCPUs, then sends "cont" */
        qa_arg(b, "-nodefaults");
        qa_arg(b, "-no-user-config");
        qa_opt_begin(b, &o, NULL);
        qa_opt_kv(b, &o, "timestamp", "on");
        qa_arg_opt(b, "-msg", &o);

        if (uefi) {
                r = emit_firmware_blockdevs(b, rt, e);
                if (r < 0)
                        return r;
        }
        qa_opt_begin_esc(b, &o, machine);
        qa_opt_kv(b, &o, "usb", "off");
        qa_opt_kv(b, &o, "vmport", "off");
        qa_opt_kv(b, &o, "dump-guest-core", "off"); /* keep guest RAM out of core dumps */
        if (smm)
                qa_opt_kv(b, &o, "smm", "on"); /* OVMF's secure variable store lives in SMRAM */
        if (uefi) {
                qa_opt_kv(b, &o, "pflash0", "pflash0-format");
                qa_opt_kv(b, &o, "pflash1", "pflash1-format");
        }
        if (p->hugepages.enabled)
                qa_opt_kv(b, &o, "memory-backend", RAM_BACKEND_ID); /* emit_smp_mem() makes it */
        qemu_argv_machine_platform(b, &o, p);
        qa_arg_opt(b, "-machine", &o);
        qa_arg(b, "-accel");
        qa_arg(b, p->accel == ACCEL_TCG ? "tcg" : "kvm");
        if (smm) {
                /* Only SMM code may write the flash (libvirt: loader secure='yes'). */
                qa_opt_begin(b, &o, NULL);
                qa_opt_kv(b, &o, "driver", "cfi.pflash01");
                qa_opt_kv(b, &o, "property", "secure");
                qa_opt_kv(b, &o, "value", "on");
                qa_arg_opt(b, "-global", &o);
        }
        /* Said either way: QEMU's default follows the machine version (ACPI
         * from pc-q35-6.1 on, native before; pc_compat_6_0 in hw/i386/pc.c),
         * and live detach/attach must know which one the guest answers. */
        qa_opt_begin(b, &o, NULL);
        qa_opt_kv(b, &o, "driver", "ICH9-LPC");
        qa_opt_kv(b, &o, "property", "acpi-pci-hotplug-with-bridge-support");
        qa_opt_kv(b, &o, "value", p->pci_hotplug == PCI_HOTPLUG_ACPI ? "on" : "off");
        qa_arg_opt(b, "-global", &o);
        r = emit_cpu(b, p, h, e);
        if (r < 0)
                return r;
        r = emit_smp_mem(b, p, rt, e);
        if (r < 0)
                return r;
        r = qemu_argv_emit_platform(b, p, rt, e);
        if (r < 0)
                return r;
        if (p->boot.kernel[0]) {
                /* Plain arguments, not QemuOpts: no comma escaping. */
                qa_arg(b, "-kernel");
                qa_arg(b, p->boot.kernel);
                if (p->boot.initrd[0]) {
                        qa_arg(b, "-initrd");
                        qa_arg(b, p->boot.initrd);
                }
                if (p->boot.cmdline[0]) {
                        qa_arg(b, "-append");
                        qa_arg(b, p->boot.cmdline);
                }
        }
        /* No local window: the guest's screen is the passed-through GPU (and
         * SPICE, which QEMU counts as a remote display). */
        qa_arg(b, "-display");
        qa_arg(b, "none");
        /* libvirt's monitor wiring: the socket is already listening, so
         * there is no race waiting for QEMU to create it. */
        emit_monitor(b, "charmonitor", rt->fds.qmp);
        /* The supervisor keeps its monitor to itself; tools (`vfio-launch
         * status` names it, qmp-shell, tests) get this one. */
        if (rt->fds.qmp_user >= 0)
                emit_monitor(b, "charqmp", rt->fds.qmp_user);

        qemu_argv_emit_root_ports(b, &l);
        r = qemu_argv_emit_disks(b, p, rt, &l, e);
        if (r < 0)
                return r;
        r = qemu_argv_emit_nics(b, p, rt, &l, e);
        if (r < 0)
                return r;
        r = qemu_argv_emit_video(b, p, x_vga, e);
        if (r < 0)
                return r;
        r = qemu_argv_emit_sound(b, p, h, rt, e, w);
        if (r < 0)
                return r;
        r = qemu_argv_emit_spice(b, p, rt, e);
        if (r < 0)
                return r;
        r = qemu_argv_emit_spice_agent(b, p, &l, e);
        if (r < 0)
                return r;
        r = qemu_argv_emit_usb(b, p, rt, &l, e);
        if (r < 0)
                return r;
        r = qemu_argv_emit_inputs(b, p, rt, &l, e);
        if (r < 0)
                return r;
        r = qemu_argv_emit_hostdevs(b, p, &l, e);
        if (r < 0)
                return r;
        r = qemu_argv_emit_tpm(b, p, rt, e);
        if (r < 0)
                return r;
        r = qemu_argv_emit_shmem(b, p, rt, e);
        if (r < 0)
                return r;
        if (p->balloon) {
                /* With VFIO the balloon cannot return RAM (pinned), it only
                 * reports guest memory statistics. */
                qa_opt_begin(b, &o, "virtio-balloon-pci");
                qa_opt_kv(b, &o, "id", PROFILE_ID_BALLOON);
                qa_opt_port_addr(b, &o, l.balloon_bus, 0);
                qa_arg_opt(b, "-device", &o);
        }
        /* libvirt's set; spawn=deny is why taps come in as fds. */
        qa_opt_begin(b, &o, "on");
        qa_opt_kv(b, &o, "obsolete", "deny");
        qa_opt_kv(b, &o, "elevateprivileges", "deny");
        qa_opt_kv(b, &o, "spawn", "deny");
        qa_opt_kv(b, &o, "resourcecontrol", "deny");
        qa_arg_opt(b, "-sandbox", &o);
        qemu_argv_emit_extra(b, p);

        /* The environment QEMU gets, nothing inherited: QEMU_AUDIO_* are gone
         * since 8.2 (and ignored with -audiodev before). */
        qa_env(b, "PATH", QEMU_ENV_PATH);
        if (rt->home[0])
                qa_env(b, "HOME", rt->home);
        if (rt->xdg_runtime_dir[0])
                qa_env(b, "XDG_RUNTIME_DIR", rt->xdg_runtime_dir);
        return 0;
}

int qemu_argv_build(const struct profile *p, const struct hostinfo *h,
                    const struct qemu_runtime *rt, struct qemu_cmd **ret, struct vl_error *e,
                    struct vl_warnings *w)
{
        struct builder b = {};
        int r;

        b.cmd = calloc(1, sizeof(*b.cmd));
        if (!b.cmd)
                return vl_error_set(e, ENOMEM, "out of memory");
        r = build(&b, p, h, rt, e, w);
        if (r == 0 && b.oom)
                r = vl_error_set(e, ENOMEM, "out of memory");
        if (r < 0) {
                qemu_cmd_free(b.cmd);
                return r;
        }
        *ret = b.cmd;
        return 0;
}
