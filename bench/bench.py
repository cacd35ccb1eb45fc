#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""vfio-launch performance benchmark (issue 4): the launcher against plain QEMU
with the same command line, side by side, in one run. See bench/README.md.

  bench/bench.py [-b BUILD_DIR] [-n REPS]

Reports (medians over REPS, after one unmeasured warm-up of each):
  (i)   launch: exec of vfio-launch -> guest running (`cont` answered), against
        exec of plain QEMU (same argv, same environment) -> qmp_capabilities
        answered and -> `cont` answered;
  (ii)  exit: the guest powers off by itself; QEMU's exit -> vfio-launch's
        exit (the host restored by then), both seen through pidfds;
  (iii) the supervisor's memory: VmRSS / VmHWM of the vfio-launch process
        while the VM runs.
Figures against the targets are reported, never asserted. Needs root.
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
LIBVIRT_RSS_MIB = 45            # libvirtd + virtlogd (shared/FACTS.md)


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


def write_profile(tmp, name, kernel, initrd):
    disk = os.path.join(tmp, "disk.img")
    with open(disk, "wb") as f:
        f.truncate(1 << 20)
    os.chown(disk, 65534, -1)  # QEMU runs as nobody under vfio-launch
    profile = {
        "name": name,
        "accel": "tcg",
        "cpu": {"model": "max"},
        "firmware": {"type": "bios"},
        "memory": "128M",
        "user": "nobody",
        # vl.mode=poweroff: the guest init writes its marker and powers off.
        "boot": {"kernel": kernel, "initrd": initrd, "cmdline": "quiet panic=-1 vl.mode=poweroff"},
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


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-b", "--build", default=os.path.join(TOP, "build"),
                    help="build folder holding launcher/vfio-launch (default: build)")
    ap.add_argument("-n", "--reps", type=int, default=7, help="repetitions (default 7)")
    a = ap.parse_args()
    if os.geteuid() != 0:
        die("needs root (vfio-launch runs QEMU as user nobody)")
    vl = os.path.join(os.path.abspath(a.build), "launcher", "vfio-launch")
    if not os.access(vl, os.X_OK):
        die(f"{vl} not built")
    kernel, initrd = build_guest()
    name = f"bench-{os.getpid()}"
    tmp = tempfile.mkdtemp(prefix="vl-bench.")
    os.chmod(tmp, 0o755)
    try:
        profile = write_profile(tmp, name, kernel, initrd)
        argv, env = plain_command(vl, profile)
        qemu_ver = subprocess.run([argv[0], "-version"], capture_output=True,
                                  text=True).stdout.splitlines()[0]
        print(f"vfio-launch benchmark: {a.reps} repetitions + 1 warm-up, medians "
              f"[min .. max]; ms unless said otherwise")
        print(f"  {qemu_ver}; {os.cpu_count()} CPUs; load average at start "
              f"{os.getloadavg()[0]:.2f}; guest: {os.path.basename(kernel)} + busybox "
              f"initramfs, 128 MiB, TCG, direct kernel boot")
        L, P = [], []
        for i in range(a.reps + 1):
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
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        try:
            os.unlink(os.path.join(LOG_DIR, name + ".log"))
        except OSError:
            pass


if __name__ == "__main__":
    signal.signal(signal.SIGINT, signal.default_int_handler)
    main()
