#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""holecopy-sigint-exit-130.bats: SIGINT while holecopy copies SRC to DST
(in the current directory): exit 130, a message naming the signal, DST
said INCOMPLETE. Its account in ./py.

Usage: sigint.py HOLECOPY
"""
import os, signal, subprocess, sys
r, w = os.pipe()
p = subprocess.Popen([sys.argv[1], "--progress=%d" % w, "src", "dst"],
                     pass_fds=[w], stderr=open("err", "w"))
os.close(w)
first = os.read(r, 64)
p.send_signal(signal.SIGSTOP)
p.send_signal(signal.SIGINT)
p.send_signal(signal.SIGCONT)
rc = p.wait()
err = open("err").read()
open("py", "w").write(f"exit {rc}, first progress {first!r}, stderr {err!r}")
if b"100/100" in first:
    sys.exit("the copy finished before the signal")
assert rc == 130, (rc, err)
assert "interrupted by signal 2" in err, err
assert "dst is INCOMPLETE" in err, err
