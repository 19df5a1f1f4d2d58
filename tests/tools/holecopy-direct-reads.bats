#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0

load helpers

# holecopy reads a block device's data with O_DIRECT: the copy leaves the
# source's page cache as it found it (empty here), and writes still dirty
# in that cache when it starts are in the copy (the kernel writes them back
# before a direct read).
@test "holecopy-direct-reads" {
	need_root_loop
	command -v python3 >/dev/null || skip "needs python3"
	mkimg back 20M 0:1M 10M:2M
	local dev cached hold
	dev=$(loop back)
	# Held open: the last close of a block device drops its page cache.
	exec {hold}<"$dev"
	blockdev --flushbufs "$dev"
	cached=$(python3 "$PY/cached.py" "$dev") || die "cached.py failed"
	[ "$cached" = 0 ] || die "$cached bytes of $dev cached before the copy"
	expect_rc 0 "$HOLECOPY" -q "$dev" dst1
	same_bytes back dst1
	cached=$(python3 "$PY/cached.py" "$dev") || die "cached.py failed"
	[ "$cached" = 0 ] ||
		die "$cached bytes of $dev in the page cache after the copy: not read directly"
	# New data written through the page cache, not synced: the copy has it.
	dd if=/dev/urandom of="$dev" bs=64K count=3 seek=80 conv=notrunc \
		status=none
	cached=$(python3 "$PY/cached.py" "$dev" dirty) || die "cached.py failed"
	# Without dirty pages left (written back already) the case says so.
	[ "$cached" -gt 0 ] || skip "the write was written back before the copy"
	expect_rc 0 "$HOLECOPY" -q "$dev" dst2
	same_bytes "$dev" dst2
	exec {hold}<&-
	note "no page cache left by the copy; dirty cached writes copied"
}
