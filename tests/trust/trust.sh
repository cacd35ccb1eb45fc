#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Who may make root do what (docs/design.md, "Who may do what"): the built
# vfio-launch, as root, against files that another account planted or can
# change. Nothing is started: each case stops in the read-only preparation
# that `print` and `run` share, or is refused before it.
#
#   trust.sh -b BUILD_DIR [CASE...]     (all cases when none is given)
#
# Cases: user-descriptor profile-owner vars-outside vars-template
# Each check prints PASS/FAIL; the exit status is 1 on any FAIL, 77 (skip)
# when not root or without qemu-system-x86_64 (print probes it). A user the
# test creates is removed by it, with its temp dir. VL_TRUST_KEEP=1 keeps the
# temp dirs.
set -uo pipefail
BUILD=${VL_BUILD_DIR:-}
while getopts b: o; do
        case $o in
        b) BUILD=$OPTARG ;;
        *) exit 2 ;;
        esac
done
shift $((OPTIND - 1))
[ -n "$BUILD" ] || { echo "usage: $0 -b BUILD_DIR [CASE...]" >&2; exit 2; }
VL=$(cd "$BUILD" && pwd)/launcher/vfio-launch
[ -x "$VL" ] || { echo "trust: $VL not built" >&2; exit 2; }
if [ "$(id -u)" != 0 ]; then
        echo "SKIP: the trust tests need root (they check what root reads)"
        exit 77
fi
if ! command -v qemu-system-x86_64 >/dev/null; then
        echo "SKIP: qemu-system-x86_64 is not installed ('print' probes it)"
        exit 77
fi
ALL="user-descriptor profile-owner vars-outside vars-template"

fails=0
CASE=
pass() { echo "PASS: $CASE: $*"; }
fail() { echo "FAIL: $CASE: $*"; fails=$((fails + 1)); }
check() { # check DESCRIPTION COMMAND...
        local what=$1; shift
        if "$@"; then pass "$what"; else fail "$what"; fi
}

T='' U='' NAME='' RC='' f0=0
new_dir() { # a fresh temp dir, root's, 0755 (the run-as user must traverse it)
        T=$(mktemp -d /tmp/vl-trust.XXXXXX)
        chmod 0755 "$T"
}

cleanup() { # the user this case made (its group too), the temp dir, and
            # whatever a launcher that did not refuse left for this case's VM
        if [ -n "$NAME" ]; then
                rm -rf "/run/vfio-launch/$NAME" "/var/lib/vfio-launch/$NAME"
                rm -f "/var/log/vfio-launch/$NAME.log"
        fi
        if [ -n "$U" ]; then
                userdel "$U" 2>/dev/null
                getent group "$U" >/dev/null && groupdel "$U" 2>/dev/null
        fi
        [ -n "$T" ] && [ "${VL_TRUST_KEEP:-0}" != 1 ] && rm -rf "$T"
        T='' U='' NAME=''
}
trap cleanup EXIT

# vl CMD... : the launcher with stdout in $T/out, stderr in $T/err, RC set
vl() {
        "$@" > "$T/out" 2> "$T/err"
        RC=$?
}
exit_is() { [ "$RC" = "$1" ]; }
# stderr is exactly the one line $1
err_is() { [ "$(cat "$T/err")" = "$1" ]; }
# the exact line $1 is on stderr
err_line() { grep -Fqx -- "$1" "$T/err"; }
# $1 appears neither on stdout nor on stderr
nowhere() { ! grep -Fq -- "$1" "$T/out" "$T/err"; }
show() { echo "---- $CASE: stdout:"; sed 's/^/  /' "$T/out"; echo "---- stderr:"; sed 's/^/  /' "$T/err"; }

# A stand-in for /etc/shadow: root's, 0600.
plant_secret() {
        printf 'SECRET-TOKEN:$6$salt$hash:19000:0:99999:7:::\n' > "$T/secret"
        chmod 0600 "$T/secret"
}

# ---- the cases ----------------------------------------------------------------

# user-descriptor (F1, docs/facts.md#F-firmware-user-dir): the run-as user has a
# firmware descriptor of its own in ~/.config/qemu/firmware, sorted before the
# system ones, naming root's secret as nvram-template. Root's print (and so
# run: they share the preparation) never reads it; the same print run as that
# user shows what that user's own QEMU would take.
case_user_descriptor() {
        local fw name=trust-f1-$$
        new_dir
        U=vl-trust-$$
        if ! useradd --no-create-home --home-dir "$T/home" --shell /usr/sbin/nologin --user-group "$U" \
                2> "$T/useradd.err"; then
                fail "useradd $U: $(cat "$T/useradd.err")"
                U=
                return
        fi
        plant_secret
        fw=$T/home/.config/qemu/firmware
        mkdir -p "$fw"
        cat > "$fw/10-evil.json" <<JSON
{ "description": "the user's own", "interface-types": ["uefi"],
  "mapping": { "device": "flash",
    "executable": { "filename": "/usr/share/OVMF/OVMF_CODE_4M.fd", "format": "raw" },
    "nvram-template": { "filename": "$T/secret", "format": "raw" } },
  "targets": [ { "architecture": "x86_64", "machines": ["pc-q35-*"] } ],
  "features": [], "tags": [] }
JSON
        chown -R "$U:$U" "$T/home"
        cat > "$T/vm.json" <<JSON
{ "name": "$name", "accel": "tcg", "cpu": { "model": "max" }, "memory": "128M",
  "user": "$U", "firmware": { "type": "uefi" } }
JSON
        f0=$fails
        vl "$VL" print "$T/vm.json"
        check "root's print: the user's descriptor is not used" nowhere "10-evil.json"
        check "root's print: the secret is not a VARS template" nowhere "$T/secret"
        check "root's print: nothing is read from the user's folder" nowhere "$fw"
        [ "$fails" = "$f0" ] || show

        f0=$fails
        vl setpriv --reuid="$U" --regid="$U" --init-groups "$VL" print "$T/vm.json"
        check "the user's own print: exit status 0 (got $RC)" exit_is 0
        check "the user's own print: its own descriptor, as its QEMU would take it" \
                grep -q "^# firmware: /usr/share/OVMF/OVMF_CODE_4M.fd from descriptor $fw/10-evil.json\$" "$T/out"
        [ "$fails" = "$f0" ] || show
}

# A `run` of a profile that should be refused before anything: if it is not
# (a launcher without the rule), QEMU would start; the timeout's SIGTERM then
# stops it (shutdown_timeout 1) and cleanup removes what it left.
run_guarded() { vl timeout -k 10 30 "$VL" run "$1"; }
no_vm_left() { [ ! -e "/run/vfio-launch/$NAME" ] && [ ! -e "/var/lib/vfio-launch/$NAME" ]; }

# profile-owner: a profile that is not root's — another account's file, in a
# folder every account may write, or through a symlink — is refused before
# it is read when run (or bound: `bind`) through pkexec, with one line that says why and where
# system profiles live; run otherwise (sudo, systemd) it is warned about, and
# so is a desktop entry (pkexec) made for it. Root's own profile gets neither. The run-as user does not exist, so that
# even a launcher without the refusal stops at the user lookup.
case_profile_owner() {
        local msg="through pkexec only a profile that root owns, and no other account may change, is used (keep it in /etc/vfio-launch/, owned by root)"
        local power="whoever can change it has root's power over this host (keep system profiles in /etc/vfio-launch/, owned by root)"
        new_dir
        NAME=trust-p-$$
        mkdir "$T/p" "$T/loose"
        chmod 0777 "$T/loose"
        cat > "$T/p/roots.json" <<JSON
{ "name": "$NAME", "accel": "tcg", "cpu": { "model": "max" }, "memory": "128M",
  "firmware": { "type": "bios" }, "user": "vl-trust-no-such-user", "shutdown_timeout": 1 }
JSON
        cp "$T/p/roots.json" "$T/p/nobodys.json"
        chown nobody "$T/p/nobodys.json"
        cp "$T/p/roots.json" "$T/loose/vm.json"
        ln -s "$T/p/roots.json" "$T/p/link.json"

        f0=$fails
        PKEXEC_UID=65534 run_guarded "$T/p/nobodys.json"
        check "pkexec, nobody's profile: exit status 2 (got $RC)" exit_is 2
        check "pkexec, nobody's profile: the one line" \
                err_is "vfio-launch: profile '$T/p/nobodys.json' belongs to uid 65534: $msg"
        [ "$fails" = "$f0" ] || show
        f0=$fails
        PKEXEC_UID=65534 run_guarded "$T/loose/vm.json"
        check "pkexec, folder anyone may write: exit status 2 (got $RC)" exit_is 2
        check "pkexec, folder anyone may write: the one line" \
                err_is "vfio-launch: profile '$T/loose/vm.json': '$T/loose' is writable by every account (mode 0777): $msg"
        [ "$fails" = "$f0" ] || show
        f0=$fails
        PKEXEC_UID=65534 run_guarded "$T/p/link.json"
        check "pkexec, a symlink: exit status 2 (got $RC)" exit_is 2
        check "pkexec, a symlink: the one line" \
                err_is "vfio-launch: profile '$T/p/link.json' is a symbolic link: $msg"
        [ "$fails" = "$f0" ] || show
        f0=$fails
        # bind changes the host as run does (the profile has no devices:
        # a launcher without the rule binds nothing either)
        PKEXEC_UID=65534 vl "$VL" bind "$T/p/nobodys.json"
        check "pkexec bind, nobody's profile: exit status 2 (got $RC)" exit_is 2
        check "pkexec bind, nobody's profile: the one line" \
                err_is "vfio-launch: profile '$T/p/nobodys.json' belongs to uid 65534: $msg"
        [ "$fails" = "$f0" ] || show
        f0=$fails
        PKEXEC_UID=65534 run_guarded "$T/p/roots.json"
        check "pkexec, root's profile: not refused for it (stops at the user, exit 1, got $RC)" exit_is 1
        check "pkexec, root's profile: no word about the profile" nowhere "through pkexec"
        check "nothing of the VM left on the host" no_vm_left
        [ "$fails" = "$f0" ] || show

        f0=$fails
        vl "$VL" print "$T/p/nobodys.json"
        check "no pkexec, nobody's profile: print goes on (exit 0, got $RC)" exit_is 0
        check "no pkexec, nobody's profile: warned" \
                err_line "vfio-launch: warning: profile '$T/p/nobodys.json' belongs to uid 65534: $power"
        vl "$VL" print "$T/p/roots.json"
        check "no pkexec, root's profile: exit 0 (got $RC)" exit_is 0
        check "no pkexec, root's profile: no warning about it" nowhere "root's power"
        [ "$fails" = "$f0" ] || show

        # a desktop entry (it runs the profile through pkexec) says so
        f0=$fails
        vl "$VL" desktop --output "$T/apps" "$T/p/nobodys.json"
        check "desktop, nobody's profile: written anyway (exit 0, got $RC)" exit_is 0
        check "desktop, nobody's profile: warned" \
                err_is "vfio-launch: warning: profile '$T/p/nobodys.json' belongs to uid 65534: the entry runs it through pkexec, which will refuse it (keep it in /etc/vfio-launch/, owned by root)"
        vl "$VL" desktop --output "$T/apps" "$T/p/roots.json"
        check "desktop, root's profile: no warning" err_is ""
        [ "$fails" = "$f0" ] || show
}

# vars-outside: firmware.vars names a file outside /var/lib/vfio-launch/NAME/.
# A profile of root's may; another account's may not make root create a file
# there (the one-line error, for print and for run, nothing created).
case_vars_outside() {
        local err
        new_dir
        NAME=trust-v-$$
        mkdir "$T/p" "$T/elsewhere"
        cat > "$T/p/roots.json" <<JSON
{ "name": "$NAME", "accel": "tcg", "cpu": { "model": "max" }, "memory": "128M", "user": "nobody",
  "shutdown_timeout": 1,
  "firmware": { "type": "uefi", "code": "/usr/share/OVMF/OVMF_CODE_4M.fd",
                "vars_template": "/usr/share/OVMF/OVMF_VARS_4M.fd",
                "vars": "$T/elsewhere/vm_VARS.fd" } }
JSON
        cp "$T/p/roots.json" "$T/p/nobodys.json"
        chown nobody "$T/p/nobodys.json"
        err="vfio-launch: \$.firmware.vars: '$T/elsewhere/vm_VARS.fd' is not in '/var/lib/vfio-launch/$NAME/': only a profile that root owns, and no other account may change, may put the VARS elsewhere (leave vars out, or keep the profile in /etc/vfio-launch/, owned by root)"

        f0=$fails
        vl "$VL" print "$T/p/roots.json"
        check "root's profile: print exit 0 (got $RC)" exit_is 0
        check "root's profile: the VARS where it says" grep -q "^# VARS: $T/elsewhere/vm_VARS.fd " "$T/out"
        [ "$fails" = "$f0" ] || show
        f0=$fails
        vl "$VL" print "$T/p/nobodys.json"
        check "nobody's profile: print exit 1 (got $RC)" exit_is 1
        check "nobody's profile: print's error line" err_line "$err"
        run_guarded "$T/p/nobodys.json"
        check "nobody's profile: run exit 1 (got $RC)" exit_is 1
        check "nobody's profile: run's error line" err_line "$err"
        check "nothing created in $T/elsewhere" test -z "$(ls -A "$T/elsewhere")"
        check "nothing of the VM left on the host" no_vm_left
        [ "$fails" = "$f0" ] || show
}

# vars-template: firmware.vars_template names root's secret. Root's own
# profile may not make root copy it into a VARS that QEMU's user owns: one
# line, for print and for run, nothing created. A template that the firmware
# package installed (under /usr/share) is taken.
case_vars_template() {
        local err
        new_dir
        NAME=trust-t-$$
        plant_secret
        mkdir "$T/p"
        cat > "$T/p/vm.json" <<JSON
{ "name": "$NAME", "accel": "tcg", "cpu": { "model": "max" }, "memory": "128M", "user": "nobody",
  "shutdown_timeout": 1,
  "firmware": { "type": "uefi", "code": "/usr/share/OVMF/OVMF_CODE_4M.fd",
                "vars_template": "$T/secret" } }
JSON
        err="vfio-launch: \$.firmware.vars_template: '$T/secret' is neither listed by a QEMU firmware descriptor nor under /usr/share: root would copy it into a file QEMU's user owns (leave vars_template out, or name the template of a firmware package)"

        f0=$fails
        vl "$VL" print "$T/p/vm.json"
        check "print: exit 1 (got $RC)" exit_is 1
        check "print: the one line" err_is "$err"
        run_guarded "$T/p/vm.json"
        check "run: exit 1 (got $RC)" exit_is 1
        check "run: the one line" err_is "$err"
        check "no VARS made of it, nothing of the VM left" no_vm_left
        [ "$fails" = "$f0" ] || show
        f0=$fails
        sed -i "s|\"$T/secret\"|\"/usr/share/OVMF/OVMF_VARS_4M.fd\"|" "$T/p/vm.json"
        vl "$VL" print "$T/p/vm.json"
        check "the package's template: print exit 0 (got $RC)" exit_is 0
        check "the package's template: taken" grep -qx "# VARS template: /usr/share/OVMF/OVMF_VARS_4M.fd" "$T/out"
        [ "$fails" = "$f0" ] || show
}

[ $# -gt 0 ] || set -- $ALL   # word splitting of the list intended
for CASE in "$@"; do
        fn=case_${CASE//-/_}
        declare -F "$fn" >/dev/null || { echo "trust: unknown case $CASE" >&2; exit 2; }
        $fn
        cleanup
done
echo "trust: $fails failure(s)"
[ "$fails" = 0 ]
