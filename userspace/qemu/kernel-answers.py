#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""kernel_answers (test-qemu.sh): "patched" if lseek(SEEK_DATA) works on
DEV, "unpatched" if it fails with EINVAL; the kernel's own answer, not
QEMU's.

Usage: kernel-answers.py DEV
"""
import errno, os, sys

fd = os.open(sys.argv[1], os.O_RDONLY)
try:
    os.lseek(fd, 0, os.SEEK_DATA)
    print("patched")
except OSError as e:
    print("unpatched" if e.errno == errno.EINVAL else
          "patched" if e.errno == errno.ENXIO else "error " + str(e))
