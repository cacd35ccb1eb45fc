#!/bin/bash
# The bash completion loads, registers itself, and completes verbs, profile
# files and VM names (detach/attach: the NAME only).
set -u
source "$1" || exit 1
fail=0
expect() { # expect "WANTED" WORD...: complete the last word of vfio-launch WORD...
        local want=$1; shift
        COMP_WORDS=(vfio-launch "$@"); COMP_CWORD=$#
        COMPREPLY=()
        _vfio_launch
        local got; got=$(printf '%s\n' "${COMPREPLY[@]}" | LC_ALL=C sort | tr '\n' ' ')
        [ "$got" = "$want " ] || { echo "vfio-launch $*: got '$got', want '$want '"; fail=1; }
}
[ "$(complete -p vfio-launch)" = "complete -F _vfio_launch vfio-launch" ] ||
        { echo "complete -p: $(complete -p vfio-launch 2>&1)"; fail=1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/run/win10" "$tmp/run/demo" "$tmp/p/sub"
touch "$tmp/p/win10.json" "$tmp/p/notes.txt"
export VFIO_LAUNCH_RUN_DIR=$tmp/run
cd "$tmp/p" || exit 1
expect "status stop" st
expect "host-config" ho
expect "demo win10" stop --force ""
expect "win10" status w
expect "sub win10.json" check ""
expect "--args-only --help" print --
expect "--help --root --write --yes" host-config --
expect "desktop detach" de
expect "demo win10" detach ""
expect "win10" detach --timeout 5 w
expect "demo win10" detach --timeout = 5 ""
expect "demo win10" detach -t 5 ""
expect "" detach --timeout ""
expect "" detach --timeout = ""
expect "" detach win10 ""
expect "" detach --timeout 5 win10 ""
expect "--help --timeout" detach --
expect "win10" attach w
expect "" attach win10 ""
expect "--help" attach --
expect "import init" i
expect "--bridge --cpus --disk --gpu --help --hugepages --iso --macvtap --memory --os --single-gpu --virtio-win" init --
expect "windows10 windows11" init --os w
expect "" init --os windows11 ""
expect "" init --cpus ""
exit $fail
