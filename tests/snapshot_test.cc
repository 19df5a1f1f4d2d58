// SPDX-License-Identifier: GPL-2.0
// dm-snapshot: a snapshot reads a chunk with a completed exception from the
// COW device, data, and every other chunk from the origin, so its map is
// the origin's with the exception chunks added; snapshot-origin passes the
// origin's map through; an invalid snapshot (its reads fail) and a
// snapshot-merge target are all data. Ground truth: the origin's backing
// file's own map, the chunks the test wrote through the origin or the
// snapshot, and the exceptions read back from the persistent COW store
// (snapshot_cow_exceptions()).
#include <atomic>
#include <chrono>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <gtest/gtest.h>
#include <iterator>
#include <linux/dm-ioctl.h>
#include <memory>
#include <random>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <thread>
#include <future>
#include <tuple>
#include <unistd.h>

#include "common/expected.h"
#include "fixtures.h"
#include "liveness.h"
#include "ram_fixtures.h"
#include "thin_fixtures.h"

namespace seektest {
namespace {

// An origin (a loop device over a sparse file), its snapshot-origin device,
// and a snapshot of it with its COW on a loop device over a sparse file.
// Writes through the origin device copy the chunks they touch out to the
// snapshot; writes to the snapshot go to the COW device: either way the
// chunk gets an exception, which model_ records.
class SnapshotStack {
public:
	// With @begin, the snapshot's table starts with a zero target of
	// @begin bytes, and the snapshot maps the origin's sectors from
	// @begin on, at the same offsets, as snapshot_map() does.
	// With @cow_on_dm, the COW device is a dm-linear device over the
	// loop device, which a test can suspend.
	SnapshotStack(int64_t size, bool persistent, int64_t chunk,
		      int64_t cow_size = 0, int64_t begin = 0,
		      bool cow_on_dm = false)
		: size_(size), chunk_(chunk), begin_(begin),
		  persistent_(persistent),
		  origin_file(size), cow_file(cow_size ? cow_size : size),
		  origin_loop(origin_file.path()), cow_loop(cow_file.path()),
		  model_(size, chunk)
	{
		if (cow_on_dm)
			cow_dm = std::make_unique<DmDevice>(
				"0 " + sectors(cow_file.size()) + " linear " +
				cow_loop.path() + " 0");
	}

	// Make the two dm devices: call after writing the origin's layout
	// into origin_file. @extra: more lines for the snapshot's table.
	// The snapshot first, as LVM does: snapshot-origin splits writes at
	// the chunk size of the snapshots there are when it resumes, and
	// without one, a write copies out only the chunk it starts in.
	void activate(const std::string &extra = "")
	{
		snap_dm = std::make_unique<DmDevice>(snapshot_table() + extra);
		origin_dm = std::make_unique<DmDevice>(
			"0 " + sectors(size_) + " snapshot-origin " +
			origin_loop.path());
		origin_fd = open_or_throw(origin_dm->path(), O_RDWR | O_CLOEXEC);
		origin_dfd = open_or_throw(origin_dm->path(),
					   O_RDWR | O_DIRECT | O_CLOEXEC);
		snap_fd = open_or_throw(snap_dm->path(), O_RDWR | O_CLOEXEC);
		snap_dfd = open_or_throw(snap_dm->path(),
					 O_RDWR | O_DIRECT | O_CLOEXEC);
	}
	~SnapshotStack()
	{
		snap_dfd.reset();
		snap_fd.reset();
		origin_dfd.reset();
		origin_fd.reset();
		snap_dm.reset();
		origin_dm.reset();
		cow_dm.reset();
	}

	std::string snapshot_table(const std::string &target = "snapshot") const
	{
		return (begin_ ? "0 " + sectors(begin_) + " zero\n" : "") +
		       sectors(begin_) + " " + sectors(size_ - begin_) + " " +
		       target + " " + origin_loop.path() + " " +
		       (cow_dm ? cow_dm->path() : cow_loop.path()) +
		       (persistent_ ? " P " : " N ") +
		       sectors(chunk_) + "\n";
	}

	void write_origin(int64_t off, int64_t len, uint32_t seed)
	{
		direct_write(origin_dfd.get(), off, len, seed);
		model_.write(off, len);
	}
	void write_snapshot(int64_t off, int64_t len, uint32_t seed)
	{
		direct_write(snap_dfd.get(), off, len, seed);
		model_.write(off, len);
	}

	// The chunks the test gave an exception, as byte extents.
	ExtentMap exceptions() const { return model_.map(size_); }
	// What the snapshot must report, from the origin's backing file.
	ExtentMap want() const
	{
		ExtentMap map;
		for (Extent e : snapshot_expected_map(origin_file.map(),
						      exceptions(), size_))
			if (e.end > begin_)
				map.push_back({std::max(e.start, begin_), e.end});
		return map;
	}
	// The exceptions the persistent store holds on the COW device.
	ExtentMap cow_exceptions() const
	{
		std::string b(size_t(size_of(cow_file.fd())), '\0');
		for (size_t done = 0; done < b.size();) {
			ssize_t n = pread(cow_file.fd(), &b[done],
					  b.size() - done, done);
			if (n <= 0)
				throw std::runtime_error("read COW file");
			done += n;
		}
		int64_t chunk = 0;
		ExtentMap ex = snapshot_cow_exceptions(b, &chunk);
		if (chunk != chunk_)
			throw std::runtime_error("COW chunk size " +
						 std::to_string(chunk));
		return ex;
	}
	std::string status() const
	{
		return dm::to_string(snap_dm->status());
	}

	int64_t size() const { return size_; }
	int64_t chunk() const { return chunk_; }

private:
	int64_t size_, chunk_, begin_;
	bool persistent_;

public:
	SparseFile origin_file, cow_file;
	LoopDevice origin_loop, cow_loop;
	std::unique_ptr<DmDevice> cow_dm, origin_dm, snap_dm;
	UniqueFd origin_fd, origin_dfd, snap_fd, snap_dfd;

private:
	RamModel model_; // chunks with an exception
};

// A seeded layout in the origin before the snapshot, then seeded writes
// through the origin and to the snapshot, inside holes and data, across
// chunk boundaries and inside one chunk.
void seeded_writes(SnapshotStack &st, uint64_t seed)
{
	std::mt19937_64 rng(seed);
	auto rnd = [&rng](int64_t lo, int64_t hi) {
		return std::uniform_int_distribution<int64_t>(lo, hi)(rng);
	};
	const int64_t size = st.size();
	for (int i = 0; i < 10; i++) {
		int64_t len = rnd(1, 128) * 4 * KiB;
		int64_t off = rnd(0, (size - len) / (4 * KiB)) * 4 * KiB;
		st.origin_file.write(off, len, uint32_t(rng()));
	}
	st.activate();
	for (int i = 0; i < 16; i++) {
		int64_t len = rnd(1, 256) * 512;
		int64_t off = rnd(0, (size - len) / 512) * 512;
		if (i % 2)
			st.write_origin(off, len, uint32_t(rng()));
		else
			st.write_snapshot(off, len, uint32_t(rng()));
	}
}

// Soundness of a map @got of a device of @size whose contents are those
// of @want: data may be reported anywhere, a hole only where @want has one.
::testing::AssertionResult NoHoleOverData(const ExtentMap &got,
					  const ExtentMap &want, int64_t size)
{
	for (const Extent &h : seekmap::holes(got, size))
		if (!seekmap::window(want, h.start, h.end).empty())
			return ::testing::AssertionFailure()
			       << "a hole over data at [" << h.start << ", "
			       << h.end << "): map " << seekmap::to_string(got)
			       << ", want " << seekmap::to_string(want);
	return ::testing::AssertionSuccess();
}

using Params = std::tuple<bool, int64_t>; // persistent, chunk

class SnapshotMap : public DeviceTest,
		    public ::testing::WithParamInterface<Params> {};

TEST_P(SnapshotMap, IsTheOriginsMapWithTheExceptionChunksAsData)
{
	const auto [persistent, chunk] = GetParam();
	const int64_t size = 32 * MiB;
	const uint64_t seed = seed_from_env();
	SnapshotStack st(size, persistent, chunk);
	seeded_writes(st, seed);
	if (persistent) {
		ASSERT_EQ(st.cow_exceptions(), st.exceptions())
			<< "the COW store disagrees with what the test wrote";
	}
	const ExtentMap want = st.want();
	ASSERT_NE(want, st.origin_file.map()) << "no exception in a hole";
	EXPECT_TRUE(MapIs(st.snap_fd.get(), size, want));
	EXPECT_TRUE(MapIs(st.origin_fd.get(), size, st.origin_file.map()));
	// Inside chunks, at their edges and at the holes' ends.
	for (const Extent &e : st.exceptions())
		for (int64_t off : {e.start, e.start + 512, e.end - 512,
				    e.end})
			if (off < size) {
				EXPECT_TRUE(SeekAnswers(st.snap_fd.get(), size, want, off));
			}
}

INSTANTIATE_TEST_SUITE_P(
	Stores, SnapshotMap,
	::testing::Combine(::testing::Bool(),
			   ::testing::Values(4 * KiB, 64 * KiB)),
	[](const ::testing::TestParamInfo<Params> &p) {
		return std::string(std::get<0>(p.param) ? "Persistent"
							 : "Transient") +
		       std::to_string(std::get<1>(p.param) / KiB) + "KiB";
	});

class Snapshot : public DeviceTest {};

// A COW device too small for the writes through the origin: the snapshot
// is invalidated and its reads fail; like any device whose reads fail, it
// is all data. The origin still answers.
TEST_F(Snapshot, InvalidatedSnapshotIsAllData)
{
	const int64_t size = 8 * MiB, chunk = 4 * KiB;
	SnapshotStack st(size, true, chunk, 64 * KiB);
	st.origin_file.write(1 * MiB, 1 * MiB);
	st.activate();
	const ExtentMap want = st.want();
	EXPECT_TRUE(MapIs(st.snap_fd.get(), size, want));
	// Header and one area leave 14 chunks: 32 writes overflow it.
	for (int i = 0; i < 32; i++) {
		direct_write(st.origin_dfd.get(), 4 * MiB + 2 * i * chunk, chunk,
			     i + 1);
	}
	ASSERT_NE(st.status().find("Invalid"), std::string::npos)
		<< st.status();
	void *buf = nullptr;
	ASSERT_EQ(posix_memalign(&buf, 4096, 4096), 0);
	std::unique_ptr<void, decltype(&free)> hold(buf, free);
	errno = 0;
	EXPECT_EQ(pread(st.snap_dfd.get(), buf, 4096, 0), -1);
	EXPECT_EQ(errno, EIO) << "an O_DIRECT read of the invalid snapshot";
	for (int64_t off : {int64_t(0), 1 * MiB, 4 * MiB, size - 1}) {
		EXPECT_EQ(seekmap::seek(st.snap_fd.get(), off, SEEK_DATA), off)
			<< "SEEK_DATA at " << off;
		EXPECT_EQ(seekmap::seek(st.snap_fd.get(), off, SEEK_HOLE), size)
			<< "SEEK_HOLE at " << off;
	}
	EXPECT_TRUE(MapIs(st.origin_fd.get(), size, st.origin_file.map()));
}

// A snapshot behind a zero target, over a 2 GiB origin, with a small COW
// device: its hash table has 256 slots, so groups of chunks 1 GiB apart
// share a slot, and a SEEK_DATA across the long holes covers more groups
// than there are slots. Exceptions far apart, through the origin and in
// the snapshot, and the origin's own data, before the snapshot's start
// too (the zero target hides it).
TEST_F(Snapshot, BehindAZeroTargetWithFewSlotsFarApart)
{
	const int64_t size = 2 * GiB, begin = 64 * MiB, chunk = 4 * KiB;
	SnapshotStack st(size, true, chunk, 1 * MiB, begin);
	st.origin_file.write(0, 1 * MiB);
	st.origin_file.write(begin + 8 * MiB, 64 * KiB);
	st.origin_file.write(1 * GiB + 4 * MiB, 1 * MiB);
	st.activate();
	st.write_snapshot(begin, 512, 1);
	st.write_snapshot(begin + 1 * GiB, 4 * KiB, 2); // shares a slot
	st.write_origin(512 * MiB + 12 * KiB, 8 * KiB, 3);
	st.write_snapshot(size - 4 * KiB, 4 * KiB, 4);
	st.write_origin(1 * GiB + 512 * MiB, 4 * KiB, 5);
	ASSERT_EQ(st.cow_exceptions(), st.exceptions());
	const ExtentMap want = st.want();
	ASSERT_EQ(seekmap::window(want, 0, begin), ExtentMap{});
	EXPECT_TRUE(MapIs(st.snap_fd.get(), size, want));
	for (const Extent &e : st.exceptions())
		for (int64_t off : {e.start - 1, e.start, e.end - 1})
			EXPECT_TRUE(SeekAnswers(st.snap_fd.get(), size, want, off));
}

// Merging the snapshot into the origin, as lvconvert --merge does: the
// origin device's table becomes snapshot-merge, which takes the exceptions
// over from the suspended snapshot. While it merges the origin device is
// all data, and so is the snapshot it took over from, which is invalid
// (its reads fail). When the merge is done, the origin's backing file holds the
// snapshot's map, and snapshot-origin reports it.
TEST_F(Snapshot, MergeAndTheMergedSnapshotAreAllData)
{
	const int64_t size = 16 * MiB, chunk = 4 * KiB;
	SnapshotStack st(size, true, chunk);
	seeded_writes(st, seed_from_env());
	const ExtentMap want = st.want();
	{
		SCOPED_TRACE("the snapshot before the merge");
		EXPECT_TRUE(MapIs(st.snap_fd.get(), size, want));
	}

	st.snap_dm->suspend();
	st.origin_dm->suspend();
	st.origin_dm->load(st.snapshot_table("snapshot-merge"));
	st.origin_dm->resume();
	for (int64_t off : {int64_t(0), 4 * MiB, size - 1}) {
		EXPECT_EQ(seekmap::seek(st.origin_fd.get(), off, SEEK_DATA), off);
		EXPECT_EQ(seekmap::seek(st.origin_fd.get(), off, SEEK_HOLE), size);
		EXPECT_EQ(seekmap::seek(st.snap_fd.get(), off, SEEK_DATA), off);
		EXPECT_EQ(seekmap::seek(st.snap_fd.get(), off, SEEK_HOLE), size);
	}
	// snapshot-merge status: <allocated>/<total> <metadata> sectors; done
	// when only metadata is allocated.
	std::string status;
	bool merged = false;
	for (int i = 0; i < 600 && !merged; i++) {
		const dm::Table t = st.origin_dm->status();
		status = dm::to_string(t);
		unsigned long long alloc = 0, total = 0, meta = 0;
		merged = t.size() == 1 && t[0].type == "snapshot-merge" &&
			 sscanf(t[0].params.c_str(), "%llu/%llu %llu", &alloc,
				&total, &meta) == 3 &&
			 alloc == meta;
		if (!merged)
			std::this_thread::sleep_for(std::chrono::milliseconds(100));
	}
	ASSERT_TRUE(merged) << status;
	EXPECT_EQ(seekmap::seek(st.origin_fd.get(), 0, SEEK_HOLE), size)
		<< "merged, still snapshot-merge: all data";
	st.origin_dm->reload("0 " + sectors(size) + " snapshot-origin " +
			     st.origin_loop.path());
	EXPECT_EQ(st.origin_file.map(), want)
		<< "the merge copied the exception chunks into the origin";
	SCOPED_TRACE("the origin after the merge");
	EXPECT_TRUE(MapIs(st.origin_fd.get(), size, want));
}

class SnapshotRace : public DeviceTest {};

// A reload of the snapshot's table hands its exceptions over from the old
// snapshot target to the new one in the new one's resume, after the new
// table went live. A thin target in the same table makes that window wide:
// while the pool is suspended, the thin device's md stays internally
// suspended and `dmsetup resume` waits after swapping the table in. A
// query then must not take the new target's empty exception table for the
// snapshot's: chunks with exceptions over holes of the origin are data.
TEST_F(SnapshotRace, ReloadAnswersBeforeTheExceptionsAreHandedOver)
{
	const int64_t size = 8 * MiB, chunk = 4 * KiB;
	ThinPool pool(64 * KiB); // outlives the snapshot's table
	SnapshotStack st(size, true, chunk);
	pool.message("create_thin 0");
	pool.message("create_thin 1");
	auto thin_line = [&](int id) {
		return sectors(size) + " " + sectors(4 * MiB) + " thin " +
		       pool.path() + " " + std::to_string(id) + "\n";
	};
	st.origin_file.write(0, 1 * MiB);
	st.activate(thin_line(0));
	// Exceptions over the origin's holes, through the origin and to the
	// snapshot.
	st.write_snapshot(2 * MiB, 64 * KiB, 7);
	st.write_origin(3 * MiB, 8 * KiB, 8);
	st.write_snapshot(5 * MiB + 512, 512, 9);
	const ExtentMap want = st.want();
	ASSERT_EQ(want, (ExtentMap{{0, 1 * MiB},
				   {2 * MiB, 2 * MiB + 64 * KiB},
				   {3 * MiB, 3 * MiB + 8 * KiB},
				   {5 * MiB, 5 * MiB + 4 * KiB}}));
	EXPECT_TRUE(MapIs(st.snap_fd.get(), size + 4 * MiB, want));

	std::future<seekmap::Walk> query;
	ResumeHeldByPool resume(pool, *st.snap_dm);
	ASSERT_TRUE(resume.start(st.snapshot_table() + thin_line(1), " 1\n"));

	query = std::async(std::launch::async, [fd = st.snap_fd.get(), size] {
		return seekmap::walk(fd, size, 0, size);
	});
	if (AnswersWithin(query, "query while the resume waits for the pool")) {
		seekmap::Walk w = query.get();
		EXPECT_EQ(w.error, "");
		EXPECT_TRUE(NoHoleOverData(w.map, want, size));
	}
	ASSERT_TRUE(resume.finish())
		<< "dmsetup resume failed or did not end after the pool resumed";
	EXPECT_TRUE(MapIs(st.snap_fd.get(), size + 4 * MiB, want));
}

// DM_TABLE_STATUS of the dm device @name through @control: for a snapshot
// target, snapshot_status() takes the snapshot's lock for writing.
int dm_table_status(int control, const std::string &name)
{
	std::vector<uint64_t> buf(16384 / 8, 0);
	auto *io = reinterpret_cast<struct dm_ioctl *>(buf.data());
	io->version[0] = DM_VERSION_MAJOR;
	io->data_size = 16384;
	io->data_start = (sizeof(*io) + 7) & ~size_t(7);
	memcpy(io->name, name.c_str(), std::min(name.size(), size_t(DM_NAME_LEN - 1)));
	return ioctl(control, DM_TABLE_STATUS, io) ? -errno : 0;
}

// Walks of a snapshot while writes through the origin add exceptions and
// status reports keep taking the snapshot's lock for writing. The
// snapshot's contents never change (the origin's old data is copied out
// first), so every hole a walk reports must be a hole of the map before
// the race. (The status reports hold the lock too briefly to test what a
// query does while it is held: LockHeldByAnInvalidationAnswersData does.)
TEST_F(SnapshotRace, WalkWhileStatusTakesTheLockAndTheOriginIsWritten)
{
	const int64_t size = 16 * MiB, chunk = 4 * KiB;
	SnapshotStack st(size, true, chunk);
	st.origin_file.write(1 * MiB, 1 * MiB);
	st.origin_file.write(9 * MiB, 256 * KiB);
	st.activate();
	for (int i = 0; i < 32; i++) // snapshot chunks over the origin's holes
		st.write_snapshot(4 * MiB + i * 64 * KiB, 4 * KiB, i + 1);
	const ExtentMap before = st.want();
	EXPECT_TRUE(MapIs(st.snap_fd.get(), size, before));

	UniqueFd control = open_or_throw("/dev/mapper/control", O_RDWR | O_CLOEXEC);
	std::atomic<bool> stop{false};
	std::atomic<long> reports{0}, status_errors{0};
	std::thread status([&] {
		while (!stop) {
			if (dm_table_status(control.get(), st.snap_dm->name()))
				status_errors++;
			reports++;
		}
	});
	ScopeExit join([&] {
		stop = true;
		status.join();
	});
	std::mt19937_64 rng(seed_from_env());
	int walks = 0;
	const auto until = std::chrono::steady_clock::now() +
			   std::chrono::seconds(10);
	while (std::chrono::steady_clock::now() < until) {
		const int64_t off = std::uniform_int_distribution<int64_t>(
			0, size / chunk - 1)(rng) * chunk;
		st.write_origin(off, chunk, uint32_t(rng()));
		seekmap::Walk w = seekmap::walk(st.snap_fd.get(), size);
		walks++;
		ASSERT_EQ(w.error, "");
		ASSERT_TRUE(NoHoleOverData(w.map, before, size))
			<< "walk " << walks;
	}
	join.run();
	EXPECT_EQ(status_errors, 0);
	EXPECT_GT(reports, 0);
	std::printf("[ figures  ] %d walks, %ld status reports\n", walks,
		    long(reports));
	EXPECT_TRUE(MapIs(st.snap_fd.get(), size, st.want()));
}

// Whether the kernel stack of our thread @tid names the function @fn.
bool stack_has(pid_t tid, const std::string &fn)
{
	std::ifstream f("/proc/self/task/" + std::to_string(tid) + "/stack");
	std::string stack((std::istreambuf_iterator<char>(f)),
			  std::istreambuf_iterator<char>());
	return stack.find(fn) != std::string::npos;
}

// A persistent snapshot whose COW device fills up is invalidated, and the
// invalidation writes the store's header with the snapshot's lock held for
// writing: with the COW device suspended, it holds the lock until the
// resume. A query meanwhile must neither wait for the lock nor report a
// hole over the snapshot's exceptions: it reports data where it cannot
// look. After the resume the snapshot is invalid: all data.
TEST_F(SnapshotRace, LockHeldByAnInvalidationAnswersData)
{
	const int64_t size = 8 * MiB, chunk = 4 * KiB;
	// Header, one area and 14 data chunks.
	SnapshotStack st(size, true, chunk, 64 * KiB, 0, true);
	st.origin_file.write(1 * MiB, 64 * KiB);
	st.activate();
	for (int i = 0; i < 14; i++) // fills the COW: origin holes, data in the snapshot
		st.write_snapshot(2 * MiB + i * 16 * KiB, 4 * KiB, i + 1);
	const ExtentMap before = st.want();
	EXPECT_TRUE(MapIs(st.snap_fd.get(), size, before));

	st.cow_dm->suspend();
	bool cow_suspended = true;
	std::atomic<pid_t> tid{0};
	std::atomic<int> write_result{1};
	std::thread writer;
	std::future<seekmap::Walk> query;
	// First, whatever failed: resume the COW device, which lets the
	// invalidation and the write finish, and join the writer.
	ScopeExit finish([&] {
		if (cow_suspended)
			st.cow_dm->resume();
		if (writer.joinable())
			writer.join();
	});
	writer = std::thread([&] {
		tid = pid_t(gettid());
		void *p = nullptr;
		if (posix_memalign(&p, 4096, 4096)) {
			write_result = ENOMEM;
			return;
		}
		memset(p, 0x5a, 4096);
		// A new chunk through the origin: no room for its exception.
		ssize_t n = pwrite(st.origin_dfd.get(), p, 4096, 6 * MiB);
		write_result = n == 4096 ? 0 : errno;
		free(p);
	});
	bool held = false;
	for (int i = 0; i < 200 && !held; i++) {
		std::this_thread::sleep_for(std::chrono::milliseconds(50));
		held = tid && stack_has(tid, "invalidate_snapshot");
	}
	ASSERT_TRUE(held) << "the origin write never reached the invalidation";
	query = std::async(std::launch::async, [fd = st.snap_fd.get(), size] {
		return seekmap::walk(fd, size);
	});
	if (AnswersWithin(query, "query while the invalidation holds the lock")) {
		seekmap::Walk w = query.get();
		EXPECT_EQ(w.error, "");
		EXPECT_TRUE(NoHoleOverData(w.map, before, size));
	}
	EXPECT_TRUE(stack_has(tid, "invalidate_snapshot"))
		<< "the lock was let go during the query";
	cow_suspended = false;
	st.cow_dm->resume();
	finish.run();
	EXPECT_EQ(write_result, 0) << "the origin write after the invalidation";
	ASSERT_NE(st.status().find("Invalid"), std::string::npos) << st.status();
	EXPECT_EQ(seekmap::seek(st.snap_fd.get(), 0, SEEK_HOLE), size);
}

} // namespace
} // namespace seektest
