#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0

load helpers

@test "holecopy-zero-data-stays-sparse" {
	# Written zeros are data to lseek; every copy path leaves them out
	# of the copy, in blocks of the destination's block size.
	mkimg src 16M 9M:4K
	dd if=/dev/zero of=src bs=1M count=8 conv=notrunc status=none
	local how
	for how in "" --no-copy-range; do
		rm -f dst
		expect_rc 0 "$HOLECOPY" $how src dst
		same_bytes src dst
		[ "$(blocks dst)" -le $((1 * MiB)) ] ||
			die "${how:-default}: dst allocates $(blocks dst) bytes for 4 KiB of data"
		err_has "zeros, not copied"
	done
}
