# SPDX-License-Identifier: LGPL-2.1-or-later
# partial-group: a profile naming only 01:00.0 while 01:00.1 sits
# on its host driver in the same IOMMU group: both `vfio-launch PROFILE` and
# `vfio-launch bind PROFILE` refuse with a message naming 01:00.1, and
# nothing is changed (no driver bind/unbind, no /dev/vfio node, no QEMU, no
# journal). 0 bind cycles.
need_vl
check "$DEV0 and $DEV1 share group $(group_of "$DEV0")" test "$(group_of "$DEV0")" = "$(group_of "$DEV1")"
P=$(profile vmtest-f0)
for verb in run bind; do
        n=$(touches $DEVS)
        out=$VL_CASEDIR/$verb.out
        if [ $verb = run ]; then vl_out "$out" "$P"; else vl_out "$out" bind "$P"; fi
        rc=$?
        check "vfio-launch $verb refused (rc=$rc)" test $rc != 0
        check "$verb: the message names ${DEV1#0000:}: $(grep -m1 "${DEV1#0000:}" "$out")" grep -q "${DEV1#0000:}" "$out"
        check "$verb: no binding touched ($(state))" test "$(touches $DEVS)" = "$n"
        check "$verb: no /dev/vfio node, no QEMU" sh -c ". /vl/lib.sh; no_vfio_nodes && no_l2"
        check "$verb: no journal" test ! -e "$(journal vmtest-f0)"
done
