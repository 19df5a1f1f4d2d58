#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
# stripe-seek.py DEVICE [LABEL GOAL]: SEEK_DATA across the 2 GiB hole of a
# striped device with 4 KiB chunks whose only data is its last chunk, vs
# one chunk away.
import os, sys, time
fd = os.open(sys.argv[1], os.O_RDONLY)
label = sys.argv[2] if len(sys.argv) > 2 else "dm-stripe"
goal = float(sys.argv[3]) if len(sys.argv) > 3 else None
size = os.lseek(fd, 0, os.SEEK_END)
def per_call(off, n=500):
    t0 = time.perf_counter()
    for _ in range(n):
        r = os.lseek(fd, off, os.SEEK_DATA)
    return (time.perf_counter() - t0) / n, r
far, r1 = per_call(0)
near, r2 = per_call(size - 8192)
assert r1 == r2 == size - 4096, (r1, r2)
ratio = far / near
met = "" if goal is None else \
    f"; goal <= {goal:g}: {'met' if ratio <= goal else 'NOT met'}"
hole = "2 GiB" if size == 2 << 30 else f"{size / 2**30:.2f} GiB"
print(f"{label} SEEK_DATA across a {hole} hole: {far*1e6:.0f} us; "
      f"one chunk away: {near*1e6:.0f} us; ratio {ratio:.1f} "
      f"(per-chunk walk: ~262000{met})")
