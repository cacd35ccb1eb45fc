#!/bin/bash
# The whole test suite, as CI runs it (README, "Run every test"):
#   1. install dependencies (apt, Debian 12, as root)
#   2. gcc build with -Werror: unit, profile, argv golden + QEMU realization,
#      QMP, fuzz-corpus replay, and the real-kernel harness (tests/vm)
#   3. clang build with ASan+UBSan and -Werror: every test but the vm boots
#   4. short libFuzzer runs of every fuzz target (clang)
# Build folders: build-ci/ and build-ci-asan/ (override with BUILD=...).
#
# A test that could not run here exits 77 and ctest shows it as skipped; the
# summary lists every skip with its reason (tests/skips.sh). With CI=true a
# skip that tests/skips.allow does not list, with that reason, fails the run:
# a test that cannot run on the CI machine must say so in that one file.
set -uo pipefail
cd "$(dirname "$0")/.."
top=$PWD
BUILD=${BUILD:-$top/build-ci}
FUZZ_SECONDS=${FUZZ_SECONDS:-20}
jobs=$(nproc)
failed=()
skip_lists=()

step() { printf '\n==== %s (at %d s)\n' "$*" "$SECONDS"; }
ctest_in() { # ctest_in BUILD_DIR ARGS...: ctest there; its skips go to BUILD_DIR/skips.txt
        local build=$1 rc
        shift
        ctest --test-dir "$build" --output-on-failure "$@" 2>&1 | tee "$build/ctest.out"
        rc=${PIPESTATUS[0]}
        tests/skips.sh list "$build" "$build/ctest.out" > "$build/skips.txt" || rc=1
        skip_lists+=("$build/skips.txt")
        return "$rc"
}
# gcc_tests BUILD: every test of the gcc build. A failed vm boot (a whole
# emulated host, its nested QEMU under TCG in TCG) boots once more, and only
# when every failed test is a vm boot: one that fails twice fails the step;
# one that passes the second time is reported at the end as flaky, with the
# first FAIL lines of its first boot, and does not.
flaky=()
gcc_tests() {
        local build=$1 failed_log t
        failed_log=$build/Testing/Temporary/LastTestsFailed.log
        rm -f "$failed_log" # ctest leaves it from a failed run, and --rerun-failed reads it
        ctest_in "$build" && return 0
        [ -s "$failed_log" ] && ! grep -qv '^[0-9]*:vm/' "$failed_log" || return 1
        tests/skips.sh list "$build" "$build/ctest.out" > /dev/null || return 1
        cp "$build/ctest.out" "$build/ctest-first.out"
        cp "$failed_log" "$build/ctest-first.failed"
        echo "run-all: vm boot(s) failed: $(cut -d: -f2 "$failed_log" | tr '\n' ' ')- booting them once more"
        ctest --test-dir "$build" --output-on-failure --rerun-failed 2>&1 | tee "$build/ctest-rerun.out"
        [ "${PIPESTATUS[0]}" = 0 ] || return 1
        while IFS=: read -r _ t; do flaky+=("$t"); done < "$build/ctest-first.failed"
        return 0
}
run() { # run NAME CMD...: record a failed step, keep going; its status is the step's
        local name=$1; shift
        "$@" && return 0
        echo "run-all: FAILED: $name"
        failed+=("$name")
        return 1
}

step "dependencies"
tests/deps.sh || exit 1

step "gcc build (-Werror)"
cmake -S . -B "$BUILD" -DVL_WERROR=ON >/dev/null && cmake --build "$BUILD" -j"$jobs" || exit 1

step "clang build (ASan + UBSan + libFuzzer, -Werror)"
CC=clang cmake -S . -B "$BUILD-asan" -DVL_WERROR=ON -DVL_SANITIZE=ON -DVL_FUZZ=ON \
        -DCMAKE_BUILD_TYPE=Debug >/dev/null && cmake --build "$BUILD-asan" -j"$jobs" || exit 1

step "tests under ASan + UBSan (all but the vm boots)"
run asan ctest_in "$BUILD-asan" -LE vm -j"$jobs"

step "short fuzz runs (${FUZZ_SECONDS}s each)"
for f in "$BUILD-asan"/tests/fuzz/fuzz_*; do
        [ -x "$f" ] || continue
        name=${f##*/fuzz_}
        corpus=$(mktemp -d)
        cp "$top/tests/fuzz/corpus/$name"/* "$corpus"/ 2>/dev/null
        # The log holds run's FAILED line too: print it with the crash.
        run "fuzz-$name" "$f" -max_total_time="$FUZZ_SECONDS" -print_final_stats=0 \
                -artifact_prefix="$BUILD-asan/fuzz-$name-" \
                "$corpus" >"$BUILD-asan/fuzz-$name.log" 2>&1 ||
                tail -40 "$BUILD-asan/fuzz-$name.log"
        grep -E '^#[0-9]+.*DONE' "$BUILD-asan/fuzz-$name.log" | tail -1
        rm -rf "$corpus"
done

step "every test, gcc build (incl. the real-kernel harness)"
run tests gcc_tests "$BUILD"

step "summary"
nskips=0
[ ${#skip_lists[@]} -eq 0 ] || nskips=$(cat "${skip_lists[@]}" | wc -l)
if [ "$nskips" -gt 0 ]; then
        echo "run-all: $nskips skip(s): these tests did NOT run, for these reasons:"
        if tests/skips.sh check tests/skips.allow "${skip_lists[@]}"; then
                :
        elif [ "${CI:-}" = true ]; then
                failed+=("skips")
        else
                echo "run-all: (not CI: reported only; with CI=true the skips not allowed fail the run)"
        fi
else
        echo "run-all: no test skipped"
fi
if [ ${#flaky[@]} -gt 0 ]; then
        echo "run-all: FLAKY: ${flaky[*]} failed, then passed when booted again; the first boot's first FAIL lines:"
        grep -a -E '^[[:space:]]*FAIL: ' "$BUILD/ctest-first.out" | head -n 10
fi
if [ ${#failed[@]} -eq 0 ]; then
        echo "run-all: every step passed"
        exit 0
fi
echo "run-all: failed steps: ${failed[*]}"
exit 1
