#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0

load helpers

@test "seekmap-table" {
	mkimg f 20M "${LAYOUT[@]}"
	expect_rc 0 "$SEEKMAP" f
	local want got
	want=$(printf '%s\n' "0 1048576 data" "1048576 4194304 hole" \
		"5242880 65536 data" "5308416 5177344 hole" \
		"10485760 2097152 data" "12582912 7340032 hole" \
		"19922944 1048576 data")
	got=$(awk '$3 == "data" || $3 == "hole" { print $1, $2, $3 }' "$W/out")
	[ "$got" = "$want" ] || die "map: ${got//$'\n'/, }"
	grep -qF "(1.0 MiB)" "$W/out" || die "no human-readable sizes"
	grep -qF "data 4.1 MiB ($LAYOUT_DATA bytes), holes" "$W/out" ||
		die "totals: $(tail -n 1 "$W/out")"
	grep -qF "8 lseek calls" "$W/out" || die "lseek calls: $(tail -n 1 "$W/out")"
}
