# SPDX-License-Identifier: LGPL-2.1-or-later
# doctor: in the emulated host `vfio-launch doctor PROFILE`
# reports the IOMMU and interrupt remapping on and the two-function group
# viable with both functions in the profile; `vfio-launch groups` lists
# 01:00.0 on e1000e and 01:00.1 on snd_hda_intel in one group. Both are
# read-only. 0 bind cycles.
need_vl
n=$(touches $DEVS)
out=$VL_CASEDIR/doctor.out
vl_out "$out" doctor "$(profile vmtest)"
rc=$?
note "doctor exit status $rc; failed checks: $(grep -c '^FAIL' "$out")"
check "doctor: IOMMU on: $(grep -m1 'IOMMU: ' "$out")" grep -qE '^ok +IOMMU: on' "$out"
check "doctor: interrupt remapping on" grep -qE '^ok +Interrupt remapping: on' "$out"
check "doctor: group viable: $(grep -m1 'groups viable' "$out")" \
        grep -qE "^ok +IOMMU groups viable: group $(group_of "$DEV0"): 2 devices, 2 to move" "$out"
for b in $DEVS; do
        check "doctor: hostdev $b found in group $(group_of "$b")" \
                grep -qE "^ok +Host device: $b .* group $(group_of "$b"): $DEV0 $ORIG0, $DEV1 $ORIG1" "$out"
done
vl_out "$VL_CASEDIR/doctor.json" doctor --json "$(profile vmtest)"
jrc=$?
check "doctor --json: same exit status ($jrc)" test $jrc = $rc
check "doctor --json: an iommu result that is ok" \
        sh -c "tr -d '\n ' < '$VL_CASEDIR/doctor.json' | grep -q '\"id\":\"iommu\",\"status\":\"ok\"'"

gout=$VL_CASEDIR/groups.out
vl_out "$gout" groups
grc=$?
check "groups exits 0 ($grc)" test $grc = 0
# the group header each function is listed under
g0=$(awk -v d="$DEV0" '/^IOMMU group/ { g = $3 } $1 == d { print g }' "$gout")
g1=$(awk -v d="$DEV1" '/^IOMMU group/ { g = $3 } $1 == d { print g }' "$gout")
check "groups: $DEV0 and $DEV1 in one group ($g0, $g1; sysfs: $(group_of "$DEV0"))" \
        sh -c "[ -n '$g0' ] && [ '$g0' = '$g1' ] && [ '$g0' = '$(group_of "$DEV0")' ]"
check "groups: $DEV0 on $ORIG0: $(grep -m1 "$DEV0" "$gout")" grep -qE "^  $DEV0 .*driver=$ORIG0\$" "$gout"
check "groups: $DEV1 on $ORIG1: $(grep -m1 "$DEV1" "$gout")" grep -qE "^  $DEV1 .*driver=$ORIG1\$" "$gout"
check "doctor and groups changed no binding ($(state))" test "$(touches $DEVS)" = "$n"
