#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0

load helpers

@test "holecopy-enospc-midway-says-incomplete" {
	[ "$(id -u)" = 0 ] || skip "needs root to mount a small tmpfs"
	mkdir mnt
	mount -t tmpfs -o size=2M tmpfs mnt 2>/dev/null || skip "cannot mount tmpfs"
	mkimg src 8M 0:1M 4M:4M
	local rc=0
	"$HOLECOPY" src mnt/dst >"$W/out" 2>"$W/err" || rc=$?
	umount mnt
	[ "$rc" = 1 ] || die "exit $rc on a full file system"
	err_has "No space left on device"
	err_has "mnt/dst is INCOMPLETE: only its first"
}
