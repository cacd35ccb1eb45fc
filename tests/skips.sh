#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The skipped tests of ctest runs, with their reasons, against the allow-list.
#
#   skips.sh list BUILD_DIR CTEST_OUTPUT
#       After `ctest --test-dir BUILD_DIR ... | tee CTEST_OUTPUT`: one line
#       "TEST<TAB>REASON" per reason of each test ctest reports as skipped
#       (exit status 77). The reasons are the test's "SKIP: REASON" lines,
#       read from BUILD_DIR/Testing/Temporary/LastTest.log; a test that gave
#       none gets the reason "(no SKIP: line: the test gave no reason)".
#   skips.sh check ALLOW_FILE LIST...
#       Print every skip of the LIST files (as made by `list`, one per build
#       folder: the lines name the folder), each marked "allowed" or "NOT
#       ALLOWED"; exit 1 if any is not allowed.
#
# ALLOW_FILE (tests/skips.allow): one skip per line, "TEST REASON": TEST a
# test name or a shell pattern (argv/realize/*), REASON a fixed string the
# test's SKIP: line must contain. A skip is allowed only if a line names its
# test AND its reason: a test skipped for another reason than the one listed
# is not. Blank lines and lines starting with # are ignored.
set -euo pipefail

usage() { sed -n '3,20p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }

list() {
        local build=$1 out=$2 log
        log=$build/Testing/Temporary/LastTest.log
        # The names come from ctest's own summary: "  12 - unit/test_x (Skipped)".
        sed -n '/^The following tests did not run:/,/^$/ s/^[[:space:]]*[0-9]* - \(.*\) (Skipped)$/\1/p' "$out" |
        while IFS= read -r name; do
                # Its output in LastTest.log: "N/M Test: NAME" ... "Output:",
                # a rule, the output, "<end of output>".
                awk -v name="$name" '
                        /^[0-9]+\/[0-9]+ Test: / { cur = substr($0, index($0, ": ") + 2); inout = 0; next }
                        cur == name && /^Output:$/ { inout = 1; getline; next }
                        cur == name && /^<end of output>$/ { inout = 0; next }
                        cur == name && inout && /^SKIP: / { print name "\t" substr($0, 7); n++ }
                        END { if (!n) print name "\t(no SKIP: line: the test gave no reason)" }
                ' "$log"
        done
}

allowed() { # allowed ALLOW_FILE NAME REASON
        local pat reason
        while read -r pat reason; do
                case $pat in '' | '#'*) continue ;; esac
                # shellcheck disable=SC2053 # the name is a pattern on purpose
                if [[ $2 == $pat ]] && [ -n "$reason" ] && [[ $3 == *"$reason"* ]]; then
                        return 0
                fi
        done < "$1"
        return 1
}

check() {
        local allow=$1 bad=0 n=0 list where name reason
        shift
        [ -f "$allow" ] || { echo "skips: no allow-list $allow" >&2; exit 2; }
        for list in "$@"; do
                where=$(basename "$(dirname "$list")") # the build folder
                while IFS=$'\t' read -r name reason; do
                        n=$((n + 1))
                        if allowed "$allow" "$name" "$reason"; then
                                echo "  allowed      $where: $name: $reason"
                        else
                                echo "  NOT ALLOWED  $where: $name: $reason"
                                bad=$((bad + 1))
                        fi
                done < "$list"
        done
        if [ "$bad" -gt 0 ]; then
                echo "skips: $bad of $n skip(s) not in ${allow#"$PWD"/} (a test that cannot run here must be listed there with its reason)"
                return 1
        fi
        return 0
}

[ $# -ge 1 ] || usage
cmd=$1
shift
case $cmd in
list) [ $# = 2 ] || usage; list "$@" ;;
check) [ $# -ge 1 ] || usage; check "$@" ;;
*) usage ;;
esac
