#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Host test of harness/gtest-results (make unit, through CTest): a report
# with a pass, a skip with its reason, a failure after the skip, a case of
# an Unchanged* suite and one that was told the kernel; then a report with
# no case that ran, and one that cannot be read.
# Usage: tests/unit/gtest-results-test.sh HARNESS/gtest-results
set -euo pipefail
reader=${1:?usage: $0 GTEST_RESULTS}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
fail() { echo "gtest-results-test: $*" >&2; exit 1; }

cat >"$dir/r.xml" <<'XML'
<?xml version="1.0" encoding="UTF-8"?>
<testsuites>
  <testsuite name="LoopMap">
    <testcase name="Pass" status="run" result="completed" time="1.5" classname="LoopMap"/>
    <testcase name="Skip" status="run" result="skipped" time="0" classname="LoopMap">
      <skipped message="tests/x.cc:12&#x0A;SKIP: no scsi_debug here"/>
    </testcase>
    <testcase name="Fail" status="run" result="completed" time="3" classname="LoopMap">
      <failure message="tests/x.cc:20&#x0A;Value of: MapIs(fd, size, want)&#x0A;device map [0,4096)"/>
    </testcase>
    <testcase name="Filtered" status="notrun" result="suppressed" time="0" classname="LoopMap"/>
  </testsuite>
  <testsuite name="Label/UnchangedErrno">
    <testcase name="Einval/0" status="run" result="completed" time="0" classname="Label/UnchangedErrno"/>
  </testsuite>
  <testsuite name="Told">
    <testcase name="Kernel" status="run" result="completed" time="0" classname="Told">
      <properties><property name="expect_kernel" value="patched"/></properties>
    </testcase>
  </testsuite>
</testsuites>
XML
out=$("$reader" "$dir/r.xml") || fail "exit $? on a readable report"
want='pass map LoopMap.Pass
skip map LoopMap.Skip no scsi_debug here
fail map LoopMap.Fail
pass unchanged Label/UnchangedErrno.Einval/0
pass told Told.Kernel'
got=$(grep -v '^time \|^why ' <<<"$out")
[ "$got" = "$want" ] || fail "verdicts:"$'\n'"$got"$'\n'"expected:"$'\n'"$want"
grep -qx 'time - slowest: LoopMap.Fail 3 s, LoopMap.Pass 2 s, Told.Kernel 0 s, LoopMap.Skip 0 s, Label/UnchangedErrno.Einval/0 0 s' <<<"$out" ||
	fail "slowest line: $(grep '^time' <<<"$out")"
[ "$(grep -c '^why ' <<<"$out")" = 1 ] || fail "one failure message expected: $(grep '^why' <<<"$out")"
grep -q '^why -   LoopMap.Fail: tests/x.cc:20 | Value of: MapIs(fd, size, want) | device map \[0,4096)$' <<<"$out" ||
	fail "failure message: $(grep '^why' <<<"$out")"

printf '<testsuites><testsuite name="A"><testcase name="x" status="notrun" classname="A"/></testsuite></testsuites>\n' >"$dir/none.xml"
rc=0; "$reader" "$dir/none.xml" >/dev/null || rc=$?
[ "$rc" = 3 ] || fail "no case ran: exit $rc, expected 3"
echo '<testsuites' >"$dir/bad.xml"
rc=0; "$reader" "$dir/bad.xml" >/dev/null 2>&1 || rc=$?
[ "$rc" = 2 ] || fail "unreadable report: exit $rc, expected 2"
echo "gtest-results-test: ok"
