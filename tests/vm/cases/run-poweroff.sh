# SPDX-License-Identifier: LGPL-2.1-or-later
# run-poweroff: the guest powers off (an ACPI S5 request, see
# qmp_guest_poweroff in lib.sh; QEMU reports SHUTDOWN guest-shutdown); the
# launcher ends and both functions are back. 1 bind cycle.
need_vl
VMNAME=vmtest
vm_up vmtest vmtest || { vm_abort vmtest; exit 1; }
expect_on_vfio "while vmtest runs" $DEVS
qmp_guest_poweroff "$(qmp_sock vmtest)" > "$VL_CASEDIR/qmp-poweroff.log" 2>&1
if check "QEMU saw a guest shutdown (QMP on $(qmp_sock vmtest | sed "s|^$VL_ROOT||"))" \
        grep -q '"reason": "guest-shutdown"' "$VL_CASEDIR/qmp-poweroff.log"; then
        expect_exit "guest poweroff" 30 0
else
        vm_abort vmtest
fi
expect_home "after guest poweroff"
expect_no_journal vmtest
