// SPDX-License-Identifier: GPL-2.0
// device-mapper tables answer SEEK_DATA/SEEK_HOLE target by target: linear
// and striped pass through to their devices, zero is all hole, and every
// other target (error, crypt, ...) is all data. The expected map is computed
// from the table the test wrote and the backing files' own maps.
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <fcntl.h>
#include <future>
#include <iostream>
#include <memory>
#include <mutex>
#include <random>
#include <thread>
#include <unistd.h>

#include "common/units.h"
#include "common/expected.h"
#include "fixtures.h"
#include "liveness.h"

namespace seektest {
namespace {

using namespace units;

// A loop device over a sparse file; its map is the file's map.
struct Disk {
	SparseFile file;
	LoopDevice loop;

	explicit Disk(int64_t size,
		      std::initializer_list<std::pair<int64_t, int64_t>> data)
		: file(size), loop(write_all(file, data)) {}
	ExtentMap map() const { return file.map(); }

private:
	static const std::string &
	write_all(SparseFile &f,
		  std::initializer_list<std::pair<int64_t, int64_t>> data)
	{
		for (auto [off, len] : data)
			f.write(off, len);
		return f.path();
	}
};

// One target of a table, and what it must report.
struct Target {
	using Kind = TargetMap::Kind;
	static constexpr Kind Linear = TargetMap::Linear, Zero = TargetMap::Zero,
			      Error = TargetMap::Error,
			      Striped = TargetMap::Striped,
			      Crypt = TargetMap::Crypt;
	Kind kind;
	int64_t len;			// bytes
	std::vector<const Disk *> devs = {}; // 1 for linear/crypt, n for striped
	int64_t start = 0;		// linear/crypt: byte offset in the device
	int64_t chunk = 0;		// striped: chunk size in bytes
};

std::string table_text(const std::vector<Target> &targets)
{
	std::string t;
	int64_t begin = 0;
	for (const Target &x : targets) {
		t += std::to_string(begin / Sector) + " " +
		     std::to_string(x.len / Sector) + " ";
		switch (x.kind) {
		case Target::Linear:
			t += "linear " + x.devs[0]->loop.path() + " " +
			     std::to_string(x.start / Sector);
			break;
		case Target::Zero:
			t += "zero";
			break;
		case Target::Error:
			t += "error";
			break;
		case Target::Striped:
			t += "striped " + std::to_string(x.devs.size()) + " " +
			     std::to_string(x.chunk / Sector);
			for (const Disk *d : x.devs)
				t += " " + d->loop.path() + " 0";
			break;
		case Target::Crypt:
			t += "crypt aes-xts-plain64 " + std::string(64, '7') +
			     " 0 " + x.devs[0]->loop.path() + " " +
			     std::to_string(x.start / Sector);
			break;
		}
		t += "\n";
		begin += x.len;
	}
	return t;
}

// The map the table must report, from the devices' own maps.
ExtentMap expected_map(const std::vector<Target> &targets)
{
	std::vector<TargetMap> model;
	for (const Target &x : targets) {
		TargetMap t{x.kind, x.len, {}, x.start, x.chunk};
		for (const Disk *d : x.devs)
			t.maps.push_back(d->map());
		model.push_back(std::move(t));
	}
	return dm_expected_map(model);
}

// Create the table, compare the whole map, probe every boundary of the
// expected map and of the targets, read the holes back.
void CheckTable(const std::vector<Target> &targets)
{
	std::string table = table_text(targets);
	SCOPED_TRACE("table:\n" + table);
	DmDevice dm(table);
	UniqueFd fd = open_or_throw(dm.path(), O_RDONLY);
	int64_t size = size_of(fd.get());
	ExtentMap want = expected_map(targets);
	EXPECT_TRUE(MapIs(fd.get(), size, want));
	std::vector<int64_t> points = {0, size - 1};
	for (const Extent &e : want)
		points.insert(points.end(), {e.start, e.end});
	int64_t begin = 0;
	for (const Target &x : targets)
		points.push_back(begin += x.len);
	for (int64_t b : points)
		for (int64_t d : {-Sector, int64_t(-1), int64_t(0), int64_t(1),
				  Sector})
			if (b + d >= 0 && b + d < size) {
				EXPECT_TRUE(SeekAnswers(fd.get(), size, want, b + d));
			}
}

class DmMap : public DeviceTest {};

TEST_F(DmMap, MixedTableRunsCrossTargetBoundaries)
{
	Disk a(8 * MiB, {{0, 64 * KiB},
			 {2 * MiB - 4 * KiB, 4 * KiB},	// ends linear #1
			 {4 * MiB, 4 * KiB},		// starts linear #2
			 {6 * MiB, 512 * KiB}});
	CheckTable({{Target::Linear, 2 * MiB, {&a}, 0},
		    {Target::Error, 512 * KiB},		// data after data
		    {Target::Linear, 4 * MiB, {&a}, 4 * MiB},
		    {Target::Zero, 1 * MiB},		// hole after hole
		    {Target::Zero, 1 * MiB},
		    {Target::Linear, 1 * MiB, {&a}, 1 * MiB}});
}

TEST_F(DmMap, ZeroTargetIsAllHole)
{
	CheckTable({{Target::Zero, 16 * MiB}});
	DmDevice dm("0 32768 zero\n");
	UniqueFd fd = open_or_throw(dm.path(), O_RDONLY);
	EXPECT_EQ(seekmap::seek(fd.get(), 0, SEEK_DATA), -ENXIO);
	EXPECT_EQ(seekmap::seek(fd.get(), 0, SEEK_HOLE), 0);
}

// The cost of a query is in extents, not in bytes: SEEK_DATA across the
// hole of a zero target, to the error target after it (data: its reads
// fail), costs about the same for a hole of 1 PiB as for one of 1 TiB
// (with a step of the live table per GiB it took 3.4 s against 3 ms).
TEST_F(DmMap, SeekDataCostsTheSameAcrossAThousandTimesLongerHole)
{
	auto table = [&](int64_t hole) {
		return "0 " + std::to_string(hole / Sector) + " zero\n" +
		       std::to_string(hole / Sector) + " " +
		       std::to_string(GiB / Sector) + " error\n";
	};
	const int64_t small = (int64_t(1) << 40) - GiB;
	const int64_t big = (int64_t(1) << 50) - GiB;
	DmDevice small_dm(table(small)), big_dm(table(big));
	UniqueFd small_fd = open_or_throw(small_dm.path(), O_RDONLY);
	UniqueFd big_fd = open_or_throw(big_dm.path(), O_RDONLY);
	ExpectSeekCostIndependentOfHoleLength(small_fd.get(), big_fd.get(),
					      SEEK_DATA, small, big,
					      "SEEK_DATA across dm-zero");
	EXPECT_EQ(seekmap::seek(big_fd.get(), big - 1, SEEK_HOLE), big - 1);
	EXPECT_EQ(seekmap::seek(big_fd.get(), big, SEEK_HOLE), big + GiB);
	// The hole reads zeros (samples of it; the error target is data).
	EXPECT_TRUE(HolesReadZero(big_fd.get(), big + GiB,
			    ExtentMap({{big, big + GiB}})));
}

TEST_F(DmMap, ErrorTargetIsAllData)
{
	CheckTable({{Target::Zero, 1 * MiB}, {Target::Error, 1 * MiB},
		    {Target::Zero, 1 * MiB}});
}

TEST_F(DmMap, LinearTargetClampsToItsRange)
{
	// Data runs through both ends of the mapped range.
	Disk a(4 * MiB, {{1 * MiB - 8 * KiB, 16 * KiB},
			 {3 * MiB - 8 * KiB, 16 * KiB}});
	CheckTable({{Target::Linear, 2 * MiB, {&a}, 1 * MiB}});
	CheckTable({{Target::Linear, 2 * MiB - 3 * Sector, {&a},
		     1 * MiB + 3 * Sector}});
}

TEST_F(DmMap, LinearOverLinearOverLoop)
{
	Disk a(8 * MiB, {{64 * KiB, 4 * KiB}, {5 * MiB, 8 * KiB}});
	DmDevice lower(table_text({{Target::Linear, 6 * MiB, {&a}, 1 * MiB}}));
	DmDevice upper("0 " + std::to_string(4 * MiB / Sector) + " linear " +
		       lower.path() + " " + std::to_string(1 * MiB / Sector) +
		       "\n");
	UniqueFd fd = open_or_throw(upper.path(), O_RDONLY);
	EXPECT_TRUE(MapIs(fd.get(), 4 * MiB, seekmap::window(a.map(), 2 * MiB,
						     6 * MiB)));
}

TEST_F(DmMap, CryptOverSparseLoopIsAllData)
{
	Disk a(4 * MiB, {{1 * MiB, 4 * KiB}});
	CheckTable({{Target::Crypt, 4 * MiB, {&a}, 0}});
}

TEST_F(DmMap, ReloadChangesTheMap)
{
	Disk a(4 * MiB, {{0, 4 * KiB}, {2 * MiB, 4 * KiB}});
	std::vector<Target> t1 = {{Target::Linear, 4 * MiB, {&a}, 0}};
	std::vector<Target> t2 = {{Target::Zero, 2 * MiB},
				  {Target::Linear, 2 * MiB, {&a}, 2 * MiB}};
	DmDevice dm(table_text(t1));
	{
		UniqueFd fd = open_or_throw(dm.path(), O_RDONLY);
		EXPECT_TRUE(MapIs(fd.get(), 4 * MiB, expected_map(t1)));
	}
	dm.reload(table_text(t2));
	UniqueFd fd = open_or_throw(dm.path(), O_RDONLY);
	EXPECT_TRUE(MapIs(fd.get(), 4 * MiB, expected_map(t2)));
}

TEST_F(DmMap, SuspendedDeviceAnswersPromptlyFromLiveTable)
{
	Disk a(4 * MiB, {{1 * MiB, 4 * KiB}});
	std::vector<Target> t = {{Target::Zero, 1 * MiB},
				 {Target::Linear, 4 * MiB, {&a}, 0}};
	DmDevice dm(table_text(t));
	UniqueFd fd = open_or_throw(dm.path(), O_RDONLY);
	// Ask from another thread, and resume before it is waited for, so
	// that a query that waited for resume fails the test instead of
	// hanging it.
	std::future<seekmap::Walk> walk;
	dm.suspend();
	ScopeExit resume([&] { dm.resume(); });
	walk = async_walk(fd.get(), 5 * MiB);
	if (AnswersWithin(walk, "walk of the suspended device")) {
		seekmap::Walk w = walk.get();
		EXPECT_EQ(w.error, "");
		EXPECT_EQ(w.map, expected_map(t));
	}
}

// A buffered write into a suspended device stays in its page cache until
// resume. The query must neither write it back (that waits for resume) nor
// miss it: the page is data. After resume and fsync it is in the backing
// file, where the ground truth sees it.
TEST_F(DmMap, SuspendedDeviceWithDirtyPageAnswersAndCountsItAsData)
{
	Disk a(4 * MiB, {{64 * KiB, 4 * KiB}, {3 * MiB, 8 * KiB}});
	std::vector<Target> t = {{Target::Linear, 4 * MiB, {&a}, 0}};
	const int64_t size = 4 * MiB, page = 1 * MiB; // a hole of the disk
	const ExtentMap page_map = {{page, page + 4 * KiB}};
	DmDevice dm(table_text(t));
	UniqueFd fd = open_or_throw(dm.path(), O_RDWR);
	ExtentMap want = expected_map(t);
	ASSERT_EQ(seekmap::window(want, page, page + 4 * KiB), ExtentMap{});
	want.push_back(page_map[0]);
	want = seekmap::normalize(want);

	std::future<seekmap::Walk> walk;
	dm.suspend();
	ScopeExit resume([&] { dm.resume(); }); // before the walk is waited for
	write_page(fd.get(), page);
	walk = async_walk(fd.get(), size);
	if (AnswersWithin(walk, "walk of the suspended device with a dirty page")) {
		seekmap::Walk w = walk.get();
		EXPECT_EQ(w.error, "");
		EXPECT_EQ(w.map, want)
			<< "while suspended: map " << seekmap::to_string(w.map)
			<< "\nexpected backing map plus the dirty page "
			<< seekmap::to_string(want);
	}
	resume.run();
	ASSERT_EQ(fsync(fd.get()), 0) << strerror(errno);
	EXPECT_EQ(seekmap::window(a.map(), page, page + 4 * KiB),
		  (ExtentMap{{0, 4 * KiB}}))
		<< "the page did not reach the backing file";
	EXPECT_EQ(expected_map(t), want);
	EXPECT_TRUE(MapIs(fd.get(), size, expected_map(t)));
}

// A write error belongs to fsync. A query that wrote the dirty page back
// first would fail with the write's EIO; it must answer instead (the error
// target is all data anyway), and fsync must still report the error.
TEST_F(DmMap, QueryLeavesWritebackErrorsToFsync)
{
	Disk a(2 * MiB, {{512 * KiB, 4 * KiB}});
	std::vector<Target> t = {{Target::Linear, 2 * MiB, {&a}, 0},
				 {Target::Error, 1 * MiB}};
	const int64_t size = 3 * MiB;
	DmDevice dm(table_text(t));
	UniqueFd fd = open_or_throw(dm.path(), O_RDWR);
	write_page(fd.get(), 2 * MiB + 256 * KiB); // into the error target
	EXPECT_EQ(seekmap::seek(fd.get(), 0, SEEK_DATA), 512 * KiB)
		<< "SEEK_DATA(0) over a dirty page that cannot be written";
	EXPECT_EQ(seekmap::seek(fd.get(), 0, SEEK_HOLE), 0)
		<< "SEEK_HOLE(0) over a dirty page that cannot be written";
	EXPECT_TRUE(MapIs(fd.get(), size, expected_map(t)));
	errno = 0;
	EXPECT_EQ(fsync(fd.get()), -1) << "fsync lost the write error";
	EXPECT_EQ(errno, EIO) << strerror(errno);
}

// dm reads a loop device with bios, below the loop device's page cache. A
// page written through the loop node and not yet written back is not what
// the dm device reads (it reads zeros there): it is no data of the dm
// device, and the query must not write it back either. After fsync of the
// loop device the page is in the file and in the dm device's map.
TEST_F(DmMap, LowerDevicePageCacheIsNeitherFlushedNorConsulted)
{
	// The page must stay dirty: the flusher writes the first dirty page of
	// a device back at its next periodic wake-up, as over its (still zero)
	// share of the background threshold. Move that wake-up an hour away;
	// changing the value wakes every flusher once, so let that pass
	// (sync) before the page is dirtied.
	ScopedSysValue no_flusher("/proc/sys/vm/dirty_writeback_centisecs",
				  "360000");
	sync();
	Disk a(4 * MiB, {{0, 64 * KiB}, {3 * MiB, 4 * KiB}});
	std::vector<Target> t = {{Target::Linear, 4 * MiB, {&a}, 0}};
	const int64_t size = 4 * MiB, page = 2 * MiB; // a hole of the disk
	DmDevice dm(table_text(t));
	UniqueFd fd = open_or_throw(dm.path(), O_RDONLY);
	const ExtentMap file_before = a.map();
	ASSERT_EQ(seekmap::window(file_before, page, page + 4 * KiB), ExtentMap{});

	write_page(a.loop.fd(), page);
	{
		SCOPED_TRACE("dirty page in the loop device's page cache");
		EXPECT_TRUE(MapIs(fd.get(), size, file_before));
	}
	EXPECT_EQ(a.map(), file_before)
		<< "the query wrote the loop device's dirty page back: file map "
		<< seekmap::to_string(a.map());

	ASSERT_EQ(fsync(a.loop.fd()), 0) << strerror(errno);
	ExtentMap after = expected_map(t);
	EXPECT_EQ(seekmap::window(after, page, page + 4 * KiB),
		  (ExtentMap{{0, 4 * KiB}}))
		<< "fsync of the loop device did not write the page";
	SCOPED_TRACE("after fsync of the loop device");
	EXPECT_TRUE(MapIs(fd.get(), size, after));
}

struct StripeCase {
	int stripes;
	int64_t chunk;
};

class DmStripe : public DeviceTest,
		 public ::testing::WithParamInterface<StripeCase> {};

TEST_P(DmStripe, MapEqualsStripesMapsInterleaved)
{
	const auto [n, chunk] = GetParam();
	const int64_t width = 1 * MiB / chunk * chunk; // whole chunks
	std::mt19937_64 rng(n * 1000 + chunk);
	std::vector<std::unique_ptr<Disk>> disks;
	std::vector<const Disk *> devs;
	for (int i = 0; i < n; i++) {
		disks.push_back(std::make_unique<Disk>(
			width, std::initializer_list<std::pair<int64_t, int64_t>>{}));
		// A few runs per stripe, some crossing chunk boundaries.
		for (int k = 0; k < 3; k++) {
			int64_t off = rng() % width;
			disks.back()->file.write(off, std::min<int64_t>(
				1 + rng() % (3 * chunk), width - off));
		}
		devs.push_back(disks.back().get());
	}
	CheckTable({{Target::Striped, n * width, devs, 0, chunk}});
	// A striped target between a zero and a linear target.
	CheckTable({{Target::Zero, 1 * MiB},
		    {Target::Striped, n * width, devs, 0, chunk},
		    {Target::Linear, width / Sector / 2 * Sector, {devs[0]}, 0}});
}

TEST_P(DmStripe, DataChunkAfterLongHoleIsFound)
{
	// Everything is a hole but one chunk near the end: the map is exact
	// however many chunks lie before it. What the walk costs (one query
	// per stripe, not one per chunk) cannot be seen from here: the
	// benchmark measures it (make bench, stripe).
	const auto [n, chunk] = GetParam();
	const int64_t width = 4 * MiB / chunk * chunk; // whole chunks
	std::vector<std::unique_ptr<Disk>> disks;
	std::vector<const Disk *> devs;
	for (int i = 0; i < n; i++) {
		disks.push_back(std::make_unique<Disk>(
			width, std::initializer_list<std::pair<int64_t, int64_t>>{}));
		devs.push_back(disks.back().get());
	}
	disks.back()->file.write(width - chunk, 4 * KiB);
	CheckTable({{Target::Striped, n * width, devs, 0, chunk}});
}

INSTANTIATE_TEST_SUITE_P(
	Geometry, DmStripe,
	::testing::Values(StripeCase{2, 4 * KiB}, StripeCase{2, 64 * KiB},
			  StripeCase{3, 12 * KiB}, StripeCase{3, 128 * KiB},
			  StripeCase{4, 8 * KiB}, StripeCase{4, 256 * KiB}),
	[](const auto &info) {
		return std::to_string(info.param.stripes) + "Stripes" +
		       std::to_string(info.param.chunk / KiB) + "KiBChunks";
	});

class DmRace : public DeviceTest {};

TEST_F(DmRace, WalkWhileTablesAreReloadedSuspendedAndRemoved)
{
	Disk a(4 * MiB, {{0, 8 * KiB}, {2 * MiB, 4 * KiB}});
	std::string t1 = table_text({{Target::Linear, 4 * MiB, {&a}, 0}});
	std::string t2 = table_text({{Target::Zero, 1 * MiB},
				     {Target::Linear, 3 * MiB, {&a}, 1 * MiB}});
	std::atomic<bool> stop{false};
	std::atomic<int> walks{0};
	auto dm = std::make_unique<DmDevice>(t1);
	std::mutex path_lock; // the device is re-created under a new name
	std::string path = dm->path();
	auto current_path = [&] {
		std::lock_guard<std::mutex> g(path_lock);
		return path;
	};
	std::thread walker([&] {
		while (!stop) {
			int fd = open(current_path().c_str(), O_RDONLY | O_CLOEXEC);
			if (fd < 0)
				continue; // removed, or not created yet
			for (int64_t off = 0;;) {
				int64_t d = seekmap::seek(fd, off, SEEK_DATA);
				if (d == -ENXIO)
					break;
				if (d < off) {
					ADD_FAILURE() << "SEEK_DATA(" << off
						      << ") = " << d;
					break;
				}
				int64_t h = seekmap::seek(fd, d, SEEK_HOLE);
				if (h <= d) {
					if (h != -ENXIO && h != d)
						ADD_FAILURE() << "SEEK_HOLE("
							<< d << ") = " << h;
					break;
				}
				off = h;
			}
			close(fd);
			walks++;
		}
	});
	// SEEK_TEST_DM_RACE_ROUNDS (make check: 6) sets the rounds.
	const char *r = getenv("SEEK_TEST_DM_RACE_ROUNDS");
	const int rounds = r && *r ? atoi(r) : 12;
	for (int i = 0; i < rounds; i++) {
		dm->reload(i % 2 ? t1 : t2);
		dm->suspend();
		dm->resume();
		if (i % 5 == 4) {
			// Removed under the walker: gone at its last close.
			dm->remove_deferred();
			dm = std::make_unique<DmDevice>(t1);
			std::lock_guard<std::mutex> g(path_lock);
			path = dm->path();
		}
	}
	stop = true;
	walker.join();
	EXPECT_GT(walks, 0);
	dm.reset();
	// Deferred removals finish in a work item after the last close.
	for (int i = 0; i < 500 && dm_devices().size() > 0; i++)
		std::this_thread::sleep_for(std::chrono::milliseconds(10));
}

// Random tables over random disks: the map equals the one computed from
// the table. SEEK_TEST_SEED=n replays; SEEK_TEST_TABLES=k sets the count.
TEST_F(DmMap, RandomTablesMatchComputedMap)
{
	const char *s = getenv("SEEK_TEST_SEED");
	const char *k = getenv("SEEK_TEST_TABLES");
	uint64_t seed = s && *s ? strtoull(s, nullptr, 0) :
		std::chrono::system_clock::now().time_since_epoch().count();
	uint64_t tables = k && *k ? strtoull(k, nullptr, 0) : 40;
	std::cout << "[   SEED   ] SEEK_TEST_SEED=" << seed
		  << " SEEK_TEST_TABLES=" << tables << std::endl;
	for (uint64_t i = 0; i < tables && !HasFailure(); i++) {
		SCOPED_TRACE("replay: SEEK_TEST_SEED=" + std::to_string(seed + i) +
			     " SEEK_TEST_TABLES=1");
		std::mt19937_64 rng(seed + i);
		const int64_t dsize = 2 * MiB;
		std::vector<std::unique_ptr<Disk>> disks;
		for (int d = 0; d < 3; d++) {
			disks.push_back(std::make_unique<Disk>(
				dsize, std::initializer_list<std::pair<int64_t, int64_t>>{}));
			for (int e = rng() % 6; e > 0; e--) {
				int64_t off = rng() % dsize;
				disks.back()->file.write(off, std::min<int64_t>(
					1 + rng() % (128 * KiB), dsize - off));
			}
		}
		std::vector<Target> t;
		for (int n = 1 + rng() % 5; n > 0; n--) {
			int64_t len = (1 + rng() % 256) * 8 * KiB;
			switch (rng() % 4) {
			case 0: {
				const Disk *d = disks[rng() % 3].get();
				len = std::min(len, dsize);
				int64_t start = (rng() % ((dsize - len) / Sector + 1)) *
						Sector;
				t.push_back({Target::Linear, len, {d}, start});
				break;
			}
			case 1:
				t.push_back({Target::Zero, len});
				break;
			case 2:
				t.push_back({Target::Error, len});
				break;
			default: {
				int64_t chunk = (1 + rng() % 16) * 4 * KiB;
				int64_t rows = 1 + rng() % (dsize / 2 / chunk);
				t.push_back({Target::Striped, 2 * rows * chunk,
					     {disks[0].get(), disks[1].get()}, 0,
					     chunk});
				break;
			}
			}
		}
		CheckTable(t);
	}
}

} // namespace
} // namespace seektest
