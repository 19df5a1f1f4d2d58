#!/usr/bin/env bash
# The emulated SCSI disk of the companion patches 0003 and 0004, end to
# end: the series' kernel boots in a qemu-system-x86_64 with scsi-hd disks
# on a virtio-scsi controller, and the guest's SEEK_DATA/SEEK_HOLE map of
# each disk must equal the image's layout on the host.
#
# Usage: userspace/qemu/test-scsi-hd.sh [QEMU_SYSTEM]
#        (default: the patched emulator of 'harness/qemu system')
#
# Disks (scsi-hd, each on its own target, LUN 0):
#   raw      sparse raw file, 64 KiB-aligned data, discard=unmap: the map
#            is the layout written, which the file's own SEEK map equals
#   odd      sparse raw file with data at odd offsets and lengths,
#            discard=unmap: the map is the file's SEEK map on the host (its
#            file system's blocks), which covers every byte written
#   qcow2    qcow2 (64 KiB clusters) converted from a raw layout by
#            Debian's qemu-img, plus a cluster written with zeroes (data)
#            and a zeroed one (a zero cluster), discard=unmap: the map is
#            what Debian's unpatched /usr/bin/qemu-img map says does not
#            read as zeroes
#   control  a copy of raw with discard_granularity=0 (and no
#            discard=unmap): no logical block provisioning, all data
#   ignore   a copy of raw with the default discard=ignore: LBPME but
#            no LBPRZ (a guest that sees LBPRZ may discard by writing
#            zeroes), so Linux does not ask GET LBA STATUS: all data
# In the guest every hole is read back (zeroes) and each disk hashed; the
# host compares the hash with the image's contents. PASS/FAIL per disk;
# the exit status is 1 if any failed. An emulator without the patches
# fails raw, odd and qcow2 (all data) and passes control and ignore.
#
# The guest kernel needs virtio-scsi (CONFIG_SCSI_VIRTIO=y, in
# Kconfig.fragment).
#
# Environment: KERNEL_OBJ (default build/obj), KERNEL (default its
# bzImage), BUILD (default build), VMDIR (default build/vm-scsi-hd).
# Needs Debian's qemu-utils (/usr/bin/qemu-img, /usr/bin/qemu-io).
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
: "${BUILD:=$top/build}"
: "${KERNEL_OBJ:=$BUILD/obj}"
: "${KERNEL:=$KERNEL_OBJ/arch/x86/boot/bzImage}"
: "${VMDIR:=$BUILD/vm-scsi-hd}"
qemu=${1:-$("$top/harness/qemu" system-path)}
py=$top/userspace/qemu/scsi_hd.py
work=$BUILD/qemu/scsi-hd-test

log() { echo "test-scsi-hd: $*" >&2; }
die() { log "$*"; exit 1; }

[ -x "$qemu" ] || die "no emulator at $qemu (run 'harness/qemu system')"
[ -f "$KERNEL" ] || die "no kernel at $KERNEL"
for t in qemu-img qemu-io; do
	[ -x /usr/bin/$t ] || die "/usr/bin/$t missing (Debian's qemu-utils)"
done

grep -q '^CONFIG_SCSI_VIRTIO=y' "$KERNEL_OBJ/.config" ||
	die "$KERNEL has no virtio-scsi (CONFIG_SCSI_VIRTIO, Kconfig.fragment): run 'make kernel'"

rm -rf "$work"
mkdir -p "$work"
cases=$work/cases.json

# raw: 32 MiB, data at 64 KiB-aligned places, up to the end.
raw=(0:64K 1M:192K 5184K:64K 12M:1M 32704K:64K)
python3 "$py" write "$work/raw.img" 32M "${raw[@]}"
python3 "$py" expect "$cases" raw raw "$work/raw.img" "${raw[@]}"
# odd: 16 MiB, data at offsets and of lengths of no alignment.
odd=(1000:100 70000:1 4194303:3 10485883:4877 16777000:216)
python3 "$py" write "$work/odd.img" 16M "${odd[@]}"
python3 "$py" expect "$cases" odd raw-fs "$work/odd.img" "${odd[@]}"
# qcow2: 48 MiB, 64 KiB clusters; then 8 MiB written with a cluster of
# zeroes (allocated: data) and 2 MiB zeroed (a zero cluster: a hole).
python3 "$py" write "$work/qcow2.src" 48M 0:64K 2M:192K 20800K:64K 47M:1M
/usr/bin/qemu-img convert -q -f raw -O qcow2 -o cluster_size=64K \
	"$work/qcow2.src" "$work/disk.qcow2"
/usr/bin/qemu-io -f qcow2 -c 'write -q -P 0 8M 64K' \
	-c 'write -q -z 2M 64K' "$work/disk.qcow2" >/dev/null
rm -f "$work/qcow2.src"
python3 "$py" expect "$cases" qcow2 qcow2 "$work/disk.qcow2" \
	0:64K 2112K:128K 20800K:64K 47M:1M
# control and ignore: copies of raw, attached differently.
cp --sparse=always "$work/raw.img" "$work/control.img"
cp --sparse=always "$work/raw.img" "$work/ignore.img"
python3 "$py" expect "$cases" control alldata "$work/control.img"
python3 "$py" expect "$cases" ignore alldata "$work/ignore.img"

drive() { # ID FILE FORMAT TARGET [DRIVE OPTIONS] [-- DEVICE OPTIONS]
	local id=$1 file=$2 fmt=$3 target=$4 dopt= hopt=
	shift 4
	while [ $# -gt 0 ] && [ "$1" != -- ]; do dopt+=,$1; shift; done
	[ $# -gt 0 ] && shift
	while [ $# -gt 0 ]; do hopt+=,$1; shift; done
	devices+=" -drive file=$file,if=none,id=$id,format=$fmt$dopt"
	devices+=" -device scsi-hd,bus=scsi0.0,scsi-id=$target,lun=0"
	devices+=",drive=$id,serial=sh-$id$hopt"
}
devices="-nic none -device virtio-scsi-pci,id=scsi0"
drive raw "$work/raw.img" raw 1 discard=unmap
drive odd "$work/odd.img" raw 2 discard=unmap
drive qcow2 "$work/disk.qcow2" qcow2 3 discard=unmap
drive control "$work/control.img" raw 4 -- discard_granularity=0
drive ignore "$work/ignore.img" raw 5 discard=ignore

guest="bash $top/userspace/qemu/scsi-hd-guest.sh $py"

log "booting $KERNEL in $qemu"
(cd "$top" && VM_QEMU=$qemu VM_DEVICES=$devices VMDIR=$VMDIR \
	VM_LEAKCHECK=${VM_LEAKCHECK:-0} KERNEL=$KERNEL \
	"$top/harness/vm" "$guest" > "$work/vm.log" 2>&1) ||
	{ tail -n 30 "$work/vm.log" >&2; die "the guest failed"; }
log "the guest's sd log: $VMDIR/out/sd.log, sg3-utils: $VMDIR/out/sg.log"
python3 "$py" check "$VMDIR/out/scsi-hd.json" "$cases"
