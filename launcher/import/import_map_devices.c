/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * <devices>: hostdevs, sound (with the audio variables of <qemu:env>),
 * graphics, video, TPM, watchdog, shmem, USB controller, balloon, inputs,
 * and what the launcher adds by itself (root ports, the SATA controller, the
 * SPICE agent channel). Disks and NICs are in import_map_disks.c.
 */
#include <errno.h>
#include <string.h>

#include "base/pci_addr.h"
#include "import/import_internal.h"
#include "profile/profile.h"

static json_t *uint_json(const char *s, unsigned long long max)
{
        unsigned long long v;

        return ix_uint(s, max, &v) == 0 ? json_integer((json_int_t) v) : NULL;
}

void ix_boot(struct ix *x, xmlNode *dev, json_t *o)
{
        xmlNode *b = ix_child(dev, "boot");
        json_t *v;

        if (!b)
                return;
        if ((v = uint_json(ix_attr(b, "order"), 255)) && json_integer_value(v) > 0) {
                ix_take(b);
                ix_set(x, o, "boot", v);
        } else {
                json_decref(v);
                ix_omit(x, b, "boot order must be 1-255");
        }
}

static void map_hostdev(struct ix *x, xmlNode *h)
{
        const char *mode = ix_attr(h, "mode"), *type = ix_attr(h, "type"), *s;
        xmlNode *src = ix_child(h, "source"), *a, *n;
        unsigned long long dom, bus, slot, fn;
        char addr[16], ids[10];
        struct pci_addr pa;
        json_t *o;

        if (!type || strcmp(type, "pci") || (mode && strcmp(mode, "subsystem"))) {
                ix_omit(x, h, "only PCI hostdevs (a USB device goes with its controller, or through SPICE's "
                              "\"display.usb_redirect\")");
                return;
        }
        a = ix_child(src, "address");
        if (!a || ix_uint(ix_attr(a, "domain") ?: "0", 0xffff, &dom) < 0 ||
            ix_uint(ix_attr(a, "bus"), 0xff, &bus) < 0 || ix_uint(ix_attr(a, "slot"), 0x1f, &slot) < 0 ||
            ix_uint(ix_attr(a, "function"), 7, &fn) < 0) {
                ix_omit(x, h, "no PCI source address");
                return;
        }
        ix_take(h);
        ix_take(src);
        ix_take(a);
        /* managed='yes': the launcher always moves the device to vfio-pci and back. */
        if ((s = ix_attr(h, "managed")) && ix_bool(s) == 0)
                ix_note(x, ix_attr_node(h, "managed"), "managed='no': vfio-launch binds the device to vfio-pci "
                                                      "for the run and gives it back (a device left on vfio-pci by "
                                                      "'vfio-launch bind' stays)");
        snprintf(addr, sizeof(addr), "%04llx:%02llx:%02llx.%llx", dom, bus, slot, fn);
        if (pci_addr_parse(addr, &pa) < 0) {
                ix_omit(x, h, "not a PCI address");
                return;
        }
        o = json_object();
        ix_set(x, o, "host", json_string(addr));
        if (x->host && x->host->pci_ids && x->host->pci_ids(addr, ids, x->host->userdata) == 0)
                ix_set(x, o, "vendor_device", json_string(ids));
        else
                ix_note(x, a, "%s is not on this host: \"vendor_device\" left out (the launcher will take "
                              "whatever sits at that address)", addr);
        if ((a = ix_child(h, "address"))) {
                const char *t = ix_attr(a, "type");
                unsigned long long gd, gb, gs, gf;

                if (t && !strcmp(t, "pci") && ix_uint(ix_attr(a, "domain") ?: "0", 0, &gd) == 0 &&
                    ix_uint(ix_attr(a, "bus"), 30, &gb) == 0 && gb >= 1 &&
                    ix_uint(ix_attr(a, "slot") ?: "0", 0, &gs) == 0 &&
                    ix_uint(ix_attr(a, "function") ?: "0", 7, &gf) == 0) {
                        json_t *g = json_object();

                        ix_take(a);
                        if (ix_bool(ix_attr(a, "multifunction")) == 1)
                                ix_set(x, o, "multifunction", json_true());
                        ix_set(x, g, "bus", json_integer((json_int_t) gb));
                        ix_set(x, g, "slot", json_integer(0));
                        ix_set(x, g, "function", json_integer((json_int_t) gf));
                        ix_set(x, o, "guest", g);
                } else
                        ix_omit(x, a, "a guest address the profile takes is bus 1-30 (a root port), slot 0");
        }
        if ((n = ix_child(h, "rom"))) {
                ix_take(n);
                if ((s = ix_attr(n, "bar")))
                        ix_set(x, o, "rombar", json_boolean(ix_bool(s) == 1));
                if ((s = ix_attr(n, "file")))
                        ix_set(x, o, "romfile", json_string(s));
        }
        ix_boot(x, h, o);
        if ((n = ix_child(h, "driver")) && (s = ix_attr(n, "name")) && !strcmp(s, "vfio"))
                ix_take(n);
        if ((n = ix_child(h, "alias")))
                ix_take_all(n); /* libvirt's id of a running domain */
        if (json_array_append_new(ix_arr(x, x->p, "hostdevs"), o) < 0)
                x->err = -ENOMEM;
}

/* The audio variables of <qemu:env>, to the sound keys (profiles/README.md "sound"). */
static const struct {
        const char *var, *obj, *key;
        bool num;
} audio_env[] = {
        { "QEMU_AUDIO_DRV", NULL, "backend", false },
        { "QEMU_AUDIO_TIMER_PERIOD", NULL, "timer_period_hz", true },
        { "QEMU_AUDIO_DAC_FIXED_FREQ", NULL, "frequency", true },
        { "QEMU_ALSA_DAC_BUFFER_SIZE", "alsa", "dac_buffer_frames", true },
        { "QEMU_ALSA_DAC_PERIOD_SIZE", "alsa", "dac_period_frames", true },
        { "QEMU_ALSA_DAC_DEV", "alsa", "dev", false },
        { "QEMU_PA_SAMPLES", "pa", "samples", true },
        { "QEMU_PA_SERVER", "pa", "server", false },
};

static void map_audio_env(struct ix *x, xmlNode *dom, json_t *snd)
{
        for (size_t i = 0; i < ELEMENTSOF(audio_env); i++)
                for (xmlNode *c = dom->children; c; c = c->next) {
                        if (c->type != XML_ELEMENT_NODE || !c->ns || strcmp((const char *) c->ns->href, IX_QEMU_NS) ||
                                    strcmp((const char *) c->name, "commandline"))
                                continue;
                        for (xmlNode *e = c->children; e; e = e->next) {
                                const char *name, *val;
                                json_t *o = snd, *v;

                                if (e->type != XML_ELEMENT_NODE || strcmp((const char *) e->name, "env") ||
                                    !(name = ix_attr(e, "name")) || strcmp(name, audio_env[i].var))
                                        continue;
                                val = ix_attr(e, "value") ?: "";
                                if (!snd) {
                                        ix_omit(x, e, "an audio setting without a <sound> card");
                                        continue;
                                }
                                v = audio_env[i].num ? uint_json(val, 1 << 30) : json_string(val);
                                if (!v) {
                                        ix_omit(x, e, "\"%s\" is not a number", val);
                                        continue;
                                }
                                ix_take(e);
                                if (audio_env[i].obj)
                                        o = ix_obj(x, snd, audio_env[i].obj);
                                ix_set(x, o, audio_env[i].key, v);
                        }
                }
}

/* libvirt's <audio type=...> (libvirt 7.2 and later) to the profile's backends. */
static const struct {
        const char *type;
        unsigned backend;
} audio_types[] = {
        { "none", AUDIO_NONE }, { "alsa", AUDIO_ALSA }, { "pulseaudio", AUDIO_PA },
        { "pipewire", AUDIO_PIPEWIRE }, { "spice", AUDIO_SPICE }, { "file", AUDIO_WAV },
};

static void map_audio(struct ix *x, xmlNode *devs, json_t *snd)
{
        ix_for_each(a, devs, "audio") {
                const char *t = ix_attr(a, "type"), *s;
                xmlNode *out;
                size_t i;

                for (i = 0; t && i < ELEMENTSOF(audio_types); i++)
                        if (!strcmp(t, audio_types[i].type))
                                break;
                if (!t || i == ELEMENTSOF(audio_types)) {
                        ix_omit(x, a, "audio backend \"%s\" has no profile value", t ? t : "");
                        continue;
                }
                if (!snd) {
                        if (audio_types[i].backend == AUDIO_NONE || audio_types[i].backend == AUDIO_SPICE)
                                ix_take_all(a); /* what virt-manager adds to every guest: no card, no sound */
                        else
                                ix_omit(x, a, "an audio backend without a <sound> card");
                        continue;
                }
                if (json_object_get(snd, "backend")) {
                        ix_omit(x, a, "QEMU_AUDIO_DRV in <qemu:env> already chose the backend");
                        continue;
                }
                ix_take(a);
                ix_attr(a, "id");
                ix_set(x, snd, "backend", json_string(profile_sound_backend_name(audio_types[i].backend)));
                if ((s = ix_attr(a, "serverName")) && audio_types[i].backend == AUDIO_PA)
                        ix_set(x, ix_obj(x, snd, "pa"), "server", json_string(s));
                else if (s)
                        ix_omit(x, ix_attr_node(a, "serverName"), "a server for this backend has no profile key");
                if ((out = ix_child(a, "output")) && audio_types[i].backend == AUDIO_ALSA && ix_attr(out, "dev") &&
                    !ix_next(out, "output") && !out->properties->next) {
                        ix_take(out);
                        ix_set(x, ix_obj(x, snd, "alsa"), "dev", json_string(ix_attr(out, "dev")));
                }
        }
}

static void map_sound(struct ix *x, xmlNode *dom, xmlNode *devs)
{
        static const unsigned models[] = { SOUND_AC97, SOUND_ICH9, SOUND_ICH6 };
        xmlNode *s = ix_child(devs, "sound"), *n;
        json_t *snd = NULL;

        if (s) {
                const char *m = ix_attr(s, "model");
                size_t i;

                for (i = 0; i < ELEMENTSOF(models); i++)
                        if (m && !strcmp(m, profile_sound_model_name(models[i])))
                                break;
                if (i == ELEMENTSOF(models))
                        ix_omit(x, s, "sound model \"%s\": ac97, ich9 or ich6", m ? m : "");
                else {
                        ix_take(s);
                        snd = ix_obj(x, x->p, "sound");
                        ix_set(x, snd, "model", json_string(m));
                        if ((n = ix_child(s, "address")))
                                ix_take_all(n); /* the launcher places emulated devices */
                        if ((n = ix_child(s, "alias")))
                                ix_take_all(n);
                        if ((n = ix_child(s, "audio")))
                                ix_take_all(n); /* which <audio> backend: there is one */
                }
                for (n = ix_next(s, "sound"); n; n = ix_next(n, "sound"))
                        ix_omit(x, n, "one sound card only");
        }
        map_audio_env(x, dom, snd);
        map_audio(x, devs, snd);
}

static void map_graphics(struct ix *x, xmlNode *devs)
{
        xmlNode *g = ix_child(devs, "graphics"), *n;
        const char *s;
        json_t *d;

        if (!g)
                return;
        if (!(s = ix_attr(g, "type")) || strcmp(s, "spice")) {
                ix_omit(x, g, "graphics type \"%s\": SPICE only", s ? s : "");
                return;
        }
        ix_take(g);
        d = ix_obj(x, x->p, "display");
        ix_set(x, d, "type", json_string(profile_display_type_name(DISPLAY_SPICE)));
        if ((s = ix_attr(g, "autoport")) && ix_bool(s) == 1) {
                ix_attr(g, "port"); /* a running domain's pick */
                ix_attr(g, "tlsPort");
                ix_set(x, d, "port", json_string("auto"));
        } else if ((s = ix_attr(g, "port")) && strcmp(s, "-1")) {
                json_t *v = uint_json(s, 65535);

                if (v && json_integer_value(v) > 0)
                        ix_set(x, d, "port", v);
                else {
                        json_decref(v);
                        ix_omit(x, ix_attr_node(g, "port"), "not a port 1-65535");
                }
        } else
                ix_set(x, d, "port", json_string("auto"));
        n = ix_child(g, "listen");
        s = ix_attr(g, "listen");
        if (n) {
                const char *lt = ix_attr(n, "type");

                if (lt && !strcmp(lt, "address")) {
                        ix_take(n);
                        if (ix_attr(n, "address"))
                                s = ix_attr(n, "address");
                } else
                        ix_omit(x, n, "listen type \"%s\": an address only (the profile's default is 127.0.0.1)",
                                lt ? lt : "");
        }
        if (s)
                ix_set(x, d, "listen", json_string(s));
        if ((n = ix_child(g, "image"))) {
                ix_take(n);
                ix_set(x, d, "image_compression", json_string(ix_attr(n, "compression") ?: ""));
        }
        if ((n = ix_child(g, "gl"))) {
                ix_take(n);
                ix_set(x, d, "gl", json_boolean(ix_bool(ix_attr(n, "enable")) == 1));
                if ((s = ix_attr(n, "rendernode")))
                        ix_set(x, d, "rendernode", json_string(s));
        }
        if ((n = ix_child(g, "clipboard")) && ix_bool(ix_attr(n, "copypaste")) == 0)
                ix_set(x, d, "clipboard", json_false());
        if ((n = ix_child(g, "filetransfer")) && ix_bool(ix_attr(n, "enable")) == 0)
                ix_set(x, d, "file_transfer", json_false());
        if ((s = ix_attr(g, "passwd")))
                ix_omit(x, ix_attr_node(g, "passwd"), "a password in the profile would be readable: put it in a "
                                                      "file of its own and give \"display.password_file\"");
        /* The SPICE agent: virt-manager's spicevmc channel. */
        ix_set(x, d, "agent", json_false());
        ix_for_each(c, devs, "channel") {
                const char *t = ix_attr(c, "type");
                xmlNode *tg = ix_child(c, "target");

                if (t && !strcmp(t, "spicevmc") && tg) {
                        ix_take_all(c);
                        ix_set(x, d, "agent", json_true());
                }
        }
        {
                int k = 0;

                ix_for_each(r, devs, "redirdev") {
                        const char *t = ix_attr(r, "type"), *b = ix_attr(r, "bus");

                        if (t && b && !strcmp(t, "spicevmc") && !strcmp(b, "usb") && k < 4) {
                                ix_take_all(r);
                                k++;
                        }
                }
                if (k)
                        ix_set(x, d, "usb_redirect", json_integer(k));
        }
}

static void map_video(struct ix *x, xmlNode *devs)
{
        ix_for_each(v, devs, "video") {
                xmlNode *m = ix_child(v, "model");
                const char *t = m ? ix_attr(m, "type") : NULL;
                json_t *d = json_object_get(x->p, "display");
                size_t i;

                /* libvirt writes the model types as the profile spells its videos, but "vga". */
                if (t && !strcmp(t, "vga"))
                        t = "std";
                for (i = 1; profile_video_name((unsigned) i); i++)
                        if (t && !strcmp(t, profile_video_name((unsigned) i)))
                                break;
                if (t && !strcmp(t, "none")) {
                        ix_take_all(v);
                        continue;
                }
                if (!profile_video_name((unsigned) i) || !d) {
                        ix_omit(x, v, d ? "video model \"%s\": qxl, virtio or vga"
                                        : "video without SPICE graphics has no profile key (%s)", t ? t : "");
                        continue;
                }
                ix_take_all(v); /* heads, ram, vram: QEMU's sizes */
                ix_set(x, d, "video", json_string(profile_video_name((unsigned) i)));
        }
}

static void map_misc(struct ix *x, xmlNode *devs)
{
        xmlNode *n;
        const char *s;

        if ((n = ix_child(devs, "memballoon"))) {
                s = ix_attr(n, "model");
                ix_take_all(n); /* address, stats period: the launcher's own */
                if (s && !strcmp(s, "virtio"))
                        ix_set(x, x->p, "balloon", json_true());
        }
        if ((n = ix_child(devs, "tpm"))) {
                xmlNode *b = ix_child(n, "backend");
                const char *m = ix_attr(n, "model"), *bt = b ? ix_attr(b, "type") : NULL,
                           *ver = b ? ix_attr(b, "version") : NULL;

                if (bt && !strcmp(bt, "emulator") && (!ver || !strcmp(ver, "2.0")) && m &&
                    (!strcmp(m, "tpm-crb") || !strcmp(m, "tpm-tis"))) {
                        ix_take_all(n);
                        ix_set(x, ix_obj(x, x->p, "tpm"), "model",
                               json_string(profile_tpm_model_name(!strcmp(m, "tpm-crb") ? TPM_MODEL_CRB : TPM_MODEL_TIS)));
                } else
                        ix_omit(x, n, "a TPM 2.0 on swtpm (backend emulator) only, model tpm-crb or tpm-tis");
        }
        if ((n = ix_child(devs, "watchdog"))) {
                const char *m = ix_attr(n, "model"), *a = ix_attr(n, "action");
                unsigned model = m && !strcmp(m, "itco") ? WATCHDOG_ITCO
                               : m && !strcmp(m, "i6300esb") ? WATCHDOG_I6300ESB : WATCHDOG_NONE;
                json_t *w;

                if (model == WATCHDOG_NONE) {
                        ix_omit(x, n, "watchdog model \"%s\": itco or i6300esb", m ? m : "");
                } else {
                        ix_take_all(n);
                        w = ix_obj(x, x->p, "watchdog");
                        ix_set(x, w, "model", json_string(profile_watchdog_model_name(model)));
                        /* libvirt's "inject-nmi" and "dump" spellings; dump has no QEMU action. */
                        if (a && !strcmp(a, "dump"))
                                ix_omit(x, ix_attr_node(n, "action"), "action dump has no profile value");
                        else if (a)
                                ix_set(x, w, "action", json_string(a));
                }
        }
        ix_for_each(sh, devs, "shmem") {
                xmlNode *m = ix_child(sh, "model"), *sz = ix_child(sh, "size");
                const char *name = ix_attr(sh, "name"), *t = m ? ix_attr(m, "type") : NULL;
                unsigned long long v, mult = 1;
                json_t *o;

                if (!name || !t || strcmp(t, "ivshmem-plain") || !sz || ix_uint(ix_text(sz), 1 << 30, &v) < 0) {
                        ix_omit(x, sh, "only ivshmem-plain with a name and a size");
                        continue;
                }
                s = ix_attr(sz, "unit");
                if (!s || !strcmp(s, "M") || !strcmp(s, "MiB"))
                        mult = 1;
                else if (!strcmp(s, "G") || !strcmp(s, "GiB"))
                        mult = 1024;
                else {
                        ix_omit(x, sh, "size unit \"%s\": M or G", s);
                        continue;
                }
                ix_take_all(sh);
                o = json_object();
                ix_set(x, o, "name", json_string(name));
                ix_set(x, o, "size", json_sprintf("%lluM", v * mult));
                if (json_array_append_new(ix_arr(x, x->p, "shmem"), o) < 0)
                        x->err = -ENOMEM;
        }
}

/* The virtio-scsi controller's I/O thread: the profile names it on each
 * scsi disk (they must all name the same). */
static void scsi_iothread(struct ix *x, xmlNode *c, xmlNode *drv)
{
        unsigned long long id;
        json_t *d;
        size_t i;

        if (ix_uint(ix_attr(drv, "iothread"), 16, &id) < 0 || id == 0 ||
            !json_array_get(json_object_get(x->p, "iothreads"), id - 1)) {
                ix_omit(x, ix_attr_node(drv, "iothread"), "no such iothread");
                return;
        }
        if (ix_attr(c, "index") && strcmp(ix_attr(c, "index"), "0")) {
                ix_omit(x, c, "a second SCSI controller: the profile has one, shared by every scsi disk");
                return;
        }
        json_array_foreach(json_object_get(x->p, "disks"), i, d) {
                const char *bus = json_string_value(json_object_get(d, "bus"));

                if (bus && !strcmp(bus, profile_disk_bus_name(DISK_BUS_SCSI)) && !json_object_get(d, "iothread"))
                        ix_set(x, d, "iothread", json_integer((json_int_t) id - 1));
        }
}

/* Controllers: the launcher makes its own PCIe root ports and SATA (q35's
 * AHCI), and the virtio-scsi controller when a disk is on scsi; a USB
 * controller is the profile's "usb". */
static void map_controllers(struct ix *x, xmlNode *devs)
{
        ix_for_each(c, devs, "controller") {
                const char *t = ix_attr(c, "type"), *m = ix_attr(c, "model");

                if (!t)
                        continue;
                if (!strcmp(t, "scsi") && m && !strcmp(m, "virtio-scsi")) {
                        xmlNode *drv = ix_child(c, "driver");

                        ix_take_all(c);
                        if (drv && ix_attr(drv, "iothread"))
                                scsi_iothread(x, c, drv);
                } else if (!strcmp(t, "pci") || !strcmp(t, "sata") || !strcmp(t, "virtio-serial")) {
                        ix_take_all(c);
                } else if (!strcmp(t, "usb")) {
                        unsigned v = !m || !strcmp(m, "qemu-xhci") ? USB_CONTROLLER_QEMU_XHCI
                                   : !strcmp(m, "nec-xhci")       ? USB_CONTROLLER_NEC_XHCI
                                   : !strcmp(m, "none")           ? USB_CONTROLLER_NONE
                                                                  : USB_CONTROLLER_DEFAULT;

                        if (v == USB_CONTROLLER_DEFAULT) {
                                ix_omit(x, c, "USB controller \"%s\": qemu-xhci or nec-xhci", m);
                                continue;
                        }
                        ix_take_all(c);
                        ix_set(x, ix_obj(x, x->p, "usb"), "controller", json_string(profile_usb_controller_name(v)));
                }
        }
        ix_for_each(c, devs, "channel") {
                xmlNode *tg = ix_child(c, "target");
                const char *name = tg ? ix_attr(tg, "name") : NULL;

                if (!ix_taken(c) && name && !strcmp(name, "org.qemu.guest_agent.0"))
                        ix_omit(x, c, "the QEMU guest agent's channel has no profile key");
        }
}

/* <source grabToggle>: libvirt's values (domaincommon.rng, since 7.6.0)
 * are QEMU's GrabToggleKeys, spelt as the profile spells them. */
static const char *grab_toggle(const char *s)
{
        for (unsigned v = GRAB_TOGGLE_CTRL_CTRL; v <= GRAB_TOGGLE_CTRL_SCROLLLOCK; v++)
                if (!strcmp(s, profile_grab_toggle_name(v)))
                        return profile_grab_toggle_name(v);
        return NULL;
}

/* <input type='evdev'>: QEMU's input-linux, as the profile's evdev input;
 * NULL when it is omitted. */
static json_t *map_evdev(struct ix *x, xmlNode *i)
{
        xmlNode *src = ix_child(i, "source");
        const char *dev = src ? ix_attr(src, "dev") : NULL, *s;
        size_t k;
        json_t *o, *v;

        if (!dev) {
                ix_omit(x, i, "an evdev input without <source dev>");
                return NULL;
        }
        if (dev[0] != '/' || strlen(dev) >= PROFILE_PATH_MAX) {
                ix_omit(x, i, "evdev '%s': an absolute path under %d bytes", dev, PROFILE_PATH_MAX);
                return NULL;
        }
        json_array_foreach(json_object_get(x->p, "inputs"), k, v)
                if (!strcmp(json_string_value(json_object_get(v, "evdev")) ?: "", dev)) {
                        ix_omit(x, i, "'%s' is an evdev input already (QEMU grabs a device once)", dev);
                        return NULL;
                }
        ix_take(src);
        o = json_object();
        ix_set(x, o, "evdev", json_string(dev));
        if ((s = ix_attr(src, "grab"))) {
                if (!strcmp(s, "all"))
                        ix_set(x, o, "grab_all", json_true());
                else
                        ix_omit(x, ix_attr_node(src, "grab"), "grab \"%s\": only \"all\"", s);
        }
        if ((s = ix_attr(src, "repeat"))) {
                if (ix_bool(s) == 1)
                        ix_set(x, o, "repeat", json_true());
                else if (ix_bool(s) < 0)
                        ix_omit(x, ix_attr_node(src, "repeat"), "repeat \"%s\": on or off", s);
        }
        if ((s = ix_attr(src, "grabToggle"))) {
                if (grab_toggle(s))
                        ix_set(x, o, "grab_toggle", json_string(grab_toggle(s)));
                else
                        ix_omit(x, ix_attr_node(src, "grabToggle"),
                                "grabToggle \"%s\": ctrl-ctrl, alt-alt, shift-shift, meta-meta, scrolllock or "
                                "ctrl-scrolllock",
                                s);
        }
        return o;
}

/* <input bus='virtio'>: the profile's virtio keyboard, mouse or tablet;
 * NULL when it is omitted. */
static json_t *map_virtio_input(struct ix *x, xmlNode *i, const char *type)
{
        static const struct {
                const char *type;
                enum input_type v;
        } types[] = {
                { "keyboard", INPUT_VIRTIO_KEYBOARD },
                { "mouse", INPUT_VIRTIO_MOUSE },
                { "tablet", INPUT_VIRTIO_TABLET },
        };
        json_t *o;

        for (size_t k = 0; k < ELEMENTSOF(types); k++)
                if (!strcmp(type, types[k].type)) {
                        /* virtio, -transitional, -non-transitional: on a
                         * PCIe root port QEMU offers the modern device only. */
                        (void) ix_attr(i, "model");
                        o = json_object();
                        ix_set(x, o, "type", json_string(profile_input_type_name(types[k].v)));
                        return o;
                }
        ix_omit(x, i, "a virtio input of type \"%s\": keyboard, mouse or tablet", type);
        return NULL;
}

/* <input>s, in the domain's order (the QEMU ids inputN follow it). q35
 * always has its PS/2 keyboard and mouse: libvirt lists them on every x86
 * domain, and they are taken as they are. A USB tablet, keyboard or mouse
 * (virt-manager adds a USB tablet for the SPICE or VNC cursor) has no
 * profile key: the omission names the virtio device that does the job
 * instead of putting it in its place, since a guest without virtio-input
 * drivers (Windows without virtio-win) would lose its pointer. */
static void map_inputs(struct ix *x, xmlNode *devs)
{
        ix_for_each(i, devs, "input") {
                const char *t = ix_attr(i, "type") ?: "", *b = ix_attr(i, "bus");
                json_t *o = NULL;
                xmlNode *n;

                /* libvirt's default bus on x86: usb for a tablet, ps2 else. */
                if (!b)
                        b = !strcmp(t, "tablet") ? "usb" : "ps2";
                if (!strcmp(t, "evdev") || !strcmp(b, "virtio")) {
                        if (json_array_size(json_object_get(x->p, "inputs")) >= PROFILE_INPUTS_MAX) {
                                ix_omit(x, i, "more than %d inputs", PROFILE_INPUTS_MAX);
                                continue;
                        }
                }
                if (!strcmp(t, "evdev"))
                        o = map_evdev(x, i);
                else if (!strcmp(t, "passthrough"))
                        ix_omit(x, i, "virtio-input-host passthrough has no profile key: an evdev input "
                                      "({\"evdev\": PATH} in \"inputs\") passes the device on through QEMU's "
                                      "input-linux");
                else if (!strcmp(b, "virtio"))
                        o = map_virtio_input(x, i, t);
                else if (!strcmp(b, "ps2") && (!strcmp(t, "keyboard") || !strcmp(t, "mouse")))
                        ix_take_all(i);
                else if (!strcmp(b, "usb") && !strcmp(t, "tablet"))
                        ix_omit(x, i, "a USB tablet has no profile key: {\"type\": \"virtio-tablet\"} in "
                                      "\"inputs\" is the absolute pointer (the guest needs virtio-input drivers)");
                else
                        ix_omit(x, i, "a %s on bus \"%s\" has no profile key: q35's PS/2 keyboard and mouse "
                                      "are always there; \"inputs\" adds virtio ones",
                                t, b);
                if (!o)
                        continue;
                ix_take(i);
                /* Guest placement (the launcher's) and a running domain's names. */
                if ((n = ix_child(i, "address")))
                        ix_take_all(n);
                if ((n = ix_child(i, "alias")))
                        ix_take_all(n);
                if (json_array_append_new(ix_arr(x, x->p, "inputs"), o) < 0)
                        x->err = -ENOMEM;
        }
}

void ix_map_devices(struct ix *x, xmlNode *dom)
{
        xmlNode *devs = ix_child(dom, "devices"), *n;
        const char *s;

        if (!devs)
                return;
        ix_take(devs);
        if ((n = ix_child(devs, "emulator"))) {
                s = ix_text(n);
                /* The launcher runs Debian's qemu-system-x86_64 from PATH. */
                if (strcmp(s, "/usr/bin/qemu-system-x86_64"))
                        ix_omit(x, n, "another QEMU binary has no profile key");
        }
        ix_for_each(h, devs, "hostdev")
                map_hostdev(x, h);
        ix_map_storage(x, devs);
        map_sound(x, dom, devs);
        map_graphics(x, devs);
        map_video(x, devs);
        map_misc(x, devs);
        map_controllers(x, devs);
        map_inputs(x, devs);
}
