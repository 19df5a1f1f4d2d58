#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0

load helpers

@test "holecopy-loop-refusals" {
	need_root_loop
	mkimg src 8M 0:1M
	mkimg small 4M 0:4M
	mkimg other 8M 0:8M
	cp small small.ref
	cp src src.ref
	local dsmall dsrc dother
	dsmall=$(loop small)
	dsrc=$(loop src)
	dother=$(loop other)
	expect_rc 1 "$HOLECOPY" src "$dsmall"
	err_has "is smaller than src"
	same_bytes small small.ref
	expect_rc 1 "$HOLECOPY" "$dsrc" "$dsrc"
	err_has "are the same device"
	expect_rc 1 "$HOLECOPY" src "$dsrc"
	err_has "is a loop device backed by src"
	expect_rc 1 "$HOLECOPY" "$dsrc" src
	err_has "is a loop device backed by src"
	expect_rc 1 "$HOLECOPY" other src
	err_has "src is the backing file of $dsrc"
	same_bytes src src.ref
	[ -e "$dother" ] || die "$dother vanished"
}
