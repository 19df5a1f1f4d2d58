#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Host (or guest) tests of the user-space tools: the map printer seekmap and
# the hole-aware copy holecopy. Builds nothing.
#
# Usage: [EXPECT_KERNEL=patched|unpatched] utils/test-tools.sh SEEKMAP HOLECOPY
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
case_() {
	local name=$1 fn=$2 rc=0
	W=$T/$name
	mkdir -p "$W"
	set +e
	(set -e; cd "$W"; "$fn") >"$W/log" 2>&1
	rc=$?
	set -e
	# Loop devices bound by the case are detached at exit.
	if [ -f "$T/loops" ]; then
		mapfile -t -O "${#LOOPS[@]}" LOOPS <"$T/loops"
		rm -f "$T/loops"
	fi
	local why
	why=$(tail -n 1 "$W/log")
	case $rc in
	0)  echo "PASS $name${why:+ ($why)}"; passed=$((passed + 1)) ;;
	77) echo "SKIP $name: $why"; skipped=$((skipped + 1)) ;;
	*)  echo "FAIL $name: $why"; failed=$((failed + 1)) ;;
	esac
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
	local name=$'we"ird\\ \tname\n.img'
	mkimg "$name" 3M 1M:4K
	mkimg g 1000 0:1000
	run 0 "$SEEKMAP" --json "$name" g
	python3 - "$W/out" "$name" <<'EOF'
import json, sys
lines = open(sys.argv[1]).read().splitlines()
assert len(lines) == 2, lines
a, b = (json.loads(l) for l in lines)
assert a["path"] == sys.argv[2], a["path"]
assert a["size"] == 3 << 20
assert a["extents"] == [
	{"offset": 0, "length": 1 << 20, "type": "hole"},
	{"offset": 1 << 20, "length": 4096, "type": "data"},
	{"offset": (1 << 20) + 4096, "length": (2 << 20) - 4096, "type": "hole"},
], a["extents"]
assert a["data_bytes"] == 4096 and a["hole_bytes"] == (3 << 20) - 4096
assert a["lseek_calls"] == 3, a["lseek_calls"]
assert b["extents"] == [{"offset": 0, "length": 1000, "type": "data"}], b
EOF
}

t_seekmap_errors() {
	run 1 "$SEEKMAP" does-not-exist
	err_has "does-not-exist: No such file or directory"
	mkdir d
	run 1 "$SEEKMAP" d
	err_has "not a regular file or block device"
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
	# Written zeros are data to lseek; the read/write path leaves them
	# out of the copy (whole 1 MiB buffers only).
	mkimg src 16M 9M:4K
	dd if=/dev/zero of=src bs=1M count=8 conv=notrunc status=none
	run 0 "$HOLECOPY" --no-copy-range src dst
	same_bytes src dst
	[ "$(blocks dst)" -le $((1 * MiB)) ] ||
		die "dst allocates $(blocks dst) bytes for 4 KiB of data"
	err_has "zeros, not copied"
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
	run 1 "$HOLECOPY" --verify-only src missing
	err_has "No such file or directory"
	[ ! -e missing ] || die "--verify-only created its DST"
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
		[ ! -s "$W/out" ] || die "--json printed an object for a failed map"
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
	run 0 "$HOLECOPY" --dst-is-zeroed src "$dev"
	# The holes of src were not zeroed: garbage remains there.
	run 1 "$HOLECOPY" --verify-only src "$dev"
	err_has "differ at byte $((1 * MiB))"
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
case_ holecopy-sparse-file t_copy_sparse
case_ holecopy-read-write t_copy_read_write
case_ holecopy-over-existing-dst t_copy_over_existing
case_ holecopy-edge-sizes t_copy_edge_sizes
case_ holecopy-zero-data-stays-sparse t_copy_zero_data_stays_sparse
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

echo "test-tools: $passed passed, $failed failed, $skipped skipped"
[ "$failed" = 0 ]
