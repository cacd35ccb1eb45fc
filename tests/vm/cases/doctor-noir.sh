# SPDX-License-Identifier: LGPL-2.1-or-later
# doctor-noir (variant intel-noir or amd-noir): without interrupt
# remapping `vfio-launch doctor PROFILE` reports it as a failure, with the
# fix, and exits 1. Read-only. 0 bind cycles.
need_vl
n=$(touches $DEVS)
out=$VL_CASEDIR/doctor.out
vl_out "$out" doctor "$(profile vmtest)"
rc=$?
check "doctor exits 1 (rc=$rc)" test $rc = 1
check "doctor: interrupt remapping off is a failure: $(grep -m1 'Interrupt remapping' "$out")" \
        grep -qE '^FAIL +Interrupt remapping: off' "$out"
check "doctor: the IOMMU itself is on" grep -qE '^ok +IOMMU: on' "$out"
check "doctor changed no binding ($(state))" test "$(touches $DEVS)" = "$n"
