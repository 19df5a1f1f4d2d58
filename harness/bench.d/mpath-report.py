#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
# mpath-report.py WALK: the multipath line from bench-walk's multipath and
# path lines
import sys
(mp, tm, cm, em), (p, tp, cp, ep) = (l.split() for l in sys.argv[1].splitlines())
assert (cm, em) == (cp, ep) and em == "1024", (cm, em, cp, ep)
r = float(tm) / float(tp)
met = "met" if r <= 1.3 else "NOT met"
print(f"dm-multipath map walk, 2 scsi_debug paths, {em} extents ({cm} lseek "
      f"calls): multipath {float(tm)*1e3:.1f} ms, path {float(tp)*1e3:.1f} ms; "
      f"ratio {r:.2f} (goal <= 1.3: {met})")
