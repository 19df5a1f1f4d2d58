#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
# zram-write.py DEVICE: writes 1024 scattered pages to the 16 GiB zram
import mmap, os, random, sys
fd = os.open(sys.argv[1], os.O_WRONLY | os.O_DIRECT)
buf = mmap.mmap(-1, 4096)
buf.write(bytes(random.Random(1).randrange(1, 256) for _ in range(4096)))
pages = (16 << 30) // 4096
for i in range(1024):
    os.pwrite(fd, buf, (i * pages // 1024 + 7) * 4096)
os.close(fd)
