#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# One init case: on the fake host hosts/$(cat CASE/host).host,
#   vfio-launch init --host-root ROOT ARGS...   (ARGS: CASE/args, one a line)
# then
#   - the exit status must be CASE/status;
#   - stderr must be exactly CASE/stderr (every choice, or the refusal);
#   - with status 0, stdout must be exactly CASE/expected.json, and that
#     profile must pass the JSON Schema (where python3-jsonschema is
#     installed), `vfio-launch check`, `vfio-launch print` on the same fake
#     host (the command line is built: exit 0 and a QEMU argv) and be read
#     by `vfio-launch doctor` (exit 0 or 1: not a profile error);
#   - with another status, stdout must be empty.
# VL_REGEN=1 writes status, stderr and expected.json instead of comparing.
# usage: run_case.sh CLI FAKEHOST PYTHON3 SCHEMA CASE_DIR
set -u
cli=$1 fakehost=$2 py=$3 schema=$4 case=$5
here=$(cd "$(dirname "$0")" && pwd)
t=$(mktemp -d) || exit 1
trap 'rm -rf "$t"' EXIT
host=$here/hosts/$(cat "$case/host").host
set --
while IFS= read -r a; do set -- "$@" "$a"; done <"$case/args"
"$fakehost" "$host" "$here/pci.ids" "$cli" init --host-root @ROOT@ "$@" >"$t/out.json" 2>"$t/stderr"
rc=$?
if [ "${VL_REGEN:-}" = 1 ]; then
        echo "$rc" >"$case/status"
        cp "$t/stderr" "$case/stderr"
        if [ "$rc" -eq 0 ]; then cp "$t/out.json" "$case/expected.json"; else rm -f "$case/expected.json"; fi
        echo "REGEN: $case"
fi
want=$(cat "$case/status")
fail=0
if [ "$rc" -ne "$want" ]; then
        echo "FAIL: exit status $rc, expected $want"; cat "$t/stderr"; fail=1
fi
diff -u "$case/stderr" "$t/stderr" || { echo "FAIL: stderr differs"; fail=1; }
if [ "$want" -eq 0 ]; then
        diff -u "$case/expected.json" "$t/out.json" || { echo "FAIL: the profile differs"; fail=1; }
        if command -v "$py" >/dev/null && "$py" -c 'import jsonschema' 2>/dev/null; then
                "$py" -c 'import json,sys,jsonschema
jsonschema.Draft202012Validator(json.load(open(sys.argv[1]))).validate(json.load(open(sys.argv[2])))' \
                        "$schema" "$t/out.json" || { echo "FAIL: the profile breaks the JSON Schema"; fail=1; }
        else
                echo "note: no python3-jsonschema: the schema check is left out"
        fi
        if ! "$cli" check "$t/out.json" >"$t/check" 2>&1; then
                echo "FAIL: vfio-launch check refuses the profile:"; cat "$t/check"; fail=1
        fi
        "$fakehost" "$host" "$here/pci.ids" "$cli" print --host-root @ROOT@ "$t/out.json" >"$t/print" 2>&1
        prc=$?
        if [ $prc -ne 0 ] || ! grep -q '^# command line' "$t/print" || ! grep -q '^-machine' "$t/print"; then
                echo "FAIL: vfio-launch print did not build the command line (exit $prc):"; cat "$t/print"; fail=1
        fi
        "$cli" doctor "$t/out.json" >"$t/doctor" 2>&1
        drc=$?
        if [ $drc -gt 1 ]; then
                echo "FAIL: vfio-launch doctor refuses the profile (exit $drc):"; cat "$t/doctor"; fail=1
        fi
elif [ -s "$t/out.json" ]; then
        echo "FAIL: a refused init wrote a profile:"; cat "$t/out.json"; fail=1
fi
[ $fail -eq 0 ] && echo "PASS: $case"
exit $fail
