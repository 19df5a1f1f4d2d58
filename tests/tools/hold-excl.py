#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""holecopy-busy-dst-refused.bats: hold DEV open with O_EXCL for 30 s,
creating FLAG once it is held.

Usage: hold-excl.py DEV FLAG
"""
import os, sys, time

fd = os.open(sys.argv[1], os.O_RDONLY | os.O_EXCL)
open(sys.argv[2], "w").close()
time.sleep(30)
