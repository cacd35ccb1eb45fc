# SPDX-License-Identifier: LGPL-2.1-or-later
# bind-unbind: `vfio-launch bind PROFILE` moves both functions of
# the group to vfio-pci; `vfio-launch unbind PROFILE` gives them back to the
# drivers they had. 1 bind cycle.
need_vl
P=$(profile vmtest)
G=$(group_of "$DEV0")
vl_out "$VL_CASEDIR/bind.out" bind "$P"
rc=$?
check "vfio-launch bind exits 0 (rc=$rc)" test $rc = 0
expect_on_vfio "after vfio-launch bind" $DEVS
[ -e "/dev/vfio/$G" ] && note "/dev/vfio/$G owner $(stat -c 'uid %u gid %g mode %a' "/dev/vfio/$G")"
check "record of the original drivers kept between bind and unbind" test -f "$(bound_journal vmtest)"
vl_out "$VL_CASEDIR/unbind.out" unbind "$P"
rc=$?
check "vfio-launch unbind exits 0 (rc=$rc)" test $rc = 0
expect_home "after vfio-launch unbind"
for b in $DEVS; do
        check "driver_override of $b cleared" test -z "$(cat "$SYSPCI/$b/driver_override" | sed 's/(null)//')"
done
check "record removed by unbind" test ! -e "$(bound_journal vmtest)"
