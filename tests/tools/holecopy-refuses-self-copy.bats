#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0

load helpers

@test "holecopy-refuses-self-copy" {
	mkimg src 4M 1M:1M
	cp src ref
	ln src hard
	ln -s src sym
	expect_rc 1 "$HOLECOPY" src src
	err_has "are the same file"
	expect_rc 1 "$HOLECOPY" src hard
	err_has "are the same file"
	expect_rc 1 "$HOLECOPY" sym src
	err_has "are the same file"
	expect_rc 1 "$HOLECOPY" src ./sym
	err_has "are the same file"
	same_bytes src ref
}
