# SPDX-License-Identifier: LGPL-2.1-or-later
# rootbus-partial (variant rootbus): with one group per function, a profile
# naming only function 0 is fine: 00:05.0 goes to vfio-pci, 00:05.1 stays on
# snd_hda_intel throughout, and quit gives 00:05.0 back. 1 bind cycle (e1000e
# only: no HDA bind).
need_vl
VMNAME=vmtest-rb0
G1=$(group_of "$DEV1")
vm_up vmtest-rb0 vmtest-rootbus-f0 || { vm_abort vmtest-rb0; exit 1; }
expect_running vmtest-rb0 $DEV0
check "$DEV1 stays on $ORIG1 and /dev/vfio/$G1 absent" sh -c ". /vl/lib.sh; is_drv $DEV1 $ORIG1 && test ! -e /dev/vfio/$G1"
if qmp_or_fail vmtest-rb0 quit quit; then expect_exit "QMP quit" 30 0; else vm_abort vmtest-rb0; fi
expect_home "after QMP quit"
expect_no_journal vmtest-rb0
