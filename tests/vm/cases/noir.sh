# SPDX-License-Identifier: LGPL-2.1-or-later
# noir (variant intel-noir or amd-noir): without interrupt
# remapping `vfio-launch PROFILE` fails with a clear error that says so, and
# both functions are back (or were never moved). At most 1 bind cycle.
need_vl
VMNAME=vmtest
vl_start vmtest "$(profile vmtest)"
# 1: refused before QEMU (a pre-check); 3: QEMU failed to start
expect_exit "a start without interrupt remapping" 90 "1|3"
check "the error names interrupt remapping: $(grep -i -m1 'interrupt remapping' "$VL_CASEDIR/vmtest.out")" \
        grep -qi 'interrupt remapping' "$VL_CASEDIR/vmtest.out"
check "no nested QEMU left" no_l2
expect_home "after the refused start"
expect_no_journal vmtest
