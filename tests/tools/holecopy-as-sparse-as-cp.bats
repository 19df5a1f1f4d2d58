#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0

load helpers

@test "holecopy-as-sparse-as-cp" {
	# Zero blocks among data, at 4 KiB granularity, as cp --sparse=always
	# finds them: the default copy is as sparse as cp's.
	mkimg src 8M 0:1M 3M:2M 7M:1M
	local off
	for off in 4096 65536 $((3 * MiB + 8192)) $((4 * MiB)) $((7 * MiB + 12288)); do
		dd if=/dev/zero of=src bs=4096 count=1 seek=$((off / 4096)) \
			conv=notrunc status=none
	done
	dd if=/dev/zero of=src bs=4096 count=64 seek=$((4 * MiB / 4096 + 1)) \
		conv=notrunc status=none
	expect_rc 0 "$HOLECOPY" src dst
	cp --sparse=always src cp.dst
	same_bytes src dst
	same_bytes src cp.dst
	[ "$(blocks dst)" -le "$(blocks cp.dst)" ] ||
		die "holecopy allocates $(blocks dst) bytes, cp --sparse=always $(blocks cp.dst)"
	[ "$(blocks dst)" -lt "$(blocks src)" ] ||
		die "the zero blocks were written: $(blocks dst) of $(blocks src)"
	note "holecopy $(blocks dst), cp $(blocks cp.dst), source $(blocks src) bytes allocated"
}
