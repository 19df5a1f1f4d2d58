# SEEK_DATA/SEEK_HOLE for Linux block devices: build, boot, test, measure.
# 'make help' prints the targets below.
#
#   make run            build the patched kernel, boot it, show a device map
#   make check          install prerequisites, build, run the whole suite
#                       at CI scale (what .ci/run runs)
#   make check-full     the whole suite at full scale
#   make check-base     the suite on the unpatched base (map tests must fail)
#   make check-qemu     QEMU's tools, released and patched, in the guest
#   make check-scsi-hd  QEMU's scsi-hd with GET LBA STATUS, in the guest
#   make check-series   apply, build (W=1, sparse, modules, i386) and check
#                       every patch of the series
#   make check-overlay  the overlaid kernel files are the series applied
#   make bench          the benchmarks on the plain kernel (docs/bench.md)
#   make stress         the stress tool for STRESS_S seconds (600)
#   make mutants        each defect of tests/mutants against the cases that
#                       must catch it (MUTANTS='NN ...': those only)
#   make unit           the host unit tests (CTest)
#   make tests          the user-space C++ (CMake): suite, tools, stress
#   make kernel         the guest kernel (debug; PLAIN=1: without detectors)
#   make kselftest      the kselftest of the overlaid tree
#   make coreutils      GNU cp with the companion patch
#   make qemu           QEMU's tools, released and patched
#   make qemu-system    the patched qemu-system-x86_64 (scsi-hd)
#   make vm CMD='...'   run a shell command as root in the guest
#   make shell          interactive guest shell
#   make deps           install what building and testing need (Debian 12)
#   make deps-bench     also the clients make bench times (borg, xfs_io)
#   make diff           the kernel series as a diff against the base
#   make patches        patches/ (the series) from the series tree, and the
#                       overlaid kernel files from patches/
#   make series-tree    the series as git commits to edit (build/series)
#   make record-base    record the base tree's checksums (kernel-base.sha256)
#   make base-sha256    the sha256 of the pinned base's tarball (to move a pin)
#   make clean          the kernel objects, the C++ build and guest state
#   make distclean      all of build/
#   BASE=1              use the unpatched base kernel instead (any target)
#   KBASE=6.12          the stable backport (stable/6.12/patches on Debian
#                       12's 6.12) instead of the series on 7.3 (any target;
#                       its own build directory, build/stable-6.12)
#   ACCEL=kvm           use KVM instead of TCG where it works

# The base kernels, pinned here and nowhere else: Debian's package version
# and the sha256 of its tarball (harness/kernel-src stops on any other).
KBASE    ?= 7.3
ifeq ($(KBASE),7.3)
KPKG     := linux-source-7.3
KPKG_VER := 7.3.4-1~bpo13+1
KPKG_SHA256 := 76df1affb19f24926949369be1d74b60071c963c598ce8780bddd4bbf0fc3bc4
# The series: patches/, overlaid on the base from the repository's tree.
SERIES_DIR := $(CURDIR)/patches
RECORD   := $(CURDIR)/kernel-base.sha256
OVERLAY  := 1
BUILD    := $(CURDIR)/build
else ifeq ($(KBASE),6.12)
KPKG     := linux-source-6.12
KPKG_VER := 6.12.117-1~deb12u1
KPKG_SHA256 := 585a4a074597aefa2b1a68ada83a3184ba351c127544dea80618bbcceaa3961f
# The stable backport: its patches applied to the base, no overlay.
SERIES_DIR := $(CURDIR)/stable/6.12/patches
RECORD   :=
OVERLAY  := 0
BUILD    := $(CURDIR)/build/stable-6.12
# A backport for distributions on 6.12, not a submission to mainline.
SERIES_PREFIX := PATCH 6.12
else
$(error KBASE=$(KBASE): the series is on 7.3, its backport on 6.12)
endif
NPROC    := $(shell nproc)

# The debug kernel (Kconfig.fragment and Kconfig.debug: KASAN, kmemleak,
# lockdep, ...) is the one the suite boots; PLAIN=1 selects the plain one
# (Kconfig.fragment and Kconfig.plain: no detectors, -O2, as a distribution
# builds), which 'make bench' and 'make run' use.
PLAINSFX := $(if $(filter 1,$(PLAIN)),-plain)
KFRAGS   := Kconfig.fragment $(if $(PLAINSFX),Kconfig.plain,Kconfig.debug)
ifeq ($(BASE),1)
KTREE    := $(BUILD)/base/$(KPKG)
KOBJ     := $(BUILD)/base/obj$(PLAINSFX)
else
KTREE    := $(BUILD)/$(KPKG)
KOBJ     := $(BUILD)/obj$(PLAINSFX)
endif
BZIMAGE  := $(KOBJ)/arch/x86/boot/bzImage
VMDIR    := $(BUILD)/vm$(if $(filter 1,$(BASE)),-base)$(PLAINSFX)

CCACHE   := $(shell command -v ccache 2>/dev/null)
# Kbuild passes absolute source paths; relative to the object directory they
# are the same for every clone and for every tree laid out as
# <dir>/linux-source-6.12 next to <dir>/obj (the base and the series trees
# too), so ccache serves one from another.
export CCACHE_BASEDIR := $(BUILD)
KMAKE    := $(MAKE) -C $(KTREE) O=$(KOBJ) CC="$(CCACHE) gcc" \
	    KBUILD_BUILD_TIMESTAMP=seek-hole-data KBUILD_BUILD_USER=build \
	    KBUILD_BUILD_HOST=build

export BUILD KPKG KPKG_VER KPKG_SHA256 SERIES_DIR RECORD OVERLAY VMDIR ACCEL SERIES_PREFIX
VM       := KERNEL=$(BZIMAGE) harness/vm
# Benchmarks and the demo time the code, not the detectors: the plain kernel.
PLAINVM  := KERNEL=$(BUILD)/obj-plain/arch/x86/boot/bzImage \
	    VMDIR=$(BUILD)/vm-plain harness/vm

.PHONY: all help cxx deps deps-bench src kernel config diff record-base clean distclean \
	vm shell tests unit kselftest check check-full check-base check-qemu run bench \
	series-tree patches check-overlay check-series base-sha256

all: kernel

deps:
	harness/deps

deps-bench:
	harness/deps bench

# Always run: it is quick, and it makes the build tree match the repository
# even after a hand edit there (files that did not change keep their times).
src:
	@harness/kernel-src prepare

$(KOBJ)/.config: $(KFRAGS) | src
	mkdir -p $(KOBJ)
	$(KMAKE) -s tinyconfig
	$(KTREE)/scripts/kconfig/merge_config.sh -m -O $(KOBJ) \
		$(KOBJ)/.config $(KFRAGS) >/dev/null
	$(KMAKE) -s olddefconfig
	@KSRC=$(KTREE) harness/check-config $(KOBJ)/.config $(KFRAGS)

config: $(KOBJ)/.config

# The user-space C++ (the suite, its host unit tests, the tools and the
# stress tool): CMakeLists.txt, configured in build/cmake, which tracks
# each object's dependencies. The binaries land in build/tests,
# build/utils and build/stress, where the guest runs them from the shared
# root.
CMAKE_DIR := $(BUILD)/cmake
TEST_BIN := $(BUILD)/tests/seek_hole_test
UNIT_BIN := $(BUILD)/tests/unit_test
SEEKMAP  := $(BUILD)/utils/seekmap
HOLECOPY := $(BUILD)/utils/holecopy
STRESS_BIN := $(BUILD)/stress/stress

# The stamp of a configure that succeeded (CMake writes its cache even when
# configuring fails, so the cache cannot tell).
$(CMAKE_DIR)/configured: CMakeLists.txt
	cmake -S . -B $(CMAKE_DIR) -DSEEK_BIN_DIR=$(BUILD) \
		$(if $(CCACHE),-DCMAKE_CXX_COMPILER_LAUNCHER=$(CCACHE)) >/dev/null
	@touch $@

# Always ask CMake: it knows what is out of date.
cxx: $(CMAKE_DIR)/configured
	cmake --build $(CMAKE_DIR) -j$(NPROC) -- --no-print-directory
$(TEST_BIN) $(UNIT_BIN) $(SEEKMAP) $(HOLECOPY) $(STRESS_BIN): cxx ;

tests: cxx

# Host-only unit tests (no guest) of the map walker, the fixtures and the
# expected maps the suite compares the kernel with: the first step of make
# check.
unit: cxx
	@ctest --test-dir $(CMAKE_DIR) --output-on-failure -j$(NPROC) \
		>$(CMAKE_DIR)/unit.log || { cat $(CMAKE_DIR)/unit.log; exit 1; }
	@tail -3 $(CMAKE_DIR)/unit.log

include userspace/coreutils/coreutils.mk userspace/qemu/qemu.mk

# The kselftest lives in the overlaid tree; it is plain user space, so the
# same build serves the base kernel too.
KSELFTEST := $(BUILD)/$(KPKG)/tools/testing/selftests

kselftest: src
	$(MAKE) -s -C $(KSELFTEST) TARGETS=block_seek_hole

# Always ask kbuild: it knows what is out of date.
kernel: src $(KOBJ)/.config
	$(KMAKE) -s -j$(NPROC) bzImage modules
	@echo "kernel: $(BZIMAGE)"

# Run CMD in the guest on the kernel already built (no rebuild, so that
# 'make vm' is quick and can run anything while another build is going on).
vm:
	@$(VM) '$(CMD)'

shell:
	@$(VM) --shell

# The stress run that ends 'make check', in seconds (0: none), and its
# scenarios: in 30 s, the loop, partition, dm and thin ones (the RAM disks,
# dm-snapshot and scsi_debug disks have their races in the GoogleTest run;
# 'make stress' runs every scenario).
CHECK_STRESS_S ?= 30
CHECK_STRESS_ARGS ?= --only=loop-grow,loop-status,loop-changefd,loop-cycle,partitions,dm-reload,dm-recreate,thin
check: deps unit coreutils
	@$(SERIES) check-overlay
	$(MAKE) kernel tests kselftest $(STRESS_BIN)
	KERNEL=$(BZIMAGE) KERNEL_OBJ=$(KOBJ) TEST_BIN=$(TEST_BIN) KSELFTEST=$(KSELFTEST) \
		SEEKMAP=$(SEEKMAP) HOLECOPY=$(HOLECOPY) \
		EXPECT_KERNEL=$(if $(BASE),unpatched,patched) CHECK_SCALE=$(CHECK_SCALE) \
		STRESS_BIN=$(STRESS_BIN) STRESS_S=$(CHECK_STRESS_S) \
		STRESS_ARGS='$(CHECK_STRESS_ARGS)' \
		harness/check

# QEMU's tools with and without the companion patch (userspace/qemu/) in
# the guest (harness/check's qemu part alone): not in make check, which
# lists them as skipped, because building QEMU and their guest run do not
# fit CI's budget. With BASE=1, on the unpatched kernel.
check-qemu: deps qemu
	$(MAKE) kernel
	KERNEL=$(BZIMAGE) KERNEL_OBJ=$(KOBJ) TEST_BIN=$(TEST_BIN) KSELFTEST=$(KSELFTEST) \
		SEEKMAP=$(SEEKMAP) HOLECOPY=$(HOLECOPY) VMDIR=$(VMDIR) \
		EXPECT_KERNEL=$(if $(BASE),unpatched,patched) CHECK_ONLY=qemu \
		QEMU_BINS="$$(harness/qemu path patched) $$(harness/qemu path unpatched)" \
		harness/check

# The whole suite at full scale (make check runs it at CI scale: fewer
# seeded layouts, and tests/full-only left out).
check-full:
	$(MAKE) CHECK_SCALE=full check

# The suite on the unpatched base kernel: passes only if every map test
# fails there and everything else passes (harness/check, CHECK_BASE=1).
check-base:
	$(MAKE) BASE=1 CHECK_BASE=1 check

# The demo: a sparse thin volume's map, a hole-aware copy of it and its
# speed-up over a full read, on the patched kernel, then on the unpatched
# base kernel.
run: deps
	$(MAKE) PLAIN=1 kernel tests
	@$(PLAINVM) 'harness/demo $(SEEKMAP) $(HOLECOPY) patched'
	$(MAKE) BASE=1 PLAIN=1 kernel
	@KERNEL=$(BUILD)/base/obj-plain/arch/x86/boot/bzImage VMDIR=$(BUILD)/vm-base-plain \
		harness/vm 'harness/demo $(SEEKMAP) $(HOLECOPY) unpatched'

# Ratios measured in the guest; nothing here is asserted by the tests. The
# copy benchmark keeps a volume's data and two copies on the guest's tmpfs
# (half the guest's memory: 12G, as dd's copy of a 4 GiB volume at 10%
# filled 8G's); it times qemu-img convert as released and patched
# (userspace/qemu) too.
# Each guest run keeps its printed lines (harness/bench.d/capture) in
# build/bench, and harness/bench-report writes them to docs/bench.md once
# every part has passed (a failed part leaves docs/bench.md as it was).
# BENCH_ONLY=stripe,thin,p4,slice,zram,sd,raid0,mpath,copy runs only the named parts
# (harness/bench's cases; copy: harness/bench-copy) and writes their
# figures to build/bench/bench.md instead (BENCH_MD=FILE: there).
BENCH_COPY ?= 4 1 10
SERIES_BUILDS ?= 1
BENCH_ONLY ?=
bench_comma := ,
BENCH_ALL := stripe thin p4 slice zram sd raid0 mpath copy
BENCH_PARTS := $(if $(BENCH_ONLY),$(subst $(bench_comma), ,$(BENCH_ONLY)),$(BENCH_ALL))
BENCH_RUNS := $(if $(filter-out copy,$(BENCH_PARTS)),bench) \
	      $(if $(filter copy,$(BENCH_PARTS)),bench-copy)
BENCH_DIR := $(BUILD)/bench
BENCH_MD ?= $(if $(BENCH_ONLY),$(BENCH_DIR)/bench.md,docs/bench.md)
BENCH_VMOUT := $(BUILD)/vm-plain/out
bench: deps deps-bench coreutils qemu
	@$(if $(filter-out $(BENCH_ALL),$(BENCH_PARTS)),$(error BENCH_ONLY: \
		no part $(filter-out $(BENCH_ALL),$(BENCH_PARTS)) (parts: $(BENCH_ALL))))
	$(MAKE) PLAIN=1 kernel tests
	@rm -rf $(BENCH_DIR) && mkdir -p $(BENCH_DIR)
ifneq ($(filter slice,$(BENCH_PARTS)),)
	@harness/bench-slice-meta $(BUILD)/bench-slice-meta.img
endif
ifneq ($(filter bench,$(BENCH_RUNS)),)
	@$(PLAINVM) 'BENCH_ONLY=$(BENCH_ONLY) \
		BENCH_SLICE_META=$(BUILD)/bench-slice-meta.img \
		SCSI_DEBUG_KO=$(BUILD)/obj-plain/drivers/scsi/scsi_debug.ko \
		harness/bench.d/capture bench harness/bench'
	@cp $(BENCH_VMOUT)/bench.out $(BENCH_VMOUT)/bench.guest $(BENCH_DIR)/
endif
ifneq ($(filter bench-copy,$(BENCH_RUNS)),)
	@VM_MEM=$${VM_MEM:-12G} $(PLAINVM) \
		"BENCH_QEMU='$$(harness/qemu path patched) $$(harness/qemu path unpatched)' \
		harness/bench.d/capture bench-copy \
		harness/bench-copy $(SEEKMAP) $(HOLECOPY) $(BENCH_COPY)"
	@cp $(BENCH_VMOUT)/bench-copy.out $(BENCH_VMOUT)/bench-copy.guest $(BENCH_DIR)/
endif
	@BENCH_ONLY='$(BENCH_ONLY)' harness/bench-report $(BENCH_MD) $(BENCH_DIR) $(BENCH_RUNS)
	@echo "bench: the figures of this run are in $(BENCH_MD)"

# Bounded concurrent stress (stress/stress.cc): map walkers against loop,
# dm and thin reconfiguration for STRESS_S seconds in one guest, on the
# kernel already built ('make kernel'); ends with one line of counts and
# fails on a wrong answer or a kernel report. STRESS_ARGS passes options
# (--seed=N, --only=..., --self-check=map|readback; see stress/stress.cc).
STRESS_S ?= 600
STRESS_ARGS ?=
.PHONY: stress
stress: $(STRESS_BIN)
	@KERNEL=$(BZIMAGE) VMDIR=$(BUILD)/vm-stress STRESS_S=$(STRESS_S) \
		SCSI_DEBUG_KO=$(KOBJ)/drivers/scsi/scsi_debug.ko \
		STRESS_ARGS='$(STRESS_ARGS)' harness/stress $(STRESS_BIN)

# Mutation testing (tests/mutants/README.md): each tests/mutants/*.patch
# (MUTANTS='NN-name ...' or 'NN ...': those only) applied to the kernel
# tree, built, and its Catch cases run in a fresh guest, which must fail;
# the tree is the series again after each, and the unmutated kernel is
# built again at the end. Not part of make check: each mutant costs a
# kernel build and a guest run. The mutants are of the series on 7.3.
# KBUILD is the kernel target's build without its src step, whose overlay
# would put the series back over the mutant.
MUTANTS ?=
.PHONY: mutants
mutants: deps
	@[ "$(KBASE)" = 7.3 ] && [ -z "$(filter 1,$(BASE))" ] || \
		{ echo "mutants: the mutants are of the series on 7.3 (no KBASE, no BASE)" >&2; exit 2; }
	@$(SERIES) check-overlay
	$(MAKE) kernel tests
	KTREE=$(KTREE) KBUILD='$(KMAKE) -s -j$(NPROC) bzImage modules' \
		KERNEL=$(BZIMAGE) KERNEL_OBJ=$(KOBJ) TEST_BIN=$(TEST_BIN) \
		VMDIR=$(BUILD)/vm-mutants MUTANTS='$(MUTANTS)' harness/mutants

diff: src
	@harness/kernel-src diff

record-base:
	harness/kernel-src record

base-sha256:
	@harness/kernel-src sha256

# The kernel series: patches/ is the source of truth, the overlaid files are
# generated from it (harness/series explains the workflow).
SERIES := NPROC=$(NPROC) CCACHE=$(CCACHE) harness/series

series-tree:
	@$(SERIES) tree

patches:
	@$(SERIES) export

check-overlay:
	@$(SERIES) check-overlay

check-series: deps
	SERIES_BUILDS=$(SERIES_BUILDS) $(SERIES) check

clean:
	rm -rf $(BUILD)/obj $(BUILD)/base/obj $(CMAKE_DIR) $(BUILD)/tests \
		$(BUILD)/utils $(BUILD)/stress $(BUILD)/vm $(BUILD)/vm-lane* \
		$(BUILD)/vm.lanes

help:
	@sed -n '/^#   make run/,/^#   ACCEL/s/^#   //p' Makefile

distclean:
	rm -rf $(BUILD)
