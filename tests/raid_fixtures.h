// SPDX-License-Identifier: GPL-2.0
// RAII fixtures for the redundant arrays: md arrays made with mdadm over
// loop devices on sparse tmpfs files, and the members those arrays and the
// dm raid and mirror targets are built on. The ground truth of a copy is
// its backing file's own SEEK_DATA/SEEK_HOLE map (tmpfs, not the code under
// test), windowed at the copy's data offset.
#pragma once

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <fcntl.h>
#include <filesystem>
#include <linux/fs.h>
#include <string>
#include <sys/ioctl.h>
#include <thread>
#include <unistd.h>
#include <vector>

#include "common/units.h"
#include "fixtures.h"
#include "liveness.h"

namespace seektest {
namespace raid {

using namespace units;

inline std::string sectors_of(int64_t bytes)
{
	return std::to_string(bytes / Sector);
}

// One copy or leg: a sparse tmpfs file and a loop device over it.
// Destroyed in reverse order: loop, then file.
struct Member {
	SparseFile file;
	LoopDevice loop;

	explicit Member(int64_t size) : file(size), loop(file.path()) {}
	// "loopN", the name md gives it in sysfs (dev-loopN).
	std::string name() const { return "loop" + std::to_string(loop.number()); }
	// What this copy holds in the coordinates of an array that maps
	// @size bytes of it from @data_offset: its file's map, windowed.
	ExtentMap copy_map(int64_t data_offset, int64_t size) const
	{
		return seekmap::window(file.map(), data_offset,
				       data_offset + size);
	}
};

// The data of a mirror that reads from any of @copies: their union.
inline ExtentMap union_of(const std::vector<ExtentMap> &copies)
{
	ExtentMap all;
	for (const ExtentMap &m : copies)
		all.insert(all.end(), m.begin(), m.end());
	return seekmap::normalize(all);
}

// Write the suite's non-zero pattern over [@off, @off + @len) of the block
// device @path with O_DIRECT (no page cache of its own left behind).
inline void write_direct(const std::string &path, int64_t off, int64_t len,
			 uint64_t seed = 7)
{
	UniqueFd fd = open_or_throw(path, O_WRONLY | O_DIRECT);
	void *p = nullptr;
	if (posix_memalign(&p, 4096, len))
		throw std::bad_alloc();
	std::unique_ptr<void, decltype(&free)> buf(p, free);
	fill_pattern(static_cast<unsigned char *>(p), len, seed);
	if (pwrite(fd.get(), p, len, off) != len)
		fail_errno("O_DIRECT write to " + path);
}

// Drop the page cache of the block device open as @fd (BLKFLSBUF), so that
// reads see what changed below it.
inline void drop_cache(int fd)
{
	if (ioctl(fd, BLKFLSBUF, 0))
		fail_errno("BLKFLSBUF");
}

// The whole map of @fd is @want (holes read back: MapIs()), and, if it
// is, lseek answers as @want at every boundary of it, one byte either side.
inline void ExpectMap(int fd, int64_t size, const ExtentMap &want)
{
	::testing::AssertionResult map = MapIs(fd, size, want);
	EXPECT_TRUE(map);
	if (!map)
		return;
	std::vector<int64_t> points = {0, size - 1};
	for (const Extent &e : want)
		points.insert(points.end(), {e.start, e.end});
	for (int64_t b : points)
		for (int64_t d : {int64_t(-1), int64_t(0), int64_t(1)})
			if (b + d >= 0 && b + d < size) {
				EXPECT_TRUE(SeekAnswers(fd, size, want, b + d));
			}
}

// Names of the md arrays in /sys/block.
inline std::set<std::string> md_devices()
{
	std::set<std::string> out;
	for (const auto &e : std::filesystem::directory_iterator("/sys/block")) {
		std::string n = e.path().filename();
		if (n.rfind("md", 0) == 0)
			out.insert(n);
	}
	return out;
}

// An md array made by mdadm --create /dev/md/NAME (metadata 1.2, no
// bitmap) over @devices (member paths, or "missing"), running; stopped with
// mdadm --stop on destruction. udev does not run in the guest: mdadm makes
// the node, and /dev/mdN is found through it.
class MdArray {
public:
	MdArray(const std::string &level, const std::vector<std::string> &devices,
		const std::string &options = "--assume-clean")
	{
		static int seq;
		name_ = "seek" + std::to_string(getpid()) + "_" +
			std::to_string(seq++);
		std::string cmd = "mdadm --create /dev/md/" + name_ +
				  " --run --quiet --metadata=1.2 --bitmap=none"
				  " --level=" + level + " --raid-devices=" +
				  std::to_string(devices.size()) + " " + options;
		for (const std::string &d : devices)
			cmd += " " + d;
		run_or_throw(cmd);
		std::error_code ec;
		path_ = std::filesystem::canonical("/dev/md/" + name_, ec);
		if (ec || path_.rfind("/dev/md", 0) != 0) {
			stop();
			throw std::runtime_error("/dev/md/" + name_ +
						 " names no md device");
		}
		md_ = path_.substr(5);
	}
	~MdArray() { stop(); }
	MdArray(const MdArray &) = delete;
	MdArray &operator=(const MdArray &) = delete;

	// /dev/mdN.
	const std::string &path() const { return path_; }
	// /sys/block/mdN/md/FILE.
	std::string sys(const std::string &file) const
	{
		return "/sys/block/" + md_ + "/md/" + file;
	}
	std::string attr(const std::string &file) const
	{
		std::string v = read_small_file(sys(file));
		while (!v.empty() && (v.back() == '\n' || v.back() == ' '))
			v.pop_back();
		return v;
	}
	// Where @m's data starts on it, in bytes (dev-loopN/offset, sectors).
	int64_t data_offset(const Member &m) const
	{
		std::string v = attr("dev-" + m.name() + "/offset");
		if (v.empty())
			throw std::runtime_error(m.name() + " is no member of " + md_);
		return std::stoll(v) * Sector;
	}
	// @m's copy in the array's coordinates, for @size bytes.
	ExtentMap copy_map(const Member &m, int64_t size) const
	{
		return m.copy_map(data_offset(m), size);
	}
	// mdadm MODE on a member: --fail, --remove, --add.
	void manage(const std::string &mode, const Member &m)
	{
		run_or_throw("mdadm --quiet " + path_ + " " + mode + " " +
			     m.loop.path());
	}
	void stop()
	{
		if (path_.empty() || stopped_)
			return;
		stopped_ = true;
		// An opener that lets go late (a reader thread) makes it
		// busy for a moment.
		for (int i = 0;; i++) {
			if (!system(("mdadm --stop --quiet " + path_ +
				     " >/dev/null 2>&1").c_str()))
				break;
			if (i == 50) {
				ADD_FAILURE() << "mdadm --stop " << path_ << " failed";
				break;
			}
			std::this_thread::sleep_for(std::chrono::milliseconds(100));
		}
		// mdadm removes the node it made only with udev's help.
		unlink(("/dev/md/" + name_).c_str());
	}

private:
	std::string name_, path_, md_;
	bool stopped_ = false;
};

// Base fixture: also fails a test that leaves an md array behind.
class RaidTest : public DeviceTest {
protected:
	void SetUp() override
	{
		DeviceTest::SetUp();
		mds_before_ = md_devices();
	}
	void TearDown() override
	{
		// A stopped array's node goes away at its last release.
		WaitFor([&] { return md_devices() == mds_before_; },
			std::chrono::seconds(5));
		for (const std::string &d : md_devices())
			EXPECT_TRUE(mds_before_.count(d)) << "test left " << d;
		DeviceTest::TearDown();
	}

private:
	std::set<std::string> mds_before_;
};

} // namespace raid
} // namespace seektest
