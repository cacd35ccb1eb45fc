# SPDX-License-Identifier: LGPL-2.1-or-later
# vhost-net: a virtio NIC on a tap with "vhost": true, on a kernel that has
# vhost_net (L1 loads it: /dev/vhost-net exists, root's). Profile
# tests/vm/profiles/vmnet.json: no hostdevs, so 0 bind cycles. `print` says
# "# nics[0]: vhost-net"; the launcher opens /dev/vhost-net as root and the
# nested QEMU, running as nobody, gets it: its command line has
# `-netdev tap,fd=T,vhost=on,vhostfd=N` and its /proc/PID/fd/N is
# /dev/vhost-net (QEMU accepted the fd: it set up the vhost device at
# -netdev time, or it would have refused to start). After a QMP quit: exit 0,
# the tap link and the journal gone. ("vhost": true because L1 runs L2 under
# TCG, where the default is QEMU's userspace virtio-net.)
need_vl
VMNAME=vmnet
check "/dev/vhost-net exists in L1 ($(ls -l /dev/vhost-net 2>&1))" test -c /dev/vhost-net
if ! { { brctl addbr vlbr1 || ip link add vlbr1 type bridge; } && ip link set vlbr1 up; } > "$VL_CASEDIR/brctl.err" 2>&1; then
        fail "cannot create bridge vlbr1: $(cat "$VL_CASEDIR/brctl.err")"
        exit 1
fi
vl_out "$VL_CASEDIR/print.out" print "$(profile vmnet)"
check "print: $(grep -m1 '^# nics\[0\]: vhost' "$VL_CASEDIR/print.out")" \
        grep -q '^# nics\[0\]: vhost-net' "$VL_CASEDIR/print.out"
if vm_up vmnet vmnet; then
        _pid=$(echo "$VMSTATUS" | json_num qemu_pid)
        _cmd=$(tr '\0' ' ' < "/proc/$_pid/cmdline")
        _fd=$(echo "$_cmd" | sed -n 's/.* tap,fd=[0-9]*,vhost=on,vhostfd=\([0-9]*\),id=hostnet0 .*/\1/p')
        check "nested QEMU's argv has -netdev tap,fd=T,vhost=on,vhostfd=N (N=${_fd:-none})" test -n "$_fd"
        _link=$(readlink "/proc/$_pid/fd/${_fd:-none}" 2>&1)
        # seen from L1 the chroot's /dev is $VL_ROOT/dev
        check "nested QEMU (pid $_pid, $(sed -n 's/^Uid:[[:space:]]*\([0-9]*\).*/uid \1/p' "/proc/$_pid/status")) holds /dev/vhost-net as fd $_fd ($_link)" \
                sh -c 'case "$1" in /dev/vhost-net | "$2/dev/vhost-net") exit 0 ;; esac; exit 1' sh "$_link" "$VL_ROOT"
        _tap=$(ls /sys/class/net/vlbr1/brif 2>/dev/null | head -1)
        check "the tap ${_tap:-none} is a port of vlbr1" test -n "$_tap"
        if qmp_or_fail vmnet quit quit; then expect_exit "QMP quit" 30 0; else vm_abort vmnet; fi
        check "the tap link is gone after the run" test -z "$(ls /sys/class/net/vlbr1/brif 2>/dev/null)"
        expect_no_journal vmnet
else
        show "$VL_CASEDIR/vmnet.out" "launcher output"
        vm_abort vmnet
fi
ip link set vlbr1 down
brctl delbr vlbr1
