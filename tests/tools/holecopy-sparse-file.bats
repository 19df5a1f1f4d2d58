#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0

load helpers

@test "holecopy-sparse-file" {
	mkimg src 20M "${LAYOUT[@]}"
	expect_rc 0 "$HOLECOPY" src dst
	same_bytes src dst
	same_map src dst
	[ "$(blocks dst)" -le "$(blocks src)" ] ||
		die "dst allocates $(blocks dst) bytes, src $(blocks src)"
	err_has "$LAYOUT_DATA bytes data"
	err_has "lseek calls"
}
