#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Keep profiles/vfio-launch.schema.json honest against the loader.

Every profiles/*.json, every valid/CASE/input.json and every
tests/vm/profiles/*.json must pass the schema;
every invalid/CASE/input.json must fail it, except the cases listed in
LOADER_ONLY: rules a JSON Schema cannot state (duplicate keys, syntax, file
size, uniqueness across array items, relations between items, ...).
Exit 77 (skipped) when the jsonschema module is not installed.
usage: check_schema.py SCHEMA PROFILES_DIR TESTS_PROFILE_DIR
"""
import glob
import json
import os
import sys

try:
    import jsonschema
except ImportError:
    print("SKIP: python3-jsonschema not installed")
    sys.exit(77)

LOADER_ONLY = {
    # not JSON, or not JSON as Python reads it
    "empty-file", "whitespace-only", "syntax-trailing-comma", "syntax-invalid-token",
    "syntax-unterminated", "syntax-invalid-utf8", "syntax-trailing-junk",
    "syntax-nul-escape", "duplicate-key-top", "duplicate-key-nested",
    # the schema has no nesting or file size limit
    "nesting-too-deep", "nesting-beyond-parser", "file-too-large",
    # resolution against the profile's folder
    "path-too-long-resolved",
    # relations between fields or array items
    "topology-mismatch", "topology-too-many", "same-slot-without-function-0",
    "guest-address-collision", "guest-function-without-0", "duplicate-host-address",
    "duplicate-id", "duplicate-id-default", "duplicate-mac", "duplicate-disk-path",
    "allow-detach-is-hostdev", "alsa-period-longer-than-buffer", "env-conflict",
    # values a pattern only approximates
    "memory-kib-not-whole", "memory-overflow", "memory-too-small", "memory-too-large",
    # 4.0 is an integer to JSON Schema; the loader wants a JSON integer token
    "type-integer-real",
    # one pin entry per vCPU: a count against the topology
    "pin-count-mismatch",
    # model "host" only (the schema has no relation between cpu.model and
    # cpu.migratable), and a key given twice in one object
    "cpu-migratable-not-host", "cpu-feature-twice",
    # a value the "os" preset set, against the profile's own (the schema
    # sees only the file)
    "os-windows11-bios", "os-hyperv-dependency",
    # memory against the hugepage size
    "hugepages-1g-memory-not-whole", "hugepages-2m-memory-odd",
    # a device id against "tpm"
    "tpm-id-taken",
    # display.usb_redirect against "usb" (the schema has no relation between them)
    "usb-redirect-no-controller",
    # an iothread index against the iothreads array, one thread per scsi
    # controller, boot orders unique across arrays, an id against a scsi disk
    "iothread-missing", "iothread-scsi-two", "boot-order-twice", "scsi-id-reserved",
    # "shmem": names across elements, ids against other arrays, sizes and
    # resolutions a pattern only approximates
    "shmem-name-repeated", "shmem-id-taken", "shmem-size-not-power-of-two", "shmem-size-too-large",
    "shmem-resolution-too-large",
    # "inputs": one evdev path twice; the ids the command line gives inputs
    "input-evdev-twice", "input-id-taken",
    # "host_handover": one module spelt with - and with _
    "handover-module-repeated",
    # usb.devices: one device named twice, the ports of the controller
    # shared with usb_redirect, devices without a controller
    "usb-device-twice", "usb-device-port-twice", "usb-devices-no-controller",
}


def load(path):
    with open(path, "rb") as f:
        return json.loads(f.read().decode("utf-8"))


def main():
    schema_path, profiles, tests = sys.argv[1:4]
    schema = load(schema_path)
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    validator = cls(schema)
    failures = 0

    must_pass = sorted(glob.glob(os.path.join(profiles, "*.json")))
    must_pass = [p for p in must_pass if not p.endswith(".schema.json")]
    must_pass += sorted(glob.glob(os.path.join(tests, "valid", "*", "input.json")))
    # the emulated host's profiles (tests/vm/profiles) too
    must_pass += sorted(glob.glob(os.path.join(tests, os.pardir, "vm", "profiles", "*.json")))
    for path in must_pass:
        errors = list(validator.iter_errors(load(path)))
        if errors:
            failures += 1
            print(f"FAIL {path}: rejected by the schema: {errors[0].message}")

    for case_dir in sorted(glob.glob(os.path.join(tests, "invalid", "*"))):
        case = os.path.basename(case_dir)
        if case in LOADER_ONLY:
            continue
        try:
            doc = load(os.path.join(case_dir, "input.json"))
        except (ValueError, UnicodeDecodeError) as e:
            failures += 1
            print(f"FAIL invalid/{case}: not JSON ({e}): list it in LOADER_ONLY")
            continue
        if validator.is_valid(doc):
            failures += 1
            print(f"FAIL invalid/{case}: the schema accepts what the loader rejects")

    print(f"{len(must_pass)} valid profiles checked, {failures} failures")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
