#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0

load helpers

@test "holecopy-bad-paths" {
	mkimg src 4M 1M:1M
	mkdir dir
	expect_rc 1 "$HOLECOPY" src dir
	err_has "dir: is a directory"
	expect_rc 1 "$HOLECOPY" src no/such/dir/dst
	err_has "no/such/dir/dst: cannot create: No such file or directory"
	expect_rc 1 "$HOLECOPY" missing dst
	err_has "missing: No such file or directory"
	[ ! -e dst ] || die "a missing SRC created DST"
	expect_rc 1 "$HOLECOPY" /dev/null dst
	err_has "not a regular file or block device"
	expect_rc 1 "$HOLECOPY" src /dev/null
	err_has "not a regular file or block device"
	if [ "$(id -u)" != 0 ]; then
		mkdir ro
		chmod 555 ro
		expect_rc 1 "$HOLECOPY" src ro/dst
		err_has "Permission denied"
	fi
}
