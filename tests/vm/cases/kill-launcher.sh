# SPDX-License-Identifier: LGPL-2.1-or-later
# kill-launcher: kill -9 of vfio-launch itself. QEMU dies with its
# parent (PDEATHSIG), the devices stay on vfio-pci with the journal kept, and
# `vfio-launch recover NAME` (then, second round, plain `vfio-launch recover`)
# gives them back. 2 bind cycles.
need_vl
VMNAME=vmtest
for how in "recover vmtest" "recover"; do
        vm_up vmtest vmtest || { vm_abort vmtest; exit 1; }
        expect_on_vfio "while vmtest runs" $DEVS
        qpid=$(l2_pids)
        kill -9 "$VLPID"
        wait "$VLPID" 2>/dev/null
        # gone = reaped (kill -0 fails): pidof stops seeing a dying QEMU
        # before it has closed its VFIO fds, and unbinding then races the
        # device release ("Relaying device request to user")
        if wait_for 15 gone "$qpid"; then
                pass "nested QEMU (pid $qpid) died with the launcher"
        else
                fail "nested QEMU (pid $qpid) survived kill -9 of its launcher"
                kill -9 $(l2_pids)
                wait_for 10 no_l2
        fi
        check "journal kept for recover" test -f "$(journal vmtest)"
        note "before '$how': $(state)"
        out=$VL_CASEDIR/$(echo "$how" | tr ' ' -).out
        vl_out "$out" $how
        rc=$?
        check "vfio-launch $how exits 0 (rc=$rc)" test $rc = 0
        expect_home "after vfio-launch $how"
        expect_no_journal vmtest
done
