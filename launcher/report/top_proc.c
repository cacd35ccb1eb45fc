/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The parsers of the text `top` reads: a task's stat line and the
 * "Key:   N kB" lines of /proc status and smaps_rollup, and QEMU's
 * x-query-usb text. Pure, for the unit tests.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report/top.h"

static int parse_u64(const char *s, size_t len, uint64_t *ret)
{
        uint64_t v = 0;

        if (len == 0 || len > 20)
                return -EBADMSG;
        for (size_t i = 0; i < len; i++) {
                if (s[i] < '0' || s[i] > '9')
                        return -EBADMSG;
                if (v > (UINT64_MAX - (uint64_t) (s[i] - '0')) / 10)
                        return -EBADMSG;
                v = v * 10 + (uint64_t) (s[i] - '0');
        }
        *ret = v;
        return 0;
}

int top_parse_stat(const char *text, uint64_t *ret_ticks, int *ret_cpu, uint64_t *ret_start)
{
        /* proc(5): after "PID (COMM) ", field 3 is the state; utime 14,
         * stime 15, starttime 22, processor 39. COMM is up to 16 bytes of
         * anything, ")" and spaces included: count from the last ')'. */
        uint64_t utime = 0, stime = 0, start = 0, cpu = 0;
        unsigned found = 0;
        const char *p = strrchr(text, ')');
        int field = 3;

        if (!p || p[1] != ' ')
                return -EBADMSG;
        p += 2;
        while (*p && field <= 39) {
                size_t len = strcspn(p, " \n");
                uint64_t *dst = field == 14 ? &utime : field == 15 ? &stime : field == 22 ? &start
                              : field == 39 ? &cpu : NULL;
                if (dst) {
                        if (parse_u64(p, len, dst) < 0)
                                return -EBADMSG;
                        found++;
                }
                p += len;
                if (*p != ' ')
                        break;
                p++;
                field++;
        }
        if (found != 4 || cpu > INT32_MAX)
                return -EBADMSG;
        *ret_ticks = utime + stime;
        *ret_cpu = (int) cpu;
        if (ret_start)
                *ret_start = start;
        return 0;
}

int top_parse_kib(const char *text, const char *key, uint64_t *ret_bytes)
{
        size_t klen = strlen(key);

        for (const char *line = text; line && *line; line = strchr(line, '\n'), line = line ? line + 1 : NULL) {
                const char *p;
                uint64_t v;
                size_t len;

                if (strncmp(line, key, klen) != 0 || line[klen] != ':')
                        continue;
                p = line + klen + 1;
                p += strspn(p, " \t");
                len = strspn(p, "0123456789");
                if (parse_u64(p, len, &v) < 0 || strncmp(p + len, " kB", 3) != 0 || v > UINT64_MAX / 1024)
                        return -EBADMSG;
                *ret_bytes = v * 1024;
                return 0;
        }
        return -ENOENT;
}

/* "key value" pieces of one x-query-usb line, split at ", ". A product name
 * with ", " in it is cut there: the line has no other framing. */
static void usb_field(const char *piece, size_t len, struct top_usb *u)
{
        static const struct {
                const char *prefix;
                size_t off, size;
        } fields[] = {
                { "Port ", offsetof(struct top_usb, port), sizeof(((struct top_usb *) 0)->port) },
                { "Speed ", offsetof(struct top_usb, speed), sizeof(((struct top_usb *) 0)->speed) },
                { "Product ", offsetof(struct top_usb, product), sizeof(((struct top_usb *) 0)->product) },
                { "ID: ", offsetof(struct top_usb, id), sizeof(((struct top_usb *) 0)->id) },
        };

        for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
                size_t pl = strlen(fields[i].prefix);
                if (len >= pl && strncmp(piece, fields[i].prefix, pl) == 0) {
                        char *dst = (char *) u + fields[i].off;
                        size_t n = len - pl < fields[i].size - 1 ? len - pl : fields[i].size - 1;
                        /* a product name is the device's own string (usb-host):
                         * printable ASCII only, so the JSON and the terminal
                         * get valid, inert text */
                        for (size_t k = 0; k < n; k++) {
                                unsigned char c = (unsigned char) piece[pl + k];
                                dst[k] = c >= ' ' && c < 0x7f ? (char) c : '?';
                        }
                        dst[n] = '\0';
                        return;
                }
        }
}

unsigned top_parse_usb(const char *text, struct top_vm *vm)
{
        vm->n_usb = 0;
        for (const char *line = text; line && *line && vm->n_usb < TOP_USB_MAX;) {
                size_t len = strcspn(line, "\n");
                const char *p = line + strspn(line, " ");

                if (strncmp(p, "Device ", 7) == 0) {
                        struct top_usb *u = &vm->usb[vm->n_usb];
                        const char *end = line + len;

                        memset(u, 0, sizeof(*u));
                        while (p < end) {
                                const char *sep = strstr(p, ", ");
                                size_t n = sep && sep < end ? (size_t) (sep - p) : (size_t) (end - p);
                                usb_field(p, n, u);
                                p += n + (sep && sep < end ? 2 : 0);
                        }
                        if (u->port[0])
                                vm->n_usb++;
                }
                line += len;
                if (*line == '\n')
                        line++;
        }
        return vm->n_usb;
}
