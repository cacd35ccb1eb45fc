# SPDX-License-Identifier: LGPL-2.1-or-later
# demo (README, first command): the whole passthrough flow told step by step
# in the emulated host: the GPU+audio pair on its host drivers, the plan,
# `vfio-launch PROFILE` moving both to vfio-pci, the nested VM showing them,
# the VM powered off from inside (ACPI, as a guest OS does), both functions
# back on e1000e and snd_hda_intel. Also a test: every step is checked. 1 cycle.
need_vl
VMNAME=vmtest
say() { echo "NOTE: demo: $*"; }
say "the emulated host: 01:00.0 plays the GPU, 01:00.1 its HDMI audio; IOMMU group $(group_of "$DEV0")"
say "before: $(state)"
say "\$ vfio-launch print $(profile vmtest)   (dry run: the device plan)"
vl print "$(profile vmtest)" 2>&1 | sed -n '/^# devices/,/^$/p' | while IFS= read -r l; do say "  $l"; done
say "\$ vfio-launch $(profile vmtest)"
vm_up vmtest vmtest || { vm_abort vmtest; exit 1; }
say "while the VM runs: $(state)"
expect_running vmtest $DEVS
_s=$(qmp_sock vmtest)
say "inside the VM (QMP qom-get of each vfio-pci device's host): $(qmp_hosts "$_s")"
say "the guest powers itself off (ACPI S5)..."
if qmp_guest_poweroff "$_s" > "$VL_CASEDIR/qmp-poweroff.log" 2>&1; then
        expect_exit "guest poweroff" 30 0
else
        fail "QMP guest poweroff: $(tail -n 2 "$VL_CASEDIR/qmp-poweroff.log" | tr '\n' ' ')"
        vm_abort vmtest
fi
sed 's/^/  /' "$VL_CASEDIR/vmtest.out" | while IFS= read -r l; do say "$l"; done
expect_home "after the guest powered off"
say "after: $(state)"
expect_no_journal vmtest
