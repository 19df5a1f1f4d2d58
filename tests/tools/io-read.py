#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""io_read (helpers.bash): run CMD with stdout in W/out and stderr in W/err
and print the bytes it read with read(2)/pread(2) (rchar of /proc/PID/io,
taken before its exit is reaped) and its exit status.

Usage: io-read.py W CMD...
"""
import os, sys
w = sys.argv[1]
pid = os.fork()
if pid == 0:
    os.dup2(os.open(w + "/out", os.O_WRONLY | os.O_CREAT | os.O_TRUNC), 1)
    os.dup2(os.open(w + "/err", os.O_WRONLY | os.O_CREAT | os.O_TRUNC), 2)
    os.execvp(sys.argv[2], sys.argv[2:])
os.waitid(os.P_PID, pid, os.WEXITED | os.WNOWAIT)
with open(f"/proc/{pid}/io") as f:
    io = dict(l.split(": ") for l in f.read().splitlines())
_, st = os.waitpid(pid, 0)
print(int(io["rchar"]), os.waitstatus_to_exitcode(st))
