#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Run a command on a pristine minimal Debian 12 — what a new user has before
# installing anything — with a fresh clone of this repository at /src. CI
# runs the README's test command this way, so a package that the machines
# of the project's developers happen to have but tests/deps.sh does not
# install fails CI instead of the README.
#
#   tests/pristine.sh run [--keep] [--bind HOST:PATH] [--ro-bind HOST:PATH] [--] CMD [ARG...]
#       A fresh root, `git clone` of this repository's HEAD at /src, CMD run
#       there as root (cwd /src), then all of it torn down. The exit status
#       is CMD's. --keep keeps the run's changes to the root (the overlay's
#       upper layer: /src with its builds, the installed packages, /var/tmp)
#       and prints where. --bind / --ro-bind make a host folder visible at
#       PATH inside (e.g. to take a build's output to a second fresh root).
#       The environment is empty but for PATH, HOME, LANG, TERM and what is
#       passed through: CI, FUZZ_SECONDS and VL_* (not VL_PRISTINE_*).
#   tests/pristine.sh ci
#       What .ci/run calls: tests/run-all.sh in a fresh root (CI passed
#       through), then the later CI steps, each in a fresh root of its own.
#   tests/pristine.sh base
#       Only make (or refresh) the cached tree.
#
# How. The tree is `debootstrap --variant=minbase bookworm` (apt, dpkg, the
# essential packages, nothing else), cached in $VL_PRISTINE_CACHE (default
# /var/tmp/vfio-launch-pristine) and made again when missing or older than
# $VL_PRISTINE_MAX_AGE days (default 7). A run never writes it: the run's
# root is an overlayfs with the cached tree as its read-only lower layer and
# a new, empty upper layer, so what one run installs no other run sees.
# The run is in a mount and a PID namespace of its own (unshare): the
# overlay is mounted there, /dev is the host's device nodes (a bind) with a
# devpts and a /dev/shm of its own, /proc, /sys (read-only: nothing here may
# write the host's sysfs), /run and /tmp are its own; then pivot_root into
# the overlay and detach the old root, so none of the host's files,
# packages or mounts are visible. pivot_root, not chroot: in a chroot a
# process cannot create a user namespace (unshare -U, the sandbox tests),
# and `ip netns add` needs / to be a mount point (the net tests). The
# network is the host's: /etc/resolv.conf is copied in, apt's sources are
# deb.debian.org bookworm, bookworm-updates and bookworm-security.
#
# Cleanup. Every mount exists only in the run's mount namespace; the
# namespace, and every process in it, ends when the command does or when
# this script dies, however it dies (unshare --kill-child, and a parent
# death signal on unshare itself). Nothing is mounted on the host. The run's
# folder is removed on exit; one left by a script killed with SIGKILL is
# removed by the next run (its lock is free then).
#
# Cost (2 cores, measured; see README.md): the tree 1 min when not cached
# (debootstrap, 175 MB), the clone and mounts about a second; the rest is
# CMD, which downloads and installs its packages into each fresh root
# (tests/deps.sh: 200 MB, 1-2 min).
#
# Needs root, debootstrap (.ci/run installs it), overlayfs, util-linux's
# unshare and pivot_root, git, and network access to deb.debian.org.
# env: VL_PRISTINE_CACHE, VL_PRISTINE_MAX_AGE (days), VL_PRISTINE_MIRROR
#      (default http://deb.debian.org/debian), VL_PRISTINE_SECURITY (default
#      http://deb.debian.org/debian-security)
set -euo pipefail
self=$(cd "$(dirname "$0")" && pwd)/$(basename "$0")
top=$(cd "$(dirname "$0")/.." && pwd)
CACHE=${VL_PRISTINE_CACHE:-/var/tmp/vfio-launch-pristine}
MAX_AGE=${VL_PRISTINE_MAX_AGE:-7}
MIRROR=${VL_PRISTINE_MIRROR:-http://deb.debian.org/debian}
SECURITY=${VL_PRISTINE_SECURITY:-http://deb.debian.org/debian-security}
SUITE=bookworm
BASE=$CACHE/$SUITE-minbase
KEYRING=/usr/share/keyrings/debian-archive-keyring.gpg

say() { echo "pristine: $*" >&2; }
die() { say "$*"; exit 2; }
usage() { sed -n '3,22p' "$self" | sed 's/^# \{0,1\}//' >&2; exit 2; }
now() { date +%s; }

preflight() {
        [ "$(id -u)" = 0 ] || die "needs root (mounts, namespaces, debootstrap)"
        local c
        for c in unshare pivot_root setpriv mount git flock; do
                command -v "$c" >/dev/null || die "$c not found"
        done
        grep -qw overlay /proc/filesystems || modprobe overlay 2>/dev/null ||
                die "no overlayfs in this kernel"
        mkdir -p "$CACHE/runs"
}

# ---- the cached tree --------------------------------------------------------

fresh() { # the cached tree exists, is complete and younger than MAX_AGE days
        [ -f "$BASE.built" ] && [ -d "$BASE" ] &&
                [ -n "$(find "$BASE.built" -mmin -$((MAX_AGE * 24 * 60)))" ]
}

build_base() {
        local new=$CACHE/$SUITE-minbase.new t0
        command -v debootstrap >/dev/null || [ -x /usr/sbin/debootstrap ] ||
                die "debootstrap not installed (apt-get install debootstrap)"
        t0=$(now)
        rm -rf --one-file-system "$new"
        say "debootstrap --variant=minbase $SUITE into $new (cache was $([ -d "$BASE" ] && echo stale || echo empty))"
        # In a mount and PID namespace of its own: the /proc and /sys
        # debootstrap mounts in the target, and its processes, go away with
        # it, even if it or this script is killed.
        if ! setpriv --pdeathsig KILL unshare --mount --propagation private --pid --fork \
                --kill-child env PATH=/usr/sbin:/usr/bin:/sbin:/bin debootstrap --variant=minbase \
                --keyring="$KEYRING" "$SUITE" "$new" "$MIRROR" > "$CACHE/debootstrap.log" 2>&1; then
                tail -20 "$CACHE/debootstrap.log" >&2
                rm -rf --one-file-system "$new"
                die "debootstrap failed (log: $CACHE/debootstrap.log)"
        fi
        rm -f "$new"/var/cache/apt/archives/*.deb # as after apt-get clean: 30 MB less
        rm -f "$BASE.built"
        rm -rf --one-file-system "$BASE"
        mv "$new" "$BASE"
        echo "$SUITE minbase, debootstrap $(dpkg-query -W -f='${Version}' debootstrap 2>/dev/null), $(date -u +%FT%TZ)" > "$BASE.built"
        say "cached tree built in $(($(now) - t0)) s ($(du -sm "$BASE" | cut -f1) MB)"
}

# Takes the cache's lock on fd 9: shared for as long as this script and the
# run's namespace live (fd 9 is inherited), exclusive while the tree is made
# again, so a tree in use as a lower layer is never replaced.
base_locked() {
        exec 9> "$CACHE/lock"
        flock -s 9
        if ! fresh; then
                flock -x 9 # drops the shared lock first: two of us cannot deadlock
                fresh || build_base
                flock -s 9
        else
                say "cached tree: $BASE ($(cat "$BASE.built"))"
        fi
}

# ---- one run ----------------------------------------------------------------

# Folders of runs whose script was killed outright: nobody holds their lock.
reap_stale_runs() {
        local d
        for d in "$CACHE"/runs/*/; do
                d=${d%/}
                # no lock file yet: a run that is just starting
                [ -d "$d" ] && [ -e "$d/lock" ] && [ ! -e "$d/kept" ] || continue
                if flock -n "$d/lock" true 2>/dev/null; then
                        say "removing the folder of an earlier run that did not clean up: $d"
                        rm -rf --one-file-system "$d"
                fi
        done
}

cmd_run() {
        local keep=0 binds=() b rc t0 commit run
        while [ $# -gt 0 ]; do
                case $1 in
                --keep) keep=1 ;;
                --bind | --ro-bind)
                        [ $# -ge 2 ] || usage
                        case $2 in /*:/*) ;; *) die "$1 takes HOST_DIR:/PATH, not '$2'" ;; esac
                        [ -d "${2%%:*}" ] || die "$1: no folder ${2%%:*}"
                        binds+=("${1#--}:$2")
                        shift ;;
                --) shift; break ;;
                -*) usage ;;
                *) break ;;
                esac
                shift
        done
        [ $# -ge 1 ] || usage
        preflight
        commit=$(git -C "$top" rev-parse HEAD) || die "$top is not a git work tree"
        if [ -n "$(git -C "$top" status --porcelain --untracked-files=no)" ]; then
                say "note: uncommitted changes in $top are not in the clone (HEAD $commit is)"
        fi
        reap_stale_runs
        t0=$(now)
        base_locked
        run=$(mktemp -d "$CACHE/runs/run.XXXXXX")
        mkdir "$run/upper" "$run/work" "$run/root"
        # Held by this script and, inherited, by the namespace: the folder is
        # in use while either lives (reap_stale_runs).
        exec 8> "$run/lock"
        flock -x 8
        # shellcheck disable=SC2064 # $run and $keep are fixed from here on
        trap "finish '$run' $keep" EXIT
        trap 'stop 1' HUP
        trap 'stop 2' INT
        trap 'stop 15' TERM
        say "run in $run: HEAD $commit, $*"

        # In the background, waited for: a signal to this script is handled
        # at once (stop), not when the command ends. setpriv --pdeathsig: if
        # this script dies, however, unshare is killed; --kill-child then
        # kills the namespace's first process, and with it every process
        # and mount of the namespace. env --default-signal: bash starts a
        # background command with SIGINT and SIGQUIT ignored, which the
        # whole suite would inherit. <&0: and with stdin on /dev/null.
        rc=0
        PRISTINE_RUN=$run PRISTINE_BASE=$BASE PRISTINE_REPO=$top PRISTINE_COMMIT=$commit \
        PRISTINE_BINDS=$(printf '%s\n' ${binds[@]+"${binds[@]}"}) \
        PRISTINE_MIRROR=$MIRROR PRISTINE_SECURITY=$SECURITY \
                env --default-signal=INT,QUIT setpriv --pdeathsig KILL \
                unshare --mount --propagation private --pid --fork --kill-child -- \
                "$self" __inside "$@" <&0 &
        child=$!
        wait "$child" || rc=$?
        child=
        say "exit status $rc after $(($(now) - t0)) s"
        return "$rc"
}

child=
stop() { # trap of `run` on SIGHUP/INT/TERM: end the namespace, then exit (and finish)
        say "signal $1: ending the run"
        if [ -n "$child" ]; then
                kill -KILL "$child" 2>/dev/null || true
                wait "$child" 2>/dev/null || true
        fi
        exit $((128 + $1))
}

finish() { # trap on exit of `run`: the namespace is gone; the run's folder goes too
        local run=$1 keep=$2
        if [ "$keep" = 1 ]; then
                touch "$run/kept"
                say "kept: $run/upper (this run's changes over $BASE; rm -rf $run when done)"
        else
                rm -rf --one-file-system "$run"
        fi
}

# In the new namespaces, as their first process (PID 1): set up the root,
# pivot into it, run the command.
inside() {
        local run=$PRISTINE_RUN root=$PRISTINE_RUN/root b kind host path
        mount -t overlay overlay -o "lowerdir=$PRISTINE_BASE,upperdir=$run/upper,workdir=$run/work" "$root"
        # With a plain folder instead of the overlay, the tree would first
        # be bound onto itself: pivot_root needs a mount point.

        git clone -q --no-hardlinks --no-checkout "$PRISTINE_REPO" "$root/src"
        git -C "$root/src" fetch -q "$PRISTINE_REPO" HEAD # HEAD may be on no branch
        git -C "$root/src" checkout -q --detach "$PRISTINE_COMMIT"

        cp -L /etc/resolv.conf "$root/etc/resolv.conf"
        # debootstrap makes none; every installed machine has one.
        printf '127.0.0.1\tlocalhost\n::1\t\tlocalhost ip6-localhost ip6-loopback\n' > "$root/etc/hosts"
        cat > "$root/etc/apt/sources.list" <<EOF
deb $PRISTINE_MIRROR bookworm main
deb $PRISTINE_MIRROR bookworm-updates main
deb $PRISTINE_SECURITY bookworm-security main
EOF
        # No daemon a package installs is started (as in Debian's container
        # images): it would share the host's network.
        printf '#!/bin/sh\nexit 101\n' > "$root/usr/sbin/policy-rc.d"
        chmod 755 "$root/usr/sbin/policy-rc.d"

        # The host's device nodes, but not its /dev/pts and /dev/shm mounts.
        mount --bind /dev "$root/dev"
        if [ -d "$root/dev/pts" ]; then
                mount -t devpts -o newinstance,ptmxmode=0666,mode=0620,gid=5 devpts "$root/dev/pts"
                [ -e "$root/dev/ptmx" ] && mount --bind "$root/dev/pts/ptmx" "$root/dev/ptmx"
        fi
        [ -d "$root/dev/shm" ] && mount -t tmpfs -o nosuid,nodev,mode=1777 shm "$root/dev/shm"
        mount -t proc -o nosuid,nodev,noexec proc "$root/proc"
        mount -t sysfs -o ro,nosuid,nodev,noexec sysfs "$root/sys"
        mount -t tmpfs -o nosuid,nodev,mode=0755 run "$root/run"
        mkdir -m 1777 "$root/run/lock"
        mount -t tmpfs -o nosuid,nodev,mode=1777 tmp "$root/tmp"
        while IFS= read -r b; do
                [ -n "$b" ] || continue
                kind=${b%%:*} b=${b#*:} host=${b%%:*} path=${b#*:}
                mkdir -p "$root$path"
                mount --bind "$host" "$root$path"
                [ "$kind" = bind ] || mount -o remount,bind,ro "$root$path"
        done <<< "$PRISTINE_BINDS"

        cd "$root"
        mkdir .pristine-old-root
        pivot_root . .pristine-old-root
        cd /
        umount -l /.pristine-old-root
        rmdir /.pristine-old-root

        local envs=(PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
                HOME=/root LANG=C.UTF-8 TERM="${TERM:-dumb}") v
        for v in $(compgen -e); do
                case $v in
                VL_PRISTINE_* | PRISTINE_*) ;;
                CI | FUZZ_SECONDS | VL_*) envs+=("$v=${!v}") ;;
                esac
        done
        cd /src
        # Not exec'd: this shell stays PID 1 and reaps what the command
        # orphans; fds 8 and 9 (the locks) stay with it, not with the command.
        env -i "${envs[@]}" "$@" 8>&- 9>&-
}

step=
stop_step() { # trap of `ci` on SIGHUP/INT/TERM: the running step ends its run first
        say "signal $1: ending the CI run"
        if [ -n "$step" ]; then
                kill -TERM "$step" 2>/dev/null || true
                wait "$step" 2>/dev/null || true
        fi
        exit $((128 + $1))
}

# What went wrong in a step's log, for the last lines of a CI run (a CI
# record may keep only its last dozen lines): the first failure lines —
# the harnesses' FAIL lines, cmocka's failed cases, sanitizer reports; the
# first one usually names the cause, the later ones follow from it — then
# the failed ctest tests and run-all's failed steps.
failures_of() {
        awk 'function first(l) { if (nf < 6) print l; nf++ }
             /The following tests FAILED:/ { list = 1; tail[nt++] = $0; next }
             list && /^[ \t]+[0-9]+ - / { tail[nt++] = $0; next }
             { list = 0 }
             /run-all: FAILED/ { tail[nt++] = $0; next }
             /^FAIL:|[^A-Za-z]FAIL: |\[  FAILED  \] [^0-9]|\[  ERROR   \]|ERROR: [A-Za-z]*Sanitizer|runtime error:/ { first($0) }
             END { if (nf > 6) printf "(and %d more failure lines)\n", nf - 6
                   for (i = 0; i < nt && i < 8; i++) print tail[i] }' "$1"
}

cmd_ci() {
        local failed=() t0 debs logs
        t0=$(now)
        trap 'stop_step 1' HUP
        trap 'stop_step 2' INT
        trap 'stop_step 15' TERM
        mkdir -p "$CACHE"
        logs=$(mktemp -d "$CACHE/logs.XXXXXX")
        ci_step() { # ci_step NAME RUN-ARGS...: one `run`, in a fresh root of its own
                local name=$1 t rc=0
                shift
                t=$(now)
                echo "==== pristine ci: $name"
                # A process of its own (its traps and cleanup are its own),
                # ended with SIGTERM if this one is stopped or dies; its
                # output also kept for the summary.
                env --default-signal=INT,QUIT setpriv --pdeathsig TERM "$self" run "$@" <&0 \
                        > >(tee "$logs/$name.log") 2>&1 &
                step=$!
                wait "$step" || rc=$?
                step=
                if [ "$rc" = 0 ]; then
                        echo "pristine ci: $name: passed in $(($(now) - t)) s"
                else
                        echo "pristine ci: $name: FAILED (exit status $rc) after $(($(now) - t)) s"
                        failed+=("$name")
                fi
        }
        ci_step tests -- tests/run-all.sh
        # ---- Later CI steps: one ci_step each, in a fresh root of its own;
        # files pass between roots with --bind/--ro-bind.
        # The Debian package: built (and lintian-clean) in one root, then
        # installed, exercised and purged in a second one that never saw the
        # build dependencies.
        mkdir -p "$CACHE"
        debs=$(mktemp -d "$CACHE/debs.XXXXXX")
        ci_step package-build --bind "$debs:/out" -- tests/package/build.sh --lintian /src /out
        if ls "$debs"/vfio-launch_*_amd64.deb >/dev/null 2>&1; then
                ci_step package-install --ro-bind "$debs:/in" -- \
                        sh -c 'exec tests/package/check.sh /in/vfio-launch_*_amd64.deb'
        else
                echo "pristine ci: package-install: not run (no package was built)"
                failed+=(package-install)
        fi
        rm -rf "$debs"
        # ---- end of the CI steps
        if [ ${#failed[@]} -gt 0 ]; then
                for f in "${failed[@]}"; do
                        [ -f "$logs/$f.log" ] || continue
                        echo "pristine ci: what failed in $f:"
                        failures_of "$logs/$f.log" | sed 's/^/    /'
                done
                rm -rf "$logs"
                echo "pristine ci: FAILED: ${failed[*]} ($(($(now) - t0)) s)"
                return 1
        fi
        rm -rf "$logs"
        echo "pristine ci: every step passed ($(($(now) - t0)) s)"
}

[ $# -ge 1 ] || usage
cmd=$1
shift
case $cmd in
run) cmd_run "$@" ;;
ci) [ $# = 0 ] || usage; cmd_ci ;;
base) [ $# = 0 ] || usage; preflight; base_locked ;;
__inside) inside "$@" ;;
*) usage ;;
esac
