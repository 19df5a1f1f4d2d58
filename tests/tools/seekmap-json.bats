#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0

load helpers

@test "seekmap-json" {
	command -v python3 >/dev/null || skip "needs python3"
	local name=$'we"ird\\ \tname\n.img' bad=$'not\xffutf8\x80.img'
	mkimg "$name" 3M 1M:4K
	mkimg g 1000 0:1000
	mkimg "$bad" 4K
	expect_rc 1 "$SEEKMAP" --json "$name" g missing "$bad"
	# One document that json.tool accepts, whatever the names.
	python3 -m json.tool "$W/out" >/dev/null ||
		die "json.tool rejects: $(oneline "$W/out")"
	python3 "$PY/seekmap-json.py" "$W/out" "$name" "$bad"
	expect_rc 0 "$SEEKMAP" --json g
	python3 "$PY/json-one.py" "$W/out" --path g ||
		die "one path: $(oneline "$W/out")"
}
