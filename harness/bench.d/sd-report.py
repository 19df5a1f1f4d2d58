#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
# sd-report.py EMPTY SCATTERED NE NS: the sd line (walks; commands of 3 each)
import sys
(_, te, ce, ee), (_, ts, cs, es) = (a.split() for a in sys.argv[1:3])
ne, ns = int(sys.argv[3]) / 3, int(sys.argv[4]) / 3  # 3 walks each
assert ee == "0" and es == "1024", (ee, es)
holes = int(es) + 1
print(f"sd (scsi_debug, one descriptor per command) walk of an empty 256 MiB "
      f"disk: {ce} lseek calls, {ne:.0f} GET LBA STATUS; with 1024 scattered "
      f"4 KiB blocks ({int(es) + holes} extents, {cs} lseek calls): "
      f"{ns:.0f} commands, {ns / (int(es) + holes):.2f} per extent, "
      f"{ns / int(cs):.2f} per lseek, {float(ts) / int(cs) * 1e6:.0f} us "
      f"per lseek")
