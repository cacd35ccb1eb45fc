/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libFuzzer target for `vfio-launch import` (import_domain_buffer): libxml2
 * under the import's limits and every mapping table. Besides "no crash, no
 * leak, no UB", it traps when a promise is broken:
 *  - a refused document (-EINVAL, -ELOOP) has a one-line message with the
 *    file name; a size refusal (-EFBIG) only happens past the limit;
 *  - an imported one has a profile object with a "name" only when the
 *    domain had one, and every omission and note is one line naming an
 *    XPath ("/domain...").
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "import/import.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_lines(const struct import_lines *l)
{
        for (size_t i = 0; i < l->n; i++)
                if (strncmp(l->v[i], "/domain", 7) != 0 || strchr(l->v[i], '\n'))
                        __builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct import_result res = {};
        struct vl_error e = {};
        char line[1024];
        int r;

        r = import_domain_buffer("fuzz.xml", (const char *) data, size, NULL, &res, &e);
        if (r == 0) {
                if (!json_is_object(res.profile))
                        __builtin_trap();
                check_lines(&res.omitted);
                check_lines(&res.notes);
                import_result_done(&res);
                return 0;
        }
        if (r == -EFBIG) {
                if (size <= IMPORT_FILE_MAX)
                        __builtin_trap();
                return 0;
        }
        if ((r != -EINVAL && r != -ELOOP) || e.msg[0] == '\0' || strcmp(e.file, "fuzz.xml") != 0)
                __builtin_trap();
        vl_error_format(&e, line, sizeof(line));
        if (strchr(line, '\n'))
                __builtin_trap();
        return 0;
}
