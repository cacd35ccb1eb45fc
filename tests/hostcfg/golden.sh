#!/bin/bash
# One host-config golden case: CASE/{profile.json, proc/cpuinfo, [sys/...]}
# against CASE/expected (stdout), CASE/expected.stderr (absent = silence) and
# CASE/status (absent = 0). VL_REGEN=1 rewrites the expected files.
set -u
bin=$1 case_dir=$2
out=$(mktemp) err=$(mktemp)
trap 'rm -f "$out" "$err"' EXIT
cd "$case_dir" || exit 1
"$bin" host-config --sysfs-root sys --proc-root proc profile.json >"$out" 2>"$err"
status=$?
if [ "${VL_REGEN:-}" = 1 ]; then
        cp "$out" expected
        if [ -s "$err" ]; then cp "$err" expected.stderr; else rm -f expected.stderr; fi
        if [ "$status" != 0 ]; then echo "$status" >status; else rm -f status; fi
        exit 0
fi
fail=0
diff -u expected "$out" || fail=1
if [ -e expected.stderr ]; then diff -u expected.stderr "$err" || fail=1
elif [ -s "$err" ]; then echo "unexpected stderr:"; cat "$err"; fail=1; fi
want=0; [ -e status ] && want=$(cat status)
[ "$status" = "$want" ] || { echo "exit status $status, expected $want"; fail=1; }
exit $fail
