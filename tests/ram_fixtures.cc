// SPDX-License-Identifier: GPL-2.0
#include "ram_fixtures.h"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <linux/fs.h>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <thread>
#include <unistd.h>

#include "fault_fixtures.h"

namespace seektest {

namespace {

struct FreeDeleter {
	void operator()(void *p) const { free(p); }
};

std::unique_ptr<unsigned char, FreeDeleter> aligned_buffer(size_t len)
{
	void *p = nullptr;
	if (posix_memalign(&p, 4096, len))
		throw std::bad_alloc();
	return std::unique_ptr<unsigned char, FreeDeleter>(
		static_cast<unsigned char *>(p));
}

// The pattern of direct_write(): the same bytes at the same offsets,
// never zero, different for each seed.
void fill_pattern(unsigned char *buf, int64_t off, size_t len, uint32_t seed)
{
	for (size_t i = 0; i < len; i += 8) {
		uint64_t x = (uint64_t(off) + i) * 0x9e3779b97f4a7c15ull ^
			     seed * 0xc2b2ae3d27d4eb4full;
		x ^= x >> 29;
		for (size_t j = 0; j < 8 && i + j < len; j++)
			buf[i + j] = static_cast<unsigned char>(x >> (8 * j)) | 1;
	}
}

void wait_for_node(const std::string &path)
{
	for (int i = 0; i < 200; i++) {
		if (access(path.c_str(), F_OK) == 0)
			return;
		std::this_thread::sleep_for(std::chrono::milliseconds(10));
	}
	throw std::runtime_error(path + " did not appear");
}

} // namespace

void direct_write(int fd, int64_t off, int64_t len, uint32_t seed, int fill)
{
	const size_t chunk = 1 << 20;
	auto buf = aligned_buffer(chunk);
	while (len > 0) {
		size_t n = std::min<int64_t>(len, chunk);
		if (fill >= 0) {
			memset(buf.get(), fill, n);
		} else {
			fill_pattern(buf.get(), off, n, seed);
			for (size_t i = 0; fill == kCompressible && i < n; i += 4096)
				memset(buf.get() + i + 256, 0,
				       std::min<size_t>(n - i, 4096) -
					       std::min<size_t>(n - i, 256));
		}
		ssize_t w = pwrite(fd, buf.get(), n, off);
		if (w != ssize_t(n))
			fail_errno("O_DIRECT pwrite at " + std::to_string(off));
		off += n;
		len -= n;
	}
}

void ExpectPattern(int fd, int64_t off, int64_t len, uint32_t seed)
{
	const size_t chunk = 1 << 20;
	auto buf = aligned_buffer(chunk), want = aligned_buffer(chunk);
	while (len > 0) {
		size_t n = std::min<int64_t>(len, chunk);
		ssize_t r = pread(fd, buf.get(), n, off);
		ASSERT_EQ(r, ssize_t(n)) << "read at " << off << ": "
					 << strerror(errno);
		fill_pattern(want.get(), off, n, seed);
		ASSERT_EQ(memcmp(buf.get(), want.get(), n), 0)
			<< "data at " << off << " is not what was written";
		off += n;
		len -= n;
	}
}

void discard(int fd, int64_t off, int64_t len)
{
	uint64_t range[2] = {uint64_t(off), uint64_t(len)};
	if (ioctl(fd, BLKDISCARD, range))
		fail_errno("BLKDISCARD " + std::to_string(off) + "+" +
			   std::to_string(len));
}

::testing::AssertionResult MapAndSeeksAre(int fd, int64_t size,
					  const ExtentMap &want)
{
	::testing::AssertionResult map = MapIs(fd, size, want);
	if (!map)
		return map;
	std::vector<int64_t> offs = {0, size / 3, size - 1};
	for (const Extent &e : want)
		for (int64_t off : {e.start - 1, e.start, e.end - 1, e.end})
			if (off >= 0 && off < size)
				offs.push_back(off);
	for (int64_t off : offs) {
		::testing::AssertionResult seek = SeekAnswers(fd, size, want, off);
		if (!seek)
			return seek;
	}
	return ::testing::AssertionSuccess();
}

void query_until(int fd, int64_t size, const ExtentMap &want,
		 const std::atomic<bool> &stop, GoneTally &t,
		 const std::vector<int> &errs)
{
	for (int64_t i = 0; !stop; i++) {
		int64_t off = i * 7919 % (size / 512) * 512;
		int whence = i % 2 ? SEEK_HOLE : SEEK_DATA;
		int64_t got = seekmap::seek(fd, off, whence);
		if (got == seekmap::expected_seek(want, size, off, whence))
			t.right++;
		else if (got < 0 &&
			 std::find(errs.begin(), errs.end(), -got) != errs.end())
			t.failed++;
		else if (got == (whence == SEEK_DATA ? off : size))
			t.all_data++;
		else
			t.wrong++;
	}
}

ZramDevice::ZramDevice(int64_t size, const std::string &backing,
		       const std::vector<std::string> &attrs)
{
	const std::string ctl = "/sys/class/zram-control/hot_add";
	if (access(ctl.c_str(), F_OK))
		throw std::runtime_error(ctl + " missing: the guest kernel "
					 "needs CONFIG_ZRAM");
	number_ = std::stoi(read_value(ctl));
	path_ = "/dev/zram" + std::to_string(number_);
	try {
		if (!backing.empty())
			write_value(sysfs("backing_dev"), backing);
		for (const std::string &a : attrs) {
			size_t eq = a.find('=');
			write_value(sysfs(a.substr(0, eq)), a.substr(eq + 1));
		}
		write_value(sysfs("disksize"), std::to_string(size));
		wait_for_node(path_);
	} catch (...) {
		write_value("/sys/class/zram-control/hot_remove",
			    std::to_string(number_));
		throw;
	}
}

ZramDevice::~ZramDevice()
{
	try {
		// hot_remove resets the device too.
		write_value("/sys/class/zram-control/hot_remove",
			    std::to_string(number_));
	} catch (const std::exception &e) {
		ADD_FAILURE() << "removing " << path_ << ": " << e.what();
	}
}

std::string ZramDevice::sysfs(const std::string &attr) const
{
	return "/sys/block/zram" + std::to_string(number_) + "/" + attr;
}

int64_t ZramDevice::mm_stat(int n) const
{
	std::istringstream in(read_value(sysfs("mm_stat")));
	int64_t v = -1;
	for (int i = 0; i <= n; i++)
		if (!(in >> v))
			throw std::runtime_error("mm_stat has no field " +
						 std::to_string(n));
	return v;
}

NullBlkDevice::NullBlkDevice(const std::vector<std::string> &attrs)
{
	const std::string root = "/sys/kernel/config/nullb";
	if (access(root.c_str(), F_OK))
		throw std::runtime_error(root + " missing: the guest needs "
					 "CONFIG_BLK_DEV_NULL_BLK and configfs "
					 "mounted");
	static int seq;
	dir_ = root + "/seektest" + std::to_string(getpid()) + "_" +
	       std::to_string(seq++);
	if (mkdir(dir_.c_str(), 0755))
		fail_errno("mkdir " + dir_);
	try {
		for (const std::string &a : attrs) {
			size_t eq = a.find('=');
			set(a.substr(0, eq), a.substr(eq + 1));
		}
		power(true);
	} catch (...) {
		rmdir(dir_.c_str());
		throw;
	}
}

NullBlkDevice::~NullBlkDevice()
{
	if (rmdir(dir_.c_str()))
		ADD_FAILURE() << "rmdir " << dir_ << ": " << strerror(errno);
}

void NullBlkDevice::power(bool on)
{
	set("power", on ? "1" : "0");
	if (!on)
		return;
	// A device made in configfs is named after its directory.
	path_ = "/dev/" + dir_.substr(dir_.rfind('/') + 1);
	wait_for_node(path_);
}

void NullBlkDevice::set(const std::string &attr, const std::string &value) const
{
	write_value(dir_ + "/" + attr, value);
}

} // namespace seektest
