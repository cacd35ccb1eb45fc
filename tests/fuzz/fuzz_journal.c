/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libFuzzer target for the journal parser (journal_parse()): what recover
 * reads as root from /run/vfio-launch/NAME/state.json after a crash — or
 * from a file someone planted there. Besides "no crash, no leak, no UB", it
 * traps when a promise breaks:
 *  - a refused journal has a one-line message;
 *  - an accepted one survives journal_format() and journal_parse() unchanged
 *    (what the launcher writes it reads back, and nothing it accepts is
 *    lost on the way).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "host/journal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        static struct journal a, b; /* large: not on the fuzzer's stack */
        struct vl_error e = {};
        char line[1200];
        char *text;
        int r;

        memset(&a, 0, sizeof(a));
        r = journal_parse((const char *) data, size, "fuzz/state.json", NULL, &a, &e);
        if (r < 0) {
                if ((r != -EBADMSG && r != -EFBIG) || e.msg[0] == '\0')
                        __builtin_trap();
                vl_error_format(&e, line, sizeof(line));
                if (strchr(line, '\n'))
                        __builtin_trap();
                return 0;
        }
        text = journal_format(&a);
        if (!text)
                return 0; /* out of memory */
        memset(&b, 0, sizeof(b));
        if (journal_parse(text, strlen(text), "fuzz/state.json", a.name, &b, &e) < 0)
                __builtin_trap();
        free(text);
        if (a.n_devices != b.n_devices || a.n_groups != b.n_groups || a.n_entries != b.n_entries ||
            memcmp(a.devices, b.devices, sizeof(a.devices[0]) * a.n_devices) != 0 ||
            memcmp(a.entries, b.entries, sizeof(a.entries[0]) * a.n_entries) != 0)
                __builtin_trap();
        return 0;
}
