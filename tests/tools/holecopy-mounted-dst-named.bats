#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0

load helpers

@test "holecopy-mounted-dst-named" {
	need_root_loop
	command -v mkfs.ext4 >/dev/null || skip "needs mkfs.ext4"
	command -v sfdisk >/dev/null || skip "needs sfdisk"
	mkimg src 1M 0:4K
	mkimg disk 64M
	printf 'label: gpt\n,16M\n,16M\n' | sfdisk -q disk >/dev/null 2>&1 ||
		skip "sfdisk failed"
	local dev n ma mi mnt
	dev=$(losetup -f --show -P disk) || die "losetup -P failed"
	bound "$dev"
	n=${dev#/dev/}
	for _ in $(seq 20); do
		[ -e "/sys/block/$n/${n}p2/dev" ] && break
		sleep 0.1
	done
	[ -e "/sys/block/$n/${n}p2/dev" ] || skip "no partitions appear here"
	IFS=: read -r ma mi <"/sys/block/$n/${n}p2/dev"
	mknod p2 b "$ma" "$mi"
	mkfs.ext4 -q p2 || die "mkfs.ext4 failed"
	# mountinfo escapes the blank and the backslash as \040 and \134.
	mnt="$W/mnt point\\x"
	mkdir "$mnt"
	mount p2 "$mnt" 2>/dev/null || skip "cannot mount ext4 here"
	local rc1=0 rc2=0
	"$HOLECOPY" src p2 >"$W/out" 2>"$W/err.p2" || rc1=$?
	"$HOLECOPY" src "$dev" >"$W/out" 2>"$W/err.disk" || rc2=$?
	umount "$mnt"
	[ "$rc1" = 1 ] && [ "$rc2" = 1 ] || die "exit $rc1 and $rc2 on mounted devices"
	grep -qF "p2 is mounted (on $mnt)" "$W/err.p2" ||
		die "partition: $(oneline "$W/err.p2")"
	# The whole disk: one of its partitions is mounted.
	grep -qF "$dev is mounted (on $mnt)" "$W/err.disk" ||
		die "disk: $(oneline "$W/err.disk")"
}
