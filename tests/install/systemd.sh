#!/bin/bash
# systemd-analyze verify accepts the units (copies naming the built binary),
# and the installed ones name no unconfigured @PLACEHOLDER@.
set -u
units=$1 configured=$2
command -v systemd-analyze >/dev/null || { echo "systemd-analyze missing"; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
cp "$units"/* "$tmp/"
# A template is verified through an instance of it.
for u in vfio-launch@win10.service vfio-launch-bind@win10.service vfio-launch-recover.service; do
        out=$(cd "$tmp" && SYSTEMD_LOG_LEVEL=warning systemd-analyze verify --man=no "$tmp/$u" 2>&1)
        # Units this host lacks (display-manager.service) are not ours to judge.
        out=$(printf '%s\n' "$out" | grep -v -e 'display-manager.service' -e '^$')
        [ -z "$out" ] || { echo "$u:"; echo "$out"; fail=1; }
done
if grep -l '@[A-Z_]*@' "$configured"/*.service "$configured"/*.policy; then
        echo "placeholders left"; fail=1
fi
exit $fail
