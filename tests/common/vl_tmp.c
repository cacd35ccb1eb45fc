/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <ftw.h>
#include <stdio.h>

#include "vl_tmp.h"

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
        (void) st, (void) flag, (void) ftw;
        return remove(path);
}

int vl_rm_tree(const char *path)
{
        return nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}
