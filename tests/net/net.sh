#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# macvtap and tap NICs end to end: the built vfio-launch runs a real QEMU
# (TCG, SeaBIOS, no disk: it idles in the BIOS) inside a network namespace
# this script creates, and each case checks the host side a user would see:
# the link (`ip -d link`), the NIC QEMU realized on the passed fd (QMP
# `info network`), the link gone after the run or after `recover`.
#
#   net.sh -b BUILD_DIR CASE
#   CASE: macvtap tap missing-dev kill-recover reused-name no-devtmpfs
#         nodev-rundir vhost
#
# vhost: a virtio NIC on a tap with "vhost": true: QEMU (as nobody) holds
# /dev/vhost-net, opened by the launcher, at the vhostfd= its argv names.
# Skipped (77) on a host without /dev/vhost-net; tests/vm case vhost-net
# runs it on a kernel that has the module.
#
# Only the test's own namespace is touched: its lower device is a veth pair
# named dummy0/dummy0p (a dummy when CONFIG_DUMMY is there would do; this
# kernel has none), its bridge br0; no traffic leaves it. The journal, lock
# and sockets live in /run/vfio-launch/NAME, as for any run. Exit 1 on any
# FAIL, 77 (skip) when not root or without `ip netns`.
set -uo pipefail
BUILD=
while getopts b: o; do
        case $o in
        b) BUILD=$OPTARG ;;
        *) exit 2 ;;
        esac
done
shift $((OPTIND - 1))
CASE=${1:-}
[ -n "$BUILD" ] && [ -n "$CASE" ] || { echo "usage: $0 -b BUILD_DIR CASE" >&2; exit 2; }
VL=$(cd "$BUILD" && pwd)/launcher/vfio-launch
[ -x "$VL" ] || { echo "net: $VL not built" >&2; exit 2; }
if [ "$(id -u)" != 0 ]; then
        echo "SKIP: net tests need root (network namespaces, QEMU as nobody)"
        exit 77
fi
if [ "$CASE" = vhost ] && [ ! -c /dev/vhost-net ]; then
        echo "SKIP: no /dev/vhost-net on this host (module vhost_net not loaded; tests/vm case vhost-net covers it)"
        exit 77
fi
NS=vl-net-$CASE-$$
if ! ip netns add "$NS" 2>/dev/null; then
        echo "SKIP: 'ip netns add' is not available here"
        exit 77
fi
T=$(mktemp -d /tmp/vl-net.XXXXXX)
NAME=net-$CASE-$$
LPID=
cleanup() {
        # Whatever a failed case left running: stop it through its own
        # control socket, which reaches it even if $LPID is not the launcher.
        if "$VL" status "$NAME" >/dev/null 2>&1; then
                "$VL" stop --force "$NAME" >/dev/null 2>&1
                for _ in $(seq 50); do
                        "$VL" status "$NAME" >/dev/null 2>&1 || break
                        sleep 0.2
                done
        fi
        [ -n "$LPID" ] && kill -9 "$LPID" 2>/dev/null
        ip netns exec "$NS" "$VL" recover "$NAME" >/dev/null 2>&1
        ip netns del "$NS" 2>/dev/null
        rm -rf "$T"
}
trap cleanup EXIT

fails=0
pass() { echo "PASS: $CASE: $*"; }
fail() { echo "FAIL: $CASE: $*"; fails=$((fails + 1)); }
check() { # check DESCRIPTION COMMAND...
        local what=$1; shift
        if "$@"; then pass "$what"; else fail "$what"; fi
}
nsx() { ip netns exec "$NS" "$@"; }

nsx ip link add dummy0 type veth peer name dummy0p || { echo "FAIL: cannot create a veth pair"; exit 1; }
nsx ip link set dummy0 up && nsx ip link set dummy0p up
nsx ip link add br0 type bridge && nsx ip link set br0 up || { echo "FAIL: cannot create br0"; exit 1; }

MAC=52:54:00:12:34:56

profile() { # profile NIC_JSON
        cat > "$T/$NAME.json" <<JSON
{
  "name": "$NAME",
  "accel": "tcg",
  "cpu": { "model": "max" },
  "firmware": { "type": "bios" },
  "user": "nobody",
  "memory": "64M",
  "nics": [ $1 ],
  "shutdown_timeout": 5
}
JSON
        # The link's name as the launcher chooses it (`print` says).
        LINK=$("$VL" print "$T/$NAME.json" 2>/dev/null | sed -n 's/^# nics\[0\]: [a-z]* \([^ ]*\) on .*/\1/p')
}
MACVTAP_NIC="{ \"model\": \"e1000\", \"mac\": \"$MAC\", \"backend\": \"macvtap\", \"dev\": \"dummy0\", \"mode\": \"bridge\" }"
TAP_NIC="{ \"model\": \"e1000\", \"mac\": \"$MAC\", \"backend\": \"tap\", \"bridge\": \"br0\" }"

start() { # start [WRAPPER...]: the launcher in the namespace, in the background
        # Not through nsx: `ip netns exec` and the wrappers exec, so $! is the
        # launcher itself (a function would add a subshell in between).
        ip netns exec "$NS" "$@" "$VL" "$T/$NAME.json" >"$T/out" 2>&1 &
        LPID=$!
}
wait_running() {
        for _ in $(seq 100); do
                "$VL" status "$NAME" 2>/dev/null | grep -q '"state":"running"' && return 0
                kill -0 "$LPID" 2>/dev/null || return 1
                sleep 0.2
        done
        return 1
}
wait_exit() { # wait_exit: sets RC
        for _ in $(seq 100); do
                kill -0 "$LPID" 2>/dev/null || break
                sleep 0.2
        done
        wait "$LPID"; RC=$?
        LPID=
}
link_exists() { nsx ip link show "$LINK" >/dev/null 2>&1; }
link_gone() { ! link_exists; }
not_started() { ! grep -q running "$T/out"; }
journal_gone() { [ ! -e "/run/vfio-launch/$NAME/state.json" ]; }

# QMP `info network` through the tools' socket named by `status`.
info_network() {
        local sock
        sock=$("$VL" status "$NAME" | sed -n 's/.*"qmp":"\([^"]*\)".*/\1/p')
        python3 - "$sock" <<'PY'
import json, socket, sys
s = socket.socket(socket.AF_UNIX); s.settimeout(10); s.connect(sys.argv[1])
f = s.makefile('rw')
def rd():
    while True:
        m = json.loads(f.readline())
        if 'event' not in m:
            return m
rd()
def cmd(c, a=None):
    f.write(json.dumps({'execute': c, **({'arguments': a} if a else {})}) + '\n'); f.flush()
    return rd()
cmd('qmp_capabilities')
print(cmd('human-monitor-command', {'command-line': 'info network'})['return'])
PY
}

# The run is up: the link is there as the profile says and QEMU uses fd 5.
check_running_nic() { # check_running_nic macvtap|tap
        local d info
        d=$(nsx ip -d link show "$LINK" 2>&1)
        if [ "$1" = macvtap ]; then
                check "macvtap link $LINK on dummy0" grep -q "$LINK@dummy0" <<<"$d"
                check "link MAC is the guest's $MAC" grep -q "link/ether $MAC " <<<"$d"
                check "macvtap mode bridge" grep -q "macvtap mode bridge" <<<"$d"
        else
                check "tap link $LINK" grep -q "tun type tap" <<<"$d"
                check "tap enslaved to br0" grep -q "master br0" <<<"$d"
        fi
        check "link is up" grep -q "<[^>]*,UP[,>]" <<<"$d"
        info=$(info_network)
        echo "$info" | sed 's/^/    qmp: /'
        check "QEMU realized the NIC on fd 5" grep -q "hostnet0: index=0,type=tap,fd=5" <<<"$info"
        check "QEMU's NIC has MAC $MAC" grep -q "macaddr=$MAC" <<<"$info"
}

run_and_stop() { # run_and_stop macvtap|tap [WRAPPER...]
        local kind=$1; shift
        start "$@"
        if ! wait_running; then
                fail "the VM did not reach running"
                sed 's/^/    /' "$T/out"
                return
        fi
        pass "the VM is running"
        check_running_nic "$kind"
        "$VL" stop --force "$NAME" >/dev/null
        wait_exit
        check "forced stop exits 5 (got $RC)" [ "$RC" = 5 ]
        check "the link is gone after the run" link_gone
        check "the journal is gone after the run" journal_gone
}

case $CASE in
macvtap)
        profile "$MACVTAP_NIC"
        run_and_stop macvtap
        ;;
tap)
        profile "$TAP_NIC"
        run_and_stop tap
        ;;
no-devtmpfs|nodev-rundir)
        # A /dev without tapN nodes (no devtmpfs, no udev): the launcher makes
        # the node in its run dir, or (nodev-rundir: the run dir on a nodev
        # mount, as systemd mounts /run) in /dev under a name of its own.
        # The private /dev has what QEMU needs; the mounts are in a private
        # mount namespace of the launcher only.
        profile "$MACVTAP_NIC"
        mkdir -p /run/vfio-launch
        cat > "$T/nodev.sh" <<'SH'
#!/bin/sh
set -e
if [ "$1" = nodev-rundir ]; then
        mount --bind /run/vfio-launch /run/vfio-launch
        mount -o remount,bind,nodev /run/vfio-launch
fi
shift
mount -t tmpfs -o mode=0755 vl-net-dev /dev
mknod -m 666 /dev/null c 1 3; mknod -m 666 /dev/zero c 1 5
mknod -m 666 /dev/urandom c 1 9; mknod -m 666 /dev/random c 1 8
mkdir /dev/net; mknod -m 600 /dev/net/tun c 10 200
exec "$@"
SH
        chmod 755 "$T/nodev.sh"
        run_and_stop macvtap unshare -m --propagation private "$T/nodev.sh" "$CASE"
        ;;
missing-dev)
        profile "{ \"model\": \"e1000\", \"mac\": \"$MAC\", \"backend\": \"macvtap\", \"dev\": \"nosuch0\" }"
        nsx "$VL" "$T/$NAME.json" >"$T/out" 2>&1; RC=$?
        sed 's/^/    /' "$T/out"
        check "refused with exit 1 or 2 (got $RC)" [ "$RC" = 1 -o "$RC" = 2 ]
        check "the message names \$.nics[0].dev" grep -q '\$\.nics\[0\]\.dev: .*"nosuch0"' "$T/out"
        check "no link was created" link_gone
        check "no journal was written" journal_gone
        check "QEMU was not started" not_started
        profile "$TAP_NIC"
        sed -i 's/"br0"/"dummy0"/' "$T/$NAME.json"
        nsx "$VL" "$T/$NAME.json" >"$T/out" 2>&1; RC=$?
        sed 's/^/    /' "$T/out"
        check "a tap on a non-bridge is refused (got $RC)" [ "$RC" = 1 -o "$RC" = 2 ]
        check "the message names \$.nics[0].bridge" grep -q '\$\.nics\[0\]\.bridge: .*not a bridge' "$T/out"
        ;;
kill-recover)
        profile "$MACVTAP_NIC"
        start
        if wait_running; then
                pass "the VM is running"
                check "the link exists" link_exists
                check "status names the launcher we started" \
                        grep -q "\"launcher_pid\":$LPID," <<<"$("$VL" status "$NAME")"
                kill -9 "$LPID"
                wait_exit
                # QEMU dies with its launcher (PDEATHSIG); give it a moment.
                sleep 1
                check "the link outlived the killed launcher" link_exists
                check "the journal names it" grep -q "\"$LINK\"" "/run/vfio-launch/$NAME/state.json"
                nsx "$VL" recover "$NAME" >"$T/rec" 2>&1; RC=$?
                sed 's/^/    /' "$T/rec"
                check "recover exits 0 (got $RC)" [ "$RC" = 0 ]
                check "recover deleted the link" link_gone
                check "the journal is gone" journal_gone
        else
                fail "the VM did not reach running"
                sed 's/^/    /' "$T/out"
        fi
        ;;
reused-name)
        # After a crash, the journal's link name was taken by a link that is
        # not the run's (another VM's, anyone's): recover must leave it.
        profile "$MACVTAP_NIC"
        check "print names the link ($LINK)" [ -n "$LINK" ]
        start
        if wait_running; then
                kill -9 "$LPID"
                wait_exit
                sleep 1
                check "the link outlived the killed launcher" link_exists
                check "the journal records its ifindex and MAC" \
                        grep -q "\"mac\": \"$MAC\"" "/run/vfio-launch/$NAME/state.json"
                nsx ip link del "$LINK"
                nsx ip link add "$LINK" link dummy0 type macvtap mode bridge
                nsx ip link set "$LINK" address 52:54:00:99:99:99
                nsx "$VL" recover "$NAME" >"$T/rec" 2>&1; RC=$?
                sed 's/^/    /' "$T/rec"
                check "recover exits 0 (got $RC)" [ "$RC" = 0 ]
                check "the other link of that name is still there" link_exists
                check "it is the other one (52:54:00:99:99:99)" \
                        grep -q "link/ether 52:54:00:99:99:99 " <<<"$(nsx ip link show "$LINK")"
                check "the journal is gone" journal_gone
                nsx ip link del "$LINK"
        else
                fail "the VM did not reach running"
                sed 's/^/    /' "$T/out"
        fi
        ;;
vhost)
        profile "{ \"model\": \"virtio-net-pci\", \"mac\": \"$MAC\", \"backend\": \"tap\", \"bridge\": \"br0\", \"vhost\": true }"
        "$VL" print "$T/$NAME.json" >"$T/print" 2>&1
        check "print: # nics[0]: vhost-net" grep -q '^# nics\[0\]: vhost-net' "$T/print"
        start
        if wait_running; then
                pass "the VM is running"
                pid=$("$VL" status "$NAME" | sed -n 's/.*"qemu_pid": *\([0-9]*\).*/\1/p')
                fd=$(tr '\0' '\n' <"/proc/$pid/cmdline" | sed -n 's/^tap,fd=5,vhost=on,vhostfd=\([0-9]*\),id=hostnet0$/\1/p')
                check "QEMU's argv has -netdev tap,fd=5,vhost=on,vhostfd=N (N=${fd:-none})" [ -n "$fd" ]
                check "QEMU (pid $pid) holds /dev/vhost-net as fd $fd" \
                        [ "$(readlink "/proc/$pid/fd/${fd:-none}")" = /dev/vhost-net ]
                "$VL" stop --force "$NAME" >/dev/null
                wait_exit
                check "forced stop exits 5 (got $RC)" [ "$RC" = 5 ]
                check "the link is gone after the run" link_gone
        else
                fail "the VM did not reach running"
                sed 's/^/    /' "$T/out"
        fi
        ;;
*)
        echo "net: unknown case $CASE" >&2
        exit 2
        ;;
esac
[ "$fails" = 0 ]
