# Included by the top-level Makefile: QEMU's tools (qemu-img, qemu-nbd,
# qemu-storage-daemon) from Debian's QEMU 10.2 source, as released into
# build/qemu/unpatched and with the companion patch into build/qemu/patched
# (cached; quick when the patch did not change). See userspace/qemu/README.md.
.PHONY: qemu
qemu:
	@QEMU_JOBS=$(NPROC) harness/qemu build >/dev/null
