/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * vl-uinput: a virtual keyboard for the lifecycle case "input" (and tests/vm's
 * case "input", which runs it inside the emulated host), made with
 * the kernel's uinput (Documentation/input/uinput.rst). It prints the evdev
 * node the kernel gave it ("/dev/input/eventN") on its first line, then
 * reads commands on stdin, one a line:
 *   key CODE   press and release the key of that Linux key code (30 = KEY_A)
 *   quit       destroy the device and exit (so does end of input)
 * Exit: 0; 77 when /dev/uinput cannot be opened (no uinput here); 1 on any
 * other failure, with the reason on stderr. Only the device it made is ever
 * touched; it goes when the program ends, however it ends (the kernel
 * destroys a uinput device when its fd closes).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/uinput.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

static int emit(int fd, unsigned type, unsigned code, int value)
{
        struct input_event ev = { .type = (__u16) type, .code = (__u16) code, .value = value };

        return write(fd, &ev, sizeof(ev)) == (ssize_t) sizeof(ev) ? 0 : -1;
}

int main(int argc, char **argv)
{
        struct uinput_setup setup = { .id = { .bustype = BUS_VIRTUAL, .vendor = 0x1d6b, .product = 0x0104 } };
        char sysname[64], dir[128], line[64];
        struct dirent *de;
        DIR *d;
        int fd;

        snprintf(setup.name, sizeof(setup.name), "%s", argc > 1 ? argv[1] : "vl-life-keyboard");
        fd = open("/dev/uinput", O_WRONLY | O_CLOEXEC);
        if (fd < 0) {
                fprintf(stderr, "vl-uinput: cannot open /dev/uinput: %s\n", strerror(errno));
                return 77;
        }
        if (ioctl(fd, UI_SET_EVBIT, EV_KEY) < 0 || ioctl(fd, UI_SET_EVBIT, EV_SYN) < 0) {
                fprintf(stderr, "vl-uinput: UI_SET_EVBIT: %s\n", strerror(errno));
                return 1;
        }
        /* A full keyboard's keys: what makes udev and QEMU's input-linux
         * (keycount) treat it as a keyboard. */
        for (unsigned k = KEY_ESC; k <= KEY_MICMUTE; k++)
                if (ioctl(fd, UI_SET_KEYBIT, k) < 0) {
                        fprintf(stderr, "vl-uinput: UI_SET_KEYBIT %u: %s\n", k, strerror(errno));
                        return 1;
                }
        if (ioctl(fd, UI_DEV_SETUP, &setup) < 0 || ioctl(fd, UI_DEV_CREATE) < 0) {
                fprintf(stderr, "vl-uinput: cannot create the device: %s\n", strerror(errno));
                return 1;
        }
        if (ioctl(fd, UI_GET_SYSNAME(sizeof(sysname)), sysname) < 0) {
                fprintf(stderr, "vl-uinput: UI_GET_SYSNAME: %s\n", strerror(errno));
                return 1;
        }
        /* Its evdev handler's node: /sys/devices/virtual/input/inputN/eventM. */
        snprintf(dir, sizeof(dir), "/sys/devices/virtual/input/%s", sysname);
        for (int tries = 0;; tries++) {
                d = opendir(dir);
                while (d && (de = readdir(d)))
                        if (strncmp(de->d_name, "event", 5) == 0)
                                break;
                if (d && de) {
                        printf("/dev/input/%s\n", de->d_name);
                        fflush(stdout);
                        closedir(d);
                        break;
                }
                if (d)
                        closedir(d);
                if (tries == 50) {
                        fprintf(stderr, "vl-uinput: no event node under %s (is evdev loaded?)\n", dir);
                        return 1;
                }
                usleep(100 * 1000);
        }
        while (fgets(line, sizeof(line), stdin)) {
                unsigned code;

                if (strncmp(line, "quit", 4) == 0)
                        break;
                if (sscanf(line, "key %u", &code) != 1 || code > KEY_MAX) {
                        fprintf(stderr, "vl-uinput: cannot understand \"%s\"\n", line);
                        continue;
                }
                if (emit(fd, EV_KEY, code, 1) < 0 || emit(fd, EV_SYN, SYN_REPORT, 0) < 0 ||
                    emit(fd, EV_KEY, code, 0) < 0 || emit(fd, EV_SYN, SYN_REPORT, 0) < 0) {
                        fprintf(stderr, "vl-uinput: write: %s\n", strerror(errno));
                        return 1;
                }
                usleep(50 * 1000);
        }
        (void) ioctl(fd, UI_DEV_DESTROY);
        close(fd);
        return 0;
}
