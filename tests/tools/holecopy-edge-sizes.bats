#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0

load helpers

@test "holecopy-edge-sizes" {
	mkimg empty 0
	mkimg hole 7M
	mkimg full 3M 0:3M
	mkimg odd 3146505 0:100 2098386:5000 3146000:505
	mkimg tail 5M 4M:1M
	local f
	for f in empty hole full odd tail; do
		expect_rc 0 "$HOLECOPY" --verify "$f" "$f.copy"
		same_bytes "$f" "$f.copy"
		same_map "$f" "$f.copy"
	done
	[ "$(blocks hole.copy)" = 0 ] || die "hole.copy allocates $(blocks hole.copy)"
}
