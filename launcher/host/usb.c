/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The profile's host USB devices (usb.h). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "base/fs.h"
#include "base/macro.h"
#include "host/bind.h"
#include "host/devnode.h"
#include "host/journal.h"
#include "host/usb.h"

#define USB_CLASS_HUB 0x09

/* What SYS says about one device. */
struct usb_sysfs {
        unsigned busnum, devnum, major, minor, class;
        uint16_t vendor, product;
        char serial[PROFILE_USB_SERIAL_MAX]; /* "" = none */
};

static int read_attr(const struct host_roots *roots, const char *sysname, const char *attr, char *buf, size_t size)
{
        char path[PATH_MAX];

        if (fs_join(path, sizeof(path), roots->sysfs, "bus/usb/devices/%s/%s", sysname, attr) < 0)
                return -ENAMETOOLONG;
        return fs_read(path, buf, size);
}

static int parse_uint(const char *s, int base, unsigned max, unsigned *ret)
{
        unsigned long v;
        char *end;

        errno = 0;
        v = strtoul(s, &end, base);
        if (errno != 0 || end == s || *end != '\0' || v > max || s[0] == '-' || s[0] == '+')
                return -EINVAL;
        *ret = (unsigned) v;
        return 0;
}

/* 0, -ENOENT (gone, or not a device: an interface has no busnum), -EINVAL. */
static int read_device(const struct host_roots *roots, const char *sysname, struct usb_sysfs *ret)
{
        char buf[PROFILE_USB_SERIAL_MAX];
        unsigned v;
        int r;

        *ret = (struct usb_sysfs) {};
        if ((r = read_attr(roots, sysname, "busnum", buf, sizeof(buf))) < 0)
                return r;
        if (parse_uint(buf, 10, 255, &ret->busnum) < 0)
                return -EINVAL;
        if ((r = read_attr(roots, sysname, "devnum", buf, sizeof(buf))) < 0)
                return r;
        if (parse_uint(buf, 10, 127, &ret->devnum) < 0)
                return -EINVAL;
        if ((r = read_attr(roots, sysname, "idVendor", buf, sizeof(buf))) < 0)
                return r;
        if (strlen(buf) != 4 || parse_uint(buf, 16, 0xffff, &v) < 0)
                return -EINVAL;
        ret->vendor = (uint16_t) v;
        if ((r = read_attr(roots, sysname, "idProduct", buf, sizeof(buf))) < 0)
                return r;
        if (strlen(buf) != 4 || parse_uint(buf, 16, 0xffff, &v) < 0)
                return -EINVAL;
        ret->product = (uint16_t) v;
        if ((r = read_attr(roots, sysname, "bDeviceClass", buf, sizeof(buf))) < 0)
                return r;
        if (parse_uint(buf, 16, 0xff, &ret->class) < 0)
                return -EINVAL;
        if ((r = read_attr(roots, sysname, "dev", buf, sizeof(buf))) < 0)
                return r;
        if (sscanf(buf, "%u:%u", &ret->major, &ret->minor) != 2)
                return -EINVAL;
        /* Many devices have no serial number: no attribute at all. A longer
         * one than a profile can name matches no profile either. */
        r = read_attr(roots, sysname, "serial", ret->serial, sizeof(ret->serial));
        if (r < 0 && r != -ENOENT && r != -EFBIG)
                return r;
        if (r < 0)
                ret->serial[0] = '\0';
        return 0;
}

/* A device's own entry in SYS/bus/usb/devices: "B-P.P", never a root hub
 * ("usbB") or an interface ("B-P.P:C.I"). */
static bool is_device_name(const char *name)
{
        return name[0] >= '1' && name[0] <= '9' && strchr(name, '-') && !strchr(name, ':') &&
               strlen(name) < USB_SYSNAME_MAX;
}

/* The node of sysname, as SYS describes it, into *ret. */
static int node_of(const struct host_roots *roots, const char *sysname, const struct usb_sysfs *s,
                   const char *jpath, struct usb_node *ret, struct vl_error *e)
{
        char path[PATH_MAX];
        _cleanup_close_ int fd = -EBADF;
        struct stat st;
        int r;

        if (s->major != JOURNAL_USB_DEVICE_MAJOR)
                return vl_error_set_at(e, EINVAL, NULL, 0, 0, jpath,
                                       "USB device %s: its dev is %u:%u, not a usbfs node (major %d)", sysname,
                                       s->major, s->minor, JOURNAL_USB_DEVICE_MAJOR);
        if (fs_join(path, sizeof(path), roots->dev, "bus/usb/%03u/%03u", s->busnum, s->devnum) < 0)
                return vl_error_set_at(e, ENAMETOOLONG, NULL, 0, 0, jpath, "'%s': path too long", roots->dev);
        *ret = (struct usb_node) { .busnum = s->busnum, .devnum = s->devnum, .vendor = s->vendor,
                                   .product = s->product };
        strcpy(ret->sysname, sysname);
        r = devnode_resolve(roots, path, jpath, "USB device", ret->node, sizeof(ret->node), e);
        if (r < 0)
                return r;
        fd = devnode_open(ret->node);
        if (fd < 0)
                return vl_error_set_at(e, -fd, NULL, 0, 0, jpath, "cannot open '%s': %s", ret->node,
                                       strerror(-fd));
        if (fstat(fd, &st) < 0)
                return vl_error_set_at(e, errno, NULL, 0, 0, jpath, "cannot stat '%s': %s", ret->node,
                                       strerror(errno));
        if (!S_ISCHR(st.st_mode) || st.st_rdev != makedev(s->major, s->minor))
                return vl_error_set_at(e, EINVAL, NULL, 0, 0, jpath,
                                       "'%s' is not the node of USB device %s (%u:%u): refused", ret->node,
                                       sysname, s->major, s->minor);
        ret->rdev = st.st_rdev;
        return 0;
}

static int find_by_port(const struct host_roots *roots, const struct profile_usb_device *d, const char *jpath,
                        struct usb_node *ret, struct vl_error *e)
{
        char sysname[USB_SYSNAME_MAX], what[64];
        struct usb_sysfs s;
        int r;

        profile_usb_device_describe(d, what, sizeof(what));
        if (xsnprintf(sysname, sizeof(sysname), "%u-%s", d->bus, d->port) < 0)
                return vl_error_set_at(e, ENAMETOOLONG, NULL, 0, 0, jpath, "%s: port path too long", what);
        r = read_device(roots, sysname, &s);
        if (r == -ENOENT)
                return vl_error_set_at(e, ENOENT, NULL, 0, 0, jpath, "no USB device on %s (%s)", what, sysname);
        if (r < 0)
                return vl_error_set_at(e, -r, NULL, 0, 0, jpath, "cannot read USB device %s: %s", sysname,
                                       strerror(-r));
        if (s.class == USB_CLASS_HUB)
                return vl_error_set_at(e, EINVAL, NULL, 0, 0, jpath,
                                       "%s is a hub (%04x:%04x): the host reaches the devices behind it through "
                                       "it, name a device instead",
                                       what, s.vendor, s.product);
        return node_of(roots, sysname, &s, jpath, ret, e);
}

/* The disks in a "block" folder (dfd, taken): block/NAME/dev, asked what
 * the host has on NAME or its partitions (bind_block_holders()). The
 * number found (what names the disk), 0, or -errno. */
static int disks_in_use(const struct host_roots *roots, int dfd, struct bind_holders *h, char *what, size_t size,
                        struct vl_error *e)
{
        _cleanup_closedir_ DIR *dir = fdopendir(dfd);
        struct dirent *de;

        if (!dir) {
                (void) close(dfd);
                return 0;
        }
        while ((de = readdir(dir))) {
                _cleanup_close_ int af = -EBADF;
                char attr[300], dev[32];
                unsigned maj, min;
                ssize_t n;
                int r;

                if (de->d_name[0] == '.')
                        continue;
                (void) snprintf(attr, sizeof(attr), "%s/dev", de->d_name);
                af = openat(dirfd(dir), attr, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
                if (af < 0)
                        continue;
                n = read(af, dev, sizeof(dev) - 1);
                if (n <= 0)
                        continue;
                dev[n] = '\0';
                if (sscanf(dev, "%u:%u", &maj, &min) != 2)
                        continue;
                r = bind_block_holders(roots, makedev(maj, min), h, e);
                if (r < 0 && r != -ENOENT)
                        return r;
                if (r > 0) {
                        (void) snprintf(what, size, "/dev/%s", de->d_name);
                        return r;
                }
        }
        return 0;
}

/* sysname for a message: "3-1.2 (bus 3 device 5, serial "X")". */
static void append_candidate(char *buf, size_t size, const char *sysname, const struct usb_sysfs *s)
{
        size_t n = strlen(buf);

        if (n + 1 >= size)
                return;
        (void) snprintf(buf + n, size - n, "%s%s (bus %u device %u%s%s%s)", n ? ", " : "", sysname, s->busnum,
                        s->devnum, s->serial[0] ? ", serial \"" : ", no serial", s->serial,
                        s->serial[0] ? "\"" : "");
}

static int find_by_ids(const struct host_roots *roots, const struct profile_usb_device *d, const char *jpath,
                       struct usb_node *ret, struct vl_error *e)
{
        _cleanup_closedir_ DIR *dir = NULL;
        char path[PATH_MAX], what[PROFILE_USB_SERIAL_MAX + 32], found[USB_SYSNAME_MAX] = "";
        char listing[384] = "";
        struct usb_sysfs s, match = {};
        unsigned n = 0;
        struct dirent *de;

        profile_usb_device_describe(d, what, sizeof(what));
        if (fs_join(path, sizeof(path), roots->sysfs, "bus/usb/devices") < 0)
                return vl_error_set_at(e, ENAMETOOLONG, NULL, 0, 0, jpath, "'%s': path too long", roots->sysfs);
        dir = opendir(path);
        if (!dir && errno == ENOENT)
                return vl_error_set_at(e, ENOENT, NULL, 0, 0, jpath, "no USB device %s: this host has no USB (no '%s')",
                                       what, path);
        if (!dir)
                return vl_error_set_at(e, errno, NULL, 0, 0, jpath, "cannot open '%s': %s", path, strerror(errno));
        while ((errno = 0, de = readdir(dir))) {
                if (!is_device_name(de->d_name) || read_device(roots, de->d_name, &s) < 0)
                        continue;
                if (s.vendor != d->vendor || s.product != d->product || s.class == USB_CLASS_HUB)
                        continue;
                if (d->serial[0] && strcmp(s.serial, d->serial) != 0)
                        continue;
                append_candidate(listing, sizeof(listing), de->d_name, &s);
                if (n++ == 0) {
                        match = s;
                        strcpy(found, de->d_name);
                }
        }
        if (errno != 0)
                return vl_error_set_at(e, errno, NULL, 0, 0, jpath, "cannot read '%s': %s", path, strerror(errno));
        if (n == 0)
                return vl_error_set_at(e, ENOENT, NULL, 0, 0, jpath, "no USB device %s is plugged in", what);
        if (n > 1)
                return vl_error_set_at(e, ENOTUNIQ, NULL, 0, 0, jpath,
                                       "%u USB devices are %s: %s; tell them apart with \"serial\" or name one by "
                                       "\"bus\" and \"port\"",
                                       n, what, listing);
        return node_of(roots, found, &match, jpath, ret, e);
}

/* The block devices the kernel made of dir's device (a USB stick: its
 * interface's SCSI host, target, LUN, then block/sdX), each asked what the
 * host has on it. Real folders only, never a sysfs link (subsystem, driver,
 * port: they lead everywhere), to a bounded depth. Takes dfd. */
#define USB_BLOCK_DEPTH 8
static int block_in_use(const struct host_roots *roots, int dfd, unsigned depth, struct bind_holders *h,
                        char *what, size_t size, struct vl_error *e)
{
        _cleanup_closedir_ DIR *dir = fdopendir(dfd);
        struct dirent *de;
        int fd, r;

        if (!dir) {
                (void) close(dfd);
                return 0;
        }
        if (depth > USB_BLOCK_DEPTH)
                return 0;
        while ((de = readdir(dir))) {
                if (de->d_type != DT_DIR || de->d_name[0] == '.')
                        continue;
                fd = openat(dirfd(dir), de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (fd < 0)
                        continue;
                r = strcmp(de->d_name, "block") == 0 ? disks_in_use(roots, fd, h, what, size, e)
                                                     : block_in_use(roots, fd, depth + 1, h, what, size, e);
                if (r != 0)
                        return r;
        }
        return 0;
}

/* A USB disk whose file systems the host has mounted, or swap or a stacked
 * device on: QEMU taking the device would pull the disk from under them.
 * Refused, as a disk given to QEMU is (host/blockdev.c): no allow_in_use. */
static int check_in_use(const struct host_roots *roots, const struct usb_node *n, const char *jpath,
                        struct vl_error *e)
{
        char path[PATH_MAX], disk[300] = "", joined[600];
        struct bind_holders h = {};
        int fd, r;

        if (fs_join(path, sizeof(path), roots->sysfs, "bus/usb/devices/%s", n->sysname) < 0)
                return vl_error_set_at(e, ENAMETOOLONG, NULL, 0, 0, jpath, "'%s': path too long", roots->sysfs);
        /* The bus's link to the device's own folder is followed, nothing below. */
        fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return 0;
        r = block_in_use(roots, fd, 0, &h, disk, sizeof(disk), e);
        if (r < 0) {
                vl_error_prefix(e, "%s", jpath);
                return r;
        }
        if (r == 0)
                return 0;
        return vl_error_set_at(e, EBUSY, NULL, 0, 0, jpath,
                               "USB device %s (%04x:%04x) is the disk %s, in use on the host: %s; refused (unmount "
                               "it, turn its swap off or deactivate what is stacked on it first)",
                               n->sysname, n->vendor, n->product, disk, bind_holders_join(&h, joined, sizeof(joined)));
}

int usb_find(const struct host_roots *roots, const struct profile_usb_device *d, const char *jpath,
             struct usb_node *ret, struct vl_error *e)
{
        int r = d->by_port ? find_by_port(roots, d, jpath, ret, e) : find_by_ids(roots, d, jpath, ret, e);

        return r < 0 ? r : check_in_use(roots, ret, jpath, e);
}

int usb_plan(const struct host_roots *roots, const struct profile *p, struct usb_plan *ret, struct vl_error *e,
             struct vl_warnings *w)
{
        char jpath[64];
        int r;

        ret->n = 0;
        for (unsigned i = 0; i < p->usb.n_devices; i++) {
                struct usb_node *n = &ret->nodes[ret->n];
                struct vl_error fe = {};

                (void) snprintf(jpath, sizeof(jpath), "$.usb.devices[%u]", i);
                r = usb_find(roots, &p->usb.devices[i], jpath, n, &fe);
                if (r == -ENOENT && p->usb.devices[i].optional) {
                        vl_warn(w, "%s: %s (\"required\": false): the VM runs without it", jpath, fe.msg);
                        continue;
                }
                if (r < 0) {
                        *e = fe;
                        return r;
                }
                n->device = i;
                for (unsigned k = 0; k < ret->n; k++)
                        if (ret->nodes[k].rdev == n->rdev)
                                return vl_error_set_at(e, EINVAL, NULL, 0, 0, jpath,
                                                       "USB device %s is the one of $.usb.devices[%u] too",
                                                       n->sysname, ret->nodes[k].device);
                ret->n++;
        }
        return 0;
}

int usb_hand_over(const struct host_roots *roots, const char *vm, const struct usb_node *n, uid_t uid, gid_t gid,
                  struct vl_error *e)
{
        return devnode_hand_over(roots, vm, JOURNAL_USB, n->node, n->rdev, uid, gid, e);
}

int usb_open(const struct usb_node *n, struct vl_error *e)
{
        _cleanup_close_ int path_fd = devnode_open(n->node);
        char proc_fd[64];
        struct stat st;
        int fd;

        /* Checked before it is opened for real: no other device's driver
         * ever sees an open() from root through this name. */
        if (path_fd < 0)
                return vl_error_set(e, -path_fd, "cannot open '%s': %s", n->node, strerror(-path_fd));
        if (fstat(path_fd, &st) < 0)
                return vl_error_set(e, errno, "cannot stat '%s': %s", n->node, strerror(errno));
        if (!S_ISCHR(st.st_mode) || st.st_rdev != n->rdev)
                return vl_error_set(e, ESTALE, "'%s' is not USB device %s (%u:%u) any more", n->node, n->sysname,
                                    major(n->rdev), minor(n->rdev));
        /* Read-write: QEMU's usb-host opens hostdevice= O_RDWR, and an
         * fd set hands out only an fd of that access mode
         * (docs/facts.md#F-usb-host-fd). Through /proc/self/fd: this
         * inode, not whatever the name is now. */
        (void) snprintf(proc_fd, sizeof(proc_fd), "/proc/self/fd/%d", path_fd);
        fd = open(proc_fd, O_RDWR | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return vl_error_set(e, errno, "cannot open '%s': %s", n->node, strerror(errno));
        return fd;
}
