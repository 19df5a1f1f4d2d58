#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0

load helpers

@test "holecopy-backing-file-odd-name" {
	need_root_loop
	local name=$'back ing\nfile'
	mkimg "$name" 4M 0:1M
	mkimg other 4M 0:4M
	cp "$name" ref
	loop "$name" >/dev/null
	expect_rc 1 "$HOLECOPY" other "$name"
	err_has "is the backing file of /dev/loop"
	same_bytes "$name" ref
}
