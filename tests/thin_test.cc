// SPDX-License-Identifier: GPL-2.0
// dm-thin answers SEEK_DATA/SEEK_HOLE from its pool metadata: provisioned
// blocks are data, unprovisioned ones holes (or the external origin's map).
// The expected map is the provisioned map read independently, with
// thin-provisioning-tools' thin_dump from a metadata snapshot, read by
// thin_dump_map() (expected.h).
//
// SEEK_TEST_SEED=n replays from seed n; SEEK_TEST_THIN_LAYOUTS=k sets the
// number of random layouts per block size.
#include <atomic>
#include <chrono>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <iostream>
#include <linux/fs.h>
#include <linux/loop.h>
#include <memory>
#include <random>
#include <spawn.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <thread>
#include <unistd.h>

#include "liveness.h"
#include "thin_fixtures.h"

namespace seektest {
namespace {

uint64_t env_or(const char *name, uint64_t def)
{
	const char *v = getenv(name);
	return v && *v ? strtoull(v, nullptr, 0) : def;
}

class ThinMap : public DeviceTest,
		public ::testing::WithParamInterface<int64_t> {};

TEST_P(ThinMap, EmptyThinIsOneHole)
{
	ThinPool pool(GetParam());
	ThinDevice thin(pool, 0, 64 * MiB);
	EXPECT_EQ(thin.provisioned(), ExtentMap{});
	EXPECT_TRUE(MapIs(thin.fd(), thin.size(), {}));
	EXPECT_EQ(seekmap::seek(thin.fd(), 0, SEEK_DATA), -ENXIO);
	EXPECT_EQ(seekmap::seek(thin.fd(), 12345, SEEK_HOLE), 12345);
}

TEST_P(ThinMap, PartialBlockWriteProvisionsTheWholeBlock)
{
	const int64_t bs = GetParam();
	ThinPool pool(bs);
	ThinDevice thin(pool, 0, 64 * MiB);
	thin.write(3 * bs + 8 * KiB, 4 * KiB);
	// Written out of both the test's model and thin_dump's.
	EXPECT_EQ(thin.provisioned(), blocks(bs, {{3, 1}}));
	EXPECT_TRUE(MapIs(thin.fd(), thin.size(), blocks(bs, {{3, 1}})));
	ExtentMap map = blocks(bs, {{3, 1}});
	for (int64_t off : {int64_t(0), 3 * bs - 1, 3 * bs, 3 * bs + 1,
			    3 * bs + 8 * KiB, 4 * bs - 1, 4 * bs, 4 * bs + 1,
			    thin.size() - 1})
		EXPECT_TRUE(SeekAnswers(thin.fd(), thin.size(), map, off));
}

TEST_P(ThinMap, ScatteredDirectWritesMatchThinDump)
{
	const int64_t bs = GetParam();
	const uint64_t seed = env_or("SEEK_TEST_SEED", std::random_device{}());
	const uint64_t layouts = env_or("SEEK_TEST_THIN_LAYOUTS", 6);
	std::cout << "[   SEED   ] SEEK_TEST_SEED=" << seed
		  << " SEEK_TEST_THIN_LAYOUTS=" << layouts << std::endl;
	ThinPool pool(bs);
	for (uint64_t i = 0; i < layouts; i++) {
		SCOPED_TRACE("replay: SEEK_TEST_SEED=" + std::to_string(seed + i) +
			     " SEEK_TEST_THIN_LAYOUTS=1");
		std::mt19937_64 rng(seed + i);
		// Sizes that end inside a block, too.
		int64_t size = (16 + rng() % 48) * bs + (rng() % 2) * 4 * KiB *
			       (1 + rng() % (bs / (4 * KiB) - 1));
		{
			ThinDevice thin(pool, i, size);
			int writes = rng() % 24;
			for (int w = 0; w < writes; w++) {
				int64_t off = (rng() % (size / (4 * KiB))) * 4 * KiB;
				int64_t len = 4 * KiB * (1 + rng() % (rng() % 3 ? 8 : 3 * bs / (4 * KiB)));
				thin.write(off, std::min(len, size - off), seed + i + w);
			}
			ExtentMap want = thin.provisioned();
			EXPECT_TRUE(MapIs(thin.fd(), size, want));
			for (int k = 0; k < 40; k++) {
				int64_t off = rng() % 3 ? (rng() % (size / bs + 1)) * bs -
							   rng() % 2
							: int64_t(rng() % size);
				EXPECT_TRUE(SeekAnswers(thin.fd(), size, want,
					     std::clamp<int64_t>(off, 0, size - 1)));
			}
		}
		pool.message("delete " + std::to_string(i));
		if (HasFailure())
			break;
	}
}

INSTANTIATE_TEST_SUITE_P(BlockSizes, ThinMap,
			 ::testing::Values(64 * KiB, 1 * MiB, 192 * KiB),
			 [](const auto &info) {
				 return std::to_string(info.param / KiB) + "KiB";
			 });

class ThinPoolTest : public DeviceTest {};

TEST_F(ThinPoolTest, TeraByteVirtualVolumeInSmallPool)
{
	ThinPool pool(64 * KiB, 64 * MiB);
	ThinDevice thin(pool, 0, 1 * TiB);
	const int64_t offs[] = {0, 4 * MiB, 1 * GiB + 64 * KiB, 300 * GiB,
				512 * GiB - 64 * KiB, 1 * TiB - 128 * KiB};
	ExtentMap written;
	for (int64_t off : offs) {
		thin.write(off, 128 * KiB);
		written.push_back({off, off + 128 * KiB});
	}
	ExtentMap want = thin.provisioned();
	EXPECT_EQ(want, seekmap::normalize(written));
	seekmap::Walk w = seekmap::walk(thin.fd(), thin.size());
	EXPECT_EQ(w.error, "");
	EXPECT_EQ(seekmap::normalize(w.map), want);
	// Each run of two blocks is one answer: one SEEK_DATA and one
	// SEEK_HOLE per extent, and a last SEEK_DATA unless the last extent
	// ends the device. A kernel that answers one block at a time (a
	// SEEK_HOLE at the end of each block) takes two calls per block.
	const uint64_t calls =
		2 * want.size() + (want.back().end < thin.size() ? 1 : 0);
	EXPECT_EQ(w.calls, calls)
		<< "walk answers " << seekmap::to_string(w.map);
	EXPECT_TRUE(MapIs(thin.fd(), thin.size(), want));
}

// Without an external origin, SEEK_DATA across a thin volume's hole is
// one search of the mapping tree: it costs about the same across 1 PiB as
// across 1 TiB, each up to one block written at the end (with a btree
// search per GiB it took 28 s for the petabyte). Ground truth: thin_dump.
TEST_F(ThinPoolTest, SeekDataCostsTheSameAcrossAThousandTimesLongerHole)
{
	ThinPool pool(64 * KiB, 64 * MiB, {}, ThinPool::DataOnZero);
	const int64_t small = int64_t(1) << 40, big = int64_t(1) << 50;
	ThinDevice small_thin(pool, 0, small), big_thin(pool, 1, big);
	small_thin.write(small - 64 * KiB, 64 * KiB);
	big_thin.write(big - 64 * KiB, 64 * KiB);
	ASSERT_EQ(pool.provisioned(0), ExtentMap({{small - 64 * KiB, small}}));
	ASSERT_EQ(pool.provisioned(1), ExtentMap({{big - 64 * KiB, big}}));
	ExpectSeekCostIndependentOfHoleLength(
		small_thin.fd(), big_thin.fd(), SEEK_DATA, small - 64 * KiB,
		big - 64 * KiB, "SEEK_DATA across an empty thin volume");
	EXPECT_EQ(seekmap::seek(big_thin.fd(), big - 64 * KiB, SEEK_HOLE), big);
	// The hole reads zeros (samples of it).
	EXPECT_TRUE(HolesReadZero(big_thin.fd(), big,
			    ExtentMap({{big - 64 * KiB, big}})));
}

TEST_F(ThinPoolTest, LongProvisionedRunIsOneExtent)
{
	// 3000 blocks: runs over many btree leaves, with data blocks that
	// are not in order and a shared part after a snapshot.
	ThinPool pool(64 * KiB, 512 * MiB);
	ThinDevice thin(pool, 0, 256 * MiB);
	for (int64_t b = 2999; b >= 0; b -= 2)
		thin.write(b * 64 * KiB, 64 * KiB);
	snapshot(pool, thin, 1);
	for (int64_t b = 0; b < 3000; b += 2)
		thin.write(b * 64 * KiB, 64 * KiB);
	ExtentMap want = blocks(64 * KiB, {{0, 3000}});
	EXPECT_EQ(thin.provisioned(), want);
	EXPECT_TRUE(MapIs(thin.fd(), thin.size(), want));
	EXPECT_TRUE(SeekAnswers(thin.fd(), thin.size(), want, 1000 * 64 * KiB + 7));
}

TEST_F(ThinPoolTest, RunsOverManyLeavesEndWhereverTheGapIs)
{
	// 4000 blocks with seeded gaps: runs end in the middle of btree
	// leaves, at their edges and after crossing several of them.
	const int64_t bs = 64 * KiB, nr = 4000;
	const uint64_t seed = env_or("SEEK_TEST_SEED", std::random_device{}());
	std::cout << "[   SEED   ] SEEK_TEST_SEED=" << seed << std::endl;
	SCOPED_TRACE("replay: SEEK_TEST_SEED=" + std::to_string(seed));
	std::mt19937_64 rng(seed);
	ThinPool pool(bs, 512 * MiB);
	ThinDevice thin(pool, 0, nr * bs + 16 * bs);
	ExtentMap written;
	for (int64_t b = 0; b < nr;) {
		int64_t run = 1 + rng() % (rng() % 4 ? 600 : 40);
		run = std::min(run, nr - b);
		thin.write(b * bs, run * bs);
		written.push_back({b * bs, (b + run) * bs});
		b += run + 1 + rng() % 3;
	}
	ExtentMap want = thin.provisioned();
	EXPECT_EQ(want, seekmap::normalize(written));
	EXPECT_TRUE(MapIs(thin.fd(), thin.size(), want));
	for (const Extent &e : want)
		for (int64_t off : {e.start, e.start + 1, e.end - bs, e.end - 1})
			EXPECT_TRUE(SeekAnswers(thin.fd(), thin.size(), want, off));
}

// Runs longer than one batch of the metadata walk (4096 blocks, after
// which it lets writers in and goes on), and fully provisioned volumes
// (answered from the mapped-block count), also with mappings past the end
// of a shrunk thin target. The fully provisioned volume is a snapshot of
// the run, taken before the block after it was written: the same count
// of mapped blocks as writing it all, without writing 625 MiB again.
TEST_F(ThinPoolTest, RunsLongerThanABatchAndFullyProvisionedVolumes)
{
	const int64_t bs = 64 * KiB, nr = 10000;
	ThinPool pool(bs, 2 * GiB, {}, ThinPool::DataOnZero);
	ThinDevice run(pool, 0, (nr + 16) * bs);
	run.write(0, nr * bs);
	snapshot(pool, run, 1);
	run.write((nr + 1) * bs, bs);
	ExtentMap want = blocks(bs, {{0, nr}, {nr + 1, 1}});
	EXPECT_EQ(run.provisioned(), want);
	EXPECT_TRUE(MapIs(run.fd(), run.size(), want));
	for (int64_t b : {int64_t(0), int64_t(4095), int64_t(4096), int64_t(5000), nr - 1})
		EXPECT_TRUE(SeekAnswers(run.fd(), run.size(), want, b * bs + 512));

	ThinDevice full(pool, 1, nr * bs, "", false);
	want = blocks(bs, {{0, nr}});
	EXPECT_EQ(full.provisioned(), want);
	EXPECT_TRUE(MapIs(full.fd(), full.size(), want));
	EXPECT_TRUE(SeekAnswers(full.fd(), full.size(), want, 7000 * bs + 1));
	// The same device through a shorter target: the run ends at its end.
	const int64_t shorter = 9000 * bs + 4 * KiB;
	full.dm().reload("0 " + sectors(shorter) + " thin " + pool.path() +
			 " 1");
	UniqueFd fd = open_or_throw(full.dm().path(), O_RDONLY | O_CLOEXEC);
	EXPECT_TRUE(MapIs(fd.get(), shorter, {{0, shorter}}));
	EXPECT_EQ(seekmap::seek(fd.get(), 100, SEEK_HOLE), shorter);
}

TEST_F(ThinPoolTest, DiscardWholeBlockBecomesHole)
{
	const int64_t bs = 64 * KiB;
	ThinPool pool(bs);
	ThinDevice thin(pool, 0, 16 * MiB);
	thin.write(0, 10 * bs);
	thin.discard(2 * bs, bs);
	thin.discard(5 * bs, 3 * bs);
	ExtentMap want = blocks(bs, {{0, 2}, {3, 2}, {8, 2}});
	EXPECT_EQ(thin.provisioned(), want);
	EXPECT_TRUE(MapIs(thin.fd(), thin.size(), want));
}

TEST_F(ThinPoolTest, PartialBlockDiscardLeavesData)
{
	const int64_t bs = 1 * MiB;
	ThinPool pool(bs);
	ThinDevice thin(pool, 0, 16 * MiB);
	thin.write(0, 4 * bs);
	// Half of block 0, the end of 1 and the start of 2, most of 3: no
	// whole block, so nothing is unmapped.
	thin.discard(0, bs / 2);
	thin.discard(bs + bs / 2, bs);
	thin.discard(3 * bs, bs - 64 * KiB);
	ExtentMap want = blocks(bs, {{0, 4}});
	EXPECT_EQ(thin.provisioned(), want);
	EXPECT_TRUE(MapIs(thin.fd(), thin.size(), want));
	// A discard over one whole block and parts of two others.
	thin.discard(bs / 2, 2 * bs);
	want = blocks(bs, {{0, 1}, {2, 2}});
	EXPECT_EQ(thin.provisioned(), want);
	EXPECT_TRUE(MapIs(thin.fd(), thin.size(), want));
}

class ThinSnapshot : public DeviceTest {};

TEST_F(ThinSnapshot, MapEqualsOriginAtCreationThenEachDiverges)
{
	const int64_t bs = 64 * KiB;
	ThinPool pool(bs);
	ThinDevice origin(pool, 0, 16 * MiB);
	origin.write(0, 4 * bs);
	origin.write(10 * bs, 2 * bs);
	snapshot(pool, origin, 1);
	ThinDevice snap(pool, 1, 16 * MiB, "", false);
	ExtentMap at_creation = blocks(bs, {{0, 4}, {10, 2}});
	EXPECT_EQ(snap.provisioned(), at_creation);
	EXPECT_TRUE(MapIs(snap.fd(), snap.size(), at_creation));
	EXPECT_TRUE(MapIs(origin.fd(), origin.size(), at_creation));

	// Origin: a new block, an overwrite of a shared one, a discard.
	origin.write(20 * bs, bs);
	origin.write(1 * bs, 4 * KiB);
	origin.discard(10 * bs, bs);
	// Snapshot: a new block and a discard of a shared one.
	snap.write(30 * bs, bs);
	snap.discard(2 * bs, bs);

	ExtentMap o = blocks(bs, {{0, 4}, {11, 1}, {20, 1}});
	ExtentMap s = blocks(bs, {{0, 2}, {3, 1}, {10, 2}, {30, 1}});
	EXPECT_EQ(origin.provisioned(), o);
	EXPECT_EQ(snap.provisioned(), s);
	EXPECT_TRUE(MapIs(origin.fd(), origin.size(), o));
	EXPECT_TRUE(MapIs(snap.fd(), snap.size(), s));
}

class ThinOrigin : public DeviceTest {};

// External origin: a read-only loop device over a sparse file whose size
// is not a multiple of the pool block, smaller than the thin device.
struct Origin {
	SparseFile file;
	LoopDevice loop;
	explicit Origin(int64_t size, std::initializer_list<std::pair<int64_t, int64_t>> data)
		: file(size), loop(fill(file, data), {0, 0, false, true}) {}

	// " MAJ:MIN\n": the origin as the last argument of a live table's line.
	std::string table_marker() const
	{
		struct stat st;
		if (stat(loop.path().c_str(), &st))
			fail_errno("stat " + loop.path());
		return " " + std::to_string(major(st.st_rdev)) + ":" +
		       std::to_string(minor(st.st_rdev)) + "\n";
	}

	// Unprovisioned blocks read the origin below its size, zeros past it.
	ExtentMap expected(const ExtentMap &provisioned, int64_t thin_size) const
	{
		return external_origin_map(file.map(), file.size(), provisioned,
					   thin_size);
	}

private:
	static const std::string &fill(SparseFile &f,
				       std::initializer_list<std::pair<int64_t, int64_t>> data)
	{
		for (auto [off, len] : data)
			f.write(off, len);
		return f.path();
	}
};

TEST_F(ThinOrigin, HoleOnlyWhereTheOriginHasOneAndPastItsEnd)
{
	const int64_t bs = 64 * KiB;
	// Data inside one block, across blocks, and up to the origin's end.
	Origin origin(5 * MiB + 12 * KiB,
		      {{8 * KiB, 4 * KiB}, {1 * MiB - 4 * KiB, 200 * KiB},
		       {5 * MiB, 12 * KiB}});
	ThinPool pool(bs);
	ThinDevice thin(pool, 0, 16 * MiB, origin.loop.path());
	EXPECT_TRUE(MapIs(thin.fd(), thin.size(), origin.expected({}, thin.size())));

	// Provision blocks: over origin data, over an origin hole, past the
	// origin, and the block the origin ends in.
	thin.write(0, 4 * KiB);
	thin.write(3 * MiB, 4 * KiB);
	thin.write(5 * MiB + 4 * KiB, 4 * KiB);
	thin.write(9 * MiB, 4 * KiB);
	ExtentMap prov = thin.provisioned();
	EXPECT_EQ(prov, blocks(bs, {{0, 1}, {48, 1}, {80, 1}, {144, 1}}));
	ExtentMap want = origin.expected(prov, thin.size());
	EXPECT_TRUE(MapIs(thin.fd(), thin.size(), want));
	for (int64_t off : {int64_t(0), 64 * KiB, 1 * MiB, 5 * MiB + 12 * KiB - 1,
			    5 * MiB + 12 * KiB, 5 * MiB + 64 * KiB, 9 * MiB - 1})
		EXPECT_TRUE(SeekAnswers(thin.fd(), thin.size(), want, off));
}

TEST_F(ThinOrigin, ReadOnlyPoolReadsZeroesPastTheOrigin)
{
	const int64_t bs = 64 * KiB;
	Origin origin(1 * MiB + 4 * KiB, {{0, 8 * KiB}, {1 * MiB, 4 * KiB}});
	ThinPool pool(bs);
	ThinDevice thin(pool, 0, 4 * MiB, origin.loop.path());
	thin.write(2 * MiB, 4 * KiB);
	ExtentMap want = origin.expected(thin.provisioned(), thin.size());
	pool.dm().reload(pool.table({"read_only"}));
	ASSERT_NE(pool.status().find(" ro "), std::string::npos) << pool.status();
	// Reads past the origin's end in the block it ends in, and beyond.
	EXPECT_TRUE(MapIs(thin.fd(), thin.size(), want));
}

// dmsetup resume swaps the loaded table in and then waits while the pool's
// suspend holds its thin devices internally suspended: until the pool
// resumes, the new table is live but its preresume has not run. A thin
// device whose new table has an external origin must already answer with
// the origin's map.
TEST_F(ThinOrigin, AnswersWhileResumeWaitsBeforePreresume)
{
	const int64_t size = 8 * MiB;
	Origin origin(4 * MiB, {{0, 4 * MiB}});
	ThinPool pool(64 * KiB);
	// Live first without the origin, so that the live table tells which
	// table is live: it names the origin's device only in the new one.
	ThinDevice thin(pool, 0, size);
	ASSERT_EQ(seekmap::seek(thin.fd(), 0, SEEK_DATA), -ENXIO);
	const ExtentMap want = origin.expected({}, size);
	ASSERT_EQ(want, (ExtentMap{{0, 4 * MiB}}));
	const std::string origin_dev = origin.table_marker();

	std::future<std::pair<int64_t, seekmap::Walk>> query;
	ResumeHeldByPool resume(pool, thin.dm());
	ASSERT_TRUE(resume.start(thin.table(origin.loop.path()), origin_dev));

	query = std::async(std::launch::async, [fd = thin.fd(), size] {
		int64_t data = seekmap::seek(fd, 0, SEEK_DATA);
		return std::make_pair(data, seekmap::walk(fd, size));
	});
	if (AnswersWithin(query, "query while the resume waits for the pool")) {
		auto [data, w] = query.get();
		EXPECT_EQ(data, 0) << "SEEK_DATA(0) before preresume ran";
		EXPECT_EQ(w.error, "");
		EXPECT_EQ(w.map, want)
			<< "before preresume: map " << seekmap::to_string(w.map)
			<< "\nexpected the origin's " << seekmap::to_string(want);
	}
	ASSERT_TRUE(resume.finish())
		<< "dmsetup resume failed or did not end after the pool resumed";
	EXPECT_TRUE(MapIs(thin.fd(), size, want));
}

// The new table's constructor reads the external origin's size, and
// thin_preresume() reads it again: an origin that grows between the two
// (its loop device's capacity raised after the table was loaded) is
// served whole once the resume ends, so a query in between must already
// answer from the larger origin, not report its new data as holes.
TEST_F(ThinOrigin, AnswersForAnOriginThatGrewBeforePreresume)
{
	const int64_t size = 8 * MiB;
	Origin origin(4 * MiB, {{0, 4 * MiB}});
	ThinPool pool(64 * KiB);
	ThinDevice thin(pool, 0, size);
	const std::string origin_dev = origin.table_marker();

	std::future<seekmap::Walk> query;
	ResumeHeldByPool resume(pool, thin.dm());
	ASSERT_TRUE(resume.start(thin.table(origin.loop.path()), origin_dev));

	origin.file.truncate(size);
	origin.file.write(5 * MiB, 1 * MiB);
	ASSERT_EQ(ioctl(origin.loop.fd(), LOOP_SET_CAPACITY, 0), 0)
		<< strerror(errno);
	ASSERT_EQ(origin.loop.size(), size);
	const ExtentMap want = origin.expected({}, size);
	ASSERT_EQ(want, (ExtentMap{{0, 4 * MiB}, {5 * MiB, 6 * MiB}}));

	query = std::async(std::launch::async, [fd = thin.fd(), size] {
		return seekmap::walk(fd, size);
	});
	if (AnswersWithin(query, "query while the resume waits for the pool")) {
		seekmap::Walk w = query.get();
		EXPECT_EQ(w.error, "");
		EXPECT_EQ(w.map, want)
			<< "before preresume: map " << seekmap::to_string(w.map)
			<< "\nexpected the grown origin's " << seekmap::to_string(want);
	}
	ASSERT_TRUE(resume.finish())
		<< "the resume failed or did not end after the pool resumed";
	EXPECT_TRUE(MapIs(thin.fd(), size, want));
}

class ThinPoolMode : public DeviceTest {};

// A pool that is out of data space and queues the writes that need a new
// block (no error_if_no_space, no timeout): a page of the thin device
// stays under writeback. The query must not wait for it, and the page is
// data. Failing the queued write (a reload with error_if_no_space) ends
// the wait of the old kernel.
TEST_F(ThinPoolMode, QueueingOutOfSpacePoolAnswersOverPageUnderWriteback)
{
	const int64_t bs = 64 * KiB, page = 40 * bs + 8 * KiB;
	ScopedSysValue queue_forever(
		"/sys/module/dm_thin_pool/parameters/no_space_timeout", "0");
	ThinPool pool(bs, 8 * bs);
	ThinDevice thin(pool, 0, 16 * MiB);
	for (int b = 0; b < 8; b++)
		thin.write(2 * b * bs, bs);
	const ExtentMap prov = blocks(bs, {{0, 1}, {2, 1}, {4, 1}, {6, 1},
					   {8, 1}, {10, 1}, {12, 1}, {14, 1}});
	ASSERT_EQ(thin.provisioned(), prov);
	ExtentMap want = prov;
	want.push_back({page, page + 4 * KiB});
	want = seekmap::normalize(want);

	write_page(thin.fd(), page);
	std::future<int> writeback;
	std::future<seekmap::Walk> walk;
	// Before the futures are waited for: fail the queued write.
	ScopeExit fail_queued([&] {
		pool.dm().reload(pool.table({"error_if_no_space"}));
	});
	writeback = std::async(std::launch::async, [fd = thin.fd(), page] {
		return sync_file_range(fd, page, 4 * KiB,
				       SYNC_FILE_RANGE_WRITE) ? errno : 0;
	});
	ASSERT_TRUE(AnswersWithin(writeback, "sync_file_range"));
	ASSERT_EQ(writeback.get(), 0);
	std::string status;
	for (int i = 0; i < 300; i++) {
		status = pool.status();
		if (status.find("out_of_data_space") != std::string::npos)
			break;
		std::this_thread::sleep_for(std::chrono::milliseconds(100));
	}
	ASSERT_NE(status.find("out_of_data_space"), std::string::npos) << status;

	walk = async_walk(thin.fd(), thin.size());
	if (AnswersWithin(walk, "walk over a page under writeback to a "
				"queueing out-of-space pool")) {
		seekmap::Walk w = walk.get();
		EXPECT_EQ(w.error, "");
		EXPECT_EQ(w.map, want)
			<< "while the write is queued: map "
			<< seekmap::to_string(w.map)
			<< "\nexpected provisioned plus the page "
			<< seekmap::to_string(want);
		EXPECT_TRUE(HolesReadZero(thin.fd(), thin.size(), w.map));
	}
	fail_queued.run();
	EXPECT_NE(fsync(thin.fd()), 0) << "the queued write did not fail";
	EXPECT_EQ(thin.provisioned(), prov);
	{
		// The page whose write failed is clean now, but still cached,
		// and reads return it although the device never got it: it
		// must not be reported as a hole.
		SCOPED_TRACE("after the failed write-back, with the page cached");
		seekmap::Walk w = seekmap::walk(thin.fd(), thin.size());
		EXPECT_EQ(w.error, "");
		for (const Extent &e : prov)
			EXPECT_EQ(seekmap::window(w.map, e.start, e.end),
				  (ExtentMap{{0, e.length()}}));
		EXPECT_TRUE(HolesReadZero(thin.fd(), thin.size(), w.map));
	}
	// The page the write failed for may stay cached: drop the cache to
	// read what the device holds.
	ASSERT_EQ(ioctl(thin.fd(), BLKFLSBUF, 0), 0) << strerror(errno);
	EXPECT_TRUE(MapIs(thin.fd(), thin.size(), prov));
}

TEST_F(ThinPoolMode, ReadOnlyPoolStillAnswers)
{
	const int64_t bs = 64 * KiB;
	ThinPool pool(bs);
	ThinDevice thin(pool, 0, 16 * MiB);
	thin.write(1 * MiB, 3 * bs);
	ExtentMap want = thin.provisioned();
	pool.dm().reload(pool.table({"read_only"}));
	ASSERT_NE(pool.status().find(" ro "), std::string::npos) << pool.status();
	EXPECT_TRUE(MapIs(thin.fd(), thin.size(), want));
	// A suspended pool still answers (reads of data would wait for it).
	// The walk runs on a worker thread, and the pool is resumed before
	// it is waited for: a kernel whose query waits for the resume fails
	// here instead of hanging the run.
	std::future<seekmap::Walk> walk;
	pool.dm().suspend();
	ScopeExit resume([&] { pool.dm().resume(); });
	walk = async_walk(thin.fd(), thin.size());
	if (AnswersWithin(walk, "walk while the pool is suspended")) {
		seekmap::Walk w = walk.get();
		EXPECT_EQ(w.error, "");
		EXPECT_EQ(w.map, want) << "while the pool is suspended: map "
				       << seekmap::to_string(w.map);
	}
	resume.run();
	EXPECT_TRUE(MapIs(thin.fd(), thin.size(), want));
}

TEST_F(ThinPoolMode, OutOfDataSpacePoolStillAnswers)
{
	const int64_t bs = 64 * KiB;
	ThinPool pool(bs, 8 * bs, {"error_if_no_space"});
	ThinDevice thin(pool, 0, 16 * MiB);
	for (int b = 0; b < 8; b++)
		thin.write(2 * b * bs, bs);
	errno = 0;
	EXPECT_THROW(thin.write(40 * bs, bs), std::system_error);
	ASSERT_NE(pool.status().find("out_of_data_space"), std::string::npos)
		<< pool.status();
	ExtentMap want = blocks(bs, {{0, 1}, {2, 1}, {4, 1}, {6, 1}, {8, 1},
				     {10, 1}, {12, 1}, {14, 1}});
	EXPECT_EQ(thin.provisioned(), want);
	EXPECT_TRUE(MapIs(thin.fd(), thin.size(), want));
}

TEST_F(ThinPoolMode, MetadataWriteErrorFailsThePoolAndGivesEio)
{
	const int64_t bs = 64 * KiB;
	ThinPool pool(bs, 256 * MiB, {}, ThinPool::MetadataOnDm);
	ThinDevice thin(pool, 0, 16 * MiB);
	thin.write(0, bs);
	// Committed now: the pool's periodic commit would otherwise fail the
	// pool at the reload below, before the write this test makes fail.
	ASSERT_EQ(fsync(thin.fd()), 0);
	EXPECT_TRUE(MapIs(thin.fd(), thin.size(), blocks(bs, {{0, 1}})));
	// The metadata device now fails every I/O: the next commit fails,
	// the rollback cannot reread the metadata, and the pool fails.
	pool.metadata_dm().reload("0 " + sectors(32 * MiB) + " error");
	thin.write(4 * bs, bs);
	EXPECT_NE(fsync(thin.fd()), 0);
	ASSERT_NE(pool.status().find("Fail"), std::string::npos) << pool.status();
	for (int whence : {SEEK_DATA, SEEK_HOLE})
		for (int64_t off : {int64_t(0), 4 * bs, 8 * bs})
			EXPECT_EQ(seekmap::seek(thin.fd(), off, whence), -EIO)
				<< whence << " at " << off;
}

// Sets a dm-bufio module parameter for the life of the object.
class BufioParam {
public:
	BufioParam(const std::string &name, const std::string &value)
		: path_("/sys/module/dm_bufio/parameters/" + name)
	{
		old_ = run_output("cat " + path_);
		run_or_throw("echo " + value + " > " + path_);
	}
	~BufioParam()
	{
		std::string cmd = "echo " + old_ + " > " + path_;
		if (system(cmd.c_str()) != 0)
			fprintf(stderr, "could not restore %s\n", path_.c_str());
	}

private:
	std::string path_, old_;
};

TEST_F(ThinPoolMode, MetadataReadErrorGivesEioNotAHole)
{
	const int64_t bs = 64 * KiB;
	ThinPool pool(bs, 256 * MiB, {}, ThinPool::MetadataOnDm);
	ThinDevice thin(pool, 0, 64 * MiB);
	for (int64_t b = 0; b < 600; b += 2)
		thin.write(b * bs, bs);
	ASSERT_EQ(fsync(thin.fd()), 0);
	ExtentMap want = thin.provisioned();
	EXPECT_TRUE(MapIs(thin.fd(), thin.size(), want));
	// Let the metadata cache be emptied, make the metadata device fail,
	// and evict the cache: the next lookups read the device and fail.
	BufioParam keep_none("retain_bytes", "0");
	pool.metadata_dm().reload("0 " + sectors(32 * MiB) + " error");
	int64_t got = 0;
	for (int i = 0; i < 200 && got != -EIO; i++) {
		run_or_throw("echo 2 > /proc/sys/vm/drop_caches");
		got = seekmap::seek(thin.fd(), 300 * bs, SEEK_HOLE);
		ASSERT_TRUE(got == -EIO || got == 301 * bs) << got;
	}
	EXPECT_EQ(got, -EIO) << "the metadata cache was never evicted";
	// The pool has not failed (no commit yet): the lookup's error is
	// what the caller sees.
	std::string status = dm::to_string(pool.dm().status(true));
	EXPECT_EQ(status.find("Fail"), std::string::npos) << status;
	for (int whence : {SEEK_DATA, SEEK_HOLE})
		EXPECT_EQ(seekmap::seek(thin.fd(), 0, whence), -EIO) << whence;
}

class ThinRace : public DeviceTest {};

// Walk the map in a loop while another thread provisions, discards,
// snapshots, suspends the pool and removes thin devices. Every answer must
// be well-formed; at the end the map must equal thin_dump's.
TEST_F(ThinRace, WalkWhileProvisioningDiscardingSnapshottingAndSuspending)
{
	const int64_t bs = 64 * KiB, size = 32 * MiB;
	ThinPool pool(bs);
	ThinDevice thin(pool, 0, size);
	std::atomic<bool> stop{false};
	std::atomic<int> walks{0};
	std::thread walker([&] {
		while (!stop) {
			// Writes and discards all over: data may be gone by
			// its SEEK_HOLE anywhere.
			seekmap::Walk w = seekmap::walk_changing(thin.fd(), size,
								 0, size);
			if (!w.error.empty()) {
				ADD_FAILURE() << w.error;
				break;
			}
			walks++;
		}
	});
	std::mt19937_64 rng(1);
	for (int i = 0; i < 40; i++) {
		int64_t b = rng() % (size / bs);
		switch (i % 5) {
		case 0:
		case 1:
			thin.write(b * bs, i % 2 ? bs : 4 * KiB);
			break;
		case 2:
			thin.discard(b * bs, std::min<int64_t>(4 * bs, size - b * bs));
			break;
		case 3: {
			// A snapshot, removed while a second walker walks it.
			snapshot(pool, thin, 100 + i);
			ThinDevice snap(pool, 100 + i, size, "", false);
			std::thread w2([&, fd = dup(snap.fd())] {
				for (int k = 0; k < 3; k++) {
					seekmap::Walk w = seekmap::walk(fd, size);
					EXPECT_EQ(w.error, "");
				}
				close(fd);
			});
			snap.dm().remove_deferred();
			w2.join();
			break;
		}
		default:
			pool.dm().suspend();
			std::this_thread::sleep_for(std::chrono::milliseconds(20));
			pool.dm().resume();
		}
	}
	stop = true;
	walker.join();
	EXPECT_GT(walks, 0);
	EXPECT_TRUE(MapIs(thin.fd(), thin.size(), thin.provisioned()));
	// Deferred removals finish in a work item after the last close.
	for (int i = 0; i < 500 && dm_devices().size() > 2; i++)
		std::this_thread::sleep_for(std::chrono::milliseconds(10));
}

} // namespace
} // namespace seektest
