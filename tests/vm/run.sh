#!/bin/bash
# shellcheck disable=SC2054  # commas belong to QEMU option strings
# SPDX-License-Identifier: LGPL-2.1-or-later
# Boot the emulated host (L1) once and run the named cases inside it.
#
# usage: run.sh [-b BUILD_DIR] [-t TIMEOUT] VARIANT CASE...
#   VARIANT  intel       intel-iommu,intremap=on + kernel-irqchip=split
#            intel-noir  intel-iommu,intremap=off (VFIO refuses the container)
#            amd         amd-iommu,intremap=on + kernel-irqchip=split
#            amd-noir    amd-iommu,intremap=off
#            rootbus     as intel, but both functions on pcie.0 (00:05.0/.1,
#                        one IOMMU group each) instead of behind a root port
#                        (01:00.0/.1, one shared group)
#   CASE     a script in cases/ (without .sh), run in order
#   -b       the project's build dir (default $VL_BUILD_DIR); the cases run
#            BUILD/launcher/vfio-launch inside L1 through the 9p chroot
#   -t       outer timeout in seconds (default 60 + 120 per case)
# env: VL_VM_CACHE (default /var/tmp/vfio-launch-vm), VL_VM_CASE_TIMEOUT
#      (per case inside L1, default 120), VL_VM_APPEND (extra kernel args),
# A case whose file has the line "# vm-needs: disks" gets two disks in L1,
# each alone in its IOMMU group: virtio-blk at 00:06.0 and an NVMe
# controller of a multipath-capable subsystem at 00:07.0 (sparse files,
# removed after the boot).
# A case whose file has the line "# vm-needs: display" gets L1's only GPU: a
# bochs-display at 00:08.0, alone in its IOMMU group, which L1 drives with
# bochs-drm and fbcon; and the Debian kernel's module tree (indexed here
# with depmod) laid over the chroot's /usr/lib, so that the launcher's
# libkmod and modprobe find L1's modules.
# A case whose file has the line "# vm-needs: usb" gets a USB keyboard in
# L1: QEMU's usb-kbd (0627:0001) on a qemu-xhci at 00:09.0, L1's bus 1
# port 1.
#
# Output: PASS/FAIL/NOTE/CASE lines as they come; the full serial log is kept
# in $VL_VM_CACHE/logs/. Exit 0 only if L1 printed its final marker VL-DONE
# with fail=0, every case ran, and L1 powered off by itself.
set -u
here=$(cd "$(dirname "$0")" && pwd)
CACHE=${VL_VM_CACHE:-/var/tmp/vfio-launch-vm}
export VL_VM_CACHE=$CACHE
BUILD=${VL_BUILD_DIR:-}
TIMEOUT=

usage() { sed -n '3,22p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
while getopts b:t:h opt; do
        case $opt in
        b) BUILD=$OPTARG ;;
        t) TIMEOUT=$OPTARG ;;
        *) usage ;;
        esac
done
shift $((OPTIND - 1))
[ $# -ge 2 ] || usage
VARIANT=$1
shift
CASES=("$@")

for c in "${CASES[@]}"; do
        [ -f "$here/cases/$c.sh" ] || { echo "run.sh: no case '$c' in $here/cases" >&2; exit 2; }
done
if [ -n "$BUILD" ]; then
        BUILD=$(cd "$BUILD" && pwd) || exit 2
fi
case "$BUILD$here" in *[[:space:]]*) echo "run.sh: paths with spaces cannot go on the kernel command line" >&2; exit 2 ;; esac
TIMEOUT=${TIMEOUT:-$((60 + 120 * ${#CASES[@]}))}

MACHINE=q35,kernel-irqchip=split
TOPO=rootport
case $VARIANT in
intel) IOMMU="intel-iommu,intremap=on" KARGS="intel_iommu=on iommu=pt" ;;
intel-noir) IOMMU="intel-iommu,intremap=off" KARGS="intel_iommu=on iommu=pt" MACHINE=q35 ;;
amd) IOMMU="amd-iommu,intremap=on" KARGS="iommu=pt" ;; # AMD-Vi is on by default ("amd_iommu=on" is not an option)
amd-noir) IOMMU="amd-iommu,intremap=off" KARGS="iommu=pt" MACHINE=q35 ;;
rootbus) IOMMU="intel-iommu,intremap=on" KARGS="intel_iommu=on iommu=pt" TOPO=rootbus ;;
*) echo "run.sh: unknown variant '$VARIANT'" >&2; usage ;;
esac
if [ $TOPO = rootport ]; then
        # x-speed=5: at QEMU 7.2's default link speed L1 waits 1 s for link-up
        # after every secondary-bus reset (each nested QEMU start and quit).
        DEVICES=(-device pcie-root-port,id=rp1,bus=pcie.0,chassis=1,slot=1,addr=0x4,x-speed=5
                -device e1000e,bus=rp1,addr=0x0.0,multifunction=on
                -device ich9-intel-hda,bus=rp1,addr=0x0.1)
else
        DEVICES=(-device e1000e,bus=pcie.0,addr=0x5.0,multifunction=on
                -device ich9-intel-hda,bus=pcie.0,addr=0x5.1)
fi

DISKDIR=
for c in "${CASES[@]}"; do
        grep -q '^# vm-needs: disks$' "$here/cases/$c.sh" || continue
        mkdir -p "$CACHE" && DISKDIR=$(mktemp -d "$CACHE/disks.XXXXXX") || exit 1
        trap 'rm -rf "$DISKDIR"' EXIT
        truncate -s 64M "$DISKDIR/vd.img" && truncate -s 32M "$DISKDIR/nv.img" || exit 1
        DEVICES+=(-drive "file=$DISKDIR/vd.img,if=none,id=vd0,format=raw"
                -device virtio-blk-pci,drive=vd0,bus=pcie.0,addr=0x6
                -drive "file=$DISKDIR/nv.img,if=none,id=nv0,format=raw"
                -device nvme-subsys,id=nvsub0,nqn=vfio-launch-vm
                -device nvme,id=nvme0,serial=vl0,subsys=nvsub0,bus=pcie.0,addr=0x7
                -device nvme-ns,drive=nv0,bus=nvme0,nsid=1)
        break
done
USB=
for c in "${CASES[@]}"; do
        grep -q '^# vm-needs: usb$' "$here/cases/$c.sh" || continue
        USB=1
        DEVICES+=(-device qemu-xhci,id=l1usb,bus=pcie.0,addr=0x8
                -device usb-kbd,bus=l1usb.0,port=1)
        break
done

DISPLAY_NEEDED=
for c in "${CASES[@]}"; do
        grep -q '^# vm-needs: display$' "$here/cases/$c.sh" || continue
        DISPLAY_NEEDED=1
        DEVICES+=(-device bochs-display,bus=pcie.0,addr=0x8)
        break
done

mkdir -p "$CACHE/logs"
# keep the newest 100 serial logs
ls -t "$CACHE"/logs/*.log 2>/dev/null | tail -n +100 | xargs -r rm -f
# Prepare under a lock: ctest may start several boots at once.
if ! flock "$CACHE/.lock" sh -c '"$1/fetch-kernel.sh" && "$1/build-initramfs.sh"' sh "$here" > "$CACHE/logs/prepare.log" 2>&1; then
        cat "$CACHE/logs/prepare.log"
        echo "run.sh: preparing the kernel/initramfs failed"
        exit 1
fi
KVER=$(cat "$CACHE/kernel/.complete")
if [ -n "$DISPLAY_NEEDED" ] && [ ! -f "$CACHE/kernel/lib/modules/$KVER/modules.dep.bin" ]; then
        # libkmod reads only the binary indexes (modules.dep.bin)
        depmod -b "$CACHE/kernel" "$KVER" || { echo "run.sh: depmod of $KVER failed"; exit 1; }
fi

caselist=$(IFS=,; echo "${CASES[*]}")
LOG=$CACHE/logs/$VARIANT-$(date +%Y%m%d-%H%M%S)-$$.log
APPEND="console=ttyS0 panic=-1 loglevel=4 $KARGS vl.variant=$VARIANT vl.topo=$TOPO"
APPEND+=" vl.src=$here vl.cases=$caselist vl.ctimeout=${VL_VM_CASE_TIMEOUT:-120}"
[ -n "$BUILD" ] && APPEND+=" vl.build=$BUILD"
[ -n "$DISKDIR" ] && APPEND+=" vl.disks=1"
[ -n "$DISPLAY_NEEDED" ] && APPEND+=" vl.display=1 vl.kmods=$CACHE/kernel/lib"
[ -n "$USB" ] && APPEND+=" vl.usb=1"
APPEND+=" ${VL_VM_APPEND:-}"

CMD=(timeout -k 5 "$TIMEOUT"
        qemu-system-x86_64 -M "$MACHINE" -accel tcg,thread=multi -cpu max -smp 2 -m 1G
        -nodefaults -no-user-config -display none -serial stdio -no-reboot
        -device "$IOMMU"
        "${DEVICES[@]}"
        -audiodev none,id=snd0 -device hda-duplex,audiodev=snd0
        -virtfs local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap
        -kernel "$CACHE/kernel/boot/vmlinuz-$KVER" -initrd "$CACHE/initramfs.cpio.gz"
        -append "$APPEND")
echo "vm: $VARIANT: ${CASES[*]} (log: $LOG)"
echo "HOST-CMD: ${CMD[*]}" > "$LOG"
t0=$EPOCHREALTIME
"${CMD[@]}" < /dev/null 2>&1 | sed -u 's/\r$//' | tee -a "$LOG" |
        grep -a --line-buffered -E '^(PASS|FAIL|NOTE|CASE-|VL-)|Kernel panic|BUG:|timed out'
rc=${PIPESTATUS[0]}
wall=$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }')
echo "HOST-QEMU-RC=$rc HOST-WALL=$wall" >> "$LOG"

done_line=$(grep -a '^VL-DONE:' "$LOG" | tail -1)
npass=$(grep -ac '^PASS: ' "$LOG")
nfail=$(grep -ac '^FAIL: ' "$LOG")
nended=$(grep -ac '^CASE-END: ' "$LOG")
why=
if [ -z "$done_line" ]; then
        why="no final marker VL-DONE (L1 crashed, hung or timed out: qemu rc=$rc)"
elif [ "$rc" != 0 ]; then
        why="L1 QEMU exited $rc"
elif [ "$nfail" != 0 ] || ! echo "$done_line" | grep -q ' fail=0 '; then
        why="$nfail FAIL line(s)"
elif [ "$nended" != ${#CASES[@]} ]; then
        why="$nended of ${#CASES[@]} cases ran"
elif [ "$npass" = 0 ]; then
        why="no PASS line"
fi
echo "vm: $VARIANT: $npass passed, $nfail failed in ${wall}s"
if [ -n "$why" ]; then
        echo "---- last 40 lines of $LOG"
        tail -n 40 "$LOG"
        echo "----"
        echo "vm: $VARIANT: FAIL: $why; full serial log: $LOG"
        exit 1
fi
echo "vm: $VARIANT: OK (log: $LOG)"
