# SPDX-License-Identifier: LGPL-2.1-or-later
# print: `vfio-launch print PROFILE` is a dry run: plan + QEMU argv, exit 0,
# and the host is untouched. 0 bind cycles.
need_vl
n=$(touches $DEVS)
vl_out "$VL_CASEDIR/print.out" print "$(profile vmtest)"
rc=$?
check "vfio-launch print exits 0 (rc=$rc)" test $rc = 0
for b in $DEVS; do
        check "print shows -device vfio-pci,host=$b" grep -q "vfio-pci,host=$b" "$VL_CASEDIR/print.out"
done
check "print changed no binding ($(state))" test "$(touches $DEVS)" = "$n"
check "print created no state in /run/vfio-launch" test ! -e "$(run_dir vmtest)"
