#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
# p4-image.py IMAGE: writes IMAGE, 4 KiB of data every 8 KiB, 100000 times
import os, sys
fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o600)
os.ftruncate(fd, 100000 * 8192)
buf = b"\x5a" * 4096
for i in range(100000):
    os.pwrite(fd, buf, i * 8192)
os.close(fd)
