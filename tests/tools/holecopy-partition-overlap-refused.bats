#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0

load helpers

@test "holecopy-partition-overlap-refused" {
	need_root_loop
	command -v sfdisk >/dev/null || skip "needs sfdisk"
	mkimg disk 16M
	printf 'label: gpt\n,4M\n,4M\n' | sfdisk -q disk >/dev/null 2>&1 ||
		skip "sfdisk failed"
	local dev n p ma mi
	dev=$(losetup -f --show -P disk) || die "losetup -P failed"
	bound "$dev"
	n=${dev#/dev/}
	for p in 1 2; do
		for _ in $(seq 20); do
			[ -e "/sys/block/$n/${n}p$p/dev" ] && break
			sleep 0.1
		done
		[ -e "/sys/block/$n/${n}p$p/dev" ] || skip "no partitions appear here"
		# Our own nodes: udev may not run (containers).
		IFS=: read -r ma mi <"/sys/block/$n/${n}p$p/dev"
		mknod "p$p" b "$ma" "$mi"
	done
	expect_rc 1 "$HOLECOPY" p1 "$dev"
	err_has "overlap on the same disk"
	expect_rc 1 "$HOLECOPY" "$dev" p2
	err_has "overlap on the same disk"
	expect_rc 0 "$HOLECOPY" p1 p2
}
