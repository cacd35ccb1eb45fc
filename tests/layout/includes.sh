#!/bin/sh
# includes.sh CMAKE LAUNCHER_DIR: the include check passes on the real tree
# and fails, naming the file and the direction, on each planted bad include.
set -u
cmake=$1 src=$2
check=$src/check-includes.cmake
fail=0
t=$(mktemp -d)
trap 'rm -rf "$t"' EXIT

if out=$("$cmake" -DROOT="$src" -P "$check" 2>&1); then
        echo "PASS: the tree's includes point down only"
else
        echo "FAIL: the real tree breaks the layering:"; echo "$out"; fail=1
fi

# plant FILE LINE EXPECTED: a copy of the tree with LINE added to FILE must
# fail with EXPECTED in the message.
plant() {
        rm -rf "$t/l" && cp -r "$src" "$t/l" && printf '%s\n' "$2" >>"$t/l/$1"
        if out=$("$cmake" -DROOT="$t/l" -P "$check" 2>&1); then
                echo "FAIL: $1 with '$2' was accepted"; fail=1
        elif printf '%s' "$out" | tr -s ' \n' ' ' | grep -qF "$3"; then
                echo "PASS: $1 with '$2' refused ($3)"
        else
                echo "FAIL: $1 with '$2' refused, but the message lacks '$3':"; echo "$out"; fail=1
        fi
}
plant qemu/qemu_argv.c '#include "host/bind.h"' 'qemu/qemu_argv.c: #include "host/bind.h" points sideways'
plant host/bind.c '#include "qemu/qemu_argv.h"' 'host/bind.c: #include "qemu/qemu_argv.h" points sideways'
plant base/error.c '#include "cli/cli.h"' 'base/error.c: #include "cli/cli.h" points up'
plant profile/profile.h '#include "run/launch.h"' 'profile/profile.h: #include "run/launch.h" points up'
plant report/doctor.c '#include "run/pin.h"' 'report/doctor.c: #include "run/pin.h" points sideways'
plant import/import_xml.c '#include "host/pci.h"' 'import/import_xml.c: #include "host/pci.h" points sideways'
plant import/import_map.c '#include "run/launch.h"' 'import/import_map.c: #include "run/launch.h" points up'
plant import/import_map_cpu.c '#include "qemu/qemu_argv.h"' 'import/import_map_cpu.c: #include "qemu/qemu_argv.h" points sideways'
plant init/init_build.c '#include "host/pci.h"' 'init/init_build.c: #include "host/pci.h" points sideways'
plant init/init_cpus.c '#include "report/doctor.h"' 'init/init_cpus.c: #include "report/doctor.h" points up'
plant qemu/audio.c '#include "journal.h"' 'qemu/audio.c: #include "journal.h": name the folder'
exit $fail
