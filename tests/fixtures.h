// SPDX-License-Identifier: GPL-2.0
// RAII fixtures for the kernel objects the tests create. Every destructor
// tears down, in reverse order of creation, even when an assertion failed.
#pragma once

#include <cstdint>
#include <set>
#include <string>

#include <gtest/gtest.h>

#include "common/expected.h"
#include "common/sys.h"
#include "utils/seek_map.h"

namespace seektest {

using seekmap::Extent;
using seekmap::ExtentMap;

// The shared library's pieces (common/sys.h: fd, sparse files, loop
// devices, commands; common/expected.h: the expected maps).
using namespace common;

// A device-mapper device created from a table with dmsetup, removed on
// destruction (after its users closed it).
class DmDevice {
public:
	// @table: dmsetup table lines.
	explicit DmDevice(const std::string &table);
	~DmDevice();
	DmDevice(const DmDevice &) = delete;
	DmDevice &operator=(const DmDevice &) = delete;

	const std::string &name() const { return name_; }
	const std::string &path() const { return path_; }
	// Load @table into the inactive slot and resume into it.
	void reload(const std::string &table);
	void suspend();
	void resume();
	// Remove now if unused, else at its last close (dmsetup --deferred).
	void remove_deferred();

private:
	std::string name_;
	std::string path_;
	bool removed_ = false;
};



// Write a partition table into @file with sfdisk, from an sfdisk script.
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
