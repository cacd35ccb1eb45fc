# SPDX-License-Identifier: LGPL-2.1-or-later
# kill-qemu: kill -9 of the nested QEMU; the launcher notices,
# gives both functions back and exits 4 (QEMU crashed or was killed). 1 cycle.
need_vl
VMNAME=vmtest
vm_up vmtest vmtest || { vm_abort vmtest; exit 1; }
expect_on_vfio "while vmtest runs" $DEVS
qpid=$(l2_pids)
check "found the nested QEMU (pid $qpid)" test -n "$qpid"
kill -9 $qpid
expect_exit "kill -9 of QEMU" 30 4
expect_home "after kill -9 of QEMU"
expect_no_journal vmtest
