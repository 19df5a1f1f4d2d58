// SPDX-License-Identifier: GPL-2.0
// GNU cp as a client of the series: with the companion patch
// (userspace/coreutils, built by harness/coreutils) `cp --sparse=always`
// and `--sparse=auto` copy a thin volume, a loop device, a partition and a
// dm-linear/dm-zero table to a file reading only the device's data ranges.
// The device's own read counter (/sys/dev/block/M:m/stat) shows what was
// read; the ground truth is thin_dump, the backing file's map and the dm
// table, not the code under test. On a kernel without the series the
// patched cp must still make a correct copy, reading everything: which
// kernel it is, the runner says (kernel_has_series()).
#include <climits>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <sys/sysmacros.h>

#include "thin_fixtures.h"

namespace seektest {
namespace {

// The patched cp: $SEEK_TEST_CP, or build/coreutils/bin/cp beside this
// binary's build/tests/.
std::string patched_cp()
{
	if (const char *e = getenv("SEEK_TEST_CP"))
		return e;
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n < 0)
		return "";
	std::string p(exe, n);
	p = p.substr(0, p.rfind('/'));		// build/tests
	p = p.substr(0, p.rfind('/'));		// build
	return p + "/coreutils/bin/cp";
}

std::string sysfs_stat(const std::string &dev)
{
	struct stat st;
	if (stat(dev.c_str(), &st) < 0)
		fail_errno("stat " + dev);
	return "/sys/dev/block/" + std::to_string(major(st.st_rdev)) + ":" +
	       std::to_string(minor(st.st_rdev)) + "/stat";
}

// Bytes read from @dev since it appeared: the third field of its
// sysfs stat counts 512-byte sectors read, partitions included.
int64_t bytes_read(const std::string &dev)
{
	std::ifstream in(sysfs_stat(dev));
	int64_t ios, merges, sectors = -1;
	in >> ios >> merges >> sectors;
	if (sectors < 0)
		throw std::runtime_error("no read counter for " + dev);
	return sectors * Sector;
}

// Drop @dev's page cache (BLKFLSBUF) so that reads reach the device.
void drop_cache(const std::string &dev)
{
	UniqueFd fd = open_or_throw(dev, O_RDONLY);
	if (ioctl(fd.get(), BLKFLSBUF, 0) < 0)
		fail_errno("BLKFLSBUF " + dev);
}

// Read-ahead of @dev in bytes (BLKRAGET gives sectors).
int64_t read_ahead(const std::string &dev)
{
	UniqueFd fd = open_or_throw(dev, O_RDONLY);
	long ra = 0;
	if (ioctl(fd.get(), BLKRAGET, &ra) < 0)
		fail_errno("BLKRAGET " + dev);
	return ra * Sector;
}

bool kernel_answers(const std::string &dev)
{
	UniqueFd fd = open_or_throw(dev, O_RDONLY);
	return lseek(fd.get(), 0, SEEK_DATA) >= 0 || errno == ENXIO;
}

int64_t bytes(const ExtentMap &m)
{
	int64_t n = 0;
	for (const Extent &e : m)
		n += e.length();
	return n;
}

struct Copied {
	int64_t read;		// bytes the device saw read
	ExtentMap map;		// the copy's own data extents
};

// Copy @dev (size @size) to a new file on tmpfs with `@cp --sparse=@mode`;
// expect an identical copy of the same size.
Copied copy_with(const std::string &cp, const std::string &dev, int64_t size,
		 const std::string &mode)
{
	SparseFile out(0);
	drop_cache(dev);
	int64_t before = bytes_read(dev);
	run_or_throw(cp + " --sparse=" + mode + " " + dev + " " + out.path());
	Copied c = {bytes_read(dev) - before, out.map()};
	EXPECT_EQ(out.size(), size) << cp << " --sparse=" << mode;
	run_or_throw("cmp " + dev + " " + out.path());
	return c;
}

class CpClient : public DeviceTest {
protected:
	void SetUp() override
	{
		DeviceTest::SetUp();
		patched_ = kernel_has_series();
		cp_ = patched_cp();
		if (access(cp_.c_str(), X_OK) != 0)
			GTEST_SKIP() << "SKIP: the patched cp is not built ("
				     << cp_ << " missing): run "
				     "'harness/coreutils build' (make check "
				     "does)";
	}

	// Copy @dev, whose data is @truth, with the patched cp in both sparse
	// modes; on a kernel with the series only the data ranges are read
	// and the copy is sparse where the device has holes; without it, the
	// copy is still identical and everything is read.
	void ExpectCopiesReadOnlyData(const std::string &what,
				      const std::string &dev,
				      const ExtentMap &truth)
	{
		UniqueFd fd = open_or_throw(dev, O_RDONLY);
		const int64_t size = size_of(fd.get());
		fd.reset();
		const int64_t data = bytes(truth);
		ASSERT_GT(data, 0);
		ASSERT_LT(data, size / 4) << "the layout must be sparse";
		const bool patched = patched_;
		ASSERT_EQ(kernel_answers(dev), patched)
			<< (patched ? "the kernel does not answer SEEK_DATA on "
				    : "the unpatched kernel answers SEEK_DATA on ")
			<< dev;
		// Read-ahead may read a window past the end of each extent.
		const int64_t slack =
			(int64_t(truth.size()) + 1) * (read_ahead(dev) + 128 * KiB);

		for (const char *mode : {"always", "auto"}) {
			SCOPED_TRACE(what + ", --sparse=" + mode);
			Copied c = copy_with(cp_, dev, size, mode);
			std::cout << "[ figures  ] cp --sparse=" << mode << " "
				  << what << ": read " << c.read << " of "
				  << size << " bytes (data " << data << ", "
				  << (patched ? "patched" : "unpatched")
				  << " kernel)\n";
			RecordProperty(std::string("read_") + mode, c.read);
			if (!patched) {
				EXPECT_GE(c.read, size)
					<< "without the series cp reads all";
				continue;
			}
			EXPECT_GE(c.read, data)
				<< "the data itself must come from the device";
			EXPECT_LE(c.read, data + slack)
				<< "read " << c.read << " bytes for " << data
				<< " bytes of data in " << truth.size()
				<< " extents " << seekmap::to_string(truth);
			// Sparse: the copy's data lies inside the device's.
			EXPECT_FALSE(c.map.empty());
			ExtentMap both = c.map;
			both.insert(both.end(), truth.begin(), truth.end());
			EXPECT_EQ(seekmap::normalize(both), truth)
				<< "copy " << seekmap::to_string(c.map)
				<< "\ndevice " << seekmap::to_string(truth);
		}
		if (!patched)
			return;
		// Debian's own cp reads every byte: the counter tells the
		// two apart.
		Copied plain = copy_with("/bin/cp", dev, size, "always");
		std::cout << "[ figures  ] /bin/cp --sparse=always " << what
			  << ": read " << plain.read << " of " << size
			  << " bytes\n";
		RecordProperty("read_unpatched_cp", plain.read);
		EXPECT_GE(plain.read, size);
	}

	std::string cp_;
	bool patched_ = true;
};

TEST_F(CpClient, ThinVolumeCopyReadsOnlyProvisionedBlocks)
{
	ThinPool pool(64 * KiB);
	ThinDevice thin(pool, 0, 64 * MiB);
	const std::pair<int64_t, int64_t> writes[] = {
		{0, 64 * KiB}, {1 * MiB + 4 * KiB, 200 * KiB},
		{20 * MiB, 3 * MiB}, {40 * MiB + 60 * KiB, 8 * KiB},
		{64 * MiB - 64 * KiB, 64 * KiB}};
	uint32_t seed = 1;
	for (auto [off, len] : writes)
		thin.write(off, len, seed++);
	ExtentMap truth = thin.provisioned();
	ASSERT_EQ(truth.size(), 5u) << seekmap::to_string(truth);
	ExpectCopiesReadOnlyData("thin volume", thin.dm().path(), truth);
}

TEST_F(CpClient, LoopDeviceCopyReadsOnlyDataRanges)
{
	SparseFile f(64 * MiB);
	f.write(0, 4 * KiB);
	f.write(3 * MiB + 512, 100 * KiB);
	f.write(30 * MiB, 2 * MiB);
	f.write(64 * MiB - 8 * KiB, 8 * KiB);
	ExtentMap truth = f.map();
	LoopDevice loop(f.path());
	ExpectCopiesReadOnlyData("loop device", loop.path(), truth);
}

TEST_F(CpClient, PartitionCopyReadsOnlyItsOwnDataRanges)
{
	const int64_t start = 1 * MiB, len = 40 * MiB;
	SparseFile f(64 * MiB);
	write_partition_table(f, "label: gpt\nstart=" + sectors(start) +
					 ", size=" + sectors(len) + "\n");
	// Data inside the partition, and right before and after it.
	f.write(start - 4 * KiB, 4 * KiB, 1);
	f.write(start + 64 * KiB, 64 * KiB, 2);
	f.write(start + 20 * MiB, 1 * MiB, 3);
	f.write(start + len - 4 * KiB, 12 * KiB, 4);
	ExtentMap truth = seekmap::window(f.map(), start, start + len);
	LoopDevice loop(f.path(), {.partscan = true});
	ExpectCopiesReadOnlyData("partition", loop.partition(1), truth);
}

TEST_F(CpClient, DmLinearAndZeroCopyReadsOnlyLinearData)
{
	// linear 0-16 MiB of the file, dm-zero 16 MiB, linear 16-32 MiB.
	SparseFile f(32 * MiB);
	f.write(1 * MiB, 256 * KiB, 1);
	f.write(15 * MiB, 2 * MiB, 2);		// crosses the file's 16 MiB
	f.write(31 * MiB, 4 * KiB, 3);
	LoopDevice loop(f.path());
	DmDevice dm("0 " + sectors(16 * MiB) + " linear " + loop.path() +
		    " 0\n" + sectors(16 * MiB) + " " + sectors(16 * MiB) +
		    " zero\n" + sectors(32 * MiB) + " " + sectors(16 * MiB) +
		    " linear " + loop.path() + " " + sectors(16 * MiB) + "\n");
	ExtentMap file = f.map(), truth = seekmap::window(file, 0, 16 * MiB);
	for (const Extent &e : seekmap::window(file, 16 * MiB, 32 * MiB))
		truth.push_back({e.start + 32 * MiB, e.end + 32 * MiB});
	ExpectCopiesReadOnlyData("dm linear+zero", dm.path(),
				 seekmap::normalize(truth));
}

// The companion patch's own test, tests/cp/sparse-blkdev.sh, in
// coreutils' test-suite harness. Without the series it checks the copies
// only and then skips itself, saying so: that is its pass there.
TEST_F(CpClient, CoreutilsSparseBlkdevTestPasses)
{
	int rc = system("harness/coreutils check >/tmp/coreutils-check.log "
			"2>&1");
	std::ifstream in("/tmp/coreutils-check.log");
	std::string log((std::istreambuf_iterator<char>(in)),
			std::istreambuf_iterator<char>());
	const std::string tail =
		log.substr(log.size() > 2000 ? log.size() - 2000 : 0);
	ASSERT_TRUE(WIFEXITED(rc)) << log;
	const bool no_seek = log.find("lseek SEEK_DATA fails on a block "
				      "device") != std::string::npos;
	if (WEXITSTATUS(rc) == 77 && !no_seek)
		GTEST_SKIP() << "SKIP: coreutils' test skipped itself:\n"
			     << tail;
	if (!patched_) {
		EXPECT_TRUE(WEXITSTATUS(rc) == 77 && no_seek)
			<< "on the unpatched kernel the test must check the "
			   "copies and skip the read counts:\n" << tail;
		return;
	}
	EXPECT_FALSE(no_seek) << "the kernel does not answer SEEK_DATA:\n"
			      << tail;
	EXPECT_EQ(WEXITSTATUS(rc), 0) << log;
}

} // namespace
} // namespace seektest
