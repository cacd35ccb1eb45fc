# SPDX-License-Identifier: LGPL-2.1-or-later
# usb-kill: kill -9 of vfio-launch while it passes L1's usb-kbd (0627:0001)
# to the nested guest (profile vmusb, as the case usb): QEMU dies with its
# launcher, the journal and nobody's ownership of /dev/bus/usb/BBB/DDD stay,
# and `vfio-launch recover vmusb` gives the node its owner and mode back.
# 0 bind cycles.
# vm-needs: usb
need_vl
VMNAME=vmusb
usb_kbd || exit 1
owner() { stat -c '%u:%g %a' "$_node"; }

if vm_up vmusb vmusb; then
        _pid=$(echo "$VMSTATUS" | json_num qemu_pid)
        kill -9 "$VLPID"
        wait "$VLPID" 2>/dev/null
        check "nested QEMU (pid $_pid) died with the launcher" wait_for 15 gone "$_pid"
        check "journal kept for recover" test -f "$(journal vmusb)"
        check "the node is still nobody's ($(owner))" sh -c '[ "$(stat -c %u "$1")" = 65534 ]' sh "$_node"
        vl_out "$VL_CASEDIR/recover.out" recover vmusb
        rc=$?
        check "vfio-launch recover vmusb exits 0 (rc=$rc)" test $rc = 0
        check "after recover the node is as it was ($(owner), was $_before)" test "$(owner)" = "$_before"
        expect_no_journal vmusb
else
        show "$VL_CASEDIR/vmusb.out" "launcher output"
        vm_abort vmusb
fi
