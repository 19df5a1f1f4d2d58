#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0

load helpers

@test "holecopy-dst-is-zeroed" {
	need_root_loop
	mkimg src 4M 0:1M
	mkimg back 4M 0:4M
	local dev
	dev=$(loop back)
	expect_rc 0 "$HOLECOPY" --destination-is-zero src "$dev"
	# The holes of src were not zeroed: garbage remains there.
	expect_rc 1 "$HOLECOPY" --verify-only src "$dev"
	err_has "differ at byte $((1 * MiB))"
	# The old name still works.
	expect_rc 0 "$HOLECOPY" --dst-is-zeroed src "$dev"
	expect_rc 1 "$HOLECOPY" --verify-only src "$dev"
	expect_rc 0 "$HOLECOPY" src "$dev"
	expect_rc 0 "$HOLECOPY" --verify-only src "$dev"
}
