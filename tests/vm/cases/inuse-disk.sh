# SPDX-License-Identifier: LGPL-2.1-or-later
# vm-needs: disks
# inuse-disk: L1's own disks. run.sh gives this boot a virtio-blk disk
# (00:06.0) and an NVMe controller of a multipath-capable subsystem
# (00:07.0, its namespace a native multipath disk under nvme-subsystem),
# each alone in its IOMMU group. `vfio-launch print` of a profile passing
# the disk through refuses, naming what holds it, while
#  - vda1 (ext2) is mounted: "00:06.0 holds the mounted filesystem
#    /run/vl-vda1 (/dev/vda1): refused (allow_in_use overrides)",
#  - vda2 is active swap: "… holds the active swap /dev/vda2 …",
#  - nvme0n1 (ext2, whole disk) is mounted: "00:07.0 holds the mounted
#    filesystem /run/vl-nvme (/dev/nvme0n1) …",
# and plans it once unmounted / swapped off. And the launcher's own root:
# the virtio-9p device L1 mounted L0's / from is refused as "holds the
# mounted filesystem / (9p hostroot)" (and its other mounts, if any). Plans only: 0 bind cycles.
need_vl
[ "$VL_DISKS" = 1 ] || { fail "no disks in this boot (run.sh adds them to a boot with a '# vm-needs: disks' case)"; exit 1; }
VD=0000:00:06.0
NV=0000:00:07.0
for m in virtio_blk nvme crc32c_generic ext4; do modprobe $m || fail "modprobe $m"; done
wait_for 10 test -b /dev/vda && wait_for 10 test -b /dev/nvme0n1 || { fail "no /dev/vda or /dev/nvme0n1"; exit 1; }
for d in $VD $NV; do
        g=$(group_of $d)
        check "$d alone in IOMMU group $g ($(ls /sys/kernel/iommu_groups/$g/devices | tr '\n' ' '))" \
                test "$(ls /sys/kernel/iommu_groups/$g/devices)" = "$d"
done
note "vda on $(drv $VD), /sys/class/block/nvme0n1 -> $(readlink -f /sys/class/block/nvme0n1)"

# A profile passing ADDR through, in the case folder (the chroot sees L1's /tmp).
mkprofile() {
        cat > "$VL_CASEDIR/$1.json" <<EOF
{
  "name": "$1", "machine": "q35", "accel": "tcg", "memory": "64M",
  "firmware": { "type": "bios" }, "cpu": { "model": "max" },
  "hostdevs": [ { "host": "$2", "guest": { "bus": 1, "slot": 0, "function": 0 }, "rombar": false, "id": "disk" } ],
  "sound": { "model": "none" }, "display": { "type": "none" }, "balloon": false,
  "shutdown_timeout": 5, "user": "nobody"
}
EOF
}
# plan NAME ADDR WANT: print's plan of profile NAME is WANT ("refused: MESSAGE"
# for that exact refusal, or "planned"), and print touched nothing.
plan() {
        _o=$VL_CASEDIR/print-$1-$(echo "$3" | cut -c1-40 | tr -c 'a-z0-9\n' '-').out
        _before=$(touches $2)
        vl_out "$_o" print "$VL_CASEDIR/$1.json"
        _rc=$?
        case $3 in
        refused-starting:*)
                # other mounts of the same export may follow (a build dir under
                # L0's /tmp is bound into the chroot again)
                _want="# devices: a run would refuse: ${3#refused-starting: }"
                _m=$(grep -m1 '^# devices' "$_o")
                check "print $1: \"${_m#*refuse: }\" (rc=$_rc)" sh -c 'case "$1" in "$2"*": refused (allow_in_use overrides)") exit 0 ;; esac; exit 1' \
                        sh "$_m" "$_want"
                ;;
        refused:*)
                _want="# devices: a run would refuse: ${3#refused: }"
                check "print $1: \"${3#refused: }\" (rc=$_rc)" grep -qxF "$_want" "$_o" ||
                        note "print said: $(grep -m1 '# devices' "$_o")"
                ;;
        planned)
                check "print $1: planned ($(grep -m1 "  $2 " "$_o" | tr -s ' '))" \
                        sh -c "! grep -q 'would refuse' '$_o' && grep -q '  $2 .* -> vfio-pci' '$_o' && grep -q 'vfio-pci,host=$2' '$_o'"
                ;;
        esac
        check "print $1 touched no binding of $2" test "$(touches $2)" = "$_before"
}
mkprofile vmdisk $VD
mkprofile vmnvme $NV

# vda: two partitions, ext2 on vda1, swap on vda2.
printf 'o\nn\np\n1\n\n+24M\nn\np\n2\n\n\nw\n' | fdisk /dev/vda > "$VL_CASEDIR/fdisk.out" 2>&1
wait_for 5 test -b /dev/vda2 || fail "fdisk: no /dev/vda2 ($(tail -n 3 "$VL_CASEDIR/fdisk.out" | tr '\n' ' '))"
mke2fs -q /dev/vda1 > "$VL_CASEDIR/mke2fs.out" 2>&1 || fail "mke2fs /dev/vda1"
mke2fs -q /dev/nvme0n1 >> "$VL_CASEDIR/mke2fs.out" 2>&1 || fail "mke2fs /dev/nvme0n1"
mkswap /dev/vda2 > /dev/null 2>&1 || fail "mkswap /dev/vda2"
plan vmdisk $VD planned

# Mounted where the launcher (chrooted into $VL_ROOT) sees it: its /run.
mkdir -p "$VL_ROOT/run/vl-vda1" "$VL_ROOT/run/vl-nvme"
cleanup() {
        swapoff /dev/vda2 2>/dev/null
        umount "$VL_ROOT/run/vl-vda1" 2>/dev/null
        umount "$VL_ROOT/run/vl-nvme" 2>/dev/null
}
trap cleanup EXIT
mount -t ext2 /dev/vda1 "$VL_ROOT/run/vl-vda1" || fail "mount /dev/vda1"
plan vmdisk $VD "refused: $VD holds the mounted filesystem /run/vl-vda1 (/dev/vda1): refused (allow_in_use overrides)"
umount "$VL_ROOT/run/vl-vda1"
plan vmdisk $VD planned

swapon /dev/vda2 || fail "swapon /dev/vda2"
plan vmdisk $VD "refused: $VD holds the active swap /dev/vda2: refused (allow_in_use overrides)"
swapoff /dev/vda2
plan vmdisk $VD planned

mount -t ext2 /dev/nvme0n1 "$VL_ROOT/run/vl-nvme" || fail "mount /dev/nvme0n1"
plan vmnvme $NV "refused: $NV holds the mounted filesystem /run/vl-nvme (/dev/nvme0n1): refused (allow_in_use overrides)"
umount "$VL_ROOT/run/vl-nvme"
plan vmnvme $NV planned

# The device L1's 9p mount of L0's / comes from: the launcher's own root.
P9=
for v in /sys/bus/virtio/devices/*; do
        [ "$(cat "$v/mount_tag" 2>/dev/null)" = hostroot ] && P9=$(basename "$(dirname "$(readlink -f "$v")")")
done
check "the 9p device of hostroot is a PCI device (${P9:-none})" test -e "$SYSPCI/$P9/vendor" || exit 1
mkprofile vm9p "$P9"
plan vm9p "$P9" "refused-starting: $P9 holds the mounted filesystem / (9p hostroot)"
