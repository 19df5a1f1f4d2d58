#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0

load helpers

@test "holecopy-over-existing-dst" {
	mkimg src 20M "${LAYOUT[@]}"
	head -c 30M /dev/urandom >dst
	expect_rc 0 "$HOLECOPY" src dst
	[ "$(stat -c %s dst)" = $((20 * MiB)) ] || die "dst size $(stat -c %s dst)"
	same_bytes src dst
	same_map src dst
	# Extended, too.
	mkimg small 1M 0:4K
	expect_rc 0 "$HOLECOPY" src small
	same_bytes src small
	same_map src small
}
