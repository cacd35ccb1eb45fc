#!/bin/bash
# Both man pages render with no warning from groff or man.
set -u
dir=$1 fail=0
for page in "$dir/vfio-launch.1" "$dir/vfio-launch.json.5"; do
        out=$(MANWIDTH=80 man --warnings -l "$page" 2>&1 >/dev/null)
        if [ -n "$out" ]; then echo "$page:"; echo "$out"; fail=1; fi
        text=$(MANWIDTH=80 man -l "$page" 2>/dev/null)
        case $text in *NAME*DESCRIPTION*"SEE ALSO"*) ;; *) echo "$page: sections missing"; fail=1 ;; esac
done
# Every verb of `vfio-launch --help` has its entry in vfio-launch(1).
for verb in run check print bind unbind recover status stop detach attach list doctor groups host-config desktop; do
        MANWIDTH=200 man -l "$dir/vfio-launch.1" 2>/dev/null | grep -q "^       $verb\b" ||
                { echo "vfio-launch(1) has no entry for $verb"; fail=1; }
done
exit $fail
