/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The QEMU command line's devices besides the hostdevs and disks
 * (qemu_disks.c): NICs, the emulated video, sound and SPICE. PURE, part of the builder (qemu_argv.c):
 * PCIe devices go on the root ports qemu_layout.c planned, and every
 * user-controlled value is escaped (qa_opt_kv_esc()).
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qemu/audio.h"
#include "qemu/qemu_builder.h"

#define PCIE0_VIDEO_ADDR "0x1"   /* where libvirt puts the primary video on q35 */
#define PCIE0_SOUND_ADDR "0x1b"  /* ICH9 HD audio's slot on real q35 boards */

int qemu_argv_emit_nics(struct builder *b, const struct profile *p, const struct qemu_runtime *rt,
                        const struct layout *l, struct vl_error *e)
{
        char path[64];

        for (unsigned i = 0; i < p->n_nics; i++) {
                const struct profile_nic *n = &p->nics[i];
                const char *model = n->model[0] ? n->model : "e1000e";
                char id[PROFILE_STR_MAX], mac_s[18];
                uint8_t mac[6];
                struct opt o;

                (void) snprintf(path, sizeof(path), "$.nics[%u]", i);
                profile_device_id(p, PROFILE_DEVICE_NIC, i, id);
                profile_nic_mac(p, i, mac);
                (void) snprintf(mac_s, sizeof(mac_s), "%02x:%02x:%02x:%02x:%02x:%02x", mac[0],
                                mac[1], mac[2], mac[3], mac[4], mac[5]);

                qa_opt_begin(b, &o, NULL);
                switch (n->backend) {
                case NIC_USER:
                        /* slirp: NAT without libvirt's "default" network */
                        qa_opt_raw(b, &o, "user", 4);
                        o.first = false;
                        break;
                case NIC_MACVTAP:
                case NIC_TAP:
                        /* The launcher creates the link and passes the open
                         * tap: no helper, no script (spawn=deny forbids them). */
                        if (rt->fds.nic[i] < 0) {
                                free(o.buf);
                                return vl_error_set_at(e, EINVAL, NULL, 0, 0, path,
                                                       "no tap file descriptor for this NIC");
                        }
                        qa_opt_raw(b, &o, "tap", 3);
                        o.first = false;
                        qa_opt_kv(b, &o, "fd", "%d", rt->fds.nic[i]);
                        /* The launcher opened /dev/vhost-net (root's): QEMU,
                         * unprivileged, could not (host/vhost.h). */
                        if (rt->fds.vhost[i] >= 0) {
                                if (strcmp(model, "virtio-net-pci") != 0) {
                                        free(o.buf);
                                        return vl_error_set_at(e, EINVAL, NULL, 0, 0, path,
                                                               "vhost-net only serves virtio-net-pci");
                                }
                                qa_opt_kv(b, &o, "vhost", "on");
                                qa_opt_kv(b, &o, "vhostfd", "%d", rt->fds.vhost[i]);
                        }
                        break;
                default:
                        free(o.buf);
                        return vl_error_set_at(e, EINVAL, NULL, 0, 0, path, "unknown NIC backend");
                }
                qa_opt_kv(b, &o, "id", "hostnet%u", i);
                qa_arg_opt(b, "-netdev", &o);

                qa_opt_begin(b, &o, model);
                qa_opt_kv(b, &o, "netdev", "hostnet%u", i);
                qa_opt_kv_esc(b, &o, "id", id);
                qa_opt_kv(b, &o, "mac", "%s", mac_s);
                qa_opt_port_addr(b, &o, l->nic_bus[i], 0);
                if (n->boot)
                        qa_opt_kv(b, &o, "bootindex", "%u", n->boot);
                qa_arg_opt(b, "-device", &o);
        }
        return 0;
}

int qemu_argv_emit_video(struct builder *b, const struct profile *p, bool x_vga,
                         struct vl_error *e)
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
        qa_opt_begin(b, &o, dev);
        qa_opt_kv(b, &o, "id", PROFILE_ID_VIDEO);
        qa_opt_kv(b, &o, "bus", "pcie.0");
        qa_opt_kv(b, &o, "addr", PCIE0_VIDEO_ADDR);
        qa_arg_opt(b, "-device", &o);
        return 0;
}

int qemu_argv_emit_sound(struct builder *b, const struct profile *p, const struct hostinfo *h,
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

        qa_opt_begin(b, &o, a.driver_name);
        qa_opt_kv(b, &o, "id", "snd0");
        if (a.server[0])
                qa_opt_kv_esc(b, &o, "server", a.server);
        if (a.has_timer_period)
                qa_opt_kv(b, &o, "timer-period", "%u", a.timer_period_us);
        if (a.has_in_buffer)
                qa_opt_kv(b, &o, "in.buffer-length", "%u", a.in_buffer_us);
        if (a.has_out_buffer)
                qa_opt_kv(b, &o, "out.buffer-length", "%u", a.out_buffer_us);
        if (a.has_out_period)
                qa_opt_kv(b, &o, "out.period-length", "%u", a.out_period_us);
        if (a.has_out_frequency)
                qa_opt_kv(b, &o, "out.frequency", "%u", a.out_frequency);
        if (a.out_dev[0])
                qa_opt_kv_esc(b, &o, "out.dev", a.out_dev);
        qa_arg_opt(b, "-audiodev", &o);

        switch (s->model) {
        case SOUND_AC97:
                qa_opt_begin(b, &o, "AC97");
                qa_opt_kv(b, &o, "id", PROFILE_ID_SOUND);
                qa_opt_kv(b, &o, "audiodev", "snd0");
                qa_opt_kv(b, &o, "bus", "pcie.0");
                qa_opt_kv(b, &o, "addr", PCIE0_SOUND_ADDR);
                qa_arg_opt(b, "-device", &o);
                break;
        case SOUND_ICH9:
        case SOUND_ICH6:
                qa_opt_begin(b, &o, s->model == SOUND_ICH9 ? "ich9-intel-hda" : "intel-hda");
                qa_opt_kv(b, &o, "id", PROFILE_ID_SOUND);
                qa_opt_kv(b, &o, "bus", "pcie.0");
                qa_opt_kv(b, &o, "addr", PCIE0_SOUND_ADDR);
                qa_arg_opt(b, "-device", &o);
                /* The HDA controller has no audio of its own: the codec
                 * carries the audiodev (libvirt: hda-duplex, cad=0). */
                qa_opt_begin(b, &o, "hda-duplex");
                qa_opt_kv(b, &o, "id", PROFILE_ID_SOUND_CODEC);
                qa_opt_kv(b, &o, "bus", "sound0.0");
                qa_opt_kv(b, &o, "cad", "0");
                qa_opt_kv(b, &o, "audiodev", "snd0");
                qa_arg_opt(b, "-device", &o);
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

int qemu_argv_emit_spice(struct builder *b, const struct profile *p, const struct qemu_runtime *rt,
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
                qa_opt_begin(b, &o, "secret");
                qa_opt_kv(b, &o, "id", "spice-password");
                qa_opt_kv(b, &o, "format", "raw");
                qa_opt_kv_esc(b, &o, "file", d->password_file);
                qa_arg_opt(b, "-object", &o);
        }
        qa_opt_begin(b, &o, NULL);
        qa_opt_kv(b, &o, "port", "%u", port);
        qa_opt_kv_esc(b, &o, "addr", d->listen[0] ? d->listen : "127.0.0.1");
        if (comp)
                qa_opt_kv(b, &o, "image-compression", "%s", comp);
        /* Without a password QEMU still expects one unless told otherwise:
         * every client would be refused. */
        if (d->password_file[0])
                qa_opt_kv(b, &o, "password-secret", "spice-password");
        else
                qa_opt_kv(b, &o, "disable-ticketing", "on");
        if (d->gl) {
                qa_opt_kv(b, &o, "gl", "on");
                if (d->rendernode[0])
                        qa_opt_kv_esc(b, &o, "rendernode", d->rendernode);
        }
        qemu_argv_spice_agent_opts(b, &o, p);
        qa_arg_opt(b, "-spice", &o);
        return 0;
}
