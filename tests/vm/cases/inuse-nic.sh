# SPDX-License-Identifier: LGPL-2.1-or-later
# inuse-nic: the "GPU" function is L1's own e1000e NIC. While its interface
# is up with an address and a default route, `print` (exit 0), `bind` and a
# run (exit 1) refuse with "DEV0 holds the network interface IF (up,
# address…, … routes incl. the default route): refused (allow_in_use
# overrides)", touch no binding, and the interface keeps its address and
# route; doctor reports the same in its "Devices the host is using" row and
# the group as viable. Down and bare but a bridge port: refused the same way ("a port of
# vlbr0"). With allow_in_use a run prints the loud warning naming the
# interface, takes the pair (the interface vanishes) and gives it back after
# a QMP quit (the interface is back, down and bare: its configuration is
# what allow_in_use gives up). Then, nothing on it, print plans the pair.
# 1 bind cycle (the allow_in_use run).
need_vl
VMNAME=vmtest
IF=$(ls "$SYSPCI/$DEV0/net" 2>/dev/null | head -1)
check "$DEV0 has a network interface (${IF:-none})" test -n "$IF" || exit 1
ADDR=192.0.2.1/24
GW=192.0.2.254
ip link set "$IF" up && ip addr add "$ADDR" dev "$IF" && ip route add default via "$GW" dev "$IF" ||
        fail "cannot configure $IF"
note "$IF configured: $(ip -o addr show dev "$IF" | awk '{print $4}' | tr '\n' ' ')/ $(ip route show dev "$IF" | tr '\n' ';')"
kept() { [ -e "/sys/class/net/$IF" ] && ip -o addr show dev "$IF" | grep -q " $ADDR " &&
        ip route show dev "$IF" | grep -q "^default via $GW"; }
# refused VERB WHY: the verb refuses, names the interface and why, touches
# nothing, leaves no state behind and the interface as it was.
refused() {
        _v=$1 _why=$2
        _before=$(touches $DEVS)
        _o=$VL_CASEDIR/$_v-$(echo "$_why" | tr -c 'a-z0-9\n' '-').out
        case $_v in
        print) vl_out "$_o" print "$(profile vmtest)" ;;
        bind) vl_out "$_o" bind "$(profile vmtest)" ;;
        run)
                # in the background: a run that is not refused would stay
                vl_start run-refused "$(profile vmtest)"
                if vl_wait_exit 30; then
                        (exit $VLRC)
                else
                        fail "run: still running 30 s later: not refused"
                        vm_abort vmtest
                        false
                fi
                ;;
        esac
        _rc=$?
        [ "$_v" = run ] && cat "$VL_CASEDIR/run-refused.out" > "$_o"
        if [ "$_v" = print ]; then
                check "$_v exits 0 with the plan's refusal in its output (rc=$_rc)" test $_rc = 0
        else
                check "$_v refused (rc=$_rc)" test $_rc = 1
        fi
        _m=$(grep -m1 "holds the network interface" "$_o")
        check "$_v: \"${_m#*: }\"" sh -c 'case "$1" in *"$2 holds the network interface $3 ($4"*"): refused (allow_in_use overrides)"*) exit 0 ;; esac; exit 1' \
                sh "$_m" "$DEV0" "$IF" "$_why"
        check "$_v: no binding touched ($(state))" test "$(touches $DEVS)" = "$_before"
        check "$_v: no /dev/vfio node, no QEMU, no journal" \
                sh -c ". /vl/lib.sh; no_vfio_nodes && no_l2 && [ ! -e '$(journal vmtest)' ] && [ ! -e '$(bound_journal vmtest)' ]"
}

for v in print bind run; do
        refused $v "up, address"
        check "after $v: $IF still there with $ADDR and the default route" kept
done
# doctor: the same finding, in its own row; the group itself is viable.
vl_out "$VL_CASEDIR/doctor.out" doctor "$(profile vmtest)"
rc=$?
check "doctor exits 1 (rc=$rc): $(grep -m1 '^FAIL  Devices the host is using' "$VL_CASEDIR/doctor.out")" \
        sh -c "[ $rc = 1 ] && grep -q '^FAIL  Devices the host is using: $DEV0 holds the network interface $IF (up, address' '$VL_CASEDIR/doctor.out'"
check "doctor: group viable, pointing at that row" \
        grep -q "^ok    IOMMU groups viable: .*a run refuses while the host uses them" "$VL_CASEDIR/doctor.out"
check "after doctor: $IF still there with $ADDR and the default route" kept
grep -q "default route" "$VL_CASEDIR"/print-*.out ||
        fail "print: the message does not name the default route: $(grep -m1 'would refuse' "$VL_CASEDIR"/print-*.out)"

# A bridge port, down and without addresses.
ip route del default via "$GW" dev "$IF"
ip addr flush dev "$IF"
ip link set "$IF" down
if brctl addbr vlbr0 2> "$VL_CASEDIR/brctl.err" && brctl addif vlbr0 "$IF" 2>> "$VL_CASEDIR/brctl.err"; then
        refused print "a port of vlbr0"
        brctl delif vlbr0 "$IF"
        brctl delbr vlbr0
else
        fail "cannot make $IF a bridge port: $(cat "$VL_CASEDIR/brctl.err")"
        brctl delbr vlbr0 2>/dev/null
fi

# allow_in_use: taken anyway, with the loud warning, and given back.
ip link set "$IF" up && ip addr add "$ADDR" dev "$IF"
P=$VL_CASEDIR/vmtest-allow-in-use.json
sed 's/"shutdown_timeout": 5,/"shutdown_timeout": 5, "allow_in_use": true,/' "$VL_ROOT$(profile vmtest)" > "$P"
grep -q '"allow_in_use": true' "$P" || fail "no allow_in_use in $P"
vl_start vmtest "$P"
if vl_wait_ready vmtest; then
        w=$(grep -m1 "IS IN USE" "$VL_CASEDIR/vmtest.out")
        check "allow_in_use: the run warns: \"$w\"" sh -c 'case "$1" in "vfio-launch: warning: $2 IS IN USE, taken anyway (allow_in_use): it holds the network interface $3 (up, address"*) exit 0 ;; esac; exit 1' \
                sh "$w" "$DEV0" "$IF"
        expect_on_vfio "allow_in_use run" $DEVS
        check "while the VM runs $IF is gone from the host" test ! -e "/sys/class/net/$IF"
        if qmp_or_fail vmtest quit quit; then expect_exit "QMP quit" 30 0; else vm_abort vmtest; fi
else
        vm_abort vmtest
fi
expect_home "after the allow_in_use run"
expect_no_journal vmtest
IF2=$(ls "$SYSPCI/$DEV0/net" 2>/dev/null | head -1)
check "after the run the NIC has an interface again (${IF2:-none}), down and without $ADDR" \
        sh -c '[ -n "$1" ] && ! ip -o addr show dev "$1" | grep -q " $2 " &&
               [ $(( $(cat /sys/class/net/$1/flags) & 1 )) = 0 ]' sh "$IF2" "$ADDR"

# Nothing on it: print plans the pair again.
n=$(touches $DEVS)
vl_out "$VL_CASEDIR/print-free.out" print "$(profile vmtest)"
check "nothing on $DEV0: print plans it ($(grep -m1 "$DEV0" "$VL_CASEDIR/print-free.out" | tr -s ' '))" \
        sh -c "! grep -q 'would refuse' '$VL_CASEDIR/print-free.out' && grep -q 'vfio-pci,host=$DEV0' '$VL_CASEDIR/print-free.out'"
check "print changed no binding" test "$(touches $DEVS)" = "$n"
