/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * profile + hostinfo + runtime -> QEMU argv + env. PURE: no I/O, no globals,
 * no getenv; only malloc. See qemu_argv.h for the layout rules.
 *
 * Every option value that comes from the user (paths, ids, models, vendor
 * id, listen address) goes through opt_kv_esc(), which doubles commas as
 * QEMU's QemuOpts and keyval parsers require; values the builder makes up
 * (numbers, our own ids) are written as they are.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audio.h"
#include "macro.h"
#include "qemu_argv.h"

#define QEMU_ENV_PATH "/usr/local/bin:/usr/bin:/bin"
#define ROOT_PORTS_PER_SLOT 8
#define ROOT_PORT_FIRST_SLOT 2   /* libvirt: slot 1 is the video device */
#define ROOT_PORT_FIRST_PORT 0x10
#define SATA_UNITS 6             /* q35's built-in ICH9 AHCI: ide.0 .. ide.5 */
#define PCIE0_VIDEO_ADDR "0x1"   /* where libvirt puts the primary video on q35 */
#define PCIE0_SOUND_ADDR "0x1b"  /* ICH9 HD audio's slot on real q35 boards */
#define QEMU_ID_MAX 127
#define RAM_BACKEND_ID "pc.ram"  /* libvirt's id for the machine's RAM backend */

/* ---- growable strings and the argv/env vectors ---------------------------------------- */

struct opt {
        char *buf;
        size_t len, cap;
        bool first; /* no leading comma before the next key */
};

struct builder {
        struct qemu_cmd *cmd;
        size_t cap_argv, cap_env;
        bool oom;
        /* device ids handed out, to refuse duplicates QEMU would reject late */
        char ids[PROFILE_HOSTDEVS_MAX + PROFILE_DISKS_MAX + PROFILE_NICS_MAX + 8][PROFILE_STR_MAX];
        size_t n_ids;
};

static void opt_reserve(struct builder *b, struct opt *o, size_t more)
{
        size_t want = o->len + more + 1;
        char *n;

        if (b->oom || want <= o->cap)
                return;
        if (want < 2 * o->cap)
                want = 2 * o->cap;
        if (want < 64)
                want = 64;
        n = realloc(o->buf, want);
        if (!n) {
                b->oom = true;
                return;
        }
        o->buf = n;
        o->cap = want;
}

static void opt_raw(struct builder *b, struct opt *o, const char *s, size_t len)
{
        opt_reserve(b, o, len);
        if (b->oom)
                return;
        memcpy(o->buf + o->len, s, len);
        o->len += len;
        o->buf[o->len] = '\0';
}

static void opt_appendf(struct builder *b, struct opt *o, const char *fmt, ...) _printf_(3, 4);
static void opt_appendf(struct builder *b, struct opt *o, const char *fmt, ...)
{
        va_list ap;
        int n;

        va_start(ap, fmt);
        n = vsnprintf(NULL, 0, fmt, ap);
        va_end(ap);
        if (n < 0) {
                b->oom = true;
                return;
        }
        opt_reserve(b, o, (size_t) n);
        if (b->oom)
                return;
        va_start(ap, fmt);
        (void) vsnprintf(o->buf + o->len, (size_t) n + 1, fmt, ap);
        va_end(ap);
        o->len += (size_t) n;
}

static void opt_esc(struct builder *b, struct opt *o, const char *s)
{
        while (*s) {
                size_t n = strcspn(s, ",");

                opt_raw(b, o, s, n);
                s += n;
                if (*s == ',') {
                        opt_raw(b, o, ",,", 2);
                        s++;
                }
        }
}

/* Start an option string with its implied first value ("pcie-root-port"). */
static void opt_begin(struct builder *b, struct opt *o, const char *head)
{
        *o = (struct opt) { .first = true };
        if (head) {
                opt_raw(b, o, head, strlen(head));
                o->first = false;
        }
}

/* Start with a user-controlled implied value (a machine type, a CPU model). */
static void opt_begin_esc(struct builder *b, struct opt *o, const char *head)
{
        *o = (struct opt) { .first = true };
        opt_esc(b, o, head);
        o->first = false;
}

static void opt_kv(struct builder *b, struct opt *o, const char *key, const char *fmt, ...)
        _printf_(4, 5);
static void opt_kv(struct builder *b, struct opt *o, const char *key, const char *fmt, ...)
{
        char val[256];
        va_list ap;
        int n;

        va_start(ap, fmt);
        n = vsnprintf(val, sizeof(val), fmt, ap);
        va_end(ap);
        if (n < 0 || (size_t) n >= sizeof(val)) {
                b->oom = true; /* only builder-made values come here: cannot happen */
                return;
        }
        opt_appendf(b, o, "%s%s=%s", o->first ? "" : ",", key, val);
        o->first = false;
}

static void opt_kv_esc(struct builder *b, struct opt *o, const char *key, const char *value)
{
        opt_appendf(b, o, "%s%s=", o->first ? "" : ",", key);
        opt_esc(b, o, value);
        o->first = false;
}

static void vec_push(struct builder *b, char ***vec, size_t *n, size_t *cap, char *owned)
{
        if (!owned) {
                b->oom = true;
                return;
        }
        if (b->oom) {
                free(owned);
                return;
        }
        if (*n + 2 > *cap) {
                size_t nc = *cap ? *cap * 2 : 64;
                char **nv = realloc(*vec, nc * sizeof(char *));
                if (!nv) {
                        free(owned);
                        b->oom = true;
                        return;
                }
                *vec = nv;
                *cap = nc;
        }
        (*vec)[(*n)++] = owned;
        (*vec)[*n] = NULL;
}

static void arg(struct builder *b, const char *s)
{
        vec_push(b, &b->cmd->argv, &b->cmd->n_argv, &b->cap_argv, strdup(s));
}

/* Push "-name" and the option string; the string's buffer moves to argv. */
static void arg_opt(struct builder *b, const char *name, struct opt *o)
{
        arg(b, name);
        if (!o->buf)
                opt_raw(b, o, "", 0);
        vec_push(b, &b->cmd->argv, &b->cmd->n_argv, &b->cap_argv, o->buf);
        o->buf = NULL;
}

static void env(struct builder *b, const char *key, const char *value)
{
        struct opt o;

        opt_begin(b, &o, NULL);
        opt_appendf(b, &o, "%s=%s", key, value);
        if (!o.buf)
                b->oom = true;
        vec_push(b, &b->cmd->env, &b->cmd->n_env, &b->cap_env, o.buf);
}

/* ---- helpers -------------------------------------------------------------------------- */

void qemu_runtime_init(struct qemu_runtime *rt)
{
        memset(rt, 0, sizeof(*rt));
        rt->qmp_fd = -1;
        rt->qmp_user_fd = -1;
        for (size_t i = 0; i < ELEMENTSOF(rt->nic_fds); i++)
                rt->nic_fds[i] = -1;
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

/* QEMU's id_wellformed(): a letter, then letters, digits, '-', '.', '_'. */
static bool id_wellformed(const char *id)
{
        if (!((id[0] >= 'A' && id[0] <= 'Z') || (id[0] >= 'a' && id[0] <= 'z')))
                return false;
        for (const char *p = id + 1; *p; p++)
                if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
                      (*p >= '0' && *p <= '9') || *p == '-' || *p == '.' || *p == '_'))
                        return false;
        return strlen(id) <= QEMU_ID_MAX;
}

/* Register a device id: -EINVAL if malformed or already used (by the
 * profile or by one of the builder's own ids). */
static int claim_id(struct builder *b, const char *id, const char *path, struct vl_error *e)
{
        if (!id_wellformed(id))
                return vl_error_set_at(e, EINVAL, NULL, 0, 0, path,
                                       "\"%s\" is not a valid QEMU id (a letter, then letters, "
                                       "digits, '-', '.', '_')",
                                       id);
        /* pci.N are the root ports' ids. */
        if (strncmp(id, "pci.", 4) == 0)
                return vl_error_set_at(e, EINVAL, NULL, 0, 0, path,
                                       "device id \"%s\": ids starting with \"pci.\" name the "
                                       "root ports", id);
        for (size_t i = 0; i < b->n_ids; i++)
                if (strcmp(b->ids[i], id) == 0)
                        return vl_error_set_at(e, EINVAL, NULL, 0, 0, path,
                                               "device id \"%s\" is used twice", id);
        if (b->n_ids < ELEMENTSOF(b->ids))
                (void) snprintf(b->ids[b->n_ids++], sizeof(b->ids[0]), "%s", id);
        return 0;
}

/* The profile's id, or PREFIXn as the loader would default it. */
static const char *device_id(const char *id, const char *prefix, unsigned i, char buf[static 24])
{
        if (id[0])
                return id;
        (void) snprintf(buf, 24, "%s%u", prefix, i);
        return buf;
}

/* ---- PCIe layout ---------------------------------------------------------------------- */

enum port_user { PORT_FREE = 0, PORT_HOSTDEV, PORT_DEVICE };

struct layout {
        enum port_user user[PROFILE_GUEST_BUS_MAX + 1];
        bool fn_used[PROFILE_GUEST_BUS_MAX + 1][8];
        unsigned n_ports;                              /* highest pci.N in use */
        unsigned hd_bus[PROFILE_HOSTDEVS_MAX], hd_fn[PROFILE_HOSTDEVS_MAX];
        bool hd_multifunction[PROFILE_HOSTDEVS_MAX];
        unsigned nic_bus[PROFILE_NICS_MAX];
        unsigned disk_bus[PROFILE_DISKS_MAX];          /* 0 = SATA (no port) */
        unsigned balloon_bus;
};

static int free_port(struct layout *l, const char *what, struct vl_error *e)
{
        for (unsigned n = 1; n <= PROFILE_GUEST_BUS_MAX; n++)
                if (l->user[n] == PORT_FREE)
                        return (int) n;
        return vl_error_set(e, ENOSPC, "no free PCIe root port left for %s (at most %u)", what,
                            PROFILE_GUEST_BUS_MAX);
}

static int place_hostdev(struct layout *l, unsigned i, unsigned bus, unsigned fn, const char *path,
                         struct vl_error *e)
{
        if (bus < 1 || bus > PROFILE_GUEST_BUS_MAX || fn > 7)
                return vl_error_set_at(e, EINVAL, NULL, 0, 0, path,
                                       "guest bus %u function %u is out of range (bus 1..%u, "
                                       "function 0..7)",
                                       bus, fn, PROFILE_GUEST_BUS_MAX);
        if (l->fn_used[bus][fn])
                return vl_error_set_at(e, EINVAL, NULL, 0, 0, path,
                                       "guest bus %u function %u is already taken by another "
                                       "hostdev",
                                       bus, fn);
        l->user[bus] = PORT_HOSTDEV;
        l->fn_used[bus][fn] = true;
        l->hd_bus[i] = bus;
        l->hd_fn[i] = fn;
        return 0;
}

static int plan_layout(const struct profile *p, struct layout *l, struct vl_error *e)
{
        char path[64];
        int r;

        memset(l, 0, sizeof(*l));

        /* 1. Hostdevs at the guest bus the profile names (the seed's GPU at
         *    guest bus 6 and its audio at 7: what the guest driver saw). */
        for (unsigned i = 0; i < p->n_hostdevs; i++) {
                const struct profile_guest_addr *g = &p->hostdevs[i].guest;

                if (g->automatic || g->same_slot)
                        continue;
                (void) snprintf(path, sizeof(path), "$.hostdevs[%u].guest", i);
                if (g->slot != 0)
                        return vl_error_set_at(e, EINVAL, NULL, 0, 0, path,
                                               "slot %u: behind a PCIe root port the only slot is 0",
                                               g->slot);
                r = place_hostdev(l, i, g->bus, g->function, path, e);
                if (r < 0)
                        return r;
        }
        /* 2. Automatic ones: function 0 of a port of their own. */
        for (unsigned i = 0; i < p->n_hostdevs; i++) {
                const struct profile_guest_addr *g = &p->hostdevs[i].guest;

                if (!g->automatic || g->same_slot)
                        continue;
                (void) snprintf(path, sizeof(path), "$.hostdevs[%u].guest", i);
                r = free_port(l, "a hostdev", e);
                if (r < 0)
                        return r;
                r = place_hostdev(l, i, (unsigned) r, 0, path, e);
                if (r < 0)
                        return r;
        }
        /* 3. "same-slot": behind the port of the host slot's function 0, at
         *    the device's own host function — one multifunction endpoint,
         *    as on the real card. */
        for (unsigned i = 0; i < p->n_hostdevs; i++) {
                const struct profile_hostdev *h = &p->hostdevs[i];
                unsigned j;

                if (!h->guest.same_slot)
                        continue;
                (void) snprintf(path, sizeof(path), "$.hostdevs[%u].guest", i);
                for (j = 0; j < p->n_hostdevs; j++) {
                        const struct profile_hostdev *f0 = &p->hostdevs[j];
                        if (j != i && f0->host.domain == h->host.domain &&
                            f0->host.bus == h->host.bus && f0->host.slot == h->host.slot &&
                            f0->host.function == 0 && !f0->guest.same_slot)
                                break;
                }
                if (j == p->n_hostdevs)
                        return vl_error_set_at(e, EINVAL, NULL, 0, 0, path,
                                               "\"same-slot\" needs function 0 of the same host "
                                               "slot among the hostdevs, with a guest address of "
                                               "its own");
                r = place_hostdev(l, i, l->hd_bus[j], h->host.function, path, e);
                if (r < 0)
                        return r;
        }
        /* 4. A port with more than one function: function 0 must exist and
         *    carry multifunction=on, or the guest never scans the others. */
        for (unsigned i = 0; i < p->n_hostdevs; i++) {
                unsigned bus = l->hd_bus[i], n = 0;

                for (unsigned f = 0; f < 8; f++)
                        n += l->fn_used[bus][f];
                if (!l->fn_used[bus][0]) {
                        (void) snprintf(path, sizeof(path), "$.hostdevs[%u].guest", i);
                        return vl_error_set_at(e, EINVAL, NULL, 0, 0, path,
                                               "guest bus %u has function %u but no function 0",
                                               bus, l->hd_fn[i]);
                }
                l->hd_multifunction[i] = p->hostdevs[i].multifunction ||
                                         (l->hd_fn[i] == 0 && n > 1);
        }

        /* 5. Everything else PCIe, on the lowest ports the hostdevs left. */
        for (unsigned i = 0; i < p->n_nics; i++) {
                r = free_port(l, "a NIC", e);
                if (r < 0)
                        return r;
                l->user[r] = PORT_DEVICE;
                l->nic_bus[i] = (unsigned) r;
        }
        for (unsigned i = 0; i < p->n_disks; i++) {
                if (p->disks[i].bus == DISK_BUS_SATA)
                        continue;
                r = free_port(l, "a disk", e);
                if (r < 0)
                        return r;
                l->user[r] = PORT_DEVICE;
                l->disk_bus[i] = (unsigned) r;
        }
        if (p->balloon) {
                r = free_port(l, "the balloon", e);
                if (r < 0)
                        return r;
                l->user[r] = PORT_DEVICE;
                l->balloon_bus = (unsigned) r;
        }
        for (unsigned n = 1; n <= PROFILE_GUEST_BUS_MAX; n++)
                if (l->user[n] != PORT_FREE)
                        l->n_ports = n;
        return 0;
}

/* "addr=0x0" / "addr=0x0.0x1": the endpoint behind a root port. */
static void opt_port_addr(struct builder *b, struct opt *o, unsigned bus, unsigned fn)
{
        opt_kv(b, o, "bus", "pci.%u", bus);
        if (fn)
                opt_kv(b, o, "addr", "0x0.0x%x", fn);
        else
                opt_kv(b, o, "addr", "0x0");
}

/* libvirt's numbering: pci.N at pcie.0 slot 2+(N-1)/8 function (N-1)%8,
 * chassis N, port 0x10+(N-1); function 0 of a slot with more ports gets
 * multifunction=on (qemuDomainAssignPCIeRootPorts / the *.args in
 * libvirt's tests/qemuxmlconfdata). */
static void emit_root_ports(struct builder *b, const struct layout *l)
{
        for (unsigned n = 1; n <= l->n_ports; n++) {
                unsigned slot = ROOT_PORT_FIRST_SLOT + (n - 1) / ROOT_PORTS_PER_SLOT;
                unsigned fn = (n - 1) % ROOT_PORTS_PER_SLOT;
                struct opt o;

                opt_begin(b, &o, "pcie-root-port");
                opt_kv(b, &o, "id", "pci.%u", n);
                opt_kv(b, &o, "chassis", "%u", n);
                opt_kv(b, &o, "port", "0x%x", ROOT_PORT_FIRST_PORT + n - 1);
                opt_kv(b, &o, "bus", "pcie.0");
                if (fn)
                        opt_kv(b, &o, "addr", "0x%x.0x%x", slot, fn);
                else
                        opt_kv(b, &o, "addr", "0x%x", slot);
                if (fn == 0 && n < l->n_ports)
                        opt_kv(b, &o, "multifunction", "on");
                arg_opt(b, "-device", &o);
        }
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
        opt_begin(b, &o, NULL);
        opt_kv(b, &o, "driver", "file");
        opt_kv_esc(b, &o, "filename", rt->firmware.code);
        opt_kv(b, &o, "node-name", "pflash0-storage");
        opt_kv(b, &o, "read-only", "on");
        arg_opt(b, "-blockdev", &o);
        opt_begin(b, &o, NULL);
        opt_kv(b, &o, "driver", "%s", cf);
        opt_kv(b, &o, "file", "pflash0-storage");
        opt_kv(b, &o, "node-name", "pflash0-format");
        opt_kv(b, &o, "read-only", "on");
        arg_opt(b, "-blockdev", &o);
        opt_begin(b, &o, NULL);
        opt_kv(b, &o, "driver", "file");
        opt_kv_esc(b, &o, "filename", rt->firmware.vars);
        opt_kv(b, &o, "node-name", "pflash1-storage");
        arg_opt(b, "-blockdev", &o);
        opt_begin(b, &o, NULL);
        opt_kv(b, &o, "driver", "%s", vf);
        opt_kv(b, &o, "file", "pflash1-storage");
        opt_kv(b, &o, "node-name", "pflash1-format");
        arg_opt(b, "-blockdev", &o);
        return 0;
}

/* A QMP monitor on an inherited, already listening socket. */
static void emit_monitor(struct builder *b, const char *id, int fd)
{
        struct opt o;

        opt_begin(b, &o, "socket");
        opt_kv(b, &o, "id", "%s", id);
        opt_kv(b, &o, "fd", "%d", fd);
        opt_kv(b, &o, "server", "on");
        opt_kv(b, &o, "wait", "off");
        arg_opt(b, "-chardev", &o);
        opt_begin(b, &o, NULL);
        opt_kv(b, &o, "chardev", "%s", id);
        opt_kv(b, &o, "mode", "control");
        arg_opt(b, "-mon", &o);
}

static int emit_cpu(struct builder *b, const struct profile *p, struct vl_error *e,
                    struct vl_warnings *w)
{
        const struct profile_cpu *c = &p->cpu;
        const struct profile_hyperv *hv = &c->hyperv;
        const char *model = c->model[0] ? c->model : "host";
        bool is_host = strcmp(model, "host") == 0;
        struct opt o;

        /* -cpu host is the KVM host CPU: TCG cannot emulate "whatever this
         * host is" and QEMU refuses at start. */
        if (is_host && p->accel == ACCEL_TCG)
                return vl_error_set_at(e, EINVAL, NULL, 0, 0, "$.cpu.model",
                                       "\"host\" needs \"accel\": \"kvm\"; with tcg use \"max\" or a named model");

        /* QEMU checks these under KVM only and refuses to start ("Hyper-V
         * synic requires Hyper-V VP_INDEX"): say it before any host change. */
        if (hv->synic && !hv->vpindex)
                return vl_error_set_at(e, EINVAL, NULL, 0, 0, "$.cpu.hyperv.synic",
                                       "Hyper-V synic needs vpindex");
        if (hv->stimer && !(hv->synic && hv->time))
                return vl_error_set_at(e, EINVAL, NULL, 0, 0, "$.cpu.hyperv.stimer",
                                       "Hyper-V stimer needs synic and time");
        if (hv->tlbflush && !hv->vpindex)
                return vl_error_set_at(e, EINVAL, NULL, 0, 0, "$.cpu.hyperv.tlbflush",
                                       "Hyper-V tlbflush needs vpindex");
        if (hv->ipi && !hv->vpindex)
                return vl_error_set_at(e, EINVAL, NULL, 0, 0, "$.cpu.hyperv.ipi",
                                       "Hyper-V ipi needs vpindex");
        if (hv->spinlocks && hv->spinlocks < 0xfff)
                return vl_error_set_at(e, EINVAL, NULL, 0, 0, "$.cpu.hyperv.spinlocks",
                                       "%u retries: Hyper-V spinlocks need at least 4095",
                                       hv->spinlocks);

        opt_begin_esc(b, &o, model);
        if (c->migratable) {
                if (is_host)
                        opt_kv(b, &o, "migratable", "on");
                else
                        vl_warn(w, "cpu.migratable only applies to model \"host\"; ignoring");
        }
        if (c->kvm_hidden)
                opt_kv(b, &o, "kvm", "off"); /* hides the KVM signature: NVIDIA error 43 */
        /* libvirt's order (qemuBuildCpuCommandLine): hv-time from the clock,
         * then the <hyperv> features in their enum order. */
        if (hv->time)
                opt_kv(b, &o, "hv-time", "on");
        if (hv->relaxed)
                opt_kv(b, &o, "hv-relaxed", "on");
        if (hv->vapic)
                opt_kv(b, &o, "hv-vapic", "on");
        if (hv->spinlocks)
                opt_kv(b, &o, "hv-spinlocks", "0x%x", hv->spinlocks);
        if (hv->vpindex)
                opt_kv(b, &o, "hv-vpindex", "on");
        if (hv->runtime)
                opt_kv(b, &o, "hv-runtime", "on");
        if (hv->synic)
                opt_kv(b, &o, "hv-synic", "on");
        if (hv->stimer)
                opt_kv(b, &o, "hv-stimer", "on");
        if (hv->reset)
                opt_kv(b, &o, "hv-reset", "on");
        if (hv->vendor_id[0])
                opt_kv_esc(b, &o, "hv-vendor-id", hv->vendor_id);
        if (hv->frequencies)
                opt_kv(b, &o, "hv-frequencies", "on");
        if (hv->tlbflush)
                opt_kv(b, &o, "hv-tlbflush", "on");
        if (hv->ipi)
                opt_kv(b, &o, "hv-ipi", "on");
        arg_opt(b, "-cpu", &o);
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
        opt_begin(b, &o, NULL);
        opt_kv(b, &o, "size", "%lluM", (unsigned long long) p->memory_mib);
        arg_opt(b, "-m", &o);
        if (hp->enabled) {
                uint64_t page_mib = profile_hugepage_kib(hp->size) / 1024;

                if (!rt->mem_path[0])
                        return vl_error_set_at(e, EINVAL, NULL, 0, 0, "$.hugepages",
                                               "no folder in the hugetlbfs mount for QEMU's mem-path");
                if (page_mib == 0 || p->memory_mib % page_mib != 0)
                        return vl_error_set_at(e, EINVAL, NULL, 0, 0, "$.hugepages.size",
                                               "memory is not a whole number of pages");
                /* The machine's RAM as a backend of its own (-machine
                 * memory-backend=, as libvirt does since QEMU 5.0): a file
                 * QEMU creates and unlinks in the VM's folder of the
                 * hugetlbfs mount. The -m size must stay and match it.
                 * prealloc takes every page at start, so a short pool fails
                 * the start, not the guest later (SIGBUS). */
                opt_begin(b, &o, "memory-backend-file");
                opt_kv(b, &o, "id", "%s", RAM_BACKEND_ID);
                opt_kv(b, &o, "size", "%lluM", (unsigned long long) p->memory_mib);
                opt_kv_esc(b, &o, "mem-path", rt->mem_path);
                opt_kv(b, &o, "prealloc", hp->prealloc ? "on" : "off");
                arg_opt(b, "-object", &o);
        }
        opt_begin(b, &o, NULL);
        opt_appendf(b, &o, "%u", n);
        o.first = false;
        opt_kv(b, &o, "sockets", "%u", s);
        opt_kv(b, &o, "cores", "%u", co);
        opt_kv(b, &o, "threads", "%u", t);
        arg_opt(b, "-smp", &o);
        return 0;
}

static int emit_disks(struct builder *b, const struct profile *p, const struct layout *l,
                      struct vl_error *e)
{
        unsigned sata = 0;
        char path[64];
        int r;

        for (unsigned i = 0; i < p->n_disks; i++) {
                const struct profile_disk *d = &p->disks[i];
                char def_id[24], stor[32], fmt[32];
                const char *id = device_id(d->id, "disk", i, def_id);
                bool ro = d->readonly || d->cdrom;
                const char *cache_direct = NULL, *cache_noflush = NULL;
                struct opt o;

                (void) snprintf(path, sizeof(path), "$.disks[%u]", i);
                if (!d->path[0] || d->path[0] != '/')
                        return vl_error_set_at(e, EINVAL, NULL, 0, 0, path,
                                               "disk path \"%s\" is not absolute", d->path);
                r = claim_id(b, id, path, e);
                if (r < 0)
                        return r;
                if (d->cdrom && d->bus != DISK_BUS_SATA)
                        return vl_error_set_at(e, EINVAL, NULL, 0, 0, path,
                                               "a cdrom must be on the SATA bus");
                /* Node names are ours (index based): QEMU limits them to 31
                 * characters, which user ids may exceed. */
                (void) snprintf(stor, sizeof(stor), "disk%u-storage", i);
                (void) snprintf(fmt, sizeof(fmt), "disk%u-format", i);
                /* libvirt's cache mapping (qemuBuildDriveSourceStr /
                 * qemuDomainDiskGetBackendAlias): none = O_DIRECT,
                 * unsafe = ignore flushes. */
                switch (d->cache) {
                case DISK_CACHE_DEFAULT:
                        break;
                case DISK_CACHE_NONE:
                        cache_direct = "on", cache_noflush = "off";
                        break;
                case DISK_CACHE_WRITEBACK:
                        cache_direct = "off", cache_noflush = "off";
                        break;
                case DISK_CACHE_UNSAFE:
                        cache_direct = "off", cache_noflush = "on";
                        break;
                }

                opt_begin(b, &o, NULL);
                opt_kv(b, &o, "driver", "file");
                opt_kv_esc(b, &o, "filename", d->path);
                opt_kv(b, &o, "node-name", "%s", stor);
                if (cache_direct) {
                        opt_kv(b, &o, "cache.direct", "%s", cache_direct);
                        opt_kv(b, &o, "cache.no-flush", "%s", cache_noflush);
                }
                if (ro)
                        opt_kv(b, &o, "read-only", "on");
                arg_opt(b, "-blockdev", &o);

                opt_begin(b, &o, NULL);
                opt_kv(b, &o, "driver", "%s", d->format == DISK_RAW ? "raw" : "qcow2");
                opt_kv(b, &o, "file", "%s", stor);
                opt_kv(b, &o, "node-name", "%s", fmt);
                if (cache_direct) {
                        opt_kv(b, &o, "cache.direct", "%s", cache_direct);
                        opt_kv(b, &o, "cache.no-flush", "%s", cache_noflush);
                }
                if (ro)
                        opt_kv(b, &o, "read-only", "on");
                arg_opt(b, "-blockdev", &o);

                switch (d->bus) {
                case DISK_BUS_SATA:
                        if (sata >= SATA_UNITS)
                                return vl_error_set_at(e, EINVAL, NULL, 0, 0, path,
                                                       "more than %u SATA disks (q35's AHCI has "
                                                       "%u ports)",
                                                       SATA_UNITS, SATA_UNITS);
                        opt_begin(b, &o, d->cdrom ? "ide-cd" : "ide-hd");
                        opt_kv(b, &o, "bus", "ide.%u", sata++);
                        break;
                case DISK_BUS_VIRTIO:
                        opt_begin(b, &o, "virtio-blk-pci");
                        opt_port_addr(b, &o, l->disk_bus[i], 0);
                        break;
                case DISK_BUS_NVME:
                        /* nvme refuses to start without a serial (max 20 chars);
                         * the id keeps it stable when disks are reordered. */
                        if (strlen(id) > 20)
                                return vl_error_set_at(e, EINVAL, NULL, 0, 0, path,
                                                       "id \"%s\" is longer than the 20 characters "
                                                       "an NVMe serial number may have",
                                                       id);
                        opt_begin(b, &o, "nvme");
                        opt_kv_esc(b, &o, "serial", id);
                        opt_port_addr(b, &o, l->disk_bus[i], 0);
                        break;
                default:
                        return vl_error_set_at(e, EINVAL, NULL, 0, 0, path, "unknown disk bus");
                }
                opt_kv(b, &o, "drive", "%s", fmt);
                opt_kv_esc(b, &o, "id", id);
                opt_kv(b, &o, "bootindex", "%u", i + 1);
                arg_opt(b, "-device", &o);
        }
        return 0;
}

static int emit_nics(struct builder *b, const struct profile *p, const struct qemu_runtime *rt,
                     const struct layout *l, struct vl_error *e)
{
        static const char *const models[] = { "e1000e", "virtio-net-pci", "rtl8139", "e1000" };
        char path[64];
        int r;

        for (unsigned i = 0; i < p->n_nics; i++) {
                const struct profile_nic *n = &p->nics[i];
                const char *model = n->model[0] ? n->model : "e1000e";
                char def_id[24], mac_s[18];
                const char *id = device_id(n->id, "net", i, def_id);
                uint8_t mac[6];
                bool known = false;
                struct opt o;

                (void) snprintf(path, sizeof(path), "$.nics[%u]", i);
                r = claim_id(b, id, path, e);
                if (r < 0)
                        return r;
                for (size_t k = 0; k < ELEMENTSOF(models); k++)
                        known = known || strcmp(model, models[k]) == 0;
                if (!known)
                        return vl_error_set_at(e, EINVAL, NULL, 0, 0, path,
                                               "NIC model \"%s\" is not one of e1000e, "
                                               "virtio-net-pci, rtl8139, e1000",
                                               model);
                if (n->mac_set)
                        memcpy(mac, n->mac, sizeof(mac));
                else
                        profile_derive_mac(p->name, i, mac);
                (void) snprintf(mac_s, sizeof(mac_s), "%02x:%02x:%02x:%02x:%02x:%02x", mac[0],
                                mac[1], mac[2], mac[3], mac[4], mac[5]);

                opt_begin(b, &o, NULL);
                switch (n->backend) {
                case NIC_USER:
                        /* slirp: NAT without libvirt's "default" network */
                        opt_raw(b, &o, "user", 4);
                        o.first = false;
                        break;
                case NIC_MACVTAP:
                case NIC_TAP:
                        /* The launcher creates the link and passes the open
                         * tap: no helper, no script (spawn=deny forbids them). */
                        if (rt->nic_fds[i] < 0) {
                                free(o.buf);
                                return vl_error_set_at(e, EINVAL, NULL, 0, 0, path,
                                                       "no tap file descriptor for this NIC");
                        }
                        opt_raw(b, &o, "tap", 3);
                        o.first = false;
                        opt_kv(b, &o, "fd", "%d", rt->nic_fds[i]);
                        break;
                default:
                        free(o.buf);
                        return vl_error_set_at(e, EINVAL, NULL, 0, 0, path, "unknown NIC backend");
                }
                opt_kv(b, &o, "id", "hostnet%u", i);
                arg_opt(b, "-netdev", &o);

                opt_begin(b, &o, model);
                opt_kv(b, &o, "netdev", "hostnet%u", i);
                opt_kv_esc(b, &o, "id", id);
                opt_kv(b, &o, "mac", "%s", mac_s);
                opt_port_addr(b, &o, l->nic_bus[i], 0);
                arg_opt(b, "-device", &o);
        }
        return 0;
}

static int emit_video(struct builder *b, const struct profile *p, bool x_vga, struct vl_error *e)
{
        const char *v = p->display.video, *dev;
        struct opt o;

        if (!v[0])
                return 0;
        if (strcmp(v, "qxl") == 0)
                dev = "qxl-vga";
        else if (strcmp(v, "virtio") == 0)
                dev = "virtio-vga";
        else if (strcmp(v, "std") == 0)
                dev = "VGA";
        else
                return vl_error_set_at(e, EINVAL, NULL, 0, 0, "$.display.video",
                                       "\"%s\" is not one of qxl, virtio, std", v);
        /* Only one device can own the legacy VGA ranges. */
        if (x_vga)
                return vl_error_set_at(e, EINVAL, NULL, 0, 0, "$.display.video",
                                       "an emulated VGA and a hostdev with x_vga both claim the "
                                       "legacy VGA ranges");
        opt_begin(b, &o, dev);
        opt_kv(b, &o, "id", "video0");
        opt_kv(b, &o, "bus", "pcie.0");
        opt_kv(b, &o, "addr", PCIE0_VIDEO_ADDR);
        arg_opt(b, "-device", &o);
        return 0;
}

static int emit_sound(struct builder *b, const struct profile *p, const struct hostinfo *h,
                      const struct qemu_runtime *rt, struct vl_error *e, struct vl_warnings *w)
{
        const struct profile_sound *s = &p->sound;
        struct audio_params a;
        struct opt o;
        int r;

        if (s->model == SOUND_NONE)
                return 0;
        /* No warnings here: profile_validate() already said which legacy
         * settings never applied; saying it twice helps nobody. */
        r = audio_translate(s, &h->version, &a, e, NULL);
        if (r < 0)
                return r;
        if (a.driver == AUDIO_SPICE && p->display.type != DISPLAY_SPICE)
                return vl_error_set_at(e, EINVAL, NULL, 0, 0, "$.sound.backend",
                                       "the \"spice\" audio backend needs a SPICE display");
        if ((a.driver == AUDIO_PA || a.driver == AUDIO_PIPEWIRE) && !a.server[0] &&
            !rt->xdg_runtime_dir[0])
                vl_warn(w, "sound: no server given and no XDG_RUNTIME_DIR for the run-as user: "
                           "QEMU will not find the %s socket",
                        a.driver == AUDIO_PA ? "PulseAudio" : "PipeWire");

        opt_begin(b, &o, a.driver_name);
        opt_kv(b, &o, "id", "snd0");
        if (a.server[0])
                opt_kv_esc(b, &o, "server", a.server);
        if (a.has_timer_period)
                opt_kv(b, &o, "timer-period", "%u", a.timer_period_us);
        if (a.has_in_buffer)
                opt_kv(b, &o, "in.buffer-length", "%u", a.in_buffer_us);
        if (a.has_out_buffer)
                opt_kv(b, &o, "out.buffer-length", "%u", a.out_buffer_us);
        if (a.has_out_period)
                opt_kv(b, &o, "out.period-length", "%u", a.out_period_us);
        if (a.has_out_frequency)
                opt_kv(b, &o, "out.frequency", "%u", a.out_frequency);
        if (a.out_dev[0])
                opt_kv_esc(b, &o, "out.dev", a.out_dev);
        arg_opt(b, "-audiodev", &o);

        switch (s->model) {
        case SOUND_AC97:
                opt_begin(b, &o, "AC97");
                opt_kv(b, &o, "id", "sound0");
                opt_kv(b, &o, "audiodev", "snd0");
                opt_kv(b, &o, "bus", "pcie.0");
                opt_kv(b, &o, "addr", PCIE0_SOUND_ADDR);
                arg_opt(b, "-device", &o);
                break;
        case SOUND_ICH9:
        case SOUND_ICH6:
                opt_begin(b, &o, s->model == SOUND_ICH9 ? "ich9-intel-hda" : "intel-hda");
                opt_kv(b, &o, "id", "sound0");
                opt_kv(b, &o, "bus", "pcie.0");
                opt_kv(b, &o, "addr", PCIE0_SOUND_ADDR);
                arg_opt(b, "-device", &o);
                /* The HDA controller has no audio of its own: the codec
                 * carries the audiodev (libvirt: hda-duplex, cad=0). */
                opt_begin(b, &o, "hda-duplex");
                opt_kv(b, &o, "id", "sound0-codec0");
                opt_kv(b, &o, "bus", "sound0.0");
                opt_kv(b, &o, "cad", "0");
                opt_kv(b, &o, "audiodev", "snd0");
                arg_opt(b, "-device", &o);
                break;
        default:
                return vl_error_set_at(e, EINVAL, NULL, 0, 0, "$.sound.model", "unknown sound model");
        }
        return 0;
}

static const char *compression_name(enum spice_compression c)
{
        switch (c) {
        case SPICE_COMPRESSION_OFF:
                return "off";
        case SPICE_COMPRESSION_AUTO_GLZ:
                return "auto_glz";
        case SPICE_COMPRESSION_AUTO_LZ:
                return "auto_lz";
        case SPICE_COMPRESSION_QUIC:
                return "quic";
        case SPICE_COMPRESSION_GLZ:
                return "glz";
        case SPICE_COMPRESSION_LZ:
                return "lz";
        case SPICE_COMPRESSION_DEFAULT:
                break;
        }
        return NULL;
}

static int emit_spice(struct builder *b, const struct profile *p, const struct qemu_runtime *rt,
                      struct vl_error *e)
{
        const struct profile_display *d = &p->display;
        unsigned port = d->port ? d->port : rt->spice_port;
        const char *comp = compression_name(d->image_compression);
        struct opt o;

        if (d->type != DISPLAY_SPICE)
                return 0;
        if (port == 0 || port > 65535)
                return vl_error_set_at(e, EINVAL, NULL, 0, 0, "$.display.port",
                                       "no SPICE port chosen (QEMU has no autoport: the launcher "
                                       "must pick one)");
        if (d->password_file[0]) {
                /* password-secret= (QEMU 7.0) keeps the password off the
                 * command line, which /proc shows to every user. */
                opt_begin(b, &o, "secret");
                opt_kv(b, &o, "id", "spice-password");
                opt_kv(b, &o, "format", "raw");
                opt_kv_esc(b, &o, "file", d->password_file);
                arg_opt(b, "-object", &o);
        }
        opt_begin(b, &o, NULL);
        opt_kv(b, &o, "port", "%u", port);
        opt_kv_esc(b, &o, "addr", d->listen[0] ? d->listen : "127.0.0.1");
        if (comp)
                opt_kv(b, &o, "image-compression", "%s", comp);
        /* Without a password QEMU still expects one unless told otherwise:
         * every client would be refused. */
        if (d->password_file[0])
                opt_kv(b, &o, "password-secret", "spice-password");
        else
                opt_kv(b, &o, "disable-ticketing", "on");
        if (d->gl) {
                opt_kv(b, &o, "gl", "on");
                if (d->rendernode[0])
                        opt_kv_esc(b, &o, "rendernode", d->rendernode);
        }
        arg_opt(b, "-spice", &o);
        return 0;
}

static int hostdev_props(const struct profile *p, const struct layout *l, unsigned i,
                         struct qemu_hostdev *ret, struct vl_error *e)
{
        const struct profile_hostdev *h = &p->hostdevs[i];
        char def_id[24], path[64];

        /* x-vga maps the legacy VGA ranges for a BIOS (SeaBIOS) boot; OVMF
         * drives the GPU through its GOP ROM instead. */
        if (h->x_vga && p->firmware.type != FIRMWARE_BIOS) {
                (void) snprintf(path, sizeof(path), "$.hostdevs[%u]", i);
                return vl_error_set_at(e, EINVAL, NULL, 0, 0, path,
                                       "x_vga is only for BIOS (SeaBIOS) boot; with UEFI leave it off");
        }
        *ret = (struct qemu_hostdev) {
                .bus = l->hd_bus[i],
                .function = l->hd_fn[i],
                .multifunction = l->hd_multifunction[i],
                .rombar = h->rombar == ROMBAR_ON ? 1 : h->rombar == ROMBAR_OFF ? 0 : -1,
                .x_vga = h->x_vga,
        };
        (void) snprintf(ret->id, sizeof(ret->id), "%s", device_id(h->id, "hostdev", i, def_id));
        pci_addr_format(&h->host, ret->host);
        (void) snprintf(ret->romfile, sizeof(ret->romfile), "%s", h->romfile);
        return 0;
}

int qemu_hostdev_layout(const struct profile *p, struct qemu_hostdev ret[static PROFILE_HOSTDEVS_MAX],
                        struct vl_error *e)
{
        struct layout l;
        int r;

        r = plan_layout(p, &l, e);
        if (r < 0)
                return r;
        for (unsigned i = 0; i < p->n_hostdevs; i++) {
                r = hostdev_props(p, &l, i, &ret[i], e);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int emit_hostdevs(struct builder *b, const struct profile *p, const struct layout *l,
                         struct vl_error *e)
{
        char path[64];
        int r;

        for (unsigned i = 0; i < p->n_hostdevs; i++) {
                struct qemu_hostdev hd;
                struct opt o;

                (void) snprintf(path, sizeof(path), "$.hostdevs[%u]", i);
                r = hostdev_props(p, l, i, &hd, e);
                if (r < 0)
                        return r;
                r = claim_id(b, hd.id, path, e);
                if (r < 0)
                        return r;
                opt_begin(b, &o, "vfio-pci");
                opt_kv(b, &o, "host", "%s", hd.host);
                opt_kv_esc(b, &o, "id", hd.id);
                opt_port_addr(b, &o, hd.bus, hd.function);
                if (hd.multifunction)
                        opt_kv(b, &o, "multifunction", "on");
                if (hd.rombar >= 0)
                        opt_kv(b, &o, "rombar", "%d", hd.rombar);
                if (hd.romfile[0])
                        opt_kv_esc(b, &o, "romfile", hd.romfile);
                if (hd.x_vga)
                        opt_kv(b, &o, "x-vga", "on");
                arg_opt(b, "-device", &o);
        }
        return 0;
}

/* ---- the builder ---------------------------------------------------------------------- */

static int build(struct builder *b, const struct profile *p, const struct hostinfo *h,
                 const struct qemu_runtime *rt, struct vl_error *e, struct vl_warnings *w)
{
        char machine[PROFILE_STR_MAX];
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
        if (!p->name[0])
                return vl_error_set_at(e, EINVAL, NULL, 0, 0, "$.name", "the VM has no name");
        if (p->firmware.secure_boot && !uefi)
                return vl_error_set_at(e, EINVAL, NULL, 0, 0, "$.firmware.secure_boot",
                                       "Secure Boot needs UEFI firmware");
        if (rt->qmp_fd < 0)
                return vl_error_set(e, EINVAL, "no QMP socket file descriptor");
        r = hostinfo_machine_resolve(p->machine[0] ? p->machine : "q35", &h->version, machine,
                                     sizeof(machine), NULL, 0, e, w);
        if (r < 0)
                return r;
        for (unsigned i = 0; i < p->n_hostdevs; i++)
                x_vga = x_vga || p->hostdevs[i].x_vga;
        r = plan_layout(p, &l, e);
        if (r < 0)
                return r;
        /* The builder's own device ids, so a profile id cannot shadow them. */
        strcpy(b->ids[b->n_ids++], "video0");
        strcpy(b->ids[b->n_ids++], "sound0");
        strcpy(b->ids[b->n_ids++], "sound0-codec0");
        strcpy(b->ids[b->n_ids++], "balloon0");

        arg(b, h->qemu_path);
        opt_begin(b, &o, NULL);
        opt_kv_esc(b, &o, "guest", p->name);
        opt_kv(b, &o, "debug-threads", "on"); /* names vCPU threads "CPU n/KVM" for pinning */
        arg_opt(b, "-name", &o);
        arg(b, "-S"); /* the supervisor pins vCPUs, then sends "cont" */
        arg(b, "-nodefaults");
        arg(b, "-no-user-config");
        opt_begin(b, &o, NULL);
        opt_kv(b, &o, "timestamp", "on");
        arg_opt(b, "-msg", &o);

        if (uefi) {
                r = emit_firmware_blockdevs(b, rt, e);
                if (r < 0)
                        return r;
        }
        opt_begin_esc(b, &o, machine);
        opt_kv(b, &o, "usb", "off");
        opt_kv(b, &o, "vmport", "off");
        opt_kv(b, &o, "dump-guest-core", "off"); /* keep guest RAM out of core dumps */
        if (smm)
                opt_kv(b, &o, "smm", "on"); /* OVMF's secure variable store lives in SMRAM */
        if (uefi) {
                opt_kv(b, &o, "pflash0", "pflash0-format");
                opt_kv(b, &o, "pflash1", "pflash1-format");
        }
        if (p->hugepages.enabled)
                opt_kv(b, &o, "memory-backend", RAM_BACKEND_ID); /* emit_smp_mem() makes it */
        arg_opt(b, "-machine", &o);
        arg(b, "-accel");
        arg(b, p->accel == ACCEL_TCG ? "tcg" : "kvm");
        if (smm) {
                /* Only SMM code may write the flash (libvirt: loader secure='yes'). */
                opt_begin(b, &o, NULL);
                opt_kv(b, &o, "driver", "cfi.pflash01");
                opt_kv(b, &o, "property", "secure");
                opt_kv(b, &o, "value", "on");
                arg_opt(b, "-global", &o);
        }
        /* Said either way: QEMU's default follows the machine version (ACPI
         * from pc-q35-6.1 on, native before; pc_compat_6_0 in hw/i386/pc.c),
         * and live detach/attach must know which one the guest answers. */
        opt_begin(b, &o, NULL);
        opt_kv(b, &o, "driver", "ICH9-LPC");
        opt_kv(b, &o, "property", "acpi-pci-hotplug-with-bridge-support");
        opt_kv(b, &o, "value", p->pci_hotplug == PCI_HOTPLUG_ACPI ? "on" : "off");
        arg_opt(b, "-global", &o);
        r = emit_cpu(b, p, e, w);
        if (r < 0)
                return r;
        r = emit_smp_mem(b, p, rt, e);
        if (r < 0)
                return r;
        if (p->boot.kernel[0]) {
                /* Plain arguments, not QemuOpts: no comma escaping. */
                arg(b, "-kernel");
                arg(b, p->boot.kernel);
                if (p->boot.initrd[0]) {
                        arg(b, "-initrd");
                        arg(b, p->boot.initrd);
                }
                if (p->boot.cmdline[0]) {
                        arg(b, "-append");
                        arg(b, p->boot.cmdline);
                }
        }
        /* No local window: the guest's screen is the passed-through GPU (and
         * SPICE, which QEMU counts as a remote display). */
        arg(b, "-display");
        arg(b, "none");
        /* libvirt's monitor wiring: the socket is already listening, so
         * there is no race waiting for QEMU to create it. */
        emit_monitor(b, "charmonitor", rt->qmp_fd);
        /* The supervisor keeps its monitor to itself; tools (`vfio-launch
         * status` names it, qmp-shell, tests) get this one. */
        if (rt->qmp_user_fd >= 0)
                emit_monitor(b, "charqmp", rt->qmp_user_fd);

        emit_root_ports(b, &l);
        r = emit_disks(b, p, &l, e);
        if (r < 0)
                return r;
        r = emit_nics(b, p, rt, &l, e);
        if (r < 0)
                return r;
        r = emit_video(b, p, x_vga, e);
        if (r < 0)
                return r;
        r = emit_sound(b, p, h, rt, e, w);
        if (r < 0)
                return r;
        r = emit_spice(b, p, rt, e);
        if (r < 0)
                return r;
        r = emit_hostdevs(b, p, &l, e);
        if (r < 0)
                return r;
        if (p->balloon) {
                /* With VFIO the balloon cannot return RAM (pinned), it only
                 * reports guest memory statistics. */
                opt_begin(b, &o, "virtio-balloon-pci");
                opt_kv(b, &o, "id", "balloon0");
                opt_port_addr(b, &o, l.balloon_bus, 0);
                arg_opt(b, "-device", &o);
        }
        /* libvirt's set; spawn=deny is why taps come in as fds. */
        opt_begin(b, &o, "on");
        opt_kv(b, &o, "obsolete", "deny");
        opt_kv(b, &o, "elevateprivileges", "deny");
        opt_kv(b, &o, "spawn", "deny");
        opt_kv(b, &o, "resourcecontrol", "deny");
        arg_opt(b, "-sandbox", &o);

        /* The environment QEMU gets, nothing inherited: QEMU_AUDIO_* are gone
         * since 8.2 (and ignored with -audiodev before). */
        env(b, "PATH", QEMU_ENV_PATH);
        if (rt->home[0])
                env(b, "HOME", rt->home);
        if (rt->xdg_runtime_dir[0])
                env(b, "XDG_RUNTIME_DIR", rt->xdg_runtime_dir);
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
