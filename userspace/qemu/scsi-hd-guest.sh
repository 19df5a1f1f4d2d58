#!/usr/bin/env bash
# Runs in the guest of test-scsi-hd.sh: the disks' maps (scsi_hd.py guest,
# into /run/vmout/scsi-hd.json), the kernel's sd log, and for the record
# what the disks answer through sg3-utils (SG_IO): READ CAPACITY(16), the
# provisioning VPD page, REPORT SUPPORTED OPERATION CODES and GET LBA
# STATUS of raw (target 1), qcow2 (3) and control (4); and on raw every
# command listed, one by operation code, one with service actions asked
# without (INVALID FIELD IN CDB), a start past the end (LBA OUT OF RANGE)
# and one from inside a data extent. Exits with the map step's status.
# Usage: scsi-hd-guest.sh SCSI_HD_PY
py=$1
out=/run/vmout
python3 "$py" guest "$out/scsi-hd.json" raw=1 odd=2 qcow2=3 control=4 ignore=5
rc=$?
dmesg | grep -E 'sd [0-9:]+: |GET LBA' > "$out/sd.log"
disk() { ls /sys/bus/scsi/devices/*:0:"$1":0/block; }
{
	for t in 1 3 4; do
		d=$(disk "$t")
		echo "== target $t: $d"
		sg_readcap -l "/dev/$d"
		sg_vpd -p lbpv "/dev/$d"
		sg_opcodes -o 0x9e -s 0x12 "/dev/$d"
		sg_get_lba_status -m 88 "/dev/$d"
	done
	d=$(disk 1)
	for c in '' '-o 0x12' '-o 0x9e'; do
		echo "== sg_opcodes $c"
		# shellcheck disable=SC2086 # the options are split on purpose
		sg_opcodes $c "/dev/$d"
	done
	for l in 65536 2100; do
		echo "== sg_get_lba_status -l $l"
		sg_get_lba_status -m 88 -l "$l" "/dev/$d"
	done
} > "$out/sg.log" 2>&1
exit $rc
