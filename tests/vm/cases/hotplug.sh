# SPDX-License-Identifier: LGPL-2.1-or-later
# hotplug (live detach / attach): `vfio-launch detach NAME DEVICE`
# takes the GPU pair out of the running nested VM and gives it back to
# e1000e / snd_hda_intel; `attach` puts it back at its profile address.
#
# The nested guest is SeaBIOS without an OS (a Linux L2 boots in minutes
# under TCG-in-TCG): nobody answers an unplug request. So the case plays
# the guest OS's part where one is needed, with exactly the register
# accesses the guest's driver makes, and only after checking that the
# launcher's request reached the guest; QEMU itself then unplugs the slot
# and sends DEVICE_DELETED:
#  1. native PCIe hot-plug (profile vmtest): first nobody answers — detach
#     --timeout 3 must fail honestly: devices still with the VM, on
#     vfio-pci, in its QOM; attach refused while pending. Then the case
#     plays Linux pciehp after the attention button (Slot Status ABP set):
#     slot power and power indicator off through Slot Control of root port
#     00:02.0; the running launcher completes the pending detach by itself.
#     attach puts the pair back (and the case powers the slot on, as pciehp
#     does after a hot-add); quit gives it back.
#  2. ACPI PCI hot-plug (profile vmhp, "pci_hotplug": "acpi"): the case
#     plays the slot's ACPI _EJ0 method — the bus's BSEL (QOM
#     acpi-pcihp-bsel) to the select register 0xcd0, the slot bit to the
#     eject register 0xcc8 — after the launcher's device_del raised the
#     slot's bit in the "down" register 0xcc4. Detach naming the audio
#     function takes the GPU too (same group, same slot); attach by address.
#  3. a detach whose guest answers late: --timeout 2 fails, the eject comes
#     after, and the running launcher gives the devices back by itself.
#  4. kill -9 of the launcher after a detach and an attach: recover finds
#     the journal the attach wrote and gives the devices back.
# 7 bind cycles (HDA binds: native late detach 1, native quit 1, acpi detach
# 1, late detach 1, quit 1, detach 1, recover 1).
need_vl

# hp_eject NAME: play the guest's _EJ0 for slot 0 behind pci.1, once the
# launcher's device_del has set the slot's "down" bit.
_hp_down() {
        _v=$(qmp "$1" "$(hmp "o /w 0xcd0 $2")" "$(hmp 'i /w 0xcc4')" 2>/dev/null |
                sed -n 's/.*portl\[0x0cc4\] = \(0x[0-9a-f]*\).*/\1/p')
        [ -n "$_v" ] && [ $((_v & 1)) = 1 ]
}
hp_eject() {
        _s=$(qmp_sock "$1")
        _bsel=$(qmp "$_s" '{"execute":"qom-get","arguments":{"path":"/machine/peripheral/pci.1/pci.1","property":"acpi-pcihp-bsel"}}' \
                2> "$VL_CASEDIR/bsel.err" | sed -n 's/.*"return": \([0-9]*\).*/\1/p')
        if [ -z "$_bsel" ]; then
                fail "no acpi-pcihp-bsel on pci.1 (ACPI hot-plug off?): $(head -c 200 "$VL_CASEDIR/bsel.err"); the launcher said: $(vl_said "$1")"
                return 1
        fi
        if ! wait_for 20 _hp_down "$_s" "$_bsel"; then
                fail "the slot's bit never rose in the ACPI 'down' register (no device_del?)"
                return 1
        fi
        qmp "$_s" "$(hmp "o /w 0xcd0 $_bsel")" "$(hmp 'o /w 0xcc8 0x1')" > "$VL_CASEDIR/eject.log" 2>&1
}
# The nested VM's config space through the legacy ports, as its OS would
# read and write it. The vCPUs are paused around each access: the firmware
# uses the same 0xcf8/0xcfc pair (see qmp_guest_poweroff in lib.sh).
cfg_addr() { printf '0x%x' $(( 0x80000000 | ($1 << 16) | ($2 << 11) | ($3 << 8) | ($4 & 0xfc) )); }
cfg_rd32() { # cfg_rd32 SOCK BUS DEV FN REG
        qmp "$1" '{"execute":"stop"}' "$(hmp "o /w 0xcf8 $(cfg_addr $2 $3 $4 $5)")" "$(hmp 'i /w 0xcfc')" \
                '{"execute":"cont"}' 2>/dev/null | sed -n 's/.*portl\[0x0cfc\] = \(0x[0-9a-f]*\).*/\1/p'
}
cfg_wr16() { # cfg_wr16 SOCK BUS DEV FN REG VALUE (REG 2-aligned)
        qmp "$1" '{"execute":"stop"}' "$(hmp "o /w 0xcf8 $(cfg_addr $2 $3 $4 $5)")" \
                "$(hmp "o /h $(printf '0x%x' $(( 0xcfc + ($5 & 2) ))) $6")" '{"execute":"cont"}' > /dev/null 2>&1
}
# pciehp_poweroff NAME: the part of Linux's pciehp after the attention
# button (it waits 5 s for a cancel first): power the slot of root port
# pci.1 (00:02.0 in the nested VM) off — Slot Control power controller off,
# power indicator off — once the button's event (Slot Status ABP) is there.
_abp() { _st=$(cfg_rd32 "$1" 0 2 0 $(( $2 + 0x18 ))); [ -n "$_st" ] && [ $(( (_st >> 16) & 1 )) = 1 ]; }
pciehp_poweroff() {
        _s=$(qmp_sock "$1")
        _cap=$(( $(cfg_rd32 "$_s" 0 2 0 0x34) & 0xff ))
        _exp=
        while [ "$_cap" -ne 0 ]; do
                _v=$(cfg_rd32 "$_s" 0 2 0 $_cap)
                [ $(( _v & 0xff )) = 16 ] && { _exp=$_cap; break; }
                _cap=$(( (_v >> 8) & 0xff ))
        done
        if [ -z "$_exp" ]; then fail "no PCIe capability on root port 00:02.0"; return 1; fi
        if ! wait_for 20 _abp "$_s" "$_exp"; then
                fail "no attention-button event on pci.1's slot (no device_del?)"
                return 1
        fi
        _ctl=$(( $(cfg_rd32 "$_s" 0 2 0 $(( _exp + 0x18 ))) & 0xffff ))
        cfg_wr16 "$_s" 0 2 0 $(( _exp + 0x18 )) $(printf '0x%x' $(( _ctl | 0x0700 )))
}
# pciehp_poweron NAME: after a hot-add, what pciehp does: slot power and
# its indicator on.
pciehp_poweron() {
        _s=$(qmp_sock "$1")
        _ctl=$(( $(cfg_rd32 "$_s" 0 2 0 $(( _exp + 0x18 ))) & 0xffff ))
        cfg_wr16 "$_s" 0 2 0 $(( _exp + 0x18 )) $(printf '0x%x' $(( (_ctl & ~0x0700) | 0x0100 )))
}
detached_ok() { # detached_ok WHEN NAME: back home while the VM runs on
        if wait_for 10 at_home && wait_for 5 no_vfio_nodes; then
                pass "$1: both functions back on the host while the VM runs: $(state)"
                hda_settle
        else
                fail "$1: not back on the host: $(state)"
        fi
        expect_alive "$1" "$2"
        check "$1: status lists both as detached" sh -c 'vl_st=$1; case "$vl_st" in *"{\"id\":\"gpu\",\"host\":\"0000:01:00.0\",\"hotplug\":\"detached\"},{\"id\":\"gpuaudio\",\"host\":\"0000:01:00.1\",\"hotplug\":\"detached\"}"*) exit 0 ;; esac; exit 1' sh "$(vl_status "$2")"
        _h=$(qmp_hosts "$(qmp_sock "$2")")
        check "$1: no vfio-pci device left in the guest (QOM: [$_h])" test -z "$_h"
        check "$1: QEMU holds no /dev/vfio group" sh -c '! ls -l /proc/$1/fd 2>/dev/null | grep -q "/dev/vfio/[0-9]"' sh "$(l2_pids)"
}

# ---- 1. native hot-plug, a guest that does not answer ----------------------
VMNAME=vmtest
vm_up vmtest vmtest || { vm_abort vmtest; exit 1; }
t=$(now)
vl_out "$VL_CASEDIR/detach-native.out" detach --timeout 3 vmtest gpu
rc=$?
expect_rc "detach without a guest answer exits 1, in $(since "$t")s" 1 $rc "$VL_CASEDIR/detach-native.out"
check "it says the guest did not release them" grep -q "did not release gpu (0000:01:00.0), gpuaudio (0000:01:00.1) within 3 s" "$VL_CASEDIR/detach-native.out"
expect_on_vfio "after the refused detach" $DEVS
expect_l2_hosts "$(qmp_sock vmtest)" $DEVS
expect_alive "after the refused detach" vmtest
vl_out "$VL_CASEDIR/attach-pending.out" attach vmtest gpuaudio
rc=$?
expect_rc "attach while the detach is pending exits 1" 1 $rc "$VL_CASEDIR/attach-pending.out"
check "it says the detach is pending" grep -q "still pending" "$VL_CASEDIR/attach-pending.out"
vl_out "$VL_CASEDIR/detach-bad.out" detach vmtest nosuch
rc=$?
check "detach of an unknown device exits 1 with a clear line (rc=$rc)" sh -c "test $rc = 1 && grep -q '\"nosuch\" is no hostdev of VM \"vmtest\"' '$VL_CASEDIR/detach-bad.out'"
# The guest's pciehp answers at last: QEMU unplugs the slot, and the
# running launcher finishes the pending detach by itself.
pciehp_poweroff vmtest
if wait_for 15 at_home; then
        pass "native: the slot powered off late: the launcher gave both back"
else
        fail "native: devices not given back after the slot power-off: $(state)"
fi
check "native: the launcher logged the late completion" wait_for 5 grep -q "a pending detach completed: ok:" "$VL_CASEDIR/vmtest.out"
detached_ok "native, after the power-off" vmtest
vl_out "$VL_CASEDIR/attach-native.out" attach vmtest gpu
rc=$?
expect_rc "native: attach exits 0" 0 $rc "$VL_CASEDIR/attach-native.out"
pciehp_poweron vmtest
expect_on_vfio "native: after attach" $DEVS
expect_l2_hosts "$(qmp_sock vmtest)" $DEVS
check "native: nested QEMU holds /dev/vfio/$(group_of "$DEV0") again" l2_holds "$(l2_pids)" "$(group_of "$DEV0")"
if qmp_or_fail vmtest quit quit; then expect_exit "QMP quit" 30 0; else vm_abort vmtest; fi
expect_home "after quit"
expect_no_journal vmtest

# ---- 2. ACPI hot-plug: detach, attach -------------------------------------
VMNAME=vmhp
vm_up vmhp vmhp || { vm_abort vmhp; exit 1; }
expect_running vmhp $DEVS
check "the nested QEMU runs with ACPI PCI hot-plug" \
        grep -q "acpi-pci-hotplug-with-bridge-support,value=on" "/proc/$(l2_pids)/cmdline"
t=$(now)
vl_out "$VL_CASEDIR/detach.out" detach vmhp gpuaudio &
dpid=$!
hp_eject vmhp
wait $dpid
rc=$?
expect_rc "detach gpuaudio exits 0 once the guest ejects, in $(since "$t")s" 0 $rc "$VL_CASEDIR/detach.out"
check "detach names both functions" grep -q "gpu (0000:01:00.0), gpuaudio (0000:01:00.1) left the guest and are back on the host (e1000e, snd_hda_intel)" "$VL_CASEDIR/detach.out"
detached_ok "after detach" vmhp
check "the launcher logged it" grep -q "vmhp: detach 10000 gpuaudio: ok:" "$VL_CASEDIR/vmhp.out"
vl_out "$VL_CASEDIR/detach-again.out" detach vmhp gpu
rc=$?
check "detach of a detached device exits 1 (rc=$rc)" sh -c "test $rc = 1 && grep -q 'gpu is not attached' '$VL_CASEDIR/detach-again.out'"

t=$(now)
vl_out "$VL_CASEDIR/attach.out" attach vmhp 0000:01:00.0
rc=$?
expect_rc "attach by host address exits 0, in $(since "$t")s" 0 $rc "$VL_CASEDIR/attach.out"
expect_on_vfio "after attach" $DEVS
check "status lists gpu as attached again" sh -c 'case "$1" in *"\"id\":\"gpu\",\"host\":\"0000:01:00.0\",\"hotplug\":\"attached\""*) exit 0 ;; esac; exit 1' sh "$(vl_status vmhp)"
expect_l2_hosts "$(qmp_sock vmhp)" $DEVS
check "nested QEMU holds /dev/vfio/$(group_of "$DEV0") again" l2_holds "$(l2_pids)" "$(group_of "$DEV0")"
_bus=$(qmp "$(qmp_sock vmhp)" '{"execute":"qom-get","arguments":{"path":"/machine/peripheral/gpuaudio","property":"parent_bus"}}' | sed -n 's/.*"return": "\([^"]*\)".*/\1/p')
check "gpuaudio is back behind root port pci.1 ($_bus)" sh -c 'case "$1" in */pci.1/pci.1) exit 0 ;; esac; exit 1' sh "$_bus"
vl_out "$VL_CASEDIR/attach-again.out" attach vmhp gpu
rc=$?
check "attach of an attached device exits 1 (rc=$rc)" sh -c "test $rc = 1 && grep -q 'attached to the VM already' '$VL_CASEDIR/attach-again.out'"

# ---- 3. the guest answers after the timeout ---------------------------------
vl_out "$VL_CASEDIR/detach-late.out" detach --timeout 2 vmhp gpu
rc=$?
expect_rc "detach with a 2 s timeout and no answer exits 1" 1 $rc "$VL_CASEDIR/detach-late.out"
expect_on_vfio "while the detach is pending" $DEVS
hp_eject vmhp
if wait_for 15 at_home; then
        pass "late eject: the running launcher gave both back by itself"
else
        fail "late eject: devices not given back: $(state)"
fi
check "the launcher logged the late completion" wait_for 5 grep -q "a pending detach completed: ok:" "$VL_CASEDIR/vmhp.out"
detached_ok "after the late eject" vmhp
vl_out "$VL_CASEDIR/attach2.out" attach vmhp gpu
rc=$?
expect_rc "attach after the late detach exits 0" 0 $rc "$VL_CASEDIR/attach2.out"
expect_on_vfio "after the second attach" $DEVS

if qmp_or_fail vmhp quit quit; then expect_exit "QMP quit" 30 0; else vm_abort vmhp; fi
expect_home "after quit"
expect_no_journal vmhp

# ---- 4. a crash after a detach and an attach ----------------------------------
# The detach gave every device back, so the journal went with them; the
# attach wrote a new one (with QEMU's pid). kill -9 of the launcher: QEMU
# dies with it and `recover` must find that new journal.
vm_up vmhp vmhp || { vm_abort vmhp; exit 1; }
vl_out "$VL_CASEDIR/detach4.out" detach vmhp gpu &
dpid=$!
hp_eject vmhp
wait $dpid
check "detach before the crash exits 0" test $? = 0
check "no journal left once every device is back" test ! -e "$(journal vmhp)"
hda_settle
vl_out "$VL_CASEDIR/attach4.out" attach vmhp gpu
check "attach before the crash exits 0" test $? = 0
check "attach wrote a journal with QEMU's pid" grep -q "\"qemu_pid\": *$(l2_pids)" "$(journal vmhp)"
qpid=$(l2_pids)
kill -9 "$VLPID"
wait "$VLPID" 2>/dev/null
if wait_for 15 gone "$qpid"; then pass "nested QEMU died with its launcher"; else fail "nested QEMU survived"; kill -9 $(l2_pids); wait_for 10 no_l2; fi
vl_out "$VL_CASEDIR/recover4.out" recover vmhp
check "recover after the crash exits 0" test $? = 0
expect_home "after recover"
expect_no_journal vmhp
