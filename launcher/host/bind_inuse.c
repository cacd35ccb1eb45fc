/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * bind: what on the host holds a PCI device, besides processes with its
 * nodes open (pci_device_openers()): bind_device_holders(), see bind.h;
 * and the same question for one block device a profile names as a disk
 * (bind_block_holders()): one answer to "what counts as in use".
 * Read only; every path is built from env->roots, and the link addresses and
 * routes come through env->ops (rtnetlink for the installed binary).
 *
 * "On the device" means that the sysfs node of the thing — a block device,
 * a network interface, a tty, a framebuffer, a virtio device — is the PCI
 * device's own folder or below it (SYS/devices/.../ADDR/...): the kernel
 * places every child device under its parent, whatever the bus in between
 * (virtio, NVMe, USB on a host controller). See docs/facts.md#F-inuse-block,
 * #F-inuse-net and #F-inuse-console for the layouts.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <net/if.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "base/fs.h"
#include "host/bind.h"
#include "host/handover.h"

#define BLOCKS_MAX 64 /* block devices of one PCI device, holders included */
#define TAGS_MAX 8    /* 9p / virtiofs tags of one PCI device */

struct blk {
        char name[NAME_MAX + 1];  /* "vda1", "dm-0", "nvme0n1" */
        char shown[NAME_MAX + 16]; /* how messages name it: "/dev/vda1", "/dev/mapper/vg-root" */
        char dm_name[128];        /* dm/name, "" for others */
        dev_t dev;
        bool has_dev;
};

struct finder {
        const struct bind_env *env;
        char devdir[PATH_MAX]; /* realpath of SYS/bus/pci/devices/ADDR */
        size_t devdir_len;
        struct bind_holders *ret;
        struct blk blocks[BLOCKS_MAX];
        size_t n_blocks;
        char tags[TAGS_MAX][64];  /* "9p hostroot", "virtiofs share" */
        size_t n_tags;
};

static void found(struct finder *f, const char *fmt, ...) _printf_(2, 3);
static void found(struct finder *f, const char *fmt, ...)
{
        struct bind_holders *h = f->ret;
        va_list ap;

        if (h->n < BIND_HOLDERS_MAX) {
                va_start(ap, fmt);
                (void) vsnprintf(h->what[h->n], sizeof(h->what[0]), fmt, ap);
                va_end(ap);
        }
        h->n++;
}

/* Whether the resolved path is the device's folder or below it. */
static bool under_device(const struct finder *f, const char *resolved)
{
        return strncmp(resolved, f->devdir, f->devdir_len) == 0 &&
               (resolved[f->devdir_len] == '\0' || resolved[f->devdir_len] == '/');
}

/* Whether SYS/REL (a class entry: a link to the device node, or a folder
 * with a `device` link) is on the PCI device. */
static bool on_device(const struct finder *f, const char *fmt, ...) _printf_(2, 3);
static bool on_device(const struct finder *f, const char *fmt, ...)
{
        char rel[PATH_MAX], path[PATH_MAX], dev[PATH_MAX], resolved[PATH_MAX];
        va_list ap;
        int n;

        va_start(ap, fmt);
        n = vsnprintf(rel, sizeof(rel), fmt, ap);
        va_end(ap);
        if (n < 0 || (size_t) n >= sizeof(rel) || fs_join(path, sizeof(path), f->env->roots->sysfs, "%s", rel) < 0)
                return false;
        if (realpath(path, resolved) && under_device(f, resolved))
                return true;
        return fs_join(dev, sizeof(dev), f->env->roots->sysfs, "%s/device", rel) >= 0 &&
               realpath(dev, resolved) && under_device(f, resolved);
}

/* "\040" and the other octal escapes of /proc/self/mountinfo and
 * /proc/swaps, decoded in place; control characters become '?' so that a
 * message stays one line. */
static void unescape(char *s)
{
        char *o = s;

        for (char *p = s; *p; p++) {
                if (p[0] == '\\' && p[1] >= '0' && p[1] <= '3' && p[2] >= '0' && p[2] <= '7' && p[3] >= '0' &&
                    p[3] <= '7') {
                        *o = (char) ((p[1] - '0') << 6 | (p[2] - '0') << 3 | (p[3] - '0'));
                        p += 3;
                } else
                        *o = *p;
                if ((unsigned char) *o < 0x20 || *o == 0x7f)
                        *o = '?';
                o++;
        }
        *o = '\0';
}

/* --- block devices ------------------------------------------------------- */

static struct blk *blk_find(struct finder *f, const char *name)
{
        for (size_t i = 0; i < f->n_blocks; i++)
                if (strcmp(f->blocks[i].name, name) == 0)
                        return &f->blocks[i];
        return NULL;
}

/* Add SYS/class/block/NAME to the set. 1 added, 0 known already. */
static int blk_add(struct finder *f, const char *name)
{
        char path[PATH_MAX], buf[32], dm[sizeof(f->blocks[0].dm_name)];
        size_t len = strlen(name);
        struct blk *b;
        unsigned maj, min;

        if (blk_find(f, name))
                return 0;
        if (len >= sizeof(b->name))
                return 0; /* not a kernel name */
        if (f->n_blocks >= BLOCKS_MAX)
                return -E2BIG;
        b = &f->blocks[f->n_blocks++];
        memset(b, 0, sizeof(*b));
        memcpy(b->name, name, len + 1);
        if (fs_join(path, sizeof(path), f->env->roots->sysfs, "class/block/%s/dev", name) >= 0 &&
            fs_read(path, buf, sizeof(buf)) >= 0 && sscanf(buf, "%u:%u", &maj, &min) == 2) {
                b->dev = makedev(maj, min);
                b->has_dev = true;
        }
        if (fs_join(path, sizeof(path), f->env->roots->sysfs, "class/block/%s/dm/name", name) < 0 ||
            fs_read(path, dm, sizeof(dm)) < 0)
                dm[0] = '\0';
        memcpy(b->dm_name, dm, sizeof(dm));
        if (dm[0])
                (void) snprintf(b->shown, sizeof(b->shown), "/dev/mapper/%s", dm);
        else
                (void) snprintf(b->shown, sizeof(b->shown), "/dev/%s", b->name);
        return 1;
}

/* A native NVMe multipath disk lives under SYS/devices/virtual/nvme-
 * subsystem/nvme-subsysN/, not under a controller; the subsystem's folder
 * links to each of its controllers (nvme0 -> .../ADDR/nvme/nvme0). The disk
 * is on the device when one of those controllers is. */
static bool nvme_head_on_device(const struct finder *f, const char *resolved)
{
        _cleanup_closedir_ DIR *dir = NULL;
        const char *p = strstr(resolved, "/nvme-subsystem/nvme-subsys");
        char subsys[PATH_MAX], link[PATH_MAX], target[PATH_MAX];
        struct dirent *de;
        size_t len;

        if (!p)
                return false;
        p += strlen("/nvme-subsystem/");
        len = (size_t) (p - resolved) + strcspn(p, "/");
        if (len >= sizeof(subsys))
                return false;
        memcpy(subsys, resolved, len);
        subsys[len] = '\0';
        dir = opendir(subsys);
        while (dir && (de = readdir(dir))) {
                const char *n = de->d_name;
                if (strncmp(n, "nvme", 4) != 0 || !isdigit((unsigned char) n[4]) || strspn(n + 4, "0123456789") != strlen(n + 4))
                        continue;
                if (snprintf(link, sizeof(link), "%s/%s", subsys, n) < (int) sizeof(link) && realpath(link, target) &&
                    under_device(f, target))
                        return true;
        }
        return false;
}

/* Whether any entry of SYS/class/block/NAME/SUB/ (holders, slaves) is in the set. */
static int add_listed(struct finder *f, const char *name, const char *sub, bool *changed)
{
        _cleanup_closedir_ DIR *dir = NULL;
        char path[PATH_MAX];
        struct dirent *de;
        int r;

        if (fs_join(path, sizeof(path), f->env->roots->sysfs, "class/block/%s/%s", name, sub) < 0)
                return 0;
        dir = opendir(path);
        while (dir && (de = readdir(dir))) {
                if (de->d_name[0] == '.')
                        continue;
                r = blk_add(f, de->d_name);
                if (r < 0)
                        return r;
                if (r > 0)
                        *changed = true;
        }
        return 0;
}

static bool any_slave_in_set(struct finder *f, const char *name)
{
        _cleanup_closedir_ DIR *dir = NULL;
        char path[PATH_MAX];
        struct dirent *de;

        if (fs_join(path, sizeof(path), f->env->roots->sysfs, "class/block/%s/slaves", name) < 0)
                return false;
        dir = opendir(path);
        while (dir && (de = readdir(dir)))
                if (de->d_name[0] != '.' && blk_find(f, de->d_name))
                        return true;
        return false;
}

/* The device's disks and partitions, then whatever is stacked on them
 * (dm, md, bcache: each lists its parts in slaves/, and each part lists it
 * in holders/), until nothing new turns up. */
static int find_blocks(struct finder *f)
{
        _cleanup_closedir_ DIR *dir = NULL;
        char path[PATH_MAX], resolved[PATH_MAX];
        struct dirent *de;
        bool changed = true;
        int r;

        if (fs_join(path, sizeof(path), f->env->roots->sysfs, "class/block") < 0)
                return -ENAMETOOLONG;
        dir = opendir(path);
        if (!dir)
                return 0; /* no block devices at all */
        while ((de = readdir(dir))) {
                if (de->d_name[0] == '.')
                        continue;
                if (fs_join(path, sizeof(path), f->env->roots->sysfs, "class/block/%s", de->d_name) < 0 ||
                    !realpath(path, resolved))
                        continue;
                if (under_device(f, resolved) || nvme_head_on_device(f, resolved)) {
                        r = blk_add(f, de->d_name);
                        if (r < 0)
                                return r;
                }
        }
        for (unsigned pass = 0; changed && f->n_blocks > 0 && pass < 16; pass++) {
                changed = false;
                for (size_t i = 0; i < f->n_blocks; i++) {
                        char name[NAME_MAX + 1];
                        (void) snprintf(name, sizeof(name), "%s", f->blocks[i].name);
                        r = add_listed(f, name, "holders", &changed);
                        if (r < 0)
                                return r;
                }
                rewinddir(dir);
                while ((de = readdir(dir)))
                        if (de->d_name[0] != '.' && !blk_find(f, de->d_name) && any_slave_in_set(f, de->d_name)) {
                                r = blk_add(f, de->d_name);
                                if (r < 0)
                                        return r;
                                changed = true;
                        }
        }
        return 0;
}

/* The member of the set a /dev path names: by the kernel name
 * (/dev/vda1, /dev/dm-0), the device-mapper name (/dev/mapper/NAME), or
 * the device number of the node it resolves to under DEV (udev's links:
 * /dev/disk/by-uuid/...). */
static const struct blk *blk_by_path(struct finder *f, const char *path)
{
        char node[PATH_MAX];
        struct stat st;

        if (strncmp(path, "/dev/", 5) != 0)
                return NULL;
        if (strncmp(path + 5, "mapper/", 7) == 0) {
                for (size_t i = 0; i < f->n_blocks; i++)
                        if (f->blocks[i].dm_name[0] && strcmp(f->blocks[i].dm_name, path + 12) == 0)
                                return &f->blocks[i];
        } else if (!strchr(path + 5, '/')) {
                const struct blk *b = blk_find(f, path + 5);
                if (b)
                        return b;
        }
        if (fs_join(node, sizeof(node), f->env->roots->dev, "%s", path + 5) >= 0 && stat(node, &st) == 0 &&
            S_ISBLK(st.st_mode))
                for (size_t i = 0; i < f->n_blocks; i++)
                        if (f->blocks[i].has_dev && f->blocks[i].dev == st.st_rdev)
                                return &f->blocks[i];
        return NULL;
}

/* --- file systems by tag: 9p and virtiofs ------------------------------------ */

static void add_tag(struct finder *f, const char *fstype, const char *tag)
{
        if (f->n_tags < TAGS_MAX && tag[0])
                (void) snprintf(f->tags[f->n_tags++], sizeof(f->tags[0]), "%s %.40s", fstype, tag);
}

/* virtio-9p puts `mount_tag` in its virtio device's folder (under the PCI
 * device); virtiofs registers SYS/fs/virtiofs/N with `tag` and a `device`
 * link. */
static void find_tags(struct finder *f)
{
        _cleanup_closedir_ DIR *dir = NULL;
        char path[PATH_MAX], tag[64];
        struct dirent *de;

        dir = opendir(f->devdir);
        while (dir && (de = readdir(dir)))
                if (strncmp(de->d_name, "virtio", 6) == 0 &&
                    snprintf(path, sizeof(path), "%s/%s/mount_tag", f->devdir, de->d_name) < (int) sizeof(path) &&
                    fs_read(path, tag, sizeof(tag)) >= 0)
                        add_tag(f, "9p", tag);
        if (dir)
                closedir(TAKE_PTR(dir));
        if (fs_join(path, sizeof(path), f->env->roots->sysfs, "fs/virtiofs") < 0)
                return;
        dir = opendir(path);
        while (dir && (de = readdir(dir)))
                if (de->d_name[0] != '.' && on_device(f, "fs/virtiofs/%s", de->d_name) &&
                    fs_join(path, sizeof(path), f->env->roots->sysfs, "fs/virtiofs/%s/tag", de->d_name) >= 0 &&
                    fs_read(path, tag, sizeof(tag)) >= 0)
                        add_tag(f, "virtiofs", tag);
}

/* --- mounts and swaps ---------------------------------------------------- */

/* PROC/self/mountinfo: "ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTS [OPTIONAL...] -
 * FSTYPE SOURCE SUPEROPTS" (proc(5)). A file system is on the device when
 * its device number is one of the set's, or (btrfs shows an anonymous
 * 0:N) its source names one, or it is a 9p / virtiofs mount of its tag. */
static int find_mounts(struct finder *f)
{
        _cleanup_fclose_ FILE *in = NULL;
        _cleanup_free_ char *line = NULL;
        char path[PATH_MAX];
        size_t cap = 0;

        if (fs_join(path, sizeof(path), f->env->roots->proc, "self/mountinfo") < 0)
                return -ENAMETOOLONG;
        in = fopen(path, "re");
        if (!in)
                return errno == ENOENT ? 0 : -errno;
        while (getline(&line, &cap, in) > 0) {
                char *field[6] = {}, *save = NULL, *tok, *fstype = NULL, *source = NULL;
                const struct blk *b = NULL;
                unsigned maj, min, n = 0;
                char shown[sizeof(f->blocks[0].shown)] = "";

                line[strcspn(line, "\n")] = '\0';
                for (tok = strtok_r(line, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
                        if (n < ELEMENTSOF(field))
                                field[n] = tok;
                        n++;
                        if (strcmp(tok, "-") == 0 && n > 6) {
                                fstype = strtok_r(NULL, " ", &save);
                                source = fstype ? strtok_r(NULL, " ", &save) : NULL;
                                break;
                        }
                }
                if (!fstype || !source || !field[2] || !field[4] || sscanf(field[2], "%u:%u", &maj, &min) != 2)
                        continue;
                unescape(field[4]);
                unescape(source);
                for (size_t i = 0; i < f->n_blocks && !b; i++)
                        if (f->blocks[i].has_dev && f->blocks[i].dev == makedev(maj, min))
                                b = &f->blocks[i];
                if (!b && f->n_blocks)
                        b = blk_by_path(f, source);
                if (b)
                        (void) snprintf(shown, sizeof(shown), "%s", b->shown);
                for (size_t i = 0; i < f->n_tags && !shown[0]; i++) {
                        size_t k = strcspn(f->tags[i], " ");
                        if (strncmp(f->tags[i], fstype, k) == 0 && fstype[k] == '\0' &&
                            strcmp(f->tags[i] + k + 1, source) == 0)
                                (void) snprintf(shown, sizeof(shown), "%s", f->tags[i]);
                }
                if (shown[0])
                        found(f, "the mounted filesystem %.80s (%s)", field[4], shown);
        }
        return 0;
}

/* PROC/swaps: a header line, then "FILENAME TYPE SIZE USED PRIORITY". A
 * swap file lives on a file system, which find_mounts() sees. */
static int find_swaps(struct finder *f)
{
        _cleanup_fclose_ FILE *in = NULL;
        char path[PATH_MAX], line[1024], name[PATH_MAX];
        bool header = true;

        if (fs_join(path, sizeof(path), f->env->roots->proc, "swaps") < 0)
                return -ENAMETOOLONG;
        in = fopen(path, "re");
        if (!in)
                return errno == ENOENT ? 0 : -errno;
        while (fgets(line, sizeof(line), in)) {
                const struct blk *b;
                if (header) {
                        header = false;
                        continue;
                }
                if (sscanf(line, "%4095s", name) != 1)
                        continue;
                unescape(name);
                b = blk_by_path(f, name);
                if (b)
                        found(f, "the active swap %s", b->shown);
        }
        return 0;
}

/* --- network interfaces ---------------------------------------------------- */

static void link_usage(const struct finder *f, int ifindex, struct net_link_usage *u)
{
        const struct bind_ops *ops = f->env->ops;

        memset(u, 0, sizeof(*u));
        /* Test doubles without the hook must not reach this machine's own
         * links (a fake tree's ifindex can be a real one). */
        if (!ops)
                (void) net_link_usage(ifindex, u);
        else if (ops->link_usage)
                (void) ops->link_usage(ops->userdata, ifindex, u);
}

static void append(char *buf, size_t size, const char *fmt, ...) _printf_(3, 4);
static void append(char *buf, size_t size, const char *fmt, ...)
{
        size_t len = strnlen(buf, size);
        va_list ap;

        if (len + 1 >= size)
                return;
        va_start(ap, fmt);
        (void) vsnprintf(buf + len, size - len, fmt, ap);
        va_end(ap);
}

/* An interface of the device is in use when it is up, has an address or a
 * route, or is stacked under another (a bridge or bond port, a VLAN, a
 * macvtap on it): IFF_UP in SYS/class/net/IF/flags, the `master` and
 * `upper_*` links, rtnetlink for addresses and routes. */
static void check_net_one(struct finder *f, const char *ifname)
{
        _cleanup_closedir_ DIR *dir = NULL;
        char path[PATH_MAX], buf[32], master[IFNAMSIZ + 1] = "", uppers[96] = "", parts[160] = "";
        struct net_link_usage u;
        struct dirent *de;
        unsigned flags = 0, uppers_n = 0;
        int ifindex = 0;

        if (fs_join(path, sizeof(path), f->env->roots->sysfs, "class/net/%s/flags", ifname) >= 0 &&
            fs_read(path, buf, sizeof(buf)) >= 0)
                flags = (unsigned) strtoul(buf, NULL, 16);
        if (fs_join(path, sizeof(path), f->env->roots->sysfs, "class/net/%s/ifindex", ifname) >= 0 &&
            fs_read(path, buf, sizeof(buf)) >= 0)
                ifindex = atoi(buf);
        if (fs_join(path, sizeof(path), f->env->roots->sysfs, "class/net/%s/master", ifname) < 0 ||
            fs_read_link_name(path, master, sizeof(master)) < 0)
                master[0] = '\0';
        if (fs_join(path, sizeof(path), f->env->roots->sysfs, "class/net/%s", ifname) >= 0)
                dir = opendir(path);
        while (dir && (de = readdir(dir))) {
                if (strncmp(de->d_name, "upper_", 6) != 0 || strcmp(de->d_name + 6, master) == 0)
                        continue;
                append(uppers, sizeof(uppers), "%s%s", uppers_n++ ? ", " : "", de->d_name + 6);
        }
        link_usage(f, ifindex, &u);

        if (flags & IFF_UP)
                append(parts, sizeof(parts), "up");
        if (u.n_addrs) {
                append(parts, sizeof(parts), "%saddress%s ", parts[0] ? ", " : "", u.n_addrs == 1 ? "" : "es");
                for (unsigned i = 0; i < u.n_addrs && i < NET_LINK_ADDRS_MAX; i++)
                        append(parts, sizeof(parts), "%s%s", i ? " " : "", u.addrs[i]);
                if (u.n_addrs > NET_LINK_ADDRS_MAX)
                        append(parts, sizeof(parts), " and %u more", u.n_addrs - NET_LINK_ADDRS_MAX);
        }
        if (u.n_routes)
                append(parts, sizeof(parts), "%s%u route%s%s", parts[0] ? ", " : "", u.n_routes,
                       u.n_routes == 1 ? "" : "s", u.default_route ? " incl. the default route" : "");
        if (master[0])
                append(parts, sizeof(parts), "%sa port of %s", parts[0] ? ", " : "", master);
        if (uppers_n)
                append(parts, sizeof(parts), "%sunder %s", parts[0] ? ", " : "", uppers);
        if (parts[0])
                found(f, "the network interface %s (%s)", ifname, parts);
}

static void find_net(struct finder *f)
{
        _cleanup_closedir_ DIR *dir = NULL;
        char path[PATH_MAX];
        struct dirent *de;

        if (fs_join(path, sizeof(path), f->env->roots->sysfs, "class/net") < 0)
                return;
        dir = opendir(path);
        while (dir && (de = readdir(dir)))
                if (de->d_name[0] != '.' && strlen(de->d_name) < IFNAMSIZ && on_device(f, "class/net/%s", de->d_name))
                        check_net_one(f, de->d_name);
}

/* --- the console ----------------------------------------------------------- */

static bool fbcon_bound(const struct finder *f)
{
        _cleanup_closedir_ DIR *dir = NULL;
        char path[PATH_MAX];
        struct dirent *de;

        if (fs_join(path, sizeof(path), f->env->roots->sysfs, "class/vtconsole") < 0)
                return false;
        dir = opendir(path);
        while (dir && (de = readdir(dir))) {
                char *end;
                unsigned long n;

                if (strncmp(de->d_name, "vtcon", 5) != 0 || !isdigit((unsigned char) de->d_name[5]))
                        continue;
                n = strtoul(de->d_name + 5, &end, 10);
                if (*end == '\0' && n < 64 && handover_vtcon_fbcon_bound(f->env->roots->sysfs, (unsigned) n) > 0)
                        return true;
        }
        return false;
}

/* A kernel console on one of the device's ttys (a serial card:
 * SYS/class/tty/console/active lists "ttyS4"), or the virtual terminals
 * drawn by fbcon on one of its framebuffers. */
static void find_console(struct finder *f)
{
        _cleanup_closedir_ DIR *dir = NULL;
        char path[PATH_MAX], active[256], *save = NULL;

        if (fs_join(path, sizeof(path), f->env->roots->sysfs, "class/tty/console/active") >= 0 &&
            fs_read(path, active, sizeof(active)) >= 0)
                for (char *t = strtok_r(active, " ", &save); t; t = strtok_r(NULL, " ", &save))
                        if (t[0] != '.' && !strchr(t, '/') && on_device(f, "class/tty/%s", t))
                                found(f, "the console %s", t);
        if (!fbcon_bound(f) || fs_join(path, sizeof(path), f->env->roots->sysfs, "class/graphics") < 0)
                return;
        dir = opendir(path);
        for (struct dirent *de; dir && (de = readdir(dir));)
                if (strncmp(de->d_name, "fb", 2) == 0 && isdigit((unsigned char) de->d_name[2]) &&
                    on_device(f, "class/graphics/%s", de->d_name))
                        found(f, "the console (fbcon on %s)", de->d_name);
}

/* A finder for the device at a, its answers going to ret. */
static int finder_new(const struct bind_env *env, const struct pci_addr *a, struct bind_holders *ret,
                      struct finder **out, struct vl_error *e)
{
        _cleanup_free_ struct finder *f = NULL;
        char path[PATH_MAX], addr[PCI_ADDR_STRLEN];
        int r;

        pci_addr_format(a, addr);
        f = calloc(1, sizeof(*f));
        if (!f)
                return vl_error_set(e, ENOMEM, "out of memory");
        f->env = env;
        f->ret = ret;
        r = fs_join(path, sizeof(path), env->roots->sysfs, "bus/pci/devices/%s", addr);
        if (r < 0)
                return vl_error_set(e, -r, "%s: sysfs path too long", addr);
        if (!realpath(path, f->devdir))
                return vl_error_set(e, errno, "%s: cannot resolve '%s': %s", addr, path, strerror(errno));
        f->devdir_len = strlen(f->devdir);
        *out = TAKE_PTR(f);
        return 0;
}

int bind_device_console(const struct host_roots *roots, const struct pci_addr *a, struct vl_error *e)
{
        const struct bind_env env = { .roots = roots };
        _cleanup_free_ struct finder *f = NULL;
        struct bind_holders h = {};
        int r;

        if (!roots || !roots->sysfs)
                return vl_error_set(e, EINVAL, "bind: incomplete environment (a root is NULL)");
        r = finder_new(&env, a, &h, &f, e);
        if (r < 0)
                return r;
        find_console(f);
        return h.n > 0;
}

int bind_device_holders(const struct bind_env *env, const struct pci_device *d, struct bind_holders *ret,
                        struct vl_error *e)
{
        _cleanup_free_ struct finder *f = NULL;
        char addr[PCI_ADDR_STRLEN];
        int r;

        memset(ret, 0, sizeof(*ret));
        if (!env || !env->roots || !env->roots->sysfs || !env->roots->proc || !env->roots->dev)
                return vl_error_set(e, EINVAL, "bind: incomplete environment (a root is NULL)");
        pci_addr_format(&d->addr, addr);
        r = finder_new(env, &d->addr, ret, &f, e);
        if (r < 0)
                return r;

        r = find_blocks(f);
        if (r == -E2BIG)
                return vl_error_set(e, E2BIG, "%s: more than %d block devices on it and stacked on them", addr,
                                    BLOCKS_MAX);
        if (r < 0)
                return vl_error_set(e, -r, "%s: cannot list its block devices: %s", addr, strerror(-r));
        find_tags(f);
        if (f->n_blocks || f->n_tags) {
                r = find_mounts(f);
                if (r < 0)
                        return vl_error_set(e, -r, "%s: cannot read '%s/self/mountinfo': %s", addr, env->roots->proc,
                                            strerror(-r));
        }
        if (f->n_blocks) {
                r = find_swaps(f);
                if (r < 0)
                        return vl_error_set(e, -r, "%s: cannot read '%s/swaps': %s", addr, env->roots->proc,
                                            strerror(-r));
        }
        find_net(f);
        find_console(f);
        return (int) (ret->n > INT_MAX ? INT_MAX : ret->n);
}

/* SYS/class/block/NAME whose dev is maj:min, into name. */
static int block_name_of(const struct host_roots *roots, unsigned maj, unsigned min, char *name, size_t size)
{
        _cleanup_closedir_ DIR *dir = NULL;
        char path[PATH_MAX], buf[32];
        struct dirent *de;
        unsigned a, b;

        if (fs_join(path, sizeof(path), roots->sysfs, "class/block") < 0)
                return -ENAMETOOLONG;
        dir = opendir(path);
        if (!dir)
                return -errno;
        while ((de = readdir(dir))) {
                if (de->d_name[0] == '.' ||
                    fs_join(path, sizeof(path), roots->sysfs, "class/block/%s/dev", de->d_name) < 0 ||
                    fs_read(path, buf, sizeof(buf)) < 0 || sscanf(buf, "%u:%u", &a, &b) != 2 || a != maj || b != min)
                        continue;
                if (strlen(de->d_name) >= size)
                        return -ENAMETOOLONG;
                strcpy(name, de->d_name);
                return 0;
        }
        return -ENOENT;
}

int bind_block_holders(const struct host_roots *roots, dev_t dev, struct bind_holders *ret, struct vl_error *e)
{
        _cleanup_free_ struct finder *f = NULL;
        struct bind_env env = { .roots = roots };
        char path[PATH_MAX], name[NAME_MAX + 1];
        unsigned maj = major(dev), min = minor(dev);
        int r;

        memset(ret, 0, sizeof(*ret));
        if (!roots || !roots->sysfs || !roots->proc || !roots->dev)
                return vl_error_set(e, EINVAL, "bind: incomplete environment (a root is NULL)");
        r = block_name_of(roots, maj, min, name, sizeof(name));
        if (r < 0)
                return vl_error_set(e, -r, "block device %u:%u: not in '%s/class/block': %s", maj, min, roots->sysfs,
                                    strerror(-r));
        f = calloc(1, sizeof(*f));
        if (!f)
                return vl_error_set(e, ENOMEM, "out of memory");
        f->env = &env;
        f->ret = ret;
        /* The disk's own folder: its partitions are below it, as a PCI
         * device's disks are below the device. */
        if (fs_join(path, sizeof(path), roots->sysfs, "class/block/%s", name) < 0 || !realpath(path, f->devdir))
                return vl_error_set(e, errno ? errno : ENAMETOOLONG, "%s: cannot resolve '%s': %s", name, path,
                                    strerror(errno ? errno : ENAMETOOLONG));
        f->devdir_len = strlen(f->devdir);
        r = find_blocks(f);
        if (r == -E2BIG)
                return vl_error_set(e, E2BIG, "/dev/%s: more than %d block devices on it and stacked on them", name,
                                    BLOCKS_MAX);
        if (r < 0)
                return vl_error_set(e, -r, "/dev/%s: cannot list its partitions and holders: %s", name, strerror(-r));
        /* Stacked on it (holders/: LVM, dm-crypt, md, bcache): the host
         * uses the disk through that device, mounted or not. */
        for (size_t i = 0; i < f->n_blocks; i++) {
                char dir[PATH_MAX], resolved[PATH_MAX];

                if (fs_join(dir, sizeof(dir), roots->sysfs, "class/block/%s", f->blocks[i].name) >= 0 &&
                    realpath(dir, resolved) && under_device(f, resolved))
                        continue;
                found(f, "the block device %s stacked on it", f->blocks[i].shown);
        }
        r = find_mounts(f);
        if (r < 0)
                return vl_error_set(e, -r, "/dev/%s: cannot read '%s/self/mountinfo': %s", name, roots->proc,
                                    strerror(-r));
        r = find_swaps(f);
        if (r < 0)
                return vl_error_set(e, -r, "/dev/%s: cannot read '%s/swaps': %s", name, roots->proc, strerror(-r));
        return (int) (ret->n > INT_MAX ? INT_MAX : ret->n);
}

char *bind_holders_join(const struct bind_holders *h, char *buf, size_t size)
{
        unsigned shown = h->n < BIND_HOLDERS_MAX ? h->n : BIND_HOLDERS_MAX;

        if (size == 0)
                return buf;
        buf[0] = '\0';
        for (unsigned i = 0; i < shown; i++) {
                const char *sep = i == 0 ? "" : i + 1 == shown && h->n == shown ? " and " : ", ";
                append(buf, size, "%s%s", sep, h->what[i]);
        }
        if (h->n > shown)
                append(buf, size, " and %u more", h->n - shown);
        return buf;
}
