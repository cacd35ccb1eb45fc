#!/bin/sh
# `vfio-launch import -` reads a pipe: the same profile as from the file, and
# its messages name "stdin" with the position.
set -u
cli=$1 py=$2 xml=$3
command -v "$py" >/dev/null || { echo "SKIP: $py not installed"; exit 77; }
t=$(mktemp -d) || exit 1
trap 'rm -rf "$t"' EXIT
fail=0
"$cli" import "$xml" >"$t/file.json" 2>/dev/null
cat "$xml" | "$cli" import - >"$t/pipe.json" 2>/dev/null
"$py" -c 'import json,sys; sys.exit(json.load(open(sys.argv[1])) != json.load(open(sys.argv[2])))' \
        "$t/file.json" "$t/pipe.json" || { echo "FAIL: the pipe's profile differs from the file's"; fail=1; }
printf '<domain>\n<x' | "$cli" import - >/dev/null 2>"$t/err"
rc=$?
[ "$rc" -eq 2 ] || { echo "FAIL: malformed on stdin: exit status $rc, expected 2"; fail=1; }
grep -qx 'vfio-launch: stdin:2:3: .*' "$t/err" || { echo "FAIL: malformed on stdin:"; cat "$t/err"; fail=1; }
[ $fail -eq 0 ] && echo "PASS: import - reads a pipe"
exit $fail
