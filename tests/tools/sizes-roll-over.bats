#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0

load helpers

@test "sizes-roll-over" {
	# A value that would round to 1024.0 of a unit is shown in the next.
	mkimg t $(((1 << 40) - 1))
	expect_rc 0 "$SEEKMAP" t
	grep -qF "t: 1.0 TiB" "$W/out" || die "$(head -n 1 "$W/out")"
	grep -qF "1024.0" "$W/out" && die "1024.0 shown: $(oneline "$W/out")"
	mkimg m $(((1 << 20) - 10))
	expect_rc 0 "$SEEKMAP" m
	grep -qF "m: 1.0 MiB" "$W/out" || die "$(head -n 1 "$W/out")"
	mkimg p $((1 << 50))
	expect_rc 0 "$SEEKMAP" p
	grep -qF "p: 1.0 PiB" "$W/out" || die "$(head -n 1 "$W/out")"
}
