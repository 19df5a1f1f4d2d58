// SPDX-License-Identifier: GPL-2.0
// RAM-backed disks for the provider tests (tests/ram_test.cc): brd's
// /dev/ramN, a zram device made with zram-control, and a memory-backed
// null_blk device made through configfs; each is emptied or removed on
// destruction. The ground truth of their maps is RamModel (expected.h).
#pragma once

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

#include "common/expected.h"
#include "fixtures.h"

namespace seektest {

// direct_write()'s @fill for a compressible pattern: in each 4 KiB, 256
// bytes of the pattern and then zeros.
inline constexpr int kCompressible = -2;

// Write @len bytes of a non-zero pattern from @seed at @off of @fd (opened
// with O_DIRECT; offsets and lengths multiples of 512), of the byte @fill
// when @fill >= 0, or a compressible pattern (kCompressible).
void direct_write(int fd, int64_t off, int64_t len, uint32_t seed,
		  int fill = -1);

// Expect [@off, @off + @len) of @fd to read as direct_write(@seed) wrote.
void ExpectPattern(int fd, int64_t off, int64_t len, uint32_t seed);

// BLKDISCARD [@off, @off + @len) of @fd.
void discard(int fd, int64_t off, int64_t len);

// A random layout on a disk of @size bytes, in multiples of @align: @n
// writes of up to @max_len (plus @align), and after every third a discard
// of up to 2 * @max_len, applied to the disk @fd (O_DIRECT) and to @model
// alike.
template <typename Rng>
void random_layout(int fd, int64_t size, int64_t align, int64_t max_len,
		   int n, Rng &rng, RamModel &model, uint32_t seed)
{
	auto pick = [&](int64_t limit) {
		return int64_t(rng() % uint64_t(limit / align)) * align;
	};
	for (int i = 0; i < n; i++) {
		int64_t off = pick(size);
		int64_t len = std::min(align + pick(max_len), size - off);
		direct_write(fd, off, len, seed);
		model.write(off, len);
		if (i % 3 != 2)
			continue;
		off = pick(size);
		len = std::min(align + pick(2 * max_len), size - off);
		discard(fd, off, len);
		model.discard(off, len);
	}
}

// MapIs(), then SeekAnswers() at the device's start, a third, its last
// byte, and at and around every extent boundary of @want.
[[nodiscard]] ::testing::AssertionResult MapAndSeeksAre(int fd, int64_t size,
					  const ExtentMap &want);

// What a walker saw of a device of @size bytes going away under it:
// answers that match its map, that say all data (allowed: a driver that no
// longer knows), that fail with an errno allowed by the test, and wrong
// ones.
struct GoneTally {
	std::atomic<int> right{0}, all_data{0}, failed{0}, wrong{0};
};

// Query @fd (size @size, map @want) with SEEK_DATA and SEEK_HOLE at spread
// offsets until @stop, counting the answers in @t; an answer of -errno
// for an errno in @errs counts as failed.
void query_until(int fd, int64_t size, const ExtentMap &want,
		 const std::atomic<bool> &stop, GoneTally &t,
		 const std::vector<int> &errs);

// A zram device from /sys/class/zram-control/hot_add, of @size bytes,
// removed (hot_remove) on destruction. With @backing, a block device
// that takes written-back pages (backing_dev, CONFIG_ZRAM_WRITEBACK).
class ZramDevice {
public:
	// @attrs ("name=value", e.g. "recomp_algorithm=algo=deflate") are
	// written before disksize, as zram takes its algorithms only then.
	explicit ZramDevice(int64_t size, const std::string &backing = "",
			    const std::vector<std::string> &attrs = {});
	~ZramDevice();
	ZramDevice(const ZramDevice &) = delete;
	ZramDevice &operator=(const ZramDevice &) = delete;

	const std::string &path() const { return path_; }
	std::string sysfs(const std::string &attr) const;
	// Field @n (0-based) of mm_stat.
	int64_t mm_stat(int n) const;

private:
	int number_ = -1;
	std::string path_;
};

// A null_blk device made in configfs (/sys/kernel/config/nullb), powered
// on with @attrs (name=value, e.g. memory_backed=1) and removed on
// destruction.
class NullBlkDevice {
public:
	explicit NullBlkDevice(const std::vector<std::string> &attrs);
	~NullBlkDevice();
	NullBlkDevice(const NullBlkDevice &) = delete;
	NullBlkDevice &operator=(const NullBlkDevice &) = delete;

	const std::string &path() const { return path_; }
	void set(const std::string &attr, const std::string &value) const;
	// The path of configfs attribute @attr.
	std::string attr(const std::string &attr) const { return dir_ + "/" + attr; }
	// Power the device on (its node is /dev/ and its directory's name) or
	// off.
	void power(bool on);

private:
	std::string dir_;
	std::string path_;
};

} // namespace seektest
