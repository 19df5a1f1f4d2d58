# SPDX-License-Identifier: GPL-2.0
# Shared by the tools' tests (tests/tools/*.bats, one file per case): the
# map printer seekmap and the hole-aware copy holecopy. Builds nothing.
#
# Run: SEEKMAP=... HOLECOPY=... [EXPECT_KERNEL=patched|unpatched] \
#          bats --tap [--jobs N] --show-output-of-passing-tests tests/tools
#
# Each case works in its own directory (bats' BATS_TEST_TMPDIR, $W), binds
# its own loop devices and mounts there, and teardown detaches and unmounts
# them whatever the outcome: the cases may run side by side (--jobs, GNU
# parallel), and none leaves a device behind. Block device cases need root
# and losetup and are skipped otherwise; they accept both kernels: an
# unpatched one (lseek answers EINVAL on a block device, so the tools must
# say so and holecopy must read everything) and a patched one (the device
# map must equal the backing file's map). kernel-as-expected holds the run
# to EXPECT_KERNEL. A case's last output line is its note in the TAP.

# The tools, absolute: the cases run in their own directories.
SEEKMAP=$(realpath "${SEEKMAP:?SEEKMAP must name seekmap}")
HOLECOPY=$(realpath "${HOLECOPY:?HOLECOPY must name holecopy}")
# The Python helpers next to the cases.
PY=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

# shellcheck disable=SC2034 # for the cases
MiB=$((1 << 20))
# shellcheck disable=SC2034
LAYOUT=(0:1M $((5 * MiB)):64K $((10 * MiB)):2M $((19 * MiB)):1M)
# shellcheck disable=SC2034
LAYOUT_DATA=$((1 * MiB + 64 * 1024 + 2 * MiB + 1 * MiB))

setup() {
	local b
	# First: teardown runs even when setup fails, and works below $W.
	W=$BATS_TEST_TMPDIR
	PIDS=()
	[ -n "$W" ] && [ -d "$W" ] || { echo "no BATS_TEST_TMPDIR"; return 1; }
	for b in "$SEEKMAP" "$HOLECOPY"; do
		[ -x "$b" ] || { echo "$b is not executable"; return 1; }
	done
	set -o pipefail
	cd "$W" || return 1
}

teardown() {
	local p d m
	# Without the case's directory there is nothing of the case's to undo
	# (and an empty $W would select every mount below).
	[ -n "${W:-}" ] && [ -d "$W" ] || return 0
	for p in "${PIDS[@]}"; do
		kill "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
	# Mounts under the case's directory, innermost first (mountinfo
	# escapes blanks and backslashes as \040 and \134).
	while read -r m; do
		umount "$(printf '%b' "$m")" 2>/dev/null || umount -l "$(printf '%b' "$m")" 2>/dev/null || true
	done < <(awk -v w="$W" '{ p = $5; gsub(/\\040/, " ", p); gsub(/\\134/, "\\", p)
		if (index(p, w "/") == 1) print $5 }' /proc/self/mountinfo | sort -r)
	# Loop devices the case bound.
	if [ -f "$W/loops" ]; then
		while read -r d; do
			losetup -d "$d" 2>/dev/null || true
		done <"$W/loops"
	fi
	cd /
}

die() { echo "$*"; exit 1; }
oneline() { head -c 600 "$1" | tr '\n' ' '; }
note() { echo "$*"; }

# expect_rc WANT CMD...: run CMD with stdout in $W/out, stderr in $W/err;
# fail unless its exit status is WANT.
expect_rc() {
	local want=$1 rc=0
	shift
	"$@" >"$W/out" 2>"$W/err" || rc=$?
	[ "$rc" = "$want" ] ||
		die "'$*' exited $rc, expected $want; stderr: $(oneline "$W/err")"
}

# err_has TEXT: the last command's stderr contains TEXT.
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
	r=$(python3 "$PY/io-read.py" "$W" "$@") || die "io_read failed"
	# shellcheck disable=SC2034 # for the case
	read -r IO_READ IO_RC <<<"$r"
}

need_root_loop() {
	[ "$(id -u)" = 0 ] || skip "needs root"
	command -v losetup >/dev/null || skip "needs losetup"
}

# bound DEV: a loop device the case bound, detached by teardown.
bound() { echo "$1" >>"$W/loops"; }

# loop FILE: bind a loop device (detached by teardown) and print its name.
loop() {
	local d
	d=$(losetup -f --show "$1") || die "losetup $1 failed"
	bound "$d"
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

# sectors_read DEV: bytes read from block device DEV (its sysfs stat).
sectors_read() {
	local f
	read -r _ _ f _ <"/sys/class/block/${1#/dev/}/stat"
	echo $((f * 512))
}
