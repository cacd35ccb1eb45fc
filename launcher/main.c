/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* placeholder CLI: replaced by the real dispatcher */
#include <stdio.h>
int main(void)
{
        puts("vfio-launch " VL_VERSION);
        return 0;
}
