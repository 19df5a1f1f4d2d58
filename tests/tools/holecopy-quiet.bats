#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0

load helpers

@test "holecopy-quiet" {
	mkimg src 4M 1M:1M
	expect_rc 0 "$HOLECOPY" --quiet --verify src dst
	[ ! -s "$W/err" ] || die "--quiet printed: $(cat "$W/err")"
	same_bytes src dst
}
