# SPDX-License-Identifier: LGPL-2.1-or-later
# stop: `vfio-launch stop NAME` ends the run. SeaBIOS ignores the ACPI
# button, so the launcher walks its ladder: system_powerdown, shutdown_timeout
# (5 s in the profile), quit; it exits 5 ("stopped by force after the guest did
# not power off") and both functions are back. 1 bind cycle.
need_vl
VMNAME=vmtest
vm_up vmtest vmtest || { vm_abort vmtest; exit 1; }
t=$(now)
vl_out "$VL_CASEDIR/stop.out" stop vmtest
rc=$?
check "vfio-launch stop vmtest exits 0 (rc=$rc, $(since "$t")s)" test $rc = 0
expect_exit "vfio-launch stop" 60 5
expect_home "after vfio-launch stop"
expect_no_journal vmtest
