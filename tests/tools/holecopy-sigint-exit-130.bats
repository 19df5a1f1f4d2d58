#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0

load helpers

@test "holecopy-sigint-exit-130" {
	command -v python3 >/dev/null || skip "needs python3"
	# Enough data that the copy is still running when the signal comes:
	# the progress FD says it started; SIGSTOP holds it meanwhile.
	mkimg src 256M 0:256M
	python3 "$PY/sigint.py" "$HOLECOPY" || die "$(cat "$W/py" 2>/dev/null)"
	note "$(cat py)"
}
