#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
# zram-report.py EMPTY SCATTERED: the zram line from two bench-walk outputs
import sys
(_, te, ce, ee), (_, ts, cs, es) = (a.split() for a in sys.argv[1:3])
assert (ce, ee) == ("1", "0") and es == "1024", (ce, ee, es)
slots = (16 << 30) // 4096
print(f"zram walk of an empty 16 GiB device ({slots} slots, {ce} lseek "
      f"call): {float(te):.2f} s, {float(te) / slots * 1e9:.0f} ns per slot; "
      f"with 1024 scattered pages ({cs} calls): {float(ts):.2f} s")
