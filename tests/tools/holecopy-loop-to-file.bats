#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0

load helpers

@test "holecopy-loop-to-file" {
	need_root_loop
	mkimg back 20M 0:1M 5M:1M 10M:2M
	local dev
	dev=$(loop back)
	expect_rc 0 "$HOLECOPY" --verify "$dev" dst
	same_bytes back dst
	# Whole MiB extents: sparse on both kernels (zero buffers skipped).
	same_map back dst
	if [ "$(seek_kernel "$dev")" = unpatched ]; then
		err_has "this kernel does not support SEEK_DATA/SEEK_HOLE on block devices; reading every byte"
	else
		err_has "$((4 * MiB)) bytes data"
	fi
}
