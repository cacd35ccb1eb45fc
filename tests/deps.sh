#!/bin/sh
# Install everything vfio-launch needs to build, test and demo on Debian 12
# (run as root). Idempotent; safe to run on a machine that has it all.
# The list is proven on a minimal Debian 12 with nothing else installed
# (tests/pristine.sh, what CI runs): a package missing here fails there.
# libclang-rt-dev: clang's sanitizer and libFuzzer runtimes, which Debian's
# clang does not pull in. prometheus: promtool and a real server that scrapes
# `vfio-launch metrics --listen` (tests/metrics).
set -eu
PKGS="build-essential cmake pkg-config clang libclang-rt-dev
libjansson-dev libxml2-dev libpci-dev libseccomp-dev libcap-ng-dev libmnl-dev libcmocka-dev pci.ids
libsystemd-dev libkmod-dev dbus-daemon
qemu-system-x86 qemu-utils ovmf swtpm swtpm-tools
busybox-static kmod iproute2 procps python3-jsonschema
desktop-file-utils libxml2-utils man-db groff-base systemd prometheus curl"
missing=""
for p in $PKGS; do
        dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed$' || missing="$missing $p"
done
if [ -n "$missing" ]; then
        echo "deps: installing:$missing"
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -q
        # shellcheck disable=SC2086
        apt-get install -y -q --no-install-recommends $missing
else
        echo "deps: all installed"
fi
