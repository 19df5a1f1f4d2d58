#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0

load helpers

@test "seekmap-loop-device" {
	need_root_loop
	mkimg back 20M 0:1M 5M:1M 10M:2M
	local dev
	dev=$(loop back)
	if [ "$(seek_kernel "$dev")" = patched ]; then
		expect_rc 0 "$SEEKMAP" "$dev"
		same_map back "$dev"
		note "patched kernel: map read"
	else
		expect_rc 1 "$SEEKMAP" "$dev"
		err_has "this kernel does not support SEEK_DATA/SEEK_HOLE on block devices"
		expect_rc 1 "$SEEKMAP" --json "$dev"
		err_has "this kernel does not support SEEK_DATA/SEEK_HOLE on block devices"
		# Still one JSON document: an entry with the error, no extents.
		python3 "$PY/json-one.py" "$W/out" --error 2>/dev/null ||
			die "--json on a failed map: $(oneline "$W/out")"
		note "unpatched kernel: EINVAL reported"
	fi
}
