// SPDX-License-Identifier: GPL-2.0
#include "fixtures.h"

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <dirent.h>
#include <fcntl.h>
#include <fstream>
#include <functional>
#include <iostream>
#include <iterator>
#include <linux/fs.h>
#include <linux/loop.h>
#include <random>
#include <sstream>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <system_error>
#include <thread>
#include <unistd.h>
#include <vector>

namespace seektest {

static std::string dm_name()
{
	static std::atomic<int> seq{0};
	return "seektest-" + std::to_string(getpid()) + "-" +
	       std::to_string(seq++);
}

DmDevice::DmDevice(const std::string &table)
	: dm::Device(dm_name(), dm::parse_table(table))
{
}

void write_partition_table(const SparseFile &file, Label label,
			   const std::vector<Partition> &parts)
{
	common::write_partition_table(file.path(), label, parts);
}

void write_partition_table(const SparseFile &file, const std::string &script)
{
	common::write_partition_table(file.path(), script);
}

::testing::AssertionResult WalkIs(const seekmap::Walk &w, int fd,
				  int64_t size, const ExtentMap &want)
{
	std::string why;
	if (!w.error.empty())
		why += "malformed answer while walking the map: " + w.error + "\n";
	if (w.map != want)
		why += "device map " + seekmap::to_string(w.map) +
		       "\nexpected   " + seekmap::to_string(want) + "\n";
	// The holes the device reported, whether or not the map was right:
	// a hole over data is the worst answer there is.
	::testing::AssertionResult zero = HolesReadZero(fd, size, w.map);
	if (!zero)
		why += zero.message();
	if (why.empty())
		return ::testing::AssertionSuccess();
	return ::testing::AssertionFailure() << why;
}

::testing::AssertionResult MapIs(int fd, int64_t size, const ExtentMap &want)
{
	return WalkIs(seekmap::walk(fd, size), fd, size, want);
}

::testing::AssertionResult SeekAnswers(int fd, int64_t size,
				       const ExtentMap &map, int64_t off)
{
	std::ostringstream why;
	for (int whence : {SEEK_DATA, SEEK_HOLE}) {
		// Park the position somewhere valid to see it move, or not.
		const int64_t before = std::min<int64_t>(4096, size);
		if (seekmap::seek(fd, before, SEEK_SET) != before)
			return ::testing::AssertionFailure()
			       << "lseek(" << before << ", SEEK_SET) failed";
		int64_t want = seekmap::expected_seek(map, size, off, whence);
		int64_t got = seekmap::seek(fd, off, whence);
		const char *name = whence == SEEK_DATA ? "SEEK_DATA" : "SEEK_HOLE";
		if (got != want)
			why << name << "(" << off << ") on size " << size
			    << " is " << got << ", expected " << want
			    << " from map " << seekmap::to_string(map) << "\n";
		int64_t pos = seekmap::seek(fd, 0, SEEK_CUR);
		if (pos != (got < 0 ? before : got))
			why << "file position after " << name << "(" << off
			    << ") is " << pos << ", expected "
			    << (got < 0 ? before : got) << "\n";
	}
	if (why.str().empty())
		return ::testing::AssertionSuccess();
	return ::testing::AssertionFailure() << why.str();
}

// Where [@start, @end) of @fd holds a byte that is not zero, or a read
// fails: "" if it reads all zeros.
static std::string nonzero_in(int fd, int64_t start, int64_t end)
{
	std::vector<unsigned char> buf(1 << 20);
	for (int64_t pos = start; pos < end;) {
		size_t n = std::min<int64_t>(end - pos, buf.size());
		ssize_t r = pread(fd, buf.data(), n, pos);
		if (r <= 0)
			return "pread at " + std::to_string(pos) + ": " +
			       (r < 0 ? strerror(errno) : "end of device");
		auto nz = std::find_if(buf.begin(), buf.begin() + r,
				       [](unsigned char c) { return c != 0; });
		if (nz != buf.begin() + r)
			return "reported hole holds data at byte " +
			       std::to_string(pos + (nz - buf.begin()));
		pos += r;
	}
	return "";
}

::testing::AssertionResult HolesReadZero(int fd, int64_t size,
					 const ExtentMap &map)
{
	const int64_t whole = 4 << 20, edge = 1 << 20, sample = 64 << 10;
	std::string why;
	auto check = [&](const Extent &h, int64_t start, int64_t end) {
		std::string bad = nonzero_in(fd, start, end);
		if (!bad.empty())
			why += "hole [" + std::to_string(h.start) + "," +
			       std::to_string(h.end) + "): " + bad + "\n";
		return bad.empty();
	};
	for (const Extent &h : seekmap::holes(map, size)) {
		if (h.length() <= whole) {
			check(h, h.start, h.end);
			continue;
		}
		if (!check(h, h.start, h.start + edge) ||
		    !check(h, h.end - edge, h.end))
			continue;
		for (int i = 1; i <= 32; i++) {
			int64_t s = h.start + (h.length() - sample) / 33 * i;
			if (!check(h, s, s + sample))
				break;
		}
	}
	if (why.empty())
		return ::testing::AssertionSuccess();
	return ::testing::AssertionFailure() << why;
}

uint64_t seed_from_env()
{
	const char *v = getenv("SEEK_TEST_SEED");
	uint64_t seed = v && *v ? strtoull(v, nullptr, 0) : std::random_device{}();
	std::cout << "[   SEED   ] SEEK_TEST_SEED=" << seed << std::endl;
	return seed;
}

bool kernel_has_series()
{
	const char *v = getenv("SEEK_TEST_KERNEL");
	std::string k = v && *v ? v : "patched";
	if (k != "patched" && k != "unpatched")
		throw std::runtime_error("SEEK_TEST_KERNEL=" + k +
					 ": patched or unpatched");
	::testing::Test::RecordProperty("expect_kernel", k);
	return k == "patched";
}

void DeviceTest::SetUp()
{
	loops_before_ = bound_loop_devices();
	dms_before_ = dm_devices();
}

void DeviceTest::TearDown()
{
	std::set<std::string> after = bound_loop_devices();
	for (const std::string &l : after)
		EXPECT_TRUE(loops_before_.count(l))
			<< "test left " << l << " bound";
	for (const std::string &d : dm_devices())
		EXPECT_TRUE(dms_before_.count(d)) << "test left " << d;
}

} // namespace seektest
