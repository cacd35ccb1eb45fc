# SPDX-License-Identifier: LGPL-2.1-or-later
# rootbus-run (variant rootbus): the functions sit on pcie.0 and
# get one IOMMU group each; the launcher binds both groups, the nested QEMU
# holds both, and a QMP quit gives both back. 1 bind cycle.
need_vl
VMNAME=vmtest-rb
G0=$(group_of "$DEV0") G1=$(group_of "$DEV1")
check "one group each: $DEV0 in $G0, $DEV1 in $G1" test -n "$G0" -a -n "$G1" -a "$G0" != "$G1"
vm_up vmtest-rb vmtest-rootbus || { vm_abort vmtest-rb; exit 1; }
expect_running vmtest-rb $DEVS
if qmp_or_fail vmtest-rb quit quit; then expect_exit "QMP quit" 30 0; else vm_abort vmtest-rb; fi
expect_home "after QMP quit"
expect_no_journal vmtest-rb
