# SPDX-License-Identifier: LGPL-2.1-or-later
# vm-needs: display
# handover: passthrough of L1's only GPU — a bochs-display at 00:08.0 on
# bochs-drm, fbcon drawing the consoles on its framebuffer — with
# "host_handover" (profile vmgpu). `print` shows the plan and changes
# nothing; a run unbinds fbcon's console, unloads bochs (the adapter loses
# its driver with it), moves the adapter to vfio-pci and gives it to the
# nested QEMU; after a QMP quit bochs is loaded again, the adapter is back on
# bochs-drm and fbcon's console is bound. Then the same with kill -9 of the
# launcher and `vfio-launch recover vmgpu`. The unit step is not exercised
# here (L1 runs no systemd): unit/test_units drives it against a D-Bus
# stand-in. No HDA binds.
need_vl
VMNAME=vmgpu
check "at start: L1 draws its consoles on the adapter: $(gpu_state)" gpu_home || exit 1

out=$VL_CASEDIR/print.out
vl_out "$out" print "$(profile vmgpu)"
check "print: exits 0" test $? = 0
check "print shows the hand-over plan" sh -c "grep -q '#   unbind fbcon from vtcon[0-9]* ((M) frame buffer device)' '$out' &&
        grep -q '#   unload module bochs (loaded)' '$out'"
check "print changed nothing: $(gpu_state)" gpu_home

for how in quit "recover vmgpu"; do
        vl_start vmgpu "$(profile vmgpu)"
        vl_wait_ready vmgpu || { vm_abort vmgpu; wait_for 15 gpu_home; continue; }
        note "while vmgpu runs ($how): $(gpu_state)"
        check "fbcon unbound, bochs unloaded, the adapter on vfio-pci" \
                sh -c "! [ -e /sys/module/bochs ] && [ \"\$(basename \"\$(readlink /sys/bus/pci/devices/$GPU/driver)\")\" = vfio-pci ]"
        if fbcon_on_gpu; then fail "fbcon still bound while the VM runs"; else pass "no console of fbcon's bound"; fi
        check "journal records the hand-over (vtcon, module)" \
                sh -c "grep -q '\"kind\": \"vtcon\"' '$(journal vmgpu)' && grep -q '\"kind\": \"module\"' '$(journal vmgpu)'"
        expect_l2_hosts "$(qmp_sock vmgpu)" "$GPU"
        check "the launcher said what it takes" grep -q "host hand-over: unload module bochs" "$VL_CASEDIR/vmgpu.out"
        if [ "$how" = quit ]; then
                if qmp_or_fail vmgpu quit quit; then expect_exit "QMP quit" 30 0; else vm_abort vmgpu; fi
        else
                qpid=$(l2_pids)
                kill -9 "$VLPID"
                wait "$VLPID" 2>/dev/null
                wait_for 15 gone "$qpid" || { fail "nested QEMU survived its launcher"; kill -9 $(l2_pids); }
                check "journal kept for recover" test -f "$(journal vmgpu)"
                vl_out "$VL_CASEDIR/recover.out" recover vmgpu
                check "vfio-launch recover vmgpu exits 0 (rc=$?)" test $? = 0
        fi
        if wait_for 15 gpu_home; then
                pass "after $how: bochs loaded, the adapter on bochs-drm, fbcon bound: $(gpu_state)"
        else
                fail "after $how: the host's display not back: $(gpu_state)"
        fi
        expect_no_journal vmgpu
done
