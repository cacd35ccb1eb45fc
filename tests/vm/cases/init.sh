# SPDX-License-Identifier: LGPL-2.1-or-later
# init: `vfio-launch init` inside the emulated host, on its real sysfs and
# /proc. The "GPU" is an e1000e (class network, not display), so the case
# names it: --gpu 0000:01:00.0; init must take its HDA function, same slot
# and IOMMU group, as "same-slot", pin the one vCPU to CPU 1 (L1 has 2 CPUs:
# the first stays the host's, with QEMU's other threads), and change
# nothing while it reads (--memory 64M: half of L1's 1 GiB is not a whole
# GiB, which init refuses, saying so). The profile passes `check`; with the
# test's TCG adjustments (accel tcg, cpu model max, BIOS, no ROM BARs, QEMU
# as nobody, a short shutdown) it then runs: both functions in the nested
# QEMU, back on their drivers after a QMP quit. 1 bind cycle.
need_vl
VMNAME=vminit
n=$(touches $DEVS)
err=$VL_CASEDIR/init.err
vl init --gpu "$DEV0" vminit > "$VL_CASEDIR/half.json" 2> "$VL_CASEDIR/half.err"
rc=$?
check "init without --memory on a 1 GiB host: refused with exit 2 ($rc): $(cat "$VL_CASEDIR/half.err")" \
        sh -c "[ $rc = 2 ] && grep -q 'half of it is not a whole GiB; give --memory SIZE' '$VL_CASEDIR/half.err'"
vl init --gpu "$DEV0" --memory 64M vminit > "$VL_CASEDIR/vminit.json" 2> "$err"
rc=$?
show "$err" "init's choices"
check "init exits 0 ($rc)" test $rc = 0
check "init changed no binding ($(state))" test "$(touches $DEVS)" = "$n"
check "init took $DEV0 as --gpu asked, not a display controller" \
        grep -q "^vfio-launch: gpu: $DEV0 \[8086:10d3\].*as --gpu asked (class 0x020000: not a display controller)" "$err"
check "init took $DEV1 with it, in the same slot" \
        grep -q "^vfio-launch: gpu: with it $DEV1 .*function 1 of the same card in IOMMU group $(group_of "$DEV1")" "$err"
check "init named no other member of the group" sh -c "! grep -q 'shares IOMMU group' '$err'"
check "init: one vCPU on CPU 1, QEMU's threads on CPU 0" \
        sh -c "grep -q '1 vCPU = 1 core (no SMT), each vCPU pinned to one host core: 1;' '$err' &&
               grep -q 'emulator_pin 0)' '$err'"
check "profile: the audio function same-slot" \
        sh -c "tr -d ' \n' < '$VL_CASEDIR/vminit.json' | grep -q '\"host\":\"$DEV1\",\"vendor_device\":\"8086:293e\",\"id\":\"gpu-audio\",\"guest\":\"same-slot\"'"
vl_out "$VL_CASEDIR/check.out" check "$VL_CASEDIR/vminit.json"
rc=$?
check "vfio-launch check accepts it ($rc), without a warning" \
        sh -c "[ $rc = 0 ] && ! grep -q warning '$VL_CASEDIR/check.out'"

# The test's TCG settings (L1 has no KVM), nothing else changed.
tcg_profile "$VL_CASEDIR/vminit.json" "$VL_CASEDIR/vmrun.json"
check "the TCG settings applied ($?)" test -s "$VL_CASEDIR/vmrun.json"

vl_start vminit "$VL_CASEDIR/vmrun.json"
if vl_wait_ready vminit; then
        expect_running vminit $DEVS
        if qmp_or_fail vminit quit quit; then expect_exit "QMP quit" 30 0; else vm_abort vminit; fi
else
        show "$VL_CASEDIR/vminit.out" "the launcher"
        vm_abort vminit
fi
expect_home "after QMP quit"
expect_no_journal vminit
