#!/bin/bash
# `cmake --install` into a temp prefix installs exactly expected-files.
set -u
build=$1 expected=$2
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
cmake --install "$build" --prefix "$stage" >/dev/null || exit 1
(cd "$stage" && find . \( -type f -o -type l \) | sed 's|^\./||' | LC_ALL=C sort) >"$stage.list"
diff -u "$expected" "$stage.list"
r=$?
rm -f "$stage.list"
exit $r
