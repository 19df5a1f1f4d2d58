#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0

load helpers

@test "holecopy-read-write" {
	mkimg src 20M "${LAYOUT[@]}"
	expect_rc 0 "$HOLECOPY" --no-copy-range --verify src dst
	same_bytes src dst
	same_map src dst
	err_has "matches"
}
