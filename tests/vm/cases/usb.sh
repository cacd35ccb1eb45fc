# SPDX-License-Identifier: LGPL-2.1-or-later
# usb: a host USB device passed to the nested guest by vendor:product.
# L1 gets QEMU's usb-kbd (0627:0001) on an xHCI (vm-needs below); L1 binds it
# to usbhid as a host would. Profile tests/vm/profiles/vmusb.json: no
# hostdevs, so 0 bind cycles. `print` names the device and its node; a run
# hands /dev/bus/usb/BBB/DDD to nobody (the journal says so), and the nested
# QEMU, running as nobody, holds the node as the fd of its -add-fd and has a
# usb-host device usbhost0 in QOM (its product the keyboard's, HMP info usb);
# `status` lists it attached. `usb detach` takes it out (gone from QOM,
# QEMU's fd closed, the node root's again) and `usb attach` gives it back
# (in QOM again, the node nobody's). QMP quit: exit 0, owner and mode as
# before, the interface on usbhid again, no journal. (usb-kill: kill -9 of
# the launcher and recover.)
# vm-needs: usb
need_vl
VMNAME=vmusb
usb_kbd || exit 1
owner() { stat -c '%u:%g %a' "$_node"; }
l2_usb_fd() { l2_holds_node "$1" "$_node"; }
l2_no_usb_fd() { ! l2_usb_fd "$1"; }
qom_usbhost() { qmp "$(qmp_sock vmusb)" '{"execute":"qom-list","arguments":{"path":"/machine/peripheral"}}' | grep -c '"usbhost0"'; }
qom_has() { [ "$(qom_usbhost)" = 1 ]; }
qom_hasnt() { [ "$(qom_usbhost)" = 0 ]; }

vl_out "$VL_CASEDIR/print.out" print "$(profile vmusb)"
check "print: $(grep -m1 '^# usb.devices\[0\]' "$VL_CASEDIR/print.out")" \
        grep -q "^# usb.devices\[0\]: 0627:0001 -> ${_dir##*/} (0627:0001) $_node" "$VL_CASEDIR/print.out"

if vm_up vmusb vmusb; then
        _pid=$(echo "$VMSTATUS" | json_num qemu_pid)
        check "status lists usbhost0 attached on ${_dir##*/}" \
                sh -c 'echo "$1" | grep -q "\"usb\":\[{\"id\":\"usbhost0\",\"device\":\"0627:0001\",\"host\":\"$2\",\"node\":\"$3\",\"hotplug\":\"attached\"}\]"' \
                sh "$VMSTATUS" "${_dir##*/}" "$_node"
        check "the node is nobody's while the VM runs ($(owner))" sh -c '[ "$(stat -c %u "$1")" = 65534 ]' sh "$_node"
        check "the journal has the usb entry" grep -q '"kind": *"usb"' "$(journal vmusb)"
        _cmd=$(tr '\0' ' ' < "/proc/$_pid/cmdline")
        check "nested QEMU's argv has -add-fd and usb-host on /dev/fdset/1" \
                sh -c 'echo "$1" | grep -q -- "-add-fd fd=[0-9]*,set=1,opaque=usbhost0 -device usb-host,hostdevice=/dev/fdset/1,id=usbhost0,bus=usb0.0"' sh "$_cmd"
        check "nested QEMU (pid $_pid, uid $(sed -n 's/^Uid:[[:space:]]*\([0-9]*\).*/\1/p' "/proc/$_pid/status")) holds $_node" l2_usb_fd "$_pid"
        check "QOM: usbhost0 is a usb-host" sh -c 'qmpc -t 10 "$1" "{\"execute\":\"qom-list\",\"arguments\":{\"path\":\"/machine/peripheral\"}}" | grep -q "\"name\": \"usbhost0\", \"type\": \"child<usb-host>\""' sh "$(qmp_sock vmusb)"
        qmp "$(qmp_sock vmusb)" "$(hmp 'info usb')" > "$VL_CASEDIR/info-usb.log" 2>&1
        check "HMP info usb: $(grep -o 'Product[^,]*, ID: usbhost0' "$VL_CASEDIR/info-usb.log")" \
                grep -q 'Product QEMU USB Keyboard, ID: usbhost0' "$VL_CASEDIR/info-usb.log"

        vl_out "$VL_CASEDIR/detach.out" usb detach vmusb usbhost0
        rc=$?
        check "usb detach exits 0 (rc=$rc: $(tail -n 1 "$VL_CASEDIR/detach.out"))" test $rc = 0
        check "usbhost0 gone from QOM" wait_for 10 qom_hasnt
        check "nested QEMU closed $_node" wait_for 10 l2_no_usb_fd "$_pid"
        check "the node is back as it was ($(owner), was $_before)" test "$(owner)" = "$_before"
        check "no usb entry in the journal" sh -c '! grep -q "\"kind\": *\"usb\"" "$1"' sh "$(journal vmusb)"
        check "status lists usbhost0 detached" sh -c 'vl_s=$1; echo "$vl_s" | grep -q "\"id\":\"usbhost0\".*\"hotplug\":\"detached\""' sh "$(vl_status vmusb)"

        vl_out "$VL_CASEDIR/attach.out" usb attach vmusb usbhost0
        rc=$?
        check "usb attach exits 0 (rc=$rc: $(tail -n 1 "$VL_CASEDIR/attach.out"))" test $rc = 0
        check "usbhost0 in QOM again" wait_for 10 qom_has
        check "nested QEMU holds $_node again" l2_usb_fd "$_pid"
        check "the node is nobody's again ($(owner))" sh -c '[ "$(stat -c %u "$1")" = 65534 ]' sh "$_node"
        vl_out "$VL_CASEDIR/attach2.out" usb attach vmusb usbhost0
        check "a second attach is refused: $(tail -n 1 "$VL_CASEDIR/attach2.out")" grep -q 'attached already' "$VL_CASEDIR/attach2.out"

        if qmp_or_fail vmusb quit quit; then expect_exit "QMP quit" 30 0; else vm_abort vmusb; fi
        check "after the run the node is as it was ($(owner), was $_before)" test "$(owner)" = "$_before"
        # QEMU's usb-host took the interface from usbhid; libusb hands it back on close.
        usbhid_back() { [ "$(basename "$(readlink "$_dir/${_dir##*/}:1.0/driver")")" = usbhid ]; }
        check "the keyboard's interface is on usbhid again" wait_for 10 usbhid_back
        expect_no_journal vmusb
else
        show "$VL_CASEDIR/vmusb.out" "launcher output"
        vm_abort vmusb
fi
