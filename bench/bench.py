#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""vfio-launch performance benchmark: the launcher against plain QEMU
with the same command line, side by side, in one run. See bench/README.md.

  bench/bench.py [-b BUILD_DIR] [-n REPS] [--part all|launch|pinning] [--pin-reps N]
                 [--work ITERATIONS] [--emulator-pin CPULIST]
  bench/bench.py [-b BUILD_DIR] [-n ROUNDS] [--trace] [--vm-variant V] --part passthrough

Part "launch" reports (medians over REPS, after one unmeasured warm-up of each):
  (i)   launch: exec of vfio-launch -> guest running (`cont` answered), against
        exec of plain QEMU (same argv, same environment) -> qmp_capabilities
        answered and -> `cont` answered;
  (ii)  exit: the guest powers off by itself; QEMU's exit -> vfio-launch's
        exit (the host restored by then), both seen through pidfds;
  (iii) the supervisor's memory: VmRSS / VmHWM of the vfio-launch process
        while the VM runs.
Part "pinning" (CPU pinning): the same VM with 2 vCPUs, unpinned against pinned
(cpu.pin one host CPU per vCPU, cpu.emulator_pin), alternating: exec -> the
running line (pinning is applied before `cont`, so its cost is in there), the
guest's boot, and a fixed CPU-bound job on every vCPU (guest-init's
vl.mode=work) timed by the guest's clock and from outside; plus a check that
the vCPU threads really run where the profile asked (query-cpus-fast on the
tools' QMP socket, /proc/QPID/task/TID/status).
Part "passthrough" (run only when named; no root): boots the emulated host
of tests/vm and, inside it (bench/passthrough_l1.py), starts and ends the
2-function VM bare (sysfs writes + QEMU by hand) and through vfio-launch,
interleaved: start -> running, stop -> both functions back, stop --force ->
the launcher gone, kill -9 of QEMU -> both back; --trace adds the
launcher's own steps (VL_TRACE=1).
Figures against the targets are reported, never asserted. Launch and
pinning need root.
Standard library only (Python >= 3.9 for os.pidfd_open).
"""
import argparse
import json
import os
import re
import select
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(HERE)
RUN_DIR = "/run/vfio-launch"
LOG_DIR = "/var/log/vfio-launch"

TARGET_LAUNCH_OVERHEAD = 0.05   # <= 5 % over plain QEMU
TARGET_EXIT_MS = 20.0           # vfio-launch exits within 20 ms of QEMU
TARGET_RSS_KIB = 4096           # supervisor RSS under 4 MiB
LIBVIRT_RSS_MIB = 45            # libvirtd + virtlogd (docs/facts.md#F-libvirt-rss)


def now_ms():
    return time.monotonic_ns() / 1e6


def die(msg):
    print(f"bench: {msg}", file=sys.stderr)
    sys.exit(1)


def build_guest():
    out = subprocess.run([os.path.join(TOP, "tests/lifecycle/build-guest.sh")],
                         capture_output=True, text=True)
    if out.returncode != 0:
        die("tests/lifecycle/build-guest.sh failed:\n" + out.stderr)
    paths = dict(line.split("=", 1) for line in out.stdout.splitlines() if "=" in line)
    return paths["KERNEL"], paths["INITRD"]


def write_profile(tmp, name, kernel, initrd, cpu=None, cmdline=None, disk_name="disk.img"):
    disk = os.path.join(tmp, disk_name)
    with open(disk, "wb") as f:
        f.truncate(1 << 20)
    os.chown(disk, 65534, -1)  # QEMU runs as nobody under vfio-launch
    profile = {
        "name": name,
        "accel": "tcg",
        "cpu": cpu or {"model": "max"},
        "firmware": {"type": "bios"},
        "memory": "128M",
        "user": "nobody",
        # vl.mode=poweroff: the guest init writes its marker and powers off.
        "boot": {"kernel": kernel, "initrd": initrd,
                 "cmdline": cmdline or "quiet panic=-1 vl.mode=poweroff"},
        "disks": [{"path": disk, "format": "raw", "bus": "virtio"}],
        "shutdown_timeout": 30,
    }
    path = os.path.join(tmp, name + ".json")
    with open(path, "w") as f:
        json.dump(profile, f)
    return path


def plain_command(vl, profile):
    """argv and environment exactly as vfio-launch would exec them."""
    out = subprocess.run([vl, "print", profile], capture_output=True, text=True)
    if out.returncode != 0:
        die("vfio-launch print failed:\n" + out.stderr)
    section, env, argv = None, {}, []
    for line in out.stdout.splitlines():
        if line.startswith("# "):
            section = line[2:]
            continue
        if not line.strip():
            continue
        if section == "environment":
            k, v = line.split("=", 1)
            env[k] = v
    args = subprocess.run([vl, "print", "--args-only", profile], capture_output=True, text=True)
    if args.returncode != 0:
        die("vfio-launch print --args-only failed:\n" + args.stderr)
    argv = args.stdout.splitlines()
    if not any("fd=3" in a and a.startswith("socket,id=charmonitor") for a in argv):
        die("the QMP chardev is not on fd 3 in: " + " ".join(argv))
    return argv, env


def vm_status(pid):
    fields = {}
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                k, _, v = line.partition(":")
                fields[k] = v.strip()
    except OSError:
        return None
    return fields


def kib(v):
    return int(v.split()[0]) if v else 0


def run_launcher(vl, profile, name, timeout_s=120):
    """One run of vfio-launch to the guest's own poweroff."""
    r = {}
    t0 = now_ms()
    # A (no-op) preexec_fn, as for plain QEMU below: both sides are then
    # started by the same fork + exec path of the subprocess module.
    p = subprocess.Popen([vl, profile], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                         stderr=subprocess.PIPE, preexec_fn=lambda: None)
    lfd = os.pidfd_open(p.pid)
    err = p.stderr.fileno()
    os.set_blocking(err, False)
    buf, lines, qfd, qpid = b"", [], None, None
    rss_max = hwm_max = 0
    poller = select.poll()
    poller.register(err, select.POLLIN)
    poller.register(lfd, select.POLLIN)
    deadline = t0 + timeout_s * 1000
    launcher_exit = qemu_exit = None
    while launcher_exit is None:
        if now_ms() > deadline:
            p.kill()
            p.wait()
            die("vfio-launch did not finish in time:\n" + b"".join(lines).decode())
        ev = poller.poll(100)
        t = now_ms()
        for fd, _ in ev:
            if fd == qfd and qemu_exit is None:
                qemu_exit = t
                poller.unregister(qfd)
            elif fd == lfd:
                launcher_exit = t
            elif fd == err:
                chunk = os.read(err, 65536)
                if not chunk:
                    poller.unregister(err)
                    continue
                buf += chunk
                while b"\n" in buf:
                    line, buf = buf.split(b"\n", 1)
                    lines.append(line + b"\n")
                    s = line.decode(errors="replace")
                    m = re.search(r": running \(QEMU pid (\d+)\)", s)
                    if m and qpid is None:
                        r["running"] = t - t0
                        qpid = int(m.group(1))
                        qfd = os.pidfd_open(qpid)
                        poller.register(qfd, select.POLLIN)
                    if "QEMU is shutting down" in s:
                        r["shutdown_line"] = t
        if launcher_exit is None and qpid is not None:
            st = vm_status(p.pid)
            if st:
                rss_max = max(rss_max, kib(st.get("VmRSS")))
                hwm_max = max(hwm_max, kib(st.get("VmHWM")))
    rc = p.wait()
    try:
        lines.append(buf + os.read(err, 65536))
    except BlockingIOError:
        lines.append(buf)
    os.close(lfd)
    if qfd is not None:
        os.close(qfd)
    text = b"".join(lines).decode(errors="replace")
    if rc != 0 or "guest powered off" not in text or qemu_exit is None:
        die(f"vfio-launch run failed (exit status {rc}):\n{text}")
    if os.path.exists(os.path.join(RUN_DIR, name)):
        die(f"{RUN_DIR}/{name} left behind")
    r["exit_after_qemu"] = launcher_exit - qemu_exit
    if "shutdown_line" in r:
        r["exit_after_shutdown"] = launcher_exit - r.pop("shutdown_line")
    r["rss"] = rss_max
    r["hwm"] = hwm_max
    return r


def qmp_recv(f):
    """The next non-event message."""
    while True:
        line = f.readline()
        if not line:
            raise EOFError("QMP closed")
        msg = json.loads(line)
        if "event" not in msg:
            return msg


def run_plain(argv, env, tmp, timeout_s=120):
    """Plain QEMU with vfio-launch's own argv: the QMP listener on fd 3 is
    created here, and connected to before the exec, exactly as the launcher
    does it (no polling for a socket file in either case)."""
    r = {}
    path = os.path.join(tmp, "plain-qmp.sock")
    if os.path.exists(path):
        os.unlink(path)
    lst = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    lst.bind(path)
    lst.listen(1)
    cli = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    cli.connect(path)  # completes at once: waits in the backlog for QEMU
    # The tools' monitor (fd 4), as the launcher passes it; nobody connects.
    tools = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    tpath = os.path.join(tmp, "plain-tools.sock")
    if os.path.exists(tpath):
        os.unlink(tpath)
    tools.bind(tpath)
    tools.listen(1)
    log = open(os.path.join(tmp, "plain-qemu.log"), "ab")

    def child_fd3():
        # Lift both above 4 first, so that neither dup2 clobbers the other.
        a = os.dup(lst.fileno()) if lst.fileno() <= 4 else lst.fileno()
        b = os.dup(tools.fileno()) if tools.fileno() <= 4 else tools.fileno()
        a2, b2 = os.dup(a), os.dup(b)
        os.dup2(a2, 3)
        os.dup2(b2, 4)
        os.set_inheritable(3, True)
        os.set_inheritable(4, True)

    t0 = now_ms()
    p = subprocess.Popen(argv, env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                         preexec_fn=child_fd3, close_fds=False)
    lst.close()
    tools.close()
    qfd = os.pidfd_open(p.pid)
    f = cli.makefile("rwb", buffering=0)
    try:
        greeting = json.loads(f.readline())
        assert "QMP" in greeting
        f.write(b'{"execute":"qmp_capabilities"}\r\n')
        rep = qmp_recv(f)
        r["caps"] = now_ms() - t0
        assert "return" in rep, rep
        f.write(b'{"execute":"query-status"}\r\n')
        rep = qmp_recv(f)
        assert rep["return"]["status"] == "prelaunch", rep
        f.write(b'{"execute":"cont"}\r\n')
        rep = qmp_recv(f)
        r["cont"] = now_ms() - t0
        assert "return" in rep, rep
    except (OSError, EOFError, AssertionError, ValueError, KeyError) as e:
        p.kill()
        p.wait()
        log.flush()
        die(f"plain QEMU: QMP start-up failed ({e!r}):\n" + open(log.name).read())
    # Run the guest to its own poweroff too, so both sides see the same load.
    ready, _, _ = select.select([qfd], [], [], timeout_s)
    if not ready:
        p.kill()
    rc = p.wait()
    os.close(qfd)
    f.close()
    cli.close()
    log.close()
    if rc != 0:
        die(f"plain QEMU exited with status {rc}; see {log.name}")
    return r


def run_version_probe(qemu):
    """What vfio-launch's host probe costs: `QEMU -version`, exec -> exit."""
    t0 = now_ms()
    subprocess.run([qemu, "-version"], env={}, stdin=subprocess.DEVNULL,
                   stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                   preexec_fn=lambda: None, check=True)
    return {"probe": now_ms() - t0}


def med(rs, key):
    vals = [r[key] for r in rs if key in r]
    return statistics.median(vals) if vals else float("nan")


def spread(rs, key):
    vals = sorted(r[key] for r in rs if key in r)
    return f"[{vals[0]:.1f} .. {vals[-1]:.1f}]" if vals else ""


# ---- part "pinning": 2 vCPUs, unpinned against pinned ----------------------

PIN_REPS = 4            # default repetitions of this part (the whole bench ~3 min)
WORK_ITERS = 200000     # vl.work=: awk loop iterations per vCPU (~1 s each, TCG, idle host)
SECTOR = 512
MARKER_POLL_MS = 5      # how often the disk image is read for the guest's markers


def cpulist(cpus):
    """[0, 1, 2, 5] -> "0-2,5" (the kernel's cpulist format)."""
    out, cpus = [], sorted(cpus)
    i = 0
    while i < len(cpus):
        j = i
        while j + 1 < len(cpus) and cpus[j + 1] == cpus[j] + 1:
            j += 1
        out.append(str(cpus[i]) if i == j else f"{cpus[i]}-{cpus[j]}")
        i = j + 1
    return ",".join(out)


def read_markers(fd):
    """The guest's markers: sectors 0 (VL-UP) .. 2 (VL-WORK) of its disk."""
    data = os.pread(fd, 3 * SECTOR, 0)
    return [data[k * SECTOR:(k + 1) * SECTOR].split(b"\0", 1)[0].strip().decode(errors="replace")
            for k in range(3)]


def parse_work(text):
    """'VL-WORK cpus=2 n=200000 ms=1616 w=1043,1583 span=1700 clock=timer_list cs=tsc pin=taskset'"""
    if not text.startswith("VL-WORK"):
        return None
    kv = dict(w.split("=", 1) for w in text.split()[1:] if "=" in w)
    return {"ms": int(kv["ms"]), "w": [int(x) for x in kv.get("w", "").split(",") if x],
            "span": int(kv["span"]) if "span" in kv else None,
            "cpus": int(kv.get("cpus", 0)), "clock": kv.get("clock", "?"), "cs": kv.get("cs", "?"),
            "pin": kv.get("pin", "?")}


def task_field(qpid, tid, key):
    try:
        if key == "comm":
            with open(f"/proc/{qpid}/task/{tid}/comm") as f:
                return f.read().strip()
        with open(f"/proc/{qpid}/task/{tid}/status") as f:
            for line in f:
                k, _, v = line.partition(":")
                if k == key:
                    return v.strip()
    except OSError:
        pass
    return None


def vcpu_placement(vl, name, qpid):
    """Where QEMU's threads may run, as the kernel has it: the vCPU thread ids
    from query-cpus-fast on the tools' QMP socket (named by `vfio-launch
    status`), then Cpus_allowed_list of every thread of QEMU."""
    r = {"vcpus": [], "others": {}, "error": None}
    try:
        st = subprocess.run([vl, "status", name], capture_output=True, text=True, timeout=10)
        info = json.loads(st.stdout)
        if info.get("qemu_pid") != qpid:
            raise ValueError(f"status names QEMU pid {info.get('qemu_pid')}, the running line {qpid}")
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(5)
        s.connect(info["qmp"])
        with s, s.makefile("rwb", buffering=0) as f:
            assert "QMP" in json.loads(f.readline())
            f.write(b'{"execute":"qmp_capabilities"}\r\n')
            assert "return" in qmp_recv(f)
            tq = now_ms()
            f.write(b'{"execute":"query-cpus-fast"}\r\n')
            cpus = qmp_recv(f)["return"]
            r["query_ms"] = now_ms() - tq
    except (OSError, EOFError, AssertionError, ValueError, KeyError, subprocess.SubprocessError) as e:
        r["error"] = f"{type(e).__name__}: {e}"
        return r
    vtids = set()
    for c in sorted(cpus, key=lambda c: c["cpu-index"]):
        tid = c["thread-id"]
        vtids.add(tid)
        r["vcpus"].append((c["cpu-index"], tid, task_field(qpid, tid, "comm"),
                           task_field(qpid, tid, "Cpus_allowed_list")))
    try:
        tids = sorted(int(t) for t in os.listdir(f"/proc/{qpid}/task"))
    except OSError as e:
        r["error"] = f"/proc/{qpid}/task: {e}"
        return r
    for tid in tids:
        if tid in vtids:
            continue
        allowed = task_field(qpid, tid, "Cpus_allowed_list")
        if allowed is not None:
            r["others"][allowed] = r["others"].get(allowed, 0) + 1
    return r


def placement_text(pl, want_vcpu, want_emu):
    """One line: what the kernel says, against what was asked; and whether it
    is what was asked (reported, not asserted)."""
    if pl["error"]:
        return f"could not check ({pl['error']})", False
    ok = len(pl["vcpus"]) == len(want_vcpu)
    parts = []
    for idx, tid, comm, allowed in pl["vcpus"]:
        want = want_vcpu[idx] if idx < len(want_vcpu) else "?"
        ok = ok and allowed == want and comm == f"CPU {idx}/TCG"
        parts.append(f"vCPU {idx} = thread {tid} \"{comm}\" on {allowed} (asked {want})")
    n_other = sum(pl["others"].values())
    ok = ok and set(pl["others"]) == {want_emu}
    others = ", ".join(f"{n} on {a}" for a, n in sorted(pl["others"].items()))
    parts.append(f"{n_other} other threads: {others} (asked {want_emu})")
    return "; ".join(parts), ok


def run_work(vl, profile, name, disk, timeout_s=180):
    """One run of vfio-launch with the guest's CPU-bound job, to its poweroff.
    Timestamps, all on the script's CLOCK_MONOTONIC: the running line (stderr
    pipe), VL-UP and VL-WORK appearing on the guest's disk (the image file is
    read every MARKER_POLL_MS), QEMU's exit (pidfd)."""
    with open(disk, "r+b") as f:  # a blank disk: no marker of the last run
        f.truncate(0)
        f.truncate(1 << 20)
    dfd = os.open(disk, os.O_RDONLY)
    r = {}
    t0 = now_ms()
    p = subprocess.Popen([vl, profile], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                         stderr=subprocess.PIPE, preexec_fn=lambda: None)
    lfd = os.pidfd_open(p.pid)
    err = p.stderr.fileno()
    os.set_blocking(err, False)
    buf, lines, qfd, qpid = b"", [], None, None
    poller = select.poll()
    poller.register(err, select.POLLIN)
    poller.register(lfd, select.POLLIN)
    deadline = t0 + timeout_s * 1000
    launcher_exit = qemu_exit = t_run = t_up = t_work = None
    while launcher_exit is None:
        if now_ms() > deadline:
            p.kill()
            p.wait()
            die("vfio-launch did not finish in time:\n" + b"".join(lines).decode())
        ev = poller.poll(MARKER_POLL_MS if qpid is not None and t_work is None else 100)
        t = now_ms()
        for fd, _ in ev:
            if fd == qfd and qemu_exit is None:
                qemu_exit = t
                poller.unregister(qfd)
            elif fd == lfd:
                launcher_exit = t
            elif fd == err:
                chunk = os.read(err, 65536)
                if not chunk:
                    poller.unregister(err)
                    continue
                buf += chunk
                while b"\n" in buf:
                    line, buf = buf.split(b"\n", 1)
                    lines.append(line + b"\n")
                    m = re.search(r": running \(QEMU pid (\d+)\)", line.decode(errors="replace"))
                    if m and qpid is None:
                        t_run = t
                        qpid = int(m.group(1))
                        qfd = os.pidfd_open(qpid)
                        poller.register(qfd, select.POLLIN)
                        # Early in the boot (seconds before the work starts).
                        r["placement"] = vcpu_placement(vl, name, qpid)
        if qpid is not None and t_work is None:
            up, _, work = read_markers(dfd)
            if t_up is None and up.startswith("VL-UP"):
                t_up = t
            if t_up is not None and work.startswith("VL-WORK"):
                t_work = t
    rc = p.wait()
    try:
        lines.append(buf + os.read(err, 65536))
    except BlockingIOError:
        lines.append(buf)
    os.close(lfd)
    if qfd is not None:
        os.close(qfd)
    markers = read_markers(dfd)
    os.close(dfd)
    text = b"".join(lines).decode(errors="replace")
    if rc != 0 or "guest powered off" not in text or qemu_exit is None or t_run is None:
        die(f"vfio-launch run failed (exit status {rc}):\n{text}")
    g = parse_work(markers[2])
    if g is None:
        die(f"the guest wrote no VL-WORK marker (markers {markers!r}):\n{text}")
    if os.path.exists(os.path.join(RUN_DIR, name)):
        die(f"{RUN_DIR}/{name} left behind")
    r["running"] = t_run - t0
    r["run_to_exit"] = qemu_exit - t_run
    r["guest_ms"] = g["ms"]
    r["guest_w"] = g["w"]
    r["guest_info"] = g
    r["w_slow"] = max(g["w"]) if g["w"] else float("nan")
    r["w_fast"] = min(g["w"]) if g["w"] else float("nan")
    if t_up is not None:
        r["boot"] = t_up - t_run
    if g["span"] is not None:
        r["span"] = g["span"]
    if t_up is not None and t_work is not None:
        # The same stretch of the guest's life (VL-UP -> VL-WORK written), by
        # its clock and by ours: a guest clock running slow or fast shows.
        r["work_out"] = t_work - t_up
        if g["span"] is not None:
            r["clock_ratio"] = g["span"] / r["work_out"]
            r["clock_diff"] = r["work_out"] - g["span"]
    return r


def part_pinning(vl, kernel, initrd, tmp, reps, work, emu_pin, warmup=True):
    cpus = sorted(os.sched_getaffinity(0))
    if len(cpus) < 2:
        print(f"part pinning: needs 2 host CPUs, this process may use {cpulist(cpus)}: skipped")
        return
    pins = [str(cpus[0]), str(cpus[1])]
    emu = emu_pin or cpulist(cpus)
    cmdline = f"quiet panic=-1 vl.mode=work vl.work={work}"
    base = f"bench-{os.getpid()}"
    sides = {
        "unpinned": {"model": "max", "cores": 2},
        "pinned": {"model": "max", "cores": 2, "pin": pins, "emulator_pin": emu},
    }
    prof, disks = {}, {}
    for side, cpu in sides.items():
        prof[side] = write_profile(tmp, f"{base}-{side}", kernel, initrd, cpu=cpu, cmdline=cmdline,
                                   disk_name=f"disk-{side}.img")
        disks[side] = os.path.join(tmp, f"disk-{side}.img")
    la0 = os.getloadavg()
    print(f"part pinning: {reps} repetitions "
          f"{'+ 1 warm-up ' if warmup else '(no warm-up: part launch just ran the same guest) '}"
          f"of each side, alternating (ABBA), medians [min .. max]; ms")
    print(f"  the VM: 2 vCPUs (cores 2), TCG, 128 MiB, direct kernel boot; pinned: cpu.pin {json.dumps(pins)}, "
          f"emulator_pin \"{emu}\"; the host may use CPUs {cpulist(cpus)}")
    print(f"  guest work: vl.mode=work vl.work={work}: one busybox awk loop of {work} iterations "
          f"per vCPU, all at once; load average at start {la0[0]:.2f} {la0[1]:.2f} {la0[2]:.2f}")
    R = {"unpinned": [], "pinned": []}
    placed = {"unpinned": [], "pinned": []}
    want = {"unpinned": ([cpulist(cpus)] * 2, cpulist(cpus)), "pinned": (pins, emu)}
    for i in range(0 if warmup else 1, reps + 1):
        order = ["unpinned", "pinned"] if i % 2 == 0 else ["pinned", "unpinned"]
        got = {}
        for side in order:
            got[side] = run_work(vl, prof[side], f"{base}-{side}", disks[side])
        if i == 0:
            continue
        for side in order:
            r = got[side]
            R[side].append(r)
            txt, ok = placement_text(r["placement"], *want[side])
            placed[side].append(ok)
            print(f"  run {i} {side:8}: running {r['running']:6.1f}, boot {r.get('boot', float('nan')):6.0f}, "
                  f"work {r['guest_ms']:5d} (vCPUs {','.join(map(str, r['guest_w']))}); VL-UP->VL-WORK guest "
                  f"{r.get('span', float('nan')):5.0f} / outside {r.get('work_out', float('nan')):5.0f}; "
                  f"running->exit {r['run_to_exit']:5.0f}", flush=True)
            print(f"        placement: {txt}: {'as asked' if ok else 'NOT as asked'}", flush=True)
    la1 = os.getloadavg()
    U, P = R["unpinned"], R["pinned"]
    g = U[0]["guest_info"]
    print()
    print(f"(iv) pinned vs unpinned, 2 vCPUs (guest clock: {g['clock']}, clocksource {g['cs']}; "
          f"in-guest pinning: {g['pin']}; "
          f"load average at end {la1[0]:.2f} {la1[1]:.2f} {la1[2]:.2f})")
    print(f"  {'':50} {'unpinned':>22} {'pinned':>22}  pinned/unpinned")
    rows = [
        ("exec -> 'running' line (pinning included)", "running", 1),
        ("running -> VL-UP seen (guest boot)", "boot", 0),
        ("guest work, guest clock (all vCPUs)", "guest_ms", 0),
        ("VL-UP -> VL-WORK, guest clock", "span", 0),
        ("VL-UP -> VL-WORK seen, outside", "work_out", 0),
        ("  outside - guest clock", "clock_diff", 0),
        ("  guest clock / outside", "clock_ratio", 3),
        ("slowest vCPU's loop, guest clock", "w_slow", 0),
        ("fastest vCPU's loop, guest clock", "w_fast", 0),
        ("running -> QEMU exit (boot + work + poweroff)", "run_to_exit", 0),
    ]
    for label, key, dec in rows:
        u, pm = med(U, key), med(P, key)

        def fmt(rs, m):
            vals = sorted(r[key] for r in rs if key in r)
            if not vals:
                return "n/a"
            return f"{m:.{dec}f} [{vals[0]:.{dec}f} .. {vals[-1]:.{dec}f}]"
        ratio = pm / u if u and u == u and key not in ("clock_ratio", "clock_diff") else None
        print(f"  {label:50} {fmt(U, u):>22} {fmt(P, pm):>22}  "
              f"{f'{ratio:.3f}' if ratio is not None else ''}")
    d = med(P, "running") - med(U, "running")

    def rng(rs, key):
        vals = [r[key] for r in rs if key in r]
        return max(vals) - min(vals) if vals else float("nan")
    qms = sorted(r["placement"]["query_ms"] for r in U + P if "query_ms" in r["placement"])
    print(f"  pinning's cost on the running line: {d:+.1f} ms between the medians (pinned - unpinned); "
          f"run-to-run range {rng(U, 'running'):.1f} (unpinned), {rng(P, 'running'):.1f} (pinned)")
    if qms:
        print(f"  query-cpus-fast round trip, timed by this script on the tools' socket while the "
              f"guest boots (the launcher's pinning is that + one sched_setaffinity per thread): "
              f"{statistics.median(qms):.2f} [{qms[0]:.2f} .. {qms[-1]:.2f}]")
    print(f"  placement as asked: pinned {sum(placed['pinned'])}/{len(placed['pinned'])} runs, "
          f"unpinned (everything on {cpulist(cpus)}) {sum(placed['unpinned'])}/{len(placed['unpinned'])} runs")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-b", "--build", default=os.path.join(TOP, "build"),
                    help="build folder holding launcher/vfio-launch (default: build)")
    ap.add_argument("-n", "--reps", type=int, default=None,
                    help=f"repetitions of each part (default 7 for launch, {PIN_REPS} for pinning, "
                         "5 rounds for passthrough)")
    ap.add_argument("--pin-reps", type=int, default=None,
                    help="repetitions of the pinning part (default: -n, else %d)" % PIN_REPS)
    ap.add_argument("--part", choices=("all", "launch", "pinning", "passthrough"), default="all",
                    help="run only one part (default: all = launch and pinning; passthrough boots the "
                         "emulated host of tests/vm and is run only when named)")
    ap.add_argument("--trace", action="store_true",
                    help="passthrough part: run vfio-launch with VL_TRACE=1 and show where its time goes")
    ap.add_argument("--compare-build", default=None,
                    help="passthrough part: another build folder whose vfio-launch runs as a third "
                         "side in the same rounds (before/after on one machine load)")
    ap.add_argument("--vm-variant", default="intel",
                    help="passthrough part: the tests/vm variant to boot (default intel)")
    ap.add_argument("--work", type=int, default=WORK_ITERS,
                    help=f"pinning part: the guest's loop iterations per vCPU (default {WORK_ITERS})")
    ap.add_argument("--emulator-pin", default=None,
                    help="pinning part: cpu.emulator_pin of the pinned side (default: all CPUs "
                         "this process may use)")
    a = ap.parse_args()
    reps = a.reps if a.reps is not None else 7
    pin_reps = a.pin_reps if a.pin_reps is not None else (a.reps if a.reps is not None else PIN_REPS)
    vl = os.path.join(os.path.abspath(a.build), "launcher", "vfio-launch")
    if not os.access(vl, os.X_OK):
        die(f"{vl} not built")
    if a.part == "passthrough":
        # Everything runs inside the emulated host, as its root: no root here.
        t_start = now_ms()
        part_passthrough(os.path.abspath(a.build), a.reps if a.reps is not None else 5,
                         os.environ.get("VL_VM_CACHE"), a.vm_variant, a.trace,
                         os.path.abspath(a.compare_build) if a.compare_build else None)
        print(f"\nbench: {(now_ms() - t_start) / 1000:.0f} s")
        return
    if os.geteuid() != 0:
        die("needs root (vfio-launch runs QEMU as user nobody)")
    kernel, initrd = build_guest()
    name = f"bench-{os.getpid()}"
    tmp = tempfile.mkdtemp(prefix="vl-bench.")
    os.chmod(tmp, 0o755)
    t_start = now_ms()
    try:
        if a.part in ("all", "launch"):
            part_launch(vl, kernel, initrd, tmp, name, reps)
        if a.part == "all":
            print()
        if a.part in ("all", "pinning"):
            # The warm-up is for cold caches (page cache, QEMU's version
            # cache): part launch has just warmed them with the same guest.
            part_pinning(vl, kernel, initrd, tmp, pin_reps, a.work, a.emulator_pin,
                         warmup=a.part == "pinning")
        print(f"\nbench: {(now_ms() - t_start) / 1000:.0f} s")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        for n in (name, f"{name}-unpinned", f"{name}-pinned"):
            try:
                os.unlink(os.path.join(LOG_DIR, n + ".log"))
            except OSError:
                pass


# ---- part "passthrough": the emulated host of tests/vm, bare against vfio-launch

PT_ROUNDS_PER_BOOT = 6  # 4 HDA binds a round (+ warm-up + the boot's own) < 32
TARGET_PT_START = 1.05  # start <= 1.05x bare
TARGET_PT_STOP_MS = 20.0  # give-back after stop <= bare + 20 ms
TARGET_PT_EXIT_MS = 20.0  # the launcher exits <= 20 ms after the devices are back
TARGET_PT_KILL_MS = 250.0  # kill -9 of QEMU -> devices back <= 250 ms


def pt_boot(build, rounds, cache, variant, timeout_case, trace, build_b=None):
    """One boot of tests/vm with the bench-passthrough case; its BENCH-PT
    records."""
    extra = f" vl.benchrounds={rounds}" + (" vl.benchtrace=1" if trace else "")
    if build_b:
        extra += f" vl.benchb={build_b}"
    env = dict(os.environ, VL_VM_APPEND=(os.environ.get("VL_VM_APPEND", "") + extra).strip(),
               VL_VM_CASE_TIMEOUT=str(timeout_case))
    if cache:
        env["VL_VM_CACHE"] = cache
    cmd = [os.path.join(TOP, "tests/vm/run.sh"), "-b", build, "-t", str(timeout_case + 180), variant,
           "bench-passthrough"]
    p = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    log = None
    for line in p.stdout:
        print("  | " + line.rstrip(), flush=True)
        m = re.search(r"\(log: (\S+)\)", line)
        if m:
            log = m.group(1)
    rc = p.wait()
    if log is None or not os.path.exists(log):
        die(f"tests/vm/run.sh gave no serial log (exit status {rc})")
    recs, argv = [], None
    with open(log, errors="replace") as f:
        for line in f:
            line = line.rstrip("\r\n")
            if line.startswith("BENCH-PT: "):
                recs.append(json.loads(line[len("BENCH-PT: "):]))
            elif line.startswith("BENCH-PT-ARGV: "):
                argv = json.loads(line[len("BENCH-PT-ARGV: "):])
    if rc != 0:
        die(f"the bench boot failed (tests/vm/run.sh exit status {rc}); serial log {log}")
    return recs, argv, log


def pt_trace_table(recs, key, title):
    """The launcher's steps (VL_TRACE=1), medians of their times since the
    script's t0, and of the gap to the step before."""
    runs = [r[key] for r in recs if key in r]
    if not runs:
        return
    print(f"  {title} (VL_TRACE steps, ms since the exec / the stop; median, and the step before -> this one)")
    steps = []
    for run in runs:
        for _, name in run:
            n = re.sub(r"\(pid \d+\)", "", name)
            if n not in steps:
                steps.append(n)
    prev = None
    for n in steps:
        at = [t for run in runs for t, name in run if re.sub(r"\(pid \d+\)", "", name) == n]
        gaps = []
        for run in runs:
            names = [re.sub(r"\(pid \d+\)", "", x[1]) for x in run]
            if n in names and prev in names:
                gaps.append(run[names.index(n)][0] - run[names.index(prev)][0])
        gap = f"{statistics.median(gaps):+8.1f}" if gaps else " " * 8
        print(f"    {statistics.median(at):8.1f} {gap}  {n}")
        prev = n


def part_passthrough(build, reps, cache, variant, trace=False, build_b=None):
    boots = []
    left = reps
    # A third side makes 6 HDA binds a round: 4 rounds + the warm-up.
    per_boot = PT_ROUNDS_PER_BOOT if not build_b else 4
    while left > 0:
        boots.append(min(left, per_boot))
        left -= boots[-1]
    print(f"part passthrough: the emulated host of tests/vm ({variant}: L1 = a Debian kernel in QEMU TCG, "
          f"2 vCPUs, emulated IOMMU, the 2-function \"GPU\" e1000e + HDA), {reps} rounds + 1 warm-up per "
          f"boot in {len(boots)} boot(s); medians [min .. max], ms; {os.cpu_count()} CPUs here, load "
          f"average at start {os.getloadavg()[0]:.2f}")
    recs, logs = [], []
    for n in boots:
        r, argv, log = pt_boot(build, n, cache, variant, 120 + 90 * (n + 1), trace, build_b)
        recs += [x for x in r if not x["warmup"]]
        logs.append(log)
    if not recs:
        die("no measurement in the serial log(s): " + " ".join(logs))
    print(f"  the VM (vmtest, argv from vfio-launch print): {' '.join(argv or [])}")

    def sel(side, end=None):
        return [x for x in recs if x["side"] == side and (end is None or x["end"] == end)]

    def m(rs, key):
        return med(rs, key)

    def row(label, rs, key, extra=""):
        vals = sorted(r[key] for r in rs if key in r)
        if not vals:
            print(f"  {label:58} {'n/a':>8}")
            return
        print(f"  {label:58} {statistics.median(vals):8.1f}  [{vals[0]:.1f} .. {vals[-1]:.1f}] "
              f"n={len(vals)}{extra}")

    B, V = sel("bare"), sel("vl")
    print()
    print("(v) start -> guest running (both functions on vfio-pci, QMP cont answered)")
    row("bare: sysfs writes + QEMU + QMP -> cont answered", B, "start")
    row("  bare: the sysfs writes returned", B, "written")
    row("  bare: QMP greeting", B, "qmp")
    row("vfio-launch: exec -> 'running' line", V, "start")
    row("  vfio-launch: both functions bound to vfio-pci (uevent)", V, "bound")
    bs, vs = m(B, "start"), m(V, "start")
    ratio = vs / bs
    print(f"  vfio-launch / bare: {ratio:.3f}x ({vs - bs:+.1f} ms); target <= {TARGET_PT_START:.2f}x: "
          f"{'met' if ratio <= TARGET_PT_START else 'NOT met'}")
    print("(vi) stop -> both functions back on their drivers (bind uevents)")
    row("bare: QMP quit -> QEMU reaped -> sysfs writes -> back", sel("bare", "stop"), "home")
    row("  bare: QMP quit -> QEMU exit (pidfd)", sel("bare", "stop"), "qemu_exit")
    row("vfio-launch: exec of `stop --force` -> back", sel("vl", "stop"), "home")
    row("  vfio-launch: `stop --force` command exited", sel("vl", "stop"), "stop_cmd")
    row("vfio-launch: exec of `stop --force` -> the launcher exited", sel("vl", "stop"), "exit")
    bh, vh = m(sel("bare", "stop"), "home"), m(sel("vl", "stop"), "home")
    print(f"  give-back: vfio-launch - bare = {vh - bh:+.1f} ms; target <= +{TARGET_PT_STOP_MS:.0f} ms: "
          f"{'met' if vh - bh <= TARGET_PT_STOP_MS else 'NOT met'}")
    tails = [x["exit"] - x["home"] for x in sel("vl", "stop") if "home" in x]
    for x, t in zip(sel("vl", "stop"), tails):
        x["tail"] = t
    row("devices back -> the launcher exited (per run)", sel("vl", "stop"), "tail")
    tail = statistics.median(tails) if tails else float("nan")
    print(f"  target <= {TARGET_PT_EXIT_MS:.0f} ms: {'met' if tail <= TARGET_PT_EXIT_MS else 'NOT met'}")
    print("(vii) kill -9 of QEMU -> both functions back")
    row("bare: kill -> reaped -> sysfs writes -> back", sel("bare", "kill"), "home")
    row("  bare: kill -> QEMU exit (pidfd)", sel("bare", "kill"), "qemu_exit")
    row("vfio-launch: kill -> back", sel("vl", "kill"), "home")
    row("vfio-launch: kill -> the launcher exited", sel("vl", "kill"), "exit")
    vk = m(sel("vl", "kill"), "home")
    print(f"  target <= {TARGET_PT_KILL_MS:.0f} ms: {'met' if vk <= TARGET_PT_KILL_MS else 'NOT met'} "
          f"(bare: {m(sel('bare', 'kill'), 'home'):.1f})")
    W = sel("vl-b")
    if W:
        print(f"(ix) the other build ({build_b}), interleaved in the same rounds; ratios: other / this build")

        def cmp(label, side_rs, key, this_rs):
            a, b = m(side_rs, key), m(this_rs, key)
            row(label, side_rs, key, f"  {a / b:.3f}x ({a - b:+.1f} ms)")
        cmp("start -> 'running' line", W, "start", V)
        cmp("exec of `stop --force` -> back", sel("vl-b", "stop"), "home", sel("vl", "stop"))
        cmp("exec of `stop --force` -> the launcher exited", sel("vl-b", "stop"), "exit", sel("vl", "stop"))
        for x in sel("vl-b", "stop"):
            if "home" in x:
                x["tail"] = x["exit"] - x["home"]
        cmp("devices back -> the launcher exited", sel("vl-b", "stop"), "tail", sel("vl", "stop"))
        cmp("kill -> back", sel("vl-b", "kill"), "home", sel("vl", "kill"))
        print(f"  other build / bare, start: {m(W, 'start') / bs:.3f}x")
    if trace:
        print("(viii) where vfio-launch spends it")
        pt_trace_table(V, "trace_start", "start")
        pt_trace_table(sel("vl", "stop"), "trace_end", "stop --force")
        pt_trace_table(sel("vl", "kill"), "trace_end", "kill -9 of QEMU")
    print(f"  serial log(s): {' '.join(logs)}")


def part_launch(vl, kernel, initrd, tmp, name, reps):
    profile = write_profile(tmp, name, kernel, initrd)
    argv, env = plain_command(vl, profile)
    qemu_ver = subprocess.run([argv[0], "-version"], capture_output=True,
                              text=True).stdout.splitlines()[0]
    print(f"vfio-launch benchmark: {reps} repetitions + 1 warm-up, medians "
          f"[min .. max]; ms unless said otherwise")
    print(f"  {qemu_ver}; {os.cpu_count()} CPUs; load average at start "
          f"{os.getloadavg()[0]:.2f}; guest: {os.path.basename(kernel)} + busybox "
          f"initramfs, 128 MiB, TCG, direct kernel boot")
    L, P = [], []
    for i in range(reps + 1):
        # Alternate, so that a change of machine load hits both sides.
        lr = run_launcher(vl, profile, name)
        pr = run_plain(argv, env, tmp)
        pr.update(run_version_probe(argv[0]))
        if i == 0:
            continue
        L.append(lr)
        P.append(pr)
        print(f"  run {i}: launcher running {lr['running']:.1f}, plain cont {pr['cont']:.1f} "
              f"(caps {pr['caps']:.1f}); exit {lr['exit_after_qemu']:.2f} after QEMU; "
              f"RSS {lr['rss']} KiB", flush=True)

    lrun, pcont, pcaps = med(L, "running"), med(P, "cont"), med(P, "caps")
    ex, exs = med(L, "exit_after_qemu"), med(L, "exit_after_shutdown")
    rss, hwm = med(L, "rss"), med(L, "hwm")
    over = lrun / pcont - 1
    over_caps = lrun / pcaps - 1
    print()
    print("(i) launch, exec -> guest running")
    print(f"  vfio-launch, exec -> 'running' line (after cont)   {lrun:8.1f}  {spread(L, 'running')}")
    print(f"  plain QEMU, exec -> cont answered                 {pcont:8.1f}  {spread(P, 'cont')}")
    print(f"  plain QEMU, exec -> qmp_capabilities answered     {pcaps:8.1f}  {spread(P, 'caps')}")
    print(f"  QEMU -version alone (the launcher's host probe)   {med(P, 'probe'):8.1f}  "
          f"{spread(P, 'probe')}")
    print(f"  overhead vs plain cont: {lrun - pcont:+.1f} ms = {over * 100:+.1f} % "
          f"(target <= {TARGET_LAUNCH_OVERHEAD * 100:.0f} %: {over / TARGET_LAUNCH_OVERHEAD:.2f}x the "
          f"allowance); vs qmp_capabilities: {over_caps * 100:+.1f} %")
    print("(ii) exit, the guest powers off by itself")
    print(f"  QEMU exit -> vfio-launch exit (host restored)     {ex:8.2f}  {spread(L, 'exit_after_qemu')}"
          f"  (target <= {TARGET_EXIT_MS:.0f} ms: {ex / TARGET_EXIT_MS:.2f}x)")
    print(f"  SHUTDOWN seen -> vfio-launch exit                 {exs:8.2f}  {spread(L, 'exit_after_shutdown')}")
    print("(iii) supervisor memory while the VM runs")
    print(f"  VmRSS of vfio-launch {rss:.0f} KiB = {rss / 1024:.2f} MiB, VmHWM {hwm:.0f} KiB "
          f"(target < {TARGET_RSS_KIB // 1024} MiB: {rss / TARGET_RSS_KIB:.2f}x; "
          f"libvirtd + virtlogd ~{LIBVIRT_RSS_MIB} MiB: {rss / 1024 / LIBVIRT_RSS_MIB * 100:.1f} % of it)")


if __name__ == "__main__":
    signal.signal(signal.SIGINT, signal.default_int_handler)
    main()
