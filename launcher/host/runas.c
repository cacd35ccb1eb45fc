/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Resolve the run-as user (see runas.h). Reads the user database only. */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "host/runas.h"

static int parse_uid(const char *s, uid_t *ret)
{
        char *end;
        unsigned long v;

        errno = 0;
        v = strtoul(s, &end, 10);
        if (errno || end == s || *end || v >= (uid_t) -1)
                return -EINVAL;
        *ret = (uid_t) v;
        return 0;
}

int runas_resolve(const struct profile *p, uid_t caller, const char *sudo_uid,
                  const char *pkexec_uid, struct runas *ret, struct vl_error *e,
                  struct vl_warnings *w)
{
        struct passwd *pw;
        struct runas r = {};
        int ngroups = RUNAS_GROUPS_MAX;
        struct stat st;
        const char *via = "the caller";

        if (p->user[0]) {
                pw = getpwnam(p->user);
                if (!pw)
                        return vl_error_set_at(e, ESRCH, p->source, 0, 0, "$.user",
                                               "no user \"%s\" on this host", p->user);
                via = "the profile";
        } else {
                uid_t uid = caller;
                const char *src = sudo_uid && sudo_uid[0]     ? sudo_uid
                                  : pkexec_uid && pkexec_uid[0] ? pkexec_uid
                                                                : NULL;
                if (caller == 0 && src) {
                        if (parse_uid(src, &uid) < 0)
                                return vl_error_set(e, EINVAL, "malformed %s=\"%s\"",
                                                    src == sudo_uid ? "SUDO_UID" : "PKEXEC_UID", src);
                        via = src == sudo_uid ? "sudo" : "pkexec";
                }
                pw = getpwuid(uid);
                if (!pw)
                        return vl_error_set(e, ESRCH, "no user with uid %u on this host",
                                            (unsigned) uid);
        }
        if (pw->pw_uid == 0) {
                if (!p->allow_root)
                        return vl_error_set(e, EPERM,
                                            "QEMU would run as root (the run-as user comes from %s); "
                                            "set \"user\" in the profile, start through sudo/pkexec, "
                                            "or set \"allow_root\": true",
                                            via);
                vl_warn(w, "QEMU runs as root (\"allow_root\": true): a compromised guest "
                           "escaping QEMU owns the host");
        }
        if (snprintf(r.name, sizeof(r.name), "%s", pw->pw_name) >= (int) sizeof(r.name) ||
            snprintf(r.home, sizeof(r.home), "%s", pw->pw_dir) >= (int) sizeof(r.home))
                return vl_error_set(e, ENAMETOOLONG, "user name or home of uid %u too long",
                                    (unsigned) pw->pw_uid);
        r.uid = pw->pw_uid;
        r.gid = pw->pw_gid;
        if (r.uid != 0)
                snprintf(r.xdg_runtime_dir, sizeof(r.xdg_runtime_dir), "/run/user/%u",
                         (unsigned) r.uid);

        /* getgrouplist() may leave fewer than it reports; -1 means too many:
         * keep the first RUNAS_GROUPS_MAX, the primary group is first. */
        if (getgrouplist(r.name, r.gid, r.groups, &ngroups) < 0)
                ngroups = RUNAS_GROUPS_MAX;
        r.n_groups = (unsigned) ngroups;
        /* /dev/kvm belongs to group kvm (0660): QEMU needs it as libvirt's
         * qemu user has it, whether or not the run-as user is a member. */
        if (stat("/dev/kvm", &st) == 0 && st.st_gid != 0 && r.n_groups < RUNAS_GROUPS_MAX) {
                bool have = false;
                for (unsigned i = 0; i < r.n_groups; i++)
                        have = have || r.groups[i] == st.st_gid;
                if (!have)
                        r.groups[r.n_groups++] = st.st_gid;
        }
        *ret = r;
        return 0;
}
