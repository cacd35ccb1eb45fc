/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The guest's TPM on the command line: QEMU's TPM emulator back end, whose
 * chardev is QEMU's end of a socket pair the launcher made (fd from struct
 * qemu_fd_layout), and the front end the profile names. swtpm holds the
 * other end as its control channel (`--ctrl type=unixio,clientfd=`); QEMU
 * sends it the data channel over it (CMD_SET_DATAFD), so nothing else can
 * reach the TPM (docs/facts.md#F-swtpm). Ids as libvirt gives them
 * (tests/qemuxml2argvdata/tpm-emulator-tpm2.x86_64-latest.args): chardev
 * "chrtpm", back end "tpm-tpm0", device "tpm0". PURE, part of the builder.
 */
#include <errno.h>

#include "qemu/qemu_builder.h"

#define TPM_CHARDEV_ID "chrtpm"
#define TPM_BACKEND_ID "tpm-tpm0"

int qemu_argv_emit_tpm(struct builder *b, const struct profile *p, const struct qemu_runtime *rt,
                       struct vl_error *e)
{
        struct opt o;

        if (!p->tpm.enabled)
                return 0;
        if (rt->fds.tpm < QEMU_FD_FIRST)
                return vl_error_set_at(e, EINVAL, NULL, 0, 0, "$.tpm",
                                       "no file descriptor for the TPM (launch_prepare() lays them out)");
        /* A connected socket: client mode, no server=, no reconnect. */
        qa_opt_begin(b, &o, "socket");
        qa_opt_kv(b, &o, "id", TPM_CHARDEV_ID);
        qa_opt_kv(b, &o, "fd", "%d", rt->fds.tpm);
        qa_arg_opt(b, "-chardev", &o);
        qa_opt_begin(b, &o, "emulator");
        qa_opt_kv(b, &o, "id", TPM_BACKEND_ID);
        qa_opt_kv(b, &o, "chardev", TPM_CHARDEV_ID);
        qa_arg_opt(b, "-tpmdev", &o);
        qa_opt_begin(b, &o, p->tpm.model == TPM_MODEL_TIS ? "tpm-tis" : "tpm-crb");
        qa_opt_kv(b, &o, "tpmdev", TPM_BACKEND_ID);
        qa_opt_kv(b, &o, "id", PROFILE_ID_TPM);
        qa_arg_opt(b, "-device", &o);
        return 0;
}
