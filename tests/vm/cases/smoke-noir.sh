# SPDX-License-Identifier: LGPL-2.1-or-later
# smoke-noir (variant intel-noir / amd-noir): without interrupt remapping the
# kernel refuses the VFIO container. Expected failure mode, in plain shell:
# binding works, the nested QEMU exits with "Failed to set iommu for
# container: Operation not permitted", dmesg says "No interrupt remapping
# support", and the functions rebind to their host drivers. 1 bind cycle.
bind_to vfio-pci $DEVS
expect_on_vfio "bind" $DEVS
sock=$VL_CASEDIR/l2.sock
l2_start "$sock" "$VL_CASEDIR/l2.log" $DEVS
if wait_for 60 gone "$L2PID"; then
        wait "$L2PID"
        l2rc=$?
        check "nested QEMU refused to start (exit $l2rc)" test "$l2rc" != 0
else
        fail "nested QEMU still running: interrupt remapping not enforced?"
        kill -9 "$L2PID"
fi
check "QEMU says: $(grep -o 'Failed to set iommu for container[^"]*' "$VL_CASEDIR/l2.log" | head -1)" \
        grep -q 'Failed to set iommu for container: Operation not permitted' "$VL_CASEDIR/l2.log"
check "kernel says: No interrupt remapping support" sh -c 'dmesg | grep -q "No interrupt remapping support"'
bind_to "" $DEVS
expect_home "rebind after the refused start" 5
