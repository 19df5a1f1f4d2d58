#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""seekmap-json.bats: seekmap --json on a file with an odd name, a small
file, a missing one and one whose name is not UTF-8.

Usage: seekmap-json.py JSON_FILE ODD_NAME NOT_UTF8_NAME
"""
import json, os, sys
doc = json.load(open(sys.argv[1]))
assert isinstance(doc, list) and len(doc) == 4, doc
a, b, m, c = doc
assert a["path"] == sys.argv[2], a["path"]
assert "path_bytes" not in a
assert a["size"] == 3 << 20 and a["offset"] == 0 and a["length"] == 3 << 20
assert a["extents"] == [
	{"offset": 0, "length": 1 << 20, "type": "hole"},
	{"offset": 1 << 20, "length": 4096, "type": "data"},
	{"offset": (1 << 20) + 4096, "length": (2 << 20) - 4096, "type": "hole"},
], a["extents"]
assert a["data_bytes"] == 4096 and a["hole_bytes"] == (3 << 20) - 4096
assert a["lseek_calls"] == 3, a["lseek_calls"]
assert b["extents"] == [{"offset": 0, "length": 1000, "type": "data"}], b
assert m["path"] == "missing" and "No such file" in m["error"], m
# Not UTF-8: readable in "path", exact in "path_bytes".
want = os.fsencode(sys.argv[3])
assert bytes(c["path_bytes"]) == want, c
assert c["path"] == want.decode("utf-8", "replace"), c["path"]
assert c["extents"] == [{"offset": 0, "length": 4096, "type": "hole"}], c
