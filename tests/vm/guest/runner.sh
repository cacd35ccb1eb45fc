# SPDX-License-Identifier: LGPL-2.1-or-later
# Runs the cases named in vl.cases, in order, each in its own shell under a
# timeout. After each case: no nested QEMU or launcher may be left, both
# functions must be back on their host drivers and /dev/vfio empty; if not,
# that is a FAIL of the case and the runner repairs the state through sysfs so
# the next case starts clean. Prints CASE-BEGIN/CASE-END lines and the final
# marker VL-DONE that run.sh requires.
. /vl/lib.sh
ncases=0 npass=0 nfail=0

after_case() {
        left=$(l2_pids; vl_pids)
        if [ -n "$left" ]; then
                fail "processes left behind: $(for p in $left; do tr '\0' ' ' < /proc/$p/cmdline | cut -c1-120; echo; done)"
                for p in $left; do kill -9 "$p" 2>/dev/null; done
                for p in $left; do wait_for 10 gone "$p"; done
        fi
        if ! at_home || ! no_vfio_nodes; then
                lim=
                [ "$(hda_binds)" -ge 32 ] && lim=" - the 32 HDA binds of this boot are used up: split the boot"
                fail "state after the case: $(state) (expected $DEV0=$ORIG0 $DEV1=$ORIG1, no /dev/vfio/N)$lim; repairing"
                bind_to "" $DEVS
                for b in $DEVS; do echo > "$SYSPCI/$b/driver_override"; done
                at_home || echo "NOTE: repair failed: $(state)"
        fi
        hda_settle
}

for c in $(echo "$VL_CASES" | tr ',' ' '); do
        ncases=$((ncases + 1))
        CASE=$c
        echo "CASE-BEGIN: $c"
        rm -rf "$VL_CASEDIR" "$VL_ROOT"/run/* "$VL_ROOT"/var/log/*
        mkdir -p "$VL_CASEDIR"
        : > "$VL_VERDICTS"
        dlines=$(dmesg | wc -l)
        t=$(now)
        if [ -f "/vl/cases/$c.sh" ]; then
                timeout -k 5 "${VL_CTIMEOUT:-120}" sh -c '. /vl/lib.sh; CASE=$1; . "/vl/cases/$1.sh"' sh "$c" < /dev/null
                rc=$?
        else
                fail "no such case"
                rc=1
        fi
        [ "$rc" -ge 124 ] && [ "$rc" -le 143 ] && fail "timed out after ${VL_CTIMEOUT:-120}s (rc=$rc)"
        p=$(grep -c PASS "$VL_VERDICTS")
        f=$(grep -c FAIL "$VL_VERDICTS")
        [ "$rc" != 0 ] && [ "$f" = 0 ] && fail "case exited $rc without a FAIL line"
        [ "$p" = 0 ] && [ "$f" = 0 ] && fail "case gave no verdict"
        after_case
        p=$(grep -c PASS "$VL_VERDICTS")
        f=$(grep -c FAIL "$VL_VERDICTS")
        if [ "$f" != 0 ]; then
                for l in "$VL_CASEDIR"/* "$VL_ROOT"/var/log/vfio-launch/*; do
                        [ -S "$l" ] && continue
                        show "$l" "${l#"$VL_ROOT"}" 40
                done
                dmesg | tail -n +$((dlines + 1)) | tail -n 25 | sed 's/^/  dmesg: /'
        fi
        npass=$((npass + p))
        nfail=$((nfail + f))
        echo "CASE-END: $c pass=$p fail=$f time=$(since "$t")s"
done
CASE=harness
n=$(hda_binds)
echo "NOTE: harness: snd_hda_intel bound $DEV1 $n times this boot (at most 32 work)"
echo "VL-DONE: cases=$ncases pass=$npass fail=$nfail uptime=$(now)s"
