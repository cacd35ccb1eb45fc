#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Run several boots of boots.txt one after the other (all by default).
# usage: suite.sh [-b BUILD_DIR] [NAME...]     e.g. suite.sh -b build smoke-intel noir
# Exit 0 only if every boot passed. Same env as run.sh.
set -u
here=$(cd "$(dirname "$0")" && pwd)
args=()
if [ "${1:-}" = -b ]; then args=(-b "$2"); shift 2; fi
want=" $* "
failed=() passed=0
t0=$SECONDS
while read -r name variant cases; do
        case $name in '' | '#'*) continue ;; esac
        [ $# -eq 0 ] || [[ $want == *" $name "* ]] || continue
        echo "=== vm/$name"
        # shellcheck disable=SC2086
        if "$here/run.sh" "${args[@]}" "$variant" $cases; then passed=$((passed + 1)); else failed+=("$name"); fi
done < "$here/boots.txt"
echo "=== vm suite: ${passed} boots passed, ${#failed[@]} failed (${failed[*]:-none}) in $((SECONDS - t0))s"
[ ${#failed[@]} -eq 0 ]
