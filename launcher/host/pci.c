/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * pci: device facts from sysfs and libpci. Read-only: nothing here writes.
 * libpci is wrapped so its error callback (which must not return) longjmps
 * back here instead of calling exit(1); see pci.h.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <pci/pci.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "base/fs.h"
#include "host/pci.h"

static int addr_cmp(const struct pci_addr *a, const struct pci_addr *b)
{
        uint32_t x = (uint32_t) a->domain << 16 | (uint32_t) a->bus << 8 | (uint32_t) a->slot << 3 | a->function;
        uint32_t y = (uint32_t) b->domain << 16 | (uint32_t) b->bus << 8 | (uint32_t) b->slot << 3 | b->function;
        return x < y ? -1 : x > y;
}

static int addr_qsort_cmp(const void *a, const void *b)
{
        return addr_cmp(a, b);
}

static int device_qsort_cmp(const void *a, const void *b)
{
        return addr_cmp(&((const struct pci_device *) a)->addr, &((const struct pci_device *) b)->addr);
}

static int dev_path(char *buf, size_t size, const char *sysfs_root, const struct pci_addr *a,
                    const char *attr)
{
        char name[PCI_ADDR_STRLEN];

        return fs_join(buf, size, sysfs_root, "bus/pci/devices/%s%s%s", pci_addr_format(a, name),
                          attr[0] ? "/" : "", attr);
}

int pci_device_read(const char *sysfs_root, const struct pci_addr *a, struct pci_device *ret,
                    struct vl_error *e)
{
        struct pci_device d = { .addr = *a, .iommu_group = -1 };
        char path[PATH_MAX], name[PCI_ADDR_STRLEN], buf[64];
        uint32_t v;
        int r;

        pci_addr_format(a, name);
        r = dev_path(path, sizeof(path), sysfs_root, a, "");
        if (r < 0)
                return vl_error_set(e, -r, "%s: path too long", name);
        if (!fs_exists(path))
                return -ENOENT;

        static const char *const ids[] = { "vendor", "device", "class" };
        for (size_t i = 0; i < ELEMENTSOF(ids); i++) {
                r = dev_path(path, sizeof(path), sysfs_root, a, ids[i]);
                if (r >= 0)
                        r = fs_read_hex(path, &v);
                if (r < 0)
                        return vl_error_set(e, EIO, "cannot read '%s': %s", path, strerror(-r));
                if (i == 0)
                        d.vendor_id = (uint16_t) v;
                else if (i == 1)
                        d.device_id = (uint16_t) v;
                else
                        d.class_code = v & 0xffffffu;
        }
        d.bridge = (d.class_code >> 8) == PCI_BRIDGE_CLASS;

        if (dev_path(path, sizeof(path), sysfs_root, a, "driver") >= 0 &&
            fs_read_link_name(path, d.driver, sizeof(d.driver)) < 0)
                d.driver[0] = '\0';
        if (d.driver[0] && dev_path(path, sizeof(path), sysfs_root, a, "driver/module") >= 0 &&
            fs_read_link_name(path, d.driver_module, sizeof(d.driver_module)) < 0)
                d.driver_module[0] = '\0';
        if (dev_path(path, sizeof(path), sysfs_root, a, "driver_override") >= 0 &&
            fs_read(path, d.driver_override, sizeof(d.driver_override)) >= 0) {
                if (strcmp(d.driver_override, "(null)") == 0)
                        d.driver_override[0] = '\0';
        } else
                d.driver_override[0] = '\0';
        if (dev_path(path, sizeof(path), sysfs_root, a, "iommu_group") >= 0 &&
            fs_read_link_name(path, buf, sizeof(buf)) >= 0) {
                char *end;
                long g;
                errno = 0;
                g = strtol(buf, &end, 10);
                if (errno != 0 || *end != '\0' || end == buf || g < 0 || g > INT_MAX)
                        return vl_error_set(e, EIO, "%s: iommu_group link \"%s\" is not a number", name, buf);
                d.iommu_group = (int) g;
        }
        if (dev_path(path, sizeof(path), sysfs_root, a, "boot_vga") >= 0 &&
            fs_read(path, buf, sizeof(buf)) >= 0)
                d.boot_vga = strcmp(buf, "1") == 0;

        *ret = d;
        return 0;
}

/* --- libpci ------------------------------------------------------------- */

struct pci_ctx {
        struct pci_access *acc;
        char sysfs_root[PATH_MAX];
        bool scanned;
        bool broken; /* libpci longjmped out: no further calls but cleanup */
};

/* libpci's callbacks carry no user pointer: the jump target is per thread. */
static __thread jmp_buf *pci_jump;
static __thread char pci_errmsg[256];

/* Declared with the attribute spelled as libpci spells it: clang treats
 * noreturn as part of the function type. */
static void on_pci_error(char *msg, ...) __attribute__((noreturn, format(printf, 1, 2)));
static void on_pci_error(char *msg, ...)
{
        va_list ap;

        va_start(ap, msg);
        (void) vsnprintf(pci_errmsg, sizeof(pci_errmsg), msg, ap);
        va_end(ap);
        if (pci_jump)
                longjmp(*pci_jump, 1);
        abort(); /* every libpci call below sets pci_jump first */
}

static void _printf_(1, 2) on_pci_quiet(char *msg, ...)
{
        /* Warnings and debug output: the library never prints. */
}

void pci_ctx_free(struct pci_ctx *c)
{
        if (!c)
                return;
        /* Also after a longjmp: libpci raises its errors before it links a
         * new device into its list, so the list it frees is consistent (at
         * worst the one device being read leaks). Should cleanup itself
         * fail, the rest is leaked rather than the process ended. */
        if (c->acc) {
                jmp_buf jb;
                pci_jump = &jb;
                if (setjmp(jb) == 0)
                        pci_cleanup(c->acc);
                pci_jump = NULL;
        }
        free(c);
}

int pci_ctx_new(const char *sysfs_root, const char *ids_file, struct pci_ctx **ret,
                struct vl_error *e)
{
        struct pci_ctx *volatile c = NULL;
        char path[PATH_MAX];
        jmp_buf jb;
        int r;

        r = fs_join(path, sizeof(path), sysfs_root, "bus/pci");
        if (r < 0)
                return vl_error_set(e, -r, "sysfs root \"%s\" is too long", sysfs_root);
        c = calloc(1, sizeof(*c));
        if (!c)
                return vl_error_set(e, ENOMEM, "out of memory");
        (void) snprintf(c->sysfs_root, sizeof(c->sysfs_root), "%s", sysfs_root);

        pci_jump = &jb;
        if (setjmp(jb) != 0) {
                pci_jump = NULL;
                c->broken = true;
                pci_ctx_free(c);
                return vl_error_set(e, EIO, "libpci: %s", pci_errmsg);
        }
        c->acc = pci_alloc();
        c->acc->error = on_pci_error;
        c->acc->warning = on_pci_quiet;
        c->acc->debug = on_pci_quiet;
        /* Only the sysfs method: AUTO could fall back to port I/O as root. */
        c->acc->method = PCI_ACCESS_SYS_BUS_PCI;
        if (pci_set_param(c->acc, (char *) "sysfs.path", path) < 0)
                on_pci_error((char *) "no sysfs.path parameter in this libpci");
        if (ids_file)
                pci_set_name_list_path(c->acc, (char *) ids_file, 0);
        pci_init(c->acc);
        pci_jump = NULL;

        *ret = c;
        return 0;
}

void pci_ctx_fill_names(struct pci_ctx *c, struct pci_device *d)
{
        const int flags = PCI_LOOKUP_NO_NUMBERS | PCI_LOOKUP_NO_HWDB;
        char vbuf[PCI_NAME_MAX], dbuf[PCI_NAME_MAX];
        const char *volatile vn = NULL, *volatile dn = NULL;
        jmp_buf jb;

        d->vendor_name[0] = d->device_name[0] = '\0';
        if (!c || c->broken)
                return;
        pci_jump = &jb;
        if (setjmp(jb) != 0) {
                pci_jump = NULL;
                c->broken = true;
                return;
        }
        vn = pci_lookup_name(c->acc, vbuf, sizeof(vbuf), flags | PCI_LOOKUP_VENDOR, d->vendor_id);
        dn = pci_lookup_name(c->acc, dbuf, sizeof(dbuf), flags | PCI_LOOKUP_DEVICE, d->vendor_id,
                             d->device_id);
        pci_jump = NULL;
        if (vn)
                (void) snprintf(d->vendor_name, sizeof(d->vendor_name), "%s", vn);
        if (dn)
                (void) snprintf(d->device_name, sizeof(d->device_name), "%s", dn);
}

/* libpci's scan, wrapped on its own so nothing of the caller's lives across
 * the setjmp. */
static int scan_bus(struct pci_ctx *c, struct vl_error *e)
{
        jmp_buf jb;

        if (c->scanned)
                return 0;
        pci_jump = &jb;
        if (setjmp(jb) != 0) {
                pci_jump = NULL;
                c->broken = true;
                return vl_error_set(e, EIO, "libpci: %s", pci_errmsg);
        }
        pci_scan_bus(c->acc);
        pci_jump = NULL;
        c->scanned = true;
        return 0;
}

int pci_scan(struct pci_ctx *c, struct pci_device **ret, size_t *ret_n, struct vl_error *e)
{
        _cleanup_free_ struct pci_addr *addrs = NULL;
        _cleanup_free_ struct pci_device *devs = NULL;
        size_t n = 0, m = 0;
        int r;

        if (!c || c->broken)
                return vl_error_set(e, EINVAL, "libpci is not usable after an earlier error");
        r = scan_bus(c, e);
        if (r < 0)
                return r;
        addrs = calloc(PCI_SCAN_MAX, sizeof(*addrs));
        if (!addrs)
                return vl_error_set(e, ENOMEM, "out of memory");
        for (struct pci_dev *p = c->acc->devices; p; p = p->next) {
                if (n >= PCI_SCAN_MAX)
                        return vl_error_set(e, E2BIG, "more than %u PCI devices", PCI_SCAN_MAX);
                if (p->domain < 0 || p->domain > 0xffff)
                        continue; /* a domain a struct pci_addr cannot hold */
                addrs[n++] = (struct pci_addr) { .domain = (uint16_t) p->domain, .bus = p->bus,
                                                 .slot = p->dev, .function = p->func };
        }

        devs = calloc(n ? n : 1, sizeof(*devs));
        if (!devs)
                return vl_error_set(e, ENOMEM, "out of memory");
        for (size_t i = 0; i < n; i++) {
                r = pci_device_read(c->sysfs_root, &addrs[i], &devs[m], e);
                if (r == -ENOENT)
                        continue; /* removed since the scan */
                if (r < 0)
                        return r;
                pci_ctx_fill_names(c, &devs[m]);
                m++;
        }
        qsort(devs, m, sizeof(*devs), device_qsort_cmp);
        *ret = TAKE_PTR(devs);
        *ret_n = m;
        return 0;
}

static bool dir_has_entries(const char *path)
{
        _cleanup_closedir_ DIR *d = opendir(path);
        struct dirent *de;

        if (!d)
                return false;
        while ((de = readdir(d)))
                if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
                        return true;
        return false;
}

bool pci_iommu_enabled(const char *sysfs_root)
{
        char path[PATH_MAX];

        if (fs_join(path, sizeof(path), sysfs_root, "class/iommu") >= 0 && dir_has_entries(path))
                return true;
        return fs_join(path, sizeof(path), sysfs_root, "kernel/iommu_groups") >= 0 &&
               dir_has_entries(path);
}

int pci_irq_remapping(const char *proc_root)
{
        _cleanup_fclose_ FILE *f = NULL;
        char path[PATH_MAX], line[1024];
        bool chips = false;

        if (fs_join(path, sizeof(path), proc_root, "interrupts") < 0)
                return -ENAMETOOLONG;
        f = fopen(path, "re");
        if (!f)
                return -errno;
        while (fgets(line, sizeof(line), f)) {
                if (strstr(line, "IR-IO-APIC") || strstr(line, "IR-PCI-MSI"))
                        return 1;
                chips = chips || strstr(line, "IO-APIC") || strstr(line, "PCI-MSI");
        }
        return chips ? 0 : -ENODATA;
}

bool pci_vfio_unsafe_interrupts(const char *sysfs_root)
{
        char path[PATH_MAX], buf[8] = "";
        _cleanup_fclose_ FILE *f = NULL;

        if (fs_join(path, sizeof(path), sysfs_root,
                       "module/vfio_iommu_type1/parameters/allow_unsafe_interrupts") < 0)
                return false;
        f = fopen(path, "re");
        return f && fgets(buf, sizeof(buf), f) && (buf[0] == 'Y' || buf[0] == '1');
}

int pci_group_members(const char *sysfs_root, int group, struct pci_addr *ret, size_t max,
                      size_t *ret_n, struct vl_error *e)
{
        _cleanup_closedir_ DIR *d = NULL;
        char path[PATH_MAX];
        struct dirent *de;
        size_t n = 0;
        int r;

        r = fs_join(path, sizeof(path), sysfs_root, "kernel/iommu_groups/%d/devices", group);
        if (r < 0)
                return vl_error_set(e, -r, "sysfs root too long");
        d = opendir(path);
        if (!d)
                return errno == ENOENT ? -ENOENT
                                       : vl_error_set(e, errno, "cannot list '%s': %s", path, strerror(errno));
        while ((de = readdir(d))) {
                struct pci_addr a;
                if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
                        continue;
                if (strlen(de->d_name) != 12 || pci_addr_parse(de->d_name, &a) < 0)
                        return vl_error_set(e, EIO, "%s/%s is not a PCI address", path, de->d_name);
                if (n >= max)
                        return vl_error_set(e, E2BIG, "IOMMU group %d has more than %zu devices", group, max);
                ret[n++] = a;
        }
        qsort(ret, n, sizeof(*ret), addr_qsort_cmp);
        *ret_n = n;
        return 0;
}

int pci_device_bars(const char *sysfs_root, const struct pci_addr *a, struct pci_bar *ret,
                    size_t max, size_t *ret_n)
{
        char path[PATH_MAX], buf[4096];
        size_t n = 0;
        int r;

        r = dev_path(path, sizeof(path), sysfs_root, a, "resource");
        if (r < 0)
                return r;
        r = fs_read(path, buf, sizeof(buf));
        if (r < 0)
                return r;
        for (char *line = buf, *next; line && *line; line = next) {
                unsigned long long s, t, f;
                next = strchr(line, '\n');
                if (next)
                        *next++ = '\0';
                if (sscanf(line, "%llx %llx %llx", &s, &t, &f) != 3)
                        return -EIO;
                if (s == 0 && t == 0)
                        continue;
                if (n < max)
                        ret[n++] = (struct pci_bar) { .start = s, .end = t, .flags = f };
        }
        *ret_n = n;
        return 0;
}

/* Names the kernel gives the firmware framebuffer's memory in /proc/iomem:
 * efifb and vesafb claim it by those names; sysfb registers the platform
 * device "simple-framebuffer" (simplefb/simpledrm); newer kernels reserve it
 * as "BOOTFB". */
static bool is_fb_region(const char *name)
{
        static const char *const names[] = { "efifb", "vesafb", "simple-framebuffer", "simpledrm",
                                             "BOOTFB" };
        for (size_t i = 0; i < ELEMENTSOF(names); i++)
                if (strncmp(name, names[i], strlen(names[i])) == 0)
                        return true;
        return false;
}

int pci_device_has_framebuffer(const char *sysfs_root, const char *proc_root,
                               const struct pci_device *d, char *what, size_t whatsize,
                               bool *ret_unknown)
{
        _cleanup_fclose_ FILE *f = NULL;
        _cleanup_closedir_ DIR *dir = NULL;
        struct pci_bar bars[16];
        char path[PATH_MAX], line[512], name[PCI_ADDR_STRLEN];
        bool nonzero = false, any_fb = false;
        size_t nbars = 0;
        struct dirent *de;
        int r;

        if (ret_unknown)
                *ret_unknown = false;
        pci_addr_format(&d->addr, name);

        /* A framebuffer device node bound to this PCI device (fbcon on a
         * native driver). */
        r = fs_join(path, sizeof(path), sysfs_root, "class/graphics");
        if (r < 0)
                return r;
        dir = opendir(path);
        while (dir && (de = readdir(dir))) {
                char link[PATH_MAX], target[64];
                if (strncmp(de->d_name, "fb", 2) != 0)
                        continue;
                if (fs_join(link, sizeof(link), sysfs_root, "class/graphics/%s/device", de->d_name) < 0)
                        continue;
                if (fs_read_link_name(link, target, sizeof(target)) >= 0 && strcmp(target, name) == 0) {
                        (void) snprintf(what, whatsize, "framebuffer %s", de->d_name);
                        return 1;
                }
        }

        r = pci_device_bars(sysfs_root, &d->addr, bars, ELEMENTSOF(bars), &nbars);
        if (r < 0 || nbars == 0)
                return 0; /* no resource file, no BARs: nothing to overlap */

        r = fs_join(path, sizeof(path), proc_root, "iomem");
        if (r < 0)
                return r;
        f = fopen(path, "re");
        if (!f)
                return errno == ENOENT ? 0 : -errno;
        while (fgets(line, sizeof(line), f)) {
                unsigned long long s, t;
                int off = 0;
                char *p = line;
                while (*p == ' ')
                        p++;
                if (sscanf(p, "%llx-%llx : %n", &s, &t, &off) != 2 || off == 0)
                        continue;
                if (s != 0 || t != 0)
                        nonzero = true;
                p += off;
                p[strcspn(p, "\n")] = '\0';
                if (!is_fb_region(p))
                        continue;
                any_fb = true;
                for (size_t i = 0; i < nbars; i++)
                        if (s <= bars[i].end && bars[i].start <= t && (s != 0 || t != 0)) {
                                (void) snprintf(what, whatsize, "%s at %llx-%llx", p, s, t);
                                return 1;
                        }
        }
        if (any_fb && !nonzero && ret_unknown)
                *ret_unknown = true; /* /proc/iomem hides addresses from non-root */
        return 0;
}

/* --- who has the device open ------------------------------------------ */

#define NODES_MAX 24

static void add_node(char nodes[][64], size_t *n, const char *node)
{
        for (size_t i = 0; i < *n; i++)
                if (strcmp(nodes[i], node) == 0)
                        return;
        if (*n < NODES_MAX && strlen(node) < 64)
                strcpy(nodes[(*n)++], node);
}

static bool all_digits(const char *s)
{
        if (!*s)
                return false;
        for (; *s; s++)
                if (!isdigit((unsigned char) *s))
                        return false;
        return true;
}

static size_t device_nodes(const char *sysfs_root, const char *dev_root, const char *proc_root,
                           const struct pci_device *d, char nodes[][64])
{
        _cleanup_closedir_ DIR *dir = NULL;
        char path[PATH_MAX], name[PCI_ADDR_STRLEN], prefix[64], node[64 + 8];
        struct dirent *de;
        size_t n = 0;

        pci_addr_format(&d->addr, name);
        /* The kernel's own list of the device's DRM minors. */
        if (dev_path(path, sizeof(path), sysfs_root, &d->addr, "drm") >= 0 && (dir = opendir(path))) {
                while ((de = readdir(dir)))
                        if ((strncmp(de->d_name, "card", 4) == 0 || strncmp(de->d_name, "renderD", 7) == 0) &&
                            snprintf(node, sizeof(node), "dri/%s", de->d_name) < 64)
                                add_node(nodes, &n, node);
                closedir(TAKE_PTR(dir));
        }
        /* udev's by-path links: pci-0000:03:00.0-card -> ../card0 */
        (void) snprintf(prefix, sizeof(prefix), "pci-%s-", name);
        if (fs_join(path, sizeof(path), dev_root, "dri/by-path") >= 0 && (dir = opendir(path))) {
                while ((de = readdir(dir))) {
                        char link[PATH_MAX], target[48];
                        if (strncmp(de->d_name, prefix, strlen(prefix)) != 0)
                                continue;
                        if (fs_join(link, sizeof(link), dev_root, "dri/by-path/%s", de->d_name) >= 0 &&
                            fs_read_link_name(link, target, sizeof(target)) >= 0 &&
                            snprintf(node, sizeof(node), "dri/%s", target) < 64)
                                add_node(nodes, &n, node);
                }
                closedir(TAKE_PTR(dir));
        }
        if (strcmp(d->driver, "nvidia") == 0) {
                char info[2048];
                const char *m = NULL;
                if (fs_join(path, sizeof(path), proc_root, "driver/nvidia/gpus/%s/information", name) >= 0 &&
                    fs_read(path, info, sizeof(info)) >= 0)
                        m = strstr(info, "Device Minor:");
                if (m) {
                        unsigned minor;
                        if (sscanf(m, "Device Minor: %u", &minor) == 1) {
                                (void) snprintf(node, sizeof(node), "nvidia%u", minor);
                                add_node(nodes, &n, node);
                        }
                } else if (fs_join(path, sizeof(path), dev_root, "%s", "") >= 0 && (dir = opendir(path))) {
                        while ((de = readdir(dir)))
                                if (strncmp(de->d_name, "nvidia", 6) == 0 && all_digits(de->d_name + 6))
                                        add_node(nodes, &n, de->d_name);
                        closedir(TAKE_PTR(dir));
                }
                add_node(nodes, &n, "nvidiactl");
                add_node(nodes, &n, "nvidia-modeset");
        }
        return n;
}

static int opener_cmp(const void *a, const void *b)
{
        pid_t x = ((const struct pci_opener *) a)->pid, y = ((const struct pci_opener *) b)->pid;
        return x < y ? -1 : x > y;
}

int pci_device_openers(const char *sysfs_root, const char *dev_root, const char *proc_root,
                       const struct pci_device *d, struct pci_opener *ret, size_t max,
                       size_t *ret_n)
{
        char nodes[NODES_MAX][64], full[NODES_MAX][PATH_MAX / 4];
        _cleanup_closedir_ DIR *proc = NULL;
        char path[PATH_MAX];
        struct dirent *de;
        size_t nn, found = 0;

        *ret_n = 0;
        nn = device_nodes(sysfs_root, dev_root, proc_root, d, nodes);
        if (nn == 0)
                return 0;
        for (size_t i = 0; i < nn; i++)
                if (fs_join(full[i], sizeof(full[i]), dev_root, "%s", nodes[i]) < 0)
                        full[i][0] = '\0';

        proc = opendir(proc_root);
        if (!proc)
                return -errno;
        while ((de = readdir(proc))) {
                _cleanup_closedir_ DIR *fds = NULL;
                struct dirent *fe;
                if (!all_digits(de->d_name))
                        continue;
                if (fs_join(path, sizeof(path), proc_root, "%s/fd", de->d_name) < 0)
                        continue;
                fds = opendir(path);
                if (!fds)
                        continue; /* gone, or not ours to read */
                while ((fe = readdir(fds))) {
                        char link[PATH_MAX], target[PATH_MAX];
                        ssize_t k;
                        size_t hit = nn;
                        if (!all_digits(fe->d_name))
                                continue;
                        if (fs_join(link, sizeof(link), proc_root, "%s/fd/%s", de->d_name, fe->d_name) < 0)
                                continue;
                        k = readlink(link, target, sizeof(target) - 1);
                        if (k <= 0)
                                continue;
                        target[k] = '\0';
                        for (size_t i = 0; i < nn && hit == nn; i++)
                                if (full[i][0] && strcmp(target, full[i]) == 0)
                                        hit = i;
                        if (hit == nn)
                                continue;
                        if (found < max) {
                                struct pci_opener *o = &ret[found];
                                memset(o, 0, sizeof(*o));
                                o->pid = (pid_t) strtol(de->d_name, NULL, 10);
                                (void) snprintf(o->node, sizeof(o->node), "%s", nodes[hit]);
                                if (fs_join(path, sizeof(path), proc_root, "%s/comm", de->d_name) < 0 ||
                                    fs_read(path, o->comm, sizeof(o->comm)) < 0)
                                        o->comm[0] = '\0';
                        }
                        found++;
                        break; /* one entry per process */
                }
        }
        qsort(ret, found < max ? found : max, sizeof(*ret), opener_cmp);
        *ret_n = found;
        return 0;
}
