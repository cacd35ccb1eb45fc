#!/bin/sh
# -o never replaces a file: an existing profile is refused, left as it was,
# and the message says so (exit 2).
set -u
cli=$1 xml=$2
t=$(mktemp -d) || exit 1
trap 'rm -rf "$t"' EXIT
echo mine >"$t/p.json"
"$cli" import -o "$t/p.json" "$xml" 2>"$t/err" >/dev/null
rc=$?
fail=0
[ "$rc" -eq 2 ] || { echo "FAIL: exit status $rc, expected 2"; fail=1; }
[ "$(cat "$t/p.json")" = mine ] || { echo "FAIL: the file was changed"; fail=1; }
grep -qF "exists: refused, it is not overwritten" "$t/err" || { echo "FAIL: message:"; cat "$t/err"; fail=1; }
ln -s "$t/p.json" "$t/link.json"
"$cli" import -o "$t/link.json" "$xml" 2>/dev/null >/dev/null
[ "$(cat "$t/p.json")" = mine ] || { echo "FAIL: written through a symlink"; fail=1; }
[ $fail -eq 0 ] && echo "PASS: -o refuses an existing file"
exit $fail
