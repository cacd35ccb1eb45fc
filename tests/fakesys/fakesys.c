/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* fakesys: the fake host and the kernel model used by the bind tests. See
 * fakesys.h for what the model does and why. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/fs.h"
#include "fakesys.h"
#include "host/sysfs.h"

#define MAX_DEVICES 64
#define MAX_DRIVERS 32
#define MAX_FAILS 16
#define MAX_GROUPS 64
#define MAX_LINKS 16

struct fake_device {
        char addr[16];
        int group;
        char native[64];
};

struct fake_driver {
        char name[64];
        char module[64]; /* "" built in */
        bool never_binds;
        bool module_missing;
};

struct fake_fail {
        char rel[256];
        int err;
};

struct fake_link {
        int ifindex;
        struct net_link_usage u;
};

struct fakesys {
        char top[PATH_MAX], sys[PATH_MAX], dev[PATH_MAX], proc[PATH_MAX], run[PATH_MAX], ids[PATH_MAX];
        struct fake_device devices[MAX_DEVICES];
        unsigned n_devices;
        struct fake_driver drivers[MAX_DRIVERS];
        unsigned n_drivers;
        struct fake_fail fails[MAX_FAILS];
        unsigned n_fails;
        int crash_at;
        bool crash_after_write;
        bool no_vfio_node;
        unsigned writes, modprobes;
        long released_owner[MAX_GROUPS];
        struct fake_link links[MAX_LINKS];
        unsigned n_links;
        struct bind_ops ops;
        struct host_roots roots; /* sys, dev, proc, run above */
        struct cpuset cpus;      /* fakesys_cpu()'s */
};

static _Noreturn _printf_(1, 2) void die(const char *fmt, ...)
{
        va_list ap;

        va_start(ap, fmt);
        fprintf(stderr, "fakesys: ");
        vfprintf(stderr, fmt, ap);
        fprintf(stderr, "\n");
        va_end(ap);
        abort();
}

static void _printf_(3, 4) pathf(char *buf, size_t size, const char *fmt, ...)
{
        va_list ap;
        int n;

        va_start(ap, fmt);
        n = vsnprintf(buf, size, fmt, ap);
        va_end(ap);
        if (n < 0 || (size_t) n >= size)
                die("path too long");
}

static void mkdir_p(const char *path)
{
        char buf[PATH_MAX];

        pathf(buf, sizeof(buf), "%s", path);
        for (char *p = buf + 1; *p; p++)
                if (*p == '/') {
                        *p = '\0';
                        if (mkdir(buf, 0755) < 0 && errno != EEXIST)
                                die("mkdir %s: %m", buf);
                        *p = '/';
                }
        if (mkdir(buf, 0755) < 0 && errno != EEXIST)
                die("mkdir %s: %m", buf);
}

static void write_file(const char *path, const char *content, mode_t mode)
{
        int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, mode);
        size_t n = strlen(content);

        if (fd < 0)
                die("create %s: %m", path);
        if (write(fd, content, n) != (ssize_t) n)
                die("write %s: %m", path);
        close(fd);
}

static void symlink_f(const char *target, const char *path)
{
        (void) unlink(path);
        if (symlink(target, path) < 0)
                die("symlink %s -> %s: %m", path, target);
}

static const char *fake_sys_dev_dir(const struct fakesys *fs, const char *addr, char *buf, size_t size)
{
        pathf(buf, size, "%s/devices/pci0000:00/%s", fs->sys, addr);
        return buf;
}

/* --- lookup ---------------------------------------------------------------- */

static struct fake_device *find_device(struct fakesys *fs, const char *addr)
{
        for (unsigned i = 0; i < fs->n_devices; i++)
                if (strcmp(fs->devices[i].addr, addr) == 0)
                        return &fs->devices[i];
        return NULL;
}

static bool same_module_name(const char *a, const char *b)
{
        for (; *a && *b; a++, b++)
                if (*a != *b && !((*a == '-' || *a == '_') && (*b == '-' || *b == '_')))
                        return false;
        return *a == *b;
}

static struct fake_driver *find_driver(struct fakesys *fs, const char *name)
{
        for (unsigned i = 0; i < fs->n_drivers; i++)
                if (strcmp(fs->drivers[i].name, name) == 0)
                        return &fs->drivers[i];
        return NULL;
}

static bool driver_loaded(const struct fakesys *fs, const char *name)
{
        char path[PATH_MAX];
        struct stat st;

        pathf(path, sizeof(path), "%s/bus/pci/drivers/%s", fs->sys, name);
        return stat(path, &st) == 0;
}

static void read_driver(const struct fakesys *fs, const char *addr, char *buf, size_t size)
{
        char path[PATH_MAX];

        pathf(path, sizeof(path), "%s/bus/pci/devices/%s/driver", fs->sys, addr);
        if (fs_read_link_name(path, buf, size) < 0)
                buf[0] = '\0';
}

static void read_override(const struct fakesys *fs, const char *addr, char *buf, size_t size)
{
        char path[PATH_MAX];

        pathf(path, sizeof(path), "%s/bus/pci/devices/%s/driver_override", fs->sys, addr);
        if (fs_read(path, buf, size) < 0 || strcmp(buf, "(null)") == 0)
                buf[0] = '\0';
}

const char *fakesys_driver_of(const struct fakesys *fs, const char *addr)
{
        static char buf[64];

        read_driver(fs, addr, buf, sizeof(buf));
        return buf;
}

/* --- the model ------------------------------------------------------------- */

static void vfio_node_update(struct fakesys *fs, int group)
{
        char path[PATH_MAX], drv[64];
        bool any = false;
        struct stat st;

        if (group < 0)
                return;
        for (unsigned i = 0; i < fs->n_devices; i++)
                if (fs->devices[i].group == group) {
                        read_driver(fs, fs->devices[i].addr, drv, sizeof(drv));
                        any = any || strcmp(drv, "vfio-pci") == 0;
                }
        pathf(path, sizeof(path), "%s/vfio/%d", fs->dev, group);
        if (any && fs->no_vfio_node)
                return;
        if (any && lstat(path, &st) < 0) {
                pathf(path, sizeof(path), "%s/vfio", fs->dev);
                mkdir_p(path);
                pathf(path, sizeof(path), "%s/vfio/%d", fs->dev, group);
                write_file(path, "", 0600);
                if (chmod(path, 0600) < 0 || (geteuid() == 0 && chown(path, 0, 0) < 0))
                        die("chmod/chown %s: %m", path);
        } else if (!any && lstat(path, &st) == 0) {
                if (group < MAX_GROUPS)
                        fs->released_owner[group] = (long) st.st_uid;
                if (unlink(path) < 0)
                        die("unlink %s: %m", path);
        }
}

static void attach(struct fakesys *fs, struct fake_device *d, const char *drv)
{
        char path[PATH_MAX], target[PATH_MAX], dir[PATH_MAX];

        pathf(path, sizeof(path), "%s/driver", fake_sys_dev_dir(fs, d->addr, dir, sizeof(dir)));
        pathf(target, sizeof(target), "../../../bus/pci/drivers/%s", drv);
        symlink_f(target, path);
        pathf(path, sizeof(path), "%s/bus/pci/drivers/%s/%s", fs->sys, drv, d->addr);
        pathf(target, sizeof(target), "../../../../devices/pci0000:00/%s", d->addr);
        symlink_f(target, path);
        vfio_node_update(fs, d->group);
}

static void detach(struct fakesys *fs, struct fake_device *d, const char *drv)
{
        char path[PATH_MAX], dir[PATH_MAX];

        pathf(path, sizeof(path), "%s/driver", fake_sys_dev_dir(fs, d->addr, dir, sizeof(dir)));
        (void) unlink(path);
        pathf(path, sizeof(path), "%s/bus/pci/drivers/%s/%s", fs->sys, drv, d->addr);
        (void) unlink(path);
        vfio_node_update(fs, d->group);
}

/* pci_match_device(): an override matches only that driver; without one,
 * only the device's native driver (no dynamic ids in this model). */
static bool matches(const struct fakesys *fs, const struct fake_device *d, const char *drv)
{
        char ovr[64];

        read_override(fs, d->addr, ovr, sizeof(ovr));
        if (ovr[0])
                return strcmp(ovr, drv) == 0;
        return d->native[0] && strcmp(d->native, drv) == 0;
}

static bool will_bind(struct fakesys *fs, const char *drv)
{
        struct fake_driver *x = find_driver(fs, drv);

        return driver_loaded(fs, drv) && !(x && x->never_binds);
}

static void strip_nl(char *dst, size_t size, const char *src)
{
        size_t n = strcspn(src, "\n");

        if (n >= size)
                n = size - 1;
        memcpy(dst, src, n);
        dst[n] = '\0';
}

static int model_write(struct fakesys *fs, const char *rel, const char *data)
{
        char arg[128], name[128], attr[64], path[PATH_MAX], cur[64];
        struct fake_device *d;

        strip_nl(arg, sizeof(arg), data);
        if (sscanf(rel, "bus/pci/devices/%127[^/]/%63s", name, attr) == 2 && strcmp(attr, "driver_override") == 0) {
                if (!find_device(fs, name))
                        return -ENOENT;
                pathf(path, sizeof(path), "%s/%s", fs->sys, rel);
                if (arg[0]) {
                        char content[160];
                        pathf(content, sizeof(content), "%s\n", arg);
                        write_file(path, content, 0644);
                } else
                        write_file(path, "(null)\n", 0644);
                return 0;
        }
        if (sscanf(rel, "bus/pci/drivers/%127[^/]/%63s", name, attr) == 2 &&
            (strcmp(attr, "unbind") == 0 || strcmp(attr, "bind") == 0)) {
                d = find_device(fs, arg);
                if (!d)
                        return -ENODEV;
                read_driver(fs, d->addr, cur, sizeof(cur));
                if (strcmp(attr, "unbind") == 0) {
                        if (strcmp(cur, name) != 0)
                                return -ENODEV;
                        detach(fs, d, name);
                        return 0;
                }
                if (!matches(fs, d, name))
                        return -ENODEV;
                if (cur[0])
                        return -EBUSY;
                if (will_bind(fs, name))
                        attach(fs, d, name);
                return 0;
        }
        if (strcmp(rel, "bus/pci/drivers_probe") == 0) {
                char ovr[64];
                const char *want;
                d = find_device(fs, arg);
                if (!d)
                        return -ENODEV;
                read_driver(fs, d->addr, cur, sizeof(cur));
                if (cur[0])
                        return 0;
                read_override(fs, d->addr, ovr, sizeof(ovr));
                want = ovr[0] ? ovr : d->native;
                if (want[0] && will_bind(fs, want))
                        attach(fs, d, want);
                return 0;
        }
        return -EPERM; /* bind never writes anything else */
}

static int fake_write(void *userdata, const char *path, const char *data, unsigned timeout_ms)
{
        struct fakesys *fs = userdata;
        size_t n = strlen(fs->sys);
        const char *rel;
        struct stat st;

        bool crash = fs->crash_at >= 0 && fs->writes == (unsigned) fs->crash_at;
        int r;

        if (crash && !fs->crash_after_write)
                _exit(0);
        fs->writes++;
        if (strncmp(path, fs->sys, n) != 0 || path[n] != '/')
                die("write outside the fake sysfs: %s", path);
        rel = path + n + 1;
        if (lstat(path, &st) < 0)
                return -errno; /* what open() would answer */
        if (S_ISFIFO(st.st_mode))
                return sysfs_write_bounded(path, data, timeout_ms); /* really blocks */
        for (unsigned i = 0; i < fs->n_fails; i++)
                if (strcmp(fs->fails[i].rel, rel) == 0)
                        return -fs->fails[i].err;
        r = model_write(fs, rel, data);
        if (crash)
                _exit(0);
        return r;
}

static void load_driver_dir(struct fakesys *fs, const struct fake_driver *x)
{
        char path[PATH_MAX], target[PATH_MAX];

        pathf(path, sizeof(path), "%s/bus/pci/drivers/%s", fs->sys, x->name);
        mkdir_p(path);
        static const char *const files[] = { "bind", "unbind", "new_id", "remove_id", "uevent" };
        for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
                pathf(path, sizeof(path), "%s/bus/pci/drivers/%s/%s", fs->sys, x->name, files[i]);
                write_file(path, "", 0200);
        }
        if (strcmp(x->name, "vfio-pci") == 0) {
                /* vfio's container node comes with the module. */
                pathf(path, sizeof(path), "%s/vfio", fs->dev);
                mkdir_p(path);
                pathf(path, sizeof(path), "%s/vfio/vfio", fs->dev);
                write_file(path, "", 0666);
        }
        if (x->module[0]) {
                pathf(path, sizeof(path), "%s/module/%s", fs->sys, x->module);
                mkdir_p(path);
                /* A loadable module has initstate ("live"); a built-in one
                 * would not. */
                pathf(path, sizeof(path), "%s/module/%s/initstate", fs->sys, x->module);
                write_file(path, "live\n", 0444);
                pathf(path, sizeof(path), "%s/bus/pci/drivers/%s/module", fs->sys, x->name);
                pathf(target, sizeof(target), "../../../../module/%s", x->module);
                symlink_f(target, path);
        }
}

static int fake_modprobe(void *userdata, const char *modprobe, const char *module, unsigned timeout_ms,
                         char *msg, size_t msgsize)
{
        struct fakesys *fs = userdata;
        struct fake_driver *x = NULL;

        fs->modprobes++;
        for (unsigned i = 0; i < fs->n_drivers && !x; i++)
                if (same_module_name(fs->drivers[i].module, module) ||
                    (!fs->drivers[i].module[0] && same_module_name(fs->drivers[i].name, module)))
                        x = &fs->drivers[i];
        if (!x || x->module_missing) {
                (void) snprintf(msg, msgsize, "modprobe: FATAL: Module %s not found in directory /lib/modules/6.1.0-fake",
                                module);
                return -EIO;
        }
        if (driver_loaded(fs, x->name))
                return 0;
        load_driver_dir(fs, x);
        /* Registering a driver probes every unbound device it matches. */
        for (unsigned i = 0; i < fs->n_devices; i++) {
                struct fake_device *d = &fs->devices[i];
                char cur[64];
                read_driver(fs, d->addr, cur, sizeof(cur));
                if (!cur[0] && matches(fs, d, x->name) && !x->never_binds)
                        attach(fs, d, x->name);
        }
        return 0;
}

static int fake_link_usage(void *userdata, int ifindex, struct net_link_usage *ret)
{
        struct fakesys *fs = userdata;

        memset(ret, 0, sizeof(*ret));
        for (unsigned i = 0; i < fs->n_links; i++)
                if (fs->links[i].ifindex == ifindex)
                        *ret = fs->links[i].u;
        return 0;
}

/* --- construction ------------------------------------------------------------ */

struct fakesys *fakesys_new(void)
{
        struct fakesys *fs = calloc(1, sizeof(*fs));
        const char *tmp = getenv("TMPDIR");

        if (!fs)
                die("out of memory");
        pathf(fs->top, sizeof(fs->top), "%s/vl-fakesys-XXXXXX", tmp && tmp[0] ? tmp : "/tmp");
        if (!mkdtemp(fs->top))
                die("mkdtemp %s: %m", fs->top);
        pathf(fs->sys, sizeof(fs->sys), "%s/sys", fs->top);
        pathf(fs->dev, sizeof(fs->dev), "%s/dev", fs->top);
        pathf(fs->proc, sizeof(fs->proc), "%s/proc", fs->top);
        pathf(fs->run, sizeof(fs->run), "%s/run", fs->top);
        pathf(fs->ids, sizeof(fs->ids), "%s/pci.ids", fs->top);
        char path[PATH_MAX];
        pathf(path, sizeof(path), "%s/bus/pci/devices", fs->sys);
        mkdir_p(path);
        pathf(path, sizeof(path), "%s/bus/pci/drivers", fs->sys);
        mkdir_p(path);
        pathf(path, sizeof(path), "%s/devices/pci0000:00", fs->sys);
        mkdir_p(path);
        pathf(path, sizeof(path), "%s/bus/pci/drivers_probe", fs->sys);
        write_file(path, "", 0200);
        mkdir_p(fs->dev);
        mkdir_p(fs->proc);
        write_file(fs->ids,
                   "# tiny pci.ids for tests\n"
                   "10de  NVIDIA Corporation\n"
                   "\t0e0b  GK106 HDMI Audio Controller\n"
                   "\t11c0  GK106 [GeForce GTX 660]\n"
                   "8086  Intel Corporation\n"
                   "\t10d3  82574L Gigabit Network Connection\n"
                   "\t293e  82801I (ICH9 Family) HD Audio Controller\n",
                   0644);
        fs->crash_at = -1;
        for (unsigned i = 0; i < MAX_GROUPS; i++)
                fs->released_owner[i] = -1;
        fs->ops = (struct bind_ops) { .write = fake_write, .modprobe = fake_modprobe,
                                      .link_usage = fake_link_usage, .userdata = fs };
        return fs;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
        return remove(path) < 0 ? -1 : 0;
}

void fakesys_free(struct fakesys *fs)
{
        if (!fs)
                return;
        if (strncmp(fs->top, "/", 1) == 0 && strstr(fs->top, "/vl-fakesys-"))
                (void) nftw(fs->top, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
        free(fs);
}

const char *fakesys_top(const struct fakesys *fs) { return fs->top; }
const char *fakesys_sys(const struct fakesys *fs) { return fs->sys; }
const char *fakesys_dev(const struct fakesys *fs) { return fs->dev; }
const char *fakesys_proc(const struct fakesys *fs) { return fs->proc; }
const char *fakesys_run(const struct fakesys *fs) { return fs->run; }

const struct host_roots *fakesys_roots(struct fakesys *fs)
{
        fs->roots = (struct host_roots) { .sysfs = fs->sys, .dev = fs->dev, .proc = fs->proc, .run = fs->run };
        return &fs->roots;
}

void fakesys_env(struct fakesys *fs, struct bind_env *env)
{
        bind_env_init(env, fakesys_roots(fs));
        env->modprobe = "/nonexistent/modprobe"; /* the model answers instead */
        env->pci_ids = fs->ids;
        env->wait_timeout_ms = 300;
        env->write_timeout_ms = 300;
        env->modprobe_timeout_ms = 300;
        env->poll_interval_ms = 2;
        env->ops = &fs->ops;
}

void fakesys_host_env(struct fakesys *fs, struct host_env *h)
{
        host_env_init(h, fakesys_roots(fs));
        fakesys_env(fs, &h->bind);
}

void fakesys_iommu_on(struct fakesys *fs)
{
        char path[PATH_MAX];

        pathf(path, sizeof(path), "%s/class/iommu/dmar0", fs->sys);
        mkdir_p(path);
        pathf(path, sizeof(path), "%s/kernel/iommu_groups", fs->sys);
        mkdir_p(path);
}

void fakesys_driver(struct fakesys *fs, const char *name, const char *module, bool loaded)
{
        struct fake_driver *x;

        if (fs->n_drivers >= MAX_DRIVERS || find_driver(fs, name))
                die("driver %s: duplicate or too many", name);
        x = &fs->drivers[fs->n_drivers++];
        pathf(x->name, sizeof(x->name), "%s", name);
        pathf(x->module, sizeof(x->module), "%s", module ? module : "");
        if (loaded)
                load_driver_dir(fs, x);
}

void fakesys_device(struct fakesys *fs, const char *addr, uint16_t vendor, uint16_t device,
                    uint32_t class_code, int group, const char *native, const char *bound_to)
{
        char dir[PATH_MAX], path[PATH_MAX], target[PATH_MAX], buf[64];
        struct fake_device *d;

        if (fs->n_devices >= MAX_DEVICES || find_device(fs, addr))
                die("device %s: duplicate or too many", addr);
        d = &fs->devices[fs->n_devices++];
        pathf(d->addr, sizeof(d->addr), "%s", addr);
        d->group = group;
        pathf(d->native, sizeof(d->native), "%s", native ? native : "");

        fake_sys_dev_dir(fs, addr, dir, sizeof(dir));
        mkdir_p(dir);
        pathf(path, sizeof(path), "%s/bus/pci/devices/%s", fs->sys, addr);
        pathf(target, sizeof(target), "../../../devices/pci0000:00/%s", addr);
        symlink_f(target, path);
#define ATTR(name, ...)                                                        \
        do {                                                                   \
                pathf(buf, sizeof(buf), __VA_ARGS__);                          \
                pathf(path, sizeof(path), "%s/%s", dir, name);                 \
                write_file(path, buf, 0444);                                   \
        } while (0)
        ATTR("vendor", "0x%04x\n", vendor);
        ATTR("device", "0x%04x\n", device);
        ATTR("class", "0x%06x\n", class_code);
        ATTR("driver_override", "(null)\n");
        if ((class_code >> 8) == 0x0300)
                ATTR("boot_vga", "0\n");
#undef ATTR
        pathf(path, sizeof(path), "%s/driver_override", dir);
        if (chmod(path, 0644) < 0)
                die("chmod %s: %m", path);
        /* BAR 0: 1 MiB at 0xc0000000 + bus * 16 MiB + devfn * 1 MiB, so
         * every device has its own range. */
        unsigned dom, bus, slot, fn;
        if (sscanf(addr, "%x:%x:%x.%x", &dom, &bus, &slot, &fn) != 4)
                die("bad address %s", addr);
        unsigned long long base = 0xc0000000ull + bus * 0x1000000ull + (slot * 8 + fn) * 0x100000ull;
        pathf(buf, sizeof(buf), "0x%016llx 0x%016llx 0x%016llx\n", base, base + 0xfffff, 0x40200ull);
        pathf(path, sizeof(path), "%s/resource", dir);
        write_file(path, buf, 0444);
        if (group >= 0) {
                pathf(path, sizeof(path), "%s/kernel/iommu_groups/%d/devices", fs->sys, group);
                mkdir_p(path);
                pathf(path, sizeof(path), "%s/kernel/iommu_groups/%d/devices/%s", fs->sys, group, addr);
                pathf(target, sizeof(target), "../../../../devices/pci0000:00/%s", addr);
                symlink_f(target, path);
                pathf(path, sizeof(path), "%s/iommu_group", dir);
                pathf(target, sizeof(target), "../../../kernel/iommu_groups/%d", group);
                symlink_f(target, path);
        }
        if (bound_to) {
                if (!driver_loaded(fs, bound_to))
                        die("device %s: driver %s is not loaded", addr, bound_to);
                attach(fs, d, bound_to);
        }
}

void fakesys_device_attr(struct fakesys *fs, const char *addr, const char *attr, const char *content)
{
        char dir[PATH_MAX], path[PATH_MAX];

        pathf(path, sizeof(path), "%s/%s", fake_sys_dev_dir(fs, addr, dir, sizeof(dir)), attr);
        write_file(path, content, 0644);
}

void fakesys_drm_node(struct fakesys *fs, const char *addr, const char *name)
{
        char dir[PATH_MAX], path[PATH_MAX], target[PATH_MAX];

        pathf(path, sizeof(path), "%s/drm/%s", fake_sys_dev_dir(fs, addr, dir, sizeof(dir)), name);
        mkdir_p(path);
        pathf(path, sizeof(path), "%s/dri/by-path", fs->dev);
        mkdir_p(path);
        pathf(path, sizeof(path), "%s/dri/%s", fs->dev, name);
        write_file(path, "", 0660);
        pathf(path, sizeof(path), "%s/dri/by-path/pci-%s-%s", fs->dev, addr,
              strncmp(name, "card", 4) == 0 ? "card" : "render");
        pathf(target, sizeof(target), "../%s", name);
        symlink_f(target, path);
}

void fakesys_process(struct fakesys *fs, pid_t pid, const char *comm, const char *node, uint64_t start)
{
        char path[PATH_MAX], target[PATH_MAX], buf[512];

        pathf(path, sizeof(path), "%s/%d/fd", fs->proc, (int) pid);
        mkdir_p(path);
        pathf(path, sizeof(path), "%s/%d/comm", fs->proc, (int) pid);
        pathf(buf, sizeof(buf), "%s\n", comm);
        write_file(path, buf, 0444);
        pathf(path, sizeof(path), "%s/%d/stat", fs->proc, (int) pid);
        pathf(buf, sizeof(buf),
              "%d (%s) S 1 %d %d 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 %llu 1000000 100 "
              "18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 0 0 0 0 0 0\n",
              (int) pid, comm, (int) pid, (int) pid, (unsigned long long) start);
        write_file(path, buf, 0444);
        if (node) {
                pathf(path, sizeof(path), "%s/%d/fd/3", fs->proc, (int) pid);
                pathf(target, sizeof(target), "%s/%s", fs->dev, node);
                symlink_f(target, path);
        }
}

void fakesys_iomem(struct fakesys *fs, const char *text)
{
        char path[PATH_MAX];

        pathf(path, sizeof(path), "%s/iomem", fs->proc);
        write_file(path, text, 0444);
}

void fakesys_fb(struct fakesys *fs, const char *fb, const char *addr)
{
        char path[PATH_MAX], target[PATH_MAX];

        pathf(path, sizeof(path), "%s/class/graphics/%s", fs->sys, fb);
        mkdir_p(path);
        pathf(path, sizeof(path), "%s/class/graphics/%s/device", fs->sys, fb);
        pathf(target, sizeof(target), "../../../devices/pci0000:00/%s", addr);
        symlink_f(target, path);
}

/* --- what the host runs on its devices -------------------------------------- */

static void parent_dir(const char *path)
{
        char dir[PATH_MAX];
        char *slash;

        pathf(dir, sizeof(dir), "%s", path);
        slash = strrchr(dir, '/');
        if (!slash)
                die("no folder in %s", path);
        *slash = '\0';
        mkdir_p(dir);
}

void fakesys_sys_file(struct fakesys *fs, const char *rel, const char *content)
{
        char path[PATH_MAX];

        pathf(path, sizeof(path), "%s/%s", fs->sys, rel);
        parent_dir(path);
        write_file(path, content, 0444);
}

void fakesys_sys_link(struct fakesys *fs, const char *rel, const char *target)
{
        char path[PATH_MAX], up[PATH_MAX] = "", t[PATH_MAX];
        size_t len = 0;

        /* One "../" per folder of rel: the target is relative to SYS. */
        for (const char *p = strchr(rel, '/'); p; p = strchr(p + 1, '/')) {
                if (len + 4 >= sizeof(up))
                        die("link too deep: %s", rel);
                memcpy(up + len, "../", 4);
                len += 3;
        }
        pathf(path, sizeof(path), "%s/%s", fs->sys, rel);
        parent_dir(path);
        pathf(t, sizeof(t), "%s%s", up, target);
        symlink_f(t, path);
}

void fakesys_block(struct fakesys *fs, const char *dir, const char *name, const char *majmin)
{
        char rel[PATH_MAX], buf[64], link[PATH_MAX];

        pathf(rel, sizeof(rel), "devices/%s/%s/dev", dir, name);
        pathf(buf, sizeof(buf), "%s\n", majmin);
        fakesys_sys_file(fs, rel, buf);
        pathf(link, sizeof(link), "%s/devices/%s/%s/holders", fs->sys, dir, name);
        mkdir_p(link);
        pathf(rel, sizeof(rel), "devices/%s/%s", dir, name);
        pathf(link, sizeof(link), "class/block/%s", name);
        fakesys_sys_link(fs, link, rel);
}

/* SYS/class/KIND/NAME resolved, relative to SYS (which may itself sit
 * behind a symlink, such as /tmp). */
static void class_dir(struct fakesys *fs, const char *kind, const char *name, char *buf, size_t size)
{
        char top[PATH_MAX], link[PATH_MAX], full[PATH_MAX];
        size_t k;

        if (!realpath(fs->sys, top))
                die("realpath %s: %m", fs->sys);
        k = strlen(top);
        pathf(link, sizeof(link), "%s/class/%s/%s", fs->sys, kind, name);
        if (!realpath(link, full) || strncmp(full, top, k) != 0 || full[k] != '/')
                die("no %s device %s", kind, name);
        pathf(buf, size, "%s", full + k + 1);
}

void fakesys_block_stack(struct fakesys *fs, const char *upper, const char *lower)
{
        char up[PATH_MAX], low[PATH_MAX], rel[PATH_MAX];

        class_dir(fs, "block", upper, up, sizeof(up));
        class_dir(fs, "block", lower, low, sizeof(low));
        pathf(rel, sizeof(rel), "%s/slaves/%s", up, lower);
        fakesys_sys_link(fs, rel, low);
        pathf(rel, sizeof(rel), "%s/holders/%s", low, upper);
        fakesys_sys_link(fs, rel, up);
}

static void proc_append(struct fakesys *fs, const char *rel, const char *header, const char *line)
{
        char path[PATH_MAX];
        struct stat st;
        FILE *f;

        pathf(path, sizeof(path), "%s/%s", fs->proc, rel);
        parent_dir(path);
        if (header && stat(path, &st) < 0)
                write_file(path, header, 0444);
        f = fopen(path, "ae");
        if (!f || fputs(line, f) < 0 || fclose(f) != 0)
                die("append to %s: %m", path);
}

void fakesys_proc_line(struct fakesys *fs, const char *rel, const char *line)
{
        char buf[4096];

        pathf(buf, sizeof(buf), "%s\n", line);
        proc_append(fs, rel, NULL, buf);
}

const char *fakesys_pci_ids(const struct fakesys *fs)
{
        return fs->ids;
}

void fakesys_cpu(struct fakesys *fs, unsigned cpu, int package, int die_id, int core, const char *siblings,
                 const char *l3)
{
        char rel[PATH_MAX], buf[4096];
        static const char *const aggregates[] = { "online", "present", "possible" };

#define CPU_FILE(name, ...)                                                                                \
        do {                                                                                               \
                pathf(rel, sizeof(rel), "devices/system/cpu/cpu%u/%s", cpu, name);                        \
                pathf(buf, sizeof(buf), __VA_ARGS__);                                                      \
                fakesys_sys_file(fs, rel, buf);                                                            \
        } while (0)
        CPU_FILE("topology/physical_package_id", "%d\n", package);
        CPU_FILE("topology/die_id", "%d\n", die_id);
        CPU_FILE("topology/core_id", "%d\n", core);
        CPU_FILE("topology/thread_siblings_list", "%s\n", siblings);
        if (l3) {
                CPU_FILE("cache/index3/level", "3\n");
                CPU_FILE("cache/index3/type", "Unified\n");
                CPU_FILE("cache/index3/shared_cpu_list", "%s\n", l3);
        }
#undef CPU_FILE
        cpuset_add(&fs->cpus, cpu);
        if (cpuset_format(&fs->cpus, buf, sizeof(buf) - 1) < 0)
                die("cpu %u: cpulist too long", cpu);
        strcat(buf, "\n");
        for (size_t i = 0; i < sizeof(aggregates) / sizeof(aggregates[0]); i++) {
                char path[PATH_MAX];

                pathf(rel, sizeof(rel), "devices/system/cpu/%s", aggregates[i]);
                pathf(path, sizeof(path), "%s/%s", fs->sys, rel);
                (void) unlink(path); /* 0444: rewritten, not opened for writing */
                fakesys_sys_file(fs, rel, buf);
        }
}

void fakesys_mount(struct fakesys *fs, const char *majmin, const char *mountpoint, const char *fstype,
                   const char *source)
{
        char line[1024];
        static unsigned id = 20;

        pathf(line, sizeof(line), "%u 1 %s / %s rw,relatime shared:1 - %s %s rw\n", id++, majmin, mountpoint,
              fstype, source);
        proc_append(fs, "self/mountinfo", NULL, line);
}

void fakesys_swap(struct fakesys *fs, const char *filename)
{
        char line[1024];

        pathf(line, sizeof(line), "%-40s%-16s%-8u%-8u%d\n", filename, "partition", 1048572u, 0u, -2);
        proc_append(fs, "swaps", "Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n", line);
}

void fakesys_netdev(struct fakesys *fs, const char *dir, const char *ifname, int ifindex, bool up)
{
        char rel[PATH_MAX], buf[32], link[PATH_MAX];

        pathf(rel, sizeof(rel), "devices/%s/%s/ifindex", dir, ifname);
        pathf(buf, sizeof(buf), "%d\n", ifindex);
        fakesys_sys_file(fs, rel, buf);
        pathf(rel, sizeof(rel), "devices/%s/%s/flags", dir, ifname);
        fakesys_sys_file(fs, rel, up ? "0x1003\n" : "0x1002\n");
        pathf(rel, sizeof(rel), "devices/%s/%s/operstate", dir, ifname);
        fakesys_sys_file(fs, rel, up ? "up\n" : "down\n");
        pathf(rel, sizeof(rel), "devices/%s/%s", dir, ifname);
        pathf(link, sizeof(link), "class/net/%s", ifname);
        fakesys_sys_link(fs, link, rel);
}

void fakesys_net_upper(struct fakesys *fs, const char *lower, const char *upper, bool master)
{
        char up[PATH_MAX], low[PATH_MAX], rel[PATH_MAX];

        class_dir(fs, "net", upper, up, sizeof(up));
        class_dir(fs, "net", lower, low, sizeof(low));
        pathf(rel, sizeof(rel), "%s/upper_%s", low, upper);
        fakesys_sys_link(fs, rel, up);
        if (master) {
                pathf(rel, sizeof(rel), "%s/master", low);
                fakesys_sys_link(fs, rel, up);
        }
}

static struct fake_link *fake_link(struct fakesys *fs, int ifindex)
{
        for (unsigned i = 0; i < fs->n_links; i++)
                if (fs->links[i].ifindex == ifindex)
                        return &fs->links[i];
        if (fs->n_links >= MAX_LINKS)
                die("too many links");
        fs->links[fs->n_links].ifindex = ifindex;
        return &fs->links[fs->n_links++];
}

void fakesys_net_addr(struct fakesys *fs, int ifindex, const char *addr)
{
        struct fake_link *l = fake_link(fs, ifindex);

        if (l->u.n_addrs < NET_LINK_ADDRS_MAX)
                pathf(l->u.addrs[l->u.n_addrs], sizeof(l->u.addrs[0]), "%s", addr);
        l->u.n_addrs++;
}

void fakesys_net_route(struct fakesys *fs, int ifindex, bool dflt)
{
        struct fake_link *l = fake_link(fs, ifindex);

        l->u.n_routes++;
        l->u.default_route = l->u.default_route || dflt;
}

void fakesys_fail_write(struct fakesys *fs, const char *rel, int err)
{
        if (fs->n_fails >= MAX_FAILS)
                die("too many injected failures");
        pathf(fs->fails[fs->n_fails].rel, sizeof(fs->fails[0].rel), "%s", rel);
        fs->fails[fs->n_fails++].err = err;
}

void fakesys_hang(struct fakesys *fs, const char *rel)
{
        char path[PATH_MAX];

        pathf(path, sizeof(path), "%s/%s", fs->sys, rel);
        (void) unlink(path);
        if (mkfifo(path, 0600) < 0)
                die("mkfifo %s: %m", path);
}

void fakesys_never_binds(struct fakesys *fs, const char *driver, bool on)
{
        struct fake_driver *x = find_driver(fs, driver);

        if (!x)
                die("no driver %s", driver);
        x->never_binds = on;
}

void fakesys_module_missing(struct fakesys *fs, const char *module, bool on)
{
        for (unsigned i = 0; i < fs->n_drivers; i++)
                if (same_module_name(fs->drivers[i].module, module))
                        fs->drivers[i].module_missing = on;
}

void fakesys_no_vfio_node(struct fakesys *fs, bool on)
{
        fs->no_vfio_node = on;
}

void fakesys_unload_driver(struct fakesys *fs, const char *name)
{
        char path[PATH_MAX];

        for (unsigned i = 0; i < fs->n_devices; i++)
                if (strcmp(fakesys_driver_of(fs, fs->devices[i].addr), name) == 0)
                        die("unload %s: %s is bound to it", name, fs->devices[i].addr);
        pathf(path, sizeof(path), "%s/bus/pci/drivers/%s", fs->sys, name);
        (void) nftw(path, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
        if (strcmp(name, "vfio-pci") == 0) {
                pathf(path, sizeof(path), "%s/vfio", fs->dev);
                (void) nftw(path, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
        }
}

void fakesys_crash_at(struct fakesys *fs, int n, bool after_write)
{
        fs->crash_at = n;
        fs->crash_after_write = after_write;
        fs->writes = 0;
}

unsigned fakesys_writes(const struct fakesys *fs) { return fs->writes; }
unsigned fakesys_modprobes(const struct fakesys *fs) { return fs->modprobes; }

long fakesys_vfio_owner_at_release(const struct fakesys *fs, int group)
{
        return group >= 0 && group < MAX_GROUPS ? fs->released_owner[group] : -1;
}

/* --- snapshot -------------------------------------------------------------------- */

struct strbuf {
        char *p;
        size_t len, cap;
};

static void sb_addf(struct strbuf *sb, const char *fmt, ...) _printf_(2, 3);
static void sb_addf(struct strbuf *sb, const char *fmt, ...)
{
        va_list ap;
        int n;

        for (;;) {
                va_start(ap, fmt);
                n = vsnprintf(sb->p ? sb->p + sb->len : NULL, sb->p ? sb->cap - sb->len : 0, fmt, ap);
                va_end(ap);
                if (n < 0)
                        die("snapshot: format");
                if (sb->p && sb->len + (size_t) n < sb->cap) {
                        sb->len += (size_t) n;
                        return;
                }
                sb->cap = (sb->cap + (size_t) n + 1) * 2;
                sb->p = realloc(sb->p, sb->cap);
                if (!sb->p)
                        die("out of memory");
        }
}

static void walk(struct strbuf *sb, const char *base, const char *rel)
{
        struct dirent **names = NULL;
        char dir[PATH_MAX];
        int n;

        pathf(dir, sizeof(dir), "%s%s%s", base, rel[0] ? "/" : "", rel);
        n = scandir(dir, &names, NULL, alphasort);
        if (n < 0)
                return;
        for (int i = 0; i < n; i++) {
                char path[PATH_MAX], sub[PATH_MAX];
                struct stat st;
                const char *nm = names[i]->d_name;
                if (strcmp(nm, ".") == 0 || strcmp(nm, "..") == 0) {
                        free(names[i]);
                        continue;
                }
                pathf(sub, sizeof(sub), "%s%s%s", rel, rel[0] ? "/" : "", nm);
                pathf(path, sizeof(path), "%s/%s", base, sub);
                free(names[i]);
                if (lstat(path, &st) < 0)
                        continue;
                sb_addf(sb, "%s %o %u:%u", sub, (unsigned) st.st_mode, (unsigned) st.st_uid, (unsigned) st.st_gid);
                if (S_ISLNK(st.st_mode)) {
                        char t[PATH_MAX];
                        ssize_t k = readlink(path, t, sizeof(t) - 1);
                        t[k < 0 ? 0 : k] = '\0';
                        sb_addf(sb, " -> %s\n", t);
                } else if (S_ISREG(st.st_mode)) {
                        char c[256] = "";
                        int fd = open(path, O_RDONLY | O_CLOEXEC);
                        ssize_t k = fd >= 0 ? read(fd, c, sizeof(c) - 1) : 0;
                        if (fd >= 0)
                                close(fd);
                        c[k < 0 ? 0 : k] = '\0';
                        for (char *p = c; *p; p++)
                                if (*p == '\n')
                                        *p = '|';
                        sb_addf(sb, " = %s\n", c);
                } else if (S_ISDIR(st.st_mode)) {
                        sb_addf(sb, "\n");
                        walk(sb, base, sub);
                } else
                        sb_addf(sb, "\n");
        }
        free(names);
}

char *fakesys_snapshot(const struct fakesys *fs)
{
        struct strbuf sb = {};

        sb_addf(&sb, "[sys]\n");
        walk(&sb, fs->sys, "");
        sb_addf(&sb, "[dev]\n");
        walk(&sb, fs->dev, "");
        sb_addf(&sb, "[proc]\n");
        walk(&sb, fs->proc, "");
        return sb.p;
}
