#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0

load helpers

@test "holecopy-keeps-source-mode" {
	mkimg src 1M 0:4K
	chmod 600 src
	(umask 022; "$HOLECOPY" -q src dst) || die "copy failed"
	[ "$(stat -c %a dst)" = 600 ] || die "0600 source gave $(stat -c %a dst)"
	chmod 755 src
	(umask 077; "$HOLECOPY" -q src dst2) || die "copy failed"
	[ "$(stat -c %a dst2)" = 700 ] || die "0755 source, umask 077 gave $(stat -c %a dst2)"
	# An existing destination keeps its own mode, as with cp.
	chmod 644 dst
	"$HOLECOPY" -q src dst || die "copy failed"
	[ "$(stat -c %a dst)" = 644 ] || die "existing dst became $(stat -c %a dst)"
}
