// SPDX-License-Identifier: GPL-2.0
// RAM-backed disks for the provider tests (tests/ram_test.cc): brd's
// /dev/ramN, a zram device made with zram-control, and a memory-backed
// null_blk device made through configfs; each is emptied or removed on
// destruction. The ground truth of their maps is RamModel (expected.h).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "expected.h"
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

// A zram device from /sys/class/zram-control/hot_add, of @size bytes,
// removed (hot_remove) on destruction. With @backing, a block device
// that takes written-back pages (backing_dev, CONFIG_ZRAM_WRITEBACK).
class ZramDevice {
public:
	explicit ZramDevice(int64_t size, const std::string &backing = "");
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
	// Power the device on (its node is /dev/ and its directory's name) or
	// off.
	void power(bool on);

private:
	std::string dir_;
	std::string path_;
};

} // namespace seektest
