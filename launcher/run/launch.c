/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Shared preparation of a launch: see launch.h. Reads firmware descriptors
 * (through hostinfo) and probes ports; changes nothing on the host. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "host/hugepages.h"
#include "run/launch.h"
#include "host/vars.h"

int launch_prepare(const struct profile *p, const struct hostinfo *h,
                   const struct firmware_dirs *dirs, const char *state_dir,
                   struct qemu_runtime *rt, struct firmware_choice *ret_fc, struct vl_error *e,
                   struct vl_warnings *w)
{
        char eff[PROFILE_STR_MAX], canonical[PROFILE_STR_MAX];
        struct firmware_choice fc = {};
        int fd = LAUNCH_QMP_USER_FD + 1, r;

        rt->qmp_fd = LAUNCH_QMP_FD;
        rt->qmp_user_fd = LAUNCH_QMP_USER_FD;
        for (unsigned i = 0; i < p->n_nics; i++)
                rt->nic_fds[i] = p->nics[i].backend == NIC_USER ? -1 : fd++;
        /* The run creates this folder (hugepages_setup()); print shows it. */
        if (p->hugepages.enabled &&
            hugepages_vm_dir(p->hugepages.path, p->name, rt->mem_path, sizeof(rt->mem_path)) < 0)
                return vl_error_set(e, ENAMETOOLONG, "the VM's hugepages folder path is too long");

        /* The machine type's warnings come from the builder itself. */
        r = hostinfo_machine_resolve(p->machine, &h->version, eff, sizeof(eff), canonical,
                                     sizeof(canonical), e, NULL);
        if (r < 0)
                return r;
        r = hostinfo_firmware_for_profile(p, dirs, canonical, &fc, e, w);
        if (r < 0)
                return r;
        if (ret_fc)
                *ret_fc = fc;
        if (p->firmware.type == FIRMWARE_BIOS)
                return 0;

        if (xsnprintf(rt->firmware.code, sizeof(rt->firmware.code), "%s", fc.code) < 0)
                return vl_error_set(e, ENAMETOOLONG, "firmware path too long");
        snprintf(rt->firmware.code_format, sizeof(rt->firmware.code_format), "%s",
                 fc.code_format[0] ? fc.code_format : "raw");
        snprintf(rt->firmware.vars_format, sizeof(rt->firmware.vars_format), "%s",
                 fc.vars_format[0] ? fc.vars_format : "raw");
        rt->firmware.requires_smm = fc.requires_smm;
        if (p->firmware.vars[0])
                snprintf(rt->firmware.vars, sizeof(rt->firmware.vars), "%s", p->firmware.vars);
        else if (vars_default_path(state_dir, p->name, rt->firmware.vars,
                                   sizeof(rt->firmware.vars)) < 0)
                return vl_error_set(e, ENAMETOOLONG, "VARS path too long");
        return 0;
}

int launch_pick_port(const char *listen_addr, unsigned first, unsigned *ret)
{
        struct sockaddr_storage ss = {};
        socklen_t len;

        if (inet_pton(AF_INET, listen_addr, &((struct sockaddr_in *) &ss)->sin_addr) == 1) {
                ss.ss_family = AF_INET;
                len = sizeof(struct sockaddr_in);
        } else if (inet_pton(AF_INET6, listen_addr, &((struct sockaddr_in6 *) &ss)->sin6_addr) == 1) {
                ss.ss_family = AF_INET6;
                len = sizeof(struct sockaddr_in6);
        } else
                return -EINVAL;

        for (unsigned port = first; port < first + 100 && port <= 65535; port++) {
                int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0), r;
                if (fd < 0)
                        return -errno;
                if (ss.ss_family == AF_INET)
                        ((struct sockaddr_in *) &ss)->sin_port = htons((uint16_t) port);
                else
                        ((struct sockaddr_in6 *) &ss)->sin6_port = htons((uint16_t) port);
                r = bind(fd, (struct sockaddr *) &ss, len);
                close(fd);
                if (r == 0) {
                        *ret = port;
                        return 0;
                }
        }
        return -EADDRINUSE;
}
