#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""harness/demo: A and B have the same size and bytes (8 MiB reads: cmp
reads 4 KiB at a time, slow under emulation). Exits non-zero saying where
they differ.

Usage: harness/same-bytes.py A B
"""
import os, sys
a, b = (os.open(p, os.O_RDONLY) for p in sys.argv[1:3])
size = os.lseek(a, 0, os.SEEK_END)
if size != os.lseek(b, 0, os.SEEK_END):
    sys.exit("sizes differ")
for off in range(0, size, 8 << 20):
    if os.pread(a, 8 << 20, off) != os.pread(b, 8 << 20, off):
        sys.exit(f"differ in the 8 MiB at {off}")
