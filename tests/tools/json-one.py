#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""seekmap --json for one path: one entry, with that path (--path P), or
an entry with the error and no extents (--error).

Usage: json-one.py JSON_FILE --path P | --error
"""
import json, sys

d = json.load(open(sys.argv[1]))
if sys.argv[2] == "--path":
    assert len(d) == 1 and d[0]["path"] == sys.argv[3], d
elif sys.argv[2] == "--error":
    assert len(d) == 1 and "error" in d[0] and "extents" not in d[0], d
else:
    sys.exit("usage: json-one.py JSON_FILE --path P | --error")
