#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""The passthrough part of the benchmark, the side that runs INSIDE the
emulated host (L1 of tests/vm), started by tests/vm/cases/bench-passthrough.sh
through the 9p chroot of L0's root. bench/bench.py --part passthrough boots
L1 and reads what this prints. See bench/README.md, part passthrough.

Each round starts the same 2-function VM four times and ends it two ways,
on each side, in an order that alternates from round to round (ABBA):

  bare  : this script does the sysfs writes itself (driver_override, unbind,
          drivers_probe for both functions), execs the argv `vfio-launch
          print --args-only` gives (as root, the QMP listener created here
          and handed over as fd 3, as the launcher does), QMP
          qmp_capabilities + query-status + cont; then QMP quit (or kill -9),
          waitpid, and the same writes back (override cleared, unbind from
          vfio-pci, drivers_probe);
  vfio-launch: `vfio-launch PROFILE` until its "running (QEMU pid N)" line;
          then `vfio-launch stop --force NAME` (or kill -9 of QEMU).

Times are CLOCK_MONOTONIC when this script sees the event: the launcher's
line through a pipe, QMP replies, process exits through pidfds, and the
driver binds through a kernel uevent socket (NETLINK_KOBJECT_UEVENT: the
"bind" uevent is sent once the driver's probe returned). One JSON object per
measured run on a line "BENCH-PT: {...}"; progress on "NOTE: CASE: ..." lines.

Each give-back binds the HDA function once; after each the script waits for
its asynchronous codec probe to end (its kernel message), outside the
timings: unbinding it earlier can oops that kernel (tests/vm/README.md).
Reports only; a run that fails (a launcher's exit status other than the
expected, a device not back) is printed as such and ends the script with
status 1.
"""
import argparse
import json
import os
import re
import select
import signal
import socket
import subprocess
import sys
import time

NETLINK_KOBJECT_UEVENT = 15
SYSPCI = "/sys/bus/pci/devices"
CASE = os.environ.get("CASE", "bench-passthrough")


def now_ms():
    return time.monotonic_ns() / 1e6


def note(msg):
    print(f"NOTE: {CASE}: {msg}", flush=True)


def die(msg):
    print(f"FAIL: {CASE}: {msg}", flush=True)
    sys.exit(1)


def drv(bdf):
    try:
        return os.path.basename(os.readlink(f"{SYSPCI}/{bdf}/driver"))
    except OSError:
        return ""


def write(path, data):
    fd = os.open(path, os.O_WRONLY | os.O_TRUNC)
    try:
        os.write(fd, data.encode())
    finally:
        os.close(fd)


class Host:
    """Kernel events: driver binds (uevent netlink) and the HDA probe's end
    (/dev/kmsg)."""

    def __init__(self, devs, orig):
        self.devs, self.orig = devs, orig
        self.ue = socket.socket(socket.AF_NETLINK, socket.SOCK_DGRAM, NETLINK_KOBJECT_UEVENT)
        self.ue.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
        self.ue.bind((0, 1))
        self.ue.setblocking(False)
        self.kmsg = os.open("/dev/kmsg", os.O_RDONLY | os.O_NONBLOCK)
        os.lseek(self.kmsg, 0, os.SEEK_END)
        self.binds = []      # (t, action, driver, bdf)
        self.settled = 0     # HDA probes that ended since we started
        self.hda_re = re.compile(r"snd_hda_intel %s: (Cannot probe codecs|no codecs initialized)"
                                 % re.escape(devs[1]))

    def fds(self):
        return [self.ue.fileno(), self.kmsg]

    def handle(self, fd, t):
        if fd == self.ue.fileno():
            while True:
                try:
                    msg = self.ue.recv(65536)
                except BlockingIOError:
                    return
                f = dict(kv.split("=", 1) for kv in msg.decode(errors="replace").split("\0") if "=" in kv)
                if f.get("SUBSYSTEM") == "pci" and f.get("ACTION") in ("bind", "unbind"):
                    bdf = f.get("DEVPATH", "").rsplit("/", 1)[-1]
                    if bdf in self.devs:
                        self.binds.append((t, f["ACTION"], f.get("DRIVER", ""), bdf))
        elif fd == self.kmsg:
            while True:
                try:
                    rec = os.read(self.kmsg, 8192)
                except BlockingIOError:
                    return
                except OSError:  # EPIPE: records were overwritten; go on
                    continue
                if self.hda_re.search(rec.decode(errors="replace")):
                    self.settled += 1

    def poll(self, timeout_ms, extra=()):
        """Wait for any of our fds or `extra`; handle ours. Returns the
        ready fds of `extra` and the time of the wake-up."""
        p = select.poll()
        for fd in self.fds() + list(extra):
            p.register(fd, select.POLLIN)
        ev = p.poll(timeout_ms)
        t = now_ms()
        ready = []
        for fd, _ in ev:
            if fd in self.fds():
                self.handle(fd, t)
            else:
                ready.append(fd)
        return ready, t

    def bound_at(self, since, want):
        """The time both devices were bound to their `want` drivers (the last
        of the two bind uevents after `since`), or None."""
        last = None
        for bdf, d in zip(self.devs, want):
            ts = [t for (t, a, dd, b) in self.binds if a == "bind" and b == bdf and dd == d and t >= since]
            if not ts:
                return None
            last = max(last or 0, ts[0])
        return last

    def wait_home(self, since, timeout_ms=15000):
        deadline = now_ms() + timeout_ms
        while (t := self.bound_at(since, self.orig)) is None:
            if now_ms() > deadline:
                return None
            self.poll(100)
        return t

    def hda_settle(self, want, timeout_ms=10000):
        """Until `want` HDA probes have ended (outside every timing)."""
        deadline = now_ms() + timeout_ms
        while self.settled < want and now_ms() < deadline:
            self.poll(100)
        return self.settled >= want


def qmp_recv(f):
    while True:
        line = f.readline()
        if not line:
            raise EOFError("QMP closed")
        msg = json.loads(line)
        if "event" not in msg:
            return msg


# ---- the bare side ---------------------------------------------------------

def bare_bind(devs):
    for b in devs:
        write(f"{SYSPCI}/{b}/driver_override", "vfio-pci")
        d = drv(b)
        if d:
            write(f"/sys/bus/pci/drivers/{d}/unbind", b)
    for b in devs:
        write("/sys/bus/pci/drivers_probe", b)


def bare_unbind(devs):
    for b in devs:
        write(f"{SYSPCI}/{b}/driver_override", "\n")
        if drv(b) == "vfio-pci":
            write("/sys/bus/pci/drivers/vfio-pci/unbind", b)
    for b in devs:
        write("/sys/bus/pci/drivers_probe", b)


def bare_start(h, argv, env, tmp):
    """sysfs writes + QEMU exec + QMP up to `cont`. Returns (proc, pidfd,
    qmp file, qmp socket, record)."""
    r = {}
    path = os.path.join(tmp, "bare-qmp.sock")
    tpath = os.path.join(tmp, "bare-tools.sock")
    for p in (path, tpath):
        if os.path.exists(p):
            os.unlink(p)
    lst = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    lst.bind(path)
    lst.listen(1)
    cli = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    cli.connect(path)  # waits in the backlog for QEMU, as the launcher's
    tools = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    tools.bind(tpath)
    tools.listen(1)
    log = open(os.path.join(tmp, "bare-qemu.log"), "ab")

    def child_fds():
        a = os.dup(lst.fileno()) if lst.fileno() <= 4 else lst.fileno()
        b = os.dup(tools.fileno()) if tools.fileno() <= 4 else tools.fileno()
        a2, b2 = os.dup(a), os.dup(b)
        os.dup2(a2, 3)
        os.dup2(b2, 4)
        os.set_inheritable(3, True)
        os.set_inheritable(4, True)

    t0 = now_ms()
    bare_bind(h.devs)
    r["written"] = now_ms() - t0
    p = subprocess.Popen(argv, env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                         preexec_fn=child_fds, close_fds=False)
    lst.close()
    tools.close()
    log.close()
    qfd = os.pidfd_open(p.pid)
    f = cli.makefile("rwb", buffering=0)
    try:
        assert "QMP" in json.loads(f.readline())
        r["qmp"] = now_ms() - t0
        f.write(b'{"execute":"qmp_capabilities"}\r\n')
        assert "return" in qmp_recv(f)
        f.write(b'{"execute":"query-status"}\r\n')
        rep = qmp_recv(f)
        assert rep["return"]["status"] == "prelaunch", rep
        f.write(b'{"execute":"cont"}\r\n')
        assert "return" in qmp_recv(f)
        r["start"] = now_ms() - t0
    except (OSError, EOFError, AssertionError, ValueError, KeyError) as e:
        p.kill()
        p.wait()
        bare_unbind(h.devs)
        die(f"bare QEMU: QMP start-up failed ({e!r}): " + open(os.path.join(tmp, "bare-qemu.log")).read()[-2000:])
    return p, qfd, f, cli, r


def bare_end(h, p, qfd, f, cli, r, how):
    t0 = now_ms()
    if how == "stop":
        f.write(b'{"execute":"quit"}\r\n')
    else:
        os.kill(p.pid, signal.SIGKILL)
    deadline = t0 + 15000
    t_exit = None
    while t_exit is None:
        ready, t = h.poll(100, [qfd])
        if ready:
            t_exit = t
        elif t > deadline:
            p.kill()
    # Reaped before the unbind: a dying QEMU may still hold the device
    # (tests/vm/README.md, gotcha 3); waitpid returns once it is gone.
    p.wait()
    r["qemu_exit"] = t_exit - t0
    os.close(qfd)
    f.close()
    cli.close()
    bare_unbind(h.devs)
    home = h.wait_home(t0)
    if home is None:
        die(f"bare: devices not back after {how}: {[drv(b) for b in h.devs]}")
    r["home"] = home - t0
    return r


# ---- the vfio-launch side --------------------------------------------------

class Launcher:
    def __init__(self, vl, env, profile, name, trace):
        self.vl, self.env, self.profile, self.name = vl, env, profile, name
        # VL_TRACE=1: the launcher's steps on its stderr, on our clock
        # (CLOCK_MONOTONIC, base/trace.h).
        self.run_env = dict(env, VL_TRACE="1") if trace else env

    def start(self, h):
        r = {}
        t0 = now_ms()
        self.p = subprocess.Popen([self.vl, self.profile], env=self.run_env, stdin=subprocess.DEVNULL,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        self.lfd = os.pidfd_open(self.p.pid)
        self.err = self.p.stderr.fileno()
        os.set_blocking(self.err, False)
        self.buf, self.lines, self.t_exit = b"", [], None
        self.qpid = None
        deadline = t0 + 60000
        while self.qpid is None:
            ready, t = h.poll(100, [self.err, self.lfd])
            for fd in ready:
                if fd == self.err:
                    self._read(t, t0, r, "trace_start")
                elif fd == self.lfd and self.t_exit is None:
                    self.t_exit = t
            if self.qpid is None and (self.t_exit is not None or t > deadline):
                self.p.kill()
                self.p.wait()
                die("vfio-launch did not get to running: " + self.text()[-2000:])
        b = h.bound_at(t0, ["vfio-pci", "vfio-pci"])
        if b is not None:
            r["bound"] = b - t0
        return r

    def _read(self, t, t0, r, key):
        try:
            chunk = os.read(self.err, 65536)
        except BlockingIOError:
            return
        self.buf += chunk
        while b"\n" in self.buf:
            line, self.buf = self.buf.split(b"\n", 1)
            self.lines.append(line + b"\n")
            m = re.match(rb"vfio-launch: trace (\d+\.\d+) (.*)", line)
            if m:
                r.setdefault(key, []).append([round(float(m.group(1)) - t0, 1), m.group(2).decode(errors="replace")])
                continue
            m = re.search(rb": running \(QEMU pid (\d+)\)", line)
            if m and self.qpid is None:
                self.qpid = int(m.group(1))
                r["start"] = t - t0

    def text(self):
        return (b"".join(self.lines) + self.buf).decode(errors="replace")

    def end(self, h, how, r):
        t0 = now_ms()
        stop_rc = None
        if how == "stop":
            # The stop command's own start and exit are part of the figure,
            # as for anyone who types it.
            sp = subprocess.Popen([self.vl, "stop", "--force", self.name], env=self.env,
                                  stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL)
            sfd = os.pidfd_open(sp.pid)
        else:
            qfd = os.pidfd_open(self.qpid)
            os.kill(self.qpid, signal.SIGKILL)
            sfd = None
        deadline = t0 + 30000
        while self.t_exit is None:
            extra = [self.err, self.lfd] + ([sfd] if sfd is not None else [])
            ready, t = h.poll(100, extra)
            for fd in ready:
                if fd == self.err:
                    self._read(t, t0, r, "trace_end")
                elif fd == self.lfd:
                    self.t_exit = t
                elif fd == sfd:
                    stop_rc = sp.wait()
                    r["stop_cmd"] = t - t0
                    os.close(sfd)
                    sfd = None
            if t > deadline:
                self.p.kill()
        rc = self.p.wait()
        if sfd is not None:
            stop_rc = sp.wait()
            os.close(sfd)
        if how != "stop":
            os.close(qfd)
        self._read(now_ms(), t0, r, "trace_end")
        os.close(self.lfd)
        self.p.stderr.close()
        home = h.bound_at(t0, h.orig)
        if home is None:
            home = h.wait_home(t0, 2000)
        r["exit"] = self.t_exit - t0
        r["rc"] = rc
        if "trace_end" in r:
            # After the launcher's last step: libc's exit and the kernel's.
            r["trace_end"].append([round(r["exit"], 1), "process gone (pidfd)"])
        if home is not None:
            r["home"] = home - t0
        want = 5 if how == "stop" else 4
        if rc != want or home is None or (how == "stop" and stop_rc != 0):
            die(f"vfio-launch after {how}: exit status {rc} (expected {want}), stop command {stop_rc}, "
                f"devices {[drv(b) for b in h.devs]}: {self.text()[-2000:]}")
        return r


def launcher_env():
    return {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin"}


def qemu_command(vl, profile):
    env = launcher_env()
    out = subprocess.run([vl, "print", profile], capture_output=True, text=True, env=env)
    if out.returncode != 0:
        die("vfio-launch print failed: " + out.stderr)
    section, qenv = None, {}
    for line in out.stdout.splitlines():
        if line.startswith("# "):
            section = line[2:]
            continue
        if section == "environment" and "=" in line:
            k, v = line.split("=", 1)
            qenv[k] = v
    args = subprocess.run([vl, "print", "--args-only", profile], capture_output=True, text=True, env=env)
    if args.returncode != 0:
        die("vfio-launch print --args-only failed: " + args.stderr)
    argv = args.stdout.splitlines()
    fds = sorted(set(int(m) for a in argv for m in re.findall(r"\bfd=(\d+)", a)))
    if fds != [3, 4]:
        die(f"expected the QMP monitors on fds 3 and 4 only, the argv names fds {fds}: {' '.join(argv)}")
    return argv, qenv


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--vl", required=True)
    ap.add_argument("--vl-b", default=None,
                    help="a second vfio-launch (another build) run as a third side, \"vl-b\"")
    ap.add_argument("--profile", required=True)
    ap.add_argument("--name", required=True)
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--warmup", type=int, default=1)
    ap.add_argument("--devs", required=True, help="BDF0,BDF1")
    ap.add_argument("--orig", required=True, help="DRIVER0,DRIVER1")
    ap.add_argument("--tmp", default="/tmp")
    ap.add_argument("--trace", action="store_true", help="VL_TRACE=1 for the launcher's runs")
    a = ap.parse_args()
    devs, orig = a.devs.split(","), a.orig.split(",")
    if [drv(b) for b in devs] != orig:
        die(f"devices not on {orig} at the start: {[drv(b) for b in devs]}")
    argv, qenv = qemu_command(a.vl, a.profile)
    h = Host(devs, orig)
    launchers = {"vl": Launcher(a.vl, launcher_env(), a.profile, a.name, a.trace)}
    if a.vl_b:
        launchers["vl-b"] = Launcher(a.vl_b, launcher_env(), a.profile, a.name, a.trace)
    sides = ["bare"] + list(launchers)
    note(f"{a.reps} rounds + {a.warmup} warm-up; each round: {', '.join(sides)}, start + stop and "
         f"start + kill -9, ABBA order; {os.cpu_count()} CPUs in L1; QEMU: {argv[0]}")
    print("BENCH-PT-ARGV: " + json.dumps(argv), flush=True)
    hda_binds = 0
    for rnd in range(a.reps + a.warmup):
        order = [(side, how) for how in ("stop", "kill") for side in sides]
        if rnd % 2:
            order.reverse()
        for side, how in order:
            if side == "bare":
                p, qfd, f, cli, r = bare_start(h, argv, qenv, a.tmp)
                r = bare_end(h, p, qfd, f, cli, r, how)
            else:
                r = launchers[side].start(h)
                r = launchers[side].end(h, how, r)
            hda_binds += 1
            if not h.hda_settle(hda_binds):
                note(f"the HDA probe did not end within 10 s after give-back {hda_binds}")
            warm = rnd < a.warmup
            rec = dict(side=side, end=how, round=rnd - a.warmup + 1, warmup=warm, **r)
            print("BENCH-PT: " + json.dumps(rec), flush=True)
            note(f"{'warm-up' if warm else 'round ' + str(rnd - a.warmup + 1)} {side:4} {how}: "
                 f"start {r['start']:.0f} ms, back {r['home']:.0f} ms after the {how}"
                 + (f", launcher exit {r['exit']:.0f} ms" if 'exit' in r else ""))
    print(f"BENCH-PT-DONE: gives_back={hda_binds}", flush=True)


if __name__ == "__main__":
    main()
