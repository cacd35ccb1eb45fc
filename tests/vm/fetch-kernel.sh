#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# Fetch the Debian kernel the VM tests boot as L1: resolve the ABI package
# behind the linux-image-amd64 metapackage at run time (versions drift on the
# mirror), download it (not installed), extract it into the cache and generate
# modules.dep with busybox depmod (the package ships none).
#
# Idempotent: a complete cache ($VL_VM_CACHE/kernel/.complete) is reused.
# Prints the kernel version on the last line as KVER=...
#
# env: VL_VM_CACHE   cache folder (default /var/tmp/vfio-launch-vm)
#      VL_VM_KPKG    force a package name (e.g. linux-image-6.1.0-56-amd64)
set -eu
CACHE=${VL_VM_CACHE:-/var/tmp/vfio-launch-vm}
mkdir -p "$CACHE"
cd "$CACHE"

if [ -f kernel/.complete ]; then
        KVER=$(cat kernel/.complete)
        if [ -f "kernel/boot/vmlinuz-$KVER" ] && [ -f "kernel/lib/modules/$KVER/modules.dep" ]; then
                echo "kernel cached in $CACHE/kernel"
                echo "KVER=$KVER"
                exit 0
        fi
fi

resolve() {
        apt-cache depends linux-image-amd64 2>/dev/null |
                awk '/Depends: linux-image-[0-9]/ {print $2; exit}'
}
PKG=${VL_VM_KPKG:-$(resolve)}
if [ -z "$PKG" ]; then
        echo "fetch-kernel: apt-cache knows no linux-image-amd64; running apt-get update" >&2
        apt-get update >&2
        PKG=$(resolve)
fi
[ -n "$PKG" ] || { echo "fetch-kernel: cannot resolve linux-image-amd64" >&2; exit 1; }
echo "kernel package: $PKG"

rm -f ./*.deb
# apt-get download drops privileges to _apt: give it a folder it can write.
dl=$(mktemp -d "$CACHE/dl.XXXXXX")
chmod 0777 "$dl"
(cd "$dl" && apt-get download "$PKG")
deb=$(ls "$dl"/*.deb)
rm -rf kernel kernel.tmp
dpkg -x "$deb" kernel.tmp
rm -rf "$dl"
KVER=$(ls kernel.tmp/lib/modules | head -1)
[ -f "kernel.tmp/boot/vmlinuz-$KVER" ] || { echo "fetch-kernel: no vmlinuz in $PKG" >&2; exit 1; }
busybox depmod -b "$CACHE/kernel.tmp" "$KVER"
echo "$KVER" > kernel.tmp/.complete
mv kernel.tmp kernel
echo "kernel extracted to $CACHE/kernel"
echo "KVER=$KVER"
