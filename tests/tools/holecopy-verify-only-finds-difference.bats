#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0

load helpers

@test "holecopy-verify-only-finds-difference" {
	mkimg src 8M 0:1M 6M:1M
	expect_rc 0 "$HOLECOPY" -q src dst
	expect_rc 0 "$HOLECOPY" --verify-only src dst
	err_has "matches"
	# A byte in a hole of the source.
	printf 'x' | dd of=dst bs=1 seek=3000000 conv=notrunc status=none
	expect_rc 1 "$HOLECOPY" --verify-only src dst
	err_has "differ at byte 3000000"
	# A byte in data.
	expect_rc 0 "$HOLECOPY" -q src dst
	dd if=src bs=1 skip=$((6 * MiB + 77)) count=1 status=none |
		tr '\000-\377' '\001-\377\000' |
		dd of=dst bs=1 seek=$((6 * MiB + 77)) conv=notrunc status=none
	expect_rc 1 "$HOLECOPY" --verify-only src dst
	err_has "differ at byte $((6 * MiB + 77))"
	# A different size.
	expect_rc 0 "$HOLECOPY" -q src dst
	truncate -s +1 dst
	expect_rc 1 "$HOLECOPY" --verify-only src dst
	err_has "has $((8 * MiB + 1)) bytes"
	# Trouble is 2, as with cmp.
	expect_rc 2 "$HOLECOPY" --verify-only src missing
	err_has "No such file or directory"
	[ ! -e missing ] || die "--verify-only created its DST"
	expect_rc 2 "$HOLECOPY" --verify-only missing dst
	mkdir dir
	expect_rc 2 "$HOLECOPY" --verify-only src dir
	expect_rc 2 "$HOLECOPY" --verify-only
	# A failed copy is still 1.
	expect_rc 1 "$HOLECOPY" missing dst
}
