# SPDX-License-Identifier: LGPL-2.1-or-later
# smoke: the whole passthrough path in plain shell, no vfio-launch — proves
# the harness (kernel, IOMMU, groups, 9p chroot, nested QEMU, QMP).
#  1. sysfs round trip: both functions to vfio-pci and back
#  2. nested QEMU with both as vfio-pci devices: QOM shows them; quit; rebind
#  3. same, ended by an emulated guest ACPI poweroff instead of quit
# 3 bind cycles.
G0=$(group_of "$DEV0") G1=$(group_of "$DEV1")
check "IOMMU groups: $DEV0 in $G0, $DEV1 in $G1 (topology ${VL_TOPO})" test -n "$G0" -a -n "$G1"
if [ "$VL_TOPO" = rootbus ]; then
        check "functions on pcie.0 get one group each" test "$G0" != "$G1"
else
        check "functions behind one root port share a group" test "$G0" = "$G1"
fi

t=$(now)
bind_to vfio-pci $DEVS
expect_on_vfio "sysfs bind ($(since "$t")s)" $DEVS
t=$(now)
bind_to "" $DEVS
expect_home "sysfs rebind ($(since "$t")s)" 5

for how in quit poweroff; do
        bind_to vfio-pci $DEVS
        expect_on_vfio "bind before nested run ($how)" $DEVS
        sock=$VL_CASEDIR/l2-$how.sock
        t=$(now)
        l2_start "$sock" "$VL_CASEDIR/l2-$how.log" $DEVS
        if ! qmp -t 60 "$sock" query-status > "$VL_CASEDIR/qmp-$how.log" 2>&1; then
                fail "nested QEMU not ready ($how): $(cat "$VL_CASEDIR/qmp-$how.log")"
                kill -9 "$L2PID" 2>/dev/null
                wait "$L2PID"
                bind_to "" $DEVS
                continue
        fi
        note "nested QEMU ready in $(since "$t")s"
        expect_l2_hosts "$sock" $DEVS
        t=$(now)
        if [ "$how" = quit ]; then
                qmp "$sock" quit >> "$VL_CASEDIR/qmp-$how.log" 2>&1
        else
                qmp_guest_poweroff "$sock" >> "$VL_CASEDIR/qmp-$how.log" 2>&1
        fi
        if wait_for 20 gone "$L2PID"; then
                wait "$L2PID"
                l2rc=$?
                check "nested QEMU gone after $how in $(since "$t")s, exit $l2rc" test "$l2rc" = 0
        else
                fail "nested QEMU still running 20s after $how"
                kill -9 "$L2PID"
        fi
        [ "$how" = poweroff ] && check "QEMU saw a guest shutdown" grep -q '"reason": "guest-shutdown"' "$VL_CASEDIR/qmp-$how.log"
        t=$(now)
        bind_to "" $DEVS
        expect_home "rebind after nested $how ($(since "$t")s)" 5
done
