#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# README, first command: install the dependencies (Debian 12, as root), build
# vfio-launch, and show the real thing on a machine with no GPU and no KVM: an
# emulated host with an IOMMU and a GPU+audio pair (tests/vm) boots, and in it
# `vfio-launch PROFILE` moves both functions to vfio-pci, a VM gets them, and
# when the VM powers off they are back on their host drivers.
# BUILD=DIR to build elsewhere (default: build/).
set -eu
cd "$(dirname "$0")/.."
top=$PWD
build=${BUILD:-$top/build}
tests/deps.sh
cmake -S . -B "$build" >/dev/null
cmake --build "$build" -j"$(nproc)"
echo
echo "demo: booting the emulated host (first time: downloads a Debian kernel, ~1 min)"
exec tests/vm/run.sh -b "$build" intel demo
