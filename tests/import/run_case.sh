#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# One import case: `vfio-launch import --sysfs-root FAKE -o OUT domain.xml`
# run in CASE (so messages name "domain.xml"), then
#   - the exit status must be CASE/status (0, 1 or 2);
#   - stderr must be exactly CASE/stderr (no file: silence);
#   - with status 0 or 1, the profile must equal CASE/expected.json as a JSON
#     value (python3), OUT must pass the JSON Schema and `vfio-launch check`, and when CASE/print
#     exists, `vfio-launch print` must realize it (exit 0).
# CASE/pci lists the fake host's devices, "ADDR VENDOR DEVICE" per line.
# usage: run_case.sh CLI PYTHON3 SCHEMA CASE_DIR
set -u
cli=$1 py=$2 schema=$3 case=$4
command -v "$py" >/dev/null || { echo "SKIP: $py not installed"; exit 77; }
t=$(mktemp -d) || exit 1
trap 'rm -rf "$t"' EXIT
mkdir -p "$t/sys/bus/pci/devices"
if [ -f "$case/pci" ]; then
        while read -r addr ven dev; do
                d=$t/sys/bus/pci/devices/$addr
                mkdir -p "$d" && echo "0x$ven" >"$d/vendor" && echo "0x$dev" >"$d/device" &&
                        echo 0x030000 >"$d/class"
        done <"$case/pci"
fi
(cd "$case" && exec "$cli" import --sysfs-root "$t/sys" -o "$t/out.json" domain.xml) 2>"$t/stderr" >/dev/null
rc=$?
want=$(cat "$case/status")
fail=0
if [ "$rc" -ne "$want" ]; then
        echo "FAIL: exit status $rc, expected $want"; fail=1
fi
if [ -f "$case/stderr" ]; then
        diff -u "$case/stderr" "$t/stderr" || fail=1
elif [ -s "$t/stderr" ]; then
        echo "FAIL: unexpected stderr:"; cat "$t/stderr"; fail=1
fi
if [ "$want" -ne 2 ]; then
        "$py" -c 'import json,sys
a=json.load(open(sys.argv[1])); b=json.load(open(sys.argv[2]))
if a != b:
    print("FAIL: the profile differs from", sys.argv[2]); print(json.dumps(a, indent=2)); sys.exit(1)' \
                "$t/out.json" "$case/expected.json" || fail=1
        # The JSON Schema too, where python3-jsonschema is installed (tests/deps.sh
        # installs it; the loader above is the authority either way).
        if "$py" -c 'import jsonschema' 2>/dev/null; then
                "$py" -c 'import json,sys,jsonschema
jsonschema.Draft202012Validator(json.load(open(sys.argv[1]))).validate(json.load(open(sys.argv[2])))' \
                        "$schema" "$t/out.json" || { echo "FAIL: the profile breaks the JSON Schema"; fail=1; }
        fi
        if ! "$cli" check "$t/out.json" >"$t/check" 2>&1; then
                echo "FAIL: vfio-launch check refuses the profile:"; cat "$t/check"; fail=1
        fi
        if [ -f "$case/print" ] && ! "$cli" print "$t/out.json" >"$t/print" 2>&1; then
                echo "FAIL: vfio-launch print refuses the profile:"; cat "$t/print"; fail=1
        fi
else
        if [ -e "$t/out.json" ]; then
                echo "FAIL: a profile was written for a refused domain"; fail=1
        fi
fi
[ $fail -eq 0 ] && echo "PASS: $case"
exit $fail
