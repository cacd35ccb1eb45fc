#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
# A stand-in for a running VM's supervisor, for tests/metrics without QEMU:
# listens on RUN/NAME/control.sock and answers "status" the way
# run/supervisor.c does, naming this process as "QEMU" (so /proc has real
# figures) and no QMP socket. Prints "ready" once listening; removes its
# socket and folder on SIGTERM, and leaves by itself after 120 s.
#   fake-vm.py RUN_DIR NAME
import os, signal, socket, sys

run, name = sys.argv[1], sys.argv[2]
d = os.path.join(run, name)
os.makedirs(run, 0o755, exist_ok=True)
os.mkdir(d, 0o700)
path = os.path.join(d, "control.sock")
s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
s.bind(path)
s.listen(4)


def bye(*_):
    try:
        os.unlink(path)
        os.rmdir(d)
    finally:
        os._exit(0)


signal.signal(signal.SIGTERM, bye)
signal.signal(signal.SIGALRM, bye)
signal.alarm(120)
print("ready", flush=True)
while True:
    c, _ = s.accept()
    msg = c.recv(256)
    if msg.rstrip(b"\0") == b"status":
        c.send(('{"name":"%s","state":"running","launcher_pid":%d,"qemu_pid":%d,"qmp":"","detail":""}'
                % (name, os.getpid(), os.getpid())).encode())
    c.close()
