/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The journal's entries (journal_entry.h): each kind's JSON keys, the
 * strict check of every value an undo acts on as root, the JSON both ways,
 * their description for messages.
 */
#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/sysmacros.h>
#include <linux/major.h>

#include "host/handover.h"
#include "host/journal.h"
#include "host/journal_entry.h"

/* --- entry kinds ------------------------------------------------------- */

/* Each kind's JSON keys: one row per field of its struct. Loading is
 * strict — every key of the kind present, no other — and every value is
 * checked by its type (journal_entry_check()) because undo handlers act on it as
 * root: a link name goes to RTM_DELLINK, a folder to rmdir(). */
enum field_type {
        FIELD_IFNAME, /* char[IFNAMSIZ], profile_ifname_valid() */
        FIELD_PATH,   /* char[JOURNAL_PATH_MAX], absolute, no "." or ".." component */
        FIELD_U64,
        FIELD_MAC,    /* char[18]: "" or "xx:xx:xx:xx:xx:xx", lowercase */
        FIELD_UNIT,   /* a systemd unit's name, profile_unit_name_valid() */
        FIELD_MODULE, /* a kernel module's name, profile_module_name_valid() */
        FIELD_SYSNAME, /* a name in a sysfs folder: no '/', not "." or "..", printable */
};

struct field {
        const char *key;
        enum field_type type;
        size_t offset, size;
};

struct kind_info {
        const char *name;
        const struct field *fields;
        size_t n_fields;
};

#define FIELD(key, type, member)                                                                     \
        { key, type, offsetof(struct journal_entry, member),                                         \
          sizeof(((struct journal_entry *) NULL)->member) }

static const struct field macvtap_fields[] = {
        FIELD("name", FIELD_IFNAME, link.name),
        FIELD("lower", FIELD_IFNAME, link.peer),
        FIELD("ifindex", FIELD_U64, link.ifindex),
        FIELD("mac", FIELD_MAC, link.mac),
};
static const struct field tap_fields[] = {
        FIELD("name", FIELD_IFNAME, link.name),
        FIELD("bridge", FIELD_IFNAME, link.peer),
        FIELD("ifindex", FIELD_U64, link.ifindex),
        FIELD("mac", FIELD_MAC, link.mac),
};
static const struct field hugepages_fields[] = {
        FIELD("page_kib", FIELD_U64, hugepages.page_kib),
        FIELD("before", FIELD_U64, hugepages.before),
        FIELD("added", FIELD_U64, hugepages.added),
        FIELD("dir", FIELD_PATH, hugepages.dir),
};

/* JOURNAL_BLOCKDEV, JOURNAL_EVDEV and JOURNAL_USB: one struct
 * journal_devnode, at the same place in the union (checked below): one
 * table. */
static const struct field devnode_fields[] = {
        FIELD("node", FIELD_PATH, blockdev.node),
        FIELD("rdev", FIELD_U64, blockdev.rdev),
        FIELD("uid", FIELD_U64, blockdev.uid),
        FIELD("gid", FIELD_U64, blockdev.gid),
        FIELD("mode", FIELD_U64, blockdev.mode),
};
_Static_assert(offsetof(struct journal_entry, evdev) == offsetof(struct journal_entry, blockdev) &&
                       offsetof(struct journal_entry, usb) == offsetof(struct journal_entry, blockdev),
               "the devnode kinds share devnode_fields");

static const struct field shmem_fields[] = {
        FIELD("path", FIELD_PATH, shmem.path),
        FIELD("dev", FIELD_U64, shmem.dev),
        FIELD("ino", FIELD_U64, shmem.ino),
        FIELD("nonce", FIELD_U64, shmem.nonce),
};
static const struct field shmem_owner_fields[] = {
        FIELD("path", FIELD_PATH, shmem.path),
        FIELD("uid", FIELD_U64, shmem.uid),
        FIELD("gid", FIELD_U64, shmem.gid),
        FIELD("mode", FIELD_U64, shmem.mode),
};

static const struct field unit_fields[] = {
        FIELD("unit", FIELD_UNIT, handover.name),
};
static const struct field vtcon_fields[] = {
        FIELD("vtcon", FIELD_U64, handover.vtcon),
};
static const struct field framebuffer_fields[] = {
        FIELD("device", FIELD_SYSNAME, handover.name),
        FIELD("driver", FIELD_SYSNAME, handover.driver),
};
static const struct field module_fields[] = {
        FIELD("module", FIELD_MODULE, handover.name),
};

static const struct kind_info kinds[_JOURNAL_KIND_MAX] = {
        [JOURNAL_MACVTAP] = { "macvtap", macvtap_fields, ELEMENTSOF(macvtap_fields) },
        [JOURNAL_TAP] = { "tap", tap_fields, ELEMENTSOF(tap_fields) },
        [JOURNAL_HUGEPAGES] = { "hugepages", hugepages_fields, ELEMENTSOF(hugepages_fields) },
        [JOURNAL_BLOCKDEV] = { "blockdev", devnode_fields, ELEMENTSOF(devnode_fields) },
        [JOURNAL_SHMEM] = { "shmem", shmem_fields, ELEMENTSOF(shmem_fields) },
        [JOURNAL_SHMEM_OWNER] = { "shmem_owner", shmem_owner_fields, ELEMENTSOF(shmem_owner_fields) },
        [JOURNAL_EVDEV] = { "evdev", devnode_fields, ELEMENTSOF(devnode_fields) },
        [JOURNAL_USB] = { "usb", devnode_fields, ELEMENTSOF(devnode_fields) },
        [JOURNAL_UNIT] = { "unit", unit_fields, ELEMENTSOF(unit_fields) },
        [JOURNAL_VTCON] = { "vtcon", vtcon_fields, ELEMENTSOF(vtcon_fields) },
        [JOURNAL_FRAMEBUFFER] = { "framebuffer", framebuffer_fields, ELEMENTSOF(framebuffer_fields) },
        [JOURNAL_MODULE] = { "module", module_fields, ELEMENTSOF(module_fields) },
};

const char *journal_kind_to_string(enum journal_kind k)
{
        return (unsigned) k < _JOURNAL_KIND_MAX ? kinds[k].name : NULL;
}

static int kind_from_string(const char *s)
{
        for (unsigned i = 0; i < _JOURNAL_KIND_MAX; i++)
                if (kinds[i].name && strcmp(s, kinds[i].name) == 0)
                        return (int) i;
        return -EINVAL;
}

static bool mac_valid(const char *s)
{
        if (!s[0])
                return true;
        for (int i = 0; i < 17; i++)
                if (i % 3 == 2 ? s[i] != ':' : !strchr("0123456789abcdef", s[i]) || !s[i])
                        return false;
        return s[17] == '\0';
}

/* A file name the kernel gave a device or a driver: the undo joins it to a
 * sysfs folder, so it must not leave it. */
static bool sysname_valid(const char *s, size_t size)
{
        size_t n = strnlen(s, size);

        if (n == 0 || n >= size || strcmp(s, ".") == 0 || strcmp(s, "..") == 0)
                return false;
        for (size_t i = 0; i < n; i++)
                if (s[i] == '/' || (unsigned char) s[i] <= 0x20 || (unsigned char) s[i] >= 0x7f)
                        return false;
        return true;
}

static bool path_valid(const char *s, size_t size)
{
        size_t n = strnlen(s, size);

        if (n == 0 || n >= size || s[0] != '/')
                return false;
        for (const char *c = s; *c; c++)
                if ((unsigned char) *c < ' ' || *c == 0x7f)
                        return false;
        /* Every component: not "." or "..", so the path is what it says. */
        for (const char *c = s; *c;) {
                const char *end;
                while (*c == '/')
                        c++;
                end = strchrnul(c, '/');
                if ((end - c == 1 && c[0] == '.') || (end - c == 2 && c[0] == '.' && c[1] == '.'))
                        return false;
                c = end;
        }
        return true;
}

int journal_entry_check(const struct journal_entry *x, const char *vm, char *why, size_t size)
{
        const struct kind_info *k;

        if ((unsigned) x->kind >= _JOURNAL_KIND_MAX) {
                (void) snprintf(why, size, "unknown kind %d", (int) x->kind);
                return -EINVAL;
        }
        k = &kinds[x->kind];
        for (size_t i = 0; i < k->n_fields; i++) {
                const struct field *f = &k->fields[i];
                const char *str = (const char *) x + f->offset;
                bool ok = true;

                if (f->type == FIELD_IFNAME)
                        ok = strnlen(str, f->size) < f->size && profile_ifname_valid(str);
                else if (f->type == FIELD_PATH)
                        ok = path_valid(str, f->size);
                else if (f->type == FIELD_MAC)
                        ok = mac_valid(str);
                else if (f->type == FIELD_UNIT)
                        ok = strnlen(str, f->size) < f->size && profile_unit_name_valid(str);
                else if (f->type == FIELD_MODULE)
                        ok = strnlen(str, f->size) < f->size && profile_module_name_valid(str);
                else if (f->type == FIELD_SYSNAME)
                        ok = sysname_valid(str, f->size);
                if (!ok) {
                        (void) snprintf(why, size, "%s of VM \"%s\": \"%s\" is not a valid %s", k->name, vm,
                                        f->key,
                                        f->type == FIELD_PATH      ? "absolute path"
                                        : f->type == FIELD_MAC     ? "MAC address"
                                        : f->type == FIELD_UNIT    ? "unit name"
                                        : f->type == FIELD_MODULE  ? "module name"
                                        : f->type == FIELD_SYSNAME ? "sysfs name"
                                                                   : "interface name");
                        return -EINVAL;
                }
        }
        /* What an undo removes must be what a run of this VM made. */
        if ((x->kind == JOURNAL_MACVTAP || x->kind == JOURNAL_TAP) && x->link.ifindex > INT32_MAX) {
                (void) snprintf(why, size, "%s of VM \"%s\": \"ifindex\" is out of range", k->name, vm);
                return -EINVAL;
        }
        if (x->kind == JOURNAL_HUGEPAGES) {
                const char *base = strrchr(x->hugepages.dir, '/') + 1;
                if (strncmp(base, JOURNAL_HUGEPAGES_DIR_PREFIX, strlen(JOURNAL_HUGEPAGES_DIR_PREFIX)) != 0 ||
                    strcmp(base + strlen(JOURNAL_HUGEPAGES_DIR_PREFIX), vm) != 0) {
                        (void) snprintf(why, size, "hugepages of VM \"%s\": \"dir\" is not its folder (%s%s)", vm,
                                        JOURNAL_HUGEPAGES_DIR_PREFIX, vm);
                        return -EINVAL;
                }
                if (x->hugepages.page_kib != 2048 && x->hugepages.page_kib != 1024 * 1024) {
                        (void) snprintf(why, size, "hugepages of VM \"%s\": \"page_kib\" is not 2048 or 1048576",
                                        vm);
                        return -EINVAL;
                }
        }
        /* What the undo writes back with fchown()/fchmod() as root: a
         * device node's mode has no set-id or sticky bit (as for groups). */
        if (x->kind == JOURNAL_BLOCKDEV || x->kind == JOURNAL_EVDEV || x->kind == JOURNAL_USB) {
                if (x->blockdev.rdev == 0 || x->blockdev.uid >= UINT32_MAX || x->blockdev.gid >= UINT32_MAX ||
                    x->blockdev.mode > 0777) {
                        (void) snprintf(why, size,
                                        "%s of VM \"%s\": \"rdev\" is 0, or \"uid\", \"gid\" or \"mode\" "
                                        "is out of range",
                                        k->name, vm);
                        return -EINVAL;
                }
        }
        /* The undo chowns an evdev node only: the input major, by its
         * kernel name (drivers/input/input.c: "input/eventN"). */
        if (x->kind == JOURNAL_EVDEV &&
            (major((dev_t) x->evdev.rdev) != INPUT_MAJOR || !strstr(x->evdev.node, "/input/"))) {
                (void) snprintf(why, size, "evdev of VM \"%s\": not an input device node (major 13, in "
                                           "/dev/input)", vm);
                return -EINVAL;
        }
        /* A usb entry chowns a USB device node only: the usb_device major,
         * by its kernel name (drivers/usb/core/usb.c: "bus/usb/BBB/DDD"). */
        if (x->kind == JOURNAL_USB &&
            (major((dev_t) x->usb.rdev) != JOURNAL_USB_DEVICE_MAJOR || !strstr(x->usb.node, "/bus/usb/"))) {
                (void) snprintf(why, size, "usb of VM \"%s\": not a USB device node (major 189, in "
                                           "/dev/bus/usb)", vm);
                return -EINVAL;
        }
        /* The undo writes "1" to SYS/class/vtconsole/vtconN/bind (the
         * kernel's MAX_NR_CON_DRIVER is 16) and binds a framebuffer only to
         * a driver of the hand-over's own list. */
        if (x->kind == JOURNAL_VTCON && x->handover.vtcon >= 16) {
                (void) snprintf(why, size, "vtcon of VM \"%s\": \"vtcon\" is out of range (0..15)", vm);
                return -EINVAL;
        }
        if (x->kind == JOURNAL_FRAMEBUFFER && !handover_framebuffer_driver(x->handover.driver)) {
                (void) snprintf(why, size, "framebuffer of VM \"%s\": \"driver\" is not a firmware framebuffer's", vm);
                return -EINVAL;
        }
        if (x->kind == JOURNAL_SHMEM && !profile_name_valid(strrchr(x->shmem.path, '/') + 1)) {
                (void) snprintf(why, size, "shmem of VM \"%s\": \"path\" is not a shared memory file's", vm);
                return -EINVAL;
        }
        if (x->kind == JOURNAL_SHMEM_OWNER) {
                const char *base = strrchr(x->shmem.path, '/') + 1;
                if (strncmp(base, "kvmfr", 5) != 0 || !base[5] || strspn(base + 5, "0123456789") != strlen(base + 5) ||
                    strlen(base + 5) > 3) {
                        (void) snprintf(why, size, "shmem_owner of VM \"%s\": \"path\" is not a kvmfr node", vm);
                        return -EINVAL;
                }
                if (x->shmem.uid > UINT32_MAX - 1 || x->shmem.gid > UINT32_MAX - 1 || x->shmem.mode > 07777) {
                        (void) snprintf(why, size, "shmem_owner of VM \"%s\": \"uid\", \"gid\" or \"mode\" is out "
                                                   "of range", vm);
                        return -EINVAL;
                }
        }
        return 0;
}

void journal_entry_describe(const struct journal_entry *x, char *buf, size_t size)
{
        switch (x->kind) {
        case JOURNAL_MACVTAP:
        case JOURNAL_TAP:
                (void) snprintf(buf, size, "%s \"%s\"", kinds[x->kind].name, x->link.name);
                return;
        case JOURNAL_HUGEPAGES:
                (void) snprintf(buf, size, "hugepages (%" PRIu64 " kB pages, %" PRIu64 " added, %s)",
                                x->hugepages.page_kib, x->hugepages.added, x->hugepages.dir);
                return;
        case JOURNAL_BLOCKDEV:
                (void) snprintf(buf, size, "block device %s (%u:%u, was %" PRIu64 ":%" PRIu64 " mode %04" PRIo64 ")",
                                x->blockdev.node, major((dev_t) x->blockdev.rdev), minor((dev_t) x->blockdev.rdev),
                                x->blockdev.uid, x->blockdev.gid, x->blockdev.mode);
                return;
        case JOURNAL_SHMEM:
                (void) snprintf(buf, size, "shmem %s", x->shmem.path);
                return;
        case JOURNAL_EVDEV:
                (void) snprintf(buf, size, "evdev input %s (%u:%u, was %" PRIu64 ":%" PRIu64 " mode %04" PRIo64 ")",
                                x->evdev.node, major((dev_t) x->evdev.rdev), minor((dev_t) x->evdev.rdev),
                                x->evdev.uid, x->evdev.gid, x->evdev.mode);
                return;
        case JOURNAL_USB:
                (void) snprintf(buf, size, "USB device %s (%u:%u, was %" PRIu64 ":%" PRIu64 " mode %04" PRIo64 ")",
                                x->usb.node, major((dev_t) x->usb.rdev), minor((dev_t) x->usb.rdev), x->usb.uid,
                                x->usb.gid, x->usb.mode);
                return;
        case JOURNAL_SHMEM_OWNER:
                (void) snprintf(buf, size, "shmem_owner %s (%" PRIu64 ":%" PRIu64 " %04" PRIo64 " before)",
                                x->shmem.path, x->shmem.uid, x->shmem.gid, x->shmem.mode);
                return;
        case JOURNAL_UNIT:
                (void) snprintf(buf, size, "unit %s (stopped)", x->handover.name);
                return;
        case JOURNAL_VTCON:
                (void) snprintf(buf, size, "vtcon%" PRIu64 " (fbcon unbound)", x->handover.vtcon);
                return;
        case JOURNAL_FRAMEBUFFER:
                (void) snprintf(buf, size, "framebuffer %s (unbound from %s)", x->handover.name, x->handover.driver);
                return;
        case JOURNAL_MODULE:
                (void) snprintf(buf, size, "module %s (unloaded)", x->handover.name);
                return;
        case _JOURNAL_KIND_MAX:
                break;
        }
        (void) snprintf(buf, size, "entry of unknown kind %d", (int) x->kind);
}

json_t *journal_entry_to_json(const struct journal_entry *x)
{
        const struct kind_info *k = &kinds[x->kind];
        json_t *o = json_pack("{s:s}", "kind", k->name);

        for (size_t i = 0; o && i < k->n_fields; i++) {
                const struct field *f = &k->fields[i];
                const void *v = (const char *) x + f->offset;
                json_t *jv;

                if (f->type == FIELD_U64)
                        jv = json_integer((json_int_t) *(const uint64_t *) v);
                else
                        jv = json_string((const char *) v);
                if (json_object_set_new(o, f->key, jv) < 0) {
                        json_decref(o);
                        o = NULL;
                }
        }
        return o;
}

int journal_entry_from_json(json_t *v, size_t i, const char *path, const char *vm, struct journal_entry *x,
                            struct vl_error *e)
{
        const struct kind_info *k;
        const char *key;
        json_t *val;
        char why[JOURNAL_PATH_MAX + 64];
        int kind;

        if (!json_is_object(v) || !json_is_string(json_object_get(v, "kind")))
                return vl_error_set_at(e, EBADMSG, path, 0, 0, "", "entries[%zu]: not an object with a \"kind\"", i);
        kind = kind_from_string(json_string_value(json_object_get(v, "kind")));
        if (kind < 0)
                return vl_error_set_at(e, EBADMSG, path, 0, 0, "",
                                       "entries[%zu]: unknown kind \"%s\" (written by another version?)", i,
                                       json_string_value(json_object_get(v, "kind")));
        memset(x, 0, sizeof(*x));
        x->kind = (enum journal_kind) kind;
        k = &kinds[kind];
        if (json_object_size(v) != k->n_fields + 1)
                goto keys;
        json_object_foreach(v, key, val) {
                const struct field *f = NULL;
                if (strcmp(key, "kind") == 0)
                        continue;
                for (size_t n = 0; n < k->n_fields && !f; n++)
                        if (strcmp(k->fields[n].key, key) == 0)
                                f = &k->fields[n];
                if (!f)
                        goto keys;
                if (f->type == FIELD_U64) {
                        if (!json_is_integer(val) || json_integer_value(val) < 0)
                                return vl_error_set_at(e, EBADMSG, path, 0, 0, "",
                                                       "entries[%zu].%s: expected a number >= 0", i, key);
                        *(uint64_t *) ((char *) x + f->offset) = (uint64_t) json_integer_value(val);
                } else {
                        if (!json_is_string(val) || json_string_length(val) >= f->size)
                                return vl_error_set_at(e, EBADMSG, path, 0, 0, "",
                                                       "entries[%zu].%s: expected a string of at most %zu bytes",
                                                       i, key, f->size - 1);
                        memcpy((char *) x + f->offset, json_string_value(val), json_string_length(val) + 1);
                }
        }
        if (journal_entry_check(x, vm, why, sizeof(why)) < 0)
                return vl_error_set_at(e, EBADMSG, path, 0, 0, "", "entries[%zu]: %s", i, why);
        return 0;
keys:
        {
                char want[256] = "";
                for (size_t n = 0; n < k->n_fields; n++)
                        (void) snprintf(want + strlen(want), sizeof(want) - strlen(want), ", \"%s\"",
                                        k->fields[n].key);
                return vl_error_set_at(e, EBADMSG, path, 0, 0, "",
                                       "entries[%zu]: a %s entry has exactly the keys \"kind\"%s", i, k->name,
                                       want);
        }
}

bool journal_entry_equal(const struct journal_entry *a, const struct journal_entry *b)
{
        if (a->kind != b->kind)
                return false;
        switch (a->kind) {
        case JOURNAL_MACVTAP:
        case JOURNAL_TAP:
                return strcmp(a->link.name, b->link.name) == 0 && strcmp(a->link.peer, b->link.peer) == 0 &&
                       a->link.ifindex == b->link.ifindex && strcmp(a->link.mac, b->link.mac) == 0;
        case JOURNAL_HUGEPAGES:
                return a->hugepages.page_kib == b->hugepages.page_kib && a->hugepages.before == b->hugepages.before &&
                       a->hugepages.added == b->hugepages.added && strcmp(a->hugepages.dir, b->hugepages.dir) == 0;
        case JOURNAL_BLOCKDEV:
        case JOURNAL_EVDEV:
        case JOURNAL_USB:
                return strcmp(a->blockdev.node, b->blockdev.node) == 0 && a->blockdev.rdev == b->blockdev.rdev &&
                       a->blockdev.uid == b->blockdev.uid && a->blockdev.gid == b->blockdev.gid &&
                       a->blockdev.mode == b->blockdev.mode;
        case JOURNAL_SHMEM:
                return strcmp(a->shmem.path, b->shmem.path) == 0 && a->shmem.dev == b->shmem.dev &&
                       a->shmem.ino == b->shmem.ino && a->shmem.nonce == b->shmem.nonce;
        case JOURNAL_SHMEM_OWNER:
                return strcmp(a->shmem.path, b->shmem.path) == 0 && a->shmem.uid == b->shmem.uid &&
                       a->shmem.gid == b->shmem.gid && a->shmem.mode == b->shmem.mode;
        case JOURNAL_UNIT:
        case JOURNAL_VTCON:
        case JOURNAL_FRAMEBUFFER:
        case JOURNAL_MODULE:
                return strcmp(a->handover.name, b->handover.name) == 0 &&
                       strcmp(a->handover.driver, b->handover.driver) == 0 && a->handover.vtcon == b->handover.vtcon;
        case _JOURNAL_KIND_MAX:
                break;
        }
        return false;
}
