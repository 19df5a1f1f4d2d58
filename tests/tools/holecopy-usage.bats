#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0

load helpers

@test "holecopy-usage" {
	expect_rc 2 "$HOLECOPY"
	expect_rc 2 "$HOLECOPY" onlyone
	expect_rc 2 "$HOLECOPY" a b c
	expect_rc 2 "$HOLECOPY" --frobnicate a b
	err_has "unknown option"
	expect_rc 0 "$HOLECOPY" --help
	grep -qF "usage: holecopy" "$W/out" || die "no usage on stdout"
	grep -qF -- "--destination-is-zero" "$W/out" || die "--help lacks --destination-is-zero"
	expect_rc 2 "$HOLECOPY" --progress=99 a b
	err_has "not an open file descriptor"
	expect_rc 2 "$HOLECOPY" --progress=x a b
}
