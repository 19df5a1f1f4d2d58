// SPDX-License-Identifier: GPL-2.0
// A fake device for the host-only unit tests: a memfd (a tmpfs file, so
// pread() reads what it holds) whose lseek() answers SEEK_DATA and
// SEEK_HOLE from a map the test writes down instead of from tmpfs' own
// map, the way a correct or a broken kernel would. The unit test binary
// defines lseek() itself (fake_device.cc); every other descriptor, and
// every other whence, gets the real system call.
#pragma once

#include <cstdint>

#include "common/expected.h"

namespace unittest {

using seekmap::Extent;
using seekmap::ExtentMap;

// How the fake answers SEEK_DATA/SEEK_HOLE.
struct FakeAnswers {
	// The data it reports (normalized on construction); what it holds
	// may differ, as for a kernel that reports a hole over data.
	ExtentMap map;
	// > 0: answers one block of this many bytes at a time: SEEK_HOLE
	// inside data gives the end of that block (or of the data, if
	// sooner), whether or not data follows.
	int64_t block = 0;
	// EINVAL for both, as an unpatched kernel's block device.
	bool unsupported = false;
	// Answers without moving the file position.
	bool keep_position = false;
	// A query at this offset answers an offset before it.
	int64_t bad_at = -1;
	// SEEK_HOLE at this offset answers the offset itself, for the
	// first vanish_times queries there: data that a concurrent discard
	// took away and a write brought back.
	int64_t vanish_at = -1;
	int vanish_times = 0;
};

// A fake device of @size bytes holding non-zero bytes in @holds; closed
// and forgotten on destruction.
class FakeDevice {
public:
	FakeDevice(int64_t size, const ExtentMap &holds, FakeAnswers answers);
	// An honest device: it reports what it holds.
	FakeDevice(int64_t size, const ExtentMap &holds)
		: FakeDevice(size, holds, FakeAnswers{holds}) {}
	~FakeDevice();
	FakeDevice(const FakeDevice &) = delete;
	FakeDevice &operator=(const FakeDevice &) = delete;

	int fd() const { return fd_; }
	int64_t size() const { return size_; }
	// SEEK_DATA/SEEK_HOLE calls answered so far, and the largest
	// offset one of them asked about (-1 before the first).
	uint64_t queries() const;
	int64_t max_query() const;

private:
	int fd_ = -1;
	int64_t size_;
};

// A memfd of @size bytes with non-zero bytes in @data and holes (never
// written) elsewhere; its lseek() is tmpfs' own. Returns the descriptor.
int tmpfs_file(int64_t size, const ExtentMap &data);

} // namespace unittest
