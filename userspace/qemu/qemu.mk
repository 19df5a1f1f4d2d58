# Included by the top-level Makefile: QEMU's tools (qemu-img, qemu-nbd,
# qemu-storage-daemon) from Debian's QEMU 10.2 source, as released into
# build/qemu/unpatched and with the companion patch into build/qemu/patched
# (cached; quick when the patch did not change). See userspace/qemu/README.md.
.PHONY: qemu
qemu:
	@QEMU_JOBS=$(NPROC) harness/qemu build >/dev/null

# The emulated SCSI disk of patches 0003 and 0004: a patched
# qemu-system-x86_64 (TCG, the devices of devices-x86_64.mak only; cached
# in build/qemu/system) boots the series' debug kernel with scsi-hd disks
# on sparse images, and test-scsi-hd.sh compares the guest's SEEK_DATA map
# of each disk with the image's layout. A target of its own, like
# check-qemu: the system emulator's build does not fit CI's budget with a
# cold cache (see userspace/qemu/README.md).
.PHONY: qemu-system check-scsi-hd
qemu-system:
	@QEMU_JOBS=$(NPROC) harness/qemu system >/dev/null

check-scsi-hd: deps qemu-system
	$(MAKE) kernel
	KERNEL=$(BZIMAGE) KERNEL_OBJ=$(KOBJ) VMDIR=$(BUILD)/vm-scsi-hd$(PLAINSFX) \
		userspace/qemu/test-scsi-hd.sh "$$(harness/qemu system-path)"
