# SPDX-License-Identifier: LGPL-2.1-or-later
# Guest-side library of the VM tests, sourced by /init, the runner and every
# case (busybox ash). Runs inside L1, the emulated host.
#
# Verdicts: pass/fail print "PASS: CASE: ..." / "FAIL: CASE: ..." on the
# console AND append to $VL_VERDICTS, which the runner counts (no pipe, so a
# background process left by a case cannot block the runner).
#
# Configuration comes from the kernel command line, set by run.sh:
#   vl.variant=intel|...  vl.topo=rootport|rootbus  vl.build=L0 build dir
#   vl.src=L0 tests/vm dir  vl.cases=a,b,c  vl.ctimeout=SECS (per case)

for _w in $(cat /proc/cmdline); do
        case $_w in
        vl.*=*)
                _k=${_w%%=*}
                _k=$(echo "${_k#vl.}" | tr 'a-z-' 'A-Z_')
                _v=${_w#*=}
                eval "VL_$_k=\$_v"
                ;;
        esac
done
unset _w _k _v

VL_ROOT=/mnt/host                   # L0's / (9p, read-only) with L1's /dev /proc /sys /tmp bound in
VL_VERDICTS=${VL_VERDICTS:-/tmp/verdicts}
VL_CASEDIR=${VL_CASEDIR:-/tmp/case} # per-case scratch: logs here are shown when the case fails
VL_BIN=${VL_BUILD:+$VL_BUILD/launcher/vfio-launch}
CASE=${CASE:-harness}

case ${VL_TOPO:-rootport} in
rootbus) DEV0=0000:00:05.0 DEV1=0000:00:05.1 ;;
*) DEV0=0000:01:00.0 DEV1=0000:01:00.1 ;;
esac
ORIG0=e1000e          # the "GPU" function's host driver
ORIG1=snd_hda_intel   # its "HDMI audio"
DEVS="$DEV0 $DEV1"
SYSPCI=/sys/bus/pci/devices

# ---- output -------------------------------------------------------------
now() { read -r _up _ < /proc/uptime; echo "$_up"; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.2f", b - a }'; }
pass() { echo "PASS: $CASE: $*"; echo PASS >> "$VL_VERDICTS"; }
fail() { echo "FAIL: $CASE: $*"; echo FAIL >> "$VL_VERDICTS"; }
note() { echo "NOTE: $CASE: $*"; }
# check WHAT CMD...: PASS or FAIL by the command's status; returns it.
check() {
        _what=$1
        shift
        if "$@"; then pass "$_what"; else fail "$_what"; return 1; fi
}
# expect_rc WHAT WANT RC FILE: a command's exit status; a FAIL quotes the
# last line of its output FILE (the reason is then in the FAIL line itself).
expect_rc() {
        if [ "$3" = "$2" ]; then pass "$1 (rc=$3)"; return 0; fi
        fail "$1 (rc=$3): $(tail -n 1 "$4" 2>/dev/null | cut -c1-200)"
        return 1
}
# Show a file (indented) on the console, last N lines.
show() { [ -s "$1" ] && { echo "  ---- ${2:-$1}"; tail -n "${3:-30}" "$1" | sed 's/^/  | /'; }; return 0; }

# ---- PCI state ----------------------------------------------------------
drv() { [ -e "$SYSPCI/$1/driver" ] && basename "$(readlink "$SYSPCI/$1/driver")"; }
group_of() { [ -e "$SYSPCI/$1/iommu_group" ] && basename "$(readlink "$SYSPCI/$1/iommu_group")"; }
is_drv() { [ "$(drv "$1")" = "$2" ]; }
# all_on DRIVER BDF...: every device on DRIVER
all_on() {
        _d=$1
        shift
        for _b in "$@"; do is_drv "$_b" "$_d" || return 1; done
}
at_home() { is_drv "$DEV0" "$ORIG0" && is_drv "$DEV1" "$ORIG1"; }
state() { echo "$DEV0=$(drv "$DEV0" || echo none) $DEV1=$(drv "$DEV1" || echo none) /dev/vfio:[$(ls /dev/vfio 2>/dev/null | tr '\n' ' ')]"; }
vfio_nodes() { ls /dev/vfio 2>/dev/null | grep -v '^vfio$' | tr '\n' ' '; }
no_vfio_nodes() { [ -z "$(vfio_nodes)" ]; }

# wait_for SECS CMD...: poll CMD every 0.1 s; 1 on timeout.
wait_for() {
        _n=$(($1 * 10))
        shift
        while ! "$@"; do
                _n=$((_n - 1))
                [ "$_n" -gt 0 ] || return 1
                sleep 0.1
        done
}

# bind_to DRIVER|"" BDF...: the sysfs dance (driver_override, unbind,
# drivers_probe); "" gives each device back to its default driver. Used by
# the plain-shell smoke case and by the runner to repair after a failed case.
bind_to() {
        _want=$1
        shift
        for _b in "$@"; do
                echo "$_want" > "$SYSPCI/$_b/driver_override"
                [ -e "$SYSPCI/$_b/driver" ] && echo "$_b" > "$SYSPCI/$_b/driver/unbind"
        done
        for _b in "$@"; do echo "$_b" > /sys/bus/pci/drivers_probe; done
        for _b in "$@"; do
                if [ -n "$_want" ]; then wait_for 5 is_drv "$_b" "$_want"; else wait_for 5 test -e "$SYSPCI/$_b/driver"; fi
        done
}

# The emulated HDA function and this kernel's snd_hda_intel (see README):
# every completed probe fails its codec probe and leaks one of the 32 ALSA
# card indexes, so a boot binds it at most 32 times; and unbinding it while that asynchronous probe still runs can oops
# in snd_card_disconnect. So after every give-back wait until each bind has
# logged its message (about 0.2-0.6 s). /run/uevents is written by /vl/uevent.
hda_binds() { grep -c "^bind snd_hda_intel $DEV1\$" /run/uevents; }
# touches BDF...: how many driver binds/unbinds the devices have seen so far.
touches() { cat /run/uevents | grep -cE " ($(echo "$@" | tr ' ' '|'))\$"; }
# The probe's last word: "Cannot probe codecs" (intel-iommu) or "no codecs
# initialized" (amd-iommu).
_hda_settled() {
        [ "$(dmesg | grep -cE "snd_hda_intel $DEV1: (Cannot probe codecs|no codecs initialized)")" -ge "$(hda_binds)" ]
}
hda_settle() { wait_for 10 _hda_settled || echo "NOTE: $CASE: snd_hda_intel probe of $DEV1 not settled after 10s"; }

# ---- processes ----------------------------------------------------------
l2_pids() { pidof qemu-system-x86_64; }
vl_pids() { pidof vfio-launch; }
gone() { ! kill -0 "$1" 2>/dev/null; }
no_l2() { [ -z "$(l2_pids)" ]; }

# ---- QMP (qmpc is the initramfs' tiny static client) --------------------
qmp() { qmpc -t "${QMP_TIMEOUT:-10}" "$@"; }
qmp_status() { qmp "$1" query-status | sed -n 's/.*"status": "\([^"]*\)".*/\1/p'; }
# qmp_hosts SOCK: the sorted host= of every vfio-pci device of the nested
# QEMU, found through QOM (query-pci cannot see behind a root port under -S).
qmp_hosts() {
        _ids=$(qmp "$1" '{"execute":"qom-list","arguments":{"path":"/machine/peripheral"}}' |
                tr '{' '\n' | grep 'child<vfio-pci>' | sed -n 's/.*"name": "\([^"]*\)".*/\1/p')
        for _id in $_ids; do
                qmp "$1" "{\"execute\":\"qom-get\",\"arguments\":{\"path\":\"/machine/peripheral/$_id\",\"property\":\"host\"}}" |
                        sed -n 's/.*"return": "\([^"]*\)".*/\1/p'
        done | sort | tr '\n' ' ' | sed 's/ $//'
}
hmp() { printf '{"execute":"human-monitor-command","arguments":{"command-line":"%s"}}' "$1"; }
# qmp_guest_poweroff SOCK: a real ACPI S5 request as a guest OS makes it
# (QEMU reports SHUTDOWN guest=true reason=guest-shutdown), without booting
# one: program the ICH9 PM base (LPC 00:1f.0 reg 0x40 = 0x600, ACPI_EN in
# reg 0x44) through the config ports, then write SLP_EN|SLP_TYP=0 to PM1a_CNT.
# The vCPUs are paused first: the running firmware uses the same 0xcf8/0xcfc
# config ports, and a write of its between ours sends ours elsewhere (seen: a
# guest reset instead of a poweroff). QEMU handles the shutdown request in
# its main loop, paused or not.
qmp_guest_poweroff() {
        qmp -w SHUTDOWN "$1" '{"execute":"stop"}' \
                "$(hmp 'o /w 0xcf8 0x8000f840')" "$(hmp 'o /w 0xcfc 0x601')" \
                "$(hmp 'o /w 0xcf8 0x8000f844')" "$(hmp 'o /b 0xcfc 0x80')" "$(hmp 'o /h 0x604 0x2000')"
}

# ---- the nested QEMU run by hand (smoke) --------------------------------
# l2_start SOCK LOG BDF...: the host's QEMU through the chroot, -S, each BDF
# as a vfio-pci device behind one root port (function N = position N).
l2_start() {
        _sock=$1 _log=$2
        shift 2
        set -- $(_l2_devs "$@")
        rm -f "$_sock"
        chroot "$VL_ROOT" /usr/bin/qemu-system-x86_64 -M q35 -accel tcg -m 64M -nodefaults \
                -no-user-config -display none -S -qmp "unix:$_sock,server=on,wait=off" \
                -device pcie-root-port,id=rp1,bus=pcie.0,chassis=1,slot=1,addr=0x4 "$@" > "$_log" 2>&1 &
        L2PID=$!
}
_l2_devs() {
        _f=0
        for _b in "$@"; do
                echo "-device vfio-pci,host=$_b,id=hostdev$_f,bus=rp1,addr=0x0.$_f,multifunction=on"
                _f=$((_f + 1))
        done
}

# ---- the display adapter (vm-needs: display) ----------------------------
GPU=0000:00:08.0      # bochs-display: L1's only GPU
# fbcon_on_gpu: a virtual console of fbcon's is bound (it draws on the
# bochs-display's framebuffer: the only one).
fbcon_on_gpu() {
        for _v in /sys/class/vtconsole/vtcon*; do
                grep -q 'frame buffer device' "$_v/name" 2>/dev/null && [ "$(cat "$_v/bind")" = 1 ] && return 0
        done
        return 1
}
gpu_home() { is_drv "$GPU" bochs-drm && [ -e /sys/module/bochs/initstate ] && fbcon_on_gpu; }
gpu_state() {
        echo "$GPU=$(drv "$GPU" || echo none) bochs=$([ -e /sys/module/bochs ] && echo loaded || echo unloaded)" \
                "vtcon:[$(for _v in /sys/class/vtconsole/vtcon*; do printf '%s=%s(%s) ' "${_v##*/}" "$(cat "$_v/bind")" "$(cat "$_v/name")"; done)]"
}

# ---- vfio-launch --------------------------------------------------------
# ---- the USB keyboard (vm-needs: usb) ------------------------------------
# usb_kbd: find QEMU's usb-kbd (0627:0001) in L1's sysfs and check it: sets
# _dir (its sysfs folder), _node (/dev/bus/usb/BBB/DDD) and _before (its
# owner, group and mode); 1 with a FAIL when it is not there.
usb_kbd() {
        _dir=
        for _d in /sys/bus/usb/devices/*; do
                [ "$(cat "$_d/idVendor" 2>/dev/null):$(cat "$_d/idProduct" 2>/dev/null)" = 0627:0001 ] && _dir=$_d
        done
        if [ -z "$_dir" ]; then
                fail "no 0627:0001 in L1's /sys/bus/usb/devices ($(ls /sys/bus/usb/devices 2>&1 | tr '\n' ' '))"
                return 1
        fi
        _node=$(printf '/dev/bus/usb/%03d/%03d' "$(cat "$_dir/busnum")" "$(cat "$_dir/devnum")")
        _before=$(stat -c '%u:%g %a' "$_node")
        check "L1's keyboard ${_dir##*/} is $_node ($_before), its interface on $(basename "$(readlink "$_dir/${_dir##*/}:1.0/driver")")" \
                test -c "$_node"
        return 0 # a failed check is counted; the case goes on, as a missing node shows later too
}

profile() { echo "$VL_SRC/profiles/$1.json"; }
# need_vl: the case needs the built launcher; FAIL and end the case without it.
need_vl() {
        if [ -z "$VL_BIN" ]; then fail "no build dir given (run.sh -b BUILD or VL_BUILD_DIR)"; exit 1; fi
        if [ ! -x "$VL_ROOT$VL_BIN" ]; then fail "vfio-launch not built: $VL_BIN"; exit 1; fi
}
# vl ARGS...: the built launcher, run as root in the host root through the
# chroot (the profiles say "accel": "tcg": L1 has no KVM).
VL_PATH=/usr/sbin:/usr/bin:/sbin:/bin
vl() { chroot "$VL_ROOT" /usr/bin/env PATH="$VL_PATH" "$VL_BIN" "$@"; }
# vl_out FILE ARGS...: same, output (both streams) to FILE; returns its status.
vl_out() {
        _o=$1
        shift
        echo "\$ vfio-launch $*" > "$_o"
        vl "$@" >> "$_o" 2>&1
}
# vl_start NAME ARGS...: the launcher in the background; VLPID = its pid
# (busybox chroot execs, so it is vfio-launch itself); output in $VL_CASEDIR/NAME.out
# A case that starts NAME again keeps the earlier run's output as NAME.out.1
# (.2, ...): the runner shows every file of a failed case.
vl_start() {
        _n=$1
        shift
        if [ -e "$VL_CASEDIR/$_n.out" ]; then
                _i=1
                while [ -e "$VL_CASEDIR/$_n.out.$_i" ]; do _i=$((_i + 1)); done
                mv "$VL_CASEDIR/$_n.out" "$VL_CASEDIR/$_n.out.$_i"
        fi
        echo "\$ vfio-launch $*" > "$VL_CASEDIR/$_n.out"
        # a plain command, not the vl function: ash would fork a subshell
        # for a function and $! would not be the launcher (chroot and env exec)
        chroot "$VL_ROOT" /usr/bin/env PATH="$VL_PATH" "$VL_BIN" "$@" >> "$VL_CASEDIR/$_n.out" 2>&1 &
        VLPID=$!
}
# The launcher's per-VM state, as L1 sees the chroot's /run (a tmpfs).
run_dir() { echo "$VL_ROOT/run/vfio-launch/$1"; }
journal() { echo "$(run_dir "$1")/state.json"; }
# `vfio-launch bind` keeps its record apart from the runs' journals.
bound_journal() { echo "$VL_ROOT/run/vfio-launch-bound/$1/state.json"; }
# vl_status NAME: `vfio-launch status NAME` (one JSON object) or nothing.
vl_status() { vl status "$1" 2>/dev/null; }
# vl_said NAME: the launcher's last two lines for NAME, on one line: the
# reason a VM is gone belongs in the FAIL line that finds it gone.
vl_said() { tail -n 2 "$VL_CASEDIR/$1.out" 2>/dev/null | tr '\n' ' ' | cut -c1-300; }
# expect_alive WHEN NAME: the VM still runs; else FAIL with the launcher's last words.
expect_alive() {
        _st=$(vl_status "$2" | json_str state)
        if [ "$_st" = running ]; then pass "$1: VM $2 still running"
        else fail "$1: VM $2 not running (state '${_st:-none}'); the launcher said: $(vl_said "$2")"; fi
}
json_str() { sed -n "s/.*\"$1\": *\"\([^\"]*\)\".*/\1/p"; }
json_num() { sed -n "s/.*\"$1\": *\([0-9]*\).*/\1/p"; }
# qmp_sock NAME: the QMP monitor the cases talk to: the "qmp" path that
# `vfio-launch status` reported when the VM became ready (seen from L1),
# else RUN_DIR/NAME/qmp.sock. vl.qmpsock=FILE on the kernel line forces
# RUN_DIR/NAME/FILE. It must accept an outside client while the launcher
# supervises the VM.
qmp_sock() {
        if [ -n "$VL_QMPSOCK" ]; then echo "$(run_dir "$1")/$VL_QMPSOCK"
        elif [ -n "$VMQMP" ]; then echo "$VL_ROOT$VMQMP"
        else echo "$(run_dir "$1")/qmp.sock"; fi
}
_ready() {
        gone "$VLPID" && return 0
        VMSTATUS=$(vl_status "$1")
        [ "$(echo "$VMSTATUS" | json_str state)" = running ]
}
# vl_wait_ready NAME [SECS]: until `vfio-launch status NAME` says running.
# 0 ready; 1 the launcher exited (status in VLRC) or timeout.
vl_wait_ready() {
        _t0=$(now)
        VMQMP=
        if ! wait_for "${2:-90}" _ready "$1"; then
                fail "VM $1 not running after ${2:-90}s: status: ${VMSTATUS:-none}"
                return 1
        fi
        if gone "$VLPID"; then
                wait "$VLPID"
                VLRC=$?
                fail "vfio-launch exited ($VLRC) before the VM was running"
                return 1
        fi
        VMQMP=$(echo "$VMSTATUS" | json_str qmp)
        note "VM $1 running after $(since "$_t0")s: $VMSTATUS"
}
# vl_wait_exit SECS: wait for the background launcher; VLRC = its status (or 124).
vl_wait_exit() {
        if wait_for "$1" gone "$VLPID"; then
                wait "$VLPID"
                VLRC=$?
        else
                VLRC=124
                return 1
        fi
}
# expect_home WHEN [SECS]: both functions back on their host drivers and no
# /dev/vfio/GROUP left, within SECS (default 10).
expect_home() {
        if wait_for "${2:-10}" at_home && wait_for 5 no_vfio_nodes; then
                pass "$1: devices back: $(state)"
                hda_settle
        else
                fail "$1: devices not given back: $(state)"
        fi
}
# expect_on_vfio WHEN BDF...: each on vfio-pci and its /dev/vfio/GROUP present.
expect_on_vfio() {
        _w=$1
        shift
        _ok=1
        for _b in "$@"; do
                is_drv "$_b" vfio-pci && [ -c "/dev/vfio/$(group_of "$_b")" ] || _ok=0
        done
        if [ $_ok = 1 ]; then pass "$_w: on vfio-pci: $(state)"; else fail "$_w: not on vfio-pci: $(state)"; fi
}
# expect_l2_hosts SOCK BDF...: the nested QEMU's vfio-pci devices are
# exactly these (QMP qom-list + qom-get host).
expect_l2_hosts() {
        _s=$1
        shift
        _want=$(echo "$@" | tr ' ' '\n' | sort | tr '\n' ' ' | sed 's/ $//')
        _got=$(qmp_hosts "$_s" 2> "$VL_CASEDIR/qmp-err.log")
        if [ "$_got" = "$_want" ]; then
                pass "nested QEMU has vfio-pci host=[$_got] (QMP qom-get on ${_s#$VL_ROOT})"
        else
                fail "nested QEMU vfio-pci hosts [$_got], expected [$_want] (QMP on ${_s#$VL_ROOT}: $(head -c 300 "$VL_CASEDIR/qmp-err.log"))"
        fi
}
# qmp_or_fail NAME WHAT CMD...: a QMP command to the VM; FAIL on error.
qmp_or_fail() {
        _s=$(qmp_sock "$1")
        _w=$2
        shift 2
        qmp "$_s" "$@" > "$VL_CASEDIR/qmp-$_w.log" 2>&1 && return 0
        fail "QMP $_w on ${_s#$VL_ROOT}: $(tail -n 2 "$VL_CASEDIR/qmp-$_w.log" | tr '\n' ' ')"
        return 1
}
# l2_holds_node PID NODE: the nested QEMU has NODE (a /dev path) open.
l2_holds_node() {
        for _fd in /proc/"$1"/fd/*; do
                # seen from L1 the chroot's /dev is $VL_ROOT/dev
                case $(readlink "$_fd") in "$2" | "$VL_ROOT$2") return 0 ;; esac
        done
        return 1
}
# l2_holds PID GROUP: the nested QEMU has /dev/vfio/GROUP open.
l2_holds() { l2_holds_node "$1" "/dev/vfio/$2"; }
# tcg_profile IN OUT: the profile IN with the settings a nested VM needs
# here (L1 has no KVM: accel tcg, cpu model max, BIOS, no ROM BARs; QEMU as
# nobody, a short shutdown), nothing else changed, written to OUT.
tcg_profile() {
        chroot "$VL_ROOT" /usr/bin/python3 -c 'import json, sys
p = json.load(open(sys.argv[1]))
p.update({"accel": "tcg", "firmware": {"type": "bios"}, "user": "nobody", "allow_shared_user": True,
          "shutdown_timeout": 5})
p["cpu"]["model"] = "max"
for d in p["hostdevs"]:
    d["rombar"] = False
json.dump(p, open(sys.argv[2], "w"), indent=2)' "$1" "$2"
}

# vm_up NAME PROFILE: `vfio-launch PROFILE.json` in the background, then wait
# until its VM answers QMP. On failure the case should call vm_abort.
vm_up() {
        vl_start "$1" "$(profile "$2")"
        vl_wait_ready "$1"
}
# vm_abort NAME: end a run the case gave up on: stop, then signals.
vm_abort() {
        gone "$VLPID" && return 0
        vl stop "$1" > /dev/null 2>&1
        wait_for 20 gone "$VLPID" || kill -TERM "$VLPID"
        wait_for 10 gone "$VLPID" || kill -9 "$VLPID"
        wait "$VLPID" 2>/dev/null
        return 0
}
# expect_running NAME BDF...: while the VM runs, exactly these functions are
# on vfio-pci, the one nested QEMU (the pid `status` reports) has them on its
# command line and holds their groups open, the journal exists, and QOM shows
# them as vfio-pci devices.
expect_running() {
        _n=$1
        shift
        expect_on_vfio "while $_n runs" "$@"
        _pid=$(l2_pids)
        _spid=$(echo "$VMSTATUS" | json_num qemu_pid)
        if [ -z "$_pid" ] || [ "$_pid" != "$_spid" ]; then
                fail "expected one nested QEMU with the pid status reports ($_spid), found [$_pid]"
                return 1
        fi
        _cmd=$(tr '\0' ' ' < "/proc/$_pid/cmdline")
        for _b in "$@"; do
                check "nested QEMU (pid $_pid) has -device vfio-pci,host=$_b" \
                        sh -c 'case "$1" in *vfio-pci,host=$2[,\ ]*) exit 0 ;; esac; exit 1' sh "$_cmd" "$_b"
        done
        for _g in $(for _b in "$@"; do group_of "$_b"; done | sort -u); do
                check "nested QEMU holds /dev/vfio/$_g open" l2_holds "$_pid" "$_g"
        done
        check "journal /run/vfio-launch/$_n/state.json present while $_n runs" test -f "$(journal "$_n")"
        expect_sandboxed "$_pid" "$_cmd"
        expect_l2_hosts "$(qmp_sock "$_n")" "$@"
}
# expect_sandboxed PID CMDLINE: the nested QEMU as the launcher set it up:
# not root, no capabilities (bounding set included), NO_NEW_PRIVS, two
# seccomp filters (the launcher's and QEMU's -sandbox), and RLIMIT_MEMLOCK =
# guest RAM + 1 GiB (VFIO pins all guest memory), the RAM read from QEMU's
# own "-m size=NM".
expect_sandboxed() {
        _st=/proc/$1/status
        _f() { sed -n "s/^$1:[[:space:]]*//p" "$_st" | tr '\t' ' '; }
        check "nested QEMU runs as nobody (Uid $(_f Uid))" test "$(_f Uid)" = "65534 65534 65534 65534"
        check "nested QEMU: CapEff/CapBnd 0" test "$(_f CapEff)$(_f CapBnd)" = "00000000000000000000000000000000"
        check "nested QEMU: NoNewPrivs 1, Seccomp 2, 2 filters" \
                test "$(_f NoNewPrivs) $(_f Seccomp) $(_f Seccomp_filters)" = "1 2 2"
        _mib=$(echo "$2" | sed -n 's/.* -m size=\([0-9]*\)M .*/\1/p')
        _want=$(( (_mib + 1024) * 1048576 ))
        _got=$(awk '/^Max locked memory/ { print $4 }' "/proc/$1/limits")
        check "nested QEMU: RLIMIT_MEMLOCK $_got = ${_mib} MiB RAM + 1 GiB ($_want)" test "$_got" = "$_want"
}
# expect_exit WHAT SECS RC: the background launcher ends within SECS with RC
# (RC may be a case pattern: "1|3").
expect_exit() {
        _t0=$(now)
        if vl_wait_exit "$2"; then
                check "vfio-launch exited $VLRC after $1 (expected $3, $(since "$_t0")s)" \
                        sh -c "case $VLRC in $3) exit 0 ;; esac; exit 1"
        else
                fail "vfio-launch still running ${2}s after $1"
                vm_abort "${VMNAME:-vmtest}"
                return 1
        fi
}
# expect_no_journal NAME: a finished run leaves no journal behind.
expect_no_journal() { check "journal of $1 removed" test ! -e "$(journal "$1")"; }
