/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libFuzzer target for the profile loader (profile_load_buffer) and the
 * position scanner behind its messages. Besides "no crash, no leak, no UB",
 * it checks the loader's promises and traps when one is broken:
 *  - a loaded profile passes profile_validate() again;
 *  - every content error (-EINVAL) carries a message, a path starting with
 *    "$" and a line:column; the size error (-EFBIG) only happens past the limit;
 *  - the formatted error is exactly one line.
 */
#include <stdint.h>
#include <string.h>

#include "profile/profile_json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        static struct profile p; /* ~100 KiB: not on the fuzzer's stack */
        struct vl_warnings w = {};
        struct vl_error e = {};
        char line[1024];
        int r;

        r = profile_load_buffer((const char *) data, size, "fuzz.json", "/fuzz", &p, &e, &w);
        if (r == 0) {
                if (profile_validate(&p, NULL, NULL) != 0 || p.source[0] != '/')
                        __builtin_trap();
                return 0;
        }
        if (r == -EFBIG) {
                if (size <= PROFILE_FILE_MAX)
                        __builtin_trap();
                return 0;
        }
        if (r != -EINVAL || e.msg[0] == '\0' || e.path[0] != '$' || e.line < 1 || e.column < 1 ||
            strcmp(e.file, "fuzz.json") != 0)
                __builtin_trap();
        vl_error_format(&e, line, sizeof(line));
        if (strchr(line, '\n'))
                __builtin_trap();
        return 0;
}
