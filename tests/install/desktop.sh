#!/bin/bash
# `vfio-launch desktop` writes an entry desktop-file-validate accepts, that
# runs the installed binary through pkexec; the polkit policy is well-formed
# XML whose exec.path is that binary, and `run` asks for an administrator
# every time (auth_admin) with a message that names the profile.
set -u
bin=$1 profile=$2 policy=$3 bindir=$4
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
fail=0
"$bin" desktop --output "$out/apps" "$profile" >/dev/null || exit 1
entry=$out/apps/vfio-launch-win10.desktop
desktop-file-validate "$entry" || fail=1
grep -qx "Exec=pkexec $bindir/vfio-launch run $(realpath "$profile")" "$entry" || { echo "bad Exec"; cat "$entry"; fail=1; }
grep -qx "Exec=pkexec $bindir/vfio-launch stop win10" "$entry" || { echo "bad stop action"; fail=1; }
grep -qx "Categories=System;Emulator;" "$entry" || fail=1

# A profile path that needs quoting in Exec.
mkdir -p "$out/my vms"
sed 's/"win10"/"w2"/' "$profile" >"$out/my vms/a\$b.json"
"$bin" desktop --output "$out/apps" "$out/my vms/a\$b.json" >/dev/null || exit 1
desktop-file-validate "$out/apps/vfio-launch-w2.desktop" || fail=1
grep -qxF "Exec=pkexec $bindir/vfio-launch run \"$out/my vms/a\\\\\$b.json\"" "$out/apps/vfio-launch-w2.desktop" ||
        { echo "bad quoting:"; grep ^Exec "$out/apps/vfio-launch-w2.desktop"; fail=1; }

# The default folder: $XDG_DATA_HOME/applications, else $HOME/.local/share/applications.
env -u SUDO_UID -u XDG_DATA_HOME HOME="$out/home" "$bin" desktop "$profile" >/dev/null || fail=1
[ -f "$out/home/.local/share/applications/vfio-launch-win10.desktop" ] || { echo "not in HOME"; fail=1; }
env -u SUDO_UID XDG_DATA_HOME="$out/xdg" HOME="$out/home2" "$bin" desktop "$profile" >/dev/null || fail=1
[ -f "$out/xdg/applications/vfio-launch-win10.desktop" ] && [ ! -e "$out/home2" ] || { echo "XDG_DATA_HOME not used"; fail=1; }

xmllint --noout --nonet "$policy" || fail=1
[ "$(xmllint --xpath 'count(//action)' "$policy")" = 2 ] || fail=1
for id in run stop; do
        path=$(xmllint --xpath "string(//action[@id='org.vfio-launch.$id']/annotate[@key='org.freedesktop.policykit.exec.path'])" "$policy")
        argv1=$(xmllint --xpath "string(//action[@id='org.vfio-launch.$id']/annotate[@key='org.freedesktop.policykit.exec.argv1'])" "$policy")
        [ "$path" = "$bindir/vfio-launch" ] && [ "$argv1" = "$id" ] || { echo "$id: exec.path '$path' argv1 '$argv1'"; fail=1; }
done
# Running a profile is root's power: asked every time, the prompt names it.
for key in allow_any allow_inactive allow_active; do
        v=$(xmllint --xpath "string(//action[@id='org.vfio-launch.run']/defaults/$key)" "$policy")
        [ "$v" = auth_admin ] || { echo "run: $key is '$v', not auth_admin"; fail=1; }
done
xmllint --xpath "string(//action[@id='org.vfio-launch.run']/message)" "$policy" | grep -qF "'\$(command_line)'" ||
        { echo "run: the message does not name the profile (\$(command_line))"; fail=1; }
exit $fail
