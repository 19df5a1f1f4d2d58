#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
# Print how many bytes of PATH (a file or block device) are in the page
# cache, from cachestat(2) (Linux 6.5; x86-64 syscall 451) over the whole
# of it: fincore and mincore do not see a block device's cache.
# Usage: cached.py PATH [dirty]   (dirty: the bytes of dirty pages instead)
import ctypes
import mmap
import os
import sys


class Range(ctypes.Structure):
    _fields_ = [("off", ctypes.c_uint64), ("len", ctypes.c_uint64)]


class Stat(ctypes.Structure):
    _fields_ = [("nr_cache", ctypes.c_uint64), ("nr_dirty", ctypes.c_uint64),
                ("nr_writeback", ctypes.c_uint64),
                ("nr_evicted", ctypes.c_uint64),
                ("nr_recently_evicted", ctypes.c_uint64)]


fd = os.open(sys.argv[1], os.O_RDONLY)
libc = ctypes.CDLL(None, use_errno=True)
rng, st = Range(0, 0), Stat()  # length 0: to the end
if libc.syscall(451, fd, ctypes.byref(rng), ctypes.byref(st), 0) != 0:
    sys.exit(f"cachestat {sys.argv[1]}: "
             f"{os.strerror(ctypes.get_errno())}")
pages = st.nr_dirty if sys.argv[2:] == ["dirty"] else st.nr_cache
print(pages * mmap.PAGESIZE)
