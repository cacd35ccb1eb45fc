#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# One profile case, as the user would meet it: `cd CASE && vfio-launch check
# input.json`.
#   invalid/CASE: exit status 2 and stderr exactly the one line in CASE/error
#   valid/CASE:   exit status 0 and stderr exactly CASE/expected (the warnings;
#                 a missing file means no output on stderr at all)
# usage: run_case.sh CLI CASE_DIR invalid|valid
set -u
cli=$1 case=$2 kind=$3
actual=$(mktemp) || exit 1
trap 'rm -f "$actual"' EXIT

(cd "$case" && exec "$cli" check input.json) 2>"$actual" >/dev/null
rc=$?

if [ "$kind" = invalid ]; then
        want_rc=2 expected=$case/error
else
        want_rc=0 expected=$case/expected
fi
status=0
if [ "$rc" -ne "$want_rc" ]; then
        echo "FAIL $case: exit status $rc, expected $want_rc" >&2
        status=1
fi
if [ -f "$expected" ]; then
        diff -u "$expected" "$actual" >&2 || status=1
elif [ -s "$actual" ]; then
        echo "FAIL $case: unexpected stderr:" >&2
        cat "$actual" >&2
        status=1
fi
exit $status
