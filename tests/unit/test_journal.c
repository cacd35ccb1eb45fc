/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* journal: round trip, atomic replacement, strict loading, listing and
 * liveness, all under a temp run dir and a fake /proc. */
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
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "fakesys.h"
#include "host/journal.h"

static int setup(void **state)
{
        *state = fakesys_new();
        return 0;
}

static int teardown(void **state)
{
        fakesys_free(*state);
        return 0;
}

static void sample(struct journal *j, const char *name, const struct host_roots *roots)
{
        journal_init(j, name, roots);
        j->n_devices = 2;
        assert_int_equal(pci_addr_parse("0000:01:00.0", &j->devices[0].addr), 0);
        j->devices[0].group = 12;
        j->devices[0].managed = true;
        strcpy(j->devices[0].orig_driver, "nouveau");
        strcpy(j->devices[0].orig_module, "nouveau");
        j->devices[0].step = JOURNAL_STEP_UNBIND;
        assert_int_equal(pci_addr_parse("0000:01:00.1", &j->devices[1].addr), 0);
        j->devices[1].group = 12;
        j->devices[1].managed = false;
        strcpy(j->devices[1].orig_override, "vfio-pci");
        j->devices[1].step = JOURNAL_STEP_PLANNED;
        j->n_groups = 1;
        j->groups[0] = (struct journal_group) { .group = 12, .chowned = true, .uid = 0, .gid = 0, .mode = 0600 };
        j->n_entries = 5;
        j->entries[4] = (struct journal_entry) { .kind = JOURNAL_USB,
                                                 .usb = { .node = "/dev/bus/usb/003/005", .rdev = makedev(189, 260),
                                                          .uid = 0, .gid = 0, .mode = 0664 } };
        j->entries[3] = (struct journal_entry) { .kind = JOURNAL_EVDEV,
                                                 .evdev = { .node = "/dev/input/event5", .rdev = 0xd45,
                                                            .uid = 0, .gid = 104, .mode = 0660 } };
        j->entries[2] = (struct journal_entry) { .kind = JOURNAL_BLOCKDEV,
                                                 .blockdev = { .node = "/dev/sdb", .rdev = 0x810,
                                                               .uid = 0, .gid = 6, .mode = 0660 } };
        j->entries[0] = (struct journal_entry) { .kind = JOURNAL_MACVTAP,
                                                 .link = { .name = "vl-win10-0", .peer = "usb0" } };
        j->entries[1] = (struct journal_entry) { .kind = JOURNAL_HUGEPAGES,
                                                 .hugepages = { .page_kib = 2048, .before = 3, .added = 29 } };
        snprintf(j->entries[1].hugepages.dir, sizeof(j->entries[1].hugepages.dir), "/dev/hugepages/vfio-launch-%s",
                 name);
        j->qemu_pid = 4321;
        j->qemu_start = 99;
}

static void write_text(const struct fakesys *fs, const char *name, const char *text)
{
        char path[4096];
        FILE *f;

        snprintf(path, sizeof(path), "%s/%s", fakesys_run(fs), name);
        mkdir(fakesys_run(fs), 0755);
        mkdir(path, 0700);
        snprintf(path, sizeof(path), "%s/%s/state.json", fakesys_run(fs), name);
        f = fopen(path, "we");
        assert_non_null(f);
        fputs(text, f);
        fclose(f);
}

static void test_round_trip(void **state)
{
        struct fakesys *fs = *state;
        struct journal *j = calloc(2, sizeof(*j)), *k = j + 1;
        struct vl_error e = {};
        char path[4096];
        struct stat st;

        sample(j, "win10", fakesys_roots(fs));
        assert_int_equal(j->launcher_pid, getpid());
        assert_int_equal(journal_create(fakesys_roots(fs), j, &e), 0);
        snprintf(path, sizeof(path), "%s/win10", fakesys_run(fs));
        assert_int_equal(stat(path, &st), 0);
        assert_int_equal(st.st_mode & 07777, 0700);
        assert_int_equal(st.st_uid, geteuid());
        snprintf(path, sizeof(path), "%s/win10/.state.json.tmp", fakesys_run(fs));
        assert_int_not_equal(access(path, F_OK), 0); /* no temp file left */

        assert_int_equal(journal_load(fakesys_roots(fs), "win10", k, &e), 0);
        assert_string_equal(k->name, "win10");
        assert_int_equal(k->launcher_pid, getpid());
        assert_int_equal(k->qemu_pid, 4321);
        assert_int_equal(k->qemu_start, 99);
        assert_int_equal(k->n_devices, 2);
        assert_true(pci_addr_equal(&k->devices[0].addr, &j->devices[0].addr));
        assert_int_equal(k->devices[0].group, 12);
        assert_true(k->devices[0].managed);
        assert_string_equal(k->devices[0].orig_driver, "nouveau");
        assert_string_equal(k->devices[0].orig_module, "nouveau");
        assert_string_equal(k->devices[0].orig_override, "");
        assert_int_equal(k->devices[0].step, JOURNAL_STEP_UNBIND);
        assert_false(k->devices[1].managed);
        assert_string_equal(k->devices[1].orig_driver, "");
        assert_string_equal(k->devices[1].orig_override, "vfio-pci");
        assert_int_equal(k->n_groups, 1);
        assert_true(k->groups[0].chowned);
        assert_int_equal(k->groups[0].mode, 0600);
        assert_int_equal(k->n_entries, 5);
        assert_int_equal(k->entries[4].kind, JOURNAL_USB);
        assert_string_equal(k->entries[4].usb.node, "/dev/bus/usb/003/005");
        assert_int_equal(k->entries[4].usb.rdev, makedev(189, 260));
        assert_int_equal(k->entries[4].usb.mode, 0664);
        assert_int_equal(k->entries[3].kind, JOURNAL_EVDEV);
        assert_string_equal(k->entries[3].evdev.node, "/dev/input/event5");
        assert_int_equal(k->entries[3].evdev.rdev, 0xd45);
        assert_int_equal(k->entries[3].evdev.uid, 0);
        assert_int_equal(k->entries[3].evdev.gid, 104);
        assert_int_equal(k->entries[3].evdev.mode, 0660);
        assert_int_equal(k->entries[2].kind, JOURNAL_BLOCKDEV);
        assert_string_equal(k->entries[2].blockdev.node, "/dev/sdb");
        assert_int_equal(k->entries[2].blockdev.rdev, 0x810);
        assert_int_equal(k->entries[2].blockdev.uid, 0);
        assert_int_equal(k->entries[2].blockdev.gid, 6);
        assert_int_equal(k->entries[2].blockdev.mode, 0660);
        assert_int_equal(k->entries[0].kind, JOURNAL_MACVTAP);
        assert_string_equal(k->entries[0].link.name, "vl-win10-0");
        assert_string_equal(k->entries[0].link.peer, "usb0");
        assert_int_equal(k->entries[1].kind, JOURNAL_HUGEPAGES);
        assert_int_equal(k->entries[1].hugepages.page_kib, 2048);
        assert_int_equal(k->entries[1].hugepages.before, 3);
        assert_int_equal(k->entries[1].hugepages.added, 29);
        assert_string_equal(k->entries[1].hugepages.dir, "/dev/hugepages/vfio-launch-win10");
        assert_non_null(journal_find_device(k, &j->devices[1].addr));

        /* create refuses to clobber; save replaces. */
        assert_int_equal(journal_create(fakesys_roots(fs), j, &e), -EEXIST);
        assert_non_null(strstr(e.msg, "already exists"));
        j->devices[0].step = JOURNAL_STEP_ON_VFIO;
        assert_int_equal(journal_save(fakesys_roots(fs), j, &e), 0);
        assert_int_equal(journal_load(fakesys_roots(fs), "win10", k, &e), 0);
        assert_int_equal(k->devices[0].step, JOURNAL_STEP_ON_VFIO);

        /* remove is idempotent and takes the directory. */
        assert_int_equal(journal_remove(fakesys_roots(fs), "win10", &e), 0);
        assert_int_equal(journal_remove(fakesys_roots(fs), "win10", &e), 0);
        snprintf(path, sizeof(path), "%s/win10", fakesys_run(fs));
        assert_int_not_equal(access(path, F_OK), 0);
        assert_int_equal(journal_load(fakesys_roots(fs), "win10", k, &e), -ENOENT);
        free(j);
}

/* A reader never sees anything but the old or the new journal, while the
 * writer replaces it as fast as it can. */
static void test_atomic_replace(void **state)
{
        struct fakesys *fs = *state;
        struct journal *j = calloc(1, sizeof(*j));
        struct vl_error e = {};
        int status;
        pid_t pid;

        sample(j, "atom", fakesys_roots(fs));
        j->qemu_pid = 1;
        j->n_entries = 1;
        assert_int_equal(journal_create(fakesys_roots(fs), j, &e), 0);
        pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                struct journal *k = calloc(1, sizeof(*k));
                unsigned loads = 0;
                for (int i = 0; i < 3000; i++) {
                        struct vl_error ce = {};
                        int r = journal_load(fakesys_roots(fs), "atom", k, &ce);
                        if (r < 0) {
                                fprintf(stderr, "reader: %s\n", ce.msg);
                                _exit(1);
                        }
                        if (k->qemu_pid != 1 && k->qemu_pid != 2)
                                _exit(2);
                        if ((k->qemu_pid == 1) != (k->n_entries == 1))
                                _exit(3); /* a mix of two versions */
                        loads++;
                }
                _exit(loads == 3000 ? 0 : 4);
        }
        for (int i = 0; i < 400; i++) {
                j->qemu_pid = 1 + i % 2;
                j->n_entries = j->qemu_pid == 1 ? 1 : 0;
                assert_int_equal(journal_save(fakesys_roots(fs), j, &e), 0);
        }
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFEXITED(status));
        assert_int_equal(WEXITSTATUS(status), 0);

        /* A crash while writing the temp file leaves the journal intact. */
        char path[4096];
        snprintf(path, sizeof(path), "%s/atom/.state.json.tmp", fakesys_run(fs));
        FILE *f = fopen(path, "we");
        fputs("{\"version\": 1, \"na", f);
        fclose(f);
        struct journal *k = calloc(1, sizeof(*k));
        assert_int_equal(journal_load(fakesys_roots(fs), "atom", k, &e), 0);
        assert_int_equal(k->qemu_pid, j->qemu_pid);
        assert_int_equal(journal_save(fakesys_roots(fs), j, &e), 0); /* replaces the stale temp */
        free(k);
        free(j);
}

static void expect_bad(struct fakesys *fs, const char *text, int err, const char *needle)
{
        struct journal *k = calloc(1, sizeof(*k));
        struct vl_error e = {};
        char buf[1024];

        write_text(fs, "bad", text);
        assert_int_equal(journal_load(fakesys_roots(fs), "bad", k, &e), -err);
        vl_error_format(&e, buf, sizeof(buf));
        if (!strstr(buf, needle))
                fail_msg("message \"%s\" lacks \"%s\"", buf, needle);
        assert_non_null(strstr(buf, "bad/state.json"));
        assert_null(strchr(buf, '\n')); /* one line, whatever the file held */
        free(k);
}

#define GOOD_HEAD "{\"version\": 2, \"name\": \"bad\", \"launcher_pid\": 5, \"launcher_start\": 0, " \
                  "\"qemu_pid\": 0, \"qemu_start\": 0, \"groups\": [], \"entries\": [], "

static void test_corrupt(void **state)
{
        struct fakesys *fs = *state;
        struct journal *k = calloc(1, sizeof(*k));
        struct vl_error e = {};

        expect_bad(fs, "", EBADMSG, "corrupt journal");
        expect_bad(fs, "{\"version\": 2, \"name\": \"ba", EBADMSG, ":1:");
        expect_bad(fs, "[1, 2]", EBADMSG, "not a vfio-launch journal");
        expect_bad(fs, GOOD_HEAD "\"devices\": [], \"extra\": 1}", EBADMSG, "extra");
        expect_bad(fs, GOOD_HEAD "\"devices\": [], \"devices\": []}", EBADMSG, "duplicate");
        expect_bad(fs, GOOD_HEAD "\"devices\": {}}", EBADMSG, "must be arrays");
        expect_bad(fs,
                   "{\"version\": 1, \"name\": \"bad\", \"launcher_pid\": 5, \"launcher_start\": 0, "
                   "\"qemu_pid\": 0, \"qemu_start\": 0, \"groups\": [], \"entries\": [], \"devices\": []}",
                   EBADMSG, "version 1");
        expect_bad(fs,
                   "{\"version\": 2, \"name\": \"other\", \"launcher_pid\": 5, \"launcher_start\": 0, "
                   "\"qemu_pid\": 0, \"qemu_start\": 0, \"groups\": [], \"entries\": [], \"devices\": []}",
                   EBADMSG, "does not match");
        /* An invalid name is not echoed: it could break the one-line message. */
        expect_bad(fs,
                   "{\"version\": 2, \"name\": \"wi\\n10\", \"launcher_pid\": 5, \"launcher_start\": 0, "
                   "\"qemu_pid\": 0, \"qemu_start\": 0, \"devices\": [], \"groups\": [], \"entries\": []}",
                   EBADMSG, "\"name\" is not a VM name");
        expect_bad(fs,
                   "{\"version\": 2, \"name\": \"bad\", \"launcher_pid\": -1, \"launcher_start\": 0, "
                   "\"qemu_pid\": 0, \"qemu_start\": 0, \"groups\": [], \"entries\": [], \"devices\": []}",
                   EBADMSG, "out of range");
        /* Driver names end up in sysfs paths: no traversal. */
        expect_bad(fs,
                   GOOD_HEAD "\"devices\": [{\"address\": \"0000:01:00.0\", \"group\": 1, \"managed\": true, "
                             "\"driver\": \"../../../kernel\", \"module\": null, \"override\": null, \"step\": \"probe\"}]}",
                   EBADMSG, "not a driver name");
        expect_bad(fs,
                   GOOD_HEAD "\"devices\": [{\"address\": \"01:00.0\", \"group\": 1, \"managed\": true, "
                             "\"driver\": null, \"module\": null, \"override\": null, \"step\": \"probe\"}]}",
                   EBADMSG, "not a PCI address");
        expect_bad(fs,
                   GOOD_HEAD "\"devices\": [{\"address\": \"0000:01:00.0\", \"group\": 1, \"managed\": true, "
                             "\"driver\": null, \"module\": null, \"override\": null, \"step\": \"flying\"}]}",
                   EBADMSG, "unknown step");
        expect_bad(fs,
                   GOOD_HEAD "\"devices\": [{\"address\": \"0000:01:00.0\", \"group\": 1, \"managed\": true, "
                             "\"driver\": null, \"module\": null, \"override\": null, \"step\": \"probe\"},"
                             "{\"address\": \"0000:01:00.0\", \"group\": 1, \"managed\": true, "
                             "\"driver\": null, \"module\": null, \"override\": null, \"step\": \"probe\"}]}",
                   EBADMSG, "listed twice");
        expect_bad(fs,
                   GOOD_HEAD "\"devices\": [{\"address\": \"0000:01:00.0\", \"group\": 1, \"managed\": true, "
                             "\"driver\": null, \"module\": null, \"step\": \"probe\"}]}",
                   EBADMSG, "devices[0]");

        /* Typed entries: each kind's keys, exactly; values an undo acts on
         * as root are checked (a link name, an absolute path, no ".."). */
#define ENTRIES_HEAD "{\"version\": 2, \"name\": \"bad\", \"launcher_pid\": 5, \"launcher_start\": 0, " \
                     "\"qemu_pid\": 0, \"qemu_start\": 0, \"groups\": [], \"devices\": [], \"entries\": "
        expect_bad(fs, ENTRIES_HEAD "[{\"kind\": \"usbip\", \"name\": \"x\"}]}", EBADMSG,
                   "entries[0]: unknown kind \"usbip\"");
        expect_bad(fs, ENTRIES_HEAD "[{\"name\": \"vl-x-0\"}]}", EBADMSG, "entries[0]: not an object with a \"kind\"");
        expect_bad(fs, ENTRIES_HEAD "[{\"kind\": \"tap\", \"name\": \"vl-x-0\"}]}", EBADMSG,
                   "a tap entry has exactly the keys \"kind\", \"name\", \"bridge\", \"ifindex\", \"mac\"");
        expect_bad(fs, ENTRIES_HEAD "[{\"kind\": \"tap\", \"name\": \"vl-x-0\", \"lower\": \"br0\"}]}", EBADMSG,
                   "a tap entry has exactly the keys");
        expect_bad(fs, ENTRIES_HEAD "[{\"kind\": \"macvtap\", \"name\": \"../x\", \"lower\": \"eth0\", "
                                "\"ifindex\": 0, \"mac\": \"\"}]}",
                   EBADMSG, "\"name\" is not a valid interface name");
        expect_bad(fs, ENTRIES_HEAD "[{\"kind\": \"macvtap\", \"name\": \"a-name-far-too-long\", \"lower\": \"eth0\", "
                                "\"ifindex\": 0, \"mac\": \"\"}]}",
                   EBADMSG, "entries[0].name: expected a string of at most 15 bytes");
        expect_bad(fs,
                   ENTRIES_HEAD "[{\"kind\": \"hugepages\", \"page_kib\": 2048, \"before\": 0, \"added\": 1, "
                                "\"dir\": \"/dev/hugepages/../../etc\"}]}",
                   EBADMSG, "\"dir\" is not a valid absolute path");
        expect_bad(fs,
                   ENTRIES_HEAD "[{\"kind\": \"hugepages\", \"page_kib\": 2048, \"before\": 0, \"added\": 1, "
                                "\"dir\": \"relative\"}]}",
                   EBADMSG, "\"dir\" is not a valid absolute path");
        expect_bad(fs,
                   ENTRIES_HEAD "[{\"kind\": \"tap\", \"name\": \"vl-x-0\", \"bridge\": \"br0\", \"ifindex\": 7, "
                                "\"mac\": \"52:54:00:AB:CD:EF\"}]}",
                   EBADMSG, "\"mac\" is not a valid MAC address");
        expect_bad(fs,
                   ENTRIES_HEAD "[{\"kind\": \"tap\", \"name\": \"vl-x-0\", \"bridge\": \"br0\", "
                                "\"ifindex\": 4294967296, \"mac\": \"\"}]}",
                   EBADMSG, "\"ifindex\" is out of range");
        /* What a run of this VM could have made: its own folder, a real
         * page size. */
        expect_bad(fs,
                   ENTRIES_HEAD "[{\"kind\": \"hugepages\", \"page_kib\": 2048, \"before\": 0, \"added\": 1, "
                                "\"dir\": \"/etc\"}]}",
                   EBADMSG, "\"dir\" is not its folder (vfio-launch-bad)");
        expect_bad(fs,
                   ENTRIES_HEAD "[{\"kind\": \"hugepages\", \"page_kib\": 2048, \"before\": 0, \"added\": 1, "
                                "\"dir\": \"/dev/hugepages/vfio-launch-other\"}]}",
                   EBADMSG, "\"dir\" is not its folder");
        expect_bad(fs,
                   ENTRIES_HEAD "[{\"kind\": \"hugepages\", \"page_kib\": 4, \"before\": 0, \"added\": 1, "
                                "\"dir\": \"/dev/hugepages/vfio-launch-bad\"}]}",
                   EBADMSG, "\"page_kib\" is not 2048 or 1048576");
        /* A block device's owner: a node path without "..", a device
         * number, ids and a mode that fit. */
        expect_bad(fs,
                   ENTRIES_HEAD "[{\"kind\": \"blockdev\", \"node\": \"/dev/../etc/shadow\", \"rdev\": 2064, "
                                "\"uid\": 0, \"gid\": 6, \"mode\": 432}]}",
                   EBADMSG, "\"node\" is not a valid absolute path");
        expect_bad(fs,
                   ENTRIES_HEAD "[{\"kind\": \"blockdev\", \"node\": \"/dev/sdb\", \"rdev\": 0, "
                                "\"uid\": 0, \"gid\": 6, \"mode\": 432}]}",
                   EBADMSG, "blockdev of VM \"bad\": \"rdev\" is 0");
        expect_bad(fs,
                   ENTRIES_HEAD "[{\"kind\": \"blockdev\", \"node\": \"/dev/sdb\", \"rdev\": 2064, "
                                "\"uid\": 0, \"gid\": 6, \"mode\": 3504}]}",
                   EBADMSG, "\"mode\" is out of range");
        expect_bad(fs,
                   ENTRIES_HEAD "[{\"kind\": \"blockdev\", \"node\": \"/dev/sdb\", \"rdev\": 2064, "
                                "\"uid\": 4294967295, \"gid\": 6, \"mode\": 432}]}",
                   EBADMSG, "\"uid\", \"gid\" or \"mode\" is out of range");
        expect_bad(fs,
                   ENTRIES_HEAD "[{\"kind\": \"blockdev\", \"node\": \"/dev/sdb\", \"rdev\": 2064, "
                                "\"uid\": 0, \"mode\": 432}]}",
                   EBADMSG, "a blockdev entry has exactly the keys \"kind\", \"node\", \"rdev\", \"uid\", \"gid\", \"mode\"");

        /* An evdev input's owner: only an input device node (major 13, in
         * an input folder) may be chowned back by an evdev entry — not a
         * disk or a tty named in a planted journal. */
        expect_bad(fs,
                   ENTRIES_HEAD "[{\"kind\": \"evdev\", \"node\": \"/dev/sda\", \"rdev\": 3397, "
                                "\"uid\": 0, \"gid\": 104, \"mode\": 432}]}",
                   EBADMSG, "evdev of VM \"bad\": not an input device node");
        expect_bad(fs,
                   ENTRIES_HEAD "[{\"kind\": \"evdev\", \"node\": \"/dev/input/event5\", \"rdev\": 2064, "
                                "\"uid\": 0, \"gid\": 104, \"mode\": 432}]}",
                   EBADMSG, "evdev of VM \"bad\": not an input device node");
        expect_bad(fs,
                   ENTRIES_HEAD "[{\"kind\": \"evdev\", \"node\": \"/dev/input/event5\", \"rdev\": 3397, "
                                "\"uid\": 0, \"gid\": 104, \"mode\": 2528}]}",
                   EBADMSG, "evdev of VM \"bad\": \"rdev\" is 0, or \"uid\", \"gid\" or \"mode\" is out of range");
        expect_bad(fs,
                   ENTRIES_HEAD "[{\"kind\": \"evdev\", \"node\": \"/dev/input/../sda\", \"rdev\": 3397, "
                                "\"uid\": 0, \"gid\": 104, \"mode\": 432}]}",
                   EBADMSG, "\"node\" is not a valid absolute path");

        /* A usb entry: only a usbfs node (major 189, in a bus/usb folder)
         * — not an evdev node, nor a disk named as if it were one. */
        expect_bad(fs,
                   ENTRIES_HEAD "[{\"kind\": \"usb\", \"node\": \"/dev/input/event5\", \"rdev\": 48388, "
                                "\"uid\": 0, \"gid\": 0, \"mode\": 436}]}",
                   EBADMSG, "usb of VM \"bad\": not a USB device node");
        expect_bad(fs,
                   ENTRIES_HEAD "[{\"kind\": \"usb\", \"node\": \"/dev/bus/usb/001/002\", \"rdev\": 2064, "
                                "\"uid\": 0, \"gid\": 0, \"mode\": 436}]}",
                   EBADMSG, "usb of VM \"bad\": not a USB device node");
        expect_bad(fs,
                   ENTRIES_HEAD "[{\"kind\": \"usb\", \"node\": \"/dev/bus/usb/001/002\", \"rdev\": 48385, "
                                "\"uid\": 0, \"gid\": 0, \"mode\": 2532}]}",
                   EBADMSG, "usb of VM \"bad\": \"rdev\" is 0, or \"uid\", \"gid\" or \"mode\" is out of range");

        /* Modes given back are a device node's: no set-id or sticky bit. */
        expect_bad(fs,
                   "{\"version\": 2, \"name\": \"bad\", \"launcher_pid\": 5, \"launcher_start\": 0, "
                   "\"qemu_pid\": 0, \"qemu_start\": 0, \"devices\": [], \"entries\": [], \"groups\": "
                   "[{\"group\": 4, \"chowned\": true, \"uid\": 0, \"gid\": 0, \"mode\": 3583}]}",
                   EBADMSG, "groups[0]: a value is out of range");
        expect_bad(fs,
                   ENTRIES_HEAD "[{\"kind\": \"hugepages\", \"page_kib\": 2048, \"before\": 0, \"added\": -1, "
                                "\"dir\": \"/dev/hugepages/vfio-launch-bad\"}]}",
                   EBADMSG, "entries[0].added: expected a number >= 0");

        /* A FIFO where the journal should be: refused at once, not read
         * (a blocking open would hang recover until someone writes). */
        {
                char fifo[4096], buf[1024];
                snprintf(fifo, sizeof(fifo), "%s/bad/state.json", fakesys_run(fs));
                assert_int_equal(unlink(fifo), 0);
                assert_int_equal(mkfifo(fifo, 0600), 0);
                alarm(10);
                assert_int_equal(journal_load(fakesys_roots(fs), "bad", k, &e), -EBADMSG);
                alarm(0);
                vl_error_format(&e, buf, sizeof(buf));
                assert_non_null(strstr(buf, "not a regular file"));
                assert_int_equal(unlink(fifo), 0);
        }

        /* Another account's file in our folder (a hard link, say): not
         * acted on. Root only: the file is given to nobody. */
        if (geteuid() == 0) {
                char path[4096];
                write_text(fs, "bad", "{}");
                snprintf(path, sizeof(path), "%s/bad/state.json", fakesys_run(fs));
                assert_int_equal(chown(path, 65534, 65534), 0);
                assert_int_equal(journal_load(fakesys_roots(fs), "bad", k, &e), -EBADMSG);
                assert_non_null(strstr(e.msg, "belongs to uid 65534"));
                assert_int_equal(unlink(path), 0);
        }

        /* Too big: refused before parsing. */
        char *big = malloc(JOURNAL_FILE_MAX + 10);
        memset(big, ' ', JOURNAL_FILE_MAX + 9);
        big[JOURNAL_FILE_MAX + 9] = '\0';
        write_text(fs, "bad", big);
        assert_int_equal(journal_load(fakesys_roots(fs), "bad", k, &e), -EFBIG);
        free(big);

        /* A name that is a path is refused outright. */
        assert_int_equal(journal_load(fakesys_roots(fs), "../etc", k, &e), -EINVAL);
        free(k);
}

static void test_dir_checks(void **state)
{
        struct fakesys *fs = *state;
        struct journal *j = calloc(1, sizeof(*j));
        struct vl_error e = {};
        char path[4096];

        sample(j, "linked", fakesys_roots(fs));
        mkdir(fakesys_run(fs), 0755);
        snprintf(path, sizeof(path), "%s/linked", fakesys_run(fs));
        assert_int_equal(symlink("/tmp", path), 0);
        assert_int_equal(journal_create(fakesys_roots(fs), j, &e), -EPERM);
        assert_non_null(strstr(e.msg, "not a directory"));

        sample(j, "loose", fakesys_roots(fs));
        snprintf(path, sizeof(path), "%s/loose", fakesys_run(fs));
        assert_int_equal(mkdir(path, 0777), 0);
        assert_int_equal(chmod(path, 0777), 0);
        assert_int_equal(journal_create(fakesys_roots(fs), j, &e), -EPERM);
        free(j);
}

static void test_liveness_and_list(void **state)
{
        struct fakesys *fs = *state;
        struct journal *j = calloc(1, sizeof(*j));
        struct journal_listing *l = NULL;
        struct vl_error e = {};
        size_t n = 9;

        /* No run dir: an empty list. */
        assert_int_equal(journal_list(fakesys_roots(fs), &l, &n, &e), 0);
        assert_int_equal(n, 0);

        fakesys_process(fs, 700, "vfio-launch", NULL, 5000);
        assert_true(journal_pid_alive(fakesys_proc(fs), 700, 0));
        assert_true(journal_pid_alive(fakesys_proc(fs), 700, 5000));
        assert_false(journal_pid_alive(fakesys_proc(fs), 700, 4999)); /* PID reused */
        assert_false(journal_pid_alive(fakesys_proc(fs), 701, 0));
        uint64_t start = 0;
        assert_int_equal(journal_process_start(fakesys_proc(fs), 700, &start), 0);
        assert_int_equal(start, 5000);
        /* A comm with spaces and parentheses does not confuse the parser. */
        fakesys_process(fs, 702, "a) b (c", NULL, 77);
        assert_int_equal(journal_process_start(fakesys_proc(fs), 702, &start), 0);
        assert_int_equal(start, 77);
        /* A zombie is dead. */
        char path[4096];
        snprintf(path, sizeof(path), "%s/703/stat", fakesys_proc(fs));
        fakesys_process(fs, 703, "zombie", NULL, 1);
        FILE *f = fopen(path, "we");
        fputs("703 (zombie) Z 1 703 703 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 1 0 0\n", f);
        fclose(f);
        assert_false(journal_pid_alive(fakesys_proc(fs), 703, 0));

        sample(j, "alive", fakesys_roots(fs));
        j->launcher_pid = 700;
        j->launcher_start = 5000;
        assert_int_equal(journal_create(fakesys_roots(fs), j, &e), 0);
        sample(j, "stale", fakesys_roots(fs));
        j->launcher_pid = 701;
        assert_int_equal(journal_create(fakesys_roots(fs), j, &e), 0);
        write_text(fs, "broken", "{");
        snprintf(path, sizeof(path), "%s/empty-dir", fakesys_run(fs));
        mkdir(path, 0700); /* no state.json: not a journal */

        assert_int_equal(journal_list(fakesys_roots(fs), &l, &n, &e), 0);
        assert_int_equal(n, 3);
        assert_string_equal(l[0].name, "alive");
        assert_int_equal(l[0].load_error, 0);
        assert_true(l[0].alive);
        assert_string_equal(l[1].name, "broken");
        assert_int_equal(l[1].load_error, -EBADMSG);
        assert_non_null(strstr(l[1].error.file, "broken/state.json"));
        assert_string_equal(l[2].name, "stale");
        assert_false(l[2].alive);
        assert_int_equal(l[2].journal.n_devices, 2);
        free(l);
        free(j);
}

static void test_entries_and_qemu(void **state)
{
        struct fakesys *fs = *state;
        struct journal *k = calloc(1, sizeof(*k));
        struct vl_error e = {};
        const struct journal_entry mv = { .kind = JOURNAL_MACVTAP, .link = { .name = "vl-vm-3", .peer = "eth0" } };
        const struct journal_entry tap = { .kind = JOURNAL_TAP, .link = { .name = "vl-vm-0", .peer = "br0" } };
        const struct journal_entry other = { .kind = JOURNAL_TAP, .link = { .name = "vl-vm-9", .peer = "br0" } };
        const struct journal_entry bad = { .kind = JOURNAL_TAP, .link = { .name = "a/b", .peer = "br0" } };
        char path[4096];

        /* add_entry creates a journal owned by this process. */
        assert_int_equal(journal_add_entry(fakesys_roots(fs), "vm", &mv, &e), 0);
        assert_int_equal(journal_add_entry(fakesys_roots(fs), "vm", &tap, &e), 0);
        assert_int_equal(journal_load(fakesys_roots(fs), "vm", k, &e), 0);
        assert_int_equal(k->launcher_pid, getpid());
        assert_int_equal(k->n_entries, 2);
        /* What a load would refuse is not written either. */
        assert_int_equal(journal_add_entry(fakesys_roots(fs), "vm", &bad, &e), -EINVAL);

        fakesys_process(fs, 4444, "qemu-system-x86", NULL, 31337);
        assert_int_equal(journal_set_qemu(fakesys_roots(fs), "vm", 4444, &e), 0);
        assert_int_equal(journal_load(fakesys_roots(fs), "vm", k, &e), 0);
        assert_int_equal(k->qemu_pid, 4444);
        assert_int_equal(k->qemu_start, 31337);
        assert_int_equal(journal_set_qemu(fakesys_roots(fs), "nope", 1, &e), -ENOENT);

        assert_int_equal(journal_remove_entry(fakesys_roots(fs), "vm", &mv, &e), 0);
        assert_int_equal(journal_load(fakesys_roots(fs), "vm", k, &e), 0);
        assert_int_equal(k->n_entries, 1);
        assert_int_equal(k->entries[0].kind, JOURNAL_TAP);
        assert_int_equal(journal_remove_entry(fakesys_roots(fs), "vm", &other, &e), 0);
        /* The last entry gone, nothing else in it: the journal goes too. */
        assert_int_equal(journal_remove_entry(fakesys_roots(fs), "vm", &tap, &e), 0);
        snprintf(path, sizeof(path), "%s/vm", fakesys_run(fs));
        assert_int_not_equal(access(path, F_OK), 0);
        free(k);
}

/* A journal of another process (a run active or dead) is not extended:
 * its entries are `recover`'s. */
static void test_entry_foreign_journal(void **state)
{
        struct fakesys *fs = *state;
        struct journal *j = calloc(1, sizeof(*j));
        struct vl_error e = {};
        const struct journal_entry tap = { .kind = JOURNAL_TAP, .link = { .name = "vl-vm-0", .peer = "br0" } };

        sample(j, "vm", fakesys_roots(fs));
        j->launcher_pid = 1;
        assert_int_equal(journal_create(fakesys_roots(fs), j, &e), 0);
        assert_int_equal(journal_add_entry(fakesys_roots(fs), "vm", &tap, &e), -EEXIST);
        assert_non_null(strstr(e.msg, "another run is active or did not finish"));
        free(j);
}

static void test_names(void **state)
{
        char buf[64];

        assert_true(profile_name_valid("win10"));
        assert_true(profile_name_valid("a.b_c-d"));
        assert_false(profile_name_valid(""));
        assert_false(profile_name_valid(".hidden"));
        assert_false(profile_name_valid("-x"));
        assert_false(profile_name_valid("a/b"));
        assert_false(profile_name_valid(".."));
        assert_int_equal(journal_path(buf, sizeof(buf), "/run/vfio-launch", "win10"), 0);
        assert_string_equal(buf, "/run/vfio-launch/win10/state.json");
        assert_int_equal(journal_path(buf, sizeof(buf), "/run/vfio-launch", "../x"), -EINVAL);
        assert_int_equal(journal_path(buf, 10, "/run/vfio-launch", "win10"), -ENAMETOOLONG);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_round_trip, setup, teardown),
                cmocka_unit_test_setup_teardown(test_atomic_replace, setup, teardown),
                cmocka_unit_test_setup_teardown(test_corrupt, setup, teardown),
                cmocka_unit_test_setup_teardown(test_dir_checks, setup, teardown),
                cmocka_unit_test_setup_teardown(test_liveness_and_list, setup, teardown),
                cmocka_unit_test_setup_teardown(test_entries_and_qemu, setup, teardown),
                cmocka_unit_test_setup_teardown(test_entry_foreign_journal, setup, teardown),
                cmocka_unit_test(test_names),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
