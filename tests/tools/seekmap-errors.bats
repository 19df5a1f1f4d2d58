#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0

load helpers

@test "seekmap-errors" {
	expect_rc 1 "$SEEKMAP" does-not-exist
	err_has "does-not-exist: No such file or directory"
	mkdir d
	expect_rc 1 "$SEEKMAP" d
	err_has "not a regular file or block device (a directory)"
	mkimg f 1M
	# The good path is still printed; the exit status reports the bad one.
	expect_rc 1 "$SEEKMAP" f does-not-exist
	grep -qF "f: 1.0 MiB" "$W/out" || die "f was not printed"
	expect_rc 2 "$SEEKMAP"
	expect_rc 2 "$SEEKMAP" --frobnicate f
	expect_rc 0 "$SEEKMAP" --help
	grep -qF "usage: seekmap" "$W/out" || die "no usage on stdout"
	expect_rc 0 "$SEEKMAP" -- f
}
