/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * hostcfg: generate the reference host's boot-time set-up for a profile. See
 * hostcfg.h. Not used in the forked child.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/fs.h"
#include "report/hostcfg.h"

#define PCI_VENDOR_NVIDIA 0x10deu
#define PCI_VENDOR_AMD 0x1002u
#define PCI_VENDOR_INTEL 0x8086u
#define CPUINFO_LINE_MAX 4096

/* An appender on a caller's buffer that remembers truncation, so a text is
 * built with plain calls and checked once at the end. */
struct text {
        char *buf;
        size_t size, len;
        bool truncated;
};

_printf_(2, 3) static void text_add(struct text *t, const char *fmt, ...)
{
        va_list ap;
        int n;

        if (t->truncated)
                return;
        va_start(ap, fmt);
        n = vsnprintf(t->buf + t->len, t->size - t->len, fmt, ap);
        va_end(ap);
        if (n < 0 || (size_t) n >= t->size - t->len) {
                t->truncated = true;
                return;
        }
        t->len += (size_t) n;
}

static int text_done(const struct text *t)
{
        return t->truncated ? -ENAMETOOLONG : 0;
}

static int read_cpu_vendor(const char *proc_root, enum hostcfg_cpu *ret, struct vl_error *e)
{
        _cleanup_fclose_ FILE *f = NULL;
        char path[PROFILE_PATH_MAX], line[CPUINFO_LINE_MAX];
        int r;

        r = fs_join(path, sizeof(path), proc_root, "cpuinfo");
        if (r < 0)
                return vl_error_set(e, -r, "%s: path too long", proc_root);
        f = fopen(path, "re");
        if (!f)
                return vl_error_set(e, errno, "%s: %s", path, strerror(errno));
        /* Every CPU repeats the same vendor_id: the first one decides. */
        while (fgets(line, sizeof(line), f)) {
                if (strncmp(line, "vendor_id", 9) != 0)
                        continue;
                if (strstr(line, "GenuineIntel")) {
                        *ret = HOSTCFG_CPU_INTEL;
                        return 0;
                }
                /* Hygon's Dhyana is a Zen licence with AMD's IOMMU. */
                if (strstr(line, "AuthenticAMD") || strstr(line, "HygonGenuine")) {
                        *ret = HOSTCFG_CPU_AMD;
                        return 0;
                }
                break;
        }
        return vl_error_set(e, ENODEV, "%s: the CPU is neither Intel nor AMD: no IOMMU parameter known",
                            path);
}

/* Which drivers would take a device first, and so must wait for vfio-pci.
 * class_known false: no sysfs to ask, and a GPU vendor's other functions
 * are its HDMI audio, so both kinds are assumed. */
static unsigned drivers_for(uint16_t vendor, bool class_known, uint32_t class_code)
{
        unsigned base = class_code >> 16, sub = (class_code >> 8) & 0xffu;
        bool display = !class_known || base == 0x03;
        bool audio = class_known ? (base == 0x04 && sub == 0x03)
                                 : (vendor == PCI_VENDOR_NVIDIA || vendor == PCI_VENDOR_AMD);
        unsigned d = 0;

        if (display && vendor == PCI_VENDOR_NVIDIA)
                d |= HOSTCFG_DRV_NVIDIA | HOSTCFG_DRV_NOUVEAU;
        if (display && vendor == PCI_VENDOR_AMD)
                d |= HOSTCFG_DRV_AMDGPU | HOSTCFG_DRV_RADEON;
        if (display && class_known && vendor == PCI_VENDOR_INTEL)
                d |= HOSTCFG_DRV_I915;
        if (audio)
                d |= HOSTCFG_DRV_SND_HDA_INTEL;
        return d;
}

static int read_attr(const char *sysfs_root, const char *dev, const char *attr, uint32_t *ret,
                     struct vl_error *e)
{
        char path[PROFILE_PATH_MAX];
        int r;

        r = fs_join(path, sizeof(path), sysfs_root, "bus/pci/devices/%s/%s", dev, attr);
        if (r < 0)
                return vl_error_set(e, -r, "%s: path too long", sysfs_root);
        r = fs_read_hex(path, ret);
        if (r < 0)
                return vl_error_set(e, -r, "%s: %s", path, strerror(-r));
        return 0;
}

int hostcfg_collect(const struct profile *p, const char *sysfs_root, const char *proc_root,
                    struct hostcfg *ret, struct vl_error *e)
{
        struct hostcfg h = {};
        int r;

        if (p->n_hostdevs == 0)
                return vl_error_set(e, EINVAL, "profile \"%s\" passes no PCI device through: nothing to set up",
                                    p->name);
        h.n_names = 1;
        memcpy(h.names[0], p->name, sizeof(h.names[0]));
        r = read_cpu_vendor(proc_root, &h.cpu, e);
        if (r < 0)
                return r;

        for (unsigned i = 0; i < p->n_hostdevs; i++) {
                const struct profile_hostdev *d = &p->hostdevs[i];
                char addr[PCI_ADDR_STRLEN];
                struct hostcfg_id id;
                uint32_t v, dv, cls = 0;
                bool dup = false, class_known;

                pci_addr_format(&d->host, addr);
                if (d->ids_set) {
                        id.vendor = d->vendor;
                        id.device = d->device;
                } else {
                        r = read_attr(sysfs_root, addr, "vendor", &v, e);
                        if (r >= 0)
                                r = read_attr(sysfs_root, addr, "device", &dv, e);
                        if (r < 0) {
                                vl_error_prefix(e, "$.hostdevs[%u] has no \"vendor_device\" and its ids cannot be read", i);
                                return r;
                        }
                        id.vendor = (uint16_t) v;
                        id.device = (uint16_t) dv;
                }
                /* The class only refines the softdeps: its absence (no such
                 * device on this host yet) is not an error. */
                class_known = read_attr(sysfs_root, addr, "class", &cls, NULL) >= 0;
                h.drivers |= drivers_for(id.vendor, class_known, cls);

                for (unsigned k = 0; k < h.n_ids; k++)
                        if (h.ids[k].vendor == id.vendor && h.ids[k].device == id.device)
                                dup = true;
                /* Two identical GPUs share one id: vfio_pci.ids lists it once. */
                if (!dup)
                        h.ids[h.n_ids++] = id;
        }
        *ret = h;
        return 0;
}

int hostcfg_merge(struct hostcfg *into, const struct hostcfg *from, struct vl_error *e)
{
        for (unsigned i = 0; i < from->n_names; i++) {
                for (unsigned k = 0; k < into->n_names; k++)
                        if (strcmp(into->names[k], from->names[i]) == 0)
                                return vl_error_set(e, EEXIST, "profile \"%s\" is given twice", from->names[i]);
                if (into->n_names >= HOSTCFG_PROFILES_MAX)
                        return vl_error_set(e, E2BIG, "more than %d profiles", HOSTCFG_PROFILES_MAX);
                memcpy(into->names[into->n_names++], from->names[i], sizeof(into->names[0]));
        }
        for (unsigned i = 0; i < from->n_ids; i++) {
                bool dup = false;
                for (unsigned k = 0; k < into->n_ids && !dup; k++)
                        dup = into->ids[k].vendor == from->ids[i].vendor && into->ids[k].device == from->ids[i].device;
                if (!dup)
                        into->ids[into->n_ids++] = from->ids[i]; /* fits: each adds at most its own */
        }
        into->drivers |= from->drivers;
        return 0;
}

/* "\"win10\"" or "\"win10\", \"linux\"" */
static void add_names(struct text *t, const struct hostcfg *h)
{
        for (unsigned i = 0; i < h->n_names; i++)
                text_add(t, "%s\"%s\"", i ? ", " : "", h->names[i]);
}

static void add_ids(struct text *t, const struct hostcfg *h, const char *sep)
{
        for (unsigned i = 0; i < h->n_ids; i++)
                text_add(t, "%s%04x:%04x", i ? sep : "", h->ids[i].vendor, h->ids[i].device);
}

int hostcfg_cmdline(const struct hostcfg *h, char *buf, size_t size)
{
        struct text t = { buf, size, 0, size == 0 };

        text_add(&t, "iommu=1 %s iommu=pt rd.driver.pre=vfio-pci video=efifb:off vfio_pci.ids=",
                 h->cpu == HOSTCFG_CPU_INTEL ? "intel_iommu=on" : "amd_iommu=on");
        add_ids(&t, h, ",");
        return text_done(&t);
}

static void add_header(struct text *t, const struct hostcfg *h)
{
        /* The names are read back by check_one(): a later --write must not
         * drop the set-up of a profile it was not given. */
        text_add(t, HOSTCFG_MARK " for profile%s ", h->n_names > 1 ? "s" : "");
        add_names(t, h);
        text_add(t, ".\n"
                    "# `vfio-launch host-config --write` rewrites this file: change the profile, not this.\n");
}

int hostcfg_modules_text(const struct hostcfg *h, char *buf, size_t size)
{
        struct text t = { buf, size, 0, size == 0 };

        add_header(&t, h);
        /* modules-load.d takes names only; vfio_pci's ids are in modprobe.d. */
        text_add(&t, "vfio\nvfio_iommu_type1\nvfio_pci\n");
        return text_done(&t);
}

static const char *const driver_names[] = {
        "nvidia", "nouveau", "amdgpu", "radeon", "i915", "snd_hda_intel",
};

int hostcfg_modprobe_text(const struct hostcfg *h, char *buf, size_t size)
{
        struct text t = { buf, size, 0, size == 0 };

        add_header(&t, h);
        text_add(&t, "# Load vfio-pci before the drivers that would take ");
        add_ids(&t, h, " ");
        text_add(&t, ".\n");
        for (unsigned i = 0; i < ELEMENTSOF(driver_names); i++)
                if (h->drivers & (1u << i))
                        text_add(&t, "softdep %s pre: vfio vfio_pci\n", driver_names[i]);
        text_add(&t, "options vfio_pci ids=");
        add_ids(&t, h, ",");
        /* disable_vga: keep the VGA arbiter from routing legacy VGA to a
         * GPU the host no longer drives. */
        text_add(&t, " disable_vga=1\n");
        return text_done(&t);
}

int hostcfg_report(const struct hostcfg *h, char *buf, size_t size)
{
        struct text t = { buf, size, 0, size == 0 };
        char part[2048];
        int r;

        text_add(&t, "# Host set-up for ");
        add_names(&t, h);
        text_add(&t, ": %s CPU, devices ", h->cpu == HOSTCFG_CPU_INTEL ? "Intel" : "AMD");
        add_ids(&t, h, " ");
        text_add(&t, "\n\n## 1. Kernel command line\n"
                     "# Add to GRUB_CMDLINE_LINUX_DEFAULT in /etc/default/grub:\n");
        r = hostcfg_cmdline(h, part, sizeof(part));
        if (r < 0)
                return r;
        text_add(&t, "%s\n", part);
        text_add(&t, "# then regenerate the GRUB configuration (Debian, Ubuntu: the first; elsewhere the second):\n"
                     "update-grub\n"
                     "grub-mkconfig -o /boot/grub/grub.cfg\n"
                     "\n## 2. /" HOSTCFG_MODULES_FILE " (or the same lines in /etc/modules)\n");
        r = hostcfg_modules_text(h, part, sizeof(part));
        if (r < 0)
                return r;
        text_add(&t, "%s", part);
        text_add(&t, "\n## 3. /" HOSTCFG_MODPROBE_FILE "\n");
        r = hostcfg_modprobe_text(h, part, sizeof(part));
        if (r < 0)
                return r;
        text_add(&t, "%s", part);
        text_add(&t, "\n## 4. Initramfs\n"
                     "# The GPU's driver may load from the initramfs, before the files above are read:\n"
                     "# rebuild it so that it holds them (dracut: dracut -f).\n"
                     "update-initramfs -u\n"
                     "# Reboot, then `lspci -nnk` shows \"Kernel driver in use: vfio-pci\" for each device.\n"
                     "# `vfio-launch host-config --write PROFILE` writes files 2 and 3 (never GRUB).\n");
        return text_done(&t);
}

static bool has_name(const struct hostcfg *h, const char *name, size_t len)
{
        for (unsigned i = 0; i < h->n_names; i++)
                if (strlen(h->names[i]) == len && strncmp(h->names[i], name, len) == 0)
                        return true;
        return false;
}

static int check_one(const char *root, const char *rel, const struct hostcfg *h, struct vl_error *e)
{
        char path[PROFILE_PATH_MAX], head[1024] = {};
        _cleanup_close_ int fd = -EBADF;
        const char *q;
        ssize_t n;
        int r;

        r = fs_join(path, sizeof(path), root, "%s", rel);
        if (r < 0)
                return vl_error_set(e, -r, "%s: path too long", root);
        fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0 && errno == ENOENT)
                return 0;
        if (fd < 0)
                return vl_error_set(e, errno, "%s: %s", path, strerror(errno));
        n = read(fd, head, sizeof(head) - 1);
        if (n < 0)
                return vl_error_set(e, errno, "%s: %s", path, strerror(errno));
        if (strncmp(head, HOSTCFG_MARK, strlen(HOSTCFG_MARK)) != 0)
                return vl_error_set(e, EEXIST,
                                    "%s exists and vfio-launch did not write it: not overwritten (merge by hand, or remove it)",
                                    path);
        /* The profiles it was written for: `for profile[s] "a", "b".` on
         * the first line. Rewriting it without one of them would silently
         * take that VM's devices away from vfio-pci at the next boot. */
        head[strcspn(head, "\n")] = '\0';
        for (q = strchr(head + strlen(HOSTCFG_MARK), '"'); q; q = strchr(q, '"')) {
                const char *end = strchr(q + 1, '"');
                if (!end)
                        break;
                if (!has_name(h, q + 1, (size_t) (end - q - 1)))
                        return vl_error_set(e, ESRCH,
                                            "%s holds the set-up of profile \"%.*s\" too: writing it for the profiles "
                                            "given alone would drop that VM's devices at the next boot. Give every "
                                            "profile whose devices vfio-pci should claim at boot (host-config --write "
                                            "A.json B.json), or remove the file first",
                                            path, (int) (end - q - 1), q + 1);
                q = end + 1;
        }
        return 0;
}

int hostcfg_check_writable(const char *root, const struct hostcfg *h, struct vl_error *e)
{
        int r = check_one(root, HOSTCFG_MODPROBE_FILE, h, e);

        return r < 0 ? r : check_one(root, HOSTCFG_MODULES_FILE, h, e);
}

/* mkdir -p of the folders of rel under root (root itself must exist). */
static int make_parents(const char *root, const char *rel, struct vl_error *e)
{
        char path[PROFILE_PATH_MAX];
        size_t base;
        int r;

        r = fs_join(path, sizeof(path), root, "%s", rel);
        if (r < 0)
                return vl_error_set(e, -r, "%s: path too long", root);
        base = strlen(path) - strlen(rel);
        for (char *s = path + base; (s = strchr(s, '/')); s++) {
                *s = '\0';
                if (mkdir(path, 0755) < 0 && errno != EEXIST)
                        return vl_error_set(e, errno, "%s: %s", path, strerror(errno));
                *s = '/';
        }
        return 0;
}

static int write_one(const char *root, const char *rel, const char *data, struct vl_error *e)
{
        char path[PROFILE_PATH_MAX], tmp[PROFILE_PATH_MAX + 8];
        _cleanup_close_ int fd = -EBADF;
        size_t len = strlen(data);
        ssize_t n;
        int r;

        r = make_parents(root, rel, e);
        if (r < 0)
                return r;
        r = fs_join(path, sizeof(path), root, "%s", rel);
        if (r >= 0)
                r = xsnprintf(tmp, sizeof(tmp), "%s.tmp", path);
        if (r < 0)
                return vl_error_set(e, -r, "%s: path too long", root);
        (void) unlink(tmp); /* a leftover of an interrupted write */
        fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
        if (fd < 0)
                return vl_error_set(e, errno, "%s: %s", tmp, strerror(errno));
        /* umask must not decide how readable a boot configuration file is. */
        if (fchmod(fd, 0644) < 0)
                r = -errno;
        else {
                n = write(fd, data, len);
                r = n < 0 ? -errno : (size_t) n != len ? -EIO : 0;
        }
        if (r >= 0 && fsync(fd) < 0)
                r = -errno;
        if (r >= 0 && rename(tmp, path) < 0)
                r = -errno;
        if (r < 0) {
                (void) unlink(tmp);
                return vl_error_set(e, -r, "%s: %s", path, strerror(-r));
        }
        return 0;
}

int hostcfg_write(const struct hostcfg *h, const char *root, struct vl_error *e)
{
        char modprobe[2048], modules[1024];
        int r;

        r = hostcfg_modprobe_text(h, modprobe, sizeof(modprobe));
        if (r >= 0)
                r = hostcfg_modules_text(h, modules, sizeof(modules));
        if (r < 0)
                return vl_error_set(e, -r, "the generated files do not fit their buffers");
        r = hostcfg_check_writable(root, h, e);
        if (r < 0)
                return r;
        r = write_one(root, HOSTCFG_MODPROBE_FILE, modprobe, e);
        if (r < 0)
                return r;
        return write_one(root, HOSTCFG_MODULES_FILE, modules, e);
}
