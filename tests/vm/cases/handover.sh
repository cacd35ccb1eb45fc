# SPDX-License-Identifier: LGPL-2.1-or-later
# vm-needs: display
# handover: passthrough of L1's only GPU — a bochs-display at 00:08.0 on
# bochs-drm, fbcon drawing the consoles on its framebuffer — with
# "host_handover" (profile vmgpu). `print` shows the plan and changes
# nothing; a run stops display-manager.service, unbinds fbcon's console,
# unloads bochs (the adapter loses its driver with it), moves the adapter to
# vfio-pci and gives it to the nested QEMU; after a QMP quit bochs is loaded
# again, the adapter is back on bochs-drm, fbcon's console is bound and the
# unit started. Then the same with kill -9 of the launcher and `vfio-launch
# recover vmgpu`; and first, a hand-over that fails halfway (vmgpu-busy). L1 runs no systemd: the unit step goes to a STAND-IN, a
# private dbus-daemon on the chroot's system bus socket with
# systemd-standin (tests/unit/systemd_standin.c) owning
# org.freedesktop.systemd1 there; the launcher is the one a user runs,
# talking to "the system bus". No HDA binds.
need_vl
VMNAME=vmgpu
STANDIN=$VL_BUILD/tests/unit/systemd-standin
[ -x "$VL_ROOT$STANDIN" ] || { fail "not built: $STANDIN"; exit 1; }
mkdir -p "$VL_ROOT/run/dbus"
cat > /tmp/handover-bus.conf <<EOC
<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig><type>system</type><listen>unix:path=/run/dbus/system_bus_socket</listen><auth>EXTERNAL</auth>
<policy context="default"><allow send_destination="*"/><allow receive_sender="*"/><allow own="*"/></policy></busconfig>
EOC
chroot "$VL_ROOT" /usr/bin/dbus-daemon --nofork --nopidfile --config-file=/tmp/handover-bus.conf \
        > "$VL_CASEDIR/dbus-daemon.log" 2>&1 &
BUSPID=$!
wait_for 10 test -S "$VL_ROOT/run/dbus/system_bus_socket" || { fail "dbus-daemon did not start"; exit 1; }
chroot "$VL_ROOT" "$STANDIN" unix:path=/run/dbus/system_bus_socket display-manager.service=active \
        > "$VL_CASEDIR/standin.log" 2>&1 &
STANDINPID=$!
standin_done() { kill "$STANDINPID" "$BUSPID" 2>/dev/null; wait "$STANDINPID" "$BUSPID" 2>/dev/null; }
wait_for 10 grep -q '^ready$' "$VL_CASEDIR/standin.log" || { fail "systemd-standin did not start"; standin_done; exit 1; }
asked() { grep -c "^$1 display-manager.service replace\$" "$VL_CASEDIR/standin.log"; }

check "at start: L1 draws its consoles on the adapter: $(gpu_state)" gpu_home || { standin_done; exit 1; }

out=$VL_CASEDIR/print.out
vl_out "$out" print "$(profile vmgpu)"
check "print: exits 0" test $? = 0
check "print shows the hand-over plan" sh -c "grep -q '#   unbind fbcon from vtcon[0-9]* ((M) frame buffer device)' '$out' &&
        grep -q '#   unload module bochs (loaded)' '$out' &&
        grep -q '#   stop unit display-manager.service (active)' '$out'"
check "print changed nothing: $(gpu_state)" gpu_home

# A failure halfway, in the real kernel: profile vmgpubusy also unloads
# drm, which bochs's helpers still use (EAGAIN). The unit is stopped, fbcon
# unbound and bochs unloaded before that; the run refuses, and they come
# back in reverse — bochs loaded (it takes the adapter again), fbcon bound,
# the unit started — and nothing else: drm was never unloaded.
out=$VL_CASEDIR/busy.out
vl_out "$out" "$(profile vmgpu-busy)"
rc=$?
check "a run whose hand-over fails halfway exits 1 (rc=$rc)" test $rc = 1
check "it names the module in use" grep -q 'module "drm" is in use' "$out"
check "it stopped, then started display-manager.service" sh -c "[ $(asked StopUnit) = 1 ] && [ $(asked StartUnit) = 1 ]"
if wait_for 15 gpu_home; then
        pass "after the failed hand-over: bochs loaded, the adapter on bochs-drm, fbcon bound: $(gpu_state)"
else
        fail "after the failed hand-over: the host's display not back: $(gpu_state)"
fi
check "drm stayed loaded" test -e /sys/module/drm/initstate
check "journal of vmgpubusy removed" test ! -e "$(journal vmgpubusy)"

round=1
for how in quit "recover vmgpu"; do
        round=$((round + 1))
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
        check "display-manager.service stopped through systemd's API (the stand-in)" test "$(asked StopUnit)" = "$round"
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
        check "display-manager.service started again (the stand-in)" test "$(asked StartUnit)" = "$round"
        if wait_for 15 gpu_home; then
                pass "after $how: bochs loaded, the adapter on bochs-drm, fbcon bound: $(gpu_state)"
        else
                fail "after $how: the host's display not back: $(gpu_state)"
        fi
        expect_no_journal vmgpu
done
standin_done
