#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0

load helpers

@test "holecopy-file-to-loop" {
	need_root_loop
	mkimg src 3146505 0:100 1M:1M 2098386:5000
	# Garbage in some places of the destination, holes elsewhere.
	mkimg back 8M 0:2M 3M:1M 6M:2M
	local dev
	dev=$(loop back)
	expect_rc 0 "$HOLECOPY" --verify src "$dev"
	cmp -n 3146505 src "$dev" >/dev/null || die "$dev differs from src"
	err_has "matches"
	err_has "is larger than src"
	# The bytes past the end of src are left alone.
	cmp -i 3146505 back "$dev" >/dev/null ||
		die "bytes past the end of src changed"
}
