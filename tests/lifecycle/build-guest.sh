#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# The lifecycle tests' guest: the Debian kernel tests/vm/fetch-kernel.sh
# caches, and a busybox-static initramfs with guest-init as /init plus the
# few modules it loads (virtio disk, ACPI button, evdev, virtio input, a watchdog, the
# TPM's unless built in). Rebuilt only when an input changed. Both files end
# up world-readable in a 0755 folder: QEMU runs as nobody and must read them.
#
# Prints KERNEL=... and INITRD=... on its last two lines.
# env: VL_VM_CACHE  cache folder (default /var/tmp/vfio-launch-vm)
set -eu
CACHE=${VL_VM_CACHE:-/var/tmp/vfio-launch-vm}
here=$(cd "$(dirname "$0")" && pwd)
"$here/../vm/fetch-kernel.sh" >&2
KVER=$(cat "$CACHE/kernel/.complete")
KMOD=$CACHE/kernel/lib/modules/$KVER
OUT=$CACHE/lifecycle
BUSYBOX=$(command -v busybox || true)
[ -n "$BUSYBOX" ] || { echo "build-guest: busybox not found (apt-get install busybox-static)" >&2; exit 1; }
if ldd "$BUSYBOX" >/dev/null 2>&1; then
        echo "build-guest: $BUSYBOX is dynamic: install busybox-static" >&2
        exit 1
fi
MODS="virtio_pci virtio_blk button evdev i6300esb virtio_input"
# The TPM's drivers (the "tpm" case): built into Debian's kernel
# (CONFIG_TCG_CRB=y, CONFIG_TCG_TIS=y), copied when a kernel has them as
# modules.
for m in tpm_crb tpm_tis; do
        grep -q "/$m\.ko\$" "$KMOD/modules.builtin" || MODS="$MODS $m"
done

mkdir -p "$OUT"
hash=$( (echo "$KVER $MODS"; cat "$BUSYBOX" "$0" "$here/guest-init" "$here/../vm/copy-modules.sh") |
        sha256sum | cut -d' ' -f1)
if [ ! -f "$OUT/initrd.gz" ] || [ "$(cat "$OUT/initrd.hash" 2>/dev/null)" != "$hash" ]; then
        ROOT=$(mktemp -d "$OUT/root.XXXXXX")
        trap 'rm -rf "$ROOT"' EXIT
        mkdir -p "$ROOT/bin" "$ROOT/lib/modules/$KVER"
        cp "$BUSYBOX" "$ROOT/bin/busybox"
        ln -s busybox "$ROOT/bin/sh"
        cp "$here/guest-init" "$ROOT/init"
        chmod 0755 "$ROOT/init"
        # shellcheck disable=SC2086 # MODS is a word list
        "$here"/../vm/copy-modules.sh "$KMOD" "$KVER" "$ROOT" $MODS
        (cd "$ROOT" && find . | busybox cpio -o -H newc 2>/dev/null | gzip -1 > "$OUT/initrd.gz.tmp")
        mv "$OUT/initrd.gz.tmp" "$OUT/initrd.gz"
        echo "$hash" > "$OUT/initrd.hash"
        echo "build-guest: built $OUT/initrd.gz" >&2
fi
if ! cmp -s "$CACHE/kernel/boot/vmlinuz-$KVER" "$OUT/vmlinuz"; then
        cp "$CACHE/kernel/boot/vmlinuz-$KVER" "$OUT/vmlinuz.tmp"
        mv "$OUT/vmlinuz.tmp" "$OUT/vmlinuz"
fi
chmod 0755 "$OUT"
chmod 0644 "$OUT/vmlinuz" "$OUT/initrd.gz"
echo "KERNEL=$OUT/vmlinuz"
echo "INITRD=$OUT/initrd.gz"
