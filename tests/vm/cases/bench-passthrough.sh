# SPDX-License-Identifier: LGPL-2.1-or-later
# bench-passthrough: not a test — the measuring half of `bench/bench.py
# --part passthrough` (bench/README.md), which boots L1 with this case alone
# and reads its BENCH-PT lines from the serial log. bench/passthrough_l1.py,
# run with L0's python3 through the chroot, starts and ends the vmtest pair
# bare (its own sysfs writes, QEMU by hand) and through vfio-launch, ROUNDS
# rounds + 1 warm-up of 4 runs (stop and kill -9, each side): 4 bind cycles
# per round, so at most 6 rounds (+ the warm-up and the boot's own: 29 binds);
# with a second launcher (vl.benchb=BUILD, a third side) 6 a round, at most 4.
# vl.benchrounds=N on the kernel line sets ROUNDS (default 5), vl.benchtrace=1
# runs the launcher with VL_TRACE=1 (its steps, timed). The only verdict is
# whether every run ended as it should; the timings are reported.
# The launcher caches what it learnt of QEMU (-version, -cpu help) in
# /var/cache/vfio-launch, read-only here (L0's, over 9p, whose device and
# inode numbers differ from L0's): without a writable one every run would
# exec QEMU twice more, which a real host does once per QEMU binary. A tmpfs
# there for this case; the warm-up fills it.
need_vl
rounds=${VL_BENCHROUNDS:-5}
max=6 perround=4
[ -n "${VL_BENCHB:-}" ] && max=4 perround=6
if [ "$rounds" -lt 1 ] || [ "$rounds" -gt $max ]; then
        fail "vl.benchrounds=$rounds: 1 to $max rounds per boot ($perround HDA binds a round, 32 a boot)"
        exit 1
fi
second=
if [ -n "${VL_BENCHB:-}" ]; then
        # L0's /tmp is hidden by L1's inside the chroot: shown the way init
        # shows a build folder there.
        case $VL_BENCHB in
        /tmp/?*)
                mkdir -p "$VL_BENCHB" && mount --bind "/l0tmp/${VL_BENCHB#/tmp/}" "$VL_ROOT$VL_BENCHB" ||
                        { fail "cannot expose L0 $VL_BENCHB"; exit 1; }
                ;;
        esac
        second="--vl-b $VL_BENCHB/launcher/vfio-launch"
fi
bench=${VL_SRC%/tests/vm}/bench/passthrough_l1.py
cache=$VL_ROOT/var/cache/vfio-launch
[ -d "$cache" ] || cache=$VL_ROOT/var/cache   # the launcher makes its folder
mount -t tmpfs -o mode=0755 tmpfs "$cache" || { fail "cannot mount a tmpfs on $cache"; exit 1; }
trace=
[ "${VL_BENCHTRACE:-0}" = 1 ] && trace=--trace
chroot "$VL_ROOT" /usr/bin/env PATH="$VL_PATH" CASE="$CASE" python3 "$bench" $trace $second --vl "$VL_BIN" \
        --profile "$(profile vmtest)" --name vmtest --reps "$rounds" --warmup 1 \
        --devs "$DEV0,$DEV1" --orig "$ORIG0,$ORIG1" --tmp "$VL_CASEDIR"
rc=$?
umount "$cache"
case ${VL_BENCHB:-} in /tmp/?*) umount "$VL_ROOT$VL_BENCHB" ;; esac
check "bench: every run started, ended and gave both devices back (rc=$rc)" test $rc = 0
