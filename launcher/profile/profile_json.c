/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * JSON -> struct profile: the strict loader (format: profiles/README.md).
 *
 * Order of checks, so the first error reported is the most fundamental one:
 * size, syntax (jansson, duplicate keys rejected), top-level type, nesting
 * depth, then each object's keys (unknown keys first, in document order),
 * then each value (type, range, format), then profile_validate() for the
 * cross-field rules. Every error gets the file as the caller named it, the
 * JSON path and the line:column of the value (or of the key, for unknown
 * keys) found by rescanning the text (json_pos.c): jansson keeps no positions
 * once parsing succeeded.
 *
 * Nothing is truncated: a string longer than its buffer is an error. Nothing
 * touches the host: relative paths are joined to the profile's folder
 * lexically, without looking at the file system.
 *
 * This file holds the entry points and the top level; the sections are read
 * by profile_json_machine.c, profile_json_devices.c and
 * profile_json_platform.c, with the shared
 * readers of profile_json_read.c (declared in profile_json_read.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "profile/profile_json_read.h"

/* ---- top level ---------------------------------------------------------------------- */

/* root[key] as an array of at most max elements, each handed to fn. */
typedef int (*element_fn)(struct ctx *c, json_t *v, unsigned index, void *ud);

static int parse_array(struct ctx *c, json_t *root, const char *key, unsigned max,
                       const char *what, element_fn fn, void *ud, unsigned *ret_n)
{
        size_t m, k, i;
        int r;
        json_t *a = pj_enter_typed(c, root, key, JSON_ARRAY, &m, &r), *v;

        if (!a)
                return r;
        json_array_foreach (a, i, v) {
                k = pj_enter_index(c, i);
                if (i >= max)
                        return pj_fail(c, "too many %s (at most %u)", what, max);
                if ((r = fn(c, v, (unsigned) i, ud)) < 0)
                        return r;
                pj_leave(c, k);
        }
        *ret_n = (unsigned) json_array_size(a);
        pj_leave(c, m);
        return 0;
}

static int detach_element(struct ctx *c, json_t *v, unsigned i, void *ud)
{
        return pj_check_pci(c, v, &((struct profile *) ud)->allow_detach[i]);
}

/* The keys of the top-level object, checked before the preset goes under
 * them (a misspelt key is the user's, whatever "os" adds). */
static const char *const top_keys[] = {
        "$schema",  "name",     "machine",      "accel",          "user",
        "allow_root", "allow_shared_user",
        "memory",   "hugepages", "firmware", "boot",         "cpu",          "hostdevs",       "allow_detach",
        "allow_boot_vga", "allow_in_use", "host_handover", "iothreads", "disks", "nics",        "sound",
        "display",  "balloon",  "shutdown_timeout", "powerdown_repeat", "pci_hotplug",
        "clock", "smbios", "watchdog", "tpm", "usb", "shmem", "inputs", "qemu_args", "os",
        NULL
};

static int parse_profile(struct ctx *c, json_t *root, struct profile *p)
{
        char schema[PROFILE_PATH_MAX];
        int accel = ACCEL_KVM, hotplug = PCI_HOTPLUG_NATIVE, r;

        if ((r = pj_require(c, root, "name")) < 0 ||
            (r = pj_opt_string(c, root, "$schema", schema, sizeof(schema))) < 0 ||
            (r = pj_opt_string(c, root, "name", p->name, sizeof(p->name))) < 0 ||
            (r = pj_opt_string(c, root, "machine", p->machine, sizeof(p->machine))) < 0 ||
            (r = pj_opt_enum(c, root, "accel", profile_accel_name, &accel)) < 0 ||
            (r = pj_opt_string(c, root, "user", p->user, sizeof(p->user))) < 0 ||
            (r = pj_opt_bool(c, root, "allow_root", &p->allow_root)) < 0 ||
            (r = pj_opt_bool(c, root, "allow_shared_user", &p->allow_shared_user)) < 0 ||
            (r = profile_json_parse_memory(c, root, p)) < 0 ||
            (r = profile_json_parse_hugepages(c, root, &p->hugepages)) < 0 ||
            (r = profile_json_parse_firmware(c, root, &p->firmware)) < 0 ||
            (r = profile_json_parse_boot(c, root, &p->boot)) < 0 ||
            (r = profile_json_parse_cpu(c, root, &p->cpu)) < 0 ||
            (r = profile_json_parse_clock(c, root, &p->clock)) < 0 ||
            (r = profile_json_parse_smbios(c, root, &p->smbios)) < 0 ||
            (r = parse_array(c, root, "hostdevs", PROFILE_HOSTDEVS_MAX, "hostdevs",
                             profile_json_hostdev_element, p, &p->n_hostdevs)) < 0 ||
            (r = parse_array(c, root, "allow_detach", PROFILE_ALLOW_DETACH_MAX, "addresses",
                             detach_element, p, &p->n_allow_detach)) < 0 ||
            (r = pj_opt_bool(c, root, "allow_boot_vga", &p->allow_boot_vga)) < 0 ||
            (r = pj_opt_bool(c, root, "allow_in_use", &p->allow_in_use)) < 0 ||
            (r = profile_json_parse_handover(c, root, &p->host_handover)) < 0 ||
            (r = profile_json_parse_iothreads(c, root, p)) < 0 ||
            (r = parse_array(c, root, "disks", PROFILE_DISKS_MAX, "disks",
                             profile_json_disk_element, p, &p->n_disks)) < 0 ||
            (r = parse_array(c, root, "nics", PROFILE_NICS_MAX, "nics", profile_json_nic_element,
                             p, &p->n_nics)) < 0 ||
            (r = profile_json_parse_sound(c, root, &p->sound)) < 0 ||
            (r = profile_json_parse_display(c, root, &p->display)) < 0 ||
            (r = pj_opt_bool(c, root, "balloon", &p->balloon)) < 0 ||
            (r = pj_opt_unsigned(c, root, "shutdown_timeout", 1, 3600, &p->shutdown_timeout_s)) < 0 ||
            (r = pj_opt_unsigned(c, root, "powerdown_repeat", 0, 60, &p->powerdown_repeat_s)) < 0 ||
            (r = pj_opt_enum(c, root, "pci_hotplug", profile_pci_hotplug_name, &hotplug)) < 0 ||
            (r = profile_json_parse_watchdog(c, root, &p->watchdog)) < 0 ||
            (r = profile_json_parse_tpm(c, root, &p->tpm)) < 0 ||
            (r = profile_json_parse_usb(c, root, &p->usb)) < 0 ||
            (r = parse_array(c, root, "shmem", PROFILE_SHMEM_MAX, "shared memory devices",
                             profile_json_shmem_element, p, &p->n_shmem)) < 0 ||
            (r = parse_array(c, root, "inputs", PROFILE_INPUTS_MAX, "inputs",
                             profile_json_input_element, p, &p->n_inputs)) < 0 ||
            (r = profile_json_parse_qemu_args(c, root, p)) < 0)
                return r;
        p->accel = (enum accel_type) accel;
        p->pci_hotplug = (enum pci_hotplug_mode) hotplug;
        /* The default model follows the accelerator: KVM's "host" cannot be
         * emulated, TCG's "max" is the closest. */
        if (p->accel == ACCEL_TCG && !json_object_get(json_object_get(root, "cpu"), "model"))
                snprintf(p->cpu.model, sizeof(p->cpu.model), "max");
        return 0;
}

/* Containers nested deeper than PROFILE_DEPTH_MAX (the root object is level
 * 1), in document order. Checked before anything else so that a deep value
 * is reported as such, whatever key it hides under. */
static int check_depth(struct ctx *c, json_t *v, unsigned depth)
{
        const char *key;
        json_t *child;
        size_t i, m;
        int r;

        if (!json_is_object(v) && !json_is_array(v))
                return 0;
        if (depth > PROFILE_DEPTH_MAX)
                return pj_fail(c, "nested deeper than %u levels", PROFILE_DEPTH_MAX);
        if (json_is_object(v)) {
                json_object_foreach (v, key, child) {
                        m = pj_enter_key(c, key);
                        if ((r = check_depth(c, child, depth + 1)) < 0)
                                return r;
                        pj_leave(c, m);
                }
        } else {
                json_array_foreach (v, i, child) {
                        m = pj_enter_index(c, i);
                        if ((r = check_depth(c, child, depth + 1)) < 0)
                                return r;
                        pj_leave(c, m);
                }
        }
        return 0;
}

static int syntax_error(struct ctx *c, const json_error_t *j)
{
        char msg[sizeof(j->text)];
        int line = j->line, col = j->column;

        /* jansson quotes the text near the error: keep the message one line. */
        for (size_t i = 0; i < sizeof(msg); i++) {
                unsigned char b = (unsigned char) j->text[i];
                msg[i] = (b && (b < 0x20 || b == 0x7f)) ? '?' : (char) b;
                if (!b)
                        break;
        }
        msg[sizeof(msg) - 1] = '\0';
        /* Two of jansson's texts speak of its API; say what the user did. */
        if (json_error_code(j) == json_error_null_character)
                (void) xsnprintf(msg, sizeof(msg), "\\u0000 (NUL) is not allowed in a string");
        else if (json_error_code(j) == json_error_stack_overflow)
                (void) xsnprintf(msg, sizeof(msg), "nested deeper than %u levels",
                                 PROFILE_DEPTH_MAX);
        json_pos_path_at(c->text, c->len, j->position > 0 ? (size_t) j->position : 0, c->path,
                         sizeof(c->path));
        if (line < 1)
                line = col = 0; /* not about a place in the text */
        else if (col < 1)
                col = 1; /* jansson says 0 before the first character of a line */
        return vl_error_set_at(c->e, EINVAL, c->file, line, col, c->path, "%s", msg);
}

/* Put a file:line:col in front of each "$.path: ..." warning. */
static void locate_warnings(struct ctx *c, const struct vl_warnings *in, struct vl_warnings *out)
{
        if (!out)
                return;
        for (unsigned i = 0; i < in->n; i++) {
                const char *msg = in->msg[i], *sep = strstr(msg, ": ");
                char path[JSON_PATH_MAX];
                struct json_pos pos;

                if (msg[0] != '$' || !sep || (size_t) (sep - msg) >= sizeof(path)) {
                        vl_warn(out, "%s: %s", c->file, msg);
                        continue;
                }
                memcpy(path, msg, (size_t) (sep - msg));
                path[sep - msg] = '\0';
                (void) json_pos_find_nearest(c->text, c->len, path, false, &pos);
                vl_warn(out, "%s:%d:%d: %s", c->file, pos.line, pos.column, msg);
        }
        out->dropped += in->dropped;
}

int profile_load_buffer(const char *buf, size_t len, const char *source_name,
                        const char *base_dir, struct profile *ret, struct vl_error *e,
                        struct vl_warnings *w)
{
        _cleanup_(json_decrefp) json_t *root = NULL; /* jansson's own cleanup helper */
        _cleanup_free_ struct profile *p = NULL;
        struct vl_warnings warnings = {};
        struct ctx c = {
                .file = source_name ? source_name : "",
                .text = buf,
                .len = len,
                .base_dir = base_dir,
                .e = e,
                .path = "$",
        };
        const char *base;
        json_error_t jerr;
        size_t i;
        int r;

        if (!base_dir || base_dir[0] != '/')
                return vl_error_set_at(e, EINVAL, c.file, 0, 0, NULL,
                                       "the base folder for relative paths must be absolute");
        if (len > PROFILE_FILE_MAX)
                return vl_error_set_at(e, EFBIG, c.file, 1, 1, "$",
                                       "the file is larger than %u bytes", PROFILE_FILE_MAX);
        for (i = 0; i < len && buf[i] && strchr(" \t\r\n", buf[i]); i++)
                ;
        if (i == len)
                return vl_error_set_at(e, EINVAL, c.file, 1, 1, "$",
                                       "the file is empty (expected a JSON object)");

        root = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);
        if (!root)
                return syntax_error(&c, &jerr);
        if (!json_is_object(root))
                return pj_type_error(&c, root, "a JSON object at the top level");
        if ((r = check_depth(&c, root, 1)) < 0)
                return r;

        p = malloc(sizeof(*p));
        if (!p)
                return vl_error_set(e, ENOMEM, "out of memory");
        profile_init(p, "");
        if ((r = pj_check_keys(&c, root, top_keys)) < 0 || (r = profile_json_apply_preset(&c, root, p)) < 0 ||
            (r = parse_profile(&c, root, p)) < 0)
                return r;

        if ((r = profile_validate(p, e, &warnings)) < 0) {
                struct json_pos pos;

                (void) json_pos_find_nearest(buf, len, e ? e->path : "$", false, &pos);
                if (e) {
                        (void) xsnprintf(e->file, sizeof(e->file), "%s", c.file);
                        e->line = pos.line;
                        e->column = pos.column;
                        /* Not in the file: say where it came from. */
                        if (profile_preset_set(p, e->path))
                                vl_error_append(e, " (set by \"os\": \"%s\"; give the key in the profile to "
                                                   "override it)",
                                                profile_os_name(p->os));
                }
                return r;
        }

        base = strrchr(c.file, '/');
        base = base ? base + 1 : c.file;
        if (pj_join_path(base_dir, base[0] ? base : ".", p->source, sizeof(p->source)) < 0)
                return vl_error_set_at(e, ENAMETOOLONG, c.file, 0, 0, NULL,
                                       "the profile's own path is too long");
        locate_warnings(&c, &warnings, w);
        *ret = *p;
        return 0;
}

/* The absolute folder of path, lexically (see pj_join_path()). */
static int folder_of(const char *path, char *buf, size_t size)
{
        char cwd[PROFILE_PATH_MAX], dir[PROFILE_PATH_MAX];
        const char *slash = strrchr(path, '/');

        if (!slash)
                strcpy(dir, ".");
        else if (slash == path)
                strcpy(dir, "/");
        else if ((size_t) (slash - path) >= sizeof(dir))
                return -ENAMETOOLONG;
        else {
                memcpy(dir, path, (size_t) (slash - path));
                dir[slash - path] = '\0';
        }
        if (dir[0] == '/')
                return pj_join_path("/", dir, buf, size);
        if (!getcwd(cwd, sizeof(cwd)))
                return -errno;
        return pj_join_path(cwd, dir, buf, size);
}

int profile_load(const char *path, struct profile *ret, struct vl_error *e,
                 struct vl_warnings *w)
{
        _cleanup_free_ char *buf = NULL;
        _cleanup_close_ int fd = -EBADF;
        char dir[PROFILE_PATH_MAX];
        size_t len = 0;
        int r;

        if ((r = folder_of(path, dir, sizeof(dir))) < 0)
                return vl_error_set_at(e, -r, path, 0, 0, NULL,
                                       "cannot find the profile's folder: %s", strerror(-r));
        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return vl_error_set_at(e, errno, path, 0, 0, NULL, "cannot open: %s",
                                       strerror(errno));
        /* One byte more than the limit tells "too large" without trusting
         * st_size (a pipe has none, a file can grow). */
        buf = malloc(PROFILE_FILE_MAX + 1);
        if (!buf)
                return vl_error_set(e, ENOMEM, "out of memory");
        while (len < PROFILE_FILE_MAX + 1) {
                ssize_t n = read(fd, buf + len, PROFILE_FILE_MAX + 1 - len);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return vl_error_set_at(e, errno, path, 0, 0, NULL, "cannot read: %s",
                                               strerror(errno));
                if (n == 0)
                        break;
                len += (size_t) n;
        }
        return profile_load_buffer(buf, len, path, dir, ret, e, w);
}
