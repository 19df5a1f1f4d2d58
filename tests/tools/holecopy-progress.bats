#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0

load helpers

@test "holecopy-progress" {
	mkimg src 64M 0:1M 20M:8M 63M:1M
	# Machine-readable, as nbdcopy --progress=FD: N/100 lines, rising,
	# ending at 100/100; nothing on stderr but the summary.
	expect_rc 0 "$HOLECOPY" --progress=3 src dst 3>prog
	grep -qvE '^[0-9]+/100$' prog && die "progress lines: $(oneline prog)"
	[ "$(tail -n 1 prog)" = 100/100 ] || die "last line: $(tail -n 1 prog)"
	sort -n -c prog 2>/dev/null || sort -t/ -k1,1n -c prog ||
		die "progress went back: $(oneline prog)"
	grep -q "/100" "$W/err" && die "progress on stderr: $(oneline "$W/err")"
	same_bytes src dst
	# For people: an ETA, and data counted once copied (10 MiB at the
	# end, never more).
	expect_rc 0 "$HOLECOPY" --progress src dst2
	tr '\r' '\n' <"$W/err" | grep -F "ETA" >lines || die "no ETA: $(oneline "$W/err")"
	tail -n 1 lines | grep -qF "copy 64.0 MiB / 64.0 MiB (100%), data 10.0 MiB copied" ||
		die "last line: $(tail -n 1 lines)"
	# Verify too.
	expect_rc 0 "$HOLECOPY" --verify-only --progress=3 src dst 3>vprog
	[ "$(tail -n 1 vprog)" = 100/100 ] || die "verify progress: $(oneline vprog)"
}
