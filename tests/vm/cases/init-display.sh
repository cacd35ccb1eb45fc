# SPDX-License-Identifier: LGPL-2.1-or-later
# vm-needs: display
# init-display: `vfio-launch init` where the host's only GPU is not VGA-class
# — L1's bochs-display at 00:08.0 (class 0x038000: no boot_vga), fbcon
# drawing the consoles on its framebuffer. init must see it as the host's
# own display from the console, as a run's in-use check does: refused
# without --single-gpu; with it, the profile gets allow_boot_vga and the
# hand-over this host needs (fbcon's consoles, the bochs module; no unit:
# L1's PID 1 is not systemd), and nothing changes while init reads. With the
# test's TCG settings the profile then runs: the adapter in the nested QEMU,
# the host's display back after a QMP quit. No HDA binds.
need_vl
VMNAME=vmdisp
check "at start: L1 draws its consoles on the adapter: $(gpu_state)" gpu_home || exit 1
err=$VL_CASEDIR/refused.err
vl init --memory 64M vmdisp > "$VL_CASEDIR/refused.json" 2> "$err"
rc=$?
check "init without --single-gpu: refused with exit 2 ($rc): $(cat "$err")" \
        sh -c "[ $rc = 2 ] && grep -q \"the only GPU, $GPU .*, is the display the host's console is on, the host's own display: --single-gpu passes it through anyway\" '$err'"

err=$VL_CASEDIR/init.err
vl init --single-gpu --memory 64M vmdisp > "$VL_CASEDIR/vmdisp.json" 2> "$err"
rc=$?
show "$err" "init's choices"
check "init --single-gpu exits 0 ($rc)" test $rc = 0
check "init changed nothing: $(gpu_state)" gpu_home
check "init took the adapter as the host's display" \
        grep -q "^vfio-launch: gpu: $GPU .*: the only GPU, the display the host's console is on, passed through as --single-gpu asked (allow_boot_vga)" "$err"
check "init: the hand-over unbinds fbcon's consoles and unloads bochs, and names no unit" \
        sh -c "grep -q '^vfio-launch: handover: unbind_vtconsoles' '$err' &&
               grep -q '^vfio-launch: handover: unload_modules bochs:' '$err' &&
               grep -q '^vfio-launch: note: PID 1 is not systemd' '$err'"
check "profile: allow_boot_vga and that host_handover" \
        sh -c "tr -d ' \n' < '$VL_CASEDIR/vmdisp.json' | grep -q '\"allow_boot_vga\":true,\"host_handover\":{\"unbind_vtconsoles\":true,\"unload_modules\":\\[\"bochs\"\\]}'"
vl_out "$VL_CASEDIR/check.out" check "$VL_CASEDIR/vmdisp.json"
rc=$?
check "vfio-launch check accepts it ($rc)" test $rc = 0

# The test's TCG settings (L1 has no KVM), nothing else changed.
tcg_profile "$VL_CASEDIR/vmdisp.json" "$VL_CASEDIR/vmrun.json"
check "the TCG settings applied ($?)" test -s "$VL_CASEDIR/vmrun.json"

vl_start vmdisp "$VL_CASEDIR/vmrun.json"
if vl_wait_ready vmdisp; then
        check "while vmdisp runs: fbcon unbound, bochs unloaded, the adapter on vfio-pci: $(gpu_state)" \
                sh -c "! [ -e /sys/module/bochs ] && [ \"\$(basename \"\$(readlink /sys/bus/pci/devices/$GPU/driver)\")\" = vfio-pci ]"
        if fbcon_on_gpu; then fail "fbcon still bound while the VM runs"; else pass "no console of fbcon's bound"; fi
        expect_l2_hosts "$(qmp_sock vmdisp)" "$GPU"
        if qmp_or_fail vmdisp quit quit; then expect_exit "QMP quit" 30 0; else vm_abort vmdisp; fi
else
        show "$VL_CASEDIR/vmdisp.out" "the launcher"
        vm_abort vmdisp
fi
if wait_for 15 gpu_home; then
        pass "after quit: bochs loaded, the adapter on bochs-drm, fbcon bound: $(gpu_state)"
else
        fail "after quit: the host's display not back: $(gpu_state)"
fi
expect_no_journal vmdisp
