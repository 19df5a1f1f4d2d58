// SPDX-License-Identifier: GPL-2.0
// RAII fixtures for the kernel objects the tests create. Every destructor
// tears down, in reverse order of creation, even when an assertion failed.
#pragma once

#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "common/dm.h"
#include "common/expected.h"
#include "common/partitions.h"
#include "common/sys.h"
#include "utils/seek_map.h"

namespace seektest {

using seekmap::Extent;
using seekmap::ExtentMap;

// The shared library's pieces (common/sys.h: fd, sparse files, loop
// devices, commands; common/expected.h: the expected maps; common/dm.h:
// device-mapper, as dm::; common/partitions.h: partition tables).
using namespace common;

// A device-mapper device (common/dm.h) named seektest-PID-N, made from a
// table written as dmsetup's text ("START LENGTH TYPE PARAMS" lines, in
// sectors), removed on destruction; its node is /dev/mapper/NAME.
class DmDevice : public dm::Device {
public:
	explicit DmDevice(const std::string &table);
	using dm::Device::load;
	using dm::Device::reload;
	void load(const std::string &table) { load(dm::parse_table(table)); }
	// Load @table into the inactive slot and resume into it.
	void reload(const std::string &table) { reload(dm::parse_table(table)); }
};

// Write a partition table (common/partitions.h) into @file: @label and
// @parts, or an sfdisk script.
void write_partition_table(const SparseFile &file, Label label,
			   const std::vector<Partition> &parts);
void write_partition_table(const SparseFile &file, const std::string &script);

// The suite's one verdict on a map: the SEEK_DATA/SEEK_HOLE map of @fd
// (@size bytes) is @want, the walk saw no malformed answer, and every
// hole it found reads back as zeros (soundness, checked on the device's
// map even when it differs from @want). Use as EXPECT_TRUE(MapIs(...)):
// a failure points at the test's line and says what differed.
[[nodiscard]] ::testing::AssertionResult MapIs(int fd, int64_t size, const ExtentMap &want);

// MapIs() on a walk already made (one bounded in time, say).
[[nodiscard]] ::testing::AssertionResult WalkIs(const seekmap::Walk &w, int fd,
				  int64_t size, const ExtentMap &want);

// SEEK_DATA and SEEK_HOLE at @off answer as @map says, with the position
// following a success and unchanged after a failure.
[[nodiscard]] ::testing::AssertionResult SeekAnswers(int fd, int64_t size,
				       const ExtentMap &map, int64_t off);

// Every byte of the holes of @map (read from @fd) is zero. Holes up to
// 4 MiB are read whole; of a larger hole the first and last MiB and 32
// spread 64 KiB samples are read, so that giant sparse layouts stay cheap.
[[nodiscard]] ::testing::AssertionResult HolesReadZero(int fd, int64_t size,
					 const ExtentMap &map);

// Whether the runner says the kernel has the series: SEEK_TEST_KERNEL,
// which harness/check sets from EXPECT_KERNEL, is "patched" (also when
// unset) or "unpatched"; anything else throws. Never asked of the kernel
// under test, so that a patched kernel that stopped answering fails
// instead of being taken for an unpatched one. Records the answer as the
// test's expect_kernel property: a test that checks what each kernel must
// do passes on both, and make check-base tells it from a map test by it.
bool kernel_has_series();

// The seed of a seeded test: SEEK_TEST_SEED if set (to replay a run),
// else a random one; printed either way.
uint64_t seed_from_env();

// Base fixture: fails a test that leaves a loop device bound.
class DeviceTest : public ::testing::Test {
protected:
	void SetUp() override;
	void TearDown() override;

private:
	std::set<std::string> loops_before_;
	std::set<std::string> dms_before_;
};

} // namespace seektest
