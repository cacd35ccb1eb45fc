# SPDX-License-Identifier: LGPL-2.1-or-later
# hugepages: guest RAM on hugetlbfs, "reserve": true, with the GPU
# pair passed through (VFIO pins the hugepage-backed RAM). L1 boots with an
# empty 2M pool; the case mounts hugetlbfs where the chroot sees
# /dev/hugepages (the profile's default path) and unmounts it at the end.
# Run 1: the launcher adds the missing pages (64 MiB = 32 pages) to the
# pool, QEMU maps its RAM from a file in /dev/hugepages/vfio-launch-vmhuge
# (a folder of nobody's, 0700) and takes every page at start (prealloc:
# free_hugepages drops by 32; /proc/QEMU/smaps shows a 64 MiB mapping of
# 2048 kB pages of that file; QMP query-memdev shows pc.ram with prealloc);
# QMP quit: exit 0, the pool back to what it was, folder and journal gone.
# Run 2: kill -9 of the launcher: QEMU dies with it; the pages and the
# folder stay, recorded in the journal; `vfio-launch recover vmhuge` gives
# them back. 2 bind cycles.
need_vl
VMNAME=vmhuge
POOL=/sys/kernel/mm/hugepages/hugepages-2048kB
HUGE=$VL_ROOT/dev/hugepages # the chroot's /dev/hugepages as L1 sees it
VMDIR=$HUGE/vfio-launch-vmhuge
NEED=32                     # 64 MiB of 2M pages

pool() { echo "nr=$(cat $POOL/nr_hugepages) free=$(cat $POOL/free_hugepages) resv=$(cat $POOL/resv_hugepages)"; }
nr() { cat $POOL/nr_hugepages; }
fr() { cat $POOL/free_hugepages; }
# hugemap PID: QEMU maps a 64 MiB file of the VM's folder with 2M pages
hugemap() {
        awk '/vfio-launch-vmhuge\/qemu_back_mem/ { m = 1; print "  smaps: " $0; next }
             m && /^Size:/ { size = $2 }
             m && /^KernelPageSize:/ { print "  smaps: " $0; if (size == 65536 && $2 == 2048) ok = 1; m = 0 }
             END { exit !ok }' "/proc/$1/smaps"
}
done_mount() { umount "$HUGE" 2>/dev/null; }
give_up() { vm_abort vmhuge; done_mount; exit 1; }
# back_home WHEN: the pool as before the run, the VM's folder and journal gone
back_home() {
        check "$1: nr_hugepages back to $nr0 ($(pool))" test "$(nr)" = "$nr0"
        check "$1: free_hugepages back to $fr0" test "$(fr)" = "$fr0"
        check "$1: the VM's folder removed" test ! -e "$VMDIR"
        expect_no_journal vmhuge
}

[ -d $POOL ] || { fail "this kernel has no 2M hugepages ($POOL)"; exit 1; }
mkdir -p "$HUGE"
mount -t hugetlbfs -o pagesize=2M hugetlbfs "$HUGE" || { fail "mount -t hugetlbfs on $HUGE"; exit 1; }
nr0=$(nr) fr0=$(fr)
avail=$(( fr0 - $(cat $POOL/resv_hugepages) ))
add=$(( NEED > avail ? NEED - avail : 0 ))
note "2M pool before: $(pool); the run must add $add"

# ---- run 1: reserve, run, QMP quit
vm_up vmhuge vmhuge || give_up
check "the launcher said it added $add pages" grep -q "vmhuge: added $add 2M hugepages to the pool" "$VL_CASEDIR/vmhuge.out"
check "nr_hugepages rose by $add while vmhuge runs ($(pool))" test "$(nr)" = $((nr0 + add))
check "QEMU took its $NEED pages: free_hugepages $(fr) = $fr0 + $add - $NEED" test "$(fr)" = $((fr0 + add - NEED))
qpid=$(l2_pids)
check "QEMU's RAM: a 64 MiB mapping of 2048 kB pages in the VM's folder (smaps of pid $qpid)" hugemap "$qpid"
check "the VM's folder is nobody's, mode 700 ($(stat -c '%u %a' "$VMDIR" 2>&1))" \
        test "$(stat -c '%u %a' "$VMDIR" 2>/dev/null)" = "65534 700"
check "the journal records the pages (a hugepages entry of 2048 kB pages, $add added)" \
        sh -c 'grep -q "\"kind\": \"hugepages\"" "$1" && grep -q "\"page_kib\": 2048," "$1" &&
               grep -q "\"added\": $2," "$1"' - "$(journal vmhuge)" "$add"
qmp "$(qmp_sock vmhuge)" query-memdev > "$VL_CASEDIR/memdev.log" 2>&1
check "QMP query-memdev: pc.ram, prealloc ($(tr -d '\n' < "$VL_CASEDIR/memdev.log" | cut -c1-160))" \
        sh -c 'grep -q "\"id\": \"pc.ram\"" "$1" && grep -q "\"prealloc\": true" "$1"' sh "$VL_CASEDIR/memdev.log"
expect_running vmhuge $DEVS
if qmp_or_fail vmhuge quit quit; then expect_exit "QMP quit" 30 0; else vm_abort vmhuge; fi
expect_home "after QMP quit"
back_home "after QMP quit"

# ---- run 2: kill -9 of the launcher, then recover
vm_up vmhuge vmhuge || give_up
check "run 2: nr_hugepages rose by $add ($(pool))" test "$(nr)" = $((nr0 + add))
qpid=$(l2_pids)
kill -9 "$VLPID"
wait "$VLPID" 2>/dev/null
if wait_for 15 gone "$qpid"; then
        pass "nested QEMU (pid $qpid) died with the launcher"
else
        fail "nested QEMU (pid $qpid) survived kill -9 of its launcher"
        kill -9 $(l2_pids)
        wait_for 10 no_l2
fi
check "journal kept for recover" test -f "$(journal vmhuge)"
check "the added pages stay until recover ($(pool))" test "$(nr)" = $((nr0 + add))
check "the VM's folder stays until recover" test -d "$VMDIR"
vl_out "$VL_CASEDIR/recover.out" recover vmhuge
rc=$?
check "vfio-launch recover vmhuge exits 0 (rc=$rc)" test $rc = 0
expect_home "after vfio-launch recover"
back_home "after vfio-launch recover"
done_mount
