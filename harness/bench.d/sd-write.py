#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
# sd-write.py DEVICE: writes 1024 scattered 4 KiB blocks to the 256 MiB disk
import mmap, os, sys
fd = os.open(sys.argv[1], os.O_WRONLY | os.O_DIRECT)
buf = mmap.mmap(-1, 4096)
buf.write(b"\xa5" * 4096)
blocks = (256 << 20) // 4096
for i in range(1024):
    os.pwrite(fd, buf, (i * (blocks // 1024) + 7) * 4096)
os.close(fd)
