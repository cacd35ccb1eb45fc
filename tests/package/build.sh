#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# Build the Debian package in a pristine Debian 12 root, as root:
#
#   tests/package/build.sh [--lintian] [--nocheck] SRCDIR OUTDIR
#
# SRCDIR is a source tree (a fresh clone; it is copied, not built in). The
# script installs debian/control's Build-Depends with `apt-get build-dep`
# (build-essential included, no Recommends), runs `dpkg-buildpackage -us -uc
# -b`, checks that the package holds what `cmake --install` installs
# (tests/install/expected-files) and copies the .deb, .buildinfo and .changes
# (and the -dbgsym .ddeb) into OUTDIR. --lintian then installs lintian and runs it on the .changes:
# any error or warning fails. --nocheck builds without the tests (and
# without their Build-Depends). Timings go to stderr.
# Exit status: 0 built (and lintian-clean), 1 a step failed, 2 usage.
set -eu

lintian=false nocheck=false
while [ $# -gt 0 ]; do
        case $1 in
        --lintian) lintian=true ;;
        --nocheck) nocheck=true ;;
        -*) echo "build.sh: unknown option $1" >&2; exit 2 ;;
        *) break ;;
        esac
        shift
done
[ $# -eq 2 ] || { echo "usage: build.sh [--lintian] [--nocheck] SRCDIR OUTDIR" >&2; exit 2; }
[ "$(id -u)" = 0 ] || { echo "build.sh: run as root (in a throwaway root)" >&2; exit 2; }
[ -f "$1/debian/control" ] || { echo "build.sh: $1 has no debian/control" >&2; exit 2; }
src=$(realpath "$1")
mkdir -p "$2"
out=$(realpath "$2")

t0=$(date +%s)
step() { echo "build.sh: [$(($(date +%s) - t0)) s] $*" >&2; }

work=$(mktemp -d /var/tmp/vfio-launch-build.XXXXXX)
trap 'rm -rf "$work"' EXIT
# The tree only: no .git, no build folders (dpkg-buildpackage writes the
# package beside the tree, in $work).
mkdir "$work/vfio-launch"
tar -C "$src" --exclude=./.git --exclude='./build*' --exclude='./obj-*' -cf - . |
        tar -C "$work/vfio-launch" -xf -
cd "$work/vfio-launch"

export DEBIAN_FRONTEND=noninteractive
profile=""
if $nocheck; then
        export DEB_BUILD_OPTIONS="${DEB_BUILD_OPTIONS:+$DEB_BUILD_OPTIONS }nocheck"
        export DEB_BUILD_PROFILES=nocheck
        profile="-Pnocheck"
fi
step "apt-get build-dep"
apt-get update -q >/dev/null
# shellcheck disable=SC2086
apt-get build-dep -y -q --no-install-recommends $profile "$work/vfio-launch" >/dev/null

# The package's version is the project's: debian/changelog against project().
deb_version=$(dpkg-parsechangelog -S Version)
cmake_version=$(sed -n 's/^project(vfio-launch VERSION \([0-9.]*\).*/\1/p' CMakeLists.txt)
[ "$deb_version" = "$cmake_version" ] ||
        { echo "build.sh: debian/changelog says $deb_version, CMakeLists.txt $cmake_version" >&2; exit 1; }

step "dpkg-buildpackage -us -uc -b"
dpkg-buildpackage -us -uc -b -jauto
arch=$(dpkg-architecture -qDEB_HOST_ARCH)
deb=$work/vfio-launch_${deb_version}_$arch.deb
changes=$work/vfio-launch_${deb_version}_$arch.changes
[ -f "$deb" ] || { echo "build.sh: no $deb" >&2; exit 1; }

# The package installs what `cmake --install` does, at the Debian paths:
# under /usr, the units in /lib/systemd/system (Debian 12), man pages
# compressed; plus the Debian copyright, changelog and lintian overrides.
step "contents against tests/install/expected-files"
{
        sed -e 's|^lib/systemd/|./lib/systemd/|' -e 's|^\([^.]\)|./usr/\1|' \
            -e 's|^\(./usr/share/man/.*\)$|\1.gz|' tests/install/expected-files
        printf '%s\n' ./usr/share/doc/vfio-launch/changelog.gz ./usr/share/doc/vfio-launch/copyright \
                ./usr/share/lintian/overrides/vfio-launch
} | LC_ALL=C sort >"$work/want"
dpkg-deb --fsys-tarfile "$deb" | tar -tvf - | awk '$1 !~ /^d/ { print $6 }' | LC_ALL=C sort >"$work/got"
diff -u "$work/want" "$work/got" || { echo "build.sh: the package's files differ from cmake --install's" >&2; exit 1; }

if $lintian; then
        step "lintian"
        apt-get install -y -q --no-install-recommends lintian >/dev/null
        # Warnings fail too; info tags and overrides are shown (debian/
        # *.lintian-overrides justify each one). As nobody: lintian needs no
        # privilege and says so when run as root.
        chmod 755 "$work"
        setpriv --reuid=nobody --regid=nogroup --clear-groups env HOME=/tmp \
                lintian --fail-on error,warning --display-info --show-overrides "$changes"
fi

for f in "$work"/*.deb "$work"/*.ddeb "$work"/*.buildinfo "$changes"; do
        if [ -e "$f" ]; then cp "$f" "$out/"; fi
done
step "done: $out/$(basename "$deb")"
