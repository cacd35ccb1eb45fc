# SPDX-License-Identifier: LGPL-2.1-or-later
# run-quit: `vfio-launch PROFILE` binds the whole group, the
# nested QEMU shows both functions (QOM host=), and after a QMP `quit` both
# are back on e1000e / snd_hda_intel and /dev/vfio/GROUP is gone. 1 cycle.
need_vl
VMNAME=vmtest
vm_up vmtest vmtest || { vm_abort vmtest; exit 1; }
expect_running vmtest $DEVS
if qmp_or_fail vmtest quit quit; then expect_exit "QMP quit" 30 0; else vm_abort vmtest; fi
expect_home "after QMP quit"
expect_no_journal vmtest
