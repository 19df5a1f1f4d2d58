#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# Guest tests of QEMU's tools on block devices that report holes: qemu-img
# map/convert/compare, qemu-nbd and qemu-storage-daemon (an NBD export, and
# a blockdev-mirror driven over QMP by qmp.py, next to this script), patched
# (userspace/qemu/*.patch: host_device answers block status from SEEK_DATA
# and SEEK_HOLE) and unpatched. Builds nothing (harness/qemu build does).
#
# Usage: [EXPECT_KERNEL=patched|unpatched] [TOOLS_JOBS=N]
#        userspace/qemu/test-qemu.sh BINDIR_PATCHED BINDIR_UNPATCHED
#
# Each BINDIR holds qemu-img, qemu-nbd and qemu-storage-daemon. Runs as root
# (loop and device-mapper devices; skips otherwise). Prints TAP version 13
# on stdout ("ok N name", "not ok N name" and its reason as a "#" line,
# "ok N name # SKIP reason", the plan first; harness/check reads it with
# harness/tap-results), then a totals line, and exits non-zero if any case
# failed. The expected maps come
# from the layouts the cases write, at the granularity of the device's map
# (4 KiB pages of a loop device's tmpfs backing file, the thin pool's
# 64 KiB blocks), never from the tools under test. On a patched kernel the
# patched tools must see exactly the written data and read only it; on an
# unpatched kernel (lseek SEEK_DATA fails with EINVAL on a block device) and
# with the unpatched tools, all of a device is data, and copies must be
# correct either way.
set -euo pipefail

if [ $# -ne 2 ]; then
	echo "usage: $0 BINDIR_PATCHED BINDIR_UNPATCHED" >&2
	exit 2
fi
NEW=$(realpath "$1")
OLD=$(realpath "$2")
HERE=$(dirname "$(realpath "$0")")
QMP=$HERE/qmp.py
for d in "$NEW" "$OLD"; do
	for b in qemu-img qemu-nbd qemu-storage-daemon; do
		[ -x "$d/$b" ] || { echo "$0: $d/$b is not executable" >&2; exit 2; }
	done
done

T=$(mktemp -d "${TMPDIR:-/tmp}/test-qemu.XXXXXX")
PIDS=()
cleanup() {
	local p d
	for p in "${PIDS[@]}"; do
		kill "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
	# Servers the cases started, then device-mapper devices in reverse
	# order of creation (thin before pool), then loop devices.
	if [ -f "$T/pids" ]; then
		while read -r p; do
			kill "$p" 2>/dev/null || true
		done <"$T/pids"
	fi
	if [ -f "$T/dms" ]; then
		tac "$T/dms" | while read -r d; do
			dmsetup remove --retry "$d" >/dev/null 2>&1 ||
				echo "test-qemu: could not remove dm device $d" >&2
		done
	fi
	if [ -f "$T/loops" ]; then
		while read -r d; do
			losetup -d "$d" 2>/dev/null || true
		done <"$T/loops"
	fi
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

KiB=1024
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

need_root() {
	[ "$(id -u)" = 0 ] || skip "needs root"
	command -v losetup >/dev/null || skip "needs losetup"
}

# write_layout TARGET BASE OFF:LEN...: random data at BASE+OFF for each
# OFF:LEN (bytes), written through to TARGET (O_DIRECT on a block device).
write_layout() {
	local t=$1 base=$2 spec flags=conv=notrunc
	shift 2
	[ -b "$t" ] && flags="oflag=direct conv=notrunc,fsync"
	for spec in "$@"; do
		# shellcheck disable=SC2086
		dd if=/dev/urandom of="$t" bs="${spec#*:}" count=1 \
			seek=$((base + ${spec%%:*})) oflag=seek_bytes \
			iflag=fullblock $flags status=none
	done
}

# extents OFF:LEN...: the layout as merged "OFF+LEN" lines, sorted.
extents() {
	printf '%s\n' "$@" | sort -n -t: -k1,1 | awk -F: '
		NF == 2 { if (n && s + l == $1) { l += $2; next }
			  if (n) print s "+" l; s = $1; l = $2; n = 1 }
		END { if (n) print s "+" l }'
}

# data_bytes OFF:LEN...: the bytes of data in a layout.
data_bytes() {
	local s n=0
	for s in "$@"; do n=$((n + ${s#*:})); done
	echo "$n"
}

# qmap BINDIR IMAGE [ARGS...]: the data extents qemu-img map reports, as
# merged "OFF+LEN" lines (IMAGE is a raw device unless ARGS say otherwise).
qmap() {
	local bin=$1 img=$2
	shift 2
	[ $# -gt 0 ] || set -- -f raw
	run 0 "$bin/qemu-img" map --output=json "$@" "$img"
	cp "$W/out" "$W/map.json"
	python3 "$HERE/map-extents.py" "$W/map.json"
}

# same_extents WHAT GOT WANT: fail with both if they differ.
same_extents() {
	[ "$2" = "$3" ] ||
		die "$1: ${2//$'\n'/, } (want ${3//$'\n'/, })"
}

# loop FILE [LOSETUP-ARGS...]: bind a loop device (detached at exit).
loop() {
	local f=$1 d
	shift
	d=$(losetup -f --show "$@" "$f") || die "losetup $f failed"
	echo "$d" >>"$T/loops"
	echo "$d"
}

# sysdir DEV: the device's /sys/dev/block directory (stat, size).
sysdir() {
	local t
	t=$(stat -L -c '%t %T' "$1")
	echo "/sys/dev/block/$((16#${t% *})):$((16#${t#* }))"
}

# sectors_read DEV: field 3 of the device's stat.
sectors_read() { awk '{ print $3 }' "$(sysdir "$1")/stat"; }

devsize() { blockdev --getsize64 "$1"; }

# kernel_answers DEV: "patched" if lseek(SEEK_DATA) works on DEV, else
# "unpatched" (EINVAL); the kernel's own answer, not QEMU's.
kernel_answers() {
	python3 "$HERE/kernel-answers.py" "$1"
}

# kernel: how the kernel answers ("patched" or "unpatched"), asked once
# of a loop device before the cases run: the expectations follow it.
KERNEL_ANSWERS=unknown
kernel() { echo "$KERNEL_ANSWERS"; }

# The layouts: offsets and lengths in bytes, aligned to the device's map
# (4 KiB for a loop device over a tmpfs file, 64 KiB for the thin pool).
LOOP_SIZE=$((64 * MiB))
LOOP_LAYOUT=(0:$((64 * KiB)) $((1 * MiB)):$((4 * KiB))
	$((5 * MiB)):$((1 * MiB)) $((30 * MiB)):$((192 * KiB))
	$((64 * MiB - 64 * KiB)):$((64 * KiB)))
# A partition of 32 MiB at 1 MiB of a 48 MiB GPT disk; the layout is in
# the partition.
PART_START=$((1 * MiB))
PART_SIZE=$((32 * MiB))
PART_LAYOUT=($((3 * MiB)):$((256 * KiB)) $((20 * MiB)):$((64 * KiB)))
THIN_BLOCK=$((64 * KiB))
THIN_SIZE=$((64 * MiB))
THIN_LAYOUT=($((2 * MiB)):$((128 * KiB)) $((10 * MiB)):$((1 * MiB))
	$((40 * MiB)):$((64 * KiB)))
# What a copy may read beyond the data: QEMU's O_DIRECT alignment probe
# and qemu-img's own reads at open (a few sectors).
READ_ALLOWANCE=$((64 * KiB))
# What a sparse copy may allocate beyond the data: qcow2's metadata
# clusters (header, L1, L2 and refcount tables of 64 KiB each).
ALLOC_ALLOWANCE=$((512 * KiB))

# ---- devices (each case makes its own, under $W) ----

# dev_loop: a loop device over a sparse tmpfs file with LOOP_LAYOUT.
dev_loop() {
	truncate -s "$LOOP_SIZE" "$W/loop.img"
	write_layout "$W/loop.img" 0 "${LOOP_LAYOUT[@]}"
	DEV=$(loop "$W/loop.img")
	LAYOUT=("${LOOP_LAYOUT[@]}")
	SIZE=$LOOP_SIZE
}

# dev_part: partition 1 of a GPT disk on a loop device, PART_LAYOUT in it
# (written into the disk image at the partition's offset).
dev_part() {
	command -v sfdisk >/dev/null || skip "needs sfdisk"
	truncate -s 48M "$W/disk.img"
	printf 'label: gpt\nstart=%d, size=%d\n' $((PART_START / 512)) \
		$((PART_SIZE / 512)) | sfdisk -q "$W/disk.img" >/dev/null 2>&1 ||
		skip "sfdisk failed"
	write_layout "$W/disk.img" "$PART_START" "${PART_LAYOUT[@]}"
	local d n ma mi
	d=$(loop "$W/disk.img" -P)
	n=${d#/dev/}
	for _ in $(seq 50); do
		[ -e "/sys/block/$n/${n}p1/dev" ] && break
		sleep 0.1
	done
	[ -e "/sys/block/$n/${n}p1/dev" ] || skip "no partition appeared on $d"
	# Our own node: udev may not run in the guest.
	IFS=: read -r ma mi <"/sys/block/$n/${n}p1/dev"
	mknod "$W/p1" b "$ma" "$mi"
	DEV=$W/p1
	LAYOUT=("${PART_LAYOUT[@]}")
	SIZE=$PART_SIZE
	[ "$(devsize "$DEV")" = "$SIZE" ] || die "partition size $(devsize "$DEV")"
}

# dev_thin: a thin volume of THIN_SIZE in a pool of THIN_BLOCK blocks on
# loop devices, THIN_LAYOUT written through it (provisioning those blocks).
dev_thin() {
	command -v dmsetup >/dev/null || skip "needs dmsetup"
	local pool=tq$$-${W##*/}-pool thin=tq$$-${W##*/} ml dl ma mi
	truncate -s 16M "$W/meta.img"
	truncate -s 128M "$W/data.img"
	ml=$(loop "$W/meta.img")
	dl=$(loop "$W/data.img")
	dmsetup create "$pool" --table "0 $((128 * MiB / 512)) thin-pool $ml $dl $((THIN_BLOCK / 512)) 0" 2>"$W/err" ||
		skip "no thin-pool target: $(oneline "$W/err")"
	echo "$pool" >>"$T/dms"
	read -r ma mi < <(dmsetup info -c --noheadings -o major,minor --separator ' ' "$pool")
	dmsetup message "$pool" 0 "create_thin 0"
	dmsetup create "$thin" --table "0 $((THIN_SIZE / 512)) thin $ma:$mi 0"
	echo "$thin" >>"$T/dms"
	read -r ma mi < <(dmsetup info -c --noheadings -o major,minor --separator ' ' "$thin")
	mknod "$W/thin" b "$ma" "$mi"
	DEV=$W/thin
	write_layout "$DEV" 0 "${THIN_LAYOUT[@]}"
	LAYOUT=("${THIN_LAYOUT[@]}")
	SIZE=$THIN_SIZE
}

# want_map: the data extents a patched QEMU must report on DEV: the layout
# on a patched kernel, all of it on an unpatched one.
want_map() {
	if [ "$(kernel)" = patched ]; then
		extents "${LAYOUT[@]}"
	else
		echo "0+$SIZE"
	fi
}

# ---- cases ----

t_kernel_as_expected() {
	need_root
	[ -n "${EXPECT_KERNEL:-}" ] || skip "EXPECT_KERNEL is not set"
	local k
	k=$(kernel)
	[ "$k" = "$EXPECT_KERNEL" ] ||
		die "the kernel answers as $k, expected $EXPECT_KERNEL"
	echo "$k kernel"
}

# map_case DEVFN: patched qemu-img map equals the layout (all data on an
# unpatched kernel), the unpatched one reports all data.
map_case() {
	need_root
	"$1"
	local got old
	got=$(qmap "$NEW" "$DEV")
	same_extents "patched qemu-img map of $DEV" "$got" "$(want_map)"
	old=$(qmap "$OLD" "$DEV")
	same_extents "unpatched qemu-img map" "$old" "0+$SIZE"
	if [ "$(kernel)" = unpatched ]; then
		# Not just the same extents: the same map, byte for byte.
		"$NEW/qemu-img" map --output=json -f raw "$DEV" >"$W/new.json"
		"$OLD/qemu-img" map --output=json -f raw "$DEV" >"$W/old.json"
		cmp -s "$W/new.json" "$W/old.json" ||
			die "patched and unpatched maps differ on an unpatched kernel"
		echo "all data, as unpatched"
	else
		echo "$(wc -l <<<"$got") data extents; unpatched: all data"
	fi
}
t_map_loop() { map_case dev_loop; }
t_map_partition() { map_case dev_part; }
t_map_thin() { map_case dev_thin; }

# A loop device at an offset of 1000 bytes into its backing file: its
# holes are not sector-aligned. Buffered, the map is exact; with
# O_DIRECT (request alignment 512), data is rounded out to sectors.
t_map_unaligned() {
	need_root
	local layout=($((1 * MiB)):$((64 * KiB)) $((8 * MiB)):$((4 * KiB)))
	truncate -s $((16 * MiB + 1000)) "$W/loop.img"
	write_layout "$W/loop.img" 0 "${layout[@]}"
	DEV=$(loop "$W/loop.img" -o 1000)
	SIZE=$((16 * MiB))
	[ "$(devsize "$DEV")" = "$SIZE" ] || die "size $(devsize "$DEV")"
	local s exact=() rounded=() o l
	for s in "${layout[@]}"; do
		o=$((${s%%:*} - 1000)) l=${s#*:}
		exact+=("$o:$l")
		rounded+=("$((o / 512 * 512)):$(((o + l + 511) / 512 * 512 - o / 512 * 512))")
	done
	if [ "$(kernel)" = unpatched ]; then
		exact=("0:$SIZE") rounded=("0:$SIZE")
	fi
	same_extents "buffered map" "$(qmap "$NEW" "$DEV")" "$(extents "${exact[@]}")"
	same_extents "O_DIRECT map" "$(qmap "$NEW" \
		"driver=raw,cache.direct=on,file.driver=host_device,file.filename=$DEV" \
		--image-opts)" "$(extents "${rounded[@]}")"
	# And a copy through O_DIRECT, which asks at sector granularity, has
	# every byte.
	run 0 "$NEW/qemu-img" convert -T none -f raw -O raw "$DEV" "$W/out.raw"
	cmp "$DEV" "$W/out.raw" >/dev/null || die "cmp: the O_DIRECT copy differs"
	if [ "$(kernel)" = patched ]; then
		echo "holes at byte and at sector granularity"
	else
		echo "all data, as unpatched"
	fi
}

# convert_case DEVFN FMT: qemu-img convert -T none (O_DIRECT: the device's
# stat counts every read) to FMT reads at most the data plus
# READ_ALLOWANCE with the patched qemu-img on a patched kernel, all of the
# device otherwise; the copy compares identical and is sparse.
convert_case() {
	need_root
	"$1"
	local fmt=$2 data before after rd bin out want_max alloc new_rd=- old_rd=-
	data=$(data_bytes "${LAYOUT[@]}")
	for bin in "$NEW" "$OLD"; do
		out=$W/out.$fmt
		rm -f "$out"
		blockdev --flushbufs "$DEV"
		before=$(sectors_read "$DEV")
		run 0 "$bin/qemu-img" convert -T none -f raw -O "$fmt" "$DEV" "$out"
		after=$(sectors_read "$DEV")
		rd=$(((after - before) * 512))
		if [ "$bin" = "$NEW" ] && [ "$(kernel)" = patched ]; then
			want_max=$((data + READ_ALLOWANCE))
			[ "$rd" -le "$want_max" ] ||
				die "patched convert read $rd bytes, data is $data (+$READ_ALLOWANCE allowed)"
		else
			[ "$rd" -ge "$SIZE" ] ||
				die "convert read only $rd of $SIZE bytes, where no holes are reported ($bin)"
		fi
		if [ "$bin" = "$NEW" ]; then new_rd=$rd; else old_rd=$rd; fi
		run 0 "$bin/qemu-img" compare -f raw -F "$fmt" "$DEV" "$out"
		grep -q "Images are identical" "$W/out" ||
			die "compare: $(oneline "$W/out")"
		# Cross-check with a tool that is not under test.
		if [ "$fmt" = raw ]; then
			cmp "$DEV" "$out" >/dev/null || die "cmp: the copy differs"
		fi
		alloc=$(($(stat -c %b "$out") * 512))
		[ "$alloc" -le $((data + ALLOC_ALLOWANCE)) ] ||
			die "$fmt copy allocates $alloc bytes, data is $data"
	done
	echo "read $new_rd bytes (data $data, device $SIZE), unpatched read $old_rd"
}
t_convert_raw_loop() { convert_case dev_loop raw; }
t_convert_qcow2_loop() { convert_case dev_loop qcow2; }
t_convert_raw_partition() { convert_case dev_part raw; }
t_convert_raw_thin() { convert_case dev_thin raw; }
t_convert_qcow2_thin() { convert_case dev_thin qcow2; }

# nbd_map URI: data extents nbdinfo --map reports (NBD_STATE_HOLE clear).
nbd_map() {
	run 0 nbdinfo --map "$1"
	awk 'NF >= 3 && $1 ~ /^[0-9]+$/ {
		if ($3 % 2) next
		if (n && s + l == $1) { l += $2; next }
		if (n) print s "+" l; s = $1; l = $2; n = 1 }
		END { if (n) print s "+" l }' "$W/out"
}

# serve CMD...: start an NBD server in the background (killed at exit)
# and wait for its socket $W/sock.
serve() {
	rm -f "$W/sock"
	"$@" >"$W/server.log" 2>&1 &
	echo $! >>"$T/pids"
	SERVER=$!
	for _ in $(seq 200); do
		[ -S "$W/sock" ] && return
		kill -0 "$SERVER" 2>/dev/null ||
			die "server exited: $(oneline "$W/server.log")"
		sleep 0.1
	done
	die "no socket from $1"
}

stop() { kill "$SERVER" 2>/dev/null || true; wait "$SERVER" 2>/dev/null || true; }

# nbd_case DEVFN SERVER: holes seen by an NBD client through qemu-nbd or
# qemu-storage-daemon (patched; the unpatched qemu-nbd exports none).
nbd_case() {
	need_root
	command -v nbdinfo >/dev/null ||
		skip "needs nbdinfo: add libnbd-bin to the packages harness/deps installs"
	"$1"
	local got old uri="nbd+unix:///?socket=$W/sock"
	case $2 in
	qemu-nbd)
		serve "$NEW/qemu-nbd" -r -t -f raw -k "$W/sock" "$DEV"
		got=$(nbd_map "$uri")
		stop
		serve "$OLD/qemu-nbd" -r -t -f raw -k "$W/sock" "$DEV"
		old=$(nbd_map "$uri")
		stop ;;
	qsd)
		uri="nbd+unix:///d?socket=$W/sock"
		serve "$NEW/qemu-storage-daemon" \
			--blockdev "driver=host_device,node-name=d,filename=$DEV,read-only=on" \
			--nbd-server "addr.type=unix,addr.path=$W/sock" \
			--export type=nbd,id=e,node-name=d,name=d
		got=$(nbd_map "$uri")
		stop
		serve "$OLD/qemu-storage-daemon" \
			--blockdev "driver=host_device,node-name=d,filename=$DEV,read-only=on" \
			--nbd-server "addr.type=unix,addr.path=$W/sock" \
			--export type=nbd,id=e,node-name=d,name=d
		old=$(nbd_map "$uri")
		stop ;;
	esac
	same_extents "patched $2 over NBD" "$got" "$(want_map)"
	same_extents "unpatched $2 over NBD" "$old" "0+$SIZE"
	echo "$(wc -l <<<"$got") data extents over NBD; unpatched: all data"
}
t_nbd_loop() { nbd_case dev_loop qemu-nbd; }
t_nbd_thin() { nbd_case dev_thin qemu-nbd; }
t_qsd_thin() { nbd_case dev_thin qsd; }

# A thin volume with nothing provisioned: SEEK_DATA fails with ENXIO from
# offset 0 on a patched kernel, which is all hole, not "unsupported".
t_map_empty_thin() {
	need_root
	THIN_LAYOUT=()
	dev_thin
	local want="" got
	[ "$(kernel)" = patched ] || want="0+$SIZE"
	got=$(qmap "$NEW" "$DEV")
	same_extents "patched map of an empty thin volume" "$got" "$want"
	run 0 "$NEW/qemu-img" convert -T none -f raw -O raw "$DEV" "$W/out.raw"
	run 0 "$NEW/qemu-img" compare -f raw -F raw "$DEV" "$W/out.raw"
	if [ "$(kernel)" = patched ]; then echo "all hole"; else echo "all data, as unpatched"; fi
}

# mirror_one BINDIR QCOW2: a blockdev-mirror sync=full of DEV (host_device,
# O_DIRECT: the device's stat counts every read) to the new QCOW2 in
# qemu-storage-daemon, driven over QMP by qmp.py; sets RD to the bytes read
# from DEV.
mirror_one() {
	local bin=$1 img=$2 pid before after rc=0
	rm -f "$img" "$W/qmp.sock"
	run 0 "$bin/qemu-img" create -f qcow2 "$img" "$SIZE"
	blockdev --flushbufs "$DEV"
	before=$(sectors_read "$DEV")
	"$bin/qemu-storage-daemon" \
		--blockdev "driver=host_device,node-name=src,filename=$DEV,read-only=on,cache.direct=on" \
		--blockdev "driver=file,node-name=tgt-file,filename=$img" \
		--blockdev driver=qcow2,node-name=tgt,file=tgt-file \
		--chardev "socket,id=qmp,path=$W/qmp.sock,server=on,wait=off" \
		--monitor chardev=qmp >"$W/qsd.log" 2>&1 &
	pid=$!
	echo "$pid" >>"$T/pids"
	python3 "$QMP" -t 300 "$W/qmp.sock" \
		"blockdev-mirror job-id=m device=src target=tgt sync=full" \
		"@BLOCK_JOB_READY device=m" "job-complete id=m" \
		"@BLOCK_JOB_COMPLETED device=m" quit >"$W/qmp.out" 2>"$W/qmp.err" ||
		rc=$?
	# After "quit" the daemon exits by itself; after a failure, make it.
	[ "$rc" = 0 ] || kill "$pid" 2>/dev/null || true
	wait "$pid" || true
	[ "$rc" = 0 ] || die "mirror ($bin): $(oneline "$W/qmp.err") daemon: $(oneline "$W/qsd.log")"
	after=$(sectors_read "$DEV")
	RD=$(((after - before) * 512))
	run 0 "$bin/qemu-img" compare -f raw -F qcow2 "$DEV" "$img"
	grep -q "Images are identical" "$W/out" ||
		die "compare after the mirror ($bin): $(oneline "$W/out")"
}

# A full mirror of a thin volume to a new qcow2 image, patched and
# unpatched: the copy must equal the volume. The patched daemon reports
# the holes as zeroes, for which the mirror writes zeroes (here nothing:
# the new image reads as zeroes) instead of copying them: on a patched
# kernel it must read at most the data plus READ_ALLOWANCE and leave the
# image sparse. The unpatched one reads the whole volume (and writes its
# zeroes: its image is fully allocated, which is only reported).
t_mirror_thin() {
	need_root
	dev_thin
	local data new_rd old_rd new_alloc old_alloc
	data=$(data_bytes "${LAYOUT[@]}")
	mirror_one "$NEW" "$W/new.qcow2"
	new_rd=$RD
	new_alloc=$(($(stat -c %b "$W/new.qcow2") * 512))
	mirror_one "$OLD" "$W/old.qcow2"
	old_rd=$RD
	old_alloc=$(($(stat -c %b "$W/old.qcow2") * 512))
	[ "$old_rd" -ge "$SIZE" ] ||
		die "unpatched mirror read only $old_rd of $SIZE bytes"
	if [ "$(kernel)" = patched ]; then
		[ "$new_rd" -le $((data + READ_ALLOWANCE)) ] ||
			die "patched mirror read $new_rd bytes, data is $data (+$READ_ALLOWANCE allowed)"
		[ "$new_alloc" -le $((data + ALLOC_ALLOWANCE)) ] ||
			die "patched mirror's image allocates $new_alloc bytes, data is $data"
	else
		[ "$new_rd" -ge "$SIZE" ] ||
			die "patched mirror read only $new_rd of $SIZE bytes on an unpatched kernel"
	fi
	echo "read $new_rd bytes, image $new_alloc (data $data, device $SIZE); unpatched read $old_rd, image $old_alloc"
}

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
	[ "$(cat "$T/$name/took")" -lt 5 ] || took=" [$(cat "$T/$name/took") s]"
	n=$((n + 1))
	case $rc in
	0)  echo "ok $n $name"; passed=$((passed + 1)) ;;
	77) echo "ok $n $name # SKIP $why"; skipped=$((skipped + 1)) ;;
	*)  echo "not ok $n $name"; failed=$((failed + 1)) ;;
	esac
	# A pass's note, a failure's reason.
	[ -z "$why$took" ] || [ "$rc" = 77 ] || echo "# ${why:-done}$took"
}

run_cases() {
	local jobs=${TOOLS_JOBS:-1} i next=0 running=0 c
	for ((i = 0; i < ${#CASES[@]}; i++)); do
		c=${CASES[i]}
		run_case "${c% *}" "${c#* }" &
		PIDS+=($!)
		running=$((running + 1))
		while [ "$running" -ge "$jobs" ] ||
		      { [ "$i" = $((${#CASES[@]} - 1)) ] && [ "$running" -gt 0 ]; }; do
			wait -n || true
			running=$((running - 1))
			while [ "$next" -lt "${#CASES[@]}" ] &&
			      [ -f "$T/${CASES[next]% *}/rc" ]; do
				report "${CASES[next]% *}"
				next=$((next + 1))
			done
		done
	done
	PIDS=()
}

case_ kernel-as-expected t_kernel_as_expected
case_ map-loop t_map_loop
case_ map-partition t_map_partition
case_ map-thin t_map_thin
case_ map-empty-thin t_map_empty_thin
case_ map-unaligned-loop-offset t_map_unaligned
case_ convert-raw-loop t_convert_raw_loop
case_ convert-qcow2-loop t_convert_qcow2_loop
case_ convert-raw-partition t_convert_raw_partition
case_ convert-raw-thin t_convert_raw_thin
case_ convert-qcow2-thin t_convert_qcow2_thin
case_ nbd-qemu-nbd-loop t_nbd_loop
case_ nbd-qemu-nbd-thin t_nbd_thin
case_ nbd-storage-daemon-thin t_qsd_thin
case_ mirror-storage-daemon-thin t_mirror_thin

# The kernel's own answer on a loop device, before any case runs.
if [ "$(id -u)" = 0 ] && command -v losetup >/dev/null; then
	truncate -s 1M "$T/probe.img"
	probe=$(losetup -f --show "$T/probe.img")
	echo "$probe" >>"$T/loops"
	KERNEL_ANSWERS=$(kernel_answers "$probe")
	losetup -d "$probe"
fi
case $KERNEL_ANSWERS in
patched|unpatched) ;;
*) echo "test-qemu: lseek(SEEK_DATA) on a loop device: $KERNEL_ANSWERS" >&2 ;;
esac

echo "TAP version 13"
echo "1..${#CASES[@]}"
n=0
run_cases

echo "test-qemu: $passed passed, $failed failed, $skipped skipped"
[ "$failed" = 0 ]
