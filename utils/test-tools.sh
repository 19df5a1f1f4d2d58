#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Host (or guest) tests of the user-space tools: the map printer seekmap and
# the hole-aware copy holecopy. Builds nothing.
#
# Usage: [EXPECT_KERNEL=patched|unpatched] [TOOLS_JOBS=N] utils/test-tools.sh SEEKMAP HOLECOPY
#
# Prints PASS/FAIL/SKIP per case and exits non-zero if any case failed.
# Block device cases need root and losetup and are skipped otherwise; they
# accept both kernels: an unpatched one (lseek answers EINVAL on a block
# device, so the tools must say so and holecopy must read everything) and a
# patched one (the device map must equal the backing file's map).
set -euo pipefail

if [ $# -ne 2 ]; then
	echo "usage: $0 SEEKMAP HOLECOPY" >&2
	exit 2
fi
SEEKMAP=$(realpath "$1")
HOLECOPY=$(realpath "$2")
for b in "$SEEKMAP" "$HOLECOPY"; do
	[ -x "$b" ] || { echo "$0: $b is not executable" >&2; exit 2; }
done

T=$(mktemp -d "${TMPDIR:-/tmp}/test-tools.XXXXXX")
LOOPS=()
PIDS=()
cleanup() {
	local p d
	for p in "${PIDS[@]}"; do
		kill "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
	# Loop devices the cases bound, detached at exit.
	[ -f "$T/loops" ] && mapfile -t -O "${#LOOPS[@]}" LOOPS <"$T/loops"
	for d in "${LOOPS[@]}"; do
		losetup -d "$d" 2>/dev/null || true
	done
	rm -rf "$T"
}
trap cleanup EXIT

MiB=$((1 << 20))
passed=0 failed=0 skipped=0

# ---- helpers for the cases (each case runs in a subshell under set -e) ----

die() { echo "$*"; exit 1; }
oneline() { head -c 600 "$1" | tr '\n' ' '; }
skip() { echo "$*"; exit 77; }

# run WANT CMD...: run CMD with stdout in $W/out, stderr in $W/err; fail
# unless its exit status is WANT.
run() {
	local want=$1 rc=0
	shift
	"$@" >"$W/out" 2>"$W/err" || rc=$?
	[ "$rc" = "$want" ] ||
		die "'$*' exited $rc, expected $want; stderr: $(oneline "$W/err")"
}

# err_has TEXT: the last run's stderr contains TEXT.
err_has() {
	grep -qF -- "$1" "$W/err" ||
		die "stderr lacks '$1': $(oneline "$W/err")"
}

# mkimg FILE SIZE [OFF:LEN...]: a sparse file of SIZE with random data at
# each OFF:LEN (dd sizes: 1M, 64K, 123 ...).
mkimg() {
	local f=$1 size=$2 spec
	shift 2
	rm -f "$f"
	truncate -s "$size" "$f"
	for spec in "$@"; do
		dd if=/dev/urandom of="$f" bs="${spec##*:}" count=1 \
			seek="${spec%%:*}" oflag=seek_bytes iflag=fullblock \
			conv=notrunc status=none
	done
}

# map FILE: "offset length type" per extent, from seekmap's table.
map() {
	"$SEEKMAP" "$1" | awk '$3 == "data" || $3 == "hole" { print $1, $2, $3 }'
}

same_map() {
	local a b
	a=$(map "$1") b=$(map "$2")
	[ "$a" = "$b" ] || die "maps differ: $1: ${a//$'\n'/, } / $2: ${b//$'\n'/, }"
}

# blocks FILE: allocated bytes.
blocks() { echo $(($(stat -c %b "$1") * 512)); }

same_bytes() { cmp -- "$1" "$2" >/dev/null || die "$1 and $2 differ"; }

# io_read CMD...: run CMD (stdout in $W/out, stderr in $W/err) and set
# IO_READ to the bytes it read with read(2)/pread(2) (rchar of /proc/PID/io,
# taken before its exit is reaped) and IO_RC to its exit status.
io_read() {
	local r
	r=$(python3 - "$W" "$@" <<'EOF'
import os, sys
w = sys.argv[1]
pid = os.fork()
if pid == 0:
    os.dup2(os.open(w + "/out", os.O_WRONLY | os.O_CREAT | os.O_TRUNC), 1)
    os.dup2(os.open(w + "/err", os.O_WRONLY | os.O_CREAT | os.O_TRUNC), 2)
    os.execvp(sys.argv[2], sys.argv[2:])
os.waitid(os.P_PID, pid, os.WEXITED | os.WNOWAIT)
with open(f"/proc/{pid}/io") as f:
    io = dict(l.split(": ") for l in f.read().splitlines())
_, st = os.waitpid(pid, 0)
print(int(io["rchar"]), os.waitstatus_to_exitcode(st))
EOF
	) || die "io_read failed"
	read -r IO_READ IO_RC <<<"$r"
}

need_root_loop() {
	[ "$(id -u)" = 0 ] || skip "needs root"
	command -v losetup >/dev/null || skip "needs losetup"
}

# loop FILE: bind a loop device (detached at exit) and print its name.
loop() {
	local d
	d=$(losetup -f --show "$1") || die "losetup $1 failed"
	echo "$d" >>"$T/loops"
	echo "$d"
}

# seek_kernel DEV: "patched" if lseek(SEEK_DATA) works on a block device.
seek_kernel() {
	if "$SEEKMAP" "$1" >/dev/null 2>&1; then
		echo patched
	else
		echo unpatched
	fi
}

# case NAME FUNCTION: run FUNCTION in its own directory and subshell.
# The cases, in order: "name function". They run at the end, TOOLS_JOBS
# (default 1) at a time; each binds its own loop devices and works in its
# own directory, so they may run side by side.
CASES=()
case_() { CASES+=("$1 $2"); }

# run_case NAME FN: run one case in a subshell under set -e, in $T/NAME;
# its log, exit status and duration go to files there.
run_case() {
	local name=$1 fn=$2 rc=0 t0=$SECONDS
	W=$T/$name
	mkdir -p "$W"
	set +e
	(set -e; cd "$W"; "$fn") >"$W/log" 2>&1
	rc=$?
	set -e
	echo $((SECONDS - t0)) >"$W/took"
	echo "$rc" >"$W/rc"
}

# report NAME: print the outcome of a finished case and count it.
report() {
	local name=$1 rc why took=
	rc=$(cat "$T/$name/rc")
	why=$(tail -n 1 "$T/$name/log")
	# Cases that take more than a few seconds say how long.
	[ "$(cat "$T/$name/took")" -lt 5 ] || took=" [$(cat "$T/$name/took") s]"
	case $rc in
	0)  echo "PASS $name${why:+ ($why)}$took"; passed=$((passed + 1)) ;;
	77) echo "SKIP $name: $why"; skipped=$((skipped + 1)) ;;
	*)  echo "FAIL $name: $why$took"; failed=$((failed + 1)) ;;
	esac
}

run_cases() {
	local jobs=${TOOLS_JOBS:-1} i next=0 running=0 c
	for ((i = 0; i < ${#CASES[@]}; i++)); do
		c=${CASES[i]}
		run_case ${c% *} ${c#* } &
		PIDS+=($!)
		running=$((running + 1))
		while [ "$running" -ge "$jobs" ] ||
		      { [ "$i" = $((${#CASES[@]} - 1)) ] && [ "$running" -gt 0 ]; }; do
			wait -n || true
			running=$((running - 1))
			# Report in order, as far as the cases have finished.
			while [ "$next" -lt "${#CASES[@]}" ] &&
			      [ -f "$T/${CASES[next]% *}/rc" ]; do
				report "${CASES[next]% *}"
				next=$((next + 1))
			done
		done
	done
	PIDS=()
}

LAYOUT=(0:1M $((5 * MiB)):64K $((10 * MiB)):2M $((19 * MiB)):1M)
LAYOUT_DATA=$((1 * MiB + 64 * 1024 + 2 * MiB + 1 * MiB))

# ---- seekmap ----

t_seekmap_table() {
	mkimg f 20M "${LAYOUT[@]}"
	run 0 "$SEEKMAP" f
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

t_seekmap_json() {
	command -v python3 >/dev/null || skip "needs python3"
	local name=$'we"ird\\ \tname\n.img' bad=$'not\xffutf8\x80.img'
	mkimg "$name" 3M 1M:4K
	mkimg g 1000 0:1000
	mkimg "$bad" 4K
	run 1 "$SEEKMAP" --json "$name" g missing "$bad"
	# One document that json.tool accepts, whatever the names.
	python3 -m json.tool "$W/out" >/dev/null ||
		die "json.tool rejects: $(oneline "$W/out")"
	python3 - "$W/out" "$name" "$bad" <<'EOF'
import json, os, sys
doc = json.load(open(sys.argv[1]))
assert isinstance(doc, list) and len(doc) == 4, doc
a, b, m, c = doc
assert a["path"] == sys.argv[2], a["path"]
assert "path_bytes" not in a
assert a["size"] == 3 << 20 and a["offset"] == 0 and a["length"] == 3 << 20
assert a["extents"] == [
	{"offset": 0, "length": 1 << 20, "type": "hole"},
	{"offset": 1 << 20, "length": 4096, "type": "data"},
	{"offset": (1 << 20) + 4096, "length": (2 << 20) - 4096, "type": "hole"},
], a["extents"]
assert a["data_bytes"] == 4096 and a["hole_bytes"] == (3 << 20) - 4096
assert a["lseek_calls"] == 3, a["lseek_calls"]
assert b["extents"] == [{"offset": 0, "length": 1000, "type": "data"}], b
assert m["path"] == "missing" and "No such file" in m["error"], m
# Not UTF-8: readable in "path", exact in "path_bytes".
want = os.fsencode(sys.argv[3])
assert bytes(c["path_bytes"]) == want, c
assert c["path"] == want.decode("utf-8", "replace"), c["path"]
assert c["extents"] == [{"offset": 0, "length": 4096, "type": "hole"}], c
EOF
	run 0 "$SEEKMAP" --json g
	python3 -c 'import json, sys; d = json.load(open(sys.argv[1]))
assert len(d) == 1 and d[0]["path"] == "g", d' "$W/out" ||
		die "one path: $(oneline "$W/out")"
}

t_seekmap_range() {
	mkimg f 20M "${LAYOUT[@]}"
	# 4 MiB to 11 MiB: a hole, the 64 KiB extent, a hole, the first
	# 512 KiB of the 2 MiB extent.
	run 0 "$SEEKMAP" --offset=4M --length=7MiB f
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
	run 0 "$SEEKMAP" --offset=19M --length=1T f
	got=$(awk '$3 == "data" || $3 == "hole" { print $1, $2, $3 }' "$W/out")
	[ "$got" = "19922944 1048576 data" ] || die "tail: $got"
	run 1 "$SEEKMAP" --offset=21M f
	err_has "is past the end"
	run 2 "$SEEKMAP" --offset=12X f
	err_has "invalid offset"
	run 2 "$SEEKMAP" --length=-1 f
}

t_sizes_roll_over() {
	# A value that would round to 1024.0 of a unit is shown in the next.
	mkimg t $(((1 << 40) - 1))
	run 0 "$SEEKMAP" t
	grep -qF "t: 1.0 TiB" "$W/out" || die "$(head -n 1 "$W/out")"
	grep -qF "1024.0" "$W/out" && die "1024.0 shown: $(oneline "$W/out")"
	mkimg m $(((1 << 20) - 10))
	run 0 "$SEEKMAP" m
	grep -qF "m: 1.0 MiB" "$W/out" || die "$(head -n 1 "$W/out")"
	mkimg p $((1 << 50))
	run 0 "$SEEKMAP" p
	grep -qF "p: 1.0 PiB" "$W/out" || die "$(head -n 1 "$W/out")"
}

t_fifo_refused() {
	mkfifo fifo
	mkimg f 1M 0:4K
	# A blocking open of a FIFO waits for a writer: time out instead.
	run 1 timeout 20 "$SEEKMAP" fifo
	err_has "fifo: not a regular file or block device (a FIFO)"
	run 1 timeout 20 "$HOLECOPY" fifo dst
	err_has "fifo: not a regular file or block device (a FIFO)"
	[ ! -e dst ] || die "a FIFO source created DST"
	run 1 timeout 20 "$HOLECOPY" f fifo
	err_has "fifo: not a regular file or block device (a FIFO)"
	run 2 timeout 20 "$HOLECOPY" --verify-only fifo f
	err_has "(a FIFO)"
}

t_seekmap_errors() {
	run 1 "$SEEKMAP" does-not-exist
	err_has "does-not-exist: No such file or directory"
	mkdir d
	run 1 "$SEEKMAP" d
	err_has "not a regular file or block device (a directory)"
	mkimg f 1M
	# The good path is still printed; the exit status reports the bad one.
	run 1 "$SEEKMAP" f does-not-exist
	grep -qF "f: 1.0 MiB" "$W/out" || die "f was not printed"
	run 2 "$SEEKMAP"
	run 2 "$SEEKMAP" --frobnicate f
	run 0 "$SEEKMAP" --help
	grep -qF "usage: seekmap" "$W/out" || die "no usage on stdout"
	run 0 "$SEEKMAP" -- f
}

# ---- holecopy between regular files ----

t_copy_sparse() {
	mkimg src 20M "${LAYOUT[@]}"
	run 0 "$HOLECOPY" src dst
	same_bytes src dst
	same_map src dst
	[ "$(blocks dst)" -le "$(blocks src)" ] ||
		die "dst allocates $(blocks dst) bytes, src $(blocks src)"
	err_has "$LAYOUT_DATA bytes data"
	err_has "lseek calls"
}

t_copy_read_write() {
	mkimg src 20M "${LAYOUT[@]}"
	run 0 "$HOLECOPY" --no-copy-range --verify src dst
	same_bytes src dst
	same_map src dst
	err_has "matches"
}

t_copy_over_existing() {
	mkimg src 20M "${LAYOUT[@]}"
	head -c 30M /dev/urandom >dst
	run 0 "$HOLECOPY" src dst
	[ "$(stat -c %s dst)" = $((20 * MiB)) ] || die "dst size $(stat -c %s dst)"
	same_bytes src dst
	same_map src dst
	# Extended, too.
	mkimg small 1M 0:4K
	run 0 "$HOLECOPY" src small
	same_bytes src small
	same_map src small
}

t_copy_edge_sizes() {
	mkimg empty 0
	mkimg hole 7M
	mkimg full 3M 0:3M
	mkimg odd 3146505 0:100 2098386:5000 3146000:505
	mkimg tail 5M 4M:1M
	local f
	for f in empty hole full odd tail; do
		run 0 "$HOLECOPY" --verify "$f" "$f.copy"
		same_bytes "$f" "$f.copy"
		same_map "$f" "$f.copy"
	done
	[ "$(blocks hole.copy)" = 0 ] || die "hole.copy allocates $(blocks hole.copy)"
}

t_copy_zero_data_stays_sparse() {
	# Written zeros are data to lseek; every copy path leaves them out
	# of the copy, in blocks of the destination's block size.
	mkimg src 16M 9M:4K
	dd if=/dev/zero of=src bs=1M count=8 conv=notrunc status=none
	local how
	for how in "" --no-copy-range; do
		rm -f dst
		run 0 "$HOLECOPY" $how src dst
		same_bytes src dst
		[ "$(blocks dst)" -le $((1 * MiB)) ] ||
			die "${how:-default}: dst allocates $(blocks dst) bytes for 4 KiB of data"
		err_has "zeros, not copied"
	done
}

t_copy_as_sparse_as_cp() {
	# Zero blocks among data, at 4 KiB granularity, as cp --sparse=always
	# finds them: the default copy is as sparse as cp's.
	mkimg src 8M 0:1M 3M:2M 7M:1M
	local off
	for off in 4096 65536 $((3 * MiB + 8192)) $((4 * MiB)) $((7 * MiB + 12288)); do
		dd if=/dev/zero of=src bs=4096 count=1 seek=$((off / 4096)) \
			conv=notrunc status=none
	done
	dd if=/dev/zero of=src bs=4096 count=64 seek=$((4 * MiB / 4096 + 1)) \
		conv=notrunc status=none
	run 0 "$HOLECOPY" src dst
	cp --sparse=always src cp.dst
	same_bytes src dst
	same_bytes src cp.dst
	[ "$(blocks dst)" -le "$(blocks cp.dst)" ] ||
		die "holecopy allocates $(blocks dst) bytes, cp --sparse=always $(blocks cp.dst)"
	[ "$(blocks dst)" -lt "$(blocks src)" ] ||
		die "the zero blocks were written: $(blocks dst) of $(blocks src)"
	echo "holecopy $(blocks dst), cp $(blocks cp.dst), source $(blocks src) bytes allocated"
}

t_keeps_source_mode() {
	mkimg src 1M 0:4K
	chmod 600 src
	(umask 022; "$HOLECOPY" -q src dst) || die "copy failed"
	[ "$(stat -c %a dst)" = 600 ] || die "0600 source gave $(stat -c %a dst)"
	chmod 755 src
	(umask 077; "$HOLECOPY" -q src dst2) || die "copy failed"
	[ "$(stat -c %a dst2)" = 700 ] || die "0755 source, umask 077 gave $(stat -c %a dst2)"
	# An existing destination keeps its own mode, as with cp.
	chmod 644 dst
	"$HOLECOPY" -q src dst || die "copy failed"
	[ "$(stat -c %a dst)" = 644 ] || die "existing dst became $(stat -c %a dst)"
}

t_copy_quiet() {
	mkimg src 4M 1M:1M
	run 0 "$HOLECOPY" --quiet --verify src dst
	[ ! -s "$W/err" ] || die "--quiet printed: $(cat "$W/err")"
	same_bytes src dst
}

t_refuse_self_copy() {
	mkimg src 4M 1M:1M
	cp src ref
	ln src hard
	ln -s src sym
	run 1 "$HOLECOPY" src src
	err_has "are the same file"
	run 1 "$HOLECOPY" src hard
	err_has "are the same file"
	run 1 "$HOLECOPY" sym src
	err_has "are the same file"
	run 1 "$HOLECOPY" src ./sym
	err_has "are the same file"
	same_bytes src ref
}

# sectors_read DEV: bytes read from block device DEV (its sysfs stat).
sectors_read() {
	local f
	read -r _ _ f _ <"/sys/class/block/${1#/dev/}/stat"
	echo $((f * 512))
}

t_verify_reads_only_data() {
	# 1 TiB with 256 KiB of data: verifying reads the data, not the holes.
	mkimg src 1T 0:64K 300G:64K 700G:128K
	run 0 "$HOLECOPY" -q src dst
	local ran=""
	# Files: what the process read (/proc/PID/io, where the kernel
	# keeps it).
	if [ -r /proc/self/io ] && command -v python3 >/dev/null; then
		io_read "$HOLECOPY" --verify-only src dst
		[ "$IO_RC" = 0 ] || die "--verify-only exited $IO_RC: $(oneline "$W/err")"
		err_has "matches"
		# Both files' data (512 KiB) plus what loading the program reads.
		[ "$IO_READ" -lt $((8 * MiB)) ] ||
			die "--verify-only read $IO_READ bytes for 256 KiB of data"
		io_read "$HOLECOPY" --verify src dst2
		[ "$IO_RC" = 0 ] || die "--verify exited $IO_RC: $(oneline "$W/err")"
		[ "$IO_READ" -lt $((8 * MiB)) ] ||
			die "copy and --verify read $IO_READ bytes for 256 KiB of data"
		ran+="files: $IO_READ bytes read; "
	fi
	# Loop devices over both files: their read counters.
	if [ "$(id -u)" = 0 ] && command -v losetup >/dev/null; then
		local sdev ddev s0 d0 s1 d1
		sdev=$(loop src)
		ddev=$(loop dst)
		if [ "$(seek_kernel "$sdev")" = patched ]; then
			blockdev --flushbufs "$sdev" "$ddev"
			s0=$(sectors_read "$sdev") d0=$(sectors_read "$ddev")
			run 0 "$HOLECOPY" --verify-only "$sdev" "$ddev"
			err_has "matches"
			s1=$(sectors_read "$sdev") d1=$(sectors_read "$ddev")
			[ $((s1 - s0)) -lt $((4 * MiB)) ] && [ $((d1 - d0)) -lt $((4 * MiB)) ] ||
				die "read $((s1 - s0)) bytes of $sdev, $((d1 - d0)) of $ddev"
			ran+="loop devices: $((s1 - s0)) and $((d1 - d0)) bytes read; "
		fi
	fi
	[ -n "$ran" ] || skip "needs /proc/PID/io or root, losetup and the patched kernel"
	# Where DST has data in a hole of SRC, that data is read and checked.
	printf 'x' | dd of=dst bs=1 seek=$((500 << 30)) conv=notrunc status=none
	run 1 "$HOLECOPY" --verify-only src dst
	err_has "differ at byte $((500 << 30))"
	echo "$ran"
}

t_verify_only_finds_difference() {
	mkimg src 8M 0:1M 6M:1M
	run 0 "$HOLECOPY" -q src dst
	run 0 "$HOLECOPY" --verify-only src dst
	err_has "matches"
	# A byte in a hole of the source.
	printf 'x' | dd of=dst bs=1 seek=3000000 conv=notrunc status=none
	run 1 "$HOLECOPY" --verify-only src dst
	err_has "differ at byte 3000000"
	# A byte in data.
	run 0 "$HOLECOPY" -q src dst
	dd if=src bs=1 skip=$((6 * MiB + 77)) count=1 status=none |
		tr '\000-\377' '\001-\377\000' |
		dd of=dst bs=1 seek=$((6 * MiB + 77)) conv=notrunc status=none
	run 1 "$HOLECOPY" --verify-only src dst
	err_has "differ at byte $((6 * MiB + 77))"
	# A different size.
	run 0 "$HOLECOPY" -q src dst
	truncate -s +1 dst
	run 1 "$HOLECOPY" --verify-only src dst
	err_has "has $((8 * MiB + 1)) bytes"
	# Trouble is 2, as with cmp.
	run 2 "$HOLECOPY" --verify-only src missing
	err_has "No such file or directory"
	[ ! -e missing ] || die "--verify-only created its DST"
	run 2 "$HOLECOPY" --verify-only missing dst
	mkdir dir
	run 2 "$HOLECOPY" --verify-only src dir
	run 2 "$HOLECOPY" --verify-only
	# A failed copy is still 1.
	run 1 "$HOLECOPY" missing dst
}

t_bad_paths() {
	mkimg src 4M 1M:1M
	mkdir dir
	run 1 "$HOLECOPY" src dir
	err_has "dir: is a directory"
	run 1 "$HOLECOPY" src no/such/dir/dst
	err_has "no/such/dir/dst: cannot create: No such file or directory"
	run 1 "$HOLECOPY" missing dst
	err_has "missing: No such file or directory"
	[ ! -e dst ] || die "a missing SRC created DST"
	run 1 "$HOLECOPY" /dev/null dst
	err_has "not a regular file or block device"
	run 1 "$HOLECOPY" src /dev/null
	err_has "not a regular file or block device"
	if [ "$(id -u)" != 0 ]; then
		mkdir ro
		chmod 555 ro
		run 1 "$HOLECOPY" src ro/dst
		err_has "Permission denied"
	fi
}

t_usage() {
	run 2 "$HOLECOPY"
	run 2 "$HOLECOPY" onlyone
	run 2 "$HOLECOPY" a b c
	run 2 "$HOLECOPY" --frobnicate a b
	err_has "unknown option"
	run 0 "$HOLECOPY" --help
	grep -qF "usage: holecopy" "$W/out" || die "no usage on stdout"
	grep -qF -- "--destination-is-zero" "$W/out" || die "--help lacks --destination-is-zero"
	run 2 "$HOLECOPY" --progress=99 a b
	err_has "not an open file descriptor"
	run 2 "$HOLECOPY" --progress=x a b
}

t_progress() {
	mkimg src 64M 0:1M 20M:8M 63M:1M
	# Machine-readable, as nbdcopy --progress=FD: N/100 lines, rising,
	# ending at 100/100; nothing on stderr but the summary.
	run 0 "$HOLECOPY" --progress=3 src dst 3>prog
	grep -qvE '^[0-9]+/100$' prog && die "progress lines: $(oneline prog)"
	[ "$(tail -n 1 prog)" = 100/100 ] || die "last line: $(tail -n 1 prog)"
	sort -n -c prog 2>/dev/null || sort -t/ -k1,1n -c prog ||
		die "progress went back: $(oneline prog)"
	grep -q "/100" "$W/err" && die "progress on stderr: $(oneline "$W/err")"
	same_bytes src dst
	# For people: an ETA, and data counted once copied (10 MiB at the
	# end, never more).
	run 0 "$HOLECOPY" --progress src dst2
	tr '\r' '\n' <"$W/err" | grep -F "ETA" >lines || die "no ETA: $(oneline "$W/err")"
	tail -n 1 lines | grep -qF "copy 64.0 MiB / 64.0 MiB (100%), data 10.0 MiB copied" ||
		die "last line: $(tail -n 1 lines)"
	# Verify too.
	run 0 "$HOLECOPY" --verify-only --progress=3 src dst 3>vprog
	[ "$(tail -n 1 vprog)" = 100/100 ] || die "verify progress: $(oneline vprog)"
}

t_sigint_exit_130() {
	command -v python3 >/dev/null || skip "needs python3"
	# Enough data that the copy is still running when the signal comes:
	# the progress FD says it started; SIGSTOP holds it meanwhile.
	mkimg src 256M 0:256M
	python3 - "$HOLECOPY" <<'EOF' || die "$(cat "$W/py" 2>/dev/null)"
import os, signal, subprocess, sys
r, w = os.pipe()
p = subprocess.Popen([sys.argv[1], "--progress=%d" % w, "src", "dst"],
                     pass_fds=[w], stderr=open("err", "w"))
os.close(w)
first = os.read(r, 64)
p.send_signal(signal.SIGSTOP)
p.send_signal(signal.SIGINT)
p.send_signal(signal.SIGCONT)
rc = p.wait()
err = open("err").read()
open("py", "w").write(f"exit {rc}, first progress {first!r}, stderr {err!r}")
if b"100/100" in first:
    sys.exit("the copy finished before the signal")
assert rc == 130, (rc, err)
assert "interrupted by signal 2" in err, err
assert "dst is INCOMPLETE" in err, err
EOF
	cat py
}

t_failure_says_incomplete() {
	# RLIMIT_FSIZE makes extending DST fail with EFBIG (SIGXFSZ ignored).
	mkimg src 4M 1M:1M
	run 1 bash -c "trap '' XFSZ; ulimit -f 1024; exec \"\$0\" src dst" \
		"$HOLECOPY"
	err_has "dst is INCOMPLETE"
}

t_enospc_midway_says_incomplete() {
	[ "$(id -u)" = 0 ] || skip "needs root to mount a small tmpfs"
	mkdir mnt
	mount -t tmpfs -o size=2M tmpfs mnt 2>/dev/null || skip "cannot mount tmpfs"
	mkimg src 8M 0:1M 4M:4M
	local rc=0
	"$HOLECOPY" src mnt/dst >"$W/out" 2>"$W/err" || rc=$?
	umount mnt
	[ "$rc" = 1 ] || die "exit $rc on a full file system"
	err_has "No space left on device"
	err_has "mnt/dst is INCOMPLETE: only its first"
}

# ---- block devices (loop) ----

t_loop_seekmap() {
	need_root_loop
	mkimg back 20M 0:1M 5M:1M 10M:2M
	local dev
	dev=$(loop back)
	if [ "$(seek_kernel "$dev")" = patched ]; then
		run 0 "$SEEKMAP" "$dev"
		same_map back "$dev"
		echo "patched kernel: map read"
	else
		run 1 "$SEEKMAP" "$dev"
		err_has "this kernel does not support SEEK_DATA/SEEK_HOLE on block devices"
		run 1 "$SEEKMAP" --json "$dev"
		err_has "this kernel does not support SEEK_DATA/SEEK_HOLE on block devices"
		# Still one JSON document: an entry with the error, no extents.
		python3 -c 'import json, sys
d = json.load(open(sys.argv[1]))
assert len(d) == 1 and "error" in d[0] and "extents" not in d[0], d' \
			"$W/out" 2>/dev/null ||
			die "--json on a failed map: $(oneline "$W/out")"
		echo "unpatched kernel: EINVAL reported"
	fi
}

t_loop_to_file() {
	need_root_loop
	mkimg back 20M 0:1M 5M:1M 10M:2M
	local dev
	dev=$(loop back)
	run 0 "$HOLECOPY" --verify "$dev" dst
	same_bytes back dst
	# Whole MiB extents: sparse on both kernels (zero buffers skipped).
	same_map back dst
	if [ "$(seek_kernel "$dev")" = unpatched ]; then
		err_has "this kernel does not support SEEK_DATA/SEEK_HOLE on block devices; reading every byte"
	else
		err_has "$((4 * MiB)) bytes data"
	fi
}

t_file_to_loop() {
	need_root_loop
	mkimg src 3146505 0:100 1M:1M 2098386:5000
	# Garbage in some places of the destination, holes elsewhere.
	mkimg back 8M 0:2M 3M:1M 6M:2M
	local dev
	dev=$(loop back)
	run 0 "$HOLECOPY" --verify src "$dev"
	cmp -n 3146505 src "$dev" >/dev/null || die "$dev differs from src"
	err_has "matches"
	err_has "is larger than src"
	# The bytes past the end of src are left alone.
	cmp -i 3146505 back "$dev" >/dev/null ||
		die "bytes past the end of src changed"
}

t_dst_is_zeroed_skips_zeroing() {
	need_root_loop
	mkimg src 4M 0:1M
	mkimg back 4M 0:4M
	local dev
	dev=$(loop back)
	run 0 "$HOLECOPY" --destination-is-zero src "$dev"
	# The holes of src were not zeroed: garbage remains there.
	run 1 "$HOLECOPY" --verify-only src "$dev"
	err_has "differ at byte $((1 * MiB))"
	# The old name still works.
	run 0 "$HOLECOPY" --dst-is-zeroed src "$dev"
	run 1 "$HOLECOPY" --verify-only src "$dev"
	run 0 "$HOLECOPY" src "$dev"
	run 0 "$HOLECOPY" --verify-only src "$dev"
}

t_loop_refusals() {
	need_root_loop
	mkimg src 8M 0:1M
	mkimg small 4M 0:4M
	mkimg other 8M 0:8M
	cp small small.ref
	cp src src.ref
	local dsmall dsrc dother
	dsmall=$(loop small)
	dsrc=$(loop src)
	dother=$(loop other)
	run 1 "$HOLECOPY" src "$dsmall"
	err_has "is smaller than src"
	same_bytes small small.ref
	run 1 "$HOLECOPY" "$dsrc" "$dsrc"
	err_has "are the same device"
	run 1 "$HOLECOPY" src "$dsrc"
	err_has "is a loop device backed by src"
	run 1 "$HOLECOPY" "$dsrc" src
	err_has "is a loop device backed by src"
	run 1 "$HOLECOPY" other src
	err_has "src is the backing file of $dsrc"
	same_bytes src src.ref
	[ -e "$dother" ] || die "$dother vanished"
}

t_busy_dst_refused() {
	need_root_loop
	command -v python3 >/dev/null || skip "needs python3 to hold O_EXCL"
	mkimg src 1M 0:4K
	mkimg back 4M 0:4M
	cp back back.ref
	local dev pid
	dev=$(loop back)
	python3 -c 'import os, sys, time
fd = os.open(sys.argv[1], os.O_RDONLY | os.O_EXCL)
open(sys.argv[2], "w").close()
time.sleep(30)' "$dev" held &
	pid=$!
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

t_mounted_dst_named() {
	need_root_loop
	command -v mkfs.ext4 >/dev/null || skip "needs mkfs.ext4"
	command -v sfdisk >/dev/null || skip "needs sfdisk"
	mkimg src 1M 0:4K
	mkimg disk 64M
	printf 'label: gpt\n,16M\n,16M\n' | sfdisk -q disk >/dev/null 2>&1 ||
		skip "sfdisk failed"
	local dev n ma mi mnt
	dev=$(losetup -f --show -P disk) || die "losetup -P failed"
	echo "$dev" >>"$T/loops"
	n=${dev#/dev/}
	for _ in $(seq 20); do
		[ -e "/sys/block/$n/${n}p2/dev" ] && break
		sleep 0.1
	done
	[ -e "/sys/block/$n/${n}p2/dev" ] || skip "no partitions appear here"
	IFS=: read -r ma mi <"/sys/block/$n/${n}p2/dev"
	mknod p2 b "$ma" "$mi"
	mkfs.ext4 -q p2 || die "mkfs.ext4 failed"
	# mountinfo escapes the blank and the backslash as \040 and \134.
	mnt="$W/mnt point\\x"
	mkdir "$mnt"
	mount p2 "$mnt" 2>/dev/null || skip "cannot mount ext4 here"
	local rc1=0 rc2=0
	"$HOLECOPY" src p2 >"$W/out" 2>"$W/err.p2" || rc1=$?
	"$HOLECOPY" src "$dev" >"$W/out" 2>"$W/err.disk" || rc2=$?
	umount "$mnt"
	[ "$rc1" = 1 ] && [ "$rc2" = 1 ] || die "exit $rc1 and $rc2 on mounted devices"
	grep -qF "p2 is mounted (on $mnt)" "$W/err.p2" ||
		die "partition: $(oneline "$W/err.p2")"
	# The whole disk: one of its partitions is mounted.
	grep -qF "$dev is mounted (on $mnt)" "$W/err.disk" ||
		die "disk: $(oneline "$W/err.disk")"
}

t_backing_file_odd_name() {
	need_root_loop
	local name=$'back ing\nfile'
	mkimg "$name" 4M 0:1M
	mkimg other 4M 0:4M
	cp "$name" ref
	loop "$name" >/dev/null
	run 1 "$HOLECOPY" other "$name"
	err_has "is the backing file of /dev/loop"
	same_bytes "$name" ref
}

t_partition_overlap_refused() {
	need_root_loop
	command -v sfdisk >/dev/null || skip "needs sfdisk"
	mkimg disk 16M
	printf 'label: gpt\n,4M\n,4M\n' | sfdisk -q disk >/dev/null 2>&1 ||
		skip "sfdisk failed"
	local dev n p ma mi
	dev=$(losetup -f --show -P disk) || die "losetup -P failed"
	echo "$dev" >>"$T/loops"
	n=${dev#/dev/}
	for p in 1 2; do
		for _ in $(seq 20); do
			[ -e "/sys/block/$n/${n}p$p/dev" ] && break
			sleep 0.1
		done
		[ -e "/sys/block/$n/${n}p$p/dev" ] || skip "no partitions appear here"
		# Our own nodes: udev may not run (containers).
		IFS=: read -r ma mi <"/sys/block/$n/${n}p$p/dev"
		mknod "p$p" b "$ma" "$mi"
	done
	run 1 "$HOLECOPY" p1 "$dev"
	err_has "overlap on the same disk"
	run 1 "$HOLECOPY" "$dev" p2
	err_has "overlap on the same disk"
	run 0 "$HOLECOPY" p1 p2
}

# EXPECT_KERNEL=patched|unpatched: the cases below accept either kernel;
# this one holds the run to the kernel it is meant for.
t_kernel_as_expected() {
	[ -n "${EXPECT_KERNEL:-}" ] || skip "EXPECT_KERNEL is not set"
	need_root_loop
	mkimg back 4M 0:1M
	local dev k
	dev=$(loop back)
	k=$(seek_kernel "$dev")
	[ "$k" = "$EXPECT_KERNEL" ] ||
		die "the kernel answers as $k, expected $EXPECT_KERNEL"
	echo "$k kernel"
}

case_ kernel-as-expected t_kernel_as_expected
case_ seekmap-table t_seekmap_table
case_ seekmap-json t_seekmap_json
case_ seekmap-errors t_seekmap_errors
case_ seekmap-range t_seekmap_range
case_ sizes-roll-over t_sizes_roll_over
case_ fifo-source-refused t_fifo_refused
case_ holecopy-sparse-file t_copy_sparse
case_ holecopy-read-write t_copy_read_write
case_ holecopy-over-existing-dst t_copy_over_existing
case_ holecopy-edge-sizes t_copy_edge_sizes
case_ holecopy-zero-data-stays-sparse t_copy_zero_data_stays_sparse
case_ holecopy-as-sparse-as-cp t_copy_as_sparse_as_cp
case_ holecopy-keeps-source-mode t_keeps_source_mode
case_ holecopy-verify-reads-only-data t_verify_reads_only_data
case_ holecopy-progress t_progress
case_ holecopy-sigint-exit-130 t_sigint_exit_130
case_ holecopy-quiet t_copy_quiet
case_ holecopy-refuses-self-copy t_refuse_self_copy
case_ holecopy-verify-only-finds-difference t_verify_only_finds_difference
case_ holecopy-bad-paths t_bad_paths
case_ holecopy-usage t_usage
case_ holecopy-failure-says-incomplete t_failure_says_incomplete
case_ holecopy-enospc-midway-says-incomplete t_enospc_midway_says_incomplete
case_ seekmap-loop-device t_loop_seekmap
case_ holecopy-loop-to-file t_loop_to_file
case_ holecopy-file-to-loop t_file_to_loop
case_ holecopy-dst-is-zeroed t_dst_is_zeroed_skips_zeroing
case_ holecopy-loop-refusals t_loop_refusals
case_ holecopy-busy-dst-refused t_busy_dst_refused
case_ holecopy-partition-overlap-refused t_partition_overlap_refused
case_ holecopy-mounted-dst-named t_mounted_dst_named
case_ holecopy-backing-file-odd-name t_backing_file_odd_name

run_cases

echo "test-tools: $passed passed, $failed failed, $skipped skipped"
[ "$failed" = 0 ]
