#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0

load helpers

@test "fifo-source-refused" {
	mkfifo fifo
	mkimg f 1M 0:4K
	# A blocking open of a FIFO waits for a writer: time out instead.
	expect_rc 1 timeout 20 "$SEEKMAP" fifo
	err_has "fifo: not a regular file or block device (a FIFO)"
	expect_rc 1 timeout 20 "$HOLECOPY" fifo dst
	err_has "fifo: not a regular file or block device (a FIFO)"
	[ ! -e dst ] || die "a FIFO source created DST"
	expect_rc 1 timeout 20 "$HOLECOPY" f fifo
	err_has "fifo: not a regular file or block device (a FIFO)"
	expect_rc 2 timeout 20 "$HOLECOPY" --verify-only fifo f
	err_has "(a FIFO)"
}
