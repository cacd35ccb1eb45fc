/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The TPM on QEMU's command line: its socket's number in struct
 * qemu_fd_layout (one owner: init, place and the builder agree), and the
 * chardev / tpmdev / device the builder writes for each model.
 */
#include <errno.h>
#include <string.h>

#include "qemu/qemu_argv.h"
#include "vl_test.h"

static struct profile *vm(bool tpm, enum tpm_model model, unsigned n_taps)
{
        struct profile *p = test_calloc(1, sizeof(*p));

        profile_init(p, "t");
        p->accel = ACCEL_TCG;
        strcpy(p->cpu.model, "max");
        p->firmware.type = FIRMWARE_BIOS;
        p->tpm.enabled = tpm;
        p->tpm.model = model;
        p->n_nics = n_taps + 1;
        for (unsigned i = 0; i < p->n_nics; i++)
                strcpy(p->nics[i].model, "e1000e");
        for (unsigned i = 0; i < n_taps; i++) {
                p->nics[i].backend = NIC_TAP;
                strcpy(p->nics[i].bridge, "br0");
        }
        /* the last NIC is a "user" one: no fd */
        return p;
}

static void test_layout(void **state)
{
        struct profile *p = vm(true, TPM_MODEL_CRB, 2);
        struct qemu_fd_layout l;
        int nics[PROFILE_NICS_MAX] = { 30, 31, -1, -1, -1, -1, -1, -1 }, out[QEMU_FDS_MAX];

        (void) state;
        qemu_fd_layout_init(&l, p, true, NULL, NULL);
        /* QMP, tools' QMP, the two taps, then the TPM: the numbers a
         * profile without a TPM has stay the same. */
        assert_int_equal(l.qmp, 3);
        assert_int_equal(l.qmp_user, 4);
        assert_int_equal(l.nic[0], 5);
        assert_int_equal(l.nic[1], 6);
        assert_int_equal(l.nic[2], -1);
        assert_int_equal(l.tpm, 7);
        assert_int_equal(l.n, 5);
        assert_int_equal(qemu_fd_layout_place(&l, 20, 21, nics, NULL, 40, NULL, out), 5);
        assert_int_equal(out[0], 20);
        assert_int_equal(out[2], 30);
        assert_int_equal(out[3], 31);
        assert_int_equal(out[4], 40);
        /* a layout with a TPM and no socket for it */
        assert_int_equal(qemu_fd_layout_place(&l, 20, 21, nics, NULL, -1, NULL, out), -EBADF);

        p->tpm.enabled = false;
        qemu_fd_layout_init(&l, p, true, NULL, NULL);
        assert_int_equal(l.tpm, -1);
        assert_int_equal(l.n, 4);
        /* no TPM: a socket given anyway has no number to go to */
        assert_int_equal(qemu_fd_layout_place(&l, 20, 21, nics, NULL, -1, NULL, out), 4);
        test_free(p);
}

static struct qemu_cmd *build(const struct profile *p, struct vl_error *e, int *ret)
{
        struct hostinfo h = { .qemu_path = "/usr/bin/qemu-system-x86_64", .version = { 7, 2, 0 } };
        struct qemu_runtime rt;
        struct qemu_cmd *c = NULL;

        qemu_runtime_init(&rt);
        qemu_fd_layout_init(&rt.fds, p, false, NULL, NULL);
        strcpy(rt.machine, "q35");
        *ret = qemu_argv_build(p, &h, &rt, &c, e, NULL);
        return c;
}

static bool has(const struct qemu_cmd *c, const char *opt, const char *value)
{
        for (size_t i = 0; i + 1 < c->n_argv; i++)
                if (strcmp(c->argv[i], opt) == 0 && strcmp(c->argv[i + 1], value) == 0)
                        return true;
        return false;
}

static void test_models(void **state)
{
        static const struct {
                enum tpm_model model;
                const char *device;
        } cases[] = {
                { TPM_MODEL_CRB, "tpm-crb,tpmdev=tpm-tpm0,id=tpm0" },
                { TPM_MODEL_TIS, "tpm-tis,tpmdev=tpm-tpm0,id=tpm0" },
        };

        (void) state;
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                struct profile *p = vm(true, cases[i].model, 1);
                struct vl_error e = {};
                int r;
                struct qemu_cmd *c = build(p, &e, &r);

                assert_int_equal(r, 0);
                /* QMP 3, the tap 4, the TPM 5 */
                assert_true(has(c, "-chardev", "socket,id=chrtpm,fd=5"));
                assert_true(has(c, "-tpmdev", "emulator,id=tpm-tpm0,chardev=chrtpm"));
                assert_true(has(c, "-device", cases[i].device));
                qemu_cmd_free(c);
                test_free(p);
        }
}

static void test_no_tpm(void **state)
{
        struct profile *p = vm(false, TPM_MODEL_CRB, 0);
        struct vl_error e = {};
        int r;
        struct qemu_cmd *c = build(p, &e, &r);

        (void) state;
        assert_int_equal(r, 0);
        for (size_t i = 0; i < c->n_argv; i++)
                assert_null(strstr(c->argv[i], "tpm"));
        qemu_cmd_free(c);
        test_free(p);
}

/* A runtime that was not laid out for the TPM: refused, not a chardev on fd -1. */
static void test_tpm_without_fd(void **state)
{
        struct hostinfo h = { .qemu_path = "/usr/bin/qemu-system-x86_64", .version = { 7, 2, 0 } };
        struct profile *p = vm(true, TPM_MODEL_CRB, 0);
        struct qemu_runtime rt;
        struct qemu_cmd *c = NULL;
        struct vl_error e = {};

        (void) state;
        qemu_runtime_init(&rt);
        rt.fds.qmp = 3;
        strcpy(rt.machine, "q35");
        assert_int_equal(qemu_argv_build(p, &h, &rt, &c, &e, NULL), -EINVAL);
        assert_null(c);
        assert_string_equal(e.path, "$.tpm");
        test_free(p);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_layout),
                cmocka_unit_test(test_models),
                cmocka_unit_test(test_no_tpm),
                cmocka_unit_test(test_tpm_without_fd),
        };
        return vl_run_tests(tests, NULL, NULL);
}
