#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# copy-modules.sh KMOD KVER ROOT MODULE...: copy MODULEs and everything they
# depend on (from KMOD/modules.dep of the extracted Debian kernel) into
# ROOT/lib/modules/KVER, and index them there with busybox depmod. A module
# may be named with - or _ (the kernel treats them alike). Used by the
# initramfs builders of tests/vm and tests/lifecycle.
set -eu
KMOD=$1 KVER=$2 ROOT=$3
shift 3
mkdir -p "$ROOT/lib/modules/$KVER"
want=""
for m in "$@"; do
        dash=$(echo "$m" | tr _ -)
        under=$(echo "$m" | tr - _)
        line=$(grep -E "/($dash|$under)\.ko:" "$KMOD/modules.dep" | head -1)
        [ -n "$line" ] || { echo "copy-modules: module $m not in $KVER" >&2; exit 1; }
        want="$want $(echo "$line" | tr -d :)"
done
for f in $(echo $want | tr ' ' '\n' | sort -u); do
        mkdir -p "$ROOT/lib/modules/$KVER/$(dirname "$f")"
        cp "$KMOD/$f" "$ROOT/lib/modules/$KVER/$f"
done
cp "$KMOD/modules.builtin" "$KMOD/modules.order" "$ROOT/lib/modules/$KVER/"
busybox depmod -b "$ROOT" "$KVER"
