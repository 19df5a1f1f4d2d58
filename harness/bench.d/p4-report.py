#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
# p4-report.py WALK: the loop line from bench-walk's device and file lines
import sys
lines = sys.argv[1].splitlines()
(dev, tl, cl, el), (f, tf, cf, ef) = (l.split() for l in lines)
assert (cl, el) == (cf, ef) == ("200001", "100000"), (cl, el, cf, ef)
r = float(tl) / float(tf)
met = "met" if r <= 1.1 else "NOT met"
print(f"loop map walk, 100000 extents ({cl} lseek calls): loop device "
      f"{float(tl)*1e3:.0f} ms, backing file {float(tf)*1e3:.0f} ms; "
      f"ratio {r:.2f} (goal <= 1.1: {met})")
