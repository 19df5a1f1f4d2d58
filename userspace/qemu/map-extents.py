#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""qmap (test-qemu.sh): the data extents of qemu-img map --output=json, as
merged "OFF+LEN" lines.

Usage: map-extents.py MAP_JSON
"""
import json, sys

ext = []
for e in json.load(open(sys.argv[1])):
    if e["data"]:
        if ext and ext[-1][0] + ext[-1][1] == e["start"]:
            ext[-1][1] += e["length"]
        else:
            ext.append([e["start"], e["length"]])
for s, l in ext:
    print(f"{s}+{l}")
