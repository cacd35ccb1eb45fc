/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The evdev "inputs" on the fake host (tests/fakesys; host/input.h and the
 * hand-over it shares with block devices, host/devnode.h): a missing node
 * refused before any change, a node that is not an evdev device refused
 * (a tty, a disk, a file, one outside DEV/input or DEV), a link another
 * account owns refused, two links to one node refused; the hand-over
 * journaled BEFORE the chown as kind evdev, given back by host_undo() (and
 * again, idempotent), and an undo that leaves alone what is not the node
 * any more. The nodes are made with mknod in the fake DEV — never a host
 * node — and handed over through O_PATH fds, so no evdev driver is needed;
 * tests/lifecycle case input does it with a real uinput keyboard and QEMU.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>
#include <cmocka.h>

#include "fakesys.h"
#include "vl_test.h"
#include "host/devnode.h"
#include "host/input.h"
#include "host/undo.h"

static int setup(void **state)
{
        struct fakesys *fs = fakesys_new();
        char path[4096];

        snprintf(path, sizeof(path), "%s/input", fakesys_dev(fs));
        assert_int_equal(mkdir(path, 0755), 0);
        snprintf(path, sizeof(path), "%s/input/by-id", fakesys_dev(fs));
        assert_int_equal(mkdir(path, 0755), 0);
        *state = fs;
        return 0;
}

static int teardown(void **state)
{
        fakesys_free(*state);
        return 0;
}

/* DEV/NAME as a node of type mode and number rdev, owned root:gid. */
static void node(struct fakesys *fs, const char *name, mode_t mode, dev_t rdev, gid_t gid, char *path, size_t size)
{
        snprintf(path, size, "%s/%s", fakesys_dev(fs), name);
        if (mknod(path, mode, rdev) < 0 || chown(path, 0, gid) < 0 || chmod(path, mode & 07777) < 0)
                vl_skip("mknod/chown need root (%s)", strerror(errno));
}

/* DEV/input/by-id/NAME -> target, as udev links them. */
static void by_id(struct fakesys *fs, const char *name, const char *target, char *path, size_t size)
{
        snprintf(path, size, "%s/input/by-id/%s", fakesys_dev(fs), name);
        assert_int_equal(symlink(target, path), 0);
}

static struct profile *profile_with(const char *const *evdevs, unsigned n)
{
        struct profile *p = calloc(1, sizeof(*p));

        assert_non_null(p);
        profile_init(p, "kbd");
        for (unsigned i = 0; i < n; i++) {
                p->inputs[i].type = evdevs[i] ? INPUT_EVDEV : INPUT_VIRTIO_KEYBOARD;
                if (evdevs[i]) {
                        assert_true(strlen(evdevs[i]) < sizeof(p->inputs[i].evdev));
                        memcpy(p->inputs[i].evdev, evdevs[i], strlen(evdevs[i]) + 1);
                }
        }
        p->n_inputs = n;
        return p;
}

static void test_missing(void **state)
{
        struct fakesys *fs = *state;
        struct input_node n;
        struct vl_error e = {};
        char path[4096];

        /* Unplugged, or a typo: refused, and nothing else is looked at. */
        snprintf(path, sizeof(path), "%s/input/by-id/usb-Gone-event-kbd", fakesys_dev(fs));
        assert_int_equal(input_inspect(fakesys_roots(fs), path, "$.inputs[0].evdev", &n, &e), -ENOENT);
        assert_string_equal(e.path, "$.inputs[0].evdev");
        assert_non_null(strstr(e.msg, "does not exist"));

        /* A dangling link (the device went, udev has not removed it yet). */
        by_id(fs, "usb-Stale-event-kbd", "../event31", path, sizeof(path));
        assert_int_equal(input_inspect(fakesys_roots(fs), path, "$.inputs[0].evdev", &n, &e), -ENOENT);
}

static void test_not_evdev(void **state)
{
        struct fakesys *fs = *state;
        struct input_node n;
        struct vl_error e = {};
        char path[4096], link[4096];

        /* A tty named like an input node. */
        node(fs, "input/event9", S_IFCHR | 0660, makedev(4, 64), 5, path, sizeof(path));
        assert_int_equal(input_inspect(fakesys_roots(fs), path, "$.inputs[0].evdev", &n, &e), -EINVAL);
        assert_non_null(strstr(e.msg, "not an evdev node"));
        /* A disk behind a by-id link. */
        node(fs, "sdz", S_IFBLK | 0660, makedev(8, 16), 6, path, sizeof(path));
        by_id(fs, "usb-Disk-event-kbd", "../../sdz", link, sizeof(link));
        assert_int_equal(input_inspect(fakesys_roots(fs), link, "$.inputs[0].evdev", &n, &e), -EINVAL);
        /* An input major, but not in DEV/input. */
        node(fs, "event7", S_IFCHR | 0660, makedev(13, 71), 104, path, sizeof(path));
        assert_int_equal(input_inspect(fakesys_roots(fs), path, "$.inputs[0].evdev", &n, &e), -EINVAL);
        /* Outside DEV: refused whatever it is. */
        snprintf(path, sizeof(path), "%s/event8", fakesys_top(fs));
        assert_int_equal(mknod(path, S_IFCHR | 0660, makedev(13, 72)), 0);
        assert_int_equal(input_inspect(fakesys_roots(fs), path, "$.inputs[0].evdev", &n, &e), -EPERM);
        assert_non_null(strstr(e.msg, "which is not under"));
}

/* Whoever owns a link on the way would pick which node root hands over. */
static void test_untrusted_link(void **state)
{
        struct fakesys *fs = *state;
        struct input_node n;
        struct vl_error e = {};
        char path[4096], link[4096];

        node(fs, "input/event3", S_IFCHR | 0660, makedev(13, 67), 104, path, sizeof(path));
        by_id(fs, "usb-Evil-event-kbd", "../event3", link, sizeof(link));
        assert_int_equal(lchown(link, 65534, 65534), 0);
        assert_int_equal(input_inspect(fakesys_roots(fs), link, "$.inputs[0].evdev", &n, &e), -EPERM);
        assert_non_null(strstr(e.msg, "belongs to uid 65534"));
}

static void test_plan(void **state)
{
        struct fakesys *fs = *state;
        _cleanup_free_ struct profile *p = NULL, *q = NULL;
        struct input_plan plan;
        struct vl_error e = {};
        char path[4096], a[4096], b[4096];

        node(fs, "input/event4", S_IFCHR | 0660, makedev(13, 68), 104, path, sizeof(path));
        by_id(fs, "usb-Kbd-event-kbd", "../event4", a, sizeof(a));
        by_id(fs, "usb-Kbd-if01-event-kbd", "../event4", b, sizeof(b));
        /* Virtio inputs are not the host's: nothing to plan. */
        p = profile_with((const char *const[]) { NULL, a }, 2);
        assert_int_equal(input_plan(fakesys_roots(fs), p, &plan, &e), 0);
        assert_int_equal(plan.n, 1);
        assert_int_equal(plan.nodes[0].input, 1);
        assert_int_equal(plan.nodes[0].rdev, makedev(13, 68));
        assert_int_equal(plan.nodes[0].gid, 104);
        assert_int_equal(plan.nodes[0].mode, 0660);
        assert_string_equal(plan.nodes[0].node, path);
        /* Two links to one node: QEMU would grab it once. */
        q = profile_with((const char *const[]) { a, b }, 2);
        assert_int_equal(input_plan(fakesys_roots(fs), q, &plan, &e), -EINVAL);
        assert_string_equal(e.path, "$.inputs[1].evdev");
        assert_non_null(strstr(e.msg, "of $.inputs[0] too"));
}

static void test_hand_over_and_undo(void **state)
{
        struct fakesys *fs = *state;
        _cleanup_free_ struct profile *p = NULL;
        _cleanup_free_ struct journal *j = calloc(1, sizeof(*j));
        struct input_plan plan;
        struct journal_entry x;
        struct host_env h;
        struct vl_error e = {};
        char path[4096], link[4096];
        struct stat st;

        node(fs, "input/event0", S_IFCHR | 0660, makedev(13, 64), 104, path, sizeof(path));
        by_id(fs, "usb-Kbd-event-kbd", "../event0", link, sizeof(link));
        p = profile_with((const char *const[]) { link }, 1);
        assert_int_equal(input_plan(fakesys_roots(fs), p, &plan, &e), 0);
        assert_int_equal(plan.n, 1);

        assert_int_equal(input_hand_over(fakesys_roots(fs), "kbd", &plan, 65534, 65534, &e), 0);
        assert_int_equal(stat(path, &st), 0);
        assert_int_equal(st.st_uid, 65534);
        assert_int_equal(st.st_gid, 65534);
        /* Journaled with the owner before. */
        assert_int_equal(journal_load(fakesys_roots(fs), "kbd", j, &e), 0);
        assert_int_equal(j->n_entries, 1);
        x = j->entries[0];
        assert_int_equal(x.kind, JOURNAL_EVDEV);
        assert_string_equal(x.evdev.node, path);
        assert_int_equal(x.evdev.rdev, makedev(13, 64));
        assert_int_equal(x.evdev.uid, 0);
        assert_int_equal(x.evdev.gid, 104);
        assert_int_equal(x.evdev.mode, 0660);

        /* Someone changed the mode meanwhile: given back too. */
        assert_int_equal(chmod(path, 0600), 0);
        fakesys_host_env(fs, &h);
        assert_int_equal(host_undo(&h, "kbd", &e, NULL), 0);
        assert_int_equal(stat(path, &st), 0);
        assert_int_equal(st.st_uid, 0);
        assert_int_equal(st.st_gid, 104);
        assert_int_equal(st.st_mode & 07777, 0660);
        assert_int_equal(journal_load(fakesys_roots(fs), "kbd", j, &e), -ENOENT);

        /* Idempotent: the entry once more changes nothing. */
        assert_int_equal(devnode_undo_entry(fakesys_roots(fs), &x, &e), 0);
        assert_int_equal(stat(path, &st), 0);
        assert_int_equal(st.st_uid, 0);
        assert_int_equal(st.st_mode & 07777, 0660);

        /* A node the user owns already is not journaled. */
        assert_int_equal(chown(path, 65534, 65534), 0);
        assert_int_equal(input_hand_over(fakesys_roots(fs), "kbd", &plan, 65534, 65534, &e), 0);
        assert_int_equal(journal_load(fakesys_roots(fs), "kbd", j, &e), -ENOENT);

        /* Another device at that name since (plugged out and in again,
         * another minor): its owner is udev's, left alone. */
        assert_int_equal(unlink(path), 0);
        node(fs, "input/event0", S_IFCHR | 0660, makedev(13, 65), 104, path, sizeof(path));
        assert_int_equal(chown(path, 1000, 1000), 0);
        assert_int_equal(devnode_undo_entry(fakesys_roots(fs), &x, &e), 0);
        assert_int_equal(stat(path, &st), 0);
        assert_int_equal(st.st_uid, 1000);
        /* Planned, then the node changed before the hand-over: refused. */
        assert_int_equal(input_hand_over(fakesys_roots(fs), "kbd", &plan, 65534, 65534, &e), -ESTALE);
        assert_int_equal(stat(path, &st), 0);
        assert_int_equal(st.st_uid, 1000);
}

static void test_undo_not_ours(void **state)
{
        struct fakesys *fs = *state;
        struct journal_entry x = { .kind = JOURNAL_EVDEV,
                                   .evdev = { .rdev = makedev(13, 66), .uid = 0, .gid = 104, .mode = 0660 } };
        struct vl_error e = {};
        char path[4096];
        struct stat st;

        /* Outside DEV: refused, whatever is there. */
        strcpy(x.evdev.node, "/etc/shadow");
        assert_int_equal(devnode_undo_entry(fakesys_roots(fs), &x, &e), -EPERM);
        /* Gone (the keyboard was unplugged): nothing to give back. */
        snprintf(path, sizeof(path), "%s/input/event2", fakesys_dev(fs));
        strcpy(x.evdev.node, path);
        assert_int_equal(devnode_undo_entry(fakesys_roots(fs), &x, &e), 0);
        /* A tty with that device number's minor: not an input node. */
        node(fs, "input/event2", S_IFCHR | 0620, makedev(4, 66), 5, path, sizeof(path));
        assert_int_equal(chown(path, 1000, 5), 0);
        assert_int_equal(devnode_undo_entry(fakesys_roots(fs), &x, &e), 0);
        assert_int_equal(stat(path, &st), 0);
        assert_int_equal(st.st_uid, 1000);
        assert_int_equal(st.st_mode & 07777, 0620);
        /* Even an entry naming that tty's own number (devnode_undo_entry()
         * called without the journal's checks): an evdev entry chowns only
         * an input node. */
        x.evdev.rdev = makedev(4, 66);
        assert_int_equal(devnode_undo_entry(fakesys_roots(fs), &x, &e), 0);
        assert_int_equal(stat(path, &st), 0);
        assert_int_equal(st.st_uid, 1000);
        /* A link planted there is not followed. */
        assert_int_equal(unlink(path), 0);
        assert_int_equal(symlink("/etc/passwd", path), 0);
        assert_int_equal(devnode_undo_entry(fakesys_roots(fs), &x, &e), 0);
        assert_int_equal(lstat("/etc/passwd", &st), 0);
        assert_int_equal(st.st_uid, 0);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_missing, setup, teardown),
                cmocka_unit_test_setup_teardown(test_not_evdev, setup, teardown),
                cmocka_unit_test_setup_teardown(test_untrusted_link, setup, teardown),
                cmocka_unit_test_setup_teardown(test_plan, setup, teardown),
                cmocka_unit_test_setup_teardown(test_hand_over_and_undo, setup, teardown),
                cmocka_unit_test_setup_teardown(test_undo_not_ours, setup, teardown),
        };
        return vl_run_tests(tests, NULL, NULL);
}
