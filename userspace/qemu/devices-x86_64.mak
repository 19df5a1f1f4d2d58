# Devices of the patched qemu-system-x86_64 that harness/qemu system builds
# (configure --without-default-devices --with-devices-x86_64=seekhole):
# the pc (i440fx) machine and what harness/vm and test-scsi-hd.sh attach.
CONFIG_I440FX=y
CONFIG_VIRTIO_PCI=y
CONFIG_VIRTIO_BLK=y
CONFIG_VIRTIO_9P=y
CONFIG_VIRTIO_SCSI=y
# The pc machine's ACPI tables call into the CXL host code (hw/acpi/cxl.c,
# which ACPI_X86 selects, needs cxl_fmws_get_all_sorted() of hw/cxl): CXL
# is not otherwise needed, but the link fails without it, its memory
# device, PCI Express (and its root port, the parent of CXL's) and the PCI
# expander bridge.
CONFIG_PCI_EXPRESS=y
CONFIG_PCIE_PORT=y
CONFIG_PXB=y
CONFIG_CXL=y
CONFIG_CXL_MEM_DEVICE=y
