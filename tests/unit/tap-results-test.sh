#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Host test of harness/tap-results (make unit, through CTest): a report as
# tests/main.cc writes it (a pass, a skip with its reason, a failure with
# two messages, an Unchanged* case, a told one), a bats one (a failure
# with "#" diagnostics), a kselftest one nested under its runner; then the
# faulty reports: no plan (cut short), fewer cases than planned, a bail
# out, a YAML block never closed, no case at all, no file.
# Usage: tests/unit/tap-results-test.sh HARNESS/tap-results
set -euo pipefail
reader=${1:?usage: $0 TAP_RESULTS}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
fail() { echo "tap-results-test: $*" >&2; exit 1; }

# expect NAME WANT-STATUS WANT-OUTPUT [OPTIONS...]: the reader's output and
# exit status on $dir/NAME.tap.
expect() {
	local name=$1 want_rc=$2 want=$3 got rc=0
	shift 3
	got=$("$reader" "$@" "$dir/$name.tap") || rc=$?
	[ "$rc" = "$want_rc" ] || fail "$name: exit $rc, expected $want_rc; output:"$'\n'"$got"
	[ "$got" = "$want" ] || fail "$name: output:"$'\n'"$got"$'\n'"expected:"$'\n'"$want"
}

cat >"$dir/gtest.tap" <<'EOF'
TAP version 13
ok 1 LoopMap.Pass
  ---
  kind: map
  duration_ms: 1500
  ...
ok 2 LoopMap.Skip # SKIP no scsi_debug here
  ---
  kind: map
  duration_ms: 0
  ...
not ok 3 LoopMap.Fail
  ---
  kind: map
  duration_ms: 3000
  properties:
    seed: "42"
  failures:
    - |
      tests/x.cc:20
      Value of: MapIs(fd, size, want)
      device map [0,4096)
    - |
      tests/x.cc:31
      ...
  ...
ok 4 Label/UnchangedErrno.Einval/0
  ---
  kind: unchanged
  duration_ms: 0
  ...
ok 5 Told.Kernel
  ---
  kind: told
  duration_ms: 0
  properties:
    expect_kernel: "patched"
  ...
1..5
EOF
expect gtest 1 'pass map LoopMap.Pass
skip map LoopMap.Skip no scsi_debug here
fail map LoopMap.Fail tests/x.cc:20 | Value of: MapIs(fd, size, want) | device map [0,4096) | tests/x.cc:31 | ...
pass unchanged Label/UnchangedErrno.Einval/0
pass told Told.Kernel
slowest: LoopMap.Fail 3 s, LoopMap.Pass 2 s, Told.Kernel 0 s, LoopMap.Skip 0 s, Label/UnchangedErrno.Einval/0 0 s
3 passed, 1 failed, 1 skipped' --field kind --slowest 8
# Without options: no kind, no times.
expect gtest 1 'pass LoopMap.Pass
skip LoopMap.Skip no scsi_debug here
fail LoopMap.Fail tests/x.cc:20 | Value of: MapIs(fd, size, want) | device map [0,4096) | tests/x.cc:31 | ...
pass Label/UnchangedErrno.Einval/0
pass Told.Kernel
3 passed, 1 failed, 1 skipped'

# bats --tap: the plan first, a passing case's output (its note, the last
# line) and a failure's diagnostics as "#" lines; a skip without a reason.
cat >"$dir/bats.tap" <<'EOF'
1..4
ok 1 seekmap-table
# a line
# 8 lseek calls
not ok 2 holecopy-quiet
# (in test file tests/tools/holecopy-quiet.bats, line 9)
#   `die "--quiet printed: x"' failed
# --quiet printed: x
ok 3 holecopy-usage # skip needs root
ok 4 kernel-as-expected # SKIP
EOF
expect bats 1 'pass seekmap-table 8 lseek calls
fail holecopy-quiet (in test file tests/tools/holecopy-quiet.bats, line 9) | `die "--quiet printed: x"'"'"' failed | --quiet printed: x
skip holecopy-usage needs root
skip kernel-as-expected
1 passed, 1 failed, 2 skipped'

# kselftest under its runner: the test's own TAP is the "# " lines.
cat >"$dir/kselftest.tap" <<'EOF'
TAP version 13
1..1
# timeout set to 2400
# selftests: block_seek_hole: seek_hole_data
# TAP version 13
# 1..3
# # Starting 3 tests from 2 test cases.
# #  RUN           loop.basic ...
# #            OK  loop.basic
# ok 1 loop.basic
# ok 2 sd.lbprz # SKIP no scsi_debug module
# #  RUN           ram.grow ...
# # seek_hole_data.c:88:grow:Expected 4096 (4096) == off (0)
# #          FAIL  ram.grow
# not ok 3 ram.grow
# # FAILED: 2 / 3 tests passed.
# # Totals: pass:1 fail:1 xfail:0 xpass:0 skip:1 error:0
not ok 1 selftests: block_seek_hole: seek_hole_data # exit=1
EOF
expect kselftest 1 'pass loop.basic
skip sd.lbprz no scsi_debug module
fail ram.grow RUN ram.grow ... | seek_hole_data.c:88:grow:Expected 4096 (4096) == off (0) | FAIL ram.grow
1 passed, 1 failed, 1 skipped' --subtest --diag-before
# Read at the top level it is the runner's one case.
expect kselftest 1 'fail selftests:_block_seek_hole:_seek_hole_data
0 passed, 1 failed, 0 skipped'

# Cut short: no plan (tests/main.cc writes it last).
printf 'TAP version 13\nok 1 A.a\n  ---\n  kind: map\n  ...\n' >"$dir/cut.tap"
expect cut 2 'pass A.a
error no plan: the report is incomplete (1 cases)
1 passed, 1 failed, 0 skipped'
# Fewer cases than planned (bats plans first).
printf '1..3\nok 1 a\nok 2 b\n' >"$dir/short.tap"
expect short 2 'pass a
pass b
error planned 3 cases, ran 2
2 passed, 1 failed, 0 skipped'
# A bail out ends the report.
printf '1..2\nok 1 a\nBail out! no loop devices\nok 2 b\n' >"$dir/bail.tap"
expect bail 2 'pass a
error bail out: no loop devices
error planned 2 cases, ran 1
1 passed, 2 failed, 0 skipped'
# A YAML block never closed.
printf 'ok 1 a\n  ---\n  kind: map\n' >"$dir/yaml.tap"
expect yaml 2 'pass a
error the report ends inside the YAML block of a
error no plan: the report is incomplete (1 cases)
1 passed, 2 failed, 0 skipped'
# Out of order.
printf '1..2\nok 2 a\nok 1 b\n' >"$dir/order.tap"
expect order 2 'pass a
pass b
error case 1 is numbered 2
error case 2 is numbered 1
2 passed, 2 failed, 0 skipped'
# No case ran.
printf 'TAP version 13\n1..0\n' >"$dir/none.tap"
expect none 3 'error no test case ran
0 passed, 1 failed, 0 skipped'
# No report at all.
expect missing 2 "error cannot read $dir/missing.tap: No such file or directory
0 passed, 1 failed, 0 skipped"
echo "tap-results-test: ok"
