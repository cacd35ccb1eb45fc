/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Facts about the host that the argv builder needs: which QEMU binary, its
 * version, which machine types it still has, and which firmware its
 * descriptors offer for a profile.
 *
 * Read-only: nothing here changes the host (the per-VM VARS copy is vars.h).
 * Every path is a parameter (tests point them at temp dirs); nothing reads
 * the environment: the caller passes $PATH, $XDG_CONFIG_HOME, $HOME.
 * The pure parts (version parsing, machine resolution, descriptor matching
 * on an already read descriptor) take no host state at all, so a test can
 * fill a struct hostinfo by hand.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "base/error.h"
#include "profile/profile.h"

#define HOSTINFO_VERSION_OUTPUT_MAX 4096 /* bytes of `qemu -version` we read */
#define HOSTINFO_DESCRIPTOR_MAX (64u * 1024u) /* bytes of one firmware descriptor */
#define HOSTINFO_DESCRIPTORS_MAX 256     /* descriptors considered per search */
#define HOSTINFO_FIRMWARE_DIRS_MAX 4

/* The version vfio-launch needs at least: -blockdev pflash, -audiodev,
 * -sandbox spawn=, -spice password-secret= (7.0). */
#define HOSTINFO_QEMU_MIN_MAJOR 7
#define HOSTINFO_QEMU_MIN_MINOR 0

struct qemu_version {
        unsigned major, minor, micro;
};

/* v >= major.minor.micro */
bool qemu_version_at_least(const struct qemu_version *v, unsigned major, unsigned minor,
                           unsigned micro);

#define HOSTINFO_CPU_FLAGS_MAX 8192 /* bytes of the CPUID flag names (QEMU 7.2: about 3.5 KiB) */

struct hostinfo {
        char qemu_path[PROFILE_PATH_MAX]; /* absolute path of qemu-system-x86_64 */
        struct qemu_version version;
        /* The CPUID flags QEMU knows (`-cpu help`), " name name ... name ",
         * '_' written '-' as QEMU's parser takes both. "" = not probed: the
         * builder then leaves the profile's feature names to QEMU. */
        char cpu_flags[HOSTINFO_CPU_FLAGS_MAX];
};

/* Whether QEMU knows the CPUID flag name (either spelling, - or _); true
 * when the flags were not probed. Pure. */
bool hostinfo_has_cpu_flag(const struct hostinfo *h, const char *name);

/* The flag names from `-cpu help` output into ret (the format above).
 * Returns 0, -ENOENT when the output has no flag list, -E2BIG when they do
 * not fit. Pure. */
int hostinfo_parse_cpu_flags(const char *text, char *ret, size_t size);

/* Parse the first line of `qemu-system-x86_64 -version`:
 * "QEMU emulator version 7.2.22 (Debian 1:7.2+dfsg-7+deb12u18+b3)".
 * Also accepts a bare "8.2.0". Returns 0 or -EINVAL. */
int hostinfo_parse_version(const char *text, struct qemu_version *ret);

/* Find the QEMU binary: explicit_path if not NULL/"" (must be an executable
 * file), else "qemu-system-x86_64" searched in path_env (a $PATH-style list,
 * NULL = "/usr/local/bin:/usr/bin:/bin"). Writes the path into ret
 * (size bytes). Returns 0, -ENOENT, -EACCES or -ENAMETOOLONG; fills e. */
int hostinfo_find_qemu(const char *explicit_path, const char *path_env, char *ret, size_t size,
                       struct vl_error *e);

/* Run `QEMU -version` and `QEMU -cpu help` (no shell, empty environment,
 * 10 s limit each) and fill ret->qemu_path, ret->version and ret->cpu_flags.
 * Returns 0 or -errno; fills e. */
int hostinfo_probe_qemu(const char *qemu_path, struct hostinfo *ret, struct vl_error *e);

/* As hostinfo_probe_qemu(), remembering the answer in cache_path, keyed by
 * the binary's identity (path, device, inode, size, mtime, ctime — what
 * libvirt's capabilities cache checks), so that a package upgrade is seen
 * and an unchanged QEMU is not exec'ed at every launch (that exec is most of
 * a launch's overhead over plain QEMU, see bench/). The cache is a hint: a
 * missing, stale, malformed or untrusted file (not ours, or writable by
 * others) means probing again; a cache that cannot be written is ignored.
 * cache_path NULL: no cache. Returns as hostinfo_probe_qemu(). */
#define HOSTINFO_PROBE_CACHE "/var/cache/vfio-launch/qemu-version"
int hostinfo_probe_qemu_cached(const char *qemu_path, const char *cache_path,
                               struct hostinfo *ret, struct vl_error *e);

/* The machine type to pass to QEMU for the profile's one.
 *  - "q35" (alias of the newest pc-q35-X.Y) is kept.
 *  - "pc-q35-X.Y" newer than QEMU: -EINVAL (it does not exist there).
 *  - "pc-q35-X.Y" deleted by QEMU's 6-year rule (QEMU >= 9.1): mapped to
 *    "q35" with a warning; deprecated (3-year rule): kept with a warning.
 *  - anything else (i440fx "pc", microvm, ...): -EINVAL: vfio-launch lays
 *    devices out on PCIe root ports, which only q35 has.
 * ret_effective gets what goes on the command line; ret_canonical (may be
 * NULL) the versioned name it stands for, "pc-q35-7.2" for "q35" on 7.2 —
 * what firmware descriptors' machine globs are matched against. */
int hostinfo_machine_resolve(const char *machine, const struct qemu_version *v,
                             char *ret_effective, size_t effective_size, char *ret_canonical,
                             size_t canonical_size, struct vl_error *e, struct vl_warnings *w);

/* The firmware a VM boots: the result of descriptor matching or of the
 * profile's explicit paths. */
struct firmware_choice {
        char descriptor[PROFILE_PATH_MAX];    /* the descriptor file, "" if explicit */
        char code[PROFILE_PATH_MAX];
        char code_format[8];                  /* "raw" | "qcow2" */
        char vars_template[PROFILE_PATH_MAX]; /* "" if none known */
        char vars_format[8];
        bool secure_boot;                     /* feature "secure-boot" */
        bool requires_smm;                    /* feature "requires-smm" */
};

/* Where QEMU's firmware descriptors live, least specific first (QEMU's
 * docs/interop/firmware.json): /usr/share/qemu/firmware, /etc/qemu/firmware,
 * $XDG_CONFIG_HOME/qemu/firmware (or $HOME/.config/qemu/firmware).
 * Only folders and descriptors that fs_open_trusted() allows for uid/gid are
 * read: root's, and the reader's own when it is not root (0/0, the zero
 * value: root's only). */
struct firmware_dirs {
        unsigned n;
        char dir[HOSTINFO_FIRMWARE_DIRS_MAX][PROFILE_PATH_MAX];
        uid_t uid; /* besides root, whose descriptors are believed */
        gid_t gid;
};

/* The standard folders for a reader running as uid/gid (ret->uid/gid). Root
 * reads only the two system folders, as libvirt's system daemon does: a
 * user's folder would let that user choose the file root copies into the
 * VM's VARS (docs/facts.md#F-firmware-user-dir). Anyone else also gets the
 * user folder; xdg_config_home and home may be NULL/"" (it is then left
 * out). Returns 0 or -ENAMETOOLONG. */
int hostinfo_firmware_dirs_default(uid_t uid, gid_t gid, const char *xdg_config_home,
                                   const char *home, struct firmware_dirs *ret);

/* Does one descriptor (JSON text) fit? interface "uefi", device "flash",
 * a target with architecture "x86_64" and a machine glob matching
 * canonical_machine; with secure_boot, features "secure-boot" and
 * "requires-smm". Returns 1 and fills ret (descriptor left ""), 0 if it does
 * not fit, -EINVAL if it is not a valid descriptor (e says why). */
int hostinfo_firmware_match(const char *json, size_t len, const char *canonical_machine,
                            bool secure_boot, struct firmware_choice *ret, struct vl_error *e);

/* Search the folders as QEMU and libvirt do: every *.json, sorted by file
 * name, a name in a later (more specific) folder replaces the same name in
 * an earlier one, an empty file hides it. The first descriptor that fits
 * wins; without secure_boot the first fitting one WITHOUT "secure-boot" is
 * preferred (a plain OVMF boots what a secure one refuses). A folder or a
 * descriptor that is not trusted (see struct firmware_dirs: a symlink, a
 * FIFO, another account's, in a folder others may change) is never read and
 * is skipped with a warning, as are unreadable or invalid ones. Returns 0,
 * or -ENOENT (nothing fits; e says what was looked for). */
int hostinfo_firmware_select(const struct firmware_dirs *dirs, const char *canonical_machine,
                             bool secure_boot, struct firmware_choice *ret, struct vl_error *e,
                             struct vl_warnings *w);

/* The firmware for a profile: BIOS -> ret->code "" (SeaBIOS, QEMU's
 * default); UEFI with firmware.code set -> those paths (the template from
 * firmware.vars_template, else from a descriptor with the same executable);
 * otherwise hostinfo_firmware_select(). A firmware.vars_template must be a
 * firmware's: one that a descriptor of dirs lists, or a file under
 * /usr/share — root copies it into a file QEMU's user owns (-EPERM,
 * docs/design.md "Who may do what"). Returns 0 or -errno; fills e. */
int hostinfo_firmware_for_profile(const struct profile *p, const struct firmware_dirs *dirs,
                                  const char *canonical_machine, struct firmware_choice *ret,
                                  struct vl_error *e, struct vl_warnings *w);
