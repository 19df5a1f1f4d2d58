// SPDX-License-Identifier: GPL-2.0
// The map walker and the map algebra of utils/seek_map.cc, on the host:
// hand-written maps, tmpfs files (memfd) with hand-written layouts, and
// fake devices that answer like a correct, an unpatched or a broken kernel.
#include <cerrno>
#include <fcntl.h>
#include <fstream>
#include <random>
#include <string>
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "common/units.h"
#include "fake_device.h"

namespace unittest {
namespace {

using namespace units;

TEST(Normalize, SortsMergesOverlappingAndTouchingDropsEmpty)
{
	EXPECT_EQ(seekmap::normalize({{30, 40}, {0, 10}, {10, 12}, {5, 8},
				      {20, 20}, {39, 50}, {60, 59}}),
		  (ExtentMap{{0, 12}, {30, 50}}));
	EXPECT_EQ(seekmap::normalize({}), ExtentMap{});
	EXPECT_EQ(seekmap::normalize({{0, 100}, {10, 20}}),
		  (ExtentMap{{0, 100}}));
}

TEST(Window, CutsAtBothEndsAndShiftsToTheWindowStart)
{
	const ExtentMap m = {{0, 10}, {20, 30}, {40, 50}};
	EXPECT_EQ(seekmap::window(m, 5, 45), (ExtentMap{{0, 5}, {15, 25},
							{35, 40}}));
	EXPECT_EQ(seekmap::window(m, 10, 20), ExtentMap{});
	EXPECT_EQ(seekmap::window(m, 22, 28), (ExtentMap{{0, 6}}));
	EXPECT_EQ(seekmap::window(m, 60, 100), ExtentMap{});
}

TEST(Holes, AreTheComplementUpToTheSize)
{
	EXPECT_EQ(seekmap::holes({{10, 20}, {30, 40}}, 50),
		  (ExtentMap{{0, 10}, {20, 30}, {40, 50}}));
	EXPECT_EQ(seekmap::holes({{0, 20}, {30, 50}}, 50),
		  (ExtentMap{{20, 30}}));
	EXPECT_EQ(seekmap::holes({}, 50), (ExtentMap{{0, 50}}));
	EXPECT_EQ(seekmap::holes({}, 0), ExtentMap{});
}

TEST(ExpectedSeek, HandWrittenAnswers)
{
	const ExtentMap m = {{4096, 8192}, {12288, 16384}};
	const int64_t size = 20000;
	struct {
		int64_t off;
		int whence;
		int64_t want;
	} cases[] = {
		{0, SEEK_DATA, 4096},	     {4095, SEEK_DATA, 4096},
		{4096, SEEK_DATA, 4096},     {8191, SEEK_DATA, 8191},
		{8192, SEEK_DATA, 12288},    {16383, SEEK_DATA, 16383},
		{16384, SEEK_DATA, -ENXIO},  {19999, SEEK_DATA, -ENXIO},
		{0, SEEK_HOLE, 0},	     {4096, SEEK_HOLE, 8192},
		{8191, SEEK_HOLE, 8192},     {8192, SEEK_HOLE, 8192},
		{12300, SEEK_HOLE, 16384},   {19999, SEEK_HOLE, 19999},
		{-1, SEEK_DATA, -ENXIO},     {-1, SEEK_HOLE, -ENXIO},
		{size, SEEK_DATA, -ENXIO},   {size, SEEK_HOLE, -ENXIO},
		{size + 1, SEEK_HOLE, -ENXIO}, {0, SEEK_CUR, -EINVAL},
		{0, 5, -EINVAL},
	};
	for (auto c : cases)
		EXPECT_EQ(seekmap::expected_seek(m, size, c.off, c.whence),
			  c.want)
			<< "off " << c.off << " whence " << c.whence;
	// Data up to the end: the end counts as the hole.
	EXPECT_EQ(seekmap::expected_seek({{0, size}}, size, 5, SEEK_HOLE),
		  size);
	EXPECT_EQ(seekmap::expected_seek({}, size, 5, SEEK_HOLE), 5);
	EXPECT_EQ(seekmap::expected_seek({}, 0, 0, SEEK_DATA), -ENXIO);
}

bool shmem_huge_pages()
{
	std::ifstream in("/sys/kernel/mm/transparent_hugepage/shmem_enabled");
	std::string s((std::istreambuf_iterator<char>(in)),
		      std::istreambuf_iterator<char>());
	return !s.empty() && s.find("[never]") == std::string::npos &&
	       s.find("[deny]") == std::string::npos;
}

// expected_seek() against an independent oracle: the host's tmpfs, whose
// map of a file with page-aligned writes is exactly those writes.
TEST(ExpectedSeek, AgreesWithTmpfsOnRandomLayouts)
{
	if (shmem_huge_pages())
		GTEST_SKIP() << "tmpfs uses huge pages on this host: its map "
				"is not the page-aligned layout written";
	std::mt19937_64 rng(20261122);
	for (int layout = 0; layout < 50; layout++) {
		const int64_t page = 4096;
		auto pick = [&](int64_t n) { return int64_t(rng() % n); };
		const int64_t size = (1 + pick(64)) * page -
				     (pick(2) ? pick(page) : 0);
		ExtentMap data;
		for (int n = pick(6); n > 0; n--) {
			int64_t s = pick((size + page - 1) / page) * page;
			int64_t e = std::min(s + (1 + pick(8)) * page, size);
			data.push_back({s, e});
		}
		data = seekmap::normalize(data);
		// tmpfs keeps whole pages: the data's last page runs to the
		// page end, cut at the size.
		SCOPED_TRACE("layout " + seekmap::to_string(data) + " size " +
			     std::to_string(size));
		int fd = tmpfs_file(size, data);
		for (int64_t off = -1; off <= size; off += 1 + pick(1500))
			for (int64_t o : {off, off / page * page})
				for (int whence : {SEEK_DATA, SEEK_HOLE}) {
					off_t r = lseek(fd, o, whence);
					int64_t got = r < 0 ? -errno : r;
					EXPECT_EQ(seekmap::expected_seek(
							  data, size, o, whence),
						  got)
						<< "off " << o << " whence "
						<< whence;
				}
		close(fd);
		if (HasFailure())
			break;
	}
}

// A walk over a tmpfs file, with the calls it takes: two per extent and a
// last SEEK_DATA unless the last extent ends the file.
void ExpectWalk(int64_t size, const ExtentMap &data, uint64_t calls)
{
	SCOPED_TRACE("layout " + seekmap::to_string(data));
	int fd = tmpfs_file(size, data);
	seekmap::Walk w = seekmap::walk(fd, size);
	EXPECT_EQ(w.error, "");
	EXPECT_EQ(w.err, 0);
	EXPECT_EQ(w.map, data);
	EXPECT_EQ(w.calls, calls);
	close(fd);
}

TEST(Walk, HandWrittenLayoutsOnTmpfs)
{
	ExpectWalk(64 * KiB, {}, 1);
	ExpectWalk(64 * KiB, {{0, 64 * KiB}}, 2);
	ExpectWalk(64 * KiB, {{0, 4 * KiB}, {60 * KiB, 64 * KiB}}, 4);
	ExpectWalk(64 * KiB, {{8 * KiB, 12 * KiB}, {16 * KiB, 40 * KiB}}, 5);
	// A size inside a page: the last extent ends at the size.
	ExpectWalk(10000, {{0, 4096}, {8192, 10000}}, 4);
	ExpectWalk(0, {}, 0);
}

TEST(Walk, RangeCutsAtItsEndAndAsksNothingPastIt)
{
	FakeDevice dev(1 * MiB, {{0, 8 * KiB}, {100 * KiB, 300 * KiB},
				 {600 * KiB, 700 * KiB}});
	seekmap::Walk w = seekmap::walk(dev.fd(), dev.size(), 4 * KiB,
					200 * KiB);
	EXPECT_EQ(w.error, "");
	EXPECT_EQ(w.map, (ExtentMap{{4 * KiB, 8 * KiB},
				    {100 * KiB, 200 * KiB}}));
	EXPECT_LT(dev.max_query(), 200 * KiB);
	EXPECT_EQ(w.calls, dev.queries());
}

TEST(Walk, CountsEveryQueryItMakes)
{
	FakeDevice dev(1 * MiB, {{64 * KiB, 128 * KiB}, {512 * KiB, 1 * MiB}});
	seekmap::Walk w = seekmap::walk(dev.fd(), dev.size());
	EXPECT_EQ(w.map, (ExtentMap{{64 * KiB, 128 * KiB},
				    {512 * KiB, 1 * MiB}}));
	EXPECT_EQ(w.calls, 4u);
	EXPECT_EQ(dev.queries(), 4u);
}

// What the thin call-count test relies on: a device that answers one
// block at a time gives the same data, in pieces, for two calls a block.
TEST(Walk, OneBlockAtATimeTakesTwoCallsPerBlock)
{
	const int64_t bs = 64 * KiB;
	const ExtentMap data = {{0, 2 * bs}, {10 * bs, 12 * bs},
				{20 * bs, 24 * bs}};
	FakeDevice dev(32 * bs, data, {data, bs});
	seekmap::Walk w = seekmap::walk(dev.fd(), dev.size());
	EXPECT_EQ(w.error, "");
	EXPECT_EQ(seekmap::normalize(w.map), data);
	EXPECT_EQ(w.map.size(), 8u);
	EXPECT_EQ(w.calls, 2 * 8u + 1);
	EXPECT_NE(w.calls, 2 * data.size() + 1);
}

TEST(Walk, UnpatchedKernelIsAnErrorWithItsErrno)
{
	FakeDevice dev(1 * MiB, {{0, 4 * KiB}}, {{{0, 4 * KiB}}, 0, true});
	seekmap::Walk w = seekmap::walk(dev.fd(), dev.size());
	EXPECT_EQ(w.err, EINVAL);
	EXPECT_NE(w.error.find("SEEK_DATA(0)"), std::string::npos) << w.error;
	EXPECT_EQ(w.map, ExtentMap{});
}

TEST(Walk, AnswerBeforeTheOffsetIsAnError)
{
	FakeAnswers a{{{0, 4 * KiB}, {8 * KiB, 12 * KiB}}};
	a.bad_at = 4 * KiB; // SEEK_DATA(4096) answers 4095
	FakeDevice dev(64 * KiB, a.map, a);
	seekmap::Walk w = seekmap::walk(dev.fd(), dev.size());
	EXPECT_NE(w.error.find("SEEK_DATA(4096) on size 65536 gave 4095"),
		  std::string::npos) << w.error;
	EXPECT_EQ(w.err, 0);
	EXPECT_EQ(w.map, (ExtentMap{{0, 4 * KiB}}));

	a.bad_at = 8 * KiB; // SEEK_HOLE(8192) answers 8191
	FakeDevice dev2(64 * KiB, a.map, a);
	w = seekmap::walk(dev2.fd(), dev2.size());
	EXPECT_NE(w.error.find("SEEK_HOLE(8192)"), std::string::npos)
		<< w.error;
}

TEST(Walk, PositionThatDoesNotFollowTheAnswerIsAnError)
{
	FakeAnswers a{{{8 * KiB, 12 * KiB}}};
	a.keep_position = true;
	FakeDevice dev(64 * KiB, a.map, a);
	seekmap::Walk w = seekmap::walk(dev.fd(), dev.size());
	EXPECT_NE(w.error.find("file position 0 after a result of 8192"),
		  std::string::npos) << w.error;
}

// Data gone by its SEEK_HOLE: an error for walk(), a vanished offset for
// walk_changing(), which goes on and still finds the whole map.
TEST(Walk, DataGoneByItsSeekHoleOnlyAChangingWalkTakes)
{
	FakeAnswers a{{{0, 4 * KiB}, {8 * KiB, 12 * KiB}, {20 * KiB, 24 * KiB}}};
	a.vanish_at = 8 * KiB;
	a.vanish_times = 2;
	FakeDevice dev(64 * KiB, a.map, a);
	seekmap::Walk w = seekmap::walk(dev.fd(), dev.size());
	EXPECT_NE(w.error.find("SEEK_HOLE(8192) on size 65536 gave 8192"),
		  std::string::npos) << w.error;
	EXPECT_EQ(w.map, (ExtentMap{{0, 4 * KiB}}));

	FakeDevice dev2(64 * KiB, a.map, a);
	w = seekmap::walk_changing(dev2.fd(), dev2.size(), 0, dev2.size());
	EXPECT_EQ(w.error, "");
	EXPECT_EQ(w.map, a.map);
	EXPECT_EQ(w.vanished, (std::vector<int64_t>{8 * KiB, 8 * KiB}));
	EXPECT_EQ(w.calls, 7u + 4u); // 3 extents, ENXIO, 2 gone

	a.vanish_times = 1001; // one more than a walk takes
	FakeDevice dev3(64 * KiB, a.map, a);
	w = seekmap::walk_changing(dev3.fd(), dev3.size(), 0, dev3.size());
	EXPECT_NE(w.error.find("1001st"), std::string::npos) << w.error;
	EXPECT_EQ(w.vanished.size(), 1001u);
	EXPECT_EQ(w.map, (ExtentMap{{0, 4 * KiB}}));
}

TEST(NextData, OneExtentPerCallPairThenEnd)
{
	FakeDevice dev(64 * KiB, {{4 * KiB, 8 * KiB}, {16 * KiB, 64 * KiB}});
	uint64_t calls = 0;
	Extent e{};
	EXPECT_EQ(seekmap::next_data(dev.fd(), dev.size(), 0, &e, &calls), 1);
	EXPECT_EQ(e, (Extent{4 * KiB, 8 * KiB}));
	EXPECT_EQ(seekmap::next_data(dev.fd(), dev.size(), 9 * KiB, &e,
				     &calls), 1);
	EXPECT_EQ(e, (Extent{16 * KiB, 64 * KiB}));
	EXPECT_EQ(calls, 4u);
	EXPECT_EQ(seekmap::next_data(dev.fd(), dev.size(), 64 * KiB, &e,
				     &calls), 0);
	EXPECT_EQ(calls, 4u); // at the end: no call
	FakeDevice empty(64 * KiB, {});
	EXPECT_EQ(seekmap::next_data(empty.fd(), empty.size(), 0, &e, &calls),
		  0);
	EXPECT_EQ(calls, 5u);
}

TEST(NextData, UnsupportedIsEinvalAndBadAnswersAreErange)
{
	uint64_t calls = 0;
	Extent e{};
	FakeDevice old(64 * KiB, {}, {{}, 0, true});
	EXPECT_EQ(seekmap::next_data(old.fd(), old.size(), 0, &e, &calls),
		  -EINVAL);
	FakeAnswers a{{{4 * KiB, 8 * KiB}}};
	a.bad_at = 4 * KiB;
	FakeDevice bad(64 * KiB, a.map, a);
	EXPECT_EQ(seekmap::next_data(bad.fd(), bad.size(), 4 * KiB, &e, &calls),
		  -ERANGE);
}

// Data gone by its SEEK_HOLE is looked for again from there; a map that
// keeps changing at one offset ends in -ERANGE, not in a loop.
TEST(NextData, DataGoneByItsSeekHoleIsLookedForAgain)
{
	FakeAnswers a{{{8 * KiB, 12 * KiB}}};
	a.vanish_at = 8 * KiB;
	a.vanish_times = 3;
	FakeDevice dev(64 * KiB, a.map, a);
	uint64_t calls = 0;
	Extent e{};
	EXPECT_EQ(seekmap::next_data(dev.fd(), dev.size(), 0, &e, &calls), 1);
	EXPECT_EQ(e, (Extent{8 * KiB, 12 * KiB}));
	EXPECT_EQ(calls, 8u);
	a.vanish_times = 1 << 20;
	FakeDevice flapping(64 * KiB, a.map, a);
	EXPECT_EQ(seekmap::next_data(flapping.fd(), flapping.size(), 0, &e,
				     &calls), -ERANGE);
}

TEST(Sizes, HumanSizeRollsOverAndParseSizeTakesBinarySuffixes)
{
	EXPECT_EQ(seekmap::human_size(0), "0 B");
	EXPECT_EQ(seekmap::human_size(1023), "1023 B");
	EXPECT_EQ(seekmap::human_size(1024), "1.0 KiB");
	EXPECT_EQ(seekmap::human_size(1536 * KiB), "1.5 MiB");
	EXPECT_EQ(seekmap::human_size(1024 * KiB - 1), "1.0 MiB");
	EXPECT_EQ(seekmap::parse_size("0"), 0);
	EXPECT_EQ(seekmap::parse_size("4K"), 4 * KiB);
	EXPECT_EQ(seekmap::parse_size("3MiB"), 3 * MiB);
	EXPECT_EQ(seekmap::parse_size("1g"), 1024 * MiB);
	EXPECT_EQ(seekmap::parse_size("8E"), -1);
	EXPECT_EQ(seekmap::parse_size("7E"), int64_t(7) << 60);
	for (const char *bad : {"", "-1", "K", "4KB", "4 K", "1.5M", "4Ki"})
		EXPECT_EQ(seekmap::parse_size(bad), -1) << bad;
}

TEST(OpenFileOrBlockdev, RefusesAFifoWithoutWaitingForAWriter)
{
	char dir[] = "/tmp/seek-unit-XXXXXX";
	ASSERT_NE(mkdtemp(dir), nullptr);
	std::string fifo = std::string(dir) + "/fifo";
	ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
	struct stat st;
	EXPECT_EQ(seekmap::open_file_or_blockdev(fifo.c_str(), O_RDONLY, &st),
		  -EINVAL);
	EXPECT_STREQ(seekmap::file_type(st.st_mode), "a FIFO");
	unlink(fifo.c_str());
	rmdir(dir);
}

} // namespace
} // namespace unittest
