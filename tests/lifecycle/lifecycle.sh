#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# CLI-level lifecycle tests: the built vfio-launch runs a real QEMU (TCG) with
# a small Linux guest (build-guest.sh) and each case checks what a user sees:
# the exit status, the message on stderr, and what is left on the host
# (/run/vfio-launch/NAME, its journal, QEMU processes). The profiles have no
# hostdevs, so nothing in sysfs is touched: safe on any machine.
#
#   lifecycle.sh -b BUILD_DIR [CASE...]     (all cases when none is given)
#
# Cases: graceful acpi-ignored kill-qemu kill-launcher sigterm-startup
#        start-failure second-start guest-poweroff sandbox pinning hugepages platform tpm
#        blockdev shmem input top
# Each check prints PASS/FAIL; the exit status is 1 on any FAIL, else 77
# (skipped) when not root or when a case could not run all its checks here
# (a "SKIP: CASE: REASON" line says why). Needs root (the launcher switches
# QEMU to user nobody).
# env: VL_VM_CACHE (see build-guest.sh), VL_LIFE_KEEP=1 keeps temp dirs.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
BUILD=${VL_BUILD_DIR:-}
while getopts b: o; do
        case $o in
        b) BUILD=$OPTARG ;;
        *) exit 2 ;;
        esac
done
shift $((OPTIND - 1))
[ -n "$BUILD" ] || { echo "usage: $0 -b BUILD_DIR [CASE...]" >&2; exit 2; }
VL=$(cd "$BUILD" && pwd)/launcher/vfio-launch
[ -x "$VL" ] || { echo "lifecycle: $VL not built" >&2; exit 2; }
if [ "$(id -u)" != 0 ]; then
        echo "SKIP: lifecycle tests need root (QEMU is started as user nobody)"
        exit 77
fi
RUN_DIR=/run/vfio-launch
LOG_DIR=/var/log/vfio-launch
STATE_DIR=/var/lib/vfio-launch
ALL="graceful acpi-ignored kill-qemu kill-launcher sigterm-startup start-failure second-start
     guest-poweroff sandbox pinning hugepages platform tpm blockdev shmem input top"

eval "$("$here/build-guest.sh" 2>/dev/null | grep -E '^(KERNEL|INITRD)=')" ||
        { echo "lifecycle: build-guest.sh failed" >&2; exit 1; }
if ! setpriv --reuid=nobody --regid=nogroup --clear-groups test -r "$KERNEL" -a -r "$INITRD"; then
        echo "FAIL: user nobody cannot read $KERNEL and $INITRD (QEMU runs as nobody)"
        exit 1
fi

fails=0
skips=0
CASE=
pass() { echo "PASS: $CASE: $*"; }
skip() { echo "SKIP: $CASE: $*"; skips=$((skips + 1)); } # then return from the case
fail() { echo "FAIL: $CASE: $*"; fails=$((fails + 1)); }
check() { # check DESCRIPTION COMMAND...
        local what=$1; shift
        if "$@"; then pass "$what"; else fail "$what"; fi
}
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.2f", b - a }'; }

# ---- per-case state and helpers --------------------------------------------
T='' NAME='' LPID='' QPID='' RC='' LOOP='' LOOP_ORIG='' UPID=''

new_vm() { # new_vm MODE [SHUTDOWN_TIMEOUT [DISK_PATH]]: a fresh temp dir + profile
        T=$(mktemp -d /tmp/vl-life.XXXXXX)
        chmod 0755 "$T"       # QEMU (nobody) opens the disk image in it
        NAME=life-$CASE-$$
        LPID='' QPID='' RC=''
        truncate -s 1M "$T/disk.img"
        chown nobody "$T/disk.img"
        cat > "$T/$NAME.json" <<EOF
{
  "name": "$NAME",
  "accel": "tcg",
  "cpu": { "model": "max" },
  "firmware": { "type": "bios" },
  "memory": "128M",
  "user": "nobody",
  "boot": { "kernel": "$KERNEL", "initrd": "$INITRD", "cmdline": "quiet panic=-1 vl.mode=$1" },
  "disks": [ { "path": "${3:-$T/disk.img}", "format": "raw", "bus": "virtio" } ],
  "shutdown_timeout": ${2:-30}
}
EOF
}

start() { # the launcher in the background; stderr in $T/err
        "$VL" "$T/$NAME.json" > "$T/out" 2> "$T/err" &
        LPID=$!
}

alive() { kill -0 "$1" 2>/dev/null; }

# swtpm processes of this VM, found by their state folder (unique per VM).
swtpm_pids() {
        local f a
        for f in /proc/[0-9]*/cmdline; do
                mapfile -d '' -t a < "$f" 2>/dev/null || continue
                [[ " ${a[*]} " == *" dir=$STATE_DIR/$NAME/tpm,"* ]] &&
                        { f=${f#/proc/}; echo "${f%/cmdline}"; }
        done
}

# QEMU processes of this VM, found by their -name argument (not by program
# name: other people's QEMUs may run on this machine).
qemu_pids() {
        local f a
        for f in /proc/[0-9]*/cmdline; do
                mapfile -d '' -t a < "$f" 2>/dev/null || continue
                [[ " ${a[*]} " == *" -name guest=$NAME,"* ]] &&
                        { f=${f#/proc/}; echo "${f%/cmdline}"; }
        done
}

wait_running() { # wait_running SECS: the "running (QEMU pid N)" line; sets QPID
        local i
        for ((i = 0; i < $1 * 20; i++)); do
                QPID=$(sed -n 's/.*: running (QEMU pid \([0-9]*\)).*/\1/p' "$T/err")
                [ -n "$QPID" ] && return 0
                alive "$LPID" || return 1
                sleep 0.05
        done
        return 1
}

wait_marker() { # wait_marker TEXT SECS: the guest wrote TEXT on its disk
        local i
        for ((i = 0; i < $2 * 10; i++)); do
                grep -aq "$1" "$T/disk.img" && return 0
                alive "$LPID" || return 1
                sleep 0.1
        done
        return 1
}

wait_exit() { # wait_exit SECS: the launcher exited; sets RC (124 = still running)
        local i
        for ((i = 0; i < $1 * 20; i++)); do
                alive "$LPID" || break
                sleep 0.05
        done
        if alive "$LPID"; then
                RC=124
                return 1
        fi
        wait "$LPID"
        RC=$?
        LPID=
        return 0
}

gone_within() { # gone_within SECS PID STARTTIME: the process ended (PID not reused)
        local i st
        for ((i = 0; i < $1 * 20; i++)); do
                st=$(awk '{ print $22 }' "/proc/$2/stat" 2>/dev/null) || return 0
                [ "$st" = "$3" ] || return 0
                sleep 0.05
        done
        return 1
}

has_err() { grep -q -- "$1" "$T/err"; }
no_run_dir() { [ ! -e "$RUN_DIR/$NAME" ]; }
no_qemu() { [ -z "$(qemu_pids)" ]; }
exit_is() { [ "$RC" = "$1" ]; }

show() { # the launcher's stderr and QEMU's log, after a failure
        echo "---- $CASE: launcher stderr:"
        sed 's/^/  /' "$T/err"
        [ -f "$LOG_DIR/$NAME.log" ] && { echo "---- QEMU log:"; sed 's/^/  /' "$LOG_DIR/$NAME.log"; }
}

cleanup() { # whatever a failed case left: only our own processes, by PID
        local p
        if [ -n "$LPID" ] && alive "$LPID"; then
                kill -9 "$LPID" 2>/dev/null
                wait "$LPID" 2>/dev/null
        fi
        for p in $(qemu_pids); do kill -9 "$p" 2>/dev/null; done
        if [ -n "$NAME" ]; then
                for p in $(swtpm_pids); do kill -9 "$p" 2>/dev/null; done
                [ -e "$RUN_DIR/$NAME" ] && "$VL" recover "$NAME" >/dev/null 2>&1
                rm -rf "${RUN_DIR:?}/$NAME"
                rm -f "$LOG_DIR/$NAME.log"
                rm -rf "${STATE_DIR:?}/$NAME" # a TPM's state: this test VM's own
                rm -f "/dev/shm/$NAME"        # the shmem case's file: named after this test VM
        fi
        # The loop device the case made, by the name losetup gave it, with
        # the owner and mode its node had before the case changed them.
        if [ -n "$LOOP" ]; then
                [ -n "$LOOP_ORIG" ] && chown "${LOOP_ORIG% *}" "$LOOP" && chmod "${LOOP_ORIG#* }" "$LOOP"
                losetup -d "$LOOP" 2>/dev/null
        fi
        # The input case's uinput keyboard: its device goes with the process.
        if [ -n "$UPID" ]; then
                exec 7>&-
                kill "$UPID" 2>/dev/null
                wait "$UPID" 2>/dev/null
        fi
        [ -n "$T" ] && [ "${VL_LIFE_KEEP:-0}" != 1 ] && rm -rf "$T"
        T='' NAME='' LPID='' QPID='' LOOP='' LOOP_ORIG='' UPID=''
}
trap cleanup EXIT

# ---- the cases ----------------------------------------------------------------

# (a) stop → ACPI power button → the guest powers off → exit 0.
case_graceful() {
        new_vm acpi 30
        start
        check "running line" wait_running 30 || return
        check "guest up, listening to the power button" wait_marker VL-UP 60 || return
        check "'vfio-launch stop' accepted" "$VL" stop "$NAME"
        wait_exit 40
        check "exit status 0 (got $RC)" exit_is 0
        check "the guest saw the power button" grep -aq VL-BUTTON "$T/disk.img"
        check "stderr: stopped gracefully" has_err "stopped (guest shut down on request)"
        check "stderr: QEMU reported the guest's shutdown" has_err "shutting down (guest-shutdown)"
        check "$RUN_DIR/$NAME removed" no_run_dir
        check "no QEMU left" no_qemu
}

# (b) a guest that ignores the button: shutdown_timeout, then quit → exit 5.
case_acpi_ignored() {
        new_vm ignore 1
        start
        check "running line" wait_running 30 || return
        check "guest up" wait_marker VL-UP 60 || return
        local t0; t0=$(now)
        check "'vfio-launch stop' accepted" "$VL" stop "$NAME"
        wait_exit 20
        check "exit status 5 (got $RC) after $(elapsed "$t0") s" exit_is 5
        check "stderr: the guest did not power off within 1 s" has_err "did not power off within 1 s"
        check "stderr: QEMU told to quit" has_err "telling QEMU to quit"
        check "stderr: stopped by force" has_err "stopped by force"
        check "$RUN_DIR/$NAME removed" no_run_dir
        check "no QEMU left" no_qemu
}

# (c) kill -9 of QEMU → exit 4, nothing left.
case_kill_qemu() {
        new_vm ignore
        start
        check "running line" wait_running 30 || return
        check "$RUN_DIR/$NAME there while it runs" test -S "$RUN_DIR/$NAME/control.sock"
        check "QEMU found by its -name while it runs" test "$(qemu_pids)" = "$QPID"
        kill -9 "$QPID"
        wait_exit 10
        check "exit status 4 (got $RC)" exit_is 4
        check "stderr: QEMU failed (Killed)" has_err "QEMU failed (Killed)"
        check "$RUN_DIR/$NAME (journal included) removed" no_run_dir
        check "no QEMU left" no_qemu
}

# (d) kill -9 of the launcher → QEMU dies with it (PDEATHSIG); `recover`
# cleans up. These profiles have no hostdevs: the launcher changes nothing
# on the host, so it writes no journal and there is no device to give back
# and nothing in sysfs to restore; what a dead run leaves is its run
# directory (lock, sockets), and recover removes that.
case_kill_launcher() {
        local qstart
        new_vm ignore
        start
        check "running line" wait_running 30 || return
        qstart=$(awk '{ print $22 }' "/proc/$QPID/stat")
        kill -9 "$LPID"
        wait "$LPID" 2>/dev/null
        LPID=
        check "QEMU (pid $QPID) gone within 5 s of its launcher (PDEATHSIG)" \
                gone_within 5 "$QPID" "$qstart"
        check "no QEMU left" no_qemu
        check "run directory left behind" test -d "$RUN_DIR/$NAME"
        check "no journal (no hostdevs: no host change to record)" test ! -e "$RUN_DIR/$NAME/state.json"
        check "'vfio-launch status' says it is not running" \
                sh -c "'$VL' status '$NAME' 2>&1 | grep -q 'is not running'"
        "$VL" recover "$NAME" > "$T/recover.out" 2>&1
        RC=$?
        check "recover: exit status 0 (got $RC)" exit_is 0
        check "recover: removed the dead run's directory" \
                grep -q "$NAME: removed what its run left in $RUN_DIR (no devices to give back)" "$T/recover.out"
        check "$RUN_DIR/$NAME removed, no journal" no_run_dir
        check "recover again: nothing to recover" \
                sh -c "'$VL' recover '$NAME' 2>&1 | grep -q '$NAME: nothing to recover'"
        [ "$fails" = 0 ] || sed 's/^/  recover: /' "$T/recover.out"
}

# (e) SIGTERM while QEMU is starting (exec'd, before `cont`) → prompt non-zero
# exit, no QEMU left. The window is the ~100 ms between QEMU's exec and QMP
# ready: the signal goes as soon as the launcher has a child running QEMU
# with this VM's -name (not the `qemu -version` probe it runs earlier).
# Retried when the launcher was faster than this script (it printed "running").
case_sigterm_startup() {
        local try kids k qemu t0 args
        for try in 1 2 3; do
                new_vm ignore
                start
                qemu=
                while [ -z "$qemu" ] && alive "$LPID"; do
                        kids=
                        read -r kids < "/proc/$LPID/task/$LPID/children" 2>/dev/null
                        for k in $kids; do
                                mapfile -d '' -t args < "/proc/$k/cmdline" 2>/dev/null
                                [[ " ${args[*]} " == *" guest=$NAME,"* ]] && qemu=$k
                        done
                done
                t0=$(now)
                kill -TERM "$LPID"
                wait_exit 15
                if [ -n "$qemu" ] && ! has_err ": running (QEMU pid"; then
                        break
                fi
                [ "$try" = 3 ] && break
                echo "NOTE: $CASE: attempt $try missed the start-up window, retrying"
                cleanup
        done
        check "QEMU was started before the signal (pid $qemu)" test -n "$qemu"
        check "signal arrived before the VM ran (no 'running' line)" \
                sh -c "! grep -q ': running (QEMU pid' '$T/err'"
        check "exited within 15 s ($(elapsed "$t0") s)" test "$RC" != 124
        check "exit status non-zero (got $RC)" test "$RC" != 0
        check "stderr: SIGTERM received" has_err "SIGTERM received"
        check "$RUN_DIR/$NAME removed" no_run_dir
        check "no QEMU left" no_qemu
}

# (f) QEMU cannot start (its disk image does not exist) → exit 3 with QEMU's
# own error shown, nothing left.
case_start_failure() {
        new_vm ignore 30 /nonexistent/vl-life-missing.img
        start
        wait_exit 30
        check "exit status 3 (got $RC)" exit_is 3
        check "stderr: QEMU failed to start" has_err "QEMU"
        check "stderr: QEMU's own error about the missing image" \
                has_err "Could not open '/nonexistent/vl-life-missing.img'"
        check "$RUN_DIR/$NAME removed" no_run_dir
        check "no QEMU left" no_qemu
}

# (g) a second start of the same VM name is refused, naming the running
# launcher's PID, and does not disturb the first.
case_second_start() {
        local first st
        new_vm ignore
        start
        check "running line" wait_running 30 || return
        first=$LPID
        timeout 20 "$VL" "$T/$NAME.json" > /dev/null 2> "$T/err2"
        RC=$?
        check "second start: exit status 1 (got $RC)" exit_is 1
        check "second start: refused naming pid $first" \
                grep -q "already running (vfio-launch pid $first)" "$T/err2"
        st=$("$VL" status "$NAME")
        check "first still answers status as pid $first" grep -q "\"launcher_pid\":$first," <<< "$st"
        check "first still running" grep -q '"state":"running"' <<< "$st"
        "$VL" stop --force "$NAME"
        wait_exit 20
        check "first: stop --force → exit status 5 (got $RC)" exit_is 5
        check "$RUN_DIR/$NAME removed" no_run_dir
        check "no QEMU left" no_qemu
        [ "$fails" = 0 ] || sed 's/^/  second start: /' "$T/err2"
}

# (h) the guest powers off by itself → exit 0.
case_guest_poweroff() {
        new_vm poweroff
        start
        check "running line" wait_running 30 || return
        wait_exit 60
        check "guest wrote its marker before powering off" grep -aq VL-UP "$T/disk.img"
        check "exit status 0 (got $RC)" exit_is 0
        check "stderr: guest powered off" has_err ": guest powered off"
        check "$RUN_DIR/$NAME removed" no_run_dir
        check "no QEMU left" no_qemu
}

# platform: what the guest sees of the profile's clock, SMBIOS and watchdog,
# and what a run does with qemu_args. The guest reads its DMI strings (a
# comma in one: QEMU's ",," escaping) and clock sources (no HPET), then arms
# an i6300esb it never feeds; QEMU's action "poweroff" ends the run and the
# launcher says the watchdog fired. status says the VM is tainted.
case_platform() {
        new_vm platform
        python3 - "$T/$NAME.json" <<'PY'
import json, sys
p = json.load(open(sys.argv[1]))
p["clock"] = {"rtc": "localtime", "driftfix": "slew", "tick_policy": "delay", "hpet": False}
p["smbios"] = {"system": {"manufacturer": "Vendor, Inc.", "serial": "SN-1234"},
               "baseboard": {"product": "Board X1"}, "chassis": {"asset": "asset-77"},
               "bios": {"date": "02/14/2024"}}
p["watchdog"] = {"model": "i6300esb", "action": "poweroff"}
p["qemu_args"] = ["-global", "ICH9-LPC.disable_s3=1"]
json.dump(p, open(sys.argv[1], "w"))
PY
        start
        check "running line" wait_running 30 || return
        check "stderr: qemu_args warned about" has_err "qemu_args: 2 extra arguments passed to QEMU as written"
        check "status says tainted" sh -c "'$VL' status '$NAME' | grep -q '\"tainted\":\[\"qemu_args\"\]'"
        check "guest read its DMI strings" wait_marker VL-DMI 90 || return
        local dmi
        dmi=$(grep -ao 'VL-DMI [^[:cntrl:]]*' "$T/disk.img" | head -1)
        check "DMI as the profile says ($dmi)" \
                test "$(echo "$dmi" | cut -d'|' -f1-5)" = "VL-DMI Vendor, Inc.|SN-1234|Board X1|asset-77|02/14/2024"
        check "no HPET among the clock sources" sh -c "! echo '$dmi' | cut -d'|' -f6 | grep -q hpet"
        check "guest armed the watchdog" wait_marker VL-WATCHDOG-ARMED 60 || return
        wait_exit 60
        check "the run ended after the watchdog fired (exit status $RC)" test "$RC" != 124
        check "stderr: the watchdog fired, action poweroff" has_err "watchdog fired (action: poweroff)"
        check "$RUN_DIR/$NAME removed" no_run_dir
        check "no QEMU left" no_qemu
}

# (i) the running QEMU's credentials, from /proc/PID/status.
case_sandbox() {
        new_vm ignore
        start
        check "running line" wait_running 30 || return
        local s="$T/status"
        cp "/proc/$QPID/status" "$s"
        field() { awk -v k="$1:" '$1 == k { $1 = ""; sub(/^ /, ""); print }' "$s"; }
        check "Uid not 0 ($(field Uid))" sh -c "! awk '\$1 == \"Uid:\" { for (i = 2; i <= 5; i++) if (\$i == 0) exit 0; exit 1 }' '$s'"
        check "Gid not 0 ($(field Gid))" sh -c "! awk '\$1 == \"Gid:\" { for (i = 2; i <= 5; i++) if (\$i == 0) exit 0; exit 1 }' '$s'"
        check "CapEff 0 ($(field CapEff))" test "$(field CapEff)" = 0000000000000000
        check "CapBnd 0 ($(field CapBnd))" test "$(field CapBnd)" = 0000000000000000
        check "NoNewPrivs 1" test "$(field NoNewPrivs)" = 1
        check "Seccomp 2 (filter)" test "$(field Seccomp)" = 2
        check "Seccomp_filters 2 (launcher's + QEMU's -sandbox)" test "$(field Seccomp_filters)" = 2
        "$VL" stop --force "$NAME"
        wait_exit 20
        check "stop --force → exit status 5 (got $RC)" exit_is 5
        check "no QEMU left" no_qemu
}

# pinning (the CPU pinning feature): two vCPUs pinned crosswise (vCPU 0 -> CPU 1, vCPU 1 ->
# CPU 0) at SCHED_FIFO 1, QEMU's other threads on CPU 0, read back from /proc/PID/task/*/
# (thread names from -name debug-threads=on: "CPU N/TCG"); a pin on a CPU
# that is not online is refused before anything starts.
case_pinning() {
        local t name got want
        if [ "$(nproc --all)" -lt 2 ]; then
                skip "needs 2 CPUs, this host has $(nproc --all)"
                return
        fi
        new_vm ignore
        # and an I/O thread of the disk on CPU 1 (QEMU names it "IO iothread0")
        sed -i -e 's|"cpu": { "model": "max" }|"cpu": { "model": "max", "cores": 2, "pin": ["1", "0"], "emulator_pin": "0", "rt_priority": 1 },\n  "iothreads": [{ "pin": "1" }]|' \
               -e 's|"bus": "virtio" }|"bus": "virtio", "iothread": 0 }|' "$T/$NAME.json"
        start
        check "running line" wait_running 30 || return
        check "the I/O thread is there" grep -qx 'IO iothread0' /proc/"$QPID"/task/*/comm
        for t in /proc/"$QPID"/task/*; do
                name=$(cat "$t/comm")
                got=$(awk '/^Cpus_allowed_list:/ { print $2 }' "$t/status")
                case $name in
                "CPU 0/TCG") want=1 ;;
                "CPU 1/TCG") want=0 ;;
                "IO iothread0") want=1 ;;
                *) want=0 ;;
                esac
                # QEMU's thread pool: a worker inherits the affinity of the
                # thread that started it — the main loop's (the emulator
                # pin) or the I/O thread's, whose disk it serves.
                if [ "$name" = worker ] && [ "$got" = 1 ]; then
                        want=1
                fi
                check "thread \"$name\" on CPU $want (Cpus_allowed_list $got)" test "$got" = "$want"
                # rt_priority: SCHED_FIFO 1 for the vCPU threads only.
                got=$(chrt -p "${t##*/}" 2>/dev/null | tr '\n' ' ')
                case $name in
                "CPU "[01]"/TCG") check "thread \"$name\" is SCHED_FIFO 1 ($got)" \
                        grep -q "SCHED_FIFO.*priority: 1" <<< "$got" ;;
                *) check "thread \"$name\" is not real-time ($got)" grep -q "SCHED_OTHER" <<< "$got" ;;
                esac
        done
        check "both vCPU threads seen" test "$(grep -l '^CPU [01]/TCG' /proc/"$QPID"/task/*/comm | wc -l)" = 2
        "$VL" stop --force "$NAME"
        wait_exit 20
        check "stop --force → exit status 5 (got $RC)" exit_is 5

        new_vm ignore
        sed -i 's|"cpu": { "model": "max" }|"cpu": { "model": "max", "cores": 2, "pin": ["0", "1000"] }|' "$T/$NAME.json"
        start
        wait_exit 20
        check "a pin on an offline CPU → exit status 2 (got $RC)" exit_is 2
        check "the message names \$.cpu.pin[1] and the online CPUs" has_err '$.cpu.pin\[1\]: host CPU 1000 (of "1000") is not online'
        check "no QEMU started" no_qemu
        check "no run directory left" no_run_dir
}

# hugepages (the hugepages feature): refusals before anything changes. A mem-path folder
# that is not hugetlbfs (QEMU would silently put the RAM in an ordinary file)
# is refused naming what it is; on a real hugetlbfs mount — made in a mount
# namespace of the launcher's own (unshare -m), so no one else sees it — too
# few free pages are refused, and so is a mount of another page size. Each
# time: exit 1, no QEMU, no run dir, no VM folder in the mount, this host's
# 2M pool exactly as before. The pool is only read here, never written
# ("reserve" stays off): tests/vm case hugepages reserves for real, inside
# the emulated host.
case_hugepages() {
        local pool=/sys/kernel/mm/hugepages/hugepages-2048kB nr free resv avail mib
        if [ ! -d "$pool" ]; then
                skip "this kernel has no 2M hugepages ($pool)"
                return
        fi
        pool_state() { echo "nr=$(cat $pool/nr_hugepages) free=$(cat $pool/free_hugepages) resv=$(cat $pool/resv_hugepages)"; }
        local before; before=$(pool_state)
        read -r nr < "$pool/nr_hugepages"
        read -r free < "$pool/free_hugepages"
        read -r resv < "$pool/resv_hugepages"
        avail=$((free > resv ? free - resv : 0))
        # more than this host has free, whatever it has
        mib=$(( (avail + 1) * 2 > 128 ? (avail + 1) * 2 : 128 ))

        # (1) a folder on this machine's /tmp: not hugetlbfs
        new_vm ignore
        mkdir "$T/not-huge"
        sed -i "s|^  \"shutdown_timeout\"|  \"hugepages\": { \"path\": \"$T/not-huge\" },\n&|" "$T/$NAME.json"
        start
        wait_exit 20
        check "not hugetlbfs: exit status 1 (got $RC)" exit_is 1
        check "not hugetlbfs: the message names the path and what it is" \
                has_err "\$.hugepages.path: $T/not-huge is on [a-z0-9]*, not on hugetlbfs: QEMU would put the guest's RAM in an ordinary file"
        check "not hugetlbfs: the message gives the fix" has_err "mount -t hugetlbfs -o pagesize=2M hugetlbfs $T/not-huge"
        check "not hugetlbfs: nothing was changed on the host" has_err "nothing was changed on the host"
        check "not hugetlbfs: no VM folder made in $T/not-huge" test -z "$(ls -A "$T/not-huge")"
        check "not hugetlbfs: no QEMU started" no_qemu
        check "not hugetlbfs: no run dir left" no_run_dir
        check "not hugetlbfs: the 2M pool unchanged ($(pool_state))" test "$(pool_state)" = "$before"
        cleanup

        # (2) a real hugetlbfs mount, too few free pages; (3) size 1G on it
        new_vm ignore
        mkdir "$T/huge"
        sed -e "s|^  \"memory\": \"128M\"|  \"memory\": $mib|" \
            -e "s|^  \"shutdown_timeout\"|  \"hugepages\": { \"path\": \"$T/huge\" },\n&|" \
                "$T/$NAME.json" > "$T/short.json"
        sed -e "s|^  \"memory\": \"128M\"|  \"memory\": \"1G\"|" \
            -e "s|^  \"shutdown_timeout\"|  \"hugepages\": { \"size\": \"1G\", \"path\": \"$T/huge\" },\n&|" \
                "$T/$NAME.json" > "$T/1g.json"
        # shellcheck disable=SC2016
        unshare -m --propagation private sh -c '
                mount -t hugetlbfs -o pagesize=2M hugetlbfs "$1" 2> "$2/mount.err" || exit 90
                grep " $1 hugetlbfs " /proc/mounts > "$2/mounts"
                "$3" "$2/short.json" 2> "$2/err"; echo $? > "$2/rc"
                "$3" "$2/1g.json" 2> "$2/err-1g"; echo $? > "$2/rc-1g"
                ls -A "$1" > "$2/huge.ls"' sh "$T/huge" "$T" "$VL"
        if [ $? = 90 ]; then
                skip "cannot mount hugetlbfs in a mount namespace here ($(cat "$T/mount.err")): the checks on a real mount did not run"
                return
        fi
        check "a hugetlbfs mount of 2M pages in the launcher's own namespace" test -s "$T/mounts"
        check "that mount not seen outside it" sh -c "! grep -q ' $T/huge ' /proc/mounts"
        RC=$(cat "$T/rc")
        check "too few pages: exit status 1 (got $RC)" exit_is 1
        check "too few pages: the message counts them ($((mib / 2)) needed, $avail available)" \
                has_err "\$.hugepages: the guest needs $((mib / 2)) free 2M hugepages ($mib MiB), the host has $avail (nr_hugepages $nr, free $free, $resv of them promised to other mappings; $pool)"
        check "too few pages: the message gives the fixes" \
                has_err "add them (echo $((nr + mib / 2 - avail)) > $pool/nr_hugepages, .* or set \"reserve\": true"
        check "too few pages: nothing was changed on the host" has_err "nothing was changed on the host"
        RC=$(cat "$T/rc-1g")
        check "1G pages on a 2M mount: exit status 1 (got $RC)" exit_is 1
        check "1G pages on a 2M mount: refused naming both sizes" \
                grep -q "$T/huge is a hugetlbfs mount of 2M pages, the profile asks for 1G" "$T/err-1g"
        check "no VM folder left in the hugetlbfs mount" test ! -s "$T/huge.ls"
        check "no QEMU started" no_qemu
        check "no run dir left" no_run_dir
        check "the 2M pool unchanged ($(pool_state))" test "$(pool_state)" = "$before"
        [ "$fails" = 0 ] || { sed 's/^/  1G: /' "$T/err-1g"; }
}

# tpm (the TPM feature): "tpm": {"model": "crb"}, swtpm next to QEMU.
# Run 1 manufactures the state (swtpm_setup, once, as nobody); QMP
# query-tpm shows the device; the guest finds tpm0 (TPM 2.0), reads the
# endorsement key, defines and writes an NV index, and powers off: exit 0,
# swtpm gone with QEMU. Run 2 reads the same key and the index run 1 wrote;
# swtpm's sandbox is read from /proc; then swtpm is killed -9 under the
# running guest: exit 4, the message names it, no QEMU or swtpm left, the
# run dir gone. Run 3 finds the state intact after the kill. The state
# folder keeps its inode throughout (never replaced), nobody's, 0700.
qmp() { # qmp COMMAND: run it on the VM's tools' QMP socket, print the answer
        python3 - "$RUN_DIR/$NAME/qmp.sock" "$1" <<'PY'
import json, socket, sys
s = socket.socket(socket.AF_UNIX)
s.settimeout(10)
s.connect(sys.argv[1])
f = s.makefile("rw")
f.readline()
for cmd in ("qmp_capabilities", sys.argv[2]):
    f.write(json.dumps({"execute": cmd}) + "\n")
    f.flush()
    while True:
        m = json.loads(f.readline())
        if "return" in m or "error" in m:
            break
print(json.dumps(m))
PY
}

case_tpm() {
        local state line1 line ek ino st sw q
        if ! command -v swtpm >/dev/null || ! command -v swtpm_setup >/dev/null; then
                skip "swtpm and swtpm-tools not installed (tests/deps.sh installs them)"
                return
        fi
        new_vm tpm
        sed -i 's|^  "shutdown_timeout"|  "tpm": { "model": "crb" },\n&|' "$T/$NAME.json"
        state=$STATE_DIR/$NAME/tpm
        tpm_line() { grep -a -o 'VL-TPM [^[:cntrl:]]*' "$T/disk.img"; }
        fresh_disk() { truncate -s 0 "$T/disk.img" && truncate -s 1M "$T/disk.img"; }

        # run 1: manufactured, used, powered off
        start
        check "run 1: running line" wait_running 60 || return
        q=$(qmp query-tpm)
        check "run 1: QMP query-tpm shows tpm-crb on the emulator ($q)" \
                grep -q '"model": "tpm-crb", "options": {"type": "emulator", "data": {"chardev": "chrtpm"}}, "id": "tpm-tpm0"' <<< "$q"
        check "run 1: the guest talked to its TPM" wait_marker VL-TPM 60 || return
        wait_exit 60
        line1=$(tpm_line)
        check "run 1: exit status 0 (got $RC)" exit_is 0
        check "run 1: swtpm_setup manufactured the state" has_err "$NAME: manufactured the TPM in $state (swtpm_setup, "
        check "run 1: tpm0 is a TPM 2.0 ($line1)" grep -q 'ver=2 ' <<< "$line1"
        check "run 1: the endorsement key swtpm_setup made answers" grep -q 'ekrc=00000000 ' <<< "$line1"
        check "run 1: NV index defined, written, read back" grep -q 'nv=new:564c54504d2d4f4b$' <<< "$line1"
        check "run 1: the state is nobody's, 0700 ($(stat -c '%U %a' "$state"))" \
                test "$(stat -c '%U %a' "$state")" = "nobody 700"
        check "run 1: no staging folder left" test -z "$(ls -A "$STATE_DIR/$NAME" | grep -v '^tpm$')"
        check "run 1: swtpm left with QEMU" test -z "$(swtpm_pids)"
        check "$RUN_DIR/$NAME removed" no_run_dir
        ek=$(grep -o 'ek=[0-9a-f]*' <<< "$line1")
        ino=$(stat -c %i "$state")

        # run 2: the same TPM; swtpm killed under the running guest
        fresh_disk
        sed -i 's/vl.mode=tpm"/vl.mode=tpm-stay"/' "$T/$NAME.json"
        start
        check "run 2: running line" wait_running 60 || return
        check "run 2: the guest talked to its TPM" wait_marker VL-TPM 60 || return
        line=$(tpm_line)
        check "run 2: same endorsement key ($ek)" grep -q "$ek " <<< "$line"
        check "run 2: the NV index run 1 wrote ($line)" grep -q 'nv=old:564c54504d2d4f4b$' <<< "$line"
        check "run 2: not manufactured again" sh -c "! grep -q 'manufactured the TPM' '$T/err'"
        sw=$("$VL" status "$NAME" | sed -n 's/.*"swtpm_pid":\([0-9]*\).*/\1/p')
        check "run 2: status names swtpm's pid ($sw)" test -n "$sw"
        [ -n "$sw" ] || return
        st=$(cat "/proc/$sw/status")
        field() { awk -v k="$1:" '$1 == k { $1 = ""; sub(/^ /, ""); print }' <<< "$st"; }
        check "run 2: swtpm runs as nobody ($(field Uid))" test "$(field Uid)" = "65534 65534 65534 65534"
        check "run 2: swtpm CapEff 0, CapBnd 0" test "$(field CapEff)/$(field CapBnd)" = 0000000000000000/0000000000000000
        check "run 2: swtpm NoNewPrivs 1, Seccomp_filters 2 (launcher's + its own)" \
                test "$(field NoNewPrivs)/$(field Seccomp_filters)" = 1/2
        kill -9 "$sw"
        wait_exit 30
        check "run 2: kill -9 of swtpm → exit status 4 (got $RC)" exit_is 4
        check "run 2: stderr names swtpm's death" has_err "swtpm (pid $sw) was killed by signal 9 (Killed): stopping the VM"
        check "run 2: stderr: QEMU failed because of it" has_err "$NAME: QEMU failed: swtpm, the VM's TPM, ended (Killed)"
        check "$RUN_DIR/$NAME removed" no_run_dir
        check "no QEMU left" no_qemu
        check "no swtpm left" test -z "$(swtpm_pids)"
        check "run 2: the state folder not replaced (inode $ino)" test "$(stat -c %i "$state")" = "$ino"

        # run 3: intact after the kill
        fresh_disk
        sed -i 's/vl.mode=tpm-stay"/vl.mode=tpm"/' "$T/$NAME.json"
        start
        check "run 3: the guest talked to its TPM" wait_marker VL-TPM 90 || return
        wait_exit 60
        line=$(tpm_line)
        check "run 3: exit status 0 (got $RC)" exit_is 0
        check "run 3: same endorsement key, the NV index still there ($line)" \
                grep -q "$ek ekrc=00000000 nv=old:564c54504d2d4f4b$" <<< "$line"
        check "run 3: the state folder not replaced (inode $ino)" test "$(stat -c %i "$state")" = "$ino"
        check "no swtpm left" test -z "$(swtpm_pids)"
}

# (n) A whole block device as the disk: a loop device this case makes on a
# file of its own, named through a link (as /dev/disk/by-id/... would be).
# The launcher hands the node to QEMU's user (nobody) for the run and gives
# owner, group and mode back: after a normal stop, after kill -9 of QEMU, and
# through `recover` after kill -9 of the launcher. A mounted one is refused
# with the host untouched.
case_blockdev() {
        local before owner
        new_vm acpi 30
        LOOP=$(losetup -f --show "$T/disk.img" 2>"$T/losetup.err") || {
                LOOP=
                skip "no loop device: $(cat "$T/losetup.err")"
                return
        }
        # A state the run must give back exactly, unlike what it hands over
        # (the node's own is put back by cleanup).
        LOOP_ORIG=$(stat -c '%u:%g %a' "$LOOP")
        chown root:disk "$LOOP" && chmod 0640 "$LOOP"
        before=$(stat -c '%u:%g %a' "$LOOP")
        ln -s "$LOOP" "$T/by-id-disk"
        sed -i "s|\"path\": \"$T/disk.img\", \"format\": \"raw\"|\"path\": \"$T/by-id-disk\", \"format\": \"raw\", \"cache\": \"none\"|" \
                "$T/$NAME.json"
        check "the profile names the link" grep -q "\"path\": \"$T/by-id-disk\"" "$T/$NAME.json"
        owner() { stat -c '%U' "$LOOP"; }
        given_back() { test "$(stat -c '%u:%g %a' "$LOOP")" = "$before"; }

        # print shows the hand-over and changes nothing
        "$VL" print "$T/$NAME.json" > "$T/print.out" 2>&1
        check "print: shows the hand-over of $LOOP" \
                grep -q "# disks\[0\]: block device $LOOP (7:[0-9]*, owner now 0:[0-9]*, mode 0640): handed to nobody" "$T/print.out"
        check "print: QEMU opens $LOOP with host_device" grep -q "driver=host_device,filename=$LOOP," "$T/print.out"
        check "print: nothing changed ($(stat -c '%u:%g %a' "$LOOP"))" given_back

        # (1) a normal run: the guest uses the device, stops, all back
        start
        check "run 1: running line" wait_running 30 || return
        check "run 1: $LOOP is nobody's while it runs (got $(owner))" test "$(owner)" = nobody
        check "run 1: stderr says so" has_err "block device $LOOP handed to nobody for the run"
        check "run 1: the journal records owner, group, mode" \
                grep -q '"kind": *"blockdev"' "$RUN_DIR/$NAME/state.json"
        check "run 1: the guest wrote on the loop device" wait_marker VL-UP 60 || return
        check "run 1: 'vfio-launch stop' accepted" "$VL" stop "$NAME"
        wait_exit 40
        check "run 1: exit status 0 (got $RC)" exit_is 0
        check "run 1: $LOOP given back ($(stat -c '%u:%g %a' "$LOOP"), was $before)" given_back
        check "run 1: $RUN_DIR/$NAME removed" no_run_dir

        # (2) kill -9 of QEMU
        start
        check "run 2: running line" wait_running 30 || return
        check "run 2: $LOOP is nobody's (got $(owner))" test "$(owner)" = nobody
        kill -9 "$QPID"
        wait_exit 10
        check "run 2: kill -9 of QEMU → exit status 4 (got $RC)" exit_is 4
        check "run 2: $LOOP given back ($(stat -c '%u:%g %a' "$LOOP"))" given_back
        check "run 2: no QEMU left" no_qemu
        check "run 2: $RUN_DIR/$NAME removed" no_run_dir

        # (3) kill -9 of the launcher: QEMU goes, the journal stays, recover
        local qstart
        start
        check "run 3: running line" wait_running 30 || return
        qstart=$(awk '{ print $22 }' "/proc/$QPID/stat")
        kill -9 "$LPID"
        wait "$LPID" 2>/dev/null
        LPID=
        check "run 3: QEMU gone with its launcher" gone_within 5 "$QPID" "$qstart"
        check "run 3: $LOOP still nobody's (got $(owner))" test "$(owner)" = nobody
        check "run 3: the journal keeps the hand-over" grep -q '"kind": *"blockdev"' "$RUN_DIR/$NAME/state.json"
        "$VL" recover "$NAME" > "$T/recover.out" 2>&1
        RC=$?
        check "run 3: recover: exit status 0 (got $RC)" exit_is 0
        check "run 3: recover gave $LOOP back ($(stat -c '%u:%g %a' "$LOOP"))" given_back
        check "run 3: $RUN_DIR/$NAME removed" no_run_dir
        [ "$fails" = 0 ] || sed 's/^/  recover: /' "$T/recover.out"

        # (4) mounted on the host (in a mount namespace of its own, where the
        # launcher runs too): refused, nothing changed
        mkdir "$T/mnt"
        if ! mkfs.ext2 -q -F "$LOOP" > "$T/mkfs.err" 2>&1; then
                skip "mkfs.ext2 on $LOOP failed: $(cat "$T/mkfs.err")"
                return
        fi
        # shellcheck disable=SC2016
        unshare -m --propagation private sh -c '
                mount "$1" "$2/mnt" 2> "$2/mount.err" || exit 90
                exec "$3" "$4"' sh "$LOOP" "$T" "$VL" "$T/$NAME.json" > "$T/out" 2> "$T/err"
        RC=$?
        if [ "$RC" = 90 ]; then
                skip "cannot mount $LOOP here: $(cat "$T/mount.err")"
                return
        fi
        check "mounted: exit status 1 (got $RC)" exit_is 1
        check "mounted: one clear line" \
                has_err "\$.disks\[0\].path: the block device $LOOP is in use on the host: the mounted filesystem $T/mnt ($LOOP); refused"
        check "mounted: nothing was changed on the host" has_err "nothing was changed on the host"
        check "mounted: $LOOP untouched ($(stat -c '%u:%g %a' "$LOOP"))" given_back
        check "mounted: no QEMU started" no_qemu
        check "mounted: no run dir left" no_run_dir
        check "mounted: the mount went with its namespace" sh -c "! grep -q ' $T/mnt ' /proc/self/mountinfo"
}

# (o) "shmem": an IVSHMEM file in /dev/shm shared by host and guest. Run 1
# makes /dev/shm/NAME (keep) and the guest writes into its BAR; the host
# writes its own bytes into the kept file; run 2 reuses it, the guest reads
# them, and the file goes after the run; run 3's launcher is killed and
# `recover` removes the file; a file of that name the launcher did not make
# is refused and left as it was. The file is named after the VM (NAME has
# this test's PID): nobody else's.
case_shmem() {
        local shm line st
        new_vm shmem 30
        shm=/dev/shm/$NAME
        [ -e "$shm" ] && { fail "$shm exists before the test"; return; }
        set_shmem() { # KEEP
                python3 - "$T/$NAME.json" "$NAME" "$1" <<'PY'
import json, sys
p = json.load(open(sys.argv[1]))
p["shmem"] = [{"name": sys.argv[2], "size": "2M", "keep": sys.argv[3] == "true"}]
json.dump(p, open(sys.argv[1], "w"))
PY
        }
        shm_line() { grep -a -o 'VL-SHM [^[:cntrl:]]*' "$T/disk.img"; }
        fresh_disk() { truncate -s 0 "$T/disk.img" && truncate -s 1M "$T/disk.img"; }
        at() { dd if="$shm" bs=1 skip="$1" count=8 2>/dev/null; } # 8 bytes at offset $1

        # run 1: made for the run, kept
        set_shmem true
        check "print shows the file and creates nothing" \
                sh -c "'$VL' print '$T/$NAME.json' | grep -q '^# shmem\[0\]: $shm, 2 MiB (ivshmem-plain), owner nobody:nogroup mode 0660: created at the start, kept after' && [ ! -e '$shm' ]"
        start
        check "run 1: running line" wait_running 30 || return
        check "run 1: the guest used its IVSHMEM BAR" wait_marker VL-SHM 90 || return
        line=$(shm_line)
        check "run 1: PCI 1af4:1110 with a 2 MiB BAR2 ($line)" grep -q ' size=2097152 ' <<< "$line"
        check "run 1: the guest read back what it wrote" grep -q 'guest=0x3154534555474C56$' <<< "$line"
        check "run 1: the guest's bytes are in $shm" test "$(at 4096)" = VLGUEST1
        st=$(stat -c '%U:%G %a %s %F' "$shm")
        check "run 1: $shm is nobody's, 0660, 2 MiB ($st)" test "$st" = "nobody:nogroup 660 2097152 regular file"
        "$VL" stop "$NAME" >/dev/null
        wait_exit 40
        check "run 1: exit status 0 (got $RC)" exit_is 0
        check "run 1: kept after the run" test -f "$shm"
        check "$RUN_DIR/$NAME removed" no_run_dir

        # the host's bytes, before run 2 starts
        printf 'VLHOSTOK' | dd of="$shm" bs=1 seek=0 conv=notrunc 2>/dev/null
        dd if=/dev/zero of="$shm" bs=1 seek=4096 count=8 conv=notrunc 2>/dev/null

        # run 2: the kept file reused, removed after
        set_shmem false
        fresh_disk
        start
        check "run 2: running line" wait_running 30 || return
        check "run 2: the guest used its IVSHMEM BAR" wait_marker VL-SHM 90 || return
        line=$(shm_line)
        check "run 2: the guest read the host's bytes ($line)" grep -q ' host=0x4B4F54534F484C56 ' <<< "$line"
        check "run 2: the guest's bytes are in $shm" test "$(at 4096)" = VLGUEST1
        check "run 2: journaled while it runs" grep -q "\"kind\": *\"shmem\"" "$RUN_DIR/$NAME/state.json"
        "$VL" stop "$NAME" >/dev/null
        wait_exit 40
        check "run 2: exit status 0 (got $RC)" exit_is 0
        check "run 2: $shm removed after the run" test ! -e "$shm"
        check "$RUN_DIR/$NAME removed" no_run_dir

        # run 3: the launcher killed; recover removes the file
        fresh_disk
        start
        check "run 3: running line" wait_running 30 || return
        check "run 3: the guest used its IVSHMEM BAR" wait_marker VL-SHM 90 || return
        kill -9 "$LPID"
        wait "$LPID" 2>/dev/null
        LPID=
        local i
        for ((i = 0; i < 100; i++)); do no_qemu && break; sleep 0.05; done
        check "run 3: $shm left behind by the killed launcher" test -f "$shm"
        check "run 3: 'vfio-launch recover $NAME' exit 0" "$VL" recover "$NAME"
        check "run 3: recover removed $shm" test ! -e "$shm"
        check "$RUN_DIR/$NAME removed" no_run_dir

        # somebody's file of that name: refused, untouched
        printf 'users' > "$shm"
        chmod 0644 "$shm"
        fresh_disk
        start
        wait_exit 30
        check "a file vfio-launch did not make: exit status 1 (got $RC)" exit_is 1
        check "stderr: refused, not overwritten" has_err "'$shm' exists and vfio-launch did not make it for \"$NAME\": refused"
        check "the file is as it was" test "$(cat "$shm")/$(stat -c %a "$shm")" = users/644
        rm -f "$shm"
        check "no QEMU left" no_qemu
}

# (p) "inputs": a keyboard of the host passed through with QEMU's input-linux.
# The test makes it with uinput (vl-uinput, built with the tests: the only
# device node this case changes), names it through a by-id-style link, and
# the launcher hands the node to nobody for the run: QEMU has it open; keys
# typed on it reach the guest's keyboard (PS/2, or the virtio keyboard the
# profile adds), which the guest writes to its disk; the node's owner, group
# and mode are back after the run and after kill -9 + `recover`; a node that
# does not exist is refused with nothing changed. Where the kernel has no
# uinput, the checks that need none still run (the refusal; the guest's side
# fed through QMP) and the case exits 77 (skip) saying so; tests/vm's case
# `input` (ctest vm/input) does the uinput half on the emulated host's
# kernel, which has uinput.
case_input() {
        local helper=$BUILD/tests/lifecycle/vl-uinput node before i line
        local vm_half=" (the uinput half runs in tests/vm: ctest -R vm/input)"
        new_vm input 30
        [ -x "$helper" ] || { fail "$helper not built"; return; }
        set_inputs() { # EVDEV_PATH ("": only the virtio keyboard)
                python3 - "$T/$NAME.json" "$1" <<'PY'
import json, sys
p = json.load(open(sys.argv[1]))
p["inputs"] = ([{"evdev": sys.argv[2], "grab_all": True}] if sys.argv[2] else []) + [{"type": "virtio-keyboard"}]
json.dump(p, open(sys.argv[1], "w"))
PY
        }
        fresh_disk() { truncate -s 0 "$T/disk.img" && truncate -s 1M "$T/disk.img"; }
        keys_line() { grep -a -o 'VL-KEYS [^[:cntrl:]]*' "$T/disk.img"; }

        # (0) a keyboard that is not there: refused before any change
        set_inputs "$T/by-id-gone-kbd"
        start
        wait_exit 30
        check "missing: exit status 1 (got $RC)" exit_is 1
        check "missing: one clear line" has_err "\$.inputs\[0\].evdev: evdev input '$T/by-id-gone-kbd' does not exist"
        check "missing: nothing was changed on the host" has_err "nothing was changed on the host"
        check "missing: no QEMU started" no_qemu
        check "missing: no run dir left" no_run_dir

        # (0') the guest's side alone, on any machine: keys QEMU is told to
        # press (QMP input-send-event) reach the guest's virtio keyboard and
        # its disk — the path the uinput keys take from QEMU on.
        set_inputs ""
        start
        check "virtio: running line" wait_running 30 || return
        check "virtio: the guest reads its keyboards" wait_marker VL-KBD 90 || return
        python3 - "$RUN_DIR/$NAME/qmp.sock" <<'PY' > "$T/qmp.out" 2>&1
import json, socket, sys, time
s = socket.socket(socket.AF_UNIX)
s.settimeout(10)
s.connect(sys.argv[1])
f = s.makefile("rw")
f.readline()
def cmd(c, args=None):
    f.write(json.dumps({"execute": c, **({"arguments": args} if args else {})}) + "\n")
    f.flush()
    while True:
        m = json.loads(f.readline())
        if "return" in m or "error" in m:
            print(json.dumps(m))
            return m
cmd("qmp_capabilities")
for k in ("a", "b", "c"):
    for down in (True, False):
        cmd("input-send-event", {"events": [{"type": "key", "data": {"down": down, "key": {"type": "qcode", "data": k}}}]})
        time.sleep(0.05)
PY
        check "virtio: QMP input-send-event accepted" sh -c "! grep -q error '$T/qmp.out'"
        check "virtio: the guest got KEY_A KEY_B KEY_C" wait_marker VL-KEYS 30 || return
        line=$(keys_line)
        check "virtio: on its virtio keyboard, in order ($line)" grep -Eq 'dev=QEMU Virtio Keyboard codes=(.*,)?30,48,46(,|$)' <<< "$line"
        check "virtio: 'vfio-launch stop' accepted" "$VL" stop "$NAME"
        wait_exit 40
        check "virtio: exit status 0 (got $RC)" exit_is 0
        fresh_disk

        if [ ! -c /dev/uinput ]; then
                modprobe uinput > "$T/modprobe.err" 2>&1
                [ -c /dev/uinput ] ||
                        { skip "uinput unavailable: no /dev/uinput, modprobe uinput: $(tr '\n' ' ' < "$T/modprobe.err")$vm_half"; return; }
        fi
        mkfifo "$T/kbd.in"
        "$helper" "vl-life-kbd-$$" < "$T/kbd.in" > "$T/kbd.out" 2> "$T/kbd.err" &
        UPID=$!
        exec 7> "$T/kbd.in"
        for ((i = 0; i < 100; i++)); do
                node=$(head -1 "$T/kbd.out")
                [ -n "$node" ] && break
                alive "$UPID" || break
                sleep 0.05
        done
        if [ -z "$node" ]; then
                wait "$UPID"
                [ $? = 77 ] && { skip "uinput unavailable: $(cat "$T/kbd.err")$vm_half"; UPID=; return; }
                fail "no uinput keyboard: $(cat "$T/kbd.err")"
                return
        fi
        for ((i = 0; i < 50; i++)); do [ -c "$node" ] && break; sleep 0.1; done
        check "the uinput keyboard is $node, an input device (major 13)" \
                test "$(stat -c '%t' "$node" 2>/dev/null)" = d
        # A state the run must give back exactly (the node is this test's own).
        chown root:root "$node" && chmod 0640 "$node"
        before=$(stat -c '%u:%g %a' "$node")
        owner() { stat -c '%U' "$node"; }
        given_back() { test "$(stat -c '%u:%g %a' "$node")" = "$before"; }
        ln -s "$node" "$T/by-id-kbd"
        set_inputs "$T/by-id-kbd"

        "$VL" print "$T/$NAME.json" > "$T/print.out" 2>&1
        check "print: shows the hand-over of $node" \
                grep -q "^# inputs\[0\]: evdev $T/by-id-kbd -> $node (13:[0-9]*, owner now 0:0, mode 0640), grab-toggle ctrl-ctrl (QEMU's default), grab_all: handed to nobody" "$T/print.out"
        check "print: QEMU opens $node" grep -q "input-linux,id=input0,evdev=$node,grab_all=on" "$T/print.out"
        check "print: the virtio keyboard" grep -q "virtio-keyboard-pci,id=input1,bus=pci.[0-9]*,addr=0x0" "$T/print.out"
        check "print: nothing changed ($(stat -c '%u:%g %a' "$node"))" given_back

        # (1) a run: the keys reach the guest; stop; all back
        start
        check "run 1: running line" wait_running 30 || return
        check "run 1: $node is nobody's while it runs (got $(owner))" test "$(owner)" = nobody
        check "run 1: stderr says so" has_err "evdev input $node handed to nobody for the run"
        check "run 1: the journal records owner, group, mode" grep -q '"kind": *"evdev"' "$RUN_DIR/$NAME/state.json"
        check "run 1: QEMU (as nobody) has $node open" \
                sh -c "ls -l /proc/$QPID/fd | grep -q ' -> $node\$' && [ \"\$(stat -c %U /proc/$QPID)\" = nobody ]"
        check "run 1: the guest reads its keyboards" wait_marker VL-KBD 90 || return
        for k in 30 48 46; do echo "key $k" >&7; done
        check "run 1: the guest got KEY_A KEY_B KEY_C" wait_marker VL-KEYS 30 || return
        line=$(keys_line)
        check "run 1: in order, on a keyboard ($line)" grep -Eq 'dev=(AT Translated Set 2 keyboard|QEMU Virtio Keyboard) codes=(.*,)?30,48,46(,|$)' <<< "$line"
        check "run 1: 'vfio-launch stop' accepted" "$VL" stop "$NAME"
        wait_exit 40
        check "run 1: exit status 0 (got $RC)" exit_is 0
        check "run 1: $node given back ($(stat -c '%u:%g %a' "$node"), was $before)" given_back
        check "run 1: $RUN_DIR/$NAME removed" no_run_dir

        # (2) kill -9 of the launcher: QEMU goes, the journal stays, recover
        local qstart
        fresh_disk
        start
        check "run 2: running line" wait_running 30 || return
        check "run 2: $node is nobody's (got $(owner))" test "$(owner)" = nobody
        qstart=$(awk '{ print $22 }' "/proc/$QPID/stat")
        kill -9 "$LPID"
        wait "$LPID" 2>/dev/null
        LPID=
        check "run 2: QEMU gone with its launcher" gone_within 5 "$QPID" "$qstart"
        check "run 2: $node still nobody's (got $(owner))" test "$(owner)" = nobody
        check "run 2: the journal keeps the hand-over" grep -q '"kind": *"evdev"' "$RUN_DIR/$NAME/state.json"
        "$VL" recover "$NAME" > "$T/recover.out" 2>&1
        RC=$?
        check "run 2: recover: exit status 0 (got $RC)" exit_is 0
        check "run 2: recover gave $node back ($(stat -c '%u:%g %a' "$node"))" given_back
        check "run 2: $RUN_DIR/$NAME removed" no_run_dir

        echo quit >&7
        exec 7>&-
        wait "$UPID"
        check "the uinput keyboard went away cleanly" test $? = 0
        UPID=
}

# top (`vfio-launch top` and `metrics`): a 2-vCPU VM pinned crosswise (vCPU 0 ->
# CPU 1, vCPU 1 -> CPU 0) whose guest burns CPU on both vCPUs ("work" mode with a long
# loop). `top --once --json` must show it running, each vCPU's thread on a CPU of its
# cpu.pin, the vCPUs' CPU time moving between two samples and their CPU % above
# idle, the guest's RAM and the disk's writes (the guest's markers); then the metrics
# checks of tests/metrics/prometheus.sh (promtool, a real prometheus) against this VM.
case_top() {
        local a b
        if [ "$(nproc --all)" -lt 2 ]; then
                skip "needs 2 CPUs, this host has $(nproc --all)"
                return
        fi
        new_vm "work vl.work=400000000"
        sed -i 's|"cpu": { "model": "max" }|"cpu": { "model": "max", "cores": 2, "pin": ["1", "0"] }|' "$T/$NAME.json"
        start
        check "running line" wait_running 30 || return
        check "the guest is up (VL-UP)" wait_marker VL-UP 60 || return
        "$VL" top --once --json --interval 1 "$NAME" > "$T/top1.json" 2> "$T/top.err"
        check "top --once --json → exit status 0" test $? = 0
        sleep 1
        "$VL" top --once --json --interval 2 "$NAME" > "$T/top2.json" 2>> "$T/top.err"
        # one line per fact, checked here so that a failure names it
        py() { python3 -c "import json,sys; v=json.load(open(sys.argv[1]))['vms']; $1" "$2"; }
        check "one VM, $NAME, running" py "assert len(v)==1 and v[0]['name']=='$NAME' and v[0]['state']=='running', v" "$T/top1.json"
        check "qemu_pid is QEMU's ($QPID)" py "assert v[0]['qemu_pid']==$QPID, v[0]['qemu_pid']" "$T/top1.json"
        check "2 vCPUs, their threads QEMU's" py "c=v[0]['vcpus']; assert len(c)==2 and all(__import__('os').path.isdir('/proc/$QPID/task/%d' % x['thread_id']) for x in c), c" "$T/top1.json"
        check "vCPU 0 pinned to \"1\", vCPU 1 to \"0\", as cpu.pin says" py "c=v[0]['vcpus']; assert [(x['index'],x['pin']) for x in c]==[(0,'1'),(1,'0')], c" "$T/top2.json"
        check "each vCPU last ran on its pinned CPU (on_pin, host_cpu)" py "c=v[0]['vcpus']; assert all(x['on_pin'] is True and x['host_cpu']==int(x['pin']) for x in c), c" "$T/top2.json"
        check "no note (every figure was read)" py "assert v[0]['note'] is None, v[0]['note']" "$T/top2.json"
        a=$(py "print(sum(x['cpu_seconds'] for x in v[0]['vcpus']))" "$T/top1.json")
        b=$(py "print(sum(x['cpu_seconds'] for x in v[0]['vcpus']))" "$T/top2.json")
        check "the vCPUs' CPU time moves while the guest works ($a s → $b s)" awk -v a="$a" -v b="$b" 'BEGIN { exit !(b > a + 1) }'
        # An idle TCG vCPU (halted) is at ~0 %; a working one gets what the host's
        # other load on its pinned CPU leaves it (2-core CI machines build in parallel).
        check "each vCPU's CPU % is above idle (the guest's loops run on both)" py "c=v[0]['vcpus']; assert all(x['cpu_percent'] is not None and x['cpu_percent']>5 for x in c), c" "$T/top2.json"
        check "guest memory 128 MiB, RSS known" py "m=v[0]['memory']; assert m['guest_bytes']==128<<20 and m['rss_bytes']>0, m" "$T/top2.json"
        check "the disk's writes are counted (the guest's markers)" py "d=v[0]['disks']; assert len(d)==1 and d[0]['wr_ops']>=1 and d[0]['wr_bytes']>=512, d" "$T/top2.json"
        check "uptime > 0" py "assert v[0]['uptime_seconds']>0" "$T/top2.json"
        check "USB known (QMP x-query-usb answered): a list" py "assert isinstance(v[0]['usb'], list), v[0]['usb']" "$T/top2.json"
        "$VL" top --once --interval 0.5 "$NAME" > "$T/top.txt" 2>> "$T/top.err"
        check "top --once (text) shows the VM and both pins ok" \
                test "$(grep -c ' ok$' "$T/top.txt")/$(grep -c "^$NAME  running" "$T/top.txt")" = 2/1
        "$VL" top --once --json no-such-vm-$$ > /dev/null 2>> "$T/top.err"
        check "top NAME of no VM → exit status 1" test $? = 1
        "$VL" metrics "$NAME" > "$T/metrics.txt"
        check "metrics: vCPU 0 on its pin" grep -qx "vfio_launch_vcpu_on_pin{vm=\"$NAME\",vcpu=\"0\"} 1" "$T/metrics.txt"
        local prc=0
        "$here/../metrics/prometheus.sh" "$VL" "$NAME" > "$T/prom.out" 2>&1 || prc=$?
        if [ "$prc" = 77 ]; then
                skip "tests/metrics/prometheus.sh: $(grep -m1 '^SKIP: ' "$T/prom.out" | cut -c7-)"
        else
                check "tests/metrics/prometheus.sh against this VM (exit status $prc)" test "$prc" = 0 ||
                        sed 's/^/    /' "$T/prom.out"
        fi
        [ -s "$T/top.err" ] && sed 's/^/top stderr: /' "$T/top.err"
        "$VL" stop --force "$NAME"
        wait_exit 20
        check "stop --force → exit status 5 (got $RC)" exit_is 5
        check "no QEMU left" no_qemu
}

t_all=$(now)
[ $# -gt 0 ] || set -- $ALL   # word splitting of the list intended
for CASE in "$@"; do
        fn=case_${CASE//-/_}
        declare -F "$fn" >/dev/null || { echo "lifecycle: unknown case $CASE" >&2; exit 2; }
        before=$fails
        t=$(now)
        $fn
        [ "$fails" = "$before" ] || show
        echo "---- $CASE: $(elapsed "$t") s"
        cleanup
done
echo "lifecycle: $fails failure(s), $skips skip(s) in $(elapsed "$t_all") s"
[ "$fails" = 0 ] || exit 1
[ "$skips" = 0 ] || exit 77
