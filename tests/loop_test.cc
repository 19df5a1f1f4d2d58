// SPDX-License-Identifier: GPL-2.0
// Loop devices answer SEEK_DATA/SEEK_HOLE with their backing file's map,
// translated by lo_offset and cut at the device size.
#include <cerrno>
#include <climits>
#include <cstdlib>
#include <fcntl.h>
#include <linux/loop.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <vector>

#include "common/units.h"
#include "fixtures.h"
#include "liveness.h"

namespace seektest {
namespace {

using namespace units;

// The map a loop device over @file with @opts must report: the file's own
// map, seen through the window [offset, offset + device size).
ExtentMap expected_loop_map(const SparseFile &file, const LoopOptions &opts,
			    int64_t dev_size)
{
	return seekmap::window(file.map(), opts.offset,
			       opts.offset + dev_size);
}

class LoopMap : public DeviceTest {
protected:
	// Bind @file with @opts, then compare the whole map and probe every
	// extent boundary of the expected map.
	void CheckLoop(const SparseFile &file, const LoopOptions &opts = {})
	{
		LoopDevice loop(file.path(), opts);
		int64_t size = loop.size();
		ExtentMap want = expected_loop_map(file, opts, size);
		SCOPED_TRACE("file map " + seekmap::to_string(file.map()) +
			     " offset " + std::to_string(opts.offset) +
			     " sizelimit " + std::to_string(opts.sizelimit));
		EXPECT_TRUE(MapIs(loop.fd(), size, want));
		EXPECT_TRUE(SeekAnswers(loop.fd(), size, want, 0));
		EXPECT_TRUE(SeekAnswers(loop.fd(), size, want, size - 1));
		for (const Extent &e : want)
			for (int64_t b : {e.start, e.end})
				for (int64_t d : {-512, -1, 0, 1, 512})
					if (b + d >= 0 && b + d < size) {
						EXPECT_TRUE(SeekAnswers(loop.fd(), size,
							     want, b + d));
					}
	}
};

TEST_F(LoopMap, DataAtBothEnds)
{
	SparseFile f(8 * MiB);
	f.write(0, 64 * KiB);
	f.write(3 * MiB, 12 * KiB);
	f.write(8 * MiB - 8 * KiB, 8 * KiB);
	CheckLoop(f);
}

TEST_F(LoopMap, HolesAtBothEnds)
{
	SparseFile f(8 * MiB);
	f.write(1 * MiB, 4 * KiB);
	f.write(5 * MiB, 1 * MiB);
	CheckLoop(f);
}

TEST_F(LoopMap, NoHolesIsOneDataExtent)
{
	SparseFile f(2 * MiB);
	f.write(0, 2 * MiB);
	CheckLoop(f);
}

TEST_F(LoopMap, EmptyFileIsOneHole)
{
	SparseFile f(4 * MiB);
	CheckLoop(f);
	LoopDevice loop(f.path());
	EXPECT_EQ(seekmap::seek(loop.fd(), 0, SEEK_DATA), -ENXIO);
	EXPECT_EQ(seekmap::seek(loop.fd(), 0, SEEK_HOLE), 0);
}

TEST_F(LoopMap, ZeroSizeDeviceAnswersEnxio)
{
	SparseFile f(0);
	LoopDevice loop(f.path());
	ASSERT_EQ(loop.size(), 0);
	for (int whence : {SEEK_DATA, SEEK_HOLE})
		EXPECT_EQ(seekmap::seek(loop.fd(), 0, whence), -ENXIO);
}

TEST_F(LoopMap, LayoutBeyondFourGiB)
{
	SparseFile f(6 * GiB + 4 * KiB);
	f.write(0, 4 * KiB);
	f.write(4 * GiB - 4 * KiB, 8 * KiB); // across the 32-bit boundary
	f.write(5 * GiB, 64 * KiB);
	f.write(6 * GiB, 4 * KiB);
	CheckLoop(f);
}

TEST_F(LoopMap, OffsetSectorAlignedNotPageAligned)
{
	SparseFile f(4 * MiB);
	f.write(0, 4 * KiB);
	f.write(1 * MiB, 8 * KiB);
	f.write(3 * MiB, 4 * KiB);
	CheckLoop(f, {.offset = 3 * 512});
	CheckLoop(f, {.offset = 1 * MiB + 512});
}

TEST_F(LoopMap, OffsetNotSectorAligned)
{
	SparseFile f(4 * MiB);
	f.write(4 * KiB, 4 * KiB);
	f.write(2 * MiB, 8 * KiB);
	CheckLoop(f, {.offset = 1000});
	CheckLoop(f, {.offset = 2 * MiB + 1});
}

TEST_F(LoopMap, SizelimitEndingInsideDataGivesHoleAtEnd)
{
	SparseFile f(4 * MiB);
	f.write(0, 4 * MiB);
	CheckLoop(f, {.sizelimit = 1 * MiB});
	LoopDevice loop(f.path(), {.sizelimit = 1 * MiB});
	EXPECT_EQ(seekmap::seek(loop.fd(), 0, SEEK_HOLE), 1 * MiB);
	EXPECT_EQ(seekmap::seek(loop.fd(), 1 * MiB - 1, SEEK_DATA),
		  1 * MiB - 1);
	EXPECT_EQ(seekmap::seek(loop.fd(), 1 * MiB, SEEK_DATA), -ENXIO);
}

TEST_F(LoopMap, SizelimitUnalignedRoundsDownToSector)
{
	SparseFile f(4 * MiB);
	f.write(1 * MiB, 4 * MiB - 1 * MiB);
	CheckLoop(f, {.sizelimit = 1 * MiB + 1000});
	CheckLoop(f, {.sizelimit = 1 * MiB + 4096 + 512});
}

TEST_F(LoopMap, SizelimitDataStopsBeforeEndOfHoleAfterIt)
{
	SparseFile f(4 * MiB);
	f.write(8 * KiB, 4 * KiB);
	f.write(3 * MiB, 4 * KiB); // beyond the limit: must not show
	CheckLoop(f, {.sizelimit = 2 * MiB});
	LoopDevice loop(f.path(), {.sizelimit = 2 * MiB});
	EXPECT_EQ(seekmap::seek(loop.fd(), 12 * KiB, SEEK_DATA), -ENXIO);
}

TEST_F(LoopMap, OffsetAndSizelimitTogether)
{
	SparseFile f(8 * MiB);
	f.write(0, 4 * KiB);
	f.write(2 * MiB - 4 * KiB, 8 * KiB);
	f.write(5 * MiB, 12 * KiB);
	f.write(7 * MiB, 1 * MiB);
	CheckLoop(f, {.offset = 2 * MiB - 1024, .sizelimit = 5 * MiB + 3});
	CheckLoop(f, {.offset = 4096 + 7, .sizelimit = 7 * MiB});
}

TEST_F(LoopMap, BackingFilePositionDoesNotMove)
{
	SparseFile f(4 * MiB);
	f.write(1 * MiB, 4 * KiB);
	f.write(3 * MiB, 4 * KiB);
	// Bind the very descriptor whose position we then look at.
	UniqueFd backing = open_or_throw(f.path(), O_RDWR);
	ASSERT_EQ(lseek(backing.get(), 12345, SEEK_SET), 12345);
	LoopDevice loop(backing.get());
	EXPECT_TRUE(MapIs(loop.fd(), loop.size(), f.map()));
	EXPECT_EQ(lseek(backing.get(), 0, SEEK_CUR), 12345);
}

TEST_F(LoopMap, BackingFileShrunkAfterBindIsDataPastItsEnd)
{
	SparseFile f(4 * MiB);
	f.write(0, 64 * KiB);
	f.write(3 * MiB, 64 * KiB);
	LoopDevice loop(f.path());
	ASSERT_EQ(loop.size(), 4 * MiB);
	f.truncate(2 * MiB);
	// The device keeps its size. Past the file's end, reads fail: that is
	// no hole, so the map is the file's data plus everything past 2 MiB.
	char c;
	ASSERT_EQ(pread(loop.fd(), &c, 1, 3 * MiB), -1)
		<< "reads past the backing file's end no longer fail: "
		   "revisit what this range is";
	EXPECT_TRUE(MapIs(loop.fd(), 4 * MiB, {{0, 64 * KiB}, {2 * MiB, 4 * MiB}}));
	EXPECT_EQ(seekmap::seek(loop.fd(), 64 * KiB, SEEK_DATA), 2 * MiB);
	EXPECT_EQ(seekmap::seek(loop.fd(), 3 * MiB, SEEK_DATA), 3 * MiB);
	EXPECT_EQ(seekmap::seek(loop.fd(), 3 * MiB, SEEK_HOLE), 4 * MiB);
	EXPECT_EQ(seekmap::seek(loop.fd(), 1 * MiB, SEEK_HOLE), 1 * MiB);
}

TEST_F(LoopMap, LoopOverLoopComposes)
{
	SparseFile f(8 * MiB);
	f.write(64 * KiB, 4 * KiB);
	f.write(5 * MiB, 8 * KiB);
	LoopDevice lower(f.path(), {.offset = 4096});
	LoopDevice upper(lower.path(), {.offset = 512, .sizelimit = 6 * MiB});
	ExtentMap want = seekmap::window(f.map(), 4096 + 512,
					 4096 + 512 + upper.size());
	EXPECT_TRUE(MapIs(upper.fd(), upper.size(), want));
}

// A backing file system that cannot tell holes (9p answers SEEK_DATA with
// the generic "all data" rule) makes the loop device all data.
TEST_F(LoopMap, BackingWithoutHoleSupportIsAllData)
{
	const char *dir = getenv("SEEK_TEST_NOHOLE_DIR");
	if (!dir || !*dir)
		GTEST_SKIP() << "SKIP: SEEK_TEST_NOHOLE_DIR (a directory on a "
				"file system without hole support) is not set";
	SparseFile f(2 * MiB, dir);
	f.write(1 * MiB, 4 * KiB);
	ASSERT_EQ(f.map(), ExtentMap({{0, 2 * MiB}}))
		<< "SEEK_TEST_NOHOLE_DIR does report holes";
	CheckLoop(f);
}

TEST_F(LoopMap, UnboundDeviceAnswersLikeEmptyDevice)
{
	UniqueFd ctl = open_or_throw("/dev/loop-control", O_RDWR);
	int n = ioctl(ctl.get(), LOOP_CTL_GET_FREE);
	ASSERT_GE(n, 0);
	UniqueFd dev = open_or_throw("/dev/loop" + std::to_string(n), O_RDONLY);
	for (int whence : {SEEK_DATA, SEEK_HOLE})
		EXPECT_EQ(seekmap::seek(dev.get(), 0, whence), -ENXIO);
}

TEST_F(LoopMap, ClearedWhileOpenIsAllDataAsReadsFail)
{
	SparseFile f(1 * MiB);
	f.write(0, 4 * KiB);
	LoopDevice loop(f.path());
	ASSERT_EQ(ioctl(loop.fd(), LOOP_CLR_FD), 0);
	// Cleared on the last close; until then the device keeps its size
	// and its reads fail, even over the file's holes: no hole at all.
	char c;
	ASSERT_EQ(pread(loop.fd(), &c, 1, 512 * KiB), -1);
	EXPECT_EQ(errno, EIO);
	EXPECT_EQ(seekmap::seek(loop.fd(), 512 * KiB, SEEK_DATA), 512 * KiB);
	EXPECT_EQ(seekmap::seek(loop.fd(), 512 * KiB, SEEK_HOLE), 1 * MiB);
}

// Buffered writes through the device sit in its page cache, where reads find
// them before they reach the backing file: the map must show them at once.
TEST_F(LoopMap, BufferedWritesThroughTheDeviceShowAtOnce)
{
	SparseFile f(4 * MiB);
	LoopDevice loop(f.path());
	std::vector<char> buf(4 * KiB, 'x');
	ASSERT_EQ(pwrite(loop.fd(), buf.data(), buf.size(), 1 * MiB),
		  ssize_t(buf.size()));
	EXPECT_EQ(seekmap::seek(loop.fd(), 0, SEEK_DATA), 1 * MiB);
	EXPECT_TRUE(MapIs(loop.fd(), 4 * MiB, {{1 * MiB, 1 * MiB + 4 * KiB}}));
}

// Loop over a loop device reads through the lower device's page cache: the
// stacked query must see the pages written there too. The upper device's
// own dirty pages are not written back by a query, so the lower device
// sees them only once the upper one is synced.
TEST_F(LoopMap, LoopOverLoopSeesBufferedWritesOfBothLayers)
{
	// The upper page must stay dirty until the fsync below: no periodic
	// flusher wake-up meanwhile (see DmMap.LowerDevicePageCache...).
	ScopedSysValue no_flusher("/proc/sys/vm/dirty_writeback_centisecs",
				  "360000");
	sync();
	SparseFile f(4 * MiB);
	LoopDevice lower(f.path());
	LoopDevice upper(lower.path());
	std::vector<char> buf(4 * KiB, 'y');
	ASSERT_EQ(pwrite(upper.fd(), buf.data(), buf.size(), 2 * MiB),
		  ssize_t(buf.size()));
	ASSERT_EQ(pwrite(lower.fd(), buf.data(), buf.size(), 3 * MiB),
		  ssize_t(buf.size()));
	ExtentMap want = {{2 * MiB, 2 * MiB + 4 * KiB},
			  {3 * MiB, 3 * MiB + 4 * KiB}};
	EXPECT_TRUE(MapIs(upper.fd(), 4 * MiB, want));
	EXPECT_TRUE(MapIs(lower.fd(), 4 * MiB, {{3 * MiB, 3 * MiB + 4 * KiB}}));
	ASSERT_EQ(fsync(upper.fd()), 0);
	EXPECT_TRUE(MapIs(lower.fd(), 4 * MiB, want));
}

// A loop device over a file on a frozen file system, with a dirty page in
// the loop device's page cache: writing it back would wait for the thaw
// (loop writes it into the frozen file system). The query must answer
// without that, with the page as data, and after the thaw and fsync the
// page is in the backing file.
TEST_F(LoopMap, FrozenBackingFileSystemAnswersOverDirtyPage)
{
	SparseFile image(64 * MiB);
	run_or_throw("mkfs.ext4 -q -F -b 4096 -E nodiscard " + image.path());
	LoopDevice fsdev(image.path());
	TempMount mnt(fsdev.path(), "ext4");
	SparseFile f(8 * MiB, mnt.dir());
	f.write(0, 64 * KiB);
	f.write(5 * MiB, 8 * KiB);
	ASSERT_EQ(fsync(f.fd()), 0) << strerror(errno);
	LoopDevice loop(f.path());
	const int64_t size = loop.size(), page = 2 * MiB; // a hole of the file
	ExtentMap want = expected_loop_map(f, {}, size);
	ASSERT_EQ(seekmap::window(want, page, page + 4 * KiB), ExtentMap{})
		<< seekmap::to_string(want);
	want.push_back({page, page + 4 * KiB});
	want = seekmap::normalize(want);
	write_page(loop.fd(), page);

	std::future<seekmap::Walk> walk;
	FrozenFs frozen(mnt.dir()); // thawed before the walk is waited for
	walk = async_walk(loop.fd(), size);
	if (AnswersWithin(walk, "walk of a loop device on a frozen file system")) {
		seekmap::Walk w = walk.get();
		EXPECT_EQ(w.error, "");
		EXPECT_EQ(w.map, want)
			<< "while frozen: map " << seekmap::to_string(w.map)
			<< "\nexpected file map plus the dirty page "
			<< seekmap::to_string(want);
	}
	frozen.thaw();
	ASSERT_EQ(fsync(loop.fd()), 0) << strerror(errno);
	EXPECT_EQ(expected_loop_map(f, {}, size), want)
		<< "after fsync, the file map is not the old one plus the page";
	EXPECT_TRUE(MapIs(loop.fd(), size, expected_loop_map(f, {}, size)));
}

} // namespace
} // namespace seektest
