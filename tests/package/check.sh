#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Install, exercise and purge the Debian package in a pristine Debian 12 root
# (debootstrap --variant=minbase bookworm, nothing else installed), as root:
#
#   tests/package/check.sh DEB
#
# DEB is vfio-launch_VERSION_amd64.deb (a path inside the root). Needs root,
# apt with a Debian 12 mirror, /proc; QEMU never runs a guest and no device
# is touched (check, print and doctor only read the host).
#
#  1. apt-get installs what the checks use: systemd (systemd-analyze; it
#     verifies units without a running systemd), man-db and jq.
#  2. apt-get satisfy installs the package's Depends and Recommends from the
#     mirror; the file listing of the root is taken after that, so what is
#     left after the purge is vfio-launch's alone.
#  3. apt-get install -y ./DEB, then: --version, check of the examples,
#     print of demo.json (QEMU and OVMF from the Depends/Recommends are found),
#     import of a tiny libvirt domain (libxml2, opened at run time, is there),
#     doctor --json (valid JSON; exit 0 if no check failed, else 1, as
#     vfio-launch(1) says: in a container without an IOMMU it is 1), man -w
#     for both pages, systemd-analyze verify of the three installed units
#     (templates through an instance), the bash completion, dpkg --verify.
#  4. A VM's UEFI variables (/var/lib/vfio-launch/win10/win10_VARS.fd), an
#     empty VM folder and a QEMU log are made (print has made the QEMU
#     version cache), then apt-get purge -y vfio-launch. The listing after
#     the purge must equal the one before the install but for the kept VARS
#     file and its folders (apt's, dpkg's and man-db's records aside): the
#     package's files, folders, logs, cache and systemd state are gone, the
#     user's VARS stay, unchanged.
#
# Exit status: 0 every check passed; 1 a check failed (each failure is a
# "FAIL:" line); 2 usage, or the tools of step 1 could not be installed.
set -u

[ $# -eq 1 ] || { echo "usage: check.sh DEB" >&2; exit 2; }
[ "$(id -u)" = 0 ] || { echo "check.sh: run as root, in a throwaway root" >&2; exit 2; }
deb=$(realpath "$1") || exit 2
[ "$(dpkg-deb -f "$deb" Package 2>/dev/null)" = vfio-launch ] ||
        { echo "check.sh: $1 is not the vfio-launch package" >&2; exit 2; }
version=$(dpkg-deb -f "$deb" Version)

export DEBIAN_FRONTEND=noninteractive LC_ALL=C.UTF-8
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
t0=$(date +%s)
fails=0
step() { echo "check.sh: [$(($(date +%s) - t0)) s] $*"; }
ok() { echo "ok: $*"; }
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
# check DESCRIPTION CMD...: CMD must succeed.
check() {
        local what=$1; shift
        if "$@" >"$tmp/out" 2>&1; then ok "$what"; else fail "$what"; sed 's/^/  | /' "$tmp/out"; fi
}
# The root's files, one "TYPE PATH[ -> TARGET]" line each, without the other
# file systems (/proc, /sys, /dev, /run, /tmp when mounted), this script's
# temporary folder, apt's and dpkg's own records (indexes, downloaded
# packages, logs, backups of the status files), which any apt-get changes,
# and man-db's cache, which its trigger rebuilds on every install or removal.
listing() {
        find / -xdev \( -path "$tmp" -o -path /var/lib/apt/lists -o -path /var/cache/apt -o -path /var/cache/man \
                -o -path /var/log/apt -o -path /var/log/dpkg.log -o -path '/var/lib/dpkg/*-old' \
                -o -path '/var/cache/debconf/*-old' -o -path /var/cache/ldconfig/aux-cache \) -prune \
                -o -type l -printf '%y %p -> %l\n' -o -printf '%y %p\n' | LC_ALL=C sort
}

step "tools for the checks: systemd man-db jq"
{ apt-get update -q && apt-get install -y -q --no-install-recommends systemd man-db jq; } >"$tmp/apt.log" 2>&1 ||
        { cat "$tmp/apt.log"; echo "check.sh: cannot install the tools" >&2; exit 2; }

deps=$(dpkg-deb -f "$deb" Depends)
recommends=$(dpkg-deb -f "$deb" Recommends)
step "apt-get satisfy: $deps${recommends:+, $recommends}"
if ! apt-get satisfy -y -q "$deps${recommends:+, $recommends}" >"$tmp/apt.log" 2>&1; then
        cat "$tmp/apt.log"
        fail "the package's Depends and Recommends cannot be installed from the mirror"
        exit 1
fi
listing >"$tmp/before"

step "apt-get install -y $deb"
if apt-get install -y -q "$deb" >"$tmp/apt.log" 2>&1 &&
        [ "$(dpkg-query -W -f '${Status} ${Version}' vfio-launch)" = "install ok installed $version" ]; then
        ok "installed vfio-launch $version"
else
        cat "$tmp/apt.log"
        fail "apt-get install $deb"
        exit 1
fi
dpkg -L vfio-launch >"$tmp/owned"

step "the installed package"
examples=/usr/share/doc/vfio-launch/examples
check "dpkg --verify vfio-launch" dpkg --verify vfio-launch
check "vfio-launch is on PATH" test "$(command -v vfio-launch)" = /usr/bin/vfio-launch
out=$(vfio-launch --version 2>&1)
case $out in
*"$version"*) ok "vfio-launch --version: $out" ;;
*) fail "vfio-launch --version: '$out' does not name $version" ;;
esac
check "vfio-launch check $examples/win10.json" vfio-launch check "$examples/win10.json"
check "vfio-launch check $examples/demo.json" vfio-launch check "$examples/demo.json"
check "the schema is installed and linked beside the examples" \
        cmp /usr/share/vfio-launch/vfio-launch.schema.json "$examples/vfio-launch.schema.json"
check "vfio-launch print $examples/demo.json (QEMU and firmware found)" \
        vfio-launch print "$examples/demo.json"

# import: libxml2 is opened only when a domain is read (dlopen, not linked:
# launcher/base/dl.h), so only a run proves the Depends names it. A tiny
# domain (tests/import/cases/linux-minimal, cut down).
cat >"$tmp/domain.xml" <<'EOF_DOMAIN'
<domain type='kvm'>
  <name>debian12</name>
  <memory unit='MiB'>2048</memory>
  <vcpu>2</vcpu>
  <os>
    <type arch='x86_64' machine='q35'>hvm</type>
  </os>
</domain>
EOF_DOMAIN
if vfio-launch import "$tmp/domain.xml" >"$tmp/imported.json" 2>"$tmp/import.err" &&
        [ "$(jq -r '.name + " " + .memory' "$tmp/imported.json" 2>/dev/null)" = "debian12 2G" ]; then
        ok "vfio-launch import of a libvirt domain (libxml2 found at run time)"
else
        fail "vfio-launch import of a libvirt domain"
        sed 's/^/  | /' "$tmp/imported.json" "$tmp/import.err"
fi

# doctor: "Exit status 0 when nothing failed, 1 otherwise" (vfio-launch(1)).
vfio-launch doctor --json >"$tmp/doctor.json" 2>"$tmp/doctor.err"
rc=$?
if [ "$(jq -s 'length' "$tmp/doctor.json" 2>/dev/null)" != 1 ] ||
        ! jq -e 'type == "object" and (.ok | type == "boolean") and (.results | type == "array" and length > 0)
                and all(.results[]; .status == "ok" or .status == "warn" or .status == "fail")' \
                "$tmp/doctor.json" >/dev/null; then
        fail "vfio-launch doctor --json: not one JSON object {ok, results[]}"
        sed 's/^/  | /' "$tmp/doctor.json" "$tmp/doctor.err"
else
        failed=$(jq '[.results[] | select(.status == "fail")] | length' "$tmp/doctor.json")
        okflag=$(jq '.ok' "$tmp/doctor.json")
        want=0
        [ "$failed" = 0 ] || want=1
        if [ "$rc" = "$want" ] && [ "$okflag" = "$([ "$want" = 0 ] && echo true || echo false)" ]; then
                ok "vfio-launch doctor --json: valid JSON, $failed failed checks, exit status $rc, ok: $okflag"
        else
                fail "vfio-launch doctor --json: exit status $rc and ok: $okflag with $failed failed checks"
        fi
fi

check "man -w vfio-launch" test "$(man -w vfio-launch)" = /usr/share/man/man1/vfio-launch.1.gz
check "man -w 5 vfio-launch.json" test "$(man -w 5 vfio-launch.json)" = /usr/share/man/man5/vfio-launch.json.5.gz
# shellcheck disable=SC2016 # expanded by the inner shell
check "vfio-launch(1) renders" sh -c 'man -l "$(man -w vfio-launch)" | grep -q "^EXIT STATUS"'

# The installed units, as systemd loads them (templates through an
# instance), with their man: links. Only display-manager.service, which
# this root lacks, may be missing.
for unit in vfio-launch@win10.service vfio-launch-bind@win10.service vfio-launch-recover.service; do
        out=$(SYSTEMD_LOG_LEVEL=warning systemd-analyze verify "$unit" 2>&1)
        rc=$?
        out=$(printf '%s\n' "$out" | grep -v -e display-manager.service -e '^$')
        if [ "$rc" = 0 ] && [ -z "$out" ]; then
                ok "systemd-analyze verify $unit"
        else
                fail "systemd-analyze verify $unit (exit status $rc)"
                printf '%s\n' "$out" | sed 's/^/  | /'
        fi
done
check "no unit is enabled" sh -c '! find /etc/systemd/system -name "vfio-launch*" | grep -q .'
# shellcheck disable=SC2016 # expanded by the inner shell
check "the bash completion registers _vfio_launch" bash -c \
        'source /usr/share/bash-completion/completions/vfio-launch &&
         [ "$(complete -p vfio-launch)" = "complete -F _vfio_launch vfio-launch" ]'
check "the polkit policy names /usr/bin/vfio-launch" \
        grep -q '>/usr/bin/vfio-launch</annotate>' /usr/share/polkit-1/actions/org.vfio-launch.policy

step "apt-get purge -y vfio-launch"
# What a VM's runs leave: its UEFI variables (kept: the VM's data), an
# empty VM folder, QEMU's log and the QEMU version cache (removed; print
# made the cache, or a stand-in is made here).
mkdir -p /var/lib/vfio-launch/win10 /var/lib/vfio-launch/gone /var/log/vfio-launch /var/cache/vfio-launch
head -c 65536 /dev/urandom >/var/lib/vfio-launch/win10/win10_VARS.fd
cp /var/lib/vfio-launch/win10/win10_VARS.fd "$tmp/vars"
echo "QEMU output" >/var/log/vfio-launch/win10.log
[ -e /var/cache/vfio-launch/qemu-version ] || echo "7.2.0" >/var/cache/vfio-launch/qemu-version
if apt-get purge -y -q vfio-launch >"$tmp/apt.log" 2>&1; then
        ok "apt-get purge -y vfio-launch"
else
        fail "apt-get purge -y vfio-launch"
        cat "$tmp/apt.log"
fi
st=$(dpkg-query -W -f '${db:Status-Abbrev}' vfio-launch 2>/dev/null)
case $st in
"" | "un "*) ok "dpkg has forgotten vfio-launch" ;;
*) fail "dpkg still knows vfio-launch: '$st'" ;;
esac
check "the VARS file is kept, unchanged" cmp "$tmp/vars" /var/lib/vfio-launch/win10/win10_VARS.fd
check "the empty VM folder is gone" test ! -e /var/lib/vfio-launch/gone
check "the QEMU logs are gone" test ! -e /var/log/vfio-launch
check "the QEMU version cache is gone" test ! -e /var/cache/vfio-launch
left=""
while IFS= read -r path; do
        # Folders other packages share (/usr/share/doc ...) stay.
        [ "$path" = /. ] && continue
        if [ -e "$path" ] && ! { [ -d "$path" ] && dpkg -S "$path" >/dev/null 2>&1; }; then
                left="$left $path"
        fi
done <"$tmp/owned"
if [ -z "$left" ]; then ok "every file of the package is gone"; else fail "left behind:$left"; fi

listing >"$tmp/after"
printf '%s\n' "d /var/lib/vfio-launch" "d /var/lib/vfio-launch/win10" \
        "f /var/lib/vfio-launch/win10/win10_VARS.fd" >"$tmp/kept"
# The listing after, minus the kept VARS (when they were not there before),
# must be the listing before.
grep -vxF -f "$tmp/before" "$tmp/kept" >"$tmp/kept-new"
grep -vxF -f "$tmp/kept-new" "$tmp/after" >"$tmp/after-but-kept"
if diff -u "$tmp/before" "$tmp/after-but-kept" >"$tmp/diff"; then
        ok "the root's files after the purge are those before the install, and the VARS"
else
        fail "the root's files after the purge differ from those before the install (+ left behind, - removed):"
        tail -n +3 "$tmp/diff" | grep '^[-+]' | sed 's/^/  | /'
fi

step "done: $fails failed"
[ "$fails" = 0 ]
