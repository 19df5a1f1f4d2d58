#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0
# EXPECT_KERNEL=patched|unpatched: the cases below accept either kernel;
# this one holds the run to the kernel it is meant for.

load helpers

@test "kernel-as-expected" {
	[ -n "${EXPECT_KERNEL:-}" ] || skip "EXPECT_KERNEL is not set"
	need_root_loop
	mkimg back 4M 0:1M
	local dev k
	dev=$(loop back)
	k=$(seek_kernel "$dev")
	[ "$k" = "$EXPECT_KERNEL" ] ||
		die "the kernel answers as $k, expected $EXPECT_KERNEL"
	note "$k kernel"
}
