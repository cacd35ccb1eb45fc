#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# Build the L1 initramfs: busybox-static, the module closure, qmpc (gcc
# -static), /init, the guest library, the runner and every case script.
# Rebuilt only when an input changed (a hash of all of them), so run.sh calls
# it before every boot.
#
# Needs: busybox-static, gcc + libc6-dev (static libc), gzip, a kernel from
# fetch-kernel.sh in the cache.
# env: VL_VM_CACHE  cache folder (default /var/tmp/vfio-launch-vm)
#      VL_VM_FORCE=1  rebuild even if nothing changed
set -eu
CACHE=${VL_VM_CACHE:-/var/tmp/vfio-launch-vm}
here=$(cd "$(dirname "$0")" && pwd)
[ -f "$CACHE/kernel/.complete" ] || { echo "build-initramfs: no kernel in $CACHE: run fetch-kernel.sh" >&2; exit 1; }
KVER=$(cat "$CACHE/kernel/.complete")
KMOD=$CACHE/kernel/lib/modules/$KVER
OUT=$CACHE/initramfs.cpio.gz
BUSYBOX=$(command -v busybox || true)
[ -n "$BUSYBOX" ] || { echo "build-initramfs: busybox not found (apt-get install busybox-static)" >&2; exit 1; }
if ldd "$BUSYBOX" >/dev/null 2>&1; then
        echo "build-initramfs: $BUSYBOX is dynamic: install busybox-static" >&2
        exit 1
fi

# Modules to load in L1; the closure comes from modules.dep.
MODS="e1000e snd-hda-intel vfio vfio_iommu_type1 vfio-pci virtio_pci 9pnet_virtio 9p
      tun macvtap dummy veth bridge vhost_net virtio_blk nvme ext4 crc32c_generic evdev uinput"

inputs() {
        echo "$KVER $MODS"
        cat "$BUSYBOX" "$0" "$here"/copy-modules.sh "$here"/guest/* "$here"/cases/*.sh
}
hash=$(inputs | sha256sum | cut -d' ' -f1)
if [ "${VL_VM_FORCE:-0}" != 1 ] && [ -f "$OUT" ] && [ "$(cat "$OUT.hash" 2>/dev/null)" = "$hash" ]; then
        echo "initramfs up to date: $OUT"
        exit 0
fi

ROOT=$(mktemp -d "$CACHE/initramfs-root.XXXXXX")
trap 'rm -rf "$ROOT"' EXIT
mkdir -p "$ROOT"/bin "$ROOT"/dev "$ROOT"/proc "$ROOT"/sys "$ROOT"/tmp "$ROOT"/run \
        "$ROOT"/mnt/host "$ROOT"/vl/cases "$ROOT/lib/modules/$KVER"
cp "$BUSYBOX" "$ROOT"/bin/busybox
ln -s busybox "$ROOT"/bin/sh
gcc -O2 -static -Wall -Wextra -o "$ROOT"/bin/qmpc "$here"/guest/qmpc.c

# shellcheck disable=SC2086 # MODS is a word list
"$here"/copy-modules.sh "$KMOD" "$KVER" "$ROOT" $MODS

cp "$here"/guest/init "$ROOT"/init
cp "$here"/guest/lib.sh "$here"/guest/runner.sh "$here"/guest/uevent "$ROOT"/vl/
cp "$here"/cases/*.sh "$ROOT"/vl/cases/
chmod +x "$ROOT"/init "$ROOT"/vl/uevent

(cd "$ROOT" && find . | busybox cpio -o -H newc 2>/dev/null | gzip -1 > "$OUT.tmp")
mv "$OUT.tmp" "$OUT"
echo "$hash" > "$OUT.hash"
echo "initramfs built: $OUT ($(du -k "$OUT" | cut -f1) KiB, $(find "$ROOT/lib/modules" -name '*.ko' | wc -l) modules)"
