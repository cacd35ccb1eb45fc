# SPDX-License-Identifier: LGPL-2.1-or-later
# input: an evdev keyboard of the host passed through with QEMU's
# input-linux ("inputs": [{"evdev": …, "grab_all": true, "grab_toggle":
# "ctrl-scrolllock"}], profile tests/vm/profiles/vminput.json: no hostdevs,
# so 0 bind cycles). L1's kernel has uinput and evdev as modules: the case
# loads them and makes the keyboard with tests/lifecycle's vl-uinput (built
# with the tests, run from L0's root through the chroot like the launcher),
# whose node devtmpfs names /dev/input/eventN. L1 has no udev, so the case
# plays it: a link /dev/input/by-id/virtual-vl-vm-keyboard-event-kbd -> ../eventN
# in root's folders, the name the profile gives. It sets the node to
# root:root 0640 (devtmpfs made it 0600), a state each give-back must restore.
#   print: shows the hand-over of that node and `input-linux,…,evdev=NODE,
#     grab_all=on,grab-toggle=ctrl-scrolllock`, and changes nothing.
#   Run 1: the node is nobody's while the VM runs, the journal holds an
#     `evdev` entry, the nested QEMU runs as nobody (Uid, no capabilities)
#     and holds the node open (/proc/PID/fd). Keys typed on the uinput
#     keyboard reach the guest. QMP quit: exit 0, the node root:root 0640
#     again, no journal.
#   Run 2: kill -9 of the launcher: QEMU dies with it, the node stays
#     nobody's, the journal keeps the entry; `vfio-launch recover vminput`
#     exits 0 and gives the node back as it was.
# How delivery is proven: the L2 guest is SeaBIOS with nothing to boot (a
# Linux L2 boots for minutes under TCG-in-TCG). After "No bootable device"
# SeaBIOS waits 60 s for a retry with interrupts on, and its IRQ 1 handler
# reads each key from the emulated i8042 and queues it, scan code and ASCII,
# in the BIOS data area's keyboard buffer (head 0x41a, tail 0x41c, 16 words
# from 0x41e): the guest itself has read the key. The case reads that buffer
# through HMP `xp` on the tools' QMP socket. Keys pressed before SeaBIOS has
# set up the keyboard are lost, so the case presses KEY_A until one is
# queued (at most once a second), then KEY_B and KEY_C, and the buffer must
# hold exactly (0x1e61)+ 0x3062 0x2e63: 'a', 'b', 'c' as the guest's BIOS
# read them, in that order. Nothing else writes that buffer (no other
# keyboard, no display to type into).
need_vl
VMNAME=vminput
LINK=/dev/input/by-id/virtual-vl-vm-keyboard-event-kbd
KBD=$VL_BUILD/tests/lifecycle/vl-uinput

for m in evdev uinput; do
        modprobe "$m" 2> "$VL_CASEDIR/modprobe.err" || { fail "modprobe $m: $(cat "$VL_CASEDIR/modprobe.err")"; exit 1; }
done
check "/dev/uinput exists in L1 after modprobe uinput" test -c /dev/uinput || exit 1
[ -x "$VL_ROOT$KBD" ] || { fail "$KBD not built"; exit 1; }

mkfifo "$VL_CASEDIR/kbd.in"
chroot "$VL_ROOT" "$KBD" vl-vm-keyboard < "$VL_CASEDIR/kbd.in" > "$VL_CASEDIR/kbd.out" 2> "$VL_CASEDIR/kbd.err" &
UPID=$!
exec 7> "$VL_CASEDIR/kbd.in"
# The keyboard goes with vl-uinput (the kernel destroys a uinput device
# when its fd closes), the link with the case.
kbd_done() {
        echo quit >&7
        exec 7>&-
        wait_for 5 gone "$UPID" || kill "$UPID"
        rm -f "$LINK"
}
give_up() { vm_abort vminput; kbd_done; exit 1; }
_node() { NODE=$(head -1 "$VL_CASEDIR/kbd.out"); [ -n "$NODE" ] && [ -c "$NODE" ]; }
if ! wait_for 10 _node; then
        fail "no uinput keyboard: $(cat "$VL_CASEDIR/kbd.err")"
        kbd_done
        exit 1
fi
check "the uinput keyboard is $NODE, an input device (major 13)" test "$(stat -c %t "$NODE")" = d || give_up
chown 0:0 "$NODE" && chmod 0640 "$NODE"
BEFORE=$(stat -c '%u:%g %a' "$NODE")
mkdir -p /dev/input/by-id
ln -sf "../${NODE#/dev/input/}" "$LINK"
owner() { stat -c '%u:%g' "$NODE"; }
given_back() { test "$(stat -c '%u:%g %a' "$NODE")" = "$BEFORE"; }
note "keyboard $NODE ($BEFORE) as $LINK -> $(readlink "$LINK")"

vl_out "$VL_CASEDIR/print.out" print "$(profile vminput)"
check "print: $(grep -m1 '^# inputs\[0\]' "$VL_CASEDIR/print.out")" \
        grep -q "^# inputs\[0\]: evdev $LINK -> $NODE (13:[0-9]*, owner now 0:0, mode 0640), grab-toggle ctrl-scrolllock, grab_all: handed to nobody" "$VL_CASEDIR/print.out"
check "print: QEMU opens $NODE (input-linux,…,grab-toggle=ctrl-scrolllock)" \
        grep -q "input-linux,id=input0,evdev=$NODE,grab_all=on,grab-toggle=ctrl-scrolllock" "$VL_CASEDIR/print.out"
check "print: nothing changed ($(stat -c '%u:%g %a' "$NODE"))" given_back

# bda_keys: the words queued in the L2 BIOS's keyboard buffer, head to
# tail ("0x1e61 0x3062"), or "?" if QMP did not answer.
bda_keys() {
        # shellcheck disable=SC2046 # one positional parameter per hex word
        set -- $(qmp "$(qmp_sock vminput)" "$(hmp 'xp /18xh 0x41a')" 2>/dev/null |
                grep -o 'return.*' | grep -o '0x[0-9a-f]\{4\}')
        [ $# = 18 ] || { echo "?"; return; }
        _h=$(($1)) _t=$(($2)) _out=
        shift 2
        # an empty or not yet initialised buffer (before SeaBIOS's POST: 0 0)
        while [ "$_h" != "$_t" ] && [ "$_h" -ge 30 ] && [ "$_h" -lt 62 ]; do
                eval "_w=\${$(((_h - 30) / 2 + 1))}" # the word at the head
                # shellcheck disable=SC2154 # set by the eval
                _out="$_out $_w"
                _h=$((_h + 2))
                [ "$_h" = 62 ] && _h=30
        done
        echo "${_out# }"
}
key() { echo "key $1" >&7; }
_queued() { [ -n "$(bda_keys | tr -d '?')" ]; }
_got_c() { case $(bda_keys) in *0x2e63) return 0 ;; esac; return 1; }

# ---- run 1: the keys reach the guest; QMP quit
vm_up vminput vminput || give_up
QPID=$(echo "$VMSTATUS" | json_num qemu_pid)
_f() { sed -n "s/^$1:[[:space:]]*//p" "/proc/$QPID/status" | tr '\t' ' '; }
check "run 1: $NODE is nobody's while the VM runs ($(owner))" test "$(owner)" = 65534:65534
check "run 1: the launcher said so" grep -q "evdev input $NODE handed to nobody for the run" "$VL_CASEDIR/vminput.out"
check "run 1: the journal has an evdev entry" grep -q '"kind": *"evdev"' "$(journal vminput)"
check "run 1: nested QEMU (pid $QPID) runs as nobody (Uid $(_f Uid)), CapEff/CapBnd 0" \
        test "$(_f Uid) $(_f CapEff)$(_f CapBnd)" = "65534 65534 65534 65534 00000000000000000000000000000000"
check "run 1: nested QEMU has -object input-linux,…,evdev=$NODE" \
        sh -c 'tr "\0" "\n" < "/proc/$1/cmdline" | grep -q "^input-linux,id=input0,evdev=$2,"' sh "$QPID" "$NODE"
check "run 1: nested QEMU holds $NODE open" l2_holds_node "$QPID" "$NODE"
t=$(now)
i=0
while [ $i -lt 60 ]; do
        key 30
        wait_for 1 _queued && break
        i=$((i + 1))
done
if [ $i -lt 60 ]; then
        note "run 1: the guest's BIOS queued a key $(since "$t")s after the VM ran: [$(bda_keys)]"
        key 48
        key 46
        wait_for 20 _got_c
        got=$(bda_keys)
        check "run 1: the guest read 'a' 'b' 'c' from its keyboard (BIOS buffer [$got])" \
                sh -c 'echo "$1" | grep -Eq "^(0x1e61 )+0x3062 0x2e63$"' sh "$got"
else
        fail "run 1: no key reached the guest's BIOS keyboard buffer in 60 s (buffer [$(bda_keys)])"
fi
if qmp_or_fail vminput quit quit; then expect_exit "QMP quit" 30 0; else give_up; fi
check "run 1: $NODE given back ($(stat -c '%u:%g %a' "$NODE"), was $BEFORE)" given_back
expect_no_journal vminput

# ---- run 2: kill -9 of the launcher, then recover
vm_up vminput vminput || give_up
QPID=$(echo "$VMSTATUS" | json_num qemu_pid)
check "run 2: $NODE is nobody's ($(owner))" test "$(owner)" = 65534:65534
kill -9 "$VLPID"
wait "$VLPID" 2>/dev/null
if wait_for 15 gone "$QPID"; then
        pass "run 2: nested QEMU (pid $QPID) died with the launcher"
else
        fail "run 2: nested QEMU (pid $QPID) survived kill -9 of its launcher"
        kill -9 "$QPID"
        wait_for 10 gone "$QPID"
fi
check "run 2: $NODE still nobody's after the kill ($(owner))" test "$(owner)" = 65534:65534
check "run 2: the journal keeps the evdev entry" grep -q '"kind": *"evdev"' "$(journal vminput)"
vl_out "$VL_CASEDIR/recover.out" recover vminput
rc=$?
check "run 2: vfio-launch recover vminput exits 0 (rc=$rc)" test $rc = 0
check "run 2: recover gave $NODE back ($(stat -c '%u:%g %a' "$NODE"), was $BEFORE)" given_back
expect_no_journal vminput

echo quit >&7
exec 7>&-
wait_for 5 gone "$UPID"
wait "$UPID"
rc=$?
check "the uinput keyboard went away cleanly (vl-uinput exit $rc)" test $rc = 0
rm -f "$LINK"
