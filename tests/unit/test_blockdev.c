/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Block devices as disks (host/blockdev.h) on the fake host (tests/fakesys):
 * what counts as in use (bind_block_holders(): mounted, a partition
 * mounted, swap, something stacked on it, a btrfs mount known only by its
 * source), the refusal's message, and the undo of a JOURNAL_BLOCKDEV entry
 * on nodes that are not the device any more. The hand-over of a real
 * device is tests/lifecycle's case blockdev (a loop device).
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
#include "host/bind.h"
#include "host/blockdev.h"
#include "host/devnode.h"
#include "host/undo.h"

static int setup(void **state)
{
        struct fakesys *fs = fakesys_new();

        /* loop0: free, with a free partition. */
        fakesys_block(fs, "virtual/block", "loop0", "7:0");
        fakesys_block(fs, "virtual/block/loop0", "loop0p1", "259:0");
        /* loop1: its partition is mounted. */
        fakesys_block(fs, "virtual/block", "loop1", "7:1");
        fakesys_block(fs, "virtual/block/loop1", "loop1p1", "259:1");
        fakesys_mount(fs, "259:1", "/mnt/data", "ext4", "/dev/loop1p1");
        /* sdb: LVM on its first partition, not mounted. */
        fakesys_block(fs, "pci0000:00/0000:00:17.0/ata2/host1/target1:0:0/1:0:0:0/block", "sdb", "8:16");
        fakesys_block(fs, "pci0000:00/0000:00:17.0/ata2/host1/target1:0:0/1:0:0:0/block/sdb", "sdb1", "8:17");
        fakesys_block(fs, "virtual/block", "dm-3", "253:3");
        fakesys_sys_file(fs, "devices/virtual/block/dm-3/dm/name", "vg-home\n");
        fakesys_block_stack(fs, "dm-3", "sdb1");
        /* sdc: swap on the whole disk. */
        fakesys_block(fs, "pci0000:00/0000:00:17.0/ata3/host2/target2:0:0/2:0:0:0/block", "sdc", "8:32");
        fakesys_swap(fs, "/dev/sdc");
        /* sdd: btrfs, whose mountinfo shows an anonymous device number. */
        fakesys_block(fs, "pci0000:00/0000:00:17.0/ata4/host3/target3:0:0/3:0:0:0/block", "sdd", "8:48");
        fakesys_mount(fs, "0:44", "/srv", "btrfs", "/dev/sdd");
        fakesys_mount(fs, "0:22", "/proc", "proc", "proc");
        *state = fs;
        return 0;
}

static int teardown(void **state)
{
        fakesys_free(*state);
        return 0;
}

static int holders(struct fakesys *fs, unsigned maj, unsigned min, char *buf, size_t size)
{
        struct bind_holders h;
        struct vl_error e = {};
        int r = bind_block_holders(fakesys_roots(fs), makedev(maj, min), &h, &e);

        if (r >= 0)
                bind_holders_join(&h, buf, size);
        else
                snprintf(buf, size, "%s", e.msg);
        return r;
}

static void test_in_use(void **state)
{
        struct fakesys *fs = *state;
        char what[1024];

        assert_int_equal(holders(fs, 7, 0, what, sizeof(what)), 0);
        assert_int_equal(holders(fs, 7, 1, what, sizeof(what)), 1);
        assert_string_equal(what, "the mounted filesystem /mnt/data (/dev/loop1p1)");
        /* The partition itself, given as the disk, is in use too. */
        assert_int_equal(holders(fs, 259, 1, what, sizeof(what)), 1);
        assert_int_equal(holders(fs, 8, 16, what, sizeof(what)), 1);
        assert_string_equal(what, "the block device /dev/mapper/vg-home stacked on it");
        assert_int_equal(holders(fs, 8, 32, what, sizeof(what)), 1);
        assert_string_equal(what, "the active swap /dev/sdc");
        assert_int_equal(holders(fs, 8, 48, what, sizeof(what)), 1);
        assert_string_equal(what, "the mounted filesystem /srv (/dev/sdd)");
        assert_int_equal(holders(fs, 8, 64, what, sizeof(what)), -ENOENT);
        assert_non_null(strstr(what, "block device 8:64: not in"));
}

static void test_refusal(void **state)
{
        struct fakesys *fs = *state;
        struct blockdev_node n = { .node = "/dev/loop1", .rdev = makedev(7, 1) };
        struct vl_error e = {};

        assert_int_equal(blockdev_check_unused(fakesys_roots(fs), &n, "$.disks[0].path", &e), -EBUSY);
        assert_string_equal(e.path, "$.disks[0].path");
        assert_non_null(strstr(e.msg, "the block device /dev/loop1 is in use on the host: the mounted filesystem "
                                      "/mnt/data (/dev/loop1p1); refused"));
        n.rdev = makedev(7, 0);
        assert_int_equal(blockdev_check_unused(fakesys_roots(fs), &n, "$.disks[0].path", &e), 0);
}

/* An image file is not a block device: nothing to hand over. */
static void test_inspect_file(void **state)
{
        struct fakesys *fs = *state;
        struct blockdev_node n;
        struct vl_error e = {};
        char path[4096];
        int fd;

        snprintf(path, sizeof(path), "%s/disk.qcow2", fakesys_top(fs));
        fd = open(path, O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
        assert_true(fd >= 0);
        close(fd);
        assert_int_equal(blockdev_inspect(fakesys_roots(fs), path, "$.disks[0].path", &n, &e), 0);
        snprintf(path, sizeof(path), "%s/absent.qcow2", fakesys_top(fs));
        assert_int_equal(blockdev_inspect(fakesys_roots(fs), path, "$.disks[0].path", &n, &e), 0);
}

/* Root may make a block device node anywhere: only one under DEV is
 * handed over. */
static void test_inspect_outside_dev(void **state)
{
        struct fakesys *fs = *state;
        struct blockdev_node n;
        struct vl_error e = {};
        char path[4096];

        snprintf(path, sizeof(path), "%s/loop-elsewhere", fakesys_top(fs));
        if (mknod(path, S_IFBLK | 0600, makedev(7, 0)) < 0) {
                vl_skip("mknod needs CAP_MKNOD (%s)", strerror(errno));
        }
        assert_int_equal(blockdev_inspect(fakesys_roots(fs), path, "$.disks[0].path", &n, &e), -EPERM);
        assert_non_null(strstr(e.msg, "which is not under"));
}

static void entry(struct journal_entry *x, const char *node, dev_t rdev)
{
        *x = (struct journal_entry) { .kind = JOURNAL_BLOCKDEV,
                                      .blockdev = { .rdev = rdev, .uid = 4242, .gid = 4242, .mode = 0600 } };
        assert_true(strlen(node) < sizeof(x->blockdev.node));
        memcpy(x->blockdev.node, node, strlen(node) + 1);
}

static void test_undo_not_ours(void **state)
{
        struct fakesys *fs = *state;
        struct journal_entry x;
        struct vl_error e = {};
        char path[4096];
        struct stat st;
        int fd;

        /* Outside DEV: refused, whatever is there. */
        entry(&x, "/etc/shadow", makedev(8, 16));
        assert_int_equal(devnode_undo_entry(fakesys_roots(fs), &x, &e), -EPERM);
        assert_non_null(strstr(e.msg, "is not under"));

        /* Gone (the disk was unplugged): nothing to give back. */
        snprintf(path, sizeof(path), "%s/sdb", fakesys_dev(fs));
        entry(&x, path, makedev(8, 16));
        assert_int_equal(devnode_undo_entry(fakesys_roots(fs), &x, &e), 0);

        /* Something else at that name: left alone, owner and mode kept. */
        fd = open(path, O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
        assert_true(fd >= 0);
        close(fd);
        assert_int_equal(devnode_undo_entry(fakesys_roots(fs), &x, &e), 0);
        assert_int_equal(stat(path, &st), 0);
        assert_int_equal(st.st_uid, geteuid());
        assert_int_equal(st.st_mode & 0777, 0644);

        /* A link planted there is not followed. */
        unlink(path);
        assert_int_equal(symlink("/etc/passwd", path), 0);
        assert_int_equal(devnode_undo_entry(fakesys_roots(fs), &x, &e), 0);
        assert_int_equal(lstat("/etc/passwd", &st), 0);
        assert_int_equal(st.st_uid, 0);
}

/* The hand-over and its undo on a real block device node — made in the
 * fake DEV, so the host's own /dev/loop0 keeps its owner: inspected,
 * journaled before the chown, given back by host_undo() (the handler of
 * kind blockdev), the journal gone after. Needs root (mknod, chown) and a
 * loop driver to open the node (the node of an unbound loop device opens). */
static void test_hand_over_and_undo(void **state)
{
        struct fakesys *fs = *state;
        struct blockdev_plan plan = {};
        struct journal j;
        struct host_env h;
        struct vl_error e = {};
        char path[4096], link[4096];
        struct stat st;
        int fd;

        snprintf(path, sizeof(path), "%s/vdz", fakesys_dev(fs));
        if (mknod(path, S_IFBLK | 0640, makedev(7, 0)) < 0 || chown(path, 0, 6) < 0 || chmod(path, 0640) < 0) {
                vl_skip("mknod/chown need root (%s)", strerror(errno));
        }
        fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
        if (fd < 0) {
                vl_skip("cannot open a loop device node here (%s)", strerror(errno));
        }
        close(fd);
        /* Named through a link, as /dev/disk/by-id/... */
        snprintf(link, sizeof(link), "%s/by-id-vdz", fakesys_top(fs));
        assert_int_equal(symlink(path, link), 0);
        assert_int_equal(blockdev_inspect(fakesys_roots(fs), link, "$.disks[0].path", &plan.nodes[0], &e), 1);
        assert_int_equal(plan.nodes[0].rdev, makedev(7, 0));
        assert_int_equal(plan.nodes[0].gid, 6);
        assert_int_equal(plan.nodes[0].mode, 0640);
        assert_non_null(strstr(plan.nodes[0].node, "/dev/vdz"));
        plan.n = 1;

        assert_int_equal(blockdev_hand_over(fakesys_roots(fs), "bd", &plan, 65534, 65534, &e), 0);
        assert_int_equal(stat(path, &st), 0);
        assert_int_equal(st.st_uid, 65534);
        assert_int_equal(st.st_gid, 65534);
        assert_int_equal(journal_load(fakesys_roots(fs), "bd", &j, &e), 0);
        assert_int_equal(j.n_entries, 1);
        assert_int_equal(j.entries[0].kind, JOURNAL_BLOCKDEV);
        assert_string_equal(j.entries[0].blockdev.node, plan.nodes[0].node);
        assert_int_equal(j.entries[0].blockdev.uid, 0);
        assert_int_equal(j.entries[0].blockdev.gid, 6);
        assert_int_equal(j.entries[0].blockdev.mode, 0640);

        struct journal_entry x = j.entries[0];

        /* Someone changed the mode meanwhile: given back too. */
        assert_int_equal(chmod(path, 0600), 0);
        fakesys_host_env(fs, &h);
        assert_int_equal(host_undo(&h, "bd", &e, NULL), 0);
        assert_int_equal(stat(path, &st), 0);
        assert_int_equal(st.st_uid, 0);
        assert_int_equal(st.st_gid, 6);
        assert_int_equal(st.st_mode & 07777, 0640);
        assert_int_equal(journal_load(fakesys_roots(fs), "bd", &j, &e), -ENOENT);

        /* Idempotent: the entry once more changes nothing. */
        assert_int_equal(devnode_undo_entry(fakesys_roots(fs), &x, &e), 0);
        assert_int_equal(stat(path, &st), 0);
        assert_int_equal(st.st_uid, 0);
        assert_int_equal(st.st_mode & 07777, 0640);
        /* A node the user owns already is not journaled. */
        assert_int_equal(chown(path, 65534, 65534), 0);
        assert_int_equal(blockdev_hand_over(fakesys_roots(fs), "bd", &plan, 65534, 65534, &e), 0);
        assert_int_equal(journal_load(fakesys_roots(fs), "bd", &j, &e), -ENOENT);
}

/* Whoever controls a folder or a link on the way picks which node root
 * hands over: a link in a folder every account may write, and a link that
 * another account owns (in a sticky folder, as /dev/shm), are refused;
 * nothing is changed. */
static void test_untrusted_link(void **state)
{
        struct fakesys *fs = *state;
        struct blockdev_node n;
        struct vl_error e = {};
        char path[4096], dir[4096], link[4200];
        struct stat st;

        snprintf(path, sizeof(path), "%s/vdy", fakesys_dev(fs));
        if (mknod(path, S_IFBLK | 0640, makedev(7, 0)) < 0)
                vl_skip("mknod needs CAP_MKNOD (%s)", strerror(errno));
        snprintf(dir, sizeof(dir), "%s/open", fakesys_top(fs));
        assert_int_equal(mkdir(dir, 0777), 0);
        assert_int_equal(chmod(dir, 0777), 0);
        snprintf(link, sizeof(link), "%s/by-id-vdy", dir);
        assert_int_equal(symlink(path, link), 0);
        assert_int_equal(blockdev_inspect(fakesys_roots(fs), link, "$.disks[0].path", &n, &e), -EPERM);
        assert_non_null(strstr(e.msg, "is writable by every account (mode 0777)"));
        assert_non_null(strstr(e.msg, "no other account controls"));

        /* sticky, like /dev/shm: the folder is fine, the link's owner is not */
        assert_int_equal(chmod(dir, 01777), 0);
        assert_int_equal(lchown(link, 65534, 65534), 0);
        memset(&e, 0, sizeof(e));
        assert_int_equal(blockdev_inspect(fakesys_roots(fs), link, "$.disks[0].path", &n, &e), -EPERM);
        assert_non_null(strstr(e.msg, "belongs to uid 65534"));
        assert_int_equal(stat(path, &st), 0);
        assert_int_equal(st.st_uid, 0);

        /* the same link, root's: followed */
        assert_int_equal(lchown(link, 0, 0), 0);
        assert_int_equal(blockdev_inspect(fakesys_roots(fs), link, "$.disks[0].path", &n, &e), 1);
        assert_int_equal(n.rdev, makedev(7, 0));
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_in_use, setup, teardown),
                cmocka_unit_test_setup_teardown(test_refusal, setup, teardown),
                cmocka_unit_test_setup_teardown(test_inspect_file, setup, teardown),
                cmocka_unit_test_setup_teardown(test_inspect_outside_dev, setup, teardown),
                cmocka_unit_test_setup_teardown(test_undo_not_ours, setup, teardown),
                cmocka_unit_test_setup_teardown(test_hand_over_and_undo, setup, teardown),
                cmocka_unit_test_setup_teardown(test_untrusted_link, setup, teardown),
        };

        return vl_run_tests(tests, NULL, NULL);
}
