#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0

load helpers

@test "seekmap-range" {
	mkimg f 20M "${LAYOUT[@]}"
	# 4 MiB to 11 MiB: a hole, the 64 KiB extent, a hole, the first
	# 512 KiB of the 2 MiB extent.
	expect_rc 0 "$SEEKMAP" --offset=4M --length=7MiB f
	local want got
	want=$(printf '%s\n' "4194304 1048576 hole" "5242880 65536 data" \
		"5308416 5177344 hole" "10485760 1048576 data")
	got=$(awk '$3 == "data" || $3 == "hole" { print $1, $2, $3 }' "$W/out")
	[ "$got" = "$want" ] || die "range map: ${got//$'\n'/, }"
	grep -qF "bytes 4194304 to 11534336 (7.0 MiB)" "$W/out" ||
		die "no range in the header: $(head -n 1 "$W/out")"
	grep -qF "data 1.1 MiB (1114112 bytes)" "$W/out" ||
		die "range totals: $(tail -n 1 "$W/out")"
	# Past the end of the file: cut at the end.
	expect_rc 0 "$SEEKMAP" --offset=19M --length=1T f
	got=$(awk '$3 == "data" || $3 == "hole" { print $1, $2, $3 }' "$W/out")
	[ "$got" = "19922944 1048576 data" ] || die "tail: $got"
	expect_rc 1 "$SEEKMAP" --offset=21M f
	err_has "is past the end"
	expect_rc 2 "$SEEKMAP" --offset=12X f
	err_has "invalid offset"
	expect_rc 2 "$SEEKMAP" --length=-1 f
}
