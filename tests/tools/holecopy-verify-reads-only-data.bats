#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0

load helpers

@test "holecopy-verify-reads-only-data" {
	# 1 TiB with 256 KiB of data: verifying reads the data, not the holes.
	mkimg src 1T 0:64K 300G:64K 700G:128K
	expect_rc 0 "$HOLECOPY" -q src dst
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
			expect_rc 0 "$HOLECOPY" --verify-only "$sdev" "$ddev"
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
	expect_rc 1 "$HOLECOPY" --verify-only src dst
	err_has "differ at byte $((500 << 30))"
	note "$ran"
}
