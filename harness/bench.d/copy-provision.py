#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
# harness/bench-copy: provision PERCENT of the 64 KiB blocks of the thin
# volume DEV at random places (seeded by PERCENT) with random data, each
# block stamped with its number; write their "offset length" lines, in
# order, to EXTENTS (the physical-limit read's list).
# Usage: copy-provision.py DEV PERCENT EXTENTS
import mmap
import os
import random
import sys

path, pct, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
BS = 64 << 10
fd = os.open(path, os.O_RDWR | os.O_DIRECT)
nblocks = os.lseek(fd, 0, os.SEEK_END) // BS
buf = mmap.mmap(-1, BS)
buf.write(os.urandom(BS))
rng = random.Random(pct)
blocks = sorted(rng.sample(range(nblocks), nblocks * pct // 100))
for b in blocks:
    buf[:8] = b.to_bytes(8, "little")
    os.pwritev(fd, [buf], b * BS)
os.fsync(fd)
os.close(fd)
with open(out, "w") as f:
    for b in blocks:
        f.write(f"{b * BS} {BS}\n")
