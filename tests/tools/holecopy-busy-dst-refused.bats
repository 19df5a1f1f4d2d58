#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0

load helpers

@test "holecopy-busy-dst-refused" {
	need_root_loop
	command -v python3 >/dev/null || skip "needs python3 to hold O_EXCL"
	mkimg src 1M 0:4K
	mkimg back 4M 0:4M
	cp back back.ref
	local dev pid
	dev=$(loop back)
	python3 "$PY/hold-excl.py" "$dev" held &
	pid=$!
	PIDS+=("$pid")
	for _ in $(seq 100); do
		[ -e held ] && break
		sleep 0.1
	done
	[ -e held ] || { kill "$pid"; die "could not hold $dev"; }
	local rc=0
	"$HOLECOPY" src "$dev" >"$W/out" 2>"$W/err" || rc=$?
	kill "$pid"
	wait "$pid" 2>/dev/null || true
	[ "$rc" = 1 ] || die "exit $rc on a busy device"
	err_has "is busy"
	same_bytes back back.ref
}
